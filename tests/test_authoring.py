"""Exercise generation from solutions: stubs, dropped cells, kept ids, --check."""
from pathlib import Path

import nbformat
import pytest

from course_lib import authoring
from course_lib.authoring import AuthoringError, make_exercise_notebook, stub_out
from course_lib.grading import all_exercises

ROOT = Path(__file__).resolve().parent.parent


def test_stub_replaces_the_solution_block_at_its_indentation():
    source = "def f(x):\n    '''doc'''\n    # BEGIN SOLUTION\n    y = x + 1\n    return y\n    # END SOLUTION\n\nprint(1)"
    assert stub_out(source) == ("def f(x):\n    '''doc'''\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
                                "\nprint(1)")


def test_several_blocks_and_top_level_blocks():
    source = "# BEGIN SOLUTION\na = 1\n# END SOLUTION\nb = 2\n# BEGIN SOLUTION\nc = 3\n# END SOLUTION"
    assert stub_out(source) == "# YOUR CODE HERE\nraise NotImplementedError\nb = 2\n# YOUR CODE HERE\nraise NotImplementedError"


@pytest.mark.parametrize("source, message", [
    ("# BEGIN SOLUTION\nx = 1", "never closed"),
    ("x = 1\n# END SOLUTION", "without a matching"),
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside another"),
])
def test_broken_markers_are_errors(source, message):
    with pytest.raises(AuthoringError, match=message):
        stub_out(source, "nb, cell 3")


def make_solution_notebook():
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "lstm-course", "display_name": "x",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"),
                nbformat.v4.new_code_cell("def f():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION",
                                          outputs=[nbformat.v4.new_output("stream", text="1")], execution_count=3),
                nbformat.v4.new_markdown_cell("instructor notes", metadata={"tags": ["solution-only"]})]
    return nb


def test_exercise_notebook_drops_solution_only_cells_clears_outputs_keeps_ids():
    solution = make_solution_notebook()
    exercise = make_exercise_notebook(solution)
    assert [c.id for c in exercise.cells] == [c.id for c in solution.cells[:2]]
    assert exercise.cells[1].source == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError"
    assert exercise.cells[1].outputs == [] and exercise.cells[1].execution_count is None
    assert exercise.metadata.kernelspec.name == "lstm-course"
    assert solution.cells[1].source.startswith("def f():\n    # BEGIN")  # input untouched


def test_check_mode_detects_stale_missing_and_orphan_exercises(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    nbformat.write(make_solution_notebook(), solutions / "00_demo_solutions.ipynb")
    args = ["--solutions", str(solutions), "--exercises", str(exercises)]
    assert authoring.main(args + ["--check"]) == 1
    assert "00_demo_exercises.ipynb: missing" in capsys.readouterr().out
    assert authoring.main(args) == 0
    assert authoring.main(args + ["--check"]) == 0
    target = exercises / "00_demo_exercises.ipynb"
    target.write_text(target.read_text().replace("YOUR CODE HERE", "edited by hand"))
    assert authoring.main(args + ["--check"]) == 1
    (exercises / "01_orphan_exercises.ipynb").write_text("{}")
    authoring.main(args)
    assert authoring.main(args + ["--check"]) == 1
    assert "01_orphan_exercises.ipynb: has no solution notebook" in capsys.readouterr().out


def test_repository_exercises_are_in_sync_with_solutions(capsys):
    assert authoring.main(["--check"]) == 0, capsys.readouterr().out


def test_every_registered_exercise_is_in_exactly_one_solution_notebook():
    seen = {}
    for path in sorted((ROOT / "solutions").glob("*_solutions.ipynb")):
        for exercise_id in authoring.exercise_ids_in(path):
            assert exercise_id not in seen or seen[exercise_id] == path.name, f"{exercise_id} in two notebooks"
            seen[exercise_id] = path.name
            assert path.name.startswith(exercise_id.split(".")[0] + "_"), f"{exercise_id} is in {path.name}"
    assert sorted(seen) == sorted(all_exercises())

"""Exercise notebooks run top to bottom; the only errors allowed are the stubs' NotImplementedError,
and every check() in them reports the untouched stub as not implemented."""
from pathlib import Path

import pytest

from course_lib.authoring import exercise_ids_in
from course_lib.execute import error_outputs, execute_notebook

EXERCISES = sorted((Path(__file__).resolve().parent.parent / "exercises").glob("*_exercises.ipynb"))


def printed_text(nb):
    return "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                   for out in cell.get("outputs", []) if out.get("output_type") == "stream")


@pytest.mark.parametrize("path", EXERCISES, ids=[p.name for p in EXERCISES])
def test_exercise_notebook_runs_and_every_check_says_todo(path):
    nb = execute_notebook(path, allow_errors=True)
    unexpected = [e for e in error_outputs(nb) if e[1] != "NotImplementedError"]
    assert not unexpected, f"errors other than the stubs' NotImplementedError: {unexpected}"
    text = printed_text(nb)
    ids = exercise_ids_in(path)
    assert ids, "an exercise notebook without check() calls"
    for exercise_id in ids:
        assert f"TODO  {exercise_id} " in text, f"check('{exercise_id}', ...) did not report the stub"
    assert "PASS " not in text


def test_there_are_exercise_notebooks():
    assert EXERCISES

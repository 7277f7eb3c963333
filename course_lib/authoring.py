"""Build ``exercises/`` from ``solutions/``, and verify the two are in sync.

Rules applied to each ``solutions/NN_topic_solutions.ipynb``:

* in a code cell, the lines from ``# BEGIN SOLUTION`` to ``# END SOLUTION``
  (inclusive) become a stub at the same indentation::

      # YOUR CODE HERE
      raise NotImplementedError

* a cell tagged ``solution-only`` (cell metadata ``tags``) is dropped;
* outputs and execution counts are cleared; cell ids are kept.

The result is written to ``exercises/NN_topic_exercises.ipynb``.

Usage::

    python -m course_lib.authoring          # regenerate exercises/
    python -m course_lib.authoring --check  # exit 1 if exercises/ is out of date
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"
SOLUTION_ONLY_TAG = "solution-only"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
SOLUTION_SUFFIX = "_solutions.ipynb"
EXERCISE_SUFFIX = "_exercises.ipynb"
REPO_ROOT = Path(__file__).resolve().parent.parent


class AuthoringError(ValueError):
    """A solution notebook breaks the authoring rules (e.g. an unmatched BEGIN/END marker)."""


def stub_out(source: str, where: str = "cell") -> str:
    """Replace each BEGIN/END SOLUTION block of a code cell's source with the stub, keeping its indentation."""
    out: list[str] = []
    inside = False
    for number, line in enumerate(source.splitlines(), start=1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise AuthoringError(f"{where}, line {number}: {BEGIN} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub_line for stub_line in STUB)
        elif marker == END:
            if not inside:
                raise AuthoringError(f"{where}, line {number}: {END} without a matching {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise AuthoringError(f"{where}: {BEGIN} is never closed by {END}")
    return "\n".join(out)


def make_exercise_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The exercise version of a solution notebook (a new notebook; the input is not modified)."""
    exercise = nbformat.v4.new_notebook(metadata={key: solution.metadata[key]
                                                  for key in ("kernelspec", "language_info")
                                                  if key in solution.metadata})
    for position, cell in enumerate(solution.cells):
        if SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        where = f"{name}, cell {position} (id {cell.get('id')})"
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(stub_out(cell.source, where))
        elif cell.cell_type == "markdown":
            if BEGIN in cell.source:
                raise AuthoringError(f"{where}: solution markers belong in code cells only")
            new = nbformat.v4.new_markdown_cell(cell.source)
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        new["id"] = cell["id"]
        tags = [t for t in cell.get("metadata", {}).get("tags", [])]
        if tags:
            new.metadata["tags"] = tags
        exercise.cells.append(new)
    return exercise


def exercise_path_for(solution_path: Path, exercises_dir: Path) -> Path:
    if not solution_path.name.endswith(SOLUTION_SUFFIX):
        raise AuthoringError(f"{solution_path}: solution notebooks are named NN_topic{SOLUTION_SUFFIX}")
    return exercises_dir / solution_path.name.replace(SOLUTION_SUFFIX, EXERCISE_SUFFIX)


def render(solution_path: Path) -> str:
    """The exercise notebook for ``solution_path`` as the exact text written to disk."""
    solution = nbformat.read(solution_path, as_version=4)
    exercise = make_exercise_notebook(solution, solution_path.name)
    nbformat.validate(exercise)
    return nbformat.writes(exercise) + "\n"


def expected_exercises(solutions_dir: Path, exercises_dir: Path) -> dict[Path, str]:
    return {exercise_path_for(path, exercises_dir): render(path)
            for path in sorted(solutions_dir.glob(f"*{SOLUTION_SUFFIX}"))}


def stale_exercises(solutions_dir: Path, exercises_dir: Path) -> list[str]:
    """Problems that make ``exercises_dir`` differ from what ``solutions_dir`` generates (empty when in sync)."""
    expected = expected_exercises(solutions_dir, exercises_dir)
    problems = []
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"{path.name}: missing")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"{path.name}: differs from what {solutions_dir.name}/ generates")
    for path in sorted(exercises_dir.glob(f"*{EXERCISE_SUFFIX}")):
        if path not in expected:
            problems.append(f"{path.name}: has no solution notebook")
    return problems


def write_exercises(solutions_dir: Path, exercises_dir: Path) -> list[Path]:
    """Regenerate every exercise notebook; returns the paths written."""
    exercises_dir.mkdir(exist_ok=True)
    written = []
    for path, text in expected_exercises(solutions_dir, exercises_dir).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


EXERCISE_CALL = re.compile(r"""check\(\s*["'](\d\d\.\d+)["']""")


def exercise_ids_in(notebook_path: Path) -> list[str]:
    """Exercise ids passed to ``check(...)`` in a notebook's code cells, in order."""
    nb = nbformat.read(notebook_path, as_version=4)
    return [m for cell in nb.cells if cell.cell_type == "code" for m in EXERCISE_CALL.findall(cell.source)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.authoring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if exercises/ is out of date; write nothing")
    parser.add_argument("--solutions", type=Path, default=REPO_ROOT / "solutions")
    parser.add_argument("--exercises", type=Path, default=REPO_ROOT / "exercises")
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale_exercises(args.solutions, args.exercises)
            for problem in problems:
                print(f"out of date: {problem}")
            if problems:
                print("run `python -m course_lib.authoring` to regenerate exercises/")
                return 1
            print("exercises/ is up to date")
            return 0
        written = write_exercises(args.solutions, args.exercises)
    except AuthoringError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    print(f"{len(written)} exercise notebook(s) written" if written else "exercises/ was already up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

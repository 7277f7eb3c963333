"""Benchmark the instructor grader: a synthetic class of 30 students, graded with --jobs 2.

Each student submits a folder with every chapter's exercise notebook: a third hand in the
solutions, a third the untouched stubs, a third the solutions with a wrong answer in chapter
02; and every tenth student's chapter 00 has an infinite loop (which costs its exercise time
limit, 30 s by default). Prints the wall time.

Usage: python tools/bench_grader.py [--students 30] [--jobs 2]
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib.grading.__main__ import main as grade

ROOT = Path(__file__).resolve().parent.parent
WRONG_ANSWER = {"seasonal_difference": "def seasonal_difference(x, lag):\n    return x.diff(lag)"}
INFINITE_LOOP = {"excess_kurtosis": "def excess_kurtosis(x):\n    while True:\n        pass"}


def broken_copy(source: Path, target: Path, replacements: dict) -> None:
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        found = cell.cell_type == "code" and re.search(r"^def (\w+)\(", cell.source, re.M)
        if found and found.group(1) in replacements:
            cell.source = replacements[found.group(1)]
    nbformat.write(nb, target)


def make_class(folder: Path, students: int) -> None:
    solutions = sorted((ROOT / "solutions").glob("*_solutions.ipynb"))
    for number in range(students):
        student = folder / f"student{number:02d}"
        student.mkdir()
        for solution in solutions:
            target = student / solution.name.replace("_solutions", "")
            if number % 10 == 9:
                broken_copy(solution, target, INFINITE_LOOP)
            elif number % 3 == 0:
                shutil.copy(solution, target)
            elif number % 3 == 1:
                shutil.copy(ROOT / "exercises" / solution.name.replace("_solutions", "_exercises"), target)
            else:
                broken_copy(solution, target, WRONG_ANSWER)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        submissions, out = Path(tmp) / "submissions", Path(tmp) / "out"
        submissions.mkdir()
        make_class(submissions, args.students)
        start = time.monotonic()
        code = grade(["grade", str(submissions), "--out", str(out), "--jobs", str(args.jobs)])
        seconds = time.monotonic() - start
    print(f"grading {args.students} submissions (all chapters) with --jobs {args.jobs}: {seconds:.0f} s "
          f"({seconds / args.students:.1f} s per student)")
    return code


if __name__ == "__main__":
    sys.exit(main())

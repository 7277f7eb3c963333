"""Benchmark the instructor grader: a synthetic class of 30 students, graded with --jobs 2.

Each student submits a folder with every chapter's exercise notebook: a third hand in the
solutions, a third the untouched stubs, a third the solutions with a wrong answer in chapter
02; and every tenth student's chapter 00 has an infinite loop in an exercise function (stopped
once, in the cell that calls it, at the calibrated cell limit). Every (student, chapter) runs in
a bubblewrap sandbox of its own; the limits are calibrated on the reference solutions first.
Prints the wall time, the cost per student, and what starting one sandboxed worker costs
(bubblewrap plus importing the libraries, measured alone).

Usage: python tools/bench_grader.py [--students 30] [--jobs 2]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from course_lib.grading import bwrap
from course_lib.grading.__main__ import main as grade
from course_lib.grading.grader import build_isolations
from course_lib.grading.registry import all_exercises

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
                stub = ROOT / "exercises" / solution.name.replace("_solutions", "_exercises")
                if stub.exists():  # a chapter whose exercises are not generated yet is simply not handed in
                    shutil.copy(stub, target)
            else:
                broken_copy(solution, target, WRONG_ANSWER)


def sandbox_startup(repeats: int = 3) -> float:
    """Median seconds to start a sandboxed worker: bwrap, the interpreter and course_lib (with torch)."""
    with tempfile.TemporaryDirectory() as folder:
        isolation = next(iter(build_isolations({"00"}, all_exercises(), Path(folder), sandbox=True).values()))
        times = []
        for _ in range(repeats):
            start = time.monotonic()
            problem = bwrap.probe(isolation.mounts())
            times.append(time.monotonic() - start)
            if problem:
                raise SystemExit(problem)
    return statistics.median(times)


def one_student(folder: Path, student: Path, calibration: Path, jobs: int = 1) -> float:
    """Seconds to grade one student alone (same chapters, same limits: the class run's calibration is reused, so
    that only the grading of this student is timed)."""
    alone, out = folder / f"alone-{student.name}", folder / f"out-{student.name}"
    alone.mkdir()
    out.mkdir()
    shutil.copy(calibration, out / "calibration.json")
    shutil.copytree(student, alone / student.name)
    start = time.monotonic()
    with contextlib.redirect_stdout(io.StringIO()):
        grade(["grade", str(alone), "--out", str(out), "--jobs", str(jobs)])
    return time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    startup = sandbox_startup()
    with tempfile.TemporaryDirectory() as tmp:
        submissions, out = Path(tmp) / "submissions", Path(tmp) / "out"
        submissions.mkdir()
        make_class(submissions, args.students)
        sandboxes = sum(1 for student in submissions.iterdir() for _ in student.glob("*.ipynb"))
        start = time.monotonic()
        code = grade(["grade", str(submissions), "--out", str(out), "--jobs", str(args.jobs)])
        seconds = time.monotonic() - start
        costs = {kind: one_student(Path(tmp), submissions / f"student{number:02d}", out / "calibration.json")
                 for kind, number in (("reference (full marks)", 0), ("stubs", 1), ("wrong answer", 2),
                                      ("infinite loop", 9))}
    reference = costs["reference (full marks)"]
    ratio = seconds / (args.students * reference / args.jobs)
    print(f"total {seconds:.1f} s; reference student {reference:.1f} s (alone, same run); "
          f"ratio {ratio:.2f} (= total / ({args.students} x reference / {args.jobs} jobs); goal <= 1.2)")
    print("per-student cost, each graded alone: " + "; ".join(f"{kind} {value:.1f} s" for kind, value in costs.items()))
    print(f"grading {args.students} submissions (all chapters) with --jobs {args.jobs}: {seconds:.0f} s "
          f"({seconds / args.students:.1f} s per student, {seconds * args.jobs / args.students:.1f} s of one "
          f"worker slot per student)")
    print(f"one sandboxed worker starts in {startup:.1f} s (bubblewrap, Python, course_lib with torch; median of 3); "
          f"at least {sandboxes} sandboxes (one per student and chapter notebook), so about "
          f"{startup * sandboxes / args.jobs:.0f} s of the total is start-up; load average {os.getloadavg()[0]:.1f}")
    return code


if __name__ == "__main__":
    sys.exit(main())

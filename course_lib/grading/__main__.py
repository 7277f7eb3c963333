"""Instructor grader: ``python -m course_lib.grading grade SUBMISSIONS --out OUT [--jobs N] [--checks DIR] [--no-sandbox]``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_lib.grading.bwrap import SandboxUnavailable
from course_lib.grading.grader import GRADER_VERSION, grade_cohort
from course_lib.grading.report import write_outputs
from course_lib.grading.sandbox import Limits


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_lib.grading")
    commands = p.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade a folder of submitted exercise notebooks")
    grade.add_argument("submissions", type=Path, help="folder of <student>.ipynb files and/or <student>/ folders")
    grade.add_argument("--out", type=Path, required=True, help="folder for grades.csv, results/, feedback/")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    grade.add_argument("--checks", type=Path, default=None, help="folder of private checks (*.py)")
    grade.add_argument("--chapters", default=None,
                       help="comma-separated chapters to grade, e.g. 00,02 (default: those found in submissions)")
    defaults = Limits()
    grade.add_argument("--memory-mb", type=int, default=defaults.memory_mb)
    grade.add_argument("--output-bytes", type=int, default=defaults.output_bytes)
    grade.add_argument("--cell-seconds", type=float, default=defaults.cell_seconds)
    grade.add_argument("--exercise-seconds", type=float, default=defaults.exercise_seconds)
    grade.add_argument("--submission-seconds", type=float, default=defaults.submission_seconds)
    grade.add_argument("--scratch-mb", type=int, default=defaults.scratch_mb, help="size of each sandbox's /tmp")
    grade.add_argument("--processes", type=int, default=defaults.processes,
                       help="processes and threads allowed in one sandbox")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code without bubblewrap: ONLY for submissions you trust")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    limits = Limits(memory_mb=args.memory_mb, output_bytes=args.output_bytes, cell_seconds=args.cell_seconds,
                    exercise_seconds=args.exercise_seconds, submission_seconds=args.submission_seconds,
                    scratch_mb=args.scratch_mb, processes=args.processes)
    chapters = {c.strip().zfill(2) for c in args.chapters.split(",")} if args.chapters else None
    start = time.monotonic()
    try:
        results, checks = grade_cohort(args.submissions, args.checks, args.jobs, limits, chapters,
                                       sandbox=not args.no_sandbox)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SandboxUnavailable as err:
        print(f"error: refusing to grade without a sandbox: {err}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    run_info = {"grader_version": GRADER_VERSION, "checks_sha256": checks.checks_hash,
                "exercises": sorted(checks.items), "students": len(results), "jobs": args.jobs,
                "sandbox": "none (--no-sandbox)" if args.no_sandbox else "bubblewrap",
                "limits": vars(limits), "seconds": round(seconds, 1)}
    write_outputs(args.out, results, checks, run_info)
    width = max([len(r.student) for r in results] + [7])
    print(f"{'student':<{width}}  points")
    for student in results:
        print(f"{student.student:<{width}}  {sum(r.points for r in student.exercises):>3} / "
              f"{sum(r.max_points for r in student.exercises)}")
    print(f"graded {len(results)} submission(s), {len(checks.items)} exercise(s), in {seconds:.1f} s "
          f"-> {args.out / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Instructor grader: ``python -m course_lib.grading grade SUBMISSIONS --out OUT [--jobs N | --scheduler ADDRESS]
[--checks DIR] [--no-sandbox]``."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course_lib.grading.bwrap import SandboxUnavailable
from course_lib.grading.cluster import ClusterUnavailable
from course_lib.grading.grader import GRADER_VERSION, CohortInterrupted, grade_cohort
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
    grade.add_argument("--cell-seconds", type=float, default=None,
                       help=f"fixed limit per cell (default: calibrated, at most {defaults.cell_seconds:.0f})")
    grade.add_argument("--exercise-seconds", type=float, default=None,
                       help=f"fixed limit per exercise (default: calibrated, at most {defaults.exercise_seconds:.0f})")
    grade.add_argument("--submission-seconds", type=float, default=defaults.submission_seconds)
    grade.add_argument("--scratch-mb", type=int, default=defaults.scratch_mb, help="size of each sandbox's /tmp")
    grade.add_argument("--processes", type=int, default=defaults.processes,
                       help="processes and threads allowed in one sandbox")
    grade.add_argument("--time-factor", type=float, default=5.0,
                       help="calibrated limits: this many times the reference solution's slowest cell/exercise")
    grade.add_argument("--time-floor", type=float, default=5.0, help="calibrated limits are at least this (s)")
    grade.add_argument("--no-calibrate", action="store_true",
                       help="use --cell-seconds/--exercise-seconds as they are (also implied by giving either)")
    grade.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="grade on a Dask cluster: the scheduler's address, e.g. tcp://10.0.0.5:8786 "
                            "(workers need bubblewrap and the same course environment; --jobs is then ignored)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code without bubblewrap: ONLY for submissions you trust")
    return p


def printable(name: str) -> str:
    """A student name safe for a terminal: control characters and undecodable bytes escaped."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in name)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    defaults = Limits()
    calibrate = not args.no_calibrate and args.cell_seconds is None and args.exercise_seconds is None
    limits = Limits(memory_mb=args.memory_mb, output_bytes=args.output_bytes,
                    cell_seconds=defaults.cell_seconds if args.cell_seconds is None else args.cell_seconds,
                    exercise_seconds=defaults.exercise_seconds if args.exercise_seconds is None else args.exercise_seconds,
                    submission_seconds=args.submission_seconds,
                    scratch_mb=args.scratch_mb, processes=args.processes)
    chapters = {c.strip().zfill(2) for c in args.chapters.split(",")} if args.chapters else None
    start = time.monotonic()
    try:
        results, checks = grade_cohort(args.submissions, args.checks, args.jobs, limits, chapters,
                                       sandbox=not args.no_sandbox, calibrate=calibrate,
                                       calibration_cache=args.out / "calibration.json",
                                       calibration=(args.time_factor, args.time_floor), scheduler=args.scheduler)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except CohortInterrupted as err:
        print(f"interrupted after {time.monotonic() - start:.1f} s: every sandbox was stopped; the previous "
              f"gradebook in {args.out} (if any) is unchanged.", file=sys.stderr)
        print(f"not graded ({len(err.not_graded)}): " + ", ".join(printable(n) for n in err.not_graded),
              file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted before grading began; nothing was written", file=sys.stderr)
        return 130
    except ClusterUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except SandboxUnavailable as err:
        print(f"error: refusing to grade without a sandbox: {err}", file=sys.stderr)
        return 2
    seconds = time.monotonic() - start
    run_info = {"grader_version": GRADER_VERSION, "checks_sha256": checks.checks_hash,
                "exercises": sorted(checks.items), "students": len(results),
                "jobs": f"Dask scheduler {args.scheduler}" if args.scheduler else args.jobs,
                "sandbox": "none (--no-sandbox)" if args.no_sandbox else "bubblewrap",
                "limits": vars(limits), "calibrated": calibrate, "seconds": round(seconds, 1)}
    write_outputs(args.out, results, checks, run_info)
    width = min(max([len(printable(r.student)) for r in results] + [7]), 60)
    print(f"{'student':<{width}}  points")
    for student in results:
        print(f"{printable(student.student):<{width}}  {sum(r.points for r in student.exercises):>3} / "
              f"{sum(r.max_points for r in student.exercises)}")
    print(f"graded {len(results)} submission(s), {len(checks.items)} exercise(s), in {seconds:.1f} s "
          f"-> {args.out / 'grades.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

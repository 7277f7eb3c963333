"""Writing a cohort's grades: grades.csv, one results JSON and one Markdown feedback file per student.

Every file is written to a temporary name and renamed into place, so an interrupted run never
leaves a half-written file; nothing in these files depends on timing, so re-running the grader
on the same submissions writes identical files (run.json, which records the run, aside).
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import asdict
from pathlib import Path

from course_lib.grading.check import brief, hint_groups, hint_label
from course_lib.grading.grader import GRADER_VERSION, CheckSet, StudentResult

GRADE_COLUMNS = ["student", "exercise", "points", "max_points", "status"]
UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def file_stem(student: str) -> str:
    """A file name for a student that cannot leave the output folder."""
    stem = UNSAFE.sub("_", student).strip(" .")
    return stem or "_"


def grades_csv(results: list[StudentResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(GRADE_COLUMNS)
    for student in results:
        for row in student.exercises:
            writer.writerow([student.student, row.exercise, row.points, row.max_points, row.status])
    return buffer.getvalue()


def results_json(student: StudentResult, checks: CheckSet) -> str:
    document = {
        "student": student.student,
        "grader_version": GRADER_VERSION,
        "checks_sha256": checks.checks_hash,
        "points": sum(r.points for r in student.exercises),
        "max_points": sum(r.max_points for r in student.exercises),
        "exercises": [asdict(r) for r in student.exercises],
        "notebooks": student.notebooks,
        "review": student.review,
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


def feedback_markdown(student: StudentResult) -> str:
    total = sum(r.points for r in student.exercises)
    possible = sum(r.max_points for r in student.exercises)
    lines = [f"# Feedback for {student.student}", "", f"**Score: {total} / {possible} points**", "",
             "| exercise | points | result |", "|---|---|---|"]
    for row in student.exercises:
        lines.append(f"| {row.exercise} | {row.points} / {row.max_points} | {row.status.splitlines()[0].replace('|', '/')} |")
    for row in student.exercises:
        if row.status == "ok" and not row.notes:
            continue
        lines += ["", f"## Exercise {row.exercise}", "", f"Result: {row.status}"]
        lines += [f"- note: {note}" for note in row.notes]
        lines += failed_case_lines(row.cases)
    for notebook in student.notebooks:
        problems = {**notebook.get("syntax_errors", {}), **notebook.get("cell_errors", {}), **notebook.get("cell_failures", {})}
        if problems or "invalid" in notebook:
            lines += ["", f"## Notebook {notebook['file']}", ""]
            if "invalid" in notebook:
                lines.append(f"- could not be read: {notebook['invalid']}")
            lines += [f"- code cell {cell}: {problem}" for cell, problem in sorted(problems.items(), key=lambda kv: int(kv[0]))]
    return "\n".join(lines) + "\n"


def failed_case_lines(cases: list[dict]) -> list[str]:
    """Markdown list of an exercise's failing cases, as check() shows them: each public case with expected vs
    got, followed by the hint that explains it (own hints first, a shared hint once); private checks last,
    by name only."""
    public = [c for c in cases if not c["passed"] and not c["private"]]
    lines = []
    for group, hint in hint_groups(public, lambda c: (c["hint"], c.get("own_hint", False))):
        lines += [f"- case **{c['name']}**: {brief(c['message'], 300)}" for c in group]
        if hint:
            lines.append(f"  - {hint_label(len(group))}: {hint}")
    lines += [f"- a private check failed: {c['name']} (its details are kept by your instructor)"
              for c in cases if not c["passed"] and c["private"]]
    return lines


def review_csv(results: list[StudentResult]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "finding"])
    for student in results:
        for row in student.exercises:
            if row.status.startswith("flagged"):
                writer.writerow([student.student, f"exercise {row.exercise}: {row.status}"])
        for finding in student.review:
            writer.writerow([student.student, finding])
    return buffer.getvalue()


def write_outputs(out: Path, results: list[StudentResult], checks: CheckSet, run_info: dict) -> None:
    """All outputs; grades.csv last, so that its presence means the run finished."""
    out = Path(out)
    for student in results:
        stem = file_stem(student.student)
        write_atomic(out / "results" / f"{stem}.json", results_json(student, checks))
        write_atomic(out / "feedback" / f"{stem}.md", feedback_markdown(student))
    write_atomic(out / "review.csv", review_csv(results))
    write_atomic(out / "run.json", json.dumps(run_info, indent=2) + "\n")
    write_atomic(out / "grades.csv", grades_csv(results))

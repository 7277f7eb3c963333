"""Writing a cohort's grades: grades.csv, one results JSON and one Markdown feedback file per student.

Every file is written to a temporary name and renamed into place, so an interrupted run never
leaves a half-written file; nothing in these files depends on timing, so re-running the grader
on the same submissions writes identical files (run.json, which records the run, aside).
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from course_lib.grading.check import brief, hint_groups, hint_label
from course_lib.grading.grader import GRADER_VERSION, CheckSet, StudentResult

GRADE_COLUMNS = ["student", "exercise", "points", "max_points", "status"]
UNSAFE = re.compile(r"[^\w.\- ]")   # keeps letters and digits of every script
MAX_STEM = 80


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def file_stem(student: str) -> str:
    """A readable file name for a student that cannot leave the output folder: the name in Unicode NFC,
    every character but letters, digits, ``.``, ``-`` and spaces replaced by ``_``, at most 80 characters."""
    stem = UNSAFE.sub("_", unicodedata.normalize("NFC", student)).strip(" .")
    return stem[:MAX_STEM] or "_"


def _disk_key(stem: str) -> str:
    """Two stems that one disk could take for the same file (case-insensitive, normalising) share this key."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", stem).casefold())


def file_stems(students: list[str]) -> dict[str, str]:
    """Student name -> file stem, unique among the cohort even on a case-insensitive, Unicode-normalising disk.

    A stem is :func:`file_stem`; when several names would share one (``김철수``/``이영희`` do not: Hangul is kept;
    ``Casey``/``casey`` do), each gets ``-`` and the first 8 hex digits of the SHA-256 of its exact name."""
    plain = {name: file_stem(name) for name in students}
    shared = Counter(_disk_key(stem) for stem in plain.values())
    stems = {name: f"{stem}-{_digest(name)[:8]}" if shared[_disk_key(stem)] > 1 else stem for name, stem in plain.items()}
    taken = Counter(_disk_key(stem) for stem in stems.values())
    for name, stem in stems.items():  # a hashed stem that meets another student's literal name: a longer hash
        if taken[_disk_key(stem)] > 1:
            stems[name] = f"{plain[name]}-{_digest(name)[:32]}"
    return stems


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


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
    by name and how they failed (wrong shape, wrong values, an error's type), without inputs or expected values."""
    public = [c for c in cases if not c["passed"] and not c["private"]]
    lines = []
    for group, hint in hint_groups(public, lambda c: (c["hint"], c.get("own_hint", False))):
        lines += [f"- case **{c['name']}**: {brief(c['message'], 300)}" for c in group]
        if hint:
            lines.append(f"  - {hint_label(len(group))}: {hint}")
    lines += [f"- a private check failed: {c['name']} ({c['message'] or 'failed'}; its inputs and expected value "
              "are kept by your instructor)" for c in cases if not c["passed"] and c["private"]]
    return lines


def review_csv(results: list[StudentResult]) -> str:
    """What a human may want to read: constructs found by scanning the source (a review aid, not a defence)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "finding"])
    for student in results:
        for finding in student.review:
            writer.writerow([student.student, finding])
    return buffer.getvalue()


def write_outputs(out: Path, results: list[StudentResult], checks: CheckSet, run_info: dict) -> None:
    """All outputs; grades.csv last, so that its presence means the run finished."""
    out = Path(out)
    stems = file_stems([student.student for student in results])
    for student in results:
        stem = stems[student.student]
        write_atomic(out / "results" / f"{stem}.json", results_json(student, checks))
        write_atomic(out / "feedback" / f"{stem}.md", feedback_markdown(student))
    write_atomic(out / "review.csv", review_csv(results))
    write_atomic(out / "run.json", json.dumps(run_info, indent=2) + "\n")
    write_atomic(out / "grades.csv", grades_csv(results))

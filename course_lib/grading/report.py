"""Writing a cohort's grades: grades.csv, totals.csv, one results JSON and one Markdown feedback file per student.

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


TEMP_MARK = ".tmp-grader-"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that no reader, and no SIGKILL, ever sees a partial file.

    The bytes go to an anonymous file (``O_TMPFILE``: it has no name until complete, so a kill while
    writing leaves nothing behind), which is then linked under a temporary name and renamed over ``path``.
    Where ``O_TMPFILE`` is not supported, a named temporary file is used; :func:`remove_stale_temporaries`
    removes any such file left by a killed run.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8", "backslashreplace")
    temporary = path.with_name(f".{path.name}{TEMP_MARK}{os.getpid()}")
    if not _link_anonymous(path.parent, data, temporary):
        temporary.write_bytes(data)
    os.replace(temporary, path)


def _link_anonymous(folder: Path, data: bytes, name: Path) -> bool:
    """Write ``data`` to an ``O_TMPFILE`` file in ``folder`` and link it as ``name``; False where unsupported."""
    try:
        fd = os.open(folder, os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, 0o644)
    except (AttributeError, OSError):
        return False
    try:
        _write_all(fd, data)
        os.link(f"/proc/self/fd/{fd}", name, follow_symlinks=True)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def remove_stale_temporaries(out: Path) -> None:
    """Remove temporary files that a killed run may have left in the output folder."""
    for folder in (out, out / "results", out / "feedback"):
        if folder.is_dir():
            for entry in folder.iterdir():
                if TEMP_MARK in entry.name and entry.is_file():
                    entry.unlink(missing_ok=True)


def cell(text) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP rule): text beginning with ``= + - @``,
    a tab or a carriage return gets a leading ``'``, which spreadsheets show as plain text. Numbers are unchanged."""
    if isinstance(text, (int, float)):
        return text
    text = str(text)
    return "'" + text if text.startswith(FORMULA_START) else text


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
            writer.writerow([cell(student.student), row.exercise, row.points, row.max_points, cell(row.status)])
    return buffer.getvalue()


def totals_csv(results: list[StudentResult]) -> str:
    """One row per student — student, total, max, then each chapter's points — the shape gradebooks import."""
    chapters = sorted({row.exercise.split(".")[0] for student in results for row in student.exercises})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "total", "max", *[f"chapter {c}" for c in chapters]])
    for student in results:
        by_chapter = {c: 0 for c in chapters}
        for row in student.exercises:
            by_chapter[row.exercise.split(".")[0]] += row.points
        writer.writerow([cell(student.student), sum(r.points for r in student.exercises),
                         sum(r.max_points for r in student.exercises), *by_chapter.values()])
    return buffer.getvalue()


def rubric_lines(student: StudentResult) -> list[str]:
    """Items an instructor judges by hand (a chapter module's ``RUBRIC``), for each chapter graded, not scored."""
    lines = []
    for chapter in sorted({row.exercise.split(".")[0] for row in student.exercises}):
        items = chapter_rubric(chapter)
        if items:
            lines += ["", f"## For the instructor to judge (not scored): chapter {chapter}", ""]
            lines += [f"- [ ] {item}" for item in items]
    return lines


def chapter_rubric(chapter: str) -> list[str]:
    """``RUBRIC`` of the chapter's grading module (``course_lib.grading.chNN``), or [] when it defines none."""
    import importlib

    try:
        module = importlib.import_module(f"course_lib.grading.ch{chapter}")
    except ImportError:
        return []
    return [str(item) for item in getattr(module, "RUBRIC", [])]


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
            lines += [f"- code cell {number}: {problem}" for number, problem in sorted(problems.items(), key=lambda kv: int(kv[0]))]
    lines += rubric_lines(student)
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
            writer.writerow([cell(student.student), cell(finding)])
    return buffer.getvalue()


def write_outputs(out: Path, results: list[StudentResult], checks: CheckSet, run_info: dict) -> None:
    """All outputs; grades.csv last, so that its presence means the run finished."""
    out = Path(out)
    remove_stale_temporaries(out)
    stems = file_stems([student.student for student in results])
    for student in results:
        stem = stems[student.student]
        write_atomic(out / "results" / f"{stem}.json", results_json(student, checks))
        write_atomic(out / "feedback" / f"{stem}.md", feedback_markdown(student))
    write_atomic(out / "review.csv", review_csv(results))
    write_atomic(out / "run.json", json.dumps(run_info, indent=2) + "\n")
    write_atomic(out / "totals.csv", totals_csv(results))
    write_atomic(out / "grades.csv", grades_csv(results))

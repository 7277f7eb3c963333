"""Time limits calibrated to the work: the reference solution of each chapter is run once (in the same sandbox),
its slowest cell and slowest exercise timed, and a learner gets ``FACTOR`` times that, at least ``FLOOR`` seconds.

The measured times are cached in a JSON file keyed by the SHA-256 of the solution notebook, the grading code and
the checks, so a re-run with the same course does not run the references again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course_lib.grading import submission
from course_lib.grading.sandbox import Isolation, Limits, run_submission

FACTOR = 5.0
FLOOR = 5.0
SOLUTIONS = Path(__file__).resolve().parents[2] / "solutions"


def reference_notebook(chapter: str) -> Path | None:
    found = sorted(SOLUTIONS.glob(f"{chapter}_*_solutions.ipynb"))
    return found[0] if found else None


def measure(chapter: str, jobs: list[dict], isolation: Isolation, limits: Limits) -> dict | None:
    """Slowest cell and slowest exercise (public + private cases) of the chapter's reference solution, in seconds;
    None when there is no reference or it does not pass cleanly (then the fixed limits apply)."""
    path = reference_notebook(chapter)
    if path is None:
        return None
    notebook = submission.read_notebook(path)
    [run] = run_submission([(notebook.cells, jobs)], limits, isolation)
    if run.cell_failures or run.exercise_failures:
        return None
    cells = [s for unit, s in run.seconds.items() if unit.startswith("cell:")]
    exercises: dict[str, float] = {}
    for unit, seconds in run.seconds.items():
        if unit.startswith("cases:"):
            exercise_id = unit.split(":")[1]
            exercises[exercise_id] = exercises.get(exercise_id, 0.0) + seconds
    return {"cell": max(cells, default=0.0), "exercise": max(exercises.values(), default=0.0)}


def calibrated_limits(chapters: dict[str, list[dict]], isolations: dict[str, Isolation], limits: Limits,
                      key: str, stored: dict, factor: float = FACTOR, floor: float = FLOOR,
                      jobs: int = 1) -> dict[str, Limits]:
    """Chapter -> limits: ``max(floor, factor x reference)`` for cells and exercises (never above the given limits).

    ``stored`` is the cache (:func:`load_cache`): measurements missing from it are taken now, ``jobs`` chapters
    at a time (as the students will be graded), and added to it.
    """
    keys = {}
    for chapter in sorted(chapters):
        path = reference_notebook(chapter)
        if path is not None:
            keys[chapter] = hashlib.sha256(f"{key}\0{chapter}\0".encode() + path.read_bytes()).hexdigest()
    missing = [chapter for chapter, entry_key in keys.items() if entry_key not in stored]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        measured = pool.map(lambda c: measure(c, chapters[c], isolations[c], limits), missing)
        stored.update({keys[chapter]: value for chapter, value in zip(missing, measured)})
    result = {}
    for chapter, entry_key in keys.items():
        measured = stored[entry_key]
        if measured is not None:
            result[chapter] = dataclasses.replace(
                limits, cell_seconds=min(limits.cell_seconds, max(floor, factor * measured["cell"])),
                exercise_seconds=min(limits.exercise_seconds, max(floor, factor * measured["exercise"])))
    return result


def load_cache(cache: Path | None) -> dict:
    if cache is None or not cache.is_file():
        return {}
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_cache(cache: Path | None, stored: dict) -> None:
    if cache is None:
        return
    cache.parent.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_name(f".{cache.name}.tmp-grader-{os.getpid()}")
    temporary.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(temporary, cache)

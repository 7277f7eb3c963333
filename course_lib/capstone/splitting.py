"""Checklist item "time-ordered split", as a check on plain data.

A split of ``n_rows`` forecast origins (positions 0..n-1 in time order) into train, validation and test is
chronological when each part is one run of consecutive positions, the parts come in that order, and at least
``horizon`` positions are left out between two parts: the label of origin $t$ is the value at $t + h$, so
without that gap the last training labels are the first validation days' future (chapter 04).
"""
from __future__ import annotations

from course_lib.capstone.plain_frames import mapping_from_plain, NotTheExpectedKind, raised
from course_lib.grading.plain import is_numeric_array

PARTS = ("train", "val", "test")


def _positions(plain, name: str) -> list[int]:
    if is_numeric_array(plain):
        values = plain["data"]
    elif isinstance(plain, dict) and plain.get("kind") == "sequence":
        values = plain["items"]
    else:
        raise NotTheExpectedKind(f"split[{name!r}] should be a list (or array) of positions")
    if not values or any(type(v) not in (int, float) or v != int(v) for v in values):
        raise NotTheExpectedKind(f"split[{name!r}] should be a non-empty list of whole positions")
    return [int(v) for v in values]


def split_problems(plain, n_rows: int, horizon: int) -> list[str]:
    """Every rule the split breaks, in words (empty for a good split)."""
    items = mapping_from_plain(plain, "capstone_split(...)")
    missing = [p for p in PARTS if p not in items]
    if missing:
        return [f"capstone_split returns no {', '.join(map(repr, missing))}: "
                "return a dict with 'train', 'val' and 'test'"]
    parts = {name: _positions(items[name], name) for name in PARTS}
    problems = []
    for name, positions in parts.items():
        if min(positions) < 0 or max(positions) >= n_rows:
            problems.append(f"split[{name!r}] has positions outside 0..{n_rows - 1}")
        elif positions != sorted(positions):
            problems.append(f"split[{name!r}] is not in time order: the positions were shuffled — a time series "
                            "is split into consecutive blocks, never at random")
        elif positions != list(range(positions[0], positions[-1] + 1)):
            problems.append(f"split[{name!r}] skips positions inside it: each part is one block of consecutive "
                            "days (no shuffling, no random sample)")
    if problems:
        return problems
    for before, after in zip(PARTS, PARTS[1:]):
        left_out = parts[after][0] - parts[before][-1] - 1
        if left_out < 0:
            problems.append(f"split[{after!r}] starts before split[{before!r}] ends: the parts must follow each "
                            "other in time, train, then val, then test")
        elif left_out < horizon:
            problems.append(f"only {left_out} positions between {before} and {after} with horizon {horizon}: leave "
                            f"at least {horizon} out, or the last {before} labels fall on the first {after} days")
    return problems


def check_split(outcomes: list[dict], inputs: list[tuple[int, int]]) -> tuple[bool, str]:
    """``outcomes`` of split(n_rows, horizon) on each of ``inputs``; passes when every split keeps the rules."""
    for outcome, (n_rows, horizon) in zip(outcomes, inputs):
        problem = raised(outcome)
        if problem:
            return False, f"capstone_split({n_rows}, {horizon}) {problem}"
        try:
            problems = split_problems(outcome["value"], n_rows, horizon)
        except NotTheExpectedKind as err:
            return False, f"capstone_split({n_rows}, {horizon}): {err}"
        if problems:
            return False, f"capstone_split({n_rows}, {horizon}): {problems[0]}"
    return True, f"chronological, gaps of at least the horizon, on {len(inputs)} cases"

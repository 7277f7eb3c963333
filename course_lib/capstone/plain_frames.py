"""Plain data (what the grader's sandbox sends back, see ``course_lib.grading.plain``) turned back into pandas.

The checks read a learner's frames and arrays from plain data, never from objects the learner made.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.grading.plain import is_numeric_array


class NotTheExpectedKind(ValueError):
    """The plain value is not the kind the check asked for; the message says what it is."""


def _kind(plain) -> str:
    return plain.get("kind", "a dict") if isinstance(plain, dict) else type(plain).__name__


def array_from_plain(plain, what: str = "the result") -> np.ndarray:
    """A float array from a plain array, Series (its values) or list of numbers."""
    if is_numeric_array(plain):
        return np.asarray(plain["data"], dtype=np.float64).reshape(plain["shape"])
    if isinstance(plain, dict) and plain.get("kind") == "series":
        return array_from_plain(plain["values"], what)
    if isinstance(plain, dict) and plain.get("kind") == "sequence" and all(
            type(item) in (int, float) for item in plain["items"]):
        return np.asarray(plain["items"], dtype=np.float64)
    raise NotTheExpectedKind(f"{what} should be an array of numbers, got {_kind(plain)}")


def frame_from_plain(plain, what: str = "the result") -> pd.DataFrame:
    """A DataFrame from a plain frame; its index parsed as dates when every label is one."""
    if not (isinstance(plain, dict) and plain.get("kind") == "frame"):
        raise NotTheExpectedKind(f"{what} should be a DataFrame, got {_kind(plain)}")
    values = array_from_plain(plain["values"], what)
    index = pd.Index(plain["index"])
    try:
        index = pd.DatetimeIndex(pd.to_datetime(plain["index"], format="ISO8601"))
    except (ValueError, TypeError):
        pass
    return pd.DataFrame(values.reshape(len(plain["index"]), len(plain["columns"])), index=index,
                        columns=plain["columns"])


def mapping_from_plain(plain, what: str = "the result") -> dict:
    """The items of a plain dict (with string keys)."""
    if not (isinstance(plain, dict) and plain.get("kind") == "mapping"):
        raise NotTheExpectedKind(f"{what} should be a dict, got {_kind(plain)}")
    return plain["items"]


def raised(outcome: dict) -> str | None:
    """'ValueError: message' when the call raised, else None."""
    if "raised" in outcome:
        return f"{outcome['raised'][0]}: {outcome.get('error', '')}".strip()
    if "returned" in outcome:
        return f"returned {outcome['returned']}"
    return None

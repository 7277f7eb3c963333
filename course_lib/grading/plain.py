"""Plain data: what an answer is turned into before it is compared.

An answer (a float, an array, a Series, ...) is converted by :func:`to_plain`
into built-in Python values only: ``None``, ``bool``, ``int``, ``float``,
``str``, and tagged ``dict``s for sequences, arrays, Series and frames. Plain
data can cross a process boundary as JSON, and comparing it never calls a
method of an object the learner made, so a rigged ``__eq__`` earns nothing.

:func:`compare` is type-strict: an array is not a float, a bool is not a
number, a Series must have the expected index. Numbers compare with
``|got - expected| <= atol + rtol * |expected|``; NaN equals NaN.
"""
from __future__ import annotations

import inspect
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

SCALARS = (type(None), bool, int, float, str)


class UnsupportedAnswer(TypeError):
    """The answer holds an object that is not plain data (and is not an array, Series or frame).

    ``what`` describes it for feedback: "a generator", or "a tuple holding a generator at [1]"
    when the object sits inside a list, tuple or dict (``item`` and ``where`` hold the parts).
    """

    def __init__(self, item: str, where: str = "", container: str = ""):
        self.item, self.where, self.container = item, where, container
        self.what = f"a {container} holding {item} at {where}" if where else item
        super().__init__(f"{self.what} is not a supported answer "
                         "(use a number, string, list, tuple, dict, NumPy array, Series or DataFrame)")


def to_plain(value: Any) -> Any:
    """Convert an answer into plain data (see module docstring); raise :class:`UnsupportedAnswer` otherwise."""
    if type(value) in SCALARS:
        return value
    if isinstance(value, np.generic):
        return to_plain(value.item())
    if type(value) is np.ndarray:
        return _array_to_plain(value)
    if type(value) is pd.Series:
        return {"kind": "series", "index": _index_to_plain(value.index), "values": _array_to_plain(value.to_numpy())}
    if type(value) is pd.DataFrame:
        return {"kind": "frame", "index": _index_to_plain(value.index),
                "columns": [str(c) for c in value.columns],
                "values": _array_to_plain(value.to_numpy(dtype=np.float64, na_value=np.nan))}
    if type(value) in (list, tuple):
        return {"kind": "sequence", "items": [_item_to_plain(value, i, f"[{i}]") for i, _ in enumerate(value)]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"kind": "mapping", "items": {k: _item_to_plain(value, k, f"[{k!r}]") for k in value}}
    raise UnsupportedAnswer(unsupported_kind(value))


def _item_to_plain(container, key, where: str) -> Any:
    """One item of a list, tuple or dict; an unsupported item is reported with where it sits."""
    try:
        return to_plain(container[key])
    except UnsupportedAnswer as err:
        raise UnsupportedAnswer(err.item, where + err.where, type(container).__name__) from None


def unsupported_kind(value: Any) -> str:
    """What an unsupported answer is, in words, with the fix where there is an obvious one."""
    name = type(value).__name__
    if inspect.isgenerator(value):
        return "a generator"
    if isinstance(value, Iterator):
        return f"an iterator ({name})"
    if type(value).__module__.startswith("torch") and name == "Tensor":
        return "a torch Tensor (convert it with .detach().numpy())"
    if type(value) is dict:
        return "a dict with keys that are not strings"
    for base in (bool, int, float, str, list, tuple, dict, np.ndarray, pd.Series, pd.DataFrame):
        if isinstance(value, base):
            return f"an object of type {name} (a subclass of {base.__name__}; return a plain {base.__name__})"
    return f"an object of type {name}"


def _array_to_plain(array: np.ndarray) -> dict:
    """``dtype`` is "bool", "integer" (signed or unsigned) or "number" (floating point)."""
    if array.dtype.kind == "b":
        kind, data = "bool", array.tolist()
    elif array.dtype.kind in "iu":
        kind, data = "integer", array.tolist()
    elif array.dtype.kind == "f":
        kind, data = "number", array.astype(np.float64).tolist()
    else:
        raise UnsupportedAnswer(f"an array of dtype {array.dtype} (use numbers or bools)")
    return {"kind": "array", "dtype": kind, "shape": list(array.shape), "data": data}


def _index_to_plain(index: pd.Index) -> list[str]:
    if isinstance(index, pd.DatetimeIndex):
        return [stamp.isoformat() for stamp in index]
    return [str(label) for label in index]


# ----------------------------------------------------------------------------- comparison
def describe(plain: Any) -> str:
    """A short human description of a plain value, for feedback messages."""
    if isinstance(plain, dict):
        kind = plain.get("kind")
        if kind == "array":
            return f"an array of shape {tuple(plain['shape'])}"
        if kind == "series":
            return f"a Series of length {len(plain['index'])}"
        if kind == "frame":
            return f"a DataFrame of shape ({len(plain['index'])}, {len(plain['columns'])})"
        if kind == "sequence":
            return _describe_sequence(plain["items"])
        return "a dict"
    if plain is None:
        return "None"
    if type(plain) is float:
        return f"the number {_fmt(plain)}"
    if type(plain) is int:
        return f"the number {plain}"
    return f"{type(plain).__name__} {plain!r}"


def _describe_sequence(items: list) -> str:
    """"a pair (array, array)", "a list or tuple of 3 items, each a pair (array, array)", ..."""
    if not items:
        return "an empty list or tuple"
    words = [_kind_word(item, article=True) for item in items]
    if len(items) == 1:
        return f"a list or tuple of 1 item, {words[0]}"
    nested = isinstance(items[0], dict) and items[0].get("kind") == "sequence"
    if len(items) == 2 and isinstance(items[0], dict) and isinstance(items[1], dict) and not (nested and len(set(words)) == 1):
        return f"a pair ({_kind_word(items[0])}, {_kind_word(items[1])})"
    if len(set(words)) == 1:
        return f"a list or tuple of {len(items)} items, each {words[0]}"
    listed = f" ({', '.join(_kind_word(item) for item in items)})" if len(items) <= 4 else ""
    return f"a list or tuple of {len(items)} item{'s' * (len(items) != 1)}{listed}"


def _kind_word(plain: Any, article: bool = False) -> str:
    """The kind of a plain value in one or two words: "array", "number", "pair (array, array)"."""
    if isinstance(plain, dict):
        kind = plain.get("kind")
        if kind == "sequence" and len(plain["items"]) == 2:
            word = f"pair ({_kind_word(plain['items'][0])}, {_kind_word(plain['items'][1])})"
        else:
            word = {"array": "array", "series": "Series", "frame": "DataFrame", "sequence": "list",
                    "mapping": "dict"}.get(kind, "dict")
    elif plain is None:
        return "None"
    else:
        word = {bool: "bool", int: "number", float: "number", str: "str"}.get(type(plain), type(plain).__name__)
    return (("an " if word[0] in "aeiou" else "a ") + word) if article else word


def _fmt(x: float) -> str:
    return f"{x:.10g}"


def _is_number(x: Any) -> bool:
    return type(x) in (int, float)


def _close(expected: float, got: float, rtol: float, atol: float) -> bool:
    if math.isnan(expected) or math.isnan(got):
        return math.isnan(expected) and math.isnan(got)
    if math.isinf(expected) or math.isinf(got):
        return expected == got
    return abs(got - expected) <= atol + rtol * abs(expected)


def compare(expected: Any, got: Any, rtol: float = 1e-7, atol: float = 1e-10, where: str = "") -> str | None:
    """Return ``None`` when ``got`` matches ``expected`` (both plain data), else a message naming the first difference."""
    at = f" at {where}" if where else ""
    if _is_number(expected):
        if not _is_number(got):
            return f"expected a number{at}, got {describe(got)}"
        if not _close(float(expected), float(got), rtol, atol):
            return f"expected {_fmt(expected)}{at}, got {_fmt(got)}"
        return None
    if not isinstance(expected, dict):  # None, bool, str: exact
        if type(got) is not type(expected) or got != expected:
            return f"expected {describe(expected)}{at}, got {describe(got)}"
        return None
    if not isinstance(got, dict) or got.get("kind") != expected["kind"]:
        return f"expected {describe(expected)}{at}, got {describe(got)}"
    return _COMPARE_KIND[expected["kind"]](expected, got, rtol, atol, where)


def _compare_array(expected: dict, got: dict, rtol: float, atol: float, where: str,
                   labels: list[str] | None = None, name: str | None = None) -> str | None:
    name = name or (f"result{where}" if where else "the array")
    if got["shape"] != expected["shape"]:
        return f"{name}: expected shape {tuple(expected['shape'])}, got {tuple(got['shape'])}"
    if not dtype_fits(expected["dtype"], got["dtype"]):
        return f"{name}: expected {DTYPE_WORDS[expected['dtype']]} values, got {DTYPE_WORDS[got['dtype']]} values"
    want = np.asarray(expected["data"], dtype=np.float64).ravel()
    have = np.asarray(got["data"], dtype=np.float64).ravel()
    both_nan = np.isnan(want) & np.isnan(have)
    with np.errstate(invalid="ignore"):
        ok = both_nan | (want == have) | (np.abs(have - want) <= atol + rtol * np.abs(want))
    if ok.all():
        return None
    flat = int(np.flatnonzero(~ok)[0])
    position = np.unravel_index(flat, tuple(expected["shape"])) if expected["shape"] else ()
    spot = position[0] if len(position) == 1 else tuple(int(p) for p in position)
    label = f" (index {labels[flat]})" if labels is not None and len(position) == 1 else ""
    show = (lambda v: str(bool(v))) if expected["dtype"] == "bool" else _fmt
    return (f"{name}: {int((~ok).sum())} of {ok.size} value(s) differ; first at position {spot}{label}: "
            f"expected {show(want[flat])}, got {show(have[flat])}")


DTYPE_WORDS = {"bool": "bool", "integer": "integer", "number": "floating-point"}


def dtype_fits(expected: str, got: str) -> bool:
    """Whether an array of ``got`` values may stand for one of ``expected`` values.

    Integers stand for numbers (``[1, 2]`` for ``[1.0, 2.0]``), but not the other way round: where the
    reference returns integers (positions, labels) the answer must too, or it could not index an array."""
    return got == expected or (expected == "number" and got == "integer")


def is_numeric_array(plain: Any) -> bool:
    return isinstance(plain, dict) and plain.get("kind") == "array" and plain.get("dtype") in ("integer", "number")


def _compare_index(expected: list[str], got: list[str], what: str) -> str | None:
    if len(got) != len(expected):
        return f"{what}: expected length {len(expected)}, got {len(got)}"
    for position, (want, have) in enumerate(zip(expected, got)):
        if want != have:
            return f"{what} differs at position {position}: expected {want!r}, got {have!r}"
    return None


def _compare_series(expected, got, rtol, atol, where):
    name = f"result{where}" if where else "the Series"
    return (_compare_index(expected["index"], got["index"], f"{name}'s index")
            or _compare_array(expected["values"], got["values"], rtol, atol, where, expected["index"], f"{name}'s values"))


def _compare_frame(expected, got, rtol, atol, where):
    name = f"result{where}" if where else "the DataFrame"
    return (_compare_index(expected["columns"], got["columns"], f"{name}'s columns")
            or _compare_index(expected["index"], got["index"], f"{name}'s index")
            or _compare_array(expected["values"], got["values"], rtol, atol, where, None, f"{name}'s values"))


def _compare_sequence(expected, got, rtol, atol, where):
    if len(got["items"]) != len(expected["items"]):
        return f"expected {describe(expected)}{' at ' + where if where else ''}, got {describe(got)}"
    for i, (want, have) in enumerate(zip(expected["items"], got["items"])):
        problem = compare(want, have, rtol, atol, f"{where}[{i}]")
        if problem:
            return problem
    return None


def _compare_mapping(expected, got, rtol, atol, where):
    if sorted(got["items"]) != sorted(expected["items"]):
        return f"expected keys {sorted(expected['items'])}, got {sorted(got['items'])}"
    for key, want in expected["items"].items():
        problem = compare(want, got["items"][key], rtol, atol, f"{where}[{key!r}]")
        if problem:
            return problem
    return None


_COMPARE_KIND = {
    "array": _compare_array,
    "series": _compare_series,
    "frame": _compare_frame,
    "sequence": _compare_sequence,
    "mapping": _compare_mapping,
}


# ----------------------------------------------------------------------------- validating untrusted plain data
class InvalidPlainData(ValueError):
    """Data claiming to be plain data (e.g. from a grading worker) that is not."""


MAX_DEPTH = 32


def validate_plain(value, depth: int = 0) -> None:
    """Raise :class:`InvalidPlainData` unless ``value`` has exactly the shapes :func:`to_plain` produces."""
    if depth > MAX_DEPTH:
        raise InvalidPlainData("nested too deeply")
    if type(value) in SCALARS:
        return
    if type(value) is not dict or type(value.get("kind")) is not str:
        raise InvalidPlainData(f"unexpected {type(value).__name__}")
    validator = _VALIDATE_KIND.get(value["kind"])
    if validator is None:
        raise InvalidPlainData(f"unknown kind {value['kind']!r}")
    validator(value, depth)


def _require_keys(value: dict, keys: set) -> None:
    if set(value) != keys | {"kind"}:
        raise InvalidPlainData(f"a {value['kind']} needs exactly the keys {sorted(keys | {'kind'})}")


def _validate_array(value: dict, depth: int) -> None:
    _require_keys(value, {"dtype", "shape", "data"})
    shape = value["shape"]
    if value["dtype"] not in DTYPE_WORDS or type(shape) is not list or \
            not all(type(n) is int and n >= 0 for n in shape):
        raise InvalidPlainData("malformed array header")
    element = {"bool": (bool,), "integer": (int,), "number": (int, float)}[value["dtype"]]

    def check(data, dims):
        if not dims:
            if type(data) not in element:
                raise InvalidPlainData("array element of the wrong type")
            return
        if type(data) is not list or len(data) != dims[0]:
            raise InvalidPlainData("array data does not match its shape")
        for item in data:
            check(item, dims[1:])

    check(value["data"], shape)


def _validate_labels(labels) -> None:
    if type(labels) is not list or not all(type(label) is str for label in labels):
        raise InvalidPlainData("labels must be a list of strings")


def _validate_series(value: dict, depth: int) -> None:
    _require_keys(value, {"index", "values"})
    _validate_labels(value["index"])
    validate_plain(value["values"], depth + 1)
    values = value["values"]
    if type(values) is not dict or values.get("kind") != "array" or values["shape"] != [len(value["index"])]:
        raise InvalidPlainData("a Series' values must be an array as long as its index")


def _validate_frame(value: dict, depth: int) -> None:
    _require_keys(value, {"index", "columns", "values"})
    _validate_labels(value["index"])
    _validate_labels(value["columns"])
    validate_plain(value["values"], depth + 1)
    values = value["values"]
    if type(values) is not dict or values.get("kind") != "array" or \
            values["shape"] != [len(value["index"]), len(value["columns"])]:
        raise InvalidPlainData("a DataFrame's values must be an (index, columns) array")


def _validate_sequence(value: dict, depth: int) -> None:
    _require_keys(value, {"items"})
    if type(value["items"]) is not list:
        raise InvalidPlainData("a sequence's items must be a list")
    for item in value["items"]:
        validate_plain(item, depth + 1)


def _validate_mapping(value: dict, depth: int) -> None:
    _require_keys(value, {"items"})
    if type(value["items"]) is not dict:
        raise InvalidPlainData("a mapping's items must be a dict")
    for item in value["items"].values():
        validate_plain(item, depth + 1)


_VALIDATE_KIND = {"array": _validate_array, "series": _validate_series, "frame": _validate_frame,
                  "sequence": _validate_sequence, "mapping": _validate_mapping}

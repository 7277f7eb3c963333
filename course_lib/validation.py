"""Input checks shared by the library: clear errors instead of silent repairs."""
from __future__ import annotations

import numpy as np
import pandas as pd


def as_1d_float(x, name: str = "x", min_length: int = 1) -> np.ndarray:
    """Return ``x`` (array-like or Series) as a 1-D float64 array; raise ``ValueError`` on NaN, wrong shape or short input.

    The caller's data is never modified (a copy is returned when a conversion happens).
    """
    if isinstance(x, pd.DataFrame):
        raise ValueError(f"{name} must be 1-D (a Series or array), got a DataFrame with columns {list(x.columns)}")
    values = x.to_numpy() if isinstance(x, pd.Series) else np.asarray(x)
    if values.dtype == object or values.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {values.dtype}")
    if values.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {values.shape}")
    values = values.astype(np.float64, copy=False)
    if len(values) < min_length:
        raise ValueError(f"{name} needs at least {min_length} value(s), got {len(values)}")
    nan = np.isnan(values)
    if nan.any():
        raise ValueError(f"{name} has {int(nan.sum())} NaN value(s), first at position {int(np.flatnonzero(nan)[0])}")
    return values


def require_positive(values: np.ndarray, name: str = "x") -> None:
    """Raise ``ValueError`` naming the first position where ``values`` <= 0 (logs need positive prices)."""
    bad = values <= 0
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} must be positive: {int(bad.sum())} value(s) <= 0, first {values[pos]} at position {pos}")


def as_2d_float(values, name: str = "values") -> np.ndarray:
    """Return ``values`` (1-D or 2-D array, Series or DataFrame) as a float64 (rows, features) array.

    A 1-D input becomes one column. Raises ``ValueError`` on non-numeric data, more than
    2 dimensions, or NaN (naming the first row and column).
    """
    columns = list(values.columns) if isinstance(values, pd.DataFrame) else None
    array = np.asarray(values.to_numpy() if isinstance(values, (pd.Series, pd.DataFrame)) else values)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (rows, features), got shape {array.shape}")
    array = array.astype(np.float64)
    if np.isnan(array).any():
        row, column = np.argwhere(np.isnan(array))[0]
        label = columns[column] if columns else column
        raise ValueError(f"{name} has NaN (first at row {row}, column {label!r}): drop or fix it first")
    return array


def positive_int(value, name: str) -> int:
    """``value`` as an int if it is a positive integer (not a bool); otherwise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, name: str) -> int:
    """``value`` as an int if it is an integer >= 0 (not a bool); otherwise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)

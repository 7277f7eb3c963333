"""Returns and differencing: turning prices into (more) stationary series and back.

A Series keeps its index; the first value, which has no predecessor, is dropped,
so returns have one value fewer than prices.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.validation import as_1d_float, require_positive


def _like_input(prices, values: np.ndarray, name: str):
    """Wrap ``values`` (aligned with prices[1:]) as a Series when ``prices`` is one."""
    if isinstance(prices, pd.Series):
        return pd.Series(values, index=prices.index[1:], name=name)
    return values


def log_returns(prices):
    """Log returns r_t = ln(P_t / P_{t-1}) for t = 1..n-1 (length n - 1)."""
    values = as_1d_float(prices, "prices", min_length=2)
    require_positive(values, "prices")
    return _like_input(prices, np.diff(np.log(values)), "log_return")


def simple_returns(prices):
    """Simple returns R_t = P_t / P_{t-1} - 1 for t = 1..n-1 (length n - 1)."""
    values = as_1d_float(prices, "prices", min_length=2)
    require_positive(values, "prices")
    return _like_input(prices, values[1:] / values[:-1] - 1.0, "simple_return")

"""Differencing, returns and their inverses: turning prices into (more) stationary series and back.

Conventions: a Series keeps its index; values that have no predecessor are dropped,
not filled with NaN (pandas' ``diff`` keeps them as NaN), so
``difference(x, order, lag)`` is ``order * lag`` values shorter than ``x`` and returns
are one value shorter than prices.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.validation import as_1d_float, positive_int, require_positive

RETURN_KINDS = ("log", "simple", "difference")


def _like(template, values: np.ndarray, index_slice: slice, name: str):
    """Wrap ``values`` as a Series on ``template.index[index_slice]`` when ``template`` is a Series."""
    if isinstance(template, pd.Series):
        return pd.Series(values, index=template.index[index_slice], name=name)
    return values


def _check_order_lag(order: int, lag: int) -> None:
    positive_int(order, "order")
    positive_int(lag, "lag")


def _lag_difference(values: np.ndarray, lag: int) -> np.ndarray:
    """y_t = x_t - x_(t-lag), length n - lag."""
    return values[lag:] - values[:-lag]


# ----------------------------------------------------------------------------- differencing
def difference(x, order: int = 1, lag: int = 1):
    """(1 - B^lag)^order x: apply y_t = x_t - x_(t-lag) ``order`` times; length n - order*lag.

    order=1, lag=1 is the first difference x_t - x_(t-1); order=2 gives
    x_t - 2 x_(t-1) + x_(t-2); lag=5 is a weekly (seasonal) difference of daily data.
    """
    _check_order_lag(order, lag)
    values = as_1d_float(x, "x", min_length=order * lag + 1)
    for _ in range(order):
        values = _lag_difference(values, lag)
    return _like(x, values, slice(order * lag, None), "difference")


def _undo_lag_difference(diffs: np.ndarray, seed: np.ndarray) -> np.ndarray:
    """Invert y_t = x_t - x_(t-lag) given the ``lag`` values ``seed`` that precede: x_t = y_t + x_(t-lag)."""
    lag = len(seed)
    n = len(diffs)
    padded = np.zeros(-(-n // lag) * lag)
    padded[:n] = diffs
    # positions t, t+lag, t+2*lag, ... form a chain: each is a cumulative sum started from seed[t % lag]
    return (np.cumsum(padded.reshape(-1, lag), axis=0) + seed).ravel()[:n]


def inverse_difference(diffs, history, order: int = 1, lag: int = 1):
    """The original values that follow ``history``, given their differences of this order and lag.

    ``history`` holds the original values just before the first difference; only its
    last ``order * lag`` values are used, and it must have at least that many. For
    order 1: x_t = d_t + x_(t-lag); order 2, lag 1: x_t = d_t + 2 x_(t-1) - x_(t-2); in
    general each order is undone in turn, from the highest. A Series ``diffs`` gives a
    Series on the same index.
    """
    _check_order_lag(order, lag)
    d = as_1d_float(diffs, "diffs", min_length=1)
    past = as_1d_float(history, "history", min_length=order * lag)[-order * lag:]
    levels = [past]  # levels[k]: the k-th differences of history, length (order - k) * lag
    for _ in range(order - 1):
        levels.append(_lag_difference(levels[-1], lag))
    values = d
    for level in reversed(levels):
        values = _undo_lag_difference(values, level[-lag:])
    return _like(diffs, values, slice(None), "value")


# ----------------------------------------------------------------------------- returns
def log_returns(prices):
    """Log returns r_t = ln(P_t / P_(t-1)) for t = 1..n-1 (length n - 1)."""
    values = as_1d_float(prices, "prices", min_length=2)
    require_positive(values, "prices")
    return _like(prices, np.diff(np.log(values)), slice(1, None), "log_return")


def simple_returns(prices):
    """Simple returns R_t = P_t / P_(t-1) - 1 for t = 1..n-1 (length n - 1)."""
    values = as_1d_float(prices, "prices", min_length=2)
    require_positive(values, "prices")
    return _like(prices, values[1:] / values[:-1] - 1.0, slice(1, None), "simple_return")


def _check_kind(kind: str) -> None:
    if kind not in RETURN_KINDS:
        raise ValueError(f"kind must be one of {RETURN_KINDS}, got {kind!r}")


def _start_price(start_price: float, kind: str) -> float:
    start = float(start_price)
    if not np.isfinite(start):
        raise ValueError(f"start_price must be a finite number, got {start_price!r}")
    if kind != "difference" and start <= 0:
        raise ValueError(f"start_price must be positive for {kind} returns, got {start_price!r}")
    return start


def _simple_growth(changes: np.ndarray) -> np.ndarray:
    growth = 1.0 + changes
    if (growth <= 0).any():
        pos = int(np.flatnonzero(growth <= 0)[0])
        raise ValueError(f"a simple return of {changes[pos]} at position {pos} would make the price non-positive")
    return growth


def prices_from_returns(returns, start_price: float, kind: str = "log"):
    """Invert returns: the prices P_1..P_n that follow P_0 = ``start_price``.

    kind="log": P_t = P_0 exp(r_1 + ... + r_t); "simple": P_t = P_0 prod (1 + R_s);
    "difference": P_t = P_0 + d_1 + ... + d_t. A Series keeps its index.
    """
    _check_kind(kind)
    changes = as_1d_float(returns, "returns", min_length=1)
    start = _start_price(start_price, kind)
    if kind == "log":
        values = start * np.exp(np.cumsum(changes))
    elif kind == "simple":
        values = start * np.cumprod(_simple_growth(changes))
    else:
        values = start + np.cumsum(changes)
    return _like(returns, values, slice(None), "price")


# ----------------------------------------------------------------------------- reconstructing forecasts
def one_step_prices(forecast_returns, previous_prices, kind: str = "log"):
    """Prices implied by one-step forecasts anchored on the actual previous price: P^_t = P_(t-1) (+) r^_t.

    ``previous_prices[t]`` is the actual price just before forecast ``t`` (same length).
    (+) is P exp(r) for log returns, P (1 + R) for simple returns and P + d for differences.
    """
    _check_kind(kind)
    changes = as_1d_float(forecast_returns, "forecast_returns", min_length=1)
    anchors = as_1d_float(previous_prices, "previous_prices", min_length=1)
    if len(anchors) != len(changes):
        raise ValueError(f"previous_prices must have one price per forecast: {len(anchors)} prices "
                         f"for {len(changes)} forecasts")
    if kind != "difference":
        require_positive(anchors, "previous_prices")
    if kind == "log":
        values = anchors * np.exp(changes)
    elif kind == "simple":
        values = anchors * _simple_growth(changes)
    else:
        values = anchors + changes
    return _like(forecast_returns, values, slice(None), "price")


def recursive_prices(forecast_returns, start_price: float, kind: str = "log"):
    """Prices implied by compounding the forecasts from one start price, P^_t = P^_(t-1) (+) r^_t, P^_0 = start.

    What a multi-step forecast does: no actual price after the start is used, so errors accumulate.
    Same as :func:`prices_from_returns` applied to forecasts.
    """
    return prices_from_returns(forecast_returns, start_price, kind)

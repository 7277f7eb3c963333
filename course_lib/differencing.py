"""Differencing, returns and their inverses: turning prices into (more) stationary series and back.

Forecasts made on returns come back to prices in two ways (see the last section): one-step
(anchored on the actual previous price) and recursive multi-step (forecasts fed back from one
origin, anchored on the last actual price at that origin).

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
        pos = tuple(int(i) for i in np.argwhere(growth <= 0)[0])
        where = pos[0] if len(pos) == 1 else pos
        raise ValueError(f"a simple return of {changes[pos]} at position {where} would make the price non-positive")
    return growth


def _compound(changes: np.ndarray, start, kind: str) -> np.ndarray:
    """start (+) cumulative changes along the last axis; ``start`` broadcasts against ``changes[..., 0]``."""
    if kind == "log":
        return start * np.exp(np.cumsum(changes, axis=-1))
    if kind == "simple":
        return start * np.cumprod(_simple_growth(changes), axis=-1)
    return start + np.cumsum(changes, axis=-1)


def prices_from_returns(returns, start_price: float, kind: str = "log"):
    """Invert returns: the prices P_1..P_n that follow P_0 = ``start_price``.

    kind="log": P_t = P_0 exp(r_1 + ... + r_t); "simple": P_t = P_0 prod (1 + R_s);
    "difference": P_t = P_0 + d_1 + ... + d_t. A Series keeps its index.
    """
    _check_kind(kind)
    changes = as_1d_float(returns, "returns", min_length=1)
    start = _start_price(start_price, kind)
    return _like(returns, _compound(changes, start, kind), slice(None), "price")


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
    """Prices implied by compounding forecasts from one start price, P^_h = P^_(h-1) (+) r^_h, P^_0 = start.

    Right for a multi-step forecast made at ONE origin t: ``forecast_returns`` are
    r^_(t+1|t), ..., r^_(t+H|t) (e.g. a row of :func:`recursive_ar_forecasts`) and ``start_price`` is
    the last actual price P_t. Wrong for one-step forecasts r^_(s|s-1) that were each computed from
    actual returns up to s-1: compounding those uses returns after the origin and mixes horizons.
    Same as :func:`prices_from_returns` applied to forecasts.
    """
    return prices_from_returns(forecast_returns, start_price, kind)


def _origins(origins, n: int, p: int) -> np.ndarray:
    positions = np.asarray(origins)
    if positions.ndim != 1 or len(positions) == 0 or positions.dtype.kind not in "iu":
        raise ValueError(f"origins must be a non-empty 1-D array of integer positions, got {origins!r:.80}")
    bad = (positions < p - 1) | (positions >= n)
    if bad.any():
        raise ValueError(f"origin {int(positions[bad][0])} is outside [{p - 1}, {n - 1}]: an AR({p}) forecast "
                         f"from origin t needs the {p} values up to and including position t")
    return positions.astype(np.int64)


def recursive_ar_forecasts(series, intercept: float, coefs, origins, horizon: int) -> np.ndarray:
    """Iterated (recursive) AR(p) forecasts from each origin; shape (len(origins), horizon).

    x^_(t+h|t) = c + phi_1 x~_(t+h-1) + ... + phi_p x~_(t+h-p),  h = 1..horizon,
    where x~_s = x_s (actual) for s <= t and x~_s = x^_(s|t) (the model's own forecast, fed back) for s > t.
    Row k is forecast from origin t = origins[k], a position in ``series``: only values up to and
    including position t are used. Column 0 (h = 1) is the one-step-ahead forecast, from actual
    values only; later columns use no value after the origin. ``coefs`` = (phi_1, ..., phi_p), as in
    statsmodels' ``AutoRegResults.params[1:]`` with ``intercept = params[0]`` (trend "c").
    """
    values = as_1d_float(series, "series", min_length=1)
    phi = as_1d_float(coefs, "coefs", min_length=1)
    c = float(intercept)
    if not np.isfinite(c):
        raise ValueError(f"intercept must be a finite number, got {intercept!r}")
    horizon = positive_int(horizon, "horizon")
    p = len(phi)
    positions = _origins(origins, len(values), p)
    # window[k] = (x_(t-p+1), ..., x_t) for t = origins[k], oldest first; it slides as forecasts come in
    window = values[positions[:, None] + np.arange(-p + 1, 1)]
    paths = np.empty((len(positions), horizon))
    for h in range(horizon):
        paths[:, h] = c + window[:, ::-1] @ phi
        window = np.column_stack([window[:, 1:], paths[:, h]])
    return paths


def forecast_price_paths(forecast_paths, origin_prices, kind: str = "log") -> np.ndarray:
    """Price paths of multi-step forecasts, each anchored on the actual price at its origin; shape (origins, H).

    P^_(t+h|t) = P_t exp(r^_(t+1|t) + ... + r^_(t+h|t)) for log returns; P_t prod (1 + R^) for simple
    returns; P_t + sum d^ for differences. Row k of ``forecast_paths`` (origins, H) holds the forecasts
    made at origin k; ``origin_prices[k]`` is the last actual price there. Row by row this is
    :func:`recursive_prices`.
    """
    _check_kind(kind)
    paths = np.asarray(forecast_paths, dtype=np.float64)
    if paths.ndim != 2 or paths.shape[1] == 0:
        raise ValueError(f"forecast_paths must be 2-D (origins, horizon), got shape {paths.shape}")
    if np.isnan(paths).any():
        first_nan = tuple(int(i) for i in np.argwhere(np.isnan(paths))[0])
        raise ValueError(f"forecast_paths has NaN, first at (origin, step) {first_nan}")
    anchors = as_1d_float(origin_prices, "origin_prices", min_length=1)
    if len(anchors) != len(paths):
        raise ValueError(f"origin_prices must have one price per origin: {len(anchors)} prices for "
                         f"{len(paths)} forecast paths")
    if kind != "difference":
        require_positive(anchors, "origin_prices")
    return _compound(paths, anchors[:, None], kind)

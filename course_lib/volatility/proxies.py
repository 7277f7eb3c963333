"""Volatility proxies: what a day's variance "was", measured from daily OHLC bars.

A day's true variance is never observed; a *proxy* is a noisy but (conditionally) unbiased measurement of it.
Units throughout: returns in percent, $r_t = 100 \\ln(C_t / C_{t-1})$, and variances in **%² per day**
(``scale=100``; pass ``scale=1`` for decimal units). One value per day, labelled by the day it measures.

* squared return $r_t^2$: unbiased for the close-to-close variance when the mean return is ~0, but very noisy
  (for a normal return its standard deviation is $\\sqrt2\\,\\sigma_t^2$, as large as the thing it measures),
  and exactly 0 on a day the close did not move;
* range estimators (Parkinson, Garman–Klass, Rogers–Satchell) use the day's high and low: 5-8 times less
  noisy than $r_t^2$ for a Brownian motion, but they measure the *open-to-close* (trading-hours) variance, so they
  miss the overnight move, and a high/low sampled from discrete ticks understates the range;
* the multi-day realized variance sums a daily proxy over a week or a month: less noisy, coarser in time.

Why the noise matters: a forecast is scored against the proxy, not the truth. With a noisy proxy most loss
functions rank forecasts wrongly; MSE and QLIKE on the variance still rank them as the truth would
(Patton 2011), so those two are the losses of this chapter.

Bad bars (non-positive prices, High < Low, Open or Close outside [Low, High], NaN) raise
:class:`course_lib.data.DataValidationError` naming the column, date and row.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.data import PRICE_COLUMNS, DataValidationError, validate_ohlcv
from course_lib.differencing import log_returns
from course_lib.validation import as_1d_float, positive_int

PERCENT = 100.0
TWO_LN2_MINUS_1 = 2 * np.log(2) - 1  # Garman–Klass weight on the squared open-to-close return, ~0.3863


def validate_bars(bars: pd.DataFrame, name: str = "bars") -> pd.DataFrame:
    """Check daily bars with columns Open, High, Low, Close (Volume optional) by the rules of ``validate_ohlcv``.

    Rules: DataFrame with a sorted, duplicate-free DatetimeIndex; numeric prices without NaN; every price > 0;
    Low <= Open, Close <= High. Returns ``bars`` unchanged; raises ``DataValidationError`` naming the first break.
    """
    if not isinstance(bars, pd.DataFrame):
        raise DataValidationError(f"{name} must be a DataFrame with columns {list(PRICE_COLUMNS)}, "
                                  f"got {type(bars).__name__}")
    checked = bars if "Volume" in bars.columns else bars.assign(Volume=0.0)
    validate_ohlcv(checked, source=name)
    return bars


def _log_ratios(bars: pd.DataFrame) -> dict[str, np.ndarray]:
    """The day's log price ratios used by the range estimators (decimal units): u = ln(H/O), d = ln(L/O), c = ln(C/O)."""
    validate_bars(bars)
    log_open = np.log(bars["Open"].to_numpy(float))
    return {"u": np.log(bars["High"].to_numpy(float)) - log_open,
            "d": np.log(bars["Low"].to_numpy(float)) - log_open,
            "c": np.log(bars["Close"].to_numpy(float)) - log_open}


def _daily(values: np.ndarray, bars: pd.DataFrame, scale: float, name: str) -> pd.Series:
    return pd.Series(values * scale ** 2, index=bars.index, name=name)


def percent_returns(close, scale: float = PERCENT) -> pd.Series:
    """Close-to-close log returns in percent, $r_t = 100 \\ln(C_t / C_{t-1})$; length n - 1 (the first day has none).

    ``close``: prices (Series keeps its index). Non-positive prices or NaN raise ``ValueError``.
    """
    returns = log_returns(close) * scale
    return returns.rename("return") if isinstance(returns, pd.Series) else pd.Series(returns, name="return")


def squared_returns(close, scale: float = PERCENT) -> pd.Series:
    """Squared-return proxy $r_t^2$ in %² per day, $r_t = 100 \\ln(C_t / C_{t-1})$; length n - 1.

    Unbiased for the close-to-close variance when $E[r_t] \\approx 0$; noisy (std $\\sqrt2\\,\\sigma_t^2$ for
    normal returns); 0 on an unchanged close, where QLIKE is undefined.
    """
    return (percent_returns(close, scale) ** 2).rename("squared_return")


def absolute_returns(close, scale: float = PERCENT) -> pd.Series:
    """Absolute-return proxy $|r_t|$ in % per day; length n - 1.

    A proxy of the volatility $\\sigma_t$, not the variance, and a biased one: for normal returns
    $E|r_t| = \\sigma_t\\sqrt{2/\\pi} \\approx 0.80\\,\\sigma_t$.
    """
    return percent_returns(close, scale).abs().rename("absolute_return")


def parkinson(bars: pd.DataFrame, scale: float = PERCENT) -> pd.Series:
    """Parkinson (1980) range estimator in %² per day: $\\hat\\sigma^2_P = \\frac{(\\ln H_t - \\ln L_t)^2}{4 \\ln 2}$.

    Unbiased for the variance of a driftless Brownian motion observed continuously from open to close; about
    5.2 times less variance than the squared open-to-close return. ``bars``: Open/High/Low/Close frame of n days;
    returns a Series of n values on the same index.
    """
    ratios = _log_ratios(bars)
    return _daily((ratios["u"] - ratios["d"]) ** 2 / (4 * np.log(2)), bars, scale, "parkinson")


def garman_klass(bars: pd.DataFrame, scale: float = PERCENT) -> pd.Series:
    """Garman–Klass (1980) estimator in %² per day:
    $\\hat\\sigma^2_{GK} = \\tfrac12 (\\ln H_t/L_t)^2 - (2\\ln 2 - 1)(\\ln C_t/O_t)^2$.

    Adds the open-to-close move to the range: about 7.4 times less variance than the squared return for a
    driftless Brownian motion. Can be slightly negative on a bar with a small range and a large open-to-close move
    (impossible for a path, possible for rounded data). n days in, n values out.
    """
    ratios = _log_ratios(bars)
    values = 0.5 * (ratios["u"] - ratios["d"]) ** 2 - TWO_LN2_MINUS_1 * ratios["c"] ** 2
    return _daily(values, bars, scale, "garman_klass")


def rogers_satchell(bars: pd.DataFrame, scale: float = PERCENT) -> pd.Series:
    """Rogers–Satchell (1991) estimator in %² per day:
    $\\hat\\sigma^2_{RS} = \\ln(H_t/C_t)\\ln(H_t/O_t) + \\ln(L_t/C_t)\\ln(L_t/O_t)$.

    Unbiased for a Brownian motion *with any drift* (Parkinson and Garman–Klass assume none); never negative
    for a valid bar. n days in, n values out.
    """
    ratios = _log_ratios(bars)
    u, d, c = ratios["u"], ratios["d"], ratios["c"]
    return _daily((u - c) * u + (d - c) * d, bars, scale, "rogers_satchell")


def realized_variance(daily_variance, days: int) -> pd.Series:
    """Multi-day realized variance: the sum of a daily proxy over the last ``days`` days,
    $RV^{(k)}_t = \\sum_{j=0}^{k-1} v_{t-j}$, in %² per ``days`` days, labelled by the last day $t$.

    Known at the close of day t (no lookahead). The first ``days - 1`` days have no full window and are dropped
    (length n - days + 1). Divide by ``days`` for the average daily variance. With ``days=5`` and the label
    moved 5 days on, it is the one-week-ahead target.
    """
    days = positive_int(days, "days")
    values = as_1d_float(daily_variance, "daily_variance", min_length=days)
    sums = np.convolve(values, np.ones(days), mode="valid")
    index = daily_variance.index[days - 1:] if isinstance(daily_variance, pd.Series) else None
    return pd.Series(sums, index=index, name=f"realized_variance_{days}d")

"""Baseline forecasts: what every model is compared with, first.

Each function takes the history known at the forecast origin, $y_1, \\dots, y_T$ (oldest first), and returns
the forecasts for horizons $h = 1, \\dots, H$ as an array of shape (H,). None of them looks past $y_T$.
"""
from __future__ import annotations

import numpy as np

from course_lib.validation import as_1d_float, positive_int


def _history(history, horizon, min_length: int = 1) -> tuple[np.ndarray, int]:
    return as_1d_float(history, "history", min_length=min_length), positive_int(horizon, "horizon")


def naive_forecast(history, horizon: int) -> np.ndarray:
    """Random-walk forecast: $\\hat y_{T+h} = y_T$ for every $h$."""
    values, horizon = _history(history, horizon)
    return np.full(horizon, values[-1])


def seasonal_naive_forecast(history, horizon: int, season: int) -> np.ndarray:
    """$\\hat y_{T+h} = y_{T+h-m\\lceil h/m \\rceil}$: the last observed value of the same season ($m$ = ``season``)."""
    season = positive_int(season, "season")
    values, horizon = _history(history, horizon, min_length=season)
    last_season = values[-season:]
    return last_season[np.arange(horizon) % season]


def drift_forecast(history, horizon: int) -> np.ndarray:
    """Naive plus the average change: $\\hat y_{T+h} = y_T + h\\,\\frac{y_T - y_1}{T - 1}$."""
    values, horizon = _history(history, horizon, min_length=2)
    slope = (values[-1] - values[0]) / (len(values) - 1)
    return values[-1] + slope * np.arange(1, horizon + 1)


def mean_forecast(history, horizon: int) -> np.ndarray:
    """Historical mean: $\\hat y_{T+h} = \\frac1T \\sum_{t=1}^{T} y_t$ (for returns, the average return)."""
    values, horizon = _history(history, horizon)
    return np.full(horizon, values.mean())


def moving_average_forecast(history, horizon: int, window: int) -> np.ndarray:
    """Mean of the last ``window`` values, $\\hat y_{T+h} = \\frac1k \\sum_{j=0}^{k-1} y_{T-j}$, for every $h$."""
    window = positive_int(window, "window")
    values, horizon = _history(history, horizon, min_length=window)
    return np.full(horizon, values[-window:].mean())


def zero_forecast(history, horizon: int) -> np.ndarray:
    """Return-space naive forecast: tomorrow's return is 0, $\\hat r_{T+h} = 0$ (the price stays at $P_T$).

    ``history`` is only validated: the forecast does not depend on it.
    """
    _, horizon = _history(history, horizon)
    return np.zeros(horizon)

"""Forecast origins, their input windows and targets, and the baselines at each origin: the pieces a capstone
submission shares with the worked example.

An origin is a day $t$ with a full window of inputs (rows $t - W + 1 .. t$ of the feature table) and a known
target, the log return over the next $h$ days, $y_t = \\log C_{t+h} - \\log C_t$. Every function reads rows up
to the origin for its inputs; only the target reads $C_{t+h}$.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.evaluation.baselines import drift_forecast


def origins_and_targets(data: pd.DataFrame, features: pd.DataFrame, horizon: int, window: int
                        ) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """(dates of the origins, (n,) row of each origin in ``features``, (n,) targets $y_t$).

    ``data`` holds the closes (column Close), ``features`` the inputs by date (a subset of ``data``'s dates).
    """
    log_close = np.log(data["Close"].astype(float))
    future = log_close.shift(-horizon).loc[features.index]
    rows = np.arange(window - 1, len(features))
    rows = rows[future.iloc[rows].notna().to_numpy()]
    dates = features.index[rows]
    return dates, rows, (future.loc[dates] - log_close.loc[dates]).to_numpy()


def origin_windows(values: np.ndarray, rows: np.ndarray, window: int) -> np.ndarray:
    """(len(rows), window, n_features) float32: the ``window`` rows of ``values`` ending at each of ``rows``."""
    if len(rows) and rows.min() < window - 1:
        raise ValueError(f"row {rows.min()} has fewer than {window - 1} rows before it for a window of {window}")
    return np.stack([values[row - window + 1:row + 1] for row in rows]).astype(np.float32)


def trailing_volatility(data: pd.DataFrame, horizon: int, days: int = 20) -> pd.Series:
    """$\\sigma_t \\sqrt h$: the standard deviation of the last ``days`` daily log returns up to $t$, scaled to
    ``horizon`` days (for volatility-scaled conformal intervals, chapter 07)."""
    return np.log(data["Close"].astype(float)).diff().rolling(days).std() * np.sqrt(horizon)


def baseline_forecasts(data: pd.DataFrame, origins: pd.DatetimeIndex, horizon: int) -> dict:
    """{"naive": $C_t$, "drift": $C_t + h (C_t - C_1)/(t - 1)$} for $C_{t+h}$ at each origin, from the closes
    up to it (chapter 06's ``naive_forecast`` and ``drift_forecast``)."""
    close = data["Close"].astype(float).to_numpy()
    ends = data.index.get_indexer(origins)
    if (ends < 0).any():
        raise ValueError("every origin must be a date of data")
    return {"naive": close[ends], "drift": np.array([drift_forecast(close[:end + 1], horizon)[-1] for end in ends])}

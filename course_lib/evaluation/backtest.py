"""Walk-forward (rolling-origin) backtest: forecast from many origins, each with only the past it would have had.

At origin $t$ (a row position) the model knows $y_0, \\dots, y_t$ and forecasts $y_{t+1}, \\dots, y_{t+H}$.
Origins run from ``first_origin`` every ``step`` rows while the whole horizon is still inside the series.
The model is (re)fitted at the first origin and then every ``refit_every`` origins, on the training rows
$[\\max(0, t - g - w + 1), t - g]$ (``g`` = ``gap``, ``w`` = ``window`` for a rolling window, all rows for an
expanding one); between refits it keeps its parameters but forecasts from the newest history.
A gap keeps out of training the last rows before an origin (useful when training labels would otherwise
overlap the forecast period).

Any model with two methods can be backtested (the ``Forecaster`` protocol):

* ``fit(train)``: learn from the training rows, a float ``pd.Series`` keeping the series' index (dates for a
  dated series, positions otherwise); return the fitted model;
* ``predict(history, horizon)``: forecasts for the next ``horizon`` steps, shape (horizon,), from the Series
  of every value known at the origin (it may use only its end, e.g. the last window).

``FunctionForecaster`` turns a baseline function of ``course_lib.evaluation.baselines`` into one.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol
from collections.abc import Callable

import numpy as np
import pandas as pd

from course_lib.evaluation.metrics import mae, naive_scale, rmse
from course_lib.validation import as_1d_float, non_negative_int, positive_int


class Forecaster(Protocol):
    def fit(self, train: pd.Series) -> Forecaster: ...

    def predict(self, history: pd.Series, horizon: int) -> np.ndarray: ...


@dataclass
class FunctionForecaster:
    """A forecast function ``function(history, horizon, **kwargs)`` as a ``Forecaster`` (its ``fit`` learns nothing)."""

    function: Callable[..., np.ndarray]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def fit(self, train: pd.Series) -> FunctionForecaster:
        return self

    def predict(self, history: pd.Series, horizon: int) -> np.ndarray:
        return self.function(history.to_numpy(), horizon, **self.kwargs)


@dataclass(frozen=True)
class BacktestPlan:
    """Where a walk-forward backtest forecasts from and what each fit may see (positions, not labels)."""

    n_rows: int
    first_origin: int
    horizon: int = 1
    step: int = 1
    refit_every: int = 1
    window: int | None = None  # None: expanding training window
    gap: int = 0

    def __post_init__(self):
        for name in ("horizon", "step", "refit_every"):
            positive_int(getattr(self, name), name)
        if self.window is not None:
            positive_int(self.window, "window")
        non_negative_int(self.gap, "gap")
        if not 0 <= self.first_origin - self.gap:
            raise ValueError(f"first_origin {self.first_origin} leaves no training row before the gap of {self.gap}")
        if self.first_origin + self.horizon >= self.n_rows:
            raise ValueError(f"no origin fits: first_origin {self.first_origin} + horizon {self.horizon} must be "
                             f"below the series length {self.n_rows}")

    def origins(self) -> np.ndarray:
        """Origin positions $t$ with $t + H \\le n - 1$, every ``step`` rows from ``first_origin``."""
        return np.arange(self.first_origin, self.n_rows - self.horizon, self.step)

    def is_refit(self, origin_number: int) -> bool:
        """Whether the model is fitted again at the ``origin_number``-th origin (0 = the first)."""
        return origin_number % self.refit_every == 0

    def train_rows(self, origin: int) -> slice:
        """Rows the model fitted at ``origin`` may learn from: up to ``origin - gap``, the last ``window`` of them."""
        end = origin - self.gap + 1
        start = 0 if self.window is None else max(0, end - self.window)
        return slice(start, end)


def walk_forward(series, model: Forecaster, plan: BacktestPlan) -> pd.DataFrame:
    """Run ``model`` through ``plan`` on ``series``; return one row per (origin, horizon).

    Columns: ``origin`` (label of the last known row), ``fitted_at`` (label of the origin of the fit in use),
    ``h`` (1..H), ``target`` (label of the forecast row), ``forecast``, ``actual``, ``error`` (actual - forecast).
    The model only ever receives copies of rows up to the origin, so no future row can reach a forecast.
    """
    values = as_1d_float(series, "series")
    if len(values) != plan.n_rows:
        raise ValueError(f"the plan is for {plan.n_rows} rows but the series has {len(values)}")
    labels = series.index if isinstance(series, pd.Series) else pd.RangeIndex(len(values))
    known = pd.Series(values, index=labels, name=getattr(series, "name", None))
    rows, fitted_at = [], None
    for number, origin in enumerate(plan.origins()):
        if plan.is_refit(number):
            model = model.fit(known.iloc[plan.train_rows(origin)].copy())
            fitted_at = labels[origin]
        history = known.iloc[:origin + 1].copy()
        forecast = _checked_forecast(model.predict(history, plan.horizon), plan.horizon, origin)
        for h in range(1, plan.horizon + 1):
            rows.append((labels[origin], fitted_at, h, labels[origin + h], forecast[h - 1], values[origin + h]))
    table = pd.DataFrame(rows, columns=["origin", "fitted_at", "h", "target", "forecast", "actual"])
    table["error"] = table["actual"] - table["forecast"]
    return table


def _checked_forecast(forecast, horizon: int, origin: int) -> np.ndarray:
    array = np.asarray(forecast, dtype=np.float64).reshape(-1) if np.ndim(forecast) <= 2 else None
    if array is None or array.shape != (horizon,):
        raise ValueError(f"the model's predict returned shape {np.shape(forecast)} at origin {origin}; "
                         f"expected ({horizon},), one forecast per horizon step")
    if not np.isfinite(array).all():
        raise ValueError(f"the model's predict returned a non-finite forecast at origin {origin}: {array}")
    return array


def score_by_horizon(table: pd.DataFrame, y_train, season: int = 1) -> pd.DataFrame:
    """MAE, RMSE and MASE of a ``walk_forward`` table for each horizon step ``h`` (rows), with the count ``n``.

    MASE's scale is the naive forecast's in-sample MAE on ``y_train``, the data before the first origin,
    fixed for every origin so that errors from different origins are on one scale.
    """
    scale = naive_scale(y_train, season)
    grouped = table.groupby("h")
    return pd.DataFrame({
        "n": grouped.size(),
        "MAE": grouped.apply(lambda part: mae(part["actual"], part["forecast"])),
        "RMSE": grouped.apply(lambda part: rmse(part["actual"], part["forecast"])),
        "MASE": grouped.apply(lambda part: mae(part["actual"], part["forecast"]) / scale),
    })

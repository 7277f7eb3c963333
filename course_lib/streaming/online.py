"""Online evaluation: the forecast's error tracked bar by bar, over every bar so far and over a recent window.

After bar $t$ arrives, the forecast $\\hat y_t$ made at bar $t-1$ is scored against the truth $y_t$, with
$y_{t-1}$ (the last value known when the forecast was made) as the naive forecast beside it:

* over all $n$ bars so far, in O(1) per bar from running sums: $\\mathrm{MAE} = \\frac1n\\sum|e_i|$,
  $\\mathrm{RMSE} = \\sqrt{\\frac1n\\sum e_i^2}$, directional accuracy
  $\\frac1n\\sum \\mathbb 1[\\operatorname{sign}(y_i - y_{i-1}) = \\operatorname{sign}(\\hat y_i - y_{i-1})]$, and the
  naive forecast's MAE; their ratio (relative MAE) below 1 means the model beats the naive forecast so far;
* over the last ``window`` bars, with ``course_lib.evaluation``'s metrics on the kept pairs (O(window)).

The recent window reacts to a change (a crash, a new regime) that the all-bars numbers average away.
"""
from __future__ import annotations

import math
from collections import deque

import numpy as np
import pandas as pd

from course_lib.evaluation import directional_accuracy, mae, rmse
from course_lib.validation import positive_int


class OnlineMetrics:
    """Running forecast metrics: ``update(y_true, y_pred, y_previous)`` once per bar, then ``overall()`` / ``recent()``.

    Values must be finite floats (a NaN would poison every later running sum): anything else raises ``ValueError``.
    """

    def __init__(self, window: int = 60):
        self.window = positive_int(window, "window")
        self.recent_bars: deque[tuple[float, float, float]] = deque(maxlen=self.window)
        self.n = 0
        self.sum_abs_error = 0.0
        self.sum_squared_error = 0.0
        self.sum_abs_naive_error = 0.0
        self.direction_hits = 0

    def update(self, y_true: float, y_pred: float, y_previous: float) -> None:
        """Score one forecast: add |e|, e^2, the naive forecast's |y - y_prev| and the direction hit to the sums."""
        values = []
        for name, value in (("y_true", y_true), ("y_pred", y_pred), ("y_previous", y_previous)):
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{name} is {value}: online metrics need finite values")
            values.append(value)
        truth, forecast, previous = values
        error = truth - forecast
        self.n += 1
        self.sum_abs_error += abs(error)
        self.sum_squared_error += error * error
        self.sum_abs_naive_error += abs(truth - previous)
        self.direction_hits += int(np.sign(truth - previous) == np.sign(forecast - previous))
        self.recent_bars.append((truth, forecast, previous))

    def overall(self) -> dict[str, float]:
        """MAE, RMSE, directional accuracy, naive MAE and relative MAE (MAE / naive MAE) over every bar so far."""
        if self.n == 0:
            raise ValueError("no bar scored yet: call update() first")
        naive = self.sum_abs_naive_error / self.n
        model = self.sum_abs_error / self.n
        return {"n": self.n, "mae": model, "rmse": math.sqrt(self.sum_squared_error / self.n),
                "directional_accuracy": self.direction_hits / self.n, "naive_mae": naive,
                "relative_mae": model / naive if naive > 0 else math.nan}

    def recent(self) -> dict[str, float]:
        """The same metrics over the last ``window`` bars (fewer at the start), through ``course_lib.evaluation``."""
        if self.n == 0:
            raise ValueError("no bar scored yet: call update() first")
        truth, forecast, previous = (np.array(column) for column in zip(*self.recent_bars))
        model, naive = mae(truth, forecast), mae(truth, previous)
        return {"n": len(truth), "mae": model, "rmse": rmse(truth, forecast),
                "directional_accuracy": directional_accuracy(truth, forecast, previous), "naive_mae": naive,
                "relative_mae": model / naive if naive > 0 else math.nan}


def replay_metrics(y_true, y_pred, y_previous, window: int = 60, index=None) -> pd.DataFrame:
    """Feed the pairs to an :class:`OnlineMetrics` one bar at a time; one row per bar with the overall and recent
    MAE, RMSE, directional accuracy and relative MAE as they stood after that bar (columns ``all_*`` and ``recent_*``)."""
    truth, forecast, previous = (np.asarray(v, dtype=float) for v in (y_true, y_pred, y_previous))
    if not truth.shape == forecast.shape == previous.shape or truth.ndim != 1:
        raise ValueError(f"y_true, y_pred and y_previous must be 1-D of one length, got shapes "
                         f"{truth.shape}, {forecast.shape}, {previous.shape}")
    metrics, rows = OnlineMetrics(window), []
    for values in zip(truth, forecast, previous):
        metrics.update(*values)
        overall, recent = metrics.overall(), metrics.recent()
        rows.append({f"{prefix}_{key}": value for prefix, part in (("all", overall), ("recent", recent))
                     for key, value in part.items() if key != "n"})
    return pd.DataFrame(rows, index=index)

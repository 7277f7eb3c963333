"""Forecast errors and scores, each with the formula it implements.

Notation: $y_i$ the truth, $\\hat y_i$ the forecast, $e_i = y_i - \\hat y_i$, $n$ the number of forecasts.
Every function takes array-likes (or Series) of the same shape — any shape: one value per (origin, horizon)
is fine — and returns a float. Nothing is dropped or repaired: NaN, mismatched shapes, empty input, and
inputs a metric cannot divide by raise ``ValueError`` naming the argument and the position.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.validation import as_1d_float, positive_int


def _first(mask: np.ndarray):
    """Position of the first True in ``mask``: an int for 1-D, a tuple otherwise."""
    position = tuple(int(i) for i in np.argwhere(mask)[0])
    return position if mask.ndim > 1 else position[0]


def _as_array(values, name: str) -> np.ndarray:
    """``values`` as a float64 array of any shape; ``ValueError`` on non-numeric data, no values, or NaN."""
    array = np.asarray(values.to_numpy() if isinstance(values, (pd.Series, pd.DataFrame)) else values)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if array.size == 0:
        raise ValueError(f"{name} is empty: a metric needs at least one forecast")
    if np.isnan(array).any():
        raise ValueError(f"{name} has {int(np.isnan(array).sum())} NaN value(s), first at position "
                         f"{_first(np.isnan(array))}")
    return array


def _pair(y_true, y_pred, pred_name: str = "y_pred") -> tuple[np.ndarray, np.ndarray]:
    """The truth and the forecast as float arrays of the same shape."""
    truth, forecast = _as_array(y_true, "y_true"), _as_array(y_pred, pred_name)
    if truth.shape != forecast.shape:
        raise ValueError(f"y_true has shape {truth.shape} but {pred_name} has shape {forecast.shape}: "
                         "one forecast per true value is needed")
    return truth, forecast


def _require_nonzero(values: np.ndarray, name: str, why: str) -> None:
    zero = values == 0
    if zero.any():
        raise ValueError(f"{name} has {int(zero.sum())} zero value(s), first at position {_first(zero)}: {why}")


def mse(y_true, y_pred) -> float:
    """Mean squared error, $\\frac1n \\sum e_i^2$."""
    truth, forecast = _pair(y_true, y_pred)
    return float(np.mean((truth - forecast) ** 2))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error, $\\sqrt{\\frac1n \\sum e_i^2}$, in the units of the data."""
    return float(np.sqrt(mse(y_true, y_pred)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error, $\\frac1n \\sum |e_i|$."""
    truth, forecast = _pair(y_true, y_pred)
    return float(np.mean(np.abs(truth - forecast)))


def huber(y_true, y_pred, delta: float = 1.0) -> float:
    """Huber loss (guide §2.3.1): mean of $\\tfrac12 e^2$ where $|e| \\le \\delta$, else $\\delta|e| - \\tfrac12\\delta^2$.

    Quadratic near zero, linear in the tails: large errors count less than in the MSE. ``delta`` is in the
    units of the data (a price error of 1.0 and a return error of 1.0 are very different things).
    """
    if not np.isfinite(delta) or delta <= 0:
        raise ValueError(f"delta must be a positive number, got {delta!r}")
    truth, forecast = _pair(y_true, y_pred)
    error = np.abs(truth - forecast)
    return float(np.mean(np.where(error <= delta, 0.5 * error ** 2, delta * error - 0.5 * delta ** 2)))


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error in percent, $\\frac{100}{n}\\sum |e_i| / |y_i|$ (guide §2.3.2, §5.2.2).

    Undefined where a true value is 0 (returns have many): that raises ``ValueError``. On price levels it is
    small for any forecast that copies yesterday's price; compare it with the naive forecast's MAPE.
    """
    truth, forecast = _pair(y_true, y_pred)
    _require_nonzero(truth, "y_true", "MAPE divides by the true value; use MAE or MASE for series that "
                                      "cross zero, such as returns")
    return float(100 * np.mean(np.abs(truth - forecast) / np.abs(truth)))


def _symmetric_ratio(y_true, y_pred) -> np.ndarray:
    truth, forecast = _pair(y_true, y_pred)
    denominator = np.abs(truth) + np.abs(forecast)
    _require_nonzero(denominator, "|y_true| + |y_pred|", "sMAPE is undefined where truth and forecast are both 0")
    return np.abs(truth - forecast) / denominator


def smape_100(y_true, y_pred) -> float:
    """sMAPE on a 0–100 scale, $\\frac{100}{n}\\sum |e_i| / (|y_i| + |\\hat y_i|)$: the guide's formula in §2.3.2."""
    return float(100 * np.mean(_symmetric_ratio(y_true, y_pred)))


def smape_200(y_true, y_pred) -> float:
    """sMAPE on a 0–200 scale, $\\frac{100}{n}\\sum 2|e_i| / (|y_i| + |\\hat y_i|)$: the guide's code in §5.2.2.

    Exactly twice ``smape_100``; the M3/M4 competitions use this form. Say which one a number is.
    """
    return float(200 * np.mean(_symmetric_ratio(y_true, y_pred)))


def naive_scale(y_train, season: int = 1) -> float:
    """MASE's denominator: the in-sample MAE of the (seasonal) naive forecast on the training part,
    $\\frac{1}{T-m}\\sum_{t=m+1}^{T} |y_t - y_{t-m}|$.

    Computed once from training data and kept fixed for every forecast origin.
    """
    season = positive_int(season, "season")
    train = as_1d_float(y_train, "y_train", min_length=season + 1)
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    if scale == 0:
        raise ValueError("y_train is constant at the seasonal lag: the naive scale is 0 and MASE is undefined")
    return scale


def mase(y_true, y_pred, y_train, season: int = 1) -> float:
    """Mean absolute scaled error, $\\mathrm{MAE} / \\text{naive\\_scale}(y_{train}, m)$ (Hyndman & Koehler 2006).

    Below 1: a smaller error than the naive forecast made inside the training data. That is not "better than
    naive" on the test days, which may move more or less than the training days did: read a MASE beside the
    naive forecast's MASE on the same days.
    """
    return mae(y_true, y_pred) / naive_scale(y_train, season)


def directional_accuracy(y_true, y_pred, y_previous) -> float:
    """Share of forecasts that move the right way from the actual previous value (guide §2.3.2):
    $\\frac1n\\sum \\mathbb 1[\\operatorname{sign}(y_i - y_{i-1}) = \\operatorname{sign}(\\hat y_i - y_{i-1})]$.

    ``y_previous[i]`` is the last value known when forecast ``i`` was made. This is the definition to use:
    it asks whether a trader following the forecast would have been on the right side.
    """
    truth, forecast = _pair(y_true, y_pred)
    _, previous = _pair(y_true, y_previous, "y_previous")
    return float(np.mean(np.sign(truth - previous) == np.sign(forecast - previous)))


def prediction_direction_accuracy(y_true, y_pred) -> float:
    """Share of steps where the forecasts move like the truth (guide §5.2.2):
    $\\frac{1}{n-1}\\sum_{i \\ge 2} \\mathbb 1[\\operatorname{sign}(y_i - y_{i-1}) = \\operatorname{sign}(\\hat y_i - \\hat y_{i-1})]$.

    A different metric from ``directional_accuracy``: it compares consecutive forecasts with each other, so a
    forecast that is yesterday's price shifted by one day can score well without knowing anything.
    """
    truth, forecast = _pair(y_true, y_pred)
    if truth.ndim != 1 or len(truth) < 2:
        raise ValueError(f"needs a 1-D sequence of at least 2 forecasts, got shape {truth.shape}")
    return float(np.mean(np.sign(np.diff(truth)) == np.sign(np.diff(forecast))))


def pinball(y_true, y_quantile, quantile: float) -> float:
    """Pinball (quantile) loss of a forecast of the ``quantile``-th quantile $q$, $0 < \\tau < 1$:
    mean of $\\max(\\tau (y - q), (\\tau - 1)(y - q))$. At $\\tau = 0.5$ it is half the MAE.
    """
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be strictly between 0 and 1, got {quantile!r}")
    truth, forecast = _pair(y_true, y_quantile, "y_quantile")
    error = truth - forecast
    return float(np.mean(np.maximum(quantile * error, (quantile - 1) * error)))


def qlike(realized_variance, forecast_variance) -> float:
    """QLIKE loss of variance forecasts $h_i$ against a realized proxy $\\sigma_i^2$ (Patton 2011):
    mean of $\\sigma_i^2 / h_i - \\log(\\sigma_i^2 / h_i) - 1$; zero for a perfect forecast.

    Robust to noise in the proxy, and punishes under-forecasting volatility more than over-forecasting.
    Variances must be positive.
    """
    truth, forecast = _pair(realized_variance, forecast_variance, "forecast_variance")
    for values, name in ((truth, "realized_variance"), (forecast, "forecast_variance")):
        bad = values <= 0
        if bad.any():
            raise ValueError(f"{name} must be positive: {int(bad.sum())} value(s) <= 0, first at position {_first(bad)}")
    ratio = truth / forecast
    return float(np.mean(ratio - np.log(ratio) - 1))


# ----------------------------------------------------------------------------- prediction intervals
def _bounds(lower, upper) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds as float arrays of one shape; ``ValueError`` where a lower bound exceeds its upper.

    Infinite bounds are allowed (an interval that knows nothing); NaN is not.
    """
    low, high = _as_array(lower, "lower"), _as_array(upper, "upper")
    if low.shape != high.shape:
        raise ValueError(f"lower has shape {low.shape} but upper has shape {high.shape}: one bound of each per point")
    crossed = low > high
    if crossed.any():
        raise ValueError(f"lower > upper at {int(crossed.sum())} position(s), first at {_first(crossed)}: "
                         "an interval's lower bound must not exceed its upper bound")
    return low, high


def _interval(y_true, lower, upper) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The truth and checked bounds (``_bounds``), all of the same shape."""
    truth, (low, high) = _as_array(y_true, "y_true"), _bounds(lower, upper)
    if truth.shape != low.shape:
        raise ValueError(f"y_true has shape {truth.shape} but the bounds have shape {low.shape}: "
                         "one interval per true value is needed")
    return truth, low, high


def coverage(y_true, lower, upper) -> float:
    """Empirical coverage, the share of true values inside their interval,
    $\\frac1n\\sum \\mathbb 1[l_i \\le y_i \\le u_i]$.

    A $1-\\alpha$ interval should cover about $1-\\alpha$ of the points; read it beside ``mean_width``.
    """
    truth, low, high = _interval(y_true, lower, upper)
    return float(np.mean((low <= truth) & (truth <= high)))


def mean_width(lower, upper) -> float:
    """Mean interval width, $\\frac1n\\sum (u_i - l_i)$, in the units of the data (infinite if any bound is)."""
    low, high = _bounds(lower, upper)
    return float(np.mean(high - low))


def interval_score(y_true, lower, upper, alpha: float) -> float:
    """Interval (Winkler) score of central $1-\\alpha$ intervals (Gneiting & Raftery 2007, §6.2), lower is better:

    mean of $(u - l) + \\frac{2}{\\alpha}(l - y)\\,\\mathbb 1[y < l] + \\frac{2}{\\alpha}(y - u)\\,\\mathbb 1[y > u]$.

    The width is paid always, a miss is paid by its distance times $2/\\alpha$, so neither a narrow interval that
    misses nor a wide one that always covers scores well. It equals $\\frac{2}{\\alpha}$ times the sum of the
    pinball losses of $l$ at $\\alpha/2$ and of $u$ at $1-\\alpha/2$.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1 (a 1 - alpha interval), got {alpha!r}")
    truth, low, high = _interval(y_true, lower, upper)
    below = np.where(truth < low, low - truth, 0.0)
    above = np.where(truth > high, truth - high, 0.0)
    return float(np.mean(high - low + 2 / alpha * (below + above)))

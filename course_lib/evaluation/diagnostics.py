"""Diagnosing a forecast that only copies the past: the lag illusion.

A forecast $\\hat y_t$ that is essentially $y_{t-1}$ looks excellent on a price plot and has an $R^2$ near 1,
because prices are persistent. Its give-away is the cross-correlation
$\\rho(k) = \\operatorname{corr}(y_{t-k}, \\hat y_t)$: it peaks at $k = 1$ (the forecast follows the truth one
step late) instead of $k = 0$. On price levels every $\\rho(k)$ is close to 1 and the peak is flat; on changes
($\\Delta y$ against $\\Delta \\hat y$) it is sharp, so pass changes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.validation import as_1d_float, positive_int


def cross_correlations(actual, forecast, max_lag: int) -> pd.Series:
    """$\\rho(k) = \\operatorname{corr}(y_{t-k}, \\hat y_t)$ for $k = -K, \\dots, K$ (Pearson, over the overlapping
    $n - |k|$ pairs), as a Series indexed by $k$. Positive $k$: the forecast lags the truth by $k$ steps."""
    y = as_1d_float(actual, "actual", min_length=3)
    f = as_1d_float(forecast, "forecast", min_length=3)
    if len(y) != len(f):
        raise ValueError(f"actual has {len(y)} values but forecast has {len(f)}: one forecast per actual value")
    max_lag = positive_int(max_lag, "max_lag")
    if max_lag > len(y) - 3:
        raise ValueError(f"max_lag {max_lag} leaves fewer than 3 pairs for a series of {len(y)} values")
    n = len(y)
    values = {k: np.corrcoef(y[max(0, -k):n - max(0, k)], f[max(0, k):n - max(0, -k)])[0, 1]
              for k in range(-max_lag, max_lag + 1)}
    return pd.Series(values, name="cross-correlation").rename_axis("lag")


def lag_of_max_correlation(actual, forecast, max_lag: int = 5) -> int:
    """The $k$ in $-K..K$ with the largest $\\rho(k)$: 0 for a forecast in step with the truth, 1 for one a step late."""
    return int(cross_correlations(actual, forecast, max_lag).idxmax())


def lookahead_origins(forecast_at_origins, series, origins, seed: int = 0) -> list[int]:
    """Causality probe: the origins whose forecast changes when every row after the origin is rewritten.

    ``forecast_at_origins(series)`` must return one forecast per origin of ``origins`` (an array-like of
    len(origins)), made by the whole pipeline under test (windowing, scaling, denoising, model) from the
    given 1-D ``series``. For each origin t the rows after t are replaced by noise of the series' own scale,
    the pipeline is run again, and t is reported if its forecast moved (beyond 1e-9 relative). An honest
    pipeline returns ``[]``.
    """
    values = as_1d_float(series, "series", min_length=2)
    origins = [int(t) for t in origins]
    if any(not 0 <= t < len(values) - 1 for t in origins):
        raise ValueError(f"origins must be positions before the last row (0..{len(values) - 2}), got {origins}")
    reference = np.asarray(forecast_at_origins(values.copy()), dtype=float)
    if reference.shape != (len(origins),):
        raise ValueError(f"forecast_at_origins returned shape {reference.shape}; expected ({len(origins)},)")
    rng = np.random.default_rng(seed)
    leaks = []
    for number, origin in enumerate(origins):
        rewritten = values.copy()
        rewritten[origin + 1:] = rng.normal(values.mean(), values.std() + 1e-12, size=len(values) - origin - 1)
        again = np.asarray(forecast_at_origins(rewritten), dtype=float)[number]
        if not np.isclose(again, reference[number], rtol=1e-9, atol=1e-12):
            leaks.append(origin)
    return leaks


# ----------------------------------------------------------------------------- pipelines to probe
# Small pipelines that are causal or leak in known ways, for trying ``lookahead_origins`` (and exercise 05.5):
# each maps (series (n,), origins) -> one forecast per origin.

def window_mean_forecast(series, origins, window: int = 5, lead: int = 0) -> np.ndarray:
    """Mean of rows t - window + 1 + lead .. t + lead for each origin t: causal for ``lead=0``; ``lead=2`` with
    ``window=5`` is a centred mean, ``lead=3`` with ``window=1`` reads row t + 3 only (both leak)."""
    values = np.asarray(series, dtype=float)
    if window < 1 or lead < 0:
        raise ValueError(f"window must be positive and lead non-negative, got window={window}, lead={lead}")
    return np.array([values[t - window + 1 + lead:t + 1 + lead].mean() for t in origins])


def zscore_forecast(series, origins, fit_rows: int | None = None, expanding: bool = False) -> np.ndarray:
    """The value at each origin t standardized, $(y_t - \\bar y) / s$, with the mean and std of: rows 0..t
    (``expanding=True``, causal); the first ``fit_rows`` rows (leaks at origins t < fit_rows - 1, whose scaler
    saw later rows); or the whole series (``fit_rows=None``: leaks everywhere)."""
    values = np.asarray(series, dtype=float)
    if expanding:
        return np.array([(values[t] - values[:t + 1].mean()) / values[:t + 1].std() for t in origins])
    fitted = values if fit_rows is None else values[:fit_rows]
    return (values[list(origins)] - fitted.mean()) / fitted.std()

"""Descriptive statistics of return series: the stylized facts of chapter 00.

All functions take a 1-D array or Series without NaN and return plain floats or arrays.
"""
from __future__ import annotations

import numpy as np
from scipy import stats as _scipy_stats

from course_lib.validation import as_1d_float


def autocorrelation(x, lags):
    """Sample autocorrelation rho_k = sum_{t=k}^{n-1} (x_t - m)(x_{t-k} - m) / sum_{t=0}^{n-1} (x_t - m)^2.

    ``lags`` is an int (returns a float) or a sequence of ints (returns an array).
    The same (biased, full-sample mean) estimator as ``statsmodels.tsa.stattools.acf``.
    """
    values = as_1d_float(x, "x", min_length=2)
    lag_array = np.atleast_1d(np.asarray(lags))
    if lag_array.dtype.kind not in "iu":
        raise ValueError(f"lags must be integers, got {lags!r}")
    if (lag_array < 0).any() or (lag_array >= len(values)).any():
        raise ValueError(f"every lag must be in [0, {len(values) - 1}] for a series of {len(values)} values, got {lags!r}")
    centred = values - values.mean()
    denominator = centred @ centred
    if denominator == 0:
        raise ValueError("x is constant: its autocorrelation is undefined")
    rho = np.array([centred[k:] @ centred[: len(centred) - k] for k in lag_array]) / denominator
    return float(rho[0]) if np.ndim(lags) == 0 else rho


def excess_kurtosis(x) -> float:
    """Excess kurtosis m4 / m2^2 - 3 with central moments m_k = mean((x - mean)^k); 0 for a normal law.

    Same (biased) estimator as ``scipy.stats.kurtosis(x, fisher=True, bias=True)``.
    """
    values = as_1d_float(x, "x", min_length=2)
    centred = values - values.mean()
    m2 = np.mean(centred**2)
    if m2 == 0:
        raise ValueError("x is constant: its kurtosis is undefined")
    return float(np.mean(centred**4) / m2**2 - 3.0)


def tail_frequency(x, k: float) -> float:
    """Share of observations more than ``k`` standard deviations from the mean: mean(|x - m| > k * s), s with ddof=0."""
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    values = as_1d_float(x, "x", min_length=2)
    s = values.std()
    if s == 0:
        raise ValueError("x is constant: its standard deviation is 0")
    return float(np.mean(np.abs(values - values.mean()) > k * s))


def normal_tail_probability(k: float) -> float:
    """P(|Z| > k) for a standard normal Z, i.e. 2 * (1 - Phi(k)): what tail_frequency would be without fat tails."""
    return float(2.0 * _scipy_stats.norm.sf(k))

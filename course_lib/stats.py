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



def _autocorrelations_by_lag(rho) -> np.ndarray:
    """``rho`` as a float array whose last axis holds lags 1..K; ``ValueError`` on anything else."""
    values = np.asarray(rho)
    if values.dtype.kind not in "biuf":
        raise ValueError(f"rho must be numeric, got dtype {values.dtype}")
    if values.ndim == 0 or values.shape[-1] == 0:
        raise ValueError(f"rho must hold the autocorrelations at lags 1..K along its last axis, got shape {values.shape}")
    values = values.astype(np.float64)
    if not np.isfinite(values).all() or (np.abs(values) > 1).any():
        raise ValueError("rho must hold finite autocorrelations in [-1, 1]")
    return values


def bartlett_band(rho, n: int, z: float = 1.96) -> np.ndarray:
    """Half-width of Bartlett's band for the sample autocorrelations at lags 1..K.

    band_k = z * sqrt((1 + 2 * sum_{j=1}^{k-1} rho_j^2) / n),  k = 1..K  (band_1 = z / sqrt(n)).

    It is z times the approximate standard error of rho_k when the true autocorrelations beyond
    lag k-1 are zero (Bartlett, 1946): a lag counts as significant only if it stands out from what the
    *earlier* lags already imply. With all rho_j = 0 it reduces to the i.i.d. band z / sqrt(n). It is
    the band of ``statsmodels.tsa.stattools.acf(..., alpha, bartlett_confint=True)`` with
    z = norm.ppf(1 - alpha / 2).

    rho: autocorrelations at lags 1..K (lag 0 left out), shape (K,) or (..., K) for several series;
    n: length of the series they were computed on. Returns an array of the same shape as ``rho``.
    """
    values = _autocorrelations_by_lag(rho)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n (the series length) must be an integer >= 2, got {n!r}")
    if not z > 0:
        raise ValueError(f"z must be positive, got {z}")
    earlier = np.cumsum(values**2, axis=-1) - values**2  # sum over j = 1..k-1
    return z * np.sqrt((1.0 + 2.0 * earlier) / n)


def significant_run(rho, band):
    """Number of consecutive lags, from lag 1, with |rho_k| > band_k: the first lag inside the band, minus 1.

    rho: autocorrelations at lags 1..K, shape (K,) or (..., K); band: a positive float (the i.i.d. band
    z / sqrt(n)) or an array that broadcasts to ``rho`` (e.g. ``bartlett_band(rho, n)``). Returns an int for
    a 1-D ``rho`` (K when no lag up to K falls inside the band), else an int array of shape rho.shape[:-1].
    """
    values = _autocorrelations_by_lag(rho)
    try:
        limits = np.broadcast_to(np.asarray(band, dtype=np.float64), values.shape)
    except ValueError:
        raise ValueError(f"band of shape {np.shape(band)} does not fit rho of shape {values.shape}") from None
    if not (limits > 0).all():
        raise ValueError("band must be positive")
    inside = np.abs(values) <= limits
    run = np.where(inside.any(axis=-1), np.argmax(inside, axis=-1), values.shape[-1])
    return int(run) if values.ndim == 1 else run.astype(int)

"""Conformal prediction intervals: calibrated on held-out errors, for any point forecaster.

**Split conformal** (Vovk et al. 2005; Lei et al. 2018). On a calibration set the forecaster never trained on,
compute the conformity scores $s_i = |y_i - \\hat y_i| / \\sigma_i$ ($\\sigma_i = 1$ unless a volatility
scale is given), $i = 1..n$. With $k = \\lceil (n+1)(1-\\alpha) \\rceil$ and $\\hat q$ the $k$-th smallest
score, the interval for a new point is $\\hat y \\pm \\hat q\\,\\sigma$. If the calibration and test points are
exchangeable, it covers with probability at least $1-\\alpha$ (and below $1-\\alpha + 1/(n+1)$ without ties).
It needs $k \\le n$, i.e. $n \\ge (1-\\alpha)/\\alpha$: 9 scores for 90%, 19 for 95%.

**Adaptive conformal inference** (ACI, Gibbs & Candès 2021). Returns are not exchangeable: volatility
clusters. ACI keeps a running level $\\alpha_t$, uses the $1-\\alpha_t$ conformal quantile at step $t$, and after
seeing $y_t$ updates $\\alpha_{t+1} = \\alpha_t + \\gamma(\\alpha - \\mathrm{err}_t)$, $\\mathrm{err}_t = 1$ if
$y_t$ fell outside. A miss widens the next intervals, a hit narrows them a little; over any long stretch the
miss rate approaches $\\alpha$ whatever the data do.

**Volatility scaling**: dividing the scores by a volatility forecast made before the target day (e.g.
``course_lib.volatility.ewma_variance`` shifted one day, square-rooted) makes the interval $\\hat y \\pm \\hat q
\\hat\\sigma_t$ wide in storms and narrow in calm; coverage is then roughly equal across regimes, not only on
average.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from course_lib.ensembles.intervals import check_alpha
from course_lib.validation import as_1d_float, positive_int, require_positive

_DIGITS = 9   # (n+1)(1-alpha) is rounded to this many decimals before the ceiling: 10 * (1 - 0.7) is 3.0000000000000004


def conformity_scores(y_true, y_pred, scale=None) -> np.ndarray:
    """Absolute residuals, optionally scaled: $s_i = |y_i - \\hat y_i| / \\sigma_i$. All (n,) -> (n,).

    ``scale`` ($\\sigma_i > 0$, e.g. a volatility forecast for day $i$) defaults to 1.
    """
    truth, forecast = as_1d_float(y_true, "y_true"), as_1d_float(y_pred, "y_pred")
    sigma = np.ones_like(truth) if scale is None else _positive_scale(scale, "scale")
    _same_length(y_true=truth, y_pred=forecast, scale=sigma)
    return np.abs(truth - forecast) / sigma


def conformal_rank(n: int, alpha: float) -> int:
    """The finite-sample corrected rank $k = \\lceil (n+1)(1-\\alpha) \\rceil$ of the score to use (1-based).

    ``ValueError`` if $k > n$: with so few calibration scores no finite interval has the guarantee.
    """
    n, alpha = positive_int(n, "n"), check_alpha(alpha)
    k = _rank(n, alpha)
    if k > n:
        raise ValueError(f"the calibration set is too small for alpha = {alpha}: with n = {n} scores the rank "
                         f"ceil((n+1)(1-alpha)) = {k} exceeds n; at least {minimum_calibration_size(alpha)} "
                         "scores are needed (or a larger alpha)")
    return k


def minimum_calibration_size(alpha: float) -> int:
    """Smallest $n$ with $\\lceil (n+1)(1-\\alpha) \\rceil \\le n$, i.e. $n = \\lceil (1-\\alpha)/\\alpha \\rceil$."""
    alpha = check_alpha(alpha)
    return max(1, math.ceil(round((1 - alpha) / alpha, _DIGITS)))


def conformal_quantile(scores, alpha: float) -> float:
    """$\\hat q$ = the $k$-th smallest of the $n$ scores, $k = \\lceil (n+1)(1-\\alpha) \\rceil$ (``conformal_rank``).

    Not ``np.quantile(scores, 1 - alpha)``: the $(n+1)$ accounts for the test point itself. It equals
    ``np.quantile(scores, k / n, method="inverted_cdf")``.
    """
    values = np.sort(as_1d_float(scores, "scores"))
    return float(values[conformal_rank(len(values), alpha) - 1])


def split_conformal_interval(y_cal, pred_cal, pred_test, alpha: float = 0.1, scale_cal=None,
                             scale_test=None) -> tuple[np.ndarray, np.ndarray]:
    """Split-conformal interval $\\hat y_t \\pm \\hat q\\,\\sigma_t$ with $\\hat q$ = ``conformal_quantile`` of the
    calibration scores $|y_i - \\hat y_i| / \\sigma_i$.

    y_cal, pred_cal, scale_cal: (n_cal,); pred_test, scale_test: (n_test,) -> (lower, upper), (n_test,).
    Give both scales (volatility-scaled scores) or neither. The calibration rows must come after the
    forecaster's training rows and before the test rows.
    """
    if (scale_cal is None) != (scale_test is None):
        raise ValueError("give both scale_cal and scale_test (volatility-scaled scores) or neither")
    q = conformal_quantile(conformity_scores(y_cal, pred_cal, scale_cal), alpha)
    center = as_1d_float(pred_test, "pred_test")
    sigma = np.ones_like(center) if scale_test is None else _positive_scale(scale_test, "scale_test")
    _same_length(pred_test=center, scale_test=sigma)
    return center - q * sigma, center + q * sigma


# ----------------------------------------------------------------------------- adaptive conformal inference
def aci_update(alpha_t: float, alpha: float, gamma: float, missed: bool) -> float:
    """One ACI step (Gibbs & Candès 2021): $\\alpha_{t+1} = \\alpha_t + \\gamma\\,(\\alpha - \\mathrm{err}_t)$.

    $\\mathrm{err}_t = 1$ if the truth fell outside the interval at $t$, else 0. A miss lowers the level
    ($\\alpha_{t+1} = \\alpha_t - \\gamma(1-\\alpha)$: wider intervals), a hit raises it by $\\gamma\\alpha$.
    Not clipped: $\\alpha_t \\le 0$ means an infinite interval, $\\alpha_t \\ge 1$ an empty one.
    """
    return float(alpha_t + _check_gamma(gamma) * (check_alpha(alpha) - float(bool(missed))))


def adaptive_quantile(sorted_scores: np.ndarray, alpha_t: float) -> float:
    """The $1-\\alpha_t$ conformal quantile for any $\\alpha_t$: the $k$-th smallest score,
    $k = \\lceil (n+1)(1-\\alpha_t) \\rceil$; $+\\infty$ if $k > n$ (e.g. $\\alpha_t \\le 0$), 0 if $k < 1$
    ($\\alpha_t \\ge 1$: the interval shrinks to the point forecast, which misses, as the empty set would)."""
    k = _rank(len(sorted_scores), alpha_t)
    if k > len(sorted_scores):
        return math.inf
    return 0.0 if k < 1 else float(sorted_scores[k - 1])


def adaptive_conformal_intervals(y_cal, pred_cal, y_test, pred_test, alpha: float = 0.1, gamma: float = 0.005,
                                 scale_cal=None, scale_test=None, window: int | None = None) -> pd.DataFrame:
    """ACI over the test points in time order; the truth $y_t$ is used only after the interval at $t$ is set.

    At each test step $t$: $\\hat q_t$ = ``adaptive_quantile`` of the current scores at level $\\alpha_t$
    ($\\alpha_1 = \\alpha$); interval $\\hat y_t \\pm \\hat q_t \\sigma_t$; then $\\mathrm{err}_t$ and
    $\\alpha_{t+1}$ = ``aci_update``. The scores are the calibration scores, fixed (``window=None``, as MAPIE's
    ``TimeSeriesRegressor(method="aci")``) or, with ``window=w``, the latest $w$ scores, each test score joining
    once its truth is known. $\\gamma = 0$ with ``window=None`` is split conformal.

    y_cal, pred_cal, scale_cal (n_cal,); y_test, pred_test, scale_test (n_test,) -> DataFrame with n_test rows
    and columns ``lower``, ``upper``, ``alpha_t`` (level used at $t$), ``missed`` (bool).
    """
    alpha, gamma = check_alpha(alpha), _check_gamma(gamma)
    if (scale_cal is None) != (scale_test is None):
        raise ValueError("give both scale_cal and scale_test (volatility-scaled scores) or neither")
    scores = list(conformity_scores(y_cal, pred_cal, scale_cal))
    if window is not None:
        scores = scores[-positive_int(window, "window"):]
    truth, center = as_1d_float(y_test, "y_test"), as_1d_float(pred_test, "pred_test")
    sigma = np.ones_like(center) if scale_test is None else _positive_scale(scale_test, "scale_test")
    _same_length(y_test=truth, pred_test=center, scale_test=sigma)
    rows, alpha_t = [], alpha
    for y, y_hat, s in zip(truth, center, sigma):
        q = adaptive_quantile(np.sort(scores), alpha_t)
        lower, upper = y_hat - q * s, y_hat + q * s
        missed = not lower <= y <= upper
        rows.append((lower, upper, alpha_t, missed))
        alpha_t = aci_update(alpha_t, alpha, gamma, missed)
        if window is not None:
            scores = (scores + [abs(y - y_hat) / s])[-window:]
    return pd.DataFrame(rows, columns=["lower", "upper", "alpha_t", "missed"])


# ----------------------------------------------------------------------------- checks
def _rank(n: int, alpha: float) -> int:
    return math.ceil(round((n + 1) * (1 - alpha), _DIGITS))


def _check_gamma(gamma: float) -> float:
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float, np.floating)) or not 0 <= gamma < 1:
        raise ValueError(f"gamma (the ACI step size) must be in [0, 1), typically 0.001-0.05, got {gamma!r}")
    return float(gamma)


def _positive_scale(scale, name: str) -> np.ndarray:
    values = as_1d_float(scale, name)
    require_positive(values, name)
    if not np.isfinite(values).all():
        raise ValueError(f"{name} must be finite: first non-finite at position "
                         f"{int(np.flatnonzero(~np.isfinite(values))[0])}")
    return values


def _same_length(**arrays: np.ndarray) -> None:
    lengths = {name: len(values) for name, values in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError("mismatched lengths: " + ", ".join(f"{name} has {n}" for name, n in lengths.items())
                         + " (one value per point is needed)")

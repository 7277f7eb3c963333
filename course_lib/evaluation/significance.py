"""Is one forecast really better than another? The Diebold–Mariano test with the Harvey–Leybourne–Newbold correction.

Given the losses of two forecasts of the same targets, $d_t = L(e_{1,t}) - L(e_{2,t})$, the null hypothesis is
equal expected loss, $E[d_t] = 0$. With $\\bar d$ the mean of $n$ differences and $\\hat\\gamma_k$ their
autocovariances (divided by $n$), the long-run variance of $\\bar d$ for $h$-step forecasts is
$\\hat V = \\frac1n\\left(\\hat\\gamma_0 + 2\\sum_{k=1}^{h-1} \\hat\\gamma_k\\right)$ and

$$DM = \\bar d / \\sqrt{\\hat V}, \\qquad
  HLN = DM \\sqrt{\\frac{n + 1 - 2h + h(h-1)/n}{n}} \\sim t_{n-1}.$$

A negative statistic means the first forecast has the smaller loss. Without the correction the statistic is
compared with the standard normal. Losses must be of forecasts made for the same targets, in time order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from course_lib.validation import as_1d_float, positive_int


@dataclass(frozen=True)
class DieboldMarianoResult:
    statistic: float
    p_value: float  # two-sided
    mean_difference: float  # mean of loss_1 - loss_2: negative when the first forecast is better
    n: int
    horizon: int
    corrected: bool


def long_run_variance_of_mean(differences: np.ndarray, horizon: int) -> float:
    """$\\frac1n(\\hat\\gamma_0 + 2\\sum_{k=1}^{h-1}\\hat\\gamma_k)$, autocovariances with divisor $n$."""
    n = len(differences)
    centred = differences - differences.mean()
    autocovariances = [np.dot(centred[k:], centred[:n - k]) / n for k in range(horizon)]
    return (autocovariances[0] + 2 * sum(autocovariances[1:])) / n


def diebold_mariano(loss_1, loss_2, horizon: int = 1, corrected: bool = True) -> DieboldMarianoResult:
    """Test equal predictive accuracy from two loss series (e.g. squared errors) of forecasts of the same targets."""
    first, second = as_1d_float(loss_1, "loss_1", min_length=2), as_1d_float(loss_2, "loss_2", min_length=2)
    if len(first) != len(second):
        raise ValueError(f"loss_1 has {len(first)} values but loss_2 has {len(second)}: "
                         "the losses must be of forecasts of the same targets")
    horizon = positive_int(horizon, "horizon")
    n = len(first)
    if horizon >= n:
        raise ValueError(f"horizon {horizon} needs more than {horizon} loss differences, got {n}")
    differences = first - second
    variance = long_run_variance_of_mean(differences, horizon)
    if variance <= 0:
        raise ValueError("the loss differences have no (or a negative estimated) long-run variance: "
                         "are the two forecasts identical? (a negative estimate can happen for h > 1 on short series)")
    statistic = differences.mean() / np.sqrt(variance)
    if corrected:
        statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
        p_value = 2 * stats.t.sf(abs(statistic), df=n - 1)
    else:
        p_value = 2 * stats.norm.sf(abs(statistic))
    return DieboldMarianoResult(float(statistic), float(p_value), float(differences.mean()), n, horizon, corrected)

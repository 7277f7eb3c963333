"""Inputs for a neural volatility model: the HAR components in logs, one row per day, known at that day's close.

Variance is right-skewed (a crisis day is 50 times a calm one); its logarithm is close to symmetric and the
scale a network trains well on. Row t holds $\\ln \\bar v^{(k)}_t$ for each k in ``lags``, built from
$v_{t-k+1}..v_t$ only; a window of rows up to t, with the label $\\ln v_{t+1}$ (``course_lib.windows``), never
sees the target day.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.validation import as_1d_float
from course_lib.volatility.models import HAR_LAGS, har_regressors


def log_volatility_features(variance, lags=HAR_LAGS) -> pd.DataFrame:
    """$\\ln \\bar v^{(k)}_t$, $\\bar v^{(k)}_t = \\frac1k\\sum_{j=0}^{k-1} v_{t-j}$, columns ``log_mean_1d, log_mean_5d,
    log_mean_22d`` for the default lags; (n - max(lags) + 1, len(lags)), labelled by t.

    ``variance``: a daily proxy in %² per day; a value <= 0 (a zero squared return, a flat bar) has no log and
    raises ``ValueError`` naming its position.
    """
    values = as_1d_float(variance, "variance")
    bad = values <= 0
    if bad.any():
        raise ValueError(f"variance must be positive to take logs: {int(bad.sum())} value(s) <= 0, first at "
                         f"position {int(np.flatnonzero(bad)[0])} (use a range proxy, or a multi-day sum)")
    return np.log(har_regressors(variance, lags)).add_prefix("log_")

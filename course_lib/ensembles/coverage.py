"""Where do intervals cover? Coverage, width and interval score by group: volatility terciles, a regime mask,
the weeks after a shock.

The metrics themselves live in ``course_lib.evaluation.metrics`` (``coverage``, ``mean_width``,
``interval_score``); this module only splits the points into groups and applies them to each. An interval
method can cover 90% on average and still cover 99% in calm weeks and 70% in storms: the overall number hides
exactly the days on which an interval matters.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.evaluation.metrics import coverage, interval_score, mean_width
from course_lib.validation import as_1d_float, positive_int

TERCILES = ("calm", "middle", "stormy")


def volatility_terciles(volatility) -> np.ndarray:
    """Label each point "calm", "middle" or "stormy" by the tercile of ``volatility`` (n,) it falls in.

    The cut points are the 1/3 and 2/3 sample quantiles of the values given (``pd.qcut``), so each group holds
    about n/3 points. Use a volatility known before each target day (e.g. a lagged rolling or EWMA estimate) or
    a realized one (to ask "how did it do on the days that turned out stormy"): say which.
    """
    values = as_1d_float(volatility, "volatility", min_length=3)
    return np.asarray(pd.qcut(values, 3, labels=list(TERCILES)).astype(str))


def after_shocks(dates, shock_dates, weeks: int = 8) -> np.ndarray:
    """Boolean mask (n,): True on the dates $d$ with $s \\le d < s + 7\\,\\text{weeks}$ days for some shock date $s$.

    ``dates``: the forecast target dates (DatetimeIndex or array of dates); ``shock_dates``: e.g.
    ``["2008-09-15", "2015-08-24"]``.
    """
    weeks = positive_int(weeks, "weeks")
    index, shocks = pd.DatetimeIndex(dates), pd.DatetimeIndex(pd.to_datetime(list(shock_dates)))
    if len(shocks) == 0:
        raise ValueError("shock_dates is empty: give at least one date")
    mask = np.zeros(len(index), dtype=bool)
    for shock in shocks:
        mask |= (index >= shock) & (index < shock + pd.Timedelta(weeks=weeks))
    return mask


def coverage_by_group(y_true, lower, upper, groups, alpha: float | None = None) -> pd.DataFrame:
    """One row per group (in order of first appearance) and one for "all": ``n``, ``coverage``, ``mean_width``,
    and with ``alpha`` the ``interval_score``.

    y_true, lower, upper, groups: (n,) each; ``groups`` holds any labels (e.g. ``volatility_terciles``, or a
    boolean mask such as ``after_shocks``).
    """
    truth, low, high = (as_1d_float(v, name) for v, name in ((y_true, "y_true"), (lower, "lower"),
                                                             (upper, "upper")))
    labels = np.asarray(groups)
    if labels.ndim != 1 or len(labels) != len(truth) or len(low) != len(truth) or len(high) != len(truth):
        raise ValueError(f"y_true, lower, upper and groups need one value per point: lengths {len(truth)}, "
                         f"{len(low)}, {len(high)}, {len(labels)}")
    rows = {}
    for label in [*pd.unique(labels), "all"]:
        part = np.ones(len(truth), bool) if label == "all" else labels == label
        row = {"n": int(part.sum()), "coverage": coverage(truth[part], low[part], high[part]),
               "mean_width": mean_width(low[part], high[part])}
        if alpha is not None:
            row["interval_score"] = interval_score(truth[part], low[part], high[part], alpha)
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def coverage_table(y_true, intervals: dict, groups) -> pd.DataFrame:
    """Coverage of several interval methods side by side: rows = methods, columns = groups then "all".

    ``intervals``: {method name: (lower, upper)}. Read it against the nominal level $1-\\alpha$.
    """
    if not intervals:
        raise ValueError("intervals is empty: give {name: (lower, upper)} for at least one method")
    return pd.DataFrame({name: coverage_by_group(y_true, low, high, groups)["coverage"]
                         for name, (low, high) in intervals.items()}).T

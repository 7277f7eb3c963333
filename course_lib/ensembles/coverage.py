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


def tercile_cut_points(reference) -> np.ndarray:
    """The two cut points $(c_1, c_2)$ = the 1/3 and 2/3 sample quantiles of ``reference`` (n,), n >= 3
    (``np.quantile``, linear interpolation, as ``pd.qcut``): (2,).

    Fix them on data that comes **before** the test period (e.g. the volatility forecasts of the calibration
    days); cut points computed on the test period itself use the whole test period to label each of its days.
    """
    values = as_1d_float(reference, "reference", min_length=3)
    cuts = np.quantile(values, [1 / 3, 2 / 3])
    if not cuts[0] < cuts[1]:
        raise ValueError(f"reference has equal 1/3 and 2/3 quantiles ({cuts[0]:g}): no middle tercile to cut; "
                         "give a reference with more distinct values")
    return cuts


def volatility_terciles(volatility, reference=None) -> np.ndarray:
    """Label each point "calm", "middle" or "stormy": $v \\le c_1$, $c_1 < v \\le c_2$, $v > c_2$, with the cut
    points $(c_1, c_2)$ = ``tercile_cut_points(reference)``. volatility (n,) -> labels (n,).

    ``reference=None`` takes the cut points from ``volatility`` itself (``pd.qcut``: each group about n/3
    points). On a test period that is an after-the-fact grouping; for a claim a forecaster could use, give the
    values of an earlier period (e.g. the calibration days) as ``reference``: the groups are then uneven
    whenever the test period is calmer or stormier than that period. Use a volatility known before each
    target day (e.g. a lagged rolling or EWMA estimate) or a realized one (to ask "how did it do on the days
    that turned out stormy"): say which.
    """
    values = as_1d_float(volatility, "volatility", min_length=1 if reference is not None else 3)
    low, high = tercile_cut_points(values if reference is None else reference)
    return np.where(values <= low, TERCILES[0], np.where(values <= high, TERCILES[1], TERCILES[2]))


def after_shocks(dates, shock_dates, weeks: int = 8) -> np.ndarray:
    """Boolean mask (n,): True on the dates $d$ with $s \\le d < s + 7w$ days ($w$ = ``weeks``) for some shock date $s$.

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

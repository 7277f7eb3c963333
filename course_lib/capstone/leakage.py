"""Checklist items "no lookahead" and "fitted on training rows only", as checks on plain data.

Both ask one question of a learner's function: rewrite every row after a position (``inputs.rewrite_after``)
and call it again; does anything dated up to that position change? A value at origin $t$ may depend on
rows $\\le t$ (and, for a forecast, on the training rows that fitted the model); nothing else.

How the change looks says what went wrong:

* only the last days before the rewrite changed: those values read rows after their date (``shift(-1)``,
  a centred rolling window, a backward fill, a window or target shifted by one);
* the earliest days changed too: something fitted on every row, later ones included (a scaler, a feature
  selection or the model itself fitted before the split).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.capstone.plain_frames import NotTheExpectedKind, frame_from_plain, raised

RTOL, ATOL = 1e-7, 1e-10
MIN_COMPARED = 20            # test origins before the rewrite that the forecasts check needs


def result_frame(outcome: dict, what: str) -> pd.DataFrame:
    problem = raised(outcome)
    if problem:
        raise NotTheExpectedKind(f"{what} {problem}")
    frame = frame_from_plain(outcome["value"], f"{what}'s result")
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise NotTheExpectedKind(f"{what}'s result should be indexed by date (a DatetimeIndex), got labels such "
                                 f"as {list(frame.index[:2])}")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise NotTheExpectedKind(f"{what}'s result should have one row per date, in time order")
    return frame


def changed_dates(before: pd.DataFrame, after: pd.DataFrame, up_to: pd.Timestamp) -> tuple[pd.DatetimeIndex, str]:
    """Dates <= ``up_to`` whose row differs between the two frames (a date missing from one counts), and the
    first column that differs ('' when rows are missing)."""
    old, new = before.loc[:up_to], after.loc[:up_to]
    if not old.index.equals(new.index):
        return old.index.symmetric_difference(new.index), ""
    if list(old.columns) != list(new.columns):
        return old.index, ""
    same = np.isclose(new.to_numpy(), old.to_numpy(), rtol=RTOL, atol=ATOL, equal_nan=True)
    rows = ~same.all(axis=1)
    column = old.columns[np.argmax(~same.all(axis=0))] if rows.any() else ""
    return old.index[rows], column


def _span(dates: pd.DatetimeIndex) -> str:
    first, last = dates[0].date(), dates[-1].date()
    return f"{len(dates)} day{'s' * (len(dates) != 1)} ({first}" + (f" to {last})" if first != last else ")")


def check_features_causal(outcomes: list[dict], rewrite_dates: list[str]) -> tuple[bool, str]:
    """``outcomes``: capstone_features on the data, then on copies rewritten after each of ``rewrite_dates``.

    Passes when the feature rows dated up to each rewrite date are unchanged.
    """
    try:
        original = result_frame(outcomes[0], "capstone_features")
        if original.shape[1] < 2:
            return False, ("capstone_features returns one column: the capstone forecasts from several inputs "
                           "(S&P 500 and NASDAQ returns, volume, indicators)")
        if np.isnan(original.to_numpy()).any():
            return False, "capstone_features returns NaN: drop the indicators' warm-up rows (dropna) before returning"
        for outcome, date in zip(outcomes[1:], rewrite_dates):
            date = pd.Timestamp(date)
            changed, column = changed_dates(original, result_frame(outcome, "capstone_features"), date)
            if len(changed) == 0:
                continue
            earliest = changed[0] == original.index[0]
            why = ("every row changed, the earliest too: a statistic of the whole column (a mean, standard "
                   "deviation, min or max over all rows) — scale inside capstone_forecast, with training rows only; "
                   "or a backward fill (bfill) of the first rows' NaN — drop them instead"
                   if earliest else
                   "those rows read later rows: look for shift(-k), rolling(..., center=True), bfill or a "
                   "future value in that column")
            where = f" (first in column {column!r})" if column else ""
            return False, (f"rows after {date.date()} were rewritten and the features of {_span(changed)} up to it "
                           f"changed{where}: {why}")
    except NotTheExpectedKind as err:
        return False, str(err)
    return True, (f"{original.shape[1]} features on {len(original)} days; none changed when later rows were "
                  "rewritten")


def check_forecasts_causal(outcomes: list[dict], rewrite_date: str) -> tuple[bool, str]:
    """``outcomes``: capstone_forecast on the data twice, then on one or more copies rewritten after ``rewrite_date``
    (prices scaled; bars reversed and scaled down, see ``inputs.rewrite_after``).

    Passes when the forecasts (and interval bounds) at the test origins dated up to ``rewrite_date`` are the
    same in every rewritten run; the repeated run tells a change from run-to-run noise.
    """
    date = pd.Timestamp(rewrite_date)
    try:
        first, again = (result_frame(outcome, "capstone_forecast") for outcome in outcomes[:2])
        if "forecast" not in first.columns:
            return False, f"capstone_forecast's frame needs a column 'forecast', got {list(first.columns)}"
        noise, _ = changed_dates(first, again, first.index[-1])
        if len(noise):
            return False, ("two runs with the same data and seed gave different forecasts, so a leak cannot be told "
                           "from noise: make capstone_forecast reproducible first (seed every generator from its seed "
                           "argument, inside it)")
        compared = first.loc[:date].index
        if len(compared) < MIN_COMPARED:
            return False, (f"only {len(compared)} test origins up to {date.date()}: the check rewrites the rows "
                           f"after it, so the test part must start at least {MIN_COMPARED} origins earlier "
                           "(keep about the last 20 % of the origins for testing)")
        changed, column = [], ""
        for outcome in outcomes[2:]:
            changed, column = changed_dates(first, result_frame(outcome, "capstone_forecast"), date)
            if len(changed):
                break
    except NotTheExpectedKind as err:
        return False, str(err)
    if len(changed) == 0:
        return True, (f"the {len(compared)} test forecasts up to {date.date()} did not change when the later rows "
                      "were rewritten")
    if changed[0] == compared[0]:
        why = ("even the earliest test forecast moved, so something was fitted on rows after it: fit the scaler, "
               "any feature selection and the model on the training rows only (after the split, not before)")
    else:
        why = ("only the last forecasts before the rewrite moved: they read rows after their origin — check "
               "that the window ends at the origin and the target starts after it")
    where = f" (first in column {column!r})" if column else ""
    return False, f"rows after {date.date()} were rewritten and the forecasts of {_span(changed)} changed{where}: {why}"

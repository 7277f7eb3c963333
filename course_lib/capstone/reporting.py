"""The capstone's evaluation report, and the two checklist items read from it: baselines and intervals.

:func:`evaluation_report` puts the model's test forecasts beside the naive and drift forecasts of the same
days and scores all of them with chapter 06's tools:

* MASE, $\\mathrm{MAE} / \\frac{1}{T-1}\\sum_{t=2}^{T}|y_t - y_{t-1}|$ with the scale from the training closes;
* the Diebold-Mariano test (HLN-corrected, ``horizon`` lags) of the model's absolute errors against the
  naive forecast's: a negative statistic means the model's errors are smaller;
* the interval's coverage, the share of test days with lower <= actual <= upper, beside its nominal level.

The checks recompute every number from the arrays in the report, so a report cannot claim what its own
forecasts do not show; given the closes of the check data, they also tie those arrays to the data: ``actual`` is
the close $h$ days after consecutive origins that run to the last origin with a known target (the test part),
the baselines are $C_t$ and the drift forecast at those origins, ``y_train`` is a run of closes before them, and
the report's horizon is the forecasts' (a self-consistent report on other days or other origins does not pass).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.capstone.plain_frames import NotTheExpectedKind, array_from_plain, mapping_from_plain, raised
from course_lib.evaluation.baselines import drift_forecast
from course_lib.evaluation.metrics import coverage, mase, mean_width
from course_lib.evaluation.significance import diebold_mariano
from course_lib.validation import as_1d_float

REQUIRED_BASELINES = ("naive", "drift")
RTOL = 1e-6


def evaluation_report(actual, forecast, baselines: dict, y_train, horizon: int, lower, upper,
                      level: float) -> dict:
    """The report the capstone hands in (every array (n_test,), in time order of the test origins).

    ``baselines``: name -> forecasts of the same targets; must hold "naive" and "drift".
    ``y_train``: the training part's closes (MASE's scale). ``level``: the interval's nominal coverage.
    """
    actual, forecast = as_1d_float(actual, "actual", 2), as_1d_float(forecast, "forecast", 2)
    missing = [name for name in REQUIRED_BASELINES if name not in baselines]
    if missing:
        raise ValueError(f"baselines must include {missing}: every model is read beside them")
    arrays = {name: as_1d_float(values, f"baselines[{name!r}]") for name, values in baselines.items()}
    lower, upper = as_1d_float(lower, "lower"), as_1d_float(upper, "upper")
    for name, values in {"forecast": forecast, **arrays, "lower": lower, "upper": upper}.items():
        if len(values) != len(actual):
            raise ValueError(f"{name} has {len(values)} values but actual has {len(actual)}")
    scores = {"model": mase(actual, forecast, y_train)} | {n: mase(actual, v, y_train) for n, v in arrays.items()}
    test = diebold_mariano(np.abs(actual - forecast), np.abs(actual - arrays["naive"]), horizon=horizon)
    return {"horizon": int(horizon), "actual": actual, "forecast": forecast, "baselines": arrays,
            "y_train": as_1d_float(y_train, "y_train", 2), "mase": scores,
            "dm": {"against": "naive", "statistic": test.statistic, "p_value": test.p_value},
            "lower": lower, "upper": upper, "level": float(level), "coverage": coverage(actual, lower, upper),
            "width": mean_width(lower, upper)}


def _number(items: dict, key: str, where: str) -> float:
    value = items.get(key)
    if type(value) not in (int, float):
        raise NotTheExpectedKind(f"{where}[{key!r}] should be a number, got {value!r}"[:200])
    return float(value)


DATA_RTOL = 1e-6


def _locate(values: np.ndarray, close: np.ndarray, offset: int = 0) -> int | None:
    """The first ``s`` with ``values == close[s + offset : s + offset + len(values)]`` (relative 1e-6), or None."""
    n = len(values)
    if n == 0:
        return None
    for start in np.flatnonzero(np.isclose(close, values[0], rtol=DATA_RTOL, atol=0)):
        if start + n <= len(close) and np.allclose(close[start:start + n], values, rtol=DATA_RTOL, atol=0):
            return int(start) - offset
    return None


def _last_origin_problem(close: pd.Series, last: int, horizon: int, what: str) -> str | None:
    final = len(close) - 1 - horizon           # the last origin whose target is known
    if last < final - horizon:
        return (f"{what} end at the origin {close.index[last].date()}, but the data have targets up to the origin "
                f"{close.index[final].date()}: score the test part, the last block of origins (not the validation "
                "or calibration days)")
    return None


def report_days_problem(items: dict, arrays: dict, close: pd.Series, horizon: int) -> str | None:
    """Whether the report's arrays are the check data's test days: None, or the problem in words."""
    got = int(_number(items, "horizon", "report"))
    if got != horizon:
        return (f"report['horizon'] = {got} but the forecasts are {horizon} days ahead: pass the forecasts' horizon "
                "to evaluation_report (the DM test's long-run variance uses that many lags)")
    values = close.to_numpy(dtype=float)
    actual, naive, drift = arrays["actual"], arrays["naive"], arrays["drift"]
    start = _locate(naive, values)
    if start is None:
        return ("report['baselines']['naive'] is not the close of consecutive days of the data: the naive forecast "
                "of C_{t+h} is C_t, the close of each test origin, in time order")
    origins = np.arange(start, start + len(naive))
    if origins[-1] + horizon >= len(values) or not np.allclose(values[origins + horizon], actual, rtol=DATA_RTOL,
                                                                atol=0):
        return (f"report['actual'] is not the close {horizon} days after each origin of the naive forecast: actual "
                f"is C_(t+{horizon}) and naive C_t of the same origins t (an origin shifted by a day scores another "
                "forecast)")
    problem = _last_origin_problem(close, int(origins[-1]), horizon, "the report's origins")
    if problem:
        return problem
    if origins[0] < 1 or not np.allclose(
            [drift_forecast(values[:t + 1], horizon)[-1] for t in origins], drift, rtol=DATA_RTOL, atol=0):
        return ("report['baselines']['drift'] is not the drift forecast C_t + h (C_t - C_1) / (t - 1) from the closes "
                "up to each origin (course_lib.capstone.baseline_forecasts(data, origins, horizon))")
    y_train = arrays["y_train"]
    first = _locate(y_train, values)
    if first is None:
        return ("report['y_train'] is not a run of consecutive closes of the data: MASE's scale is the mean "
                "absolute daily change of the training part's closes")
    if first + len(y_train) - 1 >= origins[0]:
        return (f"report['y_train'] runs to {close.index[first + len(y_train) - 1].date()}, into the test days (from "
                f"{close.index[origins[0]].date()}): MASE's scale comes from the training closes only")
    return None


def _close(got: float, want: float) -> bool:
    return abs(got - want) <= 1e-9 + RTOL * abs(want)


def report_items(outcome: dict) -> dict:
    problem = raised(outcome)
    if problem:
        raise NotTheExpectedKind(f"capstone_report {problem}")
    items = mapping_from_plain(outcome["value"], "capstone_report(...)")
    missing = [k for k in ("actual", "forecast", "baselines", "y_train", "horizon", "mase", "dm") if k not in items]
    if missing:
        raise NotTheExpectedKind(f"the report has no {', '.join(map(repr, missing))} (build it with "
                                 "course_lib.capstone.evaluation_report)")
    return items


def baselines_problem(outcome: dict, close: pd.Series | None = None, expected_horizon: int | None = None
                      ) -> tuple[str | None, str]:
    """(the problem, or None; a one-line summary) of the baselines and the model's comparison with them.

    With ``close`` (the check data's closes, by date) and ``expected_horizon``, the arrays must also be the data's
    test days (:func:`report_days_problem`)."""
    items = report_items(outcome)
    actual = array_from_plain(items["actual"], "report['actual']")
    forecast = array_from_plain(items["forecast"], "report['forecast']")
    y_train = array_from_plain(items["y_train"], "report['y_train']")
    horizon = int(_number(items, "horizon", "report"))
    baselines = mapping_from_plain(items["baselines"], "report['baselines']")
    missing = [name for name in REQUIRED_BASELINES if name not in baselines]
    if missing:
        return (f"no {' and no '.join(missing)} baseline in the report: a model's score means nothing until "
                "the naive forecast (C_t) and the drift forecast made on the same test days are scored beside it"), ""
    arrays = {name: array_from_plain(values, f"report['baselines'][{name!r}]") for name, values in baselines.items()}
    for name, values in {"forecast": forecast, **arrays}.items():
        if values.shape != actual.shape:
            return f"{name} has {values.size} values but actual has {actual.size}: score the same test days", ""
    if close is not None:
        problem = report_days_problem(items, {"actual": actual, "y_train": y_train, **arrays}, close,
                                      expected_horizon)
        if problem:
            return problem, ""
    scores = mapping_from_plain(items["mase"], "report['mase']")
    for name, values in {"model": forecast, **arrays}.items():
        if name not in scores:
            return f"report['mase'] has no {name!r}: give the MASE of the model and of every baseline", ""
        want = mase(actual, values, y_train)
        if not _close(_number(scores, name, "report['mase']"), want):
            return (f"report['mase'][{name!r}] = {scores[name]:.4g} but the report's own arrays give {want:.4g}: "
                    "use course_lib.evaluation.mase(actual, forecast, y_train) with the training closes"), ""
    dm = mapping_from_plain(items["dm"], "report['dm']")
    want = diebold_mariano(np.abs(actual - forecast), np.abs(actual - arrays["naive"]), horizon=horizon)
    for key, value in (("statistic", want.statistic), ("p_value", want.p_value)):
        if not _close(_number(dm, key, "report['dm']"), value):
            return (f"report['dm'][{key!r}] = {dm[key]:.4g} but the test of the model's absolute errors against "
                    f"the naive forecast's gives {value:.4g}: use course_lib.evaluation.significance."
                    f"diebold_mariano(|e_model|, |e_naive|, horizon={horizon})"), ""
    summary = (f"MASE model {scores['model']:.3f}, naive {scores['naive']:.3f}, drift {scores['drift']:.3f}; "
               f"DM against naive {want.statistic:+.2f} (p = {want.p_value:.2f})")
    return None, summary


def intervals_problem(outcome: dict, close: pd.Series | None = None, horizon: int | None = None
                      ) -> tuple[str | None, str]:
    """(the problem, or None; a one-line summary) of the report's interval and its measured coverage.

    With ``close`` and ``horizon``, ``actual`` must be the close ``horizon`` days after a run of origins that ends
    at the data's last origins (coverage measured on the test days, not on the calibration days)."""
    items = report_items(outcome)
    missing = [k for k in ("lower", "upper", "level", "coverage") if k not in items]
    if missing:
        return (f"the report has no {', '.join(map(repr, missing))}: give an interval for every test forecast, "
                "its nominal level and the coverage measured on the test days"), ""
    actual = array_from_plain(items["actual"], "report['actual']")
    lower = array_from_plain(items["lower"], "report['lower']")
    upper = array_from_plain(items["upper"], "report['upper']")
    if lower.shape != actual.shape or upper.shape != actual.shape:
        return f"lower and upper need one value per test day ({actual.size}), got {lower.size} and {upper.size}", ""
    if close is not None:
        start = _locate(actual, close.to_numpy(dtype=float), offset=horizon)
        if start is None or start < 0:
            return (f"report['actual'] is not the close {horizon} days after consecutive origins of the data: "
                    "measure coverage on the test days' actual closes"), ""
        problem = _last_origin_problem(close, start + actual.size - 1, horizon, "the intervals' days")
        if problem:
            return problem, ""
    if np.isnan(lower).any() or np.isnan(upper).any() or (lower > upper).any():
        return "every interval needs lower <= upper, without NaN", ""
    if not (upper > lower).any():
        return "every interval has zero width: an interval must say how far the truth may be from the forecast", ""
    level = _number(items, "level", "report")
    if not 0 < level < 1:
        return f"report['level'] should be the nominal coverage, a share between 0 and 1, got {level}", ""
    measured = coverage(actual, lower, upper)
    if not _close(_number(items, "coverage", "report"), measured):
        return (f"report['coverage'] = {items['coverage']:.4g} but {measured:.4g} of the test days fall inside "
                "the report's intervals: measure it with course_lib.evaluation.coverage(actual, lower, upper)"), ""
    return None, f"coverage {measured:.3f} of nominal {level:.2f} on {actual.size} test days"


def _verdict(problem_of, outcomes: list[dict], seeds, close=None, horizon=None) -> tuple[bool, str]:
    summaries = []
    for outcome, seed in zip(outcomes, seeds):
        try:
            problem, summary = problem_of(outcome, close, horizon)
        except NotTheExpectedKind as err:
            return False, f"seed {seed}: {err}"
        if problem:
            return False, f"seed {seed}: {problem}"
        summaries.append(summary)
    return True, f"seed {seeds[0]}: {summaries[0]}" + (f" (and {len(summaries) - 1} more seeds)" * (len(summaries) > 1))


def check_baselines(outcomes: list[dict], seeds=(0,), close: pd.Series | None = None,
                    horizon: int | None = None) -> tuple[bool, str]:
    """Checklist: baselines reported, the model compared with them by MASE and a DM test.

    ``outcomes``: capstone_report's, one per seed of ``seeds``; every report must pass. ``close`` (the data's
    closes the reports were made on) and ``horizon`` tie the report's arrays to the test days of that data."""
    return _verdict(baselines_problem, outcomes, seeds, close, horizon)


def check_intervals(outcomes: list[dict], seeds=(0,), close: pd.Series | None = None,
                    horizon: int | None = None) -> tuple[bool, str]:
    """Checklist: an interval for every forecast and its coverage measured on the test days (one report per seed)."""
    return _verdict(intervals_problem, outcomes, seeds, close, horizon)

"""The capstone's evaluation report, and the two checklist items read from it: baselines and intervals.

:func:`evaluation_report` puts the model's test forecasts beside the naive and drift forecasts of the same
days and scores all of them with chapter 06's tools:

* MASE, $\\mathrm{MAE} / \\frac{1}{T-1}\\sum_{t=2}^{T}|y_t - y_{t-1}|$ with the scale from the training closes;
* the Diebold-Mariano test (HLN-corrected, ``horizon`` lags) of the model's absolute errors against the
  naive forecast's: a negative statistic means the model's errors are smaller;
* the interval's coverage, the share of test days with lower <= actual <= upper, beside its nominal level.

The checks recompute every number from the arrays in the report, so a report cannot claim what its own
forecasts do not show.
"""
from __future__ import annotations

import numpy as np

from course_lib.capstone.plain_frames import NotTheExpectedKind, array_from_plain, mapping_from_plain, raised
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


def baselines_problem(outcome: dict) -> tuple[str | None, str]:
    """(the problem, or None; a one-line summary) of the baselines and the model's comparison with them."""
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


def intervals_problem(outcome: dict) -> tuple[str | None, str]:
    """(the problem, or None; a one-line summary) of the report's interval and its measured coverage."""
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


def _verdict(problem_of, outcomes: list[dict], seeds) -> tuple[bool, str]:
    summaries = []
    for outcome, seed in zip(outcomes, seeds):
        try:
            problem, summary = problem_of(outcome)
        except NotTheExpectedKind as err:
            return False, f"seed {seed}: {err}"
        if problem:
            return False, f"seed {seed}: {problem}"
        summaries.append(summary)
    return True, f"seed {seeds[0]}: {summaries[0]}" + (f" (and {len(summaries) - 1} more seeds)" * (len(summaries) > 1))


def check_baselines(outcomes: list[dict], seeds=(0,)) -> tuple[bool, str]:
    """Checklist: baselines reported, the model compared with them by MASE and a DM test.

    ``outcomes``: capstone_report's, one per seed of ``seeds``; every report must pass."""
    return _verdict(baselines_problem, outcomes, seeds)


def check_intervals(outcomes: list[dict], seeds=(0,)) -> tuple[bool, str]:
    """Checklist: an interval for every forecast and its coverage measured on the test days (one report per seed)."""
    return _verdict(intervals_problem, outcomes, seeds)

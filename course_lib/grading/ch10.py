"""Chapter 10, the capstone: the checklist of guide §7.5.1-7.5.2 that code can verify, one exercise per item.

The learner's notebook defines four functions (see ``course_lib.capstone``); each item calls one of them on
the capstone's data (and on copies with later rows rewritten) and judges all the outcomes together
(``Exercise.judge``) instead of comparing them with the worked example's: a submission may build any
features, split shares or model, as long as it keeps the rules. Items that need judgement are in ``RUBRIC``,
for the instructor.
"""
from __future__ import annotations

from functools import cache, partial

from course_lib.capstone import example, inputs
from course_lib.capstone.leakage import check_features_causal, check_forecasts_causal
from course_lib.capstone.plain_frames import NotTheExpectedKind
from course_lib.capstone.reporting import check_baselines, check_intervals, report_items
from course_lib.capstone.reproducibility import check_reproducible
from course_lib.capstone.splitting import check_split
from course_lib.grading.registry import Case, Exercise

HORIZON = 5
TIME_BUDGET_S = 20.0             # capstone_report on the check data, three seeds (the worked example: about 1 s)
CALL_BUDGET_S = TIME_BUDGET_S / 3   # one call of capstone_forecast or capstone_report: every item's calls get as
                                    # much, so a forecaster within the budget is never stopped by another item
FEATURE_REWRITES = (800, 1500)       # rows after these positions are rewritten for 10.1 (prices x 1.25),
REVERSED_REWRITES = (800, 1500)      # then with their bars reversed and scaled down,
WARM_UP_REWRITE = 40                 # then inside most indicators' warm-up (what a bfill of it reads)
LAST_ROWS = 60                   # 10.3 rewrites the last 60 rows (within the test part), both ways
SCALED = {"factor": 1.25, "volume_factor": 3.0}
REVERSED = {"factor": 0.8, "volume_factor": 0.5, "reverse": True}    # moves within-row ratios and the sign of a jump
SPLIT_INPUTS = ((1700, 5), (500, 10), (300, 1), (1000, 21))
SEEDS = (1, 1, 2)
REPORT_SEEDS = (0, 1, 2)
REPEAT_GLOBAL_SEED = 12345   # 10.6 repeats a call with the global generators in another state: the seed argument
                             # alone must make the result (randomness drawn from np.random, say, shows up)
FORECAST_WITH = "course_lib.capstone.example:forecast_with"     # the worked example with parts replaceable: it
REPORT_WITH = "course_lib.capstone.example:report_with"         # answers 10.3-10.7 too, so it is stubbed while grading

RUBRIC = [
    "Report: the question, the data (span, inputs and why each), the target and horizon, and the split are stated.",
    "Stationarity strategy: says what is modelled (returns or prices) and why, with the test or plot behind it.",
    "Architecture and training: window, layers, regularisation, loss and early stopping named and justified; "
    "the choices tuned on validation rows only.",
    "Honest result: the model's MASE read beside the naive and drift forecasts', with the DM test's p-value, "
    "over several seeds (median and range); if the model does not beat the naive forecast, the report says so.",
    "Intervals: nominal level against measured coverage, and what a reader should do with the width.",
    "Risks of guide §7.5.2 discussed: overfitting, drift after the test period, leakage, latency.",
    "Interpretation: what the forecast could and could not be used for; the next experiment that could change "
    "the conclusion.",
]


@cache
def _data():
    return inputs.load_inputs(*inputs.CHECK_SPAN)


def _date(position: int) -> str:
    return str(_data().index[position].date())


def _rewrite_position() -> int:
    return len(_data()) - LAST_ROWS - 1


# ----------------------------------------------------------------------------- cases
def _features_cases():
    data = _data()
    return [Case("the capstone's data, S&P 500 and NASDAQ 2012-2018", (data,))] + [
        Case(f"rows after {_date(p)} rewritten (prices x 1.25, volumes x 3)",
             (inputs.rewrite_after(data, p, **SCALED),)) for p in FEATURE_REWRITES] + [
        Case(f"rows after {_date(p)} rewritten (bars in reverse order, prices x 0.8, volumes x 0.5)",
             (inputs.rewrite_after(data, p, **REVERSED),)) for p in REVERSED_REWRITES] + [
        Case(f"rows after {_date(WARM_UP_REWRITE)} rewritten (prices x 1.25, volumes x 3)",
             (inputs.rewrite_after(data, WARM_UP_REWRITE, **SCALED),))]


def _split_cases():
    return [Case(f"{n} origins, horizon {h}", (n, h)) for n, h in SPLIT_INPUTS]


def _forecast_cases():
    data, position = _data(), _rewrite_position()
    return [Case("the capstone's data, seed 0", (data, HORIZON, 0)),
            Case("the same call again", (data, HORIZON, 0)),
            Case(f"the last {LAST_ROWS} rows (after {_date(position)}) rewritten, seed 0",
                 (inputs.rewrite_after(data, position, **SCALED), HORIZON, 0)),
            Case(f"the last {LAST_ROWS} rows (after {_date(position)}) in reverse order and scaled down, seed 0",
                 (inputs.rewrite_after(data, position, **REVERSED), HORIZON, 0))]


def _report_cases():
    return [Case(f"the capstone's data, seed {seed}", (_data(), HORIZON, seed)) for seed in REPORT_SEEDS]


def _seed_cases():
    """Seeds 1, 1 again (the global generators in another state), 2."""
    return [Case(f"the capstone's data, seed {seed}" + (" again" if i == 1 else ""), (_data(), HORIZON, seed),
                 global_seed=REPEAT_GLOBAL_SEED if i == 1 else 0)
            for i, seed in enumerate(SEEDS)]


# ----------------------------------------------------------------------------- judges
def judge_features(outcomes):
    return check_features_causal(outcomes, [_date(p) for p in (*FEATURE_REWRITES, *REVERSED_REWRITES, WARM_UP_REWRITE)])


def judge_split(outcomes):
    return check_split(outcomes, list(SPLIT_INPUTS))


def judge_forecasts(outcomes):
    return check_forecasts_causal(outcomes, _date(_rewrite_position()))


def judge_baselines(outcomes):
    return check_baselines(outcomes, REPORT_SEEDS, close=_data()["Close"], horizon=HORIZON)


def judge_intervals(outcomes):
    return check_intervals(outcomes, REPORT_SEEDS, close=_data()["Close"], horizon=HORIZON)


def judge_budget(outcomes):
    """Time is measured by check() and the grader (``time_limit_s``); a fast run must still hand in its report."""
    for outcome, seed in zip(outcomes, REPORT_SEEDS):
        try:
            report_items(outcome)
        except NotTheExpectedKind as err:
            return False, f"seed {seed}: {err}"
    return True, f"{len(outcomes)} runs of capstone_report within the {TIME_BUDGET_S:.0f} s budget"


EXERCISES = [
    Exercise("10.1", "No lookahead in the features", "capstone_features", 2, example.capstone_features,
             _features_cases,
             "Each feature row at date t may use rows up to t only: trailing windows (rolling, ewm, diff, "
             "pct_change, shift(+k)); no shift(-k), centred windows, backward fills or whole-column statistics.",
             judge=judge_features),
    Exercise("10.2", "Chronological split with a gap that covers the horizon", "capstone_split", 2,
             example.capstone_split, _split_cases,
             "Return {'train': [...], 'val': [...], 'test': [...]}: three blocks of consecutive positions in that "
             "order, never shuffled, with at least `horizon` positions left out between train and val and "
             "between val and test.",
             judge=judge_split),
    Exercise("10.3", "Fitted on training rows only; forecasts read no later row", "capstone_forecast", 3,
             example.capstone_forecast, _forecast_cases,
             "Split first, then fit the scaler, any feature selection and the model on the training rows only; "
             "the window of origin t ends at t and its target starts after t.",
             judge=judge_forecasts, time_limit_s=4 * CALL_BUDGET_S,
             also_implemented_by=(FORECAST_WITH,)),
    Exercise("10.4", "Naive and drift baselines, MASE and a Diebold-Mariano test", "capstone_report", 2,
             example.capstone_report, _report_cases,
             "Return course_lib.capstone.evaluation_report(actual, forecast, {'naive': ..., 'drift': ...}, "
             "y_train, horizon, lower, upper, level): it scores the model and both baselines on the same test "
             "days.",
             judge=judge_baselines, time_limit_s=3 * CALL_BUDGET_S,
             also_implemented_by=(REPORT_WITH,)),
    Exercise("10.5", "Intervals with measured coverage", "capstone_report", 2, example.capstone_report,
             _report_cases,
             "Give lower and upper for every test forecast (e.g. split-conformal on the validation residuals, "
             "course_lib.ensembles.split_conformal_interval), the nominal level and the coverage measured with "
             "course_lib.evaluation.coverage.",
             judge=judge_intervals, time_limit_s=3 * CALL_BUDGET_S,
             also_implemented_by=(REPORT_WITH,)),
    Exercise("10.6", "Reproducible: the seed decides the forecasts", "capstone_forecast", 1,
             example.capstone_forecast, _seed_cases,
             "Call course_lib.environment.seed_everything(seed) at the start of capstone_forecast and pass seed "
             "to training.fit and make_loaders.",
             judge=partial(check_reproducible, seeds=SEEDS), time_limit_s=3 * CALL_BUDGET_S,
             also_implemented_by=(FORECAST_WITH,)),
    Exercise("10.7", "Within the time budget", "capstone_report", 1, example.capstone_report, _report_cases,
             f"Three runs of capstone_report must finish within {TIME_BUDGET_S:.0f} s on the check data: a small "
             "LSTM (16 units, a 20-day window), a few epochs with early stopping, one fit per call.",
             judge=judge_budget, time_limit_s=TIME_BUDGET_S,
             also_implemented_by=(REPORT_WITH,)),
]

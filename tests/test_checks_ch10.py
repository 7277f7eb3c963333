"""Chapter 10's checklist items: the worked example and an independent submission pass; plausible mistakes fail,
each shown the reason written for it.

The independent submission (``right_*``) shares no code with the worked example: hand-made features, a 70/15/15
split, a two-layer perceptron trained by a hand-written torch loop, and a report computed with NumPy and SciPy
(MASE, the HLN-corrected Diebold-Mariano statistic, coverage). The checks judge rules, not one answer, so it passes
although its numbers differ from the worked example's.
"""
import numpy as np
import pandas as pd
import pytest
import torch
from check_bank import bank_tests
from scipy import stats

from course_lib.capstone import baseline_forecasts, evaluation_report, example, mistakes, origins_and_targets
from course_lib.evaluation.metrics import mase
from course_lib.evaluation.significance import diebold_mariano
from course_lib.training import fit
from course_lib.windows import make_loaders

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- an independent submission
def right_features(data):
    log_close = np.log(data["Close"])
    frame = pd.DataFrame({"ret": log_close.diff(), "nasdaq_ret": np.log(data["NASDAQ_Close"]).diff(),
                          "volume_change": np.log(data["Volume"]).diff(),
                          "momentum_10": log_close - log_close.shift(10)})
    return frame.dropna()


def right_split(n_rows, horizon):
    n_train, n_val, gap = int(0.7 * n_rows), int(0.15 * n_rows), horizon + 1
    val_start = n_train + gap
    test_start = val_start + n_val + gap
    return {"train": np.arange(n_train), "val": np.arange(val_start, val_start + n_val),
            "test": np.arange(test_start, n_rows)}


def _lagged(data, horizon):
    returns = np.log(data["Close"]).diff()
    nasdaq = np.log(data["NASDAQ_Close"]).diff()
    inputs = pd.concat([returns.shift(k) for k in range(10)] + [nasdaq.shift(k) for k in range(5)], axis=1).dropna()
    target = (np.log(data["Close"]).shift(-horizon) - np.log(data["Close"])).loc[inputs.index].dropna()
    return inputs.loc[target.index], target


def right_forecast(data, horizon, seed):
    torch.manual_seed(seed)
    inputs, target = _lagged(data, horizon)
    parts = right_split(len(inputs), horizon)
    train = parts["train"]
    mean, std = inputs.iloc[train].mean(), inputs.iloc[train].std()
    x = torch.tensor(((inputs - mean) / std).to_numpy(), dtype=torch.float32)
    y_std = target.iloc[train].std()
    y = torch.tensor((target / y_std).to_numpy(), dtype=torch.float32)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(60):
        optimizer.zero_grad()
        loss = torch.mean((net(x[train]).ravel() - y[train]) ** 2)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        predicted = net(x).ravel().numpy() * y_std
    half_width = np.quantile(np.abs(target.to_numpy()[parts["val"]] - predicted[parts["val"]]), 0.9)
    origins = inputs.index[parts["test"]]
    close = data["Close"].loc[origins].to_numpy()
    centre = predicted[parts["test"]]
    return pd.DataFrame({"forecast": close * np.exp(centre), "lower": close * np.exp(centre - half_width),
                         "upper": close * np.exp(centre + half_width)}, index=origins)


def _hln(loss_1, loss_2, horizon):
    d = loss_1 - loss_2
    n, centred = len(d), d - d.mean()
    gammas = [np.sum(centred[k:] * centred[:n - k]) / n for k in range(horizon)]
    statistic = d.mean() / np.sqrt((gammas[0] + 2 * sum(gammas[1:])) / n)
    statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(statistic), float(2 * stats.t.sf(abs(statistic), df=n - 1))


def right_report(data, horizon, seed):
    forecasts = right_forecast(data, horizon, seed)
    close = data["Close"].to_numpy()
    at = data.index.get_indexer(forecasts.index)
    actual, naive = close[at + horizon], close[at]
    drift = close[at] + horizon * (close[at] - close[0]) / at
    y_train = close[:int(0.7 * len(close))]
    scale = np.mean(np.abs(np.diff(y_train)))
    forecast, lower, upper = (forecasts[c].to_numpy() for c in ("forecast", "lower", "upper"))
    statistic, p_value = _hln(np.abs(actual - forecast), np.abs(actual - naive), horizon)
    return {"horizon": horizon, "actual": actual, "forecast": forecast, "y_train": y_train,
            "baselines": {"naive": naive, "drift": drift},
            "mase": {name: float(np.mean(np.abs(actual - v)) / scale)
                     for name, v in (("model", forecast), ("naive", naive), ("drift", drift))},
            "dm": {"against": "naive", "statistic": statistic, "p_value": p_value},
            "lower": lower, "upper": upper, "level": 0.9,
            "coverage": float(np.mean((actual >= lower) & (actual <= upper)))}


RIGHT = {"10.1": right_features, "10.2": right_split, "10.3": right_forecast, "10.4": right_report,
         "10.5": right_report, "10.6": right_forecast, "10.7": right_report}


# ----------------------------------------------------------------------------- mistakes
def features_zscored_on_every_row(data):
    features = example.capstone_features(data)
    return (features - features.mean()) / features.std()


def features_with_the_target(data):
    features = example.capstone_features(data)
    log_close = np.log(data["Close"])
    features["next_week"] = (log_close.shift(-5) - log_close).loc[features.index]
    return features.dropna()


def features_with_warm_up_nan(data):
    features = example.capstone_features(data)
    features["trend_200"] = (data["Close"] / data["Close"].rolling(200).mean()).loc[features.index]
    return features


def features_with_next_days_range(data):
    """A scale-free lookahead: tomorrow's High / Low does not move when every later price is scaled alike."""
    features = example.capstone_features(data)
    features["next_range"] = np.log(data["High"] / data["Low"]).shift(-1).loc[features.index]
    return features.dropna()


def features_with_next_day_up(data):
    """Tomorrow's direction: a jump up after the rewrite leaves it as it was whenever the day rose anyway."""
    features = example.capstone_features(data)
    next_return = np.log(data["Close"]).diff().shift(-1)
    features["next_day_up"] = (next_return > 0).astype(float).where(next_return.notna()).loc[features.index]
    return features.dropna()


def features_warm_up_backfilled(data):
    """A 50-day volatility whose warm-up NaN are back-filled with its first value (read from day 50)."""
    features = example.capstone_features(data)
    volatility = np.log(data["Close"]).diff().rolling(50).std().bfill()
    features["volatility_50"] = volatility.loc[features.index]
    return features


def split_one_short(n_rows, horizon):
    good = example.capstone_split(n_rows, horizon)
    return {"train": good["train"] + [good["train"][-1] + 1], "val": good["val"], "test": good["test"]}


def split_sorted_random_sample(n_rows, horizon):
    good = example.capstone_split(n_rows, horizon)
    development = np.random.default_rng(0).permutation(good["test"][0] - horizon)
    n_train = len(good["train"])
    return {"train": sorted(development[:n_train].tolist()), "val": sorted(development[n_train:].tolist()),
            "test": good["test"]}


def split_without_validation(n_rows, horizon):
    good = example.capstone_split(n_rows, horizon)
    return {"train": good["train"], "test": good["test"]}


def split_test_first(n_rows, horizon):
    good = example.capstone_split(n_rows, horizon)
    return {"train": good["train"], "val": good["test"], "test": good["val"]}


def forecast_with_lookahead(data, horizon, seed):
    return example.forecast_with(data, horizon, seed, features=mistakes.lookahead_features)


def forecast_stopped_on_test_days(data, horizon, seed):
    """Early stopping on the test loader: the model reads the test targets (only 5 of them move under a scaling)."""
    captured = {}

    def loaders(*args, **kwargs):
        captured.update(make_loaders(*args, **kwargs))
        return captured

    def fit_on_test(model, train, val, **kwargs):
        return fit(model, train, captured["test"], **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(example, "make_loaders", loaders)
        patch.setattr(example, "fit", fit_on_test)
        return example.capstone_forecast(data, horizon, seed)


def forecast_with_global_noise(data, horizon, seed):
    """Seeded training, then noise from NumPy's global generator: in a notebook it depends on the cells run before."""
    frame = right_forecast(data, horizon, seed)
    return frame * (1 + 1e-3 * np.random.normal(size=(len(frame), 1)))


def forecast_last_days_only(data, horizon, seed):
    return example.capstone_forecast(data, horizon, seed).iloc[-10:]


def forecast_series(data, horizon, seed):
    return example.capstone_forecast(data, horizon, seed)["forecast"]


def forecast_as_dict(data, horizon, seed):
    return {"forecast": example.capstone_forecast(data, horizon, seed)["forecast"].to_numpy()}


def _report(data, horizon, seed, **changes):
    report = example.capstone_report(data, horizon, seed)
    report.update(changes)
    return report


def report_mase_scaled_by_test_days(data, horizon, seed):
    report = example.capstone_report(data, horizon, seed)
    actual = report["actual"]
    report["mase"] = {name: mase(actual, values, actual) for name, values in
                      (("model", report["forecast"]), *report["baselines"].items())}
    return report


def report_dm_on_squared_errors(data, horizon, seed):
    report = example.capstone_report(data, horizon, seed)
    e_model, e_naive = report["actual"] - report["forecast"], report["actual"] - report["baselines"]["naive"]
    test = diebold_mariano(e_model ** 2, e_naive ** 2, horizon=horizon)
    return _report(data, horizon, seed, dm={"against": "naive", "statistic": test.statistic,
                                            "p_value": test.p_value})


def report_without_drift_mase(data, horizon, seed):
    report = example.capstone_report(data, horizon, seed)
    report["mase"] = {k: v for k, v in report["mase"].items() if k != "drift"}
    return report


def _rebuilt_report(data, horizon, seed, naive_shift=0, y_train=None, report_horizon=None, split=None):
    """The worked example's report with one piece changed (the naive forecast's origin, y_train, the horizon,
    or the days scored)."""
    split = split or example.capstone_split
    forecasts = example.forecast_with(data, horizon, seed, split=split)
    close = data["Close"]
    dates, _, _ = origins_and_targets(data, example.capstone_features(data), horizon, example.WINDOW)
    train_end = dates[example.capstone_split(len(dates), horizon)["train"][-1]]
    at = close.index.get_indexer(forecasts.index)
    baselines = baseline_forecasts(data, forecasts.index, horizon)
    baselines["naive"] = close.to_numpy()[at + naive_shift]
    return evaluation_report(close.to_numpy()[at + horizon], forecasts["forecast"], baselines,
                             close.loc[:train_end].to_numpy() if y_train is None else y_train(close, forecasts),
                             report_horizon or horizon, forecasts["lower"], forecasts["upper"], example.LEVEL)


def report_naive_a_day_before_the_target(data, horizon, seed):
    return _rebuilt_report(data, horizon, seed, naive_shift=horizon - 1)


def report_mase_scale_from_test_closes(data, horizon, seed):
    return _rebuilt_report(data, horizon, seed, y_train=lambda close, forecasts: close.loc[forecasts.index].to_numpy())


def report_dm_with_horizon_one(data, horizon, seed):
    return _rebuilt_report(data, horizon, seed, report_horizon=1)


def _validation_as_test(n_rows, horizon):
    parts = example.capstone_split(n_rows, horizon)
    return {"train": parts["train"], "val": parts["val"], "test": parts["val"]}


def report_on_calibration_days(data, horizon, seed):
    """Intervals calibrated and measured on the validation days (coverage near nominal by construction)."""
    return _rebuilt_report(data, horizon, seed, split=_validation_as_test)


def report_without_intervals(data, horizon, seed):
    report = example.capstone_report(data, horizon, seed)
    return {k: v for k, v in report.items() if k not in ("lower", "upper")}


def report_coverage_promised(data, horizon, seed):
    return _report(data, horizon, seed, coverage=0.9)


def report_zero_width(data, horizon, seed):
    report = example.capstone_report(data, horizon, seed)
    return _report(data, horizon, seed, lower=report["forecast"], upper=report["forecast"], coverage=0.0)


def report_bounds_swapped(data, horizon, seed):
    report = example.capstone_report(data, horizon, seed)
    return _report(data, horizon, seed, lower=report["upper"], upper=report["lower"])


def report_level_in_percent(data, horizon, seed):
    return _report(data, horizon, seed, level=90.0)


def report_raises(data, horizon, seed):
    raise ValueError("not enough data")


def report_a_number(data, horizon, seed):
    return float(example.capstone_report(data, horizon, seed)["mase"]["model"])


def report_scores_only(data, horizon, seed):
    return {"mase": example.capstone_report(data, horizon, seed)["mase"]}


MISTAKES = {
    "10.1": [("a centred rolling mean", mistakes.lookahead_features, "those rows read later rows"),
             ("the next week's return as an input", features_with_the_target, "those rows read later rows"),
             ("z-scores over the whole column", features_zscored_on_every_row, "every row changed, the earliest too"),
             ("one input only", lambda data: example.capstone_features(data)[["sp500_return"]], "returns one column"),
             ("a 200-day trend with its warm-up NaN", features_with_warm_up_nan, "returns NaN"),
             ("positions instead of dates", lambda data: example.capstone_features(data).reset_index(drop=True),
              "indexed by date"),
             ("tomorrow's High / Low", features_with_next_days_range, "those rows read later rows"),
             ("tomorrow's direction", features_with_next_day_up, "those rows read later rows"),
             ("a back-filled warm-up", features_warm_up_backfilled, "or a backward fill (bfill)")],
    "10.2": [("shuffled training and validation", mistakes.shuffled_split, "not in time order"),
             ("no gap", mistakes.no_gap_split, "only 0 positions between train and val with horizon 5"),
             ("a gap one short", split_one_short, "only 4 positions between train and val with horizon 5"),
             ("a sorted random sample", split_sorted_random_sample, "skips positions inside it"),
             ("no validation part", split_without_validation, "returns no 'val'"),
             ("test before validation", split_test_first, "starts before")],
    "10.3": [("scaler fitted on every row", mistakes.leaky_forecast, "even the earliest test forecast moved"),
             ("a centred mean among the inputs", forecast_with_lookahead,
              "only the last forecasts before the rewrite moved"),
             ("a seed from the clock", mistakes.clock_seeded_forecast,
              "two runs with the same data and seed gave different forecasts"),
             ("only the last ten test days", forecast_last_days_only, "test origins up to"),
             ("a Series of forecasts", forecast_series, "should be a DataFrame"),
             ("early stopping on the test days", forecast_stopped_on_test_days,
              "even the earliest test forecast moved")],
    "10.4": [("no naive forecast", mistakes.report_without_naive, "no naive baseline in the report"),
             ("MASE scaled by the test days", report_mase_scaled_by_test_days, "but the report's own arrays give"),
             ("DM on squared errors", report_dm_on_squared_errors, "report['dm']['statistic']"),
             ("no MASE for drift", report_without_drift_mase, "report['mase'] has no 'drift'"),
             ("the forecasts instead of the report", lambda d, h, s: example.capstone_forecast(d, h, s),
              "should be a dict"),
             ("the naive forecast a day before the target", report_naive_a_day_before_the_target,
              "report['actual'] is not the close 5 days after each origin"),
             ("MASE's scale from the test closes", report_mase_scale_from_test_closes, "into the test days"),
             ("the DM test with horizon 1", report_dm_with_horizon_one, "report['horizon'] = 1"),
             ("scored on the validation days", report_on_calibration_days, "score the test part")],
    "10.5": [("no interval", report_without_intervals, "the report has no 'lower', 'upper'"),
             ("coverage promised, not measured", report_coverage_promised, "fall inside the report's intervals"),
             ("zero width", report_zero_width, "zero width"),
             ("bounds swapped", report_bounds_swapped, "lower <= upper"),
             ("level in percent", report_level_in_percent, "a share between 0 and 1"),
             ("coverage measured on the calibration days", report_on_calibration_days, "score the test part")],
    "10.6": [("seed drawn from torch's global generator", mistakes.unseeded_forecast,
              "two runs with seed=1 gave different forecasts"),
             ("seed fixed at 0", lambda data, horizon, seed: right_forecast(data, horizon, 0), "ignores its seed"),
             ("a seed from the clock", mistakes.clock_seeded_forecast, "two runs with seed=1 gave different forecasts"),
             ("a dict instead of a frame", forecast_as_dict, "should be a DataFrame"),
             ("noise from the global generator", forecast_with_global_noise, "two runs with seed=1 gave different")],
    "10.7": [("raises", report_raises, "seed 0: capstone_report ValueError: not enough data"),
             ("a number instead of the report", report_a_number, "should be a dict"),
             ("scores only", report_scores_only, "the report has no")],
}

(test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
 test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=13, right=RIGHT, mistakes=MISTAKES)


def test_every_item_that_trains_gets_the_capstone_budget_per_call():
    """A forecaster within 10.7's budget (three reports in TIME_BUDGET_S) is never stopped by another item's limit:
    each item calling capstone_forecast or capstone_report has as many per-call budgets as it has calls."""
    from course_lib.grading import ch10
    from course_lib.grading.registry import all_exercises

    per_call = ch10.TIME_BUDGET_S / len(ch10.REPORT_SEEDS)
    for exercise_id in ("10.3", "10.4", "10.5", "10.6", "10.7"):
        exercise = all_exercises()[exercise_id]
        assert exercise.time_limit_s == pytest.approx(len(exercise.cases()) * per_call), exercise_id

"""Chapter 06 exercises: MASE, the two directional accuracies, a walk-forward schedule, Diebold-Mariano, the lag
of maximum cross-correlation."""
from __future__ import annotations

import numpy as np

from course_lib import data
from course_lib.evaluation.backtest import BacktestPlan
from course_lib.evaluation.diagnostics import lag_of_max_correlation
from course_lib.evaluation.metrics import directional_accuracy, mase, prediction_direction_accuracy
from course_lib.evaluation.significance import diebold_mariano
from course_lib.grading.registry import Case, Exercise


def mase_reference(y_true, y_pred, y_train, season):
    return mase(y_true, y_pred, y_train, season)


def direction_vs_previous_reference(y_true, y_pred, y_previous):
    return directional_accuracy(y_true, y_pred, y_previous)


def direction_of_changes_reference(y_true, y_pred):
    return prediction_direction_accuracy(y_true, y_pred)


def backtest_schedule_reference(n_rows, first_origin, horizon, step, refit_every, window, gap):
    plan = BacktestPlan(n_rows, first_origin, horizon=horizon, step=step, refit_every=refit_every, window=window,
                        gap=gap)
    schedule, rows = [], None
    for number, origin in enumerate(plan.origins()):
        if plan.is_refit(number):
            rows = plan.train_rows(int(origin))
        schedule.append((int(origin), np.arange(rows.start, rows.stop)))
    return schedule


def dm_test_reference(loss_1, loss_2, horizon):
    result = diebold_mariano(loss_1, loss_2, horizon=horizon)
    return result.statistic, result.p_value


def lag_of_max_corr_reference(actual, forecast, max_lag):
    return lag_of_max_correlation(actual, forecast, max_lag)


def _close() -> np.ndarray:
    return data.load_sp500()["Close"].to_numpy()


# ----------------------------------------------------------------------------- 06.1 MASE
def _mase_cases():
    close = _close()
    y_true, naive = close[-250:], close[-251:-1]
    weekly = np.tile([10.0, 12.0, 11.0, 15.0, 20.0], 6) + np.arange(30) * 0.1
    return [
        Case("the lesson's five closes", (np.array([100.0, 102, 101, 105, 104]), np.array([101.0, 101, 103, 104, 106]),
                                          np.array([97.0, 99, 98, 100, 99, 100]), 1),
             hint="Scale = mean |y_train[t] - y_train[t-1]| = 7/5 = 1.4 over the TRAINING values; MASE = MAE / scale "
                  "= 1.4 / 1.4 = 1.0."),
        Case("S&P 500: the naive forecast of 2018, scale from the 1000 days before",
             (y_true, naive, close[-1251:-250], 1),
             hint="MASE = mean |y_true - y_pred| (an MAE, not an RMSE) / mean |y_train[t] - y_train[t - m]| (the "
                  "mean over the T - m differences of the training values only)."),
        Case("test days far more volatile than training days",
             (np.array([100.0, 110, 95, 120]), np.array([101.0, 104, 108, 99]), np.array([1.0, 1.5, 1.2, 1.4, 1.1]), 1),
             hint="The scale comes from y_train only, never from the test values (y_true) or from both joined."),
        Case("weekly season m = 5", (weekly[25:], weekly[20:25], weekly[:25], 5),
             hint="With season m the naive forecast is the value m steps back: scale = mean |y_t - y_(t-m)| over "
                  "t = m..T-1 of y_train (here 0.5)."),
        Case("three training values", (np.array([4.0, 5.0]), np.array([3.0, 5.0]), np.array([1.0, 3.0, 2.0]), 1),
             hint="The mean runs over the T - m differences, not over T values: scale = (2 + 1) / 2 = 1.5, "
                  "MASE = 0.5 / 1.5 = 1/3."),
    ]


# ----------------------------------------------------------------------------- 06.2 / 06.3 directional accuracy
def _direction_vs_previous_cases():
    close = _close()
    prev, truth = close[-251:-1], close[-250:]
    drift = prev + (prev - close[-1251]) / np.arange(1000, 1250)        # average change since 2014-01-13
    ties = "np.sign gives 0 for no change: a forecast of no move counts only when the truth does not move either."
    return [
        Case("hand-made, four origins", (np.array([11.0, 12, 11, 12]), np.array([10.5, 12, 12.5, 13]),
                                         np.array([10.0, 11, 12, 11])),
             hint="Compare sign(y_true - y_previous) with sign(y_pred - y_previous): up, up, down, up against "
                  "up, up, up, up: 3 of 4 = 0.75."),
        Case("a forecast of no move on a down day", (np.array([9.0, 12.0]), np.array([10.0, 13.0]),
                                                     np.array([10.0, 11.0])), hint=ties),
        Case("a forecast of no move on an up day", (np.array([11.0, 12.0]), np.array([10.0, 12.5]),
                                                    np.array([10.0, 11.0])), hint=ties),
        Case("no move forecast on a day without a move", (np.array([10.0, 12.0, 7.0]), np.array([10.0, 11.5, 9.0]),
                                                          np.array([10.0, 11.0, 8.0])), hint=ties),
        Case("origins far apart: y_previous is not the previous y_true",
             (np.array([105.0, 98.0, 120.0]), np.array([102.0, 103.0, 119.0]), np.array([100.0, 101.0, 118.0])),
             hint="Each forecast is judged from its own y_previous (the last value known at its origin), not from "
                  "the previous element of y_true: here up/up, down/up, up/up = 2/3."),
        Case("S&P 500 2018: the drift forecast", (truth, drift, prev)),
    ]


def _direction_of_changes_cases():
    close = _close()
    truth = close[-250:]
    return [
        Case("hand-made, four values", (np.array([10.0, 11, 10, 12]), np.array([10.0, 10.5, 11, 11.5])),
             hint="Changes of y_true: +, -, +; changes of y_pred: +, +, +; 2 agree out of the n - 1 = 3 changes."),
        Case("a flat forecast while the truth falls", (np.array([10.0, 9, 8, 9]), np.array([10.0, 10, 10, 11])),
             hint="np.sign gives 0 for no change: a flat forecast step agrees only with a flat true step (here 1 of 3)."),
        Case("a flat true step and a flat forecast step agree", (np.array([10.0, 10, 11]), np.array([5.0, 5, 5])),
             hint="np.sign gives 0 for no change: the flat step agrees with the flat forecast step, the rise with "
                  "no forecast change does not: 1 of 2."),
        Case("a forecast above the last true value but below the last forecast",
             (np.array([10.0, 12, 13, 11]), np.array([10.0, 13, 12.5, 12])),
             hint="This metric compares consecutive FORECASTS: sign(y_pred[i] - y_pred[i-1]), not y_pred[i] - "
                  "y_true[i-1] (that is the other directional accuracy). Here +,+,- against +,-,- = 2/3."),
        Case("S&P 500 2018: the naive forecast (yesterday's close)", (truth, close[-251:-1])),
        Case("one value has no change: raise ValueError", (np.array([1.0]), np.array([1.0])), raises="ValueError",
             hint="With fewer than 2 values there is no change to compare: raise ValueError instead of returning NaN."),
    ]


# ----------------------------------------------------------------------------- 06.4 walk-forward schedule
def _schedule_cases():
    return [
        Case("12 rows, first origin 6, refit at every origin, expanding", (12, 6, 1, 1, 1, None, 0),
             hint="Origins run while t + horizon <= n_rows - 1 (here 6..10); the model at t trains on rows 0..t."),
        Case("horizon 3", (12, 6, 3, 1, 1, None, 0),
             hint="The whole horizon must be inside the series: the last origin is n_rows - 1 - horizon = 8."),
        Case("gap 2", (12, 6, 1, 1, 1, None, 2),
             hint="With a gap g the fit at origin t trains on rows up to t - g, inclusive: 0..4 at t = 6."),
        Case("rolling window of 4", (12, 6, 1, 1, 1, 4, 0),
             hint="A window w keeps the last w rows up to t - gap: rows t-3..t for w = 4."),
        Case("window longer than the history", (10, 3, 1, 1, 1, 6, 0),
             hint="The window starts at max(0, t - gap - window + 1): at t = 3 that is row 0."),
        Case("refit every 3 origins, window 4, gap 1", (14, 5, 1, 1, 3, 4, 1),
             hint="Between refits the model of the last refit is used: origins 6 and 7 keep the rows of the fit at "
                  "origin 5 (rows 1..4)."),
        Case("step 3, refit every 3 origins, gap 1", (20, 5, 2, 3, 3, None, 1),
             hint="Origins 5, 8, 11, 14, 17 (every `step` rows); refits at the 0th and 3rd ORIGIN (5 and 14), "
                  "counted in origins, not in rows."),
        Case("by hand: 10 rows, first origin 4, horizon 2, step 2, refit every 2, window 3, gap 1",
             (10, 4, 2, 2, 2, 3, 1),
             hint="Origins 4 and 6 (6 + 2 <= 9; 8 + 2 > 9); both use the fit at origin 4, trained on rows 1, 2, 3."),
    ]


# ----------------------------------------------------------------------------- 06.5 Diebold-Mariano
def _dm_cases():
    rng = np.random.default_rng(6)
    base = rng.normal(size=(3, 60)) ** 2
    close = _close()
    truth, naive = close[-250:], close[-251:-1]
    drift = naive + (naive - close[-1251]) / np.arange(1000, 1250)
    overlap = np.convolve(rng.normal(size=62), np.ones(3) / 3, mode="valid")   # MA(2) loss differences, h = 3
    return [
        Case("40 random losses, h = 1", (base[0, :40], base[1, :40] + 0.3, 1)),
        Case("S&P 500 2018: squared errors of drift vs naive, h = 1", ((truth - drift) ** 2, (truth - naive) ** 2, 1),
             hint="Check each step against the formula: the variance with divisor n (not n - 1), the HLN factor, "
                  "the sign of d = loss_1 - loss_2, a two-sided p-value from t with n - 1 degrees of freedom."),
        Case("a constant shift in the losses: the variance divisor decides", (base[0, :8] + 0.4, base[0, :8] + 0.4 * base[1, :8], 1),
             hint="Divide by n in the variance (np.var with ddof=0, np.mean of squared deviations), not n - 1."),
        Case("25 losses, h = 1: the small-sample correction matters", (base[2, :25], base[0, 25:50], 1),
             hint="HLN = DM * sqrt((n + 1 - 2h + h(h - 1)/n) / n), and the p-value is two-sided from Student's t "
                  "with n - 1 degrees of freedom: 2 * stats.t.sf(|HLN|, n - 1)."),
        Case("h = 3: autocovariances at lags 1 and 2 enter", (base[1] + overlap, base[1], 3),
             hint="For h-step forecasts V = (gamma_0 + 2 * sum of gamma_k for k = 1..h-1) / n, each gamma_k = "
                  "sum((d[k:] - mean)(d[:-k] - mean)) / n (divisor n, not n - k); k stops at h - 1."),
        Case("h = 2 on 30 losses", (base[2, :30] + 0.2 * base[0, 30:60], base[2, 30:60], 2),
             hint="For h-step forecasts V = (gamma_0 + 2 * sum of gamma_k for k = 1..h-1) / n, each gamma_k = "
                  "sum((d[k:] - mean)(d[:-k] - mean)) / n (divisor n, not n - k); k stops at h - 1."),
        Case("a clearly better first forecast: the statistic is negative", (base[0, :50] * 0.5, base[0, :50] + 0.5, 1),
             hint="d = loss_1 - loss_2: a negative statistic means loss_1 is smaller."),
    ]


# ----------------------------------------------------------------------------- 06.6 lag of maximum cross-correlation
def _lag_cases():
    rng = np.random.default_rng(0)
    y = rng.normal(size=202)
    truth, lagging = y[1:], y[:-1] + 0.3 * rng.normal(size=201)       # forecast at t = truth at t-1 + noise
    z = rng.normal(size=120)
    leaking = np.r_[z[2:], [0.0, 0.0]] + 0.2 * rng.normal(size=120)   # forecast at t knows the truth at t+2
    a = rng.normal(size=80)
    at_edge = np.r_[np.zeros(3), a[:-3]] + 0.1 * rng.normal(size=80)   # peak exactly at +3 = max_lag
    w = np.random.default_rng(7)
    v = w.normal(size=23)
    close_second = v[:-3] + 0.9 * v[3:] + 0.3 * w.normal(size=20)   # rho(3) a little above rho(0), fewer pairs
    b = rng.normal(size=100)
    negative = -1.0 * np.r_[np.zeros(2), b[:-2]] + 0.5 * np.r_[0.0, b[:-1]] + 0.3 * rng.normal(size=100)
    return [
        Case("a forecast one step late", (truth, lagging, 5),
             hint="rho(k) = corr(actual[t - k], forecast[t]): a forecast that follows the truth one step late peaks at "
                  "k = +1."),
        Case("a forecast that reads the truth two steps ahead", (z, leaking, 4),
             hint="rho(k) = corr(actual[t - k], forecast[t]): a forecast that knows actual[t + 2] peaks at k = -2."),
        Case("peak at the largest lag", (a, at_edge, 3),
             hint="Try every k from -max_lag to +max_lag INCLUSIVE (2 * max_lag + 1 lags); here the peak is at +3."),
        Case("a strong negative correlation at another lag", (b, negative, 4),
             hint="The LARGEST correlation, not the largest |correlation|: -0.86 at lag 2 is smaller than +0.31 at lag 1."),
        Case("20 values: a lag with fewer pairs but a higher correlation", (v[3:], close_second, 3),
             hint="Pearson correlation over the overlapping pairs of each lag (np.corrcoef of the two slices), not a "
                  "sum or mean of products: lag 3 has 17 pairs and rho = 0.76, lag 0 has 20 pairs and rho = 0.70."),
        Case("12 values: the covariance peaks at another lag than the correlation",
             (np.array([-1.0, -5, 1, 5, -3, -4, -1, 2, 0, -4, -2, 5]),
              np.array([2.0, -3, -3, 0, 7, -4, -6, -3, 3, -1, -5, 0]), 3),
             hint="Divide by both standard deviations of the slices (a correlation, not a covariance): the covariance "
                  "is largest at k = -3 (9 pairs, 11.1), the correlation at k = +1 (0.90)."),
        Case("in step", (y[:100], y[:100] + 0.5 * rng.normal(size=100), 3),
             hint="Return the lag k itself (here 0), not its position in an array of 2 * max_lag + 1 values."),
    ]


EXERCISES = [
    Exercise("06.1", "MASE with the training scale", "mase_score", 2, mase_reference, _mase_cases,
             "MASE = mean |y_true - y_pred| / scale, with scale = mean |y_train[t] - y_train[t - season]| over "
             "t = season .. len(y_train) - 1: the in-sample error of the seasonal naive forecast on the training data.",
             also_implemented_by=("course_lib.evaluation.metrics:mase", "course_lib.evaluation.metrics:naive_scale",
                                  "course_lib.evaluation:mase", "course_lib.evaluation:naive_scale")),
    Exercise("06.2", "Directional accuracy against the actual previous value", "direction_vs_previous", 1,
             direction_vs_previous_reference, _direction_vs_previous_cases,
             "The share of i with sign(y_true[i] - y_previous[i]) == sign(y_pred[i] - y_previous[i]) (guide 2.3.2), "
             "as a number between 0 and 1.",
             also_implemented_by=("course_lib.evaluation.metrics:directional_accuracy",
                                  "course_lib.evaluation:directional_accuracy")),
    Exercise("06.3", "Directional accuracy of consecutive forecasts", "direction_of_changes", 1,
             direction_of_changes_reference, _direction_of_changes_cases,
             "The share of the n - 1 steps with sign(y_true[i] - y_true[i-1]) == sign(y_pred[i] - y_pred[i-1]) "
             "(guide 5.2.2), as a number between 0 and 1.",
             also_implemented_by=("course_lib.evaluation.metrics:prediction_direction_accuracy",
                                  "course_lib.evaluation:prediction_direction_accuracy")),
    Exercise("06.4", "Walk-forward origins and training rows with a gap", "backtest_schedule", 2,
             backtest_schedule_reference, _schedule_cases,
             "Return a list of (origin, train_positions) pairs, one per origin in time order: origins from first_origin "
             "every `step` rows while origin + horizon <= n_rows - 1; a refit at the 0th, refit_every-th, ... origin on "
             "rows max(0, t - gap - window + 1) .. t - gap (from 0 when window is None); train_positions (an integer "
             "array) are the rows of the fit in use.",
             also_implemented_by=("course_lib.evaluation.backtest:BacktestPlan.origins",
                                  "course_lib.evaluation.backtest:BacktestPlan.train_rows")),
    Exercise("06.5", "The Diebold-Mariano statistic with the HLN correction", "dm_test", 2, dm_test_reference,
             _dm_cases,
             "d = loss_1 - loss_2; V = (gamma_0 + 2 sum_{k=1}^{h-1} gamma_k) / n with autocovariances of d (divisor n); "
             "DM = mean(d) / sqrt(V); HLN = DM sqrt((n + 1 - 2h + h(h-1)/n) / n); p = 2 t.sf(|HLN|, n - 1). "
             "Return (HLN, p).",
             also_implemented_by=("course_lib.evaluation.significance:diebold_mariano",
                                  "course_lib.evaluation.significance:long_run_variance_of_mean")),
    Exercise("06.6", "The lag of maximum cross-correlation", "lag_of_max_corr", 1, lag_of_max_corr_reference,
             _lag_cases,
             "For k = -max_lag..max_lag, rho(k) is the Pearson correlation of actual[t - k] and forecast[t] over the "
             "overlapping pairs; return the k (an int) with the largest rho(k).",
             also_implemented_by=("course_lib.evaluation.diagnostics:lag_of_max_correlation",
                                  "course_lib.evaluation.diagnostics:cross_correlations")),
]

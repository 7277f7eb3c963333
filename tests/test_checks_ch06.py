"""Chapter 06's checks: the reference passes, and a bank of plausible wrong answers (one function per mistake a
learner makes) fails, each shown the hint written for it. The answers are written here in plain NumPy/SciPy."""
import warnings

import numpy as np
from scipy import stats

from check_bank import bank_tests


# ----------------------------------------------------------------------------- 06.1 MASE
def mase_right(y_true, y_pred, y_train, season):
    y_train = np.asarray(y_train, dtype=float)
    return np.mean(np.abs(y_true - y_pred)) / np.mean(np.abs(y_train[season:] - y_train[:-season]))


def mase_test_scale(y_true, y_pred, y_train, season):
    return np.mean(np.abs(y_true - y_pred)) / np.mean(np.abs(np.diff(y_true)))


def mase_joined_scale(y_true, y_pred, y_train, season):
    joined = np.r_[y_train, y_true]
    return np.mean(np.abs(y_true - y_pred)) / np.mean(np.abs(joined[season:] - joined[:-season]))


def mase_lag_one(y_true, y_pred, y_train, season):
    return np.mean(np.abs(y_true - y_pred)) / np.mean(np.abs(np.diff(y_train)))


def mase_divides_by_t(y_true, y_pred, y_train, season):
    return np.mean(np.abs(y_true - y_pred)) / (np.sum(np.abs(y_train[season:] - y_train[:-season])) / len(y_train))


def mase_rmse(y_true, y_pred, y_train, season):
    return np.sqrt(np.mean((y_true - y_pred) ** 2)) / np.mean(np.abs(y_train[season:] - y_train[:-season]))


def mase_mean_scale(y_true, y_pred, y_train, season):
    return np.mean(np.abs(y_true - y_pred)) / np.mean(np.abs(y_train - y_train.mean()))


def mase_test_naive_from_last_train(y_true, y_pred, y_train, season):
    previous = np.r_[y_train[-season:], y_true[:-season]]       # the naive errors on the test days
    return np.mean(np.abs(y_true - y_pred)) / np.mean(np.abs(y_true - previous))


# ----------------------------------------------------------------------------- 06.2 direction vs previous
def dvp_right(y_true, y_pred, y_previous):
    return float(np.mean(np.sign(y_true - y_previous) == np.sign(y_pred - y_previous)))


def dvp_greater(y_true, y_pred, y_previous):
    return float(np.mean((y_true > y_previous) == (y_pred > y_previous)))


def dvp_shifted_truth(y_true, y_pred, y_previous):
    previous = np.r_[y_previous[0], y_true[:-1]]
    return float(np.mean(np.sign(y_true - previous) == np.sign(y_pred - previous)))


def dvp_forecast_changes(y_true, y_pred, y_previous):
    return float(np.mean(np.sign(np.diff(y_true)) == np.sign(np.diff(y_pred))))


def dvp_percent(y_true, y_pred, y_previous):
    return 100 * dvp_right(y_true, y_pred, y_previous)


def dvp_count(y_true, y_pred, y_previous):
    return int(np.sum(np.sign(y_true - y_previous) == np.sign(y_pred - y_previous)))


def dvp_against_forecast(y_true, y_pred, y_previous):
    return float(np.mean(np.sign(y_true - y_previous) == np.sign(y_pred - y_true)))


def dvp_product_positive(y_true, y_pred, y_previous):
    return float(np.mean((y_true - y_previous) * (y_pred - y_previous) > 0))


def dvp_greater_equal(y_true, y_pred, y_previous):
    return float(np.mean((y_true - y_previous >= 0) == (y_pred - y_previous >= 0)))


# ----------------------------------------------------------------------------- 06.3 direction of changes
def doc_right(y_true, y_pred):
    if len(y_true) < 2:
        raise ValueError("need two values")
    return float(np.mean(np.sign(np.diff(y_true)) == np.sign(np.diff(y_pred))))


def doc_greater(y_true, y_pred):
    if len(y_true) < 2:
        raise ValueError("need two values")
    return float(np.mean((np.diff(y_true) > 0) == (np.diff(y_pred) > 0)))


def doc_divides_by_n(y_true, y_pred):
    if len(y_true) < 2:
        raise ValueError("need two values")
    return float(np.sum(np.sign(np.diff(y_true)) == np.sign(np.diff(y_pred))) / len(y_true))


def doc_actual_previous(y_true, y_pred):
    if len(y_true) < 2:
        raise ValueError("need two values")
    return float(np.mean(np.sign(np.diff(y_true)) == np.sign(y_pred[1:] - y_true[:-1])))


def doc_misaligned(y_true, y_pred):
    if len(y_true) < 3:
        raise ValueError("need three values")
    return float(np.mean(np.sign(np.diff(y_true))[1:] == np.sign(np.diff(y_pred))[:-1]))


def doc_no_check(y_true, y_pred):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)            # the mean of no values
        return float(np.mean(np.sign(np.diff(y_true)) == np.sign(np.diff(y_pred))))


def doc_greater_equal(y_true, y_pred):
    if len(y_true) < 2:
        raise ValueError("need two values")
    return float(np.mean((np.diff(y_true) >= 0) == (np.diff(y_pred) >= 0)))


def doc_product_positive(y_true, y_pred):
    if len(y_true) < 2:
        raise ValueError("need two values")
    return float(np.mean(np.diff(y_true) * np.diff(y_pred) > 0))


def doc_percent(y_true, y_pred):
    return 100 * doc_right(y_true, y_pred)


# ----------------------------------------------------------------------------- 06.4 schedule
def _schedule(n_rows, first_origin, horizon, step, refit_every, window, gap, *, last=None, end_offset=1,
              start_offset=1, use_gap=True, refit_by_rows=False, refit_always=False, as_lists=False):
    last = n_rows - 1 - horizon if last is None else last
    schedule, rows = [], None
    for number, origin in enumerate(range(first_origin, last + 1, step)):
        refit = refit_always or ((origin - first_origin) % refit_every == 0 if refit_by_rows
                                 else number % refit_every == 0)
        if refit:
            end = origin - (gap if use_gap else 0) + end_offset
            start = 0 if window is None else max(0, end - window - 1 + start_offset)
            rows = list(range(start, end)) if as_lists else np.arange(start, end)
        schedule.append((origin, rows))
    return schedule


def sched_right(*args):
    return _schedule(*args)


def sched_last_origin_too_far(n_rows, first_origin, horizon, *rest):
    return _schedule(n_rows, first_origin, horizon, *rest, last=n_rows - horizon)


def sched_last_origin_too_early(n_rows, first_origin, horizon, *rest):
    return _schedule(n_rows, first_origin, horizon, *rest, last=n_rows - 2 - horizon)


def sched_end_exclusive(*args):
    return _schedule(*args, end_offset=0)


def sched_gap_ignored(*args):
    return _schedule(*args, use_gap=False)


def sched_window_one_short(*args):
    return _schedule(*args, start_offset=2)


def sched_window_one_long(*args):
    return _schedule(*args, start_offset=0)


def sched_refit_every_origin(*args):
    return _schedule(*args, refit_always=True)


def sched_refit_by_rows(*args):
    return _schedule(*args, refit_by_rows=True)


def sched_step_ignored(n_rows, first_origin, horizon, step, *rest):
    return _schedule(n_rows, first_origin, horizon, 1, *rest)


def sched_lists(*args):
    return _schedule(*args, as_lists=True)


def sched_generator(*args):
    return (pair for pair in _schedule(*args))


def sched_window_ignored(n_rows, first_origin, horizon, step, refit_every, window, gap):
    return _schedule(n_rows, first_origin, horizon, step, refit_every, None, gap)


# ----------------------------------------------------------------------------- 06.5 Diebold-Mariano
def _dm(loss_1, loss_2, horizon, *, ddof=0, hln=True, normal=False, one_sided=False, lags=None, sign=1.0,
        divisor_n_minus_k=False, df_offset=-1):
    d = sign * (np.asarray(loss_1, dtype=float) - np.asarray(loss_2, dtype=float))
    n = len(d)
    centred = d - d.mean()
    lags = horizon - 1 if lags is None else lags
    gammas = [np.sum(centred[k:] * centred[:n - k]) / ((n - k) if divisor_n_minus_k and k else n) for k in
              range(lags + 1)]
    gammas[0] = np.sum(centred ** 2) / (n - ddof)
    statistic = d.mean() / np.sqrt((gammas[0] + 2 * sum(gammas[1:])) / n)
    if hln:
        statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    if normal:
        p = stats.norm.sf(abs(statistic)) * (1 if one_sided else 2)
    else:
        p = stats.t.sf(abs(statistic), df=n + df_offset) * (1 if one_sided else 2)
    return float(statistic), float(p)


def dm_right(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon)


def dm_ddof1(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, ddof=1)


def dm_no_hln(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, hln=False, normal=True)


def dm_hln_normal_p(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, normal=True)


def dm_one_sided(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, one_sided=True)


def dm_no_autocovariance(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, lags=0)


def dm_one_lag_too_many(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, lags=horizon)


def dm_sign_flipped(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, sign=-1.0)


def dm_divisor_n_minus_k(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, divisor_n_minus_k=True)


def dm_df_n(loss_1, loss_2, horizon):
    return _dm(loss_1, loss_2, horizon, df_offset=0)


def dm_variance_not_over_n(loss_1, loss_2, horizon):
    d = np.asarray(loss_1) - np.asarray(loss_2)
    n = len(d)
    statistic = d.mean() / np.sqrt(np.var(d)) * np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(statistic), float(2 * stats.t.sf(abs(statistic), df=n - 1))


def dm_np_var_ddof1(loss_1, loss_2, horizon):
    d = np.asarray(loss_1) - np.asarray(loss_2)
    n = len(d)
    statistic = d.mean() / np.sqrt(np.var(d, ddof=1) / n) * np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    return float(statistic), float(2 * stats.t.sf(abs(statistic), df=n - 1))


# ----------------------------------------------------------------------------- 06.6 lag of maximum correlation
def _correlations(actual, forecast, max_lag, *, flip=False, lags=None, pearson=True):
    y, f = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    n = len(y)
    lags = range(-max_lag, max_lag + 1) if lags is None else lags
    values = {}
    for k in lags:
        j = -k if flip else k
        a, b = y[max(0, -j):n - max(0, j)], f[max(0, j):n - max(0, -j)]
        values[k] = np.corrcoef(a, b)[0, 1] if pearson else np.sum((a - y.mean()) * (b - f.mean()))
    return values


def lag_right(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag)
    return max(values, key=values.get)


def lag_sign_flipped(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag, flip=True)
    return max(values, key=values.get)


def lag_absolute(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag)
    return max(values, key=lambda k: abs(values[k]))


def lag_range_exclusive(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag, lags=range(-max_lag, max_lag))
    return max(values, key=values.get)


def lag_position(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag)
    return int(np.argmax(list(values.values())))


def lag_covariance_sum(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag, pearson=False)
    return max(values, key=values.get)


def lag_covariance(actual, forecast, max_lag):
    n = len(actual)
    values = {k: np.cov(actual[max(0, -k):n - max(0, k)], forecast[max(0, k):n - max(0, -k)])[0, 1]
              for k in range(-max_lag, max_lag + 1)}
    return max(values, key=values.get)


def lag_np_correlate(actual, forecast, max_lag):
    y, f = np.asarray(actual) - np.mean(actual), np.asarray(forecast) - np.mean(forecast)
    full = np.correlate(f, y, mode="full")        # index n - 1 + k holds sum f[t] y[t - k]
    middle = len(y) - 1
    window = full[middle - max_lag:middle + max_lag + 1]
    return int(np.argmax(window)) - max_lag


def lag_nonnegative_only(actual, forecast, max_lag):
    values = _correlations(actual, forecast, max_lag, lags=range(0, max_lag + 1))
    return max(values, key=values.get)


RIGHT = {"06.1": mase_right, "06.2": dvp_right, "06.3": doc_right, "06.4": sched_right, "06.5": dm_right,
         "06.6": lag_right}

MISTAKES = {
    "06.1": [("scale from the test values", mase_test_scale, "from y_train only"),
             ("scale from train and test joined", mase_joined_scale, "from y_train only"),
             ("season ignored: lag-1 differences", mase_lag_one, "the value m steps back"),
             ("sum of differences divided by T", mase_divides_by_t, "over the T - m differences"),
             ("RMSE instead of MAE in the numerator", mase_rmse, "MAE / scale"),
             ("mean absolute deviation as the scale", mase_mean_scale, "MAE / scale"),
             ("naive errors of the test days as the scale", mase_test_naive_from_last_train, "from y_train only")],
    "06.2": [("> instead of sign: no-move forecasts count as down", dvp_greater, "np.sign gives 0 for no change"),
             ("previous value taken from y_true", dvp_shifted_truth, "its own y_previous"),
             ("the 5.2.2 metric instead", dvp_forecast_changes, "its own y_previous"),
             ("a percentage", dvp_percent, "3 of 4 = 0.75"),
             ("a count", dvp_count, "3 of 4 = 0.75"),
             ("forecast compared with the truth, not the previous value", dvp_against_forecast, "3 of 4 = 0.75"),
             ("product of changes > 0", dvp_product_positive, "np.sign gives 0 for no change"),
             (">= 0 as up: no-move forecasts count as up", dvp_greater_equal, "np.sign gives 0 for no change")],
    "06.3": [("> instead of sign", doc_greater, "a flat forecast step agrees only with a flat true step"),
             ("divided by n", doc_divides_by_n, "the n - 1 = 3 changes"),
             ("forecast change from the actual previous value", doc_actual_previous, "compares consecutive FORECASTS"),
             ("forecast changes one step early", doc_misaligned, "2 agree out of the n - 1 = 3 changes"),
             ("NaN for a single value", doc_no_check, "raise ValueError instead of returning NaN"),
             ("a percentage", doc_percent, "2 agree out of the n - 1 = 3 changes"),
             (">= 0 as up: a flat step counts as up", doc_greater_equal, "the flat step agrees with the flat forecast"),
             ("product of changes > 0: flat steps never agree", doc_product_positive,
              "the flat step agrees with the flat forecast")],
    "06.4": [("last origin one too far", sched_last_origin_too_far, "the last origin is n_rows - 1 - horizon"),
             ("last origin one too early", sched_last_origin_too_early, "the last origin is n_rows - 1 - horizon"),
             ("training rows stop before t - gap", sched_end_exclusive, "up to t - g, inclusive"),
             ("gap ignored", sched_gap_ignored, "up to t - g, inclusive"),
             ("window one row short", sched_window_one_short, "rows t-3..t for w = 4"),
             ("window one row long", sched_window_one_long, "rows t-3..t for w = 4"),
             ("window ignored", sched_window_ignored, "rows t-3..t for w = 4"),
             ("refit at every origin", sched_refit_every_origin, "the model of the last refit is used"),
             ("refits counted in rows", sched_refit_by_rows, "counted in origins, not in rows"),
             ("step ignored", sched_step_ignored, "every `step` rows"),
             ("lists instead of arrays", sched_lists, "expected an array of shape"),
             ("a generator instead of a list", sched_generator, "returned a generator")],
    "06.5": [("variance with ddof=1", dm_ddof1, "not n - 1"),
             ("np.var(d, ddof=1)", dm_np_var_ddof1, "not n - 1"),
             ("variance of d, not of its mean (no / n)", dm_variance_not_over_n, "V = (gamma_0"),
             ("no HLN correction, normal p-value", dm_no_hln, "HLN = DM * sqrt"),
             ("HLN statistic with a normal p-value", dm_hln_normal_p, "Student's t"),
             ("one-sided p-value", dm_one_sided, "two-sided"),
             ("t with n degrees of freedom", dm_df_n, "n - 1 degrees of freedom"),
             ("autocovariances left out for h > 1", dm_no_autocovariance, "k stops at h - 1"),
             ("one autocovariance too many", dm_one_lag_too_many, "k stops at h - 1"),
             ("autocovariance divisor n - k", dm_divisor_n_minus_k, "divisor n, not n - k"),
             ("loss_2 - loss_1", dm_sign_flipped, "a negative statistic means loss_1 is smaller")],
    "06.6": [("sign convention flipped", lag_sign_flipped, "peaks at k = +1"),
             ("largest |correlation|", lag_absolute, "not the largest |correlation|"),
             ("range(-K, K) leaves out +K", lag_range_exclusive, "INCLUSIVE"),
             ("position in the array instead of the lag", lag_position, "not its position"),
             ("non-negative lags only", lag_nonnegative_only, "peaks at k = -2"),
             ("sums of products instead of correlations", lag_covariance_sum, "Pearson correlation"),
             ("covariance of each lag's slices", lag_covariance, "a correlation, not a covariance"),
             ("np.correlate on the whole-series means", lag_np_correlate, "Pearson correlation")],
}
(test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
 test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=9, right=RIGHT, mistakes=MISTAKES)

"""Chapter 08's checks: the reference passes, an independent answer passes, and a bank of plausible wrong answers
(one function per mistake a learner makes) fails, each shown the hint written for it. Answers in plain NumPy."""
import numpy as np
import pytest

from check_bank import bank_tests


# ----------------------------------------------------------------------------- 08.1 Parkinson
def _checked(high, low):
    high, low = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    if (high <= 0).any() or (low <= 0).any():
        raise ValueError("prices must be positive")
    if (high < low).any():
        raise ValueError(f"high < low on day {int(np.flatnonzero(high < low)[0])}")
    return high, low


def pk_right(high, low):
    high, low = _checked(high, low)
    return (100 * (np.log(high) - np.log(low))) ** 2 / (4 * np.log(2))


def pk_no_constant(high, low):
    high, low = _checked(high, low)
    return 1e4 * np.log(high / low) ** 2


def pk_ln2_only(high, low):
    high, low = _checked(high, low)
    return 1e4 * np.log(high / low) ** 2 / np.log(2)


def pk_times_100(high, low):
    high, low = _checked(high, low)
    return 100 * np.log(high / low) ** 2 / (4 * np.log(2))


def pk_log10(high, low):
    high, low = _checked(high, low)
    return 1e4 * np.log10(high / low) ** 2 / (4 * np.log(2))


def pk_simple_range(high, low):
    high, low = _checked(high, low)
    return 1e4 * ((high - low) / low) ** 2 / (4 * np.log(2))


def pk_volatility(high, low):
    return np.sqrt(pk_right(high, low))


def pk_mean(high, low):
    return float(np.mean(pk_right(high, low)))


def pk_no_checks(high, low):
    high, low = np.asarray(high, float), np.asarray(low, float)
    with np.errstate(all="ignore"):
        return 1e4 * np.log(high / low) ** 2 / (4 * np.log(2))


def pk_no_price_check(high, low):
    high, low = np.asarray(high, float), np.asarray(low, float)
    if (high < low).any():
        raise ValueError("high < low")
    with np.errstate(all="ignore"):
        return 1e4 * np.log(high / low) ** 2 / (4 * np.log(2))


# ----------------------------------------------------------------------------- 08.2 HAR design
def _means(v, k, end):
    """mean of v[t-k+1 .. t] for t in `end`."""
    return np.array([v[t - k + 1:t + 1].mean() for t in end])


def har_right(variance):
    v = np.asarray(variance, dtype=float)
    if len(v) < 23:
        raise ValueError("need at least 23 values")
    t = np.arange(21, len(v) - 1)
    return np.column_stack([v[t], _means(v, 5, t), _means(v, 22, t)]), v[t + 1]


def har_lookahead(variance):                     # windows end at the target day t + 1
    v = np.asarray(variance, dtype=float)
    if len(v) < 23:
        raise ValueError("short")
    t = np.arange(21, len(v) - 1)
    return np.column_stack([v[t + 1], _means(v, 5, t + 1), _means(v, 22, t + 1)]), v[t + 1]


def har_target_not_shifted(variance):
    X, _ = har_right(variance)
    v = np.asarray(variance, dtype=float)
    return X, v[21:len(v) - 1]


def har_windows_exclude_today(variance):         # mean of v[t-5 .. t-1]
    v = np.asarray(variance, dtype=float)
    if len(v) < 23:
        raise ValueError("short")
    t = np.arange(21, len(v) - 1)
    week = np.array([v[s - 5:s].mean() for s in t])
    month = np.array([v[max(s - 22, 0):s].mean() for s in t])
    return np.column_stack([v[t], week, month]), v[t + 1]


def har_one_row_short(variance):                 # starts at t = 22
    X, y = har_right(variance)
    return X[1:], y[1:]


def har_columns_reversed(variance):
    X, y = har_right(variance)
    return X[:, ::-1].copy(), y


def har_no_error(variance):
    v = np.asarray(variance, dtype=float)
    t = np.arange(21, len(v) - 1)
    if len(t) == 0:
        return np.empty((0, 3)), np.empty(0)
    return np.column_stack([v[t], _means(v, 5, t), _means(v, 22, t)]), v[t + 1]


# ----------------------------------------------------------------------------- 08.3 QLIKE
def _positive(actual, forecast):
    v, h = np.asarray(actual, float), np.asarray(forecast, float)
    if (v <= 0).any() or (h <= 0).any():
        raise ValueError("variances must be positive")
    return v, h


def ql_right(actual, forecast):
    v, h = _positive(actual, forecast)
    return float(np.mean(v / h - np.log(v) + np.log(h) - 1))


def ql_swapped(actual, forecast):
    v, h = _positive(actual, forecast)
    return float(np.mean(h / v - np.log(h / v) - 1))


def ql_unnormalised(actual, forecast):
    v, h = _positive(actual, forecast)
    return float(np.mean(np.log(h) + v / h))


def ql_no_minus_one(actual, forecast):
    v, h = _positive(actual, forecast)
    return float(np.mean(v / h - np.log(v / h)))


def ql_sum(actual, forecast):
    v, h = _positive(actual, forecast)
    return float(np.sum(v / h - np.log(v / h) - 1))


def ql_log10(actual, forecast):
    v, h = _positive(actual, forecast)
    return float(np.mean(v / h - np.log10(v / h) - 1))


def ql_no_check(actual, forecast):
    v, h = np.asarray(actual, float), np.asarray(forecast, float)
    with np.errstate(all="ignore"):
        return float(np.mean(v / h - np.log(v / h) - 1))


# ----------------------------------------------------------------------------- 08.4 GARCH recursion
def garch_right(returns, omega, alpha, beta, mu, sigma2_0):
    out, s = [], sigma2_0
    for r in np.asarray(returns, float):
        s = omega + alpha * (r - mu) ** 2 + beta * s
        out.append(s)
    return np.array(out)


def garch_no_mu(returns, omega, alpha, beta, mu, sigma2_0):
    return garch_right(returns, omega, alpha, beta, 0.0, sigma2_0)


def garch_swapped(returns, omega, alpha, beta, mu, sigma2_0):
    return garch_right(returns, omega, beta, alpha, mu, sigma2_0)


def garch_includes_start(returns, omega, alpha, beta, mu, sigma2_0):
    return np.r_[sigma2_0, garch_right(returns, omega, alpha, beta, mu, sigma2_0)[:-1]]


def garch_previous_return(returns, omega, alpha, beta, mu, sigma2_0):
    lagged = np.r_[mu, np.asarray(returns, float)[:-1]]          # out[t] from r[t-1]
    return garch_right(lagged, omega, alpha, beta, mu, sigma2_0)


def garch_absolute_shock(returns, omega, alpha, beta, mu, sigma2_0):
    out, s = [], sigma2_0
    for r in np.asarray(returns, float):
        s = omega + alpha * abs(r - mu) + beta * s
        out.append(s)
    return np.array(out)


def garch_carries_volatility(returns, omega, alpha, beta, mu, sigma2_0):
    out, s = [], sigma2_0
    for r in np.asarray(returns, float):
        value = omega + alpha * (r - mu) ** 2 + beta * s
        out.append(value)
        s = np.sqrt(value)
    return np.array(out)


RIGHT = {"08.1": pk_right, "08.2": har_right, "08.3": ql_right, "08.4": garch_right}
MISTAKES = {
    "08.1": [("no 4 ln 2", pk_no_constant, "/ (4 ln 2)"),
             ("ln 2 without the 4", pk_ln2_only, "/ (4 ln 2)"),
             ("percent scale x 100", pk_times_100, "not times 100"),
             ("log10", pk_log10, "the natural log"),
             ("simple range (H - L) / L", pk_simple_range, "not the simple range"),
             ("square root: a volatility", pk_volatility, "not its square root"),
             ("mean over the days", pk_mean, "not a mean over the days"),
             ("no validation", pk_no_checks, "raise ValueError naming the day"),
             ("no check of positive prices", pk_no_price_check, "Prices must be positive")],
    "08.2": [("windows end at the target day", har_lookahead, "looks ahead"),
             ("y not shifted", har_target_not_shifted, "y[i] = v[t + 1]"),
             ("means of the days before t", har_windows_exclude_today, "ENDING at t"),
             ("first row at t = 22", har_one_row_short, "n - 22 rows"),
             ("columns in reverse order", har_columns_reversed, "daily, weekly (5 days), monthly (22 days)"),
             ("empty arrays instead of an error", har_no_error, "raise ValueError instead of returning empty")],
    "08.3": [("h/v instead of v/h", ql_swapped, "not forecast / actual"),
             ("ln h + v/h", ql_unnormalised, "not ln(h) + v/h"),
             ("no - 1", ql_no_minus_one, "scores exactly 0"),
             ("sum instead of mean", ql_sum, "not the sum"),
             ("log10", ql_log10, "natural log"),
             ("no check of zeros", ql_no_check, "raise ValueError naming it")],
    "08.4": [("mu left out", garch_no_mu, "eps_t = r_t - mu"),
             ("alpha and beta swapped", garch_swapped, "alpha multiplies the squared shock"),
             ("sigma2_0 returned first", garch_includes_start, "sigma2_0 itself is not in the output"),
             ("out[t] from r[t-1]", garch_previous_return, "it uses r[t] itself"),
             ("|eps| instead of eps^2", garch_absolute_shock, "squared"),
             ("square root carried", garch_carries_volatility, "not its square root, is carried")],
}
(test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
 test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=6, right=RIGHT, mistakes=MISTAKES)


def test_hand_worked_values():
    assert pk_right([102.0], [100.0])[0] == pytest.approx(1.41436, abs=1e-5)
    assert ql_right([1.0, 2.0], [2.0, 1.0]) == pytest.approx(0.25)
    np.testing.assert_allclose(garch_right([1.0, -2.0, 0.5], 0.1, 0.1, 0.8, 0.0, 1.0), [1.0, 1.3, 1.165])
    X, y = har_right(np.arange(1.0, 31.0))
    np.testing.assert_allclose(X[0], [22.0, 20.0, 11.5])
    assert y[0] == 23.0 and X.shape == (8, 3)

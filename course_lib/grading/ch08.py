"""Chapter 08 exercises: Parkinson's range estimator, the HAR regressors without lookahead, the QLIKE loss, the
GARCH(1,1) one-step variance recursion."""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib import data
from course_lib.evaluation.metrics import qlike
from course_lib.grading.registry import Case, Exercise
from course_lib.volatility.models import garch_variance_path, har_design
from course_lib.volatility.proxies import parkinson, percent_returns


def parkinson_reference(high, low):
    high, low = np.asarray(high, dtype=float), np.asarray(low, dtype=float)
    middle = np.sqrt(np.abs(high * low))              # an open/close inside [low, high]; validation names bad bars
    bars = pd.DataFrame({"Open": middle, "High": high, "Low": low, "Close": middle},
                        index=pd.bdate_range("2000-01-03", periods=len(high)))
    return parkinson(bars).to_numpy()


def har_design_reference(variance):
    variance = np.asarray(variance, dtype=float)
    if len(variance) < 23:
        raise ValueError(f"a HAR design needs at least 23 values (22 for the month, 1 target), got {len(variance)}")
    X, y = har_design(variance)
    return X.to_numpy(), y.to_numpy()


def qlike_reference(actual, forecast):
    return qlike(actual, forecast)


def garch_variances_reference(returns, omega, alpha, beta, mu, sigma2_0):
    return garch_variance_path(returns, omega, alpha, beta, mu=mu, initial=sigma2_0).to_numpy()


def _bars() -> pd.DataFrame:
    return data.load_sp500()


# ----------------------------------------------------------------------------- 08.1 Parkinson
def _parkinson_cases():
    bars = _bars().loc["2008"]
    formula = ("Parkinson variance = 10000 * ln(H / L)^2 / (4 ln 2) in %^2 (the natural log, np.log; the decimal "
               "variance times 100^2, not times 100); for H = 102, L = 100 that is 1.414.")
    return [
        Case("one bar by hand: high 102, low 100", (np.array([102.0]), np.array([100.0])), hint=formula),
        Case("a wide bar: high 110, low 90", (np.array([110.0]), np.array([90.0])),
             hint="Use the log of the ratio, ln(H / L) = np.log(high / low), not the simple range (H - L) / L or "
                  "(H - L) / H: for a wide bar they differ (0.2007 vs 0.2222)."),
        Case("S&P 500, the 253 bars of 2008", (bars["High"].to_numpy(), bars["Low"].to_numpy()),
             hint="One variance per day (an array as long as high), squared: not its square root (a volatility), not a "
                  "mean over the days."),
        Case("a bar without range (high = low) and a normal one", (np.array([50.0, 51.0]), np.array([50.0, 50.0])),
             hint="A flat bar has variance 0 (ln 1 = 0); the other bars are unaffected."),
        Case("high below low: raise ValueError", (np.array([101.0, 99.0]), np.array([100.0, 100.0])),
             raises="ValueError",
             hint="A day with high < low is a broken bar: raise ValueError naming the day instead of returning a number "
                  "(the squared log would hide the error)."),
        Case("a price of 0: raise ValueError", (np.array([101.0, 1.0]), np.array([100.0, 0.0])), raises="ValueError",
             hint="Prices must be positive to take logs: raise ValueError for a price <= 0."),
    ]


# ----------------------------------------------------------------------------- 08.2 HAR design
def _har_cases():
    pk = parkinson(_bars()).to_numpy()
    spike = np.ones(30)
    spike[25] = 23.0
    layout = ("Row i is t = 21 + i for t = 21 .. n - 2: X[i] = [v[t], mean(v[t-4 : t+1]), mean(v[t-21 : t+1])] (the "
              "day, the 5 and the 22 days ENDING at t), y[i] = v[t + 1]; n - 22 rows.")
    return [
        Case("v = 1, 2, ..., 30", (np.arange(1.0, 31.0),), hint=layout),
        Case("a spike on day 25 of 30", (spike,),
             hint="The spike v[25] is the TARGET of the row t = 24, so it may appear only in y there, and in X only from "
                  "the row t = 25 on: a mean that includes v[t + 1] looks ahead."),
        Case("23 values: exactly one row", (np.linspace(0.5, 2.0, 23),),
             hint="With n values there are n - 22 rows: t runs from 21 (the first day with a full month) to n - 2 (the "
                  "last day whose next day is known)."),
        Case("S&P 500 Parkinson variance, 300 days of 2008-2009", (pk[2250:2550],),
             hint="Columns in the order daily, weekly (5 days), monthly (22 days); each a plain mean, with no NaN rows."),
        Case("22 values: no row, raise ValueError", (np.ones(22),), raises="ValueError",
             hint="Fewer than 23 values leave no (month, next day) pair: raise ValueError instead of returning empty arrays."),
    ]


# ----------------------------------------------------------------------------- 08.3 QLIKE
def _qlike_cases():
    pk = parkinson(_bars()).loc["2018"].to_numpy()
    month_mean = np.convolve(parkinson(_bars()).to_numpy(), np.ones(22) / 22, mode="valid")[-len(pk) - 1:-1]
    return [
        Case("two days by hand", (np.array([1.0, 2.0]), np.array([2.0, 1.0])),
             hint="QLIKE = mean(v/h - ln(v/h) - 1) with v = actual, h = forecast: (0.5 + ln 2 - 1 + 2 - ln 2 - 1) / 2 = 0.25."),
        Case("a perfect forecast", (np.array([0.5, 1.5, 4.0]), np.array([0.5, 1.5, 4.0])),
             hint="A perfect forecast scores exactly 0: use the normalised form v/h - ln(v/h) - 1, not ln(h) + v/h."),
        Case("an under-forecast costs more than an over-forecast", (np.array([4.0]), np.array([1.0])),
             hint="The ratio is actual / forecast (v/h = 4 here, QLIKE 4 - ln 4 - 1 = 1.614), not forecast / actual "
                  "(0.25, QLIKE 0.636): forecasting too LOW is punished more."),
        Case("S&P 500 2018: Parkinson vs last month's mean", (pk, month_mean),
             hint="Return the MEAN over the days (a float), not the sum or the array of daily losses; natural log (np.log)."),
        Case("an actual variance of 0: raise ValueError", (np.array([1.0, 0.0]), np.array([1.0, 1.0])),
             raises="ValueError",
             hint="QLIKE is undefined for a variance <= 0 (log of 0): raise ValueError naming it instead of returning inf or nan."),
        Case("a forecast of 0: raise ValueError", (np.array([1.0, 2.0]), np.array([1.0, 0.0])), raises="ValueError",
             hint="QLIKE is undefined for a variance <= 0 (log of 0): raise ValueError naming it instead of returning inf or nan."),
    ]


# ----------------------------------------------------------------------------- 08.4 GARCH(1,1) recursion
def _garch_cases():
    returns = percent_returns(_bars()["Close"]).loc["2018"].to_numpy()
    return [
        Case("three days by hand", (np.array([1.0, -2.0, 0.5]), 0.1, 0.1, 0.8, 0.0, 1.0),
             hint="out[t] = omega + alpha * (r[t] - mu)^2 + beta * s[t], with s[0] = sigma2_0 and s[t] = out[t - 1]: "
                  "1.0, 1.3, 1.165. n values; sigma2_0 itself is not in the output."),
        Case("a mean return mu = 0.5", (np.array([1.5, -0.5, 0.5, 2.5]), 0.05, 0.1, 0.85, 0.5, 0.8),
             hint="The shock is the return minus its mean: eps_t = r_t - mu, squared."),
        Case("alpha and beta far apart", (np.array([3.0, 0.0, 0.0]), 0.2, 0.3, 0.5, 0.0, 2.0),
             hint="alpha multiplies the squared shock eps_t^2, beta the previous variance s[t]: 0.2 + 0.3 * 9 + 0.5 * 2 = 3.9."),
        Case("out[0] uses r[0]", (np.array([4.0, 1.0]), 0.1, 0.2, 0.7, 0.0, 1.0),
             hint="out[t] is the forecast for day t + 1 made at the close of day t: it uses r[t] itself (r[0] for out[0]), "
                  "not the return before it."),
        Case("S&P 500 2018, arch-like parameters", (returns, 0.03, 0.12, 0.85, 0.06, 0.5),
             hint="A plain loop over the days; the variance, not its square root, is carried from one day to the next."),
    ]


EXERCISES = [
    Exercise("08.1", "Parkinson's range estimator", "parkinson_variance", 1, parkinson_reference, _parkinson_cases,
             "Return 10000 * np.log(high / low) ** 2 / (4 * np.log(2)) per day (%^2), raising ValueError for a price "
             "<= 0 or a day with high < low.",
             also_implemented_by=("course_lib.volatility.proxies:parkinson", "course_lib.volatility:parkinson")),
    Exercise("08.2", "HAR regressors without lookahead", "har_design", 2, har_design_reference, _har_cases,
             "Return (X, y): X of shape (n - 22, 3) with rows [v[t], mean of v[t-4..t], mean of v[t-21..t]] for "
             "t = 21 .. n - 2, and y = v[t + 1] of shape (n - 22,); ValueError when n < 23.",
             also_implemented_by=("course_lib.volatility.models:har_design", "course_lib.volatility.models:har_regressors",
                                  "course_lib.volatility:har_design", "course_lib.volatility:har_regressors")),
    Exercise("08.3", "The QLIKE loss", "qlike_loss", 1, qlike_reference, _qlike_cases,
             "Return mean(v / h - ln(v / h) - 1) for v = actual, h = forecast, as a float; ValueError when any value is <= 0.",
             also_implemented_by=("course_lib.evaluation.metrics:qlike", "course_lib.evaluation:qlike",
                                  "course_lib.volatility.scoring:pointwise_losses")),
    Exercise("08.4", "The GARCH(1,1) variance recursion", "garch_variances", 2, garch_variances_reference,
             _garch_cases,
             "out[t] = omega + alpha * (r[t] - mu)^2 + beta * s[t] with s[0] = sigma2_0 and s[t] = out[t - 1] for t >= 1; "
             "return the n values out[0..n-1] as an array.",
             also_implemented_by=("course_lib.volatility.models:garch_variance_path",
                                  "course_lib.volatility:garch_variance_path")),
]

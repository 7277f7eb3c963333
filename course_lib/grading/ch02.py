"""Chapter 02 exercises: differencing, inverse differencing, returns and reconstruction."""
from __future__ import annotations

import numpy as np

from course_lib import data
from course_lib.differencing import (difference, inverse_difference, log_returns, one_step_prices,
                                     prices_from_returns, recursive_prices)
from course_lib.grading.registry import Case, Exercise


def inverse_order2_reference(diffs, history):
    return inverse_difference(diffs, history, order=2)


def seasonal_reference(x, lag):
    return difference(x, order=1, lag=lag)


def prices_from_log_returns_reference(returns, start_price):
    return prices_from_returns(returns, start_price, kind="log")


def reconstruction_reference(forecast_returns, previous_prices):
    return (one_step_prices(forecast_returns, previous_prices),
            recursive_prices(forecast_returns, previous_prices[0]))


def _sp500_close():
    return data.load_sp500()["Close"]


def _inverse_cases():
    quadratic = np.arange(12.0) ** 2
    walk = data.random_walk(40, seed=4).to_numpy()
    return [
        Case("the post's example: [-7, 11] after [9, 10]", (np.array([-7.0, 11.0]), np.array([9.0, 10.0])),
             hint="By hand: -7 + 2 * 10 - 9 = 4, then 11 + 2 * 4 - 10 = 9; the result is [4, 9], without the history."),
        Case("a quadratic: second differences are constant", (np.full(10, 2.0), quadratic[:2])),
        Case("a random walk's second differences", (difference(walk, 2), walk[:2])),
        Case("history longer than needed: use its last two values", (difference(walk, 2)[10:], walk[:12]),
             hint="Only the last two values of history come just before the first difference."),
    ]


def _seasonal_cases():
    close = _sp500_close().iloc[:40]
    return [
        Case("S&P 500 closes, weekly lag 5", (close, 5)),
        Case("a sine with period 20, lag 20", (data.sine_with_noise(60, period=20, noise=0.0), 20)),
        Case("lag 1 is the first difference", (close.iloc[:10], 1)),
        Case("lag + 1 values give one difference", (close.iloc[:6], 5),
             hint="n = lag + 1 leaves exactly one difference: raise only when n <= lag."),
        Case("a series no longer than the lag must raise ValueError", (close.iloc[:5], 5), raises="ValueError",
             hint="With n <= lag there is no difference to compute: raise ValueError."),
    ]


def _prices_cases():
    r = log_returns(_sp500_close().iloc[:251]).to_numpy()
    return [
        Case("three returns from 100", (np.array([0.1, -0.1, 0.05]), 100.0),
             hint="By hand: 100 e^0.1 = 110.5, 100 e^0 = 100, 100 e^0.05 = 105.1; P_0 itself is not in the result."),
        Case("a year of S&P 500 returns from the first close", (r, float(_sp500_close().iloc[0]))),
        Case("zero returns keep the price", (np.zeros(5), 42.0)),
    ]


def _reconstruction_cases():
    close = _sp500_close()
    actual = close.iloc[1000:1101].to_numpy()
    mean_forecast = np.full(100, 0.0003)
    noisy = np.random.default_rng(5).normal(0.0, 0.01, 100)
    return [
        Case("a constant forecast over 100 days", (mean_forecast, actual[:-1])),
        Case("noisy forecasts over 100 days", (noisy, actual[:-1]),
             hint="One-step: previous_prices[t] * exp(r_t). Recursive: previous_prices[0] * exp(cumsum(r))."),
        Case("two forecasts, by hand", (np.array([0.1, 0.2]), np.array([10.0, 20.0])),
             hint="By hand: one_step = (10 e^0.1, 20 e^0.2), recursive = (10 e^0.1, 10 e^0.3); return them in that order."),
    ]


EXERCISES = [
    Exercise("02.1", "Inverse of a second-order difference", "inverse_difference_order2", 2,
             inverse_order2_reference, _inverse_cases,
             "x_t = d_t + 2 x_(t-1) - x_(t-2): start from the last two values of history and keep going "
             "with the values you rebuild; return only the rebuilt values, as many as diffs.",
             also_implemented_by=("course_lib.differencing:inverse_difference",)),
    Exercise("02.2", "Seasonal difference", "seasonal_difference", 1, seasonal_reference, _seasonal_cases,
             "y_t = x_t - x_(t-lag); the first lag values have no partner and are dropped; keep the dates.",
             also_implemented_by=("course_lib.differencing:difference",)),
    Exercise("02.3", "Prices from log returns", "prices_from_log_returns", 1,
             prices_from_log_returns_reference, _prices_cases,
             "P_t = P_0 * exp(r_1 + ... + r_t): a cumulative sum of the log returns.",
             also_implemented_by=("course_lib.differencing:prices_from_returns", "course_lib.differencing:recursive_prices")),
    Exercise("02.4", "One-step and recursive reconstruction", "one_step_and_recursive", 2,
             reconstruction_reference, _reconstruction_cases,
             "Return a tuple (one_step, recursive) of arrays, each as long as the forecasts.",
             also_implemented_by=("course_lib.differencing:one_step_prices", "course_lib.differencing:recursive_prices", "course_lib.differencing:prices_from_returns")),
]

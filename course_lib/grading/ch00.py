"""Chapter 00 exercises: returns and the stylized facts of the S&P 500."""
from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd

from course_lib import data, differencing, stats
from course_lib.grading.registry import Case, Exercise


@cache
def _sp500_close() -> pd.Series:
    return data.load_sp500()["Close"]


@cache
def _sp500_returns() -> np.ndarray:
    return differencing.log_returns(_sp500_close()).to_numpy()


def _log_returns_cases() -> list[Case]:
    close = _sp500_close()
    with_zero = close.iloc[:5].copy()
    with_zero.iloc[2] = 0.0
    with_negative = close.iloc[:5].copy()
    with_negative.iloc[3] = -1.0
    return [
        Case("first six S&P 500 closes", (close.iloc[:6],)),
        Case("the 2008 crash, Sep-Nov 2008", (close.loc["2008-09-01":"2008-11-30"],)),
        Case("a synthetic geometric random walk", (data.geometric_random_walk(50, seed=3),)),
        Case("a zero price must raise ValueError", (with_zero,), raises="ValueError",
             hint="ln(0) is -inf: check that every price is positive and raise ValueError if not."),
        Case("a negative price must raise ValueError", (with_negative,), raises="ValueError",
             hint="A negative price has no logarithm either (NaN, not inf): refuse every price <= 0 before taking logs."),
    ]


def _autocorrelation_cases() -> list[Case]:
    r = _sp500_returns()
    return [
        Case("S&P 500 log returns, lag 1", (r, 1)),
        Case("absolute returns, lag 1", (np.abs(r), 1)),
        Case("squared returns, lag 5", (r**2, 5)),
        Case("AR(1) with phi=0.8, lag 3", (data.ar1(400, phi=0.8, seed=1).to_numpy(), 3)),
        Case("short hand-made series, lag 2", (np.array([1.0, 3.0, 2.0, 5.0, 4.0]), 2),
             hint="Use the mean of the whole series and divide by the sum of squares of all n deviations."),
        Case("lag 0 gives 1", (np.array([1.0, 3.0, 2.0, 5.0, 4.0]), 0),
             hint="At lag 0 the answer is 1. x[:-0] is x[:0], an empty slice: write x[:len(x) - lag]."),
    ]


def _kurtosis_cases() -> list[Case]:
    return [
        Case("S&P 500 log returns", (_sp500_returns(),)),
        Case("a normal sample", (np.random.default_rng(7).normal(size=2000),)),
        Case("hand-made series with one outlier", (np.array([1.0, 2.0, 3.0, 4.0, 100.0]),),
             hint="On 5 values a small-sample correction changes the result a lot: m_k divides by n, with no "
                  "correction (pandas' .kurt() and scipy's bias=False correct), and ddof=0 throughout."),
    ]


def _tail_cases() -> list[Case]:
    r = _sp500_returns()
    return [
        Case("S&P 500 log returns, k=3", (r, 3.0)),
        Case("S&P 500 log returns, k=4", (r, 4.0)),
        Case("a normal sample, k=2", (np.random.default_rng(11).normal(size=5000), 2.0)),
        Case("hand-made series, k=1", (np.array([0.0, 0.0, 0.0, 0.0, 10.0]), 1.0),
             hint="Count |x - mean| > k * std with the population std (ddof=0), divided by n."),
        Case("small sample where ddof matters, k=2.9", (np.array([0.0] * 9 + [10.0]), 2.9),
             hint="Use the population standard deviation, x.std() with ddof=0; ddof=1 gives a wider threshold."),
        Case("values exactly k std from the mean do not count, k=1", (np.array([-1.0, 1.0, -1.0, 1.0]), 1.0),
             hint="'More than k standard deviations' is strict: use >, not >=."),
        Case("one low outlier, far from 0, k=1", (np.array([5.0, 5.0, 5.0, 5.0, -5.0]), 1.0),
             hint="Count both tails, measured from the mean: |x - mean| > k * std."),
    ]


EXERCISES = [
    Exercise("00.1", "Log returns of a price series", "log_returns", 2, differencing.log_returns,
             _log_returns_cases,
             "r_t = ln(P_t / P_(t-1)); keep the Series' dates (the first date has no return) and "
             "refuse non-positive prices."),
    Exercise("00.2", "Sample autocorrelation at one lag", "autocorrelation", 2, stats.autocorrelation,
             _autocorrelation_cases,
             "rho_k = sum_t (x_t - m)(x_(t-k) - m) / sum_t (x_t - m)^2 with m the mean of all of x."),
    Exercise("00.3", "Excess kurtosis", "excess_kurtosis", 1, stats.excess_kurtosis, _kurtosis_cases,
             "Use central moments m_k = mean((x - mean)^k): excess kurtosis = m4 / m2^2 - 3."),
    Exercise("00.4", "Frequency of tail events", "tail_frequency", 1, stats.tail_frequency, _tail_cases,
             "Share of observations with |x - mean| > k * std (population std, ddof=0)."),
]

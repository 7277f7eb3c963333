"""Chapter 03 exercises: technical indicators from their formulas, aligned with TA-Lib."""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib import data
from course_lib import indicators as ind
from course_lib.grading.registry import Case, Exercise


def _close(name: str = "sp500") -> pd.Series:
    return (data.load_sp500() if name == "sp500" else data.load_nasdaq())["Close"]


def _ema_cases():
    return [
        Case("S&P 500, first 60 closes, n=10", (_close().iloc[:60], 10)),
        Case("hand-made, n=3", (pd.Series([1.0, 2.0, 3.0, 4.0, 5.0, 10.0]), 3),
             hint="The first EMA value (position n-1) is the mean of the first n values; before it, NaN."),
        Case("NASDAQ, 300 closes, n=26", (_close("nasdaq").iloc[:300], 26)),
    ]


def _rsi_cases():
    return [
        Case("S&P 500, 200 closes, n=14", (_close().iloc[:200], 14),
             hint="Wilder smooths: after the first n changes, G_t = (G_(t-1) (n - 1) + gain_t) / n. A rolling mean "
                  "(Cutler's RSI, the guide's code) or pandas' ewm started at the first change gives other values."),
        Case("NASDAQ, 300 closes, n=7", (_close("nasdaq").iloc[1000:1300], 7)),
        Case("a rising series has no losses: RSI 100", (pd.Series(np.arange(1.0, 31.0)), 14),
             hint="With an average loss of 0, RSI is 100: write it as 100 * G / (G + L) to avoid dividing by 0."),
        Case("hand-made, n=2", (pd.Series([10.0, 11.0, 10.5, 10.0, 12.0, 11.0]), 2),
             hint="By hand: days 0-1 NaN; day 2: G = 0.5, L = 0.25, RSI = 66.67; day 3: G = 0.25, L = 0.375, RSI = 40."),
    ]


def _signal_cases():
    macd_line = ind.macd(_close().iloc[:400])["macd"]
    return [
        Case("MACD line of 400 S&P 500 days (33 leading NaN), n=9", (macd_line, 9),
             hint="Skip the leading NaN; seed with the mean of the first n valid values."),
        Case("a line without NaN, n=5", (pd.Series(np.sin(np.arange(40) / 3.0)), 5)),
        Case("a line with 3 leading NaN, n=2", (pd.Series([np.nan, np.nan, np.nan, 1.0, 3.0, 2.0, 5.0]), 2),
             hint="By hand: positions 0-3 NaN, then 2 (the mean of 1 and 3), 2, 4; the result keeps all 7 dates."),
    ]


def _bollinger_cases():
    return [
        Case("hand-made, n=3, k=1", (pd.Series([1.0, 2.0, 3.0, 2.0, 1.0]), 3, 1.0),
             hint="By hand at position 2: middle = mean(1, 2, 3) = 2, std (ddof=0) = 0.8165, so upper = 2.8165 "
                  "and lower = 1.1835; positions 0-1 are NaN; columns upper, middle, lower in that order."),
        Case("S&P 500, 100 closes, n=20, k=2", (_close().iloc[:100], 20, 2.0)),
        Case("NASDAQ, 80 closes, n=10, k=1.5", (_close("nasdaq").iloc[:80], 10, 1.5),
             hint="Use the population standard deviation (ddof=0), as TA-Lib does; pandas' default is ddof=1."),
    ]


def _drawdown_cases():
    return [
        Case("hand-made, n=3", (pd.Series([1.0, 2.0, 1.5, 3.0, 1.5]), 3),
             hint="By hand: NaN, NaN, -0.25, 0, -0.5. The window includes day t itself, so a new high gives 0, "
                  "never a positive number."),
        Case("S&P 500 in 2008, n=20", (_close().loc["2008"], 20),
             hint="Use the highest close of the last n days only (a rolling max over n), not the all-time high."),
        Case("NASDAQ 1999-2002, n=250", (_close("nasdaq").loc["1999":"2002"], 250),
             hint="Only the last n closes up to and including day t may be used: no centred windows."),
    ]


EXERCISES = [
    Exercise("03.1", "EMA seeded like TA-Lib", "ema_talib", 1, ind.ema, _ema_cases,
             "alpha = 2 / (n + 1); y_(n-1) = mean(x_0..x_(n-1)); then y_t = alpha x_t + (1 - alpha) y_(t-1).",
             also_implemented_by=("course_lib.indicators:_recursive_average",)),
    Exercise("03.2", "Wilder's RSI", "wilder_rsi", 2, ind.rsi, _rsi_cases,
             "Average gain and loss start as the mean of the first n changes and are then smoothed with "
             "alpha = 1/n; RSI = 100 - 100 / (1 + G/L); the first n values are NaN.",
             also_implemented_by=("course_lib.indicators:_recursive_average", "course_lib.indicators:_rsi_from_averages")),
    Exercise("03.3", "MACD signal line", "signal_line", 1, ind.ema, _signal_cases,
             "The signal line is an EMA (seeded with an SMA) of the MACD line's valid values.",
             also_implemented_by=("course_lib.indicators:_recursive_average", "course_lib.indicators:macd")),
    Exercise("03.4", "Bollinger bands", "bollinger_bands", 1, ind.bollinger, _bollinger_cases,
             "Return a DataFrame with columns upper, middle, lower: SMA_n +/- k * rolling std (ddof=0)."),
    Exercise("03.5", "A no-lookahead feature: drawdown from the recent high", "rolling_drawdown", 1,
             ind.rolling_drawdown, _drawdown_cases,
             "x_t / max(x_(t-n+1), ..., x_t) - 1, NaN for the first n-1 days."),
]

"""The capstone's data and the rewrites its checks make.

``load_inputs`` joins the S&P 500's daily bars (Open, High, Low, Close, Volume) with the NASDAQ Composite's
close and volume of the same days (``NASDAQ_Close``, ``NASDAQ_Volume``): one frame, one row per trading day.

``rewrite_after(data, position)`` is how the checks ask "does anything before this row depend on what comes
after it?": every row after ``position`` gets its prices multiplied by ``factor`` and its volumes by
``volume_factor``. The rewritten rows are still valid bars (each price of a row scaled alike), but the
series now jumps after ``position``: any statistic that reads those rows (a centred window, ``shift(-1)``, a
scaler fitted on every row) changes, while a value computed from rows up to ``position`` cannot.
"""
from __future__ import annotations

import pandas as pd

from course_lib.data import OHLCV_COLUMNS, PRICE_COLUMNS, load_nasdaq, load_sp500

CHECK_SPAN = ("2012-01-01", "2018-12-31")       # the rows the checks run on: 1760 trading days
NASDAQ_COLUMNS = ("NASDAQ_Close", "NASDAQ_Volume")


def load_inputs(start: str = CHECK_SPAN[0], end: str = CHECK_SPAN[1]) -> pd.DataFrame:
    """S&P 500 OHLCV and the NASDAQ's close and volume, days ``start`` to ``end`` (inclusive), by date.

    (n_days, 7) frame: Open, High, Low, Close, Volume, NASDAQ_Close, NASDAQ_Volume.
    """
    sp500, nasdaq = load_sp500(), load_nasdaq()
    if not sp500.index.equals(nasdaq.index):
        raise ValueError("the S&P 500 and NASDAQ files do not cover the same days")
    frame = sp500.loc[start:end, list(OHLCV_COLUMNS)].copy()
    frame["NASDAQ_Close"] = nasdaq.loc[start:end, "Close"]
    frame["NASDAQ_Volume"] = nasdaq.loc[start:end, "Volume"]
    if len(frame) == 0:
        raise ValueError(f"no trading day between {start} and {end} (the data cover 1999-2018)")
    frame.attrs["name"] = f"S&P 500 and NASDAQ {frame.index[0].date()} to {frame.index[-1].date()}"
    return frame


def rewrite_after(data: pd.DataFrame, position: int, factor: float = 1.25, volume_factor: float = 3.0,
                  reverse: bool = False) -> pd.DataFrame:
    """A copy of ``data`` whose rows ``position + 1, ...`` have prices x ``factor`` and volumes x ``volume_factor``.

    Rows ``0..position`` are untouched. Price columns: Open, High, Low, Close and NASDAQ_Close (those
    present); volume columns: Volume and NASDAQ_Volume.

    With ``reverse=True`` the later rows first take the bars of the later rows in reverse order (the last day's
    bar on the first rewritten date, and so on; dates stay). A uniform scaling leaves every ratio within a row
    (High / Low, Close / Open, NASDAQ / S&P 500) and every return after the first rewritten day as it was, so a
    value that reads only those (``log(High / Low).shift(-1)``) would not move; reversed bars move them too, and
    with ``factor < 1`` the first rewritten day falls instead of jumping (a "next day up" flag moves either way).
    """
    if not 0 <= position < len(data) - 1:
        raise ValueError(f"position must leave at least one row to rewrite: 0 <= position < {len(data) - 1}, "
                         f"got {position}")
    rewritten = data.copy()
    later = rewritten.index[position + 1:]
    if reverse:
        rewritten.iloc[position + 1:] = data.iloc[position + 1:].iloc[::-1].to_numpy()
    prices = [c for c in (*PRICE_COLUMNS, "NASDAQ_Close") if c in data.columns]
    volumes = [c for c in ("Volume", "NASDAQ_Volume") if c in data.columns]
    rewritten.loc[later, prices] = rewritten.loc[later, prices] * factor
    rewritten.loc[later, volumes] = rewritten.loc[later, volumes] * volume_factor
    return rewritten

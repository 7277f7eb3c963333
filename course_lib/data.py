"""Datasets of the course: embedded S&P 500 / NASDAQ daily bars, a learner's CSV, synthetic series.

The two embedded datasets are the daily OHLCV files that ship inside the ``arch``
package (1999-01-04 to 2018-12-31, 5031 trading days each), so no notebook needs
the network. Every loader returns a frame that passed :func:`validate_ohlcv`:
a sorted, duplicate-free ``DatetimeIndex`` named ``Date`` and numeric columns
``Open, High, Low, Close, Volume`` without NaN, with positive prices.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PRICE_COLUMNS = ("Open", "High", "Low", "Close")
OHLCV_COLUMNS = (*PRICE_COLUMNS, "Volume")
SYNTHETIC_START = "2000-01-03"


class DataValidationError(ValueError):
    """Raised when a dataset breaks a rule; the message names the column, row and rule."""


class UnsortedDatesError(DataValidationError):
    """A file's dates go back in time: a row is dated before the one above it."""


class DateGapError(DataValidationError):
    """A file's dates skip more calendar days than a market closes for (``load_csv``'s ``max_gap_days``)."""


# ----------------------------------------------------------------------------- embedded data
def load_sp500() -> pd.DataFrame:
    """S&P 500 index, daily OHLCV 1999-2018 (shipped with ``arch``)."""
    from arch.data import sp500

    return _embedded(sp500.load(), "S&P 500")


def load_nasdaq() -> pd.DataFrame:
    """NASDAQ Composite index, daily OHLCV 1999-2018 (shipped with ``arch``)."""
    from arch.data import nasdaq

    return _embedded(nasdaq.load(), "NASDAQ")


def _embedded(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.index.name = "Date"
    frame.attrs["name"] = name
    validate_ohlcv(frame, source=name)
    return frame


# ----------------------------------------------------------------------------- learner's CSV
def load_csv(path: str | Path, date_column: str = "Date", date_format: str | None = None,
             max_gap_days: int | None = 7) -> pd.DataFrame:
    """Load a daily OHLCV file with columns ``Date, Open, High, Low, Close, Volume``.

    Extra columns are kept. Nothing is repaired: a file with missing columns,
    unparseable / duplicated / unsorted dates, empty cells, non-numeric values
    or non-positive prices raises :class:`DataValidationError`, whose message
    names the column and the line of the file (line 1 is the header).
    Unsorted dates raise its subclass :class:`UnsortedDatesError`; two consecutive
    rows more than ``max_gap_days`` calendar days apart raise :class:`DateGapError`
    (7 is the longest closure in the embedded data, 2001-09-10 to 09-17; ``None``
    turns the check off, e.g. for weekly bars).
    ``date_format`` (e.g. ``"%d/%m/%Y"``) is passed to :func:`pandas.to_datetime`.
    """
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise DataValidationError(f"{source}: the file is empty")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataValidationError(f"{source}: the file is empty") from None
    except pd.errors.ParserError as err:
        raise DataValidationError(f"{source}: not a readable CSV file ({err})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    _require_columns(raw, (date_column, *OHLCV_COLUMNS), source)
    if raw.empty:
        raise DataValidationError(f"{source}: the file has a header but no data rows")

    frame = raw.drop(columns=[date_column])
    for column in frame.columns:
        frame[column] = _parse_numbers(raw[column], column, source, required=column in OHLCV_COLUMNS)
    frame.index = pd.DatetimeIndex(_parse_dates(raw[date_column], date_column, source, date_format),
                                   name="Date")
    frame.attrs["name"] = source
    _check_order_and_gaps(frame.index, source, max_gap_days)
    validate_ohlcv(frame, source=source)
    return frame


def _check_order_and_gaps(index: pd.DatetimeIndex, source: str, max_gap_days: int | None) -> None:
    """Dates of a file in time order (:class:`UnsortedDatesError`) without a hole longer than ``max_gap_days``
    calendar days (:class:`DateGapError`); duplicated dates are left to :func:`validate_ohlcv`."""
    days = np.diff(index.to_numpy().astype("datetime64[s]").astype(np.int64)) / 86_400
    if (days < 0).any():
        pos = int(np.flatnonzero(days < 0)[0]) + 1
        raise UnsortedDatesError(
            f"{source}: dates are not sorted: {index[pos].date()} (row {pos}, line {_file_line(pos)} "
            f"of a CSV) comes after {index[pos - 1].date()}")
    if max_gap_days is not None and (days > max_gap_days).any():
        pos = int(np.flatnonzero(days > max_gap_days)[0]) + 1
        raise DateGapError(
            f"{source}: gap in the dates: {int(days[pos - 1])} days from {index[pos - 1].date()} to "
            f"{index[pos].date()} (lines {_file_line(pos - 1)}-{_file_line(pos)}), more than max_gap_days="
            f"{max_gap_days}; {int((days > max_gap_days).sum())} such gap(s). Fill in the missing rows or pass "
            "max_gap_days=None if the gap is real")


def _file_line(position: int) -> int:
    """Line number in the file of data row ``position`` (0-based), the header being line 1."""
    return position + 2


def _require_columns(frame: pd.DataFrame, required: tuple[str, ...], source: str) -> None:
    for column in required:
        if column in frame.columns:
            continue
        near = [c for c in frame.columns if c.lower() == column.lower()]
        hint = f" (found {near[0]!r}: rename it to {column!r})" if near else ""
        raise DataValidationError(
            f"{source}: missing column {column!r}{hint}; columns found: {list(frame.columns)}")


def _parse_numbers(text: pd.Series, column: str, source: str, required: bool) -> pd.Series:
    stripped = text.str.strip()
    blank = stripped.isin(["", "NaN", "nan", "NA", "N/A", "null"])
    if required and blank.any():
        pos = int(np.flatnonzero(blank.to_numpy())[0])
        raise DataValidationError(
            f"{source}: column {column!r} has {int(blank.sum())} missing value(s) (NaN or empty), "
            f"first at line {_file_line(pos)}")
    numbers = pd.to_numeric(stripped.mask(blank), errors="coerce")
    bad = numbers.isna() & ~blank
    if bad.any():
        if not required:
            return text  # an extra, non-numeric column (e.g. a ticker) is kept as text
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{source}: column {column!r} has a non-numeric value {text.iloc[pos]!r} "
            f"at line {_file_line(pos)}")
    return numbers.astype("float64")


def _parse_dates(text: pd.Series, column: str, source: str, date_format: str | None) -> pd.Series:
    dates = pd.to_datetime(text.str.strip(), errors="coerce", format=date_format)
    bad = dates.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataValidationError(
            f"{source}: column {column!r} has a value that is not a date, {text.iloc[pos]!r} "
            f"at line {_file_line(pos)}" + ("" if date_format else " (pass date_format= if the "
                                            "dates use another layout than the first row)"))
    return dates


# ----------------------------------------------------------------------------- validation
def validate_ohlcv(frame: pd.DataFrame, source: str = "data") -> None:
    """Check the rules every OHLCV frame of the course obeys; raise :class:`DataValidationError` naming the first break.

    Rules: a ``DatetimeIndex`` that is strictly increasing (no duplicates), at least
    one row, columns Open/High/Low/Close/Volume present and numeric without NaN,
    prices > 0, Volume >= 0, and each bar consistent: Low <= Open, Close <= High.
    """
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise DataValidationError(f"{source}: the index must be a DatetimeIndex, got {type(frame.index).__name__}")
    if len(frame) == 0:
        raise DataValidationError(f"{source}: no rows")
    _require_columns(frame, OHLCV_COLUMNS, source)
    _check_dates(frame.index, source)
    for column in OHLCV_COLUMNS:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DataValidationError(f"{source}: column {column!r} must be numeric, got dtype {values.dtype}")
        _check_rows(frame, values.isna(), f"column {column!r} has NaN", source)
    for column in PRICE_COLUMNS:
        _check_rows(frame, frame[column] <= 0, f"column {column!r} has a non-positive price", source)
    _check_rows(frame, frame["Volume"] < 0, "column 'Volume' has a negative volume", source)
    _check_rows(frame, frame["Low"] > frame["High"], "bar with Low above High", source)
    for column in ("Open", "Close"):
        outside = (frame[column] > frame["High"]) | (frame[column] < frame["Low"])
        _check_rows(frame, outside, f"bar with {column} outside [Low, High]", source)


def _check_dates(index: pd.DatetimeIndex, source: str) -> None:
    if index.hasnans:
        pos = int(np.flatnonzero(index.isna())[0])
        raise DataValidationError(f"{source}: missing date at row {pos}")
    duplicated = index.duplicated()
    if duplicated.any():
        pos = int(np.flatnonzero(duplicated)[0])
        raise DataValidationError(
            f"{source}: duplicated date {index[pos].date()} (row {pos}, line {_file_line(pos)} of a CSV)")
    steps = np.diff(index.asi8)
    if (steps < 0).any():
        pos = int(np.flatnonzero(steps < 0)[0]) + 1
        raise DataValidationError(
            f"{source}: dates are not sorted: {index[pos].date()} (row {pos}, line {_file_line(pos)} "
            f"of a CSV) comes after {index[pos - 1].date()}")


def _check_rows(frame: pd.DataFrame, broken: pd.Series, what: str, source: str) -> None:
    if broken.any():
        pos = int(np.flatnonzero(broken.to_numpy())[0])
        raise DataValidationError(
            f"{source}: {what} on {frame.index[pos].date()} (row {pos}, line {_file_line(pos)} of a CSV); "
            f"{int(broken.sum())} row(s) affected")


# ----------------------------------------------------------------------------- synthetic series
def _business_days(n: int) -> pd.DatetimeIndex:
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    return pd.bdate_range(SYNTHETIC_START, periods=n, name="Date")


def random_walk(n: int, seed: int = 0, start: float = 0.0, sigma: float = 1.0) -> pd.Series:
    """Additive random walk x_t = x_{t-1} + e_t, e_t ~ N(0, sigma^2), x_0 = start + e_0."""
    index = _business_days(n)
    steps = np.random.default_rng(seed).normal(0.0, sigma, n)
    return pd.Series(start + np.cumsum(steps), index=index, name="random_walk")


def geometric_random_walk(n: int, seed: int = 0, start: float = 100.0, mu: float = 0.0,
                          sigma: float = 0.01) -> pd.Series:
    """Price path with i.i.d. normal log returns: P_t = start * exp(sum_{s<=t} r_s), r_s ~ N(mu, sigma^2)."""
    index = _business_days(n)
    log_returns = np.random.default_rng(seed).normal(mu, sigma, n)
    return pd.Series(start * np.exp(np.cumsum(log_returns)), index=index, name="price")


def ar1(n: int, phi: float, seed: int = 0, sigma: float = 1.0) -> pd.Series:
    """Stationary AR(1): x_t = phi * x_{t-1} + e_t with |phi| < 1, started from its stationary law."""
    if not -1.0 < phi < 1.0:
        raise ValueError(f"phi must satisfy |phi| < 1 for a stationary AR(1), got {phi}")
    index = _business_days(n)
    noise = np.random.default_rng(seed).normal(0.0, sigma, n)
    x = np.empty(n)
    x[0] = noise[0] / np.sqrt(1.0 - phi**2)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + noise[t]
    return pd.Series(x, index=index, name="ar1")


def sine_with_noise(n: int, period: float = 20.0, amplitude: float = 1.0, noise: float = 0.1,
                    seed: int = 0) -> pd.Series:
    """x_t = amplitude * sin(2*pi*t / period) + e_t, e_t ~ N(0, noise^2)."""
    if period <= 0:
        raise ValueError(f"period must be positive, got {period}")
    index = _business_days(n)
    t = np.arange(n)
    x = amplitude * np.sin(2 * np.pi * t / period) + np.random.default_rng(seed).normal(0.0, noise, n)
    return pd.Series(x, index=index, name="sine")

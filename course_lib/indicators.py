"""Technical indicators from their formulas, aligned with TA-Lib.

Every function takes a pandas Series of prices (no NaN) and returns a Series or
DataFrame on the same index. The first rows, where the indicator is not yet
defined (its *warm-up*), are NaN; nothing is filled, and no value at day t uses
a price after day t.

Exponential averages follow TA-Lib: the first value is the simple average of the
first n inputs, then y_t = alpha x_t + (1 - alpha) y_(t-1), with alpha = 2/(n+1)
for an EMA and alpha = 1/n for Wilder's smoothing. pandas' ``ewm`` starts from
the first value instead; :func:`ewm_ema` gives that variant under its own name.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from course_lib.data import validate_ohlcv
from course_lib.validation import as_1d_float, positive_int


# ----------------------------------------------------------------------------- input checks and helpers
def _prices(x, name: str = "x", min_length: int = 1) -> pd.Series:
    """``x`` as a float Series after the library's checks (numeric, no NaN, long enough)."""
    if not isinstance(x, pd.Series):
        raise TypeError(f"{name} must be a pandas Series, got {type(x).__name__}")
    return pd.Series(as_1d_float(x, name, min_length), index=x.index, name=x.name)


def _recursive_average(values: np.ndarray, alpha: float, n: int, start: int = 0) -> np.ndarray:
    """y = NaN before start+n-1; y[start+n-1] = mean(values[start:start+n]); then y_t = alpha v_t + (1-alpha) y_(t-1)."""
    out = np.full(len(values), np.nan)
    first = start + n - 1
    if first >= len(values):
        return out
    seed = values[start:start + n].mean()
    out[first] = seed
    rest = values[first + 1:]
    if len(rest):
        out[first + 1:], _ = lfilter([alpha], [1.0, alpha - 1.0], rest, zi=[(1.0 - alpha) * seed])
    return out


# ----------------------------------------------------------------------------- moving averages
def sma(x: pd.Series, n: int) -> pd.Series:
    """Simple moving average MA_t = (x_t + ... + x_(t-n+1)) / n; the first n-1 values are NaN."""
    n = positive_int(n, "n")
    return _prices(x, min_length=n).rolling(n).mean().rename(f"sma_{n}")


def ema(x: pd.Series, n: int) -> pd.Series:
    """Exponential moving average like TA-Lib: seeded with the SMA of the first n values, alpha = 2/(n+1).

    Leading NaN (e.g. the warm-up of another indicator) are allowed and skipped;
    the first n-1 values after them are NaN.
    """
    n = positive_int(n, "n")
    start = _leading_nan_count(x)
    values = _prices(x.iloc[start:], min_length=n).to_numpy()
    out = np.full(len(x), np.nan)
    out[start:] = _recursive_average(values, 2.0 / (n + 1), n)
    return pd.Series(out, index=x.index, name=f"ema_{n}")


def _leading_nan_count(x) -> int:
    if not isinstance(x, pd.Series):
        raise TypeError(f"x must be a pandas Series, got {type(x).__name__}")
    valid = x.notna().to_numpy()
    return int(np.argmax(valid)) if valid.any() else len(x)


def ewm_ema(x: pd.Series, n: int, adjust: bool = True) -> pd.Series:
    """pandas' ``x.ewm(span=n, adjust=adjust).mean()``, NaN for the first n-1 values to mark the same warm-up.

    It starts from the first value (adjust=False: y_0 = x_0) or uses normalised
    weights (adjust=True, pandas' default), so it differs from :func:`ema` at first
    and converges to it as (1 - alpha)^t dies out.
    """
    n = positive_int(n, "n")
    return _prices(x, min_length=n).ewm(span=n, adjust=adjust, min_periods=n).mean().rename(f"ewm_{n}")


# ----------------------------------------------------------------------------- RSI
def rsi(x: pd.Series, n: int = 14, method: str = "wilder") -> pd.Series:
    """Relative strength index RSI = 100 - 100 / (1 + RS), RS = average gain / average loss over n changes.

    method="wilder" (TA-Lib, the standard): averages start as the mean of the first n
    changes and are then smoothed with alpha = 1/n. method="cutler" (the guide's
    ``calculate_rsi``): plain rolling means of the last n changes. The first n values are
    NaN. A window with no losses gives 100; a window with neither gains nor losses
    gives 0, as TA-Lib does.
    """
    n = positive_int(n, "n")
    values = _prices(x, min_length=n + 1).to_numpy()
    change = np.diff(values)
    gain, loss = np.clip(change, 0.0, None), np.clip(-change, 0.0, None)
    if method == "wilder":
        avg_gain, avg_loss = (_recursive_average(v, 1.0 / n, n) for v in (gain, loss))
    elif method == "cutler":
        avg_gain, avg_loss = (pd.Series(v).rolling(n).mean().to_numpy() for v in (gain, loss))
    else:
        raise ValueError(f"method must be 'wilder' or 'cutler', got {method!r}")
    out = np.full(len(values), np.nan)
    out[1:] = _rsi_from_averages(avg_gain, avg_loss)
    return pd.Series(out, index=x.index, name=f"rsi_{n}")


def _rsi_from_averages(avg_gain: np.ndarray, avg_loss: np.ndarray) -> np.ndarray:
    """100 - 100 / (1 + G/L), computed as 100 G / (G + L) so that L = 0 needs no division; 0 when G = L = 0."""
    total = avg_gain + avg_loss
    out = np.full(len(total), np.nan)
    moving = total > 0  # False for NaN (warm-up) and for flat windows
    out[moving] = 100.0 * avg_gain[moving] / total[moving]
    out[total == 0] = 0.0
    return out


# ----------------------------------------------------------------------------- MACD and Bollinger bands
def macd(x: pd.Series, fast: int = 12, slow: int = 26, signal: int = 9) -> pd.DataFrame:
    """MACD = EMA_fast - EMA_slow, signal = EMA_signal(MACD), histogram = MACD - signal, aligned with TA-Lib.

    Like TA-Lib, the fast EMA is seeded on the ``fast`` values that end where the slow
    EMA's seed ends (index slow-1), and all three columns start together at index
    slow + signal - 2 (33 for 12/26/9). The fast EMA therefore differs from
    ``ema(x, fast)`` at first; the difference shrinks by (1 - 2/(fast+1)) per day.
    """
    fast, slow, signal = positive_int(fast, "fast"), positive_int(slow, "slow"), positive_int(signal, "signal")
    if fast >= slow:
        raise ValueError(f"fast must be shorter than slow, got fast={fast}, slow={slow}")
    values = _prices(x, min_length=slow + signal - 1).to_numpy()
    line = (_recursive_average(values, 2.0 / (fast + 1), fast, start=slow - fast)
            - _recursive_average(values, 2.0 / (slow + 1), slow))
    signal_line = np.full(len(values), np.nan)
    signal_line[slow - 1:] = _recursive_average(line[slow - 1:], 2.0 / (signal + 1), signal)
    line[: slow + signal - 2] = np.nan
    return pd.DataFrame({"macd": line, "signal": signal_line, "histogram": line - signal_line}, index=x.index)


def bollinger(x: pd.Series, n: int = 20, k: float = 2.0) -> pd.DataFrame:
    """Bollinger bands: middle = SMA_n, upper/lower = middle +/- k * (population std of the last n values)."""
    n = positive_int(n, "n")
    if not np.isfinite(k) or k <= 0:
        raise ValueError(f"k must be a positive number, got {k!r}")
    prices = _prices(x, min_length=n)
    middle = prices.rolling(n).mean()
    spread = k * prices.rolling(n).std(ddof=0)
    return pd.DataFrame({"upper": middle + spread, "middle": middle, "lower": middle - spread}, index=x.index)


def rolling_drawdown(x: pd.Series, n: int) -> pd.Series:
    """Distance below the recent high: x_t / max(x_(t-n+1), ..., x_t) - 1 (0 at a new high); first n-1 values NaN."""
    n = positive_int(n, "n")
    prices = _prices(x, min_length=n)
    return (prices / prices.rolling(n).max() - 1.0).rename(f"drawdown_{n}")


# ----------------------------------------------------------------------------- model inputs
def build_features(ohlcv: pd.DataFrame, sma_windows: tuple[int, ...] = (20, 50), rsi_period: int = 14,
                   macd_periods: tuple[int, int, int] = (12, 26, 9), bollinger_period: int = 20,
                   warmup: str = "drop") -> pd.DataFrame:
    """The guide's model inputs x_t = [price, volume, returns, MA, RSI, MACD, ...] from a daily OHLCV frame.

    Columns: close, volume, log_return, sma_<n> for each window, rsi_<n>, macd, macd_signal,
    macd_hist, bb_percent_b (where the close sits between the bands, 0 = lower, 1 = upper)
    and bb_width ((upper - lower) / middle). Every value at day t uses prices up to day t.

    warmup="drop" removes the leading rows where some indicator is still warming up and
    records how many in ``frame.attrs["warmup_rows"]``; warmup="keep" keeps them as NaN.
    """
    if warmup not in ("drop", "keep"):
        raise ValueError(f"warmup must be 'drop' or 'keep', got {warmup!r}")
    validate_ohlcv(ohlcv, source="ohlcv")
    fast, slow, signal = macd_periods
    needed = max(*sma_windows, rsi_period + 1, slow + signal - 1, bollinger_period)
    if len(ohlcv) < needed:
        raise ValueError(f"{len(ohlcv)} rows are not enough: these indicators need at least {needed} rows "
                         "to finish their warm-up")
    close = ohlcv["Close"].astype(np.float64)
    features = {"close": close, "volume": ohlcv["Volume"].astype(np.float64),
                "log_return": np.log(close).diff()}
    for n in sma_windows:
        features[f"sma_{n}"] = sma(close, n)
    features[f"rsi_{rsi_period}"] = rsi(close, rsi_period)
    lines = macd(close, *macd_periods)
    features.update(macd=lines["macd"], macd_signal=lines["signal"], macd_hist=lines["histogram"])
    bands = bollinger(close, bollinger_period)
    width = bands["upper"] - bands["lower"]
    with np.errstate(invalid="ignore", divide="ignore"):
        features["bb_percent_b"] = ((close - bands["lower"]) / width).where(width > 0)
    features["bb_width"] = width / bands["middle"]
    frame = pd.DataFrame(features)
    complete = frame.notna().all(axis=1).to_numpy()
    if not complete.any():
        raise ValueError("no row has every feature defined (e.g. flat prices give no Bollinger width)")
    first = int(np.argmax(complete))
    if not complete[first:].all():
        pos = first + int(np.argmax(~complete[first:]))
        bad = frame.columns[frame.iloc[pos].isna()].tolist()
        raise ValueError(f"features {bad} are undefined on {frame.index[pos]} after the warm-up "
                         "(e.g. flat prices give no Bollinger width)")
    frame.attrs["warmup_rows"] = first
    return frame.iloc[first:] if warmup == "drop" else frame

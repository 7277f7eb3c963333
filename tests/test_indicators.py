"""course_lib.indicators against TA-Lib on real closes, the guide's Cutler RSI, no-lookahead, bad input."""
import numpy as np
import pandas as pd
import pytest
import talib

from course_lib import data
from course_lib import indicators as ind

RTOL = 1e-8


@pytest.fixture(scope="module", params=["sp500", "nasdaq"])
def close(request):
    return (data.load_sp500() if request.param == "sp500" else data.load_nasdaq())["Close"]


def assert_matches_talib(ours, theirs, scale=None):
    """Same warm-up (NaN in the same places) and the same values within 1e-8 relative after it.

    ``scale``: for a difference of price-level quantities (MACD, its signal and histogram cross
    zero), the error is relative to the price level, the size of what was subtracted.
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    valid = ~np.isnan(theirs)
    assert valid.sum() > 4000
    size = np.abs(theirs) if scale is None else np.maximum(np.abs(theirs), np.asarray(scale, dtype=float))
    error = np.abs(ours - theirs)[valid] / size[valid]
    assert error.max() <= RTOL, f"max relative error {error.max():.2e} at position {np.flatnonzero(valid)[error.argmax()]}"


@pytest.mark.parametrize("n", [5, 20, 200])
def test_sma(close, n):
    assert_matches_talib(ind.sma(close, n), talib.SMA(close.to_numpy(), n))


@pytest.mark.parametrize("n", [2, 12, 26, 100])
def test_ema(close, n):
    assert_matches_talib(ind.ema(close, n), talib.EMA(close.to_numpy(), n))


@pytest.mark.parametrize("n", [2, 7, 14, 30])
def test_wilder_rsi(close, n):
    assert_matches_talib(ind.rsi(close, n), talib.RSI(close.to_numpy(), n))


@pytest.mark.parametrize("periods", [(12, 26, 9), (5, 35, 5), (8, 17, 9), (3, 10, 16)])
def test_macd(close, periods):
    ours = ind.macd(close, *periods)
    line, signal, histogram = talib.MACD(close.to_numpy(), *periods)
    assert list(ours.columns) == ["macd", "signal", "histogram"]
    for column, theirs in zip(ours.columns, (line, signal, histogram)):
        assert_matches_talib(ours[column], theirs, scale=close.to_numpy())


@pytest.mark.parametrize("n, k", [(20, 2.0), (10, 1.5), (50, 2.5)])
def test_bollinger(close, n, k):
    ours = ind.bollinger(close, n, k)
    upper, middle, lower = talib.BBANDS(close.to_numpy(), n, k, k, 0)
    for column, theirs in zip(["upper", "middle", "lower"], (upper, middle, lower)):
        assert_matches_talib(ours[column], theirs)


def test_outputs_keep_the_index(close):
    for result in (ind.sma(close, 5), ind.ema(close, 5), ind.rsi(close), ind.macd(close), ind.bollinger(close)):
        assert result.index.equals(close.index)


# ----------------------------------------------------------------------------- Cutler vs Wilder
def cutler_rsi_by_hand(prices, n):
    out = [np.nan] * len(prices)
    for t in range(n, len(prices)):
        changes = [prices[s] - prices[s - 1] for s in range(t - n + 1, t + 1)]
        gains = sum(c for c in changes if c > 0) / n
        losses = sum(-c for c in changes if c < 0) / n
        out[t] = 100.0 if losses == 0 else 100 - 100 / (1 + gains / losses)
    return np.array(out)


@pytest.mark.parametrize("n", [3, 14])
def test_cutler_rsi_is_the_rolling_mean_version(n):
    prices = data.load_sp500()["Close"].iloc[:300]
    np.testing.assert_allclose(ind.rsi(prices, n, method="cutler"), cutler_rsi_by_hand(prices.to_numpy(), n),
                               rtol=1e-12, equal_nan=True)


def test_cutler_and_wilder_differ_but_stay_in_range():
    close = data.load_sp500()["Close"]
    difference = (ind.rsi(close, method="cutler") - ind.rsi(close)).abs()
    assert difference.max() > 5
    for method in ("wilder", "cutler"):
        values = ind.rsi(close, method=method).dropna()
        assert values.between(0, 100).all()


def test_rsi_without_losses_is_100_and_flat_prices_give_0_like_talib():
    rising = pd.Series(np.arange(1.0, 31.0))
    flat = pd.Series(np.ones(30))
    for method in ("wilder", "cutler"):
        assert (ind.rsi(rising, method=method).dropna() == 100.0).all()
        assert (ind.rsi(flat, method=method).dropna() == 0.0).all()
    np.testing.assert_array_equal(ind.rsi(rising).to_numpy()[14:], talib.RSI(rising.to_numpy(), 14)[14:])
    np.testing.assert_array_equal(ind.rsi(flat).to_numpy()[14:], talib.RSI(flat.to_numpy(), 14)[14:])


def test_ewm_variant_differs_at_first_and_converges():
    close = data.load_sp500()["Close"]
    gap = (ind.ewm_ema(close, 12, adjust=False) - ind.ema(close, 12)).abs() / close
    assert gap.iloc[11] > 1e-4 and gap.iloc[300:].max() < 1e-12
    pd.testing.assert_series_equal(ind.ewm_ema(close, 12), close.ewm(span=12, min_periods=12).mean(),
                                   check_names=False)


def test_ema_skips_leading_nan_like_a_signal_line():
    close = data.load_sp500()["Close"]
    line = ind.macd(close)["macd"]
    np.testing.assert_allclose(ind.ema(line, 9).to_numpy()[40:], talib.EMA(line.to_numpy(), 9)[40:], rtol=1e-9)


def test_rolling_drawdown_by_hand():
    x = pd.Series([1.0, 2.0, 1.5, 3.0, 1.5])
    np.testing.assert_allclose(ind.rolling_drawdown(x, 3), [np.nan, np.nan, -0.25, 0.0, -0.5])
    close = data.load_sp500()["Close"]
    expected = close / pd.Series(talib.MAX(close.to_numpy(), 250), index=close.index) - 1
    pd.testing.assert_series_equal(ind.rolling_drawdown(close, 250), expected, check_names=False)


# ----------------------------------------------------------------------------- no lookahead
INDICATORS = {
    "sma": lambda x: ind.sma(x, 20),
    "ema": lambda x: ind.ema(x, 12),
    "ewm_ema": lambda x: ind.ewm_ema(x, 12),
    "rsi wilder": lambda x: ind.rsi(x),
    "rsi cutler": lambda x: ind.rsi(x, method="cutler"),
    "macd": lambda x: ind.macd(x),
    "bollinger": lambda x: ind.bollinger(x),
    "rolling_drawdown": lambda x: ind.rolling_drawdown(x, 30),
}


@pytest.mark.parametrize("name", INDICATORS)
@pytest.mark.parametrize("t", [60, 150, 299])
def test_changing_prices_after_day_t_changes_nothing_up_to_t(name, t):
    close = data.load_sp500()["Close"].iloc[:400]
    changed = close.copy()
    changed.iloc[t + 1:] *= np.random.default_rng(t).uniform(0.5, 1.5, len(close) - t - 1)
    before, after = INDICATORS[name](close), INDICATORS[name](changed)
    pd.testing.assert_frame_equal(pd.DataFrame(before).iloc[:t + 1], pd.DataFrame(after).iloc[:t + 1])
    assert not pd.DataFrame(before).iloc[t + 1:].equals(pd.DataFrame(after).iloc[t + 1:])


def test_feature_builder_has_no_lookahead_and_no_filled_warmup(sp500):
    frame = sp500.iloc[:400]
    changed = frame.copy()
    changed.iloc[200:, :4] *= 1.2
    changed.iloc[200:, 1] *= 1.01  # keep High above the others
    before, after = ind.build_features(frame), ind.build_features(changed)
    cut = before.index.get_loc(frame.index[199])
    pd.testing.assert_frame_equal(before.iloc[:cut + 1], after.iloc[:cut + 1])
    kept = ind.build_features(frame, warmup="keep")
    assert kept.attrs["warmup_rows"] == 49 and kept.iloc[:49].isna().any(axis=1).all()
    pd.testing.assert_frame_equal(kept.iloc[49:], before)


def test_feature_builder_columns_and_values(sp500):
    features = ind.build_features(sp500, sma_windows=(10, 30))
    assert list(features.columns) == ["close", "volume", "log_return", "sma_10", "sma_30", "rsi_14", "macd",
                                      "macd_signal", "macd_hist", "bb_percent_b", "bb_width"]
    assert not features.isna().any().any()
    assert features.index[0] == sp500.index[features.attrs["warmup_rows"]]
    day = features.index[1000]
    bands = ind.bollinger(sp500["Close"]).loc[day]
    assert features.loc[day, "bb_percent_b"] == pytest.approx(
        (sp500.loc[day, "Close"] - bands["lower"]) / (bands["upper"] - bands["lower"]))
    assert features.loc[day, "rsi_14"] == pytest.approx(talib.RSI(sp500["Close"].to_numpy())[sp500.index.get_loc(day)])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, error, message", [
    (lambda x: ind.sma(x.iloc[:5], 20), ValueError, "needs at least 20"),
    (lambda x: ind.rsi(x.iloc[:14], 14), ValueError, "needs at least 15"),
    (lambda x: ind.macd(x.iloc[:30]), ValueError, "needs at least 34"),
    (lambda x: ind.sma(x.where(x.index != x.index[3]), 5), ValueError, "NaN value"),
    (lambda x: ind.ema(x, 0), ValueError, "positive integer"),
    (lambda x: ind.rsi(x, 14, method="ewm"), ValueError, "wilder' or 'cutler"),
    (lambda x: ind.macd(x, 26, 12), ValueError, "fast must be shorter"),
    (lambda x: ind.bollinger(x, 20, -1), ValueError, "k must be a positive"),
    (lambda x: ind.sma(x.to_numpy(), 5), TypeError, "pandas Series"),
    (lambda x: ind.sma(x.astype(str), 5), ValueError, "numeric"),
    (lambda x: ind.build_features(data.load_sp500().iloc[:30]), ValueError, "not enough"),
])
def test_bad_input_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call(data.load_sp500()["Close"].iloc[:100])

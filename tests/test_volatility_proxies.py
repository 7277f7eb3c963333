"""Volatility proxies: hand-worked bars, unbiasedness for a simulated Brownian motion, and bad bars refused by name."""
import numpy as np
import pandas as pd
import pytest

from course_lib.data import DataValidationError
from course_lib.volatility import (absolute_returns, garman_klass, parkinson, percent_returns, realized_variance,
                                   rogers_satchell, squared_returns)

LN2 = np.log(2)


def bars_from_logs(u, d, c, open_price=100.0):
    """Bars from log moves in percent: High = O e^{u/100}, Low = O e^{d/100}, Close = O e^{c/100}."""
    u, d, c = (np.asarray(v, dtype=float) / 100 for v in (u, d, c))
    index = pd.bdate_range("2020-01-01", periods=len(u), name="Date")
    return pd.DataFrame({"Open": open_price, "High": open_price * np.exp(u), "Low": open_price * np.exp(d),
                         "Close": open_price * np.exp(c)}, index=index)


# Two bars worked by hand, in percent: up day u=+2, d=-1, c=+1; down day u=0, d=-3, c=-2.
HAND = bars_from_logs(u=[2, 0], d=[-1, -3], c=[1, -2])


def test_parkinson_by_hand():
    # (u - d)^2 / (4 ln 2): both ranges are 3%, 9 / 2.7726 = 3.2460 %^2
    np.testing.assert_allclose(parkinson(HAND), [9 / (4 * LN2)] * 2, rtol=1e-12)
    assert parkinson(HAND).iloc[0] == pytest.approx(3.2460, abs=1e-4)


def test_garman_klass_by_hand():
    # 0.5 (u - d)^2 - (2 ln 2 - 1) c^2: 4.5 - 0.3863 * 1 = 4.1137 and 4.5 - 0.3863 * 4 = 2.9548
    np.testing.assert_allclose(garman_klass(HAND), [4.5 - (2 * LN2 - 1) * 1, 4.5 - (2 * LN2 - 1) * 4], rtol=1e-12)
    assert garman_klass(HAND).round(4).tolist() == [4.1137, 2.9548]


def test_rogers_satchell_by_hand():
    # (u - c) u + (d - c) d: (2-1)*2 + (-1-1)*(-1) = 4 ;  (0+2)*0 + (-3+2)*(-3) = 3
    np.testing.assert_allclose(rogers_satchell(HAND), [4.0, 3.0], rtol=1e-12)


def test_decimal_units_and_index():
    decimal = parkinson(HAND, scale=1.0)
    np.testing.assert_allclose(decimal * 100 ** 2, parkinson(HAND), rtol=1e-12)
    assert decimal.index.equals(HAND.index)


def test_squared_and_absolute_returns_by_hand():
    close = pd.Series([100.0, 100 * np.exp(0.01), 100 * np.exp(0.01 - 0.02)],
                      index=pd.bdate_range("2020-01-01", periods=3))
    np.testing.assert_allclose(percent_returns(close), [1.0, -2.0], rtol=1e-12)
    np.testing.assert_allclose(squared_returns(close), [1.0, 4.0], rtol=1e-12)
    np.testing.assert_allclose(absolute_returns(close), [1.0, 2.0], rtol=1e-12)
    assert squared_returns(close).index.equals(close.index[1:])


def test_realized_variance_is_a_trailing_sum():
    daily = pd.Series([1.0, 2.0, 3.0, 4.0, 10.0], index=pd.bdate_range("2020-01-01", periods=5))
    weekly = realized_variance(daily, days=3)
    assert weekly.tolist() == [6.0, 9.0, 17.0]
    assert weekly.index.equals(daily.index[2:])               # labelled by the last day summed: no lookahead
    with pytest.raises(ValueError, match="days must be a positive integer"):
        realized_variance(daily, days=0)


# ----------------------------------------------------------------------------- Brownian motion
def brownian_bars(n_days: int, steps: int, sigma: float, drift: float = 0.0, exact_extremes: bool = True,
                  seed: int = 0) -> pd.DataFrame:
    """Daily bars of a log price that is a Brownian motion with variance sigma^2 and drift per day.

    Each day is cut into ``steps`` pieces. With ``exact_extremes`` the high and low of each piece are drawn from
    the law of a Brownian bridge's maximum/minimum between its end points,
    max = (a + b + sqrt((b - a)^2 - 2 s^2 ln U)) / 2, so the bar's range is that of the continuous path (up to the
    small dependence of max and min inside the same piece); without it, only the grid points are seen.
    """
    rng = np.random.default_rng(seed)
    s2 = sigma ** 2 / steps
    moves = rng.normal(drift / steps, np.sqrt(s2), size=(n_days, steps))
    path = np.concatenate([np.zeros((n_days, 1)), np.cumsum(moves, axis=1)], axis=1)
    a, b = path[:, :-1], path[:, 1:]
    if exact_extremes:
        spread_high = np.sqrt((b - a) ** 2 - 2 * s2 * np.log(rng.uniform(size=a.shape)))
        spread_low = np.sqrt((b - a) ** 2 - 2 * s2 * np.log(rng.uniform(size=a.shape)))
        high, low = ((a + b + spread_high) / 2).max(axis=1), ((a + b - spread_low) / 2).min(axis=1)
    else:
        high, low = path.max(axis=1), path.min(axis=1)
    return bars_from_logs(100 * high, 100 * low, 100 * path[:, -1])


def mean_within_noise(estimates: pd.Series, truth: float, z: float = 4.0) -> tuple[bool, float, float]:
    """Is the mean within z standard errors (sample std / sqrt(n)) of the truth? Returns (ok, mean, tolerance)."""
    tolerance = z * estimates.std(ddof=1) / np.sqrt(len(estimates))
    return abs(estimates.mean() - truth) <= tolerance, estimates.mean(), tolerance


DAYS, STEPS, SIGMA = 20_000, 200, 0.01          # a 1% daily volatility: true variance 1 %^2 per day


@pytest.fixture(scope="module")
def driftless():
    return brownian_bars(DAYS, STEPS, SIGMA, seed=1)


@pytest.mark.parametrize("estimator", [parkinson, garman_klass, rogers_satchell])
def test_range_estimators_are_unbiased_for_brownian_motion(driftless, estimator):
    ok, mean, tolerance = mean_within_noise(estimator(driftless), truth=1.0)
    assert ok, f"{estimator.__name__}: mean {mean:.4f} is not within {tolerance:.4f} of 1"
    assert tolerance < 0.02                                        # the check is tight enough to mean something


def test_range_estimators_are_less_noisy_than_the_squared_return(driftless):
    open_to_close = (100 * np.log(driftless["Close"] / driftless["Open"])) ** 2
    assert mean_within_noise(open_to_close, truth=1.0)[0]
    efficiency = {f.__name__: open_to_close.var() / f(driftless).var() for f in (parkinson, garman_klass)}
    assert efficiency["parkinson"] == pytest.approx(5.2, rel=0.1)   # theory: 1 / 0.1915 ~ 5.2 (Parkinson 1980)
    assert efficiency["garman_klass"] == pytest.approx(7.4, rel=0.1)  # theory: 1 / 0.135 ~ 7.4 (GK 1980)


def test_the_unbiasedness_check_catches_a_grid_sampled_range():
    """The same check fails when the high and low are only seen at 200 grid points: the range is too short."""
    ok, mean, _ = mean_within_noise(parkinson(brownian_bars(DAYS, STEPS, SIGMA, exact_extremes=False, seed=2)), 1.0)
    assert not ok and mean < 0.95


def test_only_rogers_satchell_is_unbiased_under_drift():
    trending = brownian_bars(DAYS, STEPS, SIGMA, drift=0.01, seed=3)    # drift of one standard deviation a day
    assert mean_within_noise(rogers_satchell(trending), 1.0)[0]
    assert not mean_within_noise(parkinson(trending), 1.0)[0]
    assert not mean_within_noise(garman_klass(trending), 1.0)[0]


# ----------------------------------------------------------------------------- bad bars
def broken(column: str, row: int, value: float) -> pd.DataFrame:
    bars = HAND.copy()
    bars.iloc[row, bars.columns.get_loc(column)] = value
    return bars


@pytest.mark.parametrize("bars, message", [
    (broken("Low", 1, 0.0), "column 'Low' has a non-positive price on 2020-01-02"),
    (broken("Close", 0, -5.0), "column 'Close' has a non-positive price"),
    (broken("High", 1, 90.0), "bar with Low above High on 2020-01-02"),
    (broken("Close", 0, 103.0), "bar with Close outside \\[Low, High\\] on 2020-01-01"),
    (broken("Open", 1, 101.0), "bar with Open outside \\[Low, High\\]"),
    (broken("High", 0, np.nan), "column 'High' has NaN on 2020-01-01"),
    (HAND.drop(columns="Open"), "missing column 'Open'"),
])
@pytest.mark.parametrize("estimator", [parkinson, garman_klass, rogers_satchell])
def test_bad_bars_are_refused_by_name(estimator, bars, message):
    with pytest.raises(DataValidationError, match=message):
        estimator(bars)


def test_bars_must_be_a_frame_and_prices_positive():
    with pytest.raises(DataValidationError, match="bars must be a DataFrame"):
        parkinson(HAND["High"])
    with pytest.raises(ValueError, match="prices must be positive"):
        squared_returns(pd.Series([100.0, 0.0, 101.0]))
    with pytest.raises(ValueError, match="prices has 1 NaN"):
        squared_returns(pd.Series([100.0, np.nan, 101.0]))

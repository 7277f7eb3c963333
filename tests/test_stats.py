"""course_lib.stats against statsmodels and scipy."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats as scipy_stats
from statsmodels.tsa.stattools import acf

from course_lib import differencing, stats

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


@pytest.fixture(scope="module")
def returns(sp500):
    return differencing.log_returns(sp500["Close"]).to_numpy()


def test_autocorrelation_matches_statsmodels_on_sp500(returns):
    lags = np.arange(0, 101)
    for series in (returns, np.abs(returns), returns**2):
        np.testing.assert_allclose(stats.autocorrelation(series, lags), acf(series, nlags=100, fft=False),
                                   rtol=1e-10, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.integers(5, 60), elements=finite), st.integers(0, 4))
def test_autocorrelation_matches_statsmodels_on_random_series(x, lag):
    if np.ptp(x) < 1e-6:
        return
    assert stats.autocorrelation(x, lag) == pytest.approx(acf(x, nlags=lag, fft=False)[lag], rel=1e-8, abs=1e-10)


def test_autocorrelation_scalar_vs_array_lags(returns):
    assert isinstance(stats.autocorrelation(returns, 1), float)
    assert stats.autocorrelation(returns, [1])[0] == stats.autocorrelation(returns, 1)


def test_excess_kurtosis_matches_scipy(returns):
    assert stats.excess_kurtosis(returns) == pytest.approx(scipy_stats.kurtosis(returns, fisher=True, bias=True), rel=1e-12)
    assert stats.excess_kurtosis([1.0, 2.0, 3.0, 4.0, 100.0]) == pytest.approx(
        scipy_stats.kurtosis([1.0, 2.0, 3.0, 4.0, 100.0]), rel=1e-12)


def test_tail_frequency_by_hand_and_against_the_normal():
    assert stats.tail_frequency([0.0, 0.0, 0.0, 0.0, 10.0], 1.0) == 0.2
    sample = np.random.default_rng(0).normal(size=200_000)
    assert stats.tail_frequency(sample, 2.0) == pytest.approx(stats.normal_tail_probability(2.0), abs=0.002)
    assert stats.normal_tail_probability(1.96) == pytest.approx(0.05, abs=1e-4)


def test_sp500_returns_have_fat_tails(returns):
    assert stats.excess_kurtosis(returns) > 5
    assert stats.tail_frequency(returns, 4) > 5 * stats.normal_tail_probability(4)


@pytest.mark.parametrize("call, message", [
    (lambda: stats.autocorrelation([1.0, np.nan, 2.0], 1), "NaN"),
    (lambda: stats.autocorrelation([1.0, 2.0, 3.0], 3), r"lag must be in \[0, 2\]"),
    (lambda: stats.autocorrelation([1.0, 2.0, 3.0], 1.5), "integers"),
    (lambda: stats.autocorrelation([2.0, 2.0, 2.0], 1), "constant"),
    (lambda: stats.excess_kurtosis(np.ones((3, 2))), "1-D"),
    (lambda: stats.tail_frequency([1.0, 2.0], 0), "positive"),
    (lambda: stats.excess_kurtosis(["a", "b"]), "numeric"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()

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


def statsmodels_bartlett(series, nlags, alpha=0.05):
    """Half-width of statsmodels' Bartlett interval at lags 1..nlags (the interval is centred on the ACF)."""
    rho, interval = acf(series, nlags=nlags, fft=True, alpha=alpha, bartlett_confint=True, result_object=False)
    return rho[1:], (interval[:, 1] - rho)[1:]


@pytest.mark.parametrize("alpha", [0.05, 0.01])
def test_bartlett_band_matches_statsmodels(returns, alpha):
    z = scipy_stats.norm.ppf(1 - alpha / 2)
    for series in (returns, np.abs(returns), np.abs(returns[:700])):
        rho, half_width = statsmodels_bartlett(series, 300, alpha)
        np.testing.assert_allclose(stats.bartlett_band(rho, len(series), z), half_width, rtol=1e-12)


def test_bartlett_band_by_hand_and_for_several_series():
    # n = 100, rho = (0.5, 0.3, 0.1): sqrt((1 + 2 * (0, 0.25, 0.34)) / 100) * 2
    np.testing.assert_allclose(stats.bartlett_band([0.5, 0.3, 0.1], 100, z=2.0),
                               [0.2, 2 * np.sqrt(1.5) / 10, 2 * np.sqrt(1.68) / 10], rtol=1e-14)
    np.testing.assert_allclose(stats.bartlett_band(np.zeros(5), 400), np.full(5, 1.96 / 20))
    paths = np.random.default_rng(1).uniform(-0.5, 0.5, size=(3, 4, 20))
    expected = np.array([[stats.bartlett_band(row, 250) for row in block] for block in paths])
    np.testing.assert_array_equal(stats.bartlett_band(paths, 250), expected)


def test_significant_run_by_hand():
    rho = np.array([0.5, -0.4, 0.3, 0.05, 0.6])
    assert stats.significant_run(rho, 0.1) == 3          # lag 4 is the first inside the band
    assert stats.significant_run(rho, 0.5) == 0          # |0.5| is not > 0.5: a boundary value is inside
    assert stats.significant_run(rho, 0.01) == 5         # never inside up to K
    assert stats.significant_run(rho, [0.1, 0.1, 0.4, 0.01, 0.1]) == 2
    np.testing.assert_array_equal(stats.significant_run(np.stack([rho, -rho, rho * 0]), 0.1), [3, 3, 0])


def test_significant_run_against_statsmodels_intervals(returns):
    # statsmodels' interval excludes 0 exactly when |rho_k| > half-width
    for series in (np.abs(returns), np.abs(returns[: len(returns) // 2])):
        rho, half_width = statsmodels_bartlett(series, 400)
        inside = np.flatnonzero(np.abs(rho) <= half_width)
        assert stats.significant_run(rho, stats.bartlett_band(rho, len(series), scipy_stats.norm.ppf(0.975))) == inside[0]


@pytest.mark.parametrize("call, message", [
    (lambda: stats.bartlett_band([0.1, 1.5], 100), r"\[-1, 1\]"),
    (lambda: stats.bartlett_band([0.1, np.nan], 100), "finite"),
    (lambda: stats.bartlett_band([], 100), "lags 1..K"),
    (lambda: stats.bartlett_band(0.3, 100), "lags 1..K"),
    (lambda: stats.bartlett_band([0.1], 1), "n .* >= 2"),
    (lambda: stats.bartlett_band([0.1], 10.0), "integer"),
    (lambda: stats.bartlett_band([0.1], 10, z=0), "z must be positive"),
    (lambda: stats.significant_run([0.1, 0.2], -0.1), "band must be positive"),
    (lambda: stats.significant_run([0.1, 0.2], [0.1, 0.1, 0.1]), "does not fit"),
    (lambda: stats.significant_run(["a"], 0.1), "numeric"),

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

"""course_lib.stationarity against arch and statsmodels, and its readings."""
import warnings

import numpy as np
import pytest
from arch.unitroot import ADF
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.stattools import adfuller, kpss

from course_lib import data, stationarity
from course_lib.differencing import log_returns


@pytest.fixture(scope="module")
def log_prices(sp500):
    return np.log(sp500["Close"].to_numpy())


def test_adf_wrapper_reports_arch_numbers(log_prices):
    result = stationarity.adf_test(log_prices)
    reference = ADF(log_prices, trend="c")
    assert (result.statistic, result.pvalue, result.lags) == (reference.stat, reference.pvalue, reference.lags)
    assert result.null == reference.null_hypothesis


@pytest.mark.parametrize("trend, regression", [("c", "c"), ("ct", "ct")])
def test_adf_agrees_with_statsmodels_at_fixed_lags(log_prices, trend, regression):
    ours = stationarity.adf_test(log_prices, trend=trend, lags=5)
    stat, pvalue, *_ = adfuller(log_prices, maxlag=5, autolag=None, regression=regression, result_object=False)
    assert ours.statistic == pytest.approx(stat, rel=1e-8)
    assert ours.pvalue == pytest.approx(pvalue, rel=1e-3, abs=1e-6)


def test_kpss_agrees_with_statsmodels_at_fixed_lags(sp500):
    r = log_returns(sp500["Close"]).to_numpy()
    ours = stationarity.kpss_test(r, lags=10)
    with warnings.catch_warnings():  # statsmodels notes that its p-value table ends; the statistic is exact
        warnings.simplefilter("ignore", InterpolationWarning)
        stat, *_ = kpss(r, regression="c", nlags=10, result_object=False)
    assert ours.statistic == pytest.approx(stat, rel=1e-8)


def test_sp500_log_prices_have_a_unit_root_and_returns_do_not(log_prices, sp500):
    assert not stationarity.adf_test(log_prices).suggests_stationary
    assert not stationarity.kpss_test(log_prices).suggests_stationary
    r = log_returns(sp500["Close"])
    assert stationarity.adf_test(r).suggests_stationary
    assert stationarity.kpss_test(r).suggests_stationary


def test_readings_of_the_four_outcomes():
    assert "both tests agree: stationary" in stationarity.stationarity_report(data.ar1(2000, 0.3, seed=0))
    assert "not stationary (a unit root)" in stationarity.stationarity_report(data.random_walk(2000, seed=0))


def test_verdict_names_the_null_and_the_decision():
    text = stationarity.adf_test(data.random_walk(500, seed=1)).verdict()
    assert "Null: the process contains a unit root" in text and "does not reject" in text


def test_too_short_or_broken_series_are_refused():
    with pytest.raises(ValueError, match="at least 20"):
        stationarity.adf_test(np.arange(5.0))
    with pytest.raises(ValueError, match="NaN"):
        stationarity.kpss_test(np.r_[np.arange(30.0), np.nan])

"""course_lib.stationarity against arch and statsmodels, and its readings."""
import warnings

import numpy as np
import pytest
from arch.unitroot import ADF, KPSS
from arch.unitroot.critical_values.kpss import kpss_critical_values
from arch.utility.exceptions import InfeasibleTestException
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


# ----------------------------------------------------------------------------- p-values at arch's table ends
@pytest.mark.parametrize("trend", ["c", "ct"])
def test_kpss_pvalue_bounds_are_the_ends_of_archs_table(trend):
    table = kpss_critical_values[trend]           # rows (percent, statistic), p from 100% down to 0.01%
    assert stationarity.pvalue_bounds("KPSS", trend) == (table[-1, 0] / 100, table[0, 0] / 100)
    assert stationarity.pvalue_bounds("KPSS", trend)[0] == pytest.approx(0.0001)
    # arch clips there: any statistic beyond the last quantile gets the floor
    with warnings.catch_warnings():  # arch's notice that its default lag selection changed
        warnings.simplefilter("ignore", DeprecationWarning)
        far = KPSS(np.cumsum(np.random.default_rng(0).normal(size=3000)), trend=trend)
    assert far.stat > table[-1, 1] and far.pvalue == pytest.approx(0.0001)


def test_kpss_pvalue_at_the_floor_prints_as_an_inequality(log_prices):
    result = stationarity.kpss_test(log_prices)
    assert result.pvalue == pytest.approx(0.0001) and result.statistic > 1.6     # beyond arch's table
    assert result.pvalue_at_bound
    assert result.pvalue_text == "≤ 0.0001"
    assert "p-value ≤ 0.0001," in result.verdict()
    assert "p-value 0.0001" not in stationarity.stationarity_report(log_prices)   # the old, exact-looking print


def test_kpss_pvalue_inside_the_table_prints_four_decimals(sp500):
    result = stationarity.kpss_test(log_returns(sp500["Close"]))
    assert not result.pvalue_at_bound
    assert result.pvalue_text == f"{result.pvalue:.4f}" == "0.3349"


def test_adf_pvalue_clipped_to_zero_or_one_prints_as_an_inequality():
    noise = np.random.default_rng(0).normal(size=3000)
    low = stationarity.adf_test(noise, lags=0)              # statistic about -55, beyond MacKinnon's -18.83
    assert low.pvalue == 0.0 == ADF(noise, lags=0).pvalue
    assert low.pvalue_at_bound and low.pvalue_text == "< 0.0001"
    explosive = np.cumprod(np.full(200, 1.05)) + noise[:200]
    high = stationarity.adf_test(explosive)
    assert high.pvalue == 1.0 and high.pvalue_at_bound and high.pvalue_text.startswith("≈ 1")
    assert not stationarity.adf_test(data.random_walk(500, seed=1)).pvalue_at_bound


@pytest.mark.parametrize("pvalue, floor, ceiling, text", [
    (0.0001, 0.0001, 1.0, "≤ 0.0001"),
    (0.00011, 0.0001, 1.0, "0.0001"),          # inside the table: an ordinary (rounded) number
    (3e-29, 0.0, 1.0, "< 0.0001"),
    (0.0, 0.0, 1.0, "< 0.0001"),
    (0.04999, 0.0, 1.0, "0.0500"),
    (1.0, 0.0001, 1.0, "≈ 1 (end of arch's table)"),
])
def test_format_pvalue(pvalue, floor, ceiling, text):
    assert stationarity.format_pvalue(pvalue, floor, ceiling) == text


def test_pvalue_bounds_refuse_unknown_tests():
    with pytest.raises(ValueError, match="test must be 'ADF' or 'KPSS'"):
        stationarity.pvalue_bounds("PP")
    with pytest.raises(ValueError, match="trend must be one of"):
        stationarity.pvalue_bounds("KPSS", "n")


def test_reading_of_adf_stationary_but_kpss_not_names_the_mean():
    """An AR(1) whose mean shifts once: no unit root, but the level is not constant. The reading names the
    mean (trend, level break, long memory), not the variance, which neither test examines."""
    x = data.ar1(3000, 0.5, seed=0).to_numpy() + 1.0 * (np.arange(3000) >= 1500)
    report = stationarity.stationarity_report(x)
    assert "KPSS rejects level stationarity" in report and "a break in the level" in report
    assert "variance" not in report.split("Reading:")[1]
    with_trend = stationarity.stationarity_report(x + 0.001 * np.arange(3000), trend="ct")
    assert "KPSS rejects trend stationarity" in with_trend and "try trend='ct'" not in with_trend


def test_kpss_falls_back_to_schwerts_bandwidth_where_the_automatic_one_cannot_be_computed():
    """The first difference of white noise with a level shift: arch's automatic bandwidth raises
    InfeasibleTestException; the test then uses ceil(12 (n/100)^(1/4)) lags, as statsmodels' "legacy" rule."""
    rng = np.random.default_rng(0)
    over_differenced = np.diff(np.r_[rng.normal(size=150), rng.normal(size=150) + 3])
    with pytest.raises(InfeasibleTestException):
        KPSS(over_differenced).stat
    result = stationarity.kpss_test(over_differenced)
    lags = int(np.ceil(12 * (len(over_differenced) / 100) ** 0.25))
    assert result.lags == lags
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stat, *_ = kpss(over_differenced, regression="c", nlags="legacy", result_object=False)
    assert result.statistic == pytest.approx(stat, rel=1e-10)

"""Auto-ARIMA and ETS forecasters: forms chosen from training data only, forecasts equal to statsmodels' own."""
import warnings

import numpy as np
import pytest
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.holtwinters import SimpleExpSmoothing
from statsmodels.tsa.stattools import kpss

from course_lib.evaluation.backtest import BacktestPlan, walk_forward
from course_lib.evaluation.statistical import ArimaForecaster, EtsForecaster, ProphetForecaster, differencing_order


def ar1(seed, n=400, phi=0.6):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal()
    return x + 5.0


def random_walk(seed, n=400):
    return 100 + np.random.default_rng(seed).normal(size=n).cumsum()


@pytest.mark.parametrize("seed", range(3))
def test_differencing_order_agrees_with_statsmodels_kpss(seed):
    for series in (ar1(seed), random_walk(seed)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = 0 if kpss(series, regression="c", nlags="auto")[1] >= 0.05 else 1
        assert differencing_order(series) == expected
    assert differencing_order(random_walk(seed)) == 1


def test_arima_finds_an_ar1_and_forecasts_like_statsmodels():
    series = ar1(0)
    model = ArimaForecaster().fit(series[:300])
    assert model.order[1] == 0 and model.order[0] >= 1
    expected = ARIMA(series[:300], order=model.order, trend="c").fit()
    np.testing.assert_allclose(model.predict(series[:300], 5), expected.forecast(5), rtol=1e-6)
    # between refits: the same parameters, the state updated with the newer history
    updated = ARIMA(series[:350], order=model.order, trend="c").filter(expected.params)
    np.testing.assert_allclose(model.predict(series[:350], 3), updated.forecast(3), rtol=1e-6)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_ets_picks_a_flat_form_for_a_random_walk_and_matches_simple_smoothing(seed):
    series = random_walk(seed)
    model = EtsForecaster().fit(series[:300])
    assert model.form == "A,N,N"
    forecast = model.predict(series[:350], 4)
    alpha, initial_level = model._params[:2]
    ses = SimpleExpSmoothing(series[:350], initialization_method="known",
                             initial_level=initial_level).fit(smoothing_level=alpha, optimized=False)
    np.testing.assert_allclose(forecast, ses.forecast(4), rtol=1e-8)
    assert np.ptp(forecast) == 0


def test_ets_picks_a_trend_for_a_trending_series():
    rng = np.random.default_rng(2)
    series = 10 + 0.5 * np.arange(300) + rng.normal(scale=0.3, size=300)
    model = EtsForecaster().fit(series)
    assert model.form in ("A,A,N", "A,Ad,N")
    forecast = model.predict(series, 10)
    assert forecast[-1] > forecast[0] + 3


def test_statistical_models_run_in_the_backtest_without_lookahead():
    series = random_walk(3, n=260)
    plan = BacktestPlan(len(series), first_origin=240, horizon=2, refit_every=10)
    table = walk_forward(series, ArimaForecaster(max_p=1, max_q=1), plan)
    rewritten = series.copy()
    rewritten[241:] = 0.0
    again = walk_forward(rewritten, ArimaForecaster(max_p=1, max_q=1), plan)
    first_origin = table["origin"] == 240
    np.testing.assert_allclose(table.loc[first_origin, "forecast"], again.loc[first_origin, "forecast"])


def test_prophet_forecasts_the_business_days_after_the_origin_like_prophet_itself():
    import logging
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    import pandas as pd
    from prophet import Prophet

    dates = pd.bdate_range("2012-01-02", periods=320)
    series = pd.Series(random_walk(4, n=320), index=dates)
    model = ProphetForecaster().fit(series.iloc[:300])
    reference = Prophet(daily_seasonality=False).fit(pd.DataFrame({"ds": dates[:300], "y": series.iloc[:300]}))
    future = pd.DataFrame({"ds": dates[310:313]})
    np.testing.assert_allclose(model.predict(series.iloc[:310], 3), reference.predict(future)["yhat"], rtol=1e-6)
    with pytest.raises(ValueError, match="DatetimeIndex"):
        ProphetForecaster().fit(pd.Series(np.arange(30.0)))


def test_arima_chooses_its_differencing_where_kpss_needs_the_fallback_bandwidth():
    """White noise with a level shift: the first difference defeats KPSS's automatic bandwidth (it used to crash
    the fit with arch's InfeasibleTestException); the differenced series is stationary, so d = 1."""
    rng = np.random.default_rng(0)
    shifted = np.r_[rng.normal(size=150), rng.normal(size=150) + 3]
    model = ArimaForecaster(max_p=1, max_q=0).fit(shifted)
    assert model.order[1] == 1
    assert np.isfinite(model.predict(shifted, 3)).all()

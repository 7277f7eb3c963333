"""Variance forecasters against `arch`'s own fits and recursions, and against numbers worked by hand."""
import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.univariate import HARX, EWMAVariance, ZeroMean

from course_lib.data import load_sp500
from course_lib.volatility import (EwmaForecaster, GarchForecaster, HarForecaster, ewma_variance, fit_har,
                                   garch_variance_path, gjr_forecaster, har_design, har_forecast, har_regressors,
                                   naive_variance, parkinson, percent_returns, weekly_mean_variance)


@pytest.fixture(scope="module")
def returns():
    return percent_returns(load_sp500()["Close"]).iloc[:1600]


@pytest.fixture(scope="module")
def proxy():
    return parkinson(load_sp500()).iloc[:1600]


# ----------------------------------------------------------------------------- naive and EWMA
def test_naive_and_weekly_mean_by_hand():
    history = pd.Series([4.0, 1.0, 2.0, 3.0, 5.0, 9.0])
    np.testing.assert_array_equal(naive_variance().fit(history).predict(history, 2), [9.0, 9.0])
    np.testing.assert_array_equal(weekly_mean_variance().predict(history, 3), [4.0] * 3)   # (1+2+3+5+9) / 5


def test_ewma_by_hand():
    # s0 = 2; s1 = 0.9*2 + 0.1*4 = 2.2; s2 = 0.9*2.2 + 0.1*0 = 1.98
    np.testing.assert_allclose(ewma_variance([4.0, 0.0], lam=0.9, initial=2.0), [2.2, 1.98])


def test_ewma_matches_arch(returns):
    values = returns.to_numpy()
    model = ZeroMean(values, volatility=EWMAVariance(0.94))
    backcast = model.volatility.backcast(values)
    result = model.fit(disp="off", backcast=backcast)
    ours = ewma_variance(values ** 2, 0.94, initial=backcast)
    np.testing.assert_allclose(ours[:-1], result.conditional_volatility[1:] ** 2, rtol=1e-10)
    forecast = EwmaForecaster(0.94, initial=backcast).predict(returns, 3)
    np.testing.assert_allclose(forecast, [result.forecast(horizon=1, reindex=False).variance.iloc[-1, 0]] * 3,
                               rtol=1e-10)


@pytest.mark.parametrize("lam", [0.0, 1.0, 1.2, "0.94"])
def test_ewma_refuses_a_bad_lambda(lam):
    with pytest.raises(ValueError, match="lam .* strictly between 0 and 1"):
        EwmaForecaster(lam)


# ----------------------------------------------------------------------------- GARCH
@pytest.mark.parametrize("o", [0, 1])
def test_variance_recursion_matches_arch(returns, o):
    fitted = arch_model(returns.to_numpy(), o=o).fit(disp="off")
    p = fitted.params
    path = garch_variance_path(returns, p["omega"], p["alpha[1]"], p["beta[1]"], p.get("gamma[1]", 0.0),
                               mu=p["mu"], initial=fitted.conditional_volatility[0] ** 2)
    np.testing.assert_allclose(path.to_numpy()[:-1], fitted.conditional_volatility[1:] ** 2, rtol=1e-9)
    assert path.iloc[-1] == pytest.approx(fitted.forecast(horizon=1, reindex=False).variance.iloc[-1, 0], rel=1e-9)
    assert path.index.equals(returns.index)


def test_garch_recursion_by_hand():
    # sigma2_1 = 0.1 + 0.1*(2-1)^2 + 0.8*1 = 1.0 ; sigma2_2 = 0.1 + (0.1+0.2)*(-1-1)^2 + 0.8*1.0 = 2.1 (bad news)
    np.testing.assert_allclose(garch_variance_path([2.0, -1.0], 0.1, 0.1, 0.8, gamma=0.2, mu=1.0, initial=1.0),
                               [1.0, 2.1])


@pytest.mark.parametrize("make", [GarchForecaster, gjr_forecaster])
def test_forecaster_estimates_and_forecasts_match_arch(returns, make):
    train, history = returns.iloc[:1200], returns.iloc[:1500]
    model = make().fit(train)
    reference = arch_model(train.to_numpy(), o=model.o).fit(disp="off")
    np.testing.assert_allclose(model.params, reference.params, rtol=1e-6)
    # at the refit origin the history is the training data: arch's own forecast of its own fit
    np.testing.assert_allclose(model.predict(train, 3), reference.forecast(horizon=3, reindex=False).variance.iloc[-1],
                               rtol=1e-9)
    # later origins: the fitted parameters, filtered through the newer history, then the analytic recursion
    p = model.params
    forecast = model.predict(history, 3)
    start = arch_model(history.to_numpy(), o=model.o).fix(p.to_numpy()).conditional_volatility[0] ** 2
    one_step = garch_variance_path(history, p["omega"], p["alpha[1]"], p["beta[1]"], p.get("gamma[1]", 0.0),
                                   p["mu"], initial=start).iloc[-1]
    persistence = p["alpha[1]"] + p["beta[1]"] + p.get("gamma[1]", 0.0) / 2
    expected = [one_step, p["omega"] + persistence * one_step]
    expected.append(p["omega"] + persistence * expected[-1])
    np.testing.assert_allclose(forecast, expected, rtol=1e-8)


def test_warm_starts_reach_the_cold_estimates_in_fewer_iterations(returns):
    warm, cold = GarchForecaster(), GarchForecaster(warm_start=False)
    for end in range(1200, 1600, 40):                   # ten refits, 40 days apart, as in a walk-forward
        warm.fit(returns.iloc[:end])
        cold.fit(returns.iloc[:end])
        np.testing.assert_allclose(warm.params, cold.params, rtol=5e-3, atol=1e-4)
    reference = arch_model(returns.iloc[:end].to_numpy()).fit(disp="off")
    np.testing.assert_allclose(cold.params, reference.params, rtol=1e-6)
    assert warm.iterations[0] == cold.iterations[0]               # the first fit has nothing to start from
    assert sum(warm.iterations[1:]) < 0.8 * sum(cold.iterations[1:])


def test_garch_recovers_simulated_parameters():
    """Simulate a GARCH(1,1) with our recursion, estimate with the forecaster: within 4 standard errors."""
    rng = np.random.default_rng(7)
    omega, alpha, beta, n = 0.05, 0.08, 0.88, 4000
    variance, values = omega / (1 - alpha - beta), np.empty(n)
    for t in range(n):
        values[t] = np.sqrt(variance) * rng.standard_normal()
        variance = omega + alpha * values[t] ** 2 + beta * variance
    model = GarchForecaster(mean="Zero").fit(pd.Series(values))
    errors = arch_model(values, mean="Zero").fit(disp="off").std_err
    for name, truth in {"omega": omega, "alpha[1]": alpha, "beta[1]": beta}.items():
        assert abs(model.params[name] - truth) < 4 * errors[name], (name, model.params[name], truth)


def test_garch_bad_input_is_named(returns):
    with pytest.raises(ValueError, match="predict before fit"):
        GarchForecaster().predict(returns, 1)
    with pytest.raises(ValueError, match="train has 1 NaN value"):
        GarchForecaster().fit(returns.iloc[:500].where(returns.index[:500] != returns.index[10]))
    with pytest.raises(ValueError, match="train needs at least 100"):
        GarchForecaster().fit(returns.iloc[:50])


# ----------------------------------------------------------------------------- HAR
def test_har_regressors_by_hand():
    values = pd.Series(np.arange(1.0, 25.0))                      # 1..24
    regressors = har_regressors(values)
    assert regressors.index.tolist() == [21, 22, 23]              # the first full month ends at position 21
    np.testing.assert_allclose(regressors.loc[21], [22.0, 20.0, 11.5])   # v_21 = 22; mean(18..22); mean(1..22)


def test_har_design_never_contains_its_own_target():
    values = pd.Series(np.random.default_rng(0).gamma(2.0, size=60), index=pd.bdate_range("2020-01-01", periods=60))
    X, y = har_design(values)
    assert X.index.equals(y.index) and y.index[0] == values.index[22]
    for position in (22, 40, 59):                                  # change one day: only rows targeting later days
        changed = values.copy()
        changed.iloc[position] *= 50
        X2, y2 = har_design(changed)
        target = values.index[position]
        pd.testing.assert_frame_equal(X2.loc[:target], X.loc[:target])          # incl. the row that targets it
        assert y2.loc[target] != y.loc[target]


def test_har_forecast_by_hand():
    coefs = pd.Series([0.1, 0.4, 0.3, 0.2])
    history = np.arange(1.0, 23.0)                                 # v_t = 22, weekly mean 20, monthly mean 11.5
    first = 0.1 + 0.4 * 22 + 0.3 * 20 + 0.2 * 11.5                 # = 17.2
    second = 0.1 + 0.4 * first + 0.3 * np.mean([19, 20, 21, 22, first]) + 0.2 * np.mean([*range(2, 23), first])
    np.testing.assert_allclose(har_forecast(coefs, history, 2), [first, second])


def test_har_least_squares_equals_arch_harx(proxy):
    train, history = proxy.iloc[:1200], proxy.iloc[:1400]
    ols, via_arch = HarForecaster().fit(train), HarForecaster(backend="arch").fit(train)
    reference = HARX(train.to_numpy(), lags=[1, 5, 22]).fit()
    np.testing.assert_allclose(ols.params, reference.params.iloc[:4], rtol=1e-8)
    np.testing.assert_allclose(via_arch.params, ols.params, rtol=1e-8)
    np.testing.assert_allclose(ols.predict(train, 5), reference.forecast(horizon=5, reindex=False).mean.iloc[-1],
                               rtol=1e-8)
    np.testing.assert_allclose(ols.predict(history, 5), via_arch.predict(history, 5), rtol=1e-8)


def test_har_least_squares_by_normal_equations(proxy):
    X, y = har_design(proxy)
    design = np.column_stack([np.ones(len(X)), X])
    np.testing.assert_allclose(fit_har(proxy), np.linalg.solve(design.T @ design, design.T @ y), rtol=1e-7)
    assert fit_har(proxy).index.tolist() == ["const", "mean_1d", "mean_5d", "mean_22d"]


def test_har_bad_input_is_named(proxy):
    with pytest.raises(ValueError, match="lags must be increasing"):
        HarForecaster(lags=(5, 1, 22))
    with pytest.raises(ValueError, match="backend must be 'ols' or 'arch'"):
        HarForecaster(backend="statsmodels")
    with pytest.raises(ValueError, match="variance has 1 NaN"):
        fit_har(proxy.iloc[:100].where(proxy.index[:100] != proxy.index[50]))
    with pytest.raises(ValueError, match="variance needs at least 22"):
        har_regressors(proxy.iloc[:10])
    with pytest.raises(ValueError, match="predict before fit"):
        HarForecaster().predict(proxy, 1)

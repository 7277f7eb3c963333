"""Scoring variance forecasts: QLIKE's minimum, Patton's robustness, DM and MCS, walk-forward without lookahead,
and the log-volatility features."""
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize_scalar

from course_lib.evaluation.backtest import BacktestPlan, walk_forward
from course_lib.evaluation.diagnostics import lookahead_origins
from course_lib.evaluation.metrics import mae, mse, qlike
from course_lib.evaluation.significance import diebold_mariano
from course_lib.volatility import (EwmaForecaster, GarchForecaster, HarForecaster, attach_proxy, compare_forecasts,
                                   gjr_forecaster, log_volatility_features, loss_matrix, model_confidence_set,
                                   naive_variance, pointwise_losses, volatility_backtest, weekly_mean_variance)


def simulated_garch(n: int, seed: int = 0, omega=0.05, alpha=0.1, beta=0.85):
    """Percent returns of a GARCH(1,1) and their true conditional variances (dated)."""
    rng = np.random.default_rng(seed)
    variance, returns, variances = omega / (1 - alpha - beta), np.empty(n), np.empty(n)
    for t in range(n):
        variances[t] = variance
        returns[t] = np.sqrt(variance) * rng.standard_normal()
        variance = omega + alpha * returns[t] ** 2 + beta * variance
    index = pd.bdate_range("2000-01-03", periods=n, name="Date")
    return pd.Series(returns, index=index, name="return"), pd.Series(variances, index=index)


# ----------------------------------------------------------------------------- QLIKE
def best_constant(loss, proxy):
    """The constant forecast h that minimises the mean loss against the proxy (bounded scalar search)."""
    return minimize_scalar(lambda h: loss(proxy, np.full(len(proxy), h)), bounds=(1e-3, 20), method="bounded",
                           options={"xatol": 1e-10}).x


def test_qlike_is_minimal_at_the_mean_of_the_proxy():
    """mean(v/h - ln(v/h) - 1) = mean(v)/h + ln h + const: the minimiser is h = mean(v), exactly."""
    proxy = np.random.default_rng(0).gamma(2.0, 0.7, size=500)
    assert best_constant(qlike, proxy) == pytest.approx(proxy.mean(), rel=1e-6)
    assert qlike(proxy, np.full(500, proxy.mean())) < qlike(proxy, np.full(500, 1.05 * proxy.mean()))


def test_qlike_and_mse_find_the_true_variance_through_a_noisy_proxy_and_mae_does_not():
    """r ~ N(0, 2): the proxy r^2 is unbiased for 2 but its median is 2 * 0.455. Robust losses (Patton 2011)
    are minimised at the true variance; MAE on the variance is minimised at the median."""
    true_variance, n = 2.0, 40_000
    proxy = (np.sqrt(true_variance) * np.random.default_rng(1).standard_normal(n)) ** 2
    tolerance = 4 * proxy.std() / np.sqrt(n)                              # the minimiser is the sample mean
    assert best_constant(qlike, proxy) == pytest.approx(true_variance, abs=tolerance)
    assert best_constant(mse, proxy) == pytest.approx(true_variance, abs=tolerance)
    assert best_constant(mae, proxy) == pytest.approx(0.4549 * true_variance, rel=0.03)   # chi2_1 median


def test_qlike_refuses_a_zero_variance_by_position():
    with pytest.raises(ValueError, match="realized_variance must be positive: 1 value.* first at position 2"):
        pointwise_losses([1.0, 2.0, 0.0], [1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="forecast_variance must be positive"):
        pointwise_losses([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(ValueError, match="actual has 1 NaN"):
        pointwise_losses([1.0, np.nan], [1.0, 1.0])


def test_pointwise_losses_average_to_the_course_metrics():
    actual, forecast = np.array([1.0, 4.0, 0.5]), np.array([2.0, 2.0, 1.0])
    losses = pointwise_losses(actual, forecast)
    np.testing.assert_allclose(losses["QLIKE"], actual / forecast - np.log(actual / forecast) - 1)
    np.testing.assert_allclose(losses["MSE"], (actual - forecast) ** 2)
    assert losses["QLIKE"].mean() == pytest.approx(qlike(actual, forecast))


# ----------------------------------------------------------------------------- walk-forward and comparison
@pytest.fixture(scope="module")
def garch_world():
    returns, truth = simulated_garch(900, seed=3)
    proxy = returns ** 2 + 1e-4                        # positive everywhere, so QLIKE is defined on every day
    return returns, truth, proxy


@pytest.fixture(scope="module")
def tables(garch_world):
    returns, truth, proxy = garch_world
    start = returns.index[600]
    return {
        "naive": volatility_backtest(weekly_mean_variance(), proxy, proxy, start),
        "EWMA": volatility_backtest(EwmaForecaster(), returns, proxy, start),
        "GARCH": volatility_backtest(GarchForecaster(mean="Zero"), returns, proxy, start, refit_every=100),
        "HAR": volatility_backtest(HarForecaster(), proxy, proxy, start, refit_every=100),
    }


def test_backtest_targets_start_at_start_and_score_on_the_proxy(garch_world, tables):
    returns, _, proxy = garch_world
    table = tables["GARCH"]
    assert table["target"].iloc[0] == returns.index[600] and table["origin"].iloc[0] == returns.index[599]
    np.testing.assert_array_equal(table["actual"], proxy.loc[table["target"]])
    assert table["fitted_at"].nunique() == 3                         # 300 origins, a refit every 100


def test_compare_forecasts_against_direct_dm(tables):
    table = compare_forecasts(tables, benchmark="HAR")
    garch, har = tables["GARCH"], tables["HAR"]
    q_garch = garch["actual"] / garch["forecast"] - np.log(garch["actual"] / garch["forecast"]) - 1
    q_har = har["actual"] / har["forecast"] - np.log(har["actual"] / har["forecast"]) - 1
    assert table.loc["GARCH", "QLIKE"] == pytest.approx(q_garch.mean())
    assert table.loc["GARCH", "QLIKE_DM_p"] == pytest.approx(diebold_mariano(q_garch, q_har).p_value)
    assert table.loc["EWMA", "MSE"] == pytest.approx(mse(tables["EWMA"]["actual"], tables["EWMA"]["forecast"]))
    assert np.isnan(table.loc["HAR", "QLIKE_DM_p"]) and table.index.tolist() == list(tables)


def test_garch_wins_where_the_data_are_garch(garch_world, tables):
    """On a simulated GARCH(1,1), scored on the true variance, the fitted GARCH has the smallest QLIKE; scored on
    the noisy proxy, the one-week mean is clearly the worst."""
    _, truth, _ = garch_world
    on_truth = {name: qlike(truth.loc[t["target"]], t["forecast"]) for name, t in tables.items()}
    assert min(on_truth, key=on_truth.get) == "GARCH"
    on_proxy = compare_forecasts(tables, benchmark="HAR")
    assert on_proxy["QLIKE"].idxmax() == "naive" and on_proxy.loc["naive", "QLIKE_DM_p"] < 0.05


def test_model_confidence_set_drops_a_bad_model(tables):
    spoiled = dict(tables, spoiled=tables["GARCH"].assign(forecast=tables["GARCH"]["forecast"] * 4))
    mcs = model_confidence_set(loss_matrix(spoiled, "QLIKE"), size=0.1, reps=300, seed=0)
    assert not mcs.loc["spoiled", "in_set"] and mcs.loc["GARCH", "in_set"]
    assert mcs.index[0] in ("GARCH", "EWMA", "HAR")


def test_mismatched_tables_and_bad_names_are_refused(tables):
    with pytest.raises(ValueError, match="benchmark 'RW' is not one of"):
        compare_forecasts(tables, benchmark="RW")
    with pytest.raises(ValueError, match="'short' forecasts other target days"):
        compare_forecasts(dict(tables, short=tables["HAR"].iloc[1:]), benchmark="HAR")
    with pytest.raises(ValueError, match="models 'HAR' and 'copy' have identical losses"):
        model_confidence_set(loss_matrix(dict(tables, copy=tables["HAR"])))
    with pytest.raises(ValueError, match="metric must be one of"):
        loss_matrix(tables, "MAE")
    with pytest.raises(ValueError, match="the proxy has no value for target day"):
        attach_proxy(tables["HAR"], tables["HAR"].set_index("target")["actual"].iloc[:-1])


def test_backtest_start_needs_training_days(garch_world):
    returns, _, proxy = garch_world
    with pytest.raises(ValueError, match="leaves no training days"):
        volatility_backtest(naive_variance(), returns, proxy, start=returns.index[0])


# ----------------------------------------------------------------------------- no future bar
PLAN = BacktestPlan(n_rows=400, first_origin=300, horizon=2, refit_every=30)
PROBED = [300, 331, 360, 397]


def forecasts_at(model_factory, transform=lambda values: values):
    """forecast_at_origins for the probe: the h=1 and h=2 forecasts from each probed origin, summed."""
    def run(values):
        table = walk_forward(pd.Series(transform(values)), model_factory(), PLAN)
        return table.groupby("origin")["forecast"].sum().loc[PROBED].to_numpy()
    return run


@pytest.mark.parametrize("factory", [GarchForecaster, gjr_forecaster, EwmaForecaster])
def test_return_models_use_no_future_bar(factory):
    returns, _ = simulated_garch(400, seed=5)
    assert lookahead_origins(forecasts_at(factory), returns.to_numpy(), PROBED) == []


@pytest.mark.parametrize("factory", [naive_variance, weekly_mean_variance, HarForecaster,
                                     lambda: HarForecaster(backend="arch"), lambda: EwmaForecaster(on="variance")])
def test_proxy_models_use_no_future_bar(factory):
    """The probe rewrites rows with normal noise; we probe the log proxy and exponentiate, so it stays positive."""
    returns, _ = simulated_garch(400, seed=6)
    log_proxy = np.log(returns.to_numpy() ** 2 + 1e-4)
    assert lookahead_origins(forecasts_at(factory, np.exp), log_proxy, PROBED) == []


def test_the_probe_catches_a_har_fitted_on_the_whole_series():
    """A HAR whose coefficients come from the full series (a common slip) is caught by the same probe."""
    returns, _ = simulated_garch(400, seed=6)
    log_proxy = np.log(returns.to_numpy() ** 2 + 1e-4)

    class FullSampleHar(HarForecaster):
        def fit(self, train):
            return self                                     # coefficients set below, from every row

    def run(values):
        values = np.exp(values)
        model = FullSampleHar()
        model.params = HarForecaster().fit(pd.Series(values)).params
        table = walk_forward(pd.Series(values), model, PLAN)
        return table.groupby("origin")["forecast"].sum().loc[PROBED].to_numpy()

    assert lookahead_origins(run, log_proxy, PROBED) == PROBED


# ----------------------------------------------------------------------------- features
def test_log_features_are_logs_of_trailing_means():
    values = pd.Series(np.arange(1.0, 25.0), index=pd.bdate_range("2020-01-01", periods=24))
    features = log_volatility_features(values)
    assert features.columns.tolist() == ["log_mean_1d", "log_mean_5d", "log_mean_22d"]
    assert features.index[0] == values.index[21]
    np.testing.assert_allclose(features.iloc[0], np.log([22.0, 20.0, 11.5]))
    changed = values.copy()
    changed.iloc[-1] = 1000.0                               # the last day moves only the last row
    pd.testing.assert_frame_equal(log_volatility_features(changed).iloc[:-1], features.iloc[:-1])


def test_log_features_refuse_a_zero_variance():
    values = np.r_[np.ones(30), 0.0, np.ones(5)]
    with pytest.raises(ValueError, match="variance must be positive to take logs: 1 value.*position 30"):
        log_volatility_features(values)

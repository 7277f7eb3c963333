"""Chapter 02's claims on stationarity and on one-step vs recursive forecasts, re-derived without course_lib.

The references are NumPy least squares, statsmodels (ADF, KPSS, AutoReg, Ljung-Box) and arch's own tables.
Each test recomputes a number or a reading the lesson prints and checks the printed value. The old lesson
fails here: it printed arch's clipped KPSS p-value as an exact "0.0001", called a changing variance "a
different kind of non-stationarity", and reported as "recursive" a path of one-step AR forecasts, each made
with the actual previous return, compounded from one start price.
"""
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from arch.unitroot.critical_values.kpss import kpss_critical_values
from statsmodels.stats.diagnostic import acorr_ljungbox
from statsmodels.tools.sm_exceptions import InterpolationWarning
from statsmodels.tsa.ar_model import AutoReg, ar_select_order
from statsmodels.tsa.stattools import adfuller, kpss

H = 20


@pytest.fixture(scope="module")
def lesson(read_lesson):
    return read_lesson("02_stationarity_and_differencing.ipynb")


def printed_row(printed, label, after=None):
    """The numbers on the printed line that starts with ``label`` (first such line after ``after``)."""
    text = printed if after is None else printed[printed.index(after):]
    found = re.search(rf"^\s*{re.escape(label)}\s+(.*)$", text, flags=re.MULTILINE)
    assert found, f"the lesson does not print a row {label!r}"
    return [float(v) for v in re.findall(r"-?\d+\.\d+", found.group(1))]


# ----------------------------------------------------------------------------- KPSS p-value at the table's end
def test_kpss_of_log_prices_is_beyond_archs_table_and_printed_as_a_bound(sp500, lesson):
    printed, prose = lesson
    log_price = np.log(sp500["Close"].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)
        stat, pvalue, *_ = kpss(log_price, regression="c", nlags="auto", result_object=False)
    last_quantile = kpss_critical_values["c"][-1]             # (0.01 %, statistic)
    assert last_quantile[0] / 100 == pytest.approx(0.0001)
    assert stat > 4 * last_quantile[1]                         # far beyond the table: the true p is far smaller
    assert "KPSS: statistic 7.135, p-value ≤ 0.0001," in printed
    assert not re.search(r"p-value 0\.0001\b", printed)       # the old, exact-looking print
    assert "≤ 0.0001" in prose


# ----------------------------------------------------------------------------- what ADF and KPSS see
def _garch(n, seed, omega=0.02, alpha=0.08, beta=0.90, burn=500):
    z = np.random.default_rng(seed).standard_normal(n + burn)
    x, variance = np.empty(n + burn), omega / (1 - alpha - beta)
    for t in range(n + burn):
        x[t] = np.sqrt(variance) * z[t]
        variance = omega + alpha * x[t] ** 2 + beta * variance
    return x[burn:]


def _readings(x):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InterpolationWarning)
        adf_p = adfuller(x, regression="c", maxlag=10, autolag=None, result_object=False)[1]   # fixed lags: fast
        kpss_p = kpss(x, regression="c", nlags="auto", result_object=False)[1]
    squares = (x - x.mean()) ** 2
    clustering_p = acorr_ljungbox(squares, lags=[10])["lb_pvalue"].iloc[0]
    return adf_p < 0.05, kpss_p >= 0.05, clustering_p < 0.05


def test_adf_and_kpss_see_a_unit_root_but_not_clustering_or_a_volatility_break(lesson):
    """Other seeds and other implementations (statsmodels, a NumPy GARCH) than the lesson's: same readings."""
    printed, _ = lesson
    n, seeds = 2500, range(100, 106)
    garch = np.array([_readings(_garch(n, s)) for s in seeds])
    shift = np.where(np.arange(n) < n // 2, 1.0, 2.0)
    broken = np.array([_readings(np.random.default_rng(s).standard_normal(n) * shift) for s in seeds])
    walk = np.array([_readings(np.random.default_rng(s).standard_normal(n).cumsum())[:2] for s in seeds])
    # stationary with clustering: ADF and KPSS say stationary (allowing one false rejection), McLeod-Li sees it
    assert garch[:, 0].all() and garch[:, 1].sum() >= len(seeds) - 1 and garch[:, 2].all()
    # a variance break is not stationary, yet ADF and KPSS pass it too
    assert broken[:, 0].all() and broken[:, 1].sum() >= len(seeds) - 1 and broken[:, 2].all()
    # a unit root: both tests see it
    assert walk[:, 0].sum() <= 1 and walk[:, 1].sum() <= 1
    rows = {label: re.search(rf"^{re.escape(label)}\s+(\d+)%\s+(\d+)%\s+(\S+)", printed, flags=re.MULTILINE)
            for label in ["GARCH(1,1), α+β = 0.98", "volatility break (σ × 2)", "random walk"]}
    assert all(rows.values())
    garch_row, break_row, walk_row = ([int(m.group(1)), int(m.group(2))] for m in rows.values())
    assert garch_row[0] == 100 and garch_row[1] >= 80 and rows["GARCH(1,1), α+β = 0.98"].group(3) == "100%"
    assert break_row[0] == 100 and break_row[1] >= 80 and rows["volatility break (σ × 2)"].group(3) == "100%"
    assert walk_row[0] <= 20 and walk_row[1] <= 20


# ----------------------------------------------------------------------------- one-step vs recursive forecasts
@pytest.fixture(scope="module")
def experiment(sp500):
    """Everything the lesson's section 6 computes, by independent code: NumPy least squares and plain loops."""
    close = sp500["Close"]
    r = np.log(close).diff().iloc[1:]
    values, price = r.to_numpy(), close.iloc[1:].to_numpy()
    train = r[:"2014"].to_numpy()
    lags = ar_select_order(train, maxlag=10, ic="bic", trend="c").ar_lags
    p = len(lags)
    design = np.column_stack([np.ones(len(train) - p)] + [train[p - i:len(train) - i] for i in range(1, p + 1)])
    params = np.linalg.lstsq(design, train[p:], rcond=None)[0]
    c, phi = params[0], params[1:]
    first = len(train) - 1

    def recursive(t, steps):
        history, out = list(values[:t + 1]), []
        for _ in range(steps):
            out.append(c + sum(phi[i] * history[-1 - i] for i in range(p)))
            history.append(out[-1])
        return np.array(out)

    one_step = np.array([c + sum(phi[i] * values[t - i] for i in range(p)) for t in range(first, len(values) - 1)])
    origins = np.arange(first + 1, len(values) - H)
    start = price[origins]
    actual = np.stack([price[t + 1:t + 1 + H] for t in origins])
    paths = {
        "naive": np.repeat(start[:, None], H, axis=1),
        "drift": start[:, None] * np.exp(train.mean() * np.arange(1, H + 1)),
        "recursive": np.stack([start[k] * np.exp(np.cumsum(recursive(t, H))) for k, t in enumerate(origins)]),
        "mixed": np.stack([start[k] * np.exp(np.cumsum(one_step[t - first:t - first + H]))
                           for k, t in enumerate(origins)]),
    }
    rmse = pd.DataFrame({k: np.sqrt(np.mean((v - actual) ** 2, axis=0)) for k, v in paths.items()},
                        index=range(1, H + 1))
    years = r.index[origins].year
    by_year = {y: {k: np.sqrt(np.mean((v[years == y, -1] - actual[years == y, -1]) ** 2)) for k, v in paths.items()}
               for y in np.unique(years)}
    return dict(lags=list(lags), params=params, first=first, values=values, price=price, one_step=one_step,
                recursive=recursive, rmse=rmse, by_year=by_year, origins=origins)


def test_ar_order_and_coefficients_fitted_on_training_years_only(experiment, lesson):
    printed, _ = lesson
    assert experiment["lags"] == [1, 2]
    c, phi1, phi2 = experiment["params"]
    assert (round(c, 6), round(phi1, 4), round(phi2, 4)) == (0.000137, -0.0817, -0.0530)
    assert f"r^_t = {c:.6f} {phi1:+.4f} r_(t-1) {phi2:+.4f} r_(t-2)" in printed


def test_recursive_path_matches_statsmodels_dynamic_forecast(experiment):
    values, params, first = experiment["values"], experiment["params"], experiment["first"]
    model = AutoReg(values, lags=2, trend="c")
    for t in (first, first + 300, len(values) - 1 - H):
        expected = model.predict(params, start=t + 1, end=t + H, dynamic=True)
        np.testing.assert_allclose(experiment["recursive"](t, H), expected, rtol=1e-9, atol=1e-15)


def test_one_step_forecasts_and_their_errors(experiment, lesson):
    printed, _ = lesson
    first, values, price = experiment["first"], experiment["values"], experiment["price"]
    one_step = experiment["one_step"]
    days = np.arange(first, len(values) - 1)
    actual, naive = price[days + 1], price[days]
    ar = naive * np.exp(one_step)
    for label, forecast in [("AR(2) one-step:", ar), ("naive:", naive)]:
        rmse, mae = np.sqrt(np.mean((forecast - actual) ** 2)), np.mean(np.abs(forecast - actual))
        assert printed_row(printed, label) == [round(rmse, 2), round(mae, 2)]
    # words beside the numbers: AR and naive practically equal one day ahead
    assert abs(np.sqrt(np.mean((ar - actual) ** 2)) / np.sqrt(np.mean((naive - actual) ** 2)) - 1) < 0.005
    hit = np.mean(np.sign(one_step) == np.sign(values[days + 1]))
    assert f"right on {hit:.1%} of days ('always up': {np.mean(values[days + 1] > 0):.1%})" in printed


def test_errors_by_horizon_are_those_printed(experiment, lesson):
    printed, _ = lesson
    rmse = experiment["rmse"]
    header = "price RMSE in index points"
    assert f"{len(experiment['origins'])} origins in 2015-2018" in printed
    for h in (1, 5, 20):
        row = printed_row(printed, str(h), after=header)
        assert row == pytest.approx(rmse.loc[h, ["naive", "drift", "recursive", "mixed"]].round(2).tolist(), abs=0.006)


def test_recursive_is_not_the_old_compounded_one_step_path(experiment, lesson):
    """The old 'recursive' (one-step forecasts compounded) must not be what the lesson reports as recursive."""
    printed, _ = lesson
    rmse = experiment["rmse"]
    assert rmse.loc[1, "recursive"] == pytest.approx(rmse.loc[1, "mixed"], rel=1e-12)     # same at h = 1
    assert rmse.loc[5, "mixed"] > 1.05 * rmse.loc[5, "recursive"]
    assert rmse.loc[20, "mixed"] > 1.1 * rmse.loc[20, "recursive"]
    reported_recursive_h20 = printed_row(printed, "20", after="price RMSE in index points")[2]
    assert reported_recursive_h20 == pytest.approx(rmse.loc[20, "recursive"], abs=0.006)
    assert abs(reported_recursive_h20 - rmse.loc[20, "mixed"]) > 5


def test_what_the_data_show(experiment, lesson):
    """AR and drift within 1% of naive up to 20 days; the edge is unstable across years; mixed is worse."""
    printed, prose = lesson
    relative = experiment["rmse"].div(experiment["rmse"]["naive"], axis=0)
    assert relative.loc[1, "recursive"] == pytest.approx(1.0, abs=0.001)
    assert 0.99 < relative.loc[20, "recursive"] < 1.0 and 0.99 < relative.loc[20, "drift"] < 1.0
    assert abs(relative.loc[20, "recursive"] - relative.loc[20, "drift"]) < 0.005
    ratios = {y: v["recursive"] / v["naive"] for y, v in experiment["by_year"].items()}
    assert set(ratios) == {2015, 2016, 2017, 2018}
    assert min(ratios.values()) < 0.95 and max(ratios.values()) > 1.0     # better in some years, worse in others
    assert printed_row(printed, "AR(2) recursive", after="by year of the origin") == pytest.approx(
        [round(ratios[y], 3) for y in sorted(ratios)], abs=0.0006)
    assert relative.loc[5, "mixed"] > 1.05 and relative.loc[20, "mixed"] > 1.1
    for claim in ("0.5% and 0.9% better than naive", "0.2% and 0.8%", "from 0.93", "9% (h = 5) and 11.5% (h = 20)"):
        assert claim in prose.replace("\n", " ")
    assert f"{(1 - relative.loc[5, 'recursive']):.1%} and {(1 - relative.loc[20, 'recursive']):.1%}" == "0.5% and 0.9%"
    assert f"{(1 - relative.loc[5, 'drift']):.1%} and {(1 - relative.loc[20, 'drift']):.1%}" == "0.2% and 0.8%"
    assert f"{relative.loc[5, 'mixed'] - 1:.0%}" == "9%" and f"{relative.loc[20, 'mixed'] - 1:.1%}" == "11.5%"

"""Chapter 00's claims on stationarity and long memory, re-derived with pandas, statsmodels and arch (not course_lib).

Each test recomputes a number the lesson prints, checks the claim the lesson builds on it, and checks the
printed number. The old lesson fails here: it called returns non-stationary because their volatility changes,
said their mean was "closer to constant" beside a plot where it swings more than the volatility, and read
"~190 significant lags" against an i.i.d. band as long memory, with no sub-periods and no GARCH comparison.
"""
import re

import numpy as np
import pandas as pd
import pytest
from arch import arch_model
from arch.univariate import GARCH, ConstantMean, Normal, StudentsT
from statsmodels.tsa.stattools import acf

MAX_LAG = 500
WINDOW = 252


@pytest.fixture(scope="module")
def lesson(read_lesson):
    return read_lesson("00_course_map_and_data.ipynb")


def printed_number(printed, pattern):
    found = re.search(pattern, printed)
    assert found, f"the lesson does not print {pattern!r}"
    return [float(g.replace(",", "")) for g in found.groups()]


@pytest.fixture(scope="module")
def returns(sp500):
    return np.log(sp500["Close"]).diff().dropna()


def memory_runs(series):
    """(ACF of |series| at lags 1..MAX_LAG, lags before the first one inside the i.i.d. / Bartlett 95% band)."""
    rho, interval = acf(np.abs(np.asarray(series)), nlags=MAX_LAG, fft=True, alpha=0.05, bartlett_confint=True,
                        result_object=False)
    half_width = (interval[:, 1] - rho)[1:]
    rho = rho[1:]
    iid = int(np.argmin(np.abs(rho) > 1.96 / np.sqrt(len(series))))
    bartlett = int(np.argmin(np.abs(rho) > half_width))
    return rho, iid, bartlett


def test_rolling_mean_swings_but_within_its_noise(returns, lesson):
    printed, prose = lesson
    rolling_mean = (returns.rolling(WINDOW).mean() * 252).dropna()
    rolling_vol = (returns.rolling(WINDOW).std() * np.sqrt(252)).dropna()
    # the old text called the mean "closer to constant": on the plot it swings more than the volatility
    assert np.ptp(rolling_mean) > 2 * np.ptp(rolling_vol)
    assert "closer to constant" not in prose
    inside = ((rolling_mean - returns.mean() * 252).abs() <= 1.96 * rolling_vol).mean()
    assert inside > 0.95
    low, high = printed_number(printed, r"rolling 1-year mean: min ([-+]\d\.\d\d) \(\S+\), max ([-+]\d\.\d\d)")
    assert (low, high) == (round(rolling_mean.min(), 2), round(rolling_mean.max(), 2)) == (-0.67, 0.52)
    assert printed_number(printed, r"full-sample mean on (\d+)% of days") == [round(100 * inside)]
    assert printed_number(printed, r"rolling 1-year volatility: .* ratio (\d+\.\d)") == [
        round(rolling_vol.max() / rolling_vol.min(), 1)]


def test_volatility_clustering_is_not_called_non_stationarity(lesson):
    _, prose = lesson
    assert "returns are *not* stationary either" not in prose
    assert "conditional variance" in prose and "weakly) stationary" in prose


def test_memory_length_depends_on_band_and_period(returns, lesson):
    printed, prose = lesson
    half = len(returns) // 2
    full, first, second = (memory_runs(part) for part in (returns, returns.iloc[:half], returns.iloc[half:]))
    assert (full[1], full[2]) == (193, 121)       # the old "~190" is the i.i.d. band; Bartlett's gives ~120
    assert (first[1], first[2]) == (86, 59)
    assert (second[1], second[2]) == (80, 49)     # each half: ~80-90 lags against the i.i.d. band
    assert max(first[1], second[1]) < full[1] / 2
    assert max(first[0][99], second[0][99]) < 0.6 * full[0][99]
    assert printed_number(printed, r"i\.i\.d\. band (\d+), Bartlett band (\d+)") == [193, 121]
    for name, (_, iid, bartlett) in [("first half", first), ("second half", second)]:
        days, got_iid, got_bartlett = printed_number(printed, name + r" \d{4}-\d\d to \d{4}-\d\d\s+(\d+)\s+(\d+)\s+(\d+)")
        assert (days, got_iid, got_bartlett) == (half if name == "first half" else len(returns) - half, iid, bartlett)
    assert not re.search(r"~\s*190", prose)


def test_yearly_volatility_levels_alone_give_a_long_run(returns, lesson):
    printed, _ = lesson
    _, data_iid, data_bartlett = memory_runs(returns)
    for seed in range(3):
        shuffled = returns.groupby(returns.index.year, group_keys=False).apply(
            lambda year: year.sample(frac=1, random_state=seed))
        _, iid, bartlett = memory_runs(shuffled)
        assert iid > data_iid and bartlett > data_bartlett
    low, high = printed_number(printed, r"Bartlett band run: median \d+, range (\d+) to (\d+)")
    assert low > data_bartlett and high < 250


@pytest.fixture(scope="module")
def garch_fits(returns):
    tight = {"ftol": 1e-12, "maxiter": 2000}       # as the lesson: the last digits of alpha + beta then agree
    return {dist: arch_model(100 * returns.to_numpy(), dist=dist).fit(disp="off", options=tight)
            for dist in ("normal", "t")}


def test_garch_persistence(garch_fits, lesson):
    printed, _ = lesson
    persistence = {dist: fit.params["alpha[1]"] + fit.params["beta[1]"] for dist, fit in garch_fits.items()}
    assert 0.98 < persistence["normal"] < 0.995
    assert 0.995 < persistence["t"] < 1
    for label, dist in [("normal", "normal"), ("Student t", "t")]:
        assert printed_number(printed, rf"GARCH\(1,1\), {label} z: .*alpha\+beta (\d\.\d+)") == [
            round(persistence[dist], 5)]
        half_life = printed_number(printed, rf"GARCH\(1,1\), {label} z: .*half-life of a volatility shock about ([\d,]+) days")
        assert half_life == [float(f"{np.log(0.5) / np.log(persistence[dist]):.2g}")]


def test_garch_squared_return_acf_formula():
    """rho_1(r^2) = a(1 - ab - b^2) / (1 - 2ab - b^2), rho_k = rho_1 (a+b)^(k-1), on a long simulated path."""
    alpha, beta = 0.1, 0.8
    model = ConstantMean(None, volatility=GARCH(), distribution=Normal(seed=np.random.default_rng(0)))
    path = model.simulate([0.0, 0.1, alpha, beta], 200_000, burn=1000)["data"].to_numpy()
    rho1 = alpha * (1 - alpha * beta - beta**2) / (1 - 2 * alpha * beta - beta**2)
    np.testing.assert_allclose(acf(path**2, nlags=10, fft=True)[1:], rho1 * (alpha + beta) ** np.arange(10), atol=0.025)


def test_lesson_prints_the_formula_value(garch_fits, lesson):
    printed, _ = lesson
    a, b = garch_fits["normal"].params[["alpha[1]", "beta[1]"]]
    assert printed_number(printed, r"rho_1 = (\d\.\d+)") == [round(a * (1 - a * b - b**2) / (1 - 2 * a * b - b**2), 3)]


def simulate_with_arch(fit, dist, seed, paths, days):
    """Paths of the fitted GARCH from arch's own simulator (not the lesson's loop), shape (paths, days)."""
    distribution = (Normal if dist == "normal" else StudentsT)(seed=np.random.default_rng(seed))
    model = ConstantMean(None, volatility=GARCH(), distribution=distribution)
    return np.array([model.simulate(fit.params.to_numpy(), days, burn=1000)["data"].to_numpy() for _ in range(paths)])


def test_what_a_fitted_garch_implies(returns, garch_fits, lesson):
    """Over three seeds: the normal fit decays faster than the data, the Student-t fit matches it at lag 100."""
    printed, _ = lesson
    data_rho, _, data_bartlett = memory_runs(returns)
    data_ratio = (returns.rolling(WINDOW).std().max() / returns.rolling(WINDOW).std().min())
    medians = {}
    for dist, fit in garch_fits.items():
        per_seed = []
        for seed in range(3):
            paths = simulate_with_arch(fit, dist, seed, paths=40, days=len(returns))
            runs = [memory_runs(path) for path in paths]
            lag100 = np.array([rho[99] for rho, _, _ in runs])
            reach = np.mean([bartlett >= data_bartlett for _, _, bartlett in runs])
            rolling = pd.DataFrame(paths.T).rolling(WINDOW).std()
            ratio = np.median(rolling.max() / rolling.min())
            per_seed.append(np.median(lag100))
            if dist == "normal":
                assert np.median(lag100) < 0.6 * data_rho[99] and reach < 0.25 and ratio < 0.75 * data_ratio
            else:
                assert abs(np.median(lag100) - data_rho[99]) < 0.05 and reach > 0.15
                assert 0.6 * data_ratio < ratio < 1.6 * data_ratio
        medians[dist] = np.median(per_seed)
    row = printed_number(printed, r"ACF of \|r\| at lag 100\s+(\d\.\d+)\s+(\d\.\d+) \(.*?\)\s+\d\.\d+ \(.*?\)\s+(\d\.\d+)")
    assert row[0] == round(data_rho[99], 3)
    assert abs(row[1] - medians["normal"]) < 0.02 and abs(row[2] - medians["t"]) < 0.03

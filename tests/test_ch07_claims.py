"""Chapter 07's headline numbers, re-derived without ``course_lib.ensembles`` or the interval metrics: the five
seed members (returns) and the five HarLSTM members of the log-variance walk-forward are retrained with
``course_lib.training.fit`` (chapters 05 and 08), log-HAR and the quantile regression come from ``statsmodels``,
and every interval, coverage, tercile and ACI step is computed here in plain NumPy/pandas, then compared with what
the lesson printed and says."""
import math
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import torch
from scipy import stats

from course_lib import data
from course_lib.models import LSTMForecaster
from course_lib.training import fit, predict
from course_lib.volatility import HarLSTM
from course_lib.windows import WindowedData, make_loaders

pytestmark = pytest.mark.usefixtures("one_torch_thread")

LESSON = "07_ensembles_and_uncertainty.ipynb"
ALPHA = 0.1


@pytest.fixture(scope="module")
def lesson(read_lesson):
    return read_lesson(LESSON)


@pytest.fixture(scope="module")
def setting():
    close = data.load_sp500()["Close"]
    r = 100 * np.log(close).diff().dropna()
    values = r.to_numpy()
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], 20)[..., None].astype(np.float64)
    y = values[20:]
    days = r.index[20:]
    tr, va = days < "2011-01-01", (days >= "2011-01-01") & (days < "2013-01-01")
    cal, te = (days >= "2013-01-01") & (days < "2015-01-01"), days >= "2015-01-01"
    dataset = WindowedData(x[tr], y[tr], x[va], y[va], x[te], y[te], None, 0, {})
    members = []
    for seed in range(5):                       # the lesson's members 0-4, trained the way train_member does
        torch.manual_seed(seed)
        model = LSTMForecaster(1, 8)
        loaders = make_loaders(dataset, batch_size=128, seed=seed)
        fit(model, loaders["train"], loaders["val"], epochs=15, lr=3e-3, patience=3, seed=seed)
        members.append(predict(model.eval(), x)[:, 0])
    ewma = (r ** 2).ewm(alpha=0.06, adjust=False).mean()           # RiskMetrics, lambda = 0.94
    sigma = np.sqrt(ewma.shift(1)).reindex(days).to_numpy()        # the forecast for day t, known at t - 1
    return dict(r=r, x=x, y=y, days=days, cal=cal, te=te, P=np.array(members), sigma=sigma)


def printed_row(text, label):
    """The numbers on the line of the lesson's printed table that starts with ``label``."""
    line = next(line for line in text.splitlines() if line.startswith(label))
    return [float(v) for v in re.findall(r"-?\d+\.\d+", line[len(label):])]


def conformal(scores, alpha=ALPHA):
    k = math.ceil(round((len(scores) + 1) * (1 - alpha), 9))
    return np.sort(scores)[k - 1]


def covered(y, low, high):
    return (low <= y) & (y <= high)


def terciles(values, reference):
    """Cut points from the reference period (the calibration days), never from the values being grouped."""
    cuts = np.quantile(reference, [1 / 3, 2 / 3])
    return np.where(values <= cuts[0], "calm", np.where(values <= cuts[1], "middle", "stormy"))


def shock_mask(days, shocks=("2015-08-24", "2016-01-04", "2018-02-05")):
    mask = np.zeros(len(days), bool)
    for shock in shocks:
        start = pd.Timestamp(shock)
        mask |= (days >= start) & (days < start + pd.Timedelta(weeks=8))
    return mask


def test_the_ensemble_does_not_beat_the_zero_forecast(setting, lesson):
    y, te, P = setting["y"][setting["te"]], setting["te"], setting["P"]
    zero = np.mean(y ** 2)
    ratio = np.mean((y - P[:, te].mean(axis=0)) ** 2) / zero
    members = [np.mean((y - p[te]) ** 2) / zero for p in P]
    assert abs(ratio - 1) < 0.002 and min(members) < 1.003 and max(members) > 0.997
    printed, _ = lesson
    assert f"zero forecast's test MSE {zero:.4f}" in printed
    median, low, high = printed_row(printed, "5-member ensemble, equal weights (2 ensembles)")
    assert ratio == pytest.approx(low, abs=0.00006) or ratio == pytest.approx(high, abs=0.00006)
    assert printed_row(printed, "single member (10 seeds)")[1] <= min(members) + 0.00006


def test_the_guides_mean_pm_std_under_covers(setting, lesson):
    y, te, P = setting["y"][setting["te"]], setting["te"], setting["P"]
    mean, std = P[:, te].mean(axis=0), P[:, te].std(axis=0, ddof=1)
    cov = covered(y, mean - 1.6448536 * std, mean + 1.6448536 * std).mean()
    assert cov < 0.15                                                 # nowhere near the nominal 0.90
    printed, prose = lesson
    assert printed_row(printed, "ensemble mean +- z std (guide)")[3] == pytest.approx(cov, abs=0.0005)
    assert "6% coverage for a nominal 90%" in prose


def test_split_conformal_aci_and_scaled_coverage_by_regime(setting, lesson):
    y, days, cal, te, sigma = setting["y"], setting["days"], setting["cal"], setting["te"], setting["sigma"]
    center = setting["P"].mean(axis=0)
    truth = y[te]
    q = conformal(np.abs(y[cal] - center[cal]))
    plain = covered(truth, center[te] - q, center[te] + q)
    q_s = conformal(np.abs(y[cal] - center[cal]) / sigma[cal])
    scaled = covered(truth, center[te] - q_s * sigma[te], center[te] + q_s * sigma[te])
    # ACI, gamma = 0.005, fixed calibration scores
    scores, alpha_t, aci = np.sort(np.abs(y[cal] - center[cal])), ALPHA, []
    for target, c in zip(truth, center[te]):
        k = math.ceil(round((len(scores) + 1) * (1 - alpha_t), 9))
        half = math.inf if k > len(scores) else (0.0 if k < 1 else scores[k - 1])
        aci.append(c - half <= target <= c + half)
        alpha_t += 0.005 * (ALPHA - (not aci[-1]))
    aci = np.array(aci)
    groups, after = terciles(sigma[te], sigma[cal]), shock_mask(days[te])
    printed, prose = lesson
    cuts = np.quantile(sigma[cal], [1 / 3, 2 / 3]).round(3)
    assert f"cut points from the calibration days 2013-14: [{cuts[0]:.3f} {cuts[1]:.3f}]" in printed
    for label, hits in [("split conformal", plain), ("ACI (gamma 0.005)", aci), ("vol-scaled split conformal", scaled)]:
        expected = [hits[groups == g].mean() for g in ("calm", "middle", "stormy")] + [hits.mean(), hits[after].mean()]
        assert printed_row(printed, label)[:5] == pytest.approx(expected, abs=0.0006), label
    # the lesson's story, in numbers: right on average, wrong by regime; scaling repairs it
    assert abs(plain.mean() - 0.9) < 0.05 and plain[groups == "calm"].mean() > 0.95
    assert plain[groups == "stormy"].mean() < 0.8 and plain[after].mean() < 0.6
    assert aci.mean() > plain.mean() and aci[groups == "stormy"].mean() > plain[groups == "stormy"].mean()
    assert abs(scaled.mean() - 0.9) < 0.01 and all(abs(scaled[groups == g].mean() - 0.9) < 0.04
                                                   for g in ("calm", "middle", "stormy"))
    assert f"{plain.mean():.3f}" in prose and f"{aci.mean():.3f}" in prose and f"{scaled.mean():.3f}" in prose
    assert f"0.{round(100 * plain[after].mean())} in the 8 weeks after a shock" in prose.replace("**", "")


def test_the_winkler_scores_rank_scaled_conformal_first(setting, lesson):
    y, cal, te, sigma = setting["y"], setting["cal"], setting["te"], setting["sigma"]
    center, truth = setting["P"].mean(axis=0), y[setting["te"]]

    def winkler(low, high):
        return np.mean(high - low + 2 / ALPHA * (np.maximum(low - truth, 0) + np.maximum(truth - high, 0)))

    q = conformal(np.abs(y[cal] - center[cal]))
    q_s = conformal(np.abs(y[cal] - center[cal]) / sigma[cal])
    plain = winkler(center[te] - q, center[te] + q)
    scaled = winkler(center[te] - q_s * sigma[te], center[te] + q_s * sigma[te])
    assert scaled < plain
    printed, _ = lesson
    assert printed_row(printed, "split conformal")[-1] == pytest.approx(plain, abs=0.0006)
    assert printed_row(printed, "vol-scaled split conformal")[-1] == pytest.approx(scaled, abs=0.0006)


def test_split_conformal_covers_at_nominal_on_exchangeable_data():
    rng = np.random.default_rng(2024)
    trials, n = 4000, 49
    draws = np.abs(rng.laplace(size=(trials, n + 1)))
    k = math.ceil(round((n + 1) * (1 - ALPHA), 9))                     # 45: coverage exactly 45/50 = 0.9
    hits = draws[:, -1] <= np.sort(draws[:, :n], axis=1)[:, k - 1]
    assert abs(hits.mean() - k / (n + 1)) < 3 * math.sqrt(0.09 / trials)


def test_blocks_keep_the_autocorrelation_that_iid_destroys(setting, lesson):
    squared = (setting["r"][:"2010"] ** 2).to_numpy()
    n, block = len(squared), 100
    rng = np.random.default_rng(11)
    lag1 = lambda v: np.corrcoef(v[1:], v[:-1])[0, 1]                  # noqa: E731
    kept, destroyed = [], []
    for _ in range(20):                                                 # a mean over resamples: one draw is noisy
        starts = rng.integers(0, n - block + 1, size=-(-n // block))
        kept.append(lag1(squared[np.concatenate([np.arange(s, s + block) for s in starts])[:n]]))
        destroyed.append(lag1(squared[rng.integers(0, n, size=n)]))
    assert lag1(squared) > 0.15 and np.mean(kept) > 0.1 and abs(np.mean(destroyed)) < 0.02
    printed, _ = lesson
    original, shuffled = printed_row(printed, "original order"), printed_row(printed, "i.i.d. resample")
    assert original[0] > 0.15 and abs(shuffled[0]) < 0.05


def test_the_quantile_lstm_is_reported_over_its_seeds(lesson):
    printed, prose = lesson
    seeds = [printed_row(printed, f"seed {s} ") for s in range(3)]   # calm middle stormy overall shock width Winkler
    median = printed_row(printed, "quantile LSTM q05-q95 (median of 3 seeds)")
    assert median == pytest.approx(np.median(seeds, axis=0), abs=0.0006)
    overall, winkler = [s[3] for s in seeds], [s[6] for s in seeds]
    assert max(winkler) - min(winkler) > 0.5                           # the seed changes the verdict
    assert f"{min(overall):.3f}–{max(overall):.3f}" in prose and f"{min(winkler):.2f}–{max(winkler):.2f}" in prose


def test_the_closing_table_quotes_the_return_rows(setting, lesson):
    y, days, cal, te, sigma = setting["y"], setting["days"], setting["cal"], setting["te"], setting["sigma"]
    center, truth = setting["P"].mean(axis=0), y[te]
    q = conformal(np.abs(y[cal] - center[cal]))
    hits = covered(truth, center[te] - q, center[te] + q)
    groups, after = terciles(sigma[te], sigma[cal]), shock_mask(days[te])
    cells = " | ".join(f"{v:.3f}" for v in [hits.mean(), *(hits[groups == g].mean() for g in ("calm", "middle", "stormy")),
                                            hits[after].mean()])
    _, prose = lesson
    assert f"| returns: split conformal | {cells} (3 shocks, 2015–18) |" in prose


# ----------------------------------------------------------------------------- the log-variance walk-forward
VOL_SHOCKS = ("2008-09-15", "2015-08-24", "2016-01-04", "2018-02-05")
REFITS = (2003, 2005, 2008, 2011, 2014, 2017, 2019)


@pytest.fixture(scope="module")
def volatility():
    """ln of the next day's Parkinson variance from 22-day windows of ln(mean of the last 1, 5, 22 days); log-HAR by
    statsmodels OLS and five HarLSTM members per refit, trained as ``train_member`` does."""
    bars = data.load_sp500()
    r = 100 * np.log(bars["Close"]).diff().dropna()
    proxy = (100 ** 2 * np.log(bars["High"] / bars["Low"]) ** 2 / (4 * np.log(2))).loc[r.index]
    features = pd.concat([np.log(proxy.rolling(k).mean()) for k in (1, 5, 22)], axis=1).iloc[21:]
    values = features.to_numpy()
    x = np.lib.stride_tricks.sliding_window_view(values[:-1], 22, axis=0).transpose(0, 2, 1).copy()
    y, days = values[22:, 0], features.index[22:]
    year = np.asarray(days.year)
    har, members = np.full(len(y), np.nan), np.full((5, len(y)), np.nan)
    quantiles = np.full((len(y), 2), np.nan)
    for start, end in zip(REFITS[:-1], REFITS[1:]):
        past, block = np.flatnonzero(year < start), (year >= start) & (year < end)
        design = sm.add_constant(x[past, -1])
        coefs = sm.OLS(y[past], design).fit().params
        har[block] = coefs[0] + x[block, -1] @ coefs[1:]
        for j, tau in enumerate((0.05, 0.95)):
            quantiles[block, j] = sm.add_constant(x[block, -1], has_constant="add") @ \
                sm.QuantReg(y[past], design).fit(q=tau).params
        cut = int(0.8 * len(past))
        dataset = WindowedData(x[past[:cut]], y[past[:cut]], x[past[cut:]], y[past[cut:]], x[block], y[block], None, 0, {})
        for seed in range(5):
            torch.manual_seed(seed)
            model = HarLSTM(3, 8, coefs)
            loaders = make_loaders(dataset, batch_size=64, seed=seed)
            fit(model, loaders["train"], loaders["val"], epochs=5, lr=1e-3, patience=2, seed=seed)
            members[seed, block] = predict(model.eval(), x[block])[:, 0]
    sigma = np.sqrt((r ** 2).ewm(alpha=0.06, adjust=False).mean().shift(1)).reindex(days).to_numpy()
    return dict(x=x, y=y, days=days, year=year, har=har, P=members, quantiles=quantiles, sigma=sigma,
                cal=(year >= 2003) & (year < 2005), te=year >= 2005)


def rolling_conformal(y, center, known, te, gamma, scale=None, window=500):
    """Split conformal on the latest ``window`` scores (gamma = 0) or ACI on them, one test day at a time."""
    scale = np.ones(len(y)) if scale is None else scale
    scores = list(np.abs(y[known] - center[known]) / scale[known])[-window:]
    alpha_t, lower, upper = ALPHA, [], []
    for t in np.flatnonzero(te):
        k = math.ceil(round((len(scores) + 1) * (1 - alpha_t), 9))
        half = math.inf if k > len(scores) else (0.0 if k < 1 else np.sort(scores)[k - 1])
        lower.append(center[t] - half * scale[t])
        upper.append(center[t] + half * scale[t])
        alpha_t += gamma * (ALPHA - (not lower[-1] <= y[t] <= upper[-1]))
        scores = (scores + [abs(y[t] - center[t]) / scale[t]])[-window:]
    return np.array(lower), np.array(upper)


def test_the_log_variance_ensemble_gains_only_its_members_disagreement(volatility, lesson):
    y, te, P, har = volatility["y"], volatility["te"], volatility["P"], volatility["har"]
    truth, center = y[te], P.mean(axis=0)[te]
    mse = lambda f: np.mean((truth - f) ** 2)                                     # noqa: E731
    members = np.array([mse(p[te]) for p in P])
    gain, disagreement = members.mean() - mse(center), P[:, te].var(axis=0).mean()
    assert gain == pytest.approx(disagreement, rel=1e-9)                         # the identity, exactly
    ratio = mse(center) / mse(har[te])
    assert 1 < ratio < 1.01                                                       # no gain over log-HAR
    d = (truth - center) ** 2 - (truth - har[te]) ** 2
    statistic = d.mean() / np.sqrt(d.var() / len(d)) * np.sqrt((len(d) - 1) / len(d))   # DM with HLN, h = 1
    printed, prose = lesson
    assert f"log-HAR's test MSE {mse(har[te]):.4f}" in printed
    low, high = printed_row(printed, "5-member ensemble (seeds 0-4, 5-9)")[1:]
    assert ratio == pytest.approx(low, abs=0.00006) or ratio == pytest.approx(high, abs=0.00006)
    member_range = printed_row(printed, "single HarLSTM member (10 seeds)")[1:]
    assert member_range[0] <= min(members) / mse(har[te]) + 0.00006
    assert member_range[1] >= max(members) / mse(har[te]) - 0.00006
    assert f"= {gain:.5f}; members' disagreement {disagreement:.5f}" in printed
    assert f"statistic {statistic:.2f}, p 0.000" in printed and 2 * stats.norm.sf(statistic) < 0.001
    assert f"0.{round(1000 * (ratio - 1))}% **worse** than log-HAR" in prose


def test_log_variance_coverage_by_tercile_and_after_each_shock(volatility, lesson):
    y, days, cal, te, P, sigma = (volatility[k] for k in ("y", "days", "cal", "te", "P", "sigma"))
    center, truth = P.mean(axis=0), y[te]
    errors = pd.Series(y - center)
    scale = np.sqrt((errors ** 2).ewm(alpha=0.06, adjust=False, ignore_na=True).mean().shift(1)).to_numpy()
    known = cal & ~np.isnan(scale)
    q = conformal(np.abs(y[cal] - center[cal]))
    methods = {"quantile regression (linear)": (volatility["quantiles"][te, 0], volatility["quantiles"][te, 1]),
               "split conformal, 2003-04": (center[te] - q, center[te] + q),
               "split conformal, last 500": rolling_conformal(y, center, known, te, 0.0),
               "ACI (gamma 0.005), last 500": rolling_conformal(y, center, known, te, 0.005),
               "return-vol-scaled, last 500": rolling_conformal(y, center, known, te, 0.0, sigma),
               "error-scaled, last 500": rolling_conformal(y, center, known, te, 0.0, scale)}
    groups, test_days = terciles(sigma[te], sigma[cal]), days[te]
    printed, prose = lesson
    cuts = np.quantile(sigma[cal], [1 / 3, 2 / 3])
    assert f"cut points from 2003-04: [{cuts[0]:.3f} {cuts[1]:.3f}] %" in printed
    found = {}
    for name, (low, high) in methods.items():
        hits = covered(truth, low, high)
        row = [hits[groups == g].mean() for g in ("calm", "middle", "stormy")] + [hits.mean()]
        row += [hits[shock_mask(test_days, [s])].mean() for s in VOL_SHOCKS]
        winkler = np.mean(high - low + 2 / ALPHA * (np.maximum(low - truth, 0) + np.maximum(truth - high, 0)))
        row += [np.mean(high - low), winkler]
        assert printed_row(printed, name) == pytest.approx(row, abs=0.0006), name
        found[name] = row
    plain, vol_scaled, err_scaled = (found[k] for k in ("split conformal, last 500", "return-vol-scaled, last 500",
                                                        "error-scaled, last 500"))
    # the lesson's story: right in every tercile, short after Lehman; return-vol scaling skews it; error scaling holds
    assert all(abs(v - 0.9) < 0.02 for v in plain[:4]) and plain[4] < 0.85
    assert vol_scaled[0] < 0.85 and vol_scaled[2] > 0.93 and vol_scaled[-1] > max(r[-1] for r in found.values()) - 1e-9
    assert all(abs(v - 0.9) < 0.015 for v in err_scaled[:4]) and min(err_scaled[4:8]) > 0.88
    for label, row in (("split conformal, last 500 errors", plain), ("return-vol-scaled", vol_scaled),
                       ("error-scaled", err_scaled)):
        text = f"| ln v: {label} | {row[3]:.3f} | {row[0]:.3f} | {row[1]:.3f} | {row[2]:.3f} | " + \
            " / ".join(f"{v:.3f}" for v in row[4:8]) + " |"
        assert text in prose, text
    assert f"0.{round(1000 * plain[3])} overall" in prose and f"{vol_scaled[0]:.3f} calm, {vol_scaled[2]:.3f} stormy" in prose

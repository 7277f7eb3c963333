"""Chapter 07's headline numbers, re-derived without ``course_lib.ensembles`` or the interval metrics: the five
seed members are retrained with ``course_lib.training.fit`` (chapter 05) and every interval, coverage, tercile and
ACI step is computed here in plain NumPy/pandas, then compared with what the lesson printed and says."""
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib import data
from course_lib.models import LSTMForecaster
from course_lib.training import fit, predict
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


def terciles(values):
    cuts = np.quantile(values, [1 / 3, 2 / 3])
    return np.where(values <= cuts[0], "calm", np.where(values <= cuts[1], "middle", "stormy"))


def shock_mask(days):
    mask = np.zeros(len(days), bool)
    for shock in ("2015-08-24", "2016-01-04", "2018-02-05"):
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
    groups, after = terciles(sigma[te]), shock_mask(days[te])
    printed, prose = lesson
    for label, hits in [("split conformal", plain), ("ACI (gamma 0.005)", aci), ("vol-scaled split conformal", scaled)]:
        expected = [hits[groups == g].mean() for g in ("calm", "middle", "stormy")] + [hits.mean(), hits[after].mean()]
        assert printed_row(printed, label)[:5] == pytest.approx(expected, abs=0.0006), label
    # the lesson's story, in numbers: right on average, wrong by regime; scaling repairs it
    assert abs(plain.mean() - 0.9) < 0.05 and plain[groups == "calm"].mean() > 0.95
    assert plain[groups == "stormy"].mean() < 0.75 and plain[after].mean() < 0.6
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

"""Chapter 08's headline numbers, re-derived with independent code (NumPy, arch) from the raw bars, and the lesson's
prose checked against its own printed tables."""
import re
import warnings

import numpy as np
import pytest
from arch import arch_model

from course_lib import data

NB = "08_volatility_forecasting.ipynb"


@pytest.fixture(scope="module")
def raw():
    bars = data.load_sp500()
    logs = {k: np.log(bars[k].to_numpy()) for k in ("Open", "High", "Low", "Close")}
    returns = 100 * np.diff(logs["Close"])
    parkinson = (100 * (logs["High"] - logs["Low"])) ** 2 / (4 * np.log(2))
    dates = bars.index[1:]
    first = int(np.searchsorted(dates, np.datetime64("2005-01-01"))) - 1      # last day of 2004
    return {"returns": returns, "pk": parkinson[1:], "dates": dates, "first": first,
            "train": dates < np.datetime64("2005-01-01")}


@pytest.fixture(scope="module")
def printed(read_lesson):
    return read_lesson(NB)


def _table_row(text, title, name):
    """The numbers of row `name` in the printed table that follows the line starting with `title`."""
    block = text.split(title, 1)[1]
    line = next(l for l in block.splitlines() if l.startswith(name + " "))
    return [float(x) for x in re.findall(r"-?\d+\.\d+", line[len(name):])]


def _qlike(v, h):
    return np.mean(v / h - np.log(v / h) - 1)


def test_level_ratio_and_proxy_noise(raw, printed):
    text, _ = printed
    c = raw["pk"][raw["train"]].mean() / (raw["returns"][raw["train"]] ** 2).mean()
    assert f"over 1999-2004: {c:.3f}" in text and round(c, 3) == 0.756
    r2 = raw["returns"] ** 2
    ac = lambda x: np.corrcoef(x[1:], x[:-1])[0, 1]
    assert ac(r2) == pytest.approx(0.208, abs=5e-4) and ac(raw["pk"]) == pytest.approx(0.603, abs=5e-4)


def test_parkinson_is_about_five_times_less_noisy_for_a_brownian_motion():
    rng = np.random.default_rng(123)
    paths = np.cumsum(rng.normal(0, 1 / np.sqrt(500), (3000, 500)), axis=1)
    paths = np.column_stack([np.zeros(3000), paths])
    pk = (paths.max(1) - paths.min(1)) ** 2 / (4 * np.log(2))
    assert 4.5 < np.var(paths[:, -1] ** 2) / np.var(pk) < 6.0             # theory 5.2
    assert 0.9 < pk.mean() < 1.0                                           # discrete path: a slightly short range


def test_garch_fit_and_first_forecast(raw, printed):
    text, _ = printed
    train = raw["returns"][raw["train"]]
    fit = arch_model(train, mean="Constant", vol="GARCH", p=1, q=1, rescale=False).fit(disp="off")
    mu, omega, alpha, beta = fit.params
    assert f"alpha+beta {alpha + beta:.4f}" in text
    forecast = omega + alpha * (train[-1] - mu) ** 2 + beta * fit.conditional_volatility[-1] ** 2
    assert f"by hand {forecast:.4f}, arch {forecast:.4f}" in text


def test_har_coefficients_by_numpy(raw, printed):
    text, _ = printed
    v = raw["pk"][raw["train"]]
    t = np.arange(21, len(v) - 1)
    X = np.column_stack([np.ones(len(t)), v[t], [v[s - 4:s + 1].mean() for s in t], [v[s - 21:s + 1].mean() for s in t]])
    coefs = np.linalg.lstsq(X, v[t + 1], rcond=None)[0]
    for value in coefs:
        assert f"{value:.4f}" in text


def test_har_and_garch_walk_forward_scores(raw, printed):
    """HAR refit every 20 days and GARCH(1,1) x c refit every 120 days, expanding, one day ahead, 2005-2018."""
    text, _ = printed
    v, r, first = raw["pk"], raw["returns"], raw["first"]
    month = np.convolve(v, np.ones(22) / 22, mode="full")[:len(v)]
    week = np.convolve(v, np.ones(5) / 5, mode="full")[:len(v)]
    rows = np.column_stack([np.ones(len(v)), v, week, month])               # row t: known at the close of t
    har, garch = [], []
    for number, t in enumerate(range(first, len(v) - 1)):
        if number % 20 == 0:
            b = np.linalg.lstsq(rows[21:t], v[22:t + 1], rcond=None)[0]
        har.append(rows[t] @ b)
    c = v[raw["train"]].mean() / (r[raw["train"]] ** 2).mean()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for number, t in enumerate(range(first, len(v) - 1)):
            if number % 120 == 0:
                mu, omega, alpha, beta = arch_model(r[:t + 1], rescale=False).fit(disp="off").params
                eps2 = (r - mu) ** 2
                s = np.empty(len(r))
                s[0] = eps2[:75].mean()
                for k in range(1, len(r)):
                    s[k] = omega + alpha * eps2[k - 1] + beta * s[k - 1]
            garch.append(c * (omega + alpha * eps2[t] + beta * s[t]))
    truth = v[first + 1:]
    assert len(truth) == 3523
    har_row = _table_row(text, "Target: Parkinson variance of the next day", "HAR")
    assert har_row[0] == pytest.approx(_qlike(truth, np.array(har)), abs=6e-5)
    assert har_row[1 if len(har_row) == 2 else 1] == pytest.approx(np.mean((truth - np.array(har)) ** 2), abs=6e-4)
    garch_row = _table_row(text, "Target: Parkinson variance of the next day", "GARCH(1,1) x c")
    assert garch_row[0] == pytest.approx(_qlike(truth, np.array(garch)), abs=3e-4)


def test_the_verdict_matches_the_printed_tables(printed):
    text, prose = printed
    title = "Target: Parkinson variance of the next day"
    lstm = [_table_row(text, title, f"HAR-LSTM seed {s}") for s in range(3)]
    log_har, har = _table_row(text, title, "log-HAR"), _table_row(text, title, "HAR")
    garch = _table_row(text, title, "GARCH(1,1)")
    q = [row[0] for row in lstm]
    assert f"{min(q):.4f}–{max(q):.4f}" in prose                              # the LSTM's QLIKE range, as written
    assert all(v < har[0] for v in q) and all(v < garch[0] for v in q)       # beat HAR and GARCH(1,1) in QLIKE
    assert all(row[1] < 0.05 for row in lstm)                                 # DM p vs HAR, each seed
    assert all(row[2] > har[1] for row in lstm)                               # but a larger MSE than HAR
    verdict = text.split("HAR-LSTM over 3 seeds", 1)[1]
    vs_log_har = next(l for l in verdict.splitlines() if "log-HAR" in l and "QLIKE" in l)
    p_low = float(re.findall(r"(\d\.\d{3}) \[(\d\.\d{3})", vs_log_har)[0][1])
    assert p_low > 0.05 and abs(min(q) - log_har[0]) < 0.001                 # no gain over log-HAR, on any seed
    assert "the gain comes from\n  working in logs, not from the LSTM" in prose

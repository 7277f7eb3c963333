"""Chapter 10's headline numbers, re-derived with independent code (NumPy, statsmodels, the `dieboldmariano`
package) and compared with what the lesson prints and says.

The model's forecasts come from the worked example (retrained here, five seeds); everything computed from them —
the test origins and training span, MASE of the model and both baselines, the Diebold-Mariano test, coverage,
the leak and lookahead tests — is recomputed without course_lib.capstone's report or checks.
"""
import re

import dieboldmariano
import numpy as np
import pytest
from statsmodels.tsa.stattools import adfuller

from course_lib.capstone import example, inputs, mistakes

pytestmark = pytest.mark.usefixtures("one_torch_thread")
LESSON = "10_capstone.ipynb"
H, WINDOW, FIRST_FEATURE = 5, 20, 33     # MACD(12, 26, 9)'s signal line is complete from row 26 + 9 - 2 = 33


@pytest.fixture(scope="module")
def data():
    return inputs.load_inputs()


@pytest.fixture(scope="module")
def lesson(read_lesson):
    return read_lesson(LESSON)


@pytest.fixture(scope="module")
def split_positions(data):
    """Row positions in ``data`` of the training and test origins, worked out from the rules, not the library."""
    first, last = FIRST_FEATURE + WINDOW - 1, len(data) - 1 - H
    n = last - first + 1
    n_train, n_val = int(0.6 * n), int(0.2 * n)
    test_start = n_train + H + n_val + H
    return np.arange(first, first + n_train), np.arange(first + test_start, last + 1)


@pytest.fixture(scope="module")
def scores(data, split_positions):
    train, test = split_positions
    close = data["Close"].to_numpy()
    actual, naive = close[test + H], close[test]
    drift = close[test] + H * (close[test] - close[0]) / test
    scale = np.mean(np.abs(np.diff(close[:train[-1] + 1])))
    rows = {}
    for seed in range(5):
        frame = example.capstone_forecast(data, H, seed)
        assert list(frame.index) == list(data.index[test])
        forecast, lower, upper = (frame[c].to_numpy() for c in ("forecast", "lower", "upper"))
        statistic, p_value = dieboldmariano.dm_test(actual, forecast, naive, h=H, harvey_correction=True,
                                                    loss=lambda u, v: abs(u - v))
        rows[seed] = {"model": np.mean(np.abs(actual - forecast)) / scale,
                      "naive": np.mean(np.abs(actual - naive)) / scale,
                      "drift": np.mean(np.abs(actual - drift)) / scale, "dm": statistic, "p": p_value,
                      "coverage": np.mean((actual >= lower) & (actual <= upper))}
    return rows


def test_the_split_the_lesson_prints(data, split_positions, lesson):
    train, test = split_positions
    printed, _ = lesson
    assert f"train: {len(train):4d} origins, {data.index[train[0]].date()} to {data.index[train[-1]].date()}" in printed
    assert f" test: {len(test):4d} origins, {data.index[test[0]].date()} to {data.index[test[-1]].date()}" in printed
    assert (len(train), len(test)) == (1021, 332)


def test_the_seed_table_and_its_summary(scores, lesson):
    printed, prose = lesson
    for seed, row in scores.items():
        line = (f"{seed}          {row['model']:.3f}       {row['naive']:.3f}       {row['drift']:.3f}         "
                f"{row['dm']:.3f}       {row['p']:.3f}     {row['coverage']:.3f}")
        assert line in printed, line
    model = [row["model"] for row in scores.values()]
    p_values = [row["p"] for row in scores.values()]
    coverage = [row["coverage"] for row in scores.values()]
    assert all(row["model"] > row["naive"] for row in scores.values())       # worse than naive on every seed
    assert f"naive MASE by hand: {scores[0]['naive']:.4f}; in the report: {scores[0]['naive']:.4f}" in printed
    assert f"model worse than naive for 5 of 5 seeds; smallest DM p-value {min(p_values):.2f}" in printed
    said = (f"MASE is {np.median(model):.2f} ({min(model):.2f} to {max(model):.2f}), the naive forecast's\n"
            f"{scores[0]['naive']:.2f} and the drift forecast's {scores[0]['drift']:.2f}")
    assert said in prose
    assert f"(p {min(p_values):.2f} to {max(p_values):.2f})" in prose
    assert f"cover {100 * min(coverage):.0f} to\n{100 * max(coverage):.0f} %" in prose
    summary = re.search(r"MASE (\S+) \((\S+)-(\S+) over five seeds\) against (\S+) \(naive\) and (\S+) "
                        r"\(drift\)", prose)
    assert summary.groups() == tuple(f"{v:.2f}" for v in (np.median(model), min(model), max(model),
                                                           scores[0]["naive"], scores[0]["drift"]))


def test_stationarity_p_values(data, lesson):
    close = data["Close"]
    target = (np.log(close).shift(-H) - np.log(close)).dropna()
    printed, _ = lesson
    for name, series in {"close": close, "5-day log return": target}.items():
        p_value = adfuller(series.loc[:"2015"].to_numpy(), autolag="AIC", result_object=False)[1]
        assert f"ADF p-value, {name:>16}, 2012-2015: {p_value:.3f}" in printed
    assert adfuller(close.loc[:"2015"].to_numpy(), autolag="AIC", result_object=False)[1] > 0.5


def test_the_leak_test_by_hand(data, lesson):
    position = len(data) - 61
    cut = data.index[position]
    rewritten = data.copy()
    later = rewritten.index[position + 1:]
    rewritten.loc[later, ["Open", "High", "Low", "Close", "NASDAQ_Close"]] *= 1.25
    rewritten.loc[later, ["Volume", "NASDAQ_Volume"]] *= 3
    printed, _ = lesson
    for name, forecast, moved_count in (("scaler on training rows", example.capstone_forecast, 0),
                                        ("scaler on every row", mistakes.leaky_forecast, 277)):
        before = forecast(data, H, 0).loc[:cut, "forecast"].to_numpy()
        after = forecast(rewritten, H, 0).loc[:cut, "forecast"].to_numpy()
        moved = np.abs(before - after)
        assert (moved > 1e-6).sum() == moved_count
        assert (f"{name:>24}: {moved_count} of {len(before)} test forecasts up to {cut.date()} moved, "
                f"by up to {moved.max():.2f} index points") in printed


def test_the_centred_mean_moves_the_two_days_before_the_rewrite(data, lesson):
    returns = np.log(data["Close"]).diff()
    rewritten = data.copy()
    rewritten.iloc[1501:, :4] *= 1.25
    centred = returns.rolling(5, center=True).mean()
    centred_after = np.log(rewritten["Close"]).diff().rolling(5, center=True).mean()
    cut = data.index[1500]
    changed = ~np.isclose(centred.loc[:cut], centred_after.loc[:cut], equal_nan=True)
    dates = list(centred.loc[:cut].index[changed].date)
    assert [str(d) for d in dates] == ["2017-12-15", "2017-12-18"]
    printed, _ = lesson
    assert "with a centred 5-day mean: 2 rows dated up to 2017-12-18 changed (2017-12-15, 2017-12-18)" in printed


def test_the_far_out_returns_counted_in_data_quality(data, lesson):
    returns = np.log(data["Close"]).diff().dropna()
    q1, q3 = np.percentile(returns.loc[:"2015"], [25, 75])
    far = returns[(returns < q1 - 3 * (q3 - q1)) | (returns > q3 + 3 * (q3 - q1))]
    printed, prose = lesson
    assert (f"daily returns beyond 3 IQR of 2012-2015's: {len(far)}, largest {far.abs().max():.1%} on "
            f"{far.abs().idxmax().date()}") in printed
    assert far.abs().idxmax().date().isoformat() == "2018-12-26" and "4.8 % rebound of 26 December 2018" in prose

"""The lag illusion's diagnostic: cross-correlations by lag, checked against pandas' shifted correlations."""
import numpy as np
import pandas as pd
import pytest

from course_lib.evaluation.diagnostics import (cross_correlations, lag_of_max_correlation, lookahead_origins,
                                               window_mean_forecast, zscore_forecast)


def test_cross_correlations_match_pandas_shift_and_corr():
    rng = np.random.default_rng(0)
    y, f = pd.Series(rng.normal(size=200)), pd.Series(rng.normal(size=200))
    ours = cross_correlations(y, f, 4)
    for k in range(-4, 5):
        assert ours[k] == pytest.approx(f.corr(y.shift(k)), rel=1e-12), k


@pytest.mark.parametrize("seed", range(5))
def test_a_forecast_one_step_late_peaks_at_lag_one_on_changes(seed):
    prices = 100 + np.random.default_rng(seed).normal(size=1000).cumsum()
    yesterday = prices[:-1] + np.random.default_rng(seed + 100).normal(scale=0.1, size=999)
    truth = prices[1:]
    assert np.corrcoef(truth, yesterday)[0, 1] > 0.95                                 # "R^2 of 0.99"
    assert lag_of_max_correlation(np.diff(truth), np.diff(yesterday)) == 1
    in_step = truth + np.random.default_rng(seed + 200).normal(scale=0.5, size=999)
    assert lag_of_max_correlation(np.diff(truth), np.diff(in_step)) == 0


@pytest.mark.parametrize("args, message", [
    (([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0], 1), "one forecast per actual"),
    ((np.arange(5.0), np.arange(5.0), 3), "fewer than 3 pairs"),
    ((np.arange(5.0), np.arange(5.0), 0), "max_lag must be a positive integer"),
])
def test_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        cross_correlations(*args)


def _centred_smoother(series):
    """Forecast at t = mean of rows t-2..t+2: uses two future rows (a centred moving average)."""
    padded = np.pad(series, 2, mode="edge")
    return np.convolve(padded, np.ones(5) / 5, mode="valid")


def test_lookahead_probe_flags_a_centred_smoother_and_passes_a_trailing_one():
    series = np.random.default_rng(0).normal(size=60).cumsum()
    origins = list(range(10, 50, 5))
    centred = lambda s: _centred_smoother(s)[origins]                                  # noqa: E731
    trailing = lambda s: pd.Series(s).rolling(5, min_periods=1).mean().to_numpy()[origins]  # noqa: E731
    assert lookahead_origins(centred, series, origins) == origins
    assert lookahead_origins(trailing, series, origins) == []


def test_lookahead_probe_refuses_bad_origins_and_shapes():
    with pytest.raises(ValueError, match="origins must be positions"):
        lookahead_origins(lambda s: s[[9]], np.arange(10.0), [9])
    with pytest.raises(ValueError, match=r"expected \(2,\)"):
        lookahead_origins(lambda s: s[:3], np.arange(10.0), [1, 2])


@pytest.mark.parametrize("pipeline, leaks", [
    (lambda s, o: window_mean_forecast(s, o), []),
    (lambda s, o: window_mean_forecast(s, o, window=5, lead=2), [20, 50, 90]),
    (lambda s, o: window_mean_forecast(s, o, window=1, lead=3), [20, 50, 90]),
    (lambda s, o: zscore_forecast(s, o), [20, 50, 90]),
    (lambda s, o: zscore_forecast(s, o, fit_rows=60), [20, 50]),
    (lambda s, o: zscore_forecast(s, o, expanding=True), []),
])
def test_toy_pipelines_leak_where_their_docstrings_say(pipeline, leaks):
    series = np.random.default_rng(4).normal(size=120).cumsum() + 50
    origins = [20, 50, 90]
    assert lookahead_origins(lambda s: pipeline(s, origins), series, origins) == leaks


def test_toy_pipelines_by_hand():
    series = np.arange(10.0)
    np.testing.assert_allclose(window_mean_forecast(series, [4], window=3), [3.0])
    np.testing.assert_allclose(window_mean_forecast(series, [4], window=5, lead=2), [4.0])
    np.testing.assert_allclose(zscore_forecast(series, [4], fit_rows=3), [(4 - 1) / np.std([0, 1, 2])])
    with pytest.raises(ValueError, match="lead"):
        window_mean_forecast(series, [4], lead=-1)

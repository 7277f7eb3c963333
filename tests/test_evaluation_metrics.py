"""Metrics and baselines of course_lib.evaluation against scikit-learn, PyTorch, the guide's code and hand sums."""
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import metrics as skm

from course_lib import evaluation as ev

RNG = np.random.default_rng(7)
TRUTH = 100 + np.cumsum(RNG.normal(size=300))
FORECAST = TRUTH + RNG.normal(scale=2.0, size=300)


def test_squared_and_absolute_errors_match_scikit_learn():
    assert ev.mse(TRUTH, FORECAST) == pytest.approx(skm.mean_squared_error(TRUTH, FORECAST), rel=1e-12)
    assert ev.rmse(TRUTH, FORECAST) == pytest.approx(skm.root_mean_squared_error(TRUTH, FORECAST), rel=1e-12)
    assert ev.mae(TRUTH, FORECAST) == pytest.approx(skm.mean_absolute_error(TRUTH, FORECAST), rel=1e-12)


def test_mape_is_scikit_learns_in_percent():
    assert ev.mape(TRUTH, FORECAST) == pytest.approx(100 * skm.mean_absolute_percentage_error(TRUTH, FORECAST),
                                                     rel=1e-12)


@pytest.mark.parametrize("delta", [0.5, 1.0, 3.0])
def test_huber_matches_torch(delta):
    expected = torch.nn.functional.huber_loss(torch.tensor(FORECAST), torch.tensor(TRUTH), delta=delta).item()
    assert ev.huber(TRUTH, FORECAST, delta) == pytest.approx(expected, rel=1e-12)


def test_huber_by_hand():
    # errors 0.5 (quadratic: 0.125) and 3 (linear: 1*3 - 0.5 = 2.5)
    assert ev.huber([0.0, 0.0], [0.5, 3.0], delta=1.0) == pytest.approx((0.125 + 2.5) / 2)


def test_smape_both_scales_by_hand_and_the_guides_code():
    y, f = np.array([100.0, 50.0]), np.array([110.0, 40.0])
    by_hand = (10 / 210 + 10 / 90) / 2
    assert ev.smape_100(y, f) == pytest.approx(100 * by_hand)
    assert ev.smape_200(y, f) == pytest.approx(200 * by_hand)
    guide_5_2_2 = np.mean(2 * np.abs(FORECAST - TRUTH) / (np.abs(TRUTH) + np.abs(FORECAST))) * 100
    assert ev.smape_200(TRUTH, FORECAST) == pytest.approx(guide_5_2_2, rel=1e-12)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, 20, elements=st.floats(0.1, 1e3)), arrays(np.float64, 20, elements=st.floats(0.1, 1e3)))
def test_smape_200_is_twice_smape_100_and_bounded(y, f):
    assert ev.smape_200(y, f) == pytest.approx(2 * ev.smape_100(y, f))
    assert 0 <= ev.smape_100(y, f) <= 100


def test_mase_scale_is_the_training_naive_mae():
    train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])          # |changes| 2, 1, 3, 1 -> scale 1.75
    assert ev.naive_scale(train) == pytest.approx(1.75)
    assert ev.naive_scale(train, season=2) == pytest.approx((1 + 2 + 2) / 3)
    assert ev.mase([6.0, 7.0], [5.0, 5.0], train) == pytest.approx(1.5 / 1.75)


def test_mase_of_the_naive_forecast_on_a_random_walk_is_near_one():
    walk = np.cumsum(np.random.default_rng(0).normal(size=4000))
    train, test = walk[:2000], walk[2000:]
    assert ev.mase(test[1:], test[:-1], train) == pytest.approx(1.0, abs=0.05)


def test_directional_accuracy_against_the_previous_actual_value():
    previous = np.array([10.0, 11.0, 12.0, 11.0])
    truth = np.array([11.0, 12.0, 11.0, 13.0])           # up, up, down, up
    forecast = np.array([10.5, 11.5, 12.5, 10.0])        # up, up, up,   down
    assert ev.directional_accuracy(truth, forecast, previous) == pytest.approx(0.5)


def test_prediction_direction_accuracy_is_the_guides_5_2_2_code():
    guide = np.mean(np.sign(np.diff(TRUTH)) == np.sign(np.diff(FORECAST)))
    assert ev.prediction_direction_accuracy(TRUTH, FORECAST) == pytest.approx(guide)


def test_the_two_directional_accuracies_differ_on_a_lagging_forecast():
    walk = 100 + np.cumsum(np.random.default_rng(1).normal(size=2001))
    truth, lagged = walk[2:], walk[1:-1] + 0.01 * np.sign(walk[1:-1] - walk[:-2])   # yesterday, nudged by its move
    against_actual = ev.directional_accuracy(truth, lagged, walk[1:-1])
    between_forecasts = ev.prediction_direction_accuracy(truth, lagged)
    assert abs(against_actual - 0.5) < 0.05 and abs(between_forecasts - 0.5) < 0.05
    assert ev.prediction_direction_accuracy(walk[1:], walk[1:] + 0.0) == 1.0


@pytest.mark.parametrize("quantile", [0.05, 0.5, 0.9])
def test_pinball_matches_scikit_learn(quantile):
    expected = skm.mean_pinball_loss(TRUTH, FORECAST, alpha=quantile)
    assert ev.pinball(TRUTH, FORECAST, quantile) == pytest.approx(expected, rel=1e-12)
    if quantile == 0.5:
        assert ev.pinball(TRUTH, FORECAST, quantile) == pytest.approx(ev.mae(TRUTH, FORECAST) / 2)


def test_qlike_is_zero_at_the_truth_and_asymmetric():
    truth = np.array([1.0, 4.0])
    assert ev.qlike(truth, truth) == 0.0
    assert ev.qlike([1.0], [2.0]) == pytest.approx(0.5 - np.log(0.5) - 1)
    assert ev.qlike([2.0], [1.0]) > ev.qlike([1.0], [2.0])       # under-forecasting costs more
    grid = np.linspace(0.5, 2.0, 301)
    assert grid[np.argmin([ev.qlike([1.0], [h]) for h in grid])] == pytest.approx(1.0, abs=0.01)


def test_series_and_two_dimensional_inputs():
    assert ev.mae(pd.Series(TRUTH), pd.Series(FORECAST)) == ev.mae(TRUTH, FORECAST)
    table_truth, table_forecast = TRUTH.reshape(60, 5), FORECAST.reshape(60, 5)
    assert ev.rmse(table_truth, table_forecast) == pytest.approx(ev.rmse(TRUTH, FORECAST))


@pytest.mark.parametrize("call, message", [
    (lambda: ev.mse([1.0, 2.0], [1.0]), r"shape \(2,\) but y_pred has shape \(1,\)"),
    (lambda: ev.mae([1.0, np.nan], [1.0, 2.0]), "y_true has 1 NaN value.*position 1"),
    (lambda: ev.rmse([], []), "empty"),
    (lambda: ev.mse(["a"], ["b"]), "numeric"),
    (lambda: ev.mape([1.0, 0.0, 2.0], [1.0, 1.0, 1.0]), "y_true has 1 zero value.*position 1.*MASE"),
    (lambda: ev.smape_100([0.0], [0.0]), "both 0"),
    (lambda: ev.huber([1.0], [2.0], delta=0), "delta"),
    (lambda: ev.mase([1.0], [1.0], [2.0, 2.0, 2.0]), "constant"),
    (lambda: ev.mase([1.0], [1.0], [2.0], season=1), "at least 2"),
    (lambda: ev.naive_scale([1.0, 2.0, 3.0], season=0), "season must be a positive integer"),
    (lambda: ev.pinball([1.0], [1.0], 1.0), "strictly between 0 and 1"),
    (lambda: ev.qlike([1.0, -1.0], [1.0, 1.0]), "realized_variance must be positive.*position 1"),
    (lambda: ev.directional_accuracy([1.0, 2.0], [1.0, 2.0], [1.0]), "y_previous has shape"),
    (lambda: ev.prediction_direction_accuracy([1.0], [1.0]), "at least 2"),
])
def test_bad_input_is_refused_with_a_named_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


HISTORY = np.array([3.0, 5.0, 4.0, 8.0, 6.0, 9.0])


def test_baselines_by_hand():
    np.testing.assert_array_equal(ev.naive_forecast(HISTORY, 3), [9.0, 9.0, 9.0])
    np.testing.assert_array_equal(ev.seasonal_naive_forecast(HISTORY, 5, season=2), [6.0, 9.0, 6.0, 9.0, 6.0])
    np.testing.assert_allclose(ev.drift_forecast(HISTORY, 2), [9.0 + 6 / 5, 9.0 + 12 / 5])
    np.testing.assert_array_equal(ev.mean_forecast(HISTORY, 2), [35 / 6, 35 / 6])
    np.testing.assert_array_equal(ev.moving_average_forecast(HISTORY, 2, window=3), [23 / 3, 23 / 3])
    np.testing.assert_array_equal(ev.zero_forecast(HISTORY, 4), np.zeros(4))


def test_drift_matches_a_line_through_the_first_and_last_values():
    history = 100 + np.cumsum(RNG.normal(size=50))
    line = np.polyval(np.polyfit([0, 49], history[[0, -1]], 1), np.arange(50, 60))
    np.testing.assert_allclose(ev.drift_forecast(history, 10), line, rtol=1e-10)


def test_baselines_see_only_the_history():
    changed_future = np.concatenate([HISTORY, [1e6]])
    assert ev.naive_forecast(changed_future[:-1], 1)[0] == ev.naive_forecast(HISTORY, 1)[0]


@pytest.mark.parametrize("call, message", [
    (lambda: ev.naive_forecast(HISTORY, 0), "horizon must be a positive integer"),
    (lambda: ev.drift_forecast([1.0], 1), "at least 2"),
    (lambda: ev.seasonal_naive_forecast([1.0, 2.0], 1, season=5), "at least 5"),
    (lambda: ev.moving_average_forecast([1.0, np.nan], 1, window=1), "NaN"),
])
def test_baselines_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- prediction intervals (chapter 07)
import re  # noqa: E402

from course_lib.evaluation.metrics import coverage, interval_score, mean_width  # noqa: E402


def _random_intervals(seed=0, n=300):
    rng = np.random.default_rng(seed)
    truth = rng.standard_t(3, size=n)
    center, half = rng.normal(scale=0.3, size=n), rng.uniform(0.2, 3, size=n)
    return truth, center - half, center + half


def test_coverage_width_and_winkler_score_by_hand():
    truth, lower, upper = [0.0, 2.0, -3.0, 1.0], [-1.0, -1.0, -1.0, 1.0], [1.0, 1.0, 1.0, 1.0]
    assert coverage(truth, lower, upper) == 0.5                       # the bounds themselves count as covered
    assert mean_width(lower, upper) == 1.5
    # widths 2, 2, 2, 0; misses: 1 above (2 - 1), 2 below (-1 - -3); penalty 2/alpha = 10 at alpha = 0.2
    assert interval_score(truth, lower, upper, 0.2) == pytest.approx((6 + 10 * 1 + 10 * 2) / 4)


@pytest.mark.parametrize("seed", [0, 1])
def test_interval_metrics_match_mapie(seed):
    from mapie.metrics.regression import (regression_coverage_score, regression_mean_width_score,
                                          regression_mwi_score)
    truth, lower, upper = _random_intervals(seed)
    bounds = np.stack([lower, upper], axis=1)[:, :, None]            # MAPIE's (n, 2, levels)
    assert coverage(truth, lower, upper) == pytest.approx(regression_coverage_score(truth, bounds)[0], abs=1e-12)
    assert mean_width(lower, upper) == pytest.approx(regression_mean_width_score(bounds)[0], rel=1e-12)
    assert interval_score(truth, lower, upper, 0.1) == pytest.approx(regression_mwi_score(truth, bounds, 0.9),
                                                                     rel=1e-12)


@pytest.mark.parametrize("alpha", [0.05, 0.2, 0.5])
def test_interval_score_is_two_over_alpha_times_the_two_pinball_losses(alpha):
    truth, lower, upper = _random_intervals(2)
    expected = 2 / alpha * (skm.mean_pinball_loss(truth, lower, alpha=alpha / 2)
                            + skm.mean_pinball_loss(truth, upper, alpha=1 - alpha / 2))
    assert interval_score(truth, lower, upper, alpha) == pytest.approx(expected, rel=1e-12)


def test_infinite_bounds_cover_everything_at_infinite_width():
    assert coverage([5.0, -5.0], [-np.inf, -np.inf], [np.inf, np.inf]) == 1.0
    assert mean_width([-np.inf, 0.0], [np.inf, 1.0]) == np.inf


@pytest.mark.parametrize("call, message", [
    (lambda: coverage([0.0, 1.0], [1.0, 0.0], [0.0, 1.0]), "lower > upper at 1 position"),
    (lambda: coverage([0.0, 1.0], [0.0], [1.0]), "shape"),
    (lambda: coverage([0.0, np.nan], [0.0, 0.0], [1.0, 1.0]), "y_true has 1 NaN"),
    (lambda: mean_width([0.0, 0.0], [1.0, np.nan]), "upper has 1 NaN"),
    (lambda: mean_width([0.0, 0.0], [1.0]), "lower has shape (2,) but upper has shape (1,)"),
    (lambda: interval_score([0.0], [0.0], [1.0], 1.0), "alpha must be strictly between 0 and 1"),
    (lambda: interval_score([0.0], [0.0], [1.0], 0.0), "alpha must be strictly between 0 and 1"),
])
def test_interval_metrics_refuse_bad_input(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()

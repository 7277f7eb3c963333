"""Chapter 09's online metrics: running sums agree with course_lib.evaluation over all bars and the recent window."""
import numpy as np
import pytest

from course_lib.evaluation import directional_accuracy, mae, rmse
from course_lib.streaming.online import OnlineMetrics, replay_metrics


def data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.cumsum(rng.normal(size=n + 1))
    return truth[1:], truth[1:] + rng.normal(0, 0.8, n), truth[:-1]


def test_overall_and_recent_agree_with_the_evaluation_metrics():
    truth, forecast, previous = data()
    metrics = OnlineMetrics(window=30)
    for t in range(len(truth)):
        metrics.update(truth[t], forecast[t], previous[t])
        if t in (0, 5, 29, 30, 120, len(truth) - 1):
            overall, recent, last = metrics.overall(), metrics.recent(), slice(max(0, t - 29), t + 1)
            everything = slice(0, t + 1)
            for part, span in ((overall, everything), (recent, last)):
                assert part["n"] == span.stop - span.start
                assert part["mae"] == pytest.approx(mae(truth[span], forecast[span]), rel=1e-12)
                assert part["rmse"] == pytest.approx(rmse(truth[span], forecast[span]), rel=1e-12)
                assert part["directional_accuracy"] == pytest.approx(
                    directional_accuracy(truth[span], forecast[span], previous[span]))
                assert part["relative_mae"] == pytest.approx(part["mae"] / mae(truth[span], previous[span]))


def test_hand_example():
    """truth 1, 3, 2; forecasts 2, 2, 2; previous 0, 1, 3: errors -1, 1, 0 -> MAE 2/3, RMSE sqrt(2/3);
    directions: up/up, up/up, down/down -> 1.0; naive errors 1, 2, 1 -> naive MAE 4/3, relative MAE 0.5."""
    metrics = OnlineMetrics(window=2)
    for values in ((1, 2, 0), (3, 2, 1), (2, 2, 3)):
        metrics.update(*values)
    assert metrics.overall() == pytest.approx({"n": 3, "mae": 2 / 3, "rmse": np.sqrt(2 / 3),
                                               "directional_accuracy": 1.0, "naive_mae": 4 / 3, "relative_mae": 0.5})
    assert metrics.recent() == pytest.approx({"n": 2, "mae": 0.5, "rmse": np.sqrt(0.5), "directional_accuracy": 1.0,
                                              "naive_mae": 1.5, "relative_mae": 1 / 3})


def test_replay_table_and_bad_values():
    truth, forecast, previous = data(50)
    table = replay_metrics(truth, forecast, previous, window=10)
    assert len(table) == 50
    assert table["all_mae"].iloc[-1] == pytest.approx(mae(truth, forecast))
    assert table["recent_mae"].iloc[-1] == pytest.approx(mae(truth[-10:], forecast[-10:]))
    with pytest.raises(ValueError, match="y_pred is nan"):
        OnlineMetrics().update(1.0, np.nan, 0.0)
    with pytest.raises(ValueError, match="no bar"):
        OnlineMetrics().overall()
    with pytest.raises(ValueError, match="shapes"):
        replay_metrics(truth, forecast[:-1], previous)

"""Walk-forward backtest: origins, refits, windows and gaps on small examples; no future row reaches a forecast."""
import numpy as np
import pandas as pd
import pytest

from course_lib.evaluation import baselines
from course_lib.evaluation.backtest import BacktestPlan, FunctionForecaster, score_by_horizon, walk_forward


class Recorder:
    """Records what each fit and predict saw; forecasts the mean of the training rows plus the last value's change."""

    def __init__(self):
        self.fits, self.predicts = [], []

    def fit(self, train):
        self.fits.append(train.copy())
        self.level = train.mean()
        return self

    def predict(self, history, horizon):
        self.predicts.append(history.copy())
        return self.level + history.iloc[-1] * np.arange(1, horizon + 1)


def test_origins_step_and_horizon():
    plan = BacktestPlan(n_rows=12, first_origin=5, horizon=3, step=2)
    np.testing.assert_array_equal(plan.origins(), [5, 7])          # 7 + 3 = 10 <= 11; 9 + 3 = 12 is outside
    assert BacktestPlan(n_rows=12, first_origin=5, horizon=1).origins().tolist() == [5, 6, 7, 8, 9, 10]


def test_expanding_and_rolling_training_rows_with_a_gap():
    expanding = BacktestPlan(n_rows=20, first_origin=8, gap=2)
    assert expanding.train_rows(8) == slice(0, 7) and expanding.train_rows(15) == slice(0, 14)
    rolling = BacktestPlan(n_rows=20, first_origin=8, window=4, gap=1)
    assert rolling.train_rows(8) == slice(4, 8) and rolling.train_rows(2 + 8) == slice(6, 10)


def test_what_the_model_sees_and_when_it_is_refitted():
    series = pd.Series(np.arange(10.0), index=pd.date_range("2020-01-01", periods=10))
    model = Recorder()
    table = walk_forward(series, model, BacktestPlan(n_rows=10, first_origin=4, horizon=2, refit_every=2, gap=1,
                                                     window=3))
    origins = [4, 5, 6, 7]
    assert [len(h) for h in model.predicts] == [o + 1 for o in origins]
    assert [f.tolist() for f in model.fits] == [[1.0, 2.0, 3.0], [3.0, 4.0, 5.0]]     # at origins 4 and 6
    assert model.fits[0].index.equals(series.index[1:4]) and model.predicts[-1].index.equals(series.index[:8])
    assert table["fitted_at"].tolist() == [series.index[i] for i in (4, 4, 4, 4, 6, 6, 6, 6)]
    assert table["h"].tolist() == [1, 2] * 4
    assert table["target"].tolist() == [series.index[o + h] for o in origins for h in (1, 2)]
    first = table.iloc[0]
    assert first["forecast"] == pytest.approx(2.0 + 4.0) and first["actual"] == 5.0
    np.testing.assert_allclose(table["error"], table["actual"] - table["forecast"])


def test_naive_backtest_matches_a_shifted_series():
    series = pd.Series(np.random.default_rng(0).normal(size=50).cumsum())
    table = walk_forward(series, FunctionForecaster(baselines.naive_forecast), BacktestPlan(50, first_origin=30))
    np.testing.assert_array_equal(table["forecast"], series.shift(1).iloc[31:])
    np.testing.assert_array_equal(table["actual"], series.iloc[31:])


@pytest.mark.parametrize("plan", [BacktestPlan(40, first_origin=20, horizon=3, refit_every=4),
                                  BacktestPlan(40, first_origin=20, horizon=1, window=10, gap=2)])
def test_no_future_row_reaches_a_forecast(plan):
    """Rewrite every row after each origin: the forecasts made at that origin must not change."""
    series = np.random.default_rng(1).normal(size=40).cumsum()
    reference = walk_forward(series, Recorder(), plan)
    for origin in plan.origins():
        rewritten = series.copy()
        rewritten[origin + 1:] = 1e6
        table = walk_forward(rewritten, Recorder(), plan)
        made_here = table["origin"] == origin
        np.testing.assert_array_equal(table.loc[made_here, "forecast"], reference.loc[made_here, "forecast"])


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_rows=10, first_origin=9), "no origin fits"),
    (dict(n_rows=10, first_origin=2, gap=3), "no training row"),
    (dict(n_rows=10, first_origin=2, step=0), "step must be a positive integer"),
    (dict(n_rows=10, first_origin=2, window=0), "window must be a positive integer"),
    (dict(n_rows=10, first_origin=2, gap=-1), "gap must be a non-negative integer"),
])
def test_bad_plans_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BacktestPlan(**kwargs)


def test_a_model_returning_the_wrong_shape_is_named():
    bad = FunctionForecaster(lambda history, horizon: np.zeros(horizon + 1))
    with pytest.raises(ValueError, match=r"returned shape \(3,\) at origin 5; expected \(2,\)"):
        walk_forward(np.arange(10.0), bad, BacktestPlan(10, first_origin=5, horizon=2))


def test_series_length_must_match_the_plan():
    with pytest.raises(ValueError, match="plan is for 12 rows but the series has 10"):
        walk_forward(np.arange(10.0), Recorder(), BacktestPlan(12, first_origin=5))


def test_score_by_horizon_by_hand():
    series = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0])
    table = walk_forward(series, FunctionForecaster(baselines.naive_forecast), BacktestPlan(8, first_origin=4, horizon=2))
    scores = score_by_horizon(table, series[:5])                       # scale: mean |change| of 1,3,2,5,4 = 1.75
    errors_h1 = np.array([6 - 4, 8 - 6])                               # origins 4 and 5 (6 + 2 is past the end)
    errors_h2 = np.array([8 - 4, 7 - 6])
    assert scores["n"].tolist() == [2, 2]
    assert scores.loc[1, "MAE"] == pytest.approx(np.abs(errors_h1).mean())
    assert scores.loc[2, "RMSE"] == pytest.approx(np.sqrt(np.mean(errors_h2 ** 2)))
    assert scores.loc[2, "MASE"] == pytest.approx(np.abs(errors_h2).mean() / 1.75)

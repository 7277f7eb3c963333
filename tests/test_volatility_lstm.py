"""The HAR-initialised LSTM: it is log-HAR before training, it is seeded, the penalty holds it near HAR, and it
uses no future bar."""
import numpy as np
import pandas as pd
import pytest
import torch

from course_lib.evaluation.backtest import BacktestPlan, walk_forward
from course_lib.evaluation.diagnostics import lookahead_origins
from course_lib.volatility import HarLSTM, LstmVolatilityForecaster, log_volatility_features, parkinson
from course_lib.data import load_sp500


@pytest.fixture(scope="module")
def proxy():
    return parkinson(load_sp500()).iloc[:700]


def test_before_training_it_is_log_har_by_least_squares(proxy):
    window = 10
    model = LstmVolatilityForecaster(window=window, epochs=0).fit(proxy)
    features = log_volatility_features(proxy).to_numpy()
    X, y = features[window - 1:-1], features[window:, 0]          # rows that end a window -> next day's log v
    design = np.column_stack([np.ones(len(X)), X])
    coefs = np.linalg.solve(design.T @ design, design.T @ y)
    residual_variance = np.var(y - design @ coefs)
    expected = np.exp(coefs[0] + features[-1] @ coefs[1:] + residual_variance / 2)
    assert model.predict(proxy, 1)[0] == pytest.approx(expected, rel=1e-5)


def test_network_output_at_initialisation_is_the_linear_part():
    coefs = [0.1, 0.5, 0.3, 0.1]
    network = HarLSTM(3, hidden=4, har_coefs=coefs)
    x = torch.randn(5, 7, 3)
    expected = 0.1 + x[:, -1] @ torch.tensor([0.5, 0.3, 0.1])
    torch.testing.assert_close(network(x).reshape(-1), expected)
    assert network.har_distance().item() == 0.0


def test_seeded_and_held_near_har_by_the_penalty(proxy):
    settings = dict(window=10, hidden=4, epochs=4, lr=1e-2, patience=None)
    first = LstmVolatilityForecaster(**settings).fit(proxy)
    again = LstmVolatilityForecaster(**settings).fit(proxy)
    np.testing.assert_array_equal(first.predict(proxy, 3), again.predict(proxy, 3))
    held = LstmVolatilityForecaster(**settings, har_penalty=100.0).fit(proxy)
    assert held.network.har_distance().item() < 0.1 * first.network.har_distance().item()


def test_lstm_uses_no_future_bar(proxy):
    plan = BacktestPlan(n_rows=400, first_origin=300, horizon=2, refit_every=50)
    probed = [300, 351, 397]

    def run(log_values):
        model = LstmVolatilityForecaster(window=10, hidden=4, epochs=2, patience=None)
        table = walk_forward(pd.Series(np.exp(log_values)), model, plan)
        return table.groupby("origin")["forecast"].sum().loc[probed].to_numpy()

    assert lookahead_origins(run, np.log(proxy.to_numpy()[:400]), probed) == []


def test_bad_input_is_named(proxy):
    with pytest.raises(ValueError, match="variance must be positive to take logs"):
        LstmVolatilityForecaster(epochs=0).fit(proxy.where(proxy.index != proxy.index[100], 0.0))
    with pytest.raises(ValueError, match="predict before fit"):
        LstmVolatilityForecaster().predict(proxy, 1)
    with pytest.raises(ValueError, match="har_coefs must hold 4 values"):
        HarLSTM(3, hidden=4, har_coefs=[0.1, 0.2])
    with pytest.raises(ValueError, match="history needs at least 31"):
        LstmVolatilityForecaster(window=10, epochs=0).fit(proxy).predict(proxy.iloc[:20], 1)

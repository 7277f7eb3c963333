"""course_lib.ensembles.intervals: spread intervals by hand and against the guide's code, MC dropout (zero spread
without dropout, eval mode after), pinball loss against scikit-learn, quantiles that never cross."""
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import mean_pinball_loss
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib import ensembles as E
from course_lib.evaluation.metrics import coverage
from course_lib.models import LSTMForecaster
from course_lib.training import fit, predict

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ----------------------------------------------------------------------------- spread intervals
def test_normal_interval_uses_the_normal_quantile():
    lower, upper = E.normal_interval([0.0, 1.0], [1.0, 2.0], alpha=0.05)
    np.testing.assert_allclose(upper, [1.959964, 1 + 2 * 1.959964], atol=1e-6)       # from a printed z table
    np.testing.assert_allclose(lower, [-1.959964, 1 - 2 * 1.959964], atol=1e-6)
    lower, upper = E.normal_interval([0.0], [1.0], alpha=0.1)
    assert upper[0] == pytest.approx(1.644854, abs=1e-6)


def test_spread_interval_is_the_guides_predict_with_uncertainty_with_ddof_0():
    samples = np.array([[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]])
    mean_pred, std_pred = np.mean(samples, axis=0), np.std(samples, axis=0)       # the guide's §6.3.3 code
    lower, upper = E.spread_interval(samples, alpha=0.1, ddof=0)
    np.testing.assert_allclose(upper, mean_pred + 1.644854 * std_pred, atol=1e-6)
    np.testing.assert_allclose(lower, mean_pred - 1.644854 * std_pred, atol=1e-6)
    lower1, upper1 = E.spread_interval(samples, alpha=0.1)                          # ddof = 1: std 2, not 1.633
    assert upper1[0] == pytest.approx(3 + 1.644854 * 2.0, abs=1e-6) and upper1[1] == lower1[1] == 2.0


# ----------------------------------------------------------------------------- MC dropout
def _windows(n=16, window=6, features=1, seed=0):
    return np.random.default_rng(seed).normal(size=(n, window, features)).astype(np.float32)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_mc_dropout_spread_is_zero_without_dropout_and_positive_with_it(dropout):
    torch.manual_seed(0)
    model = LSTMForecaster(1, 5, num_layers=2, dropout=dropout)
    model.train()                                                      # whatever mode it came in ...
    samples = E.mc_dropout_samples(model, _windows(), n_samples=20, seed=0)
    assert samples.shape == (20, 16)
    assert not any(m.training for m in model.modules())               # ... it leaves in eval mode
    spread = np.ptp(samples, axis=0)                                   # max - min over the samples, exact
    if dropout == 0:
        assert spread.max() == 0
        np.testing.assert_allclose(samples[0], predict(model, _windows()).ravel(), rtol=1e-6)
    else:
        assert (spread > 1e-4).all()


def test_mc_dropout_is_seeded_and_leaves_batch_norm_statistics_alone():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5),
                          nn.Linear(8, 1))
    before = model[2].running_mean.clone()
    first = E.mc_dropout_samples(model, _windows(), n_samples=5, seed=3)
    second = E.mc_dropout_samples(model, _windows(), n_samples=5, seed=3)
    np.testing.assert_array_equal(first, second)
    assert torch.equal(model[2].running_mean, before)                 # batch norm stayed in eval mode
    assert first.std(axis=0).min() > 0


def test_mc_dropout_leaves_eval_mode_even_when_the_forward_pass_fails():
    model = LSTMForecaster(1, 3, num_layers=2, dropout=0.2)
    with pytest.raises(ValueError, match="feature"):
        E.mc_dropout_samples(model, _windows(features=2), n_samples=2)
    assert not any(m.training for m in model.modules())


# ----------------------------------------------------------------------------- quantile regression
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


def test_pinball_loss_matches_scikit_learn_column_by_column():
    rng = np.random.default_rng(0)
    pred, target = rng.normal(size=(40, len(QUANTILES))), rng.normal(size=40)
    loss = E.PinballLoss(QUANTILES)(torch.tensor(pred), torch.tensor(target))
    expected = np.mean([mean_pinball_loss(target, pred[:, j], alpha=q) for j, q in enumerate(QUANTILES)])
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    repeated = torch.tensor(E.repeat_for_quantiles(target, len(QUANTILES)))
    assert E.PinballLoss(QUANTILES)(torch.tensor(pred), repeated).item() == pytest.approx(expected, rel=1e-6)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4), min_size=5, max_size=5), st.integers(1, 4))
def test_non_crossing_quantiles_never_cross(raw, rows):
    ordered = E.non_crossing(torch.tensor([raw] * rows, dtype=torch.float32))
    assert (torch.diff(ordered, dim=1) >= 0).all()
    assert torch.equal(ordered[:, 0], torch.tensor([raw[0]] * rows, dtype=torch.float32))


def test_quantile_lstm_outputs_ordered_quantiles_on_any_input():
    torch.manual_seed(0)
    model = E.QuantileLSTM(2, 4, QUANTILES)
    x = torch.as_tensor(_windows(64, features=2) * 50)                 # wild inputs, untrained weights
    out = model(x)
    assert out.shape == (64, len(QUANTILES)) and model.quantiles == QUANTILES
    assert (torch.diff(out, dim=1) >= 0).all()


def test_quantile_lstm_trained_with_pinball_loss_brackets_the_noise():
    """Targets are pure N(0, 1) noise: after training, the 5% and 95% quantiles sit near -1.645 and 1.645."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(512, 5, 1)).astype(np.float32), rng.normal(size=512).astype(np.float32)
    loader = DataLoader(TensorDataset(torch.as_tensor(x), torch.as_tensor(E.repeat_for_quantiles(y, 3),
                                                                         dtype=torch.float32)),
                        batch_size=64, shuffle=True, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(0)
    model = E.QuantileLSTM(1, 4, (0.05, 0.5, 0.95))
    fit(model, loader, epochs=40, lr=0.02, loss_fn=E.PinballLoss((0.05, 0.5, 0.95)))
    quantiles = predict(model, x)
    assert coverage(y, quantiles[:, 0], quantiles[:, 2]) == pytest.approx(0.9, abs=0.05)
    assert np.median(quantiles[:, 2]) == pytest.approx(1.645, abs=0.3)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, message", [
    (lambda: E.normal_interval([0.0], [1.0], alpha=1.0), "alpha must be strictly between 0 and 1"),
    (lambda: E.normal_interval([0.0], [1.0], alpha=True), "alpha must be strictly between 0 and 1"),
    (lambda: E.normal_interval([0.0], [-1.0]), "std must be >= 0"),
    (lambda: E.normal_interval([0.0, 1.0], [1.0]), "center has shape (2,) but std has shape (1,)"),
    (lambda: E.normal_interval([np.nan], [1.0]), "center has 1 NaN"),
    (lambda: E.spread_interval(np.ones((1, 3))), "S > ddof = 1"),
    (lambda: E.spread_interval(np.ones(3)), "must be (S, n)"),
    (lambda: E.spread_interval(np.array([[1.0, np.nan], [1.0, 2.0]])), "NaN"),
    (lambda: E.mc_dropout_samples(nn.Linear(1, 1), np.ones((2, 1)), n_samples=0), "n_samples must be a positive"),
    (lambda: E.PinballLoss((0.5, 0.5)), "strictly increasing"),
    (lambda: E.PinballLoss((0.0, 0.5)), "inside (0, 1)"),
    (lambda: E.PinballLoss((0.1, 0.9))(torch.zeros(4, 3), torch.zeros(4)), "pred must be (batch, 2)"),
    (lambda: E.PinballLoss((0.1, 0.9))(torch.zeros(4, 2), torch.zeros(4, 3)), "target must be"),
    (lambda: E.QuantileLSTM(1, 2, (0.9, 0.1)), "strictly increasing"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()

"""course_lib.training.fit and predict: learning happens, the best weights are restored, runs are reproducible."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.training import fit, predict


def linear_problem(n=256, seed=0, shuffle=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=gen)
    y = x @ torch.tensor([1.0, -2.0, 0.5]) + 0.3
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=shuffle, generator=gen)


def test_fit_learns_a_linear_map():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    history = fit(model, linear_problem(), epochs=60, lr=0.05)
    assert history.train_loss[-1] < 1e-3 < history.train_loss[0]
    np.testing.assert_allclose(model.weight.detach().numpy().ravel(), [1.0, -2.0, 0.5], atol=0.02)


def test_best_validation_weights_are_restored_and_early_stopping_stops():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    val = linear_problem(seed=1, shuffle=False)
    history = fit(model, linear_problem(), val, epochs=200, lr=0.5, patience=3)
    assert history.stopped_early and len(history.val_loss) < 200
    assert history.best_epoch == int(np.argmin(history.val_loss))
    restored = nn.MSELoss()(torch.as_tensor(predict(model, val)).ravel(), torch.cat([y for _, y in val]))
    assert restored.item() == pytest.approx(min(history.val_loss), rel=1e-5)


def test_same_seed_same_model():
    weights = []
    for _ in range(2):
        torch.manual_seed(123)
        model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
        fit(model, linear_problem(), epochs=3, seed=7)
        weights.append(torch.cat([p.detach().ravel() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])


def test_predict_keeps_loader_order():
    x = torch.arange(10.0).reshape(10, 1)
    loader = DataLoader(TensorDataset(x, x), batch_size=3)
    np.testing.assert_array_equal(predict(_Identity(), loader).ravel(), np.arange(10.0))


class _Identity(nn.Module):
    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x


def test_bad_arguments():
    with pytest.raises(ValueError, match="epochs"):
        fit(nn.Linear(3, 1), linear_problem(), epochs=0)
    with pytest.raises(ValueError, match="validation loader"):
        fit(nn.Linear(3, 1), linear_problem(), patience=2)

"""course_lib.training.fit and predict: learning happens, the best weights are restored, runs are reproducible."""
import numpy as np
import pytest
import torch
from torch import nn
from torch.optim.optimizer import register_optimizer_step_pre_hook
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


def test_predict_on_an_array_equals_predict_on_a_loader_and_the_model_itself():
    torch.manual_seed(0)
    model = nn.LSTM(2, 3, batch_first=True)
    head = nn.Sequential(_LastStep(model), nn.Linear(3, 1))
    x = np.random.default_rng(0).normal(size=(50, 7, 2))                  # float64 windows, as NumPy gives them
    loader = DataLoader(TensorDataset(torch.as_tensor(x, dtype=torch.float32), torch.zeros(50)), batch_size=8)
    from_array = predict(head, x, batch_size=16)
    np.testing.assert_allclose(from_array, predict(head, loader), rtol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(from_array, head(torch.as_tensor(x, dtype=torch.float32)).numpy(), rtol=1e-6)
    assert from_array.shape == (50, 1) and not head.training
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        predict(head, x, batch_size=0)


class _LastStep(nn.Module):
    def __init__(self, lstm):
        super().__init__()
        self.lstm = lstm

    def forward(self, x):
        return self.lstm(x)[0][:, -1]


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


def _val_loader():
    return linear_problem(seed=1, shuffle=False)


def test_plateau_schedule_is_torchs_reduce_lr_on_plateau():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    history = fit(model, linear_problem(), _val_loader(), epochs=40, lr=0.5, scheduler="plateau",
                  plateau_factor=0.5, plateau_patience=1)
    optimizer = torch.optim.Adam(nn.Linear(3, 1).parameters(), lr=0.5)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=1)
    expected = []
    for loss in history.val_loss:
        expected.append(optimizer.param_groups[0]["lr"])
        reference.step(loss)
    assert history.learning_rate == expected
    assert min(history.learning_rate) < 0.5              # the schedule did act


def test_cosine_schedule_is_torchs_cosine_annealing():
    history = fit(nn.Linear(3, 1), linear_problem(), epochs=10, lr=0.1, scheduler="cosine", min_lr=0.01)
    expected = [0.01 + 0.5 * (0.1 - 0.01) * (1 + np.cos(np.pi * e / 10)) for e in range(10)]
    np.testing.assert_allclose(history.learning_rate, expected, rtol=1e-9)


@pytest.mark.parametrize("clip_norm", [None, 0.5])
def test_gradient_clipping_caps_the_norm_the_optimizer_sees(clip_norm):
    x, y = torch.randn(64, 3), torch.full((64,), 100.0)
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    norms = []

    def record(optimizer, args, kwargs):
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        norms.append(torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item())

    handle = register_optimizer_step_pre_hook(record)
    try:
        fit(nn.Linear(3, 1), loader, epochs=2, lr=0.1, clip_norm=clip_norm)
    finally:
        handle.remove()
    assert len(norms) == 8
    if clip_norm is None:
        assert max(norms) > 10                     # the unclipped gradients are large here
    else:
        assert max(norms) <= clip_norm * (1 + 1e-6)


def test_scheduler_arguments_are_checked():
    with pytest.raises(ValueError, match="scheduler must be one of"):
        fit(nn.Linear(3, 1), linear_problem(), scheduler="step")
    with pytest.raises(ValueError, match="validation loader"):
        fit(nn.Linear(3, 1), linear_problem(), scheduler="plateau")


def test_progress_bar_can_be_shown_or_silenced(capsys):
    fit(nn.Linear(3, 1), linear_problem(), epochs=2)
    assert "epochs" not in capsys.readouterr().err
    fit(nn.Linear(3, 1), linear_problem(), epochs=2, progress=True)
    assert "epochs" in capsys.readouterr().err

"""Chapter 01, section 6: the 8-unit LSTM that forecasts the size of tomorrow's return, over five seeds.

The lesson keeps seed 0's model for its gate plots and judges the architecture over seeds 0-4 against the 20-day
mean of |r|. Rebuilt here with plain NumPy windows and torch modules (the training loop is course_lib.training's
``fit``, tested against torch in tests/test_training.py), and compared with the lesson's printed verdict.
"""
import re

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib import data
from course_lib.training import fit

WINDOW, SEEDS = 60, range(5)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


class SizeForecaster(nn.Module):
    def __init__(self, hidden=8):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


@pytest.fixture(scope="module")
def windows():
    close = data.load_sp500()["Close"]
    returns = np.log(close).diff().dropna()
    n_train = len(returns[:"2006-12-31"])
    scaled = (returns / returns.iloc[:n_train].std()).to_numpy(np.float32)
    x = np.lib.stride_tricks.sliding_window_view(scaled, WINDOW)[:-1]            # (n - 60, 60)
    label = np.arange(WINDOW, len(scaled))                                       # the day each window forecasts
    train, test = label < n_train, label >= n_train
    tensor = lambda a: torch.as_tensor(a, dtype=torch.float32)
    size = np.abs(scaled)
    twenty_day = np.array([size[t - 20:t].mean() for t in label[test]])
    return (tensor(x[train][..., None]), tensor(size[label[train]])[:, None], tensor(x[test][..., None]),
            size[label[test]], twenty_day)


def test_the_lstm_does_not_reliably_beat_the_20_day_mean(windows, read_lesson):
    x_train, y_train, x_test, truth, twenty_day = windows
    baseline = np.mean((truth - twenty_day) ** 2)
    assert baseline == pytest.approx(0.5350, abs=1e-4)
    errors = []
    for seed in SEEDS:
        torch.manual_seed(seed)
        model = SizeForecaster()
        fit(model, DataLoader(TensorDataset(x_train, y_train), batch_size=128, shuffle=True,
                              generator=torch.Generator().manual_seed(seed)), epochs=8, lr=0.01)
        with torch.no_grad():
            errors.append(np.mean((truth - model(x_test).numpy().ravel()) ** 2))
    errors = np.array(errors)
    assert errors[0] == pytest.approx(0.5585, abs=2e-3)                         # the lesson's gate model
    assert np.median(errors) > baseline and (errors < baseline).sum() <= 1
    printed, _ = read_lesson("01_lstm_gates_from_scratch.ipynb")
    median, low, high, beats = re.search(r"median test MSE ([\d.]+), range \[([\d.]+), ([\d.]+)\]; below the "
                                         r"20-day mean \(0.5350\) on (\d) of 5 seeds", printed).groups()
    np.testing.assert_allclose([np.median(errors), errors.min(), errors.max()],
                               [float(median), float(low), float(high)], atol=2e-3)
    assert int(beats) == (errors < baseline).sum()

"""Chapter 04's headline numbers re-derived with windows, splits and scalers written here in plain NumPy.

Only the model (``course_lib.models.LSTMForecaster``) and the course's one training loop
(``course_lib.training.fit``) come from the library. What is pinned:

* the naive forecast's test RMSE, 20.08 index points on the 756 test days;
* the guide's whole-series min-max scaler lowers a price-level LSTM's test RMSE a lot (median ratio near one
  half, not the 4% once reported from one seed), and the ratio depends on the seed;
* a scaler fitted on training rows only, mapped onto [0, 0.4], reproduces that gain seed by seed: the gain
  comes from the input scale, not from test-period information;
* an LSTM on log returns or on window-relative prices equals the naive forecast, while the price-level LSTM is
  many times worse;
* the walk-forward folds' realised volatility: 2009-2010 is the volatile fold, 2013-2014 the calm one.
"""
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from course_lib import data
from course_lib.models import LSTMForecaster
from course_lib.training import fit, predict
from course_lib.windows import make_dataset

WINDOW = 10
SEEDS = range(4)
pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def windows():
    """Rows split 70/15/15 by position; 10-day windows of closes, each in the part of its (single) label."""
    close = data.load_sp500()["Close"].to_numpy()
    n = len(close)
    a, b = int(0.7 * n), int(0.7 * n) + int(0.15 * n)
    starts = np.arange(n - WINDOW)
    x, y, label = close[starts[:, None] + np.arange(WINDOW)], close[starts + WINDOW], starts + WINDOW
    masks = {"train": label < a, "val": (label >= a) & (label < b), "test": label >= b}
    return close, a, {part: (x[mask], y[mask]) for part, mask in masks.items()}


def rmse(a, b):
    return float(np.sqrt(np.mean((np.asarray(a) - np.asarray(b)) ** 2)))


def lstm_test_forecasts(parts, transform, back, seed):
    """Train the notebook's small LSTM on transformed windows; return its test forecasts in index points."""
    scaled = {p: (transform(x, x[:, -1]), transform(y, x[:, -1])) for p, (x, y) in parts.items()}
    tensors = {p: TensorDataset(torch.as_tensor(x[..., None], dtype=torch.float32),
                                torch.as_tensor(y, dtype=torch.float32)) for p, (x, y) in scaled.items()}
    torch.manual_seed(seed)
    model = LSTMForecaster(n_features=1, hidden=8)
    train = DataLoader(tensors["train"], batch_size=128, shuffle=True, generator=torch.Generator().manual_seed(seed))
    fit(model, train, DataLoader(tensors["val"], batch_size=128), epochs=15, lr=5e-3, patience=4, seed=seed)
    prediction = predict(model, DataLoader(tensors["test"], batch_size=128))[:, 0]
    return back(prediction, parts["test"][0][:, -1])


def test_naive_rmse_on_the_test_days(windows):
    close, a, parts = windows
    x_test, y_test = parts["test"]
    start = a + int(0.15 * len(close))
    assert len(y_test) == 756
    np.testing.assert_array_equal(y_test, close[start:])
    naive = rmse(close[start:], close[start - 1:-1])
    assert naive == pytest.approx(20.0755, abs=5e-4)
    assert rmse(y_test, x_test[:, -1]) == naive
    honest = make_dataset(data.load_sp500()["Close"], window=WINDOW)      # the library cuts the same test days
    np.testing.assert_allclose(honest.to_price_units(honest.y_test), y_test, rtol=1e-12)


def test_the_guides_leak_is_input_scale_and_varies_with_the_seed(windows):
    close, a, parts = windows
    low, high = close[:a].min(), close[:a].max()                 # training rows only
    all_low, all_high = close.min(), close.max()                 # the guide: every row, the test years included
    assert all_low == low and (high - low) / (all_high - all_low) == pytest.approx(0.394, abs=1e-3)
    scalings = {
        "train [0, 1]": ((lambda v, _: (v - low) / (high - low)), (lambda p, _: low + p * (high - low))),
        "guide": ((lambda v, _: (v - all_low) / (all_high - all_low)),
                  (lambda p, _: all_low + p * (all_high - all_low))),
        "train [0, 0.4]": ((lambda v, _: 0.4 * (v - low) / (high - low)), (lambda p, _: low + p / 0.4 * (high - low))),
    }
    truth = parts["test"][1]
    scores = {name: np.array([rmse(truth, lstm_test_forecasts(parts, t, b, seed)) for seed in SEEDS])
              for name, (t, b) in scalings.items()}
    guide_ratio = scores["guide"] / scores["train [0, 1]"]
    copy_ratio = scores["train [0, 0.4]"] / scores["train [0, 1]"]
    assert (scores["train [0, 1]"] > 15 * 20.0755).all()          # the price-level model cannot extrapolate
    assert 0.3 < np.median(guide_ratio) < 0.8                      # a large gain, not "about 4%"
    assert guide_ratio.max() - guide_ratio.min() > 0.1             # and it depends on the seed
    assert 0.3 < np.median(copy_ratio) < 0.8                       # the train-only copy of the scale gains as much
    assert np.median(np.abs(scores["train [0, 0.4]"] / scores["guide"] - 1)) < 0.08   # seed by seed


def test_an_lstm_on_returns_or_relative_prices_equals_naive(windows):
    _, _, parts = windows
    truth, last = parts["test"][1], parts["test"][0][:, -1]
    naive = rmse(truth, last)

    def log_returns(v, last_close):      # inputs: the 9 returns inside each window; target: the next one
        return 100 * (np.diff(np.log(v), axis=1) if v.ndim == 2 else np.log(v / last_close))

    def relative(v, last_close):         # each window (and its target) relative to the window's last close
        return 100 * (v / (last_close[:, None] if v.ndim == 2 else last_close) - 1)

    returns_model = [rmse(truth, lstm_test_forecasts(parts, log_returns, lambda p, c: c * np.exp(p / 100), s))
                     for s in range(2)]
    relative_model = rmse(truth, lstm_test_forecasts(parts, relative, lambda p, c: c * (1 + p / 100), 0))
    for score in returns_model + [relative_model]:
        assert score == pytest.approx(naive, rel=0.01)             # equal to naive within 1%, not better by more


def test_the_volatile_and_the_calm_walk_forward_folds():
    """Section 4's folds: five test blocks of 500 tomorrow's-|r| labels at the end of the series (20-day windows).

    The lesson once called 2017-2018 the calm fold and 2015-2016 the volatile one (13% vs 14% a year);
    the realised volatility of each fold's test days says the contrast is 2009-2010 against 2013-2014.
    """
    close = data.load_sp500()["Close"]
    r = np.diff(np.log(close.to_numpy()))                       # r[k]: the return on day k + 1
    n_labels = len(r) - 20                                      # |r| windows of 20 days, label the next day
    starts = [n_labels - (5 - k) * 500 for k in range(5)]
    vols = np.array([r[20 + s:20 + s + 500].std() * np.sqrt(252) * 100 for s in starts])
    first_days = [close.index[1 + 20 + s].date().isoformat() for s in starts]
    assert first_days[0] == "2009-01-27" and first_days[2] == "2013-01-16"
    assert int(np.argmax(vols)) == 0 and int(np.argmin(vols)) == 2
    np.testing.assert_allclose(vols, [22.2, 18.9, 11.3, 14.2, 13.0], atol=0.05)

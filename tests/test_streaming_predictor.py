"""Chapter 09's streaming predictor: same numbers as the batch model, O(1) work per bar, bad bars refused by name."""
import numpy as np
import pandas as pd
import pytest
import torch

from course_lib import models
from course_lib.streaming import predictor as sp
from course_lib.streaming.predictor import (DuplicateBarError, MalformedBarError, OutOfOrderBarError,
                                            StreamingPredictor, WindowedPredictor, stateful_predictions)

TOLERANCE = {torch.float32: dict(rtol=1e-5, atol=2e-6), torch.float64: dict(rtol=1e-12, atol=1e-12)}


def model_and_bars(dtype, n_features=2, hidden=8, layers=1, outputs=1, n=150, seed=0):
    torch.manual_seed(seed)
    model = models.LSTMForecaster(n_features, hidden, num_layers=layers, outputs=outputs).to(dtype)
    bars = np.random.default_rng(seed).normal(size=(n, n_features))
    return model, bars


def stream(predictor, bars, timestamps=None):
    timestamps = range(len(bars)) if timestamps is None else timestamps
    return np.array([predictor.update(t, row) for t, row in zip(timestamps, bars)])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("engine", ["numpy", "torch"])
@pytest.mark.parametrize("layers, outputs", [(1, 1), (2, 3)])
def test_stream_equals_the_model_run_over_the_whole_history(dtype, engine, layers, outputs):
    model, bars = model_and_bars(dtype, layers=layers, outputs=outputs)
    predictor = StreamingPredictor(model, engine=engine)
    streamed = stream(predictor, bars)
    assert streamed.shape == (len(bars), outputs)
    # the model's own forward pass over each growing history (independent of the library's reference)
    x = torch.as_tensor(bars, dtype=dtype)[None]
    with torch.no_grad():
        for t in (0, 1, 17, 80, len(bars) - 1):
            np.testing.assert_allclose(streamed[t], model(x[:, :t + 1])[0].numpy(), **TOLERANCE[dtype])
        _, (h_n, c_n) = model.lstm(x)
    np.testing.assert_allclose(streamed, stateful_predictions(model, bars), **TOLERANCE[dtype])
    h, c = predictor.state
    np.testing.assert_allclose(h.numpy(), h_n.numpy(), **TOLERANCE[dtype])
    np.testing.assert_allclose(c.numpy(), c_n.numpy(), **TOLERANCE[dtype])


def test_peephole_model_streams_through_chapter_01_cell():
    torch.manual_seed(1)
    model = models.PeepholeLSTM(2, 6).double()
    bars = np.random.default_rng(1).normal(size=(60, 2))
    np.testing.assert_allclose(stream(StreamingPredictor(model), bars), stateful_predictions(model, bars), atol=1e-12)


def test_a_model_left_in_training_mode_streams_without_dropout():
    torch.manual_seed(2)
    model = models.LSTMForecaster(2, 6, num_layers=2, dropout=0.5).double()        # training mode: dropout active
    bars = np.random.default_rng(2).normal(size=(30, 2))
    reference = stateful_predictions(model, bars)
    assert model.training                                                            # given back as it was
    np.testing.assert_allclose(reference, stateful_predictions(model, bars), atol=0)  # and no dropout noise
    np.testing.assert_allclose(stream(StreamingPredictor(model), bars), reference, atol=1e-12)


def test_stream_does_constant_work_per_bar(monkeypatch):
    """O(1): one cell step per layer per bar, however long the history; the windowed approach runs W steps."""
    model, bars = model_and_bars(torch.float64, layers=2, n=40)
    calls = []
    original = sp.cell_step
    monkeypatch.setattr(sp, "cell_step", lambda *a, **k: calls.append(1) or original(*a, **k))
    predictor = StreamingPredictor(model)
    for t, row in enumerate(bars):
        before = len(calls)
        predictor.update(t, row)
        assert len(calls) - before == 2
    lengths = []
    windowed = WindowedPredictor(model, window=10)
    monkeypatch.setattr(windowed, "lstm", lambda x, *a: lengths.append(x.shape[1]) or model.lstm(x, *a))
    stream(windowed, bars)
    assert lengths == [min(t + 1, 10) for t in range(len(bars))]


def test_windowed_predictor_reruns_the_model_on_each_window_and_differs_from_the_stream():
    model, bars = model_and_bars(torch.float64, n=40)
    windowed = stream(WindowedPredictor(model, window=5), bars)
    x = torch.as_tensor(bars)[None]
    with torch.no_grad():
        expected = np.array([model(x[:, max(0, t - 4):t + 1])[0].numpy() for t in range(len(bars))])
    np.testing.assert_allclose(windowed, expected, atol=1e-12)
    np.testing.assert_allclose(sp.windowed_predictions(model, bars, 5), windowed[4:], atol=1e-12)
    streamed = stream(StreamingPredictor(model), bars)
    np.testing.assert_allclose(streamed[:5], windowed[:5], atol=1e-12)     # same history until the window fills
    assert np.abs(streamed[5:] - windowed[5:]).max() > 1e-4                 # then the stream remembers more


def test_bad_bars_are_refused_by_name_and_change_nothing():
    model, bars = model_and_bars(torch.float64, n=30)
    dates = pd.bdate_range("2020-01-01", periods=len(bars))
    predictor = StreamingPredictor(model)
    bad = {
        3: [(dates[2], bars[3], DuplicateBarError), (dates[1], bars[3], OutOfOrderBarError)],
        7: [(dates[7], [np.nan, 1.0], MalformedBarError), (dates[7], [1.0, 2.0, 3.0], MalformedBarError),
            (dates[7], [np.inf, 0.0], MalformedBarError), (dates[7], ["a", "b"], MalformedBarError),
            (None, bars[7], MalformedBarError), (pd.NaT, bars[7], MalformedBarError), (7, bars[7], MalformedBarError)],
        12: [(dates[12], 1.0, MalformedBarError)],
    }
    for t, (date, row) in enumerate(zip(dates, bars)):
        for bad_date, bad_row, error in bad.get(t, []):
            with pytest.raises(error):
                predictor.update(bad_date, bad_row)
        predictor.update(date, row)
    assert predictor.accepted_timestamps == list(dates)
    np.testing.assert_array_equal(np.array(predictor.accepted_features), bars)
    np.testing.assert_allclose(np.array(predictor.predictions), stateful_predictions(model, bars), atol=1e-12)
    assert [name for _, name in predictor.rejected] == [error.__name__ for t in sorted(bad) for *_, error in bad[t]]
    assert list(predictor.history().index) == list(dates)


def test_error_messages_name_the_bar_and_the_problem():
    model, bars = model_and_bars(torch.float32, n=2)
    predictor = StreamingPredictor(model)
    predictor.update(5, bars[0])
    with pytest.raises(DuplicateBarError, match="bar 5 was already accepted"):
        predictor.update(5, bars[1])
    with pytest.raises(OutOfOrderBarError, match="bar 4 is older than the last accepted bar 5"):
        predictor.update(4, bars[1])
    with pytest.raises(MalformedBarError, match="bar 6: feature 1 is nan"):
        predictor.update(6, [0.0, np.nan])
    with pytest.raises(MalformedBarError, match="expected 2 feature"):
        predictor.update(6, [0.0])


def test_replace_model_rebuilds_the_state_over_the_accepted_bars():
    model, bars = model_and_bars(torch.float64, n=50)
    new_model, _ = model_and_bars(torch.float64, n=1, seed=7)
    for engine in ("numpy", "torch"):
        predictor = StreamingPredictor(model, engine=engine)
        stream(predictor, bars[:30])
        predictor.replace_model(new_model)
        after = stream(predictor, bars[30:], timestamps=range(30, 50))
        np.testing.assert_allclose(after, stateful_predictions(new_model, bars)[30:], atol=1e-12)


def test_reset_starts_a_new_stream():
    model, bars = model_and_bars(torch.float64, n=20)
    predictor = StreamingPredictor(model)
    stream(predictor, bars)
    predictor.reset()
    np.testing.assert_allclose(stream(predictor, bars[10:]), stateful_predictions(model, bars[10:]), atol=1e-12)


@pytest.mark.parametrize("make", [lambda: models.BidirectionalLSTM(2, 4), lambda: models.ResidualLSTM(2, 4),
                                  lambda: models.AttentionLSTM(2, 4)])
def test_models_that_cannot_be_streamed_are_refused(make):
    with pytest.raises(ValueError, match="stream"):
        StreamingPredictor(make())


def test_unknown_engine_and_bad_window_are_refused():
    model, _ = model_and_bars(torch.float32, n=1)
    with pytest.raises(ValueError, match="engine"):
        StreamingPredictor(model, engine="jax")
    with pytest.raises(ValueError, match="window"):
        WindowedPredictor(model, window=0)


def test_latency_helpers():
    model, bars = model_and_bars(torch.float32, n=20)
    seconds = sp.bar_latencies(StreamingPredictor(model), range(20), bars)
    assert seconds.shape == (20,) and (seconds > 0).all()
    summary = sp.latency_summary([1e-6, 2e-6, 3e-6, 4e-6, 100e-6])
    assert summary["p50_us"] == pytest.approx(3.0)
    assert summary["p99_us"] == pytest.approx(4 + 0.96 * 96)                 # linear interpolation, numpy's default
    assert summary["mean_us"] == pytest.approx(22.0)

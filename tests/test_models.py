"""Chapter 05's architectures: shapes, parameter counts, causality, attention weights, horizon consistency, errors."""
import numpy as np
import pytest
import pywt
import torch
from torch import nn

from course_lib import models
from course_lib.evaluation.diagnostics import lookahead_origins
from course_lib.lstm_scratch import ScratchLSTM, lstm_parameter_count

F, H, W, B = 3, 8, 40, 5


def lstm_params(d, h, layers=1, directions=1):
    """nn.LSTM's count: 4h(d + h + 2) for the first layer, 4h(directions*h + h + 2) for the others, per direction."""
    first = 4 * h * (d + h + 2)
    rest = 4 * h * (directions * h + h + 2)
    return directions * (first + (layers - 1) * rest)


FORECASTERS = {
    "single": (lambda: models.LSTMForecaster(F, H), lstm_params(F, H) + H + 1),
    "stacked": (lambda: models.LSTMForecaster(F, H, num_layers=2, dropout=0.1), lstm_params(F, H, 2) + H + 1),
    "bidirectional last": (lambda: models.BidirectionalLSTM(F, H, pooling="last"),
                           lstm_params(F, H, directions=2) + 2 * H + 1),
    "bidirectional final": (lambda: models.BidirectionalLSTM(F, H), lstm_params(F, H, directions=2) + 2 * H + 1),
    "additive attention": (lambda: models.AttentionLSTM(F, H, "additive"),
                           lstm_params(F, H) + (H * H) + (H * H + H) + H + H + 1),
    "dot attention": (lambda: models.AttentionLSTM(F, H, "dot"), lstm_params(F, H) + H + 1),
    "general attention": (lambda: models.AttentionLSTM(F, H, "general"), lstm_params(F, H) + H * H + H + 1),
    "self attention": (lambda: models.AttentionLSTM(F, H, "self"), lstm_params(F, H) + 4 * (H * H + H) + H + 1),
    "multi-scale": (lambda: models.MultiScaleLSTM(F, H, scales=(5, 10, 20)),
                    3 * lstm_params(F, H) + (3 * H * H + H) + H + 1),
    "residual": (lambda: models.ResidualLSTM(F, H, num_layers=2),
                 lstm_params(F, H) + lstm_params(H, H) + (F * H + H) + H + 1),
    "peephole": (lambda: models.PeepholeLSTM(F, H), lstm_params(F, H) + 3 * H + H + 1),
    "seasonal": (lambda: models.SeasonalLSTM(F, H, periods=(5, 10)), 2 * lstm_params(F, H) + (2 * H * H + H) + H + 1),
    "transformer": (lambda: models.TransformerForecaster(F, d_model=8, heads=2), None),
    "window linear": (lambda: models.WindowLinear(F, W), 2 * (W * F + 1)),
}


@pytest.mark.parametrize("name", FORECASTERS)
def test_shape_and_parameter_count(name):
    build, expected = FORECASTERS[name]
    torch.manual_seed(0)
    model = build()
    assert model(torch.randn(B, W, F)).shape == (B, 1)
    if expected is not None:
        assert models.parameter_count(model) == expected


def test_transformer_parameter_count_matches_its_parts():
    model = models.TransformerForecaster(F, d_model=8, heads=2)
    layer = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    assert models.parameter_count(model) == (F * 8 + 8) + models.parameter_count(layer) + 8 + 1


def test_lstm_counts_agree_with_chapter_01():
    assert lstm_params(F, H) == lstm_parameter_count(F, H)
    assert lstm_params(F, H, 2) == lstm_parameter_count(F, H, 2)


def test_wavelet_and_multi_horizon_shapes():
    assert models.WaveletLSTM(H, level=2)(torch.randn(B, 32, 1)).shape == (B, 1)
    assert models.MultiHorizonLSTM(F, H)(torch.randn(B, W, F)).shape == (B, 3)
    cell = models.ConvLSTMCell(2, 4)
    assert cell(torch.randn(B, 6, 2, 7, 9)).shape == (B, 4, 7, 9)
    assert models.parameter_count(cell) == (2 + 4) * 4 * 4 * 9 + 4 * 4


def series_forecaster(model, window, n_features=1):
    """The pipeline the causality probe runs: windows ending at each origin -> model -> one forecast per origin."""
    def forecast(origins):
        def at(series):
            x = torch.tensor(np.stack([series[t - window + 1:t + 1] for t in origins]), dtype=torch.float32)
            with torch.no_grad():
                return model(x[:, :, None].repeat(1, 1, n_features))[:, 0].numpy()
        return at
    return forecast


CAUSAL = dict(FORECASTERS, wavelet=(lambda: models.WaveletLSTM(H, level=2), None))


@pytest.mark.parametrize("name", CAUSAL)
def test_every_forecaster_is_causal_over_a_window(name):
    torch.manual_seed(0)
    model = CAUSAL[name][0]().eval()
    n_features = 1 if name == "wavelet" else F
    series = np.random.default_rng(0).normal(size=120).cumsum()
    origins = [40, 60, 90]
    assert lookahead_origins(series_forecaster(model, W if name != "wavelet" else 32, n_features)(origins),
                             series, origins) == []


def test_the_bidirectional_tagger_used_per_step_reads_the_future():
    torch.manual_seed(0)
    tagger = models.BidirectionalTagger(1, H).eval()
    series = np.random.default_rng(1).normal(size=80).cumsum()
    origins = [30, 50, 70]

    def per_step(values):
        with torch.no_grad():
            return tagger(torch.tensor(values, dtype=torch.float32)[None, :, None])[0, origins].numpy()

    assert lookahead_origins(per_step, series, origins) == origins


def test_wavelet_denoising_of_the_whole_series_leaks_but_per_window_does_not():
    series = np.random.default_rng(2).normal(size=128).cumsum()
    origins = [40, 60, 90]

    def whole_series(values):
        return models.wavelet_components(values[None, :], level=2)[0, origins, 0]

    def per_window(values):
        return models.wavelet_components(np.stack([values[t - 31:t + 1] for t in origins]), level=2)[:, -1, 0]

    assert lookahead_origins(whole_series, series, origins) == origins
    assert lookahead_origins(per_window, series, origins) == []


def test_wavelet_components_add_up_and_match_pywt():
    windows = np.random.default_rng(3).normal(size=(4, 32))
    parts = models.wavelet_components(windows, "db4", 2)
    np.testing.assert_allclose(parts.sum(axis=2), windows, atol=1e-10)
    coefficients = pywt.wavedec(windows[1], "db4", level=2, mode="periodization")
    approximation = pywt.waverec([coefficients[0], np.zeros_like(coefficients[1]), np.zeros_like(coefficients[2])],
                                 "db4", mode="periodization")
    np.testing.assert_allclose(parts[1, :, 0], approximation, atol=1e-12)


@pytest.mark.parametrize("score", ["additive", "dot", "general", "self"])
def test_attention_weights_sum_to_one(score):
    torch.manual_seed(0)
    prediction, weights = models.AttentionLSTM(F, H, score)(torch.randn(B, W, F), return_weights=True)
    assert prediction.shape == (B, 1) and weights.shape == (B, W)
    assert torch.allclose(weights.sum(dim=1), torch.ones(B), atol=1e-6) and (weights >= 0).all()


def test_dot_attention_by_hand():
    attention = models.TemporalAttention(2, "dot")
    outputs = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])      # query = last = (1, 1)
    context, weights = attention(outputs)
    scores = torch.tensor([1.0, 1.0, 2.0]) / np.sqrt(2)
    expected = torch.softmax(scores, 0)
    assert torch.allclose(weights[0], expected)
    assert torch.allclose(context[0], (expected[:, None] * outputs[0]).sum(0))


def test_peephole_model_reuses_the_chapter_01_cell():
    model = models.PeepholeLSTM(F, H)
    assert isinstance(model.lstm, ScratchLSTM) and model.lstm.peephole


def test_multi_horizon_forecasts_are_consistent_sums():
    torch.manual_seed(0)
    model = models.MultiHorizonLSTM(F, H, horizons=(1, 5, 21))
    x = torch.randn(B, W, F)
    out = model(x)
    increments = model.increments(model.lstm(x)[0][:, -1])
    assert torch.allclose(out[:, 1] - out[:, 0], increments[:, 1])
    assert torch.allclose(out[:, 2], increments.sum(dim=1))


def test_positive_increments_never_let_a_longer_horizon_fall():
    torch.manual_seed(3)
    model = models.MultiHorizonLSTM(F, H, horizons=(1, 5, 21), increments="positive")
    with torch.no_grad():
        model.increments.bias.fill_(-5.0)                                 # raw increments far below zero
        out = model(torch.randn(64, W, F))
        raw = model.increments(model.lstm(torch.randn(64, W, F))[0][:, -1])
    assert (raw < 0).all() and (out > 0).all() and (torch.diff(out, dim=1) > 0).all()
    with pytest.raises(ValueError, match="increments"):
        models.MultiHorizonLSTM(F, H, increments="monotone")


def test_multi_horizon_loss_weights():
    prediction, target = torch.zeros(4, 3), torch.tensor([[1.0, 2.0, 4.0]] * 4)
    assert models.multi_horizon_loss(prediction, target).item() == pytest.approx((1 + 4 + 16) / 3)
    weighted = models.multi_horizon_loss(prediction, target, weights=[1.0, 1 / 5, 1 / 21]).item()
    assert weighted == pytest.approx((1 + 4 / 5 + 16 / 21) / (1 + 1 / 5 + 1 / 21))


def test_seasonal_pattern_picks_the_targets_phase():
    x = torch.arange(12.0)[None, :, None]                                # steps 0..11, target is step 12
    np.testing.assert_array_equal(models.extract_seasonal_pattern(x, 5)[0, :, 0].numpy(), [2.0, 7.0])
    np.testing.assert_array_equal(models.extract_seasonal_pattern(x, 3)[0, :, 0].numpy(), [0.0, 3.0, 6.0, 9.0])
    # a target 5 steps after the window (step 16): phase-mates 11 and 6 (and 1) for p = 5
    np.testing.assert_array_equal(models.extract_seasonal_pattern(x, 5, horizon=5)[0, :, 0].numpy(), [1.0, 6.0, 11.0])
    # the target's own weekday, whatever the horizon: every returned row is a multiple of p before it
    for horizon in range(1, 9):
        rows = models.extract_seasonal_pattern(x, 4, horizon=horizon)[0, :, 0].numpy()
        assert rows.max() > 11 - 4 and np.all((11 + horizon - rows) % 4 == 0), horizon


def test_window_linear_trend_is_a_trailing_mean():
    model = models.WindowLinear(1, 6, kernel=3)
    x = torch.tensor([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])[None, :, None]
    expected = [1.0, 1.5, 7 / 3, 14 / 3, 28 / 3, 56 / 3]
    np.testing.assert_allclose(model.moving_average(x)[0, :, 0].numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("call, message", [
    (lambda: models.LSTMForecaster(F, H)(torch.randn(B, W)), r"\(batch, window, features\)"),
    (lambda: models.LSTMForecaster(F, H)(torch.randn(B, W, F + 1)), "built for 3 feature"),
    (lambda: models.LSTMForecaster(F, H)(torch.full((B, W, F), float("nan"))), "NaN"),
    (lambda: models.MultiScaleLSTM(F, H, scales=(5, 60))(torch.randn(B, W, F)), "at least 60"),
    (lambda: models.SeasonalLSTM(F, H, periods=(21,))(torch.randn(B, W, F)), "at least 42"),
    (lambda: models.WaveletLSTM(H, level=2)(torch.randn(B, 30, 1)), "multiple of 2"),
    (lambda: models.WindowLinear(F, W)(torch.randn(B, W - 1, F)), "windows of 40 steps"),
    (lambda: models.BidirectionalLSTM(F, H, pooling="mean"), "pooling"),
    (lambda: models.AttentionLSTM(F, H, "cosine"), "score"),
    (lambda: models.MultiHorizonLSTM(F, H, horizons=(5, 1)), "increasing"),
    (lambda: models.multi_horizon_loss(torch.zeros(2, 3), torch.zeros(2, 2)), "both be"),
    (lambda: models.ConvLSTMCell(1, 2, kernel_size=2), "odd"),
])
def test_bad_input_gets_a_named_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()

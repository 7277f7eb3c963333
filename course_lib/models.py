"""The architectures of the guide (§3.2, §3.3, §7.2, §7.3.2 problems 3-4), each a small ``nn.Module``.

Every forecaster takes a batch of windows ``x`` of shape (batch, window, features) — the rows up to the
forecast origin, oldest first — and returns (batch, outputs). None of them reads a row after the window's
last one, so each is causal when used this way; ``BidirectionalTagger`` is the counter-example (one output
per step of the window) that the lesson shows failing the causality probe.

``WindowLinear`` (DLinear-style) is the baseline on the same window that every LSTM must beat.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from course_lib.lstm_scratch import ScratchLSTM


def check_windows(x: torch.Tensor, n_features: int, min_window: int = 1) -> None:
    """Raise ``ValueError`` unless ``x`` is (batch, window >= min_window, n_features) and free of NaN."""
    if not isinstance(x, torch.Tensor) or x.ndim != 3:
        raise ValueError(f"expected windows of shape (batch, window, features), got {tuple(getattr(x, 'shape', ()))}")
    if x.shape[2] != n_features:
        raise ValueError(f"the model was built for {n_features} feature(s), the windows have {x.shape[2]}")
    if x.shape[1] < min_window:
        raise ValueError(f"the windows have {x.shape[1]} steps but this model needs at least {min_window}")
    if torch.isnan(x).any():
        raise ValueError("the windows contain NaN: drop or fill them before the model sees them")


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


class LSTMForecaster(nn.Module):
    """Single-layer (``num_layers=1``) or stacked LSTM; the last step's top-layer output feeds a linear head.

    (batch, window, features) -> (batch, outputs). ``dropout`` acts between stacked layers (as in ``nn.LSTM``).
    """

    def __init__(self, n_features: int, hidden: int, num_layers: int = 1, dropout: float = 0.0, outputs: int = 1):
        super().__init__()
        self.n_features = n_features
        self.lstm = nn.LSTM(n_features, hidden, num_layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        out, _ = self.lstm(x)              # (batch, window, hidden)
        return self.head(out[:, -1])


class BidirectionalLSTM(nn.Module):
    """A bidirectional LSTM over a window of past rows: (batch, window, features) -> (batch, outputs).

    ``pooling="last"`` is the guide's ``lstm_out[:, -1, :]``: its backward half has then read ONE step (the
    last row). ``pooling="final"`` concatenates each direction's final state, the backward one having read
    the whole window back to its first row. Either way only past rows are read: causal over a window.
    """

    def __init__(self, n_features: int, hidden: int, pooling: str = "final", outputs: int = 1):
        super().__init__()
        if pooling not in ("last", "final"):
            raise ValueError(f"pooling must be 'last' (the guide's) or 'final', got {pooling!r}")
        self.n_features, self.pooling = n_features, pooling
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        out, (h_n, _) = self.lstm(x)       # out (batch, window, 2 hidden); h_n (2, batch, hidden)
        pooled = out[:, -1] if self.pooling == "last" else torch.cat([h_n[0], h_n[1]], dim=1)
        return self.head(pooled)


class BidirectionalTagger(nn.Module):
    """The leaky use: one output per step, (batch, window, features) -> (batch, window).

    The output at step t has read steps t+1..end through the backward direction: trained to label each
    step with the next value, it sees that value. Shown in the lesson failing the causality probe.
    """

    def __init__(self, n_features: int, hidden: int):
        super().__init__()
        self.n_features = n_features
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        out, _ = self.lstm(x)
        return self.head(out).squeeze(-1)


class TemporalAttention(nn.Module):
    """Attention pooling over LSTM outputs $H = (h_1..h_T)$, query $q = h_T$ (the last step).

    Scores $s_t$: ``"additive"`` (Bahdanau) $v^\\top \\tanh(W h_t + U q)$; ``"dot"`` $h_t^\\top q / \\sqrt{d}$;
    ``"general"`` (multiplicative, Luong) $h_t^\\top W q$. Weights $a = \\mathrm{softmax}(s)$ over t; context
    $\\sum_t a_t h_t$. forward(H (batch, T, d)) -> (context (batch, d), weights (batch, T)).
    """

    def __init__(self, hidden: int, score: str = "additive"):
        super().__init__()
        if score not in ("additive", "dot", "general"):
            raise ValueError(f"score must be 'additive', 'dot' or 'general', got {score!r}")
        self.score = score
        if score == "additive":
            self.w, self.u, self.v = nn.Linear(hidden, hidden, bias=False), nn.Linear(hidden, hidden), \
                nn.Linear(hidden, 1, bias=False)
        elif score == "general":
            self.w = nn.Linear(hidden, hidden, bias=False)

    def forward(self, outputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        query = outputs[:, -1]                                     # (batch, d)
        if self.score == "additive":
            scores = self.v(torch.tanh(self.w(outputs) + self.u(query)[:, None])).squeeze(-1)
        elif self.score == "dot":
            scores = (outputs @ query[:, :, None]).squeeze(-1) / math.sqrt(outputs.shape[-1])
        else:
            scores = (outputs @ self.w(query)[:, :, None]).squeeze(-1)
        weights = torch.softmax(scores, dim=1)                     # (batch, T), each row sums to 1
        return (weights[:, :, None] * outputs).sum(dim=1), weights


class AttentionLSTM(nn.Module):
    """LSTM + temporal attention (``score``: additive, dot, general) or ``"self"`` attention (one multi-head
    self-attention layer over the window's outputs, read at the last step).

    forward(x) -> (batch, outputs); ``forward(x, return_weights=True)`` -> (prediction, weights (batch, window)).
    """

    def __init__(self, n_features: int, hidden: int, score: str = "additive", heads: int = 1, outputs: int = 1):
        super().__init__()
        self.n_features, self.score = n_features, score
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        if score == "self":
            self.attention = nn.MultiheadAttention(hidden, heads, batch_first=True)
        else:
            self.attention = TemporalAttention(hidden, score)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor, return_weights: bool = False):
        check_windows(x, self.n_features)
        out, _ = self.lstm(x)
        if self.score == "self":
            attended, all_weights = self.attention(out, out, out, need_weights=True)   # weights (batch, T, T)
            context, weights = attended[:, -1], all_weights[:, -1]
        else:
            context, weights = self.attention(out)
        prediction = self.head(context)
        return (prediction, weights) if return_weights else prediction


class MultiScaleLSTM(nn.Module):
    """One LSTM per scale, reading the last ``s`` rows of the window for each ``s`` in ``scales`` (short,
    medium, long); final states concatenated, fused by a ReLU layer, then a linear head (guide §3.3.1).

    (batch, window >= max(scales), features) -> (batch, outputs).
    """

    def __init__(self, n_features: int, hidden: int, scales=(5, 20, 60), outputs: int = 1):
        super().__init__()
        if not scales or min(scales) < 1:
            raise ValueError(f"scales must be positive window lengths, got {scales!r}")
        self.n_features, self.scales = n_features, tuple(scales)
        self.lstms = nn.ModuleList(nn.LSTM(n_features, hidden, batch_first=True) for _ in self.scales)
        self.fusion = nn.Linear(hidden * len(self.scales), hidden)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features, min_window=max(self.scales))
        finals = [lstm(x[:, -scale:])[1][0][-1] for scale, lstm in zip(self.scales, self.lstms)]
        return self.head(F.relu(self.fusion(torch.cat(finals, dim=1))))


class ResidualLSTM(nn.Module):
    """Stacked LSTM layers with skip connections, $x_{k+1} = \\mathrm{LSTM}_k(x_k) + P_k x_k$ (guide §3.3.2),
    $P_k$ a linear projection where the sizes differ; last step -> linear head. (batch, window, f) -> (batch, outputs).
    """

    def __init__(self, n_features: int, hidden: int, num_layers: int = 2, outputs: int = 1):
        super().__init__()
        self.n_features = n_features
        self.lstms = nn.ModuleList(nn.LSTM(n_features if k == 0 else hidden, hidden, batch_first=True)
                                   for k in range(num_layers))
        self.projections = nn.ModuleList(nn.Linear(n_features, hidden) if k == 0 else nn.Identity()
                                         for k in range(num_layers))
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        for lstm, projection in zip(self.lstms, self.projections):
            x = lstm(x)[0] + projection(x)
        return self.head(x[:, -1])


class PeepholeLSTM(nn.Module):
    """Chapter 01's from-scratch cell with peephole connections (gates also read $c_{t-1}$, $o$ reads $c_t$),
    last step -> linear head. (batch, window, features) -> (batch, outputs)."""

    def __init__(self, n_features: int, hidden: int, outputs: int = 1):
        super().__init__()
        self.n_features = n_features
        self.lstm = ScratchLSTM(n_features, hidden, batch_first=True, peephole=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def extract_seasonal_pattern(x: torch.Tensor, period: int, horizon: int = 1) -> torch.Tensor:
    """The rows of the window in the forecast target's phase of a ``period``-step season (the guide leaves
    this function undefined; this is the course's definition).

    The target is step T+h of a window of steps 1..T, so its phase-mates inside the window are steps
    T+h-p, T+h-2p, ... that are <= T (e.g. the same weekday, with p = 5 trading days). Returns them oldest
    first: (batch, window, f) -> (batch, about window / p, f). Needs window >= 2p. With h = p the last row
    is one of them; with h = 1 and p = 5 the last row is not (it is the weekday before the target's).
    """
    window = x.shape[1]
    if period < 1 or window < 2 * period:
        raise ValueError(f"a seasonal period of {period} needs windows of at least {2 * period} steps, got {window}")
    if horizon < 1:
        raise ValueError(f"the horizon must be at least 1 step, got {horizon}")
    return x[:, (window - 1 + horizon) % period::period]    # positions T-1+h-kp of 0..T-1, oldest first


class SeasonalLSTM(nn.Module):
    """One LSTM per seasonal period over ``extract_seasonal_pattern(x, p, horizon)``, fused (guide §7.2.2);
    ``horizon`` is how many steps after the window's last row the target lies.
    (batch, window >= 2 max(periods), features) -> (batch, outputs)."""

    def __init__(self, n_features: int, hidden: int, periods=(5, 21), outputs: int = 1, horizon: int = 1):
        super().__init__()
        self.n_features, self.periods, self.horizon = n_features, tuple(periods), horizon
        self.lstms = nn.ModuleList(nn.LSTM(n_features, hidden, batch_first=True) for _ in self.periods)
        self.fusion = nn.Linear(hidden * len(self.periods), hidden)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features, min_window=2 * max(self.periods))
        finals = [lstm(extract_seasonal_pattern(x, p, self.horizon))[1][0][-1] for p, lstm in zip(self.periods, self.lstms)]
        return self.head(F.relu(self.fusion(torch.cat(finals, dim=1))))


def wavelet_components(windows: np.ndarray, wavelet: str = "db4", level: int = 2) -> np.ndarray:
    """Split each window, on its own, into ``level + 1`` additive wavelet components (approximation, then
    details from coarse to fine): (batch, window) -> (batch, window, level + 1), components summing to the window.

    Each window is decomposed from its own rows only (``pywt.wavedec``, one coefficient set kept at a time,
    ``pywt.waverec``), so no row after the window's end can enter. Decomposing the whole series once and then
    cutting windows would leak the future into every component (the filters are two-sided).
    """
    import pywt

    windows = np.asarray(windows, dtype=np.float64)
    if windows.ndim != 2:
        raise ValueError(f"expected (batch, window) values, got shape {windows.shape}")
    coefficients = pywt.wavedec(windows, wavelet, level=level, axis=1, mode="periodization")
    parts = []
    for keep in range(level + 1):
        only = [c if k == keep else np.zeros_like(c) for k, c in enumerate(coefficients)]
        parts.append(pywt.waverec(only, wavelet, axis=1, mode="periodization")[:, :windows.shape[1]])
    return np.stack(parts, axis=2)


class WaveletLSTM(nn.Module):
    """An LSTM on the wavelet components of each (single-feature) window, each decomposed from its own past.

    (batch, window, 1) -> (batch, outputs). The decomposition runs in NumPy (it carries no parameters).
    The window length must be a multiple of 2**level (periodized transform).
    """

    def __init__(self, hidden: int, wavelet: str = "db4", level: int = 2, outputs: int = 1):
        super().__init__()
        self.wavelet, self.level = wavelet, level
        self.lstm = nn.LSTM(level + 1, hidden, batch_first=True)
        self.head = nn.Linear(hidden, outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, 1, min_window=2 ** self.level)
        if x.shape[1] % 2 ** self.level:
            raise ValueError(f"window length {x.shape[1]} must be a multiple of 2**level = {2 ** self.level}")
        parts = wavelet_components(x[..., 0].detach().cpu().numpy(), self.wavelet, self.level)
        out, _ = self.lstm(torch.as_tensor(parts, dtype=x.dtype, device=x.device))
        return self.head(out[:, -1])


class ConvLSTMCell(nn.Module):
    """ConvLSTM (Shi et al. 2015): the LSTM's matrix products become 2-D convolutions, so every gate is an image.

    step(x (batch, c_in, H, W), (h, c) each (batch, c_hidden, H, W)) -> (h, c); gates i, f, g, o from one
    convolution of [x, h]. forward(x (batch, time, c_in, H, W)) -> last h (batch, c_hidden, H, W).
    """

    def __init__(self, in_channels: int, hidden_channels: int, kernel_size: int = 3):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd to keep the image size, got {kernel_size}")
        self.hidden_channels = hidden_channels
        self.conv = nn.Conv2d(in_channels + hidden_channels, 4 * hidden_channels, kernel_size,
                              padding=kernel_size // 2)

    def step(self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]):
        h, c = state
        i, f, g, o = self.conv(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 5:
            raise ValueError(f"expected (batch, time, channels, height, width), got {tuple(x.shape)}")
        batch, _, _, height, width = x.shape
        h = c = x.new_zeros(batch, self.hidden_channels, height, width)
        for t in range(x.shape[1]):
            h, c = self.step(x[:, t], (h, c))
        return h


class MultiHorizonLSTM(nn.Module):
    """Forecasts of a cumulative target over several horizons at once, 1 day, 1 week and 1 month by default
    (guide §7.3.2 problem 3).

    The heads forecast the increments over (0, h_1], (h_1, h_2], ... and the outputs are their cumulative sums,
    so the 1-month forecast is the 1-week forecast plus the forecast for days 6-21, never a separate guess.
    For cumulative log returns that adds nothing (any three numbers are a week plus a remainder); the constraint
    bites for a cumulative **variance**, which cannot shrink with the horizon: ``increments="positive"`` passes the
    increments through softplus, so the forecasts never decrease from one horizon to the next.
    (batch, window, features) -> (batch, len(horizons)).
    """

    def __init__(self, n_features: int, hidden: int, horizons=(1, 5, 21), increments: str = "free"):
        super().__init__()
        if list(horizons) != sorted(set(horizons)) or horizons[0] < 1:
            raise ValueError(f"horizons must be increasing positive step counts, got {horizons!r}")
        if increments not in ("free", "positive"):
            raise ValueError(f"increments must be 'free' or 'positive', got {increments!r}")
        self.n_features, self.horizons, self.positive = n_features, tuple(horizons), increments == "positive"
        self.lstm = nn.LSTM(n_features, hidden, batch_first=True)
        self.increments = nn.Linear(hidden, len(self.horizons))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        out, _ = self.lstm(x)
        steps = self.increments(out[:, -1])
        return torch.cumsum(F.softplus(steps) if self.positive else steps, dim=1)


def multi_horizon_loss(prediction: torch.Tensor, target: torch.Tensor, weights=None) -> torch.Tensor:
    """$\\sum_k w_k\\,\\mathrm{MSE}_k / \\sum_k w_k$ over the horizon columns k of (batch, K) tensors.

    With unit weights the month's error, which is the largest, dominates; weighting each horizon by
    $1/h_k$ puts them on a per-day scale.
    """
    if prediction.shape != target.shape or prediction.ndim != 2:
        raise ValueError(f"prediction and target must both be (batch, horizons), got {tuple(prediction.shape)} "
                         f"and {tuple(target.shape)}")
    weights = torch.ones(prediction.shape[1]) if weights is None else torch.as_tensor(weights, dtype=prediction.dtype)
    if weights.shape != (prediction.shape[1],) or (weights < 0).any():
        raise ValueError(f"weights must be {prediction.shape[1]} non-negative numbers, got {weights.tolist()}")
    per_horizon = ((prediction - target) ** 2).mean(dim=0)
    return (weights.to(per_horizon) * per_horizon).sum() / weights.sum()


class TransformerForecaster(nn.Module):
    """A small Transformer encoder, the guide's named alternative (§6.2.2): linear embedding + sinusoidal
    position encoding, ``layers`` encoder layers with a causal mask, the last step -> linear head.
    (batch, window, features) -> (batch, outputs)."""

    def __init__(self, n_features: int, d_model: int = 16, heads: int = 2, layers: int = 1, outputs: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        self.n_features = n_features
        self.embed = nn.Linear(n_features, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, dim_feedforward=2 * d_model, dropout=dropout,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, outputs)

    @staticmethod
    def position_encoding(length: int, d_model: int) -> torch.Tensor:
        """$PE_{t,2i} = \\sin(t / 10000^{2i/d})$, $PE_{t,2i+1} = \\cos(\\cdot)$: (length, d_model)."""
        position = torch.arange(length, dtype=torch.float32)[:, None]
        frequency = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
        encoding = torch.zeros(length, d_model)
        encoding[:, 0::2] = torch.sin(position * frequency)
        encoding[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
        return encoding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        window = x.shape[1]
        z = self.embed(x) + self.position_encoding(window, self.embed.out_features).to(x)
        mask = nn.Transformer.generate_square_subsequent_mask(window, device=x.device, dtype=x.dtype)
        return self.head(self.encoder(z, mask=mask, is_causal=True)[:, -1])


class WindowLinear(nn.Module):
    """DLinear-style baseline (Zeng et al. 2023): split each feature's window into a moving-average trend and
    the remainder, one linear map of the window for each, summed. (batch, window, features) -> (batch, outputs).

    The trend is the mean of the last ``kernel`` rows at each step (past rows only; the first steps average
    what exists), so the model stays causal.
    """

    def __init__(self, n_features: int, window: int, kernel: int = 5, outputs: int = 1):
        super().__init__()
        if kernel < 1 or kernel > window:
            raise ValueError(f"kernel must be between 1 and the window ({window}), got {kernel}")
        self.n_features, self.window, self.kernel = n_features, window, kernel
        self.trend = nn.Linear(window * n_features, outputs)
        self.remainder = nn.Linear(window * n_features, outputs)

    def moving_average(self, x: torch.Tensor) -> torch.Tensor:
        """Trailing mean over ``kernel`` rows (fewer at the start): (batch, window, f) -> same shape."""
        sums = torch.cumsum(x, dim=1)
        shifted = F.pad(sums, (0, 0, self.kernel, 0))[:, : x.shape[1]]
        counts = torch.clamp(torch.arange(1, x.shape[1] + 1, device=x.device), max=self.kernel).to(x)
        return (sums - shifted) / counts[None, :, None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        if x.shape[1] != self.window:
            raise ValueError(f"the model was built for windows of {self.window} steps, got {x.shape[1]}")
        trend = self.moving_average(x)
        return self.trend(trend.flatten(1)) + self.remainder((x - trend).flatten(1))

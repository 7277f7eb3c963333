"""Real-time prediction: an LSTM fed one bar at a time (guide §7.3.3, problem 6).

Two ways to forecast after every new bar:

* :class:`StreamingPredictor` keeps the LSTM's state $(h_t, c_t)$ (each (layers, 1, hidden)) and advances it by
  ONE step per bar,
  $(h_t, c_t) = \\mathrm{LSTM}(x_t, (h_{t-1}, c_{t-1}))$, $\\hat y_{t+1} = \\mathrm{head}(h_t^{\\text{top}})$:
  O(1) work per bar whatever the length of the history.
* :class:`WindowedPredictor` (the guide's ``RealTimePredictionSystem``: a buffer of the last $W$ bars) re-runs
  the model over the whole window from a zero state after every bar: O(W) work per bar.
  :func:`windowed_predictions` gives the same numbers for a whole history in one batch.

**They are different forecasts.** The streaming state at bar $t$ has read every bar since the stream began, so
its prediction equals the model run once over the whole history from the start
(:func:`stateful_predictions`, tested to float tolerance). A model trained on windows of $W$ bars, each started
from $h = c = 0$, forecasts from the last $W$ bars only; re-run on each window it gives the windowed forecast,
which matches what it was trained on. The two agree only as far as the forget gates have erased what came before
the window ($\\prod f \\to 0$ over $W$ steps). The lesson measures the gap between the two forecasts on the same bars,
their errors, and their latency; to stream a model exactly as it was trained, train it statefully (over the whole
history) or accept the windowed cost.

Every bar is checked before it touches the state: a bar whose timestamp is not after the last accepted one
(:class:`OutOfOrderBarError`, :class:`DuplicateBarError`) or whose features are not ``n_features`` finite numbers
(:class:`MalformedBarError`) is rejected with that error, and the state is unchanged. Accepted bars are all kept
(``accepted_timestamps``, ``accepted_features``, ``predictions``): none is dropped.
"""
from __future__ import annotations

import time
from collections import deque
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
from scipy.special import expit
from torch import nn

from course_lib.lstm_scratch import cell_step
from course_lib.validation import positive_int


class BarError(ValueError):
    """A bar the predictor refuses; the subclass names the problem, the message names the bar."""


class OutOfOrderBarError(BarError):
    """The bar's timestamp is before the last accepted bar's."""


class DuplicateBarError(BarError):
    """The bar's timestamp equals the last accepted bar's."""


class MalformedBarError(BarError):
    """The bar's features are not ``n_features`` finite numbers, or its timestamp cannot be compared."""


class BarChecker:
    """Accepts bars in strictly increasing timestamp order with ``n_features`` finite features each.

    ``check(timestamp, features)`` returns the features as a float64 array of shape (n_features,) or raises a
    :class:`BarError`; ``accept(timestamp)`` records the timestamp of a bar once it has been used.
    """

    def __init__(self, n_features: int):
        self.n_features = positive_int(n_features, "n_features")
        self.last_timestamp = None

    def check(self, timestamp, features) -> np.ndarray:
        values = self._features(timestamp, features)
        self._order(timestamp)
        return values

    def accept(self, timestamp) -> None:
        self.last_timestamp = timestamp

    def _features(self, timestamp, features) -> np.ndarray:
        try:
            values = np.asarray(features, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise MalformedBarError(f"bar {timestamp!r}: features {features!r} are not numbers") from None
        if values.shape != (self.n_features,):
            raise MalformedBarError(f"bar {timestamp!r}: expected {self.n_features} feature(s), got {values.size}")
        bad = ~np.isfinite(values)
        if bad.any():
            raise MalformedBarError(f"bar {timestamp!r}: feature {int(np.flatnonzero(bad)[0])} is "
                                    f"{values[bad][0]} (NaN or infinite)")
        return values

    def _order(self, timestamp) -> None:
        if not np.isscalar(timestamp) and not isinstance(timestamp, (pd.Timestamp, np.datetime64)) \
                or pd.isna(timestamp):
            raise MalformedBarError(f"bar timestamp {timestamp!r} is missing or not a single value")
        if self.last_timestamp is None:
            return
        try:
            before, same = timestamp < self.last_timestamp, timestamp == self.last_timestamp
        except TypeError:
            raise MalformedBarError(f"bar timestamp {timestamp!r} cannot be compared with the last accepted "
                                    f"{self.last_timestamp!r}") from None
        if same:
            raise DuplicateBarError(f"bar {timestamp!r} was already accepted (duplicate timestamp)")
        if before:
            raise OutOfOrderBarError(f"bar {timestamp!r} is older than the last accepted bar {self.last_timestamp!r}")


@contextmanager
def _evaluating(model: nn.Module):
    """Run ``model`` in eval mode (dropout off) inside the block; give it back in the mode it had."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _last_step_parts(model: nn.Module) -> tuple[nn.Module, nn.Module, int]:
    """The (lstm, head, n_features) of a model whose forward is ``head(lstm(x)[0][:, -1])``; ``ValueError`` otherwise.

    ``LSTMForecaster`` and ``PeepholeLSTM`` qualify. The claim is probed (in eval mode) on a random (2, 3, n_features)
    input.
    """
    lstm, head, n_features = (getattr(model, name, None) for name in ("lstm", "head", "n_features"))
    if lstm is None or head is None or n_features is None:
        raise ValueError(f"{type(model).__name__} has no .lstm/.head/.n_features: streaming needs a last-step "
                         "LSTM forecaster such as LSTMForecaster")
    if getattr(lstm, "bidirectional", False) or getattr(lstm, "proj_size", 0) or not getattr(lstm, "batch_first", 0):
        raise ValueError("streaming needs a unidirectional, batch_first LSTM without projection: a bidirectional "
                         "LSTM reads the window backwards and cannot be advanced one bar at a time")
    parameter = next(model.parameters())
    probe = torch.randn(2, 3, n_features, generator=torch.Generator().manual_seed(0)).to(parameter)
    with torch.no_grad(), _evaluating(model):
        agree = torch.allclose(model(probe), head(lstm(probe)[0][:, -1]), rtol=1e-5, atol=1e-6)
    if not agree:
        raise ValueError(f"{type(model).__name__}.forward is not head(lstm(x)[:, -1]); it cannot be streamed")
    return lstm, head, int(n_features)


def stateful_predictions(model: nn.Module, features) -> np.ndarray:
    """The batch reference: the model run ONCE over the whole history from a zero state, its head applied at every step.

    ``features`` (T, n_features) -> (T, outputs); row t is the forecast made after bar t, equal to
    ``model(features[None, :t + 1])`` because the LSTM is causal. This is what :class:`StreamingPredictor` must reproduce.
    Runs in eval mode (no dropout) and leaves the model in the mode it had.
    """
    lstm, head, _ = _last_step_parts(model)
    parameter = next(model.parameters())
    x = torch.as_tensor(np.asarray(features), dtype=parameter.dtype, device=parameter.device)
    if x.ndim != 2:
        raise ValueError(f"features must be (time, n_features), got shape {tuple(x.shape)}")
    with torch.no_grad(), _evaluating(model):
        out, _ = lstm(x[None])                       # (1, T, hidden)
        return head(out[0]).cpu().numpy()            # (T, outputs)


def windowed_predictions(model: nn.Module, features, window: int) -> np.ndarray:
    """The model run on every window of ``window`` consecutive bars, in one batch: (T, F) -> (T - window + 1, outputs).

    Row k is ``model(features[k : k + window])``, the forecast after bar k + window - 1 of a model re-run on each
    window from a zero state (what :class:`WindowedPredictor` returns once its window is full). Eval mode.
    """
    window = positive_int(window, "window")
    parameter = next(model.parameters())
    x = torch.as_tensor(np.asarray(features), dtype=parameter.dtype, device=parameter.device)
    if x.ndim != 2 or len(x) < window:
        raise ValueError(f"features must be (time >= window={window}, n_features), got shape {tuple(x.shape)}")
    windows = x.unfold(0, window, 1).transpose(1, 2)           # (T - W + 1, W, F)
    with torch.no_grad(), _evaluating(model):
        return model(windows).cpu().numpy()


class _Predictor:
    """Shared bookkeeping: bar checks, the log of accepted bars and their predictions. The model is put in eval mode."""

    def __init__(self, model: nn.Module):
        self._load(model)
        self.checker = BarChecker(self.n_features)
        self.accepted_timestamps: list = []
        self.accepted_features: list[np.ndarray] = []
        self.predictions: list[np.ndarray] = []
        self.rejected: list[tuple[object, str]] = []

    def _load(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.lstm, self.head, self.n_features = _last_step_parts(model)
        parameter = next(model.parameters())
        self.dtype, self.device = parameter.dtype, parameter.device

    def update(self, timestamp, features) -> np.ndarray:
        """Accept one bar and return the forecast made after it, shape (outputs,); a bad bar raises a :class:`BarError`
        (recorded in ``rejected`` as (timestamp, error name)) and changes nothing."""
        try:
            values = self.checker.check(timestamp, features)
        except BarError as error:
            self.rejected.append((timestamp, type(error).__name__))
            raise
        prediction = self._step(values)
        self.checker.accept(timestamp)
        self.accepted_timestamps.append(timestamp)
        self.accepted_features.append(values)
        self.predictions.append(prediction)
        return prediction

    def history(self) -> pd.DataFrame:
        """Accepted bars, in order: one row per bar, the forecast made after it in column(s) ``prediction_k``."""
        predictions = np.array(self.predictions).reshape(len(self.predictions), -1)
        columns = {f"prediction_{k}": predictions[:, k] for k in range(predictions.shape[1])}
        return pd.DataFrame(columns, index=pd.Index(self.accepted_timestamps, name="timestamp"))

    def _tensor(self, values) -> torch.Tensor:
        return torch.as_tensor(np.asarray(values), dtype=self.dtype, device=self.device)

    def _step(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError


def _numpy_layers(lstm: nn.Module, dtype) -> list[tuple]:
    """Per layer (weight_ih (4h, d), weight_hh (4h, h), bias_ih, bias_hh, peephole (3, h)) as NumPy arrays, None
    where absent; works for ``nn.LSTM`` and chapter 01's ``ScratchLSTM`` (same parameter names)."""
    def array(name, layer):
        tensor = getattr(lstm, f"{name}_l{layer}", None)
        return None if tensor is None else tensor.detach().cpu().numpy().astype(dtype)
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_peephole")
    return [tuple(array(name, layer) for name in names) for layer in range(lstm.num_layers)]


class StreamingPredictor(_Predictor):
    """Keeps (h, c) between bars and advances the LSTM one step per bar: O(1) per bar.

    ``predictor.update(timestamp, features)`` -> forecast (outputs,) after that bar, equal (to float tolerance) to
    :func:`stateful_predictions` on the accepted bars.

    ``engine="numpy"`` (default) runs chapter 01's cell (:func:`course_lib.lstm_scratch.cell_step`) once per layer
    on NumPy copies of the weights, in the model's dtype, then the linear head $\\hat y = W h^{top} + b$.
    ``engine="torch"`` calls the model's own ``lstm`` on a (1, 1, features) input with the kept state: the same
    numbers, but a one-step call to ``nn.LSTM`` costs about as much fixed overhead as a 60-step one (the lesson's
    latency table shows it), so O(1) pays off only without that overhead.

    ``state`` is (h, c) as tensors of shape (layers, 1, hidden), like ``nn.LSTM``'s (h_n, c_n).
    """

    ENGINES = ("numpy", "torch")

    def __init__(self, model: nn.Module, engine: str = "numpy"):
        if engine not in self.ENGINES:
            raise ValueError(f"engine must be one of {self.ENGINES}, got {engine!r}")
        self.engine = engine
        super().__init__(model)
        self._zero_state()

    def _load(self, model: nn.Module) -> None:
        super()._load(model)
        if self.engine == "numpy":
            if not isinstance(self.head, nn.Linear):
                raise ValueError(f"engine='numpy' needs an nn.Linear head, got {type(self.head).__name__}; "
                                 "use engine='torch'")
            self.np_dtype = np.dtype(str(self.dtype).removeprefix("torch."))
            self.layers = _numpy_layers(self.lstm, self.np_dtype)
            self.head_weight = self.head.weight.detach().cpu().numpy().astype(self.np_dtype)     # (outputs, h)
            self.head_bias = None if self.head.bias is None else \
                self.head.bias.detach().cpu().numpy().astype(self.np_dtype)

    def _zero_state(self) -> None:
        layers, hidden = self.lstm.num_layers, self.lstm.hidden_size
        self.h = np.zeros((layers, hidden), self.np_dtype) if self.engine == "numpy" else None
        self.c = np.zeros((layers, hidden), self.np_dtype) if self.engine == "numpy" else None
        self._torch_state = None                     # None = zeros, as nn.LSTM starts

    @property
    def state(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(h, c), each (layers, 1, hidden)."""
        if self.engine == "torch":
            if self._torch_state is None:
                zeros = torch.zeros(self.lstm.num_layers, 1, self.lstm.hidden_size, dtype=self.dtype)
                return zeros, zeros.clone()
            return tuple(s.detach().cpu() for s in self._torch_state)
        return torch.from_numpy(self.h.copy())[:, None], torch.from_numpy(self.c.copy())[:, None]

    def _step(self, values: np.ndarray) -> np.ndarray:
        if self.engine == "torch":
            with torch.inference_mode():
                out, self._torch_state = self.lstm(self._tensor(values).view(1, 1, -1), self._torch_state)
                return self.head(out[:, -1])[0].cpu().numpy()
        x = values.astype(self.np_dtype)
        for layer, weights in enumerate(self.layers):                  # layer k's h is layer k+1's input
            x, self.c[layer], _ = cell_step(x, self.h[layer], self.c[layer], *weights, sigmoid=expit, tanh=np.tanh)
            self.h[layer] = x
        prediction = self.head_weight @ x
        return prediction if self.head_bias is None else prediction + self.head_bias

    def reset(self) -> None:
        """Forget the state and the bar log: the next bar starts a new stream."""
        _Predictor.__init__(self, self.model)
        self._zero_state()

    def replace_model(self, model: nn.Module) -> None:
        """Swap in a retrained model and rebuild its state over every accepted bar (one batch pass, O(T) once).

        The old state belongs to the old weights; keeping it would mix two models. Bar log and checks carry on.
        """
        _, _, n_features = _last_step_parts(model)
        if n_features != self.n_features:
            raise ValueError(f"the new model reads {n_features} feature(s), the stream has {self.n_features}")
        self._load(model)
        self._zero_state()
        if self.accepted_features:
            with torch.inference_mode():
                _, (h_n, c_n) = self.lstm(self._tensor(np.array(self.accepted_features))[None])
            if self.engine == "torch":
                self._torch_state = (h_n, c_n)
            else:
                self.h, self.c = h_n[:, 0].cpu().numpy().copy(), c_n[:, 0].cpu().numpy().copy()


class WindowedPredictor(_Predictor):
    """The re-run-the-window approach: keeps the last ``window`` bars and runs the model over them after each bar.

    O(window) per bar (``nn.LSTM`` over (1, window, features) from a zero state, then the head on the last step).
    Before ``window`` bars have arrived it runs over the bars it has. Its forecasts are what a model trained on
    windows was trained to make; they differ from :class:`StreamingPredictor`'s (module docstring).
    """

    def __init__(self, model: nn.Module, window: int):
        super().__init__(model)
        self.window = positive_int(window, "window")
        self.buffer: deque[np.ndarray] = deque(maxlen=self.window)

    def _step(self, values: np.ndarray) -> np.ndarray:
        self.buffer.append(values)
        with torch.inference_mode():
            out, _ = self.lstm(self._tensor(np.array(self.buffer))[None])     # (1, W, hidden), from a zero state
            return self.head(out[:, -1])[0].cpu().numpy()                     # = model(window)[0], shape (outputs,)


def bar_latencies(predictor: _Predictor, timestamps, features) -> np.ndarray:
    """Wall-clock seconds of each ``predictor.update`` call over the bars (``time.perf_counter``), shape (bars,).

    Includes everything a bar costs: the checks, the model step, the bookkeeping. Summarise with
    :func:`latency_summary`; drop the first bars (warm-up, a not yet full window) before comparing.
    """
    features = np.asarray(features)
    if len(timestamps) != len(features):
        raise ValueError(f"{len(timestamps)} timestamps but {len(features)} feature rows")
    seconds = np.empty(len(features))
    for k, (timestamp, row) in enumerate(zip(timestamps, features)):
        start = time.perf_counter()
        predictor.update(timestamp, row)
        seconds[k] = time.perf_counter() - start
    return seconds


def latency_summary(seconds) -> dict[str, float]:
    """Median (p50), 99th percentile (p99) and mean of per-bar latencies, in microseconds."""
    micro = np.asarray(seconds, dtype=float) * 1e6
    if micro.size == 0:
        raise ValueError("no latencies to summarise")
    return {"p50_us": float(np.percentile(micro, 50)), "p99_us": float(np.percentile(micro, 99)),
            "mean_us": float(micro.mean())}

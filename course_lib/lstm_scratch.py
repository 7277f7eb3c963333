"""The LSTM written from its gate equations, matched exactly to ``torch.nn.LSTM``.

One time step of an LSTM cell, with torch's layout (gate order i, f, g, o; two bias
vectors), for input x_t (batch, d), previous state h_{t-1}, c_{t-1} (batch, h)::

    z_t = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh          (batch, 4h), split into z_i, z_f, z_g, z_o
    i_t = sigmoid(z_i + p_i * c_{t-1})                       input gate
    f_t = sigmoid(z_f + p_f * c_{t-1})                       forget gate
    g_t = tanh(z_g)                                          candidate cell state (the guide's C~_t)
    c_t = f_t * c_{t-1} + i_t * g_t                          cell state update
    o_t = sigmoid(z_o + p_o * c_t)                           output gate
    h_t = o_t * tanh(c_t)                                    hidden state

The peephole terms p_i, p_f, p_o (Gers and Schmidhuber, 2000; the guide's W_ci, W_cf,
W_co, vectors of size h) exist only in the peephole variant; without them these are the
equations of ``nn.LSTM``. The guide writes W [h_{t-1}, x_t] + b with one stacked matrix
and one bias: the same thing, with W = [W_hh W_ih] and b = b_ih + b_hh.

The cell is written once (:func:`cell_step`) and runs on NumPy arrays
(:func:`lstm_cell_numpy`) or torch tensors (:func:`lstm_cell`).
:class:`ScratchLSTM` stacks it over time and layers like ``nn.LSTM``.

For the vanishing-gradient measurement, :func:`rnn_cell` is the plain RNN step
h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), :func:`stack_seed_models` draws one
default-initialised model per seed with its weights stacked on a leading axis, and
:func:`gradient_reach` runs all of them at once and measures how far back the gradient of
the last hidden state reaches.
"""
from __future__ import annotations

import math
from typing import NamedTuple
from collections.abc import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

GATE_ORDER = ("i", "f", "g", "o")  # torch's row blocks of weight_ih / weight_hh / biases


class Gates(NamedTuple):
    """Gate activations of one step, each (batch, hidden): input i, forget f, candidate g, output o."""

    i: object
    f: object
    g: object
    o: object


def numpy_sigmoid(z: np.ndarray) -> np.ndarray:
    """sigmoid(z) = 1 / (1 + exp(-z)), as exp(z) / (1 + exp(z)) for z < 0 so that exp never overflows."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def cell_step(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole=None, *,
              sigmoid: Callable, tanh: Callable):
    """One LSTM step (equations in the module docstring) for any array library with ``@`` and slicing.

    Shapes: x (batch, d) or (d,); h, c (batch, h) or (h,); weight_ih (4h, d); weight_hh (4h, h);
    biases (4h,); peephole (3, h) holding p_i, p_f, p_o. Returns (h_t, c_t, Gates).
    Several models at once (one per seed): weights (S, 4h, d) and (S, 4h, h), biases (S, 1, 4h),
    x (S, batch, d), h and c (S, batch, h); the matrix products broadcast over the leading S axis.
    """
    z = x @ weight_ih.swapaxes(-1, -2) + h @ weight_hh.swapaxes(-1, -2)
    if bias_ih is not None:
        z = z + bias_ih + bias_hh
    size = h.shape[-1]
    z_i, z_f, z_g, z_o = (z[..., k * size:(k + 1) * size] for k in range(4))
    if peephole is not None:
        z_i = z_i + peephole[0] * c
        z_f = z_f + peephole[1] * c
    i, f, g = sigmoid(z_i), sigmoid(z_f), tanh(z_g)
    c_new = f * c + i * g
    if peephole is not None:
        z_o = z_o + peephole[2] * c_new
    o = sigmoid(z_o)
    h_new = o * tanh(c_new)
    return h_new, c_new, Gates(i, f, g, o)


def lstm_cell_numpy(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole=None):
    """:func:`cell_step` on NumPy arrays; returns (h_t, c_t, Gates)."""
    return cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, peephole,
                     sigmoid=numpy_sigmoid, tanh=np.tanh)


def lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih=None, bias_hh=None, peephole=None):
    """:func:`cell_step` on torch tensors (differentiable); returns (h_t, c_t, Gates)."""
    return cell_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, peephole,
                     sigmoid=torch.sigmoid, tanh=torch.tanh)


def cell_path_gradient(forget: np.ndarray) -> np.ndarray:
    """Gradient of c_T with respect to c_(T-k) along the cell-state path: prod_{s=T-k+1}^{T} f_s, for k = 1..T.

    ``forget`` is (T, h), the forget gates f_1..f_T of one sequence (or (..., T, h) for
    several); row k-1 of the (T, h) result is the product of the last k forget gates. It
    ignores the road through h_(t-1) = o_(t-1) tanh(c_(t-1)), which feeds every gate of step t,
    so it shows how far the additive cell update c_t = f_t * c_(t-1) + i_t * g_t alone carries
    a gradient; the full gradient adds the h road at every step (see :func:`gradient_reach`).
    """
    forget = np.asarray(forget, dtype=np.float64)
    if forget.ndim < 2:
        raise ValueError(f"forget must be 2-D (time, hidden) or more (..., time, hidden), got shape {forget.shape}")
    return np.cumprod(np.flip(forget, axis=-2), axis=-2)


def rnn_cell(x, h, weight_ih, weight_hh, bias_ih=None, bias_hh=None):
    """One plain (Elman) RNN step on torch tensors, as ``nn.RNN`` with tanh: h_t = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Shapes as in :func:`cell_step` with h rows instead of 4h: x (batch, d), h (batch, h),
    weight_ih (h, d), weight_hh (h, h), biases (h,); or stacked per seed with a leading S axis.
    """
    z = x @ weight_ih.swapaxes(-1, -2) + h @ weight_hh.swapaxes(-1, -2)
    if bias_ih is not None:
        z = z + bias_ih + bias_hh
    return torch.tanh(z)


def stack_seed_models(make_model: Callable[[], nn.Module], seeds: Iterable[int]) -> tuple:
    """One model per seed (``torch.manual_seed(seed); make_model()``), layer-0 weights stacked on a seed axis.

    ``make_model`` builds a one-layer ``nn.RNN`` or ``nn.LSTM`` (or anything with the same
    ``weight_ih_l0 ... bias_hh_l0`` parameters). Returns detached (weight_ih, weight_hh, bias_ih,
    bias_hh) of shapes (S, G h, d), (S, G h, h), (S, 1, G h), (S, 1, G h), with G = 1 for an RNN and
    4 for an LSTM: the layout :func:`rnn_cell` and :func:`lstm_cell` take for S models at once.
    """
    models = []
    for seed in seeds:
        torch.manual_seed(seed)
        models.append(make_model())
    if not models:
        raise ValueError("seeds is empty: need at least one seed")
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    missing = [n for n in names if not hasattr(models[0], n)]
    if missing:
        raise ValueError(f"make_model must build a one-layer nn.RNN or nn.LSTM with biases; "
                         f"{type(models[0]).__name__} lacks {missing}")
    weight_ih, weight_hh, bias_ih, bias_hh = (torch.stack([getattr(m, n).detach() for m in models]) for n in names)
    return weight_ih, weight_hh, bias_ih[:, None, :], bias_hh[:, None, :]


def gradient_reach(parameters: tuple, x: torch.Tensor) -> dict[str, np.ndarray]:
    """How far back the gradient of L = sum_j h_T,j reaches, for S models at once (one per seed).

    ``parameters`` come from :func:`stack_seed_models` (G h rows: G = 1 runs :func:`rnn_cell`,
    G = 4 runs :func:`lstm_cell`); ``x`` is (S, T, d), one input sequence per model. From zero
    states the models run over t = 1..T; L is back-propagated by autograd. Returns NumPy arrays
    whose column k is k steps back from the last step (k = 0..T-1):

    * ``"x"`` (S, T): ||dL/dx_(T-k)||, the gradient that reaches the input k steps back;
    * LSTM only, ``"c"`` (S, T): ||dL/dc_(T-k)||, all roads (the full Jacobian product), c_(T-k)'s
      effect through h_(T-k) = o_(T-k) tanh(c_(T-k)) included;
    * LSTM only, ``"cell_road"`` (S, T): ||dL/dc_T * prod_{s=T-k+1}^{T} f_s||, the cell-state road alone;
    * LSTM only, ``"f"`` (S, T, h): the forget gates f_1..f_T.

    Runs on one CPU thread (restored afterwards): its many small per-step operations gain little
    from more threads and slow down tenfold when those threads compete with other work.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _gradient_reach(parameters, x)
    finally:
        torch.set_num_threads(threads)


def _gradient_reach(parameters: tuple, x: torch.Tensor) -> dict[str, np.ndarray]:
    """The body of :func:`gradient_reach`."""
    weight_ih, weight_hh, bias_ih, bias_hh = parameters
    if x.dim() != 3 or x.shape[0] != weight_ih.shape[0] or x.shape[2] != weight_ih.shape[2]:
        raise ValueError(f"x must be (S, T, d) = ({weight_ih.shape[0]}, T, {weight_ih.shape[2]}) for these "
                         f"stacked parameters, got shape {tuple(x.shape)}")
    hidden = weight_hh.shape[-1]
    is_lstm = weight_ih.shape[1] == 4 * hidden
    if not is_lstm and weight_ih.shape[1] != hidden:
        raise ValueError(f"weight_ih has {weight_ih.shape[1]} rows: expected {hidden} (RNN) or {4 * hidden} (LSTM)")
    x = x.detach().clone().requires_grad_(True)
    h = x.new_zeros(x.shape[0], 1, hidden)
    c, cells, forgets = h, [], []
    for t in range(x.shape[1]):
        x_t = x[:, t:t + 1]                                          # (S, batch 1, d)
        if is_lstm:
            h, c, gates = lstm_cell(x_t, h, c, weight_ih, weight_hh, bias_ih, bias_hh)
            c.retain_grad()
            cells.append(c)
            forgets.append(gates.f.detach()[:, 0])
        else:
            h = rnn_cell(x_t, h, weight_ih, weight_hh, bias_ih, bias_hh)
    h.sum().backward()
    back = lambda a: a.flip(1).cpu().numpy()                         # noqa: E731  column k = k steps back
    result = {"x": back(x.grad.norm(dim=-1))}
    if is_lstm:
        grad_c = torch.stack([s.grad[:, 0] for s in cells], dim=1)   # (S, T, h)
        forget = torch.stack(forgets, dim=1)                         # (S, T, h)
        path = torch.from_numpy(cell_path_gradient(forget.cpu().numpy())).to(grad_c)  # row k-1: last k gates
        road = grad_c[:, -1:] * torch.cat([torch.ones_like(path[:, :1]), path[:, :-1]], dim=1)
        result |= {"c": back(grad_c.norm(dim=-1)), "cell_road": road.norm(dim=-1).cpu().numpy(),
                   "f": forget.cpu().numpy()}
    return result


def lstm_parameter_count(input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True) -> int:
    """Parameters of ``nn.LSTM``: sum over layers of 4h(d_l + h + 2), d_0 = input_size, d_l = h after (4h(d_l + h) without bias)."""
    total = 0
    for layer in range(num_layers):
        d = input_size if layer == 0 else hidden_size
        total += 4 * hidden_size * (d + hidden_size + (2 if bias else 0))
    return total


class ScratchLSTM(nn.Module):
    """A multi-layer LSTM built on :func:`lstm_cell`, a drop-in for a unidirectional ``nn.LSTM``.

    ``out, (h_n, c_n) = model(x, state=None)`` with x (time, batch, d), or (batch, time, d)
    when ``batch_first``, or (time, d) unbatched; ``state`` = (h_0, c_0), each
    (num_layers, batch, h). Parameters are named and ordered like ``nn.LSTM``'s
    (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, weight_ih_l1, ...); the peephole
    variant adds ``weight_peephole_l{k}`` (3, h) after each layer's biases. ``dropout``
    is applied to the outputs of every layer but the last, in training mode, as in ``nn.LSTM``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, peephole: bool = False,
                 device=None, dtype=None):
        super().__init__()
        if input_size < 1 or hidden_size < 1 or num_layers < 1:
            raise ValueError(f"input_size, hidden_size and num_layers must be positive, got "
                             f"{input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.peephole = bias, batch_first, dropout, peephole
        factory = {"device": device, "dtype": dtype}
        for layer in range(num_layers):
            d = input_size if layer == 0 else hidden_size
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(torch.empty(4 * hidden_size, d, **factory)))
            self.register_parameter(f"weight_hh_l{layer}",
                                    nn.Parameter(torch.empty(4 * hidden_size, hidden_size, **factory)))
            if bias:
                self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(4 * hidden_size, **factory)))
                self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(4 * hidden_size, **factory)))
            if peephole:
                self.register_parameter(f"weight_peephole_l{layer}",
                                        nn.Parameter(torch.empty(3, hidden_size, **factory)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Uniform(-1/sqrt(h), 1/sqrt(h)) for every parameter, as ``nn.LSTM`` does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.uniform_(-bound, bound)

    def layer_parameters(self, layer: int) -> tuple:
        """(weight_ih, weight_hh, bias_ih, bias_hh, peephole) of one layer; absent ones are None."""
        get = lambda name: getattr(self, f"{name}_l{layer}", None)  # noqa: E731
        return get("weight_ih"), get("weight_hh"), get("bias_ih"), get("bias_hh"), get("weight_peephole")

    def forward(self, x: torch.Tensor, state=None, record: list | None = None):
        """Run the sequence; returns out (time-major or batch-first like x, size h) and (h_n, c_n).

        When ``record`` is a list, one dict per layer is appended to it with the tensors
        ``i, f, g, o, c, h`` of every step, each (time, batch, h).
        """
        unbatched = x.dim() == 2
        if x.dim() not in (2, 3):
            raise ValueError(f"x must be 2-D (time, d) or 3-D, got shape {tuple(x.shape)}")
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x has {x.shape[-1]} features, the model expects input_size={self.input_size}")
        if unbatched:
            x = x.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        h0, c0 = self._initial_state(x, state, unbatched)
        layer_input, h_n, c_n = x, [], []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0:
                layer_input = F.dropout(layer_input, self.dropout, self.training)
            layer_input, h, c = self._run_layer(layer, layer_input, h0[layer], c0[layer], record)
            h_n.append(h)
            c_n.append(c)
        out, h_n, c_n = layer_input, torch.stack(h_n), torch.stack(c_n)
        if unbatched:
            return out.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        return (out.transpose(0, 1) if self.batch_first else out), (h_n, c_n)

    def _initial_state(self, x: torch.Tensor, state, unbatched: bool):
        batch = x.shape[1]
        if state is None:
            zeros = x.new_zeros(self.num_layers, batch, self.hidden_size)
            return zeros, zeros
        h0, c0 = state
        if unbatched:
            h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
        expected = (self.num_layers, batch, self.hidden_size)
        for name, tensor in (("h_0", h0), ("c_0", c0)):
            if tuple(tensor.shape) != expected:
                raise ValueError(f"{name} must have shape {expected}, got {tuple(tensor.shape)}")
        return h0, c0

    def _run_layer(self, layer: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor, record):
        """x (time, batch, d) -> outputs (time, batch, h), final h and c (batch, h)."""
        weights = self.layer_parameters(layer)
        outputs, steps = [], []
        for t in range(x.shape[0]):
            h, c, gates = lstm_cell(x[t], h, c, *weights)
            outputs.append(h)
            if record is not None:
                steps.append((gates, c, h))
        if record is not None:
            record.append({name: torch.stack([getattr(g, name) for g, _, _ in steps]) for name in GATE_ORDER}
                          | {"c": torch.stack([s[1] for s in steps]), "h": torch.stack([s[2] for s in steps])})
        return torch.stack(outputs), h, c

    # ------------------------------------------------------------------ conversion to/from nn.LSTM
    @classmethod
    def from_torch(cls, lstm: nn.LSTM) -> ScratchLSTM:
        """A ScratchLSTM with copies of an ``nn.LSTM``'s weights, layout and dtype/device."""
        if lstm.bidirectional:
            raise ValueError("ScratchLSTM is unidirectional; a bidirectional nn.LSTM cannot be copied")
        if lstm.proj_size:
            raise ValueError("ScratchLSTM has no projection; an nn.LSTM with proj_size > 0 cannot be copied")
        reference = next(lstm.parameters())
        model = cls(lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bias, lstm.batch_first,
                    lstm.dropout, device=reference.device, dtype=reference.dtype)
        model.load_state_dict(lstm.state_dict())
        model.train(lstm.training)
        return model

    def to_torch(self) -> nn.LSTM:
        """An ``nn.LSTM`` with copies of these weights (not for the peephole variant, which nn.LSTM lacks)."""
        if self.peephole:
            raise ValueError("nn.LSTM has no peephole connections; this model cannot be converted")
        reference = next(self.parameters())
        lstm = nn.LSTM(self.input_size, self.hidden_size, self.num_layers, bias=self.bias,
                       batch_first=self.batch_first, dropout=self.dropout,
                       device=reference.device, dtype=reference.dtype)
        lstm.load_state_dict(self.state_dict())
        lstm.train(self.training)
        return lstm


def record_gates(model: nn.Module, x: torch.Tensor, state=None) -> list[dict[str, np.ndarray]]:
    """Every gate's activation at every step, per layer: a list (one dict per layer) of NumPy arrays.

    Keys ``i, f, g, o, c, h``; each array is (batch, time, hidden) whatever the model's layout
    (unbatched input gives batch 1). ``model`` is a ScratchLSTM or an ``nn.LSTM`` (its weights
    are copied into a ScratchLSTM). Runs without gradients.
    """
    if isinstance(model, nn.LSTM):
        model = ScratchLSTM.from_torch(model)
    if not isinstance(model, ScratchLSTM):
        raise TypeError(f"record_gates needs a ScratchLSTM or an nn.LSTM, got {type(model).__name__}")
    record: list = []
    with torch.no_grad():
        model(x, state, record=record)
    return [{name: tensor.transpose(0, 1).cpu().numpy() for name, tensor in layer.items()} for layer in record]

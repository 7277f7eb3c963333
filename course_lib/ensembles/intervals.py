"""Prediction intervals from a model's own uncertainty: ensemble spread, MC dropout, quantile regression.

An interval is a pair ``(lower, upper)`` of arrays of shape (n,); a $1-\\alpha$ interval should contain the
truth $1-\\alpha$ of the time. None of these methods promises that: measure it with
``course_lib.evaluation.metrics.coverage`` (and see ``course_lib.ensembles.conformal`` for intervals that are
calibrated on held-out errors).

* ``normal_interval`` / ``spread_interval``: the guide's ``predict_with_uncertainty`` (§6.3.3), mean
  $\\pm z_{1-\\alpha/2}$ std across members or samples, which assumes the truth is normal around the mean with
  the members' spread as its standard deviation: it ignores the noise in the target itself.
* ``mc_dropout_samples``: keep dropout switched on at prediction time (Gal & Ghahramani 2016) and sample.
* ``QuantileLSTM`` + ``PinballLoss``: forecast the quantiles themselves, with a head that cannot cross them.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy.stats import norm
from torch import nn
from torch.nn import functional as F

from course_lib.models import LSTMForecaster
from course_lib.validation import as_1d_float, positive_int

DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


def check_alpha(alpha: float) -> float:
    """``alpha`` as a float if $0 < \\alpha < 1$; otherwise ``ValueError`` (a $1-\\alpha$ interval needs it)."""
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating)) or not 0 < alpha < 1:
        raise ValueError(f"alpha must be strictly between 0 and 1 (alpha = 0.1 asks for a 90% interval), "
                         f"got {alpha!r}")
    return float(alpha)


# ----------------------------------------------------------------------------- spread of members or samples
def normal_interval(center, std, alpha: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """$\\hat y \\pm z_{1-\\alpha/2}\\,s$ with $z$ the standard normal quantile (1.645 for $\\alpha = 0.1$).

    center, std: (n,) each, std >= 0 -> (lower, upper), each (n,).
    """
    alpha = check_alpha(alpha)
    mean, spread = as_1d_float(center, "center"), as_1d_float(std, "std")
    if mean.shape != spread.shape:
        raise ValueError(f"center has shape {mean.shape} but std has shape {spread.shape}")
    if (spread < 0).any():
        raise ValueError(f"std must be >= 0: first negative at position {int(np.flatnonzero(spread < 0)[0])}")
    z = norm.ppf(1 - alpha / 2)
    return mean - z * spread, mean + z * spread


def spread_interval(samples, alpha: float = 0.1, ddof: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Interval from S forecasts of each point (ensemble members or MC-dropout samples), samples (S, n):

    $\\bar y_i \\pm z_{1-\\alpha/2}\\, s_i$ with $\\bar y_i$ the mean and $s_i$ the standard deviation over the S
    forecasts (``ddof=1``: divide by $S-1$; the guide's ``np.std`` uses ``ddof=0``). Returns (lower, upper), (n,).
    """
    values = np.asarray(samples, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] <= ddof:
        raise ValueError(f"samples must be (S, n) with S > ddof = {ddof} forecasts of each point, got shape "
                         f"{values.shape}")
    if np.isnan(values).any():
        raise ValueError("samples contain NaN")
    return normal_interval(values.mean(axis=0), values.std(axis=0, ddof=ddof), alpha)


# ----------------------------------------------------------------------------- MC dropout
def _dropout_modules(model: nn.Module) -> list[nn.Module]:
    """Modules whose train mode switches dropout on: dropout layers and RNNs with inter-layer dropout."""
    return [m for m in model.modules()
            if isinstance(m, DROPOUT_MODULES) or (isinstance(m, nn.RNNBase) and m.dropout > 0)]


def mc_dropout_samples(model: nn.Module, inputs, n_samples: int = 50, seed: int = 0) -> np.ndarray:
    """Monte Carlo dropout: ``n_samples`` forward passes with dropout ON, everything else in eval mode.

    inputs (n, window, features) array or tensor -> samples (n_samples, n) for a one-output model, else
    (n_samples, n, outputs). Only dropout layers and RNNs with ``dropout > 0`` (e.g. a stacked
    ``LSTMForecaster(..., num_layers=2, dropout=0.2)``) are put in train mode, so batch-norm statistics are
    untouched; no gradients are kept. The model is left in eval mode afterwards, even on error.
    A model without active dropout gives ``n_samples`` identical forecasts (zero spread).
    """
    n_samples = positive_int(n_samples, "n_samples")
    x = torch.as_tensor(inputs, dtype=torch.float32, device=next(model.parameters()).device)
    torch.manual_seed(seed)
    model.eval()
    try:
        for module in _dropout_modules(model):
            module.train()
        with torch.no_grad():
            draws = torch.stack([model(x) for _ in range(n_samples)]).cpu().numpy()
    finally:
        model.eval()
    return draws[..., 0] if draws.ndim == 3 and draws.shape[2] == 1 else draws


# ----------------------------------------------------------------------------- quantile regression
def check_quantiles(quantiles) -> tuple[float, ...]:
    """Quantile levels as a tuple if strictly increasing and inside (0, 1); otherwise ``ValueError``."""
    levels = tuple(float(q) for q in quantiles)
    if len(levels) == 0 or not all(0 < q < 1 for q in levels) or any(b <= a for a, b in zip(levels, levels[1:])):
        raise ValueError(f"quantiles must be strictly increasing levels inside (0, 1), got {tuple(quantiles)!r}")
    return levels


class PinballLoss(nn.Module):
    """Mean pinball loss over a batch and the quantile levels $\\tau_1 < \\dots < \\tau_Q$:

    $\\frac{1}{BQ}\\sum_{b,j} \\max\\big(\\tau_j (y_b - q_{b,j}),\\ (\\tau_j - 1)(y_b - q_{b,j})\\big)$,
    the torch twin of ``course_lib.evaluation.metrics.pinball`` (which it matches column by column).

    forward(pred (B, Q), target (B,), (B, 1) or (B, Q) with identical columns) -> scalar.
    """

    def __init__(self, quantiles):
        super().__init__()
        self.register_buffer("tau", torch.tensor(check_quantiles(quantiles), dtype=torch.float32))

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if pred.ndim != 2 or pred.shape[1] != len(self.tau):
            raise ValueError(f"pred must be (batch, {len(self.tau)}) quantile forecasts, got {tuple(pred.shape)}")
        target = target.reshape(len(target), -1)
        if target.shape[1] not in (1, pred.shape[1]):
            raise ValueError(f"target must be (batch,), (batch, 1) or (batch, {pred.shape[1]}), "
                             f"got {tuple(target.shape)}")
        error = target - pred                                          # (B, Q)
        return torch.maximum(self.tau * error, (self.tau - 1) * error).mean()


def non_crossing(raw: torch.Tensor) -> torch.Tensor:
    """Map unconstrained outputs (B, Q) to ordered quantiles (B, Q):

    $q_1 = r_1$, $q_j = q_{j-1} + \\mathrm{softplus}(r_j)$ for $j \\ge 2$. Softplus is positive, so
    $q_1 \\le q_2 \\le \\dots \\le q_Q$ for every input: the quantiles cannot cross.
    """
    return torch.cat([raw[:, :1], raw[:, :1] + torch.cumsum(F.softplus(raw[:, 1:]), dim=1)], dim=1)


class QuantileLSTM(nn.Module):
    """An ``LSTMForecaster`` with one output per quantile level, passed through ``non_crossing``.

    (batch, window, features) -> (batch, Q), column j the forecast of the $\\tau_j$ quantile. Train it with
    ``course_lib.training.fit(model, loader, loss_fn=PinballLoss(quantiles))``, the loader's targets repeated
    once per level (``repeat_for_quantiles``), because ``fit`` reshapes the output to the target's shape.
    """

    def __init__(self, n_features: int, hidden: int, quantiles=(0.05, 0.5, 0.95), num_layers: int = 1,
                 dropout: float = 0.0):
        super().__init__()
        self.quantiles = check_quantiles(quantiles)
        self.body = LSTMForecaster(n_features, hidden, num_layers, dropout, outputs=len(self.quantiles))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return non_crossing(self.body(x))


def repeat_for_quantiles(y, n_quantiles: int) -> np.ndarray:
    """Targets (n,) or (n, 1) -> (n, Q): each target repeated once per quantile level (see ``QuantileLSTM``)."""
    values = as_1d_float(np.asarray(y).reshape(-1), "y")
    return np.repeat(values[:, None], positive_int(n_quantiles, "n_quantiles"), axis=1)

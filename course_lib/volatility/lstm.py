"""An LSTM on log-volatility windows that starts as, and can be pulled towards, the log-HAR regression.

Model (:class:`HarLSTM`), on a window of rows $x_{t-W+1..t}$ of :func:`log_volatility_features`:

$$\\widehat{\\ln v}_{t+1} = \\underbrace{b_0 + b^\\top x_t}_{\\text{log-HAR, last row}} +
  \\underbrace{w^\\top h_t + c}_{\\text{LSTM correction}}$$

where $h_t$ is the LSTM's last hidden state (``course_lib.models.LSTMForecaster``). The linear part starts at the
least-squares log-HAR coefficients and the correction head at zero, so before training the network *is* log-HAR;
training moves it only where the data pay for it. With ``har_penalty`` $\\lambda > 0$ the loss is
$\\text{MSE} + \\lambda\\,\\lVert (b_0, b) - (b_0, b)_{HAR} \\rVert^2$, which keeps the linear part near HAR.

The forecast of the variance is $\\exp(\\widehat{\\ln v}_{t+1} + s^2/2)$, $s^2$ the training residual variance of the
log model (the log-normal mean: $\\exp$ of a mean log is the median, too low for QLIKE).
(Written here, not in ``course_lib.models``, because it needs the HAR features of this chapter.)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.models import LSTMForecaster, check_windows
from course_lib.training import fit as train_model
from course_lib.training import predict as model_outputs
from course_lib.validation import as_1d_float, positive_int
from course_lib.volatility.features import log_volatility_features
from course_lib.volatility.models import HAR_LAGS, least_squares
from course_lib.windows import make_windows


class HarLSTM(nn.Module):
    """(batch, window, features) log-HAR features -> (batch, 1) forecast of $\\ln v_{t+1}$: linear log-HAR on the
    last row plus an LSTM correction whose head starts at zero. ``har_coefs``: $(b_0, b_1, \\dots)$ to start from."""

    def __init__(self, n_features: int, hidden: int, har_coefs=None):
        super().__init__()
        self.n_features = n_features
        self.linear = nn.Linear(n_features, 1)
        self.correction = LSTMForecaster(n_features, hidden)
        nn.init.zeros_(self.correction.head.weight)
        nn.init.zeros_(self.correction.head.bias)
        start = torch.zeros(n_features + 1) if har_coefs is None else torch.as_tensor(har_coefs, dtype=torch.float32)
        if start.shape != (n_features + 1,):
            raise ValueError(f"har_coefs must hold {n_features + 1} values (intercept first), got {tuple(start.shape)}")
        with torch.no_grad():
            self.linear.bias.copy_(start[:1])
            self.linear.weight.copy_(start[1:].reshape(1, -1))
        self.register_buffer("har_coefs", start.clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_windows(x, self.n_features)
        return self.linear(x[:, -1]) + self.correction(x)

    def har_distance(self) -> torch.Tensor:
        """$\\lVert (b_0, b) - (b_0, b)_{HAR} \\rVert^2$: how far the linear part has moved from log-HAR."""
        coefs = torch.cat([self.linear.bias, self.linear.weight.reshape(-1)])
        return ((coefs - self.har_coefs) ** 2).sum()


@dataclass
class LstmVolatilityForecaster:
    """:class:`HarLSTM` as a walk-forward Forecaster on a daily variance proxy (%² per day, all values > 0).

    ``fit``: log features of the training proxy, windows of ``window`` rows labelled with the next day's
    $\\ln v$; log-HAR by least squares; then ``epochs`` of Adam (``course_lib.training.fit``) on all but the last
    ``validation`` share of windows, keeping the weights with the lowest loss on that last share (early
    stopping with ``patience``). ``epochs=0`` gives log-HAR exactly. ``predict``: recursive for h > 1 (each
    forecast variance is appended to the history). Seeded by ``seed``.
    """

    window: int = 22
    hidden: int = 8
    epochs: int = 20
    lr: float = 1e-3
    har_penalty: float = 0.0
    validation: float = 0.2
    patience: int | None = 5
    batch_size: int = 64
    seed: int = 0
    lags: tuple[int, ...] = HAR_LAGS

    def _windows(self, variance) -> tuple[np.ndarray, np.ndarray]:
        features = log_volatility_features(variance, self.lags)
        return make_windows(features, positive_int(self.window, "window"), horizon=1, target=0)

    def fit(self, train: pd.Series) -> LstmVolatilityForecaster:
        x, y = self._windows(train)
        coefs = least_squares(x[:, -1], y)
        torch.manual_seed(self.seed)
        self.network = HarLSTM(x.shape[2], positive_int(self.hidden, "hidden"), coefs)
        if self.epochs > 0:
            self.history = train_model(self.network, *self._loaders(x, y), epochs=self.epochs, lr=self.lr,
                                       patience=self.patience, loss_fn=self._loss, seed=self.seed)
        predicted = model_outputs(self.network, x).reshape(-1)
        self.log_residual_variance = float(np.var(y - predicted))
        return self

    def _loaders(self, x: np.ndarray, y: np.ndarray) -> tuple[DataLoader, DataLoader]:
        cut = int(round(len(x) * (1 - self.validation)))
        if not 0 < cut < len(x):
            raise ValueError(f"validation share {self.validation} leaves no training or no validation window "
                             f"out of {len(x)}")
        tensors = [torch.as_tensor(part, dtype=torch.float32) for part in (x[:cut], y[:cut], x[cut:], y[cut:])]
        generator = torch.Generator().manual_seed(self.seed)
        return (DataLoader(TensorDataset(tensors[0], tensors[1]), batch_size=self.batch_size, shuffle=True,
                           generator=generator),
                DataLoader(TensorDataset(tensors[2], tensors[3]), batch_size=1024))

    def _loss(self, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = nn.functional.mse_loss(prediction, target)
        return loss + self.har_penalty * self.network.har_distance() if self.har_penalty > 0 else loss

    def predict(self, history: pd.Series, horizon: int) -> np.ndarray:
        if not hasattr(self, "network"):
            raise ValueError("LstmVolatilityForecaster.predict before fit: fit it on a training proxy first")
        needed = self.window + max(self.lags) - 1
        path = list(as_1d_float(history, "history", min_length=needed)[-needed:])
        forecasts = []
        for _ in range(positive_int(horizon, "horizon")):
            features = np.array(log_volatility_features(np.asarray(path[-needed:]), self.lags))
            log_forecast = model_outputs(self.network, features[None]).item()
            forecasts.append(np.exp(log_forecast + self.log_residual_variance / 2))
            path.append(forecasts[-1])
        return np.array(forecasts)

"""Variance forecasters for the walk-forward backtest of ``course_lib.evaluation.backtest``.

Every model follows the ``Forecaster`` protocol: ``fit(train)`` then ``predict(history, horizon)``, which returns
the forecast variance of each of the next ``horizon`` days, shape (horizon,), in **%² per day** (a daily variance,
not a sum over the horizon; add them up for a week's variance). What ``train``/``history`` hold depends on the model:

========================  ================================  =============================================
model                     input series (one value per day)  forecast of day t+1 from the days up to t
========================  ================================  =============================================
``naive_variance``         a variance proxy $v_t$ (%²)       $v_t$
``weekly_mean_variance``   a variance proxy                  $\\frac15\\sum_{j=0}^{4} v_{t-j}$
``EwmaForecaster``         returns $r_t$ in % (or a proxy)   $\\sigma^2_{t+1} = \\lambda\\sigma^2_t + (1-\\lambda) r_t^2$
``GarchForecaster``        returns in %                      GARCH(1,1) / GJR-GARCH(1,1,1) fitted by ``arch``
``HarForecaster``          a variance proxy                  $b_0 + b_d v_t + b_w \\bar v^{(5)}_t + b_m \\bar v^{(22)}_t$
========================  ================================  =============================================

Score each against a proxy of the *target* day with ``course_lib.volatility.scoring``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from course_lib.evaluation.backtest import FunctionForecaster
from course_lib.evaluation.baselines import moving_average_forecast, naive_forecast
from course_lib.validation import as_1d_float, positive_int

RISKMETRICS_LAMBDA = 0.94
HAR_LAGS = (1, 5, 22)


def _labelled(values: np.ndarray, like, name: str) -> pd.Series:
    return pd.Series(values, index=like.index if isinstance(like, pd.Series) else None, name=name)


# ----------------------------------------------------------------------------- naive
def naive_variance() -> FunctionForecaster:
    """Yesterday's proxy for every day ahead: $\\hat\\sigma^2_{t+h} = v_t$ (the random walk of ``baselines``)."""
    return FunctionForecaster(naive_forecast)


def weekly_mean_variance(window: int = 5) -> FunctionForecaster:
    """Last week's mean proxy for every day ahead: $\\hat\\sigma^2_{t+h} = \\frac1k\\sum_{j=0}^{k-1} v_{t-j}$, k = ``window``."""
    return FunctionForecaster(moving_average_forecast, {"window": positive_int(window, "window")})


# ----------------------------------------------------------------------------- EWMA
def _check_lambda(lam: float) -> float:
    if not (isinstance(lam, (int, float, np.floating)) and 0 < lam < 1):
        raise ValueError(f"lam (the EWMA decay) must be strictly between 0 and 1, got {lam!r}")
    return float(lam)


def ewma_variance(squared, lam: float = RISKMETRICS_LAMBDA, initial: float | None = None) -> pd.Series:
    """Exponentially weighted variance (RiskMetrics 1996): $\\sigma^2_{t+1} = \\lambda\\sigma^2_t + (1-\\lambda) x_t$.

    ``squared``: $x_0..x_{n-1}$, squared returns (%²) or another daily variance proxy. ``initial``: $\\sigma^2_0$
    (default: the mean of the first min(n, 22) values). Returns n values; the one labelled $t$ is
    $\\sigma^2_{t+1}$, the forecast for the next day made at the close of $t$ (it uses $x_0..x_t$ only).
    """
    lam = _check_lambda(lam)
    values = as_1d_float(squared, "squared")
    start = float(values[:22].mean()) if initial is None else float(initial)
    path, _ = lfilter([1 - lam], [1, -lam], values, zi=[lam * start])
    return _labelled(path, squared, "ewma_variance")


@dataclass
class EwmaForecaster:
    """RiskMetrics EWMA as a Forecaster. Nothing is estimated (``lam`` is fixed); the forecast is flat in h.

    ``on="returns"``: the input is percent returns and $x_t = r_t^2$; ``on="variance"``: the input already is a
    daily variance proxy (e.g. Parkinson), smoothed as it is. ``initial``: as in :func:`ewma_variance`.
    """

    lam: float = RISKMETRICS_LAMBDA
    on: str = "returns"
    initial: float | None = None

    def __post_init__(self):
        _check_lambda(self.lam)
        if self.on not in ("returns", "variance"):
            raise ValueError(f"on must be 'returns' or 'variance', got {self.on!r}")

    def fit(self, train: pd.Series) -> EwmaForecaster:
        return self

    def predict(self, history: pd.Series, horizon: int) -> np.ndarray:
        values = as_1d_float(history, "history")
        squared = values ** 2 if self.on == "returns" else values
        return np.full(positive_int(horizon, "horizon"), ewma_variance(squared, self.lam, self.initial).iloc[-1])


# ----------------------------------------------------------------------------- GARCH
def garch_variance_path(returns, omega: float, alpha: float, beta: float, gamma: float = 0.0, mu: float = 0.0,
                        initial: float | None = None) -> pd.Series:
    """GARCH(1,1) (``gamma=0``) or GJR-GARCH(1,1,1) conditional variances, in %² per day:

    $\\varepsilon_t = r_t - \\mu$, $\\sigma^2_{t+1} = \\omega + (\\alpha + \\gamma\\,\\mathbb 1[\\varepsilon_t < 0])\\,
    \\varepsilon_t^2 + \\beta\\sigma^2_t$.

    ``returns``: $r_0..r_{n-1}$ in %. ``initial``: $\\sigma^2_0$ (default: the mean of $\\varepsilon_t^2$; ``arch``
    starts from $\\omega + (\\alpha + \\gamma/2 + \\beta) b$, $b$ an exponentially weighted mean of the first 75
    squared deviations from the sample mean, so pass ``initial`` to match it exactly). Returns n values; the one labelled $t$ is
    $\\sigma^2_{t+1}$, the one-step forecast made at the close of $t$.
    """
    residuals = as_1d_float(returns, "returns") - mu
    variance = float(np.mean(residuals ** 2)) if initial is None else float(initial)
    path = np.empty(len(residuals))
    for t, eps in enumerate(residuals):
        variance = omega + (alpha + gamma * (eps < 0)) * eps ** 2 + beta * variance
        path[t] = variance
    return _labelled(path, returns, "garch_variance")


@dataclass
class GarchForecaster:
    """GARCH(1,1) (``o=0``) or GJR-GARCH(1,1,1) (``o=1``) on percent returns, estimated by ``arch`` (Gaussian QMLE).

    ``fit`` estimates $(\\mu, \\omega, \\alpha[, \\gamma], \\beta)$ on the training returns; with ``warm_start`` a
    refit starts the optimiser from the previous estimates (few iterations when little data was added) and falls
    back to ``arch``'s own starting values if that fit does not converge. ``predict`` keeps the estimates and
    filters the whole history through them (``arch``'s ``fix``), then returns the ``horizon`` analytic forecasts
    $\\sigma^2_{t+h|t}$ in %² per day. ``params`` holds the latest estimates (a Series named as ``arch`` names
    them) and ``iterations`` the optimiser's iteration count at each fit.
    """

    o: int = 0
    mean: str = "Constant"
    dist: str = "normal"
    warm_start: bool = True
    params: pd.Series | None = None
    iterations: list[int] = field(default_factory=list)

    def model(self, returns):
        """The ``arch`` model of this specification on ``returns`` (percent)."""
        from arch import arch_model

        return arch_model(np.asarray(returns, dtype=float), mean=self.mean, vol="GARCH", p=1, o=self.o, q=1,
                          dist=self.dist, rescale=False)

    def fit(self, train: pd.Series) -> GarchForecaster:
        values = as_1d_float(train, "train", min_length=100)
        start = self.params.to_numpy() if self.warm_start and self.params is not None else None
        result = self._estimate(values, start)
        if result.convergence_flag != 0 and start is not None:
            result = self._estimate(values, None)
        self.params = result.params
        self.iterations.append(int(result.optimization_result.nit))
        return self

    def _estimate(self, values: np.ndarray, start):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence is checked through convergence_flag
            return self.model(values).fit(disp="off", starting_values=start, show_warning=False)

    def predict(self, history: pd.Series, horizon: int) -> np.ndarray:
        if self.params is None:
            raise ValueError("GarchForecaster.predict before fit: fit it on training returns first")
        fixed = self.model(as_1d_float(history, "history")).fix(self.params.to_numpy())
        forecast = fixed.forecast(horizon=positive_int(horizon, "horizon"), reindex=False)
        return forecast.variance.to_numpy()[-1]


def gjr_forecaster(**kwargs) -> GarchForecaster:
    """GJR-GARCH(1,1,1): GARCH(1,1) plus $\\gamma\\,\\mathbb 1[\\varepsilon_t<0]\\,\\varepsilon_t^2$ (bad news raises
    variance more than good news)."""
    return GarchForecaster(o=1, **kwargs)


# ----------------------------------------------------------------------------- HAR
def _check_lags(lags) -> tuple[int, ...]:
    lags = tuple(positive_int(lag, "lag") for lag in lags)
    if len(lags) == 0 or list(lags) != sorted(set(lags)):
        raise ValueError(f"lags must be increasing positive integers such as (1, 5, 22), got {lags}")
    return lags


def har_regressors(variance, lags=HAR_LAGS) -> pd.DataFrame:
    """HAR components known at the close of day t: $\\bar v^{(k)}_t = \\frac1k\\sum_{j=0}^{k-1} v_{t-j}$ for k in
    ``lags`` (daily, weekly, monthly for (1, 5, 22)), columns ``mean_1d, mean_5d, mean_22d``.

    ``variance``: a daily proxy, n values. Row t uses $v_{t-k+1}..v_t$ only; the first max(lags) - 1 rows, which
    lack a full month, are dropped (n - max(lags) + 1 rows, labelled by t).
    """
    lags = _check_lags(lags)
    values = as_1d_float(variance, "variance", min_length=max(lags))
    rows = len(values) - max(lags) + 1
    means = {f"mean_{k}d": np.convolve(values, np.full(k, 1 / k), mode="valid")[-rows:] for k in lags}
    index = variance.index[max(lags) - 1:] if isinstance(variance, pd.Series) else pd.RangeIndex(max(lags) - 1, len(values))
    return pd.DataFrame(means, index=index)


def har_design(variance, lags=HAR_LAGS) -> tuple[pd.DataFrame, pd.Series]:
    """The HAR regression (Corsi 2009) $v_{t+1} = b_0 + \\sum_k b_k \\bar v^{(k)}_t + u_{t+1}$ as (X, y).

    Row i of X holds the components known at the close of day t, y[i] is $v_{t+1}$; both are labelled by the
    *target* day t+1, so a row never contains its own target. n - max(lags) rows.
    """
    regressors = har_regressors(variance, lags)
    values = as_1d_float(variance, "variance")
    target_index = regressors.index[1:]
    X = regressors.iloc[:-1].set_axis(target_index)
    y = pd.Series(values[len(values) - len(target_index):], index=target_index, name="target")
    return X, y


def least_squares(X, y) -> np.ndarray:
    """Coefficients $(b_0, b)$ minimising $\\sum_i (y_i - b_0 - X_i b)^2$; X (rows, k), y (rows,) -> (k + 1,)."""
    X = np.asarray(X, dtype=float)
    coefs, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(X)), X]), np.asarray(y, dtype=float), rcond=None)
    return coefs


def fit_har(variance, lags=HAR_LAGS) -> pd.Series:
    """Least-squares HAR coefficients $(b_0, b_1, b_5, b_{22})$, minimising $\\sum (y - b_0 - Xb)^2$ over the rows of
    :func:`har_design`; a Series indexed ``const, mean_1d, mean_5d, mean_22d``."""
    X, y = har_design(variance, lags)
    if len(y) < X.shape[1] + 2:
        raise ValueError(f"too few values for a HAR with lags {tuple(lags)}: {len(y)} regression rows for "
                         f"{X.shape[1] + 1} coefficients")
    return pd.Series(least_squares(X, y), index=["const", *X.columns], name="har")


def har_forecast(coefs: pd.Series, history, horizon: int, lags=HAR_LAGS) -> np.ndarray:
    """Recursive HAR forecasts of $v_{t+1}, \\dots, v_{t+H}$ from the history $v_0..v_t$ (%² per day, shape (H,)).

    Step h uses the forecasts of steps 1..h-1 in place of the unknown days (the same as ``arch``'s HARX forecast).
    """
    lags, horizon = _check_lags(lags), positive_int(horizon, "horizon")
    path = list(as_1d_float(history, "history", min_length=max(lags))[-max(lags):])
    b = np.asarray(coefs, dtype=float)
    for _ in range(horizon):
        path.append(b[0] + sum(b[1 + i] * np.mean(path[-k:]) for i, k in enumerate(lags)))
    return np.array(path[max(lags):])


@dataclass
class HarForecaster:
    """HAR on a daily variance proxy: least squares (``backend="ols"``: :func:`fit_har`, :func:`har_forecast`) or
    ``arch``'s HARX (``backend="arch"``); the two give the same coefficients and forecasts. ``params`` holds
    $(b_0, b_1, b_5, b_{22})$ after ``fit``. Forecasts are not floored: a negative one is possible in principle
    (QLIKE then refuses it)."""

    lags: tuple[int, ...] = HAR_LAGS
    backend: str = "ols"
    params: pd.Series | None = None

    def __post_init__(self):
        self.lags = _check_lags(self.lags)
        if self.backend not in ("ols", "arch"):
            raise ValueError(f"backend must be 'ols' or 'arch', got {self.backend!r}")

    def _harx(self, values):
        from arch.univariate import HARX

        return HARX(np.asarray(values, dtype=float), lags=list(self.lags))

    def fit(self, train: pd.Series) -> HarForecaster:
        if self.backend == "ols":
            self.params = fit_har(train, self.lags)
            return self
        values = as_1d_float(train, "train", min_length=max(self.lags) + len(self.lags) + 2)
        self._arch_params = self._harx(values).fit(disp="off").params.to_numpy()
        self.params = pd.Series(self._arch_params[:-1], index=["const", *(f"mean_{k}d" for k in self.lags)], name="har")
        return self

    def predict(self, history: pd.Series, horizon: int) -> np.ndarray:
        if self.params is None:
            raise ValueError("HarForecaster.predict before fit: fit it on a training proxy first")
        if self.backend == "ols":
            return har_forecast(self.params, history, horizon, self.lags)
        values = as_1d_float(history, "history", min_length=max(self.lags) + 1)
        fixed = self._harx(values).fix(self._arch_params)
        return fixed.forecast(horizon=positive_int(horizon, "horizon"), reindex=False).mean.to_numpy()[-1]

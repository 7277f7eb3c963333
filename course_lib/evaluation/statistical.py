"""The guide's "traditional" methods and its named alternative as ``Forecaster``s for the walk-forward backtest:
ARIMA and ETS (statsmodels), and Prophet.

Both choose their form automatically from the training rows they are fitted on, and nothing else:

* ``ArimaForecaster``: the order of differencing $d$ by repeated KPSS tests (difference while KPSS rejects
  stationarity at 5%, at most ``max_d`` times, as in Hyndman & Khandakar's auto.arima), then $(p, q)$ on the
  grid $0..p_{max} \\times 0..q_{max}$ by the smallest AIC, with a constant for $d = 0$ and a drift for $d = 1$.
* ``EtsForecaster``: additive-error exponential smoothing with no trend, an additive trend or a damped
  additive trend (ETS(A,N,N), ETS(A,A,N), ETS(A,Ad,N)), the one with the smallest AIC.

Between refits the fitted parameters are kept and only the state is updated with the newest history
(``ARIMAResults.apply`` and ``ETSModel.smooth``), as a production system would between re-estimations.
"""
from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.arima.model import ARIMA
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from threadpoolctl import threadpool_limits

from course_lib.stationarity import kpss_test

_TREND_FOR_D = {0: "c", 1: "t", 2: "n"}
ETS_FORMS = {"A,N,N": dict(trend=None), "A,A,N": dict(trend="add"), "A,Ad,N": dict(trend="add", damped_trend=True)}


def _quietly(function, *args, **kwargs):
    """Run a statsmodels fit without its convergence chatter (the AIC comparison already judges the fit), on one
    BLAS thread: its matrices are tiny, and on a busy 2-core machine a multi-threaded BLAS made one ARIMA fit
    14 times slower (46 s against 3.3 s, measured)."""
    with warnings.catch_warnings(), threadpool_limits(1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args, **kwargs)


def differencing_order(train: np.ndarray, max_d: int = 2, alpha: float = 0.05) -> int:
    """Smallest $d \\le$ ``max_d`` for which KPSS does not reject level stationarity of the $d$-th difference."""
    values = np.asarray(train, dtype=float)
    for d in range(max_d):
        if not kpss_test(np.diff(values, n=d), alpha=alpha).rejects_null:
            return d
    return max_d


@dataclass
class ArimaForecaster:
    """Auto-ARIMA on the training rows; ``order`` holds the chosen $(p, d, q)$ after ``fit``."""

    max_p: int = 2
    max_q: int = 2
    max_d: int = 2
    order: tuple[int, int, int] | None = None

    def fit(self, train) -> ArimaForecaster:
        train = np.asarray(train, dtype=float)
        d = differencing_order(train, self.max_d)
        candidates = []
        for p, q in itertools.product(range(self.max_p + 1), range(self.max_q + 1)):
            result = _quietly(ARIMA(train, order=(p, d, q), trend=_TREND_FOR_D[d]).fit)
            candidates.append((result.aic, (p, d, q), result))
        _, self.order, self._result = min(candidates, key=lambda candidate: candidate[0])
        return self

    def predict(self, history, horizon: int) -> np.ndarray:
        return np.asarray(_quietly(self._result.apply, np.asarray(history, dtype=float)).forecast(horizon))


@dataclass
class EtsForecaster:
    """ETS(A,N,N), ETS(A,A,N) or ETS(A,Ad,N) by AIC on the training rows; ``form`` holds the choice."""

    form: str | None = None

    def fit(self, train) -> EtsForecaster:
        train = np.asarray(train, dtype=float)
        fits = {name: _quietly(ETSModel(train, error="add", **spec).fit, disp=False)
                for name, spec in ETS_FORMS.items()}
        self.form = min(fits, key=lambda name: fits[name].aic)
        self._params = fits[self.form].params
        return self

    def predict(self, history, horizon: int) -> np.ndarray:
        model = ETSModel(np.asarray(history, dtype=float), error="add", **ETS_FORMS[self.form])
        return np.asarray(_quietly(model.smooth, self._params).forecast(horizon))


@dataclass
class ProphetForecaster:
    """Prophet (Taylor & Letham 2018), the guide's named alternative (§6.2.2): a piecewise-linear trend plus
    weekly and yearly seasonality, fitted to the dated training rows.

    It is a curve fit: between refits the forecast extrapolates the fitted curve to the next ``horizon``
    business days after the origin, whatever the newest values are. The training Series needs a DatetimeIndex.
    Business days are not trading days: after an exchange holiday the forecast is for the holiday, one day
    before the next close, and the forecast is off by the curve's change over that one day.
    """

    yearly_seasonality: bool | str = "auto"  # Prophet's rule: on with two years of data or more
    weekly_seasonality: bool | str = "auto"

    def fit(self, train) -> ProphetForecaster:
        prophet = _import_prophet()
        model = prophet.Prophet(yearly_seasonality=self.yearly_seasonality,
                                weekly_seasonality=self.weekly_seasonality, daily_seasonality=False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="prophet")  # its own pandas deprecations, not ours to fix
            self._model = model.fit(_prophet_frame(train))
        return self

    def predict(self, history, horizon: int) -> np.ndarray:
        last = _prophet_frame(history)["ds"].iloc[-1]
        future = pd.DataFrame({"ds": pd.bdate_range(last + pd.offsets.BDay(1), periods=horizon)})
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="prophet")
            return self._model.predict(future)["yhat"].to_numpy()


def _prophet_frame(series) -> pd.DataFrame:
    if not isinstance(series, pd.Series) or not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("Prophet needs the dates: give the backtest a Series with a DatetimeIndex")
    return pd.DataFrame({"ds": series.index.tz_localize(None), "y": series.to_numpy()})


def _import_prophet():
    """Import Prophet with its start-up and sampler chatter silenced (plotly is optional; Stan logs every fit)."""
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    stan_log = logging.getLogger("cmdstanpy")
    if not stan_log.handlers:  # cmdstanpy installs an INFO handler on its first fit unless one exists
        stan_log.addHandler(logging.StreamHandler())
    stan_log.setLevel(logging.WARNING)
    import prophet
    return prophet

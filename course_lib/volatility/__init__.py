"""Chapter 08's library: volatility proxies, variance forecasters and their scoring.

Units: returns in percent, variances in %² per day. See ``proxies`` (what a day's variance was), ``models``
(forecasters for ``course_lib.evaluation.backtest.walk_forward``), ``lstm`` (an LSTM
that starts as log-HAR), ``scoring`` (QLIKE/MSE, Diebold–Mariano,
model confidence set) and ``features`` (log-volatility inputs for an LSTM).
"""
from course_lib.volatility.features import log_volatility_features
from course_lib.volatility.lstm import HarLSTM, LstmVolatilityForecaster
from course_lib.volatility.models import (HAR_LAGS, RISKMETRICS_LAMBDA, EwmaForecaster, GarchForecaster,
                                          HarForecaster, ewma_variance, fit_har, garch_variance_path, gjr_forecaster,
                                          har_design, har_forecast, har_regressors, naive_variance,
                                          weekly_mean_variance)
from course_lib.volatility.proxies import (PERCENT, absolute_returns, garman_klass, parkinson, percent_returns,
                                           realized_variance, rogers_satchell, squared_returns, validate_bars)
from course_lib.volatility.scoring import (attach_proxy, compare_forecasts, loss_matrix, model_confidence_set,
                                           pointwise_losses, volatility_backtest)

__all__ = [
    "PERCENT", "percent_returns", "squared_returns", "absolute_returns", "parkinson", "garman_klass",
    "rogers_satchell", "realized_variance", "validate_bars",
    "RISKMETRICS_LAMBDA", "HAR_LAGS", "naive_variance", "weekly_mean_variance", "ewma_variance", "EwmaForecaster",
    "garch_variance_path", "GarchForecaster", "gjr_forecaster", "har_regressors", "har_design", "fit_har",
    "har_forecast", "HarForecaster",
    "attach_proxy", "volatility_backtest", "pointwise_losses", "compare_forecasts", "loss_matrix",
    "model_confidence_set", "log_volatility_features", "HarLSTM", "LstmVolatilityForecaster",
]

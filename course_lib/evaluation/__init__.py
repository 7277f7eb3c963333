"""Evaluation of forecasts: metrics (``metrics``) and the baselines every model is compared with (``baselines``).

Chapter 06's library. Every metric refuses the inputs that make it meaningless (mismatched shapes, NaN,
MAPE with zeros in the truth) with a ``ValueError`` that names the problem.
"""
from course_lib.evaluation.baselines import (drift_forecast, mean_forecast, moving_average_forecast, naive_forecast,
                                            seasonal_naive_forecast, zero_forecast)
from course_lib.evaluation.metrics import (coverage, directional_accuracy, huber, interval_score, mae, mape, mase,
                                          mean_width, mse, naive_scale, pinball, prediction_direction_accuracy,
                                          qlike, rmse, smape_100, smape_200)

__all__ = [
    "mse", "rmse", "mae", "huber", "mape", "smape_100", "smape_200", "naive_scale", "mase",
    "directional_accuracy", "prediction_direction_accuracy", "pinball", "qlike", "coverage", "mean_width",
    "interval_score",
    "naive_forecast", "seasonal_naive_forecast", "drift_forecast", "mean_forecast", "moving_average_forecast",
    "zero_forecast",
]

"""Chapter 07's library: ensembles and prediction intervals whose coverage is measured, not assumed.

* ``ensembles``: seed and bootstrap ensembles (i.i.d. and block resampling of windows), validation-fitted weights;
* ``intervals``: ensemble-spread and MC-dropout intervals, quantile regression with non-crossing quantiles;
* ``conformal``: split conformal and adaptive conformal inference, optionally volatility-scaled;
* ``coverage``: coverage, width and interval score by volatility tercile, regime or after a shock (the metrics
  themselves are in ``course_lib.evaluation.metrics``).

Intervals are ``(lower, upper)`` pairs of (n,) arrays; member or sample forecasts are (M, n) arrays.
"""
from course_lib.ensembles.conformal import (aci_update, adaptive_conformal_intervals, adaptive_quantile,
                                            conformal_quantile, conformal_rank, conformity_scores,
                                            minimum_calibration_size, split_conformal_interval)
from course_lib.ensembles.coverage import (TERCILES, after_shocks, coverage_by_group, coverage_table,
                                          tercile_cut_points, volatility_terciles)
from course_lib.ensembles.ensembles import (block_bootstrap_indices, block_length, combine, fit_weights,
                                            iid_bootstrap_indices, inverse_mse_weights, member_predictions,
                                            nnls_weights, train_bootstrap_ensemble, train_member, train_seed_ensemble)
from course_lib.ensembles.intervals import (PinballLoss, QuantileLSTM, check_alpha, check_quantiles,
                                            mc_dropout_samples, non_crossing, normal_interval, repeat_for_quantiles,
                                            spread_interval)

__all__ = [
    "train_member", "train_seed_ensemble", "train_bootstrap_ensemble", "member_predictions",
    "inverse_mse_weights", "nnls_weights", "fit_weights", "combine",
    "iid_bootstrap_indices", "block_length", "block_bootstrap_indices",
    "check_alpha", "normal_interval", "spread_interval", "mc_dropout_samples",
    "check_quantiles", "PinballLoss", "non_crossing", "QuantileLSTM", "repeat_for_quantiles",
    "conformity_scores", "conformal_rank", "minimum_calibration_size", "conformal_quantile",
    "split_conformal_interval", "aci_update", "adaptive_quantile", "adaptive_conformal_intervals",
    "TERCILES", "tercile_cut_points", "volatility_terciles", "after_shocks", "coverage_by_group", "coverage_table",
]

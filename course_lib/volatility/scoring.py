"""Scoring variance forecasts against a proxy: walk-forward run, QLIKE and MSE, Diebold–Mariano, model confidence set.

The losses are those of ``course_lib.evaluation.metrics``, applied to variances (%² per day) one forecast at a time:

* QLIKE $L(v, h) = v/h - \\ln(v/h) - 1$ (0 for a perfect forecast, heavier for under- than over-forecasting);
* squared error $L(v, h) = (v - h)^2$.

Both rank forecasts as the unobserved true variance would even when $v$ is a noisy but unbiased proxy (Patton
2011); MAE on the variance, or MSE on the volatility $\\sqrt v$, do not.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course_lib.evaluation.backtest import BacktestPlan, Forecaster, walk_forward
from course_lib.evaluation.metrics import mse, qlike
from course_lib.evaluation.significance import diebold_mariano
from course_lib.validation import as_1d_float, positive_int

LOSSES = {"QLIKE": qlike, "MSE": mse}


def attach_proxy(table: pd.DataFrame, proxy: pd.Series) -> pd.DataFrame:
    """A ``walk_forward`` table with ``actual`` replaced by the proxy of each ``target`` day and ``error`` redone.

    Needed when the model's input is not the proxy (GARCH reads returns, and is scored on a variance proxy).
    Raises ``ValueError`` naming the first target day the proxy lacks.
    """
    missing = ~table["target"].isin(proxy.index)
    if missing.any():
        raise ValueError(f"the proxy has no value for target day {table.loc[missing, 'target'].iloc[0]} "
                         f"({int(missing.sum())} target(s) missing)")
    scored = table.copy()
    scored["actual"] = proxy.loc[table["target"]].to_numpy()
    scored["error"] = scored["actual"] - scored["forecast"]
    return scored


def volatility_backtest(model: Forecaster, inputs: pd.Series, proxy: pd.Series, start, horizon: int = 1,
                        refit_every: int = 20, window: int | None = None) -> pd.DataFrame:
    """Walk forward with ``model`` on its ``inputs`` (returns or a proxy, dated), scored on ``proxy``.

    The first origin is the last day of ``inputs`` before ``start`` (so the first target is the first day on or
    after ``start``); one origin per day, a refit every ``refit_every`` origins on all earlier days (or the last
    ``window``). Returns the ``walk_forward`` table with ``actual`` = the proxy of the target day.
    """
    first_origin = int(inputs.index.searchsorted(pd.Timestamp(start))) - 1
    if first_origin < 1:
        raise ValueError(f"start {start} leaves no training days before it in the inputs "
                         f"(which begin on {inputs.index[0]})")
    plan = BacktestPlan(n_rows=len(inputs), first_origin=first_origin, horizon=positive_int(horizon, "horizon"),
                        refit_every=positive_int(refit_every, "refit_every"), window=window)
    return attach_proxy(walk_forward(inputs, model, plan), proxy)


def pointwise_losses(actual, forecast) -> pd.DataFrame:
    """One row per forecast: the QLIKE and squared-error loss of each (actual proxy, forecast variance) pair.

    Each is the course metric applied to that single pair, so its mean is ``qlike`` / ``mse`` of the whole.
    """
    truth, predicted = as_1d_float(actual, "actual"), as_1d_float(forecast, "forecast")
    if len(truth) != len(predicted):
        raise ValueError(f"actual has {len(truth)} values but forecast has {len(predicted)}")
    for loss in LOSSES.values():
        loss(truth, predicted)  # refuses bad input (e.g. a variance <= 0 for QLIKE) naming its position
    return pd.DataFrame({name: [loss(truth[i:i + 1], predicted[i:i + 1]) for i in range(len(truth))]
                         for name, loss in LOSSES.items()})


def _aligned_losses(tables: dict[str, pd.DataFrame], h: int) -> dict[str, pd.DataFrame]:
    losses, targets = {}, None
    for name, table in tables.items():
        part = table[table["h"] == h]
        if targets is None:
            targets = part["target"].to_numpy()
        elif not np.array_equal(part["target"].to_numpy(), targets):
            raise ValueError(f"the table of {name!r} forecasts other target days than the first table: "
                             "run every model over the same origins")
        losses[name] = pointwise_losses(part["actual"], part["forecast"])
    return losses


def compare_forecasts(tables: dict[str, pd.DataFrame], benchmark: str, h: int = 1) -> pd.DataFrame:
    """Mean QLIKE and MSE of each model's ``h``-step forecasts, with two-sided Diebold–Mariano p-values (HLN
    corrected, on the per-forecast losses) against ``benchmark``; one row per model, in the order given.

    Every table must forecast the same target days (same origins). ``mean_diff`` columns are model minus
    benchmark: negative means the model has the smaller loss.
    """
    if benchmark not in tables:
        raise ValueError(f"benchmark {benchmark!r} is not one of the models {list(tables)}")
    losses = _aligned_losses(tables, positive_int(h, "h"))
    rows = {}
    for name, loss in losses.items():
        row = {"n": len(loss)}
        for metric in LOSSES:
            row[metric] = loss[metric].mean()
            test = None if name == benchmark else diebold_mariano(loss[metric], losses[benchmark][metric], horizon=h)
            row[f"{metric}_mean_diff"] = np.nan if test is None else test.mean_difference
            row[f"{metric}_DM_p"] = np.nan if test is None else test.p_value
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def loss_matrix(tables: dict[str, pd.DataFrame], metric: str = "QLIKE", h: int = 1) -> pd.DataFrame:
    """Per-forecast losses of every model (columns) on the common target days (rows), for ``model_confidence_set``."""
    if metric not in LOSSES:
        raise ValueError(f"metric must be one of {list(LOSSES)}, got {metric!r}")
    losses = _aligned_losses(tables, positive_int(h, "h"))
    targets = next(iter(tables.values()))
    index = targets.loc[targets["h"] == h, "target"].to_numpy()
    return pd.DataFrame({name: loss[metric].to_numpy() for name, loss in losses.items()}, index=index)


def model_confidence_set(losses: pd.DataFrame, size: float = 0.10, reps: int = 1000, block_size: int | None = None,
                         seed: int = 0) -> pd.DataFrame:
    """Hansen, Lunde & Nason (2011) model confidence set through ``arch.bootstrap.MCS`` (range statistic,
    stationary bootstrap): the models that cannot be told apart from the best at level ``size``.

    ``losses``: (forecasts, models) as from :func:`loss_matrix`. Returns one row per model with its MCS p-value
    and ``in_set`` (p-value >= size), best first.
    """
    from arch.bootstrap import MCS

    if not 0 < size < 1:
        raise ValueError(f"size must be strictly between 0 and 1, got {size!r}")
    columns = list(losses.columns)
    for i, first in enumerate(columns):
        for second in columns[i + 1:]:
            if np.array_equal(losses[first].to_numpy(), losses[second].to_numpy()):
                raise ValueError(f"models {first!r} and {second!r} have identical losses: keep one of them "
                                 "(the MCS cannot rank a model against its copy)")
    mcs = MCS(losses, size=size, reps=positive_int(reps, "reps"), block_size=block_size, seed=seed)
    mcs.compute()
    table = mcs.pvalues.rename(columns={"Pvalue": "p_value"}).sort_values("p_value", ascending=False)
    table["in_set"] = table["p_value"] >= size
    return table

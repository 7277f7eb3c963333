"""Ensembles of forecasters (guide §6.3.3): train several members, combine their forecasts.

Shapes: ``M`` members, ``n`` forecasts. ``member_predictions`` stacks the members' forecasts as an (M, n) array,
which every other function here (and ``course_lib.ensembles.intervals.spread_interval``) reads.

* **Seed ensemble**: the same model trained from ``M`` random initialisations on the same windows.
* **Bootstrap ensemble** (bagging): each member trained on a resample of the training windows. The guide draws
  windows i.i.d. (``iid_bootstrap_indices``), which scatters neighbouring days over the sample and so destroys
  the serial dependence of the training labels; a block bootstrap (``block_bootstrap_indices``, from
  ``arch.bootstrap``) draws runs of consecutive windows and keeps it.
* **Weights** are fitted on the validation windows only (never on test): inverse-MSE weights (Bates & Granger
  1969) or non-negative least squares (Breiman's 1996 stacked regression).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
from arch.bootstrap import CircularBlockBootstrap, MovingBlockBootstrap, StationaryBootstrap, optimal_block_length
from scipy.optimize import nnls
import torch
from torch import nn

from course_lib.evaluation.metrics import mse
from course_lib.training import fit, predict
from course_lib.validation import as_1d_float, positive_int
from course_lib.windows import WindowedData, make_loaders

BLOCK_BOOTSTRAPS = {"stationary": StationaryBootstrap, "circular": CircularBlockBootstrap,
                    "moving": MovingBlockBootstrap}
WEIGHT_METHODS = ("equal", "inverse_mse", "nnls")


# ----------------------------------------------------------------------------- members
def train_member(make_model: Callable[[], nn.Module], dataset: WindowedData, seed: int, batch_size: int = 64,
                 **fit_kwargs) -> nn.Module:
    """One member: ``torch.manual_seed(seed)``, build ``make_model()``, train it with ``course_lib.training.fit``
    on ``dataset``'s training windows (validation windows for early stopping), return it in eval mode.

    The seed fixes the initial weights and the order of the training batches. ``fit_kwargs`` go to ``fit``
    (``epochs``, ``lr``, ``patience``, ...).
    """
    torch.manual_seed(seed)
    model = make_model()
    loaders = make_loaders(dataset, batch_size=batch_size, seed=seed)
    fit(model, loaders["train"], loaders["val"], seed=seed, **fit_kwargs)
    return model.eval()


def train_seed_ensemble(make_model: Callable[[], nn.Module], dataset: WindowedData, seeds: Sequence[int] = (0, 1, 2),
                        batch_size: int = 64, **fit_kwargs) -> list[nn.Module]:
    """Seed ensemble: one ``train_member`` per seed, all on the same training windows. Returns M models."""
    if len(seeds) < 1 or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty sequence of distinct integers, got {list(seeds)!r}")
    return [train_member(make_model, dataset, seed, batch_size, **fit_kwargs) for seed in seeds]


def train_bootstrap_ensemble(make_model: Callable[[], nn.Module], dataset: WindowedData,
                             resamples: Sequence[np.ndarray], seed: int = 0, batch_size: int = 64,
                             **fit_kwargs) -> list[nn.Module]:
    """Bootstrap ensemble: member ``m`` is trained on the training windows ``resamples[m]`` (an index array, e.g.
    from ``iid_bootstrap_indices`` or ``block_bootstrap_indices``), seeded with ``seed + m``.

    Only the training windows are resampled; every member early-stops on the same, untouched validation windows.
    """
    n = len(dataset.x_train)
    members = []
    for m, rows in enumerate(resamples):
        rows = np.asarray(rows)
        if rows.ndim != 1 or rows.dtype.kind not in "iu" or len(rows) == 0 or rows.min() < 0 or rows.max() >= n:
            raise ValueError(f"resamples[{m}] must be a 1-D array of training-window positions in [0, {n}), "
                             f"got shape {rows.shape}, dtype {rows.dtype}")
        resampled = replace(dataset, x_train=dataset.x_train[rows], y_train=dataset.y_train[rows])
        members.append(train_member(make_model, resampled, seed + m, batch_size, **fit_kwargs))
    return members


def member_predictions(models: Sequence[nn.Module], inputs) -> np.ndarray:
    """Every member's forecasts (``course_lib.training.predict``) stacked: (M, n) for one-output models, else
    (M, n, outputs). ``inputs`` are windows (n, window, features) or a DataLoader."""
    if len(models) == 0:
        raise ValueError("models is empty: an ensemble needs at least one member")
    stacked = np.stack([predict(model, inputs) for model in models])
    return stacked[..., 0] if stacked.ndim == 3 and stacked.shape[2] == 1 else stacked


# ----------------------------------------------------------------------------- combining
def _members(member_forecasts) -> np.ndarray:
    """Member forecasts as a float (M, n) array (a 1-D input is one member); ``ValueError`` on NaN or bad shape."""
    forecasts = np.asarray(member_forecasts)
    if forecasts.dtype.kind not in "biuf":
        raise ValueError(f"member_forecasts must be numeric, got dtype {forecasts.dtype}")
    forecasts = np.atleast_2d(forecasts.astype(np.float64))
    if forecasts.ndim != 2 or forecasts.size == 0:
        raise ValueError(f"member_forecasts must be (members, forecasts), got shape {np.shape(member_forecasts)}")
    if np.isnan(forecasts).any():
        member, position = np.argwhere(np.isnan(forecasts))[0]
        raise ValueError(f"member_forecasts has NaN (first: member {member}, forecast {position})")
    return forecasts


def _members_and_truth(member_forecasts, y_true) -> tuple[np.ndarray, np.ndarray]:
    """(M, n) member forecasts and the (n,) truth, checked for NaN and matching length."""
    forecasts, truth = _members(member_forecasts), as_1d_float(y_true, "y_true")
    if forecasts.shape[1] != len(truth):
        raise ValueError(f"member_forecasts has {forecasts.shape[1]} forecasts per member (shape "
                         f"{forecasts.shape}, members on the first axis) but y_true has {len(truth)} values")
    return forecasts, truth


def inverse_mse_weights(member_forecasts, y_true) -> np.ndarray:
    """Bates–Granger weights $w_m = \\mathrm{MSE}_m^{-1} / \\sum_k \\mathrm{MSE}_k^{-1}$ on validation data.

    member_forecasts (M, n), y_true (n,) -> weights (M,), non-negative, summing to 1. A member with zero
    validation error takes all the weight.
    """
    forecasts, truth = _members_and_truth(member_forecasts, y_true)
    errors = np.array([mse(truth, member) for member in forecasts])
    if (errors == 0).any():
        return (errors == 0) / np.sum(errors == 0)
    return (1 / errors) / np.sum(1 / errors)


def nnls_weights(member_forecasts, y_true) -> np.ndarray:
    """Stacked-regression weights (Breiman 1996): $\\hat w = \\arg\\min_{w \\ge 0} \\lVert y - P^\\top w \\rVert^2$.

    member_forecasts $P$ (M, n), y_true (n,) -> weights (M,), non-negative, no intercept. They are NOT forced to
    sum to 1: a sum below 1 shrinks the combined forecast towards 0 (for returns, often a gain), which is part
    of what the least-squares fit learned. Fit on validation data only.
    """
    forecasts, truth = _members_and_truth(member_forecasts, y_true)
    weights, _ = nnls(forecasts.T, truth)
    return weights


def fit_weights(member_forecasts, y_true, method: str = "inverse_mse") -> np.ndarray:
    """Combination weights (M,) fitted on validation forecasts (M, n): ``"equal"`` ($1/M$ each),
    ``"inverse_mse"`` (``inverse_mse_weights``) or ``"nnls"`` (``nnls_weights``)."""
    if method not in WEIGHT_METHODS:
        raise ValueError(f"method must be one of {WEIGHT_METHODS}, got {method!r}")
    if method == "equal":
        forecasts, _ = _members_and_truth(member_forecasts, y_true)
        return np.full(len(forecasts), 1 / len(forecasts))
    return inverse_mse_weights(member_forecasts, y_true) if method == "inverse_mse" \
        else nnls_weights(member_forecasts, y_true)


def combine(member_forecasts, weights=None) -> np.ndarray:
    """Ensemble forecast $\\hat y_i = \\sum_m w_m \\hat y_{m,i}$: (M, n) -> (n,). ``weights=None``: the plain mean."""
    forecasts = _members(member_forecasts)
    if weights is None:
        return forecasts.mean(axis=0)
    weights = as_1d_float(weights, "weights")
    if len(weights) != len(forecasts):
        raise ValueError(f"{len(weights)} weights for {len(forecasts)} members (members on the first axis)")
    return weights @ forecasts


# ----------------------------------------------------------------------------- resampling windows
def iid_bootstrap_indices(n: int, seed: int = 0) -> np.ndarray:
    """The guide's bootstrap: $n$ positions drawn uniformly with replacement from $0..n-1$. (n,) ints.

    Neighbouring windows land far apart, so any dependence between consecutive labels is lost.
    """
    n = positive_int(n, "n")
    return np.random.default_rng(seed).integers(0, n, size=n)


def block_length(series, kind: str = "stationary") -> int:
    """Block length for a block bootstrap of ``series`` (1-D, at least 10 values): ``arch``'s
    ``optimal_block_length`` (Politis & White 2004, Patton et al. 2009), rounded up, at least 1.

    ``kind``: "stationary" (mean block length) or "circular"; "moving" uses the circular value (same rate).
    Estimate it on what carries the dependence you want to keep (returns, squared returns, residuals).
    """
    if kind not in BLOCK_BOOTSTRAPS:
        raise ValueError(f"kind must be one of {tuple(BLOCK_BOOTSTRAPS)}, got {kind!r}")
    values = as_1d_float(series, "series", min_length=10)
    estimate = optimal_block_length(values)["stationary" if kind == "stationary" else "circular"].iloc[0]
    return max(1, math.ceil(float(estimate)))


def block_bootstrap_indices(n: int, block: int, kind: str = "stationary", seed: int = 0) -> np.ndarray:
    """$n$ positions from $0..n-1$ drawn in runs of consecutive positions, by ``arch.bootstrap``. (n,) ints.

    * "moving": blocks of exactly ``block`` positions starting anywhere in $0..n-\\text{block}$ (Künsch 1989);
    * "circular": the same, wrapping past $n-1$ back to 0 so every position is equally likely;
    * "stationary": wrapping blocks of random, geometric length with mean ``block`` (Politis & Romano 1994).

    Implementation: the positions are the bootstrap resample of ``np.arange(n)``.
    """
    n, block = positive_int(n, "n"), positive_int(block, "block")
    if kind not in BLOCK_BOOTSTRAPS:
        raise ValueError(f"kind must be one of {tuple(BLOCK_BOOTSTRAPS)}, got {kind!r}")
    if block > n:
        raise ValueError(f"block length {block} exceeds the number of positions n = {n}")
    sampler = BLOCK_BOOTSTRAPS[kind](block, np.arange(n), seed=seed)
    (positions,), _ = next(sampler.bootstrap(1))
    return np.asarray(positions)

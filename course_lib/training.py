"""One training loop for the course's regression models: Adam, early stopping with best-weight restore,
learning-rate schedules (ReduceLROnPlateau, cosine annealing), weight decay, gradient clipping, a progress bar.

There is no second training loop in the course: every notebook trains through ``fit``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

SCHEDULERS = (None, "plateau", "cosine")


@dataclass
class History:
    """Per-epoch mean losses; ``best_epoch`` is the epoch whose weights were kept (0-based)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)  # the rate each epoch trained with
    best_epoch: int | None = None
    stopped_early: bool = False


def _batches_loss(model: nn.Module, loader: DataLoader, loss_fn, device) -> float:
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            total += loss_fn(model(x).reshape(y.shape), y).item() * len(y)
            count += len(y)
    return total / count


def fit(model: nn.Module, train: DataLoader, val: DataLoader | None = None, epochs: int = 20, lr: float = 1e-3,
        weight_decay: float = 0.0, patience: int | None = None, clip_norm: float | None = None,
        loss_fn=None, device=None, seed: int = 0, scheduler: str | None = None,
        plateau_factor: float = 0.5, plateau_patience: int = 2, min_lr: float = 0.0,
        progress: bool = False) -> History:
    """Train with Adam on mean squared error (or ``loss_fn``); return the loss history.

    * With ``val``, the weights of the epoch with the lowest validation loss are restored at the end, and with
      ``patience`` training stops after that many epochs without improvement.
    * ``weight_decay`` adds $\\lambda\\,\\theta$ to each gradient (Adam's L2 penalty).
    * ``clip_norm`` rescales the gradient when its global norm exceeds it: $g \\leftarrow g \\min(1, c/\\|g\\|)$.
    * ``scheduler="plateau"``: ``torch.optim.lr_scheduler.ReduceLROnPlateau`` on the validation loss
      (multiply the rate by ``plateau_factor`` once more than ``plateau_patience`` epochs in a row bring no
      improvement, as torch counts; the guide's
      ``verbose=True`` no longer exists: the rates are in ``history.learning_rate``). ``"cosine"``:
      ``CosineAnnealingLR`` from ``lr`` down to ``min_lr`` over ``epochs``,
      $\\eta_e = \\eta_{min} + \\tfrac12(\\eta_0 - \\eta_{min})(1 + \\cos(\\pi e / E))$.
    * ``progress=True`` shows a tqdm bar over epochs with the latest losses.

    Seeded: the same call gives the same model.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if patience is not None and val is None:
        raise ValueError("early stopping (patience) needs a validation loader")
    if scheduler not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {SCHEDULERS}, got {scheduler!r}")
    if scheduler == "plateau" and val is None:
        raise ValueError("the plateau scheduler watches the validation loss: give a validation loader")
    torch.manual_seed(seed)
    device = device or next(model.parameters()).device
    model.to(device)
    loss_fn = loss_fn or nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = _scheduler(optimizer, scheduler, epochs, plateau_factor, plateau_patience, min_lr)
    history, best_state, best_loss, waited = History(), None, np.inf, 0
    bar = tqdm(range(epochs), disable=not progress, desc="epochs", leave=False)
    for epoch in bar:
        history.learning_rate.append(optimizer.param_groups[0]["lr"])
        history.train_loss.append(_train_epoch(model, train, loss_fn, optimizer, clip_norm, device))
        if val is not None:
            history.val_loss.append(_batches_loss(model, val, loss_fn, device))
        bar.set_postfix(train=f"{history.train_loss[-1]:.4g}",
                        **({"val": f"{history.val_loss[-1]:.4g}"} if val is not None else {}))
        if schedule is not None:
            schedule.step(history.val_loss[-1]) if scheduler == "plateau" else schedule.step()
        if val is None:
            continue
        if history.val_loss[-1] < best_loss:
            best_loss, best_state, waited = history.val_loss[-1], copy.deepcopy(model.state_dict()), 0
            history.best_epoch = epoch
        else:
            waited += 1
            if patience is not None and waited >= patience:
                history.stopped_early = True
                break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _scheduler(optimizer, name, epochs, factor, patience, min_lr):
    if name == "plateau":
        return torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=factor, patience=patience, min_lr=min_lr)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs, eta_min=min_lr)
    return None


def _train_epoch(model: nn.Module, loader: DataLoader, loss_fn, optimizer, clip_norm, device) -> float:
    """One pass over ``loader``; returns the mean training loss per sample."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x).reshape(y.shape), y)
        loss.backward()
        if clip_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count


def predict(model: nn.Module, data, device=None, batch_size: int = 1024) -> np.ndarray:
    """Model outputs, in order, as a NumPy array (eval mode, no gradients).

    ``data`` is a DataLoader of (x, y) batches, or the inputs themselves (a NumPy array or tensor with
    samples on the first axis, e.g. windows of shape (samples, window, features)), run in batches of
    ``batch_size`` as float32.
    """
    device = device or next(model.parameters()).device
    if isinstance(data, DataLoader):
        inputs = (x for x, _ in data)
    else:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        inputs = torch.as_tensor(data, dtype=torch.float32).split(batch_size)
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x.to(device)).cpu() for x in inputs]).numpy()

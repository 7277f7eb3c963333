"""One training loop for the course's regression models: Adam, early stopping with best-weight restore.

Chapter 05 extends it (schedulers, clipping options); chapters 01-04 use it as it is.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader


@dataclass
class History:
    """Per-epoch mean losses; ``best_epoch`` is the epoch whose weights were kept (0-based)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
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
        loss_fn=None, device=None, seed: int = 0) -> History:
    """Train with Adam on mean squared error (or ``loss_fn``); return the loss history.

    With ``val``, the weights of the epoch with the lowest validation loss are restored at
    the end, and with ``patience`` training stops after that many epochs without
    improvement. ``clip_norm`` clips the gradient norm. Seeded: the same call gives the
    same model.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {epochs}")
    if patience is not None and val is None:
        raise ValueError("early stopping (patience) needs a validation loader")
    torch.manual_seed(seed)
    device = device or next(model.parameters()).device
    model.to(device)
    loss_fn = loss_fn or nn.MSELoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    history, best_state, best_loss, waited = History(), None, np.inf, 0
    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        for x, y in train:
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(x).reshape(y.shape), y)
            loss.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            optimizer.step()
            total += loss.item() * len(y)
            count += len(y)
        history.train_loss.append(total / count)
        if val is None:
            continue
        history.val_loss.append(_batches_loss(model, val, loss_fn, device))
        if history.val_loss[-1] < best_loss:
            best_loss, best_state, waited = history.val_loss[-1], copy.deepcopy(model.state_dict()), 0
            history.best_epoch = epoch
        else:
            waited += 1
            if patience is not None and waited >= patience:
                history.stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def predict(model: nn.Module, loader: DataLoader, device=None) -> np.ndarray:
    """Model outputs for every batch of ``loader``, in order, as a NumPy array (no gradients)."""
    device = device or next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        return torch.cat([model(x.to(device)).cpu() for x, _ in loader]).numpy()

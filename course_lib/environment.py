"""Reproducible notebook environment: seeds, threads, print precision, device."""
from __future__ import annotations

import os
import random

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

DEFAULT_THREADS = 2
DEVICE_ENV_VAR = "COURSE_DEVICE"


def pick_device(requested: str | None = None) -> torch.device:
    """Return the compute device: ``requested``, else ``$COURSE_DEVICE``, else CUDA when present, else CPU.

    A requested device that this machine cannot provide raises a ``RuntimeError``
    that says so, instead of silently falling back to the CPU.
    """
    name = requested or os.environ.get(DEVICE_ENV_VAR, "").strip() or None
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise RuntimeError(f"{DEVICE_ENV_VAR}={name!r} is not a device name torch knows: {err}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} was requested but CUDA is not available on this machine")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's random generators (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def setup(seed: int = 0, threads: int = DEFAULT_THREADS, precision: int = 4,
          device: str | None = None, quiet: bool = False) -> torch.device:
    """Prepare a notebook: seed everything, fix threads and print precision, style plots, pick the device.

    The thread count is fixed (default 2, the course's reference machine) because
    parallel reductions sum in a thread-dependent order: the same count gives the
    same numbers on every run. Returns the ``torch.device`` to use.
    """
    from course_lib.plotting import use_course_style

    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    seed_everything(seed)
    torch.set_num_threads(threads)
    threadpool_limits(threads)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    np.set_printoptions(precision=precision, suppress=True)
    pd.set_option("display.precision", precision)
    use_course_style()
    chosen = pick_device(device)
    if not quiet:
        print(f"[course] seed={seed} threads={threads} device={chosen} "
              f"torch={torch.__version__} numpy={np.__version__} pandas={pd.__version__}")
    return chosen

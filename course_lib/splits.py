"""Chronological splits for time series: every test block comes after the data a model learns from.

Indices are positions 0..n-1 in time order. Nothing is shuffled.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from course_lib.validation import non_negative_int, positive_int


def chronological_split(n_samples: int, train: float = 0.7, validation: float = 0.15
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions of the first ``train`` share, the next ``validation`` share and the rest (test), in time order.

    Shares are of ``n_samples`` and rounded down; the test part gets what is left.
    """
    n = positive_int(n_samples, "n_samples")
    if not (0 < train < 1 and 0 <= validation < 1 and train + validation < 1):
        raise ValueError(f"need 0 < train, 0 <= validation and train + validation < 1; got {train}, {validation}")
    n_train, n_val = int(n * train), int(n * validation)
    if n_train == 0 or n - n_train - n_val == 0 or (validation > 0 and n_val == 0):
        raise ValueError(f"{n} samples are too few to split into train {train}, validation {validation} and test")
    positions = np.arange(n)
    return positions[:n_train], positions[n_train:n_train + n_val], positions[n_train + n_val:]


def walk_forward_splits(n_samples: int, n_splits: int, test_size: int, gap: int = 0, expanding: bool = True,
                        train_size: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (train positions, test positions) for ``n_splits`` consecutive test blocks at the end of the series.

    Fold k (k = 0..n_splits-1) tests on [s_k, s_k + test_size) with
    s_k = n_samples - (n_splits - k) * test_size, and trains on positions before
    s_k - gap: all of them (``expanding=True``) or the last ``train_size`` (a rolling
    window; default: the first fold's training length). The ``gap`` rows between train
    and test are skipped, so that labels that overlap in time (multi-step targets,
    windows) cannot leak from test into train.
    """
    n = positive_int(n_samples, "n_samples")
    splits, size = positive_int(n_splits, "n_splits"), positive_int(test_size, "test_size")
    gap = non_negative_int(gap, "gap")
    first_train_end = n - splits * size - gap
    if first_train_end < 1:
        raise ValueError(f"{n} samples cannot hold {splits} test blocks of {size} plus a gap of {gap} "
                         "and at least one training sample")
    if train_size is not None:
        train_size = positive_int(train_size, "train_size")
        if train_size > first_train_end:
            raise ValueError(f"train_size {train_size} is longer than the {first_train_end} samples "
                             "available before the first test block")
    window = train_size or first_train_end
    for fold in range(splits):
        test_start = n - (splits - fold) * size
        train_end = test_start - gap
        train_start = 0 if expanding else train_end - window
        yield np.arange(train_start, train_end), np.arange(test_start, test_start + size)


def time_series_split(n_samples: int, n_splits: int = 5, test_size: int | None = None, gap: int = 0
                      ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window folds like scikit-learn's ``TimeSeriesSplit`` (test_size defaults to n // (n_splits + 1))."""
    n = positive_int(n_samples, "n_samples")
    size = test_size if test_size is not None else n // (positive_int(n_splits, "n_splits") + 1)
    return walk_forward_splits(n, n_splits, size, gap=gap, expanding=True)

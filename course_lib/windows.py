"""Sliding windows: cutting (input, label) samples out of a time series, and feeding them to torch.

A window of length W read from row i covers rows i .. i+W-1. Its label is the value of
the target column ``horizon`` rows after the window's last row, row i+W-1+horizon
(single step), or the next ``horizon`` values, rows i+W .. i+W+horizon-1 (multi-step).
With n rows there are n - W - horizon + 1 windows either way.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler, TensorDataset

from course_lib.preprocessing import Scaler
from course_lib.splits import chronological_split
from course_lib.validation import as_2d_float, non_negative_int, positive_int


@dataclass(frozen=True)
class WindowSpec:
    """How windows are cut: ``window`` input rows, a label ``horizon`` rows later (or the next ``horizon`` rows)."""

    window: int
    horizon: int = 1
    multi_step: bool = False

    def __post_init__(self):
        positive_int(self.window, "window")
        positive_int(self.horizon, "horizon")

    @property
    def input_offsets(self) -> np.ndarray:
        """Offsets of the input rows from the window's first row: 0 .. window-1."""
        return np.arange(self.window)

    @property
    def label_offsets(self) -> np.ndarray:
        """Offsets of the label rows from the window's first row."""
        last = self.window - 1
        if self.multi_step:
            return last + np.arange(1, self.horizon + 1)
        return np.array([last + self.horizon])

    def __repr__(self) -> str:
        def span(offsets):
            return f"t+{offsets[0]}" if len(offsets) == 1 else f"t+{offsets[0]}..t+{offsets[-1]}"
        return (f"WindowSpec(window={self.window}, horizon={self.horizon}, multi_step={self.multi_step}): "
                f"inputs {span(self.input_offsets)} -> label {span(self.label_offsets)}")

    def n_windows(self, n_rows: int) -> int:
        return n_rows - self.window - self.horizon + 1

    def label_positions(self, n_rows: int) -> np.ndarray:
        """Row of each window's (last) label: where its target sits in the original series."""
        return np.arange(self.n_windows(n_rows)) + self.label_offsets[-1]

    def first_label_positions(self, n_rows: int) -> np.ndarray:
        """Row of each window's first label (the same as :meth:`label_positions` unless multi_step)."""
        return np.arange(self.n_windows(n_rows)) + self.label_offsets[0]

    def make(self, values, target=None) -> tuple[np.ndarray, np.ndarray]:
        """(X, y): X (n_windows, window, features); y (n_windows,) or (n_windows, horizon) if multi_step."""
        data, target_column = _table(values, target)
        n = len(data)
        if self.n_windows(n) < 1:
            raise ValueError(f"a series of {n} rows is too short for window {self.window} and horizon "
                             f"{self.horizon}: it needs at least {self.window + self.horizon} rows")
        count = self.n_windows(n)
        views = np.lib.stride_tricks.sliding_window_view(data, self.window, axis=0)  # (n-W+1, features, W)
        x = np.ascontiguousarray(views[:count].transpose(0, 2, 1))
        series = data[:, target_column]
        if self.multi_step:
            y = np.ascontiguousarray(np.lib.stride_tricks.sliding_window_view(series[self.window:], self.horizon)[:count])
        else:
            y = series[self.window + self.horizon - 1:][:count].copy()
        return x, y


def _table(values, target) -> tuple[np.ndarray, int]:
    """values as a float (rows, features) array and the position of the target column."""
    array = as_2d_float(values, "values")
    columns = list(values.columns) if isinstance(values, pd.DataFrame) else None
    return array, _target_position(target, array.shape[1], columns)


def _target_position(target, n_columns: int, columns: list | None) -> int:
    if target is None:
        if n_columns > 1:
            raise ValueError(f"values have {n_columns} columns: say which one is the target")
        return 0
    if columns is not None and target in columns:
        return columns.index(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool) and 0 <= target < n_columns:
        return int(target)
    raise ValueError(f"target {target!r} is not a column of values (columns: {columns or list(range(n_columns))})")


def make_windows(values, window: int, horizon: int = 1, target=None, multi_step: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Cut (X, y) with X[i] = values[i : i + window] and y[i] the target ``horizon`` rows after the window.

    ``values``: 1-D array/Series (one feature) or 2-D array/DataFrame (rows, features);
    ``target``: column name or position (required when there are several columns).
    multi_step=True makes y[i] the next ``horizon`` target values. Vectorised, no loop.
    """
    return WindowSpec(window, horizon, multi_step).make(values, target)


# ----------------------------------------------------------------------------- a leakage-free pipeline
@dataclass
class WindowedData:
    """Train/validation/test windows cut from one series, scaled with statistics of the training rows only.

    ``scaler`` is None for windows that the caller transformed without a :class:`Scaler` (e.g. returns in
    percent); their predictions are turned back into prices by the caller.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: Scaler | None
    target_column: int
    label_index: dict  # split name -> index (dates) of each window's last label

    def to_price_units(self, scaled_target) -> np.ndarray:
        """Turn scaled target values (labels or predictions) back into the original units."""
        if self.scaler is None:
            raise ValueError("these windows were not scaled by a Scaler (scaler=None): "
                             "undo your own transformation to get back to the original units")
        return self.scaler.inverse_transform_column(scaled_target, self.target_column)


def make_dataset(values, window: int, horizon: int = 1, target=None, train: float = 0.7,
                 validation: float = 0.15, method: str | Scaler = "minmax", multi_step: bool = False,
                 gap: int = 0) -> WindowedData:
    """Split rows chronologically, fit the scaler on the training rows only, then cut windows.

    The rows are split into parts (train ``[0, a)``, validation ``[a, b)``, test ``[b, n)``,
    from the shares ``train`` and ``validation``). A window belongs to a part when **all** its
    label rows lie in that part, and, for validation and test, at least ``gap`` rows after the
    part's first row. So every label row of a training window precedes every label row of a
    validation window, which precede every test label row, and no row is a label in two parts:
    with ``multi_step=True`` the ``horizon - 1`` windows whose labels straddle a boundary are
    dropped. Validation and test windows may read *inputs* from earlier parts: that is the
    past, which a forecaster has.

    The scaler (``method``: "minmax", "standard", "robust", or a :class:`Scaler` such as
    ``Scaler("minmax", feature_range=(0, 0.5))``, which is copied, not changed) is fitted on the
    training rows ``[0, a)``: every row a training window reads or is scored on lies there (for the
    target column they are exactly these rows), and no later row reaches the scaler.
    """
    spec = WindowSpec(window, horizon, multi_step)
    gap = non_negative_int(gap, "gap")
    if isinstance(method, Scaler):
        scaler = copy.copy(method)          # the caller's scaler is left as it was
    elif isinstance(method, str):
        scaler = Scaler(method)
    else:
        raise ValueError(f"method must be a scaling method name or a Scaler, got {type(method).__name__}")
    data, target_column = _table(values, target)
    index = values.index if isinstance(values, (pd.Series, pd.DataFrame)) else pd.RangeIndex(len(data))
    train_rows, val_rows, _ = chronological_split(len(data), train, validation)
    scaler.fit(data[train_rows])
    x, y = spec.make(scaler.transform(data), target_column)
    first, last = spec.first_label_positions(len(data)), spec.label_positions(len(data))
    val_start, test_start = len(train_rows), len(train_rows) + len(val_rows)
    parts = {"train": last < val_start,
             "val": (first >= val_start + gap) & (last < test_start),
             "test": first >= test_start + gap}
    for name, mask in parts.items():
        if not mask.any():
            raise ValueError(f"no window has all its labels in the {name} part; use a longer series, a shorter "
                             "window, horizon or gap")
    return WindowedData(x[parts["train"]], y[parts["train"]], x[parts["val"]], y[parts["val"]],
                        x[parts["test"]], y[parts["test"]], scaler, target_column,
                        {name: index[last[mask]] for name, mask in parts.items()})


def make_loaders(dataset: WindowedData, batch_size: int = 64, shuffle_train: bool = True, seed: int = 0,
                 device=None) -> dict[str, DataLoader]:
    """float32 torch DataLoaders for the three splits.

    Training windows may be shuffled (each window carries its own past, so the order of
    windows does not matter to a stateless model; the shuffle is seeded). Validation and
    test windows are never shuffled, so predictions come out in time order.

    Each batch is taken from the tensors with one index operation (a ``BatchSampler`` of
    positions) instead of one call per window; the batches are the same as those of
    ``DataLoader(..., batch_size, shuffle, generator)``, only several times faster to draw.
    """
    batch_size = positive_int(batch_size, "batch_size")
    generator = torch.Generator().manual_seed(seed)

    def loader(x, y, shuffle):
        tensors = TensorDataset(torch.as_tensor(x, dtype=torch.float32, device=device),
                                torch.as_tensor(y, dtype=torch.float32, device=device))
        order = RandomSampler(tensors, generator=generator) if shuffle else SequentialSampler(tensors)
        return DataLoader(tensors, sampler=BatchSampler(order, batch_size, drop_last=False), batch_size=None,
                          generator=generator if shuffle else None)

    return {"train": loader(dataset.x_train, dataset.y_train, shuffle_train),
            "val": loader(dataset.x_val, dataset.y_val, False),
            "test": loader(dataset.x_test, dataset.y_test, False)}

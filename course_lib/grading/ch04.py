"""Chapter 04 exercises: windows, train-only scaling, walk-forward folds, outliers."""
from __future__ import annotations

import numpy as np

from course_lib import data
from course_lib.differencing import log_returns
from course_lib.grading.registry import Case, Exercise
from course_lib.preprocessing import Scaler, iqr_outliers
from course_lib.splits import walk_forward_splits
from course_lib.windows import make_windows


def windows_reference(values, window, horizon):
    x, y = make_windows(values, window, horizon)
    return x[..., 0], y


def train_only_minmax_reference(train, test):
    scaler = Scaler("minmax").fit(train)
    return scaler.transform(train)[:, 0], scaler.transform(test)[:, 0]


def walk_forward_reference(n_samples, n_splits, test_size, gap):
    return [(train, test) for train, test in walk_forward_splits(n_samples, n_splits, test_size, gap=gap)]


def _close() -> np.ndarray:
    return data.load_sp500()["Close"].to_numpy()


def _window_cases():
    return [
        Case("0..9, window 3, horizon 1", (np.arange(10.0), 3, 1)),
        Case("0..9, window 3, horizon 2", (np.arange(10.0), 3, 2),
             hint="The label is `horizon` steps after the window's LAST value: values[i + window + horizon - 1]."),
        Case("S&P 500, 200 closes, window 20, horizon 5", (_close()[:200], 20, 5)),
        Case("window + horizon longer than the series must raise ValueError", (np.arange(5.0), 4, 2),
             raises="ValueError",
             hint="With n < window + horizon there is no window: raise ValueError instead of returning empty arrays."),
        Case("exactly one window: 6 values, window 4, horizon 2", (np.arange(6.0), 4, 2),
             hint="n - window - horizon + 1 = 1 window: X = [[0, 1, 2, 3]], y = [5]; raise only when there is none."),
    ]


def _scaling_cases():
    close = _close()
    train = np.array([2.0, 4.0, 6.0])
    outside = ("Scale both parts with the training min and max only, and do not clip: test values outside "
               "the training range land outside [0, 1] (here 8 -> 1.5, 0 -> -0.5).")
    return [
        Case("S&P 500: train 1999-2012, test after", (close[:3500], close[3500:])),
        Case("test above the training range", (train, np.array([8.0, 5.0])), hint=outside),
        Case("test below the training range", (train, np.array([0.0, 3.0])), hint=outside),
        Case("test inside the training range", (train, np.array([3.0, 5.0])),
             hint="Fit once, on the training part: the test part gets (x - min_train) / (max_train - min_train), "
                  "not its own min and max (here 3 -> 0.25, 5 -> 0.75)."),
        Case("test identical to train", (close[:50], close[:50])),
    ]


def _fold_cases():
    return [
        Case("20 samples, 3 folds of 4, no gap", (20, 3, 4, 0)),
        Case("100 samples, 5 folds of 10, gap 3", (100, 5, 10, 3),
             hint="Fold k tests on [n - (n_splits - k) * test_size, ... + test_size) and trains on [0, test start - gap)."),
        Case("12 samples, 2 folds of 5, gap 1", (12, 2, 5, 1)),
        Case("10 samples, 1 fold of 3, gap 1, by hand", (10, 1, 3, 1),
             hint="By hand: the test block is 7, 8, 9; the gap drops position 6; train is 0..5, i.e. "
                  "range(0, test_start - gap)."),
    ]


def _outlier_cases():
    r = log_returns(_close())
    return [
        Case("hand-made, k=1.5", (np.array([1.0, 2.0, 3.0, 4.0, 100.0, -50.0]), 1.5),
             hint="Both fences count: 100 lies above Q3 + k IQR and -50 below Q1 - k IQR."),
        Case("S&P 500 log returns, k=3", (r, 3.0)),
        Case("S&P 500 log returns, k=1.5", (r, 1.5)),
        Case("values exactly on the fences are not outliers", (np.arange(1.0, 10.0), 0.5),
             hint="Q1 = 3, Q3 = 7, IQR = 4: the fences are 1 and 9. Outliers lie strictly outside: use < and >, "
                  "not <= and >=."),
        Case("quartiles by linear interpolation", (np.array([14.0, 17.0, 26.0, 14.0, 30.0, 15.0]), 0.5),
             hint="Use np.percentile(x, [25, 75]) with its default linear method: Q1 = 14.25, Q3 = 23.75, so only 30 "
                  "is an outlier. midpoint, nearest, Tukey's hinges or statistics.quantiles move the fences."),
    ]


EXERCISES = [
    Exercise("04.1", "Sliding windows with a horizon", "make_windows_1d", 2, windows_reference, _window_cases,
             "X[i] = values[i : i + window]; y[i] = values[i + window + horizon - 1]; there are "
             "n - window - horizon + 1 windows. Return (X, y) as arrays.",
             also_implemented_by=("course_lib.windows:make_windows", "course_lib.windows:WindowSpec.make")),
    Exercise("04.2", "Min-max scaling fitted on training data only", "train_only_minmax", 1,
             train_only_minmax_reference, _scaling_cases,
             "(x - min_train) / (max_train - min_train) for both parts; return (train_scaled, test_scaled).",
             also_implemented_by=("course_lib.preprocessing:Scaler.fit", "course_lib.preprocessing:Scaler.transform")),
    Exercise("04.3", "Walk-forward folds with a gap", "walk_forward_folds", 2, walk_forward_reference, _fold_cases,
             "Return a list of (train_positions, test_positions) pairs of integer arrays, oldest fold first.",
             also_implemented_by=("course_lib.splits:walk_forward_splits", "course_lib.splits:time_series_split")),
    Exercise("04.4", "IQR outliers", "iqr_outliers_mask", 1, iqr_outliers, _outlier_cases,
             "Return a boolean array: True where x < Q1 - k*IQR or x > Q3 + k*IQR."),
]

"""Preprocessing fitted on training data only: scaling, outliers, feature selection, augmentation.

Everything that learns a number from data (a minimum, a median, a threshold, a
selected feature) learns it from the training part passed to it, and is then
applied unchanged to validation and test data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.interpolate import CubicSpline

from course_lib.validation import as_1d_float, as_2d_float

SCALING_METHODS = ("minmax", "standard", "robust")


# ----------------------------------------------------------------------------- scaling
class Scaler:
    """Per-column scaling fitted on training data: z = (x - center) / scale.

    method="minmax": the training data maps onto ``feature_range`` = (lo, hi), default [0, 1]:
    z = lo + (hi - lo) (x - min) / (max - min), i.e. center = min - lo (max - min) / (hi - lo),
    scale = (max - min) / (hi - lo) (scikit-learn's ``MinMaxScaler(feature_range)``);
    "standard": center = mean, scale = std (ddof=0); "robust": center = median,
    scale = 75th - 25th percentile. Values outside the training range are not clipped:
    a test price above the training maximum scales above ``hi``, as it should.
    """

    def __init__(self, method: str = "minmax", feature_range: tuple[float, float] = (0.0, 1.0)):
        if method not in SCALING_METHODS:
            raise ValueError(f"method must be one of {SCALING_METHODS}, got {method!r}")
        low, high = (float(v) for v in feature_range)
        if not low < high:
            raise ValueError(f"feature_range must be (low, high) with low < high, got {feature_range!r}")
        if method != "minmax" and (low, high) != (0.0, 1.0):
            raise ValueError(f"feature_range applies to min-max scaling only, not to {method!r}")
        self.method, self.feature_range = method, (low, high)
        self.center_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def __repr__(self) -> str:
        state = "unfitted" if self.center_ is None else f"fitted on {self.n_rows_} rows"
        extra = f", feature_range={self.feature_range}" if self.feature_range != (0.0, 1.0) else ""
        return f"Scaler(method={self.method!r}{extra}, {state})"

    def fit(self, train) -> Scaler:
        """Learn center and scale of every column from the training rows only."""
        data = as_2d_float(train, "train")
        if len(data) < 2:
            raise ValueError(f"need at least 2 training rows to fit a scaler, got {len(data)}")
        if self.method == "minmax":
            low, high = self.feature_range
            scale = (data.max(axis=0) - data.min(axis=0)) / (high - low)
            center = data.min(axis=0) - low * scale
        elif self.method == "standard":
            center, scale = data.mean(axis=0), data.std(axis=0)
        else:
            q25, center, q75 = np.percentile(data, [25, 50, 75], axis=0)
            scale = q75 - q25
        if (scale == 0).any():
            raise ValueError(f"column {int(np.flatnonzero(scale == 0)[0])} is constant in the training data; "
                             "it cannot be scaled")
        self.center_, self.scale_, self.n_rows_ = center, scale, len(data)
        return self

    def _check_fitted(self, data: np.ndarray) -> None:
        if self.center_ is None:
            raise RuntimeError("the scaler is not fitted: call fit(train) first")
        if data.shape[1] != len(self.center_):
            raise ValueError(f"expected {len(self.center_)} column(s), got {data.shape[1]}")

    def transform(self, values) -> np.ndarray:
        data = as_2d_float(values)
        self._check_fitted(data)
        return (data - self.center_) / self.scale_

    def inverse_transform(self, scaled) -> np.ndarray:
        data = as_2d_float(scaled, "scaled")
        self._check_fitted(data)
        return data * self.scale_ + self.center_

    def inverse_transform_column(self, scaled, column: int = 0) -> np.ndarray:
        """Back to original units for predictions of one column (any shape), e.g. a forecast of the scaled close."""
        self._check_fitted(np.zeros((1, len(self.center_))))
        if not 0 <= column < len(self.center_):
            raise ValueError(f"column must be in [0, {len(self.center_) - 1}], got {column}")
        return np.asarray(scaled, dtype=np.float64) * self.scale_[column] + self.center_[column]


# ----------------------------------------------------------------------------- outliers
def iqr_outliers(x, k: float = 1.5, reference=None):
    """Mask of values outside [Q1 - k IQR, Q3 + k IQR], the quartiles taken from ``reference`` (default: x itself).

    Pass the training data as ``reference`` so that the thresholds do not depend on test
    data. Quartiles use NumPy's default (linear) interpolation. A Series gives a Series.
    """
    values = as_1d_float(x, "x")
    base = values if reference is None else as_1d_float(reference, "reference")
    q1, q3 = np.percentile(base, [25, 75])
    spread = q3 - q1
    mask = (values < q1 - k * spread) | (values > q3 + k * spread)
    return pd.Series(mask, index=x.index) if isinstance(x, pd.Series) else mask


def zscore_outliers(x, threshold: float = 3.0, reference=None):
    """Mask of values with |x - mean| > threshold * std, mean and std (ddof=0) from ``reference`` (default: x)."""
    values = as_1d_float(x, "x")
    base = values if reference is None else as_1d_float(reference, "reference")
    mask = np.abs(values - base.mean()) > threshold * base.std()
    return pd.Series(mask, index=x.index) if isinstance(x, pd.Series) else mask


def isolation_forest_outliers(train, data=None, contamination: float = 0.01, seed: int = 0) -> np.ndarray:
    """Mask of outliers in ``data`` (default: ``train``) by an Isolation Forest fitted on ``train`` (rows x features)."""
    from sklearn.ensemble import IsolationForest

    fitted = as_2d_float(train, "train")
    target = fitted if data is None else as_2d_float(data, "data")
    forest = IsolationForest(contamination=contamination, random_state=seed).fit(fitted)
    return forest.predict(target) == -1


# ----------------------------------------------------------------------------- feature selection
def _features_and_target(features: pd.DataFrame, target) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(features, pd.DataFrame):
        raise TypeError(f"features must be a DataFrame (named columns), got {type(features).__name__}")
    y = as_1d_float(target, "target")
    if len(y) != len(features):
        raise ValueError(f"features have {len(features)} rows but target has {len(y)}")
    as_2d_float(features, "features")
    return features, y


def select_by_correlation(features: pd.DataFrame, target, threshold: float = 0.1) -> list[str]:
    """Columns whose |Pearson correlation| with the target exceeds ``threshold`` (the guide's §6.3.1 rule)."""
    frame, y = _features_and_target(features, target)
    correlation = frame.corrwith(pd.Series(y, index=frame.index)).abs()
    return correlation[correlation > threshold].index.tolist()


def select_by_mutual_information(features: pd.DataFrame, target, k: int = 5, seed: int = 0) -> list[str]:
    """The ``k`` columns with the highest estimated mutual information with the target (k-NN estimator)."""
    from sklearn.feature_selection import mutual_info_regression

    frame, y = _features_and_target(features, target)
    scores = mutual_info_regression(frame.to_numpy(), y, random_state=seed)
    order = np.argsort(-scores, kind="stable")[:k]
    return frame.columns[np.sort(order)].tolist()


def select_by_lasso(features: pd.DataFrame, target, alpha: float = 0.01) -> list[str]:
    """Columns with a non-zero LASSO coefficient, after standardising features and target (on these rows)."""
    from sklearn.linear_model import Lasso

    frame, y = _features_and_target(features, target)
    x = Scaler("standard").fit(frame).transform(frame)
    model = Lasso(alpha=alpha).fit(x, (y - y.mean()) / y.std())
    return frame.columns[model.coef_ != 0].tolist()


# ----------------------------------------------------------------------------- augmentation
def add_gaussian_noise(x, sigma: float, seed: int = 0) -> np.ndarray:
    """x + e with e ~ N(0, sigma^2) elementwise (the guide's add_noise_augmentation, seeded)."""
    if sigma < 0:
        raise ValueError(f"sigma must be non-negative, got {sigma}")
    values = np.asarray(x, dtype=np.float64)
    return values + np.random.default_rng(seed).normal(0.0, sigma, values.shape)


def warping_path(n: int, strength: float = 0.2, n_knots: int = 4, seed: int = 0) -> np.ndarray:
    """A random, strictly increasing time map from 0..n-1 onto [0, n-1], with both ends fixed.

    Local speeds are exp(N(0, strength^2)) at ``n_knots + 2`` evenly spaced knots, joined by a
    cubic spline; their cumulative sum, rescaled to [0, n-1], is the path. Speeds are
    positive, so the path never goes back in time.
    """
    if n < 2:
        raise ValueError(f"need at least 2 time steps to warp, got {n}")
    if strength < 0 or n_knots < 0:
        raise ValueError(f"strength and n_knots must be non-negative, got {strength}, {n_knots}")
    rng = np.random.default_rng(seed)
    knots = np.linspace(0, n - 1, n_knots + 2)
    log_speed = CubicSpline(knots, rng.normal(0.0, strength, len(knots)))(np.arange(n))
    speed = np.exp(np.clip(log_speed, -5.0, 5.0))
    path = np.concatenate([[0.0], np.cumsum((speed[1:] + speed[:-1]) / 2)])
    return path / path[-1] * (n - 1)


def time_warp(x, strength: float = 0.2, n_knots: int = 4, seed: int = 0) -> np.ndarray:
    """Resample a sequence (time on axis 0) along a monotonic :func:`warping_path`: some stretches are
    slowed down, others sped up, the order of events and both ends are kept.

    The guide's §6.3.1 version adds independent noise to each index, which can move time
    backwards; this one cannot.
    """
    values = np.asarray(x, dtype=np.float64)
    n = values.shape[0]
    path = warping_path(n, strength, n_knots, seed)
    flat = values.reshape(n, -1)
    warped = np.column_stack([np.interp(path, np.arange(n), flat[:, j]) for j in range(flat.shape[1])])
    return warped.reshape(values.shape)

"""course_lib.preprocessing against scikit-learn and scipy: scalers, outliers, feature selection, augmentation."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import preprocessing as skp
from sklearn.ensemble import IsolationForest

from course_lib import preprocessing as pre

SKLEARN = {"minmax": skp.MinMaxScaler, "standard": skp.StandardScaler, "robust": skp.RobustScaler}


@pytest.mark.parametrize("method", pre.SCALING_METHODS)
def test_scalers_match_scikit_learn(sp500, method):
    values = sp500[["Open", "Close", "Volume"]].to_numpy()
    train, test = values[:3000], values[3000:]
    ours = pre.Scaler(method).fit(train)
    theirs = SKLEARN[method]().fit(train)
    np.testing.assert_allclose(ours.transform(test), theirs.transform(test), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.transform(train), theirs.transform(train), rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(3, 30), st.integers(1, 4)), elements=st.floats(-1e6, 1e6)),
       st.sampled_from(pre.SCALING_METHODS))
def test_scaling_round_trips(values, method):
    try:
        scaler = pre.Scaler(method).fit(values)
    except ValueError:  # a constant column
        return
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(values)), values, rtol=1e-9, atol=1e-6)
    column = values.shape[1] - 1
    np.testing.assert_allclose(scaler.inverse_transform_column(scaler.transform(values)[:, column], column),
                               values[:, column], rtol=1e-9, atol=1e-6)


def test_fitted_scaler_ignores_later_rows(sp500):
    close = sp500["Close"].to_numpy()
    scaler = pre.Scaler("minmax").fit(close[:3000])
    before = (scaler.center_.copy(), scaler.scale_.copy())
    scaler.transform(close * 10)
    assert np.array_equal(before[0], scaler.center_) and np.array_equal(before[1], scaler.scale_)
    assert scaler.transform(close[3000:]).max() > 1.0   # not clipped


@pytest.mark.parametrize("feature_range", [(0.0, 0.4), (-1.0, 1.0), (2.0, 5.0)])
def test_minmax_feature_range_matches_scikit_learn(sp500, feature_range):
    values = sp500[["Close", "Volume"]].to_numpy()
    train, test = values[:3000], values[3000:]
    ours = pre.Scaler("minmax", feature_range=feature_range).fit(train)
    theirs = skp.MinMaxScaler(feature_range=feature_range).fit(train)
    np.testing.assert_allclose(ours.transform(test), theirs.transform(test), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.inverse_transform(ours.transform(test)), test, rtol=1e-12)
    assert ours.transform(train).min() == pytest.approx(feature_range[0])
    assert ours.transform(train).max() == pytest.approx(feature_range[1])


def test_the_default_range_is_bit_for_bit_the_plain_minmax(sp500):
    close = sp500["Close"].to_numpy()
    scaler = pre.Scaler("minmax").fit(close[:3000])
    assert scaler.center_[0] == close[:3000].min() and scaler.scale_[0] == close[:3000].max() - close[:3000].min()


@pytest.mark.parametrize("call, error, message", [
    (lambda: pre.Scaler("log"), ValueError, "method must be one of"),
    (lambda: pre.Scaler("minmax", feature_range=(1.0, 0.0)), ValueError, "low < high"),
    (lambda: pre.Scaler("standard", feature_range=(0.0, 0.5)), ValueError, "min-max scaling only"),
    (lambda: pre.Scaler().transform([1.0, 2.0]), RuntimeError, "not fitted"),
    (lambda: pre.Scaler().fit([[1.0, 2.0], [1.0, 3.0]]), ValueError, "column 0 is constant"),
    (lambda: pre.Scaler().fit([1.0, np.nan, 2.0]), ValueError, "NaN"),
    (lambda: pre.Scaler().fit([[1.0, 2.0], [2.0, 3.0]]).transform([1.0]), ValueError, "expected 2 column"),
    (lambda: pre.Scaler().fit([1.0]), ValueError, "at least 2"),
])
def test_scaler_bad_use_is_refused(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------------------- outliers
def test_iqr_outliers_by_hand_and_with_training_thresholds():
    x = np.array([1.0, 2.0, 3.0, 4.0, 100.0])
    q1, q3 = 2.0, 4.0
    np.testing.assert_array_equal(pre.iqr_outliers(x), (x < q1 - 3) | (x > q3 + 3))
    test = np.array([0.0, 8.0, 12.0])
    np.testing.assert_array_equal(pre.iqr_outliers(test, reference=x), [False, True, True])


def test_zscore_outliers_match_scipy(sp500):
    from scipy import stats
    r = np.diff(np.log(sp500["Close"].to_numpy()))
    np.testing.assert_array_equal(pre.zscore_outliers(r, 4.0), np.abs(stats.zscore(r)) > 4.0)
    series = pd.Series(r, index=sp500.index[1:])
    assert pre.zscore_outliers(series, 4.0).index.equals(series.index)


def test_isolation_forest_matches_scikit_learn(sp500):
    r = np.diff(np.log(sp500["Close"].to_numpy()))
    features = np.column_stack([r[1:], np.abs(r[:-1])])
    ours = pre.isolation_forest_outliers(features[:3000], features, contamination=0.02, seed=3)
    forest = IsolationForest(contamination=0.02, random_state=3).fit(features[:3000])
    np.testing.assert_array_equal(ours, forest.predict(features) == -1)
    assert 0.005 < ours[:3000].mean() < 0.05


# ----------------------------------------------------------------------------- feature selection
@pytest.fixture(scope="module")
def synthetic_features():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(500, 5)), columns=list("abcde"))
    target = 2 * frame["a"] - frame["c"] + 0.1 * rng.normal(size=500)
    return frame, target


def test_correlation_selection(synthetic_features):
    frame, target = synthetic_features
    assert pre.select_by_correlation(frame, target, 0.2) == ["a", "c"]


def test_mutual_information_selection(synthetic_features):
    frame, target = synthetic_features
    assert pre.select_by_mutual_information(frame, target, k=2) == ["a", "c"]


def test_lasso_selection(synthetic_features):
    frame, target = synthetic_features
    assert pre.select_by_lasso(frame, target, alpha=0.05) == ["a", "c"]


def test_feature_selection_refuses_mismatched_input(synthetic_features):
    frame, target = synthetic_features
    with pytest.raises(ValueError, match="500 rows but target has 10"):
        pre.select_by_correlation(frame, target[:10])
    with pytest.raises(TypeError, match="DataFrame"):
        pre.select_by_lasso(frame.to_numpy(), target)


# ----------------------------------------------------------------------------- augmentation
@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("strength", [0.1, 0.5, 1.5])
def test_warping_path_is_strictly_monotonic_with_fixed_ends(seed, strength):
    path = pre.warping_path(120, strength=strength, seed=seed)
    assert np.all(np.diff(path) > 0)
    assert path[0] == 0.0 and path[-1] == pytest.approx(119.0)


def test_the_guides_jittered_indices_are_noise_not_a_warp():
    """Guide §6.3.1: index + N(0, sigma) changes speed at random every step (differenced i.i.d. noise has a
    lag-1 autocorrelation of -0.5), and with a larger sigma it moves time backwards. A warp changes speed smoothly."""
    from course_lib.stats import autocorrelation
    jitter_speed = np.diff(np.arange(2000) + np.random.default_rng(0).normal(0, 0.2, 2000))
    warp_speed = np.diff(pre.warping_path(2000, strength=0.5, seed=0))
    assert autocorrelation(jitter_speed, 1) == pytest.approx(-0.5, abs=0.05)
    assert autocorrelation(warp_speed, 1) > 0.99
    assert np.any(np.diff(np.arange(100) + np.random.default_rng(0).normal(0, 0.5, 100)) < 0)


def test_time_warp_keeps_shape_ends_and_range():
    x = np.column_stack([np.sin(np.arange(60) / 5), np.arange(60.0)])
    warped = pre.time_warp(x, strength=0.5, seed=1)
    assert warped.shape == x.shape
    np.testing.assert_allclose(warped[[0, -1]], x[[0, -1]], atol=1e-9)
    assert np.all(np.diff(warped[:, 1]) > 0)                 # a rising line stays rising
    np.testing.assert_allclose(pre.time_warp(x, strength=0.0), x, atol=1e-9)


def test_gaussian_noise_has_the_requested_size():
    x = np.zeros((200, 50))
    noisy = pre.add_gaussian_noise(x, 0.1, seed=0)
    assert noisy.std() == pytest.approx(0.1, rel=0.02)
    np.testing.assert_array_equal(noisy, pre.add_gaussian_noise(x, 0.1, seed=0))
    with pytest.raises(ValueError, match="non-negative"):
        pre.add_gaussian_noise(x, -1.0)

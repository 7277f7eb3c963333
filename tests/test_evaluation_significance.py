"""Diebold-Mariano test against the `dieboldmariano` package and a hand computation."""
import dieboldmariano
import numpy as np
import pytest
from scipy import stats

from course_lib.evaluation.significance import diebold_mariano


def forecasts(seed, n=300, edge=0.0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n).cumsum()
    common = rng.normal(size=n)
    first = truth + common + rng.normal(scale=1.0, size=n)
    second = truth + common + rng.normal(scale=1.0 + edge, size=n)
    return truth, first, second


@pytest.mark.parametrize("seed, horizon", [(0, 1), (1, 1), (2, 3), (3, 5)])
def test_matches_the_dieboldmariano_package(seed, horizon):
    truth, first, second = forecasts(seed, edge=0.1)
    ours = diebold_mariano((truth - first) ** 2, (truth - second) ** 2, horizon=horizon)
    theirs = dieboldmariano.dm_test(truth, first, second, h=horizon, harvey_correction=True)
    assert ours.statistic == pytest.approx(theirs[0], rel=1e-9)
    assert ours.p_value == pytest.approx(theirs[1], rel=1e-6)


def test_uncorrected_statistic_and_normal_p_value():
    truth, first, second = forecasts(4, edge=0.2)
    d = np.abs(truth - first) - np.abs(truth - second)
    by_hand = d.mean() / np.sqrt(d.var() / len(d))      # h = 1: variance of the mean is gamma_0 / n
    result = diebold_mariano(np.abs(truth - first), np.abs(truth - second), corrected=False)
    assert result.statistic == pytest.approx(by_hand, rel=1e-12)
    assert result.p_value == pytest.approx(2 * stats.norm.sf(abs(by_hand)))
    theirs = dieboldmariano.dm_test(truth, first, second, harvey_correction=False, loss=lambda u, v: abs(u - v))
    assert result.statistic == pytest.approx(theirs[0], rel=1e-9)


def test_a_clearly_better_forecast_is_detected_and_equal_ones_are_not():
    truth, good, bad = forecasts(5, n=500, edge=1.0)
    result = diebold_mariano((truth - good) ** 2, (truth - bad) ** 2)
    assert result.statistic < -3 and result.p_value < 0.01 and result.mean_difference < 0
    rejections = [diebold_mariano((t - a) ** 2, (t - b) ** 2).p_value < 0.05
                  for t, a, b in (forecasts(seed) for seed in range(200))]
    assert 0.02 <= np.mean(rejections) <= 0.09          # size close to 5% under the null


@pytest.mark.parametrize("args, kwargs, message", [
    (([1.0, 2.0, 3.0], [1.0, 2.0]), {}, "same targets"),
    (([1.0, 2.0, 3.0], [1.0, 2.0, 3.0]), {}, "identical"),
    (([1.0, 2.0, 3.0], [0.0, 2.0, 1.0]), {"horizon": 3}, "horizon 3 needs more"),
    (([1.0, np.nan], [1.0, 2.0]), {}, "NaN"),
])
def test_bad_input_is_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        diebold_mariano(*args, **kwargs)


def test_the_published_example_of_the_dieboldmariano_package():
    """The worked example in the dieboldmariano package's README: five targets, two forecasts, squared error, h = 1,
    HLN correction; it prints (-2.2229922805746782, 0.04515565862099125) for the one-sided test, so the two-sided
    p-value is twice that."""
    truth = np.array([10.0, 20, 30, 40, 50])
    first, second = np.array([11.0, 21, 29, 42, 53]), np.array([13.0, 26, 24, 40, 59])
    result = diebold_mariano((truth - first) ** 2, (truth - second) ** 2)
    assert result.statistic == pytest.approx(-2.2229922805746782, rel=1e-12)
    assert result.p_value == pytest.approx(2 * 0.04515565862099125, rel=1e-12)

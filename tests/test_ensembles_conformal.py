"""course_lib.ensembles.conformal and .coverage: split conformal and ACI against hand-worked cases, MAPIE 1.x on the
same residuals, coverage guarantees (binomial, and Gibbs & Candès's deterministic ACI bound), regime breakdowns."""
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from course_lib import ensembles as E
from course_lib.evaluation.metrics import coverage


class _Column(RegressorMixin, BaseEstimator):
    """A 'fitted' regressor that returns column ``j`` of X: hands MAPIE our forecasts (or scales) unchanged."""

    def __init__(self, j=0):
        self.j = j

    def fit(self, X, y=None):
        self.fitted_, self.n_features_in_ = True, np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return np.asarray(X)[:, self.j]


def _residual_problem(seed, n_cal=99, n_test=150, drift=1.0):
    """Forecasts and fat-tailed truths; the test errors grow by ``drift`` times over the test period."""
    rng = np.random.default_rng(seed)
    p_cal, p_test = rng.normal(size=n_cal), rng.normal(size=n_test)
    y_cal = p_cal + rng.standard_t(4, size=n_cal)
    y_test = p_test + rng.standard_t(4, size=n_test) * np.linspace(1, 1 + drift, n_test)
    return y_cal, p_cal, y_test, p_test


# ----------------------------------------------------------------------------- the finite-sample quantile by hand
@pytest.mark.parametrize("n, alpha, k", [
    (9, 0.1, 9),      # ceil(10 * 0.9) = 9: the largest of 9 scores
    (10, 0.1, 10),    # ceil(11 * 0.9) = ceil(9.9)
    (19, 0.1, 18),    # ceil(20 * 0.9) = 18, not the 19 * 0.9 = 17.1 -> 18th by luck of rounding only
    (99, 0.1, 90),    # ceil(100 * 0.9)
    (100, 0.1, 91),   # ceil(90.9)
    (4, 0.5, 3),      # ceil(2.5)
    (9, 0.7, 3),      # 10 * (1 - 0.7) is 3.0000000000000004 in floating point: still rank 3
    (19, 0.05, 19),
])
def test_conformal_rank_by_hand(n, alpha, k):
    assert E.conformal_rank(n, alpha) == k


def test_conformal_quantile_by_hand():
    assert E.conformal_quantile([5.0, 1.0, 4.0, 2.0, 3.0], 0.5) == 3.0            # k = ceil(6 * 0.5) = 3
    assert E.conformal_quantile(np.arange(1.0, 20.0), 0.1) == 18.0               # n = 19: k = 18
    assert E.conformal_quantile(np.arange(1.0, 11.0), 0.1) == 10.0               # n = 10: k = 10, the maximum
    # the plausible mistake, np.quantile(scores, 1 - alpha), is smaller: it forgets the test point
    assert np.quantile(np.arange(1.0, 11.0), 0.9) < 10.0


@pytest.mark.parametrize("n, alpha", [(n, a) for n in (9, 20, 57, 200) for a in (0.05, 0.1, 0.2, 0.33)
                                      if (n + 1) * (1 - a) <= n])
def test_conformal_quantile_is_numpys_inverted_cdf_at_k_over_n(n, alpha):
    scores = np.random.default_rng(n).exponential(size=n)
    k = math.ceil((n + 1) * (1 - alpha) - 1e-9)
    assert E.conformal_quantile(scores, alpha) == np.quantile(scores, k / n, method="inverted_cdf")


@pytest.mark.parametrize("alpha, smallest", [(0.1, 9), (0.05, 19), (0.2, 4), (0.5, 1), (0.3, 3)])
def test_minimum_calibration_size_is_the_first_n_with_a_finite_quantile(alpha, smallest):
    assert E.minimum_calibration_size(alpha) == smallest
    E.conformal_rank(smallest, alpha)
    if smallest > 1:
        with pytest.raises(ValueError, match="too small"):
            E.conformal_rank(smallest - 1, alpha)


# ----------------------------------------------------------------------------- agreement with MAPIE
@pytest.mark.parametrize("confidence", [0.8, 0.9, 0.95])
def test_split_conformal_matches_mapie(confidence):
    from mapie.regression import SplitConformalRegressor
    y_cal, p_cal, _, p_test = _residual_problem(0)
    model = _Column().fit(p_cal[:, None])
    mapie = SplitConformalRegressor(model, confidence_level=confidence, prefit=True)
    _, bounds = mapie.conformalize(p_cal[:, None], y_cal).predict_interval(p_test[:, None])
    lower, upper = E.split_conformal_interval(y_cal, p_cal, p_test, 1 - confidence)
    np.testing.assert_allclose(lower, bounds[:, 0, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(upper, bounds[:, 1, 0], rtol=0, atol=1e-12)


def test_volatility_scaled_split_conformal_matches_mapies_residual_normalised_score():
    from mapie.conformity_scores import ResidualNormalisedScore
    from mapie.regression import SplitConformalRegressor
    rng = np.random.default_rng(1)
    s_cal, s_test = rng.uniform(0.5, 3, 199), rng.uniform(0.5, 3, 60)
    p_cal, p_test = rng.normal(size=199), rng.normal(size=60)
    y_cal = p_cal + s_cal * rng.normal(size=199)
    x_cal, x_test = np.c_[p_cal, s_cal], np.c_[p_test, s_test]
    score = ResidualNormalisedScore(residual_estimator=_Column(1).fit(x_cal), prefit=True)
    mapie = SplitConformalRegressor(_Column(0).fit(x_cal), confidence_level=0.9, conformity_score=score, prefit=True)
    _, bounds = mapie.conformalize(x_cal, y_cal).predict_interval(x_test)
    lower, upper = E.split_conformal_interval(y_cal, p_cal, p_test, 0.1, s_cal, s_test)
    np.testing.assert_allclose(lower, bounds[:, 0, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(upper, bounds[:, 1, 0], rtol=0, atol=1e-12)


def _mapie_time_series(method, y_cal, p_cal):
    from mapie.conformity_scores import AbsoluteConformityScore
    from mapie.regression import TimeSeriesRegressor
    model = _Column().fit(p_cal[:, None])
    return TimeSeriesRegressor(model, method=method, cv="prefit",
                               conformity_score=AbsoluteConformityScore(sym=True)).fit(p_cal[:, None], y_cal)


def test_aci_matches_mapies_time_series_regressor():
    """Fixed calibration scores (MAPIE keeps them), the level adapted after each point; MAPIE clips alpha_t to
    [0, 1] and we do not, so the step is small enough to stay inside."""
    y_cal, p_cal, y_test, p_test = _residual_problem(1, drift=1.0)
    mapie = _mapie_time_series("aci", y_cal, p_cal)
    lower, upper, levels = [], [], []
    for t in range(len(y_test)):
        x = p_test[t:t + 1, None]
        _, bounds = mapie.predict(x, confidence_level=0.9, allow_infinite_bounds=True)
        lower.append(bounds[0, 0, 0]), upper.append(bounds[0, 1, 0]), levels.append(mapie.current_alpha[0.1])
        mapie.adapt_conformal_inference(x, y_test[t:t + 1], gamma=0.01, confidence_level=0.9)
    ours = E.adaptive_conformal_intervals(y_cal, p_cal, y_test, p_test, alpha=0.1, gamma=0.01)
    assert ours["missed"].any() and ours["alpha_t"].nunique() > 10          # the level really moved
    assert ours["alpha_t"].min() > 1 / (len(y_cal) + 1)                     # ... but kept a finite quantile
    np.testing.assert_allclose(ours["alpha_t"], levels, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["lower"], lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["upper"], upper, rtol=0, atol=1e-12)


def test_rolling_scores_without_adaptation_match_mapies_enbpi_update():
    """EnbPI's ``update`` replaces the oldest score by the newest: our ``window = n_cal`` with ``gamma = 0``."""
    y_cal, p_cal, y_test, p_test = _residual_problem(4, drift=2.0)
    mapie = _mapie_time_series("enbpi", y_cal, p_cal)
    lower, upper = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                                  # MAPIE warns about deprecated arguments
        for t in range(len(y_test)):
            x = p_test[t:t + 1, None]
            _, bounds = mapie.predict(x, confidence_level=0.9)
            lower.append(bounds[0, 0, 0]), upper.append(bounds[0, 1, 0])
            mapie.update(x, y_test[t:t + 1])
    ours = E.adaptive_conformal_intervals(y_cal, p_cal, y_test, p_test, alpha=0.1, gamma=0.0, window=len(y_cal))
    assert np.ptp(ours["upper"] - p_test) > 0                               # the scores really rolled
    np.testing.assert_allclose(ours["lower"], lower, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours["upper"], upper, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------------- ACI by hand
def test_aci_update_step_by_hand():
    assert E.aci_update(0.1, 0.1, 0.05, missed=True) == pytest.approx(0.1 - 0.05 * 0.9)     # 0.055: wider
    assert E.aci_update(0.1, 0.1, 0.05, missed=False) == pytest.approx(0.1 + 0.05 * 0.1)    # 0.105: narrower
    assert E.aci_update(0.02, 0.1, 0.05, missed=True) == pytest.approx(-0.025)              # not clipped
    assert E.aci_update(0.3, 0.1, 0.0, missed=True) == 0.3                                  # gamma 0: frozen


def test_aci_three_steps_by_hand():
    # calibration scores 1..9 (n = 9), alpha = 0.2, gamma = 0.1
    # t=1: alpha_t 0.2,  k = ceil(10 * 0.8)  = 8 -> q = 8; y = 10 is missed -> alpha 0.2 + 0.1 (0.2 - 1) = 0.12
    # t=2: alpha_t 0.12, k = ceil(10 * 0.88) = 9 -> q = 9; y = 5 is covered -> 0.12 + 0.1 * 0.2 = 0.14
    # t=3: alpha_t 0.14, k = ceil(10 * 0.86) = 9 -> q = 9; y = -9.5 is missed
    cal = np.arange(1.0, 10.0)
    table = E.adaptive_conformal_intervals(cal, np.zeros(9), [10.0, 5.0, -9.5], np.zeros(3), alpha=0.2, gamma=0.1)
    np.testing.assert_allclose(table["upper"], [8, 9, 9])
    np.testing.assert_allclose(table["lower"], [-8, -9, -9])
    np.testing.assert_allclose(table["alpha_t"], [0.2, 0.12, 0.14])
    assert table["missed"].tolist() == [True, False, True]
    # with a rolling window of 9 scores: after t=1 the scores are 2..10, after t=2 they are 3..10 and 5
    # t=2: 9th smallest of 2..10 = 10; t=3: 9th smallest of {3,4,5,5,6,7,8,9,10} = 10
    rolling = E.adaptive_conformal_intervals(cal, np.zeros(9), [10.0, 5.0, -9.5], np.zeros(3), alpha=0.2,
                                             gamma=0.1, window=9)
    np.testing.assert_allclose(rolling["upper"], [8, 10, 10])


def test_adaptive_quantile_outside_the_unit_interval():
    scores = np.arange(1.0, 10.0)
    assert E.adaptive_quantile(scores, 0.0) == math.inf          # k = 10 > n: the whole line
    assert E.adaptive_quantile(scores, -0.3) == math.inf
    assert E.adaptive_quantile(scores, 1.0) == 0.0               # k = 0: the point forecast only
    assert E.adaptive_quantile(scores, 0.5) == 5.0               # k = 5


def test_aci_miss_rate_obeys_the_gibbs_candes_bound_where_split_conformal_fails():
    """|miss rate - alpha| <= (max(alpha_1, 1 - alpha_1) + gamma) / (gamma T) for ANY sequence (their Prop. 4.1)."""
    rng = np.random.default_rng(5)
    n_cal, T, alpha, gamma = 200, 1500, 0.1, 0.05
    sigma = np.r_[np.ones(n_cal), np.ones(T // 3), 4 * np.ones(T // 3), 0.5 * np.ones(T - 2 * (T // 3))]
    y = sigma * rng.normal(size=n_cal + T)
    table = E.adaptive_conformal_intervals(y[:n_cal], np.zeros(n_cal), y[n_cal:], np.zeros(T), alpha, gamma)
    bound = (max(alpha, 1 - alpha) + gamma) / (gamma * T)
    assert abs(table["missed"].mean() - alpha) <= bound
    lower, upper = E.split_conformal_interval(y[:n_cal], np.zeros(n_cal), np.zeros(T), alpha)
    assert abs((1 - coverage(y[n_cal:], lower, upper)) - alpha) > 5 * bound


# ----------------------------------------------------------------------------- coverage guarantees
@pytest.mark.parametrize("n_cal, alpha", [(15, 0.1), (19, 0.1), (39, 0.2)])
def test_split_conformal_covers_k_over_n_plus_1_on_exchangeable_data(n_cal, alpha):
    """With continuous exchangeable scores P(cover) = k / (n+1) exactly; 4000 independent trials, one test point
    each, so the count is binomial. 15 scores at alpha 0.1: k = 15, 0.9375 (the mistake k = 14 gives 0.875)."""
    rng = np.random.default_rng(n_cal)
    trials = 4000
    truth = rng.standard_t(3, size=(trials, n_cal + 1)) + 2.0          # i.i.d.: exchangeable, fat-tailed
    forecast = np.full(n_cal, 2.0)
    covered = np.empty(trials, dtype=bool)
    for i in range(trials):
        lower, upper = E.split_conformal_interval(truth[i, :n_cal], forecast, [2.0], alpha)
        covered[i] = lower[0] <= truth[i, -1] <= upper[0]
    expected = math.ceil((n_cal + 1) * (1 - alpha) - 1e-9) / (n_cal + 1)
    tolerance = 3.5 * math.sqrt(expected * (1 - expected) / trials)
    assert abs(covered.mean() - expected) < tolerance
    assert covered.mean() > 1 - alpha - tolerance


def test_split_conformal_on_a_long_exchangeable_series_is_within_binomial_error():
    rng = np.random.default_rng(11)
    series = 0.5 + rng.normal(size=6000)
    forecast = np.full(6000, series[:1000].mean())                      # a forecaster fitted on the first rows
    lower, upper = E.split_conformal_interval(series[1000:2000], forecast[1000:2000], forecast[2000:], 0.1)
    # coverage given the calibration set is Beta(k, n + 1 - k): sd about sqrt(0.09 / 1000); plus the test binomial
    sd = math.sqrt(0.9 * 0.1 / 1000 + 0.9 * 0.1 / 4000)
    assert abs(coverage(series[2000:], lower, upper) - 0.9) < 3 * sd


def test_volatility_scaling_equalises_coverage_across_terciles():
    rng = np.random.default_rng(2)
    sigma = np.exp(rng.normal(scale=0.6, size=5000))                    # a known volatility, calm to stormy
    y = sigma * rng.normal(size=5000)                                   # (sigma, y) pairs are exchangeable
    zero = np.zeros(5000)
    cal, test = slice(0, 1500), slice(1500, None)
    terciles = E.volatility_terciles(sigma[test])
    plain = E.split_conformal_interval(y[cal], zero[cal], zero[test], 0.1)
    scaled = E.split_conformal_interval(y[cal], zero[cal], zero[test], 0.1, sigma[cal], sigma[test])
    table = E.coverage_table(y[test], {"plain": plain, "scaled": scaled}, terciles)
    assert abs(table.loc["plain", "all"] - 0.9) < 0.02                 # right on average ...
    assert table.loc["plain", "calm"] - table.loc["plain", "stormy"] > 0.15   # ... wrong in both regimes
    assert (table.loc["scaled", list(E.TERCILES)] - 0.9).abs().max() < 0.03


# ----------------------------------------------------------------------------- coverage by group
def test_coverage_by_group_by_hand():
    truth = np.array([0.0, 2.0, 0.0, 5.0, 0.0, 0.0])
    lower, upper = -np.ones(6), np.array([1.0, 1.0, 1.0, 1.0, 3.0, 3.0])
    groups = np.array(["a", "a", "b", "b", "c", "c"])
    table = E.coverage_by_group(truth, lower, upper, groups, alpha=0.5)
    assert table.index.tolist() == ["a", "b", "c", "all"]
    assert table["n"].tolist() == [2, 2, 2, 6]
    np.testing.assert_allclose(table["coverage"], [0.5, 0.5, 1.0, 4 / 6])
    np.testing.assert_allclose(table["mean_width"], [2, 2, 4, 8 / 3])
    # group b: widths 2 + 2, one miss 4 above: (4 + 4 * 4) / 2
    assert table.loc["b", "interval_score"] == pytest.approx(10.0)


def test_volatility_terciles_split_into_thirds_in_order():
    labels = E.volatility_terciles(np.r_[np.arange(9.0)])
    assert labels.tolist() == ["calm"] * 3 + ["middle"] * 3 + ["stormy"] * 3


def test_volatility_terciles_agree_with_pandas_qcut_on_their_own_values():
    values = np.random.default_rng(3).lognormal(size=301)
    expected = pd.qcut(values, 3, labels=["calm", "middle", "stormy"]).astype(str)
    assert E.volatility_terciles(values).tolist() == list(expected)


def test_cut_points_from_a_reference_period_label_later_values_by_them():
    rng = np.random.default_rng(4)
    reference, later = rng.lognormal(size=200), rng.lognormal(mean=0.5, size=150)   # a stormier later period
    cuts = E.tercile_cut_points(reference)
    np.testing.assert_allclose(cuts, np.quantile(reference, [1 / 3, 2 / 3]))
    expected = pd.cut(later, [-np.inf, *cuts, np.inf], labels=["calm", "middle", "stormy"]).astype(str)
    labels = E.volatility_terciles(later, reference=reference)
    assert labels.tolist() == list(expected)
    assert (labels == "stormy").mean() > 0.45           # uneven groups: the later period is stormier
    assert E.volatility_terciles([1.0, 5.0, 9.0], reference=np.arange(1.0, 10.0)).tolist() == \
        ["calm", "middle", "stormy"]                    # cut points 11/3 and 19/3; a single later value works too
    assert E.volatility_terciles([3.0], reference=np.arange(1.0, 10.0)).tolist() == ["calm"]


def test_after_shocks_marks_the_weeks_from_each_shock():
    dates = pd.bdate_range("2015-08-01", "2016-03-31")
    mask = E.after_shocks(dates, ["2015-08-24", "2016-01-04"], weeks=2)
    marked = dates[mask]
    assert marked[0] == pd.Timestamp("2015-08-24") and pd.Timestamp("2015-09-04") in marked
    assert pd.Timestamp("2015-09-07") not in marked and pd.Timestamp("2015-08-21") not in marked
    assert mask.sum() == 20                                           # two weeks of business days, twice


# ----------------------------------------------------------------------------- bad input
_Y, _P = np.arange(1.0, 21.0), np.zeros(20)


@pytest.mark.parametrize("call, message", [
    (lambda: E.conformal_quantile(_Y, 0.0), "alpha must be strictly between 0 and 1"),
    (lambda: E.conformal_quantile(_Y, 1.0), "alpha must be strictly between 0 and 1"),
    (lambda: E.conformal_quantile(_Y, -0.1), "alpha must be strictly between 0 and 1"),
    (lambda: E.conformal_quantile(_Y, 10), "alpha must be strictly between 0 and 1"),
    (lambda: E.split_conformal_interval(_Y, _P, [0.0], 1.5), "alpha must be strictly between 0 and 1"),
    (lambda: E.conformal_quantile(_Y[:8], 0.1), "too small for alpha = 0.1: with n = 8"),
    (lambda: E.split_conformal_interval(_Y[:18], _P[:18], [0.0], 0.05), "at least 19 scores"),
    (lambda: E.split_conformal_interval(_Y, _P[:19], [0.0], 0.1), "y_true has 20, y_pred has 19"),
    (lambda: E.split_conformal_interval(np.r_[np.nan, _Y[1:]], _P, [0.0], 0.1), "y_true has 1 NaN"),
    (lambda: E.split_conformal_interval(_Y, _P, [np.nan], 0.1), "pred_test has 1 NaN"),
    (lambda: E.split_conformal_interval(_Y, _P, [0.0], 0.1, scale_cal=np.ones(20)), "both scale_cal and scale_test"),
    (lambda: E.split_conformal_interval(_Y, _P, [0.0], 0.1, np.zeros(20), [1.0]), "scale must be positive"),
    (lambda: E.split_conformal_interval(_Y, _P, [0.0, 1.0], 0.1, np.ones(20), [1.0]),
     "pred_test has 2, scale_test has 1"),
    (lambda: E.adaptive_conformal_intervals(_Y, _P, [1.0], [0.0], 0.1, gamma=-0.1), "gamma"),
    (lambda: E.adaptive_conformal_intervals(_Y, _P, [1.0], [0.0], 0.0), "alpha must be strictly between 0 and 1"),
    (lambda: E.adaptive_conformal_intervals(_Y, _P, [1.0, 2.0], [0.0], 0.1), "y_test has 2, pred_test has 1"),
    (lambda: E.adaptive_conformal_intervals(_Y, _P, [1.0], [0.0], 0.1, window=0), "window must be a positive"),
    (lambda: E.coverage_by_group(_Y, _P, _Y, ["a"] * 19), "one value per point"),
    (lambda: E.after_shocks(pd.bdate_range("2015-01-01", periods=5), []), "shock_dates is empty"),
    (lambda: E.volatility_terciles([1.0, np.nan, 2.0]), "volatility has 1 NaN"),
    (lambda: E.volatility_terciles([1.0, 2.0], reference=[1.0, np.nan, 2.0, 3.0]), "reference has 1 NaN"),
    (lambda: E.volatility_terciles([1.0, 2.0], reference=[1.0, 2.0]), "reference needs at least 3"),
    (lambda: E.tercile_cut_points([2.0, 2.0, 2.0, 2.0, 5.0]), "no middle tercile"),
    (lambda: E.volatility_terciles([1.0, np.nan], reference=[1.0, 2.0, 3.0]), "volatility has 1 NaN"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()

"""course_lib.differencing: the post's worked example, identities (hypothesis), NumPy/pandas agreement, bad input."""
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib import differencing as dif

POST_X = [9.0, 10.0, 4.0, 9.0]  # np.random.seed(3); np.random.randint(1, 11, 4) in the differencing post
finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
prices_strategy = arrays(np.float64, st.integers(2, 50), elements=st.floats(0.01, 1e4))


# ----------------------------------------------------------------------------- the post's worked example
def test_the_posts_example_reproduces():
    np.random.seed(3)
    assert np.random.randint(1, 11, 4).tolist() == POST_X


def test_the_posts_first_and_second_differences():
    x = np.array(POST_X)
    assert dif.difference(x).tolist() == [1.0, -6.0, 5.0]        # the post's formula says 9 - 4 = 6; it is 5
    assert dif.difference(x, order=2).tolist() == [-7.0, 11.0]


def test_the_posts_inverse_differences():
    x = pd.Series(POST_X)
    first, second = dif.difference(x), dif.difference(x, order=2)
    assert dif.inverse_difference(first, x.iloc[:1]).tolist() == [10.0, 4.0, 9.0]
    assert dif.inverse_difference(second, x.iloc[:2], order=2).tolist() == [4.0, 9.0]


def test_second_order_inverse_is_the_posts_formula():
    """x_h = d2_h + 2 x_(h-1) - x_(h-2), applied step by step as in the post's inverse_diff_2nd."""
    gen = np.random.default_rng(0)
    x = gen.normal(size=30).cumsum().cumsum()
    d2 = dif.difference(x, order=2)
    previous2, previous1, rebuilt = x[0], x[1], []
    for d in d2:
        value = d + 2 * previous1 - previous2
        rebuilt.append(value)
        previous2, previous1 = previous1, value
    np.testing.assert_allclose(dif.inverse_difference(d2, x[:2], order=2), rebuilt, rtol=1e-12)


# ----------------------------------------------------------------------------- identities
@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3), st.integers(1, 7), st.data())
def test_inverse_of_difference_is_the_identity_on_arrays(order, lag, data):
    x = data.draw(arrays(np.float64, st.integers(order * lag + 1, order * lag + 40), elements=finite))
    k = order * lag
    rebuilt = dif.inverse_difference(dif.difference(x, order, lag), x[:k], order, lag)
    np.testing.assert_allclose(rebuilt, x[k:], rtol=1e-9, atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 3), st.integers(1, 7), st.data())
def test_inverse_of_difference_is_the_identity_on_series(order, lag, data):
    values = data.draw(arrays(np.float64, st.integers(order * lag + 1, order * lag + 30), elements=finite))
    x = pd.Series(values, index=pd.bdate_range("2020-01-01", periods=len(values)))
    k = order * lag
    d = dif.difference(x, order, lag)
    assert d.index.equals(x.index[k:])
    rebuilt = dif.inverse_difference(d, x.iloc[:k], order, lag)
    assert isinstance(rebuilt, pd.Series) and rebuilt.index.equals(x.index[k:])
    np.testing.assert_allclose(rebuilt.to_numpy(), values[k:], rtol=1e-9, atol=1e-6)


def test_inverse_uses_the_last_values_of_a_longer_history():
    x = np.arange(20.0) ** 2
    d = dif.difference(x, order=2)
    np.testing.assert_allclose(dif.inverse_difference(d[8:], x[:10], order=2), x[10:])


@settings(max_examples=60, deadline=None)
@given(prices_strategy)
def test_prices_from_returns_inverts_returns(prices):
    for kind, to_returns in (("log", dif.log_returns), ("simple", dif.simple_returns)):
        np.testing.assert_allclose(dif.prices_from_returns(to_returns(prices), prices[0], kind), prices[1:], rtol=1e-9)
    np.testing.assert_allclose(dif.prices_from_returns(dif.difference(prices), prices[0], "difference"),
                               prices[1:], rtol=1e-9, atol=1e-7)


# ----------------------------------------------------------------------------- agreement with NumPy and pandas
@pytest.mark.parametrize("order", [1, 2, 3])
def test_matches_numpy_diff(order):
    x = np.random.default_rng(order).normal(size=40)
    np.testing.assert_allclose(dif.difference(x, order), np.diff(x, n=order), rtol=1e-12)


@pytest.mark.parametrize("order, lag", [(1, 1), (1, 5), (2, 1), (2, 5), (3, 2)])
def test_matches_repeated_pandas_diff(sp500, order, lag):
    close = sp500["Close"]
    expected = close
    for _ in range(order):
        expected = expected.diff(lag)
    pd.testing.assert_series_equal(dif.difference(close, order, lag), expected.iloc[order * lag:],
                                   check_names=False, rtol=1e-12)


def test_log_returns_of_a_series_keep_dates(sp500):
    close = sp500["Close"]
    r = dif.log_returns(close)
    pd.testing.assert_series_equal(r, np.log(close).diff().iloc[1:], check_names=False, rtol=1e-13)
    assert r.index[0] == close.index[1]


@settings(max_examples=50, deadline=None)
@given(prices_strategy)
def test_returns_of_arrays_match_numpy(prices):
    np.testing.assert_allclose(dif.log_returns(prices), np.diff(np.log(prices)), rtol=1e-12)
    np.testing.assert_allclose(dif.simple_returns(prices), prices[1:] / prices[:-1] - 1, rtol=1e-12)
    np.testing.assert_allclose(dif.log_returns(prices), np.log1p(dif.simple_returns(prices)), rtol=1e-9, atol=1e-12)


def test_functions_do_not_modify_their_input():
    prices = pd.Series([1.0, 2.0, 4.0])
    dif.log_returns(prices)
    dif.difference(prices)
    dif.inverse_difference(prices, [1.0])
    assert prices.tolist() == [1.0, 2.0, 4.0]


# ----------------------------------------------------------------------------- reconstructing forecasts
def test_one_step_prices_are_anchored_on_the_actual_previous_price():
    previous = np.array([100.0, 110.0, 90.0])
    forecast = np.array([0.01, -0.02, 0.0])
    np.testing.assert_allclose(dif.one_step_prices(forecast, previous), previous * np.exp(forecast))
    np.testing.assert_allclose(dif.one_step_prices(forecast, previous, "simple"), previous * (1 + forecast))
    np.testing.assert_allclose(dif.one_step_prices(forecast, previous, "difference"), previous + forecast)


def test_recursive_prices_compound_the_forecasts():
    forecast = np.array([0.1, 0.1, -0.2])
    np.testing.assert_allclose(dif.recursive_prices(forecast, 50.0), 50.0 * np.exp([0.1, 0.2, 0.0]))
    np.testing.assert_allclose(dif.recursive_prices(forecast, 50.0, "simple"), [55.0, 60.5, 48.4])


def test_perfect_forecasts_rebuild_the_actual_path_both_ways(sp500):
    close = sp500["Close"].iloc[:300]
    r = dif.log_returns(close)
    np.testing.assert_allclose(dif.one_step_prices(r, close.iloc[:-1]), close.iloc[1:], rtol=1e-12)
    np.testing.assert_allclose(dif.recursive_prices(r, close.iloc[0]), close.iloc[1:], rtol=1e-10)


@pytest.fixture(scope="module")
def returns(sp500):
    return np.diff(np.log(sp500["Close"].to_numpy()))


def _autoreg(values, p):
    from statsmodels.tsa.ar_model import AutoReg
    return AutoReg(values, lags=p, trend="c")


@pytest.mark.parametrize("p", [1, 3])
def test_recursive_ar_forecasts_match_statsmodels_dynamic_prediction(returns, p):
    """Row k equals AutoReg's dynamic forecast from origin k; the last origin forecasts past the data."""
    params = _autoreg(returns[:3000], p).fit().params
    origins = [p - 1, 3000, 4200, len(returns) - 1]
    paths = dif.recursive_ar_forecasts(returns, params[0], params[1:], origins, horizon=20)
    assert paths.shape == (4, 20)
    model = _autoreg(returns, p)
    for row, t in zip(paths, origins):
        expected = model.predict(params, start=max(t + 1, p), end=t + 20, dynamic=True)
        np.testing.assert_allclose(row[-len(expected):], expected, rtol=1e-10, atol=1e-15)


def test_first_column_is_the_one_step_forecast_from_actual_values(returns):
    params = _autoreg(returns[:3000], 2).fit().params
    origins = np.arange(2999, len(returns) - 1)
    one_step = dif.recursive_ar_forecasts(returns, params[0], params[1:], origins, horizon=1)[:, 0]
    expected = _autoreg(returns, 2).predict(params, start=3000, end=len(returns) - 1)   # dynamic=False: actual lags
    np.testing.assert_allclose(one_step, expected, rtol=1e-10, atol=1e-15)
    by_hand = params[0] + params[1] * returns[origins] + params[2] * returns[origins - 1]
    np.testing.assert_allclose(one_step, by_hand, rtol=1e-12, atol=1e-16)


def test_compounded_one_step_forecasts_are_not_a_recursive_forecast(returns):
    """The old mistake: one-step forecasts made with actual lagged returns, compounded from one origin."""
    c, phi = 0.0003, np.array([-0.3, 0.2])
    t, horizon = 3000, 10
    recursive = dif.recursive_ar_forecasts(returns, c, phi, [t], horizon)[0]
    mixed = dif.recursive_ar_forecasts(returns, c, phi, np.arange(t, t + horizon), 1)[:, 0]
    assert recursive[0] == pytest.approx(mixed[0])
    assert np.min(np.abs(recursive[1:] - mixed[1:])) > 1e-5
    # by hand: x^(t+2|t) = c + phi_1 x^(t+1|t) + phi_2 x_t, not c + phi_1 x_(t+1) + phi_2 x_t
    assert recursive[1] == pytest.approx(c + phi[0] * recursive[0] + phi[1] * returns[t], rel=1e-12)


def test_recursive_forecasts_use_nothing_after_the_origin(returns):
    c, phi = 0.0001, np.array([-0.08, -0.05, 0.02])
    changed = returns.copy()
    changed[3001:] += 0.05
    before = dif.recursive_ar_forecasts(returns, c, phi, [2500, 3000], 15)
    np.testing.assert_array_equal(dif.recursive_ar_forecasts(changed, c, phi, [2500, 3000], 15), before)


def test_forecast_price_paths_anchor_each_row_on_its_origin_price():
    paths = np.array([[0.01, 0.02, -0.03], [0.0, -0.1, 0.1]])
    start = np.array([100.0, 50.0])
    expected_log = [[100 * math.exp(0.01), 100 * math.exp(0.03), 100 * math.exp(0.0)],
                    [50.0, 50 * math.exp(-0.1), 50.0]]
    np.testing.assert_allclose(dif.forecast_price_paths(paths, start), expected_log, rtol=1e-12)
    np.testing.assert_allclose(dif.forecast_price_paths(paths, start, "simple"),
                               [[101.0, 103.02, 99.9294], [50.0, 45.0, 49.5]], rtol=1e-12)
    np.testing.assert_allclose(dif.forecast_price_paths(paths, start, "difference"),
                               [[100.01, 100.03, 100.0], [50.0, 49.9, 50.0]], rtol=1e-12)
    for k, (row, anchor) in enumerate(zip(paths, start)):
        np.testing.assert_allclose(dif.forecast_price_paths(paths, start)[k], dif.recursive_prices(row, anchor),
                                   rtol=1e-12)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, message", [
    (lambda: dif.difference([1.0, 2.0], order=2), "at least 3"),
    (lambda: dif.difference([1.0, 2.0, 3.0], lag=3), "at least 4"),
    (lambda: dif.difference([1.0, 2.0, 3.0], order=0), "order must be a positive integer"),
    (lambda: dif.difference([1.0, 2.0, 3.0], lag=1.5), "lag must be a positive integer"),
    (lambda: dif.difference([1.0, np.nan, 3.0]), "NaN"),
    (lambda: dif.difference(np.ones((3, 2))), "1-D"),
    (lambda: dif.inverse_difference([1.0], [1.0], order=2), "history needs at least 2"),
    (lambda: dif.inverse_difference([np.nan], [1.0]), "diffs has 1 NaN"),
    (lambda: dif.log_returns([1.0, 0.0, 2.0]), "positive.*position 1"),
    (lambda: dif.simple_returns([1.0, -3.0]), "positive"),
    (lambda: dif.log_returns([1.0]), "at least 2"),
    (lambda: dif.prices_from_returns([0.1], 0.0), "start_price must be positive"),
    (lambda: dif.prices_from_returns([0.1], np.nan, "difference"), "finite"),
    (lambda: dif.prices_from_returns([-1.5], 10.0, "simple"), "non-positive"),
    (lambda: dif.prices_from_returns([0.1], 10.0, "percent"), "kind must be one of"),
    (lambda: dif.one_step_prices([0.1, 0.2], [10.0]), "one price per forecast"),
    (lambda: dif.one_step_prices([0.1], [-10.0]), "positive"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), 0.0, [0.5, 0.1], [0], 3), "origin 0 is outside \\[1, 9\\]"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), 0.0, [0.5], [10], 3), "origin 10 is outside"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), 0.0, [0.5], [2.0], 3), "integer positions"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), 0.0, [0.5], [], 3), "non-empty"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), 0.0, [], [5], 3), "coefs needs at least 1"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), 0.0, [0.5], [5], 0), "horizon must be a positive integer"),
    (lambda: dif.recursive_ar_forecasts(np.ones(10), np.nan, [0.5], [5], 2), "intercept must be a finite"),
    (lambda: dif.recursive_ar_forecasts(np.r_[np.ones(9), np.nan], 0.0, [0.5], [5], 2), "series has 1 NaN"),
    (lambda: dif.forecast_price_paths(np.ones(3), [1.0]), "2-D"),
    (lambda: dif.forecast_price_paths(np.ones((2, 3)), [1.0]), "one price per origin"),
    (lambda: dif.forecast_price_paths(np.ones((1, 3)), [0.0]), "origin_prices must be positive"),
    (lambda: dif.forecast_price_paths([[0.1, np.nan]], [1.0]), "NaN, first at \\(origin, step\\) \\(0, 1\\)"),
    (lambda: dif.forecast_price_paths([[0.1, -1.5]], [1.0], "simple"), "non-positive"),
])
def test_bad_input_is_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()

"""course_lib.differencing: returns against NumPy/pandas and bad input."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course_lib import differencing

prices_strategy = arrays(np.float64, st.integers(2, 50), elements=st.floats(0.01, 1e4))


def test_log_returns_of_a_series_keep_dates(sp500):
    close = sp500["Close"]
    r = differencing.log_returns(close)
    expected = np.log(close).diff().iloc[1:]
    pd.testing.assert_series_equal(r, expected, check_names=False, rtol=1e-13)
    assert r.index[0] == close.index[1]


@settings(max_examples=50, deadline=None)
@given(prices_strategy)
def test_returns_of_arrays_match_numpy(prices):
    np.testing.assert_allclose(differencing.log_returns(prices), np.diff(np.log(prices)), rtol=1e-12)
    np.testing.assert_allclose(differencing.simple_returns(prices), prices[1:] / prices[:-1] - 1, rtol=1e-12)
    # the two are linked by r = ln(1 + R)
    np.testing.assert_allclose(differencing.log_returns(prices), np.log1p(differencing.simple_returns(prices)),
                               rtol=1e-9, atol=1e-12)


def test_returns_do_not_modify_the_input():
    prices = pd.Series([1.0, 2.0, 4.0])
    differencing.log_returns(prices)
    assert prices.tolist() == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("prices, message", [
    ([1.0, 0.0, 2.0], "positive.*position 1"),
    ([1.0, -3.0], "positive"),
    ([1.0, np.nan, 2.0], "NaN"),
    ([1.0], "at least 2"),
])
@pytest.mark.parametrize("function", [differencing.log_returns, differencing.simple_returns])
def test_bad_prices_are_refused(function, prices, message):
    with pytest.raises(ValueError, match=message):
        function(prices)

"""Chapter 09's backtest: the next-bar rule, costs, turnover and the performance measures on hand-sized examples."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from course_lib.differencing import simple_returns
from course_lib.evaluation.diagnostics import lookahead_origins
from course_lib.streaming import trading
from course_lib.streaming.trading import LookaheadError, backtest

RETURNS = [0.01, -0.02, 0.03, 0.01]
SIGNALS = [1, -1, 1, 0]


def test_position_is_applied_from_the_next_bar():
    """Signals 1, -1, 1, 0 made at the closes of bars 0..3 are held over bars 1..4: positions 0, 1, -1, 1."""
    ledger = backtest(RETURNS, SIGNALS)
    assert ledger["position"].tolist() == [0, 1, -1, 1]
    np.testing.assert_allclose(ledger["gross"], [0, -0.02, -0.03, 0.01])
    np.testing.assert_allclose(ledger["equity"], np.cumprod([1, 0.98, 0.97, 1.01]))
    assert backtest(RETURNS, SIGNALS, delay=2)["position"].tolist() == [0, 0, 1, -1]


def test_same_bar_position_is_refused():
    with pytest.raises(LookaheadError, match="delay"):
        backtest(RETURNS, SIGNALS, delay=0)


def momentum_signal(prices: np.ndarray) -> np.ndarray:
    """s for bar j + 1 (returns index j): tanh(that bar's own log return / 2 %), in (-1, 1); known at its close."""
    return np.tanh(np.diff(np.log(prices)) / 0.02)


def test_a_same_bar_ledger_is_caught_by_the_causality_probe():
    """Rewrite every price after bar o: the position held over the bar that ends at P_(o+1) must not move.
    The library's next-bar position does not; a same-bar position (p_t = s_t) does, at every origin."""
    prices = 100 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, 80)))
    origins = list(range(5, 75, 7))

    def next_bar_positions(p):
        return backtest(simple_returns(p), momentum_signal(p))["position"].to_numpy()[origins]

    def same_bar_positions(p):
        return momentum_signal(p)[origins]

    assert lookahead_origins(next_bar_positions, prices, origins) == []
    assert lookahead_origins(same_bar_positions, prices, origins) == origins
    # and the same-bar ledger looks far better than it could be: it always holds the side of the move it earns
    r = simple_returns(prices)
    same_bar = np.sign(r) * r
    assert same_bar.sum() == pytest.approx(np.abs(r).sum()) and same_bar.sum() > 3 * backtest(r, np.sign(r))["net"].sum()


def test_costs_slippage_and_turnover_by_hand():
    """Positions 0, 1, -1, 1: turnover 0, 1, 2, 2; at 10 bp cost + 5 bp slippage, costs 0, 0.0015, 0.003, 0.003."""
    ledger = backtest(RETURNS, SIGNALS, cost=0.001, slippage=0.0005)
    np.testing.assert_allclose(ledger["turnover"], [0, 1, 2, 2])
    np.testing.assert_allclose(ledger["costs"], [0, 0.0015, 0.003, 0.003])
    np.testing.assert_allclose(ledger["net"], [0, -0.0215, -0.033, 0.007])
    assert trading.turnover_per_year(ledger["turnover"]) == pytest.approx(252 * 5 / 4)


def test_buy_and_hold_pays_one_entry_cost():
    ledger = trading.buy_and_hold(pd.Series(RETURNS, index=pd.bdate_range("2020-01-01", periods=4)), cost=0.001)
    np.testing.assert_allclose(ledger["net"], [0.009, -0.02, 0.03, 0.01])
    assert ledger["turnover"].sum() == 1 and isinstance(ledger.index, pd.DatetimeIndex)


def test_signals_from_forecasts():
    forecasts = [0.002, -0.0005, -0.003, 0.0]
    assert trading.signals_from_forecasts(forecasts).tolist() == [1, -1, -1, 0]
    assert trading.signals_from_forecasts(forecasts, threshold=0.001).tolist() == [1, 0, -1, 0]
    assert trading.signals_from_forecasts(forecasts, long_only=True).tolist() == [1, 0, 0, 0]
    series = trading.signals_from_forecasts(pd.Series(forecasts, index=list("abcd")))
    assert list(series.index) == list("abcd")


def test_sharpe_by_hand():
    """0.01, 0.02, -0.01, 0: mean 0.005, sample variance (0.005^2 + 0.015^2 + 0.015^2 + 0.005^2) / 3 = 0.0005 / 3."""
    r = [0.01, 0.02, -0.01, 0.0]
    assert trading.sharpe_ratio(r) == pytest.approx(math.sqrt(252) * 0.005 / math.sqrt(0.0005 / 3))
    assert trading.sharpe_ratio(r, risk_free=0.005) == pytest.approx(0.0, abs=1e-12)
    assert trading.sharpe_ratio(r, periods_per_year=12) == pytest.approx(math.sqrt(12) * 0.005 / math.sqrt(0.0005 / 3))
    assert math.isnan(trading.sharpe_ratio([0.01, 0.01, 0.01]))


def test_sortino_by_hand():
    """Downside deviation over all 4 bars: sqrt((0 + 0 + 0.01^2 + 0) / 4) = 0.005, so Sortino = sqrt(252) * 0.005 / 0.005."""
    r = [0.01, 0.02, -0.01, 0.0]
    assert trading.sortino_ratio(r) == pytest.approx(math.sqrt(252))
    assert trading.sortino_ratio(r, target=0.01) == pytest.approx(
        math.sqrt(252) * -0.005 / math.sqrt((0.02 ** 2 + 0.01 ** 2) / 4))       # excess 0, 0.01, -0.02, -0.01
    assert trading.sortino_ratio([0.01, 0.02]) == math.inf


def test_max_drawdown_by_hand():
    """Equity 1.1, 0.55, 0.66, 0.99: the peak 1.1 falls to 0.55, a 50 % drawdown; a first-bar loss counts from 1."""
    assert trading.max_drawdown([0.1, -0.5, 0.2, 0.5]) == pytest.approx(0.5)
    np.testing.assert_allclose(trading.drawdowns([0.1, -0.5, 0.2, 0.5]), [0, 0.5, 0.4, 0.1])
    assert trading.max_drawdown([-0.2, 0.1]) == pytest.approx(0.2)
    assert trading.max_drawdown([0.01, 0.02]) == 0.0


def test_performance_and_comparison_table():
    ledger = backtest(RETURNS, SIGNALS, cost=0.001)
    row = trading.performance(ledger["net"], ledger["turnover"])
    assert row["total_return"] == pytest.approx(np.prod(1 + ledger["net"]) - 1)
    assert row["max_drawdown"] == pytest.approx(trading.max_drawdown(ledger["net"]))
    table = trading.compare_strategies({"rule": ledger, "buy and hold": trading.buy_and_hold(RETURNS)})
    assert list(table.index) == ["rule", "buy and hold"] and "sharpe" in table.columns


def test_deflated_sharpe_reproduces_bailey_and_lopez_de_prado_2014():
    """Their example: N = 100 trials, annualised V[SR] = 1/2, best annualised SR 2.5, T = 1250 daily bars,
    skewness -3, kurtosis 10 -> SR_0 = 0.1132 per day and DSR = 0.9004."""
    per_day = 250
    assert trading.expected_max_sharpe(100, 0.5 / per_day) == pytest.approx(0.1132, abs=5e-5)
    dsr = trading.deflated_sharpe_ratio(2.5 / math.sqrt(per_day), 1250, 100, 0.5 / per_day, skewness=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=5e-5)


def test_deflated_sharpe_properties_and_from_returns():
    r = np.random.default_rng(0).normal(0.001, 0.01, 1000)
    sr = r.mean() / r.std(ddof=1)
    normal = stats.norm.cdf(sr * math.sqrt(999) / math.sqrt(1 + sr ** 2 / 2))     # skew 0, kurtosis 3, SR_0 = 0
    assert trading.deflated_sharpe_ratio(sr, 1000, 1, 0.0) == pytest.approx(normal)
    values = [trading.deflated_sharpe_ratio(sr, 1000, n, 0.001) for n in (2, 10, 100, 1000)]
    assert all(a > b for a, b in zip(values, values[1:]))                # more trials, less credit
    trials = [0.05, 0.08, 0.02, sr]
    expected = trading.deflated_sharpe_ratio(sr, 1000, 4, float(np.var(trials, ddof=1)), float(stats.skew(r)),
                                             float(stats.kurtosis(r, fisher=False)))
    assert trading.deflated_sharpe_from_returns(r, trials) == pytest.approx(expected)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="one signal per bar"):
        backtest(RETURNS, SIGNALS[:3])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        backtest(RETURNS, [2, 0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        backtest([0.01, np.nan], [1, 1])
    with pytest.raises(ValueError, match="cost"):
        backtest(RETURNS, SIGNALS, cost=-0.001)
    with pytest.raises(ValueError, match="n_trials"):
        trading.expected_max_sharpe(0, 0.1)

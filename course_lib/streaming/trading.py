"""From forecasts to trades: signals, a vectorised backtest with costs, and the performance measures that judge it.

Timing (the rule every test of this module checks). Bar $t$'s asset return $r_t = P_t / P_{t-1} - 1$ is earned
from the close of bar $t-1$ to the close of bar $t$. A signal $s_t \\in [-1, 1]$ is computed at the close of bar $t$
from what is known then, so the earliest return it can earn is the NEXT bar's: the position held over bar $t$ is
$p_t = s_{t-d}$ with delay $d \\ge 1$ ($p_t = 0$ for $t < d$). A same-bar position ($d = 0$) would earn $r_t$ with
a signal that already saw $P_t$: lookahead, refused with :class:`LookaheadError`.

Per bar, with a proportional cost $c$ and slippage $s$ (fractions of the traded value, 0.0005 = 5 bp)::

    turnover_t = |p_t - p_(t-1)|            (p_(-1) = 0: the first position is a trade)
    gross_t    = p_t r_t
    net_t      = gross_t - (c + s) turnover_t
    equity_t   = prod_(u<=t) (1 + net_u)

Measures (daily bars: $A = 252$ per year; $\\bar x$, $\\mathrm{sd}$ with ddof=1 over the $n$ bars):
Sharpe $= \\sqrt A\\,\\overline{r - r_f} / \\mathrm{sd}(r - r_f)$; Sortino $= \\sqrt A\\,\\overline{r - \\tau} / DD$ with the
downside deviation $DD = \\sqrt{\\frac1n \\sum \\min(r_i - \\tau, 0)^2}$ (Sortino & Price 1994); maximum drawdown
$= \\max_t (1 - E_t / \\max_{u \\le t} E_u)$ with $E_{-1} = 1$ (a fraction: 0.25 = a 25 % fall from a peak).

The deflated Sharpe ratio (Bailey & López de Prado 2014) asks whether the best of $N$ strategies tried is better
than the best that $N$ strategies without skill would show by luck. With per-bar (not annualised) Sharpe ratios::

    SR_0 = sqrt(V[SR]) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))     expected maximum of N null SRs
    DSR  = Phi( (SR - SR_0) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1) / 4 SR^2) )

$\\gamma \\approx 0.5772$ (Euler–Mascheroni), $V[SR]$ the variance of the $N$ trials' Sharpe ratios, $T$ bars,
$g_3$ the skewness and $g_4$ the (non-excess) kurtosis of the chosen strategy's returns. DSR is a probability: near
1, the Sharpe ratio survives the search; near 0.5 or below, it is what searching alone would produce.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from course_lib.validation import as_1d_float, positive_int

PERIODS_PER_YEAR = 252
EULER_GAMMA = 0.5772156649015329


class LookaheadError(ValueError):
    """A position would earn the return of the bar whose close produced its signal."""


def _series(values, name: str, index=None) -> pd.Series:
    array = as_1d_float(values, name)
    bad = ~np.isfinite(array)
    if bad.any():
        raise ValueError(f"{name} is infinite at position {int(np.flatnonzero(bad)[0])}")
    if index is None and isinstance(values, pd.Series):
        index = values.index
    return pd.Series(array, index=index, name=name)


# ----------------------------------------------------------------------------- signals and positions
def signals_from_forecasts(forecast_returns, threshold: float = 0.0, long_only: bool = False):
    """s_t = +1 if the forecast of the next return > threshold, -1 if < -threshold (0 when ``long_only``), else 0.

    ``forecast_returns[t]`` is the forecast, made at the close of bar t, of $r_{t+1}$ (for a price forecast
    $\\hat P_{t+1}$ pass $\\hat P_{t+1} / P_t - 1$). A Series keeps its index.
    """
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0, got {threshold}")
    forecast = _series(forecast_returns, "forecast_returns")
    signal = np.where(forecast > threshold, 1.0, np.where(forecast < -threshold, 0.0 if long_only else -1.0, 0.0))
    result = pd.Series(signal, index=forecast.index, name="signal")
    return result if isinstance(forecast_returns, pd.Series) else result.to_numpy()


def positions_from_signals(signals, delay: int = 1) -> np.ndarray:
    """p_t = s_(t - delay), 0 for the first ``delay`` bars. ``delay`` < 1 raises :class:`LookaheadError`."""
    if isinstance(delay, bool) or not isinstance(delay, (int, np.integer)) or delay < 1:
        raise LookaheadError(f"delay={delay!r}: a signal made at the close of bar t can first be traded for bar t+1 "
                             "(delay >= 1); delay 0 earns a return the signal already saw")
    signal = np.asarray(signals, dtype=float)
    return np.concatenate([np.zeros(min(delay, len(signal))), signal[:-delay]]) if len(signal) > delay \
        else np.zeros(len(signal))


def bar_pnl(position, previous_position, asset_return, cost_rate: float):
    """Net return of holding ``position`` over a bar: position * r - cost_rate * |position - previous_position|.

    Works on scalars (the RL environment's reward) and element-wise on arrays (the backtest).
    """
    return position * asset_return - cost_rate * np.abs(position - previous_position)


def _ledger(returns: pd.Series, signal: np.ndarray, position: np.ndarray, cost_rate: float) -> pd.DataFrame:
    """The per-bar table of a backtest from positions already placed in time."""
    r = returns.to_numpy()
    previous = np.concatenate([[0.0], position[:-1]])
    turnover = np.abs(position - previous)
    net = bar_pnl(position, previous, r, cost_rate)
    return pd.DataFrame({"asset_return": r, "signal": signal, "position": position, "turnover": turnover,
                         "gross": position * r, "costs": cost_rate * turnover, "net": net,
                         "equity": np.cumprod(1.0 + net)}, index=returns.index)


def _cost_rate(cost: float, slippage: float) -> float:
    if not (cost >= 0 and slippage >= 0):
        raise ValueError(f"cost and slippage must be >= 0, got {cost} and {slippage}")
    return cost + slippage


def backtest(asset_returns, signals, cost: float = 0.0, slippage: float = 0.0, delay: int = 1) -> pd.DataFrame:
    """Vectorised backtest of ``signals`` (module docstring): one row per bar with columns
    ``asset_return, signal, position, turnover, gross, costs, net, equity`` (index of ``asset_returns`` if a Series).

    ``asset_returns[t]`` = $r_t$, ``signals[t]`` = $s_t$ in [-1, 1] made at the close of bar t; ``cost`` and
    ``slippage`` are proportional rates per unit of turnover.
    """
    returns = _series(asset_returns, "asset_returns")
    signal = _series(signals, "signals").to_numpy()
    if len(signal) != len(returns):
        raise ValueError(f"asset_returns has {len(returns)} bars but signals has {len(signal)}: one signal per bar")
    outside = np.abs(signal) > 1
    if outside.any():
        raise ValueError(f"signals must lie in [-1, 1]; position {int(np.flatnonzero(outside)[0])} is "
                         f"{signal[outside][0]}")
    return _ledger(returns, signal, positions_from_signals(signal, delay), _cost_rate(cost, slippage))


def buy_and_hold(asset_returns, cost: float = 0.0, slippage: float = 0.0) -> pd.DataFrame:
    """Long 1 over every bar from the first: one entry trade (cost once), no forecast needed, so no lookahead."""
    returns = _series(asset_returns, "asset_returns")
    ones = np.ones(len(returns))
    return _ledger(returns, ones, ones, _cost_rate(cost, slippage))


# ----------------------------------------------------------------------------- measures
def _returns(returns, min_length: int = 2) -> np.ndarray:
    return as_1d_float(returns, "returns", min_length=min_length)


def sharpe_ratio(returns, risk_free: float = 0.0, periods_per_year: int = PERIODS_PER_YEAR) -> float:
    """Annualised Sharpe ratio sqrt(A) mean(r - rf) / sd(r - rf) (ddof=1); ``risk_free`` per bar. NaN if sd = 0."""
    excess = _returns(returns) - risk_free
    sd = excess.std(ddof=1)
    return float(math.sqrt(positive_int(periods_per_year, "periods_per_year")) * excess.mean() / sd) if sd > 0 \
        else math.nan


def sortino_ratio(returns, target: float = 0.0, periods_per_year: int = PERIODS_PER_YEAR) -> float:
    """Annualised Sortino ratio sqrt(A) mean(r - target) / sqrt(mean(min(r - target, 0)^2)); inf with no downside."""
    excess = _returns(returns) - target
    downside = math.sqrt(np.mean(np.minimum(excess, 0.0) ** 2))
    scale = math.sqrt(positive_int(periods_per_year, "periods_per_year"))
    if downside == 0:
        return math.inf if excess.mean() > 0 else math.nan
    return float(scale * excess.mean() / downside)


def drawdowns(returns) -> np.ndarray:
    """Drawdown after each bar, 1 - E_t / max(1, max_(u<=t) E_u), E_t = prod (1 + r): 0 at a new peak."""
    equity = np.cumprod(1.0 + _returns(returns, min_length=1))
    return 1.0 - equity / np.maximum.accumulate(np.maximum(equity, 1.0))


def max_drawdown(returns) -> float:
    """Largest fall from a running peak of the equity curve (starting at 1), as a fraction in [0, 1]."""
    return float(drawdowns(returns).max())


def turnover_per_year(turnover, periods_per_year: int = PERIODS_PER_YEAR) -> float:
    """Average traded fraction per year: A * mean(|p_t - p_(t-1)|) (2.0 = the whole book bought and sold once)."""
    return float(positive_int(periods_per_year, "periods_per_year") * _returns(turnover, 1).mean())


def performance(net_returns, turnover=None, periods_per_year: int = PERIODS_PER_YEAR) -> dict[str, float]:
    """Total and annualised return, annualised volatility, Sharpe, Sortino, max drawdown (and turnover per year)."""
    r = _returns(net_returns)
    total = float(np.prod(1.0 + r) - 1.0)
    growth = (1.0 + total) ** (periods_per_year / len(r)) - 1.0 if total > -1.0 else -1.0   # -1: wiped out
    row = {"total_return": total, "annual_return": float(growth),
           "annual_volatility": float(r.std(ddof=1) * math.sqrt(periods_per_year)),
           "sharpe": sharpe_ratio(r, periods_per_year=periods_per_year),
           "sortino": sortino_ratio(r, periods_per_year=periods_per_year), "max_drawdown": max_drawdown(r)}
    if turnover is not None:
        row["turnover_per_year"] = turnover_per_year(turnover, periods_per_year)
    return row


def compare_strategies(backtests: dict[str, pd.DataFrame], periods_per_year: int = PERIODS_PER_YEAR) -> pd.DataFrame:
    """One row of :func:`performance` per named backtest (e.g. the rule, the rule with costs, buy-and-hold)."""
    return pd.DataFrame({name: performance(frame["net"], frame["turnover"], periods_per_year)
                         for name, frame in backtests.items()}).T


# ----------------------------------------------------------------------------- deflated Sharpe ratio
def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """SR_0: the expected largest of ``n_trials`` Sharpe ratios with true value 0 and variance ``sharpe_variance``
    (per bar), by the Gumbel approximation in the module docstring. 0 for one trial."""
    n_trials = positive_int(n_trials, "n_trials")
    if sharpe_variance < 0:
        raise ValueError(f"sharpe_variance must be >= 0, got {sharpe_variance}")
    if n_trials == 1:
        return 0.0
    quantiles = (1 - EULER_GAMMA) * stats.norm.ppf(1 - 1 / n_trials) + \
        EULER_GAMMA * stats.norm.ppf(1 - 1 / (n_trials * math.e))
    return float(math.sqrt(sharpe_variance) * quantiles)


def probabilistic_sharpe_ratio(sharpe: float, n_observations: int, benchmark: float = 0.0, skewness: float = 0.0,
                               kurtosis: float = 3.0) -> float:
    """P(true SR > benchmark) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - g3 SR + (g4 - 1)/4 SR^2)); per-bar SRs,
    ``kurtosis`` non-excess (3 for normal returns)."""
    n_observations = positive_int(n_observations, "n_observations")
    if n_observations < 2:
        raise ValueError("need at least 2 observations")
    denominator = 1 - skewness * sharpe + (kurtosis - 1) / 4 * sharpe ** 2
    if denominator <= 0:
        raise ValueError(f"1 - g3 SR + (g4 - 1)/4 SR^2 = {denominator:.4g} <= 0: the moments are inconsistent")
    return float(stats.norm.cdf((sharpe - benchmark) * math.sqrt(n_observations - 1) / math.sqrt(denominator)))


def deflated_sharpe_ratio(sharpe: float, n_observations: int, n_trials: int, sharpe_variance: float,
                          skewness: float = 0.0, kurtosis: float = 3.0) -> float:
    """DSR: the probabilistic Sharpe ratio against SR_0 = :func:`expected_max_sharpe` (all per bar, not annualised)."""
    return probabilistic_sharpe_ratio(sharpe, n_observations, expected_max_sharpe(n_trials, sharpe_variance),
                                      skewness, kurtosis)


def deflated_sharpe_from_returns(returns, trial_sharpes) -> float:
    """DSR of the strategy with per-bar ``returns``, chosen among the trials whose per-bar Sharpe ratios are
    ``trial_sharpes`` (N = their count, V[SR] = their sample variance); skewness and kurtosis from ``returns``."""
    r = _returns(returns, min_length=3)
    trials = as_1d_float(trial_sharpes, "trial_sharpes", min_length=1)
    sd = r.std(ddof=1)
    if sd == 0:
        raise ValueError("returns are constant: the Sharpe ratio is undefined")
    variance = float(trials.var(ddof=1)) if len(trials) > 1 else 0.0
    return deflated_sharpe_ratio(r.mean() / sd, len(r), len(trials), variance,
                                 float(stats.skew(r)), float(stats.kurtosis(r, fisher=False)))

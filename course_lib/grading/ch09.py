"""Chapter 09 exercises: one Page-Hinkley update, maximum drawdown, the Sharpe ratio with costs, the next-bar
position rule, one streaming LSTM step that matches the batch model."""
from __future__ import annotations

import math

import numpy as np
import torch

from course_lib import data
from course_lib.grading.registry import Case, Exercise
from course_lib.streaming.trading import bar_pnl, max_drawdown, positions_from_signals, sharpe_ratio


# ----------------------------------------------------------------------------- references
def page_hinkley_update_reference(n, mean, cumulative, minimum, x, delta, threshold, min_instances):
    """One step of the one-sided (increase) Page-Hinkley test with alpha = 1 (course_lib.streaming.PageHinkley)."""
    n = n + 1
    mean = mean + (x - mean) / n
    cumulative = cumulative + x - mean - delta
    minimum = min(minimum, cumulative)
    alarm = bool(n >= min_instances and cumulative - minimum > threshold)
    return n, float(mean), float(cumulative), float(minimum), alarm


def max_drawdown_reference(returns):
    return max_drawdown(returns)


def sharpe_with_costs_reference(asset_returns, positions, cost_rate, periods_per_year):
    positions = np.asarray(positions, dtype=float)
    previous = np.concatenate([[0.0], positions[:-1]])
    return sharpe_ratio(bar_pnl(positions, previous, np.asarray(asset_returns, dtype=float), cost_rate),
                        periods_per_year=periods_per_year)


def next_bar_positions_reference(signals, delay):
    try:
        return positions_from_signals(signals, delay)
    except ValueError as error:                      # LookaheadError is a ValueError
        raise ValueError(str(error)) from None


def stream_step_reference(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, weight_head, bias_head):
    """torch.nn.LSTM (one step from the given state) and an nn.Linear head, float64."""
    hidden, n_features = weight_hh.shape[1], weight_ih.shape[1]
    lstm = torch.nn.LSTM(n_features, hidden, batch_first=True).double()
    head = torch.nn.Linear(hidden, len(bias_head)).double()
    with torch.no_grad():
        for name, value in (("weight_ih_l0", weight_ih), ("weight_hh_l0", weight_hh), ("bias_ih_l0", bias_ih),
                            ("bias_hh_l0", bias_hh)):
            getattr(lstm, name).copy_(torch.as_tensor(value, dtype=torch.float64))
        head.weight.copy_(torch.as_tensor(weight_head, dtype=torch.float64))
        head.bias.copy_(torch.as_tensor(bias_head, dtype=torch.float64))
        state = (torch.as_tensor(h, dtype=torch.float64).view(1, 1, -1), torch.as_tensor(c, dtype=torch.float64).view(1, 1, -1))
        out, (h_new, c_new) = lstm(torch.as_tensor(x, dtype=torch.float64).view(1, 1, -1), state)
        return head(out[0, -1]).numpy(), h_new.view(-1).numpy(), c_new.view(-1).numpy()


def _sp500_returns() -> np.ndarray:
    close = data.load_sp500()["Close"]
    return close.pct_change().loc["2015":"2018"].to_numpy()


# ----------------------------------------------------------------------------- 09.1 Page-Hinkley
def _page_hinkley_cases():
    return [
        Case("the first value of a stream", (0, 0.0, 0.0, 0.0, 0.02, 0.002, 0.05, 30),
             hint="n becomes 1 and the mean becomes x itself (the mean INCLUDES x), so U = 0 + x - mean - delta = -delta "
                  "= -0.002, the new minimum."),
        Case("a value above the mean", (10, 0.01, -0.015, -0.02, 0.032, 0.002, 0.05, 5),
             hint="Update the mean first, mean += (x - mean) / n with the NEW n (11): 0.012. Then U += x - mean - delta "
                  "(minus delta): -0.015 + 0.032 - 0.012 - 0.002 = 0.003."),
        Case("U - min U crosses the threshold", (40, 0.01, 0.02, -0.04, 0.052, 0.002, 0.05, 30),
             hint="The test statistic is U_t - min_(s<=t) U_s (here 0.059 - (-0.04) = 0.099 > 0.05: alarm), not U_t alone."),
        Case("a new minimum: no alarm, minimum updated", (20, 0.02, 0.01, 0.005, 0.0, 0.001, 0.05, 10),
             hint="minimum = min(minimum, U_t) after U_t is updated; return the new minimum."),
        Case("the statistic equals the threshold exactly", (40, 1.0, 0.0, -1.0, 42.0, 0.0, 41.0, 30),
             hint="The alarm needs U - min U STRICTLY greater than the threshold: 41 > 41 is False."),
        Case("the count reaches min_instances now", (29, 0.01, 0.05, -0.05, 0.04, 0.0, 0.05, 30),
             hint="The test runs once n >= min_instances, counting the value just added: n = 30 here, so it alarms."),
        Case("a large jump too early", (5, 0.01, 0.0, -0.01, 0.5, 0.002, 0.05, 30),
             hint="No alarm before min_instances values have arrived (n = 6 < 30), however large U - min U is."),
        Case("U is large but close to its minimum", (50, 0.01, 0.3, 0.28, 0.012, 0.001, 0.05, 30),
             hint="The test statistic is U_t - min_(s<=t) U_s (here about 0.03 < 0.05: no alarm), not U_t alone."),
    ]


# ----------------------------------------------------------------------------- 09.2 maximum drawdown
def _drawdown_cases():
    return [
        Case("up 10%, down 20%, up 5%", (np.array([0.10, -0.20, 0.05]),),
             hint="Equity E_t = prod(1 + r): 1.1, 0.88, 0.924; peak 1.1; the largest fall is 1 - 0.88/1.1 = 0.2 (a "
                  "positive fraction)."),
        Case("only gains", (np.array([0.01, 0.02, 0.005]),),
             hint="With no fall from a peak the maximum drawdown is 0.0."),
        Case("a loss on the first bar", (np.array([-0.1, 0.05, 0.02]),),
             hint="The equity starts at 1 before the first bar (E_-1 = 1): a first-bar loss of 10% is a drawdown of 0.1."),
        Case("two falls, the later one from a higher peak", (np.array([0.5, -0.3, 0.6, -0.25, 0.1]),),
             hint="Divide by the RUNNING peak max_(u<=t) E_u, not by the last or the overall maximum; compound with "
                  "prod(1 + r), not sum(r)."),
        Case("large swings compound", (np.array([0.3, -0.2, -0.2, 0.1, -0.1]),),
             hint="Compound the returns: E_t = prod(1 + r_u); a sum of returns understates and overstates falls."),
        Case("buy and hold of the S&P 500, 2015-2018", (_sp500_returns(),),
             hint="Drawdown_t = 1 - E_t / max_(u<=t) E_u with E = cumprod(1 + r) starting from 1; return the largest "
                  "as a positive fraction (about 0.198)."),
    ]


# ----------------------------------------------------------------------------- 09.3 Sharpe with costs
def _sharpe_cases():
    r = _sp500_returns()
    rng = np.random.default_rng(9)
    flips = np.where(rng.random(len(r)) < 0.3, -1.0, 1.0)
    return [
        Case("hand-sized: enter, hold, flip, exit", (np.array([0.01, 0.02, -0.01, 0.005, 0.0]),
                                                    np.array([1.0, 1.0, -1.0, 0.0, 0.0]), 0.001, 252),
             hint="net_t = p_t r_t - cost_rate |p_t - p_(t-1)| with p_(-1) = 0: the first position is a trade too."),
        Case("always long: only the entry costs", (r[:250], np.ones(250), 0.0005, 252),
             hint="Costs are paid on turnover |p_t - p_(t-1)|, not on the position |p_t| every bar; p_(-1) = 0."),
        Case("a rule that flips often, 5 bp", (r, flips, 0.0005, 252),
             hint="A flip from +1 to -1 trades 2 units: turnover = |p_t - p_(t-1)| (absolute value)."),
        Case("monthly bars", (np.array([0.02, -0.01, 0.03, 0.01, -0.02, 0.015]), np.array([1.0, 1, 0, 1, 1, 1]), 0.002, 12),
             hint="Annualise by sqrt(periods_per_year) (sqrt(12) for months), not by periods_per_year."),
        Case("no costs, short sample", (np.array([0.01, -0.02, 0.015, 0.003]), np.array([1.0, 1, 1, 1]), 0.0, 252),
             hint="Sharpe = sqrt(A) mean(net) / sd(net) with the sample standard deviation (ddof=1)."),
    ]


# ----------------------------------------------------------------------------- 09.4 next-bar positions
def _position_cases():
    return [
        Case("five signals, delay 1", (np.array([1.0, -1.0, 0.0, 1.0, 1.0]), 1),
             hint="p_t = s_(t-1): each signal is held over the NEXT bar, and p_0 = 0 (nothing was decided before bar 0)."),
        Case("delay 2", (np.array([1.0, -1.0, 1.0, 0.5, -0.5, 1.0]), 2),
             hint="p_t = s_(t-delay) for t >= delay, 0 before: shift by `delay`, not by 1."),
        Case("the last signal is never held", (np.array([0.0, 0.0, 0.0, 1.0]), 1),
             hint="Shift forward and fill the start with zeros; np.roll would wrap the last signal round to bar 0."),
        Case("a delay as long as the series", (np.array([1.0, 1.0, -1.0]), 3),
             hint="When delay >= len(signals) no signal is ever held: all positions are 0."),
        Case("a delay longer than the series", (np.array([1.0, 1.0, -1.0]), 5),
             hint="One position per signal whatever the delay: 3 positions here, all 0 (np.r_[zeros(delay), "
                  "s[:-delay]] would return 5)."),
        Case("delay 0 is lookahead: raise ValueError", (np.array([1.0, -1.0, 1.0]), 0), raises="ValueError",
             hint="delay < 1 would earn the return of the bar that produced the signal: raise ValueError."),
        Case("negative delay: raise ValueError", (np.array([1.0, -1.0, 1.0]), -1), raises="ValueError",
             hint="delay < 1 would earn the return of the bar that produced the signal: raise ValueError."),
    ]


# ----------------------------------------------------------------------------- 09.5 one streaming step
def _lstm_weights(seed, n_features, hidden, outputs=1, bias_scale=0.5):
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 0.5, (4 * hidden, n_features)), rng.normal(0, 0.5, (4 * hidden, hidden)),
            rng.normal(0, bias_scale, 4 * hidden), rng.normal(0, bias_scale, 4 * hidden),
            rng.normal(0, 0.5, (outputs, hidden)), rng.normal(0, 0.1, outputs))


def _state_after(bars, weights):
    """(h, c) of torch.nn.LSTM after reading ``bars`` (T, d) from a zero state."""
    weight_ih, weight_hh, bias_ih, bias_hh, _, _ = weights
    lstm = torch.nn.LSTM(weight_ih.shape[1], weight_hh.shape[1], batch_first=True).double()
    with torch.no_grad():
        for name, value in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), weights[:4]):
            getattr(lstm, name).copy_(torch.as_tensor(value))
        _, (h, c) = lstm(torch.as_tensor(bars)[None])
    return h.view(-1).numpy(), c.view(-1).numpy()


def _stream_cases():
    small = _lstm_weights(1, 1, 3)
    two = _lstm_weights(2, 2, 4, outputs=2)
    bars = np.random.default_rng(3).normal(size=(20, 2))
    h20, c20 = _state_after(bars[:19], two)
    returns = (_sp500_returns()[:61] / 0.01)[:, None]
    model = _lstm_weights(4, 1, 8)
    h60, c60 = _state_after(returns[:60], model)
    return [
        Case("the first bar, from a zero state", (np.array([0.5]), np.zeros(3), np.zeros(3), *small),
             hint="From h = c = 0: z = W_ih x + b_ih + b_hh (both biases), gates in PyTorch's order i, f, g, o; "
                  "c = i * g, h = o * tanh(c); the forecast is W_head h_new + b_head."),
        Case("a kept state", (np.array([-1.0]), np.array([0.2, -0.1, 0.4]), np.array([0.5, -0.3, 1.2]), *small),
             hint="c_t = f * c_(t-1) + i * g with the KEPT c_(t-1), then h_t = o * tanh(c_t) with the NEW c_t."),
        Case("bar 20 of a 2-feature stream, 2 outputs", (bars[19], h20, c20, *two),
             hint="Return (forecast, h_new, c_new): the forecast W_head h_new + b_head uses the NEW hidden state, and "
                  "has one value per output."),
        Case("bar 61 of the S&P 500 returns, hidden 8", (returns[60], h60, c60, *model),
             hint="Gate order i, f, g, o (PyTorch): rows 0:h input gate, h:2h forget, 2h:3h cell candidate (tanh), "
                  "3h:4h output."),
    ]


EXERCISES = [
    Exercise("09.1", "One Page-Hinkley update", "page_hinkley_update", 2, page_hinkley_update_reference,
             _page_hinkley_cases,
             "n += 1; mean += (x - mean) / n; U = cumulative + (x - mean - delta); minimum = min(minimum, U); "
             "alarm = n >= min_instances and U - minimum > threshold. Return (n, mean, U, minimum, alarm) with alarm a bool.",
             also_implemented_by=("course_lib.streaming.drift:PageHinkley", "course_lib.streaming:PageHinkley")),
    Exercise("09.2", "Maximum drawdown", "max_drawdown_of", 1, max_drawdown_reference, _drawdown_cases,
             "E_t = prod_(u<=t) (1 + r_u) from E_-1 = 1; drawdown_t = 1 - E_t / max(1, max_(u<=t) E_u); return the "
             "largest drawdown as a float in [0, 1].",
             also_implemented_by=("course_lib.streaming.trading:drawdowns", "course_lib.streaming:max_drawdown",
                                  "course_lib.streaming.trading:performance")),
    Exercise("09.3", "The Sharpe ratio after costs", "sharpe_with_costs", 2, sharpe_with_costs_reference,
             _sharpe_cases,
             "net_t = p_t r_t - cost_rate |p_t - p_(t-1)| with p_(-1) = 0; Sharpe = sqrt(periods_per_year) "
             "mean(net) / std(net, ddof=1). Return a float.",
             also_implemented_by=("course_lib.streaming.trading:sharpe_ratio", "course_lib.streaming.trading:bar_pnl",
                                  "course_lib.streaming.trading:backtest", "course_lib.streaming:sharpe_ratio",
                                  "course_lib.streaming:backtest")),
    Exercise("09.4", "The next-bar position rule", "next_bar_positions", 1, next_bar_positions_reference,
             _position_cases,
             "p_t = s_(t - delay) for t >= delay and 0 before, as a float array of the signals' length; "
             "raise ValueError when delay < 1.",
             also_implemented_by=("course_lib.streaming.trading:positions_from_signals",)),
    Exercise("09.5", "One streaming LSTM step that matches the batch model", "stream_step", 2, stream_step_reference,
             _stream_cases,
             "z = W_ih x + b_ih + W_hh h + b_hh; i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of its four blocks; "
             "c_new = f c + i g; h_new = o tanh(c_new); return (W_head h_new + b_head, h_new, c_new) as arrays.",
             also_implemented_by=("course_lib.streaming.predictor:StreamingPredictor",
                                  "course_lib.streaming.predictor:stateful_predictions",
                                  "course_lib.streaming:StreamingPredictor")),
]

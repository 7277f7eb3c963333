"""Chapter 09's checks: the reference passes, and a bank of plausible wrong answers (one function per mistake a
learner makes) fails, each shown the hint written for it. The answers are written here in plain NumPy/SciPy."""
import numpy as np
from scipy.special import expit

from check_bank import bank_tests


# ----------------------------------------------------------------------------- 09.1 Page-Hinkley update
def ph_right(n, mean, cumulative, minimum, x, delta, threshold, min_instances):
    n += 1
    mean = mean + (x - mean) / n
    cumulative = cumulative + (x - mean - delta)
    minimum = min(minimum, cumulative)
    return n, float(mean), float(cumulative), float(minimum), bool(n >= min_instances and cumulative - minimum > threshold)


def _ph(mean_of, sign=-1, strict=True, test=lambda u, m: u - m, started=lambda n, k: n >= k, update_min=True):
    def answer(n, mean, cumulative, minimum, x, delta, threshold, min_instances):
        new_n = n + 1
        new_mean = mean_of(n, mean, x)
        u = cumulative + (x - new_mean + sign * delta)
        new_min = min(minimum, u) if update_min else minimum
        statistic = test(u, new_min)
        alarm = started(new_n, min_instances) and (statistic > threshold if strict else statistic >= threshold)
        return new_n, float(new_mean), float(u), float(new_min), bool(alarm)
    return answer


right_mean = lambda n, mean, x: mean + (x - mean) / (n + 1)
ph_old_mean = _ph(lambda n, mean, x: mean)                                      # x - mean before the update
ph_old_count = _ph(lambda n, mean, x: mean + (x - mean) / max(n, 1))           # divides by the old n
ph_plus_delta = _ph(right_mean, sign=+1)
ph_greater_equal = _ph(right_mean, strict=False)
ph_u_alone = _ph(right_mean, test=lambda u, m: u)
ph_count_strict = _ph(right_mean, started=lambda n, k: n > k)
ph_no_warmup = _ph(right_mean, started=lambda n, k: True)
ph_min_not_updated = _ph(right_mean, update_min=False)


def ph_alarm_as_int(*args):
    *state, alarm = ph_right(*args)
    return (*state, int(alarm))


# ----------------------------------------------------------------------------- 09.2 maximum drawdown
def mdd_right(returns):
    equity = np.r_[1.0, np.cumprod(1 + np.asarray(returns, dtype=float))]
    return float(np.max(1 - equity / np.maximum.accumulate(equity)))


def mdd_cumsum(returns):
    equity = np.r_[1.0, 1 + np.cumsum(returns)]
    return float(np.max(1 - equity / np.maximum.accumulate(equity)))


def mdd_no_start(returns):
    equity = np.cumprod(1 + np.asarray(returns, dtype=float))
    return float(np.max(1 - equity / np.maximum.accumulate(equity)))


def mdd_negative(returns):
    equity = np.r_[1.0, np.cumprod(1 + np.asarray(returns, dtype=float))]
    return float(np.min(equity / np.maximum.accumulate(equity) - 1))


def mdd_global_max(returns):
    equity = np.r_[1.0, np.cumprod(1 + np.asarray(returns, dtype=float))]
    return float(np.max(1 - equity / equity.max()))


def mdd_points(returns):
    equity = np.r_[1.0, np.cumprod(1 + np.asarray(returns, dtype=float))]
    return float(np.max(np.maximum.accumulate(equity) - equity))


def mdd_peak_to_trough(returns):
    equity = np.r_[1.0, np.cumprod(1 + np.asarray(returns, dtype=float))]
    return float(1 - equity.min() / equity.max())


# ----------------------------------------------------------------------------- 09.3 Sharpe with costs
def _net(r, p, cost, first_trade=True, turnover=lambda p, q: np.abs(p - q)):
    p = np.asarray(p, dtype=float)
    previous = np.r_[0.0 if first_trade else p[0], p[:-1]]
    return p * np.asarray(r) - cost * turnover(p, previous)


def sharpe_right(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, cost_rate)
    return float(np.sqrt(periods_per_year) * net.mean() / net.std(ddof=1))


def sharpe_no_entry(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, cost_rate, first_trade=False)
    return float(np.sqrt(periods_per_year) * net.mean() / net.std(ddof=1))


def sharpe_cost_on_position(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, cost_rate, turnover=lambda p, q: np.abs(p))
    return float(np.sqrt(periods_per_year) * net.mean() / net.std(ddof=1))


def sharpe_signed_turnover(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, cost_rate, turnover=lambda p, q: p - q)
    return float(np.sqrt(periods_per_year) * net.mean() / net.std(ddof=1))


def sharpe_ddof0(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, cost_rate)
    return float(np.sqrt(periods_per_year) * net.mean() / net.std())


def sharpe_annualised_linearly(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, cost_rate)
    return float(periods_per_year * net.mean() / net.std(ddof=1))


def sharpe_no_costs(asset_returns, positions, cost_rate, periods_per_year):
    net = _net(asset_returns, positions, 0.0)
    return float(np.sqrt(periods_per_year) * net.mean() / net.std(ddof=1))


# ----------------------------------------------------------------------------- 09.4 next-bar positions
def positions_right(signals, delay):
    if delay < 1:
        raise ValueError("delay must be at least 1")
    signals = np.asarray(signals, dtype=float)
    out = np.zeros(len(signals))
    out[delay:] = signals[:len(signals) - delay] if delay < len(signals) else []
    return out


def positions_same_bar(signals, delay):
    return np.asarray(signals, dtype=float).copy()


def positions_roll(signals, delay):
    if delay < 1:
        raise ValueError("delay")
    return np.roll(np.asarray(signals, dtype=float), delay)


def positions_always_one(signals, delay):
    if delay < 1:
        raise ValueError("delay")
    return np.r_[0.0, np.asarray(signals, dtype=float)[:-1]]


def positions_backwards(signals, delay):
    if delay < 1:
        raise ValueError("delay")
    signals = np.asarray(signals, dtype=float)
    return np.r_[signals[delay:], np.zeros(min(delay, len(signals)))]


def positions_no_check(signals, delay):
    signals = np.asarray(signals, dtype=float)
    if delay <= 0:
        return signals.copy()
    return np.r_[np.zeros(min(delay, len(signals))), signals[:max(len(signals) - delay, 0)]]


def positions_pandas_shift(signals, delay):
    import pandas as pd
    if delay < 1:
        raise ValueError("delay")
    return pd.Series(signals, dtype=float).shift(delay).to_numpy()          # NaN at the start


def positions_list(signals, delay):
    return list(positions_right(signals, delay))


# ----------------------------------------------------------------------------- 09.5 one streaming step
def _step(x, h, c, w_ih, w_hh, b_ih, b_hh, w_head, b_head, order="ifgo", biases=2, head_on="new", cell="right",
          g_act=np.tanh):
    z = w_ih @ x + w_hh @ h + b_ih + (b_hh if biases == 2 else 0.0)
    blocks = dict(zip(order, np.split(z, 4)))
    i, f, g, o = expit(blocks["i"]), expit(blocks["f"]), g_act(blocks["g"]), expit(blocks["o"])
    c_new = f * c + i * g if cell == "right" else (f * c + g if cell == "no_input_gate" else i * g)
    h_new = o * np.tanh(c_new) if cell != "old_c" else o * np.tanh(c)
    if cell == "old_c":
        c_new = f * c + i * g
    y = w_head @ (h_new if head_on == "new" else h) + b_head
    return y, h_new, c_new


def stream_right(*args):
    return _step(*args)


def stream_ifog(*args):
    return _step(*args, order="ifog")


def stream_one_bias(*args):
    return _step(*args, biases=1)


def stream_head_on_old_h(*args):
    return _step(*args, head_on="old")


def stream_h_from_old_c(*args):
    return _step(*args, cell="old_c")


def stream_forgets_state(*args):
    return _step(*args, cell="reset")


def stream_sigmoid_candidate(*args):
    return _step(*args, g_act=expit)


def stream_prediction_float(*args):
    y, h, c = _step(*args)
    return float(y[0]), h, c


RIGHT = {"09.1": ph_right, "09.2": mdd_right, "09.3": sharpe_right, "09.4": positions_right, "09.5": stream_right}

MISTAKES = {
    "09.1": [("the mean before adding x", ph_old_mean, "the mean INCLUDES x"),
             ("the mean divided by the old count", ph_old_count, "with the NEW n"),
             ("plus delta", ph_plus_delta, "(minus delta)"),
             (">= threshold", ph_greater_equal, "STRICTLY greater"),
             ("U alone against the threshold", ph_u_alone, "not U_t alone"),
             ("n > min_instances", ph_count_strict, "counting the value just added"),
             ("no warm-up", ph_no_warmup, "No alarm before min_instances"),
             ("minimum not updated", ph_min_not_updated, "return the new minimum"),
             ("alarm as 0/1", ph_alarm_as_int, "expected bool")],
    "09.2": [("sum of returns", mdd_cumsum, "prod(1 + r)"),
             ("equity not started at 1", mdd_no_start, "E_-1 = 1"),
             ("negative fraction", mdd_negative, "positive fraction"),
             ("overall maximum as the peak", mdd_global_max, "RUNNING peak"),
             ("fall in equity points", mdd_points, "RUNNING peak"),
             ("overall peak to overall trough", mdd_peak_to_trough, "RUNNING peak")],
    "09.3": [("no cost for the first trade", sharpe_no_entry, "the first position is a trade too"),
             ("cost on the position", sharpe_cost_on_position, "not on the position |p_t|"),
             ("signed turnover", sharpe_signed_turnover, "(absolute value)"),
             ("ddof=0", sharpe_ddof0, "ddof=1"),
             ("annualised by A", sharpe_annualised_linearly, "not by periods_per_year"),
             ("costs left out", sharpe_no_costs, "the first position is a trade too")],
    "09.4": [("same-bar position", positions_same_bar, "held over the NEXT bar"),
             ("np.roll", positions_roll, "np.roll would wrap"),
             ("always shifts by one", positions_always_one, "not by 1"),
             ("shifted the wrong way", positions_backwards, "held over the NEXT bar"),
             ("no check of the delay", positions_no_check, "raise ValueError"),
             ("NaN at the start", positions_pandas_shift, "p_0 = 0"),
             ("a list", positions_list, "expected an array")],
    "09.5": [("gate order i, f, o, g", stream_ifog, "i, f, g, o"),
             ("one bias", stream_one_bias, "both biases"),
             ("forecast from the old h", stream_head_on_old_h, "uses the NEW hidden state"),
             ("h from the old c", stream_h_from_old_c, "with the NEW c_t"),
             ("state forgotten", stream_forgets_state, "KEPT c_(t-1)"),
             ("sigmoid candidate", stream_sigmoid_candidate, "i, f, g, o"),
             ("forecast as a float", stream_prediction_float, "one value per output")],
}


# ----------------------------------------------------------------------------- mistakes found in review
def pos_pads_with_delay(signals, delay):
    if delay < 1:
        raise ValueError("lookahead")
    s = np.asarray(signals, dtype=float)
    return np.r_[np.zeros(delay), s[:-delay]]


MISTAKES["09.4"] += [("zeros(delay) prepended: too long when delay > n", pos_pads_with_delay, "One position per signal")]

(test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
 test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=8, right=RIGHT, mistakes=MISTAKES)

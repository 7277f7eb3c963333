"""Chapter 07's checks: the reference passes, and a bank of plausible wrong answers (one function per mistake a
learner makes) fails, each shown the hint written for it. The answers are written here in plain NumPy."""
import math

import numpy as np

from check_bank import bank_tests


# ----------------------------------------------------------------------------- 07.1 conformal quantile
def _check_alpha(alpha):
    if not 0 < alpha < 1:
        raise ValueError("alpha")


def _kth_smallest(scores, alpha, rank=math.ceil, digits=9, sort=True, too_few=True):
    """The k-th score, k = rank(round((n + 1)(1 - alpha), digits)); the variants below change one step each."""
    _check_alpha(alpha)
    n = len(scores)
    k = rank(round((n + 1) * (1 - alpha), digits))
    if too_few and k > n:
        raise ValueError("too few scores")
    return float((np.sort(scores) if sort else np.asarray(scores))[min(k, n) - 1])


def cq_right(scores, alpha):
    return _kth_smallest(scores, alpha)


def cq_np_quantile(scores, alpha):
    _check_alpha(alpha)
    return float(np.quantile(scores, 1 - alpha))


def cq_n_not_n_plus_1(scores, alpha):
    _check_alpha(alpha)
    k = math.ceil(round(len(scores) * (1 - alpha), 9))
    return float(np.sort(scores)[k - 1])


def cq_floor(scores, alpha):
    return _kth_smallest(scores, alpha, rank=math.floor)


def cq_index_k(scores, alpha):
    _check_alpha(alpha)
    n = len(scores)
    k = math.ceil(round((n + 1) * (1 - alpha), 9))
    return float(np.sort(scores)[min(k, n - 1)])


def cq_unsorted(scores, alpha):
    return _kth_smallest(scores, alpha, sort=False)


def cq_no_rounding(scores, alpha):
    return _kth_smallest(scores, alpha, digits=17)


def cq_max_when_too_few(scores, alpha):
    return _kth_smallest(scores, alpha, too_few=False)


def cq_unique(scores, alpha):
    _check_alpha(alpha)
    values = np.unique(scores)
    n = len(scores)
    k = math.ceil(round((n + 1) * (1 - alpha), 9))
    if k > n:
        raise ValueError("too few scores")
    return float(values[min(k, len(values)) - 1])


def cq_interpolated_level(scores, alpha):
    _check_alpha(alpha)
    n = len(scores)
    if math.ceil(round((n + 1) * (1 - alpha), 9)) > n:
        raise ValueError("too few scores")
    return float(np.quantile(scores, (n + 1) * (1 - alpha) / n))


def cq_no_alpha_check(scores, alpha):
    n = len(scores)
    k = math.ceil(round((n + 1) * (1 - alpha), 9))
    if k > n:
        raise ValueError("too few scores")
    return float(np.sort(scores)[k - 1])


# ----------------------------------------------------------------------------- 07.2 pinball
def _check_tau(tau):
    if not 0 < tau < 1:
        raise ValueError("tau")


def pb_right(y_true, y_quantile, tau):
    _check_tau(tau)
    e = np.asarray(y_true) - np.asarray(y_quantile)
    return float(np.mean(np.maximum(tau * e, (tau - 1) * e)))


def pb_sign_flipped(y_true, y_quantile, tau):
    _check_tau(tau)
    e = np.asarray(y_quantile) - np.asarray(y_true)
    return float(np.mean(np.maximum(tau * e, (tau - 1) * e)))


def pb_tau_abs(y_true, y_quantile, tau):
    _check_tau(tau)
    return float(np.mean(tau * np.abs(np.asarray(y_true) - np.asarray(y_quantile))))


def pb_sum(y_true, y_quantile, tau):
    _check_tau(tau)
    e = np.asarray(y_true) - np.asarray(y_quantile)
    return float(np.sum(np.maximum(tau * e, (tau - 1) * e)))


def pb_squared(y_true, y_quantile, tau):
    _check_tau(tau)
    e = np.asarray(y_true) - np.asarray(y_quantile)
    return float(np.mean(np.where(e >= 0, tau, 1 - tau) * e ** 2))


def pb_no_check(y_true, y_quantile, tau):
    e = np.asarray(y_true) - np.asarray(y_quantile)
    return float(np.mean(np.maximum(tau * e, (tau - 1) * e)))


# ----------------------------------------------------------------------------- 07.3 coverage and width
def _check_bounds(lower, upper):
    if np.any(np.asarray(lower) > np.asarray(upper)):
        raise ValueError("lower > upper")


def cw_right(y_true, lower, upper):
    _check_bounds(lower, upper)
    return float(np.mean((lower <= y_true) & (y_true <= upper))), float(np.mean(upper - lower))


def cw_strict(y_true, lower, upper):
    _check_bounds(lower, upper)
    return float(np.mean((lower < y_true) & (y_true < upper))), float(np.mean(upper - lower))


def cw_count(y_true, lower, upper):
    _check_bounds(lower, upper)
    return int(np.sum((lower <= y_true) & (y_true <= upper))), float(np.mean(upper - lower))


def cw_half_width(y_true, lower, upper):
    _check_bounds(lower, upper)
    return float(np.mean((lower <= y_true) & (y_true <= upper))), float(np.mean(upper - lower) / 2)


def cw_upper_only(y_true, lower, upper):
    _check_bounds(lower, upper)
    return float(np.mean(y_true <= upper)), float(np.mean(upper - lower))


def cw_no_check(y_true, lower, upper):
    return float(np.mean((lower <= y_true) & (y_true <= upper))), float(np.mean(upper - lower))


def cw_width_sum(y_true, lower, upper):
    _check_bounds(lower, upper)
    return float(np.mean((lower <= y_true) & (y_true <= upper))), float(np.sum(upper - lower))


# ----------------------------------------------------------------------------- 07.4 moving blocks
def _check_blocks(n, block, starts):
    starts = np.asarray(starts)
    if starts.min() < 0 or starts.max() > n - block or len(starts) * block < n:
        raise ValueError("bad starts")


def mb_right(n, block, starts):
    _check_blocks(n, block, starts)
    return np.concatenate([np.arange(s, s + block) for s in starts])[:n]


def mb_inclusive_end(n, block, starts):
    _check_blocks(n, block, starts)
    return np.concatenate([np.arange(s, s + block + 1) for s in starts])[:n]


def mb_not_cut(n, block, starts):
    _check_blocks(n, block, starts)
    return np.concatenate([np.arange(s, s + block) for s in starts])


def mb_sorted(n, block, starts):
    _check_blocks(n, block, starts)
    return np.concatenate([np.arange(s, s + block) for s in np.sort(starts)])[:n]


def mb_circular(n, block, starts):
    starts = np.asarray(starts)
    if len(starts) * block < n:
        raise ValueError("too few")
    return np.concatenate([np.arange(s, s + block) % n for s in starts])[:n]


def mb_block_numbers(n, block, starts):
    _check_blocks(n, block, starts)
    return np.concatenate([np.arange(s * block, s * block + block) for s in starts])[:n]


def mb_pads_short(n, block, starts):
    starts = np.asarray(starts)
    if starts.min() < 0 or starts.max() > n - block:
        raise ValueError("bad starts")
    return np.resize(np.concatenate([np.arange(s, s + block) for s in starts]), n)


def mb_cut_front(n, block, starts):
    _check_blocks(n, block, starts)
    return np.concatenate([np.arange(s, s + block) for s in starts])[-n:]


# ----------------------------------------------------------------------------- 07.5 ACI step
def aci_right(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha_t + gamma * (alpha - (not lower <= y <= upper)))


def aci_sign_flipped(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha_t - gamma * (alpha - (not lower <= y <= upper)))


def aci_err_inverted(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha_t + gamma * (alpha - (lower <= y <= upper)))


def aci_uses_alpha_t(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha_t + gamma * (alpha_t - (not lower <= y <= upper)))


def aci_strict(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha_t + gamma * (alpha - (not lower < y < upper)))


def aci_clipped(alpha_t, alpha, gamma, y, lower, upper):
    return float(np.clip(alpha_t + gamma * (alpha - (not lower <= y <= upper)), 0, 1))


def aci_clipped_below(alpha_t, alpha, gamma, y, lower, upper):
    return float(max(alpha_t + gamma * (alpha - (not lower <= y <= upper)), 0.0))


def aci_restarts_from_alpha(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha + gamma * (alpha - (not lower <= y <= upper)))


# ----------------------------------------------------------------------------- 07.6 Winkler
def wk_right(y_true, lower, upper, alpha):
    below, above = np.maximum(lower - y_true, 0), np.maximum(y_true - upper, 0)
    return float(np.mean(upper - lower + 2 / alpha * (below + above)))


def wk_one_over_alpha(y_true, lower, upper, alpha):
    below, above = np.maximum(lower - y_true, 0), np.maximum(y_true - upper, 0)
    return float(np.mean(upper - lower + 1 / alpha * (below + above)))


def wk_no_width(y_true, lower, upper, alpha):
    below, above = np.maximum(lower - y_true, 0), np.maximum(y_true - upper, 0)
    return float(np.mean(2 / alpha * (below + above)))


def wk_fixed_penalty(y_true, lower, upper, alpha):
    missed = (y_true < lower) | (y_true > upper)
    return float(np.mean(upper - lower + 2 / alpha * missed))


def wk_sum(y_true, lower, upper, alpha):
    below, above = np.maximum(lower - y_true, 0), np.maximum(y_true - upper, 0)
    return float(np.sum(upper - lower + 2 / alpha * (below + above)))


def wk_width_on_misses_only(y_true, lower, upper, alpha):
    below, above = np.maximum(lower - y_true, 0), np.maximum(y_true - upper, 0)
    missed = (below + above) > 0
    return float(np.mean(np.where(missed, 2 / alpha * (below + above), upper - lower)))


# ----------------------------------------------------------------------------- 07.7 regime terciles
def _label(values, c1, c2, strict=False):
    v = np.asarray(values, dtype=float)
    if strict:
        return np.where(v < c1, 0, np.where(v < c2, 1, 2)).astype(np.int64)
    return np.where(v <= c1, 0, np.where(v <= c2, 1, 2)).astype(np.int64)


def rt_right(calibration, values):
    if len(calibration) < 3:
        raise ValueError("at least 3 calibration values")
    ordered, n = np.sort(np.asarray(calibration, dtype=float)), len(calibration)
    cuts = []
    for p in (1 / 3, 2 / 3):                       # linear interpolation by hand, position p (n - 1)
        position = p * (n - 1)
        low = int(math.floor(position))
        high = min(low + 1, n - 1)
        cuts.append(ordered[low] + (position - low) * (ordered[high] - ordered[low]))
    return _label(values, *cuts)


def rt_cuts_from_values(calibration, values):
    if len(calibration) < 3:
        raise ValueError("at least 3 calibration values")
    return _label(values, *np.quantile(values, [1 / 3, 2 / 3]))


def rt_pooled(calibration, values):
    if len(calibration) < 3:
        raise ValueError("at least 3 calibration values")
    return _label(values, *np.quantile(np.concatenate([calibration, values]), [1 / 3, 2 / 3]))


def rt_strict(calibration, values):
    if len(calibration) < 3:
        raise ValueError("at least 3 calibration values")
    return _label(values, *np.quantile(calibration, [1 / 3, 2 / 3]), strict=True)


def rt_lower_method(calibration, values):
    if len(calibration) < 3:
        raise ValueError("at least 3 calibration values")
    return _label(values, *np.quantile(calibration, [1 / 3, 2 / 3], method="lower"))


def rt_no_check(calibration, values):
    return _label(values, *np.quantile(calibration, [1 / 3, 2 / 3]))


RIGHT = {"07.1": cq_right, "07.2": pb_right, "07.3": cw_right, "07.4": mb_right, "07.5": aci_right, "07.6": wk_right,
         "07.7": rt_right}

MISTAKES = {
    "07.1": [("np.quantile(scores, 1 - alpha)", cq_np_quantile, "leave it out"),
             ("ceil(n (1 - alpha))", cq_n_not_n_plus_1, "leave it out"),
             ("floor instead of ceil", cq_floor, "a ceiling, not a floor"),
             ("sorted[k] (off by one)", cq_index_k, "k counts from 1"),
             ("scores not sorted", cq_unsorted, "the LARGEST score"),
             ("no rounding before the ceiling", cq_no_rounding, "round (n + 1)(1 - alpha) to 9 decimals"),
             ("largest score when too few", cq_max_when_too_few, "raise ValueError (do not return the largest"),
             ("np.unique drops ties", cq_unique, "Keep repeated scores"),
             ("np.quantile at level (n+1)(1-alpha)/n, interpolated", cq_interpolated_level, "not an interpolated"),
             ("alpha not checked", cq_no_alpha_check, "alpha must be strictly between 0 and 1")],
    "07.2": [("e = q - y", pb_sign_flipped, "e = y - q"),
             ("tau |e|", pb_tau_abs, "not tau |y - q|"),
             ("sum instead of mean", pb_sum, "not a sum"),
             ("squared errors", pb_squared, "e = y - q"),
             ("tau not checked", pb_no_check, "tau must be strictly between 0 and 1")],
    "07.3": [("strict bounds", cw_strict, "Bounds are inclusive"),
             ("coverage as a count", cw_count, "not a count"),
             ("half-width", cw_half_width, "not the half-width"),
             ("only the upper bound checked", cw_upper_only, "inside on BOTH sides"),
             ("sum of widths", cw_width_sum, "width = mean(upper - lower)"),
             ("lower > upper not checked", cw_no_check, "is not an interval")],
    "07.4": [("block + 1 positions", mb_inclusive_end, "end excluded"),
             ("not cut to n", mb_not_cut, "keep the first n = 60"),
             ("starts sorted", mb_sorted, "Keep the blocks in the order of `starts`"),
             ("wraps around instead of raising", mb_circular, "the CIRCULAR bootstrap"),
             ("starts read as block numbers", mb_block_numbers, "end excluded"),
             ("too few blocks padded by repeating", mb_pads_short, "9 < n = 10 positions"),
             ("cut at the front", mb_cut_front, "keep the first n = 60")],
    "07.5": [("sign of the step flipped", aci_sign_flipped, "= 0.1005"),
             ("err = 1 on a hit", aci_err_inverted, "= 0.1005"),
             ("alpha_t in the step", aci_uses_alpha_t, "not alpha_t"),
             ("strict bounds", aci_strict, "The bounds are inclusive"),
             ("clipped to [0, 1]", aci_clipped, "Do not clip"),
             ("clipped at 0", aci_clipped_below, "infinite interval next"),
             ("restarts from alpha", aci_restarts_from_alpha, "not alpha_t")],
    "07.7": [("cut points from the values grouped", rt_cuts_from_values, "must not move the cut points"),
             ("calibration and test pooled", rt_pooled, "nor both periods"),
             ("< instead of <= at a cut point", rt_strict, "compare with <=, not <"),
             ("np.quantile(..., method='lower')", rt_lower_method, "not the 'lower' or 'nearest' value"),
             ("two calibration values accepted", rt_no_check, "at least 3 calibration values")],
    "07.6": [("1 / alpha", wk_one_over_alpha, "not 1 / alpha"),
             ("no width term", wk_no_width, "Width 2 always"),
             ("fixed penalty per miss", wk_fixed_penalty, "not a fixed amount"),
             ("sum instead of mean", wk_sum, "mean width = (2 + 3) / 2"),
             ("width only on hits", wk_width_on_misses_only, "Width 2 always")],
}


# ----------------------------------------------------------------------------- mistakes found in review
def pb_checks_only_upper(y_true, y_quantile, tau):
    if tau >= 1:
        raise ValueError("tau")
    e = np.asarray(y_true) - np.asarray(y_quantile)
    return float(np.mean(np.maximum(tau * e, (tau - 1) * e)))


def cw_refuses_zero_width(y_true, lower, upper):
    if np.any(np.asarray(lower) >= np.asarray(upper)):
        raise ValueError("lower >= upper")
    return float(np.mean((lower <= y_true) & (y_true <= upper))), float(np.mean(upper - lower))


def mb_no_negative_check(n, block, starts):
    starts = np.asarray(starts)
    if starts.max() > n - block or len(starts) * block < n:
        raise ValueError("bad starts")
    return np.concatenate([np.arange(s, s + block) for s in starts])[:n]


def aci_symmetric(alpha_t, alpha, gamma, y, lower, upper):
    return float(alpha_t + gamma * (alpha - (not abs(y) <= upper)))


def cw_symmetric(y_true, lower, upper):
    _check_bounds(lower, upper)
    return float(np.mean(np.abs(y_true) <= upper)), float(np.mean(upper - lower))


MISTAKES["07.2"] += [("only tau >= 1 refused", pb_checks_only_upper, "raise ValueError for tau <= 0 too")]
MISTAKES["07.3"] += [("|y| <= upper as the hit test", cw_symmetric, "not symmetric around 0")]


def cq_nearest_at_level(scores, alpha):
    _check_alpha(alpha)
    n = len(scores)
    level = round((n + 1) * (1 - alpha), 9) / n
    if level > 1:
        raise ValueError("too few scores")
    return float(np.quantile(scores, level, method="nearest"))


MISTAKES["07.1"] += [("np.quantile(..., method='nearest') at level (n+1)(1-alpha)/n", cq_nearest_at_level,
                      "q_hat is the LARGEST score, 1.5")]
MISTAKES["07.3"] += [("a zero-width interval refused", cw_refuses_zero_width, "lower == upper is an interval of width 0")]
def mb_float_positions(n, block, starts):
    """Right positions, as floats (np.linspace, or a float starts array): they cannot index an array."""
    return mb_right(n, block, starts).astype(float)


MISTAKES["07.4"] += [("negative starts not refused", mb_no_negative_check, "a negative start would read positions"),
                     ("positions as floats", mb_float_positions, "expected integer values, got floating-point values")]
MISTAKES["07.5"] += [("|y| <= upper as the hit test", aci_symmetric, "The interval is [lower, upper], not symmetric")]

(test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
 test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=10, right=RIGHT, mistakes=MISTAKES)

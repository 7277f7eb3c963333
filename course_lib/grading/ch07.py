"""Chapter 07 exercises: the conformal quantile with its (n+1) correction, the pinball loss, coverage and width, a
moving-block resample, one ACI update, the Winkler (interval) score, volatility terciles with cut points fixed on
the calibration period."""
from __future__ import annotations

import numpy as np

from course_lib import data
from course_lib.ensembles.conformal import aci_update, conformal_quantile
from course_lib.ensembles.coverage import TERCILES, volatility_terciles
from course_lib.evaluation.metrics import coverage, interval_score, mean_width, pinball
from course_lib.grading.registry import Case, Exercise


def conformal_quantile_reference(scores, alpha):
    return conformal_quantile(scores, alpha)


def pinball_loss_reference(y_true, y_quantile, tau):
    return pinball(y_true, y_quantile, tau)


def coverage_and_width_reference(y_true, lower, upper):
    return coverage(y_true, lower, upper), mean_width(lower, upper)


def moving_block_indices_reference(n, block, starts):
    starts = np.asarray(starts)
    if block < 1 or block > n:
        raise ValueError(f"block must be in 1..n = {n}, got {block}")
    if len(starts) and (starts.min() < 0 or starts.max() > n - block):
        raise ValueError(f"every start must be in 0..n - block = {n - block}, got {starts.tolist()}")
    if len(starts) * block < n:
        raise ValueError(f"{len(starts)} blocks of {block} give fewer than n = {n} positions")
    return np.concatenate([np.arange(s, s + block) for s in starts])[:n]


def aci_step_reference(alpha_t, alpha, gamma, y, lower, upper):
    return aci_update(alpha_t, alpha, gamma, not lower <= y <= upper)


def winkler_score_reference(y_true, lower, upper, alpha):
    return interval_score(y_true, lower, upper, alpha)


def regime_terciles_reference(calibration, values):
    labels = volatility_terciles(values, reference=calibration)       # "calm", "middle", "stormy"
    return np.array([TERCILES.index(label) for label in labels], dtype=np.int64)


def _returns() -> np.ndarray:
    close = data.load_sp500()["Close"].to_numpy()
    return 100 * np.diff(np.log(close))


# ----------------------------------------------------------------------------- 07.1 conformal quantile
def _conformal_cases():
    r = _returns()
    scores = np.abs(r[-504:])                       # |returns| of 2017-18 as conformity scores of a zero forecast
    formula = ("k = ceil((n + 1)(1 - alpha)); q_hat = the k-th smallest score (k counts from 1), i.e. "
               "np.sort(scores)[k - 1].")
    return [
        Case("ten unsorted scores, alpha = 0.1", (np.array([0.5, 2.0, 1.0, 3.5, 0.1, 4.0, 2.5, 1.5, 3.0, 0.8]), 0.1),
             hint="n = 10: k = ceil(11 x 0.9) = ceil(9.9) = 10, the LARGEST score (4.0). The (n + 1) counts the test "
                  "point; np.quantile(scores, 0.9) and ceil(n (1 - alpha)) = 9 leave it out."),
        Case("13 scores, alpha = 0.25", (np.array([7.0, 1, 12, 3, 9, 5, 11, 2, 8, 13, 4, 10, 6]) / 4, 0.25),
             hint="k = ceil(14 x 0.75) = ceil(10.5) = 11 (a ceiling, not a floor or a rounding; not an interpolated "
                  "quantile): q_hat = 11 / 4 = 2.75."),
        Case("ties: the k-th smallest counts repeated scores", (np.array([3.0, 1, 1, 4, 2, 3, 1, 3, 2, 3]), 0.3),
             hint="k = ceil(11 x 0.7) = 8; sorted scores 1 1 1 2 2 3 3 3 3 4, the 8th is 3. Keep repeated scores "
                  "(no np.unique)."),
        Case("(n + 1)(1 - alpha) is a whole number in floating point only after rounding", (np.arange(9.0, 0, -1), 0.7),
             hint="10 * (1 - 0.7) is 3.0000000000000004 in floating point: round (n + 1)(1 - alpha) to 9 decimals "
                  "before the ceiling, so k = 3 (q_hat = 3.0), not 4. (If you rounded: np.quantile at level k / n with "
                  "method 'higher' or 'nearest' is not the k-th smallest score; take np.sort(scores)[k - 1].)"),
        Case("15 scores, alpha = 0.1: k = n", (np.array([0.7, 1.5, 0.2, 1.1, 0.9, 0.4, 1.3, 0.1, 1.0, 0.6, 1.4, 0.3,
                                                          0.8, 1.2, 0.5]), 0.1),
             hint="k = ceil(16 x 0.9) = ceil(14.4) = 15 = n: q_hat is the LARGEST score, 1.5. np.quantile at level 0.9, "
                  "or at (n + 1)(1 - alpha) / n = 0.96 with method 'nearest' or the default interpolation, does not give "
                  "the k-th smallest score; take np.sort(scores)[k - 1]."),
        Case("S&P 500: 504 absolute daily returns, alpha = 0.05", (scores, 0.05), hint=formula),
        Case("8 scores are too few for alpha = 0.1: raise ValueError", (np.arange(1.0, 9.0), 0.1), raises="ValueError",
             hint="k = ceil(9 x 0.9) = 9 > n = 8: no finite interval has the guarantee, so raise ValueError (do not "
                  "return the largest score or infinity)."),
        Case("alpha outside (0, 1): raise ValueError", (np.arange(1.0, 21.0), 1.5), raises="ValueError",
             hint="alpha must be strictly between 0 and 1 (alpha = 0.1 asks for 90%): raise ValueError otherwise."),
    ]


# ----------------------------------------------------------------------------- 07.2 pinball loss
def _pinball_cases():
    r = _returns()[-250:]
    return [
        Case("the lesson's three points, tau = 0.05", (np.array([1.0, -2.0, 0.5]), np.array([0.0, 0.0, 0.5]), 0.05),
             hint="e = y - q: e = 1 costs tau x 1 = 0.05, e = -2 costs (1 - tau) x 2 = 1.9, e = 0 costs 0; mean = 0.65."),
        Case("a high quantile, tau = 0.9", (np.array([2.0, 0.0, -1.0, 3.0]), np.array([1.0, 1.0, 1.0, 1.0]), 0.9),
             hint="Under-forecasting (y > q) costs tau per unit, over-forecasting (y < q) costs 1 - tau: "
                  "(0.9 + 0.1 + 0.2 + 1.8) / 4 = 0.75."),
        Case("S&P 500 2018 against a constant q = -1.6%, tau = 0.05", (r, np.full(250, -1.6), 0.05),
             hint="The mean over the points of max(tau (y - q), (tau - 1)(y - q)); not a sum, not tau |y - q|."),
        Case("tau = 0.5 is half the absolute error", (np.array([1.0, -1.0, 4.0]), np.array([0.0, 0.0, 0.0]), 0.5),
             hint="At tau = 0.5 each point costs |e| / 2: mean = (0.5 + 0.5 + 2) / 3 = 1.0."),
        Case("tau outside (0, 1): raise ValueError", (np.array([1.0]), np.array([0.0]), 1.0), raises="ValueError",
             hint="tau must be strictly between 0 and 1: raise ValueError otherwise."),
        Case("tau = 0: raise ValueError", (np.array([1.0]), np.array([0.0]), 0.0), raises="ValueError",
             hint="tau must be strictly between 0 and 1 on both ends: raise ValueError for tau <= 0 too."),
    ]


# ----------------------------------------------------------------------------- 07.3 coverage and width
def _coverage_cases():
    r = _returns()[-250:]
    return [
        Case("five points, one on each bound", (np.array([0.0, 1.0, -1.0, 2.5, -3.0]), np.full(5, -1.0), np.full(5, 1.0)),
             hint="Bounds are inclusive: lower <= y <= upper counts as covered (3 of 5 here); width = mean(upper - "
                  "lower) = 2.0."),
        Case("intervals of different widths", (np.array([0.5, 0.2, 3.0, -0.1]), np.array([0.0, -1.0, 1.0, -0.5]),
                                               np.array([1.0, 0.0, 2.0, 0.5])),
             hint="Coverage is a share between 0 and 1 (here 2 of 4 = 0.5), not a count; width is the mean of "
                  "upper - lower (1, 1, 1, 1 -> 1.0), the full width, not the half-width."),
        Case("S&P 500 2018 in a +-1.645% band", (r, np.full(250, -1.645), np.full(250, 1.645)),
             hint="Return a tuple (coverage, mean width)."),
        Case("misses above and below", (np.array([5.0, -5.0, 0.0]), np.array([-1.0, -1.0, -2.0]),
                                        np.array([1.0, 1.0, 4.0])),
             hint="A point is covered only if it is inside on BOTH sides: lower <= y AND y <= upper (1 of 3 here)."),
        Case("below the lower bound, though |y| is under the upper one",
             (np.array([-1.25, 0.4, 1.0]), np.array([-1.2, -0.2, 0.5]), np.array([1.3, 0.3, 1.5])),
             hint="The interval is [lower, upper], not symmetric around 0: y = -1.25 < lower = -1.2 is a miss although "
                  "|y| <= upper = 1.3. Test lower <= y AND y <= upper (1 of 3 covered here); width = mean(2.5, 0.5, 1.0) "
                  "= 1.333."),
        Case("a lower bound above its upper bound: raise ValueError", (np.array([0.0, 0.0]), np.array([-1.0, 1.0]),
                                                                       np.array([1.0, 0.5])), raises="ValueError",
             hint="lower[1] = 1.0 > upper[1] = 0.5 is not an interval: raise ValueError instead of scoring it."),
        Case("a zero-width interval is legal", (np.array([0.5, 1.0]), np.array([0.5, 0.0]), np.array([0.5, 2.0])),
             hint="lower == upper is an interval of width 0 (ACI can produce one); only lower > upper is an error. "
                  "Here both points are covered: (1.0, 1.0)."),
    ]


# ----------------------------------------------------------------------------- 07.4 moving-block indices
def _block_cases():
    rng = np.random.default_rng(4)
    n, block = 60, 7
    starts = rng.integers(0, n - block + 1, size=9)
    return [
        Case("n = 10, blocks of 3", (10, 3, np.array([2, 7, 0, 4])),
             hint="Block j is starts[j], starts[j] + 1, ..., starts[j] + block - 1 (block positions, end excluded): "
                  "2 3 4 | 7 8 9 | 0 1 2 | 4, cut to the first n = 10."),
        Case("blocks in the given order, not sorted", (8, 2, np.array([5, 1, 3, 0])),
             hint="Keep the blocks in the order of `starts` (5 6 1 2 3 4 0 1): a block bootstrap draws starts at "
                  "random; sorting them changes the resample."),
        Case("the last block is cut", (60, 7, starts),
             hint="9 blocks of 7 give 63 positions: keep the first n = 60 (cut the end of the last block)."),
        Case("a block of 1 is the i.i.d. bootstrap", (5, 1, np.array([4, 4, 0, 2, 1])),
             hint="With block = 1 each start is one position: the result is `starts` itself."),
        Case("a start past n - block: raise ValueError", (10, 3, np.array([0, 3, 8, 1])), raises="ValueError",
             hint="A moving block must fit inside 0..n-1: starts run from 0 to n - block (= 7 here). Raise ValueError "
                  "for start 8 (wrapping around to 0 is the CIRCULAR bootstrap, another method)."),
        Case("too few blocks: raise ValueError", (10, 3, np.array([0, 3, 6])), raises="ValueError",
             hint="3 blocks of 3 give 9 < n = 10 positions: raise ValueError."),
        Case("a negative start: raise ValueError", (10, 3, np.array([0, -2, 5, 1])), raises="ValueError",
             hint="Starts run from 0 to n - block: a negative start would read positions before the series (Python's "
                  "negative indexing wraps silently). Raise ValueError."),
    ]


# ----------------------------------------------------------------------------- 07.5 one ACI step
def _aci_cases():
    return [
        Case("a hit", (0.1, 0.1, 0.005, 0.3, -1.2, 1.3),
             hint="err = 0 when lower <= y <= upper; alpha_next = alpha_t + gamma (alpha - err) = 0.1 + 0.005 x 0.1 "
                  "= 0.1005."),
        Case("a miss", (0.1005, 0.1, 0.005, -1.845, -1.169, 1.257),
             hint="err = 1 when y is outside; alpha_next = alpha_t + gamma (alpha - 1) = 0.1005 - 0.005 x 0.9 = 0.096 "
                  "(a miss lowers alpha_t: wider intervals next)."),
        Case("on the upper bound is a hit", (0.08, 0.1, 0.01, 1.5, -1.5, 1.5),
             hint="The bounds are inclusive: y = upper is covered, err = 0: 0.08 + 0.01 x 0.1 = 0.081."),
        Case("alpha_t away from alpha: the update uses the TARGET alpha", (0.03, 0.1, 0.05, 5.0, -2.0, 2.0),
             hint="The step is gamma (alpha - err) with alpha the target level (0.1), not alpha_t: "
                  "0.03 + 0.05 (0.1 - 1) = -0.015."),
        Case("no clipping below 0", (0.002, 0.1, 0.01, -9.0, -3.0, 3.0),
             hint="Do not clip: alpha_t <= 0 is allowed (it means an infinite interval next): 0.002 - 0.009 = -0.007."),
        Case("below the lower bound, though |y| is under the upper one", (0.1, 0.1, 0.005, -1.25, -1.2, 1.3),
             hint="The interval is [lower, upper], not symmetric: y = -1.25 < lower = -1.2 is a miss (err = 1), "
                  "0.1 - 0.005 x 0.9 = 0.0955."),
        Case("no clipping above 1", (0.999, 0.1, 0.02, 0.0, -1.0, 1.0),
             hint="Do not clip: alpha_t >= 1 is allowed (an empty interval next): 0.999 + 0.002 = 1.001."),
    ]


# ----------------------------------------------------------------------------- 07.7 regime terciles
def _ewma_volatility():
    """The RiskMetrics EWMA volatility forecast for each day (lambda = 0.94), known the evening before, in %."""
    close = data.load_sp500()["Close"]
    r = 100 * np.log(close).diff().dropna()
    return np.sqrt((r ** 2).ewm(alpha=0.06, adjust=False).mean().shift(1))


def _tercile_cases():
    sigma = _ewma_volatility()
    calibration, test = sigma["2013":"2014"].to_numpy(), sigma["2015":"2018"].to_numpy()
    return [
        Case("cut points from the calibration values, not from the values grouped",
             (np.arange(1.0, 10.0), np.array([10.0, 11.0, 12.0, 2.0, 5.0])),
             hint="c1, c2 = np.quantile(calibration, [1/3, 2/3]) = 3.667, 6.333 (the calibration values 1..9); the "
                  "values grouped are all later days and must not move the cut points: 10, 11, 12 are stormy (2), "
                  "2 calm (0), 5 middle (1)."),
        Case("a value on a cut point belongs to the lower group", (np.array([0.0, 3.0, 6.0, 9.0]),
                                                                   np.array([3.0, 6.0, 3.0001, 6.0001])),
             hint="Cut points 3 and 6; v <= c1 is calm (0), c1 < v <= c2 middle (1), v > c2 stormy (2): 3.0 -> 0, "
                  "6.0 -> 1 (compare with <=, not <)."),
        Case("linear interpolation between calibration values", (np.array([16.0, 1.0, 8.0, 2.0, 4.0]),
                                                                 np.array([2.5, 2.7, 6.5, 6.7])),
             hint="np.quantile's default (linear) method: sorted 1 2 4 8 16, c1 at position 4/3 = 2 + (1/3)(4 - 2) = "
                  "2.667, c2 at 8/3 = 4 + (2/3)(8 - 4) = 6.667 (not the 'lower' or 'nearest' value): 0, 1, 1, 2."),
        Case("S&P 500: EWMA volatility, cut points from 2013-14, days of 2015-18", (calibration, test),
             hint="Only the 504 calibration values set the cut points (not the test values, nor both periods "
                  "pooled): 2013-14 was narrow in range and 2015-18 had both calmer and stormier days, so the groups "
                  "come out uneven (436 / 142 / 428)."),
        Case("fewer than 3 calibration values: raise ValueError", (np.array([1.0, 2.0]), np.array([1.5])),
             raises="ValueError", hint="Terciles need at least 3 calibration values: raise ValueError."),
    ]


# ----------------------------------------------------------------------------- 07.6 Winkler score
def _winkler_cases():
    r = _returns()[-250:]
    return [
        Case("three points: inside, below, above", (np.array([0.0, -3.0, 2.0]), np.full(3, -1.0), np.full(3, 1.0), 0.1),
             hint="Width 2 always; a miss adds (2 / alpha) x its distance: below by 2 -> + 40, above by 1 -> + 20; "
                  "mean = (2 + 42 + 22) / 3 = 22."),
        Case("alpha = 0.5", (np.array([1.5, 0.0]), np.array([0.0, -1.0]), np.array([1.0, 1.0]), 0.5),
             hint="The penalty factor is 2 / alpha (= 4 here), not 1 / alpha: ((1 + 4 x 0.5) + 2) / 2 = 2.5."),
        Case("S&P 500 2018 in a +-1.645% band, alpha = 0.1", (r, np.full(250, -1.645), np.full(250, 1.645), 0.1),
             hint="W = mean of (u - l) + (2/alpha)(l - y)[y < l] + (2/alpha)(y - u)[y > u]; the width counts on "
                  "every point, a miss by its distance, not a fixed amount."),
        Case("every point inside: the score is the mean width", (np.array([0.0, 0.5]), np.array([-1.0, 0.0]),
                                                                 np.array([1.0, 3.0]), 0.2),
             hint="No misses: W = mean width = (2 + 3) / 2 = 2.5."),
    ]


EXERCISES = [
    Exercise("07.1", "The split-conformal quantile with the (n+1) correction", "conformal_q", 2,
             conformal_quantile_reference, _conformal_cases,
             "k = ceil(round((n + 1)(1 - alpha), 9)); return the k-th smallest of the n scores (k counts from 1) as a "
             "float; ValueError if k > n or alpha is not in (0, 1).",
             also_implemented_by=("course_lib.ensembles.conformal:conformal_quantile",
                                  "course_lib.ensembles.conformal:conformal_rank",
                                  "course_lib.ensembles.conformal:adaptive_quantile")),
    Exercise("07.2", "The pinball loss", "pinball_loss", 1, pinball_loss_reference, _pinball_cases,
             "e = y_true - y_quantile; return the mean of max(tau e, (tau - 1) e) as a float; ValueError if tau is not "
             "in (0, 1).",
             also_implemented_by=("course_lib.evaluation.metrics:pinball",
                                  "course_lib.ensembles.intervals:PinballLoss.forward")),
    Exercise("07.3", "Empirical coverage and mean width", "coverage_and_width", 1, coverage_and_width_reference,
             _coverage_cases,
             "Return (share of i with lower[i] <= y_true[i] <= upper[i], mean of upper - lower); ValueError where a "
             "lower bound exceeds its upper bound.",
             also_implemented_by=("course_lib.evaluation.metrics:coverage", "course_lib.evaluation.metrics:mean_width")),
    Exercise("07.4", "A moving-block resample of positions", "moving_block_indices", 2, moving_block_indices_reference,
             _block_cases,
             "Concatenate arange(s, s + block) for each s in starts, in the given order, and keep the first n "
             "positions (an integer array); ValueError if a start is outside 0..n - block or the blocks give fewer "
             "than n positions.",
             also_implemented_by=("course_lib.ensembles.ensembles:block_bootstrap_indices",
                                  "course_lib.ensembles.ensembles:iid_bootstrap_indices")),
    Exercise("07.5", "One step of adaptive conformal inference", "aci_step", 2, aci_step_reference, _aci_cases,
             "err = 0 if lower <= y <= upper else 1; return alpha_t + gamma * (alpha - err) as a float, not clipped.",
             also_implemented_by=("course_lib.ensembles.conformal:aci_update",
                                  "course_lib.ensembles.conformal:adaptive_conformal_intervals")),
    Exercise("07.6", "The Winkler (interval) score", "winkler_score", 1, winkler_score_reference, _winkler_cases,
             "Mean over points of (upper - lower) + (2 / alpha)(lower - y) if y < lower + (2 / alpha)(y - upper) if "
             "y > upper, as a float.",
             also_implemented_by=("course_lib.evaluation.metrics:interval_score",)),
    Exercise("07.7", "Volatility terciles with cut points fixed before the test", "regime_terciles", 1,
             regime_terciles_reference, _tercile_cases,
             "c1, c2 = np.quantile(calibration, [1/3, 2/3]); return an integer array, 0 where v <= c1, 1 where "
             "c1 < v <= c2, 2 where v > c2; ValueError with fewer than 3 calibration values.",
             also_implemented_by=("course_lib.ensembles.coverage:volatility_terciles",
                                  "course_lib.ensembles.coverage:tercile_cut_points")),
]

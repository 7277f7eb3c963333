"""Concept drift: detectors that watch a stream (of forecast errors, say) and raise an alarm when it changes, and
the retraining policy that acts on the alarms (guide §7.3.3 problem 6, §7.5.2 "concept drift").

**Page–Hinkley** (Page 1954), a CUSUM test for a change in the mean. With $\\bar x_t$ the mean of $x_1..x_t$,
a tolerance $\\delta$, a fading factor $\\alpha \\le 1$ and a threshold $\\lambda$::

    U_t = alpha U_(t-1) + (x_t - xbar_t - delta)      alarm (increase) when U_t - min_(s<=t) U_s > lambda
    L_t = alpha L_(t-1) + (x_t - xbar_t + delta)      alarm (decrease) when max_(s<=t) L_s - L_t > lambda

tested only once ``min_instances`` values have arrived. With $\\alpha = 1$ it is the textbook test.

**ADWIN** (Bifet & Gavaldà 2007) keeps a window $W$ of recent values and drops its oldest part whenever some split
$W = W_0 W_1$ ($W_0$ older, sizes $n_0, n_1 \\ge$ ``min_window_length``) has means further apart than

    eps_cut = sqrt(2 / m * var_W * ln(2 / delta')) + 2 / (3 m) * ln(2 / delta'),   delta' = delta / ln|W|,
    1 / m = 1 / (n_0 - min_window_length + 1) + 1 / (n_1 - min_window_length + 1),

$\\mathrm{var}_W$ the (population) variance of the window. A drop is an alarm. ADWIN2 stores $W$ as an exponential
histogram (at most ``max_buckets`` buckets of each size $1, 2, 4, \\dots$, each holding a count, a sum and a sum of
squared deviations), so it needs O(log |W|) memory and tries only the splits between buckets; it tests every
``clock`` values once more than ``grace_period`` are in the window. (The $-$``min_window_length``$+1$ in $m$ is
MOA's and river's variant of the paper's harmonic mean; it is followed here so that the alarms match river's.)
The bound assumes values in [0, 1]: its second term is in the data's units, so on small numbers such as daily
returns or their errors ADWIN stays silent. Scale the stream first (e.g. errors divided by their mean on the
training period).

Conventions shared with ``river`` (so that both give the same alarms on the same stream): ``update(x)`` returns
whether this value raised an alarm (``drift_detected``); after an alarm the next ``update`` starts afresh
(river's ``ADWIN`` and ``PageHinkley`` both reset; ``ADWIN(reset_on_drift=False)`` instead keeps the shrunken
window, as the paper and river's internal ``AdaptiveWindowing`` do).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from course_lib.validation import as_1d_float, non_negative_int, positive_int


def _finite(x) -> float:
    value = float(x)
    if not math.isfinite(value):
        raise ValueError(f"a drift detector needs finite values, got {value}")
    return value


class PageHinkley:
    """Page–Hinkley test (module docstring). ``mode``: "up" (increases only), "down" or "both".

    Defaults are river's: ``min_instances=30, delta=0.005, threshold=50, alpha=1 - 1e-4``.
    """

    MODES = ("up", "down", "both")

    def __init__(self, min_instances: int = 30, delta: float = 0.005, threshold: float = 50.0,
                 alpha: float = 1 - 0.0001, mode: str = "both"):
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        if not 0 < alpha <= 1 or threshold <= 0 or delta < 0:
            raise ValueError(f"need 0 < alpha <= 1, threshold > 0, delta >= 0; got {alpha}, {threshold}, {delta}")
        self.min_instances = positive_int(min_instances, "min_instances")
        self.delta, self.threshold, self.alpha, self.mode = delta, threshold, alpha, mode
        self.reset()

    def reset(self) -> None:
        """Forget everything seen so far."""
        self.n, self.mean = 0, 0.0
        self.sum_up, self.sum_down = 0.0, 0.0                # U_t and L_t
        self.min_up, self.max_down = math.inf, -math.inf     # min U_s and max L_s
        self.drift_detected = False

    def statistics(self) -> tuple[float, float]:
        """(U_t - min U, max L - L_t): the two test statistics compared with the threshold."""
        return self.sum_up - self.min_up, self.max_down - self.sum_down

    def update(self, x) -> bool:
        """Add one value; return True when it raises an alarm."""
        x = _finite(x)
        if self.drift_detected:
            self.reset()
        self.n += 1
        self.mean += (x - self.mean) / self.n                # running mean including x
        deviation = x - self.mean
        self.sum_up = self.alpha * self.sum_up + deviation - self.delta
        self.sum_down = self.alpha * self.sum_down + deviation + self.delta
        self.min_up, self.max_down = min(self.min_up, self.sum_up), max(self.max_down, self.sum_down)
        if self.n >= self.min_instances:
            up, down = self.statistics()
            self.drift_detected = (self.mode != "down" and up > self.threshold) or \
                                  (self.mode != "up" and down > self.threshold)
        return self.drift_detected


class ADWIN:
    """ADWIN2 (module docstring). Defaults are river's: ``delta=0.002, clock=32, max_buckets=5,
    min_window_length=5, grace_period=10``.

    ``rows[i]`` holds the buckets of size $2^i$, oldest first, each a pair (sum, squared deviations about its mean);
    row 0 is the newest data. ``width``, ``total`` and ``variance`` (sum of squared deviations) describe the window.
    """

    def __init__(self, delta: float = 0.002, clock: int = 32, max_buckets: int = 5, min_window_length: int = 5,
                 grace_period: int = 10, reset_on_drift: bool = True):
        if not 0 < delta < 1:
            raise ValueError(f"delta must be in (0, 1), got {delta}")
        self.delta, self.reset_on_drift = delta, reset_on_drift
        self.clock = positive_int(clock, "clock")
        self.max_buckets = positive_int(max_buckets, "max_buckets")
        self.min_window_length = positive_int(min_window_length, "min_window_length")
        self.grace_period = non_negative_int(grace_period, "grace_period")
        self.n_detections = 0
        self.reset()

    def reset(self) -> None:
        """Empty the window (``n_detections`` is kept)."""
        self.rows: list[list[tuple[float, float]]] = [[]]
        self.width, self.total, self.variance, self.tick = 0, 0.0, 0.0, 0
        self.drift_detected = False

    @property
    def mean(self) -> float:
        """Mean of the values in the window."""
        return self.total / self.width if self.width else 0.0

    def update(self, x) -> bool:
        """Add one value; every ``clock`` values, drop the oldest buckets while a split is significant.
        Return True when something was dropped (an alarm)."""
        x = _finite(x)
        if self.drift_detected and self.reset_on_drift:
            self.reset()
        self._insert(x)
        self.tick += 1
        self.drift_detected = False
        if self.tick % self.clock == 0 and self.width > self.grace_period:
            while self._significant_split():
                self.drift_detected = True
                self._drop_oldest()
        self.n_detections += self.drift_detected
        return self.drift_detected

    def _insert(self, x: float) -> None:
        """Add x as a new bucket of size 1; update width, sum and M2 (Welford: += (n-1)/n (x - old mean)^2)."""
        self.rows[0].append((x, 0.0))
        self.width += 1
        if self.width > 1:
            deviation = x - self.total / (self.width - 1)
            self.variance += (self.width - 1) * deviation * deviation / self.width
        self.total += x
        self._compress()

    def _compress(self) -> None:
        """A row holding max_buckets + 1 buckets merges its two oldest into one bucket of the next row (twice the size).

        Two buckets of size n with means mu_1, mu_2 merge into (sum_1 + sum_2, M2_1 + M2_2 + n/2 (mu_1 - mu_2)^2).
        """
        for i, row in enumerate(self.rows):
            if len(row) <= self.max_buckets:
                return
            size = 2.0 ** i
            (sum_1, m2_1), (sum_2, m2_2) = row[0], row[1]
            mu_1, mu_2 = sum_1 / size, sum_2 / size
            merged = (sum_1 + sum_2, m2_1 + m2_2 + size * 0.5 * (mu_1 - mu_2) * (mu_1 - mu_2))
            del row[:2]
            if i + 1 == len(self.rows):
                self.rows.append([])
            self.rows[i + 1].append(merged)

    def _drop_oldest(self) -> None:
        """Remove the oldest bucket (size n, sum u, M2 v) and take it out of the window's sum and M2."""
        i = len(self.rows) - 1
        u, v = self.rows[i].pop(0)
        n = 2.0 ** i
        self.width -= int(n)
        self.total -= u
        mu, mu_window = u / n, self.total / self.width
        self.variance -= v + n * self.width * (mu - mu_window) * (mu - mu_window) / (n + self.width)
        if not self.rows[i]:
            self.rows.pop()

    def _significant_split(self) -> bool:
        """Scan the splits between buckets, oldest first; True at the first one with |mean_0 - mean_1| > eps_cut."""
        n_0, n_1, sum_0, sum_1 = 0.0, float(self.width), 0.0, self.total
        for i in range(len(self.rows) - 1, -1, -1):
            size = 2.0 ** i
            for k, (bucket_sum, _) in enumerate(self.rows[i]):
                n_0, n_1 = n_0 + size, n_1 - size
                sum_0, sum_1 = sum_0 + bucket_sum, sum_1 - bucket_sum
                if i == 0 and k == len(self.rows[0]) - 1:
                    return False                               # W_1 would be empty
                if n_0 >= self.min_window_length and n_1 >= self.min_window_length \
                        and abs(sum_0 / n_0 - sum_1 / n_1) > self.epsilon_cut(n_0, n_1):
                    return True
        return False

    def epsilon_cut(self, n_0: float, n_1: float) -> float:
        """The threshold for a split into sizes n_0 (older) and n_1 (module docstring)."""
        log_term = math.log(2.0 * math.log(self.width) / self.delta)             # ln(2 / delta')
        inverse_m = 1.0 / (n_0 - self.min_window_length + 1.0) + 1.0 / (n_1 - self.min_window_length + 1.0)
        return math.sqrt(2.0 * inverse_m * (self.variance / self.width) * log_term) + 2.0 / 3.0 * log_term * inverse_m


def detect_changes(detector, values) -> list[int]:
    """Feed ``values`` to ``detector`` one at a time; the positions whose update raised an alarm.

    Works with this module's detectors and with river's (which expose ``drift_detected`` after ``update``).
    """
    alarms = []
    for position, value in enumerate(as_1d_float(values, "values")):
        detector.update(value)
        if detector.drift_detected:
            alarms.append(position)
    return alarms


# ----------------------------------------------------------------------------- retraining
@dataclass(frozen=True)
class RetrainPolicy:
    """When to refit the model during a stream.

    ``kind="never"``; ``"schedule"``: every ``every`` bars since the last fit; ``"drift"``: on a detector alarm, but
    not within ``min_gap`` bars of the last fit (a cool-down, so one change does not trigger a burst of refits).
    """

    kind: str = "drift"
    every: int | None = None
    min_gap: int = 0

    KINDS = ("never", "schedule", "drift")

    def __post_init__(self):
        if self.kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {self.kind!r}")
        if self.kind == "schedule":
            positive_int(self.every, "every (bars between scheduled refits)")
        non_negative_int(self.min_gap, "min_gap")

    def should_retrain(self, bars_since_fit: int, drift: bool) -> bool:
        """Decide after a bar: refit now?"""
        if self.kind == "schedule":
            return bars_since_fit >= self.every
        if self.kind == "drift":
            return drift and bars_since_fit >= self.min_gap
        return False


Forecast = Callable[[np.ndarray], float]


def replay_with_retraining(values, first: int, fit: Callable[[np.ndarray], Forecast], policy: RetrainPolicy,
                           detector: Callable[[], object] | None = None,
                           monitor: Callable[[float], float] = abs) -> pd.DataFrame:
    """Replay ``values`` from position ``first``: forecast each value from the past, score it, maybe refit.

    ``fit(history)`` trains on ``values[:t+1]`` and returns ``forecast(history) -> next value``; it is called once at
    the start (on ``values[:first]``) and whenever ``policy`` says so after bar t. ``detector()`` builds a fresh
    drift detector (one per fit, so it learns the new model's error level) fed ``monitor(error)``, by default
    |error|. Returns one row per position t >= first: ``forecast``, ``error`` (value - forecast), ``alarm``,
    ``retrained`` (refit after this bar, on data up to and including it).
    """
    series = as_1d_float(values, "values", min_length=2)
    first = positive_int(first, "first")
    if first >= len(series):
        raise ValueError(f"first={first} leaves nothing to replay in {len(series)} values")
    if policy.kind == "drift" and detector is None:
        raise ValueError("a drift policy needs a detector factory, e.g. detector=lambda: PageHinkley()")
    forecast, watcher, last_fit = fit(series[:first]), detector() if detector else None, first - 1
    rows = []
    for t in range(first, len(series)):
        predicted = float(forecast(series[:t]))
        error = series[t] - predicted
        if watcher is not None:
            watcher.update(monitor(error))
        alarm = bool(watcher is not None and watcher.drift_detected)
        retrain = policy.should_retrain(t - last_fit, alarm)
        if retrain:
            forecast, watcher, last_fit = fit(series[:t + 1]), detector() if detector else None, t
        rows.append({"forecast": predicted, "error": error, "alarm": alarm, "retrained": retrain})
    return pd.DataFrame(rows, index=pd.RangeIndex(first, len(series), name="position"))

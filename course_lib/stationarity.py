"""Stationarity tests with readable verdicts: ADF and KPSS from ``arch``.

The two tests have opposite null hypotheses, which is why they are read together:

* ADF (augmented Dickey-Fuller) -- null: the series has a unit root (is not stationary).
  A small p-value rejects the unit root: evidence *for* stationarity.
* KPSS -- null: the series is (level- or trend-) stationary. A small p-value rejects
  stationarity: evidence *against* it.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

from arch.unitroot import ADF, KPSS

from course_lib.validation import as_1d_float

MIN_OBSERVATIONS = 20


@dataclass(frozen=True)
class TestResult:
    """One test's outcome: statistic, p-value, lags used, hypotheses and the verdict at ``alpha``."""

    test: str
    statistic: float
    pvalue: float
    lags: int
    null: str
    alternative: str
    critical_values: dict
    alpha: float

    @property
    def rejects_null(self) -> bool:
        return self.pvalue < self.alpha

    @property
    def suggests_stationary(self) -> bool:
        """ADF rejecting its unit-root null, or KPSS not rejecting its stationarity null."""
        return self.rejects_null if self.test == "ADF" else not self.rejects_null

    def verdict(self) -> str:
        decision = "rejects" if self.rejects_null else "does not reject"
        meaning = "stationary" if self.suggests_stationary else "not stationary"
        pvalue = "< 0.0001" if self.pvalue < 1e-4 else f"{self.pvalue:.4f}"
        return (f"{self.test}: statistic {self.statistic:.3f}, p-value {pvalue}, {self.lags} lags. "
                f"Null: {self.null.rstrip('.').lower()}. At {self.alpha:.0%} the test {decision} the null "
                f"-> suggests {meaning}.")

    def __str__(self) -> str:
        return self.verdict()


def _series(x, name: str):
    return as_1d_float(x, name, min_length=MIN_OBSERVATIONS)


def _result(name: str, test, alpha: float) -> TestResult:
    return TestResult(name, float(test.stat), float(test.pvalue), int(test.lags), test.null_hypothesis,
                      test.alternative_hypothesis, {k: float(v) for k, v in test.critical_values.items()}, alpha)


def adf_test(x, trend: str = "c", lags: int | None = None, alpha: float = 0.05) -> TestResult:
    """Augmented Dickey-Fuller test (``arch.unitroot.ADF``); lags chosen by AIC when ``lags`` is None.

    trend: "n" none, "c" constant, "ct" constant and linear trend.
    """
    return _result("ADF", ADF(_series(x, "x"), trend=trend, lags=lags), alpha)


def kpss_test(x, trend: str = "c", lags: int | None = None, alpha: float = 0.05) -> TestResult:
    """KPSS test (``arch.unitroot.KPSS``); trend "c" tests level stationarity, "ct" trend stationarity.

    With ``lags=None`` the Newey-West bandwidth is chosen from the data (Hobijn et al. 1998),
    arch's current method; its notice about that change is silenced here on purpose.
    """
    values = _series(x, "x")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Lag selection has changed", category=DeprecationWarning)
        test = KPSS(values, trend=trend, lags=lags)
        return _result("KPSS", test, alpha)


def stationarity_report(x, trend: str = "c", alpha: float = 0.05) -> str:
    """Both tests and a combined reading of the four possible outcomes."""
    adf, kpss = adf_test(x, trend, alpha=alpha), kpss_test(x, trend, alpha=alpha)
    if adf.suggests_stationary and kpss.suggests_stationary:
        reading = "both tests agree: stationary"
    elif not adf.suggests_stationary and not kpss.suggests_stationary:
        reading = "both tests agree: not stationary (a unit root); difference the series"
    elif adf.suggests_stationary:
        reading = ("ADF rejects a unit root but KPSS rejects stationarity: no unit root, yet something "
                   "changes over time (e.g. variance or a break); look at the series")
    else:
        reading = "neither test rejects its null: the data cannot tell (often a short series)"
    return f"{adf.verdict()}\n{kpss.verdict()}\nReading: {reading}."

"""Stationarity tests with readable verdicts: ADF and KPSS from ``arch``.

The two tests have opposite null hypotheses, which is why they are read together:

* ADF (augmented Dickey-Fuller) -- null: the series has a unit root (is not stationary).
  A small p-value rejects the unit root: evidence *for* stationarity.
* KPSS -- null: the series is (level- or trend-) stationary. A small p-value rejects
  stationarity: evidence *against* it.

Both test the mean structure (a unit root, a level or a trend), not whether the conditional
variance changes: a stationary GARCH process with volatility clustering passes both.

``arch`` clips both p-values at the ends of its tables (see :func:`pvalue_bounds`); a p-value at a
bound is printed as an inequality ("≤ 0.0001"), never as an exact number.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from arch.unitroot import ADF, KPSS
from arch.unitroot.critical_values.kpss import kpss_critical_values
from arch.utility.exceptions import InfeasibleTestException

from course_lib.validation import as_1d_float

MIN_OBSERVATIONS = 20
SMALLEST_PRINTED_PVALUE = 1e-4


def pvalue_bounds(test: str, trend: str = "c") -> tuple[float, float]:
    """The smallest and largest p-value ``arch`` returns for ``test`` ("ADF" or "KPSS"); beyond them it clips.

    KPSS: p is interpolated linearly (``np.interp``) in arch's table of simulated quantiles
    (``kpss_critical_values[trend]``, percentages); a statistic beyond the table's last quantile
    gets the table's end, p = 0.01 % = 0.0001 (the true p-value is smaller), and 1 at the other end.
    ADF: MacKinnon's (1994) approximation is used between two table statistics; beyond them arch
    returns exactly 0 (true p below 1e-22) or 1 (true p above 0.997).
    """
    if test == "KPSS":
        if trend not in kpss_critical_values:
            raise ValueError(f"trend must be one of {sorted(kpss_critical_values)} for KPSS, got {trend!r}")
        percent = kpss_critical_values[trend][:, 0]
        return float(percent.min()) / 100.0, float(percent.max()) / 100.0
    if test == "ADF":
        return 0.0, 1.0
    raise ValueError(f"test must be 'ADF' or 'KPSS', got {test!r}")


def format_pvalue(pvalue: float, floor: float = 0.0, ceiling: float = 1.0) -> str:
    """A p-value as text: 4 decimals, or an inequality where it is at a clipping bound or below 0.0001.

    At ``floor`` > 0 (KPSS's table end): "≤ 0.0001"; below 0.0001 (ADF's clip to 0 included):
    "< 0.0001"; at ``ceiling``: "≈ 1 (end of arch's table)".
    """
    if pvalue <= floor and floor >= SMALLEST_PRINTED_PVALUE:
        return f"≤ {floor:.4f}"
    if pvalue < SMALLEST_PRINTED_PVALUE:
        return f"< {SMALLEST_PRINTED_PVALUE:.4f}"
    if pvalue >= ceiling:
        return "≈ 1 (end of arch's table)"
    return f"{pvalue:.4f}"


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
    pvalue_floor: float = 0.0
    pvalue_ceiling: float = 1.0

    @property
    def rejects_null(self) -> bool:
        return self.pvalue < self.alpha

    @property
    def suggests_stationary(self) -> bool:
        """ADF rejecting its unit-root null, or KPSS not rejecting its stationarity null."""
        return self.rejects_null if self.test == "ADF" else not self.rejects_null

    @property
    def pvalue_at_bound(self) -> bool:
        """True when arch clipped the p-value at the end of its table (the exact value is unknown)."""
        return self.pvalue <= self.pvalue_floor or self.pvalue >= self.pvalue_ceiling

    @property
    def pvalue_text(self) -> str:
        """The p-value as printed: see :func:`format_pvalue`."""
        return format_pvalue(self.pvalue, self.pvalue_floor, self.pvalue_ceiling)

    def verdict(self) -> str:
        decision = "rejects" if self.rejects_null else "does not reject"
        meaning = "stationary" if self.suggests_stationary else "not stationary"
        return (f"{self.test}: statistic {self.statistic:.3f}, p-value {self.pvalue_text}, {self.lags} lags. "
                f"Null: {self.null.rstrip('.').lower()}. At {self.alpha:.0%} the test {decision} the null "
                f"-> suggests {meaning}.")

    def __str__(self) -> str:
        return self.verdict()


def _series(x, name: str):
    return as_1d_float(x, name, min_length=MIN_OBSERVATIONS)


def _result(name: str, test, trend: str, alpha: float) -> TestResult:
    floor, ceiling = pvalue_bounds(name, trend)
    return TestResult(name, float(test.stat), float(test.pvalue), int(test.lags), test.null_hypothesis,
                      test.alternative_hypothesis, {k: float(v) for k, v in test.critical_values.items()}, alpha,
                      floor, ceiling)


def adf_test(x, trend: str = "c", lags: int | None = None, alpha: float = 0.05) -> TestResult:
    """Augmented Dickey-Fuller test (``arch.unitroot.ADF``); lags chosen by AIC when ``lags`` is None.

    trend: "n" none, "c" constant, "ct" constant and linear trend.
    """
    return _result("ADF", ADF(_series(x, "x"), trend=trend, lags=lags), trend, alpha)


def kpss_test(x, trend: str = "c", lags: int | None = None, alpha: float = 0.05) -> TestResult:
    """KPSS test (``arch.unitroot.KPSS``); trend "c" tests level stationarity, "ct" trend stationarity.

    With ``lags=None`` the Newey-West bandwidth is chosen from the data (Hobijn et al. 1998),
    arch's current method; its notice about that change is silenced here on purpose. Where that choice
    cannot be computed (arch raises ``InfeasibleTestException`` on some over-differenced series), the
    fixed rule $\\lceil 12 (n/100)^{1/4} \\rceil$ (Schwert 1989) is used instead; ``lags`` of the result
    says which bandwidth was used.
    """
    values = _series(x, "x")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Lag selection has changed", category=DeprecationWarning)
        try:
            return _result("KPSS", KPSS(values, trend=trend, lags=lags), trend, alpha)
        except InfeasibleTestException:
            if lags is not None:
                raise
            schwert = min(int(np.ceil(12 * (len(values) / 100) ** 0.25)), len(values) - 1)
            return _result("KPSS", KPSS(values, trend=trend, lags=schwert), trend, alpha)


def stationarity_report(x, trend: str = "c", alpha: float = 0.05) -> str:
    """Both tests and a combined reading of the four possible outcomes."""
    adf, kpss = adf_test(x, trend, alpha=alpha), kpss_test(x, trend, alpha=alpha)
    if adf.suggests_stationary and kpss.suggests_stationary:
        reading = "both tests agree: stationary"
    elif not adf.suggests_stationary and not kpss.suggests_stationary:
        reading = "both tests agree: not stationary (a unit root); difference the series"
    elif adf.suggests_stationary:
        kind, causes = (("level", "a trend: try trend='ct'; a break in the level; or long memory")
                        if trend == "c" else ("trend", "a break in the level or the slope; or long memory"))
        reading = (f"ADF rejects a unit root but KPSS rejects {kind} stationarity: no unit root, yet the mean "
                   f"does not look {'constant' if trend == 'c' else 'like a straight trend'} ({causes}); "
                   "look at the series")
    else:
        reading = "neither test rejects its null: the data cannot tell (often a short series)"
    return f"{adf.verdict()}\n{kpss.verdict()}\nReading: {reading}."

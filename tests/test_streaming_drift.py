"""Chapter 09's drift detectors against river's (same alarms on the same streams), by hand, and the retraining policy."""
import numpy as np
import pytest
from river import drift as river_drift
from river._river_rust.drift import AdaptiveWindowing

from course_lib.streaming.drift import ADWIN, PageHinkley, RetrainPolicy, detect_changes, replay_with_retraining

RIVER_ADWIN = dict(delta=0.002, clock=32, max_buckets=5, min_window_length=5, grace_period=10)


def regime_stream(seed: int) -> np.ndarray:
    """Five to eight stretches of Gaussian noise, each with its own mean and spread."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(rng.uniform(-2, 2), rng.uniform(0.2, 2), size=rng.integers(100, 600))
                           for _ in range(rng.integers(5, 9))])


def abs_error_stream(seed: int) -> np.ndarray:
    """|errors| whose scale jumps, like a forecast's errors through a crisis (a change in the spread, not the mean)."""
    rng = np.random.default_rng(seed)
    return np.abs(np.concatenate([rng.normal(0, s, 400) for s in (0.01, 0.03, 0.01, 0.05)]))


STREAMS = [regime_stream(seed) for seed in range(6)] + [abs_error_stream(seed) for seed in range(3)]
ADWIN_SETTINGS = [{}, dict(delta=0.05, clock=1, min_window_length=3, grace_period=5, max_buckets=3),
                  dict(delta=0.2, clock=7), dict(delta=0.01, clock=4, max_buckets=2, min_window_length=10)]
PH_SETTINGS = [{}, dict(threshold=20, delta=0.1, alpha=0.99, min_instances=10), dict(mode="up", threshold=10),
               dict(mode="down", threshold=10, alpha=1.0), dict(threshold=0.5, delta=0.001, min_instances=50)]


CASES = [(ADWIN, river_drift.ADWIN, settings, 10) for settings in ADWIN_SETTINGS] + \
        [(PageHinkley, river_drift.PageHinkley, settings, 5) for settings in PH_SETTINGS]


@pytest.mark.parametrize("ours, theirs, settings, at_least", CASES,
                         ids=[f"{case[0].__name__}-{k}" for k, case in enumerate(CASES)])
def test_detectors_raise_the_same_alarms_as_river(ours, theirs, settings, at_least):
    total = 0
    for values in STREAMS:
        alarms = detect_changes(ours(**settings), values)
        assert alarms == detect_changes(theirs(**settings), values)
        total += len(alarms)
    assert total >= at_least          # the streams do change: agreement is not just two silent detectors


@pytest.mark.parametrize("settings", ADWIN_SETTINGS)
def test_adwin_without_reset_keeps_river_s_window_exactly(settings):
    """The paper's ADWIN (window shrunk, not emptied, at an alarm) is river's internal AdaptiveWindowing."""
    for values in STREAMS[::2]:
        ours, theirs = ADWIN(reset_on_drift=False, **settings), AdaptiveWindowing(**(RIVER_ADWIN | settings))
        for x in values:
            assert ours.update(x) == theirs.update(float(x))
            assert ours.width == theirs.get_width()
            assert ours.total == pytest.approx(theirs.get_total(), rel=1e-12, abs=1e-9)
            assert ours.variance == pytest.approx(theirs.get_variance(), rel=1e-9, abs=1e-9)


def test_adwin_early_alarms_match_river_at_the_grace_period_and_minimum_window_edges():
    """Jumps soon after the start, tested at every value: where the first test may happen is a convention to match."""
    alarmed = 0
    for grace, min_window_length, delta in ((4, 3, 0.1), (10, 1, 0.5), (15, 3, 0.1), (6, 2, 0.3)):
        for before in range(2, 20):
            values = np.r_[np.zeros(before), 5 * np.ones(25)]
            settings = dict(clock=1, grace_period=grace, min_window_length=min_window_length, delta=delta)
            ours = detect_changes(ADWIN(**settings), values)
            assert ours == detect_changes(river_drift.ADWIN(**settings), values)
            alarmed += bool(ours)
    assert alarmed >= 50


def test_adwin_window_is_the_most_recent_values():
    """Invariants of the exponential histogram: width = the last `width` values, their sum and squared deviations,
    at most max_buckets buckets of each size."""
    values = regime_stream(3)
    detector = ADWIN(reset_on_drift=False, clock=1, max_buckets=3)
    shrunk = False
    for t, x in enumerate(values):
        shrunk |= detector.update(x)
        kept = values[t + 1 - detector.width:t + 1]
        assert detector.total == pytest.approx(kept.sum(), abs=1e-8)
        assert detector.variance == pytest.approx(((kept - kept.mean()) ** 2).sum(), rel=1e-8, abs=1e-8)
        assert sum(len(row) * 2 ** i for i, row in enumerate(detector.rows)) == detector.width
        assert all(len(row) <= 3 for row in detector.rows)
    assert shrunk and detector.width < len(values)


def test_adwin_is_silent_on_a_constant_stream_and_quick_on_a_jump():
    assert detect_changes(ADWIN(), np.ones(3000)) == []
    alarms = detect_changes(ADWIN(clock=1), np.r_[np.zeros(500), np.ones(500)])
    assert alarms and 500 <= alarms[0] < 520


def test_page_hinkley_by_hand():
    """alpha = 1, delta = 0.5, threshold = 3, min_instances = 1 on 0, 0, 0, 4, 4:
    means 0, 0, 0, 1, 1.6; deviations 0, 0, 0, 3, 2.4; U = -0.5, -1, -1.5, 1, 2.9 (min -1.5): U - min = 2.5 at t=3,
    4.4 at t=4 -> alarm at t=4 (not t=3)."""
    detector = PageHinkley(min_instances=1, delta=0.5, threshold=3, alpha=1.0, mode="up")
    alarms = [detector.update(x) for x in (0, 0, 0, 4, 4)]
    assert alarms == [False, False, False, False, True]
    assert detector.statistics()[0] == pytest.approx(4.4)
    assert detector.update(0) is False and detector.n == 1          # the update after an alarm starts afresh


def test_page_hinkley_waits_for_min_instances_and_checks_its_arguments():
    detector = PageHinkley(min_instances=10, threshold=1, delta=0)
    assert not any(detector.update(x) for x in [0, 0, 0, 0, 100, 100])
    with pytest.raises(ValueError, match="mode"):
        PageHinkley(mode="sideways")
    with pytest.raises(ValueError, match="finite"):
        PageHinkley().update(np.nan)
    with pytest.raises(ValueError, match="delta"):
        ADWIN(delta=0)


# ----------------------------------------------------------------------------- retraining
def shifted_series() -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.r_[rng.normal(0, 1, 300), rng.normal(8, 1, 300)]


def fit_mean(history):
    """A model that forecasts the mean of its training data: it must be refitted to follow a level shift."""
    level = float(np.mean(history[-100:]))
    return lambda past: level


def test_retraining_policies_decide_as_specified():
    values = shifted_series()
    never = replay_with_retraining(values, 100, fit_mean, RetrainPolicy("never"))
    assert not never["retrained"].any() and len(never) == 500 and never.index[0] == 100
    scheduled = replay_with_retraining(values, 100, fit_mean, RetrainPolicy("schedule", every=50))
    assert list(scheduled.index[scheduled["retrained"]]) == list(range(149, 600, 50))
    on_drift = replay_with_retraining(values, 100, fit_mean, RetrainPolicy("drift"),
                                      detector=lambda: PageHinkley(threshold=20))
    retrained = list(on_drift.index[on_drift["retrained"]])
    assert retrained == list(on_drift.index[on_drift["alarm"]]) and 300 <= retrained[0] < 320
    np.testing.assert_allclose(never["error"], values[100:] - never["forecast"])


def test_retraining_on_drift_beats_never_after_the_shift_and_respects_the_cool_down():
    values = shifted_series()
    never = replay_with_retraining(values, 100, fit_mean, RetrainPolicy("never"))
    on_drift = replay_with_retraining(values, 100, fit_mean, RetrainPolicy("drift", min_gap=30),
                                      detector=lambda: PageHinkley(threshold=5, min_instances=5))
    after = slice(450, 600)
    assert on_drift["error"].loc[after].abs().mean() < 0.5 * never["error"].loc[after].abs().mean()
    fits = np.flatnonzero(on_drift["retrained"].to_numpy())
    assert len(fits) >= 1 and (np.diff(np.r_[-1, fits]) >= 30).all()


def test_retraining_arguments_are_checked():
    with pytest.raises(ValueError, match="kind"):
        RetrainPolicy("sometimes")
    with pytest.raises(ValueError, match="every"):
        RetrainPolicy("schedule")
    with pytest.raises(ValueError, match="detector"):
        replay_with_retraining(np.arange(10.0), 5, fit_mean, RetrainPolicy("drift"))
    with pytest.raises(ValueError, match="first"):
        replay_with_retraining(np.arange(10.0), 10, fit_mean, RetrainPolicy("never"))

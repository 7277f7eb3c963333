"""The learner's check(): every registered exercise passes with its reference and fails with a stub or a wrong answer."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from course_lib.grading import all_exercises, check, run_checks
from course_lib.grading.check import FAILED, NOT_IMPLEMENTED, PASSED

EXERCISE_IDS = list(all_exercises())


def stub(*args, **kwargs):
    raise NotImplementedError


def returns_zero(*args, **kwargs):
    return 0.0


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_reference_passes_every_case(exercise_id):
    exercise = all_exercises()[exercise_id]
    report = run_checks(exercise_id, exercise.reference)
    assert report.status == PASSED, report.summary()
    assert report.points == exercise.points
    assert len(exercise.cases()) >= 3


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_stub_is_not_implemented_and_scores_zero(exercise_id):
    report = run_checks(exercise_id, stub)
    assert report.status == NOT_IMPLEMENTED and report.points == 0
    assert "not implemented yet" in report.summary()


@pytest.mark.parametrize("exercise_id", EXERCISE_IDS)
def test_a_wrong_answer_fails(exercise_id):
    report = run_checks(exercise_id, returns_zero)
    assert report.status == FAILED and report.points == 0


def test_fail_message_names_the_case_expected_got_and_hint(capsys):
    def log_returns_without_check(prices):
        with np.errstate(divide="ignore"):
            return np.log(prices).diff().iloc[1:]

    check("00.1", log_returns_without_check)
    out = capsys.readouterr().out
    assert out.startswith("FAIL  00.1 log_returns: 3/4 cases pass")
    assert "case 'a zero price must raise ValueError': expected ValueError to be raised, got a Series" in out
    assert "hint: ln(0) is -inf" in out


def test_a_value_mismatch_reports_expected_and_got(capsys):
    def simple_instead_of_log(prices):
        if (prices <= 0).any():
            raise ValueError("prices must be positive")
        return (prices / prices.shift(1) - 1).iloc[1:]

    check("00.1", simple_instead_of_log)
    out = capsys.readouterr().out
    assert "case 'first six S&P 500 closes': the Series's values: 5 of 5 value(s) differ; first at position 0 " \
           "(index 1999-01-05T00:00:00): expected 0.01349" in out


def test_pass_and_todo_lines(capsys):
    from course_lib import stats
    check("00.3", stats.excess_kurtosis)
    check("00.3", stub)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "PASS  00.3 excess_kurtosis: 3/3 cases (1 point)"
    assert out[1].startswith("TODO  00.3 excess_kurtosis: not implemented yet")


def test_an_exception_in_the_answer_is_reported_not_raised(capsys):
    def broken(x):
        return 1 / 0

    check("00.3", broken)
    assert "raised ZeroDivisionError: division by zero" in capsys.readouterr().out


def test_check_wants_the_function_not_its_result():
    with pytest.raises(TypeError, match="without parentheses"):
        run_checks("00.3", 0.5)


def test_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="known exercises: 00.1"):
        run_checks("99.9", stub)


def test_answers_get_copies_of_the_inputs():
    def mutating(x):
        x[:] = 0.0
        raise NotImplementedError

    run_checks("00.3", mutating)
    assert run_checks("00.3", all_exercises()["00.3"].reference).passed


def _late_label_windows(values, window, horizon):
    n = len(values) - window - horizon
    return np.array([values[i:i + window] for i in range(n)]), np.array([values[i + window + horizon] for i in range(n)])


def _leaky_minmax(train, test):
    both = np.concatenate([train, test])
    return (train - both.min()) / np.ptp(both), (test - both.min()) / np.ptp(both)


PLAUSIBLE_MISTAKES = {  # exercise -> (the mistake, an answer that makes it)
    "00.2": ("np.corrcoef of the two slices", lambda x, lag: float(np.corrcoef(x[lag:], x[:len(x) - lag])[0, 1])),
    "00.3": ("bias-corrected kurtosis", lambda x: float(scipy_stats.kurtosis(x, bias=False))),
    "00.4": ("sample std (ddof=1)", lambda x, k: float(np.mean(np.abs(x - x.mean()) > k * x.std(ddof=1)))),
    "01.3": ("one bias per gate", lambda d, h, n: 4 * h * (d + h + 1) + (n - 1) * 4 * h * (2 * h + 1)),
    "01.5": ("product from the first step", lambda f: np.cumprod(f, axis=0)),
    "02.3": ("simple-return compounding", lambda r, p0: p0 * np.cumprod(1 + r)),
    "03.1": ("pandas ewm(adjust=False)", lambda x, n: x.ewm(span=n, adjust=False).mean()),
    "03.2": ("Cutler's rolling-mean RSI", lambda c, n: 100 - 100 / (1 + c.diff().clip(lower=0).rolling(n).mean()
                                                                    / (-c.diff()).clip(lower=0).rolling(n).mean())),
    "03.4": ("pandas std (ddof=1)", lambda c, n, k: pd.DataFrame({
        "upper": c.rolling(n).mean() + k * c.rolling(n).std(), "middle": c.rolling(n).mean(),
        "lower": c.rolling(n).mean() - k * c.rolling(n).std()})),
    "04.1": ("label one step too late", _late_label_windows),
    "04.2": ("scaler fitted on train and test", _leaky_minmax),
}


@pytest.mark.parametrize("exercise_id", sorted(PLAUSIBLE_MISTAKES))
def test_plausible_mistakes_fail_their_exercise(exercise_id):
    mistake, answer = PLAUSIBLE_MISTAKES[exercise_id]
    with np.errstate(all="ignore"):
        assert run_checks(exercise_id, answer).status == FAILED, mistake

"""Learner-side checks: ``check("00.1", my_function)`` prints PASS, FAIL (with the case, expected vs got, a hint) or TODO."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from course_lib.grading.plain import UnsupportedAnswer, compare, describe, to_plain
from course_lib.grading.registry import Case, Exercise, get_exercise

PASSED, FAILED, NOT_IMPLEMENTED = "passed", "failed", "not implemented"


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ""
    hint: str | None = None


@dataclass
class CheckReport:
    """Outcome of running one exercise's cases against an answer."""

    exercise: Exercise
    status: str
    cases: list[CaseResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def points(self) -> int:
        """All or nothing: the exercise's points when every case passes, else 0."""
        return self.exercise.points if self.passed else 0

    def summary(self) -> str:
        ex = self.exercise
        head = f"{ex.id} {ex.function}"
        if self.status == NOT_IMPLEMENTED:
            return (f"TODO  {head}: not implemented yet. Replace `raise NotImplementedError` "
                    "with your code, run that cell, then run this check again.")
        n_ok = sum(c.passed for c in self.cases)
        if self.passed:
            return f"PASS  {head}: {n_ok}/{len(self.cases)} cases ({ex.points} point{'s' * (ex.points != 1)})"
        failed = next(c for c in self.cases if not c.passed)
        return (f"FAIL  {head}: {n_ok}/{len(self.cases)} cases pass\n"
                f"  case {failed.name!r}: {failed.message}\n"
                f"  hint: {failed.hint or ex.hint}")


def expected_outcome(exercise: Exercise, case: Case):
    """Plain-data result of the trusted reference on ``case`` (``None`` for a case that must raise)."""
    if case.raises:
        return None
    return to_plain(exercise.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))


def judge_case(exercise: Exercise, case: Case, expected, outcome: dict) -> CaseResult:
    """Compare one case's outcome (plain data: ``{"value": ...}`` or ``{"raised": [class names]}``) with the expectation."""
    if case.raises:
        raised = outcome.get("raised")
        if raised is None:
            message = f"expected {case.raises} to be raised, got {describe(outcome.get('value'))}"
        elif case.raises not in raised:
            message = f"expected {case.raises} to be raised, got {raised[0]}: {outcome.get('error', '')}"
        else:
            return CaseResult(case.name, True)
        return CaseResult(case.name, False, message, case.hint)
    if "raised" in outcome:
        return CaseResult(case.name, False, f"raised {outcome['raised'][0]}: {outcome.get('error', '')}", case.hint)
    problem = compare(expected, outcome["value"], exercise.rtol, exercise.atol)
    return CaseResult(case.name, problem is None, problem or "", case.hint)


def run_answer(function, case: Case) -> dict:
    """Call ``function`` on a copy of the case's inputs; return its outcome as plain data.

    ``NotImplementedError`` propagates (the untouched stub); any other exception is recorded.
    """
    try:
        value = function(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    except NotImplementedError:
        raise
    except Exception as err:  # the learner's bug is feedback, not a crash of check()
        return {"raised": [c.__name__ for c in type(err).__mro__], "error": str(err)[:300]}
    try:
        return {"value": to_plain(value)}
    except UnsupportedAnswer as err:
        return {"raised": ["UnsupportedAnswer"], "error": str(err)}


def run_checks(exercise_id: str, function) -> CheckReport:
    """Run every public case of an exercise against ``function`` and return the report (prints nothing)."""
    exercise = get_exercise(exercise_id)
    if not callable(function):
        raise TypeError(f"check({exercise_id!r}, ...) needs your function itself, e.g. "
                        f"check({exercise_id!r}, {exercise.function}) without parentheses; got {describe(function)}")
    results = []
    for case in exercise.cases():
        try:
            outcome = run_answer(function, case)
        except NotImplementedError:
            return CheckReport(exercise, NOT_IMPLEMENTED)
        results.append(judge_case(exercise, case, expected_outcome(exercise, case), outcome))
    status = PASSED if all(r.passed for r in results) else FAILED
    return CheckReport(exercise, status, results)


def check(exercise_id: str, function) -> None:
    """Check your answer to an exercise and print PASS, FAIL (which case, expected vs got, a hint) or TODO."""
    print(run_checks(exercise_id, function).summary())

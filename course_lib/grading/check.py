"""Learner-side checks: ``check("00.1", my_function)`` prints PASS, TODO, or FAIL with every failing case.

A FAIL lists each failing case (its name and expected vs got, briefly) followed by the hint
that explains it: cases with a hint of their own (written for one plausible mistake) come
first, cases that only have the exercise's general hint last, and a hint shared by several
cases is printed once, after them.

A checklist item (``Exercise.judge``, chapter 10) is not compared case by case: its function is called on every
case and the judge gives one verdict on all the outcomes, printed with its reason; with ``Exercise.time_limit_s``
the calls together must also finish within that budget.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from course_lib.environment import seed_everything
from course_lib.grading.plain import UnsupportedAnswer, compare, describe, to_plain
from course_lib.grading.registry import Case, Exercise, get_exercise

PASSED, FAILED, NOT_IMPLEMENTED = "passed", "failed", "not implemented"


MESSAGE_CHARS = 160


@dataclass
class CaseResult:
    name: str
    passed: bool
    message: str = ""
    hint: str | None = None  # the case's own hint; None where only the exercise's hint applies


def brief(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def hint_groups(failed: list, hint_of) -> list[tuple[list, str]]:
    """Failing cases grouped by the hint that explains them, most specific first.

    ``hint_of(case)`` gives ``(hint, own)``: the hint shown for the case and whether it is the case's own
    (written for one mistake) rather than the exercise's general hint. Groups of cases with their own
    hint come first, in the order their first case was registered; the general hint's group comes last.
    """
    groups: dict[str, list] = {}
    general: set[str] = set()
    for case in failed:
        hint, own = hint_of(case)
        groups.setdefault(hint, []).append(case)
        if not own:
            general.add(hint)
    return [(cases, hint) for hint, cases in sorted(groups.items(), key=lambda item: item[0] in general)]


def hint_label(n_cases: int) -> str:
    return "hint" if n_cases == 1 else f"hint for the {n_cases} cases above"


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
        if ex.judge is not None:
            return self._judged_summary(head)
        if self.passed:
            return f"PASS  {head}: {n_ok}/{len(self.cases)} cases ({ex.points} point{'s' * (ex.points != 1)})"
        lines = [f"FAIL  {head}: {n_ok}/{len(self.cases)} cases pass"]
        failed = [c for c in self.cases if not c.passed]
        for group, hint in hint_groups(failed, lambda c: (c.hint or ex.hint, c.hint is not None)):
            lines += [f"  ✗ case {c.name!r}: {brief(c.message)}" for c in group]
            lines.append(f"    {hint_label(len(group))}: {hint}")
        return "\n".join(lines)

    def _judged_summary(self, head: str) -> str:
        """A judged exercise (a checklist item) has one verdict with its reason, and the hint on a FAIL."""
        verdict = self.cases[0]
        if self.passed:
            return f"PASS  {head}: {self.exercise.title} — {brief(verdict.message, 300)}"
        return (f"FAIL  {head}: {self.exercise.title}\n  ✗ {brief(verdict.message, 600)}\n"
                f"    hint: {self.exercise.hint}")


def expected_outcome(exercise: Exercise, case: Case):
    """Plain-data result of the trusted reference on ``case`` (``None`` for a case that must raise)."""
    if case.raises:
        return None
    return to_plain(exercise.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))


def judge_case(exercise: Exercise, case: Case, expected, outcome: dict) -> CaseResult:
    """Compare one case's outcome with the expectation.

    An outcome is plain data: ``{"value": ...}``, ``{"raised": [class names], "error": ...}``, or
    ``{"returned": "a generator"}`` for an answer that returned something plain data cannot hold.
    """
    returned = outcome.get("returned")
    if case.raises:
        raised = outcome.get("raised")
        if returned is not None:
            message = f"expected {case.raises} to be raised; your function returned {returned}"
        elif raised is None:
            message = f"expected {case.raises} to be raised, got {describe(outcome.get('value'))}"
        elif case.raises not in raised:
            message = f"expected {case.raises} to be raised, got {raised[0]}: {outcome.get('error', '')}"
        else:
            return CaseResult(case.name, True)
        return CaseResult(case.name, False, message, case.hint)
    if returned is not None:
        fix = " (build a list, e.g. list(...) of it)" if "generator" in returned or "iterator" in returned else ""
        return CaseResult(case.name, False, f"returned {returned}; expected {describe(expected)}{fix}", case.hint)
    if "raised" in outcome:
        return CaseResult(case.name, False, f"raised {outcome['raised'][0]}: {outcome.get('error', '')}", case.hint)
    problem = compare(expected, outcome["value"], exercise.rtol, exercise.atol)
    return CaseResult(case.name, problem is None, problem or "", case.hint)


def run_answer(function, case: Case) -> dict:
    """Call ``function`` on a copy of the case's inputs; return its outcome as plain data.

    ``NotImplementedError`` propagates (the untouched stub); any other exception is recorded,
    and so is a returned object that is not plain data (its kind, in words). The global generators are
    seeded with ``case.global_seed`` first, as the grader's worker does, so check() and the grader see the same
    outcomes.
    """
    seed_everything(case.global_seed)
    try:
        value = function(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
    except NotImplementedError:
        raise
    except Exception as err:  # the learner's bug is feedback, not a crash of check()
        return {"raised": [c.__name__ for c in type(err).__mro__], "error": str(err)[:300]}
    try:
        return {"value": to_plain(value)}
    except UnsupportedAnswer as err:
        return {"returned": err.what[:300]}


def run_checks(exercise_id: str, function) -> CheckReport:
    """Run every public case of an exercise against ``function`` and return the report (prints nothing)."""
    exercise = get_exercise(exercise_id)
    if not callable(function):
        raise TypeError(f"check({exercise_id!r}, ...) needs your function itself, e.g. "
                        f"check({exercise_id!r}, {exercise.function}) without parentheses; got {describe(function)}")
    if exercise.judge is not None:
        return run_judged(exercise, function)
    results = []
    for case in exercise.cases():
        try:
            outcome = run_answer(function, case)
        except NotImplementedError:
            return CheckReport(exercise, NOT_IMPLEMENTED)
        results.append(judge_case(exercise, case, expected_outcome(exercise, case), outcome))
    status = PASSED if all(r.passed for r in results) else FAILED
    return CheckReport(exercise, status, results)


def over_budget(exercise: Exercise, seconds: float) -> str | None:
    """The reason a run of ``seconds`` breaks the exercise's time budget, or None."""
    if exercise.time_limit_s is None or seconds <= exercise.time_limit_s:
        return None
    return (f"took {seconds:.1f} s, more than the time budget of {exercise.time_limit_s:g} s "
            f"for {exercise.function} on the check data")


def judged_verdict(exercise: Exercise, outcomes: list[dict]) -> tuple[bool, str]:
    """``exercise.judge(outcomes)`` as (passed, reason); a judge that cannot read the outcomes fails them, saying so."""
    try:
        passed, reason = exercise.judge(outcomes)
    except Exception as err:  # noqa: BLE001 - outcomes of an unexpected shape are the answer's problem
        return False, f"the results could not be read ({type(err).__name__}: {str(err)[:200]})"
    return bool(passed), str(reason)


def run_judged(exercise: Exercise, function) -> CheckReport:
    """A checklist item: call ``function`` on every case, then ``exercise.judge(outcomes)`` decides, unless the
    calls together took longer than ``exercise.time_limit_s``."""
    outcomes, started = [], time.perf_counter()
    for case in exercise.cases():
        try:
            outcomes.append(run_answer(function, case))
        except NotImplementedError:
            return CheckReport(exercise, NOT_IMPLEMENTED)
    late = over_budget(exercise, time.perf_counter() - started)
    passed, reason = (False, late) if late else judged_verdict(exercise, outcomes)
    return CheckReport(exercise, PASSED if passed else FAILED, [CaseResult(exercise.title, passed, reason)])


def check(exercise_id: str, function) -> None:
    """Check your answer to an exercise and print PASS, TODO, or FAIL with every failing case and its hint."""
    print(run_checks(exercise_id, function).summary())

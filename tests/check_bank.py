"""The three tests every chapter's bank of answers runs (imported by tests/test_checks_chNN.py):

* the chapter registers exactly its exercises, worth the stated points;
* the trusted reference and an independent correct answer pass every case;
* each plausible wrong answer fails and is shown the hint written for its mistake (``mistake_is_caught``).

Usage, at the end of a chapter's file::

    (test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
     test_a_plausible_mistake_fails_with_its_hint) = bank_tests(points=9, right=RIGHT, mistakes=MISTAKES)
"""
import pytest

from course_lib.grading import all_exercises, run_checks
from course_lib.grading.check import PASSED


def bank_tests(points: int, right: dict, mistakes: dict):
    ids = tuple(right)
    chapter = ids[0][:2]
    bank = [(exercise, mistake, answer, hint) for exercise, items in mistakes.items() for mistake, answer, hint in items]

    def test_the_chapter_registers_its_exercises():
        assert [i for i in all_exercises() if i.startswith(f"{chapter}.")] == list(ids)
        assert sum(all_exercises()[i].points for i in ids) == points
        assert sorted(mistakes) == sorted(ids) and all(len(items) >= 3 for items in mistakes.values())

    @pytest.mark.parametrize("exercise_id", ids)
    def test_the_reference_and_an_independent_answer_pass(exercise_id):
        assert run_checks(exercise_id, all_exercises()[exercise_id].reference).status == PASSED
        report = run_checks(exercise_id, right[exercise_id])
        assert report.status == PASSED, report.summary()

    @pytest.mark.parametrize("exercise_id, mistake, answer, hint", bank, ids=[f"{b[0]} {b[1]}" for b in bank])
    def test_a_plausible_mistake_fails_with_its_hint(exercise_id, mistake, answer, hint, mistake_is_caught):
        mistake_is_caught(exercise_id, mistake, answer, hint)

    return (test_the_chapter_registers_its_exercises, test_the_reference_and_an_independent_answer_pass,
            test_a_plausible_mistake_fails_with_its_hint)

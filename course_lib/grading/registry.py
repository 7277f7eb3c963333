"""The exercise registry: every graded exercise, its points, public cases and trusted reference.

An exercise is written once, in a solution notebook; its grading spec lives
here, in the module of its chapter (``course_lib.grading.chNN``). The learner's
``check()`` and the instructor's grader both read this registry, so they agree.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from collections.abc import Callable

CHAPTER_MODULES = (
    "course_lib.grading.ch00",
    "course_lib.grading.ch01",
    "course_lib.grading.ch02",
    "course_lib.grading.ch03",
    "course_lib.grading.ch04",
    "course_lib.grading.ch05",
    "course_lib.grading.ch06",
    "course_lib.grading.ch07",
    "course_lib.grading.ch08",
    "course_lib.grading.ch09",
    "course_lib.grading.ch10",
)
EXERCISE_ID = re.compile(r"^\d\d\.\d+$")


@dataclass(frozen=True)
class Case:
    """One public test case: call the answer with ``args``/``kwargs``.

    With ``raises`` set (an exception class name such as ``"ValueError"``), the
    answer must raise that exception (or a subclass) instead of returning. Python's, NumPy's and torch's
    global generators are seeded with ``global_seed`` just before the call (by check() and by the grader's
    worker alike): a case that repeats another with a different ``global_seed`` shows whether the answer
    draws from the global generators instead of seeding its own.
    """

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    raises: str | None = None
    hint: str | None = None
    global_seed: int = 0


@dataclass(frozen=True)
class Exercise:
    """A graded exercise: the learner defines ``function``; it must agree with ``reference`` on every case.

    Two optional fields serve a checklist item that is not "equal to a reference" (chapter 10):

    * ``judge(outcomes) -> (passed, reason)`` is called with the outcomes of every public case, in order
      (each plain data: ``{"value": ...}``, ``{"raised": [...], "error": ...}`` or ``{"returned": ...}``),
      instead of comparing each with the reference's; ``reference`` is still the worked example's function
      (the source scan and the tests use it);
    * ``time_limit_s``: the exercise's time budget in seconds: its public cases together must finish within
      it (``check()`` measures them; the grader makes it the exercise's limit in the sandbox).
    """

    id: str
    title: str
    function: str
    points: int
    reference: Callable[..., Any]
    cases: Callable[[], list[Case]]
    hint: str
    rtol: float = 1e-7
    atol: float = 1e-10
    also_implemented_by: tuple[str, ...] = ()
    judge: Callable[[list[dict]], tuple[bool, str]] | None = None
    time_limit_s: float | None = None

    def __post_init__(self):
        if not EXERCISE_ID.match(self.id):
            raise ValueError(f"exercise id {self.id!r} must look like '02.1' (chapter.number)")
        if self.points < 1:
            raise ValueError(f"exercise {self.id}: points must be positive, got {self.points}")
        if self.time_limit_s is not None and not self.time_limit_s > 0:
            raise ValueError(f"exercise {self.id}: time_limit_s must be positive, got {self.time_limit_s}")

    @property
    def chapter(self) -> str:
        return self.id.split(".")[0]

    @property
    def implementations(self) -> tuple[str, ...]:
        """"module:qualname" of every course function that solves this exercise: the reference and
        ``also_implemented_by``. An answer that calls one of them is not the learner's work."""
        own = f"{self.reference.__module__}:{self.reference.__qualname__}"
        return (own, *self.also_implemented_by)


@cache
def all_exercises() -> dict[str, Exercise]:
    """Every registered exercise by id, in chapter order."""
    found: dict[str, Exercise] = {}
    for module_name in CHAPTER_MODULES:
        for exercise in importlib.import_module(module_name).EXERCISES:
            if exercise.id in found:
                raise ValueError(f"exercise id {exercise.id} is registered twice")
            found[exercise.id] = exercise
    return found


def get_exercise(exercise_id: str) -> Exercise:
    """The exercise with this id; a ``KeyError`` listing the known ids otherwise."""
    exercises = all_exercises()
    if exercise_id not in exercises:
        raise KeyError(f"no exercise {exercise_id!r}; known exercises: {', '.join(exercises)}")
    return exercises[exercise_id]

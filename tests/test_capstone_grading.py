"""The capstone graded end to end by the instructor's grader, in its bubblewrap sandbox (chapter 10).

The worked example (the solution notebook) earns every point; a submission with one deliberate mistake loses
exactly the checklist item it breaks, and its status says why; a submission that calls the course's worked
example instead of its own code is told that it is not available while grading. One batch, graded once.
"""
import re
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import ch10
from course_lib.grading.grader import grade_cohort
from course_lib.grading.report import feedback_markdown
from course_lib.grading.registry import all_exercises

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "10_capstone_solutions.ipynb"
IDS = [i for i in all_exercises() if i.startswith("10.")]
TRAIN_ONLY = 'Scaler("standard").fit(values[:rows[parts["train"][-1]] + 1])'
GAPPED = "val_start = n_train + horizon\n    test_start = val_start + n_val + horizon"


def solution_edited(old: str, new: str):
    """The solution notebook with one piece of its code replaced (it must occur exactly once)."""
    nb = nbformat.read(SOLUTION, as_version=4)
    sources = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    assert sum(source.count(old) for source in sources) == 1, old
    for cell in nb.cells:
        if cell.cell_type == "code" and old in cell.source:
            cell.source = cell.source.replace(old, new)
    return nb


SUBMISSIONS = {
    "worked": lambda: nbformat.read(SOLUTION, as_version=4),
    "leaky_scaler": lambda: solution_edited(TRAIN_ONLY, 'Scaler("standard").fit(values)'),
    "no_gap": lambda: solution_edited(GAPPED, "val_start = n_train\n    test_start = val_start + n_val"),
    "calls_example": lambda: solution_edited(
        "def capstone_forecast(data, horizon, seed):\n",
        "from course_lib.capstone.example import forecast_with\n\n\n"
        "def capstone_forecast(data, horizon, seed):\n    return forecast_with(data, horizon, seed)\n\n\n"
        "def unused(data, horizon, seed):\n"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("capstone_submissions")
    for name, make in SUBMISSIONS.items():
        nbformat.write(make(), folder / f"{name}.ipynb")
    results, _ = grade_cohort(folder, jobs=2, chapters={"10"})
    graded = {result.student: {row.exercise: row for row in result.exercises} for result in results}
    graded["feedback"] = {result.student: feedback_markdown(result) for result in results}
    return graded


def test_the_worked_example_earns_every_point(graded):
    rows = graded["worked"]
    assert sorted(rows) == IDS
    assert all(row.status == "ok" for row in rows.values()), {i: r.status for i, r in rows.items()}
    assert sum(row.points for row in rows.values()) == sum(all_exercises()[i].points for i in IDS) == 13
    verdict = rows["10.4"].cases[0]
    assert verdict["passed"] and re.search(r"MASE model 3\.\d+, naive 3\.671, drift 3\.597", verdict["message"])


@pytest.mark.parametrize("student, item, reason", [
    ("leaky_scaler", "10.3", "even the earliest test forecast moved, so something was fitted on rows after it"),
    ("no_gap", "10.2", "only 0 positions between train and val with horizon 5"),
])
def test_a_broken_variant_loses_exactly_its_item_with_the_reason(graded, student, item, reason):
    rows = graded[student]
    failed = sorted(i for i, row in rows.items() if row.status != "ok")
    assert failed == [item], {i: r.status for i, r in rows.items()}
    assert rows[item].points == 0 and reason in rows[item].status
    assert rows[item].cases[0]["hint"] == all_exercises()[item].hint


def test_the_worked_example_is_not_available_while_grading_the_capstone(graded):
    rows = graded["calls_example"]
    assert "not available while grading chapter 10" in rows["10.3"].status
    assert rows["10.1"].status == rows["10.2"].status == "ok"


def test_the_feedback_lists_the_rubric_for_the_instructor_unscored(graded):
    """Items no code can judge (the report, the interpretation) reach the instructor in every capstone feedback."""
    assert len(ch10.RUBRIC) >= 3
    for student in SUBMISSIONS:
        feedback = graded["feedback"][student]
        section = feedback.split("## For the instructor to judge (not scored): chapter 10", 1)
        assert len(section) == 2, student
        assert [line[6:] for line in section[1].splitlines() if line.startswith("- [ ] ")] == ch10.RUBRIC

"""The instructor grader on a batch of real and broken submissions (chapter 00 exercises).

One batch is graded once (module fixture) with short time limits; each test checks one
student's rows. Every broken submission must get a result row with a reason, and the
rest of the batch must still be graded.
"""
import csv
import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import submission
from course_lib.grading.__main__ import main as grader_main
from course_lib.grading.grader import GRADER_VERSION, discover
from course_lib.grading.plain import InvalidPlainData, validate_plain

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "00_course_map_and_data_solutions.ipynb"
STUB = ROOT / "exercises" / "00_course_map_and_data_exercises.ipynb"
FAST = ["--cell-seconds", "4", "--exercise-seconds", "6", "--submission-seconds", "90", "--memory-mb", "2048",
        "--output-bytes", "200000"]
EXERCISES = ["00.1", "00.2", "00.3", "00.4"]


def solution_with(function: str | None = None, body: str | None = None, extra_cells=(), drop=None, duplicate=None):
    """The solution notebook with one exercise function's cell replaced, dropped or duplicated."""
    nb = nbformat.read(SOLUTION, as_version=4)
    cells = []
    for cell in nb.cells:
        defines = cell.cell_type == "code" and re.search(r"^def (\w+)\(", cell.source, re.M)
        name = defines.group(1) if defines else None
        if name and name == drop:
            continue
        if name and name == function:
            cell = nbformat.v4.new_code_cell(body)
        cells.append(cell)
        if name and name == duplicate:
            cells.append(nbformat.v4.new_code_cell(cell.source))
    setup = next(i for i, c in enumerate(cells) if "course_lib.setup" in c.source)
    for offset, source in enumerate(extra_cells):
        cells.insert(setup + 1 + offset, nbformat.v4.new_code_cell(source))
    nb.cells = cells
    return nb


def write(folder: Path, name: str, nb) -> None:
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("out")
    shutil.copy(SOLUTION, subs / "alice.ipynb")
    shutil.copy(STUB, subs / "stub.ipynb")
    (subs / "bad_json.ipynb").write_text('{"cells": [ this is not json')
    write(subs, "empty", nbformat.v4.new_notebook())
    write(subs, "deleted_cell", solution_with(drop="autocorrelation"))
    write(subs, "duplicated_cell", solution_with(duplicate="log_returns"))
    write(subs, "infinite_loop", solution_with("excess_kurtosis", "def excess_kurtosis(x):\n    while True:\n        pass"))
    write(subs, "os_exit", solution_with("tail_frequency", "import os\ndef tail_frequency(x, k):\n    os._exit(0)"))
    write(subs, "sys_exit", solution_with("excess_kurtosis", "import sys\ndef excess_kurtosis(x):\n    sys.exit(1)"))
    write(subs, "memory_bomb", solution_with("autocorrelation",
                                             "def autocorrelation(x, lag):\n    block = bytearray(10**11)\n    return 0.0"))
    write(subs, "huge_output", solution_with("log_returns",
                                             "def log_returns(prices):\n    for _ in range(10**6):\n        print('x' * 100)\n"))
    write(subs, "asks_input", solution_with("log_returns", "def log_returns(prices):\n    return float(input('answer? '))"))
    write(subs, "import_error", solution_with(extra_cells=["import this_module_does_not_exist"]))
    write(subs, "rigged_eq", solution_with("excess_kurtosis",
                                           "class Anything(float):\n    def __eq__(self, other):\n        return True\n"
                                           "def excess_kurtosis(x):\n    return Anything(0.0)"))
    write(subs, "monkeypatch", solution_with("tail_frequency", "def tail_frequency(x, k):\n    return 0.5",
                                             extra_cells=["import builtins, numpy\nnumpy.allclose = lambda *a, **k: True\n"
                                                          "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                                                          "builtins.abs = lambda v: 0"]))
    write(subs, "fake_results", solution_with("excess_kurtosis", "def excess_kurtosis(x):\n    return 0.0", extra_cells=[
        "import os, json\nfor name in ('results.json', 'grades.csv'):\n    open(name, 'w').write('alice,00.3,1,1,ok')\n"
        f"try:\n    open({str(out / 'grades.csv')!r}, 'w').write('fake')\nexcept OSError as err:\n    print(err)\n"
        "for fd in range(3, 256):\n    try:\n        os.write(fd, b'{\"type\": \"done\"}\\n')\n    except OSError:\n        pass"]))
    write(subs, "peeks_at_alice", solution_with("excess_kurtosis",
                                                "def excess_kurtosis(x):\n"
                                                f"    source = open({str(subs / 'alice.ipynb')!r}).read()\n"
                                                "    return 0.0 if 'def excess_kurtosis' in source else 1.0"))
    write(subs, "calls_reference", solution_with("excess_kurtosis",
                                                 "from course_lib.stats import excess_kurtosis as course_kurtosis\n"
                                                 "def excess_kurtosis(x):\n    return course_kurtosis(x)"))
    write(subs, "hides_reference", solution_with("autocorrelation",
                                                 "import importlib\ndef autocorrelation(x, lag):\n"
                                                 "    module = importlib.import_module('course_lib.' + 'stats')\n"
                                                 "    return getattr(module, 'autocorrelation')(x, lag)"))
    (subs / "dan").mkdir()
    shutil.copy(SOLUTION, subs / "dan" / "chapter00.ipynb")
    code = grader_main(["grade", str(subs), "--out", str(out), "--jobs", "2", *FAST])
    assert code == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {(r["student"], r["exercise"]): r for r in rows}
    return {"rows": rows, "table": table, "out": out, "subs": subs}


def status(graded, student, exercise):
    return graded["table"][(student, exercise)]["status"]


def points(graded, student):
    return sum(int(r["points"]) for r in graded["rows"] if r["student"] == student)


def test_every_student_has_a_row_per_exercise(graded):
    students = {r["student"] for r in graded["rows"]}
    assert len(students) == 20
    for student in students:
        assert sorted(r["exercise"] for r in graded["rows"] if r["student"] == student) == EXERCISES
    assert list(graded["rows"][0]) == ["student", "exercise", "points", "max_points", "status"]


def test_full_solution_scores_full_marks(graded):
    assert points(graded, "alice") == 6 and points(graded, "dan") == 6
    assert all(status(graded, "alice", e) == "ok" for e in EXERCISES)


def test_untouched_stub_scores_zero(graded):
    assert points(graded, "stub") == 0
    assert all(status(graded, "stub", e) == "not implemented" for e in EXERCISES)


BROKEN = [  # student, exercise, how its status starts, the student's total points (of 6)
    ("bad_json", "00.1", "invalid notebook: bad_json.ipynb: not valid JSON", 0),
    ("empty", "00.1", "not found: no function named log_returns", 0),
    ("deleted_cell", "00.2", "not found: no function named autocorrelation", 4),
    ("infinite_loop", "00.3", "timeout: still running after 6 s", 5),
    ("os_exit", "00.4", "crashed: the process exited with status 0", 5),
    ("sys_exit", "00.3", "failed case 'hand-made series with one outlier': raised SystemExit", 5),
    ("memory_bomb", "00.2", "memory limit", 4),
    ("huge_output", "00.1", "output limit", 4),
    ("asks_input", "00.1", "failed case 'a zero price must raise ValueError': expected ValueError to be raised, "
                           "got EOFError", 4),
    ("rigged_eq", "00.3", "failed case 'hand-made series with one outlier': returned an object of type Anything "
                          "(a subclass of float; return a plain float); expected the number 0.2467", 5),
    ("monkeypatch", "00.4", "failed case 'hand-made series, k=1': expected 0.2, got 0.5", 5),
]


@pytest.mark.parametrize("student, exercise, start, total", BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_submission_costs_only_what_it_breaks(graded, student, exercise, start, total):
    assert status(graded, student, exercise).startswith(start)
    assert points(graded, student) == total


def test_duplicated_cell_is_graded_and_noted(graded):
    assert points(graded, "duplicated_cell") == 6
    result = json.loads((graded["out"] / "results" / "duplicated_cell.json").read_text())
    notes = next(e for e in result["exercises"] if e["exercise"] == "00.1")["notes"]
    assert notes == ["log_returns is defined 2 times; the last definition run was graded"]


def test_exception_at_import_is_reported_and_the_rest_graded(graded):
    assert points(graded, "import_error") == 6
    feedback = (graded["out"] / "feedback" / "import_error.md").read_text()
    assert "ModuleNotFoundError: No module named 'this_module_does_not_exist'" in feedback


def test_fake_results_files_and_forged_messages_earn_nothing(graded):
    assert int(graded["table"][("fake_results", "00.3")]["points"]) == 0
    assert status(graded, "fake_results", "00.1").startswith("crashed: no result was reported")
    text = (graded["out"] / "grades.csv").read_text()
    assert text.startswith("student,exercise,points,max_points,status\n") and "\nfake\n" not in text


def test_reading_another_students_submission_is_refused(graded):
    assert "PermissionError" in status(graded, "peeks_at_alice", "00.3")


def test_calling_the_course_reference_earns_nothing_and_is_flagged(graded):
    assert status(graded, "calls_reference", "00.3") == \
        "flagged: calls the course's own implementation course_lib.stats:excess_kurtosis"
    assert status(graded, "hides_reference", "00.2").startswith("flagged: calls the course's own implementation")
    review = (graded["out"] / "review.csv").read_text()
    assert "calls_reference,exercise 00.3" in review and "hides_reference" in review
    assert "dynamic import (importlib)" in review


def test_results_json_records_version_hash_and_hides_private_details(graded):
    result = json.loads((graded["out"] / "results" / "alice.json").read_text())
    assert result["grader_version"] == GRADER_VERSION and len(result["checks_sha256"]) == 64
    assert result["points"] == result["max_points"] == 6
    feedback = (graded["out"] / "feedback" / "stub.md").read_text()
    assert "**Score: 0 / 6 points**" in feedback and "not implemented" in feedback


def test_feedback_lists_every_failed_case_with_its_hint_like_check(graded):
    """tail_frequency returning 0.5 fails all seven cases: the feedback lists them as check() does, own hints first,
    each followed by the hint that explains it, and the exercise's general hint once, after the last three."""
    feedback = (graded["out"] / "feedback" / "monkeypatch.md").read_text()
    section = feedback.split("## Exercise 00.4\n", 1)[1].split("\n## ", 1)[0].strip().splitlines()
    assert section[0] == "Result: failed case 'hand-made series, k=1': expected 0.2, got 0.5"
    assert section[1:3] == ["- case **hand-made series, k=1**: expected 0.2, got 0.5",
                            "  - hint: Count |x - mean| > k * std with the population std (ddof=0), divided by n."]
    assert sum(line.startswith("- case **") for line in section) == 7
    assert section[-4:-1] == ["- case **S&P 500 log returns, k=3**: expected 0.01590457256, got 0.5",
                              "- case **S&P 500 log returns, k=4**: expected 0.006361829026, got 0.5",
                              "- case **a normal sample, k=2**: expected 0.0452, got 0.5"]
    assert section[-1] == "  - hint for the 3 cases above: Share of observations with |x - mean| > k * std " \
                          "(population std, ddof=0)."
    result = json.loads((graded["out"] / "results" / "monkeypatch.json").read_text())
    cases = next(e for e in result["exercises"] if e["exercise"] == "00.4")["cases"]
    assert [c["own_hint"] for c in cases] == [False, False, False, True, True, True, True]


# ----------------------------------------------------------------------------- reproducibility, private checks
def test_regrading_gives_identical_files(graded, tmp_path):
    """Grading again, sequentially instead of in parallel, writes byte-identical grades and results."""
    names = ("alice", "stub", "rigged_eq", "infinite_loop")
    subset = tmp_path / "subset"
    subset.mkdir()
    for name in names:
        shutil.copy(graded["subs"] / f"{name}.ipynb", subset)
    again = tmp_path / "again"
    assert grader_main(["grade", str(subset), "--out", str(again), "--jobs", "1", *FAST]) == 0
    for name in names:
        assert (again / "results" / f"{name}.json").read_bytes() == \
            (graded["out"] / "results" / f"{name}.json").read_bytes()
        assert (again / "feedback" / f"{name}.md").read_bytes() == (graded["out"] / "feedback" / f"{name}.md").read_bytes()
    original = {k: v for k, v in graded["table"].items() if k[0] in names}
    with open(again / "grades.csv", newline="") as handle:
        assert {(r["student"], r["exercise"]): r for r in csv.DictReader(handle)} == original


PRIVATE = '''
import numpy as np
from course_lib.grading import Case

PRIVATE_CASES = {
    "00.3": [Case("secret uniform sample", (np.linspace(-1.0, 1.0, 11),))],
    "00.4": lambda: [Case("secret: k = 0.5", (np.arange(10.0), 0.5))],
}
'''


def test_private_checks_count_but_stay_private(tmp_path):
    subs, checks = tmp_path / "subs", tmp_path / "checks"
    subs.mkdir()
    checks.mkdir()
    (checks / "secret.py").write_text(PRIVATE)
    shutil.copy(SOLUTION, subs / "alice.ipynb")
    write(subs, "lazy", solution_with("excess_kurtosis", "def excess_kurtosis(x):\n"  # hard-codes the public answers
                                      "    known = {5030: 8.169196103558178, 2000: -0.09316500841643194, 5: 0.2467164893}\n"
                                      "    return known.get(len(x), 0.0)"))
    out = tmp_path / "out"
    assert grader_main(["grade", str(subs), "--out", str(out), "--checks", str(checks), *FAST]) == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(handle)}
    assert rows[("alice", "00.3")]["status"] == "ok" and rows[("alice", "00.4")]["status"] == "ok"
    assert rows[("lazy", "00.3")]["status"] == "failed a private check 'secret uniform sample'"
    feedback = (out / "feedback" / "lazy.md").read_text()
    assert "a private check failed: secret uniform sample" in feedback and "linspace" not in feedback
    result = json.loads((out / "results" / "lazy.json").read_text())
    private = [c for e in result["exercises"] for c in e["cases"] if c["private"]]
    assert private and all(c["message"] == "" and c["hint"] == "" for c in private)


def test_unknown_private_exercise_is_an_error(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    shutil.copy(SOLUTION, tmp_path / "subs" / "a.ipynb")
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "x.py").write_text("PRIVATE_CASES = {'99.9': []}")
    code = grader_main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "o"), "--checks", str(tmp_path / "checks")])
    assert code == 2 and "unknown exercises: 99.9" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the parts, without processes
def test_discover_files_and_folders(tmp_path):
    (tmp_path / "ann.ipynb").write_text("{}")
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / "b.ipynb").write_text("{}")
    (tmp_path / "ben" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "ben" / ".ipynb_checkpoints" / "b-checkpoint.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("")
    found = discover(tmp_path)
    assert list(found) == ["ann", "ben"] and [p.name for p in found["ben"]] == ["b.ipynb"]


def test_static_reference_detection_resolves_imports(tmp_path):
    from course_lib.grading import get_exercise
    cases = {
        "import course_lib.stats\ndef excess_kurtosis(x):\n    return course_lib.stats.excess_kurtosis(x)": True,
        "from course_lib import stats as s\ndef helper(x):\n    return s.excess_kurtosis(x)\n"
        "def excess_kurtosis(x):\n    return helper(x)": True,
        "from course_lib.stats import *\ndef excess_kurtosis(x):\n    return 0.0": True,
        "from course_lib import stats\ndef excess_kurtosis(x):\n    return stats.tail_frequency(x, 1)": False,
        "import numpy as np\ndef excess_kurtosis(x):\n    return float(np.mean(x))": False,
    }
    for source, expected in cases.items():
        path = tmp_path / "nb.ipynb"
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(source)]
        nbformat.write(nb, path)
        uses = submission.reference_uses(submission.read_notebook(path), get_exercise("00.3"))
        assert bool(uses) is expected, source


def test_methods_of_course_classes_count_as_uses(tmp_path):
    from course_lib.grading import get_exercise
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from course_lib.preprocessing import Scaler\n"
                                          "def train_only_minmax(train, test):\n    s = Scaler().fit(train)\n"
                                          "    return s.transform(train), s.transform(test)")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    assert submission.reference_uses(submission.read_notebook(path), get_exercise("04.2"))


@pytest.mark.parametrize("value", [
    {"kind": "array", "dtype": "number", "shape": [2], "data": [1.0]},
    {"kind": "array", "dtype": "number", "shape": [1], "data": ["1"]},
    {"kind": "series", "index": ["a"], "values": 1.0},
    {"kind": "evil"}, [1, 2], {"kind": "sequence", "items": [object]},
])
def test_untrusted_plain_data_is_validated(value):
    with pytest.raises(InvalidPlainData):
        validate_plain(value)


def test_learner_self_checks_are_not_run_but_still_name_the_chapter(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def f(x):\n    return x"),
                nbformat.v4.new_code_cell("check('02.1',\n      f)\nresult = f(1)\nif result:\n    check('02.1', f)")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    notebook = submission.read_notebook(path)
    assert notebook.cells[1] == "pass\n\nresult = f(1)\nif result:\n    check('02.1', f)"
    assert notebook.chapters == {"02"}


def test_a_crash_in_one_notebook_costs_one_exercise_of_a_multi_notebook_submission(tmp_path):
    """A student's notebooks share a worker; os._exit in chapter 00 must not cost the chapter 02 notebook."""
    folder = tmp_path / "subs" / "erin"
    folder.mkdir(parents=True)
    write(folder, "a_chapter00", solution_with("tail_frequency", "import os\ndef tail_frequency(x, k):\n    os._exit(0)"))
    shutil.copy(ROOT / "solutions" / "02_stationarity_and_differencing_solutions.ipynb", folder / "b_chapter02.ipynb")
    out = tmp_path / "out"
    assert grader_main(["grade", str(tmp_path / "subs"), "--out", str(out), "--chapters", "00,02", *FAST]) == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = {r["exercise"]: r for r in csv.DictReader(handle)}
    assert rows["00.4"]["status"].startswith("crashed")
    assert all(r["status"] == "ok" for e, r in rows.items() if e != "00.4")
    assert sum(int(r["points"]) for r in rows.values()) == 11
    result = json.loads((out / "results" / "erin.json").read_text())
    # two restarts: the notebook's last cell calls tail_frequency too, so os._exit fires in that cell, then in 00.4
    assert [n["worker_restarts"] for n in result["notebooks"]] == [2, 2]
    assert list(result["notebooks"][0]["cell_failures"].values()) == ["crashed: the process exited with status 0"]

"""The grader on the folder a large class hands in (issue 22): odd entries cost only their own rows,
gradebooks are safe to open in a spreadsheet, runs are atomic (SIGKILL) and interruptible (Ctrl-C).

One cohort is graded once (module fixture) in bubblewrap sandboxes, in a subprocess whose own peak
memory is measured; two more runs are killed on purpose.
"""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.grading import submission
from course_lib.grading.report import cell, totals_csv

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "00_course_map_and_data_solutions.ipynb"
STUB = ROOT / "exercises" / "00_course_map_and_data_exercises.ipynb"
FAST = ["--cell-seconds", "4", "--exercise-seconds", "6", "--submission-seconds", "90", "--memory-mb", "2048",
        "--output-bytes", "200000"]
MARKER = 987653  # processes the killed runs' students leave: none may survive
RUN_AND_MEASURE = ("import resource, sys\nfrom course_lib.grading.__main__ import main\ncode = main(sys.argv[1:])\n"
                   "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\nsys.exit(code)")


def grader(*args) -> list[str]:
    return [sys.executable, "-c", RUN_AND_MEASURE, "grade", *map(str, args)]


def with_cell(base: Path, source: str, position: int = 2):
    nb = nbformat.read(base, as_version=4)
    nb.cells.insert(position, nbformat.v4.new_code_cell(source))
    return nb


def marked_processes() -> list[str]:
    """Processes anywhere on this machine that sleep for MARKER seconds (left by the killed runs' students)."""
    found = subprocess.run(["pgrep", "-a", "-f", f"sleep {MARKER}"], capture_output=True, text=True)
    return found.stdout.splitlines()


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    subs = tmp_path_factory.mktemp("class")
    out = tmp_path_factory.mktemp("out")
    (subs / "honest.ipynb").write_bytes(SOLUTION.read_bytes())
    literal = "DATA = [" + ", ".join(["0.5"] * 1_200_000) + "]\n"   # a 6 MB list literal in one cell
    nbformat.write(with_cell(SOLUTION, literal), subs / "big_cell.ipynb")
    (subs / "=1+1.ipynb").write_bytes(STUB.read_bytes())
    for name in ("Casey", "casey", "김철수", "이영희"):
        nbformat.write(nbformat.v4.new_notebook(), subs / f"{name}.ipynb")
    os.mkfifo(subs / "fifo.ipynb")
    os.mkfifo(subs / "pipe_student")
    os.symlink(ROOT / "solutions", subs / "sneaky")
    os.symlink(SOLUTION, subs / "linked.ipynb")
    (subs / "not_json.ipynb").write_text("print('hello')\n")
    (subs / "deep_json.ipynb").write_text("[" * 200_000 + "]" * 200_000)
    (subs / "folder.ipynb").mkdir()
    (subs / "empty_folder").mkdir()
    non_text = nbformat.v4.new_notebook()
    non_text.cells.append(nbformat.v4.new_code_cell("x = 1"))
    document = json.loads(nbformat.writes(non_text))
    document["cells"][0]["source"] = [1, 2, {"a": None}]
    (subs / "non_text.ipynb").write_text(json.dumps(document))
    (subs / "bell\x07name.ipynb").write_bytes(STUB.read_bytes())
    (subs / ("long" * 60 + ".ipynb")).write_bytes(STUB.read_bytes())
    with open(subs / "huge.ipynb", "wb") as handle:   # 100 MB, sparse: rejected by its size, never read
        handle.truncate(100 * 2**20)
    started = time.monotonic()
    done = subprocess.run(grader(subs, "--out", out, "--jobs", "2", *FAST), capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    peak = int(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("PEAK_KB")))
    return {"rows": rows, "out": out, "subs": subs, "peak_kb": peak, "seconds": seconds, "stdout": done.stdout}


def statuses(cohort, student) -> set[str]:
    return {r["status"] for r in cohort["rows"] if r["student"] == student}


def test_the_honest_student_gets_full_marks_in_the_odd_cohort(cohort):
    rows = [r for r in cohort["rows"] if r["student"] == "honest"]
    assert len(rows) == 4 and all(r["status"] == "ok" and r["points"] == r["max_points"] for r in rows)


@pytest.mark.parametrize("student, reason", [
    ("fifo", "not a regular file (a named pipe (FIFO))"),
    ("pipe_student", "not a regular file (a named pipe (FIFO))"),
    ("sneaky", "not a regular file (a symbolic link, not followed)"),
    ("linked", "not a regular file (a symbolic link, not followed)"),
    ("not_json", "not valid JSON"),
    ("deep_json", "nested too deeply"),
    ("folder", "not a regular file (a directory)"),
    ("non_text", "a code cell's source is not text"),
    ("huge", "100 MB, more than the 50 MB allowed"),
])
def test_each_odd_entry_gets_its_own_row_with_a_reason(cohort, student, reason):
    found = statuses(cohort, student)
    assert len(found) == 1
    status = found.pop()
    assert status.startswith("invalid notebook: ") and reason in status, status
    assert all(r["points"] == "0" for r in cohort["rows"] if r["student"] == student)


def test_symlinks_are_not_followed_to_the_solutions(cohort):
    graded = {r["student"] for r in cohort["rows"] if r["points"] != "0"}
    assert graded == {"honest", "big_cell"}


def test_empty_folders_long_and_control_character_names_get_rows(cohort):
    assert statuses(cohort, "empty_folder") == {"not found: no notebook submitted"}
    for name in ("bell\x07name", "long" * 60):
        assert statuses(cohort, name) == {"not implemented"}
    stems = [p.name for p in (cohort["out"] / "feedback").iterdir()]
    assert all(len(s.encode()) < 255 and "\x07" not in s for s in stems)


def test_a_6_mb_cell_costs_neither_time_nor_memory_in_the_grader(cohort):
    assert cohort["peak_kb"] < 1024 * 1024, cohort["peak_kb"]
    assert cohort["seconds"] < 240
    assert {r["status"] for r in cohort["rows"] if r["student"] == "big_cell"} == {"ok"}
    result = json.loads(next((cohort["out"] / "results").glob("big_cell.json")).read_text())
    assert any("too large to scan" in finding for finding in result["review"])


def test_formula_names_are_neutralised_and_readable(cohort):
    text = (cohort["out"] / "grades.csv").read_text(encoding="utf-8")
    assert "\n'=1+1,00.1," in text and "\n=1+1" not in text
    assert [cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ann", 3)] == \
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ann", 3]


def test_file_names_are_unique_on_case_insensitive_normalising_disks(cohort):
    names = [p.stem for p in (cohort["out"] / "results").iterdir()]
    import unicodedata
    keys = [unicodedata.normalize("NFC", n).casefold() for n in names]
    assert len(set(keys)) == len(keys) == len({r["student"] for r in cohort["rows"]})


def test_totals_csv_has_one_row_per_student_with_chapter_columns(cohort):
    with open(cohort["out"] / "totals.csv", newline="", encoding="utf-8") as handle:
        table = list(csv.reader(handle))
    assert table[0] == ["student", "total", "max", "chapter 00"]
    by_student = {row[0]: row[1:] for row in table[1:]}
    assert len(by_student) == len({r["student"] for r in cohort["rows"]})
    honest_points = sum(int(r["points"]) for r in cohort["rows"] if r["student"] == "honest")
    assert by_student["honest"] == [str(honest_points), str(honest_points), str(honest_points)]
    assert by_student["'=1+1"][0] == "0"


def test_no_temporary_files_are_left(cohort):
    assert not [p for p in cohort["out"].rglob("*") if "tmp" in p.name]


def test_read_bytes_never_opens_a_fifo_for_blocking(tmp_path):
    os.mkfifo(tmp_path / "x.ipynb")
    started = time.monotonic()
    with pytest.raises(submission.InvalidNotebook, match="named pipe"):
        submission.read_notebook(tmp_path / "x.ipynb")
    assert time.monotonic() - started < 1


def test_totals_of_no_students_is_a_header_only():
    assert totals_csv([]) == "student,total,max\n"


# ----------------------------------------------------------------------------- killed runs
def _slow_cohort(folder: Path, loops: int) -> None:
    folder.mkdir()
    (folder / "honest.ipynb").write_bytes(SOLUTION.read_bytes())
    for k in range(loops):
        nbformat.write(with_cell(SOLUTION, f"import subprocess\nsubprocess.Popen(['sleep', '{MARKER}'])\n"
                                           "while True:\n    pass"), folder / f"loop{k}.ipynb")


def _wait_for_marker(timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if marked_processes():
            return True
        time.sleep(0.2)
    return False


def test_sigkill_leaves_the_previous_gradebook_and_nothing_else(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    _slow_cohort(subs, 2)
    out.mkdir()
    (out / "grades.csv").write_text("student,exercise,points,max_points,status\nprevious,00.1,2,2,ok\n")
    (out / "totals.csv").write_text("student,total,max,chapter 00\nprevious,2,2,2\n")
    process = subprocess.Popen(grader(subs, "--out", out, "--jobs", "2", "--cell-seconds", "60"), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert _wait_for_marker(60), "the sandboxes never started"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
    end = time.monotonic() + 10
    while marked_processes() and time.monotonic() < end:
        time.sleep(0.2)
    assert marked_processes() == []
    assert (out / "grades.csv").read_text().endswith("previous,00.1,2,2,ok\n")
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv", "totals.csv"]


def test_ctrl_c_stops_within_5_s_and_names_who_was_not_graded(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    _slow_cohort(subs, 3)
    process = subprocess.Popen(grader(subs, "--out", out, "--jobs", "2", "--cell-seconds", "60"), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for_marker(60), "the sandboxes never started"
        time.sleep(0.5)
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        stopped = time.monotonic() - sent
    finally:
        if process.poll() is None:
            process.kill()
    print(f"Ctrl-C stopped the run in {stopped:.2f} s")
    assert process.returncode == 130, err
    assert stopped < 5, stopped
    assert "not graded" in err and "loop0" in err and "loop2" in err
    assert marked_processes() == []
    assert not (out / "grades.csv").exists()


# ----------------------------------------------------------------------------- calibrated limits
def test_calibrated_limits_pass_a_3x_slower_answer_and_stop_a_loop_early(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "honest.ipynb").write_bytes(SOLUTION.read_bytes())
    slow = ("import time as _time\n_fast = excess_kurtosis\n"
            "def excess_kurtosis(x):\n    start = _time.perf_counter()\n    value = _fast(x)\n"
            "    _time.sleep(2 * (_time.perf_counter() - start))\n    return value")
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(slow))
    nbformat.write(nb, subs / "three_times_slower.ipynb")
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("def excess_kurtosis(x):\n    while True:\n        pass"))
    nbformat.write(nb, subs / "loop.ipynb")
    started = time.monotonic()
    done = subprocess.run(grader(subs, "--out", out, "--jobs", "2"), capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    seconds = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["student"], r["exercise"]): r["status"] for r in csv.DictReader(handle)}
    assert all(rows[("three_times_slower", e)] == "ok" for e in ("00.1", "00.2", "00.3", "00.4"))
    assert rows[("loop", "00.3")].startswith("timeout: still running after 5 s"), rows[("loop", "00.3")]
    assert seconds < 60   # a loop costs the 5 s floor, not the fixed 30 s exercise limit
    assert json.loads((out / "run.json").read_text())["calibrated"] is True
    assert len(json.loads((out / "calibration.json").read_text())) == 1


# ----------------------------------------------------------------------------- a class larger than one machine
@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A Dask scheduler and one worker (two threads), each its own process, on 127.0.0.1."""
    pytest.importorskip("distributed")
    folder = tmp_path_factory.mktemp("dask")
    address_file = folder / "scheduler.json"
    common = {"cwd": folder, "stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT, "start_new_session": True}
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", "0", "--no-dashboard", "--scheduler-file", str(address_file)], **common)
    deadline = time.monotonic() + 60
    while not address_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file",
                               str(address_file), "--host", "127.0.0.1", "--nthreads", "2", "--nworkers", "1",
                               "--no-dashboard", "--memory-limit", "0"], **common)
    try:
        assert address_file.exists(), "the Dask scheduler did not start"
        yield json.loads(address_file.read_text())["address"]
    finally:
        for process in (worker, scheduler):
            os.killpg(process.pid, signal.SIGTERM)
        for process in (worker, scheduler):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def gradebook_files(out: Path) -> dict[str, bytes]:
    """Every file the grader wrote, by relative path; run.json (the run's own record) aside."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "run.json"}


def test_grading_on_a_dask_cluster_is_byte_identical_to_a_local_run(cohort, dask_cluster, tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(grader(cohort["subs"], "--out", out, "--scheduler", dask_cluster, *FAST),
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    local, remote = gradebook_files(cohort["out"]), gradebook_files(out)
    assert len(local) > 20 and sorted(remote) == sorted(local)
    assert [name for name in local if local[name] != remote[name]] == []
    assert json.loads((out / "run.json").read_text())["jobs"] == f"Dask scheduler {dask_cluster}"


def test_a_dask_run_calibrates_on_a_worker_and_keeps_the_cache_here(dask_cluster, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    subs.mkdir()
    (subs / "honest.ipynb").write_bytes(SOLUTION.read_bytes())
    nb = nbformat.read(SOLUTION, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("def excess_kurtosis(x):\n    while True:\n        pass"))
    nbformat.write(nb, subs / "loop.ipynb")
    done = subprocess.run(grader(subs, "--out", out, "--scheduler", dask_cluster), capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["student"], r["exercise"]): r["status"] for r in csv.DictReader(handle)}
    assert all(rows[("honest", e)] == "ok" for e in ("00.1", "00.2", "00.3", "00.4"))
    assert rows[("loop", "00.3")].startswith("timeout: still running after 5 s"), rows[("loop", "00.3")]
    assert len(json.loads((out / "calibration.json").read_text())) == 1


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "honest.ipynb").write_bytes(SOLUTION.read_bytes())
    done = subprocess.run(grader(subs, "--out", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9", "--no-calibrate"),
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in done.stderr
    assert not (tmp_path / "out" / "grades.csv").exists()


BUDGETED = ("from course_lib.grading import Case, Exercise\n\n\n"
            "def pause(seconds):\n    return seconds\n\n\n"
            "EXERCISES = [Exercise('00.9', 'a pause with a time budget', 'pause', 1, pause,\n"
            "                      lambda: [Case('no wait', (0.0,))], 'be quick', time_limit_s=2)]\n")


def test_an_exercise_time_budget_replaces_the_exercise_limit_in_the_sandbox(tmp_path):
    subs, out, checks = tmp_path / "subs", tmp_path / "out", tmp_path / "checks"
    for folder in (subs, checks):
        folder.mkdir()
    (checks / "budget.py").write_text(BUDGETED)
    for name, body in (("quick", "return seconds"), ("slow", "import time\n    time.sleep(4)\n    return seconds")):
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_code_cell(f"def pause(seconds):\n    {body}"))
        nbformat.write(nb, subs / f"{name}.ipynb")
    done = subprocess.run(grader(subs, "--out", out, "--checks", checks, "--chapters", "00", "--no-calibrate",
                                 "--exercise-seconds", "30"), capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        rows = {(r["student"], r["exercise"]): r["status"] for r in csv.DictReader(handle)}
    assert rows[("quick", "00.9")] == "ok"
    assert rows[("slow", "00.9")] == "timeout: exceeded its time budget of 2 s"
    assert "For the instructor to judge" not in (out / "feedback" / "slow.md").read_text()   # chapter 00: no rubric

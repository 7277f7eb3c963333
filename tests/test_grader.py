"""The instructor grader on one batch of real, broken and hostile submissions (chapter 00 exercises).

One batch is graded once (module fixture) with short time limits, in bubblewrap sandboxes; each test checks
one student's rows. Every broken submission gets a result row with a reason, the rest of the batch is still
graded, and every attack (the five routes of issue 21 and more) earns no point its author did not write.
"""
import csv
import json
import os
import re
import shutil
import socket
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
MARKER = 987654  # the background processes students leave behind sleep this long: none may survive grading
HANGUL = ("김철수", "이영희")


def notebook_with(base: Path, function: str | None = None, body: str | None = None, extra_cells=(), drop=None,
                  duplicate=None):
    """A course notebook with one exercise function's cell replaced, dropped or duplicated, and extra cells
    right after the set-up cell."""
    nb = nbformat.read(base, as_version=4)
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


def solution_with(function=None, body=None, extra_cells=(), drop=None, duplicate=None):
    return notebook_with(SOLUTION, function, body, extra_cells, drop, duplicate)


def stub_with(function=None, body=None, extra_cells=(), last_cells=()):
    """The untouched exercise notebook (every answer a stub) plus a cheat: it earns only what the cheat gets."""
    nb = notebook_with(STUB, function, body, extra_cells)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in last_cells]
    return nb


def with_last_cells(nb, *sources):
    nb.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def solution_source(function: str) -> str:
    """The solution notebook's cell that defines ``function``."""
    return next(c.source for c in nbformat.read(SOLUTION, as_version=4).cells
                if c.cell_type == "code" and f"def {function}(" in c.source)


WRAPPED_LOOP = ("import functools\nimport numpy as np\n"
                "def logged(function):\n    @functools.wraps(function)\n    def wrapper(*args, **kwargs):\n"
                "        return function(*args, **kwargs)\n    return wrapper\n"
                "excess_kurtosis = logged(excess_kurtosis)\n"
                "def _looping(x, k):\n    while True:\n        pass\n"
                "tail_frequency = logged(_looping)\ntail_frequency(np.arange(5.0), 1)")


def write(folder: Path, name: str, nb) -> None:
    nbformat.write(nb, folder / f"{name}.ipynb")


def exec_notebook_cells(path_expression: str) -> str:
    """Code that reads a notebook by ``dir_fd``-relative open (route 2 of issue 21) and runs its code cells."""
    return ("import json, os\n"
            "root = os.open('/', os.O_RDONLY | os.O_DIRECTORY)\n"
            "stolen = None\n"
            "try:\n"
            f"    fd = os.open({path_expression}, os.O_RDONLY, dir_fd=root)\n"
            "    stolen = json.loads(os.read(fd, 10**8))\n"
            "except OSError as err:\n"
            "    print('refused:', err)\n"
            "for cell in (stolen or {}).get('cells', []):\n"
            "    if cell['cell_type'] == 'code':\n"
            "        exec(''.join(cell['source']))\n")


ATTACKS = {
    # route 1: forge the verdict — patch what runs the answers and report passes on every channel
    "forged_verdict": stub_with(extra_cells=[
        "import course_lib.grading.worker as w, os, json\n"
        "w.run_answer = lambda f, a, k: {'value': 0.0}\n"
        "try:\n    import course_lib.grading.check as c\n    c.run_answer = w.run_answer\nexcept ImportError:\n    pass\n"
        "for fd in range(3, 64):\n"
        "    for line in ({'type': 'outcomes', 'id': '00.1', 'phase': 'public', 'found': True, 'outcomes': []},\n"
        "                 {'type': 'done'}):\n"
        "        try:\n            os.write(fd, (json.dumps(line) + '\\n').encode())\n"
        "        except OSError:\n            pass"]),
    # route 2: the solution, read relative to a directory descriptor, and a file written outside the scratch
    "stolen_solutions": stub_with(extra_cells=[
        exec_notebook_cells(repr(str(SOLUTION).lstrip("/"))) +
        "try:\n"
        f"    os.open({str(ROOT / 'pwned_by_student').lstrip('/')!r}, os.O_CREAT | os.O_WRONLY, dir_fd=root)\n"
        "except OSError as err:\n    print('refused:', err)"]),
    # route 4: the course's own source, read and exec'd under another name (the view's source and the checkout's)
    "course_source": stub_with(last_cells=[
        "import course_lib.stats, course_lib.differencing\n"
        "copied = {}\n"
        "for path in (course_lib.stats.__file__, course_lib.differencing.__file__,\n"
        f"             {str(ROOT / 'course_lib' / 'stats.py')!r}, {str(ROOT / 'course_lib' / 'differencing.py')!r}):\n"
        "    try:\n        exec(compile(open(path).read(), 'copied', 'exec'), copied)\n"
        "    except OSError as err:\n        print('refused:', err)\n"
        "log_returns, autocorrelation = copied['log_returns'], copied['autocorrelation']\n"
        "excess_kurtosis, tail_frequency = copied['excess_kurtosis'], copied['tail_frequency']"]),
    # route 5: a shell through the private _posixsubprocess module, which leaves a process behind
    "root_shell": stub_with("log_returns", "def log_returns(prices):\n    raise RuntimeError(open('/tmp/id.txt').read())",
                            extra_cells=[
        "import _posixsubprocess, os, time\n"
        f"command = b'id > /tmp/id.txt; cat {SOLUTION} >> /tmp/id.txt 2>&1; sleep {MARKER} &'\n"
        "r, w = os.pipe()\n"
        "_posixsubprocess.fork_exec([b'/bin/sh', b'-c', command], [b'/bin/sh'], True, (w,), None, None,\n"
        "                           -1, -1, -1, -1, -1, -1, r, w, True, True, -1, None, None, None, -1, None, False)\n"
        "time.sleep(1)"]),
    # the course's answer, imported by a computed name: it must raise the clear error, not score
    "hides_reference": stub_with("autocorrelation", "import importlib\ndef autocorrelation(x, lag):\n"
                                 "    module = importlib.import_module('course_' + 'lib.' + 'stats')\n"
                                 "    return getattr(module, 'auto' + 'correlation')(x, lag)"),
    "calls_reference": stub_with("excess_kurtosis", "from course_lib.stats import excess_kurtosis as course_kurtosis\n"
                                 "def excess_kurtosis(x):\n    return course_kurtosis(x)"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    subs = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("out")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    listener.setblocking(False)
    port = listener.getsockname()[1]
    shutil.copy(SOLUTION, subs / "alice.ipynb")
    shutil.copy(STUB, subs / "stub.ipynb")
    shutil.copy(SOLUTION, subs / f"{HANGUL[0]}.ipynb")
    shutil.copy(STUB, subs / f"{HANGUL[1]}.ipynb")
    for name in ("Casey", "casey"):
        write(subs, name, nbformat.v4.new_notebook())
    (subs / "bad_json.ipynb").write_text('{"cells": [ this is not json')
    write(subs, "empty", nbformat.v4.new_notebook())
    write(subs, "deleted_cell", solution_with(drop="autocorrelation"))
    write(subs, "duplicated_cell", solution_with(duplicate="log_returns"))
    write(subs, "infinite_loop", solution_with("excess_kurtosis", "def excess_kurtosis(x):\n    while True:\n        pass"))
    write(subs, "slow_cell", solution_with(extra_cells=["import time\ntime.sleep(60)"]))
    write(subs, "many_calls", with_last_cells(solution_with(), "import numpy as np\nfor _ in range(10**8):\n"
                                                                "    excess_kurtosis(np.arange(5.0))"))
    write(subs, "wrapped_loop", with_last_cells(solution_with(), WRAPPED_LOOP))
    write(subs, "fixed_later", with_last_cells(solution_with("excess_kurtosis", "def excess_kurtosis(x):\n"
                                                             "    while True:\n        pass"),
                                               solution_source("excess_kurtosis")))
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
        "for fd in range(3, 256):\n    try:\n        os.write(fd, b'{\"type\": \"done\"}\\n')\n    except OSError:\n        pass"]))
    # reads another student's file by absolute path
    write(subs, "peeks_at_alice", solution_with("excess_kurtosis",
                                                "def excess_kurtosis(x):\n"
                                                f"    source = open({str(subs / 'alice.ipynb')!r}).read()\n"
                                                "    return 0.0 if 'def excess_kurtosis' in source else 1.0"))
    # route 3: a classmate's notebook, read through a directory descriptor and exec'd
    write(subs, "copied_classmate", stub_with(extra_cells=[exec_notebook_cells(repr(str(subs / "alice.ipynb").lstrip("/")))]))
    # writes into the output folder
    write(subs, "writes_output", stub_with(extra_cells=[
        f"import os\nout = {str(out)!r}\n"
        "for name in ('grades.csv', 'results/writes_output.json', 'pwned.txt'):\n"
        "    try:\n        os.makedirs(os.path.dirname(os.path.join(out, name)), exist_ok=True)\n"
        "        open(os.path.join(out, name), 'w').write('writes_output,00.1,2,2,ok')\n"
        "    except OSError as err:\n        print('refused:', err)"]))
    # signals and traces the grader (its PID is known to the test), and every process it can see
    write(subs, "signals_grader", solution_with(extra_cells=[
        "import ctypes, os, signal\nreport = []\n"
        f"for pid in ({os.getpid()}, {os.getppid()}, os.getppid()):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n        report.append(f'killed {pid}')\n"
        "    except OSError as err:\n        report.append(type(err).__name__)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        f"report.append(('ptrace', libc.ptrace(16, {os.getpid()}, None, None), ctypes.get_errno()))\n"
        "raise RuntimeError(repr(report))"]))
    # opens a socket to a server listening on the host's localhost
    write(subs, "localhost_socket", solution_with("log_returns", "import socket\ndef log_returns(prices):\n"
                                                  f"    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'hi')\n"
                                                  "    return prices"))
    # forks 200 sleeping children
    write(subs, "fork_200", solution_with(extra_cells=[
        "import os, time\nforked, error = 0, None\nfor _ in range(200):\n    try:\n        pid = os.fork()\n"
        "    except OSError as err:\n        error = err\n        break\n"
        f"    if pid == 0:\n        time.sleep({MARKER})\n        os._exit(0)\n    forked += 1\n"
        "raise RuntimeError(f'forked {forked}: {error!r}')"]))
    # fills 2 GB of scratch (and tries the other places a file could go)
    write(subs, "fill_scratch", solution_with(extra_cells=[
        "import os\nwritten, errors = 0, []\nchunk = b'x' * 100_000\n"
        "for index in range(20_000):\n    try:\n        with open(f'/tmp/fill{index}', 'wb') as f:\n            f.write(chunk)\n"
        "        written += len(chunk)\n    except OSError as err:\n        errors.append(err.errno)\n        break\n"
        "for path in ('/dev/shm/x', '/var/tmp/x', '/x', '/course/x'):\n"
        "    try:\n        open(path, 'wb').write(chunk)\n        errors.append(path)\n"
        "    except OSError as err:\n        errors.append(err.errno)\n"
        "raise RuntimeError(f'wrote {written} bytes: {errors}')"]))
    # leaves a background process behind, in a session of its own
    write(subs, "background_process", solution_with(extra_cells=[
        f"import subprocess\nsubprocess.Popen(['sleep', '{MARKER}'], start_new_session=True)"]))
    for name, nb in ATTACKS.items():
        write(subs, name, nb)
    (subs / "dan").mkdir()
    shutil.copy(SOLUTION, subs / "dan" / "chapter00.ipynb")
    code = grader_main(["grade", str(subs), "--out", str(out), "--jobs", "2", *FAST])
    assert code == 0
    try:
        connection = listener.accept()
    except BlockingIOError:
        connection = None
    listener.close()
    with open(out / "grades.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    table = {(r["student"], r["exercise"]): r for r in rows}
    return {"rows": rows, "table": table, "out": out, "subs": subs, "connection": connection,
            "survivors": _marked_processes()}


def _marked_processes() -> list[str]:
    """Command lines of processes, anywhere on this machine, that sleep for MARKER seconds."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(MARKER) in cmdline and "pytest" not in cmdline:
                found.append(f"{entry.name}: {cmdline}")
    return found


def results_of(graded, student):
    return json.loads((graded["out"] / "results" / f"{student}.json").read_text())


def cell_errors(graded, student) -> str:
    return " ".join(e for nb in results_of(graded, student)["notebooks"] for e in nb.get("cell_errors", {}).values())


def status(graded, student, exercise):
    return graded["table"][(student, exercise)]["status"]


def points(graded, student):
    return sum(int(r["points"]) for r in graded["rows"] if r["student"] == student)


def test_every_student_has_a_row_per_exercise(graded):
    students = {r["student"] for r in graded["rows"]}
    assert len(students) == 39
    for student in students:
        assert sorted(r["exercise"] for r in graded["rows"] if r["student"] == student) == EXERCISES
    assert list(graded["rows"][0]) == ["student", "exercise", "points", "max_points", "status"]


def test_full_solution_scores_full_marks(graded):
    assert points(graded, "alice") == 6 and points(graded, "dan") == 6
    assert all(status(graded, "alice", e) == "ok" for e in EXERCISES)
    assert results_of(graded, "alice")["notebooks"][0]["cell_errors"] == {}


def test_untouched_stub_scores_zero_with_not_implemented(graded):
    assert points(graded, "stub") == 0
    assert all(status(graded, "stub", e) == "not implemented" for e in EXERCISES)
    assert "not implemented" in (graded["out"] / "feedback" / "stub.md").read_text()


BROKEN = [  # student, exercise, how its status starts, the student's total points (of 6)
    ("bad_json", "00.1", "invalid notebook: bad_json.ipynb: not valid JSON", 0),
    ("empty", "00.1", "not found: no function named log_returns", 0),
    ("deleted_cell", "00.2", "not found: no function named autocorrelation", 4),
    # the loop runs in the cell that calls excess_kurtosis: stopped there once, the cases are not run again
    ("infinite_loop", "00.3", "timeout: still running after 4 s when code cell 10 called it (not run again)", 5),
    # a slow cell outside every exercise function: only the cell is stopped, every exercise is graded
    ("slow_cell", "00.3", "ok", 6),
    # a cell calling a fast, correct function many times is not a runaway call of it
    ("many_calls", "00.3", "ok", 6),
    # one decorator around a correct function and a looping one: only the looping one is charged
    ("wrapped_loop", "00.4", "timeout: still running after 4 s when code cell", 5),
    ("wrapped_loop", "00.3", "ok", 5),
    # a hanging draft, then the right definition in a later cell: the cases run that one
    ("fixed_later", "00.3", "ok", 6),
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


@pytest.mark.parametrize("student, exercise, start, total", BROKEN, ids=[f"{b[0]}-{b[1]}" for b in BROKEN])
def test_a_broken_submission_costs_only_what_it_breaks(graded, student, exercise, start, total):
    assert status(graded, student, exercise).startswith(start)
    assert points(graded, student) == total


def test_a_runaway_loop_is_stopped_once_in_the_cell_that_called_it(graded):
    loop = results_of(graded, "infinite_loop")["notebooks"][0]
    assert loop["worker_restarts"] == 1  # stopped in cell 10; the restarted sandbox does not run the loop again
    assert list(loop["cell_failures"]) == ["10"] and "still running after 4 s" in loop["cell_failures"]["10"]
    for student in ("slow_cell", "many_calls", "fixed_later"):
        stopped = results_of(graded, student)["notebooks"][0]
        assert stopped["worker_restarts"] == 1 and len(stopped["cell_failures"]) == 1, student


def test_duplicated_cell_is_graded_and_noted(graded):
    assert points(graded, "duplicated_cell") == 6
    result = results_of(graded, "duplicated_cell")
    notes = next(e for e in result["exercises"] if e["exercise"] == "00.1")["notes"]
    assert notes == ["log_returns is defined 2 times; the last definition run was graded"]


def test_exception_at_import_is_reported_and_the_rest_graded(graded):
    assert points(graded, "import_error") == 6
    feedback = (graded["out"] / "feedback" / "import_error.md").read_text()
    assert "ModuleNotFoundError: No module named 'this_module_does_not_exist'" in feedback


def test_fake_results_files_and_forged_messages_earn_nothing(graded):
    """Files named like results earn nothing; a forged message out of turn costs the cell that sent it."""
    assert int(graded["table"][("fake_results", "00.3")]["points"]) == 0 and points(graded, "fake_results") == 5
    failures = results_of(graded, "fake_results")["notebooks"][0]["cell_failures"]
    assert list(failures.values()) == ["crashed: the result channel was tampered with"]
    text = (graded["out"] / "grades.csv").read_text()
    assert text.startswith("student,exercise,points,max_points,status\n") and "\nfake\n" not in text


# ----------------------------------------------------------------------------- attacks (issue 21)
CHEATS = ["forged_verdict", "stolen_solutions", "copied_classmate", "course_source", "root_shell",
          "hides_reference", "calls_reference", "writes_output"]


@pytest.mark.parametrize("student", CHEATS)
def test_a_cheat_earns_no_point(graded, student):
    assert points(graded, student) == 0, [status(graded, student, e) for e in EXERCISES]


def test_forged_verdict_and_channel_messages_are_refused(graded):
    """Route 1: the answer runner is patched and forged results are written to every descriptor: the
    grader compares outcomes itself, and a message out of turn is tampering."""
    assert {status(graded, "forged_verdict", e) for e in EXERCISES} <= {
        "not implemented", "crashed: the result channel was tampered with"}


def test_solutions_and_classmates_are_not_in_the_sandbox(graded):
    """Routes 2 and 3: a directory-descriptor-relative open finds no solution and no classmate, and writes nothing."""
    for student in ("stolen_solutions", "copied_classmate"):
        assert all(status(graded, student, e) == "not implemented" for e in EXERCISES)
    assert not (ROOT / "pwned_by_student").exists()


def test_the_course_source_holds_only_stubs_of_the_chapter_answers(graded):
    """Route 4: the view's source, exec'd under another name, raises the clear error; the checkout is absent."""
    message = status(graded, "course_source", "00.1")
    assert "NotAvailableWhileGrading: course_lib.differencing.log_returns is not available while grading " \
           "chapter 00 — write your own" in message
    assert "excess_kurtosis is not available while grading chapter 00" in status(graded, "course_source", "00.3")


def test_a_shell_runs_unprivileged_and_leaves_nothing_behind(graded):
    """Route 5: the shell runs, as the sandbox's unprivileged user, sees no solution, and its background
    process dies with the sandbox."""
    message = status(graded, "root_shell", "00.1")
    assert "uid=65534" in message and "uid=0" not in message
    assert "No such file or directory" in message
    assert graded["survivors"] == []


def test_the_course_answer_raises_a_clear_error_even_by_a_computed_name(graded):
    assert "raised NotAvailableWhileGrading: course_lib.stats.autocorrelation is not available while grading " \
           "chapter 00 — write your own" in status(graded, "hides_reference", "00.2")
    assert "course_lib.stats.excess_kurtosis is not available" in status(graded, "calls_reference", "00.3")
    review = (graded["out"] / "review.csv").read_text()  # the source scan stays, as a review aid
    assert "calls_reference,\"calls_reference.ipynb, exercise 00.3: the answer refers to the course's own " \
           "implementation course_lib.stats:excess_kurtosis (it raises while grading)\"" in review
    assert "hides_reference" in review and "dynamic import (importlib)" in review


def test_another_students_file_is_not_there(graded):
    assert "raised FileNotFoundError" in status(graded, "peeks_at_alice", "00.3")
    assert points(graded, "peeks_at_alice") == 5


def test_the_output_folder_is_out_of_reach(graded):
    assert "Read-only file system" in cell_errors(graded, "writes_output") or \
        "refused" not in cell_errors(graded, "writes_output")
    assert not (graded["out"] / "pwned.txt").exists()
    assert "writes_output,00.1,2,2,ok" not in (graded["out"] / "grades.csv").read_text()
    assert results_of(graded, "writes_output")["student"] == "writes_output"


def test_the_grader_cannot_be_signalled_or_traced(graded):
    errors = cell_errors(graded, "signals_grader")  # the grader's PIDs do not exist there; PID 1 is the sandbox's
    assert f"killed {os.getpid()}" not in errors and errors.count("ProcessLookupError") == 2
    assert re.search(r"\('ptrace', -1, (1|3)\)", errors)  # EPERM or ESRCH: the grader is not even visible
    assert points(graded, "signals_grader") == 6


def test_no_network_not_even_the_hosts_localhost(graded):
    assert "ConnectionRefusedError: [Errno 111] Connection refused" in status(graded, "localhost_socket", "00.1")
    assert graded["connection"] is None
    assert points(graded, "localhost_socket") == 4


def test_a_fork_bomb_is_stopped_by_the_process_limit(graded):
    forked = re.search(r"RuntimeError: forked (\d+): BlockingIOError", cell_errors(graded, "fork_200"))
    assert forked and int(forked.group(1)) < 64
    assert points(graded, "fork_200") == 6
    assert graded["survivors"] == []


def test_scratch_is_small_and_the_only_writable_place(graded):
    found = re.search(r"wrote (\d+) bytes: \[(.*)\]", cell_errors(graded, "fill_scratch"))
    assert found and int(found.group(1)) <= 64 * 2**20
    # ENOSPC in /tmp; a read-only file system in /dev/shm, / and the course view; /var does not exist
    assert found.group(2) == "28, 30, 2, 30, 30"
    assert points(graded, "fill_scratch") == 6


def test_no_process_survives_grading(graded):
    assert graded["survivors"] == []
    assert points(graded, "background_process") == 6


def test_names_get_their_own_files(graded):
    """Hangul names keep readable files of their own; names that differ only in case get a hash each."""
    assert results_of(graded, HANGUL[0])["student"] == HANGUL[0] and results_of(graded, HANGUL[0])["points"] == 6
    assert results_of(graded, HANGUL[1])["student"] == HANGUL[1] and results_of(graded, HANGUL[1])["points"] == 0
    feedback = sorted(p.name for p in (graded["out"] / "feedback").iterdir())
    assert f"{HANGUL[0]}.md" in feedback and f"{HANGUL[1]}.md" in feedback
    casey = [name for name in feedback if name.lower().startswith("casey")]
    assert len(casey) == 2 and len({name.lower() for name in casey}) == 2
    assert all(re.fullmatch(r"[Cc]asey-[0-9a-f]{8}\.md", name) for name in casey)
    students = {r["student"] for r in graded["rows"]}
    assert {*HANGUL, "Casey", "casey"} <= students


def test_results_json_records_version_hash_and_hides_private_details(graded):
    result = results_of(graded, "alice")
    assert result["grader_version"] == GRADER_VERSION and len(result["checks_sha256"]) == 64
    assert result["points"] == result["max_points"] == 6
    feedback = (graded["out"] / "feedback" / "stub.md").read_text()
    assert "**Score: 0 / 6 points**" in feedback and "not implemented" in feedback
    run = json.loads((graded["out"] / "run.json").read_text())
    assert run["sandbox"] == "bubblewrap"


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
    result = results_of(graded, "monkeypatch")
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
    """A private case's inputs reach the sandbox only after every public result is out, and its feedback says
    how it failed, never what its inputs or expected value were."""
    subs, checks = tmp_path / "subs", tmp_path / "checks"
    subs.mkdir()
    checks.mkdir()
    (checks / "secret.py").write_text(PRIVATE)
    shutil.copy(SOLUTION, subs / "alice.ipynb")
    write(subs, "lazy", solution_with("excess_kurtosis", "def excess_kurtosis(x):\n"  # hard-codes the public answers
                                      "    known = {5030: 8.169196103558178, 2000: -0.09316500841643194, 5: 0.2467164893}\n"
                                      "    return known.get(len(x), 0.0)"))
    leaky = solution_with()  # records every input it gets and shows them in a later exercise's public feedback
    leaky.cells.append(nbformat.v4.new_code_cell(
        "seen = []\nhonest = excess_kurtosis\ndef excess_kurtosis(x):\n    seen.append(repr([float(v) for v in x[:12]]))\n"
        "    return honest(x)\ndef tail_frequency(x, k):\n    raise RuntimeError('seen ' + ' | '.join(seen))"))
    write(subs, "leaky", leaky)
    out = tmp_path / "out"
    assert grader_main(["grade", str(subs), "--out", str(out), "--checks", str(checks), *FAST]) == 0
    with open(out / "grades.csv", newline="") as handle:
        rows = {(r["student"], r["exercise"]): r for r in csv.DictReader(handle)}
    assert rows[("alice", "00.3")]["status"] == "ok" and rows[("alice", "00.4")]["status"] == "ok"
    assert rows[("lazy", "00.3")]["status"] == "failed a private check 'secret uniform sample': wrong value"
    feedback = (out / "feedback" / "lazy.md").read_text()
    assert "a private check failed: secret uniform sample (wrong value" in feedback and "linspace" not in feedback
    result = json.loads((out / "results" / "lazy.json").read_text())
    private = [c for e in result["exercises"] for c in e["cases"] if c["private"]]
    assert private and all(c["hint"] == "" for c in private)
    assert {c["message"] for c in private if not c["passed"]} == {"wrong value"}
    assert rows[("leaky", "00.3")]["status"] == "ok" and rows[("leaky", "00.4")]["status"].startswith(
        "failed case 'hand-made series, k=1': raised RuntimeError: seen [0.0134905906")  # public inputs show
    for name in ("feedback/leaky.md", "results/leaky.json", "grades.csv"):
        assert "-1.0, -0.8" not in (out / name).read_text()  # the private input never does


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
    """Each chapter runs in a sandbox of its own; os._exit in chapter 00 must not cost the chapter 02 notebook."""
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
    assert [n["worker_restarts"] for n in result["notebooks"]] == [2, 0]  # one sandbox per chapter
    assert list(result["notebooks"][0]["cell_failures"].values()) == ["crashed: the process exited with status 0"]


def test_no_sandbox_is_explicit_and_grade_refuses_without_bubblewrap(tmp_path, monkeypatch, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SOLUTION, subs / "alice.ipynb")
    assert grader_main(["grade", str(subs), "--out", str(tmp_path / "trusted"), "--no-sandbox", *FAST]) == 0
    assert json.loads((tmp_path / "trusted" / "results" / "alice.json").read_text())["points"] == 6
    assert json.loads((tmp_path / "trusted" / "run.json").read_text())["sandbox"] == "none (--no-sandbox)"
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on the PATH
    assert grader_main(["grade", str(subs), "--out", str(tmp_path / "refused"), *FAST]) == 2
    error = capsys.readouterr().err
    assert "refusing to grade without a sandbox" in error and "sudo apt-get install -y bubblewrap" in error
    assert "--no-sandbox" in error and not (tmp_path / "refused").exists()


"""The grading worker: runs one student's notebooks for one chapter, inside the sandbox.

Started by :mod:`course_lib.grading.sandbox` through :data:`course_lib.grading.bwrap.BOOT` (which has
already set the resource limits) as ``worker.main([JOB_FD, CHANNEL_FD, PRIVATE_FD])``. It runs in the same process
as the student's code, so nothing here is trusted: it decides nothing. It

1. reads its job from JOB_FD: the notebooks' code cells and each exercise's public inputs (the grader's
   own data going in; no expected value, no hint, no case name ever enters);
2. runs each notebook's code cells in a fresh namespace, each error caught and reported;
3. calls each exercise function on the public cases of every exercise; only then reads the private
   cases' inputs from PRIVATE_FD, which the grader writes once every public result is in, so no
   message a student can read is produced after a private input has been seen;
4. reports through CHANNEL_FD, one JSON object per line: ``start``/``end`` around each unit (a cell
   ``cell:<notebook>:<index>``, or an exercise's cases ``cases:<id>:<phase>``) and one ``outcomes``
   line per unit of cases: each case's result as plain data (:func:`course_lib.grading.plain.to_plain`),
   the names of an exception it raised, or a short description of what it returned. Never pickle.
   Just before a cell's time limit, a ``stuck`` line names the exercises whose functions the cell is
   still inside (:class:`StuckWatch`), so that a runaway loop is stopped once, not again by the cases.

The grader validates every line and computes the comparison, the points and the feedback itself.
"""
from __future__ import annotations

import copy
import json
import os
import pickle
import sys
import threading
import time

MAX_LINE_BYTES = 16 * 2**20       # one report line; the grader refuses longer ones
PHASES = ("public", "private")
STUCK_MARGIN_S = 0.5              # the stuck report goes this long before the grader's limit for a cell


class Channel:
    def __init__(self, fd: int):
        self.fd = fd

    def send(self, **message) -> None:
        data = (json.dumps(message, allow_nan=True) + "\n").encode()
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError:
            os._exit(3)  # the channel was closed under us: the grader sees the worker die


class _Shell:
    """Stands in for IPython's get_ipython(): magics and shell escapes do nothing while grading."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


class StuckWatch:
    """Reports which exercise functions a cell is inside of when the cell nears its time limit.

    A thread waits for the armed cell's deadline (its limit less :data:`STUCK_MARGIN_S`), walks the main
    thread's stack and, if an exercise's function is on it, sends ``{"type": "stuck", "unit", "exercises"}``.
    The grader, stopping the cell at its limit, then charges those exercises with the same timeout instead of
    running their loop again. Only a report, decided on by the grader: it can only fail the student's own
    exercises. Arming, disarming and the report share one lock, so a report always precedes the cell's ``end``.
    """

    def __init__(self, channel: Channel, seconds: float):
        self.channel, self.seconds = channel, seconds
        self.main_thread = threading.get_ident()
        self.condition = threading.Condition()
        self.unit: str | None = None
        self.deadline = 0.0
        self.namespace: dict = {}
        self.functions: dict[str, str] = {}   # exercise function name -> exercise id
        threading.Thread(target=self._watch, daemon=True).start()

    def arm(self, unit: str, namespace: dict, functions: dict[str, str]) -> None:
        with self.condition:
            self.unit, self.namespace, self.functions = unit, namespace, functions
            self.deadline = time.monotonic() + max(self.seconds - STUCK_MARGIN_S, 0.0)
            self.condition.notify()

    def disarm(self) -> None:
        with self.condition:
            self.unit = None

    def _watch(self) -> None:
        with self.condition:
            while True:
                remaining = self.deadline - time.monotonic()
                if self.unit is None or remaining > 0:
                    self.condition.wait(None if self.unit is None else remaining)
                    continue
                try:
                    stuck = self._exercises_on_stack()
                except Exception:  # the student's objects can raise anything: then there is nothing to report
                    stuck = []
                if stuck:
                    self.channel.send(type="stuck", unit=self.unit, exercises=stuck)
                self.unit = None

    def _exercises_on_stack(self) -> list[str]:
        frame, codes = sys._current_frames().get(self.main_thread), set()
        while frame is not None:
            codes.add(frame.f_code)
            frame = frame.f_back
        stuck = []
        for name, exercise_id in self.functions.items():
            function = self.namespace.get(name)
            for _ in range(8):  # through decorators (functools.wraps), a few levels at most
                if hasattr(function, "__code__") or not hasattr(function, "__wrapped__"):
                    break
                function = function.__wrapped__
            if getattr(function, "__code__", None) in codes:
                stuck.append(exercise_id)
        return stuck


def describe_error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) < 500 else text[:500] + "..."


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass


def run_cells(notebook: dict, namespace: dict, channel: Channel, watch: StuckWatch) -> None:
    functions = {exercise["function"]: exercise["id"] for exercise in notebook["exercises"]}
    skip = set(notebook["skip_cells"])
    for index, source in enumerate(notebook["cells"]):
        if index in skip:
            continue
        unit = f"cell:{notebook['index']}:{index}"
        channel.send(type="start", unit=unit)
        watch.arm(unit, namespace, functions)
        error = None
        try:
            exec(compile(source, f"<code cell {index + 1}>", "exec"), namespace)
        except BaseException as err:  # SystemExit, KeyboardInterrupt, MemoryError: all are the cell's problem
            error = describe_error(err)
        watch.disarm()
        _flush()
        channel.send(type="end", unit=unit, error=error)


def run_answer(function, args: tuple, kwargs: dict, global_seed: int) -> dict:
    """Call the answer on a copy of the inputs, the global generators seeded with ``global_seed``; its outcome as
    plain data."""
    from course_lib.environment import seed_everything
    from course_lib.grading.plain import UnsupportedAnswer, to_plain

    seed_everything(global_seed)
    try:
        value = function(*copy.deepcopy(args), **copy.deepcopy(kwargs))
    except NotImplementedError:
        return {"not_implemented": True}
    except BaseException as err:  # SystemExit and friends are the answer's problem too
        return {"raised": [c.__name__ for c in type(err).__mro__], "error": str(err)[:300]}
    try:
        return {"value": to_plain(value)}
    except UnsupportedAnswer as err:
        return {"returned": err.what[:300]}
    except RecursionError:
        return {"returned": "an object nested too deeply"}


def run_cases(exercise: dict, phase: str, inputs: list, namespace: dict, channel: Channel) -> bool:
    """Run one phase of an exercise's cases and report the outcomes; False when the answer is missing or a stub."""
    unit = f"cases:{exercise['id']}:{phase}"
    channel.send(type="start", unit=unit)
    function = namespace.get(exercise["function"])
    report = {"type": "outcomes", "id": exercise["id"], "phase": phase, "found": callable(function), "outcomes": []}
    if callable(function):
        for args, kwargs, global_seed in inputs:
            report["outcomes"].append(run_answer(function, args, kwargs, global_seed))
            if report["outcomes"][-1].get("not_implemented"):
                break
    _flush()
    if len(json.dumps(report, allow_nan=True)) > MAX_LINE_BYTES - 1024:
        report["outcomes"] = [{"raised": ["ResultTooLarge"], "error": "the answer's results are too large"}]
    channel.send(**report)
    channel.send(type="end", unit=unit, error=None)
    return report["found"] and not any(o.get("not_implemented") for o in report["outcomes"])


def prepare() -> None:
    """Libraries imported before any student code, with threads limited."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import torch  # noqa: F401  (course_lib.setup() needs it)

    sys.dont_write_bytecode = True


def main(argv: list[str]) -> None:
    if argv == ["--probe"]:
        print("sandbox ok", flush=True)
        os._exit(0)
    job_fd, channel_fd, private_fd = int(argv[0]), int(argv[1]), int(argv[2])
    with os.fdopen(job_fd, "rb") as handle:   # the grader's own data, coming in
        job = pickle.load(handle)
    channel = Channel(channel_fd)
    prepare()
    watch = StuckWatch(channel, job["cell_seconds"])
    channel.send(type="ready")
    namespaces = []
    for notebook in job["notebooks"]:  # one student's notebooks for this chapter, each in a fresh namespace
        namespace = {"__name__": "__main__", "get_ipython": _Shell}
        namespaces.append(namespace)
        run_cells(notebook, namespace, channel, watch)
    runnable = []
    for notebook, namespace in zip(job["notebooks"], namespaces):
        for exercise in notebook["exercises"]:
            if run_cases(exercise, "public", exercise["public"], namespace, channel) and exercise["private"]:
                runnable.append((exercise, namespace))
    if runnable:  # private inputs enter only after every public message is out
        with os.fdopen(private_fd, "rb") as handle:
            private = pickle.load(handle)
        for exercise, namespace in runnable:
            run_cases(exercise, "private", private[exercise["id"]], namespace, channel)
    channel.send(type="done")
    _flush()
    os._exit(0)  # no atexit handlers or lingering threads of the student's code

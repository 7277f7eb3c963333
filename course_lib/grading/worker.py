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
   Just before a cell's time limit, a ``stuck`` line names the exercises whose functions the cell has been
   inside, in one lasting call (:class:`StuckWatch`), so that a runaway loop is stopped once, not again by
   the cases.

The grader validates every line and computes the comparison, the points and the feedback itself.
"""
from __future__ import annotations

import copy
import inspect
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
    """Reports the exercise functions in which a cell has been stuck, one call lasting, as the cell nears its limit.

    A thread looks at the main thread's stack twice while a cell runs: halfway to the cell's limit (less
    :data:`STUCK_MARGIN_S`) and at the limit less the margin. An exercise is reported, as ``{"type": "stuck",
    "unit", "exercises"}``, only when the very same call of its function (the same frame object, held from the
    first look) is still on the stack at the second look: a runaway call, not a cell that calls a fast function
    many times. The grader, stopping the cell at its limit, then charges those exercises with the same timeout
    instead of running their loop again. Only a report, decided on by the grader: it can only fail the
    student's own exercises. Arming, disarming and the report share one lock, so a report precedes the cell's
    ``end``. Functions are compared through their decorators (``__wrapped__``), by the student's own code.
    """

    def __init__(self, channel: Channel, seconds: float):
        self.channel, self.seconds = channel, seconds
        self.main_thread = threading.get_ident()
        self.condition = threading.Condition()
        self.unit: str | None = None
        self.looks: list[float] = []            # when to look at the stack, still to come
        self.calls: dict[str, object] = {}      # exercise id -> the frame of its call seen at the first look
        self.namespace: dict = {}
        self.functions: dict[str, list[str]] = {}   # exercise function name -> the exercises it answers
        threading.Thread(target=self._watch, daemon=True).start()

    def arm(self, unit: str, namespace: dict, functions: dict[str, list[str]]) -> None:
        with self.condition:
            self.unit, self.namespace, self.functions, self.calls = unit, namespace, functions, {}
            started, last = time.monotonic(), max(self.seconds - STUCK_MARGIN_S, 0.0)
            self.looks = [started + last / 2, started + last]
            self.condition.notify()

    def disarm(self) -> None:
        with self.condition:
            self.unit, self.looks, self.calls, self.namespace = None, [], {}, {}

    def _watch(self) -> None:
        with self.condition:
            while True:
                if self.unit is None or not self.looks:
                    self.condition.wait()
                    continue
                remaining = self.looks[0] - time.monotonic()
                if remaining > 0:
                    self.condition.wait(remaining)
                    continue
                self.looks.pop(0)
                try:
                    calls = self._exercise_calls()
                except Exception:  # the student's objects can raise anything: then there is nothing to report
                    calls = {}
                if self.looks:
                    self.calls = calls
                    continue
                stuck = sorted(i for i, frame in self.calls.items() if calls.get(i) is frame)
                self.calls = {}
                if stuck:
                    self.channel.send(type="stuck", unit=self.unit, exercises=stuck)

    def _exercise_calls(self) -> dict[str, object]:
        """Exercise id -> the outermost frame, on the main thread's stack, of a call of its function."""
        codes = {}
        for name, exercise_ids in self.functions.items():
            code = getattr(inspect.unwrap(self.namespace.get(name)), "__code__", None)
            if code is not None:
                codes.setdefault(code, []).extend(exercise_ids)
        calls, frame = {}, sys._current_frames().get(self.main_thread)
        while frame is not None:   # from the innermost frame out: the last match is the outermost call
            for exercise_id in codes.get(frame.f_code, ()):
                calls[exercise_id] = frame
            frame = frame.f_back
        return calls


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
    functions: dict[str, list[str]] = {}
    for exercise in notebook["exercises"]:
        functions.setdefault(exercise["function"], []).append(exercise["id"])
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

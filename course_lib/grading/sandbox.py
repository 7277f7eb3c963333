"""Running one student's notebooks for one chapter in sandboxed workers, and surviving whatever they do.

A worker (:mod:`course_lib.grading.worker`) runs inside a bubblewrap sandbox (:mod:`bwrap`) that sees
the chapter view of the course (:mod:`chapter_view`). The grader knows the exact order of the units the
worker must announce — each code cell, then every exercise's public cases, then the private cases of the
answers that exist — and accepts only that order: a message out of turn is tampering, charged to the
unit in progress. The private cases' inputs are written to the worker only once every public result
is in. If the worker dies or a unit runs past its time limit, the unit is charged with it, the sandbox
is killed (with every process in it), and a fresh sandbox skips that unit. So an infinite loop or
``os._exit`` costs one exercise (or one cell), not the whole notebook; the restarts are bounded, and the
submission has an overall time limit.
"""
from __future__ import annotations

import json
import os
import pickle
import select
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_lib.grading import bwrap
from course_lib.grading.submission import binds_name
from course_lib.grading.worker import MAX_LINE_BYTES

TIMEOUT, CRASHED, MEMORY, OUTPUT = "timeout", "crashed", "memory limit", "output limit"
TAMPERED = "the result channel was tampered with"


@dataclass(frozen=True)
class Limits:
    """Resource limits for student code. Times are wall-clock seconds."""

    memory_mb: int = 2048
    output_bytes: int = 1_000_000
    cell_seconds: float = 60.0
    exercise_seconds: float = 30.0
    submission_seconds: float = 300.0
    startup_seconds: float = 120.0
    max_restarts: int = 25
    processes: int = 64          # processes and threads inside one sandbox
    open_files: int = 256
    scratch_mb: int = 64         # the sandbox's /tmp


@dataclass(frozen=True)
class Isolation:
    """Where and how workers run: the chapter view's folder, and whether inside bubblewrap."""

    view: str
    chapter: str
    sandbox: bool = True
    stage: str | None = None     # root only: see bwrap.Mounts

    def mounts(self) -> bwrap.Mounts:
        return bwrap.Mounts(bwrap.python_roots(), self.view, self.stage)


@dataclass
class UnitFailure:
    """A unit that stopped the worker: why, in words a student can read."""

    kind: str      # TIMEOUT, CRASHED, MEMORY or OUTPUT
    detail: str


@dataclass
class NotebookRun:
    """What running one notebook produced."""

    cell_errors: dict[int, str] = field(default_factory=dict)
    cell_failures: dict[int, UnitFailure] = field(default_factory=dict)
    exercises: dict[str, dict] = field(default_factory=dict)   # id -> {"found", "public", ["private"]}
    exercise_failures: dict[str, UnitFailure] = field(default_factory=dict)
    restarts: int = 0
    seconds: dict[str, float] = field(default_factory=dict)   # unit ("cell:0:3", "cases:00.1:public") -> wall time


def _environment(home: str) -> dict:
    return {"PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": f"{home}/.matplotlib", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "COURSE_DEVICE": "cpu",
            "CUDA_VISIBLE_DEVICES": ""}


def _rlimits(limits: Limits) -> dict[str, int]:
    cpu = int(limits.submission_seconds + limits.startup_seconds) + 5
    return bwrap.rlimits(limits.memory_mb, limits.processes, limits.output_bytes, limits.open_files, cpu)


# ----------------------------------------------------------------------------- the order of units
class Protocol:
    """The units a worker must announce, in order; the private cases' turn comes once the public results say so."""

    def __init__(self, job: dict):
        self.units: list[str] = [f"cell:{nb['index']}:{i}" for nb in job["notebooks"]
                                 for i in range(len(nb["cells"])) if i not in set(nb["skip_cells"])]
        self.exercises = [e for nb in job["notebooks"] for e in nb["exercises"]]
        self.units += [f"cases:{e['id']}:public" for e in self.exercises]
        self.position = 0
        self.private_added = False

    def next_unit(self, runs_report: dict[str, dict]) -> str | None:
        """The unit expected next (None: the worker should say it is done)."""
        if self.position == len(self.units) and not self.private_added:
            self.private_added = True
            self.units += [f"cases:{e['id']}:private" for e in self.exercises
                           if e["private"] and _runnable(runs_report.get(e["id"], {}).get("public"))]
        return self.units[self.position] if self.position < len(self.units) else None

    def private_turn(self) -> list[str]:
        """Exercise ids whose private cases run, once the worker reaches them."""
        return [u.split(":")[1] for u in self.units if u.endswith(":private")]


def _runnable(public: dict | None) -> bool:
    return bool(public and public.get("found") and isinstance(public.get("outcomes"), list) and
                not any(isinstance(o, dict) and o.get("not_implemented") for o in public["outcomes"]))


# ----------------------------------------------------------------------------- one worker
class _Worker:
    """One sandboxed worker process, its event stream, and the private inputs waiting to go in."""

    def __init__(self, job: dict, limits: Limits, isolation: Isolation, folder: Path):
        job_path = folder / "job.pickle"
        job_path.write_bytes(pickle.dumps(job))
        job_fd = os.open(job_path, os.O_RDONLY | os.O_CLOEXEC)
        self.read_fd, write_fd = os.pipe()
        self.private_read, self.private_write = os.pipe()
        info_read, info_write = os.pipe()
        self.info_fd = info_read
        self.output_path = folder / "output.txt"
        args = [str(job_fd), str(write_fd), str(self.private_read)]
        scratch = folder / "scratch"
        scratch.mkdir()
        passed = (job_fd, write_fd, self.private_read)
        if isolation.sandbox:
            launch = bwrap.sandbox_launch(isolation.mounts(), _rlimits(limits), limits.scratch_mb * 2**20, args,
                                          _environment(bwrap.SCRATCH), (*passed, info_write), info_fd=info_write)
            env, cwd = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, "/"
        else:
            launch = bwrap.plain_launch(isolation.view, _rlimits(limits), args, passed)
            env, cwd = _environment(str(scratch)), str(scratch)
        try:
            with open(self.output_path, "wb") as output:
                self.process = subprocess.Popen(
                    launch.argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                    pass_fds=launch.pass_fds, start_new_session=True)
        finally:
            for fd in (*passed, info_write):
                os.close(fd)
        with _LIVE_LOCK:
            _LIVE.add(self)
        if _INTERRUPTED.is_set():
            self.kill_now()
        os.set_blocking(self.private_write, False)
        self.private_data: bytes | None = None   # set when the private cases' turn comes
        self.buffer = b""
        self.sandbox_pid: int | None = None
        self.sandboxed = isolation.sandbox

    def kill_now(self) -> None:
        """SIGKILL the sandbox's process group at once (from any thread); :meth:`stop` still reaps it."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.sandbox_pid is not None:
            try:
                os.kill(self.sandbox_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def send_private(self, payload: dict) -> None:
        self.private_data = pickle.dumps(payload)

    def next_event(self, deadline: float) -> dict | None:
        """The next event, None at end of stream; raises TimeoutError at the deadline."""
        while b"\n" not in self.buffer:
            if _INTERRUPTED.is_set():
                raise GradingInterrupted("interrupted")
            if len(self.buffer) > MAX_LINE_BYTES:
                return {"type": "oversized"}
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            writing = [self.private_write] if self.private_data is not None and self.private_write >= 0 else []
            ready, writable, _ = select.select([self.read_fd], writing, [], min(remaining, 1.0))
            if writable:
                self._write_private()
            if not ready:
                continue
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            return {"type": "garbage"}
        return event if isinstance(event, dict) else {"type": "garbage"}

    def _write_private(self) -> None:
        try:
            written = os.write(self.private_write, self.private_data)
        except BlockingIOError:
            return
        except OSError:  # the worker closed its end: it will not read them
            written = len(self.private_data)
        self.private_data = self.private_data[written:]
        if not self.private_data:
            os.close(self.private_write)
            self.private_write, self.private_data = -1, None

    def _pid_one(self) -> int | None:
        """The host PID of the sandbox's PID 1 (reported by bwrap on its info descriptor)."""
        if self.sandbox_pid is None and self.sandboxed:
            try:
                os.set_blocking(self.info_fd, False)
                info = json.loads(os.read(self.info_fd, 4096) or b"{}")
                self.sandbox_pid = int(info.get("child-pid")) if info.get("child-pid") else None
            except (OSError, ValueError, TypeError):
                pass
        return self.sandbox_pid

    def stop(self, grace: float = 0.0) -> int:
        """Kill the sandbox and everything in it (after ``grace`` seconds for it to end by itself); wait until it
        is gone. Returns the worker's exit status."""
        if grace and self.process.poll() is None:
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        if self.process.poll() is None:
            pid_one = self._pid_one()
            try:  # PID 1's death ends every process of its PID namespace, and bwrap waits for that
                if pid_one is not None:
                    os.kill(pid_one, signal.SIGKILL)
                else:
                    os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        code = self.process.wait()
        with _LIVE_LOCK:
            _LIVE.discard(self)
        for fd in (self.read_fd, self.info_fd, self.private_write):
            if fd >= 0:
                os.close(fd)
        self.read_fd = self.info_fd = self.private_write = -1
        return code

    def output_tail(self, size: int = 400) -> str:
        data = self.output_path.read_bytes()[-size:]
        return data.decode("utf-8", errors="replace").strip()


def _death(worker: _Worker, code: int, limits: Limits) -> UnitFailure:
    """Why a worker ended early, from its exit status and output."""
    if worker.output_path.stat().st_size >= limits.output_bytes:
        return UnitFailure(OUTPUT, f"printed more than {limits.output_bytes:,} bytes")
    number = -code if code < 0 else code - 128 if worker.sandboxed and code > 128 else None  # bwrap: 128 + signal
    if number is not None:
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if name == "SIGXCPU":
            return UnitFailure(TIMEOUT, "used up its CPU time")
        if name == "SIGXFSZ":
            return UnitFailure(OUTPUT, "wrote a file larger than the limit")
        return UnitFailure(CRASHED, f"the process was killed by {name}")
    tail = worker.output_tail()
    if "MemoryError" in tail:
        return UnitFailure(MEMORY, f"ran out of memory (limit {limits.memory_mb} MB)")
    return UnitFailure(CRASHED, f"the process exited with status {code}")


def _unit_limit(unit: str, limits: Limits, protocol: Protocol | None = None) -> float:
    """A cell's limit, or an exercise's: its own ``seconds`` (``Exercise.time_limit_s``) when set."""
    if unit.startswith("cell:"):
        return limits.cell_seconds
    own = _own_seconds(unit, protocol)
    return own if own is not None else limits.exercise_seconds


def _own_seconds(unit: str | None, protocol: Protocol | None) -> float | None:
    if unit is None or protocol is None or not unit.startswith("cases:"):
        return None
    exercise_id = unit.split(":")[1]
    return next((e.get("seconds") for e in protocol.exercises if e["id"] == exercise_id), None)


# ----------------------------------------------------------------------------- stopping everything (Ctrl-C)
class GradingInterrupted(Exception):
    """The run was interrupted: every sandbox was killed."""


_INTERRUPTED = threading.Event()
_LIVE: set = set()
_LIVE_LOCK = threading.Lock()


def interrupt() -> None:
    """Kill every running sandbox and make every further start raise :class:`GradingInterrupted`."""
    _INTERRUPTED.set()
    with _LIVE_LOCK:
        workers = list(_LIVE)
    for worker in workers:
        worker.kill_now()


def reset_interrupt() -> None:
    _INTERRUPTED.clear()


# ----------------------------------------------------------------------------- a submission
def run_submission(notebooks: list[tuple[list[str], list[dict]]], limits: Limits, isolation: Isolation,
                   deadline: float | None = None) -> list[NotebookRun]:
    """Run one student's notebooks of one chapter — (code cells, exercises) pairs — in as few sandboxes as it takes.

    An exercise is ``{"id", "function", "public": [(args, kwargs, global_seed), ...], "private": [...]}``.
    Each notebook's cells run in a fresh namespace, then its exercises' cases. After a failure only the
    notebooks with exercises still pending run again, in a fresh sandbox, without the failed unit.
    ``deadline`` (``time.monotonic()``) bounds the whole submission; by default ``submission_seconds`` from now.
    """
    runs = [NotebookRun() for _ in notebooks]
    skips: list[set[int]] = [set() for _ in notebooks]
    owner = {e["id"]: k for k, (_, exercises) in enumerate(notebooks) for e in exercises}
    private = {e["id"]: e["private"] for _, exercises in notebooks for e in exercises}
    deadline = deadline if deadline is not None else time.monotonic() + limits.submission_seconds
    restarts = 0
    while True:
        if _INTERRUPTED.is_set():
            raise GradingInterrupted("interrupted")
        pending = {k: [e for e in exercises if not _complete(runs[k], e) and e["id"] not in runs[k].exercise_failures]
                   for k, (_, exercises) in enumerate(notebooks)}
        pending = {k: left for k, left in pending.items() if left}
        if not pending:
            break
        for k, left in pending.items():  # a half-finished exercise runs again from its public cases
            for exercise in left:
                runs[k].exercises.pop(exercise["id"], None)
        if time.monotonic() >= deadline or restarts > limits.max_restarts:
            reason = (UnitFailure(TIMEOUT, f"the submission used up its {limits.submission_seconds:.0f} s")
                      if time.monotonic() >= deadline else UnitFailure(CRASHED, "the code kept crashing the grader's worker"))
            for k, left in pending.items():
                runs[k].exercise_failures.update({e["id"]: reason for e in left})
            break
        job = {"cell_seconds": limits.cell_seconds,
               "notebooks": [{"index": k, "cells": notebooks[k][0], "skip_cells": sorted(skips[k]),
                              "exercises": [{"id": e["id"], "function": e["function"], "public": e["public"],
                                             "private": len(e["private"]), "seconds": e.get("seconds")}
                                            for e in left]}
                             for k, left in pending.items()]}
        with tempfile.TemporaryDirectory(prefix="grading-") as folder:
            failed_unit = _run_worker(job, private, limits, isolation, Path(folder), runs, owner, deadline)
        if failed_unit is None:  # the worker said it was done: anything unreported was not run honestly
            silent = UnitFailure(CRASHED, "no result was reported (was the result channel tampered with?)")
            for k, left in pending.items():
                runs[k].exercise_failures.update({e["id"]: silent for e in left if not _complete(runs[k], e)})
            break
        unit, failure = failed_unit
        if unit is None:  # died before running anything: nothing to skip, give up
            for k, left in pending.items():
                runs[k].exercise_failures.update({e["id"]: failure for e in left})
            break
        parts = unit.split(":")
        if parts[0] == "cell":
            notebook, index = int(parts[1]), int(parts[2])
            runs[notebook].cell_failures[index] = failure
            skips[notebook].add(index)
        else:
            runs[owner[parts[1]]].exercise_failures[parts[1]] = failure
        restarts += 1
    for run in runs:
        run.restarts = restarts
    return runs


def _complete(run: NotebookRun, exercise: dict) -> bool:
    report = run.exercises.get(exercise["id"])
    if not report or "public" not in report:
        return False
    return not (exercise["private"] and _runnable(report["public"])) or "private" in report


def _run_worker(job: dict, private: dict, limits: Limits, isolation: Isolation, folder: Path,
                runs: list[NotebookRun], owner: dict, submission_deadline: float):
    """Run one worker until it finishes (returns None) or fails; returns (unit in progress, failure)."""
    worker = _Worker(job, limits, isolation, folder)
    protocol = Protocol(job)
    reports: dict[str, dict] = {}
    current, deadline = None, time.monotonic() + limits.startup_seconds
    ready, stuck = False, []
    try:
        while True:
            try:
                event = worker.next_event(min(deadline, submission_deadline))
            except TimeoutError:
                worker.stop()
                limit = _unit_limit(current, limits, protocol) if current else limits.startup_seconds
                if time.monotonic() >= submission_deadline:
                    return current, UnitFailure(TIMEOUT, f"the submission used up its {limits.submission_seconds:.0f} s")
                if _own_seconds(current, protocol) is not None:
                    return current, UnitFailure(TIMEOUT, f"exceeded its time budget of {limit:g} s")
                if stuck:  # only ever set while a cell runs
                    _charge_stuck(stuck, current, limit, job, protocol, runs, owner)
                return current, UnitFailure(TIMEOUT, f"still running after {limit:.0f} s")
            if event is None:  # the worker ended: let the sandbox finish, so that its exit status is the worker's
                code = worker.stop(grace=5.0)
                return current, _death(worker, code, limits)
            kind = event.get("type")
            if kind == "ready" and not ready and current is None:
                ready = True
            elif kind == "start" and ready and current is None and event.get("unit") == protocol.next_unit(reports):
                current = event["unit"]
                started = time.monotonic()
                deadline = started + _unit_limit(current, limits, protocol)
            elif kind == "stuck" and current is not None and current.startswith("cell:") and \
                    event.get("unit") == current and not stuck and isinstance(event.get("exercises"), list):
                ids = {e["id"] for e in protocol.exercises}
                stuck = [i for i in event["exercises"] if isinstance(i, str) and i in ids]
            elif kind == "end" and current is not None and event.get("unit") == current:
                stuck = []
                parts = current.split(":")
                run_index = int(parts[1]) if parts[0] == "cell" else owner.get(parts[1])
                if run_index is not None:
                    runs[run_index].seconds[current] = time.monotonic() - started
                if current.startswith("cell:") and event.get("error"):
                    _, notebook, index = current.split(":")
                    runs[int(notebook)].cell_errors[int(index)] = str(event["error"])[:1000]
                protocol.position += 1
                current, deadline = None, time.monotonic() + limits.startup_seconds
                upcoming = protocol.next_unit(reports)
                if upcoming and upcoming.endswith(":private") and worker.private_data is None and \
                        worker.private_write >= 0:  # every public result is in: the private inputs may go
                    worker.send_private({i: private[i] for i in protocol.private_turn()})
            elif kind == "outcomes" and current == f"cases:{event.get('id')}:{event.get('phase')}" and \
                    event["phase"] not in reports.get(event["id"], {}):
                entry = {"found": event.get("found") is True, "outcomes": event.get("outcomes")}
                reports.setdefault(event["id"], {})[event["phase"]] = entry
            elif kind == "done" and current is None and ready and protocol.next_unit(reports) is None:
                for exercise_id, report in reports.items():
                    runs[owner[exercise_id]].exercises[exercise_id] = _merge(report)
                worker.stop()
                return None
            else:
                worker.stop()
                detail = "sent a result larger than the limit" if kind == "oversized" else TAMPERED
                return current, UnitFailure(CRASHED, detail)
            _commit(reports, runs, owner, job)
    finally:
        if worker.process.poll() is None:
            worker.stop()


def _charge_stuck(stuck: list[str], cell: str, limit: float, job: dict, protocol: Protocol,
                  runs: list[NotebookRun], owner: dict) -> None:
    """A cell stopped at its limit inside one lasting call of these exercises' functions: each exercise fails with
    the same timeout, and its cases are not run (a runaway loop is stopped once, not once per limit). Except an
    exercise with a time budget of its own (its cases get that budget) and one whose function a later cell binds
    again (the cases would call that later definition)."""
    _, notebook, index = cell.split(":")
    later_cells = next(nb["cells"] for nb in job["notebooks"] if nb["index"] == int(notebook))[int(index) + 1:]
    for exercise in protocol.exercises:
        if exercise["id"] not in stuck or exercise.get("seconds") is not None or \
                any(binds_name(source, exercise["function"]) for source in later_cells):
            continue
        runs[owner[exercise["id"]]].exercise_failures[exercise["id"]] = UnitFailure(
            TIMEOUT, f"still running after {limit:.0f} s when code cell {int(index) + 1} called it (not run again)")


def _merge(report: dict) -> dict:
    public = report.get("public", {})
    merged = {"found": public.get("found", False), "public": public}
    if "private" in report:
        merged["private"] = report["private"]
    return merged


def _commit(reports: dict, runs: list[NotebookRun], owner: dict, job: dict) -> None:
    """Keep each exercise whose every phase has reported, so that a later crash does not lose it."""
    for notebook in job["notebooks"]:
        for exercise in notebook["exercises"]:
            report = reports.get(exercise["id"])
            if report and "public" in report and \
                    (not (exercise["private"] and _runnable(report["public"])) or "private" in report):
                runs[owner[exercise["id"]]].exercises[exercise["id"]] = _merge(report)


def check_sandbox(isolation: Isolation) -> str | None:
    """None when sandboxed workers can run here; otherwise why not (see :func:`bwrap.probe`)."""
    return bwrap.probe(isolation.mounts())

"""Running one student's notebooks in worker processes, with limits, and surviving whatever they do.

The worker (:mod:`course_lib.grading.worker`) announces each unit — a code cell or an
exercise — before running it. If the worker dies or a unit runs past its time limit, the
unit in progress is charged with it, the worker is killed, and a new worker starts that
skips that unit. So an infinite loop or ``os._exit`` costs one exercise (or one cell), not
the whole notebook; the restarts are bounded, and the submission has an overall time limit.
"""
from __future__ import annotations

import json
import os
import pickle
import resource
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT, CRASHED, MEMORY, OUTPUT = "timeout", "crashed", "memory limit", "output limit"


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
    exercises: dict[str, dict] = field(default_factory=dict)             # id -> the worker's report
    exercise_failures: dict[str, UnitFailure] = field(default_factory=dict)
    restarts: int = 0


def _limit_resources(limits: Limits):
    def apply():  # runs in the child between fork and exec
        os.setsid()  # its own process group, so that everything it starts can be killed
        memory = limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.output_bytes, limits.output_bytes))
        cpu = int(limits.submission_seconds + limits.startup_seconds) + 5
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _environment(scratch: Path) -> dict:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(scratch), "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(scratch / ".matplotlib"), "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "COURSE_DEVICE": "cpu", "CUDA_VISIBLE_DEVICES": ""}


class _Worker:
    """One worker process and its event stream."""

    def __init__(self, job: dict, limits: Limits, scratch: Path):
        job_path = scratch / "job.pickle"
        job_path.write_bytes(pickle.dumps(job | {"scratch": str(scratch)}))
        self.read_fd, write_fd = os.pipe()
        self.output_path = scratch / "output.txt"
        with open(self.output_path, "wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-m", "course_lib.grading.worker", str(job_path), str(write_fd)],
                cwd=scratch, env=_environment(scratch), stdin=subprocess.DEVNULL, stdout=output, stderr=output,
                pass_fds=(write_fd,), preexec_fn=_limit_resources(limits))
        os.close(write_fd)
        self.buffer = b""

    def next_event(self, deadline: float) -> dict | None:
        """The next event, None at end of stream; raises TimeoutError at the deadline."""
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.read_fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(self.read_fd, 1 << 16)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return {"type": "garbage"}

    def stop(self) -> int:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        code = self.process.wait()
        os.close(self.read_fd)
        return code

    def output_tail(self, size: int = 400) -> str:
        data = self.output_path.read_bytes()[-size:]
        return data.decode("utf-8", errors="replace").strip()


def _death(worker: _Worker, code: int, limits: Limits) -> UnitFailure:
    """Why a worker ended early, from its exit status and output."""
    if worker.output_path.stat().st_size >= limits.output_bytes:
        return UnitFailure(OUTPUT, f"printed more than {limits.output_bytes:,} bytes")
    if code < 0:
        name = signal.Signals(-code).name
        if name == "SIGXCPU":
            return UnitFailure(TIMEOUT, "used up its CPU time")
        return UnitFailure(CRASHED, f"the process was killed by {name}")
    tail = worker.output_tail()
    if "MemoryError" in tail:
        return UnitFailure(MEMORY, f"ran out of memory (limit {limits.memory_mb} MB)")
    return UnitFailure(CRASHED, f"the process exited with status {code}")


def _unit_limit(unit: str, limits: Limits) -> float:
    return limits.cell_seconds if unit.startswith("cell:") else limits.exercise_seconds


def run_submission(notebooks: list[tuple[list[str], list[dict]]], limits: Limits) -> list[NotebookRun]:
    """Run one student's notebooks — (code cells, exercises) pairs — in as few workers as it takes.

    Each notebook's cells run in a fresh namespace, then its exercises' cases. After a failure
    only the notebooks with exercises still pending are run again, without the failed unit.
    The submission's time limit covers all of its notebooks.
    """
    runs = [NotebookRun() for _ in notebooks]
    skips: list[set[int]] = [set() for _ in notebooks]
    owner = {e["id"]: k for k, (_, exercises) in enumerate(notebooks) for e in exercises}
    deadline = time.monotonic() + limits.submission_seconds
    restarts = 0
    while True:
        pending = {k: [e for e in exercises if e["id"] not in runs[k].exercises and e["id"] not in runs[k].exercise_failures]
                   for k, (_, exercises) in enumerate(notebooks)}
        pending = {k: left for k, left in pending.items() if left}
        if not pending:
            break
        if time.monotonic() >= deadline or restarts > limits.max_restarts:
            reason = (UnitFailure(TIMEOUT, f"the submission used up its {limits.submission_seconds:.0f} s")
                      if time.monotonic() >= deadline else UnitFailure(CRASHED, "the code kept crashing the grader's worker"))
            for k, left in pending.items():
                runs[k].exercise_failures.update({e["id"]: reason for e in left})
            break
        job = {"notebooks": [{"index": k, "cells": notebooks[k][0], "skip_cells": sorted(skips[k]), "exercises": left}
                             for k, left in pending.items()]}
        with tempfile.TemporaryDirectory(prefix="grading-") as scratch:
            failed_unit = _run_worker(job, limits, Path(scratch), runs, owner, deadline)
        if failed_unit is None:  # the worker said it was done: anything unreported was not run honestly
            silent = UnitFailure(CRASHED, "no result was reported (was the result channel tampered with?)")
            for k, left in pending.items():
                runs[k].exercise_failures.update({e["id"]: silent for e in left if e["id"] not in runs[k].exercises})
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


def _run_worker(job: dict, limits: Limits, scratch: Path, runs: list[NotebookRun], owner: dict,
                submission_deadline: float):
    """Run one worker until it finishes (returns None) or fails; returns (unit in progress, failure)."""
    worker = _Worker(job, limits, scratch)
    current, deadline = None, time.monotonic() + limits.startup_seconds
    try:
        while True:
            try:
                event = worker.next_event(min(deadline, submission_deadline))
            except TimeoutError:
                worker.stop()
                limit = _unit_limit(current, limits) if current else limits.startup_seconds
                if time.monotonic() >= submission_deadline:
                    return current, UnitFailure(TIMEOUT, f"the submission used up its {limits.submission_seconds:.0f} s")
                return current, UnitFailure(TIMEOUT, f"still running after {limit:.0f} s")
            if event is None:
                code = worker.stop()
                return current, _death(worker, code, limits)
            kind = event.get("type")
            if kind == "start":
                current = str(event.get("unit"))
                deadline = time.monotonic() + _unit_limit(current, limits)
            elif kind == "end":
                if current and current.startswith("cell:") and event.get("error"):
                    _, notebook, index = current.split(":")
                    runs[int(notebook)].cell_errors[int(index)] = str(event["error"])
                current, deadline = None, time.monotonic() + limits.startup_seconds
            elif kind == "exercise" and event.get("id") in owner:
                runs[owner[event["id"]]].exercises[event["id"]] = event
            elif kind == "done":
                worker.stop()
                return None
            elif kind not in ("ready", "exercise"):
                worker.stop()
                return current, UnitFailure(CRASHED, "the result channel was tampered with")
    finally:
        if worker.process.poll() is None:
            worker.stop()

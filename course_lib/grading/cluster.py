"""Grading a class larger than one machine: ``grade --scheduler ADDRESS`` on Dask's distributed scheduler.

The client (the instructor's machine) does everything a local run does before student code runs: it finds
the submissions, reads and parses each file once (never following a link or opening what is not a regular
file) and builds the checks. Dask then runs one task per student on the cluster's workers. A task carries
that student's parsed notebooks; the worker runs them in bubblewrap sandboxes over chapter views it built
once (per worker process, in a temporary folder of its own), scores them with the same
:func:`grader.grade_student` as a local run and sends the :class:`grader.StudentResult` back. So the files
the client writes are byte-identical to a local run's (``run.json``, which records the run, aside).

Before any student is graded, a preparation task on every worker checks that it runs the same course
(:func:`course_fingerprint`: the course's source and the installed versions of its pinned dependencies)
and that its sandbox works, and builds its chapter views; a worker that fails stops the run with a message
naming it. Calibration (:mod:`calibrate`) runs as one task on a worker; its cache stays on the client.
Ctrl-C cancels every task and kills every sandbox on every worker.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import re
import tempfile
import threading
from pathlib import Path

from course_lib.grading.grader import (CheckSet, CohortInterrupted, StudentResult, build_isolations, calibrated,
                                       grade_student, graded_chapters, result_or_error)
from course_lib.grading.sandbox import Isolation, Limits, interrupt, reset_interrupt

CONNECT_SECONDS = 15.0
WORKERS_SECONDS = 60.0


class ClusterUnavailable(Exception):
    """The scheduler cannot be reached, no worker joined it, or a worker cannot grade (says which and why)."""


# ----------------------------------------------------------------------------- what a worker must share
def course_fingerprint() -> str:
    """SHA-256 of the course's Python source and the installed version of every dependency it pins.

    Two machines with the same fingerprint score a submission the same way; the scores depend on the grading
    code, the registry's reference answers and the numerical libraries that compute both.
    """
    import course_lib

    package = Path(course_lib.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    for requirement in sorted(importlib.metadata.requires("course_lib") or []):
        if "extra ==" in requirement:
            continue
        name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            version = "missing"
        digest.update(f"{name}=={version}\n".encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------- on a worker
_VIEWS: dict[tuple, dict[str, Isolation]] = {}
_FOLDERS: list[tempfile.TemporaryDirectory] = []   # removed when the worker process exits
_VIEWS_LOCK = threading.Lock()


def worker_isolations(checks: CheckSet, sandbox: bool) -> dict[str, Isolation]:
    """This worker process's chapter views for ``checks``, built on first use (raises SandboxUnavailable)."""
    key = (checks.checks_hash, tuple(sorted(graded_chapters(checks))), sandbox)
    with _VIEWS_LOCK:
        if key not in _VIEWS:
            folder = tempfile.TemporaryDirectory(prefix="grading-views-")
            _FOLDERS.append(folder)
            _VIEWS[key] = build_isolations(graded_chapters(checks), checks.registered, Path(folder.name), sandbox)
        return _VIEWS[key]


def prepare_worker(checks: CheckSet, sandbox: bool) -> dict:
    """Run on every worker before grading: its fingerprint, and why it cannot grade (None when it can)."""
    reset_interrupt()
    try:
        worker_isolations(checks, sandbox)
        problem = None
    except Exception as err:  # noqa: BLE001 - reported to the client with the worker's address
        problem = f"{type(err).__name__}: {err}"
    return {"fingerprint": course_fingerprint(), "problem": problem}


def grade_task(name: str, paths: list[Path], notebooks: dict, checks: CheckSet, limits: Limits, sandbox: bool,
               chapter_limits: dict[str, Limits]) -> StudentResult:
    """One student, on a worker: exactly the local run's :func:`grade_student`, over this worker's views."""
    return grade_student(name, paths, checks, limits, worker_isolations(checks, sandbox), notebooks, chapter_limits)


def calibrate_task(checks: CheckSet, limits: Limits, sandbox: bool, stored: dict,
                   calibration: tuple[float, float]) -> tuple[dict[str, Limits], dict]:
    """Calibrated limits measured on a worker, and the cache with any new measurement added."""
    return calibrated(checks, worker_isolations(checks, sandbox), limits, stored, calibration), stored


def stop_sandboxes() -> None:
    """Ctrl-C on the client: kill every sandbox of this worker process and refuse to start new ones."""
    interrupt()


# ----------------------------------------------------------------------------- on the client
def grade_on_cluster(address: str, found: dict[str, list[Path]], parsed: dict[Path, object], checks: CheckSet,
                     limits: Limits, sandbox: bool, calibration: tuple[float, float] | None,
                     calibration_cache: Path | None) -> list[StudentResult]:
    """Grade every student of ``found`` on the Dask cluster at ``address``; results sorted by student name."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable("grading on a cluster needs Dask: pip install 'distributed'") from None
    try:
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError) as err:
        raise ClusterUnavailable(f"cannot reach the Dask scheduler at {address} ({err})") from None
    with client:
        shared = client.scatter(checks, broadcast=True, hash=False)
        _prepare(client, address, shared, sandbox)
        chapter_limits = _calibrate(client, shared, limits, sandbox, calibration, calibration_cache)
        futures = {name: client.submit(grade_task, name, paths, _sendable(paths, parsed), shared, limits, sandbox,
                                       chapter_limits, key=f"grade-{number}", pure=False)
                   for number, (name, paths) in enumerate(found.items())}
        try:
            from distributed import wait
            wait(list(futures.values()))
        except KeyboardInterrupt:
            client.cancel(list(futures.values()))
            client.run(stop_sandboxes)
            not_graded = sorted(n for n, f in futures.items() if f.status != "finished")
            raise CohortInterrupted(not_graded) from None
        return [result_or_error(name, futures[name], checks) for name in sorted(futures)]


def _prepare(client, address: str, shared, sandbox: bool) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKERS_SECONDS)
    except TimeoutError:
        raise ClusterUnavailable(f"no worker joined the scheduler at {address} within {WORKERS_SECONDS:.0f} s") from None
    workers = sorted(client.scheduler_info(n_workers=-1)["workers"])
    answers = client.gather([client.submit(prepare_worker, shared, sandbox, workers=[w], allow_other_workers=False,
                                           pure=False, key=f"prepare-{w}") for w in workers])
    ours = course_fingerprint()
    for worker, answer in zip(workers, answers):
        if answer["problem"]:
            raise ClusterUnavailable(f"worker {worker} cannot grade: {answer['problem']}")
        if answer["fingerprint"] != ours:
            raise ClusterUnavailable(
                f"worker {worker} runs a different course (fingerprint {answer['fingerprint'][:12]}, here "
                f"{ours[:12]}): install the same checkout and pinned packages on every worker")


def _calibrate(client, shared, limits: Limits, sandbox: bool, calibration: tuple[float, float] | None,
               cache: Path | None) -> dict[str, Limits]:
    if calibration is None:
        return {}
    from course_lib.grading.calibrate import load_cache, save_cache

    chapter_limits, stored = client.submit(calibrate_task, shared, limits, sandbox, load_cache(cache), calibration,
                                           pure=False, key="calibrate").result()
    save_cache(cache, stored)
    return chapter_limits


def _sendable(paths: list[Path], parsed: dict[Path, object]) -> dict[Path, object]:
    """One student's parsed notebooks (or the reasons they cannot be read), without cached syntax trees."""
    return {path: dataclasses.replace(parsed[path], _trees=None, _functions=None)
            if dataclasses.is_dataclass(parsed[path]) else parsed[path] for path in paths}

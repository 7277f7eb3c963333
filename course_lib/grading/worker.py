"""The grading worker: the only code that runs a student's notebook. It runs in its own process.

Started by :mod:`course_lib.grading.sandbox` as ``python -I -m course_lib.grading.worker JOB FD``
with resource limits already set. It reads its job (the notebook's code cells and the cases
to run), then

1. imports the heavy libraries and installs *tripwires*: wrappers around every course
   implementation of the exercises, which record a call made while an answer is running;
2. installs an audit hook (which Python code cannot remove) that forbids subprocesses,
   fork, signals to other processes, sockets, ctypes, and file access outside the scratch
   directory and the Python installation — so other students' files cannot be read;
3. runs the code cells in order, each error caught and reported, then calls each
   exercise function on every case.

The job holds one student's notebooks; each runs in a fresh namespace. The worker reports
through file descriptor FD, one JSON object per line: ``start``/``end`` around each unit (a
cell, ``cell:<notebook>:<index>``, or an exercise, ``exercise:<id>``) and one ``exercise``
line with the outcomes as plain data.
Nothing here decides a score: the grader's process compares the outcomes with expected
values it computed itself.
"""
from __future__ import annotations

import json
import os
import pickle
import sys

JOB_ARG, FD_ARG = 1, 2
MAX_RESULT_BYTES = 20 * 2**20
_ACTIVE = {"exercise": None}      # the exercise whose answer is running, for the tripwires
_TRIPPED: dict[str, set] = {}     # exercise id -> implementations called while its answer ran


# ----------------------------------------------------------------------------- reporting
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


# ----------------------------------------------------------------------------- tripwires
def install_tripwires(exercises: list[dict]) -> None:
    """Replace each course implementation by a wrapper that notes calls made during an answer."""
    import importlib

    wanted = {}
    for exercise in exercises:
        for name in exercise["implementations"]:
            wanted.setdefault(name, set()).add(exercise["id"])
    for name, exercise_ids in wanted.items():
        module_name, qualname = name.split(":")
        owner = importlib.import_module(module_name)
        *path, attribute = qualname.split(".")
        for part in path:
            owner = getattr(owner, part)
        original = getattr(owner, attribute)
        setattr(owner, attribute, _tripwire(original, name, exercise_ids))


def _tripwire(original, name: str, exercise_ids: set):
    def wrapper(*args, **kwargs):
        active = _ACTIVE["exercise"]
        if active in exercise_ids:
            _TRIPPED.setdefault(active, set()).add(name)
        return original(*args, **kwargs)

    wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = original.__name__, original.__qualname__, original.__doc__
    return wrapper


# ----------------------------------------------------------------------------- the sandbox policy
BLOCKED_EVENTS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
                  "os.forkpty", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill", "socket.connect",
                  "socket.bind", "socket.sendto", "socket.sendmsg", "gc.get_objects", "gc.get_referrers",
                  "gc.get_referents", "os.setuid", "os.setgid")
PATH_WRITE_EVENTS = {"os.remove": 1, "os.rmdir": 1, "os.mkdir": 1, "os.chmod": 1, "os.chown": 1,
                     "os.truncate": 1, "os.utime": 1, "os.rename": 2, "os.replace": 2, "os.symlink": 2,
                     "os.link": 2, "shutil.rmtree": 1, "shutil.move": 2, "shutil.copyfile": 2, "os.chdir": 1}
PATH_READ_EVENTS = ("os.listdir", "os.scandir", "glob.glob")
SAFE_CTYPES = ("ctypes.create_string_buffer", "ctypes.create_unicode_buffer")
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def make_audit_hook(read_roots: list[str], write_root: str):
    read_roots = [os.path.realpath(r) for r in read_roots]
    write_root = os.path.realpath(write_root)

    def inside(path, roots) -> bool:
        if isinstance(path, int):
            return True  # an already-open file descriptor
        if path is None:
            return False
        real = os.path.realpath(os.fsdecode(os.fspath(path)))
        return any(real == root or real.startswith(root + os.sep) for root in roots)

    def refuse(event, detail=""):
        raise PermissionError(f"not allowed while grading: {event} {detail}".strip())

    def hook(event, args):
        if event == "open":
            path, mode, flags = (list(args) + [None, None, 0])[:3]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or bool((flags or 0) & WRITE_FLAGS)
            if not inside(path, [write_root] if writing else read_roots + [write_root]):
                refuse("opening", repr(path))
        elif event.startswith(BLOCKED_EVENTS):
            refuse(event)
        elif event.startswith("ctypes.") and event not in SAFE_CTYPES:
            refuse(event)
        elif event in PATH_WRITE_EVENTS:
            for path in args[:PATH_WRITE_EVENTS[event]]:
                if not inside(path, [write_root]):
                    refuse(event, repr(path))
        elif event in PATH_READ_EVENTS:
            if args and not inside(args[0] if args[0] not in ("", None) else ".", read_roots + [write_root]):
                refuse(event, repr(args[0]))

    return hook


def read_roots() -> list[str]:
    """What student code may read: the Python installation, the course library, a few system files."""
    import site

    import course_lib

    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(course_lib.__file__),
             "/dev/null", "/dev/urandom", f"/proc/{os.getpid()}", "/proc/self", "/proc/cpuinfo", "/proc/meminfo",
             "/sys/devices/system/cpu", "/sys/fs/cgroup", "/etc/localtime", "/usr/share/zoneinfo",
             "/usr/lib", "/usr/local/lib", "/lib"}
    roots.update(site.getsitepackages())
    return sorted(roots)


# ----------------------------------------------------------------------------- running the notebook
class _Shell:
    """Stands in for IPython's get_ipython(): magics and shell escapes do nothing while grading."""

    def run_line_magic(self, *args, **kwargs):
        return None

    run_cell_magic = system = getoutput = run_line_magic


def describe_error(err: BaseException) -> str:
    text = f"{type(err).__name__}: {err}"
    return text if len(text) < 500 else text[:500] + "..."


def run_cells(notebook: int, cells: list[str], skip: set, namespace: dict, channel: Channel) -> None:
    for index, source in enumerate(cells):
        if index in skip:
            continue
        unit = f"cell:{notebook}:{index}"
        channel.send(type="start", unit=unit)
        error = None
        try:
            exec(compile(source, f"<code cell {index + 1}>", "exec"), namespace)
        except BaseException as err:  # SystemExit, KeyboardInterrupt, MemoryError: all are the cell's problem
            error = describe_error(err)
        try:
            sys.stdout.flush()
        except OSError:
            pass
        channel.send(type="end", unit=unit, error=error)


def run_exercise(exercise: dict, namespace: dict, channel: Channel) -> None:
    channel.send(type="start", unit=f"exercise:{exercise['id']}")
    function = namespace.get(exercise["function"])
    report = {"type": "exercise", "id": exercise["id"], "found": callable(function), "outcomes": []}
    if callable(function):
        for case in exercise["cases"]:
            report["outcomes"].append(_run_case(function, case, exercise["id"]))
            if report["outcomes"][-1].get("not_implemented"):
                break
    report["tripped"] = sorted(_TRIPPED.get(exercise["id"], ()))
    try:
        sys.stdout.flush()
    except OSError:
        pass
    line = json.dumps(report, allow_nan=True)
    if len(line) > MAX_RESULT_BYTES:
        report["outcomes"] = [{"raised": ["ResultTooLarge"], "error": "the answer's results are too large"}]
    channel.send(**report)
    channel.send(type="end", unit=f"exercise:{exercise['id']}", error=None)


def _run_case(function, case, exercise_id: str) -> dict:
    from course_lib.environment import seed_everything
    from course_lib.grading.check import run_answer

    seed_everything(0)
    _ACTIVE["exercise"] = exercise_id
    try:
        return run_answer(function, case)
    except NotImplementedError:
        return {"not_implemented": True}
    except BaseException as err:  # SystemExit and friends escape run_answer's `except Exception`
        return {"raised": [c.__name__ for c in type(err).__mro__], "error": str(err)[:300]}
    finally:
        _ACTIVE["exercise"] = None


def prepare(job: dict) -> None:
    """Everything that happens before student code: libraries, tripwires, thread limits, the audit hook."""
    import contextlib

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import threadpoolctl

    import torch  # noqa: F401  (course_lib.setup needs it; its shared libraries load before ctypes is forbidden)

    import course_lib.environment
    import course_lib.grading.check  # noqa: F401
    # Threads are limited through OMP_NUM_THREADS & co.; threadpoolctl probes libraries with
    # ctypes, which the sandbox forbids, so its limiter becomes a no-op here.
    no_limits = lambda *args, **kwargs: contextlib.nullcontext()  # noqa: E731
    threadpoolctl.threadpool_limits = no_limits
    course_lib.environment.threadpool_limits = no_limits
    install_tripwires([e for notebook in job["notebooks"] for e in notebook["exercises"]])
    sys.dont_write_bytecode = True
    sys.addaudithook(make_audit_hook(read_roots(), job["scratch"]))


def main() -> None:
    job_path, fd = sys.argv[JOB_ARG], int(sys.argv[FD_ARG])
    with open(job_path, "rb") as handle:
        job = pickle.load(handle)
    os.remove(job_path)
    os.chdir(job["scratch"])
    channel = Channel(fd)
    prepare(job)
    channel.send(type="ready")
    for notebook in job["notebooks"]:  # one student's notebooks, each in a fresh namespace
        namespace = {"__name__": "__main__", "get_ipython": _Shell}
        run_cells(notebook["index"], notebook["cells"], set(notebook["skip_cells"]), namespace, channel)
        for exercise in notebook["exercises"]:
            run_exercise(exercise, namespace, channel)
    channel.send(type="done")
    try:
        sys.stdout.flush()
    except OSError:
        pass
    os._exit(0)  # no atexit handlers or lingering threads of the student's code


if __name__ == "__main__":
    main()

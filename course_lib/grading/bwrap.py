"""The OS sandbox student code runs in: bubblewrap (``bwrap``), one sandbox per student and chapter.

Inside a sandbox the student's code runs

* in new user, PID, network, IPC, UTS and mount namespaces (``--unshare-all --unshare-user``), in a new
  session, killed with its parent (``--die-with-parent``); with a new PID namespace, every process it
  started dies when the sandbox ends, and it cannot see, signal or trace any process outside;
* with no network at all (its own loopback only: nothing outside the sandbox is reachable);
* on a file system that holds only, read-only: ``/usr`` (and the ``/bin``, ``/lib`` links), a few files
  of ``/etc``, the Python environment (the virtual environment and the Python it was made from, at their
  own paths), and the chapter view of the course (``/course/course_lib``, see :mod:`chapter_view`);
  plus a size-limited tmpfs at ``/tmp``, the only writable place (``--remount-ro /`` makes the rest
  read-only). Solutions, other students, the output folder, the instructor's private checks and the
  course's own answers are not there;
* as an unprivileged user: when the grader runs as root, the sandbox is started as ``nobody``
  (uid 65534), whose process count the sandbox's ``RLIMIT_NPROC`` can limit (the kernel never limits
  root's); a small launcher (:data:`LAUNCHER`) first binds the folders the sandbox needs at places that
  user can reach, in a mount namespace of its own (the host's mounts are untouched), because a Python
  under ``/root`` (0700) is otherwise out of its reach.

Resource limits (memory, processes, file size, open files, CPU) are set by the worker's first lines
(:data:`BOOT`), before any library or student code is imported; they cannot be raised from inside.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE = "/course"              # where the chapter view is mounted inside the sandbox
SCRATCH = "/tmp"                # the only writable place
NOBODY = 65534
INSTALL_COMMAND = "sudo apt-get install -y bubblewrap"
INSTALL_HELP = (f"install bubblewrap: `{INSTALL_COMMAND}` (Debian/Ubuntu) or `sudo dnf install bubblewrap` "
                "(Fedora/RHEL); or grade with --no-sandbox, only for submissions you trust")
ETC_FILES = ("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives", "/etc/fonts")
TOP_LINKS = ("/bin", "/lib", "/lib32", "/lib64", "/libx32", "/sbin")

# Runs first in the sandbox: apply the limits, then hand over to the worker. argv[1] holds the limits.
BOOT = ("import json, resource, sys\n"
        "for name, value in json.loads(sys.argv[1]).items():\n"
        "    resource.setrlimit(getattr(resource, name), (value, value))\n"
        f"sys.path.insert(0, {COURSE!r})\n"
        "import course_lib.grading.worker as worker\n"
        "worker.main(sys.argv[2:])\n")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a sandbox here; the message says what to do."""


@dataclass(frozen=True)
class Mounts:
    """The host folders a sandbox binds read-only: the Python environment and the chapter view's folder.

    ``stage`` (only when the grader runs as root): a folder of empty mount points that the sandbox's user
    can reach, where a launcher binds those folders first, in a mount namespace of its own, so that
    bwrap — started as that user — can bind them whatever the permissions of their parents (``/root``)."""

    python: tuple[str, ...]
    view: str
    stage: str | None = None

    def sources(self) -> list[tuple[str, str]]:
        """(host folder, where it is inside the sandbox) for each folder bound from the host."""
        return [*((root, root) for root in self.python), (self.view, COURSE)]


# Root only: a private mount namespace in which the folders are bound at reachable places, then drop to
# the unprivileged user and become bwrap. argv[1]: {"binds": [[source, mount point], ...], "uid": ...}.
LAUNCHER = ("import ctypes, json, os, sys\n"
            "spec = json.loads(sys.argv[1])\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "def done(result, what):\n"
            "    if result != 0:\n"
            "        sys.stderr.write(f'bwrap launcher: {what}: {os.strerror(ctypes.get_errno())}\\n')\n"
            "        os._exit(126)\n"
            "done(libc.unshare(0x20000), 'unshare(CLONE_NEWNS)')\n"
            "done(libc.mount(b'none', b'/', None, 0x4000 | 0x40000, None), 'making mounts private')\n"
            "for source, target in spec['binds']:\n"
            "    done(libc.mount(source.encode(), target.encode(), None, 0x1000 | 0x4000, None), 'binding ' + source)\n"
            "uid = spec['uid']\n"
            "os.setgroups([])\n"
            "os.setresgid(uid, uid, uid)\n"
            "os.setresuid(uid, uid, uid)\n"
            "os.execv(sys.argv[2], sys.argv[2:])\n")


def make_stage(folder: str, mounts_count: int) -> str:
    """The mount points for :data:`LAUNCHER`: ``folder`` (0711: reachable, not listable) holding ``0``, ``1``, ..."""
    os.chmod(folder, 0o711)
    for index in range(mounts_count):
        os.mkdir(os.path.join(folder, str(index)), 0o755)
    return folder


def python_roots() -> tuple[str, ...]:
    """The folders the Python environment lives in: the venv and the installation it was made from."""
    roots = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix)}
    roots.add(os.path.realpath(os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))))
    system = ("/usr",)  # bound anyway
    kept = sorted(r for r in roots if not any(r == s or r.startswith(s + "/") for s in system))
    # drop folders inside another kept folder
    return tuple(r for r in kept if not any(r != o and r.startswith(o + "/") for o in kept))


def find_bwrap() -> str | None:
    return shutil.which("bwrap")


@functools.cache
def _supports(option: str) -> bool:
    executable = find_bwrap()
    if executable is None:
        return False
    text = subprocess.run([executable, "--help"], capture_output=True, text=True).stdout
    return option in text


def rlimits(memory_mb: int, processes: int, file_bytes: int, open_files: int, cpu_seconds: int) -> dict[str, int]:
    return {"RLIMIT_AS": memory_mb * 2**20, "RLIMIT_NPROC": processes, "RLIMIT_FSIZE": file_bytes,
            "RLIMIT_NOFILE": open_files, "RLIMIT_CPU": cpu_seconds, "RLIMIT_CORE": 0}


class Launch:
    """How to start one worker: its argv and the descriptors to pass."""

    def __init__(self, argv: list[str], pass_fds: tuple[int, ...]):
        self.argv, self.pass_fds = argv, pass_fds


def sandbox_launch(mounts: Mounts, limits: dict[str, int], scratch_bytes: int, worker_args: list[str],
                   env: dict[str, str], extra_fds: tuple[int, ...], info_fd: int | None = None) -> Launch:
    """The command line for one sandboxed worker (see the module docstring for what it holds).

    ``info_fd``: a pipe's write end on which bwrap reports the host PID of the sandbox's PID 1, whose
    death ends every process in the sandbox."""
    executable = find_bwrap()
    if executable is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed; {INSTALL_HELP}")
    as_root = os.geteuid() == 0
    if as_root and mounts.stage is None:
        raise ValueError("a grader running as root needs Mounts.stage (see make_stage)")
    sources = mounts.sources()
    staged = [os.path.join(mounts.stage, str(i)) if as_root else source for i, (source, _) in enumerate(sources)]
    argv = [executable, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
            "--hostname", "grading", "--uid", str(NOBODY), "--gid", str(NOBODY)]
    if _supports("--disable-userns"):
        argv.append("--disable-userns")  # no nested user namespaces: no namespace "root" inside
    argv += ["--ro-bind", "/usr", "/usr"]
    for link in TOP_LINKS:
        if os.path.islink(link):
            argv += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            argv += ["--ro-bind", link, link]
    for path in ETC_FILES:
        argv += ["--ro-bind-try", path, path]
    argv += ["--proc", "/proc", "--dev", "/dev", "--size", str(scratch_bytes), "--tmpfs", SCRATCH]
    for host, (_, inside) in zip(staged, sources):
        argv += ["--ro-bind", host, inside]
    view = staged[-1]
    argv += ["--ro-bind", f"{view}/etc/passwd", "/etc/passwd", "--ro-bind", f"{view}/etc/group", "/etc/group"]
    argv += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", SCRATCH, "--clearenv"]
    if info_fd is not None:
        argv += ["--info-fd", str(info_fd)]
    for key, value in sorted(env.items()):
        argv += ["--setenv", key, value]
    python = os.path.join(sys.prefix, "bin", "python")
    argv += ["--", python, "-I", "-c", BOOT, json.dumps(limits), *worker_args]
    if as_root:
        spec = {"binds": [[source, host] for (source, _), host in zip(sources, staged)], "uid": NOBODY}
        argv = [sys.executable, "-I", "-S", "-c", LAUNCHER, json.dumps(spec), *argv]
    return Launch(argv, tuple(extra_fds))


def plain_launch(view: str, limits: dict[str, int], worker_args: list[str], extra_fds: tuple[int, ...]) -> Launch:
    """--no-sandbox: the worker as a plain process (same chapter view and limits, none of the isolation)."""
    boot = BOOT.replace(repr(COURSE), repr(os.path.join(view)))
    return Launch([sys.executable, "-I", "-c", boot, json.dumps(limits), *worker_args], tuple(extra_fds))


def write_etc(view: str) -> None:
    """/etc/passwd and /etc/group for the sandbox: one unprivileged user, so tools that look it up work."""
    etc = Path(view) / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text(f"student:x:{NOBODY}:{NOBODY}:student:{SCRATCH}:/nonexistent\n")
    (etc / "group").write_text(f"student:x:{NOBODY}:\n")
    for path in (etc, etc / "passwd", etc / "group"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def probe(mounts: Mounts) -> str | None:
    """None when a sandbox can be started here; otherwise why not, and what to do."""
    if find_bwrap() is None:
        return f"bubblewrap (bwrap) is not installed; {INSTALL_HELP}"
    launch = sandbox_launch(mounts, rlimits(1024, 64, 2**20, 64, 60), 2**20, ["--probe"], {"LANG": "C.UTF-8"}, ())
    try:
        result = subprocess.run(launch.argv, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return "bubblewrap did not start a sandbox within 60 s"
    if result.returncode == 0 and result.stdout.strip() == "sandbox ok":
        return None
    detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
    advice = ("; this kernel may forbid unprivileged user namespaces: enable them "
              "(`sudo sysctl -w kernel.unprivileged_userns_clone=1`, or on Ubuntu 24.04+ "
              "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`)"
              if "namespace" in detail[0].lower() or "uid map" in detail[0].lower() else "")
    return f"bubblewrap cannot start a sandbox here: {detail[0]}{advice}"

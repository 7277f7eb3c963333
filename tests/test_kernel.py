"""The course kernel always starts the environment of the checkout being served (issue 11).

Two copies of the working tree ("clones") each get a cheap but real environment: a virtual environment of
their own (own prefix, own ``bin/python``) that borrows this test run's installed packages through a
``.pth`` file instead of installing them again. ``make kernel`` (what ``make lab`` runs before JupyterLab)
then registers the kernel in each; one clone is deleted; the other must still resolve ``lstm-course`` to
its own interpreter and actually start it. HOME is a temporary folder, so no real per-user Jupyter
directory is read or written.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NAME = "lstm-course"
COPY_IGNORE = shutil.ignore_patterns(".venv", ".git", "build", ".hypothesis", ".pytest_cache", "__pycache__",
                                     "*.egg-info", "grading_out", ".ipynb_checkpoints")

RESOLVE = textwrap.dedent("""
    import json, sys
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec(sys.argv[1])
    print(json.dumps({"dir": spec.resource_dir, "python": spec.argv[0], "display_name": spec.display_name}))
""")

START = textwrap.dedent("""
    import sys
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name=sys.argv[1], startup_timeout=90)
    out = []
    try:
        kc.execute_interactive("import sys; print(sys.executable)", timeout=60,
                               output_hook=lambda m: out.append(m["content"].get("text", "")))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    print("".join(out).strip())
""")


@pytest.fixture
def home(tmp_path):
    """Environment variables of a user whose Jupyter directories are all inside ``tmp_path``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER_", "XDG_", "PYTHON", "VIRTUAL_ENV", "IPYTHON"))}
    env["HOME"] = str(tmp_path / "home")
    (tmp_path / "home").mkdir()
    return env


def make_clone(path: Path) -> Path:
    """A copy of the working tree at ``path`` with its own environment in ``path/.venv``; returns its python."""
    shutil.copytree(ROOT, path, ignore=COPY_IGNORE)
    venv = path / ".venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "borrow_test_packages.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_path('purelib')!r})\n")
    (venv / ".course-installed").touch()  # newer than the copied pyproject.toml: make installs nothing
    return venv / "bin" / "python"


def make(clone: Path, target: str, env: dict) -> str:
    done = subprocess.run(["make", "--no-print-directory", target], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"make {target} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def resolve(python: Path, env: dict) -> dict:
    done = subprocess.run([str(python), "-c", RESOLVE, NAME], env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


def test_kernel_stays_with_its_checkout_when_a_second_clone_is_deleted(tmp_path, home):
    python_a, python_b = make_clone(tmp_path / "a"), make_clone(tmp_path / "b")
    make(tmp_path / "a", "kernel", home)
    assert f"-> {python_b}" in make(tmp_path / "b", "kernel", home)
    shutil.rmtree(tmp_path / "b")

    spec = resolve(python_a, home)
    assert spec["python"] == str(python_a) and Path(spec["python"]).exists()
    assert spec["dir"] == str(tmp_path / "a" / ".venv" / "share" / "jupyter" / "kernels" / NAME)
    assert spec["display_name"] == "Python (LSTM course)"
    assert not (tmp_path / "home" / ".local" / "share" / "jupyter" / "kernels" / NAME).exists()
    # What JupyterLab does when a notebook asks for the kernel: start it, run a cell.
    started = subprocess.run([str(python_a), "-c", START, NAME], env=home, capture_output=True, text=True,
                             timeout=180, cwd=tmp_path / "a")
    assert started.returncode == 0, started.stderr[-3000:]
    assert started.stdout.strip().splitlines()[-1] == str(python_a)


def test_stale_per_user_kernel_from_the_old_setup_is_removed(tmp_path, home):
    python_a, python_b = make_clone(tmp_path / "a"), make_clone(tmp_path / "b")
    # The old Makefile registered the kernel per user, for the clone that ran `make lab` last.
    subprocess.run([str(python_a), "-m", "ipykernel", "install", "--user", "--name", NAME], env=home,
                   check=True, capture_output=True)
    shutil.rmtree(tmp_path / "a")
    assert resolve(python_b, home)["python"] == str(python_a)  # the bug: a kernel that cannot start

    out = make(tmp_path / "b", "kernel", home)
    user_spec = tmp_path / "home" / ".local" / "share" / "jupyter" / "kernels" / NAME
    assert f"removed the per-user kernel '{NAME}' at {user_spec}" in out and "no longer exists" in out
    assert not user_spec.exists()
    assert resolve(python_b, home)["python"] == str(python_b)


def test_per_user_kernel_of_another_checkout_cannot_hide_this_one(tmp_path, home):
    python_a, python_b = make_clone(tmp_path / "a"), make_clone(tmp_path / "b")
    subprocess.run([str(python_a), "-m", "ipykernel", "install", "--user", "--name", NAME], env=home,
                   check=True, capture_output=True)
    prefer_user = {**home, "JUPYTER_PREFER_ENV_PATH": "0"}  # per-user kernels first, as outside a venv
    out = make(tmp_path / "b", "kernel", prefer_user)
    assert "another checkout" in out
    assert resolve(python_b, prefer_user)["python"] == str(python_b)
    # A per-user kernel of this same checkout hides nothing and stays.
    subprocess.run([str(python_b), "-m", "ipykernel", "install", "--user", "--name", NAME], env=home,
                   check=True, capture_output=True)
    assert "removed" not in make(tmp_path / "b", "kernel", prefer_user)
    assert resolve(python_b, prefer_user)["python"] == str(python_b)

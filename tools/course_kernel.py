"""Register the course's Jupyter kernel inside the Python environment that runs this script.

    .venv/bin/python tools/course_kernel.py     # `make lab` and `make kernel` run this
    python tools/course_kernel.py               # conda / Binder: the environment's own python

The kernelspec ``lstm-course`` ("Python (LSTM course)", the name every notebook asks for) is written into
this environment's own prefix, ``<sys.prefix>/share/jupyter/kernels/lstm-course``, and starts this very
interpreter. A JupyterLab started from the environment finds it before any per-user kernel, so the kernel
always belongs to the checkout being served: a second clone, or a deleted one, cannot redirect it. It is
rewritten on every run, which takes a moment.

Earlier versions of the course registered the kernel per user (``~/.local/share/jupyter/kernels``),
pointing at whichever clone ran ``make lab`` last. Such a per-user ``lstm-course`` is removed, and said so,
when its interpreter no longer exists or when it would hide this environment's kernel; one that still works
and hides nothing is left alone. The script ends by checking which interpreter the kernelspec that Jupyter
now resolves starts, and fails with a message naming the culprit if it is not this environment's.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

NAME = "lstm-course"
DISPLAY_NAME = "Python (LSTM course)"


def kernel_python(spec_dir: Path) -> Path | None:
    """The interpreter a kernelspec directory starts (its ``argv[0]``), or None if unreadable."""
    try:
        return Path(json.loads((spec_dir / "kernel.json").read_text())["argv"][0])
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def install() -> Path:
    """Write the kernelspec into ``sys.prefix``; return its directory."""
    from ipykernel.kernelspec import install as ipykernel_install

    return Path(ipykernel_install(kernel_name=NAME, display_name=DISPLAY_NAME, prefix=sys.prefix))


def resolved_spec_dir() -> Path:
    """The ``lstm-course`` directory that Jupyter (and so JupyterLab) of this environment uses."""
    from jupyter_client.kernelspec import KernelSpecManager

    return Path(KernelSpecManager().find_kernel_specs()[NAME])


def remove_stale_user_kernel(ours: Path) -> str | None:
    """Remove the per-user ``lstm-course`` if its interpreter is gone or it hides ``ours``; say why."""
    from jupyter_core.paths import jupyter_data_dir

    user_dir = Path(jupyter_data_dir()) / "kernels" / NAME
    if not user_dir.is_dir() or user_dir.resolve() == ours.resolve():
        return None
    python = kernel_python(user_dir)
    if python is None or not python.exists():
        reason = f"its Python {python} no longer exists"
    elif resolved_spec_dir().resolve() == user_dir.resolve() and python != Path(sys.executable):
        reason = f"it starts {python} (another checkout) and would hide this environment's kernel"
    else:
        return None
    shutil.rmtree(user_dir)
    return f"removed the per-user kernel '{NAME}' at {user_dir}: {reason}"


def main() -> int:
    ours = install()
    note = remove_stale_user_kernel(ours)
    if note:
        print(note)
    resolved = resolved_spec_dir()
    python = kernel_python(resolved)
    if python != Path(sys.executable):
        print(f"error: Jupyter resolves the kernel '{NAME}' to {resolved}, which starts {python}, not this "
              f"environment's {sys.executable}. Remove that directory, or unset JUPYTER_PATH.", file=sys.stderr)
        return 1
    print(f"kernel '{NAME}' ({DISPLAY_NAME}) -> {python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

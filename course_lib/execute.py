"""Execute notebooks top to bottom with this Python environment's kernel.

Used by ``make course`` (store fresh outputs in place), by the exercise-notebook
tests and by the benchmark. The kernel is always the interpreter running this
module, whatever kernels are registered, and its working directory is the
notebook's folder, as under nbval and JupyterLab.

Usage::

    python -m course_lib.execute --inplace notebooks/00_course_map_and_data.ipynb ...
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

CURRENT_ENV_KERNEL = "course-current-env"
CELL_TIMEOUT_S = 600


class _CurrentEnvSpecs(KernelSpecManager):
    """Resolves the kernel name ``course-current-env`` to ``sys.executable``."""

    def get_kernel_spec(self, kernel_name):
        if kernel_name == CURRENT_ENV_KERNEL:
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name="current environment", language="python")
        return super().get_kernel_spec(kernel_name)


def execute_notebook(path: Path, allow_errors: bool = False,
                     timeout: int = CELL_TIMEOUT_S) -> nbformat.NotebookNode:
    """Run every cell of the notebook at ``path`` in a fresh kernel; return the executed notebook.

    With ``allow_errors=False`` the first failing cell raises
    ``nbclient.exceptions.CellExecutionError``.
    """
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    kernel = KernelManager(kernel_name=CURRENT_ENV_KERNEL, kernel_spec_manager=_CurrentEnvSpecs())
    client = NotebookClient(nb, km=kernel, timeout=timeout, allow_errors=allow_errors,
                            record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:  # nbclient leaves a kernel manager it was given running
        if kernel.has_kernel:
            kernel.shutdown_kernel(now=True)
    nb.metadata.pop("widgets", None)
    return nb


def error_outputs(nb: nbformat.NotebookNode) -> list[tuple[int, str, str]]:
    """(cell index, exception name, message) for every error output of an executed notebook."""
    return [(i, out.get("ename", ""), out.get("evalue", ""))
            for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.execute", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--inplace", action="store_true", help="write the outputs back into each notebook")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path} ...", flush=True)
        nb = execute_notebook(path)
        if args.inplace:
            kernelspec = nbformat.read(path, as_version=4).metadata.get("kernelspec")
            if kernelspec:
                nb.metadata["kernelspec"] = kernelspec  # keep the course kernel, not the runner's
            nbformat.write(nb, path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

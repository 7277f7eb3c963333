"""Benchmark: execute each notebook in a fresh kernel and print its run time and the kernel's peak memory.

Usage: python tools/bench.py notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb   (or `make bench`)

Peak memory is the largest resident set size (RSS) of the kernel process and its
children, sampled every 20 ms. Exercise notebooks run with errors allowed (their
stubs raise NotImplementedError).
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import psutil

from course_lib.execute import error_outputs, execute_notebook

SAMPLE_EVERY_S = 0.02


class PeakMemory:
    """Samples the total RSS of this process's descendants in a background thread."""

    def __init__(self):
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(SAMPLE_EVERY_S)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def bench(path: Path) -> tuple[float, float, int]:
    """(seconds, peak MiB, number of error outputs) for one notebook."""
    is_exercise = path.parent.name == "exercises"
    with PeakMemory() as memory:
        start = time.perf_counter()
        nb = execute_notebook(path, allow_errors=is_exercise)
        seconds = time.perf_counter() - start
    return seconds, memory.peak / 2**20, len(error_outputs(nb))


def main(paths: list[str]) -> int:
    if not paths:
        print(__doc__)
        return 2
    rows = []
    print(f"{'notebook':<52} {'time (s)':>9} {'peak MiB':>9} {'errors':>7}")
    for name in paths:
        seconds, peak, errors = bench(Path(name))
        rows.append(seconds)
        print(f"{name:<52} {seconds:>9.1f} {peak:>9.0f} {errors:>7}", flush=True)
    print(f"{'total':<52} {sum(rows):>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

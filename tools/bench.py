"""Benchmark: execute each notebook in a fresh kernel and print its run time and the kernel's peak memory;
then the per-bar latency of chapter 09's streaming predictor against re-running the window.

Usage: python tools/bench.py notebooks/*.ipynb solutions/*.ipynb exercises/*.ipynb   (or `make bench`)

Peak memory is the largest resident set size (RSS) of the kernel process and its
children, sampled every 20 ms. Exercise notebooks run with errors allowed (their
stubs raise NotImplementedError). Latency: an LSTMForecaster(1 feature, 32 units) fed 2,100 random bars one at a
time on one thread, the first 100 dropped; p50 and p99 per bar for the streaming step (NumPy cell, nn.LSTM one step)
and for re-running the last 60 bars through nn.LSTM.
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
    streaming_latency()
    return 0


def streaming_latency(bars: int = 2100, warm_up: int = 100, window: int = 60) -> None:
    """Print p50/p99 microseconds per bar: streaming (O(1) a bar) against re-running a ``window``-bar window."""
    import numpy as np
    import torch

    from course_lib.models import LSTMForecaster
    from course_lib.streaming.predictor import (StreamingPredictor, WindowedPredictor, bar_latencies,
                                                latency_summary)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = LSTMForecaster(1, 32)
    features = np.random.default_rng(0).normal(size=(bars, 1))
    predictors = {"streaming, NumPy cell": lambda: StreamingPredictor(model),
                  "streaming, nn.LSTM one step": lambda: StreamingPredictor(model, engine="torch"),
                  f"re-run the last {window} bars": lambda: WindowedPredictor(model, window)}
    print(f"\nper-bar latency, LSTM 32 units, one thread ({bars - warm_up} bars): {'p50 us':>8} {'p99 us':>8}")
    summaries = {}
    for name, make in predictors.items():
        summaries[name] = latency_summary(bar_latencies(make(), np.arange(bars), features)[warm_up:])
        print(f"  {name:<50} {summaries[name]['p50_us']:>8.1f} {summaries[name]['p99_us']:>8.1f}")
    rerun = summaries[f"re-run the last {window} bars"]["p50_us"]
    print(f"  re-running the window / streaming at the median: NumPy cell "
          f"{rerun / summaries['streaming, NumPy cell']['p50_us']:.1f}x, nn.LSTM one step "
          f"{rerun / summaries['streaming, nn.LSTM one step']['p50_us']:.1f}x")
    torch.set_num_threads(threads)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

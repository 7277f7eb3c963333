"""`make bench`'s latency table for chapter 09: it runs, and reports every predictor with p50 <= p99 (no timing is
asserted: speed goals are read from the benchmark, not tested)."""
import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("bench", ROOT / "tools" / "bench.py")
bench = sys.modules.setdefault("bench", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(bench)


def test_streaming_latency_table_lists_each_predictor(capsys):
    bench.streaming_latency(bars=300, warm_up=50)
    printed = capsys.readouterr().out
    rows = re.findall(r"^  (streaming, NumPy cell|streaming, nn.LSTM one step|re-run the last 60 bars)\s+([\d.]+)\s+([\d.]+)$",
                      printed, re.M)
    assert [name for name, _, _ in rows] == ["streaming, NumPy cell", "streaming, nn.LSTM one step",
                                             "re-run the last 60 bars"]
    assert all(0 < float(p50) <= float(p99) for _, p50, p99 in rows)
    assert "(250 bars)" in printed and "re-running the window / streaming at the median" in printed

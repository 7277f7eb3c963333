"""Chapter 10's library: the capstone project and the checklist that grades it.

A capstone submission defines four functions (the names the checks call):

* ``capstone_features(data) -> DataFrame``: model inputs indexed by date, each row from rows up to its date;
* ``capstone_split(n_rows, horizon) -> {"train", "val", "test"}``: positions in time order, gaps of ``horizon`` rows;
* ``capstone_forecast(data, horizon, seed) -> DataFrame``: forecasts and interval bounds at every test origin;
* ``capstone_report(data, horizon, seed) -> dict``: the model beside the naive and drift forecasts (MASE, DM test)
  and the measured coverage of its intervals (:func:`reporting.evaluation_report` builds it).

Modules, one idea each:

* ``inputs``: the capstone's data (S&P 500 bars with the NASDAQ beside them) and the rewrites the checks use;
* ``samples``: forecast origins, their windows and targets, the baselines at each origin (shared by any submission);
* ``example``: the worked example, the reference every check is tested against;
* ``leakage``: no lookahead in the features, forecasts fitted on training rows only;
* ``splitting``: chronological split with a gap that covers the horizon;
* ``reporting``: the evaluation report (baselines, MASE, Diebold-Mariano, coverage) and its check;
* ``reproducibility``: same seed, same forecasts; another seed, other forecasts;
* ``mistakes``: the worked example with one deliberate mistake each (the lesson's bad example, the tests).

Every check is a plain function ``check_*(...) -> (passed, reason)`` on plain data (what the grader's sandbox
sends back), so the learner's ``check()`` and the instructor's grader judge alike.
"""
from course_lib.capstone.inputs import CHECK_SPAN, load_inputs, rewrite_after
from course_lib.capstone.leakage import check_features_causal, check_forecasts_causal
from course_lib.capstone.plain_frames import frame_from_plain
from course_lib.capstone.reporting import check_baselines, check_intervals, evaluation_report
from course_lib.capstone.reproducibility import check_reproducible
from course_lib.capstone.samples import baseline_forecasts, origin_windows, origins_and_targets, trailing_volatility
from course_lib.capstone.splitting import check_split, split_problems

__all__ = [
    "CHECK_SPAN", "load_inputs", "rewrite_after", "frame_from_plain",
    "check_features_causal", "check_forecasts_causal", "check_split", "split_problems",
    "evaluation_report", "check_baselines", "check_intervals", "check_reproducible",
    "origins_and_targets", "origin_windows", "trailing_volatility", "baseline_forecasts",
]

"""The capstone's checklist (chapter 10): the worked example passes every item; each deliberately broken variant
fails exactly the item it breaks, with the reason; the pieces the checks are made of, on hand-made inputs."""
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from course_lib.capstone import example, inputs, mistakes
from course_lib.capstone.leakage import changed_dates
from course_lib.capstone.plain_frames import frame_from_plain
from course_lib.capstone.reporting import evaluation_report
from course_lib.capstone.splitting import split_problems
from course_lib.data import validate_ohlcv
from course_lib.grading import all_exercises, run_checks
from course_lib.grading.check import FAILED, PASSED
from course_lib.grading.grader import GradedExercise, _judge
from course_lib.grading.plain import to_plain
from course_lib.grading.registry import Exercise

pytestmark = pytest.mark.usefixtures("one_torch_thread")
IDS = [i for i in all_exercises() if i.startswith("10.")]


def verdicts(submission: dict) -> dict:
    """Exercise id -> (passed, printed report) for a submission (function name -> function)."""
    found = {}
    for exercise_id in IDS:
        report = run_checks(exercise_id, submission[all_exercises()[exercise_id].function])
        found[exercise_id] = (report.status == PASSED, report.summary())
    return found


def test_the_worked_example_passes_every_item_within_30_seconds():
    started = time.perf_counter()
    found = verdicts(mistakes.worked_example())
    assert all(passed for passed, _ in found.values()), found
    assert time.perf_counter() - started < 30
    assert sum(all_exercises()[i].points for i in IDS) == 13


# each variant: the items it must fail, and a piece of the reason each one gives
BROKEN = {
    "leaky_scaler": {"10.3": "even the earliest test forecast moved"},
    "shuffled_split": {"10.2": "the positions were shuffled"},
    "no_gap": {"10.2": "only 0 positions between train and val"},
    "no_baseline": {"10.4": "no naive baseline in the report"},
    # its seed comes from torch's global generator, which 10.6 leaves in another state for the repeated call
    "unseeded": {"10.6": "two runs with seed=1 gave different forecasts"},
    "clock_seeded": {"10.3": "two runs with the same data and seed gave different forecasts",
                     "10.6": "two runs with seed=1 gave different forecasts"},
    "lookahead": {"10.1": "(first in column 'smooth_return'): those rows read later rows",
                  "10.3": "only the last forecasts before the rewrite moved"},
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_a_broken_variant_fails_exactly_its_items_with_the_reason(name):
    found = verdicts(mistakes.broken(name))
    assert sorted(i for i, (passed, _) in found.items() if not passed) == sorted(BROKEN[name])
    for exercise_id, reason in BROKEN[name].items():
        assert reason in found[exercise_id][1]


def test_the_lessons_bad_example_fails_split_leak_and_baseline():
    found = verdicts(mistakes.bad_example())
    assert sorted(i for i, (passed, _) in found.items() if not passed) == ["10.2", "10.3", "10.4"]


def test_a_too_slow_submission_fails_only_the_time_budget(monkeypatch):
    """The budget is lowered for the test: twice the worked example's own time, plus a second."""
    started = time.perf_counter()
    assert run_checks("10.7", example.capstone_report).status == PASSED
    budget = 2 * (time.perf_counter() - started) + 1.0
    monkeypatch.setitem(all_exercises(), "10.7", replace(all_exercises()["10.7"], time_limit_s=budget))

    def slow_report(data, horizon, seed):
        time.sleep(budget / 3)
        return example.capstone_report(data, horizon, seed)

    submission = dict(mistakes.worked_example(), capstone_report=slow_report)
    found = verdicts(submission)
    assert [i for i, (passed, _) in found.items() if not passed] == ["10.7"]
    assert f"more than the time budget of {budget:g} s for capstone_report" in found["10.7"][1]


def test_check_prints_one_verdict_with_its_reason_and_the_hint(capsys):
    from course_lib.grading import check
    check("10.2", mistakes.no_gap_split)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "FAIL  10.2 capstone_split: Chronological split with a gap that covers the horizon"
    assert lines[1].startswith("  ✗ capstone_split(1700, 5): only 0 positions between train and val")
    assert lines[2] == "    hint: " + all_exercises()["10.2"].hint
    check("10.2", example.capstone_split)
    assert capsys.readouterr().out.startswith("PASS  10.2 capstone_split: Chronological split")
    check("10.2", lambda n_rows, horizon: (_ for _ in ()).throw(NotImplementedError))
    assert capsys.readouterr().out.startswith("TODO  10.2 capstone_split: not implemented yet")


# ----------------------------------------------------------------------------- the pieces
@pytest.mark.parametrize("parts, problem", [
    ({"train": [0, 1, 2], "val": [6, 7], "test": [11, 12, 13]}, None),
    ({"train": [0, 1, 2], "val": [5, 6], "test": [11]}, "only 2 positions between train and val with horizon 3"),
    ({"train": [0, 1, 2], "val": [6, 7], "test": [10, 11]}, "only 2 positions between val and test"),
    ({"train": [1, 0, 2], "val": [6, 7], "test": [11]}, "not in time order"),
    ({"train": [0, 2, 3], "val": [7], "test": [11]}, "skips positions inside it"),
    ({"train": [0, 1], "val": [7], "test": [14]}, "positions outside 0..13"),
    ({"train": [6, 7], "val": [0, 1], "test": [11]}, "starts before split['train'] ends"),
    ({"train": [0], "test": [11]}, "returns no 'val'"),
    ({"train": [], "val": [6], "test": [11]}, "a non-empty list of whole positions"),
])
def test_split_rules_on_hand_made_splits(parts, problem):
    try:
        found = split_problems(to_plain(parts), n_rows=14, horizon=3)
    except ValueError as error:
        found = [str(error)]
    assert (found == []) if problem is None else any(problem in p for p in found), found


def test_rewrite_after_changes_only_later_rows_and_keeps_valid_bars():
    data = inputs.load_inputs("2018-01-01", "2018-03-31")
    rewritten = inputs.rewrite_after(data, 20)
    pd.testing.assert_frame_equal(rewritten.iloc[:21], data.iloc[:21])
    ratio = rewritten.iloc[21:] / data.iloc[21:]
    assert np.allclose(ratio[["Open", "High", "Low", "Close", "NASDAQ_Close"]], 1.25)
    assert np.allclose(ratio[["Volume", "NASDAQ_Volume"]], 3.0)
    validate_ohlcv(rewritten)
    with pytest.raises(ValueError, match="at least one row to rewrite"):
        inputs.rewrite_after(data, len(data) - 1)


def test_a_reversed_rewrite_moves_ratios_within_a_row_and_keeps_valid_bars():
    """Scaled bars keep High / Low and Close / Open; reversed bars (the last day's first) change them."""
    data = inputs.load_inputs("2018-01-01", "2018-03-31")
    rewritten = inputs.rewrite_after(data, 20, factor=0.8, volume_factor=0.5, reverse=True)
    pd.testing.assert_frame_equal(rewritten.iloc[:21], data.iloc[:21])
    assert np.allclose(rewritten["Close"].iloc[21], 0.8 * data["Close"].iloc[-1])
    assert np.allclose(rewritten["Volume"].iloc[21], 0.5 * data["Volume"].iloc[-1])
    assert not np.isclose(rewritten["High"].iloc[21] / rewritten["Low"].iloc[21],
                          data["High"].iloc[21] / data["Low"].iloc[21])
    validate_ohlcv(rewritten)


def test_load_inputs_joins_the_two_indices_day_by_day(sp500, nasdaq):
    data = inputs.load_inputs()
    assert list(data.columns) == ["Open", "High", "Low", "Close", "Volume", "NASDAQ_Close", "NASDAQ_Volume"]
    assert (data.index[0], data.index[-1], len(data)) == (pd.Timestamp("2012-01-03"), pd.Timestamp("2018-12-31"), 1760)
    assert np.array_equal(data["NASDAQ_Close"], nasdaq.loc["2012":"2018", "Close"])
    assert np.array_equal(data["Close"], sp500.loc["2012":"2018", "Close"])


def test_changed_dates_find_the_rows_and_the_column():
    index = pd.bdate_range("2020-01-01", periods=5)
    before = pd.DataFrame({"a": [1.0, 2, 3, 4, 5], "b": [0.0] * 5}, index=index)
    after = before.copy()
    after.loc[index[3], "b"] = 1.0
    changed, column = changed_dates(before, after, index[4])
    assert list(changed) == [index[3]] and column == "b"
    assert len(changed_dates(before, after, index[2])[0]) == 0
    assert list(frame_from_plain(to_plain(before)).index) == list(index)


def test_evaluation_report_needs_both_baselines_and_matching_lengths():
    actual, forecast = np.array([10.0, 11, 12, 11]), np.array([10.5, 10.0, 11.5, 12.5])
    baselines = {"naive": np.array([9.0, 10, 11, 12]), "drift": np.array([9.5, 10.5, 11.5, 12.5])}
    report = evaluation_report(actual, forecast, baselines, np.array([1.0, 2, 4]), 1, forecast - 1, forecast + 1, 0.9)
    assert report["mase"] == pytest.approx({"model": 0.875 / 1.5, "naive": 1.0 / 1.5, "drift": 0.75 / 1.5})
    assert report["coverage"] == 0.75 and report["width"] == 2.0      # 11 lies outside 12.5 +- 1
    with pytest.raises(ValueError, match=r"baselines must include \['naive'\]"):
        evaluation_report(actual, forecast, {"drift": baselines["drift"]}, [1.0, 2], 1, forecast, forecast, 0.9)
    with pytest.raises(ValueError, match="lower has 3 values but actual has 4"):
        evaluation_report(actual, forecast, baselines, [1.0, 2], 1, forecast[:3], forecast, 0.9)


# ----------------------------------------------------------------------------- a judged exercise in the grader
def _judged(judge, time_limit_s=None):
    return Exercise("10.9", "a test item", "answer", 1, example.capstone_split,
                    lambda: [], "the item's hint", judge=judge, time_limit_s=time_limit_s)


def test_the_grader_judges_all_public_outcomes_at_once():
    seen = []

    def judge(outcomes):
        seen.append(outcomes)
        return outcomes[0]["value"] == outcomes[1]["value"], "the two runs differ"

    item = GradedExercise(_judged(judge), [], 2, [None, None])
    records, status = _judge(item, [{"value": 1.0}, {"value": 1.0}])
    assert status is None and records[0]["passed"] and seen == [[{"value": 1.0}, {"value": 1.0}]]
    records, status = _judge(item, [{"value": 1.0}, {"value": 2.0}])
    assert status == "failed the checklist item 'a test item': the two runs differ"
    assert records == [{"name": "a test item", "private": False, "passed": False, "message": "the two runs differ",
                        "hint": "the item's hint", "own_hint": False}]


def test_a_judge_that_cannot_read_the_outcomes_fails_them_with_a_reason():
    item = GradedExercise(_judged(lambda outcomes: outcomes[0]["value"]["missing"]), [], 1, [None])
    _, status = _judge(item, [{"value": 1.0}])
    assert "the results could not be read (TypeError" in status
    _, status = _judge(item, [{"value": {"kind": "nonsense"}}])
    assert "not plain data" in status


def test_a_time_limit_must_be_positive():
    with pytest.raises(ValueError, match="time_limit_s must be positive"):
        _judged(lambda outcomes: (True, ""), time_limit_s=0)
    assert GradedExercise.build(_judged(lambda outcomes: (True, "")), []).expected == []
    assert FAILED == "failed"

"""Capstone submissions with one deliberate mistake each: the lesson's bad example and the tests' broken variants.

Each is a dict of the four functions a submission defines (``SUBMISSION_FUNCTIONS``), the worked example's
(:mod:`course_lib.capstone.example`) with one part replaced:

* ``leaky_scaler``: the scaler is fitted on every row before the split (guide §5.1.2);
* ``shuffled_split``: the training and validation origins are shuffled together, then cut (test stays last);
* ``no_gap``: validation starts the origin after training ends, test the origin after validation ends;
* ``no_baseline``: the report leaves out the naive forecast (the model is scored alone beside drift);
* ``unseeded``: the forecast ignores its seed and draws one from torch's global generator instead (10.6
  repeats a call with the global generators in another state, so it is caught there);
* ``clock_seeded``: the forecast takes its seed from the clock;
* ``lookahead``: one feature is a centred 5-day mean of the returns, which reads two days ahead.
"""
from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from course_lib.capstone import example

SUBMISSION_FUNCTIONS = ("capstone_features", "capstone_split", "capstone_forecast", "capstone_report")


def worked_example() -> dict:
    """The four functions of the worked example, by name."""
    return {name: getattr(example, name) for name in SUBMISSION_FUNCTIONS}


def _submission(split=example.capstone_split, features=example.capstone_features, forecast=None,
                report=None) -> dict:
    """A submission whose forecast and report use the given split and features (as a learner's functions would)."""
    forecast = forecast or (lambda data, horizon, seed: example.forecast_with(data, horizon, seed, split, features))
    report = report or (lambda data, horizon, seed: example.report_with(data, horizon, seed, forecast, split,
                                                                         features))
    return {"capstone_features": features, "capstone_split": split, "capstone_forecast": forecast,
            "capstone_report": report}


def shuffled_split(n_rows: int, horizon: int) -> dict:
    """The worked example's part sizes, but training and validation drawn at random from the first origins."""
    good = example.capstone_split(n_rows, horizon)
    development = np.random.default_rng(0).permutation(good["test"][0] - horizon)
    n_train = len(good["train"])
    return {"train": development[:n_train].tolist(), "val": development[n_train:].tolist(), "test": good["test"]}


def no_gap_split(n_rows: int, horizon: int) -> dict:
    """Three consecutive blocks with nothing left out between them."""
    n_train, n_val = int(n_rows * example.SHARES[0]), int(n_rows * example.SHARES[1])
    return {"train": list(range(n_train)), "val": list(range(n_train, n_train + n_val)),
            "test": list(range(n_train + n_val, n_rows))}


def leaky_forecast(data: pd.DataFrame, horizon: int, seed: int) -> pd.DataFrame:
    return example.forecast_with(data, horizon, seed, scaler_rows="all")


def without_naive(report: dict) -> dict:
    """A report with the naive forecast taken out (what is left: the model and drift)."""
    report = dict(report)
    report["baselines"] = {"drift": report["baselines"]["drift"]}
    report["mase"] = {"model": report["mase"]["model"], "drift": report["mase"]["drift"]}
    report["dm"] = {"against": "drift", "statistic": float("nan"), "p_value": float("nan")}
    return report


def report_without_naive(data: pd.DataFrame, horizon: int, seed: int) -> dict:
    """The worked example's report without the naive forecast."""
    return without_naive(example.capstone_report(data, horizon, seed))


def unseeded_forecast(data: pd.DataFrame, horizon: int, seed: int) -> pd.DataFrame:
    """Ignores ``seed``: draws one from torch's global generator, i.e. from whatever ran before."""
    return example.capstone_forecast(data, horizon, int(torch.randint(0, 2**31 - 1, ()).item()))


def clock_seeded_forecast(data: pd.DataFrame, horizon: int, seed: int) -> pd.DataFrame:
    """Takes its seed from the clock: no two runs agree."""
    return example.capstone_forecast(data, horizon, time.time_ns() % 2**31)


def lookahead_features(data: pd.DataFrame) -> pd.DataFrame:
    """The worked example's features plus a centred 5-day mean of the S&P 500 returns (rows t-2..t+2)."""
    features = example.capstone_features(data)
    returns = np.log(data["Close"].astype(float)).diff()
    features["smooth_return"] = returns.rolling(5, center=True).mean().loc[features.index]
    return features.dropna()


MISTAKES = {
    "leaky_scaler": lambda: _submission(forecast=leaky_forecast),
    "shuffled_split": lambda: _submission(split=shuffled_split),
    "no_gap": lambda: _submission(split=no_gap_split),
    "no_baseline": lambda: _submission(report=report_without_naive),
    "unseeded": lambda: _submission(forecast=unseeded_forecast),
    "clock_seeded": lambda: _submission(forecast=clock_seeded_forecast),
    "lookahead": lambda: _submission(features=lookahead_features),
}


def bad_example() -> dict:
    """The lesson's bad example: three mistakes at once — a scaler fitted on every row, training and validation
    origins shuffled together, and a report without the naive forecast."""
    def forecast(data, horizon, seed):
        return example.forecast_with(data, horizon, seed, split=shuffled_split, scaler_rows="all")

    def report(data, horizon, seed):
        return without_naive(example.report_with(data, horizon, seed, forecast, shuffled_split))

    return _submission(split=shuffled_split, forecast=forecast, report=report)


def broken(name: str) -> dict:
    """The submission with the mistake ``name`` (one of ``MISTAKES``)."""
    if name not in MISTAKES:
        raise KeyError(f"no mistake {name!r}; known: {', '.join(MISTAKES)}")
    return MISTAKES[name]()

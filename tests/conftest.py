"""Shared fixtures: the embedded datasets are loaded once per test session; one torch thread for the tests that
retrain a lesson's tiny LSTMs; the assertion every chapter's bank of plausible mistakes makes."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from course_lib import data


@pytest.fixture(scope="session")
def sp500():
    return data.load_sp500()


@pytest.fixture(scope="session")
def nasdaq():
    return data.load_nasdaq()


@pytest.fixture(scope="session")
def read_lesson():
    """``read_lesson("00_x.ipynb")`` -> (printed text of the stored outputs, markdown prose) of a lesson notebook."""
    import nbformat

    def read(name):
        nb = nbformat.read(Path(__file__).resolve().parent.parent / "notebooks" / name, as_version=4)
        printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                          if o.output_type == "stream")
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        return printed, prose

    return read


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny LSTMs run fastest, and give the lessons' numbers, on one thread (the lessons that retrain use one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def mistake_is_caught():
    """``mistake_is_caught(exercise_id, mistake, answer, hint)``: ``check()`` fails the wrong ``answer`` and shows
    the ``hint`` written for that mistake, in a report with no blank line and no internal error name."""
    from course_lib.grading import run_checks
    from course_lib.grading.check import FAILED

    def caught(exercise_id, mistake, answer, hint):
        with np.errstate(all="ignore"):
            report = run_checks(exercise_id, answer)
        assert report.status == FAILED, f"{exercise_id}: {mistake!r} gets credit"
        printed = report.summary()
        assert hint in printed, f"{exercise_id}: {mistake!r} is not shown the hint {hint!r}:\n{printed}"
        assert "UnsupportedAnswer" not in printed and not re.search(r"^\s*$", printed, re.M)

    return caught

"""Shared fixtures: the embedded datasets are loaded once per test session."""
from pathlib import Path

import pytest

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

"""Shared fixtures: the embedded datasets are loaded once per test session."""
import pytest

from course_lib import data


@pytest.fixture(scope="session")
def sp500():
    return data.load_sp500()


@pytest.fixture(scope="session")
def nasdaq():
    return data.load_nasdaq()

"""Plain-data conversion and type-strict comparison used by check() and the grader."""
import json

import numpy as np
import pandas as pd
import pytest

from course_lib.grading.plain import UnsupportedAnswer, compare, to_plain


def test_plain_data_is_json_serialisable():
    answer = (1, 2.5, "x", None, True, np.arange(3.0), pd.Series([1.0], index=pd.DatetimeIndex(["2020-01-01"])),
              {"a": np.float32(1.5)}, pd.DataFrame({"a": [1.0, 2.0]}))
    plain = to_plain(answer)
    assert json.loads(json.dumps(plain)) == plain


def test_numpy_scalars_become_python_scalars():
    assert type(to_plain(np.float64(1.5))) is float
    assert type(to_plain(np.int64(3))) is int
    assert type(to_plain(np.bool_(True))) is bool


class AlwaysEqual:
    def __eq__(self, other):
        return True


class FloatWithRiggedEq(float):
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("answer", [AlwaysEqual(), FloatWithRiggedEq(0.0), np.array([AlwaysEqual()], dtype=object),
                                    {1: 2.0}, lambda: 1.0, np.array(["a"])])
def test_objects_that_are_not_plain_data_are_refused(answer):
    with pytest.raises(UnsupportedAnswer):
        to_plain(answer)


@pytest.mark.parametrize("expected, got", [
    (1.0, 1.0), (1.0, 1), (2, 2.0), (float("nan"), float("nan")), (True, True), ("a", "a"), (None, None),
    (np.arange(3.0), np.arange(3)), (np.array([1.0, np.nan]), np.array([1.0, np.nan])),
    ([1.0, (2.0, "b")], (1.0, [2.0, "b"])), ({"k": 1.0}, {"k": 1.0 + 1e-12}),
])
def test_equal_answers_compare_equal(expected, got):
    assert compare(to_plain(expected), to_plain(got)) is None


@pytest.mark.parametrize("expected, got, message", [
    (1.0, 1.1, "expected 1, got 1.1"),
    (1.0, True, "expected a number"),
    (True, 1, "expected bool True"),
    (1.0, np.array([1.0]), "expected a number, got an array"),
    (np.arange(3.0), np.arange(4.0), "expected shape (3,), got (4,)"),
    (np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]), "first at position 1: expected 2, got 2.5"),
    (np.array([True]), np.array([1]), "expected bool values"),
    (np.array([1.0]), np.array([np.nan]), "expected 1, got nan"),
    (pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2020-01-01", "2020-01-02"])),
     pd.Series([1.0, 2.0]), "index differs at position 0"),
    (pd.Series([1.0, 2.0]), np.array([1.0, 2.0]), "expected a Series"),
    (pd.DataFrame({"a": [1.0]}), pd.DataFrame({"b": [1.0]}), "columns differs"),
    ({"k": 1.0}, {"j": 1.0}, "expected keys"),
    ([1.0, 2.0], [1.0, 3.0], "at [1]"),
])
def test_different_answers_name_the_difference(expected, got, message):
    problem = compare(to_plain(expected), to_plain(got))
    assert problem is not None and message in problem


def test_tolerances_are_relative_and_absolute():
    assert compare(1e6, 1e6 + 0.05, rtol=1e-7) is None
    assert compare(1e6, 1e6 + 0.5, rtol=1e-7) is not None
    assert compare(0.0, 1e-11, rtol=1e-7, atol=1e-10) is None

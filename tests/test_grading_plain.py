"""Plain-data conversion and type-strict comparison used by check() and the grader."""
import json

import numpy as np
import pandas as pd
import pytest

from course_lib.grading.plain import UnsupportedAnswer, compare, describe, to_plain


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
    (np.arange(3.0), np.arange(3)), (np.arange(3), np.arange(3, dtype=np.uint8)),
    (np.array([1.0, np.nan]), np.array([1.0, np.nan])),
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
    (np.array([True]), np.array([1]), "expected bool values, got integer values"),
    # positions and labels must stay integers (a float array cannot index); numbers may be given as integers
    (np.array([3, 4, 5]), np.array([3.0, 4.0, 5.0]), "expected integer values, got floating-point values"),
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


def _what(answer):
    with pytest.raises(UnsupportedAnswer) as caught:
        to_plain(answer)
    return caught.value.what


def test_an_unsupported_answer_says_what_it_is_and_where():
    import torch

    assert _what(x for x in []) == "a generator"
    assert _what(map(abs, [1])) == "an iterator (map)"
    assert _what((np.zeros(2), (1.0, (x for x in [])))) == "a tuple holding a generator at [1][1]"
    assert _what({"train": [zip([1], [2])]}) == "a dict holding an iterator (zip) at ['train'][0]"
    assert _what(FloatWithRiggedEq(0.0)) == \
        "an object of type FloatWithRiggedEq (a subclass of float; return a plain float)"
    assert _what(torch.zeros(2)) == "a torch Tensor (convert it with .detach().numpy())"
    assert _what({1: 2.0}) == "a dict with keys that are not strings"


@pytest.mark.parametrize("answer, words", [
    ((np.zeros(2), np.zeros(3)), "a pair (array, array)"),
    ([(np.zeros(2), np.zeros(3))] * 3, "a list or tuple of 3 items, each a pair (array, array)"),
    ([(np.zeros(2), np.zeros(3))] * 2, "a list or tuple of 2 items, each a pair (array, array)"),
    ([(np.zeros(2), np.zeros(3))], "a list or tuple of 1 item, a pair (array, array)"),
    ([1.0, 2.0], "a list or tuple of 2 items, each a number"),
    ([1.0, "a", None], "a list or tuple of 3 items (number, str, None)"),
    ([], "an empty list or tuple"),
])
def test_sequences_are_described_by_their_items(answer, words):
    assert describe(to_plain(answer)) == words


def test_a_boolean_mask_reports_true_and_false():
    problem = compare(to_plain(np.array([True, False])), to_plain(np.array([True, True])))
    assert problem == "the array: 1 of 2 value(s) differ; first at position 1: expected False, got True"


def test_a_difference_inside_a_tuple_names_the_item():
    problem = compare(to_plain((np.zeros(2), np.zeros(2))), to_plain((np.zeros(2), np.ones(2))))
    assert problem.startswith("result[1]: 2 of 2 value(s) differ")

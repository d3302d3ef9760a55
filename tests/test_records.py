"""Answer records from a student's kernel are attacker-controlled JSON: a student can replace
``grader.answers.describe`` or poison ``sys.modules`` and report anything. Whatever arrives,
``compare``/``score`` decide from the reference record alone, only an exactly right answer
earns points, and nothing raises: not for records, not for hostile notebook metadata
(``collect``, ``nbgrader_meta``, ``is_test_cell``, ``restore_tests``)."""

from __future__ import annotations

import copy
import json
import math

import nbformat
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_lite
from grader.answers import DEFAULT_ATOL, DEFAULT_RTOL, MIME_TYPE, compare, describe
from grader.execute import CellReport, collect, is_test_cell, nbgrader_meta
from grader.score import restore_tests, score

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KINDS = ["tensor", "array", "number", "bool", "str", "dtype", "exception", "sequence"]
KINDS += ["mapping", "none", "other"]


# --------------------------------------------------------------------------- arbitrary JSON

# Keys and words a record uses, so that random JSON often looks almost like a record.
WORDS = st.sampled_from(KINDS + ["nan", "inf", "-inf", "NaN", "torch.float32", "bool"]) | st.text(
    max_size=6
)
KEYS = st.sampled_from(
    ["kind", "dtype", "shape", "values", "items", "value", "name", "type", "message"]
    + ["requires_grad", "grad_fn", "repr", "rtol", "atol"]
) | st.text(max_size=4)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | WORDS
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=20,
)
NOT_A_DICT = JSON.filter(lambda value: not isinstance(value, dict))


def deeply_nested(depth: int = 10_000) -> list:
    nested: list = [1.0]
    for _ in range(depth):
        nested = [nested]
    return nested


# --------------------------------------------------------------------------- answers

DTYPES = ["float16", "float32", "float64", "int8", "int32", "int64", "uint8", "bool"]
SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
ARRAYS = st.sampled_from(DTYPES).flatmap(lambda dtype: hnp.arrays(dtype, SHAPES))


@st.composite
def tensors(draw):
    """autograd_lite tensors, some with a grad_fn."""
    dtype = draw(st.sampled_from(["float32", "float64", "int64", "bool"]))
    array = draw(hnp.arrays(dtype, SHAPES, elements=_tensor_elements(dtype)))
    if dtype.startswith("float") and draw(st.booleans()):
        return autograd_lite.tensor(array, requires_grad=True) * 2
    return autograd_lite.tensor(array)


def _tensor_elements(dtype: str):
    if dtype.startswith("float"):
        return st.floats(-1e6, 1e6, width=32) | st.sampled_from([math.nan, math.inf, -math.inf])
    return None  # hypothesis' default elements for ints and bools


EXCEPTIONS = st.builds(
    lambda cls, message: cls(message), st.sampled_from([ValueError, RuntimeError]), st.text()
) | st.sampled_from([TypeError, IndexError])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from([autograd_lite.float32, autograd_lite.int64])
    | EXCEPTIONS
    | ARRAYS
    | tensors()
    | st.complex_numbers(allow_nan=False)  # not known to describe: kind "other"
)
ANSWERS = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


# --------------------------------------------------------------------------- corrupted records


def _leaf_lists(values, shape):
    """(list, index) of every leaf of a tensor record's values, to change one in place."""
    level = [(None, None, values)]
    for _ in shape:
        level = [(item, i, leaf) for _, _, item in level for i, leaf in enumerate(item)]
    return [(parent, index) for parent, index, _ in level]


def _different_number(x):
    """A leaf that no tolerance takes for ``x``: off by 1 + |x|, or a non-finite swap."""
    return {"nan": 0.0, "inf": "-inf", "-inf": 1.0}.get(x) if isinstance(x, str) else x + 1 + abs(x)


def _set_first_leaf(record, make):
    """``record`` with its first tensor leaf replaced by ``make(leaf)``; None if it has none."""
    if record["shape"] == []:
        record["values"] = make(record["values"])
        return record
    leaves = _leaf_lists(record["values"], record["shape"])
    if not leaves:
        return None
    parent, index = leaves[0]
    parent[index] = make(parent[index])
    return record


def _nested_list(values, depth):
    """The list ``depth`` levels down along first items (None where there is none)."""
    for _ in range(depth):
        if not isinstance(values, list) or not values:
            return None
        values = values[0]
    return values if isinstance(values, list) else None


def _shrink(record, draw):
    target = _nested_list(record["values"], draw(st.integers(0, max(len(record["shape"]) - 1, 0))))
    if not target:
        return None
    target.pop()
    return record


def _extend(record, draw):
    target = _nested_list(record["values"], draw(st.integers(0, max(len(record["shape"]) - 1, 0))))
    if target is None:
        return None
    target.append(copy.deepcopy(target[0]) if target else 0)
    return record


def _flatten(record, draw):
    if record["shape"] == []:
        return None
    flat = [parent[index] for parent, index in _leaf_lists(record["values"], record["shape"])]
    if flat == record["values"]:
        return None
    record["values"] = flat
    return record


def _bad_leaf(record, draw):
    boolean = record["dtype"].endswith("bool")
    wrong = [1, 0, "True", None] if boolean else [True, False, None, "1.0", "NaN", "Infinity"]
    wrong = draw(st.sampled_from(wrong) | st.builds(lambda x: [x], st.just(0)) | st.just({}))
    return _set_first_leaf(record, lambda leaf: wrong)


def _changed_leaf(record, draw):
    if record["dtype"].endswith("bool"):
        return _set_first_leaf(record, lambda leaf: not leaf)
    return _set_first_leaf(record, _different_number)


def _shape_lie(record, draw):
    lies = [record["shape"] + [1], "2x3", None, [-1] + record["shape"], [True] + record["shape"]]
    if record["shape"]:
        lies += [record["shape"][:-1], [float(record["shape"][0])] + record["shape"][1:]]
    record["shape"] = draw(st.sampled_from(lies))
    return record


TENSOR_MUTATIONS = [
    lambda r, draw: None if r["values"] == [] else {**r, "values": []},
    lambda r, draw: {**r, "values": [r["values"]]},  # nested one level too deep
    lambda r, draw: {**r, "values": draw(NOT_A_DICT.filter(lambda v: v != r["values"]))},
    _shrink,
    _extend,
    _flatten,
    _bad_leaf,
    _changed_leaf,
    _shape_lie,
    lambda r, draw: {**r, "dtype": r["dtype"] + "x"},
    lambda r, draw: {**r, "dtype": draw(st.sampled_from([None, 32, [r["dtype"]]]))},
]
MUTATIONS = {
    "tensor": TENSOR_MUTATIONS,
    "array": TENSOR_MUTATIONS,
    "number": [
        lambda r, draw: {**r, "value": [r["value"]]},  # a list where a number is expected
        lambda r, draw: {**r, "value": draw(st.sampled_from([None, True, "1.0", "NaN", {}]))},
        lambda r, draw: {**r, "value": _different_number(r["value"])},
    ],
    "bool": [
        lambda r, draw: {**r, "value": not r["value"]},
        lambda r, draw: {**r, "value": draw(st.sampled_from([None, int(r["value"]), "True"]))},
    ],
    "str": [
        lambda r, draw: {**r, "value": r["value"] + "x"},
        lambda r, draw: {**r, "value": draw(st.sampled_from([None, [r["value"]], 0]))},
    ],
    "dtype": [
        lambda r, draw: {**r, "name": r["name"] + "x"},
        lambda r, draw: {**r, "name": draw(st.sampled_from([None, [r["name"]]]))},
    ],
    "exception": [
        lambda r, draw: {**r, "type": r["type"] + "x"},
        lambda r, draw: {**r, "type": draw(st.sampled_from([None, [r["type"]]]))},
        lambda r, draw: {**r, "message": draw(st.sampled_from([5, [r["message"]], {}]))},
        lambda r, draw: None if r["message"] is None else {**r, "message": r["message"] + "x"},
    ],
    "sequence": [
        lambda r, draw: {**r, "items": r["items"] + [describe(None)]},
        lambda r, draw: {**r, "items": r["items"][:-1]} if r["items"] else None,
        lambda r, draw: {**r, "items": draw(st.sampled_from([None, {}, "items"]))},
    ],
    "mapping": [
        lambda r, draw: {**r, "items": {**r["items"], "\x00new!": describe(None)}},
        lambda r, draw: {**r, "items": dict(list(r["items"].items())[1:])} if r["items"] else None,
        lambda r, draw: {**r, "items": list(r["items"].values())},
        lambda r, draw: {**r, "items": {**r["items"], 1: describe(None)}},
    ],
    "none": [],
    "other": [
        lambda r, draw: {**r, "repr": r["repr"] + "x"},
        lambda r, draw: {**r, "type": None},
    ],
}
ANY_KIND = [
    lambda r, draw: draw(NOT_A_DICT),
    lambda r, draw: {**r, "kind": draw(WORDS.filter(lambda kind: kind != r["kind"]))},
    lambda r, draw: {k: v for k, v in r.items() if k != "kind"},
    lambda r, draw: {**r, "kind": [r["kind"]]},  # unhashable
]


def _mutations(kind: str) -> list:
    return MUTATIONS[kind] + ANY_KIND


@st.composite
def corrupted(draw, record, index=None):
    """``record`` with one corruption somewhere inside it (the ``index``-th mutation of its
    kind, if given): must never match ``record``. Extra keys that ask for leniency
    (``rtol: 1e9``) ride along and change nothing."""
    record = copy.deepcopy(record)
    items = record.get("items")
    if index is None and items and draw(st.booleans()):  # corrupt an item instead
        keys = list(range(len(items))) if isinstance(items, list) else list(items)
        key = draw(st.sampled_from(keys))
        items[key] = draw(corrupted(items[key]))
        return record
    mutations = _mutations(record["kind"])
    mutation = mutations[index] if index is not None else draw(st.sampled_from(mutations))
    broken = mutation(record, draw)
    assume(broken is not None)
    if isinstance(broken, dict) and draw(st.booleans()):
        broken.update(rtol=1e9, atol=1e9, grad_fn=False)
    return broken


# Answers of each kind, for trying every mutation on it.
BY_KIND = {
    "tensor": tensors(),
    "array": ARRAYS.filter(lambda a: a.ndim > 0),
    "number": st.integers() | st.floats(),
    "bool": st.booleans(),
    "str": st.text(),
    "dtype": st.sampled_from([autograd_lite.float32, autograd_lite.bool]),
    "exception": EXCEPTIONS,
    "sequence": st.lists(LEAVES, min_size=1, max_size=3),
    "mapping": st.dictionaries(st.text(max_size=3), LEAVES, min_size=1, max_size=3),
    "none": st.none(),
    "other": st.complex_numbers(allow_nan=False),
}


# --------------------------------------------------------------------------- compare


@PROPERTY
@given(ANSWERS)
def test_the_correct_record_matches_also_after_a_json_round_trip(answer):
    want = describe(answer)
    assert compare(copy.deepcopy(want), want, grad_fn=True) is None
    assert compare(json.loads(json.dumps(want)), want, grad_fn=True) is None


@PROPERTY
@given(ANSWERS, st.data())
def test_a_corrupted_record_is_a_wrong_answer_with_a_message(answer, data):
    want = describe(answer)
    got = data.draw(corrupted(want))
    for grad_fn in (False, True):
        reason = compare(got, want, grad_fn=grad_fn)
        assert isinstance(reason, str) and reason


@pytest.mark.parametrize(
    ("kind", "index"), [(kind, i) for kind in MUTATIONS for i in range(len(_mutations(kind)))]
)
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_kind_of_corruption_is_a_wrong_answer(kind, index, data):
    want = describe(data.draw(BY_KIND[kind]))
    assert want["kind"] == kind
    got = data.draw(corrupted(want, index))
    assert isinstance(compare(got, want), str)
    assert isinstance(compare(got, want, grad_fn=True), str)


@pytest.mark.parametrize(
    ("want", "got", "reason"),
    [
        (np.array([1.0, 0.0]), {"values": [True, False]}, "a value is not a number"),
        (np.array([True]), {"values": [1]}, "a value is not True or False"),
        (np.array([0.0]), {"values": ["0"]}, "a value is not a number"),
        (np.array([math.nan]), {"values": ["NaN"]}, "a value is not a number"),
        (np.array([math.inf]), {"values": ["Infinity"]}, "a value is not a number"),
        (np.array([[1.0, 2.0]]), {"shape": [True, 2]}, "the shape is malformed"),
        (np.array([[1.0, 2.0]]), {"shape": [1.0, 2]}, "the shape is malformed"),
        (np.array([[1.0, 2.0]]), {"shape": [1, 2], "values": [1.0, 2.0]}, "not nested as"),
        (np.array([[1.0, 2.0]]), {"values": [[1.0, 2.0, 3.0]]}, "not nested as"),
        (np.array([1.0]), {"dtype": ["float64"]}, "the dtype is malformed"),
        (1, {"kind": "number", "value": True}, "the value is not a number"),
        (1.5, {"kind": "number", "value": "1.5"}, "the value is not a number"),
        (True, {"kind": "bool", "value": 1}, "the reported answer is malformed"),
        ("x", {"value": ["x"]}, "the reported answer is malformed"),
        (ValueError("m"), {"message": "m "}, "the exception's message differs"),
        (ValueError("m"), {"message": 3}, "the reported answer is malformed"),
        ({"a": 1}, {"items": {"a": describe(1), "b": describe(2)}}, "the keys differ"),
        ((1, 2), {"items": {"0": describe(1)}}, "the reported answer is malformed"),
    ],
)
def test_equal_looking_values_of_the_wrong_type_are_wrong(want, got, reason):
    want = describe(want)
    message = compare({**want, **got}, want)
    assert message is not None and reason in message


def test_true_and_false_still_stand_for_one_and_zero_as_answers():
    assert compare(describe(True), describe(1)) is None
    assert compare(describe(False), describe(0.0)) is None
    assert compare(describe(True), describe(2)) == "the value differs from torch's"
    assert compare(describe(1), describe(True)) == "expected True or False"


@PROPERTY
@given(ANSWERS, JSON, st.booleans())
def test_arbitrary_json_never_raises_and_passes_only_as_the_same_kind(answer, got, grad_fn):
    want = describe(answer)
    reason = compare(got, want, grad_fn=grad_fn)
    assert reason is None or (isinstance(reason, str) and reason)
    if reason is None:
        assert isinstance(got, dict)
        assert got["kind"] == want["kind"] or {got["kind"], want["kind"]} <= {"number", "bool"}


@PROPERTY
@given(ANSWERS, st.data())
def test_arbitrary_json_in_any_field_of_a_right_record_never_raises(answer, data):
    want = describe(answer)
    key = data.draw(st.sampled_from(sorted(want)))
    got = {**want, key: data.draw(JSON)}
    reason = compare(got, want, grad_fn=data.draw(st.booleans()))
    assert reason is None or isinstance(reason, str)


@PROPERTY
@given(ANSWERS, st.dictionaries(st.sampled_from(["rtol", "atol", "extra", "note"]), JSON))
def test_unknown_and_tolerance_keys_in_the_students_record_change_nothing(answer, extra):
    want = describe(answer)
    assert compare({**want, **extra}, want, grad_fn=True) is None


@PROPERTY
@given(tensors().filter(lambda t: t.dtype == autograd_lite.float32), st.data())
def test_grad_facts_count_only_when_the_reference_asks(tensor, data):
    want = describe(tensor)
    lie = data.draw(
        st.sampled_from(
            [
                {"requires_grad": not want["requires_grad"]},
                {"requires_grad": data.draw(st.sampled_from([None, 1, "True"]))},
                {"grad_fn": "AddBackward0" if want["grad_fn"] else "MulBackward0"},
                {"grad_fn": data.draw(st.sampled_from([1, ["MulBackward0"], {}]))},
            ]
        )
    )
    got = {**want, **lie}
    assert compare(got, want, grad_fn=False) is None
    assert isinstance(compare(got, want, grad_fn=True), str)


def test_non_finite_values_match_only_the_same_non_finite_value():
    want = describe(np.array([math.nan, math.inf, -math.inf, 1.0]))
    assert compare({**want, "values": [math.nan, math.inf, -math.inf, 1.0]}, want) is None
    for wrong, index in [
        (["nan", "nan", "-inf", 1.0], 1),
        ([0.0, "inf", "-inf", 1.0], 0),
        (["nan", "inf", "-inf", "nan"], 3),
        (["nan", "inf", 1e308, 1.0], 2),
    ]:
        message = f"1 of 4 values differ from torch's (first at flat index {index})"
        assert compare({**want, "values": wrong}, want) == message


def test_a_record_nested_ten_thousand_deep_is_a_wrong_answer():
    deep = deeply_nested()
    tensor = describe(np.array([1.0]))
    cases = [
        (deep, tensor),
        ({**tensor, "values": deep}, tensor),
        ({**tensor, "values": [deep]}, tensor),
        ({"kind": "number", "value": deep}, describe(1.0)),
        ({"kind": "sequence", "items": [deep]}, describe([1.0])),
        ({"kind": "sequence", "items": deep}, describe([1.0])),
        ({"kind": "mapping", "items": {"a": deep}}, describe({"a": 1.0})),
        ({"kind": "str", "value": deep}, describe("x")),
    ]
    for got, want in cases:
        assert isinstance(compare(got, want), str)


def test_messages_quote_neither_the_reference_nor_much_of_the_students_text():
    want = describe(np.array([[314159.25, 271828.5]], dtype=np.float64))
    got = {**want, "dtype": "y" * 10_000}
    assert len(compare(got, want)) < 100
    for got in [{**want, "values": [[1.0, 2.0]]}, {**want, "shape": [2, 1]}, describe(1.0)]:
        message = compare(got, want)
        assert "314159" not in message and "271828" not in message and "float64" not in message


# --------------------------------------------------------------------------- the seen attacks


def _check_record(name, value, grad_fn=False):
    """What ``check(name, value)`` reports."""
    record = {"name": name, "value": describe(value), "rtol": DEFAULT_RTOL, "atol": DEFAULT_ATOL}
    return {**record, "grad_fn": grad_fn}


def _test_cell(grade_id, source="assert True", points=3):
    meta = {"grade": True, "solution": False, "locked": True, "grade_id": grade_id}
    meta |= {"points": points, "schema_version": 3}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def _answer_cell(grade_id, source="x = 1"):
    meta = {"grade": False, "solution": True, "locked": False, "grade_id": grade_id}
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


SOURCE = _nb(
    nbformat.v4.new_markdown_cell("# Exercise 1"),
    _answer_cell("a", "a = 1"),
    _test_cell("a-tests", "assert a\n### BEGIN HIDDEN TESTS\ncheck('a', a)\n### END HIDDEN TESTS"),
    _answer_cell("b", "b = 2"),
    _test_cell("b-tests", "assert b\n### BEGIN HIDDEN TESTS\ncheck('b', b)\n### END HIDDEN TESTS"),
)


def _score_one(want_value, got_record, grad_fn=False):
    references = {"a-tests": CellReport(answers={"x": _check_record("x", want_value, grad_fn)})}
    reports = {"a-tests": CellReport(answers={"x": got_record})}
    return score(SOURCE, references, reports)[0]


def test_empty_values_with_the_right_dtype_and_shape_score_nothing():
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    got = {**_check_record("x", array), "value": {**describe(array), "values": []}}
    result = _score_one(array, got)
    assert result.points == 0
    assert result.problems == ["x: the values are not nested as the shape says"]
    tensor = autograd_lite.tensor(array)
    assert _score_one(tensor, {**got, "value": {**describe(tensor), "values": []}}).points == 0


def test_a_list_where_a_number_is_expected_is_a_wrong_answer_not_a_crash():
    got = {**_check_record("x", 2.5), "value": {"kind": "number", "value": [2.5]}}
    result = _score_one(2.5, got)
    assert result.points == 0 and result.problems == ["x: the value is not a number"]
    leaf_lists = {**describe(np.array([2.5, 1.0])), "values": [[2.5], [1.0]]}
    assert compare(leaf_lists, describe(np.array([2.5, 1.0]))) == "a value is not a number"


def test_leniency_asked_for_in_the_students_record_is_ignored():
    want = autograd_lite.tensor([1.0], requires_grad=True) * 2
    wrong = {**_check_record("x", autograd_lite.tensor([5.0])), "rtol": 1e9, "atol": 1e9}
    assert _score_one(want, wrong).points == 0
    no_grad = {**_check_record("x", autograd_lite.tensor([2.0])), "grad_fn": False}
    assert _score_one(want, no_grad, grad_fn=False).points == 3
    assert _score_one(want, no_grad, grad_fn=True).points == 0


# --------------------------------------------------------------------------- score


@PROPERTY
@given(st.lists(ANSWERS, min_size=1, max_size=3), st.data())
def test_score_never_raises_and_corrupted_records_earn_nothing(answers, data):
    names = [f"n{i}" for i in range(len(answers))]
    wants = {name: _check_record(name, answer) for name, answer in zip(names, answers, strict=True)}
    got, right, maybe = {}, 0, 0
    for name, want in wants.items():
        how = data.draw(st.sampled_from(["right", "corrupted", "arbitrary", "arbitrary value"]))
        if how == "right":
            got[name], right = copy.deepcopy(want), right + 1
        elif how == "corrupted":
            got[name] = {**want, "value": data.draw(corrupted(want["value"])), "rtol": 1e9}
        elif how == "arbitrary":
            got[name], maybe = data.draw(JSON), maybe + 1
        else:
            got[name], maybe = {**want, "value": data.draw(JSON)}, maybe + 1
    references = {"a-tests": CellReport(answers=wants)}
    error = data.draw(st.none() | st.text(max_size=5))
    reports = {"a-tests": CellReport(answers=got, error=error), "b-tests": CellReport(answers={})}
    a, b = score(SOURCE, references, reports)
    share = 3 / len(wants)
    assert right * share - 1e-6 <= a.points <= (right + maybe) * share + 1e-6
    assert b.points == 0 and b.problems
    earned = round(a.points / share)
    assert len(a.problems) == len(wants) - earned + (error is not None)


@PROPERTY
@given(
    st.dictionaries(
        st.text(max_size=8) | st.just("a-tests"), JSON | st.builds(CellReport, JSON, JSON)
    )
)
def test_score_never_raises_for_reports_of_any_shape(reports):
    # Longer than any string JSON draws: no report can hold the right answer by chance.
    references = {"a-tests": CellReport(answers={"x": _check_record("x", "the right answer")})}
    for result in score(SOURCE, references, reports):
        assert result.points == 0


# --------------------------------------------------------------------------- hostile notebooks

RECORDS = st.fixed_dictionaries({}, optional={"name": st.just("x") | JSON, "value": JSON})
DATA = st.fixed_dictionaries({}, optional={MIME_TYPE: RECORDS | JSON, "text/plain": JSON})
OUTPUT_TYPES = st.sampled_from(["display_data", "execute_result", "error", "stream"]) | JSON
OUTPUTS = st.fixed_dictionaries(
    {"output_type": OUTPUT_TYPES},
    optional={"data": DATA | JSON, "ename": JSON, "evalue": JSON | st.text(max_size=10)},
)
NBGRADER = st.fixed_dictionaries(
    {},
    optional={
        "grade": st.booleans() | JSON,
        "solution": st.booleans() | JSON,
        "locked": st.booleans() | JSON,
        "grade_id": st.sampled_from(["a-tests", "b-tests", "a", "zz"]) | JSON,
        "points": JSON,
    },
)
METADATA = st.fixed_dictionaries({}, optional={"nbgrader": NBGRADER | JSON, "tags": JSON}) | JSON
CELLS = st.fixed_dictionaries(
    {},
    optional={
        "cell_type": st.sampled_from(["code", "markdown", "raw"]) | JSON,
        "metadata": METADATA,
        "source": st.sampled_from([c.source for c in SOURCE.cells]) | st.text(max_size=10) | JSON,
        "outputs": st.lists(OUTPUTS | JSON, max_size=3) | JSON,
    },
)
NOTEBOOKS = st.lists(CELLS | JSON, max_size=6).map(
    lambda cells: nbformat.from_dict({"cells": cells, "metadata": {}, "nbformat": 4})
)


def _test_ids(nb) -> list[str]:
    return sorted(nbgrader_meta(c)["grade_id"] for c in nb.cells if is_test_cell(c))


@PROPERTY
@given(NOTEBOOKS)
def test_helpers_and_collect_never_raise_on_hostile_cells(nb):
    for cell in nb.cells:
        assert isinstance(nbgrader_meta(cell), dict)
        assert isinstance(is_test_cell(cell), bool)
    for grade_id, report in collect(nb).items():
        assert isinstance(grade_id, str) and grade_id
        assert report.error is None or isinstance(report.error, str)
        assert all(isinstance(r, dict) and r["name"] == name for name, r in report.answers.items())


@PROPERTY
@given(NOTEBOOKS)
def test_restore_tests_never_raises_and_leaves_only_the_sources_test_cells(nb):
    before = repr(nb)
    restored, changed = restore_tests(nb, SOURCE)
    assert repr(nb) == before, "the submission is untouched"
    assert _test_ids(restored) == ["a-tests", "b-tests"]
    wanted = {nbgrader_meta(c)["grade_id"]: c.source for c in SOURCE.cells if is_test_cell(c)}
    assert all(
        c.source == wanted[nbgrader_meta(c)["grade_id"]] for c in restored.cells if is_test_cell(c)
    )
    assert set(changed) <= set(wanted)
    assert set(collect(restored)) == set(wanted)


def test_a_duplicated_test_cell_loses_its_grade_and_is_flagged():
    impostor = _test_cell("a-tests", "check('a', 1)")
    impostor.outputs = [
        {"output_type": "display_data", "metadata": {}, "data": {MIME_TYPE: _check_record("a", 1)}}
    ]
    submission = _nb(*SOURCE.cells[:2], impostor, *SOURCE.cells[2:])
    restored, changed = restore_tests(submission, SOURCE)
    assert changed == ["a-tests"]
    assert _test_ids(restored) == ["a-tests", "b-tests"]
    assert collect(restored)["a-tests"].answers == {}


def test_cells_without_grade_id_or_with_odd_nbgrader_metadata_are_not_test_cells():
    odd = [
        {"grade": True, "solution": False},
        "nbgrader",
        ["grade"],
        3,
        {"grade": True, "grade_id": [1]},
    ]
    for meta in odd:
        cell = nbformat.v4.new_code_cell("pass", metadata={"nbgrader": meta})
        assert not is_test_cell(cell)
        assert collect(_nb(cell)) == {}
    assert nbgrader_meta("not a cell") == {} and not is_test_cell({"metadata": []})


def test_a_deeply_nested_submission_is_restored_and_collected():
    submission = copy.deepcopy(SOURCE)
    submission.cells[2].metadata["deep"] = deeply_nested()
    submission.cells[2].outputs = [
        {
            "output_type": "display_data",
            "data": {MIME_TYPE: {"name": "a", "value": deeply_nested()}},
        }
    ]
    restored, changed = restore_tests(submission, SOURCE)
    assert changed == [] and _test_ids(restored) == ["a-tests", "b-tests"]
    [report] = [r for gid, r in collect(submission).items() if gid == "a-tests"]
    references = {"a-tests": CellReport(answers={"a": _check_record("a", 1)})}
    assert score(SOURCE, references, {"a-tests": report})[0].points == 0


@pytest.mark.parametrize("points", ["3", None, [3], {"n": 3}])
def test_points_in_the_students_notebook_are_never_read(points):
    submission = copy.deepcopy(SOURCE)
    submission.cells[2].metadata.nbgrader["points"] = points
    restored, changed = restore_tests(submission, SOURCE)
    assert changed == []
    assert nbgrader_meta(restored.cells[2])["points"] == 3
    references = {"a-tests": CellReport(answers={"a": _check_record("a", 1)})}
    reports = collect(submission)  # no outputs: nothing reported
    assert [s.max_points for s in score(SOURCE, references, reports)] == [3.0, 3.0]

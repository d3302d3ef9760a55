"""The grader's core, without kernels: answer records, their comparison, restoring test cells,
and reference mode (course code under real torch)."""

from __future__ import annotations

import subprocess
import sys

import nbformat
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import autograd_lite
from grader.answers import compare, describe
from grader.score import restore_tests


def record_pair(make):
    """The same answer made by autograd_lite and by torch: the grader's two sides."""
    return describe(make(autograd_lite)), describe(make(torch))


@pytest.mark.parametrize(
    "make",
    [
        lambda T: T.tensor([1.0, 2.5]) * 3,
        lambda T: T.tensor(7) ** 2 + 1,
        lambda T: (T.tensor([1, 2]) / 2).dtype,
        lambda T: T.tensor([[1.0, 2.0]], requires_grad=True).sum(1),
        lambda T: T.tensor(float("nan")),
        lambda T: T.tensor([1.0, -float("inf")]),
        lambda T: T.zeros(2, 3).shape,
        lambda T: T.tensor(2.5).item(),
        lambda T: T.tensor([True, False]),
        lambda T: (T.tensor(1.5), T.float64, "RuntimeError"),
        lambda T: {"grad": T.tensor([0.5]), "dtype": T.int64},
    ],
)
def test_autograd_lite_and_torch_answers_agree(make):
    mine, theirs = record_pair(make)
    assert compare(mine, theirs, grad_fn=True) is None, (mine, theirs)


def test_exceptions_compare_by_class_and_first_line():
    def raised(T):
        try:
            T.mm(T.tensor([[1, 2]]), T.tensor([[1.0], [2.0]]))
        except Exception as error:  # noqa: BLE001 - the answer *is* the exception
            return error

    mine, theirs = record_pair(raised)
    assert mine["type"] == "RuntimeError"
    assert compare(mine, theirs) is None
    assert (
        compare(describe(ValueError("x")), theirs) == "ValueError is not the exception torch raises"
    )


@pytest.mark.parametrize(
    ("got", "want", "reason"),
    [
        (lambda T: T.tensor([1.0, 2.0]), lambda T: T.tensor([1.0, 2.1]), "1 of 2 values differ"),
        (lambda T: T.tensor([1.0]), lambda T: T.tensor([1.0], dtype=T.float64), "dtype is"),
        (lambda T: T.tensor([1.0]), lambda T: T.tensor([[1.0]]), "shape is (1,)"),
        (lambda T: T.tensor([1.0]), lambda T: 1.0, "got a tensor; torch's answer is of another"),
        (lambda T: T.float32, lambda T: T.float64, "'torch.float32' is not the expected"),
        (lambda T: (1, 2), lambda T: (1, 2, 3), "2 items; expected 3"),
        (lambda T: 1, lambda T: True, "expected True or False"),
    ],
)
def test_wrong_answers_say_what_differs_without_the_reference(got, want, reason):
    message = compare(describe(got(autograd_lite)), describe(want(torch)))
    assert message is not None and reason in message
    assert "2.1" not in message and "float64" not in message.split(";")[0][:0]


KINDS = {
    "tensor": lambda T: T.tensor([1.0]),
    "dtype": lambda T: T.float32,
    "string": lambda T: "RuntimeError",
    "exception": lambda T: RuntimeError("boom"),
    "number": lambda T: 2.5,
    "tuple": lambda T: (1, 2),
}


@pytest.mark.parametrize("want", KINDS)
@pytest.mark.parametrize("got", KINDS)
def test_a_wrong_kind_of_answer_does_not_reveal_the_expected_kind(got, want):
    """A predict exercise's answer may be a dtype or an exception name: the kind is the answer."""
    message = compare(describe(KINDS[got](autograd_lite)), describe(KINDS[want](torch)))
    if got == want:
        return
    assert message is not None
    assert want not in message.split(";")[1], message


def test_grad_fn_is_compared_only_when_asked():
    x = autograd_lite.tensor([1.0], requires_grad=True)
    mine = describe(x * 2)
    theirs = describe(torch.tensor([1.0], requires_grad=True) + torch.tensor([1.0]))
    assert compare(mine, theirs) is None
    assert "grad_fn is MulBackward0" in compare(mine, theirs, grad_fn=True)


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, width=32), min_size=1, max_size=8),
    st.sampled_from(["float32", "float64", "int64"]),
)
def test_any_tensor_matches_its_torch_twin(values, dtype):
    array = np.array(values).astype(dtype)
    mine = describe(autograd_lite.tensor(array))
    theirs = describe(torch.tensor(array))
    assert compare(mine, theirs, rtol=0, atol=0) is None


# --------------------------------------------------------------------------- restore_tests


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _test_cell(grade_id, source):
    meta = {
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": grade_id,
        "points": 1,
        "schema_version": 3,
    }
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


def _answer_cell(grade_id, source):
    meta = {
        "grade": False,
        "solution": True,
        "locked": False,
        "grade_id": grade_id,
        "schema_version": 3,
    }
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": meta})


SOURCE = _nb(
    _answer_cell("a", "x = 1"),
    _test_cell(
        "a-tests", "assert x == 1\n### BEGIN HIDDEN TESTS\ncheck('x', x)\n### END HIDDEN TESTS"
    ),
    _answer_cell("b", "y = 2"),
    _test_cell(
        "b-tests", "assert y == 2\n### BEGIN HIDDEN TESTS\ncheck('y', y)\n### END HIDDEN TESTS"
    ),
)


def test_hidden_tests_come_back_and_an_untouched_release_is_not_flagged():
    release = _nb(
        _answer_cell("a", "x = 1"),
        _test_cell("a-tests", "assert x == 1\n"),
        _answer_cell("b", "y = 2"),
        _test_cell("b-tests", "assert y == 2"),
    )
    restored, changed = restore_tests(release, SOURCE)
    assert [c.source for c in restored.cells] == [c.source for c in SOURCE.cells]
    assert changed == []


def test_a_deleted_or_edited_test_cell_is_restored_in_place_and_flagged():
    tampered = _nb(
        _answer_cell("a", "x = 1"),
        _answer_cell("b", "y = 2"),
        _test_cell("b-tests", "pass"),
    )
    restored, changed = restore_tests(tampered, SOURCE)
    assert [c.source for c in restored.cells] == [c.source for c in SOURCE.cells]
    assert changed == ["a-tests", "b-tests"]


# --------------------------------------------------------------------------- reference mode


def test_reference_mode_makes_autograd_lite_imports_torch():
    code = (
        "import grader.reference_mode as r; r.install()\n"
        "import torch, autograd_lite\n"
        "from autograd_lite.autograd import Variable\n"
        "import autograd_lite.autograd.functional as F\n"
        "from autograd_lite.viz import make_dot\n"
        "assert autograd_lite is torch and F is torch.autograd.functional\n"
        "assert Variable is torch.autograd.Variable and make_dot(torch.ones(1)) is None\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

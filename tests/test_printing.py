"""Differential tests: autograd_lite._printing must reproduce torch's tensor repr exactly."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_lite import _printing
from autograd_lite._printing import format_tensor, get_printoptions, set_printoptions

DTYPES = [
    np.bool_,
    np.uint8,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.float16,
    np.float32,
    np.float64,
]


@pytest.fixture(autouse=True)
def default_printoptions():
    """Every test starts and ends with torch's and our default options."""
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")
    set_printoptions(profile="default")


def torch_shows_dtype(t: torch.Tensor) -> bool:
    """The rule from torch's ``_str_intern`` (``has_default_dtype``)."""
    return t.dtype not in (torch.get_default_dtype(), torch.int64, torch.bool)


def ours(arr: np.ndarray, t: torch.Tensor, suffixes=()) -> str:
    return format_tensor(
        arr, dtype_name=str(t.dtype), show_dtype=torch_shows_dtype(t), suffixes=suffixes
    )


def assert_same_as_torch(arr: np.ndarray) -> str:
    t = torch.from_numpy(arr.copy())
    expected = repr(t)
    assert ours(arr, t) == expected
    return expected


def set_both(**options) -> None:
    torch.set_printoptions(**options)
    set_printoptions(**options)


RNG = np.random.default_rng(0)

CASES = {
    "int_scalar_7": np.array(7),
    "int_scalar_50": np.array(50),
    "e": np.array(math.e, dtype=np.float32),
    "float_scalar_integer": np.array(27.0, dtype=np.float32),
    "negative_scalar": np.array(-3.5, dtype=np.float64),
    "bool_scalar": np.array(True),
    "linspace_0_10_41": np.linspace(0, 10, 41, dtype=np.float32),
    "linspace_m10_10_21": np.linspace(-10, 10, 21, dtype=np.float32),
    "mixed_large": np.array([-759.2562, 54.66, -1130.0292], dtype=np.float32),
    "sci_range": np.array([204.8, 2048.0, 0.2048], dtype=np.float32),
    "int_valued_matrix": np.array([[18.0, 18.0], [180.0, 180.0]], dtype=np.float32),
    "int_valued_negative": np.array([2.0, 3.0, -3.0], dtype=np.float32),
    "negative_zero": np.array([2.0, 0.0, -0.0], dtype=np.float32),
    "only_negative_zero": np.array([-0.0, 0.0], dtype=np.float32),
    "random_5x3": RNG.random((5, 3)).astype(np.float32),
    "randn_4x4": RNG.standard_normal((4, 4)).astype(np.float32),
    "ones_3x5_float64": np.ones((3, 5)),
    "int_matrix": np.arange(12).reshape(3, 4) - 5,
    "int32_matrix": (np.arange(12, dtype=np.int32).reshape(3, 4) * 37) - 100,
    "int16": np.array([-32768, 0, 32767], dtype=np.int16),
    "int8": np.array([-128, 5, 127], dtype=np.int8),
    "uint8": np.array([0, 7, 255], dtype=np.uint8),
    "bool_vector": np.array([True, False, True]),
    "bool_matrix": np.array([[True, False], [False, False]]),
    "summarized_2000": np.arange(2000, dtype=np.float32) / 7,
    "summarized_int": np.arange(5000),
    "summarized_matrix": RNG.standard_normal((40, 40)),
    "summarized_3d": np.arange(20 * 10 * 10).reshape(20, 10, 10),
    "tensor_3d": np.arange(24, dtype=np.float32).reshape(2, 3, 4),
    "tensor_4d": RNG.standard_normal((2, 2, 2, 3)).astype(np.float32),
    "nan_inf": np.array([np.nan, np.inf, -np.inf, 1.5], dtype=np.float32),
    "nan_inf_ints": np.array([np.nan, np.inf, -np.inf, 2.0], dtype=np.float32),
    "only_nan_inf": np.array([np.nan, np.inf, 0.0], dtype=np.float64),
    "sci_with_inf": np.array([1e-8, np.inf, 3.0], dtype=np.float64),
    "very_small": np.array([1e-5, 2e-5], dtype=np.float32),
    "very_large": np.array([1e9, 2e9], dtype=np.float32),
    "large_int_valued": np.array([1e10, 1.0], dtype=np.float64),
    "tiny_and_huge": np.array([1e-30, 1e30, -5.0], dtype=np.float64),
    "all_zeros": np.zeros((2, 3), dtype=np.float32),
    "float16": np.array([0.1, 1.5, 65504.0, -2.0], dtype=np.float16),
    "float16_ints": np.array([[1, 2], [3, 400]], dtype=np.float16),
    "float16_tiny": np.array([6e-8, 1e-3], dtype=np.float16),
    "long_ints_wrap": np.arange(100) * 1001,
    "empty_1d": np.zeros(0, dtype=np.float32),
    "empty_2d": np.zeros((0, 3), dtype=np.float32),
    "empty_3d": np.zeros((2, 0, 4), dtype=np.float64),
    "empty_int": np.zeros(0, dtype=np.int64),
    "empty_bool": np.zeros((0,), dtype=np.bool_),
    "empty_int32_2d": np.zeros((3, 0), dtype=np.int32),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name):
    assert_same_as_torch(CASES[name])


def test_tutorial_outputs_verbatim():
    """A few outputs spelled out, so a regression is readable without torch."""
    assert assert_same_as_torch(np.array(7)) == "tensor(7)"
    assert assert_same_as_torch(np.array(math.e, dtype=np.float32)) == "tensor(2.7183)"
    assert (
        assert_same_as_torch(CASES["mixed_large"]) == "tensor([ -759.2562,    54.6600, -1130.0292])"
    )
    assert (
        assert_same_as_torch(CASES["sci_range"]) == "tensor([2.0480e+02, 2.0480e+03, 2.0480e-01])"
    )
    assert assert_same_as_torch(CASES["int_valued_matrix"]) == (
        "tensor([[ 18.,  18.],\n        [180., 180.]])"
    )
    assert assert_same_as_torch(CASES["negative_zero"]) == "tensor([2., 0., -0.])"
    assert assert_same_as_torch(CASES["empty_2d"]) == "tensor([], size=(0, 3))"
    assert assert_same_as_torch(CASES["linspace_0_10_41"]).count("\n") == 5


@pytest.mark.parametrize(
    "make",
    [
        lambda: torch.linspace(0, 10, 41),
        lambda: torch.linspace(-10, 10, 21),
        lambda: torch.exp(torch.tensor(1.0)),
        lambda: torch.rand(5, 3),
        lambda: torch.ones(3, 5, dtype=torch.float64),
        lambda: torch.randn(2000),
        lambda: torch.arange(2000),
        lambda: torch.randn(2, 3, 4) * 1000,
    ],
)
def test_tensors_built_by_torch(make):
    """The tutorials build tensors with torch itself; use torch's exact values too."""
    t = make()
    assert ours(t.numpy(), t) == repr(t)


def test_requires_grad_suffix():
    t = torch.ones(2, 2, requires_grad=True)
    assert ours(np.ones((2, 2), np.float32), t, ["requires_grad=True"]) == repr(t)


def test_grad_fn_suffix():
    t = torch.ones(2, 2, requires_grad=True) * 2
    got = ours(np.full((2, 2), 2, np.float32), t, ["grad_fn=<MulBackward0>"])
    assert got == repr(t)


def test_dtype_precedes_requires_grad():
    t = torch.ones(3, dtype=torch.float64, requires_grad=True)
    got = ours(np.ones(3), t, ["requires_grad=True"])
    assert got == repr(t) == "tensor([1., 1., 1.], dtype=torch.float64, requires_grad=True)"


def test_scalar_with_grad_fn():
    leaf = torch.tensor(3.0, requires_grad=True)
    t = leaf * leaf
    assert ours(np.array(9.0, np.float32), t, ["grad_fn=<MulBackward0>"]) == repr(t)


@pytest.mark.parametrize("count", [11, 12, 13, 14, 23, 41])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_suffixes_wrap_onto_new_lines(count, dtype):
    # Lengths chosen so the last line is nearly full and the suffixes must wrap.
    arr = (np.arange(count) * 1.25 - 3).astype(dtype)
    t = torch.from_numpy(arr.copy()).requires_grad_().clone()
    assert ours(arr, t, ["grad_fn=<CloneBackward0>"]) == repr(t)


def test_empty_with_requires_grad():
    t = torch.zeros(0, 3, dtype=torch.float64, requires_grad=True)
    got = ours(np.zeros((0, 3)), t, ["requires_grad=True"])
    assert got == repr(t) == "tensor([], size=(0, 3), dtype=torch.float64, requires_grad=True)"


@pytest.mark.parametrize(
    "arr",
    [np.ones(2), np.ones(2, np.float32), np.zeros((0,)), np.zeros((0,), np.float32), np.arange(2)],
)
def test_show_dtype_follows_default_dtype(arr):
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        assert_same_as_torch(arr)
    finally:
        torch.set_default_dtype(old)


def test_custom_prefix_changes_indent():
    got = format_tensor(np.ones((2, 2)), dtype_name="torch.float32", show_dtype=False, prefix="P(")
    assert got == "P([[1., 1.],\n   [1., 1.]])"


OPTION_CASES = [
    ({"precision": 2}, CASES["random_5x3"]),
    ({"precision": 0}, CASES["randn_4x4"]),
    ({"precision": 8}, CASES["mixed_large"]),
    ({"threshold": 5}, np.arange(10)),
    ({"threshold": 5, "edgeitems": 1}, np.arange(24.0).reshape(2, 3, 4)),
    ({"threshold": 5, "edgeitems": 0}, np.arange(24.0).reshape(2, 3, 4)),
    ({"threshold": 5, "edgeitems": 0}, np.arange(10.0)),
    ({"threshold": 0, "edgeitems": 0}, np.array(3.0)),
    ({"linewidth": 30}, CASES["linspace_0_10_41"]),
    ({"linewidth": 5}, np.arange(6.0)),
    ({"sci_mode": True}, CASES["random_5x3"]),
    ({"sci_mode": True}, np.array([1.0, 2.0])),
    ({"sci_mode": True}, np.zeros(3)),
    ({"sci_mode": False}, CASES["tiny_and_huge"]),
    ({"profile": "short"}, CASES["summarized_matrix"]),
    ({"profile": "full"}, np.arange(1200)),
    ({"profile": "full", "precision": 6}, CASES["random_5x3"]),
]


@pytest.mark.parametrize(("options", "arr"), OPTION_CASES)
def test_printoptions_match_torch(options, arr):
    set_both(**options)
    assert get_printoptions() == torch._tensor_str.get_printoptions()
    assert_same_as_torch(arr)


def test_linewidth_moves_suffix():
    set_both(linewidth=40)
    t = torch.arange(8.0, requires_grad=True)
    assert ours(np.arange(8.0, dtype=np.float32), t, ["requires_grad=True"]) == repr(t)


def test_printoptions_context_restores():
    with _printing.printoptions(precision=1, sci_mode=True):
        assert get_printoptions()["precision"] == 1
    assert get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


def test_module_does_not_import_torch():
    tree = ast.parse(Path(_printing.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name and name.split(".")[0] == "torch" for name in imported)


# ---------------------------------------------------------------- property test


def float_values() -> st.SearchStrategy[float]:
    """Integer-valued floats, ordinary floats, mixed magnitudes and specials."""
    return st.one_of(
        st.integers(-2000, 2000).map(float),
        st.floats(-10, 10),
        st.builds(lambda m, e: m * 10.0**e, st.floats(-10, 10), st.integers(-12, 12)),
        st.sampled_from([0.0, -0.0, math.nan, math.inf, -math.inf]),
    )


def int_values(dtype) -> st.SearchStrategy[int]:
    info = np.iinfo(dtype)
    return st.one_of(st.integers(-3, 3), st.integers(int(info.min), int(info.max)))


@st.composite
def arrays(draw) -> np.ndarray:
    dtype = draw(st.sampled_from(DTYPES))
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=0, max_size=3)))
    count = math.prod(shape)
    if dtype is np.bool_:
        elements = st.booleans()
    elif np.dtype(dtype).kind == "f":
        elements = float_values()
    else:
        elements = int_values(dtype).filter(lambda v: np.dtype(dtype).kind != "u" or v >= 0)
    flat = draw(st.lists(elements, min_size=count, max_size=count))
    with np.errstate(over="ignore"):  # float16 overflow to inf is fine and tested too
        return np.array(flat, dtype=dtype).reshape(shape)


print_options = st.fixed_dictionaries(
    {},
    optional={
        "precision": st.integers(0, 8),
        "threshold": st.integers(0, 60),
        "edgeitems": st.integers(0, 4),
        "linewidth": st.integers(10, 120),
        "sci_mode": st.sampled_from([None, True, False]),
    },
)


@settings(max_examples=300, deadline=None)
@given(arr=arrays(), options=print_options, grad=st.booleans())
def test_property_matches_torch(arr, options, grad):
    set_both(profile="default", **options)
    try:
        t = torch.from_numpy(arr.copy())
        suffixes = []
        if grad and arr.dtype.kind == "f":
            t = t.requires_grad_().clone()
            suffixes = ["grad_fn=<CloneBackward0>"]
        assert ours(arr, t, suffixes) == repr(t)
    finally:
        set_both(profile="default")

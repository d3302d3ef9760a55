"""torch's dtypes, which are not NumPy's: type promotion, creation, defaults, conversions.

The expected dtype always comes from torch itself (helpers.compare checks dtype with the values).
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from helpers import BINARY_OPS, compare, compare_error, integers, randn
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite

# NumPy's divide-by-zero warnings are silenced by autograd_lite at import, a filter that pytest
# drops with the rest of the import-time warning state: restore it (torch gives inf silently).

DTYPES = [np.bool_, np.uint8, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64]
# The three kinds torch promotes separately: tensors with dimensions, 0-d tensors, numbers.
OPERANDS = [np.ones((3,), d) for d in DTYPES] + [np.ones((), d) for d in DTYPES] + [True, 2, 2.5]
BINARY = {**BINARY_OPS}


def spelled(x) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype.name}{list(x.shape)}"
    return repr(x)


def sample(x, offset: int):
    """Values 1..3 (2.5 for numbers): no division by zero, no negative powers, no overflow."""
    if isinstance(x, np.ndarray) and x.dtype != np.bool_:
        values = np.arange(x.size).reshape(x.shape) % 3 + 1 + offset % 2
        return np.asarray(values, dtype=x.dtype)  # an array even when 0-d (not a NumPy scalar)
    return x


def _is_bool_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype == np.bool_


PAIRS = [
    pytest.param(symbol, sample(a, 0), sample(b, 1), id=f"{spelled(a)} {symbol} {spelled(b)}")
    for symbol in BINARY
    for a, b in itertools.product(OPERANDS, OPERANDS)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray)
]


@pytest.mark.parametrize("symbol, a, b", PAIRS)
def test_promotion(symbol, a, b):
    """Result dtype (and value, and gradient dtype) of every pair of operand kinds."""
    op = BINARY[symbol]
    half = any(getattr(x, "dtype", None) == np.float16 for x in (a, b))
    tol = {"rtol": 1e-2, "atol": 1e-3} if half else {}
    try:
        op(*(torch.tensor(x) if isinstance(x, np.ndarray) else x for x in (a, b)))
    except RuntimeError:  # e.g. bool - bool: torch refuses, so must autograd_lite
        compare_error(lambda lib, x, y: op(x, y), a, b)
        return
    # torch 2.13 cannot differentiate `True ** x` (an internal assert fails) nor `x ** mask`
    # (it computes mask - 1): compare values only there.
    grad = not (symbol == "**" and (a is True or _is_bool_array(b)))
    compare(lambda lib, x, y: op(x, y), a, b, grad=grad, second_order=False, **tol)


def test_promotion_table_covers_torch_examples():
    """The table holds the classic surprises (a guard against the table shrinking)."""
    ids = {p.id for p in PAIRS}
    assert {
        "float32[3] + float64[]",  # stays float32: a 0-d tensor does not widen dimensioned ones
        "int64[3] * 2.5",  # float32: a Python float means the default dtype
        "int64[3] / int64[3]",  # float32: true division
        "bool[3] + 2",
        "int32[3] + int64[3]",
        "int32[3] < float64[]",
    } <= ids


FUNCTIONS = [
    ("torch.promote_types", lambda lib: lib.promote_types(lib.int32, lib.float16)),
    ("torch.promote_types", lambda lib: lib.promote_types(lib.uint8, lib.int8)),
    ("torch.promote_types", lambda lib: lib.promote_types(lib.bool, lib.uint8)),
    ("torch.result_type", lambda lib: lib.result_type(lib.tensor([1, 2]), 1.0)),
    ("torch.result_type", lambda lib: lib.result_type(lib.tensor([1.0]), lib.tensor(1.0).double())),
    (
        "torch.result_type",
        lambda lib: lib.result_type(lib.tensor(1), lib.tensor([1], dtype=lib.int8)),
    ),
]


# ============================================================================================
# Creation: dtype inference and explicit dtypes
# ============================================================================================

CREATION = {
    "tensor(1)": lambda lib: lib.tensor(1),
    "tensor(1.0)": lambda lib: lib.tensor(1.0),
    "tensor(True)": lambda lib: lib.tensor(True),
    "tensor([1, 2.0])": lambda lib: lib.tensor([1, 2.0]),
    "tensor([[1, 2], [3, 4.5]])": lambda lib: lib.tensor([[1, 2], [3, 4.5]]),
    "tensor([True, 2])": lambda lib: lib.tensor([True, 2]),
    "tensor([True, 2.5])": lambda lib: lib.tensor([True, 2.5]),
    "tensor([])": lambda lib: lib.tensor([]),
    "tensor([[]])": lambda lib: lib.tensor([[]]),
    "tensor(np float64 array)": lambda lib: lib.tensor(np.array([1.0, 2.0])),
    "tensor(np float32 array)": lambda lib: lib.tensor(np.array([1.0, 2.0], np.float32)),
    "tensor(np int32 array)": lambda lib: lib.tensor(np.array([1, 2], np.int32)),
    "tensor(np bool array)": lambda lib: lib.tensor(np.array([True])),
    "tensor(np.float64(1))": lambda lib: lib.tensor(np.float64(1.5)),
    "tensor(np.float32(1))": lambda lib: lib.tensor(np.float32(1.5)),
    "tensor(np.int32(1))": lambda lib: lib.tensor(np.int32(3)),
    "tensor([np.float64(1)])": lambda lib: lib.tensor([np.float64(1.5), 2.0]),
    "tensor([np.float32(1)])": lambda lib: lib.tensor([np.float32(1.5)]),
    "tensor([np.float16, np.float32])": lambda lib: lib.tensor([np.float16(1), np.float32(2)]),
    "tensor([np.int32, 2.5])": lambda lib: lib.tensor([np.int32(1), 2.5]),
    "tensor([np.int32, 2])": lambda lib: lib.tensor([np.int32(1), 2]),
    "tensor([[1], [np.int8]])": lambda lib: lib.tensor([[1, 2], [3, np.int8(4)]]),
    "tensor([[np.float64], [2.0]])": lambda lib: lib.tensor([[np.float64(1.5)], [2.0]]),
    "tensor(list, dtype)": lambda lib: lib.tensor([1, 2], dtype=lib.float64),
    "tensor(floats, dtype=long)": lambda lib: lib.tensor([1.7, -2.7], dtype=lib.long),
    "tensor(list of 0-d tensors)": lambda lib: lib.tensor([lib.tensor(1.5), lib.tensor(2)]),
    "from_numpy(float64)": lambda lib: lib.from_numpy(np.array([1.0, 2.0])),
    "from_numpy(int32)": lambda lib: lib.from_numpy(np.array([1, 2], np.int32)),
    "as_tensor(float64)": lambda lib: lib.as_tensor(np.array([1.0])),
    "as_tensor(list)": lambda lib: lib.as_tensor([1, 2]),
    "as_tensor(list, dtype)": lambda lib: lib.as_tensor([1, 2], dtype=lib.float32),
    "arange(5)": lambda lib: lib.arange(5),
    "arange(5.0)": lambda lib: lib.arange(5.0),
    "arange(1, 4)": lambda lib: lib.arange(1, 4),
    "arange(0, 1, 0.25)": lambda lib: lib.arange(0, 1, 0.25),
    "arange(1, 2.5, 0.5)": lambda lib: lib.arange(1, 2.5, 0.5),
    "arange(0, 1, 0.1)": lambda lib: lib.arange(0, 1, 0.1),
    "arange(5, dtype=float64)": lambda lib: lib.arange(5, dtype=lib.float64),
    "arange(10, 0, -3)": lambda lib: lib.arange(10, 0, -3),
    "arange(tensor(3))": lambda lib: lib.arange(lib.tensor(3)),
    "full((2, 3), 1)": lambda lib: lib.full((2, 3), 1),
    "full((2,), 1.5)": lambda lib: lib.full((2,), 1.5),
    "full((2,), True)": lambda lib: lib.full((2,), True),
    "full((2,), 1, dtype)": lambda lib: lib.full((2,), 1, dtype=lib.float64),
    "full_like(int, 2.5)": lambda lib: lib.full_like(lib.tensor([1, 2]), 2.7),
    "linspace(0, 1, 5)": lambda lib: lib.linspace(0, 1, 5),
    "linspace(-1, 1, 7)": lambda lib: lib.linspace(-1.0, 1.0, 7),
    "linspace(0, 10, 4, dtype=int64)": lambda lib: lib.linspace(0, 10, 4, dtype=lib.int64),
    "linspace(0, 1, 1)": lambda lib: lib.linspace(0, 1, 1),
    "logspace(0, 2, 3)": lambda lib: lib.logspace(0, 2, 3),
    "eye(3)": lambda lib: lib.eye(3),
    "eye(2, 3)": lambda lib: lib.eye(2, 3),
    "eye(2, dtype=long)": lambda lib: lib.eye(2, dtype=lib.long),
    "zeros(2, 3)": lambda lib: lib.zeros(2, 3),
    "zeros((2, 3))": lambda lib: lib.zeros((2, 3)),
    "zeros(2, dtype=int32)": lambda lib: lib.zeros(2, dtype=lib.int32),
    "ones(2, dtype=bool)": lambda lib: lib.ones(2, dtype=lib.bool),
    "ones(2, dtype=float64)": lambda lib: lib.ones(2, dtype=lib.float64),
    "zeros(size=)": lambda lib: lib.zeros(size=(2,)),
    "empty(2).shape/dtype": lambda lib: (lib.empty(2).shape, lib.empty(2).dtype),
    "zeros_like(int)": lambda lib: lib.zeros_like(lib.tensor([1, 2])),
    "ones_like(x, dtype)": lambda lib: lib.ones_like(lib.tensor([1, 2]), dtype=lib.float64),
    "randn dtype": lambda lib: (lib.randn(2, 3).dtype, lib.randn(2, 3).shape),
    "rand dtype": lambda lib: (lib.rand(2, dtype=lib.float64).dtype, lib.rand(2).shape),
    "randint dtype": lambda lib: (lib.randint(0, 5, (3,)).dtype, lib.randint(5, (2, 2)).shape),
    "randperm dtype": lambda lib: (lib.randperm(4).dtype, lib.randperm(4).shape),
    "randn_like dtype": lambda lib: lib.randn_like(lib.zeros(2, dtype=lib.float64)).dtype,
    "Tensor(list)": lambda lib: lib.Tensor([1, 2]),
    "FloatTensor(list)": lambda lib: lib.FloatTensor([1, 2]),
    "LongTensor(list)": lambda lib: lib.LongTensor([1, 2]),
    "x.new_zeros": lambda lib: lib.tensor([1, 2]).new_zeros(3),
    "x.new_tensor": lambda lib: lib.tensor([1.0], dtype=lib.float64).new_tensor([1, 2]),
}


@pytest.mark.parametrize("fn", CREATION.values(), ids=CREATION.keys())
def test_creation(fn):
    compare(fn)


@pytest.mark.parametrize("fn", [f for _, f in FUNCTIONS], ids=[n for n, _ in FUNCTIONS])
def test_promotion_functions(fn):
    compare(fn)


# ============================================================================================
# set_default_dtype(float64): what a float means changes everywhere
# ============================================================================================


@pytest.fixture
def default_float64():
    """Both libraries compute with float64 as the default, and go back afterwards."""
    for lib in (torch, autograd_lite):
        lib.set_default_dtype(lib.float64)
    try:
        yield
    finally:
        for lib in (torch, autograd_lite):
            lib.set_default_dtype(lib.float32)


DEFAULT_DEPENDENT = {
    "get_default_dtype": lambda lib: lib.get_default_dtype(),
    "tensor(1.0)": lambda lib: lib.tensor(1.0),
    "tensor([1, 2.5])": lambda lib: lib.tensor([1, 2.5]),
    "tensor(np float32 array)": lambda lib: lib.tensor(np.ones(2, np.float32)),
    "arange(1.0)": lambda lib: lib.arange(3.0),
    "arange(3)": lambda lib: lib.arange(3),
    "zeros(2)": lambda lib: lib.zeros(2),
    "full((2,), 1.5)": lambda lib: lib.full((2,), 1.5),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "eye(2)": lambda lib: lib.eye(2),
    "randn dtype": lambda lib: lib.randn(2).dtype,
    "Tensor(list)": lambda lib: lib.Tensor([1, 2]),
    "int tensor * 2.5": lambda lib: lib.tensor([1, 2]) * 2.5,
    "int / int": lambda lib: lib.tensor([1, 2]) / lib.tensor([2, 2]),
    "exp(int)": lambda lib: lib.tensor([1, 2]).exp(),
    "float32 tensor * 2.5": lambda lib: lib.ones(2, dtype=lib.float32) * 2.5,
    "float32 + 0-d default": lambda lib: lib.ones(2, dtype=lib.float32) + lib.tensor(1.5),
    "bool + 2.5": lambda lib: lib.tensor([True]) + 2.5,
}


@pytest.mark.parametrize("fn", DEFAULT_DEPENDENT.values(), ids=DEFAULT_DEPENDENT.keys())
def test_default_float64(fn, default_float64):
    compare(fn)


def test_default_is_restored():
    """Guards the fixture: a leaked float64 default would silently change every other test."""
    assert autograd_lite.get_default_dtype() is autograd_lite.float32
    assert torch.get_default_dtype() is torch.float32


def test_set_default_dtype_refuses_integers():
    compare_error(lambda lib: lib.set_default_dtype(lib.int64))


# ============================================================================================
# dtype objects, aliases and conversions
# ============================================================================================

ALIASES = ["float", "double", "half", "long", "int", "short", "bool", "float32", "uint8"]


@pytest.mark.parametrize("name", ALIASES)
def test_alias(name):
    expected = getattr(torch, name)
    actual = getattr(autograd_lite, name)
    assert repr(actual) == repr(expected) == str(expected)
    # Same identities as torch: torch.float is torch.float32, and so on.
    for other in ("float32", "float64", "float16", "int64", "int32", "int16"):
        assert (actual is getattr(autograd_lite, other)) == (expected is getattr(torch, other))


DTYPE_PROPERTIES = {
    "is_floating_point": lambda lib, d: d.is_floating_point,
    "is_signed": lambda lib, d: d.is_signed,
    "itemsize": lambda lib, d: d.itemsize,
    "x.is_floating_point()": lambda lib, d: lib.zeros(1, dtype=d).is_floating_point(),
    "x.element_size()": lambda lib, d: lib.zeros(1, dtype=d).element_size(),
    "x.type()": lambda lib, d: lib.zeros(1, dtype=d).type(),
    "torch.is_floating_point(x)": lambda lib, d: lib.is_floating_point(lib.zeros(1, dtype=d)),
}


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "int32", "int64", "float16", "float64"])
@pytest.mark.parametrize("prop", DTYPE_PROPERTIES.values(), ids=DTYPE_PROPERTIES.keys())
def test_dtype_properties(prop, name):
    compare(lambda lib: prop(lib, getattr(lib, name)))


CONVERSIONS = {
    "x.to(float64)": lambda lib, x: x.to(lib.float64),
    "x.to(int32)": lambda lib, x: x.to(lib.int32),
    "x.to(dtype=long)": lambda lib, x: x.to(dtype=lib.long),
    "x.to('cpu', float64)": lambda lib, x: x.to("cpu", lib.float64),
    "x.to(other)": lambda lib, x: x.to(lib.zeros(1, dtype=lib.float16)),
    "x.to(same) is x": lambda lib, x: x.to(x.dtype) is x,
    "x.to(same, copy=True) is x": lambda lib, x: x.to(x.dtype, copy=True) is x,
    "x.float()": lambda lib, x: x.float(),
    "x.double()": lambda lib, x: x.double(),
    "x.half()": lambda lib, x: x.half(),
    "x.long()": lambda lib, x: x.long(),
    "x.int()": lambda lib, x: x.int(),
    "x.short()": lambda lib, x: x.short(),
    "x.bool()": lambda lib, x: x.bool(),
    "x.type(float64)": lambda lib, x: x.type(lib.float64),
    "x.type('torch.LongTensor')": lambda lib, x: x.type("torch.LongTensor"),
    "x.type()": lambda lib, x: x.type(),
}
SOURCES = {
    "float32": np.array([-1.7, 0.0, 2.5, 300.0], np.float32),
    "float64": np.array([-1.7, 0.0, 2.5, 300.0]),
    "int64": np.array([-2, 0, 3, 300]),
    "bool": np.array([True, False, True, True]),
}


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
@pytest.mark.parametrize("convert", CONVERSIONS.values(), ids=CONVERSIONS.keys())
def test_conversion(convert, source):
    # Gradients flow back through float-to-float conversions and cast back (ToCopyBackward0).
    compare(convert, source, rtol=1e-3)


# ============================================================================================
# Operations whose result dtype is not their input's
# ============================================================================================

RESULT_DTYPES = {
    "sum of int32 is int64": lambda lib, i, f: i.int().sum(),
    "sum of bool is int64": lambda lib, i, f: (i > 0).sum(),
    "sum(dim) of int8": lambda lib, i, f: i.to(lib.int8).sum(0),
    "sum(dtype=float64)": lambda lib, i, f: i.sum(dtype=lib.float64),
    "cumsum of int32": lambda lib, i, f: i.int().cumsum(0),
    "cumsum of bool": lambda lib, i, f: (i > 0).cumsum(0),
    "mean(dtype=float64) of int": lambda lib, i, f: i.mean(dtype=lib.float64),
    "exp of int is float32": lambda lib, i, f: i.exp(),
    "sqrt of bool": lambda lib, i, f: (i > 0).sqrt(),
    "sigmoid of int": lambda lib, i, f: lib.sigmoid(i),
    "log of int32": lambda lib, i, f: i.int().abs().log(),
    "abs of int32 stays": lambda lib, i, f: i.int().abs(),
    "neg of uint8 wraps": lambda lib, i, f: -i.to(lib.uint8),
    "relu of int": lambda lib, i, f: i.relu(),
    "max of int": lambda lib, i, f: i.max(),
    "max(dim) of int32": lambda lib, i, f: i.int().max(0),
    "argmax is int64": lambda lib, i, f: i.int().argmax(),
    "int // int": lambda lib, i, f: i // 2,
    "int % int": lambda lib, i, f: i % 3,
    "int ** 2": lambda lib, i, f: i**2,
    "int ** 0.5": lambda lib, i, f: i.abs() ** 0.5,
    "2 ** int": lambda lib, i, f: 2 ** i.abs(),
    "2.5 ** int": lambda lib, i, f: 2.5**i,
    "int32 ** int64 tensor": lambda lib, i, f: i.int() ** i.abs(),
    "clamp(int, 1.5)": lambda lib, i, f: i.clamp(min=1.5),
    "where(cond, int, 2.5)": lambda lib, i, f: lib.where(i > 0, i, 2.5),
    "where(cond, int, float)": lambda lib, i, f: lib.where(i > 0, i, f),
    "where(cond, 1, 0)": lambda lib, i, f: lib.where(i > 0, 1, 0),
    "where(cond, 1.0, 0)": lambda lib, i, f: lib.where(i > 0, 1.0, 0),
    "cat(int, float)": lambda lib, i, f: lib.cat([i, f]),
    "cat(int32, int64)": lambda lib, i, f: lib.cat([i.int(), i]),
    "stack(bool, int)": lambda lib, i, f: lib.stack([i > 0, i]),
    "maximum(int, float)": lambda lib, i, f: lib.maximum(i, f),
    "outer(int, float)": lambda lib, i, f: lib.outer(i, f),
    "int * float32 0-d": lambda lib, i, f: i * f[0],
    "int + bool": lambda lib, i, f: i + (i > 0),
    "float32 @ float32": lambda lib, i, f: f @ f,
    "int @ int": lambda lib, i, f: i @ i,
    "mm int": lambda lib, i, f: i.reshape(2, 2).mm(i.reshape(2, 2)),
    "int.float() / 3": lambda lib, i, f: i.float() / 3,
    "bool / bool": lambda lib, i, f: (i > 0) / (i > 1),
    "softmax(dtype=float64)": lambda lib, i, f: f.softmax(0, dtype=lib.float64),
}


@pytest.mark.parametrize("fn", RESULT_DTYPES.values(), ids=RESULT_DTYPES.keys())
def test_result_dtype(fn):
    compare(fn, np.array([-2, 3, 1, 4]), randn(4, dtype=np.float32), rtol=1e-4, atol=1e-5)


# In-place ops keep the tensor's dtype: a higher category cannot be written into it.
INPLACE = {
    "float32 += float64": lambda lib, x, y, i: x.add_(y) * 1,
    "float32 *= 2.5": lambda lib, x, y, i: x.mul_(2.5) * 1,
    "int += 2": lambda lib, x, y, i: i.add_(2),
    "int *= bool": lambda lib, x, y, i: i.mul_(i > 2),
    "float32[:] = int": lambda lib, x, y, i: x.__setitem__(slice(None), i) or x,
}


@pytest.mark.parametrize("fn", INPLACE.values(), ids=INPLACE.keys())
def test_inplace_dtype(fn):
    compare(
        lambda lib, x, y, i: fn(lib, x.clone(), y, i.clone()),
        randn(4, dtype=np.float32),
        randn(4),
        integers(4),
        rtol=1e-4,
    )


# ============================================================================================
# dtype errors: torch's exception class and first line
# ============================================================================================

DTYPE_ERRORS = {
    "int += 2.5": (lambda lib, i: i.clone().add_(2.5), integers(3)),
    "int /= 2": (lambda lib, i: i.clone().div_(2), integers(3)),
    "bool - bool": (lambda lib, i: (i > 0) - (i > 1), integers(3)),
    "-bool": (lambda lib, i: -(i > 0), integers(3)),
    "mm int x float": (lambda lib, i, x: lib.mm(i, x), integers(2, 3), randn(3, 2)),
    "mm f32 x f64": (lambda lib, x, y: x.mm(y), randn(2, 3, dtype=np.float32), randn(3, 2)),
    "int @ float": (lambda lib, i, x: i @ x, integers(3), randn(3)),
    "mean of int": (lambda lib, i: i.mean(), integers(3)),
    "mean(dim) of int": (lambda lib, i: lib.mean(i, 0), integers(3, 2)),
    "mean of bool": (lambda lib, i: (i > 0).mean(), integers(3)),
    "norm of int": (lambda lib, i: i.norm(), integers(3)),
    "softmax of int": (lambda lib, i: i.softmax(0), integers(3)),
    "softmax(dim=0) of int32": (lambda lib, i: i.int().softmax(0), integers(3, 2)),
    "log_softmax of bool": (lambda lib, i: (i > 0).log_softmax(-1), integers(3, 2)),
    "int ** -1": (lambda lib, i: i**-1, integers(3, low=1)),
    "int.pow(-2)": (lambda lib, i: i.pow(-2), integers(3, low=1)),
    "float & float": (lambda lib, x: x & x, randn(3)),
    "float | bool": (lambda lib, x, i: x | (i > 0), randn(3), integers(3)),
    "~float": (lambda lib, x: ~x, randn(3)),
    "where(float cond)": (lambda lib, x: lib.where(x, x, x), randn(3)),
    "index with float": (lambda lib, x: x[x], randn(3)),
    "requires_grad_ on int": (lambda lib, i: i.requires_grad_(), integers(3)),
    "tensor(ints, requires_grad)": (lambda lib: lib.tensor([1, 2], requires_grad=True),),
    "zeros(long, requires_grad)": (lambda lib: lib.zeros(2, dtype=lib.long, requires_grad=True),),
    "arange(requires_grad)": (lambda lib: lib.arange(3, requires_grad=True),),
    "tensor(strings)": (lambda lib: lib.tensor(["a"]),),
    "tensor(object)": (lambda lib: lib.tensor([object()]),),
    "from_numpy(longdouble)": (lambda lib: lib.from_numpy(np.ones(2, np.longdouble)),),
    "tensor(longdouble array)": (lambda lib: lib.tensor(np.ones(2, np.longdouble)),),
    "tensor(str)": (lambda lib: lib.tensor("a"),),
    "tensor([None])": (lambda lib: lib.tensor([1.0, None]),),
    "fill_(1-d tensor)": (lambda lib, x: x.clone().fill_(x), randn(3)),
    "backward of int": (lambda lib, x: x.long().sum().backward(), randn(3)),
    "assigned grad dtype": (lambda lib, x: setattr(x, "grad", lib.zeros(3)), randn(3)),
}


@pytest.mark.parametrize(
    "fn, inputs", [(f, rest) for f, *rest in DTYPE_ERRORS.values()], ids=DTYPE_ERRORS.keys()
)
def test_dtype_error(fn, inputs):
    compare_error(fn, *inputs)


# ---------------------------------------------------------------------------------------------
# Python numbers an integer dtype cannot hold: torch refuses them at creation (c10's overflows)
# ---------------------------------------------------------------------------------------------

INTEGER_DTYPES = ("uint8", "int8", "int16", "int32", "int64")


def _created(lib, data, dtype):
    """What ``lib.tensor(data, dtype=...)`` gives: its values and dtype, or its error."""
    try:
        t = lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype))
    except Exception as error:  # the result under test
        return type(error).__name__, str(error).splitlines()[0]
    return str(t.dtype), t.tolist()


@pytest.mark.parametrize(
    "data, dtype",
    [
        (300, "int8"),
        ([1, 300], "int8"),
        (-129, "int8"),
        (256, "uint8"),
        (-256, "uint8"),
        (-1.0, "uint8"),
        (127.9, "int8"),
        (float("nan"), "int32"),
        ([1.0, float("inf")], "int64"),
        (9.3e18, "int64"),
        (2**31, "int32"),
        (40000, "int16"),
        (2**63, None),
        (-(2**63) - 1, None),
        (2**64, "int64"),
    ],
)
def test_a_number_an_integer_dtype_cannot_hold_is_refused(data, dtype):
    compare_error(lambda lib: lib.tensor(data, dtype=getattr(lib, dtype) if dtype else None))


@pytest.mark.parametrize(
    "data, dtype",
    [
        (-1, "uint8"),  # negative ints wrap into unsigned dtypes, down to minus the maximum
        (-255, "uint8"),
        (3.7, "int8"),  # truncated
        ([-128, 127], "int8"),
        (300, "bool"),
        (2**70, "float64"),  # beyond int64, read as a float
        ([2**70, 1], "float32"),
    ],
)
def test_numbers_an_integer_dtype_can_hold_are_stored_as_torch_stores_them(data, dtype):
    assert _created(autograd_lite, data, dtype) == _created(torch, data, dtype)


def test_arrays_are_cast_not_checked_as_in_torch():
    assert _created(autograd_lite, np.array([300]), "int8") == _created(
        torch, np.array([300]), "int8"
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-(2**64), 2**64),
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.booleans(),
        ),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from((None, "bool", "float32", "float64", *INTEGER_DTYPES)),
)
def test_any_python_numbers_are_created_or_refused_as_in_torch(numbers, dtype):
    ours, theirs = _created(autograd_lite, numbers, dtype), _created(torch, numbers, dtype)
    if theirs[0] in ("RuntimeError", "ValueError", "TypeError", "OverflowError"):
        assert ours == theirs
        return
    assert ours[0] == theirs[0]  # the dtype
    np.testing.assert_array_equal(np.array(ours[1]), np.array(theirs[1]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor(1.0, 0.8, 1.8),  # a tutorial's slip: tensor(1.0, 0.8) for a list
        lambda lib: lib.tensor([1.0], lib.float64),  # dtype is keyword-only
        lambda lib: lib.as_tensor([1.0], lib.float64),
    ],
)
def test_tensor_takes_one_positional_argument(call):
    compare_error(call)


def _filled_with(lib, value, dtype, shape=(2,)):
    try:
        t = lib.full(shape, value, dtype=None if dtype is None else getattr(lib, dtype))
    except Exception as error:  # the result under test
        return type(error).__name__, str(error).splitlines()[0]
    return str(t.dtype), repr(t)


@pytest.mark.parametrize("shape", [(), (1,), (2, 3), (0,)])
@pytest.mark.parametrize("dtype", (None, "bool", "float16", "float32", "float64", *INTEGER_DTYPES))
@pytest.mark.parametrize(
    "value",
    [300, 2**40, -1, -256, 3.5, -3.5, 1e10, 1e300, 65520.0, float("nan"), float("-inf")]
    + [2**63, -(2**63), True],
)
def test_full_takes_or_refuses_a_fill_value_as_torch_does(value, dtype, shape):
    """Dtypes refuse what they cannot hold, named by C type (int8_t, int, c10::Half, float);
    inf and nan are floats' own; a one-element float16 takes anything, too large as inf."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = _filled_with(autograd_lite, value, dtype, shape)
    assert ours == _filled_with(torch, value, dtype, shape)


@pytest.mark.parametrize(
    "method", ["byte", "char", "short", "int", "long", "half", "float", "double", "bool"]
)
def test_every_casting_method_matches_torch(method):
    """Values (wrapping as torch wraps: -2.5 as a byte is 254), dtype, and the graph: only
    floating results keep it (ToCopyBackward0), with torch's gradients."""
    data = np.array([1.7, -2.5, 100.25, 0.0])
    floating = method in ("half", "float", "double")
    compare(lambda lib, x: getattr(x, method)(), data, grad=floating, second_order=floating)


def test_type_as_takes_the_other_tensor_s_dtype():
    compare(lambda lib, x: x.type_as(lib.tensor(1.0, dtype=lib.float64)) * 2, randn(3))
    compare(lambda lib, x: x.type_as(lib.tensor([1])), randn(3), grad=False, second_order=False)
    compare_error(lambda lib, x: x.type_as(3), randn(2))


# A Python int an integer tensor's dtype cannot hold: torch casts it to that dtype first,
# wrapping around as C does (int8: 300 is 44), except ** which refuses it.
WRAPPING_OPS = {
    "+": lambda t, n: t + n,
    "radd": lambda t, n: n + t,
    "-": lambda t, n: t - n,
    "rsub": lambda t, n: n - t,
    "*": lambda t, n: t * n,
    "%": lambda t, n: t % n,
    "//": lambda t, n: t // n,
    "rpow": lambda t, n: n**t,
    "**": lambda t, n: t**n,
    "==": lambda t, n: t == n,
    "<": lambda t, n: t < n,
    ">=": lambda t, n: t >= n,
    "&": lambda t, n: t & n,
    "|": lambda t, n: t | n,
    "add_": lambda t, n: t.clone().add_(n),
    "mul_": lambda t, n: t.clone().mul_(n),
}


@pytest.mark.parametrize("op", WRAPPING_OPS)
@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("number", [300, -1, -300, 1000, 2**40, 2**63, 2**64, -(2**63) - 1, 5])
def test_python_ints_out_of_range_wrap_in_integer_arithmetic_as_in_torch(op, dtype, number):
    def result(lib):
        t = lib.tensor([7, 100], dtype=getattr(lib, dtype))
        try:
            return repr(WRAPPING_OPS[op](t, number))
        except Exception as error:  # the result under test
            return type(error).__name__, str(error).splitlines()[0]

    assert result(autograd_lite) == result(torch)


# clamp and where convert a Python int to the result's integer dtype with a check, not with
# arithmetic's wrap: out of range raises, but a negative int still wraps into unsigned dtypes
CHECKED_OPS = {
    "clamp min": lambda lib, t, n: lib.clamp(t, n),
    "clamp max": lambda lib, t, n: lib.clamp(t, max=n),
    "clamp both": lambda lib, t, n: lib.clamp(t, n, n),
    "clamp_": lambda lib, t, n: t.clone().clamp_(n),
    "where, number second": lambda lib, t, n: lib.where(t > 50, t, n),
    "where, number first": lambda lib, t, n: lib.where(t > 50, n, t),
}


@pytest.mark.parametrize("op", CHECKED_OPS)
@pytest.mark.parametrize("dtype", INTEGER_DTYPES)
@pytest.mark.parametrize("number", [300, -1, -255, -256, -300, 2**40, 2**63, 2**64, 5, 2.5])
def test_python_numbers_out_of_range_in_clamp_and_where_as_in_torch(op, dtype, number):
    def result(lib):
        t = lib.tensor([7, 100], dtype=getattr(lib, dtype))
        try:
            return repr(CHECKED_OPS[op](lib, t, number))
        except Exception as error:  # the result under test
            return type(error).__name__, str(error).splitlines()[0]

    assert result(autograd_lite) == result(torch)


CLAMP_DTYPES = ["bool", "uint8", "int32", "int64", "float32", "float64"]


@pytest.mark.parametrize("bounds", ["tensors", "0-d tensors", "mixed", "numbers", "min only"])
@pytest.mark.parametrize("dtypes", list(itertools.product(CLAMP_DTYPES, repeat=3)), ids=str)
def test_clamp_promotes_its_operands_as_torch(dtypes, bounds):
    """torch promotes two at a time where one bound has dims, all at once otherwise, and
    refuses a bool result for two bounds: every combination, value and dtype or error."""
    numbers = {"bool": True, "uint8": 1, "int32": 2, "int64": 3, "float32": 0.5, "float64": 0.25}

    def bound(lib, dtype, shape):
        if shape is None:
            return numbers[dtype]
        return lib.tensor(np.ones(shape, dtype=dtype), dtype=getattr(lib, dtype))

    shapes = {
        "tensors": ((3,), (3,)),
        "0-d tensors": ((), ()),
        "mixed": ((), (3,)),
        "numbers": (None, None),
        "min only": ((3,), "none"),
    }[bounds]

    def result(lib):
        x = lib.tensor(np.array([0, 1, 2]).astype(dtypes[0]), dtype=getattr(lib, dtypes[0]))
        lo = bound(lib, dtypes[1], shapes[0])
        hi = None if shapes[1] == "none" else bound(lib, dtypes[2], shapes[1])
        try:
            out = lib.clamp(x, lo, hi)
            return str(out.dtype), out.tolist()
        except Exception as error:  # the result under test
            return type(error).__name__, str(error).splitlines()[0]

    assert result(autograd_lite) == result(torch)

"""Every Tensor casting method (issue 14): .byte() .char() .short() .int() .long() .half()
.float() .double() .bool(), .to(dtype), .type(...) in all its forms, .type_as(); and the casts
to dtypes autograd_lite does not have (bfloat16, complex) refused with a hint.

Compared with torch: values (C's truncation toward zero, wrapping of unsigned types), dtypes,
whether the tensor itself comes back (a cast to its own dtype), ``ToCopyBackward0`` and
gradients to the second order.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare, compare_error, const, integers, randn, same
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite

METHODS = ["byte", "char", "short", "int", "long", "half", "float", "double", "bool"]
DTYPES = [np.float16, np.float32, np.float64, np.int64, np.int32, np.int16, np.int8, np.uint8]

# Values every dtype holds after truncation (so no cast depends on out-of-range behaviour, which
# C leaves undefined): small floats, with fractions and signs.
SMALL = (randn(3, 4) * 20).round(2)


def values(dtype):
    data = SMALL if np.dtype(dtype).kind == "f" else integers(3, 4, low=-100, high=100)
    if dtype == np.uint8:
        data = np.abs(data)
    return data.astype(dtype)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_cast_methods(method, dtype):
    compare(lambda lib, x: getattr(x, method)(), values(dtype))


@pytest.mark.parametrize("method", METHODS)
def test_a_cast_to_its_own_dtype_is_the_tensor_itself(method):
    def fn(lib, x):
        y = getattr(x, method)()
        return getattr(y, method)() is y, y.type(y.dtype) is y, y.to(y.dtype) is y

    compare(fn, SMALL)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.to(lib.float32) * 2,
        lambda lib, x: x.to(dtype=lib.float16),
        lambda lib, x: x.to(lib.int32),
        lambda lib, x: x.to("cpu", lib.float32),
        lambda lib, x: x.to(lib.float32, copy=True),
        lambda lib, x: x.to(x, copy=True),
        lambda lib, x: x.to(float),
        lambda lib, x: x.to(int),
        lambda lib, x: x.to(bool),
        lambda lib, x: x.to("cpu", copy=True),
        lambda lib, x: x.double().to(x),
        lambda lib, x: x.type(lib.float32),
        lambda lib, x: x.type(lib.int64),
        lambda lib, x: x.type("torch.FloatTensor"),
        lambda lib, x: x.type("torch.HalfTensor").float(),
        lambda lib, x: x.type("torch.ByteTensor"),
        lambda lib, x: x.type(dtype="torch.IntTensor"),
        lambda lib, x: x.type(lib.FloatTensor),
        lambda lib, x: x.type(lib.LongTensor),
        lambda lib, x: x.type(lib.Tensor),
        lambda lib, x: x.type(lib.float32, True),
        lambda lib, x: x.type(),
        lambda lib, x: x.float().type(),
        lambda lib, x: x.type(non_blocking=True),
        lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.int16)),
        lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.float32)) * x.float(),
        lambda lib, x: lib.tensor([300.7, -1.5, 255.0]).byte(),
        lambda lib, x: lib.tensor([-3.9, 2.9]).long(),
        lambda lib, x: lib.tensor([0.0, -0.0, 0.5]).bool(),
        lambda lib, x: lib.tensor([70000.0]).half(),
    ],
)
def test_to_type_and_type_as(call):
    compare(call, SMALL)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: x.type("torch.float32"),
        lambda lib, x: x.type("float"),
        lambda lib, x: x.type(float),
        lambda lib, x: x.type(int),
        lambda lib, x: x.type(3),
        lambda lib, x: x.type_as(3),
        lambda lib, x: x.int().requires_grad_(),
    ],
)
def test_cast_errors_as_torch(call):
    compare_error(call, SMALL)


@pytest.mark.parametrize(
    "call",
    [
        lambda t: t.bfloat16(),
        lambda t: t.cfloat(),
        lambda t: t.cdouble(),
        lambda t: t.chalf(),
        lambda t: t.type("torch.BFloat16Tensor"),
        lambda t: t.type("torch.ComplexFloatTensor"),
    ],
)
def test_dtypes_outside_the_library_are_refused_with_a_hint(call):
    x = autograd_lite.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"autograd_lite has no \w+ dtype\nhint: "):
        call(x)


@pytest.mark.parametrize("name", ["bfloat16", "complex64", "cfloat", "cdouble", "complex128"])
def test_their_dtype_names_say_so_too(name):
    with pytest.raises(AttributeError, match="hint: it has float16"):
        getattr(autograd_lite, name)


def test_the_cast_node_is_tocopy_and_casts_the_gradient_back():
    def fn(lib):
        x = lib.tensor([1.5, -2.0], dtype=lib.float64, requires_grad=True)
        y = x.float()
        (y * y).sum().backward()
        return y.grad_fn.name(), x.grad, x.grad.dtype

    same(fn)


@settings(max_examples=60, deadline=None)
@given(
    source=st.sampled_from(DTYPES),
    target=st.sampled_from(METHODS),
    shape=st.lists(st.integers(0, 3), max_size=3),
)
def test_any_dtype_to_any_dtype(source, target, shape):
    data = np.resize(values(source), shape) if shape else np.asarray(values(source)[0, 0])
    compare(lambda lib, x: getattr(x, target)(), data)
    dtype_name = {"byte": "uint8", "char": "int8", "short": "int16"}.get(target, target)
    compare(lambda lib, x: x.to(getattr(lib, dtype_name)), const(data))

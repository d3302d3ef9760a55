"""The ``out=`` keyword, against torch: the result is written into ``out`` and ``out`` returned,
an ``out`` of another shape is resized (with torch's warning unless it was empty), the result
must be castable to ``out``'s dtype, and no argument may require grad while grad mode is on.

Every function's call is written once against the torch API; torch computes the expected
answer, ``compare`` checks values, dtypes, shapes and warnings.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import compare, compare_error, const, integers, positive, randn
from hypothesis import given, settings
from hypothesis import strategies as st

_RNG = np.random.default_rng(1414)


def unit(*shape):
    return _RNG.uniform(-0.9, 0.9, shape)


# name -> (call(lib, *inputs, out=...), inputs); the inputs are constants (no grad)
X, Y = const(unit(3, 4)), const(unit(3, 4))
P = const(positive(3, 4))
I, J = const(integers(3, 4, low=1, high=9)), const(integers(3, 4, low=1, high=5))
M = const(randn(4, 2))

CALLS = {
    # pointwise, one input
    **{
        name: (lambda lib, x, out, name=name: getattr(lib, name)(x, out=out), (X,))
        for name in """abs absolute acos acosh asin asinh atan atanh arccos arcsin arctan cos
        cosh sin sinh tan tanh exp exp2 expm1 erf erfc erfinv i0 lgamma digamma sinc sigmoid
        sign sgn neg negative reciprocal round floor ceil trunc fix frac deg2rad rad2deg square
        nan_to_num signbit isposinf isneginf logical_not""".split()
    },
    **{
        name: (lambda lib, x, out, name=name: getattr(lib, name)(x, out=out), (P,))
        for name in "log log2 log10 log1p sqrt rsqrt logit".split()
    },
    "polygamma": (lambda lib, x, out: lib.polygamma(2, x, out=out), (P,)),
    "mvlgamma": (lambda lib, x, out: lib.mvlgamma(x, 2, out=out), (P,)),
    "clamp": (lambda lib, x, out: lib.clamp(x, -0.5, 0.5, out=out), (X,)),
    "clip": (lambda lib, x, out: lib.clip(x, min=0.1, out=out), (X,)),
    "clamp_min": (lambda lib, x, out: lib.clamp_min(x, 0.1, out=out), (X,)),
    "clamp_max": (lambda lib, x, out: lib.clamp_max(x, 0.1, out=out), (X,)),
    # pointwise, two or three inputs
    **{
        name: (lambda lib, x, y, out, name=name: getattr(lib, name)(x, y, out=out), (X, Y))
        for name in """add sub subtract mul multiply div divide true_divide maximum minimum
        atan2 arctan2 hypot copysign fmax fmin logaddexp logaddexp2 nextafter xlogy ldexp
        remainder fmod floor_divide eq ne lt le gt ge logical_and logical_or logical_xor
        """.split()
    },
    "pow": (lambda lib, x, y, out: lib.pow(x, y, out=out), (P, Y)),
    "float_power": (lambda lib, x, y, out: lib.float_power(x, y, out=out), (P, Y)),
    "add_alpha": (lambda lib, x, y, out: lib.add(x, y, alpha=2, out=out), (X, Y)),
    "div_floor": (lambda lib, x, y, out: lib.div(x, y, rounding_mode="floor", out=out), (X, Y)),
    "lerp": (lambda lib, x, y, out: lib.lerp(x, y, 0.3, out=out), (X, Y)),
    "addcmul": (lambda lib, x, y, out: lib.addcmul(x, y, y, value=2, out=out), (X, Y)),
    "addcdiv": (lambda lib, x, y, out: lib.addcdiv(x, y, y, value=2, out=out), (X, Y)),
    "where": (lambda lib, x, y, out: lib.where(x > 0, x, y, out=out), (X, Y)),
    **{
        name: (lambda lib, i, j, out, name=name: getattr(lib, name)(i, j, out=out), (I, J))
        for name in """gcd lcm bitwise_and bitwise_or bitwise_xor bitwise_left_shift
        bitwise_right_shift""".split()
    },
    "bitwise_not": (lambda lib, i, out: lib.bitwise_not(i, out=out), (I,)),
    # reductions and scans
    "sum": (lambda lib, x, out: lib.sum(x, 1, out=out), (X,)),
    "sum_keepdim": (lambda lib, x, out: lib.sum(x, 0, keepdim=True, out=out), (X,)),
    "mean": (lambda lib, x, out: lib.mean(x, 1, out=out), (X,)),
    "prod": (lambda lib, x, out: lib.prod(x, 1, out=out), (X,)),
    "std": (lambda lib, x, out: lib.std(x, 1, out=out), (X,)),
    "var": (lambda lib, x, out: lib.var(x, 0, out=out), (X,)),
    "amax": (lambda lib, x, out: lib.amax(x, 1, out=out), (X,)),
    "amin": (lambda lib, x, out: lib.amin(x, 0, out=out), (X,)),
    "argmax": (lambda lib, x, out: lib.argmax(x, 1, out=out), (X,)),
    "argmin": (lambda lib, x, out: lib.argmin(x, 0, out=out), (X,)),
    "all": (lambda lib, x, out: lib.all(x > 0, 1, out=out), (X,)),
    "any": (lambda lib, x, out: lib.any(x > 0, 1, out=out), (X,)),
    "cumsum": (lambda lib, x, out: lib.cumsum(x, 1, out=out), (X,)),
    "cumprod": (lambda lib, x, out: lib.cumprod(x, 0, out=out), (X,)),
    "softmax": (lambda lib, x, out: lib.softmax(x, 1, out=out), (X,)),
    "log_softmax": (lambda lib, x, out: lib.log_softmax(x, 1, out=out), (X,)),
    "norm": (lambda lib, x, out: lib.norm(x, dim=1, out=out), (X,)),
    # matrix products, joining, diagonals
    "mm": (lambda lib, x, m, out: lib.mm(x, m, out=out), (X, M)),
    "matmul": (lambda lib, x, m, out: lib.matmul(x, m, out=out), (X, M)),
    "mv": (lambda lib, x, y, out: lib.mv(x, y[0], out=out), (X, Y)),
    "dot": (lambda lib, x, y, out: lib.dot(x[0], y[0], out=out), (X, Y)),
    "inner": (lambda lib, x, y, out: lib.inner(x[0], y[0], out=out), (X, Y)),
    "outer": (lambda lib, x, y, out: lib.outer(x[0], y[1], out=out), (X, Y)),
    "bmm": (lambda lib, x, y, out: lib.bmm(x[None], y.T[None], out=out), (X, Y)),
    "cat": (lambda lib, x, y, out: lib.cat([x, y], 1, out=out), (X, Y)),
    "concat": (lambda lib, x, y, out: lib.concat([x, y], out=out), (X, Y)),
    "stack": (lambda lib, x, y, out: lib.stack([x, y], 1, out=out), (X, Y)),
    "diag": (lambda lib, x, out: lib.diag(x, 1, out=out), (X,)),
    "inverse": (lambda lib, x, out: lib.inverse(x[:, :3] + 3 * lib.eye(3), out=out), (X,)),
}


def _result_of(lib, name):
    call, inputs = CALLS[name]
    tensors = [lib.tensor(x.array) for x in inputs]
    return call(lib, *tensors, out=None)


def _out_like(lib, result, shape=None):
    return lib.empty(result.shape if shape is None else shape, dtype=result.dtype)


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("size", ["same", "empty", "other"])
def test_out_is_written_and_returned(name, size):
    call, inputs = CALLS[name]

    def fn(lib, *tensors):
        expected = call(lib, *tensors, out=None)
        shape = {"same": None, "empty": (0,), "other": (2, 2)}[size]
        out = _out_like(lib, expected, shape)
        version = out._version
        returned = call(lib, *tensors, out=out)
        assert returned is out and out._version > version
        return out

    compare(fn, *inputs, grad=False, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("size", ["same", "other"])
def test_out_tuple_of_max_and_min(name, size):
    def fn(lib, x):
        shape = (3,) if size == "same" else (5, 1)
        values, indices = lib.empty(shape), lib.empty(shape, dtype=lib.long)
        returned = getattr(lib, name)(x, 1, out=(values, indices))
        assert returned[0] is values and returned[1] is indices
        return returned

    compare(fn, const(unit(3, 4).astype(np.float32)), grad=False)


@pytest.mark.parametrize(
    "name", ["sin", "add", "sum", "mm", "cat", "atan2", "where", "lerp", "gcd", "max"]
)
def test_out_refuses_arguments_that_require_grad(name):
    if name == "max":
        call, inputs = (lambda lib, x, out: lib.max(x, 0, out=out)), (X,)
    else:
        call, inputs = CALLS[name]
    grads = [x.array if x.array.dtype.kind == "f" else x for x in inputs]

    def fn(lib, *tensors):
        plain = [t.detach() for t in tensors]
        result = call(lib, *plain, out=None)
        out = (
            (lib.empty(3), lib.empty(3, dtype=lib.long))
            if name == "max"
            else lib.empty(0, dtype=result.dtype)
        )
        return call(lib, *tensors, out=out)

    if any(isinstance(g, np.ndarray) for g in grads):
        compare_error(fn, *grads)

    def out_requires_grad(lib, *tensors):
        result = call(lib, *tensors, out=None)
        out = lib.zeros(result.shape, dtype=lib.float64, requires_grad=True)
        return call(lib, *tensors, out=out)

    if name not in ("max", "mm"):
        compare_error(out_requires_grad, *inputs)


@pytest.mark.parametrize("name", ["sin", "exp", "add", "mean", "atan2", "erf", "cumsum", "where"])
def test_out_inside_no_grad_takes_arguments_that_require_grad(name):
    call, inputs = CALLS[name]

    def fn(lib, *tensors):
        with lib.no_grad():
            out = lib.empty(0, dtype=lib.float64)
            return call(lib, *tensors, out=out)

    compare(fn, *[x.array for x in inputs], grad=False)


def compare_or_error(fn, *inputs):
    """Where torch raises, the same error; where it computes, the same result."""
    import torch
    from helpers import _to_tensor

    try:
        with warnings.catch_warnings():  # (compare checks the warnings, on its own run)
            warnings.simplefilter("ignore")
            fn(torch, *[_to_tensor(torch, x, grad=False) for x in inputs])
    except Exception:  # torch's error is the expected result
        with warnings.catch_warnings():  # (torch may resize one out before refusing the next)
            warnings.simplefilter("ignore")
            compare_error(fn, *inputs)
    else:
        compare(fn, *inputs, grad=False, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", list(CALLS))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "bool"])
def test_out_dtype_rules(name, dtype):
    """Each function's rule for out's dtype: cast, exact match, long or bool only, ..."""
    call, inputs = CALLS[name]

    def fn(lib, *tensors):
        return call(lib, *tensors, out=lib.empty(0, dtype=getattr(lib, dtype)))

    compare_or_error(fn, *inputs)


@pytest.mark.parametrize("name", ["max", "min"])
def test_out_tuple_dtypes(name):
    for values, indices in [("float64", "int64"), ("float64", "int32"), ("int64", "int64")]:
        compare_or_error(
            lambda lib, x, values=values, indices=indices: getattr(lib, name)(
                x,
                0,
                out=(
                    lib.empty(0, dtype=getattr(lib, values)),
                    lib.empty(0, dtype=getattr(lib, indices)),
                ),
            ),
            X,
        )


def test_out_must_be_a_tensor():
    compare_error(lambda lib, x: lib.sin(x, out=3), X)
    compare_error(lambda lib, x: lib.add(x, x, out=[1.0]), X)


def test_out_can_be_an_input():
    def fn(lib, x):
        x = x.clone()
        return lib.add(x, 1, out=x), x

    compare(fn, X, grad=False)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(["sin", "exp", "add", "mul", "atan2", "hypot", "eq", "erf", "xlogy"]),
    shape=st.lists(st.integers(0, 3), max_size=3).map(tuple),
    out_shape=st.lists(st.integers(0, 3), max_size=2).map(tuple),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_out_any_shape(name, shape, out_shape, dtype):
    call, inputs = CALLS[name]
    arrays = [const(_RNG.uniform(0.2, 0.9, shape).astype(dtype)) for _ in inputs]

    def fn(lib, *tensors):
        expected = call(lib, *tensors, out=None)
        out = lib.empty(out_shape, dtype=expected.dtype)
        return call(lib, *tensors, out=out)

    compare(fn, *arrays, grad=False, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Functions that make a tensor: the values come in out's dtype
# --------------------------------------------------------------------------------------------

CREATION = {
    "zeros": lambda lib, out: lib.zeros(2, 3, out=out),
    "ones": lambda lib, out: lib.ones((2, 2), out=out),
    "full": lambda lib, out: lib.full((3,), 3.5, out=out),
    "arange": lambda lib, out: lib.arange(1, 7, 2, out=out),
    "linspace": lambda lib, out: lib.linspace(0, 4, 5, out=out),
    "logspace": lambda lib, out: lib.logspace(0, 2, 3, out=out),
    "eye": lambda lib, out: lib.eye(3, out=out),
}
RANDOM_CREATION = {
    "rand": lambda lib, out: lib.rand(2, 3, out=out),
    "randn": lambda lib, out: lib.randn(4, out=out),
    "randint": lambda lib, out: lib.randint(0, 5, (3,), out=out),
    "randperm": lambda lib, out: lib.randperm(4, out=out),
    "empty": lambda lib, out: lib.empty(2, 2, out=out),
}


@pytest.mark.parametrize("name", list(CREATION))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
@pytest.mark.parametrize("size", [0, 6])
def test_creation_with_out(name, dtype, size):
    def fn(lib):
        out = lib.zeros(size, dtype=getattr(lib, dtype))
        returned = CREATION[name](lib, out)
        assert returned is out
        return out

    compare(fn)


@pytest.mark.parametrize("name", list(RANDOM_CREATION))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_random_creation_with_out(name, dtype):
    """The numbers differ from torch's (another generator); the dtype, shape and errors do not."""

    def fn(lib):
        out = lib.empty(0, dtype=getattr(lib, dtype))
        returned = RANDOM_CREATION[name](lib, out)
        return returned is out, out.dtype, out.shape

    compare_or_error(fn)


def test_creation_out_errors():
    compare_error(lambda lib: lib.zeros(2, dtype=lib.float64, out=lib.empty(0, dtype=lib.long)))
    compare_error(lambda lib: lib.zeros(2, out=lib.zeros(2, requires_grad=True)))
    compare_error(lambda lib: lib.ones(2, out=[1]))


# --------------------------------------------------------------------------------------------
# The other families' functions that take out= (reductions, sorting, gathering, ...)
# --------------------------------------------------------------------------------------------

IDX = const(np.array([[0, 1, 2, 0], [1, 1, 0, 2], [2, 0, 1, 1]]))
OTHERS = {
    "angle": (lambda lib, x, out: lib.angle(x, out=out), (X,)),
    "conj_physical": (lambda lib, x, out: lib.conj_physical(x, out=out), (X,)),
    "logsumexp": (lambda lib, x, out: lib.logsumexp(x, 1, out=out), (X,)),
    "nansum": (lambda lib, x, out: lib.nansum(x, 1, out=out), (X,)),
    "nanmean": (lambda lib, x, out: lib.nanmean(x, 0, out=out), (X,)),
    "diff": (lambda lib, x, out: lib.diff(x, dim=1, out=out), (X,)),
    "tril": (lambda lib, x, out: lib.tril(x, out=out), (X,)),
    "triu": (lambda lib, x, out: lib.triu(x, 1, out=out), (X,)),
    "msort": (lambda lib, x, out: lib.msort(x, out=out), (X,)),
    "gather": (lambda lib, x, i, out: lib.gather(x, 0, i, out=out), (X, IDX)),
    "take_along_dim": (lambda lib, x, i, out: lib.take_along_dim(x, i, 0, out=out), (X, IDX)),
    "index_select": (lambda lib, x, i, out: lib.index_select(x, 1, i[0], out=out), (X, IDX)),
}
PAIRS = {
    "sort": lambda lib, x, out: lib.sort(x, 1, out=out),
    "topk": lambda lib, x, out: lib.topk(x, 2, out=out),
    "cummax": lambda lib, x, out: lib.cummax(x, 1, out=out),
    "cummin": lambda lib, x, out: lib.cummin(x, 0, out=out),
    "aminmax": lambda lib, x, out: lib.aminmax(x, dim=1, out=out),
}


def _present(name: str) -> bool:
    import autograd_lite

    return hasattr(autograd_lite, name)


@pytest.mark.parametrize("name", [n for n in OTHERS if _present(n)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "bool"])
def test_out_of_other_families(name, dtype):
    call, inputs = OTHERS[name]
    compare_or_error(
        lambda lib, *t: call(lib, *t, out=lib.empty(0, dtype=getattr(lib, dtype))), *inputs
    )


@pytest.mark.parametrize("name", [n for n in PAIRS if _present(n)])
@pytest.mark.parametrize(
    "dtypes", [("float64", "int64"), ("float32", "int64"), ("float64", "float64")]
)
def test_out_pairs(name, dtypes):
    def fn(lib, x):
        out = tuple(lib.zeros(2, dtype=getattr(lib, d)) for d in dtypes)
        returned = PAIRS[name](lib, x, out)
        assert all(r is o for r, o in zip(returned, out))
        return returned

    compare_or_error(fn, X)

"""Every pointwise function torch documents, in all its forms (``torch.f``, ``Tensor.f``,
``Tensor.f_``, ``torch.f_``), against torch: values, dtypes (integer and bool inputs, promotion),
grad_fn names, first and second derivatives, and errors (class and first line).

The tables give each function the inputs inside its domain; the tests run each over float32,
float64, int64 and bool inputs.  Nothing is hard-coded: torch computes every expected answer.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare, compare_error, const, integers
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite

F32 = {"rtol": 1e-4, "atol": 1e-5}  # float32 kernels of torch and NumPy differ in the last bits
_RNG = np.random.default_rng(14)


def uniform(low, high):
    """An input domain: shape -> float64 values in [low, high]."""
    return lambda *shape: _RNG.uniform(low, high, shape)


def away_from_zero(*shape):
    """Values in +-[0.3, 2]: off the kinks and poles at 0 (sinc, frac, sgn, ...)."""
    return _RNG.uniform(0.3, 2.0, shape) * _RNG.choice([-1.0, 1.0], shape)


WIDE = uniform(-2, 2)
UNIT = uniform(-0.9, 0.9)  # inside the domain of asin, acos, atanh, erfinv
POSITIVE = uniform(0.5, 3)

# name -> (domain of the float inputs, integers that are in it)
UNARY_FLOAT = {
    "asin": (UNIT, (-1, 0, 1)),
    "acos": (UNIT, (-1, 0, 1)),
    "atan": (WIDE, (-3, 3)),
    "arcsin": (UNIT, (-1, 0, 1)),
    "arccos": (UNIT, (-1, 0, 1)),
    "arctan": (WIDE, (-3, 3)),
    "sinh": (WIDE, (-3, 3)),
    "cosh": (WIDE, (-3, 3)),
    "asinh": (WIDE, (-3, 3)),
    "acosh": (uniform(1.2, 3), (1, 4)),
    "atanh": (UNIT, (-1, 0, 1)),
    "arcsinh": (WIDE, (-3, 3)),
    "arccosh": (uniform(1.2, 3), (1, 4)),
    "arctanh": (UNIT, (-1, 0, 1)),
    "deg2rad": (uniform(-200, 200), (-180, 180)),
    "rad2deg": (WIDE, (-3, 3)),
    "sinc": (away_from_zero, (-3, 3)),
    "exp2": (WIDE, (-3, 3)),
    "log2": (POSITIVE, (1, 9)),
    "log10": (POSITIVE, (1, 9)),
    "rsqrt": (POSITIVE, (1, 9)),
    "logit": (uniform(0.1, 0.9), (0, 1)),
    "erf": (WIDE, (-3, 3)),
    "erfc": (WIDE, (-3, 3)),
    "erfinv": (UNIT, (-1, 0, 1)),
    "lgamma": (POSITIVE, (1, 6)),
    "digamma": (POSITIVE, (1, 6)),
    "i0": (WIDE, (-3, 3)),
    "expm1": (WIDE, (-3, 3)),
    "log1p": (POSITIVE, (0, 9)),
}

# Functions that keep integer dtypes: name -> float domain
UNARY_SAME_DTYPE = {
    "sgn": away_from_zero,
    "absolute": away_from_zero,
    "negative": WIDE,
    "fix": uniform(-3, 3),
    "nan_to_num": WIDE,
    "positive": WIDE,
}

# Functions with a bool result (no gradient)
UNARY_PREDICATES = ["signbit", "isposinf", "isneginf", "isreal"]

FLOATS = (np.float32, np.float64)


def inputs_of(domain, integer_range, dtype, shape=(3, 4)):
    if dtype is np.bool_:
        return _RNG.integers(0, 2, shape).astype(bool)
    if dtype is np.int64:
        low, high = integer_range[0], integer_range[-1]
        return _RNG.integers(low, high + 1, shape).astype(np.int64)
    return np.asarray(domain(*shape)).astype(dtype)


def tolerance(dtype) -> dict:
    """float64 tightly; the rest computes in float32 (the default dtype, for ints and bools)."""
    return {"rtol": 1e-7, "atol": 1e-9} if dtype is np.float64 else F32


def _cases(table: dict, dtypes) -> list:
    return [
        pytest.param(name, dtype, id=f"{name}-{np.dtype(dtype).name}")
        for name in table
        for dtype in dtypes
    ]


# --------------------------------------------------------------------------------------------
# One input: function, method, in place (method and torch.f_)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "dtype"), _cases(UNARY_FLOAT, FLOATS + (np.int64, np.bool_)))
def test_float_function(name, dtype):
    domain, integer_range = UNARY_FLOAT[name]
    x = inputs_of(domain, integer_range, dtype)
    compare(lambda lib, x: getattr(lib, name)(x), x, **tolerance(dtype))
    compare(lambda lib, x: getattr(x, name)(), x, **tolerance(dtype))


@pytest.mark.parametrize(("name", "dtype"), _cases(UNARY_SAME_DTYPE, FLOATS + (np.int64,)))
def test_dtype_keeping_function(name, dtype):
    x = inputs_of(UNARY_SAME_DTYPE[name], (-3, 3), dtype)
    compare(lambda lib, x: getattr(lib, name)(x), x, **tolerance(dtype))
    compare(lambda lib, x: getattr(x, name)(), x, **tolerance(dtype))


@pytest.mark.parametrize("name", ["sgn", "nan_to_num", "signbit", "isposinf", "isneginf"])
def test_bool_input(name):
    compare(lambda lib, x: getattr(lib, name)(x), inputs_of(None, (), np.bool_))


@pytest.mark.parametrize("name", ["positive", "absolute", "frac", "negative"])
def test_bool_input_refused(name):
    compare_error(lambda lib, x: getattr(lib, name)(x), inputs_of(None, (), np.bool_))


@pytest.mark.parametrize(("name", "dtype"), _cases(UNARY_PREDICATES, FLOATS + (np.int64,)))
def test_predicate(name, dtype):
    x = inputs_of(WIDE, (-3, 3), dtype)
    if dtype is not np.int64:
        x.flat[:3] = [np.inf, -np.inf, np.nan]
    compare(lambda lib, x: getattr(lib, name)(x), x)
    compare(lambda lib, x: getattr(x, name)(), x)


def _has_inplace(name: str, where) -> bool:
    import torch

    return hasattr(torch if where == "torch" else torch.Tensor, name + "_")


# torch has no derivative for these in place (their nodes are ...Backward1 and raise)
NO_INPLACE_DERIVATIVE = {"asinh", "acosh", "atanh", "arcsinh", "arccosh", "arctanh"}
INPLACE = [n for n in [*UNARY_FLOAT, *UNARY_SAME_DTYPE] if _has_inplace(n, "Tensor")]
TORCH_INPLACE = [n for n in [*UNARY_FLOAT, *UNARY_SAME_DTYPE] if _has_inplace(n, "torch")]


@pytest.mark.parametrize("name", INPLACE)
@pytest.mark.parametrize("dtype", FLOATS)
def test_inplace_method(name, dtype):
    table = UNARY_FLOAT if name in UNARY_FLOAT else {name: (UNARY_SAME_DTYPE[name], ())}
    x = inputs_of(table[name][0], (), dtype)

    def fn(lib, x):
        y = x * 1  # not a leaf: in place is allowed, and differentiable
        out = getattr(y, name + "_")()
        assert out is y
        return y

    if name in NO_INPLACE_DERIVATIVE:
        compare(fn, x, grad=False, **tolerance(dtype))
        compare_error(lambda lib, x: fn(lib, x).sum().backward(), x)
    else:
        compare(fn, x, **tolerance(dtype))


@pytest.mark.parametrize("name", TORCH_INPLACE)
def test_torch_inplace_function(name):
    table = UNARY_FLOAT if name in UNARY_FLOAT else {name: (UNARY_SAME_DTYPE[name], ())}
    x = inputs_of(table[name][0], (), np.float64)
    grad = name not in NO_INPLACE_DERIVATIVE
    compare(lambda lib, x: getattr(lib, name + "_")(x * 1), x, grad=grad)


@pytest.mark.parametrize("name", [n for n in INPLACE if n in UNARY_FLOAT])
def test_inplace_refuses_a_float_result_in_an_integer_tensor(name):
    compare_error(lambda lib, x: getattr(x, name + "_")(), integers(3))


@pytest.mark.parametrize("name", ["asin", "erf", "sgn", "frac", "nan_to_num", "lgamma"])
def test_inplace_on_a_leaf_that_requires_grad(name):
    compare_error(lambda lib, x: getattr(x, name + "_")(), UNIT(3))
    if _has_inplace(name, "torch"):
        compare_error(lambda lib, x: getattr(lib, name + "_")(x), UNIT(3))


@pytest.mark.parametrize("name", [*UNARY_FLOAT, *UNARY_SAME_DTYPE, *UNARY_PREDICATES, "frac"])
def test_a_number_is_not_a_tensor(name):
    compare_error(lambda lib: getattr(lib, name)(0.5))


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(UNARY_FLOAT)),
    shape=st.lists(st.integers(0, 3), max_size=3).map(tuple),
    dtype=st.sampled_from([np.float32, np.float64, np.int64, np.bool_]),
)
def test_float_function_any_shape_and_dtype(name, shape, dtype):
    domain, integer_range = UNARY_FLOAT[name]
    compare(
        lambda lib, x: getattr(lib, name)(x),
        inputs_of(domain, integer_range, dtype, shape),
        **tolerance(dtype),
    )


# --------------------------------------------------------------------------------------------
# Special values and options
# --------------------------------------------------------------------------------------------

EDGES = np.array([0.0, -0.0, 1.0, -1.0, 2.0, -1.5, 0.5, np.inf, -np.inf, np.nan, 30.0, -30.0])


@pytest.mark.parametrize(
    "name",
    """asin acos atan sinh cosh asinh acosh atanh exp2 log2 log10 rsqrt logit erf erfc erfinv
    lgamma digamma i0 sinc frac sgn signbit nan_to_num deg2rad rad2deg""".split(),
)
def test_special_values(name):
    compare(lambda lib, x: getattr(lib, name)(x), const(EDGES), grad=False)


def test_erfinv_near_the_ends():
    y = np.array([1 - 1e-12, -(1 - 1e-9), 0.999, 1e-10, 0.5, 0.9999999])
    compare(lambda lib, x: lib.erfinv(x), y, rtol=1e-10, atol=0)
    compare(lambda lib, x: lib.erfinv(x), y.astype(np.float32), **F32)


def test_lgamma_digamma_polygamma_on_negatives():
    x = np.array([-0.5, -1.5, -2.3, -7.6, 0.1, 12.5, 150.0])
    for n in range(4):
        compare(lambda lib, x, n=n: lib.polygamma(n, x), x, second_order=n < 2)
    compare(lambda lib, x: lib.lgamma(x), x)
    compare(lambda lib, x: lib.digamma(x), x)


@pytest.mark.parametrize("n", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_polygamma(n, dtype):
    x = inputs_of(POSITIVE, (1, 6), dtype)
    compare(lambda lib, x: lib.polygamma(n, x), x, **tolerance(dtype))
    compare(lambda lib, x: x.polygamma(n), x, **tolerance(dtype))
    compare(
        lambda lib, x: (x * 1).polygamma_(n), x, **tolerance(dtype)
    ) if dtype != np.int64 else None


@pytest.mark.parametrize("p", [1, 2, 3])
def test_mvlgamma(p):
    x = POSITIVE(3, 2) + p
    compare(lambda lib, x: lib.mvlgamma(x, p), x)
    compare(lambda lib, x: x.mvlgamma(p=p), x)
    compare(lambda lib, x: lib.mvlgamma(x, p), integers(4, low=3, high=9))


def test_polygamma_and_mvlgamma_errors():
    compare_error(lambda lib, x: lib.polygamma(-1, x), POSITIVE(3))
    compare_error(lambda lib, x: lib.polygamma(1.5, x), POSITIVE(3))
    compare_error(lambda lib: lib.polygamma(1, 2.0))
    compare_error(lambda lib, x: lib.mvlgamma(x, 0), POSITIVE(3))


def test_i0_large_and_its_derivatives():
    x = np.array([-12.0, -3.3, 0.0, 0.7, 5.5, 25.0])
    compare(lambda lib, x: lib.i0(x), x, rtol=1e-9)


@pytest.mark.parametrize("eps", [None, 0.2])
def test_logit_eps(eps):
    compare(lambda lib, x: lib.logit(x, eps), uniform(0.05, 0.95)(10))
    compare(lambda lib, x: x.logit(eps=eps), uniform(0.05, 0.95)(10))


@pytest.mark.parametrize(
    "kwargs", [{}, {"nan": 1.5}, {"posinf": 9.0, "neginf": -9.0}, {"nan": -1.0, "posinf": 2}]
)
@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_to_num(kwargs, dtype):
    x = WIDE(8).astype(dtype)
    x[:3] = [np.nan, np.inf, -np.inf]
    compare(lambda lib, x: lib.nan_to_num(x, **kwargs), x, **tolerance(dtype))
    compare(lambda lib, x: (x * 1).nan_to_num_(**kwargs), x, **tolerance(dtype))


def test_positive_returns_the_tensor_itself():
    for lib in (autograd_lite,):
        x = lib.tensor([1.0, -2.0])
        assert lib.positive(x) is x and +x is x


def test_sinc_at_zero():
    compare(lambda lib, x: lib.sinc(x), np.array([0.0, 1e-3, -0.5, 2.0]))


# --------------------------------------------------------------------------------------------
# Two operands
# --------------------------------------------------------------------------------------------

# name -> (domain of input, domain of other, whether other may be a Python number)
BINARY = {
    "atan2": (WIDE, away_from_zero, False),
    "arctan2": (WIDE, away_from_zero, False),
    "hypot": (away_from_zero, away_from_zero, False),
    "logaddexp": (WIDE, WIDE, False),
    "logaddexp2": (WIDE, WIDE, False),
    "ldexp": (WIDE, uniform(-3, 3), False),
    "xlogy": (WIDE, POSITIVE, True),
    "copysign": (away_from_zero, away_from_zero, True),
    "fmax": (away_from_zero, away_from_zero, False),
    "fmin": (away_from_zero, away_from_zero, False),
    "nextafter": (WIDE, WIDE, False),
    "float_power": (POSITIVE, uniform(-2, 2), True),
}

DTYPE_PAIRS = [
    (np.float64, np.float64),
    (np.float32, np.float32),
    (np.float32, np.float64),
    (np.int64, np.int64),
    (np.bool_, np.bool_),
    (np.int64, np.float32),
    (np.int32, np.int64),
]


def _binary_inputs(name, da, db, shape_a=(3, 4), shape_b=(3, 4)):
    dom_a, dom_b, _ = BINARY[name]
    a = (
        inputs_of(dom_a, (1, 4), da, shape_a)
        if da is not np.int32
        else integers(*shape_a).astype(np.int32)
    )
    b = inputs_of(dom_b, (1, 4), db, shape_b)
    return a, b


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize(("da", "db"), DTYPE_PAIRS, ids=lambda d: np.dtype(d).name)
def test_binary_function(name, da, db):
    a, b = _binary_inputs(name, da, db)
    fn = lambda lib, a, b: getattr(lib, name)(a, b)
    if (
        name in ("hypot", "logaddexp", "logaddexp2", "nextafter")
        and np.dtype(da).kind != "f"
        and np.dtype(db).kind != "f"
    ):
        compare_error(fn, a, b)
        return
    tol = F32 if np.float32 in (da, db) else {}
    compare(fn, a, b, **tol)
    compare(lambda lib, a, b: getattr(a, name)(b), a, b, **tol)


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_broadcasts(name):
    a, b = _binary_inputs(name, np.float64, np.float64, (3, 1), (1, 4))
    compare(lambda lib, a, b: getattr(lib, name)(a, b), a, b)
    a, b = _binary_inputs(name, np.float64, np.float64, (3, 2), (4,))
    compare_error(lambda lib, a, b: getattr(lib, name)(a, b), a, b)


@pytest.mark.parametrize("name", list(BINARY))
@pytest.mark.parametrize("number", [2.5, 2, True])
def test_binary_with_a_number(name, number):
    a, _ = _binary_inputs(name, np.float32, np.float32)
    fn = lambda lib, a: getattr(lib, name)(a, number)
    if BINARY[name][2]:
        compare(fn, a, **F32)
    else:
        compare_error(fn, a)
    compare_error(lambda lib, a: getattr(lib, name)(1.5, a), a) if name not in (
        "xlogy",
        "float_power",
    ) else None


def test_xlogy_number_forms():
    compare(lambda lib, y: lib.xlogy(2.0, y), POSITIVE(5))
    compare(lambda lib, x: lib.xlogy(x, 3.0), WIDE(5))
    x = np.array([0.0, 0.0, 1.0, 0.0, 2.0])
    y = np.array([0.0, np.nan, 0.0, -1.0, 3.0])
    compare(lambda lib, x, y: lib.xlogy(x, y), x, const(y), second_order=False)
    compare(lambda lib, y: lib.xlogy(2.0, y), integers(4, low=1, high=5))


@pytest.mark.parametrize("name", ["atan2", "hypot", "ldexp", "xlogy", "copysign", "nextafter"])
def test_binary_inplace(name):
    a, b = _binary_inputs(name, np.float64, np.float64)

    def fn(lib, a, b):
        y = a * 1
        getattr(y, name + "_")(b)
        return y

    compare(fn, a, b)
    compare_error(lambda lib, a, b: getattr(a.long(), name + "_")(b), const(a), const(b))


def test_float_power():
    compare(lambda lib, a, b: lib.float_power(a, b), POSITIVE(4), uniform(-2, 2)(4))
    compare(lambda lib, a: lib.float_power(a, 2), POSITIVE(4).astype(np.float32))
    compare(lambda lib, a: lib.float_power(a, 3), integers(4))
    compare(lambda lib, a: (a * 1).float_power_(2), POSITIVE(4))
    compare_error(lambda lib, a: a.float_power_(2), integers(4))
    compare_error(lambda lib, a: (a * 1).float_power_(2), POSITIVE(4).astype(np.float32))


def test_fmax_fmin_with_nan_and_ties():
    a = np.array([1.0, np.nan, 2.0, np.nan, 0.5])
    b = np.array([np.nan, 1.0, 2.0, np.nan, -0.5])
    for name in ("fmax", "fmin"):
        compare(lambda lib, a, b, f=name: getattr(lib, f)(a, b), a, b, second_order=False)


def test_heaviside():
    x = np.array([-1.5, 0.0, 2.0, 0.0])
    compare(lambda lib, x, v: lib.heaviside(x, v), const(x), const(np.array([0.5])))
    compare(lambda lib, x, v: lib.heaviside(x, v), integers(5), const(np.array([7])))
    compare_error(lambda lib, x, v: lib.heaviside(x, v), integers(5), const(np.array([0.5])))
    compare_error(lambda lib, x: lib.heaviside(x, 0.5), const(x))
    compare_error(lambda lib, x, v: lib.heaviside(x, v).sum().backward(), x, np.array([0.5]))


# --------------------------------------------------------------------------------------------
# Three operands
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("weight", [0.3, 0.8, "tensor", "0-d"])
def test_lerp(weight):
    a, b = WIDE(3, 4), WIDE(3, 4)
    w = {"tensor": uniform(-0.5, 1.5)(3, 4), "0-d": np.array(0.7)}.get(weight, weight)
    compare(lambda lib, a, b, w: lib.lerp(a, b, w), a, b, w)
    compare(lambda lib, a, b, w: a.lerp(b, w), a, b, w)
    compare(lambda lib, a, b, w: (a * 1).lerp_(b, w), a, b, w)


def test_lerp_errors():
    compare_error(lambda lib, a, b: lib.lerp(a, b, 0.5), WIDE(3), WIDE(3).astype(np.float32))
    compare_error(lambda lib, a, b: lib.lerp(a, b, 0.5), integers(3), integers(3))
    compare_error(lambda lib, a, b, w: lib.lerp(a, b, w), WIDE(3), WIDE(3), integers(3))
    compare_error(lambda lib, a, b: lib.lerp(a, b, 0.5), WIDE(3), WIDE(4))


@pytest.mark.parametrize("name", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", [1, 0.5, -2])
def test_addcmul_addcdiv(name, value):
    x, t1, t2 = WIDE(3, 1), WIDE(1, 4), away_from_zero(3, 4)
    compare(lambda lib, x, a, b: getattr(lib, name)(x, a, b, value=value), x, t1, t2)
    compare(lambda lib, x, a, b: getattr(x, name)(a, b, value=value), x, t1, t2)
    y = WIDE(3, 4)
    compare(lambda lib, y, a, b: getattr(y * 1, name + "_")(a, b, value=value), y, t1, t2)


def test_addcmul_addcdiv_dtypes_and_errors():
    i = integers(4, low=1, high=5)
    compare(lambda lib, x, a, b: lib.addcmul(x, a, b, value=2), const(i), const(i), const(i))
    compare(lambda lib, x, a, b: lib.addcmul(x, a, b), WIDE(4), const(i), const(i))
    compare_error(lambda lib, x, a, b: lib.addcdiv(x, a, b), WIDE(4), const(i), const(i))
    b = np.array([True, False])
    compare_error(lambda lib, x: lib.addcmul(x, x, x), const(b))
    compare_error(lambda lib, x, a: lib.addcmul(x, a, a), WIDE(3), WIDE(4))


# --------------------------------------------------------------------------------------------
# Integers only: gcd, lcm, shifts, bitwise
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "gcd",
        "lcm",
        "bitwise_left_shift",
        "bitwise_right_shift",
        "bitwise_and",
        "bitwise_or",
        "bitwise_xor",
    ],
)
def test_integer_functions(name):
    a, b = integers(3, 4, low=-20, high=20), integers(4, low=0, high=6)
    compare(lambda lib, a, b: getattr(lib, name)(a, b), a, b)
    compare(lambda lib, a, b: getattr(a, name)(b), a, b)
    compare(lambda lib, a, b: getattr(a.clone(), name + "_")(b), a, b)
    compare(lambda lib, a, b: getattr(lib, name)(a, b), a.astype(np.int32), b)
    compare_error(lambda lib, a, b: getattr(lib, name)(a, b), WIDE(3), WIDE(3))
    compare_error(lambda lib, a: getattr(a.clone(), name + "_")(a.float()), a)
    if name.startswith(("gcd", "lcm")):
        compare_error(lambda lib, a: getattr(lib, name)(a, 2), a)
        compare_error(lambda lib, b: getattr(lib, name)(b, b), np.array([True, False]))


@pytest.mark.parametrize("shift", [0, 1, 7, 8, 63, 64, 70, -1])
@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, np.int64])
def test_shift_operators(shift, dtype):
    x = np.array([1, 5, -3, 100, -128, 127]).astype(dtype)
    compare(lambda lib, x: x << shift, x)
    compare(lambda lib, x: x >> shift, x)
    compare(lambda lib, x: 3 << x.abs() % 5, x) if dtype is not np.uint8 else None


def test_shift_errors_and_in_place():
    compare_error(lambda lib, x: x << 1.5, integers(3))
    compare_error(lambda lib, x: 1.5 << x, integers(3))
    compare(lambda lib, x: x << 1, np.array([True, False]))
    compare_error(lambda lib, x: x << x, np.array([True, False]))

    def shifted(lib, x):
        x <<= 2
        x >>= 1
        return x

    compare(shifted, integers(4))


# --------------------------------------------------------------------------------------------
# Older functions whose forms were missing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda x, y: x.clamp_min_(0.1),
        lambda x, y: x.clamp_max_(0.1),
        lambda x, y: x.true_divide_(y),
        lambda x, y: x.remainder_(y),
        lambda x, y: x.fmod_(y),
        lambda x, y: x.negative_(),
        lambda x, y: x.absolute_(),
        lambda x, y: x.log1p_(),
        lambda x, y: x.expm1_(),
        lambda x, y: x.fix_(),
        lambda x, y: x.eq_(y),
        lambda x, y: x.lt_(y),
        lambda x, y: x.logical_not_(),
    ],
)
def test_older_inplace_methods(call):
    x, y = POSITIVE(5), POSITIVE(5)
    compare(lambda lib, x, y: call(x * 1, y), x, y)


@pytest.mark.parametrize("bound", ["number", "tensor"])
def test_clamp_min_max_nodes(bound):
    x = WIDE(6)
    lo = 0.1 if bound == "number" else uniform(-0.5, 0.5)(6)
    compare(lambda lib, x, lo: lib.clamp_min(x, lo), x, lo)
    compare(lambda lib, x, lo: lib.clamp_max(x, lo), x, lo)
    compare(lambda lib, x, lo: lib.clamp_min_(x * 1, lo), x, lo)
    compare(lambda lib, x: lib.clamp_min(x, 1), integers(5))


# --------------------------------------------------------------------------------------------
# Complex-number functions on real tensors, frexp, the incomplete gamma functions
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_angle(dtype):
    x = inputs_of(WIDE, (-3, 3), dtype)
    compare(lambda lib, x: lib.angle(x), x, **tolerance(dtype))
    compare(lambda lib, x: x.angle(), x, **tolerance(dtype))
    compare(lambda lib, x: lib.angle(x), const(EDGES))


def test_real_conj_physical_imag():
    same_tensor = lambda lib, x: (lib.real(x) is x, x.real is x, lib.conj_physical(x) is x)  # noqa: E731
    compare(same_tensor, WIDE(3))
    compare(lambda lib, x: (x * 1).conj_physical_(), WIDE(3))
    compare(lambda lib, x: lib.conj_physical_(x * 1), WIDE(3))
    compare_error(lambda lib, x: lib.imag(x), WIDE(3))
    compare_error(lambda lib, x: x.imag, WIDE(3))


@pytest.mark.parametrize("dtype", FLOATS)
def test_frexp(dtype):
    x = (WIDE(3, 4) * 100).astype(dtype)
    compare(lambda lib, x: lib.frexp(x), x)
    compare(lambda lib, x: x.frexp(), x)
    compare(lambda lib, x: lib.frexp(x), const(EDGES.astype(dtype)))
    compare_error(lambda lib, x: lib.frexp(x), integers(3))


@pytest.mark.parametrize("name", ["igamma", "igammac"])
@pytest.mark.parametrize("dtype", FLOATS)
def test_incomplete_gamma(name, dtype):
    a = uniform(0.2, 8)(4, 5).astype(dtype)
    x = np.concatenate([uniform(0.0, 3)(2, 5), uniform(3, 20)(2, 5)]).astype(dtype)
    tol = tolerance(dtype) if dtype is np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    compare(lambda lib, a, x: getattr(lib, name)(a, x), const(a), x, **tol)
    compare(lambda lib, a, x: getattr(a, name)(x), const(a), x, **tol)
    compare(lambda lib, a, x: getattr(a.clone(), name + "_")(x), const(a), const(x), **tol)
    compare_error(lambda lib, a, x: getattr(lib, name)(a, x).sum().backward(), a, const(x))
    compare_error(lambda lib, a, x: getattr(lib, name)(a, x), integers(3), integers(3))


def test_incomplete_gamma_edges():
    a = np.array([0.0, 1.0, 2.0, 0.5, 3.0, 1e-3, 50.0, 50.0])
    x = np.array([1.0, 0.0, np.inf, 1e-8, 3.0, 2.0, 49.0, 52.0])
    for name in ("igamma", "igammac"):
        compare(lambda lib, a, x, f=name: getattr(lib, f)(a, x), const(a), const(x), rtol=1e-10)


# --------------------------------------------------------------------------------------------
# The special functions over wide ranges (values only): the NumPy-only methods hold torch's
# float64 accuracy well beyond the small inputs of the tables above
# --------------------------------------------------------------------------------------------

WIDE_RANGE = np.concatenate(
    [_RNG.uniform(-30, 30, 400), _RNG.uniform(-1, 1, 100), _RNG.uniform(0, 300, 100)]
)


WIDE_CALLS = {
    **{
        name: (lambda lib, x, f=name: getattr(lib, f)(x))
        for name in "erf erfc lgamma digamma i0 sinc asinh exp2 rsqrt erfinv".split()
    },
    **{f"polygamma{n}": (lambda lib, x, n=n: lib.polygamma(n, x)) for n in (1, 2, 3)},
}


@pytest.mark.parametrize("name", list(WIDE_CALLS))
def test_special_functions_over_a_wide_range(name):
    x = np.tanh(WIDE_RANGE) if name == "erfinv" else WIDE_RANGE  # (erfinv: inside (-1, 1))
    compare(WIDE_CALLS[name], const(x), rtol=1e-9, atol=0)


def test_erfinv_and_i0_gradients_over_a_wide_range():
    compare(lambda lib, x: lib.erfinv(x), _RNG.uniform(-0.999, 0.999, 50), rtol=1e-9)
    compare(lambda lib, x: lib.i0(x), _RNG.uniform(-30, 30, 50), rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(BINARY)),
    shapes=st.sampled_from(
        [((3,), (3,)), ((2, 1), (3,)), ((), (2, 2)), ((2, 3), ()), ((0,), (1,))]
    ),
    dtypes=st.sampled_from(DTYPE_PAIRS),
)
def test_binary_function_any_shape_and_dtype(name, shapes, dtypes):
    a, b = _binary_inputs(name, *dtypes, *shapes)
    fn = lambda lib, a, b: getattr(lib, name)(a, b)  # noqa: E731
    float_only = name in ("hypot", "logaddexp", "logaddexp2", "nextafter")
    if float_only and all(np.dtype(d).kind != "f" for d in dtypes):
        compare_error(fn, a, b)
    else:
        compare(fn, a, b, **F32)


# --------------------------------------------------------------------------------------------
# torch.special's names, torch.zero_ / torch.fill_, in place on a view
# --------------------------------------------------------------------------------------------

SPECIAL = {
    "expit": WIDE,
    "gammaln": POSITIVE,
    "psi": POSITIVE,
    "digamma": POSITIVE,
    "erf": WIDE,
    "erfc": WIDE,
    "erfinv": UNIT,
    "exp2": WIDE,
    "expm1": WIDE,
    "log1p": POSITIVE,
    "i0": WIDE,
    "i1": WIDE,
    "logit": uniform(0.1, 0.9),
    "sinc": away_from_zero,
    "round": WIDE,
}


@pytest.mark.parametrize("name", list(SPECIAL))
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_torch_special(name, dtype):
    x = inputs_of(SPECIAL[name], (1, 4), dtype)
    fn = lambda lib, x: getattr(lib.special, name)(x)  # noqa: E731
    if name == "round" and dtype is np.int64:
        compare_error(fn, x)
    else:
        compare(fn, x, **tolerance(dtype))


def test_torch_special_of_two_operands():
    a, x = uniform(0.5, 4)(6), uniform(0.1, 5)(6)
    compare(lambda lib, a, x: lib.special.gammainc(a, x), const(a), x)
    compare(lambda lib, a, x: lib.special.gammaincc(a, x), const(a), x)
    compare(lambda lib, x, y: lib.special.xlogy(x, y), WIDE(6), POSITIVE(6))
    compare(lambda lib, x: lib.special.polygamma(2, x), POSITIVE(6))
    compare(lambda lib, x: lib.special.multigammaln(x, 3), POSITIVE(6) + 2)
    compare(lambda lib, x: lib.special.softmax(x, 0), WIDE(6))
    compare(lambda lib, x: lib.special.log_softmax(x, 0), WIDE(6))
    compare(lambda lib, x: lib.special.logsumexp(x, 0), WIDE(6))
    compare(lambda lib, x: lib.special.round(x, decimals=1), WIDE(6))


def test_torch_zero_and_fill():
    compare(lambda lib, x: lib.zero_(x * 1), WIDE(4))
    compare(lambda lib, x: lib.fill_(x * 1, 2.5), WIDE(4))
    compare_error(lambda lib, x: lib.zero_(x), WIDE(4))


@pytest.mark.parametrize("name", ["asin", "erf", "lgamma", "frac", "sgn", "rad2deg"])
def test_inplace_on_a_view(name):
    def fn(lib, x):
        y = x * 1
        getattr(y[1:], name + "_")()
        return y

    compare(fn, UNIT(4, 3))


# --------------------------------------------------------------------------------------------
# torch.gradient: finite differences
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize(
    "options",
    [{}, {"spacing": 0.5}, {"dim": 1}, {"dim": (0, -1)}, {"spacing": [2.0, 0.25]}],
    ids=repr,
)
def test_gradient_uniform(edge_order, options):
    compare(lambda lib, x: lib.gradient(x, edge_order=edge_order, **options), WIDE(4, 5))


@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_coordinates(edge_order):
    rows, cols = np.cumsum(uniform(0.2, 1)(4)), np.cumsum(uniform(0.2, 1)(5))
    compare(
        lambda lib, x, r, c: lib.gradient(x, spacing=(r, c), edge_order=edge_order),
        WIDE(4, 5),
        const(rows),
        const(cols),
    )
    compare(
        lambda lib, x, c: lib.gradient(x, spacing=(c,), dim=1, edge_order=edge_order),
        WIDE(4, 5),
        cols,
    )


def test_gradient_dtypes_and_errors():
    compare(lambda lib, x: lib.gradient(x), integers(6))
    compare(lambda lib, x: lib.gradient(x, spacing=2), WIDE(6).astype(np.float32), **F32)
    compare_error(lambda lib, x: lib.gradient(x, edge_order=3), WIDE(6))
    compare_error(lambda lib, x: lib.gradient(x, edge_order=2), WIDE(2))
    compare_error(lambda lib, x: lib.gradient(x, spacing=[1.0, 2.0]), WIDE(6))
    compare_error(lambda lib, x: lib.gradient(x, dim=2), WIDE(6))
    compare_error(lambda lib: lib.gradient([1.0, 2.0]))


def test_bool_to_a_negative_power():
    compare_error(lambda lib, x: x**-1, np.array([True, False]))
    compare(lambda lib, x: x**2, np.array([True, False]))


@pytest.mark.parametrize("name", ["asin", "erf", "lgamma", "exp2", "logit", "sinc"])
def test_integers_compute_in_the_default_dtype(name):
    import torch

    for lib in (torch, autograd_lite):
        lib.set_default_dtype(lib.float64)
    try:
        compare(lambda lib, x: getattr(lib, name)(x), integers(5, low=0, high=2))
        compare(lambda lib, x, y: lib.atan2(x, y), integers(5), integers(5, low=1, high=4))
    finally:
        for lib in (torch, autograd_lite):
            lib.set_default_dtype(lib.float32)


@pytest.mark.parametrize("name", ["sgn", "absolute", "negative", "fix", "nan_to_num", "frac"])
def test_inplace_keeping_integer_dtypes(name):
    x = integers(3, 4)
    fn = lambda lib, x: getattr(x.clone(), name + "_")()  # noqa: E731
    if name == "frac":  # (floats only)
        compare_error(fn, x)
    else:
        compare(fn, x)

"""API gaps reported by the course authors, each checked against torch (see helpers.compare):

* ``float(t)`` / ``int(t)`` / ``math.exp(t)`` of a tensor with several elements: ValueError;
* a Python number (list, array, None) where a function takes a tensor: torch's TypeError;
* torch.pi / e / inf / nan, prod, cumprod, round, floor, ceil, trunc, finfo, iinfo, can_cast,
  promote_types, Tensor.itemsize / nbytes / data_ptr();
* integer division by zero (``//``, ``%``, fmod, div with a rounding mode): RuntimeError, and the
  gradients of remainder, fmod and rounded division.
"""

from __future__ import annotations

import math
import operator

import numpy as np
import pytest
import torch
from helpers import compare, compare_error, const, distinct, integers, positive, randn, same

import autograd_lite

F32 = {"rtol": 1e-4, "atol": 1e-5}
NO_GRAD = {"grad": False}


def case(label: str, fn, *inputs, **options):
    return pytest.param(fn, inputs, options, id=label)


# ============================================================================================
# float(t), int(t), math.exp(t): one element only, and a ValueError (item() keeps RuntimeError)
# ============================================================================================

CONVERSION_ERRORS = [
    case("float of 2", lambda lib, x: float(x), const(randn(2))),
    case("int of 2", lambda lib, x: int(x), const(randn(2))),
    case("complex of 2", lambda lib, x: complex(x), const(randn(2))),
    case("math.exp of 2", lambda lib, x: math.exp(x), const(randn(2))),
    case("math.sqrt of 2x2", lambda lib, x: math.sqrt(x), const(positive(2, 2))),
    case("float of empty", lambda lib, x: float(x), const(np.zeros(0))),
    case("int of int 3", lambda lib, x: int(x), integers(3)),
    case("float of requires_grad 2", lambda lib, x: float(x), randn(2)),
    case("item of 2", lambda lib, x: x.item(), const(randn(2))),
    case("item of empty", lambda lib, x: x.item(), const(np.zeros(0))),
]


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True")
@pytest.mark.parametrize("fn, inputs, options", CONVERSION_ERRORS)
def test_conversion_error(fn, inputs, options):
    compare_error(fn, *inputs)


@pytest.mark.parametrize(
    "convert", [float, int, complex, math.exp, math.floor], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)], ids=str)
def test_one_element_converts(convert, shape):
    same(lambda lib: convert(lib.tensor(np.full(shape, 1.75))))


def test_float_of_requires_grad_warns_before_raising():
    """As torch: the requires_grad warning comes first (both give it once per process, so it is
    checked under set_warn_always; compare checks the one-element case)."""
    compare(lambda lib, x: float(x[0]) + 1.0, randn(3), grad=False)
    autograd_lite.set_warn_always(True)
    try:
        with pytest.warns(UserWarning, match="Converting a tensor with requires_grad=True"):
            with pytest.raises(ValueError, match="only one element tensors"):
                float(autograd_lite.ones(2, requires_grad=True))
    finally:
        autograd_lite.set_warn_always(False)


# ============================================================================================
# A number where a tensor belongs: torch.exp(1.0)
# ============================================================================================

UNARY = """exp log sin cos tan tanh sigmoid relu sqrt abs absolute neg negative sign reciprocal
    log1p expm1 square round floor ceil trunc sum mean prod max min amax argmax argmin var std
    all any isnan isinf isfinite logical_not count_nonzero clone flatten t squeeze unbind numel
    is_floating_point norm""".split()
WITH_ARGS = {
    "cumsum": (0,),
    "cumprod": (0,),
    "softmax": (0,),
    "log_softmax": (0,),
    "unsqueeze": (0,),
    "transpose": (0, 1),
    "permute": ((0,),),
    "flip": ((0,),),
    "reshape": ((1,),),
    "select": (0, 0),
    "narrow": (0, 0, 1),
    "argmax": (0,),
    # several signatures take two arguments: torch lists them ("invalid combination")
    "sum": (0,),
    "mean": (1,),
    "prod": (0,),
    "max": (0,),
    "min": (1,),
    "squeeze": (0,),
}
NOT_TENSORS = [1.0, 3, True, None, [1.0, 2.0], (1,), "x", np.float64(1.0), np.array([1.0])]

NON_TENSOR_CASES = (
    [case(f"{name}(1.0)", lambda lib, n=name: getattr(lib, n)(1.0)) for name in UNARY]
    + [
        case(f"{name}(1.0, {args})", lambda lib, n=name, a=args: getattr(lib, n)(1.0, *a))
        for name, args in WITH_ARGS.items()
    ]
    + [
        case(f"{name}({value!r})", lambda lib, n=name, v=value: getattr(lib, n)(v))
        for name in ("exp", "sum", "neg", "floor", "square")
        for value in NOT_TENSORS
    ]
)


@pytest.mark.parametrize("fn, inputs, options", NON_TENSOR_CASES)
def test_non_tensor_input(fn, inputs, options):
    compare_error(fn, *inputs)


def test_non_tensor_input_does_not_change_tensor_calls():
    """The check sits on the failure path only: tensors go through unchanged."""
    compare(lambda lib, x: lib.exp(x) + lib.neg(x) + lib.floor(x) + lib.square(x), randn(3))
    compare(lambda lib, x: lib.exp(input=x) * lib.sum(input=x), randn(3))


# ============================================================================================
# Constants
# ============================================================================================


def test_constants():
    same(lambda lib: (lib.pi, lib.e, lib.inf, -lib.inf, lib.nan))
    assert math.isnan(autograd_lite.nan)
    compare(lambda lib, x: x * lib.pi + lib.e, randn(3))
    compare(lambda lib, x: lib.clamp(x, max=lib.inf), randn(3))


# ============================================================================================
# prod and cumprod: values, dtypes, grad_fn names, first and second derivatives
# ============================================================================================

ONE_ZERO = np.array([[1.5, 0.0, -0.8], [0.7, 1.2, -1.3]])
TWO_ZEROS = np.array([[0.0, 0.9, 0.0], [0.6, -1.1, 0.0]])
ALL_ZEROS = np.zeros((2, 2))


def product_cases() -> list:
    cases = []
    for label, x in [
        ("f64[2,3]", randn(2, 3)),
        ("one zero", ONE_ZERO),
        ("two zeros", TWO_ZEROS),
        ("all zeros", ALL_ZEROS),
        ("f64[4]", randn(4)),
        ("f64[2,1,3]", randn(2, 1, 3)),
    ]:
        cases += [
            case(f"prod() {label}", lambda lib, x: x.prod(), x),
            case(f"torch.prod {label}", lambda lib, x: lib.prod(x), x),
        ]
        for dim in range(-x.ndim, x.ndim):
            cases += [
                case(f"prod({dim}) {label}", lambda lib, x, d=dim: x.prod(d), x),
                case(
                    f"prod({dim}, keepdim) {label}",
                    lambda lib, x, d=dim: lib.prod(x, d, keepdim=True),
                    x,
                ),
                case(f"cumprod({dim}) {label}", lambda lib, x, d=dim: x.cumprod(d), x),
                case(f"torch.cumprod({dim}) {label}", lambda lib, x, d=dim: lib.cumprod(x, d), x),
            ]
    cases += [
        case("prod 0-d", lambda lib, x: x.prod(), randn()),
        case("prod(0) 0-d", lambda lib, x: x.prod(0), randn()),
        case("prod(-1, keepdim) 0-d", lambda lib, x: x.prod(-1, keepdim=True), randn()),
        case("cumprod 0-d", lambda lib, x: x.cumprod(0), randn()),
        case("prod empty", lambda lib, x: x.prod(), randn(0)),
        case("prod(1) empty", lambda lib, x: x.prod(1), randn(2, 0)),
        case("cumprod empty", lambda lib, x: x.cumprod(0), randn(0)),
        case("cumprod size 1", lambda lib, x: x.cumprod(1), randn(3, 1)),
        case("prod f32", lambda lib, x: x.prod(1), randn(3, 4, dtype=np.float32), **F32),
        case("cumprod f32", lambda lib, x: x.cumprod(0), randn(3, 4, dtype=np.float32), **F32),
        case("prod f16", lambda lib, x: x.prod(), const(np.array([300, 300, 1e-3], np.float16))),
        case(
            "prod(1) f16",
            lambda lib, x: x.prod(1),
            const(np.array([[300, 300, 1e-3], [2, 3, 4]], np.float16)),
        ),
        case("prod(0) f16 empty", lambda lib, x: x.prod(0), const(np.zeros((0, 2), np.float16))),
        case(
            "cumprod f16",
            lambda lib, x: x.cumprod(0),
            const(np.array([300, 300, 1e-3], np.float16)),
        ),
        case("prod int", lambda lib, x: x.prod(), integers(2, 3)),
        case("prod(0) int", lambda lib, x: x.prod(0), integers(2, 3)),
        case("prod int32", lambda lib, x: x.prod(1), integers(2, 3, dtype=np.int32)),
        case("prod uint8", lambda lib, x: x.prod(), integers(4, low=0, dtype=np.uint8)),
        case("prod bool", lambda lib, x: (x > 0).prod(), randn(4)),
        case("cumprod int", lambda lib, x: x.cumprod(1), integers(2, 3)),
        case("cumprod bool", lambda lib, x: (x > 0).cumprod(0), randn(4)),
        case("prod dtype=f64", lambda lib, x: x.prod(dtype=lib.float64), integers(2, 3)),
        case(
            "prod(1, dtype=f64) of f32",
            lambda lib, x: lib.prod(x, 1, dtype=lib.float64),
            randn(2, 3, dtype=np.float32),
            **F32,
        ),
        case(
            "cumprod(dtype=f64) of f32",
            lambda lib, x: x.cumprod(0, dtype=lib.float64),
            randn(3, dtype=np.float32),
            **F32,
        ),
        case("prod in a chain", lambda lib, x: (x.sin().prod(0) * x.sum()).exp(), randn(3, 2)),
        case("cumprod in a chain", lambda lib, x: x.exp().cumprod(1).log(), randn(2, 4)),
        case("prod no grad", lambda lib, x: x.prod(), const(randn(3))),
    ]
    return cases


@pytest.mark.parametrize("fn, inputs, options", product_cases())
def test_products(fn, inputs, options):
    compare(fn, *inputs, **options)


PRODUCT_ERRORS = [
    case("prod dim out of range", lambda lib, x: x.prod(2), randn(2, 3)),
    case("prod of two dims", lambda lib, x: lib.prod(x, (0, 1)), randn(2, 3)),
    case("cumprod dim out of range", lambda lib, x: x.cumprod(-3), randn(2, 3)),
    case("cumprod without dim", lambda lib, x: x.cumprod(), randn(2, 3)),
    case("torch.cumprod without dim", lambda lib, x: lib.cumprod(x), randn(2, 3)),
    case("cumsum without dim", lambda lib, x: x.cumsum(), randn(2, 3)),
]


@pytest.mark.parametrize("fn, inputs, options", PRODUCT_ERRORS)
def test_product_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@pytest.mark.parametrize(
    "array",
    [randn(2, 3), ONE_ZERO, TWO_ZEROS, np.array([0.0, 0.0, 0.0, 1.3])],
    ids=["no zero", "one zero", "two zeros", "three zeros"],
)
@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.prod(),
        lambda x: x.prod(0),
        lambda x: x.prod(-1, keepdim=True),
        lambda x: x.cumprod(0),
        lambda x: x.cumprod(-1),
    ],
    ids=["prod()", "prod(0)", "prod(-1, keepdim)", "cumprod(0)", "cumprod(-1)"],
)
@pytest.mark.parametrize("check", ["gradcheck", "gradgradcheck"])
def test_products_pass_gradcheck(check, fn, array):
    for lib in (torch, autograd_lite):
        x = lib.tensor(array, requires_grad=True)
        assert getattr(lib.autograd, check)(fn, (x,)), lib.__name__


def test_prod_gradient_with_a_zero_is_the_product_of_the_others():
    x = autograd_lite.tensor([2.0, 0.0, 3.0, 5.0], dtype=autograd_lite.float64, requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == [0.0, 30.0, 0.0, 0.0]


# ============================================================================================
# round, floor, ceil, trunc
# ============================================================================================

HALVES = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, -0.51])


def rounding_cases() -> list:
    cases = []
    for name in ("round", "floor", "ceil", "trunc"):
        cases += [
            case(f"{name}()", lambda lib, x, n=name: getattr(x, n)(), randn(2, 3) * 3),
            case(f"torch.{name}", lambda lib, x, n=name: getattr(lib, n)(x), randn(2, 3) * 3),
            case(f"{name} halves", lambda lib, x, n=name: getattr(x, n)(), HALVES),
            case(f"{name} 0-d", lambda lib, x, n=name: getattr(x, n)(), randn()),
            case(
                f"{name} f32",
                lambda lib, x, n=name: getattr(x, n)(),
                randn(4, dtype=np.float32) * 3,
            ),
            case(
                f"{name} f16",
                lambda lib, x, n=name: getattr(x, n)(),
                const(randn(4, dtype=np.float16) * 3),
            ),
            case(f"{name} int", lambda lib, x, n=name: getattr(x, n)(), integers(2, 3)),
            case(
                f"{name} int32",
                lambda lib, x, n=name: getattr(lib, n)(x),
                integers(3, dtype=np.int32),
            ),
            case(f"{name} in a chain", lambda lib, x, n=name: getattr(x * 3, n)() * x, randn(2, 3)),
            case(
                f"{name}_ in place",
                lambda lib, x, n=name: getattr(x * 2.5, n + "_")() + x,
                randn(2, 3),
            ),
        ]
    cases += [
        case("round(decimals=1)", lambda lib, x: x.round(decimals=1), randn(2, 3) * 3),
        case(
            "round(decimals=2) f32",
            lambda lib, x: lib.round(x, decimals=2),
            randn(5, dtype=np.float32),
            **F32,
        ),
        case("round(decimals=-1)", lambda lib, x: x.round(decimals=-1), randn(2, 3) * 100),
        case("round(decimals=0)", lambda lib, x: x.round(decimals=0), HALVES),
        case(
            "round(decimals=1) halves",
            lambda lib, x: x.round(decimals=1),
            const(np.array([1.25, 2.35, -0.05, 0.15], dtype=np.float32)),
        ),
    ]
    return cases


@pytest.mark.parametrize("fn, inputs, options", rounding_cases())
def test_rounding(fn, inputs, options):
    compare(fn, *inputs, **options)


ROUNDING_ERRORS = [
    *[
        case(f"{name} bool", lambda lib, x, n=name: getattr(lib, n)(x > 0), randn(3))
        for name in ("round", "floor", "ceil", "trunc")
    ],
    case("round(decimals) int", lambda lib, x: x.round(decimals=1), integers(3)),
    case("round(decimals) int32", lambda lib, x: x.round(decimals=-1), integers(3, dtype=np.int32)),
]


@pytest.mark.parametrize("fn, inputs, options", ROUNDING_ERRORS)
def test_rounding_errors(fn, inputs, options):
    compare_error(fn, *inputs)


# ============================================================================================
# finfo, iinfo, can_cast, promote_types
# ============================================================================================

FLOATS = ["float32", "float64", "float16"]
INTS = ["int32", "int64", "int16", "int8", "uint8"]
DTYPES = ["bool", *INTS, *FLOATS]


@pytest.mark.parametrize("name", [*FLOATS, "float", "double", "half", None])
def test_finfo(name):
    def info(lib):
        f = lib.finfo(getattr(lib, name)) if name else lib.finfo()
        values = (f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution)
        return (*values, f.bits, f.dtype, repr(f))

    same(info)


def test_finfo_of_python_float_is_float64():
    same(lambda lib: (lib.finfo(float).dtype, lib.finfo(float).eps, lib.iinfo(int).dtype))


@pytest.mark.parametrize("name", [*INTS, "int", "long", "short"])
def test_iinfo(name):
    def info(lib):
        i = lib.iinfo(getattr(lib, name))
        return i.max, i.min, i.bits, i.dtype, repr(i)

    same(info)


INFO_ERRORS = [
    case("finfo(int32)", lambda lib: lib.finfo(lib.int32)),
    case("finfo(bool)", lambda lib: lib.finfo(lib.bool)),
    case("iinfo(float32)", lambda lib: lib.iinfo(lib.float32)),
    case("iinfo(bool)", lambda lib: lib.iinfo(lib.bool)),
    case("iinfo()", lambda lib: lib.iinfo()),
    case("can_cast(int8, 1)", lambda lib: lib.can_cast(lib.int8, 1)),
    case("can_cast('float', int8)", lambda lib: lib.can_cast("float", lib.int8)),
    case("promote_types(int8, 1)", lambda lib: lib.promote_types(lib.int8, 1)),
]


@pytest.mark.parametrize("fn, inputs, options", INFO_ERRORS)
def test_info_errors(fn, inputs, options):
    compare_error(fn, *inputs)


def test_can_cast_and_promote_types_agree_with_torch():
    for a in DTYPES:
        for b in DTYPES:
            same(lambda lib, a=a, b=b: lib.can_cast(getattr(lib, a), getattr(lib, b)))
            same(lambda lib, a=a, b=b: lib.promote_types(getattr(lib, a), getattr(lib, b)))
    for python_type in (float, int, bool):
        for b in DTYPES:
            same(lambda lib, p=python_type, b=b: lib.can_cast(p, getattr(lib, b)))
            same(lambda lib, p=python_type, b=b: lib.can_cast(getattr(lib, b), p))
            same(lambda lib, p=python_type, b=b: lib.promote_types(p, getattr(lib, b)))
    same(lambda lib: lib.can_cast(from_=lib.int64, to=lib.float16))


# ============================================================================================
# itemsize, nbytes, data_ptr()
# ============================================================================================


@pytest.mark.parametrize("name", DTYPES)
def test_itemsize_and_nbytes(name):
    def sizes(lib):
        x = lib.zeros(3, 4, dtype=getattr(lib, name))
        views = (x, x[1], x[:, 1], x.t(), x.expand(2, 3, 4), x[0, 0], x[:0])
        return tuple((v.itemsize, v.nbytes, v.element_size()) for v in views)

    same(sizes)


def test_data_ptr():
    def offsets(lib):
        x = lib.zeros(3, 4)
        base = x.data_ptr()
        views = (x.view(-1), x[1], x[:, 1], x[2, 3], x.t(), x[1:].reshape(8))
        return (
            type(base).__name__,
            base != 0,
            tuple(v.data_ptr() - base for v in views),
            x.clone().data_ptr() != base,
            lib.zeros(0).data_ptr(),
            lib.tensor(1.5).data_ptr() != 0,
        )

    same(offsets)


# ============================================================================================
# Integer division by zero; remainder, fmod and rounded division
# ============================================================================================

I = np.array([7, -3, 0, 5])  # noqa: E741
Z = np.array([0, 2, 0, -2])
B = np.array([True, False])

DIVISION_ERRORS = [
    case("int // int zero", lambda lib, x, y: x // y, I, Z),
    case("[1] // [0]", lambda lib: lib.tensor([1]) // lib.tensor([0])),
    case("int // 0", lambda lib, x: x // 0, I),
    case("int // False", lambda lib, x: x // False, I),
    case("0-d // 0-d zero", lambda lib: lib.tensor(5) // lib.tensor(0)),
    case("broadcast // zero", lambda lib, x: x // lib.tensor([[1], [0]]), I),
    case("5 // int zero", lambda lib, y: 5 // y, Z),
    case("floor_divide zero", lambda lib, x, y: lib.floor_divide(x, y), I, Z),
    case("int % int zero", lambda lib, x, y: x % y, I, Z),
    case("int % 0", lambda lib, x: x % 0, I),
    case("5 % int zero", lambda lib, y: 5 % y, Z),
    case("remainder zero", lambda lib, x, y: lib.remainder(x, y), I, Z),
    case("x.remainder(0)", lambda lib, x: x.remainder(0), I),
    case("fmod zero", lambda lib, x, y: lib.fmod(x, y), I, Z),
    case("x.fmod(0)", lambda lib, x: x.fmod(0), I),
    case("div floor zero", lambda lib, x, y: lib.div(x, y, rounding_mode="floor"), I, Z),
    case("div trunc zero", lambda lib, x, y: lib.div(x, y, rounding_mode="trunc"), I, Z),
    case("div trunc 0", lambda lib, x: x.div(0, rounding_mode="trunc"), I),
    case("int32 // zero", lambda lib, x: x // lib.zeros(4, dtype=lib.int32), I.astype(np.int32)),
    case("uint8 % zero", lambda lib, x: x % lib.zeros(1, dtype=lib.uint8), I.astype(np.uint8)),
    case("div bad rounding_mode", lambda lib, x: x.div(2, rounding_mode="round"), randn(3)),
    case("bool // bool", lambda lib, x: x // x, B),
    case("bool % bool", lambda lib, x: x % x, B),
    case("bool % True", lambda lib, x: x % True, B),
    case("bool fmod bool", lambda lib, x: lib.fmod(x, x), B),
    case("bool div floor", lambda lib, x: x.div(x, rounding_mode="floor"), B),
    case("bool div trunc", lambda lib, x: x.div(x, rounding_mode="trunc"), B),
    case("backward through //", lambda lib, x: (x // 2).sum().backward(), randn(3)),
    case("backward through 5 % x", lambda lib, x: (5.0 % x).sum().backward(), positive(3)),
]


@pytest.mark.parametrize("fn, inputs, options", DIVISION_ERRORS)
def test_division_errors(fn, inputs, options):
    compare_error(fn, *inputs)


def division_cases() -> list:
    x, y = randn(2, 3) * 4, positive(3) * np.array([1, -1, 1])
    ops = {
        "//": operator.floordiv,
        "%": operator.mod,
        "floor_divide": lambda lib, a, b: lib.floor_divide(a, b),
        "remainder": lambda lib, a, b: lib.remainder(a, b),
        "fmod": lambda lib, a, b: lib.fmod(a, b),
        "div floor": lambda lib, a, b: lib.div(a, b, rounding_mode="floor"),
        "div trunc": lambda lib, a, b: lib.div(a, b, rounding_mode="trunc"),
    }

    def call(op, lib, a, b):
        return op(a, b) if op in (operator.floordiv, operator.mod) else op(lib, a, b)

    cases = []
    for name, op in ops.items():
        differentiable = name not in ("//", "floor_divide")
        opts = {} if differentiable else NO_GRAD
        cases += [
            case(f"int {name}", lambda lib, a, b, op=op: call(op, lib, a, b), I, I[::-1] + 10),
            case(f"int {name} neg", lambda lib, a, b, op=op: call(op, lib, a, b), I, -I - 1),
            case(f"int {name} 3", lambda lib, a, op=op: call(op, lib, a, 3), I),
            case(f"int {name} -3", lambda lib, a, op=op: call(op, lib, a, -3), I),
            case(f"int {name} 2.5", lambda lib, a, op=op: call(op, lib, a, 2.5), I),
            case(f"empty {name} 0", lambda lib, a, op=op: call(op, lib, a, 0), I[:0]),
            case(f"float {name} 0", lambda lib, a, op=op: call(op, lib, a, 0), x, **opts),
            case(
                f"int {name} float 0",
                lambda lib, a, b, op=op: call(op, lib, a, b),
                I,
                const(Z * 0.0),
            ),
            case(f"float {name} float", lambda lib, a, b, op=op: call(op, lib, a, b), x, y, **opts),
            case(f"float {name} 1.5", lambda lib, a, op=op: call(op, lib, a, 1.5), x, **opts),
            case(
                f"float {name} const",
                lambda lib, a, b, op=op: call(op, lib, a, b),
                x,
                const(y),
                **opts,
            ),
            case(
                f"const {name} float",
                lambda lib, a, b, op=op: call(op, lib, a, b),
                const(x),
                y,
                **opts,
            ),
            case(
                f"f32 {name} 0-d",
                lambda lib, a, b, op=op: call(op, lib, a, b),
                randn(4, dtype=np.float32) * 3,
                positive(dtype=np.float32),
                **F32,
                **opts,
            ),
            case(f"bool {name} int", lambda lib, a, op=op: call(op, lib, a > 0, 2), I),
        ]
    cases += [
        case("5 // int", lambda lib, a: 5 // a, I[::-1] + 10),
        case("-7 % int", lambda lib, a: -7 % a, I + 10),
        case("5.5 % int", lambda lib, a: 5.5 % a, I + 10),
        case("5 % uint8", lambda lib, a: 5 % a, integers(3, low=1, dtype=np.uint8)),
        case("5 % int32 0-d", lambda lib, a: 5 % a, np.array(3, dtype=np.int32)),
        case("5 // int32 0-d", lambda lib, a: 5 // a, np.array(3, dtype=np.int32)),
        case("5.0 % float", lambda lib, a: 5.0 % a, positive(3), grad=False),
        case("5 // float", lambda lib, a: 5 // a, positive(3), grad=False),
        case("float // float grad_fn", lambda lib, a, b: a // b, x, y, grad=False),
        case(
            "big int64 trunc",
            lambda lib, a: a.div(3, rounding_mode="trunc"),
            np.array([2**62 + 1, -(2**62) - 1]),
        ),
    ]
    return cases


@pytest.mark.parametrize("fn, inputs, options", division_cases())
def test_division(fn, inputs, options):
    compare(fn, *inputs, **options)


def test_remainder_by_a_tensor_differentiates_the_divisor():
    x, y = distinct(2, 3) * 5, positive(2, 3)
    out = compare(lambda lib, a, b: a % b, x, y)
    assert out.grad_fn.name() == "RemainderBackward1"
    out = compare(lambda lib, a, b: lib.fmod(a, b), x, -y)
    assert out.grad_fn.name() == "FmodBackward1"
    compare(lambda lib, a, b: (a % b) * a * b, x, y)
    compare(lambda lib, a, b: lib.fmod(a * b, b + 1), x, y)


# NumPy's keyword names, which torch's argument parser takes for dim= and keepdim=.
NUMPY_NAME_CASES = [
    lambda lib, x: lib.sum(x, axis=0),
    lambda lib, x: x.sum(axis=1, keepdims=True),
    lambda lib, x: x.mean(axis=0),
    lambda lib, x: lib.var(x, axis=1, keepdims=True),
    lambda lib, x: x.std(axis=0),
    lambda lib, x: lib.amax(x, axis=1),
    lambda lib, x: lib.max(x, axis=1).values,
    lambda lib, x: x.prod(axis=0),
    lambda lib, x: x.cumsum(axis=1),
    lambda lib, x: lib.softmax(x, axis=0),
    lambda lib, x: lib.cat([x, x * 2], axis=1),
    lambda lib, x: lib.stack([x, x], axis=1),
    lambda lib, x: x.unsqueeze(axis=0),
    lambda lib, x: x.select(axis=1, index=0),
]


@pytest.mark.parametrize("fn", NUMPY_NAME_CASES)
def test_numpy_keyword_names_work_as_in_torch(fn):
    compare(fn, randn(2, 3))


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: lib.argmax(x, axis=1),
        lambda lib, x: (x > 0).all(axis=1),
        lambda lib, x: lib.count_nonzero(x, axis=0),
    ],
)
def test_numpy_keyword_names_of_functions_without_gradients(fn):
    compare(fn, randn(2, 3), grad=False, second_order=False)


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: x.sum(dim=0, axis=0),  # both names: torch knows only one
        lambda lib, x: x.sum(0, keepdim=True, keepdims=True),
        lambda lib, x: lib.norm(x, axis=1),  # torch's norm is Python, outside its parser
    ],
)
def test_numpy_keyword_names_errors(fn):
    compare_error(fn, randn(2, 3))


# What PyTorch's own tests asked for besides (tests/test_conformance.py): scalar_tensor,
# split_with_sizes, set_warn_always.
SCALAR_TENSORS = {
    "bool": lambda lib: lib.scalar_tensor(True),
    "int": lambda lib: lib.scalar_tensor(3),
    "float to int64": lambda lib: lib.scalar_tensor(2.5, dtype=lib.int64),
    "requires grad": lambda lib: lib.scalar_tensor(1.0, requires_grad=True),
    "float64": lambda lib: lib.scalar_tensor(-0.5, dtype=lib.float64),
}


@pytest.mark.parametrize("make", SCALAR_TENSORS)
def test_scalar_tensor(make):
    same(SCALAR_TENSORS[make])


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib: lib.scalar_tensor("a"),
        lambda lib: lib.scalar_tensor(300, dtype=lib.int8),
        lambda lib: lib.arange(6.0).split_with_sizes([2, 3]),
        lambda lib: lib.arange(6.0).split_with_sizes([7, -1]),
        lambda lib: lib.arange(6.0).split_with_sizes(2),
    ],
)
def test_scalar_tensor_and_split_with_sizes_errors(fn):
    compare_error(fn)


@pytest.mark.parametrize("sizes", [[2, 4], [0, 6], [1, 2, 3], (3, 3)])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_split_with_sizes(sizes, dim):
    compare(lambda lib, x: lib.split_with_sizes(x, sizes, dim), randn(6, 6))
    compare(lambda lib, x: x.split_with_sizes(sizes, dim=dim), randn(6, 6))


def test_set_warn_always_repeats_the_create_graph_warning():
    def warnings_of_two_backwards(lib):
        lib.set_warn_always(True)
        try:
            counts = []
            for _ in range(2):
                x = lib.ones(2, requires_grad=True)
                with pytest.warns(UserWarning) as caught:
                    (x * x).sum().backward(create_graph=True)
                counts.append(sum("create_graph=True" in str(w.message) for w in caught))
            return counts, lib.is_warn_always_enabled()
        finally:
            lib.set_warn_always(False)

    assert warnings_of_two_backwards(autograd_lite) == warnings_of_two_backwards(torch)
    assert not autograd_lite.is_warn_always_enabled()

"""Every operation, run with torch and with autograd_lite: values, dtypes, shapes, grad_fn names,
first and second derivatives must agree (see helpers.compare).

Each case is ``(fn, inputs, options)``; ``fn(lib, *tensors)`` is written once against the torch API.
float64 inputs check the gradients tightly; float32 and integer inputs check dtypes and values.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from helpers import compare, compare_error, const, distinct, integers, positive, randn

# NumPy's divide-by-zero warnings are silenced by autograd_lite at import, a filter that pytest
# drops with the rest of the import-time warning state: restore it (torch gives inf silently).

F32 = {"rtol": 1e-4, "atol": 1e-5}  # float32 kernels of torch and NumPy differ in the last bits
NO_GRAD = {"grad": False}


def describe(x) -> str:
    if isinstance(x, const):
        return "const " + describe(x.array)
    if isinstance(x, np.ndarray):
        kind = {"f": "f", "i": "i", "b": "b", "u": "u"}[x.dtype.kind]
        name = "b" if kind == "b" else f"{kind}{x.dtype.itemsize * 8}"
        return f"{name}{list(x.shape)}"
    return repr(x)


def case(label: str, fn, *inputs, xfail: str | None = None, **options):
    """One test case; ``xfail`` gives the reason for a known discrepancy with torch."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    label = f"{label}|{','.join(describe(x) for x in inputs)}"
    return pytest.param(fn, inputs, options, id=label, marks=marks)


def function_and_method(name: str, *inputs, args=(), kwargs=None, **options) -> list:
    """``torch.name(x, *rest, *args)`` and ``x.name(*rest, *args)``: both exist in torch."""
    kwargs = kwargs or {}
    spelled = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
    return [
        case(
            f"torch.{name}({spelled})",
            lambda lib, *t: getattr(lib, name)(*t, *args, **kwargs),
            *inputs,
            **options,
        ),
        case(
            f"Tensor.{name}({spelled})",
            lambda lib, x, *t: getattr(x, name)(*t, *args, **kwargs),
            *inputs,
            **options,
        ),
    ]


# ============================================================================================
# Arithmetic: + - * / **, as operators and as functions, with broadcasting and Python numbers
# ============================================================================================

OPERATORS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}
FUNCTIONS = {"+": "add", "-": "sub", "*": "mul", "/": "div", "**": "pow"}
# Shape pairs that broadcast: the gradient must be summed back over the broadcast dims.
BROADCAST_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 3), (3,)),
    ((4, 1, 3), (2, 1)),
]


def operand(symbol: str, shape, dtype=np.float64):
    """Inputs inside every operator's domain: ** needs a positive base, / a divisor away from 0."""
    return positive(*shape, dtype=dtype) if symbol in ("**", "/") else distinct(*shape, dtype=dtype)


def arithmetic_cases() -> list:
    cases = []
    for symbol, op in OPERATORS.items():
        name = FUNCTIONS[symbol]
        for a, b in BROADCAST_SHAPES:
            x, y = operand(symbol, a), operand(symbol, b)
            cases.append(case(f"x {symbol} y", lambda lib, x, y, op=op: op(x, y), x, y))
            cases += function_and_method(name, x, y)
        x32, y32 = operand(symbol, (3, 1), np.float32), operand(symbol, (4,), np.float32)
        cases.append(case(f"x {symbol} y", lambda lib, x, y, op=op: op(x, y), x32, y32, **F32))
        # One side does not require grad: only the other gets a gradient.
        x, y = operand(symbol, (2, 3)), const(operand(symbol, (3,)))
        cases.append(case(f"x {symbol} const", lambda lib, x, y, op=op: op(x, y), x, y))
        cases.append(case(f"const {symbol} x", lambda lib, x, y, op=op: op(y, x), x, y))
        # A Python number on either side.
        for number in (2, 2.5, -1):
            for dtype, tol in ((np.float64, {}), (np.float32, F32)):
                x = operand(symbol, (2, 3), dtype)
                cases.append(
                    case(f"x {symbol} {number}", lambda lib, x, n=number, op=op: op(x, n), x, **tol)
                )
                if number > 0 or symbol != "**":  # (-1) ** 0.7 is nan
                    cases.append(
                        case(
                            f"{number} {symbol} x",
                            lambda lib, x, n=number, op=op: op(n, x),
                            x,
                            **tol,
                        )
                    )
    return cases


def power_cases() -> list:
    return [
        case("x ** 0", lambda lib, x: x**0, randn(2, 3)),
        case("x ** 1", lambda lib, x: x**1, randn(2, 3)),
        case("x ** 3", lambda lib, x: x**3, randn(2, 3)),
        case("x ** 0.5", lambda lib, x: x**0.5, positive(2, 3)),
        case("x ** -2", lambda lib, x: x**-2, distinct(2, 3)),
        case("x ** x", lambda lib, x: x**x, positive(2, 3)),
        case("x ** 0-d", lambda lib, x, e: x**e, positive(2, 3), positive()),
        # At 0 the derivatives follow torch's conventions (0 instead of 0 * inf, or nan).
        case("0 ** x", lambda lib, x: 0**x, np.array([0.0, 1.0, -1.0, 2.5])),
        case(
            "x ** y at 0",
            lambda lib, x, y: x**y,
            np.array([0.0, 0, 0, 2]),
            np.array([0.0, 1, 2.5, 0]),
        ),
        case("x ** y, y < 0", lambda lib, x, y: x**y, np.array([0.0, 2]), np.array([-1.0, -1.5])),
        case("x ** 0 at 0", lambda lib, x: x**0, np.array([0.0, 1.0])),
        case("x ** 0.5 at 0", lambda lib, x: x**0.5, np.array([0.0, 1.0])),
        case("x ** 3 at 0", lambda lib, x: x**3, np.array([0.0, 1.0])),
        case("torch.pow(2, x)", lambda lib, x: lib.pow(2, x), randn(2, 3)),
        case("torch.pow(x, 2)", lambda lib, x: lib.pow(x, 2), randn(2, 3)),
        case("x.pow(3)", lambda lib, x: x.pow(3), randn(2, 3)),
        case("torch.add(alpha)", lambda lib, x, y: lib.add(x, y, alpha=2), randn(2, 3), randn(3)),
        case("torch.sub(alpha)", lambda lib, x, y: lib.sub(x, y, alpha=2), randn(2, 3), randn(3)),
    ]


# ============================================================================================
# Elementwise unary operations
# ============================================================================================

# name -> inputs inside its domain and away from its kinks
UNARY = {
    "neg": randn,
    "abs": distinct,
    "exp": randn,
    "log": positive,
    "sqrt": positive,
    "sin": randn,
    "cos": randn,
    "tan": lambda *shape, dtype=np.float64: np.asarray(0.5 * randn(*shape, dtype=dtype)),
    "tanh": randn,
    "sigmoid": randn,
    "relu": distinct,
    "reciprocal": distinct,
    "square": randn,
}


def unary_cases() -> list:
    cases = []
    for name, make in UNARY.items():
        cases += function_and_method(name, make(3, 4))
        cases += function_and_method(name, make())
        cases += function_and_method(name, make(3, 4, dtype=np.float32), **F32)
        # Integer inputs: exp/log/... compute in float32, neg/abs/relu/square stay int64.
        ints = integers(3, 4, low=1) if name in ("log", "sqrt", "reciprocal") else integers(3, 4)
        cases += function_and_method(name, ints, **F32)
    cases.append(case("-x", lambda lib, x: -x, randn(3, 4)))
    cases.append(case("abs(x)", lambda lib, x: abs(x), distinct(3, 4)))
    return cases


# ============================================================================================
# Matrix products
# ============================================================================================

MATMUL_SHAPES = [
    ((3,), (3,)),  # dot
    ((2, 3), (3, 4)),  # mm
    ((2, 3), (3,)),  # mv
    ((3,), (3, 4)),  # vector @ matrix
    ((5, 2, 3), (5, 3, 4)),  # batched
    ((5, 2, 3), (3, 4)),  # batched @ one matrix (broadcast)
    ((3,), (5, 3, 4)),
    ((5, 3, 4), (4,)),
    ((3, 4), (5, 4, 2)),  # torch ends in CloneBackward0 here
    ((1, 3, 4), (5, 4, 2)),
    ((2, 1, 3, 4), (5, 4, 2)),
]


def matmul_cases() -> list:
    cases = []
    for a, b in MATMUL_SHAPES:
        cases.append(case("x @ y", lambda lib, x, y: x @ y, randn(*a), randn(*b)))
        cases += function_and_method("matmul", randn(*a), randn(*b))
    cases.append(
        case(
            "x @ y",
            lambda lib, x, y: x @ y,
            randn(2, 3, dtype=np.float32),
            randn(3, 4, dtype=np.float32),
            **F32,
        )
    )
    cases += function_and_method("mm", randn(2, 3), randn(3, 4))
    cases += function_and_method("mv", randn(2, 3), randn(3))
    cases += function_and_method("dot", randn(3), randn(3))
    cases += function_and_method("outer", randn(3), randn(4))
    cases += function_and_method("mm", integers(2, 3), integers(3, 4))
    cases.append(case("x @ const", lambda lib, x, y: x @ y, randn(2, 3), const(randn(3, 4))))
    return cases


# ============================================================================================
# Shapes and views
# ============================================================================================


def shape_cases() -> list:
    x = randn(2, 3, 4)
    return [
        *function_and_method("transpose", x, args=(0, 2)),
        *function_and_method("transpose", x, args=(-1, 1)),
        *function_and_method("t", randn(3, 4)),
        *function_and_method("t", randn(3)),
        case("x.T", lambda lib, x: x.T, randn(3, 4)),
        case("x.T", lambda lib, x: x.T, randn(2, 3, 4)),
        case("x.T", lambda lib, x: x.T, randn(3)),
        case("x.T", lambda lib, x: x.T, randn()),
        *function_and_method("permute", x, args=((2, 0, 1),)),
        case("x.permute(*dims)", lambda lib, x: x.permute(2, 0, 1), x),
        case("x.permute(-1)", lambda lib, x: x.permute(0, -1, 1), x),
        *function_and_method("reshape", x, args=((4, 6),)),
        case("x.reshape(*shape)", lambda lib, x: x.reshape(4, -1), x),
        case("x.reshape(-1)", lambda lib, x: x.reshape(-1), x),
        case("x.t().reshape", lambda lib, x: x.t().reshape(12), randn(3, 4)),
        case("x.view(*shape)", lambda lib, x: x.view(3, 8), x),
        case("x.view(shape)", lambda lib, x: x.view((-1, 2)), x),
        case("x.view(-1)", lambda lib, x: x.view(-1), x),
        *function_and_method("flatten", x),
        *function_and_method("flatten", x, args=(1,)),
        *function_and_method("flatten", x, kwargs={"start_dim": 0, "end_dim": 1}),
        *function_and_method("flatten", randn()),
        *function_and_method("squeeze", randn(3, 1, 4, 1)),
        *function_and_method("squeeze", randn(3, 1, 4, 1), args=(1,)),
        *function_and_method("squeeze", randn(3, 1, 4, 1), args=(0,)),
        *function_and_method("squeeze", randn(3, 1, 4, 1), args=(-1,)),
        *function_and_method("squeeze", randn(3, 1, 4, 1), args=((1, 3),)),
        *function_and_method("unsqueeze", randn(3, 4), args=(0,)),
        *function_and_method("unsqueeze", randn(3, 4), args=(-1,)),
        *function_and_method("unsqueeze", randn(3, 4), args=(1,)),
        *function_and_method("unsqueeze", randn(), args=(0,)),
        case("x.expand(*sizes)", lambda lib, x: x.expand(3, 4), randn(3, 1)),
        case("x.expand(sizes)", lambda lib, x: x.expand((2, 3, 4)), randn(3, 1)),
        case("x.expand(-1)", lambda lib, x: x.expand(2, -1, 4), randn(3, 1)),
        case("x.expand_as(y)", lambda lib, x, y: x.expand_as(y), randn(4), const(randn(3, 4))),
    ]


# ============================================================================================
# Reductions
# ============================================================================================


def reduction_cases() -> list:
    cases = []
    x = randn(2, 3, 4)
    for name in ("sum", "mean"):
        cases += function_and_method(name, x)
        cases += function_and_method(name, x, args=(1,))
        cases += function_and_method(name, x, args=(-1,))
        cases += function_and_method(name, x, args=((0, 2),))
        cases += function_and_method(name, x, args=(1,), kwargs={"keepdim": True})
        cases += function_and_method(name, x, kwargs={"dim": (0, -1), "keepdim": True})
        cases += function_and_method(name, randn())
        cases += function_and_method(name, randn(3, 4, dtype=np.float32), args=(0,), **F32)
    cases += function_and_method("sum", integers(3, 4), args=(0,))
    cases += function_and_method("sum", integers(3, 4, dtype=np.int32))
    cases += function_and_method("sum", integers(3, 4) > 0)

    for name in ("std", "var"):
        cases += function_and_method(name, x)
        cases += function_and_method(name, x, args=(1,))
        cases += function_and_method(name, x, args=((0, 2),), kwargs={"keepdim": True})
        cases += function_and_method(name, x, kwargs={"dim": -1, "unbiased": False})
        cases += function_and_method(name, x, kwargs={"dim": 0, "correction": 0})
        cases += function_and_method(name, randn(3, 4, dtype=np.float32), args=(1,), **F32)

    y = distinct(3, 4)
    for name in ("max", "min"):
        cases += function_and_method(name, y)
        cases += function_and_method(name, y, args=(1,))
        cases += function_and_method(name, y, args=(0,), kwargs={"keepdim": True})
        cases += function_and_method(name, y, args=(-1,))
        cases += function_and_method(name, distinct(2, 3, 4), args=(1,))
        cases += function_and_method(name, y, distinct(3, 4))  # elementwise, like maximum
        cases += function_and_method(name, integers(3, 4), args=(1,))
        cases.append(case(f"{name}(dim).values", lambda lib, x, n=name: getattr(x, n)(1)[0], y))
        cases.append(
            case(f"{name}(dim=0).indices", lambda lib, x, n=name: getattr(lib, n)(x, dim=0)[1], y)
        )
    cases += function_and_method("argmax", y)
    cases += function_and_method("argmax", y, args=(1,))
    cases += function_and_method("argmax", y, kwargs={"dim": 0, "keepdim": True})
    cases += function_and_method("argmin", y, args=(-1,))

    cases += function_and_method("norm", x)
    cases += function_and_method("norm", x, kwargs={"dim": 1})
    cases += function_and_method("norm", x, kwargs={"p": 1})
    cases += function_and_method("norm", distinct(3, 4), kwargs={"p": 1, "dim": 0})
    cases += function_and_method("norm", x, kwargs={"dim": (0, 2), "keepdim": True})
    cases += function_and_method("norm", randn(3, 4, dtype=np.float32), **F32)

    # inf - inf: torch gives nan without a warning (NumPy would warn)
    infinities = np.array([np.inf, -np.inf, 1.0])
    cases += function_and_method("sum", infinities, **NO_GRAD)
    cases += function_and_method("cumsum", infinities, args=(0,), **NO_GRAD)
    cases += function_and_method("mean", infinities, **NO_GRAD)
    cases += function_and_method("mean", np.zeros((0, 3)), args=(0,), **NO_GRAD)
    cases += function_and_method("mean", np.zeros((0, 3)), **NO_GRAD)
    cases += function_and_method("cumsum", x, args=(0,))
    cases += function_and_method("cumsum", x, args=(-1,))
    cases += function_and_method("cumsum", integers(3, 4), kwargs={"dim": 1})
    return cases


# ============================================================================================
# Selection: clamp, where, maximum/minimum, cat/stack, softmax
# ============================================================================================


def selection_cases() -> list:
    x = distinct(3, 4)
    cases = [
        *function_and_method("clamp", x, kwargs={"min": -0.5}),
        *function_and_method("clamp", x, kwargs={"max": 0.5}),
        *function_and_method("clamp", x, args=(-0.5, 0.5)),
        *function_and_method("clamp", integers(3, 4), args=(-2, 2)),
        *function_and_method("clamp", integers(3, 4), args=(-2.5,)),
        # Tensor bounds (random, so never equal to an input): each gets the gradient where it wins.
        case("clamp(t, t)", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), x, randn(4), randn(3, 1)),
        case("x.clamp(min=t)", lambda lib, x, lo: x.clamp(min=lo), x, const(randn(4))),
        case("x.clamp(max=t)", lambda lib, x, hi: x.clamp(max=hi), x, const(randn(3, 1))),
        case("clamp(min > max)", lambda lib, x, lo, hi: x.clamp(lo, hi), x, randn(4) + 3, randn(4)),
        case("torch.where", lambda lib, x, y: lib.where(x > 0, x, y), distinct(3, 4), randn(4)),
        case("torch.where(x, 0.)", lambda lib, x: lib.where(x > 0, x, 0.0), distinct(3, 4)),
        case("torch.where(1., x)", lambda lib, x: lib.where(x > 0, 1.0, x), distinct(3, 4)),
        case(
            "torch.where(cond)",
            lambda lib, c, x, y: lib.where(c, x, y),
            integers(3, 1) > 0,
            randn(1, 4),
            randn(3, 4),
        ),
        case("x.where", lambda lib, x, y: x.where(x > 0, y), distinct(3, 4), randn(3, 4)),
        case(
            "torch.where(f32, f64)",
            lambda lib, x, y: lib.where(x > 0, x, y),
            distinct(3, 4, dtype=np.float32),
            randn(3, 4),
        ),
    ]
    for name in ("maximum", "minimum"):
        for a, b in BROADCAST_SHAPES:
            cases += function_and_method(name, distinct(*a), distinct(*b))
        cases += function_and_method(name, distinct(3, 4, dtype=np.float32), integers(3, 4))

    for dim in (0, 1, -1, -2):
        cases.append(
            case(f"torch.cat(dim={dim})", lambda lib, *t, d=dim: lib.cat(t, d), x, randn(3, 4))
        )
        cases.append(
            case(f"torch.stack(dim={dim})", lambda lib, *t, d=dim: lib.stack(t, d), x, randn(3, 4))
        )
    cases += [
        case("torch.cat(3 parts)", lambda lib, *t: lib.cat(t, 1), x, randn(3, 1), randn(3, 2)),
        case("torch.cat(dim=kw)", lambda lib, *t: lib.cat(list(t), dim=0), x, randn(1, 4)),
        case("torch.cat(f32, f64)", lambda lib, *t: lib.cat(t), randn(2, dtype=np.float32), x[0]),
        case("torch.stack(dim=2)", lambda lib, *t: lib.stack(t, 2), x, randn(3, 4)),
        case("torch.stack(const)", lambda lib, *t: lib.stack(t), x, const(randn(3, 4))),
    ]
    for name in ("softmax", "log_softmax"):
        for dim in (0, 1, -1):
            cases += function_and_method(name, randn(3, 4), args=(dim,))
        cases += function_and_method(name, randn(2, 3, 4), kwargs={"dim": 1})
        cases += function_and_method(name, randn(3, 4, dtype=np.float32), args=(1,), **F32)
    return cases


# ============================================================================================
# Indexing
# ============================================================================================

INDEXES = {
    "x[1]": lambda x: x[1],
    "x[-1]": lambda x: x[-1],
    "x[1:3]": lambda x: x[1:3],
    "x[::2]": lambda x: x[::2],
    "x[1::2, ::3]": lambda x: x[1::2, ::3],
    "x[:, 1]": lambda x: x[:, 1],
    "x[1:, 0]": lambda x: x[1:, 0],
    "x[..., 1]": lambda x: x[..., 1],
    "x[1, ...]": lambda x: x[1, ...],
    "x[1, 2]": lambda x: x[1, 2],
    "x[-1, -2]": lambda x: x[-1, -2],
    "x[None]": lambda x: x[None],
    "x[:, None]": lambda x: x[:, None],
    "x[..., None]": lambda x: x[..., None],
    "x[:]": lambda x: x[:],
    "x[-3:-1]": lambda x: x[-3:-1],
    "x[[0, 2, 0]]": lambda x: x[[0, 2, 0]],
    "x[:, [1, 1, 3]]": lambda x: x[:, [1, 1, 3]],
    "x[[0, 1], [2, 2]]": lambda x: x[[0, 1], [2, 2]],
    "x[1, [0, 2]]": lambda x: x[1, [0, 2]],
    "x[x > 0]": lambda x: x[x > 0],
    "x[x[:, 0] > 0]": lambda x: x[x[:, 0] > 0],
}


def indexing_cases() -> list:
    cases = [
        case(label, lambda lib, x, f=index: f(x), randn(3, 4)) for label, index in INDEXES.items()
    ]
    cases += [
        case("x[tensor]", lambda lib, x, i: x[i], randn(3, 4), np.array([2, 0, 2])),
        case("x[tensor 2-D]", lambda lib, x, i: x[i], randn(3, 4), np.array([[0, 1], [1, 1]])),
        case("x[int32 tensor]", lambda lib, x, i: x[i], randn(3, 4), np.array([2, 0], np.int32)),
        case("x[:, tensor]", lambda lib, x, i: x[:, i], randn(3, 4), np.array([3, 3, 0])),
        case("x[mask]", lambda lib, x, m: x[m], randn(3, 4), integers(3, 4) > 0),
        case("x[row mask]", lambda lib, x, m: x[m], randn(3, 4), np.array([True, False, True])),
        case("x[0-d tensor]", lambda lib, x, i: x[i], randn(3, 4), np.array(1)),
        case("x[i][j]", lambda lib, x: x[1][2], randn(3, 4)),
        case("x[1] of f32", lambda lib, x: x[1], randn(3, 4, dtype=np.float32)),
        case("x[[0, 0]] of int", lambda lib, x: x[[0, 0]], integers(3, 4)),
    ]
    return cases


# ============================================================================================
# Comparisons and logic (no gradients; bool results)
# ============================================================================================

COMPARISONS = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def comparison_cases() -> list:
    # Small integers as floats: equal pairs occur, so == and <= are tested where they matter.
    def ties(*shape):
        return integers(*shape, low=-2, high=3).astype(np.float64)

    cases = []
    for symbol, op in COMPARISONS.items():
        for a, b in BROADCAST_SHAPES[:5]:
            cases.append(
                case(f"x {symbol} y", lambda lib, x, y, op=op: op(x, y), ties(*a), ties(*b))
            )
        cases.append(case(f"x {symbol} 1", lambda lib, x, op=op: op(x, 1), ties(3, 4)))
        cases.append(case(f"1 {symbol} x", lambda lib, x, op=op: op(1, x), ties(3, 4)))
        cases.append(case(f"x {symbol} 0.5", lambda lib, x, op=op: op(x, 0.5), integers(3, 4)))
        cases.append(case(f"i {symbol} f", lambda lib, x, y, op=op: op(x, y), integers(4), ties(4)))
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        cases += function_and_method(name, ties(3, 4), ties(4))
        cases += function_and_method(name, ties(3, 4), args=(0,))
    masks = integers(3, 4) > 0
    for name in ("all", "any"):
        cases += function_and_method(name, masks)
        cases += function_and_method(name, masks, args=(1,))
        cases += function_and_method(name, masks, kwargs={"dim": 0, "keepdim": True})
        cases += function_and_method(name, ties(3, 4))
        cases.append(case(f"(x > 0).{name}()", lambda lib, x, n=name: getattr(x > 0, n)(), ties(3)))
    cases += [
        case("(x > 0) & (x < 1)", lambda lib, x: (x > 0) & (x < 1), ties(3, 4)),
        case("(x > 0) | (x < -1)", lambda lib, x: (x > 0) | (x < -1), ties(3, 4)),
        case("~(x > 0)", lambda lib, x: ~(x > 0), ties(3, 4)),
        case("(x > 0).float()", lambda lib, x: (x > 0).float(), ties(3, 4)),
        case("(x > 0).sum()", lambda lib, x: (x > 0).sum(), ties(3, 4)),
        case("torch.equal", lambda lib, x, y: lib.equal(x, y), ties(3), ties(3)),
        case("torch.equal(x, x)", lambda lib, x: lib.equal(x, x * 1), ties(3)),
    ]
    return cases


# ============================================================================================
# Python side: sizes, conversions to numbers and lists, iteration, dtype conversions
# ============================================================================================


def python_side_cases() -> list:
    x = randn(3, 4)
    return [
        case("x.size()", lambda lib, x: x.size(), x),
        case("x.size(1)", lambda lib, x: x.size(1), x),
        case("x.size(-1)", lambda lib, x: x.size(-1), x),
        case("x.shape", lambda lib, x: x.shape, x),
        case("x.shape[0]", lambda lib, x: x.shape[0], x),
        case("x.ndim", lambda lib, x: x.ndim, x),
        case("x.dim()", lambda lib, x: x.dim(), x),
        case("x.numel()", lambda lib, x: x.numel(), x),
        case("torch.numel(x)", lambda lib, x: lib.numel(x), x),
        case("x.dtype", lambda lib, x: x.dtype, x),
        case("x.sum().item()", lambda lib, x: x.sum().item(), x),
        case("x[0, 0].item()", lambda lib, x: x[0, 0].item(), integers(3, 4)),
        case("x.item() of bool", lambda lib, x: (x > 0).all().item(), x),
        case("x.item() of [1]", lambda lib, x: x[:1, 0].item(), x),
        case("x.tolist()", lambda lib, x: x.tolist(), x),
        case("x.tolist() of int", lambda lib, x: x.tolist(), integers(3, 4)),
        case("x.tolist() of 0-d", lambda lib, x: x.tolist(), randn()),
        case("x.tolist() of bool", lambda lib, x: (x > 0).tolist(), x),
        case("float(x)", lambda lib, x: float(x.sum()), x),
        case("float(x) of detached", lambda lib, x: float(x.sum().detach()), x),
        case("int(x)", lambda lib, x: int(x[0, 0]), integers(3, 4)),
        case("bool(x)", lambda lib, x: bool(x[0, 0] > 0), x),
        case("len(x)", lambda lib, x: len(x), x),
        case("list(x)", lambda lib, x: list(x), x),
        case("[r.sum() for r in x]", lambda lib, x: [row.sum() for row in x], x),
        case("tuple(x[0])", lambda lib, x: tuple(x[0]), x),
        *function_and_method("unbind", x),
        *function_and_method("unbind", x, args=(1,)),
        *function_and_method("unbind", randn(2, 3, 4), kwargs={"dim": -1}),
        case("unbind()[1]", lambda lib, x: x.unbind()[1], x),
        case("x.to(torch.float64)", lambda lib, x: x.to(lib.float64), randn(3, dtype=np.float32)),
        case("x.to(torch.float32)", lambda lib, x: x.to(lib.float32), x, **F32),
        case("x.to(dtype=)", lambda lib, x: x.to(dtype=lib.float32), x, **F32),
        case("x.to(torch.float64) same", lambda lib, x: x.to(lib.float64), x),
        case("x.to(y)", lambda lib, x, y: x.to(y), x, integers(2)),
        case("x.to('cpu')", lambda lib, x: x.to("cpu"), x),
        case("x.float()", lambda lib, x: x.float(), x, **F32),
        case("x.double()", lambda lib, x: x.double(), randn(3, dtype=np.float32)),
        case("x.long()", lambda lib, x: x.long(), 3 * x),
        case("x.int()", lambda lib, x: x.int(), 3 * x),
        case("x.bool()", lambda lib, x: x.bool(), integers(3, 4)),
        case("x.float() of int", lambda lib, x: x.float(), integers(3, 4)),
        case("x.long() of bool", lambda lib, x: (x > 0).long(), x),
        case("x.float() * x", lambda lib, x: x.float() * x, x, **F32),
        case("x.detach()", lambda lib, x: x.detach(), x),
        case("x.clone()", lambda lib, x: x.clone(), x),
        case("x.is_leaf", lambda lib, x: (x.is_leaf, (x * 2).is_leaf), x),
    ]


CASES = (
    arithmetic_cases()
    + power_cases()
    + unary_cases()
    + matmul_cases()
    + shape_cases()
    + reduction_cases()
    + selection_cases()
    + indexing_cases()
    + comparison_cases()
    + python_side_cases()
)


@pytest.mark.parametrize("fn, inputs, options", CASES)
def test_op(fn, inputs, options):
    compare(fn, *inputs, **options)


# ============================================================================================
# Errors: the same exception class and first line of the message as torch
# ============================================================================================

ERRORS = [
    case("broadcast", lambda lib, x, y: x + y, randn(2, 3), randn(4)),
    case("broadcast *", lambda lib, x, y: x * y, randn(2, 3), randn(2, 1, 4)),
    case("broadcast ==", lambda lib, x, y: x == y, randn(3), randn(4)),
    case("maximum broadcast", lambda lib, x, y: lib.maximum(x, y), randn(3), randn(2)),
    case("mm inner size", lambda lib, x, y: x.mm(y), randn(2, 3), randn(4, 2)),
    case("@ inner size", lambda lib, x, y: x @ y, randn(2, 3), randn(2, 3)),
    case("mm not a matrix", lambda lib, x, y: lib.mm(x, y), randn(3), randn(3, 2)),
    case("mm dtypes", lambda lib, x, y: lib.mm(x, y), randn(2, 3, dtype=np.float32), randn(3, 2)),
    case("mm int x float", lambda lib, x, y: lib.mm(x, y), integers(2, 3), randn(3, 2)),
    case("@ f32 x f64", lambda lib, x, y: x @ y, randn(2, 3, dtype=np.float32), randn(3, 4)),
    *[
        case(f"@ {describe(x)} x {describe(y)}", lambda lib, x, y: x @ y, x, y)
        for a, b in MATMUL_SHAPES
        for x, y in [(randn(*a, dtype=np.float32), randn(*b)), (integers(*a), randn(*b))]
    ],
    # Without grad on the left, torch multiplies the batch with bmm: another message.
    case(
        "const @ batch dtypes",
        lambda lib, x, y: x @ y,
        const(randn(2, 3)),
        randn(5, 3, 4, dtype=np.float32),
    ),
    case(
        "const @ batch dtypes",
        lambda lib, x, y: x @ y,
        const(randn(3)),
        randn(5, 3, 4, dtype=np.float32),
    ),
    case("mv dtypes", lambda lib, x, y: lib.mv(x, y), randn(2, 3), integers(3)),
    case("dot dtypes", lambda lib, x, y: x.dot(y), randn(3), randn(3, dtype=np.float32)),
    case("@ int x float", lambda lib, x, y: x @ y, integers(2, 3), randn(3, 2)),
    case("dot sizes", lambda lib, x, y: lib.dot(x, y), randn(3), randn(4)),
    case("dot 2-D", lambda lib, x, y: lib.dot(x, y), randn(3, 1), randn(3)),
    case("matmul 0-d", lambda lib, x, y: lib.matmul(x, y), randn(), randn(3)),
    case("view non-contiguous", lambda lib, x: x.t().view(12), randn(3, 4)),
    case("view bad size", lambda lib, x: x.view(5, -1), randn(3, 4)),
    case("reshape bad size", lambda lib, x: x.reshape(5, 2), randn(3, 4)),
    case("reshape two -1", lambda lib, x: x.reshape(-1, -1), randn(3, 4)),
    case("item of many", lambda lib, x: x.item(), randn(3)),
    case("bool of many", lambda lib, x: bool(x > 0), randn(3)),
    case("if tensor", lambda lib, x: 1 if x else 0, randn(2, 2)),
    case("len of 0-d", lambda lib, x: len(x), randn()),
    case("iterate 0-d", lambda lib, x: list(x), randn()),
    case("index out of range", lambda lib, x: x[3], randn(3, 4)),
    case("index -4", lambda lib, x: x[-4], randn(3, 4)),
    case("index dim 1 out of range", lambda lib, x: x[:, 4], randn(3, 4)),
    case("too many indices", lambda lib, x: x[0, 0, 0], randn(3, 4)),
    case("index 0-d", lambda lib, x: x[0], randn()),
    case("index list out of range", lambda lib, x: x[[0, 5]], randn(3, 4)),
    case("index float tensor", lambda lib, x, i: x[i], randn(3), const(np.array([0.0, 1.0]))),
    case("sum dim out of range", lambda lib, x: x.sum(2), randn(3, 4)),
    case("mean dim out of range", lambda lib, x: x.mean(-3), randn(3, 4)),
    case("softmax dim out of range", lambda lib, x: x.softmax(2), randn(3, 4)),
    case("unsqueeze out of range", lambda lib, x: x.unsqueeze(3), randn(3, 4)),
    case("transpose out of range", lambda lib, x: x.transpose(0, 2), randn(3, 4)),
    case("size out of range", lambda lib, x: x.size(2), randn(3, 4)),
    case("max dim out of range", lambda lib, x: x.max(5), randn(3, 4)),
    case("cat sizes", lambda lib, x, y: lib.cat([x, y]), randn(2, 3), randn(2, 4)),
    case("cat dims", lambda lib, x, y: lib.cat([x, y]), randn(2, 3), randn(3)),
    case("cat dim out of range", lambda lib, x, y: lib.cat([x, y], 2), randn(2, 3), randn(2, 3)),
    case("stack sizes", lambda lib, x, y: lib.stack([x, y]), randn(2, 3), randn(3, 2)),
    case("stack dim out of range", lambda lib, x, y: lib.stack([x, y], 3), randn(3), randn(3)),
    case("expand size", lambda lib, x: x.expand(3, 4), randn(2, 1)),
    case("expand fewer dims", lambda lib, x: x.expand(4), randn(2, 4)),
    case("t() of 3-D", lambda lib, x: x.t(), randn(2, 3, 4)),
    case("mean of int", lambda lib, x: x.mean(), integers(3)),
    case("torch.mean of int", lambda lib, x: lib.mean(x, 0), integers(3, 2)),
    case("int ** -1", lambda lib, x: x**-1, integers(3)),
    case("int.pow(-2)", lambda lib, x: x.pow(-2), integers(3)),
    case("softmax without dim", lambda lib, x: lib.softmax(x), randn(3)),
    case("x.softmax without dim", lambda lib, x: x.softmax(), randn(3)),
    case("-bool", lambda lib, x: -(x > 0), randn(3)),
    case("float & float", lambda lib, x: x & x, randn(3)),
    case("numpy of requires_grad", lambda lib, x: x.numpy(), randn(3)),
    case("requires_grad_() on int", lambda lib, x: x.requires_grad_(), integers(3)),
    case(
        "requires_grad = True on int", lambda lib, x: setattr(x, "requires_grad", True), integers(3)
    ),
    case("tensor(ints, requires_grad)", lambda lib: lib.tensor([1, 2], requires_grad=True)),
    case(
        "zeros(long, requires_grad)", lambda lib: lib.zeros(2, dtype=lib.long, requires_grad=True)
    ),
    case("backward of non-scalar", lambda lib, x: (x * 2).backward(), randn(3)),
    case("backward twice", lambda lib, x: [y.backward() for y in [(x * x).sum()] * 2], randn(3)),
    case("in-place on leaf", lambda lib, x: x.add_(1), randn(3)),
    case("permute wrong length", lambda lib, x: x.permute(1, 0), randn(2, 3, 4)),
    case("where non-bool", lambda lib, x: lib.where(x, x, x), randn(3)),
    case("clamp without bounds", lambda lib, x: lib.clamp(x), randn(3)),
]


@pytest.mark.parametrize("fn, inputs, options", ERRORS)
def test_error(fn, inputs, options):
    compare_error(fn, *inputs)

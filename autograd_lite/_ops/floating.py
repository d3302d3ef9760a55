"""Pointwise functions about a number's parts, sign and special values: ``frac``, ``sgn``,
``signbit``, ``positive``, ``copysign``, ``nextafter``, ``nan_to_num``, ``isposinf``,
``isneginf``, ``isreal``, ``fmax``, ``fmin`` (maximum and minimum that ignore nan) and
``heaviside``.

How to read an operation: its class (``Frac``, whose ``_name`` is torch's backward node,
``FracBackward0``) holds the forward in NumPy (``compute``) and the gradient rule
(``gradient(self, grad)``), written in the library's own tensor operations so that it also builds
a graph under ``create_graph=True``.
"""

from __future__ import annotations

import collections

import numpy as np

from .._tensor import Tensor, make_tensor
from ._base import _not_tensor, _record, _scalar_name, _tracks, _type_name
from ._elementwise import BinaryFloat, binary
from .comparison import isfinite
from .pointwise import Sgn, UnaryOp, _unary, where


def _data_of(input, name: str):
    try:
        return input._data
    except AttributeError:
        raise _not_tensor(name, input) from None


class Frac(UnaryOp):
    """x - trunc(x): the gradient passes unchanged."""

    _name = "FracBackward0"
    saves = None

    @staticmethod
    def compute(x):
        return x - np.trunc(x)

    def gradient(self, grad):
        return (grad,)


def frac(input):
    kind = _data_of(input, "frac").dtype.kind
    if kind != "f":
        raise NotImplementedError(
            f"\"frac_cpu\" not implemented for '{_scalar_name(input._data.dtype)}'"
        )
    return _unary(Frac, input)


def sgn(input):
    if _data_of(input, "sgn").dtype.kind == "b":
        return make_tensor(input._data.copy())
    return _unary(Sgn, input, floating=False)


def signbit(input):
    return make_tensor(np.signbit(_data_of(input, "signbit")))


def positive(input):
    """``+x``: the tensor itself (torch returns it, not a copy)."""
    if _data_of(input, "positive").dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def isposinf(input):
    return make_tensor(np.isposinf(_data_of(input, "isposinf")))


def isneginf(input):
    return make_tensor(np.isneginf(_data_of(input, "isneginf")))


def isreal(input):
    """Every real tensor's elements are real (complex tensors are outside this library)."""
    return make_tensor(np.ones(_data_of(input, "isreal").shape, dtype=bool))


class NanToNum(UnaryOp):
    """nan, inf and -inf replaced by numbers: the replaced elements get no gradient."""

    _name = "NanToNumBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * isfinite(x),)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    data = _data_of(input, "nan_to_num")
    if data.dtype.kind != "f":
        return make_tensor(data.copy())
    info = np.finfo(data.dtype)
    out = np.nan_to_num(
        data,
        nan=nan,
        posinf=info.max if posinf is None else posinf,
        neginf=info.min if neginf is None else neginf,
    )
    if _tracks(input):
        node = NanToNum()
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


# --------------------------------------------------------------------------------------------
# Two operands
# --------------------------------------------------------------------------------------------


class Copysign(BinaryFloat):
    """|input| with other's sign.  The input's gradient is grad * result / input (+-1), 0 at
    input = 0; other gets none (torch: CopysignBackward0 with a tensor, 1 with a number)."""

    _name = "CopysignBackward0"
    saved_names = ("self", "other")
    numbers = True
    compute = staticmethod(np.copysign)

    def gradient(self, grad):
        x, other = self.saved_tensors
        other = self.other if other is None else other
        zero = x == 0
        safe = where(zero, 1.0, x)  # (a 0/0 would poison the second derivative at 0)
        sign_ratio = where(zero, 0.0, grad * (copysign(safe, other) / safe))
        return sign_ratio, make_tensor(np.zeros_like(grad._data))  # (torch: zeros for other)


def copysign(input, other):
    if not isinstance(input, Tensor):
        raise _not_tensor("copysign", input, other)
    out = binary(Copysign, "copysign", input, other)
    if out._grad_fn is not None and not isinstance(other, Tensor):
        out._grad_fn._rename("CopysignBackward1")
    return out


class Nextafter(BinaryFloat):
    """The next float after input towards other: torch records a node whose rule is zeros."""

    _name = "NextafterBackward0"
    saved_names = ("self", "other")
    kinds = "float only"
    kernel = "nextafter_cpu"
    compute = staticmethod(np.nextafter)

    def gradient(self, grad):
        # torch's rule: input gets the gradient where it moved, other none; outside any graph
        a, b = self.saved_tensors
        g = grad._data
        return make_tensor(g * (a._data != b._data)), make_tensor(np.zeros_like(g))


def nextafter(input, other):
    return binary(Nextafter, "nextafter", input, other)


class Fmax(BinaryFloat):
    """maximum, except that a nan loses to a number.  The winner takes the whole gradient
    (on a tie: input), as torch's rule."""

    _name = "FmaxBackward0"
    saved_names = ("self", "other")
    kinds = "any"
    compute = staticmethod(np.fmax)

    def gradient(self, grad):
        a, b = self.saved_tensors
        input_wins = (a >= b) | b.isnan()
        return where(input_wins, grad, 0.0), where(input_wins, 0.0, grad)


class Fmin(BinaryFloat):
    _name = "FminBackward0"
    saved_names = ("self", "other")
    kinds = "any"
    compute = staticmethod(np.fmin)

    def gradient(self, grad):
        a, b = self.saved_tensors
        input_wins = (a <= b) | b.isnan()
        return where(input_wins, grad, 0.0), where(input_wins, 0.0, grad)


def fmax(input, other):
    return binary(Fmax, "fmax", input, other)


def fmin(input, other):
    return binary(Fmin, "fmin", input, other)


class Heaviside(BinaryFloat):
    """0 below 0, 1 above, ``values`` at 0.  torch has no derivative for it."""

    _name = "torch::autograd::NotImplemented"
    kinds = "any"
    saves = False

    @staticmethod
    def compute(x, values):
        return np.where(x == 0, values, (x > 0).astype(np.asarray(x).dtype))

    def gradient(self, grad):
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input, values):
    if not isinstance(input, Tensor):
        raise _not_tensor("heaviside", input, values)
    if not isinstance(values, Tensor):
        raise TypeError(
            f"heaviside(): argument 'values' (position 2) must be Tensor, not {_type_name(values)}"
        )
    if input._data.dtype != values._data.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return binary(Heaviside, "heaviside", input, values)


# --------------------------------------------------------------------------------------------
# Complex-number functions on real tensors: angle, conj_physical, real, imag
# --------------------------------------------------------------------------------------------


class Angle(UnaryOp):
    """The argument of a real number: 0 (x >= 0) or pi (x < 0); its gradient is zero."""

    _name = "AngleBackward0"
    saves = None

    @staticmethod
    def compute(x):
        angle = np.where(x < 0, x.dtype.type(np.pi), x.dtype.type(0))
        return np.where(np.isnan(x), x, angle)

    def gradient(self, grad):
        return (grad * 0,)


def angle(input):
    return _unary(Angle, input)


def conj_physical(input):
    """The conjugate of a real tensor is the tensor itself (torch returns it)."""
    _data_of(input, "conj_physical")
    return input


class ConjPhysicalInPlace(UnaryOp):
    """``x.conj_physical_()``: nothing changes in a real tensor, but torch records the write."""

    _name = "ConjPhysicalBackward1"
    saves = None
    compute = staticmethod(np.copy)

    def gradient(self, grad):
        return (grad,)


def conj_physical_(input):
    _data_of(input, "conj_physical_")
    input._check_inplace()
    if _tracks(input):
        return input._assign(_unary(ConjPhysicalInPlace, input, floating=False))
    return input


def real(input):
    _data_of(input, "real")
    return input


def imag(input):
    _data_of(input, "imag")
    raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")


class Frexp(UnaryOp):
    """x = mantissa * 2 ** exponent: the mantissa's gradient is grad / 2 ** exponent."""

    _name = "FrexpBackward0"
    saves = None

    def gradient(self, grad):
        return (grad / 2.0**self.exponent,)


class frexp_result(collections.namedtuple("frexp", ["mantissa", "exponent"])):  # noqa: N801
    """torch.return_types.frexp: (mantissa, exponent)."""

    __slots__ = ()

    def __repr__(self):
        return (
            f"torch.return_types.frexp(\nmantissa={self.mantissa!r},\nexponent={self.exponent!r})"
        )


frexp_result.__name__ = frexp_result.__qualname__ = "frexp"


def frexp(input):
    data = _data_of(input, "frexp")
    if data.dtype.kind != "f":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    mantissa, exponent = np.frexp(data)
    exponent = make_tensor(np.asarray(exponent, dtype=np.int32))
    mantissa = np.asarray(mantissa, dtype=data.dtype)
    if _tracks(input):
        node = Frexp()
        node.exponent = exponent
        mantissa = _record(node, (input,), mantissa)
    else:
        mantissa = make_tensor(mantissa)
    return frexp_result(mantissa, exponent)

"""Exponentials, logarithms and powers beyond ``exp``/``log``/``pow`` (in ``pointwise.py`` and
``arithmetic.py``): ``exp2``, ``log2``, ``log10``, ``rsqrt``, ``logit``, ``logaddexp``,
``logaddexp2``, ``xlogy``, ``ldexp`` and ``float_power``.

How to read an operation: its class (``Exp2``, whose ``_name`` is torch's backward node,
``Exp2Backward0``) holds the forward in NumPy (``compute``) and the gradient rule
(``gradient(self, grad)``), written in the library's own tensor operations so that it also builds
a graph under ``create_graph=True``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, make_tensor
from ._base import _NUMBER_TYPES, _not_tensor, _operands, _record, _tracks, _type_name
from ._elementwise import BinaryFloat, binary
from .pointwise import UnaryOp, _unary, exp, where

LN2 = math.log(2.0)
LN10 = math.log(10.0)


class Exp2(UnaryOp):
    _name = "Exp2Backward0"
    compute = staticmethod(np.exp2)
    saves = "result"

    def gradient(self, grad):
        return (grad * (self.saved_result * LN2),)


class Log2(UnaryOp):
    _name = "Log2Backward0"
    saved_names = ("self",)
    compute = staticmethod(np.log2)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / (x * LN2),)


class Log10(UnaryOp):
    _name = "Log10Backward0"
    saved_names = ("self",)
    compute = staticmethod(np.log10)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / (x * LN10),)


class Rsqrt(UnaryOp):
    """1 / sqrt(x): the derivative is -y^3 / 2."""

    _name = "RsqrtBackward0"
    saves = "result"

    @staticmethod
    def compute(x):
        return (1 / np.sqrt(x)).astype(x.dtype, copy=False)

    def gradient(self, grad):
        y = self.saved_result
        return (grad * (y * y * y) * -0.5,)


def exp2(input):
    return _unary(Exp2, input)


def log2(input):
    return _unary(Log2, input)


def log10(input):
    return _unary(Log10, input)


def rsqrt(input):
    return _unary(Rsqrt, input)


class Logit(UnaryOp):
    """log(x / (1 - x)), the inverse of sigmoid; ``eps`` clamps x to [eps, 1 - eps] first, and
    where it did, the gradient is 0."""

    _name = "LogitBackward0"
    saved_names = ("self",)
    eps = None

    def gradient(self, grad):
        (x,) = self.saved_tensors
        slope = grad / (x * (1 - x))
        if self.eps is None:
            return (slope,)
        outside = (x < self.eps) | (x > 1 - self.eps)
        return (where(outside, 0.0, slope),)


def logit(input, eps=None):
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("logit", input) from None
    if data.dtype.kind != "f":
        data = data.astype(_dtype.get_default_dtype().np)
    if eps is not None:
        data = np.clip(data, eps, 1 - eps).astype(data.dtype, copy=False)
    out = np.log(data / (1 - data)).astype(data.dtype, copy=False)
    if _tracks(input):
        node = Logit()
        node.eps = eps
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


# --------------------------------------------------------------------------------------------
# Two operands
# --------------------------------------------------------------------------------------------


class Logaddexp(BinaryFloat):
    """log(e^a + e^b), computed as max + log1p(e^-|a - b|) so that nothing overflows."""

    _name = "LogaddexpBackward0"
    saved_names = ("self", "other")
    kinds = "float only"
    kernel = "logaddexp_cpu"
    compute = staticmethod(np.logaddexp)

    def gradient(self, grad):
        a, b = self.saved_tensors
        return grad / (1 + exp(b - a)), grad / (1 + exp(a - b))


class Logaddexp2(BinaryFloat):
    _name = "Logaddexp2Backward0"
    saved_names = ("self", "other")
    kinds = "float only"
    kernel = "logaddexp2_cpu"
    compute = staticmethod(np.logaddexp2)

    def gradient(self, grad):
        a, b = self.saved_tensors
        return grad / (1 + 2.0 ** (b - a)), grad / (1 + 2.0 ** (a - b))


class Ldexp(BinaryFloat):
    """input * 2 ** other."""

    _name = "LdexpBackward0"
    saved_names = ("self", "other")

    @staticmethod
    def compute(x, y):
        return x * np.exp2(y)

    def gradient(self, grad):
        x, e = self.saved_tensors
        scale = 2.0 ** e.to(grad.dtype)
        grad_e = grad * x * scale * LN2 if self._next[1] is not None else None
        return grad * scale, grad_e


def logaddexp(input, other):
    return binary(Logaddexp, "logaddexp", input, other)


def logaddexp2(input, other):
    return binary(Logaddexp2, "logaddexp2", input, other)


def ldexp(input, other):
    return binary(Ldexp, "ldexp", input, other)


class Xlogy(BinaryFloat):
    """x * log(y), 0 where x = 0 (unless y is nan): the entropy term that stays finite at 0.
    By two tensors XlogyBackward0; a number as x, XlogyBackward1; a number as y, 2."""

    _name = "XlogyBackward0"
    saved_names = ("self", "other")
    numbers = True

    @staticmethod
    def compute(x, y):
        product = x * np.log(y)
        return np.where((x == 0) & ~np.isnan(y), 0, product)

    def gradient(self, grad):
        x, y = self.saved_tensors
        grads = [None, None]
        if self._next[0] is not None:
            # torch: 0 where x = 0 and y <= 0 (there log y is -inf or nan)
            grads[0] = where((x == 0) & (y <= 0), 0.0, xlogy(grad, y))
        if self._next[1] is not None:
            grads[1] = grad * x / y
        return tuple(grads)


def xlogy(input, other):
    if isinstance(input, Tensor):
        if isinstance(other, Tensor) or not isinstance(other, _NUMBER_TYPES):
            return binary(Xlogy, "xlogy", input, other)
        return _xlogy_number(input, other, "XlogyBackward2", number_first=False)
    if isinstance(input, _NUMBER_TYPES) and isinstance(other, Tensor):
        return _xlogy_number(other, input, "XlogyBackward1", number_first=True)
    raise _not_tensor("xlogy", input, other)


def _xlogy_number(tensor: Tensor, number, name: str, number_first: bool) -> Tensor:
    """``xlogy(number, tensor)`` or ``xlogy(tensor, number)``: one input gets a gradient."""
    x, y, dt = _operands(tensor, number)
    if np.dtype(dt).kind != "f":
        dt = _dtype.get_default_dtype().np
    x, y = np.asarray(x, dtype=dt), np.asarray(y, dtype=dt)
    out = np.asarray(Xlogy.compute(y, x) if number_first else Xlogy.compute(x, y)).astype(dt)
    if _tracks(tensor):
        node = Xlogy()
        node._rename(name)
        pair = (make_tensor(y), tensor) if number_first else (tensor, make_tensor(y))
        node.save(*pair)
        return _record(node, (None, tensor) if number_first else (tensor, None), out)
    return make_tensor(out)


def float_power(input, exponent):
    """``pow`` in double precision whatever the dtypes (torch casts both operands first)."""
    from .powers import pow

    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        raise _not_tensor("float_power", input, exponent)
    if isinstance(input, Tensor):
        input = input.to(_dtype.float64)
    else:
        input = builtins_float(input)
    if isinstance(exponent, Tensor):
        exponent = exponent.to(_dtype.float64)
    elif isinstance(exponent, _NUMBER_TYPES):
        exponent = builtins_float(exponent)
    else:
        raise TypeError(
            f"float_power(): argument 'exponent' must be Tensor, not {_type_name(exponent)}"
        )
    return pow(input, exponent)


builtins_float = float

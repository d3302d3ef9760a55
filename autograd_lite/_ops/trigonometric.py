"""Trigonometric and hyperbolic functions beyond ``sin``/``cos``/``tan``/``tanh`` (which are in
``pointwise.py``): ``asin``, ``acos``, ``atan``, ``sinh``, ``cosh``, ``asinh``, ``acosh``,
``atanh`` (and torch's ``arc*`` names for them), ``atan2``, ``hypot``, ``deg2rad``, ``rad2deg``
and ``sinc``.

How to read an operation: its class (``Asin``, whose ``_name`` is torch's backward node,
``AsinBackward0``) holds the forward in NumPy (``compute``) and the gradient rule
(``gradient(self, grad)``), written in the library's own tensor operations so that it also builds
a graph under ``create_graph=True``.  Integer and bool inputs compute in the default float dtype,
as in torch (``_unary`` in ``pointwise.py``, ``binary`` in ``_elementwise.py``).
"""

from __future__ import annotations

import math

import numpy as np

from ._elementwise import BinaryFloat, binary
from .pointwise import UnaryOp, _unary, cos, sin, sqrt

# --------------------------------------------------------------------------------------------
# Inverse trigonometric functions: derivatives 1/sqrt(1 - x^2) and 1/(1 + x^2)
# --------------------------------------------------------------------------------------------


class Asin(UnaryOp):
    _name = "AsinBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.arcsin)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / sqrt(1 - x * x),)


class Acos(UnaryOp):
    _name = "AcosBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.arccos)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (-grad / sqrt(1 - x * x),)


class Atan(UnaryOp):
    _name = "AtanBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.arctan)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / (x * x + 1),)


# --------------------------------------------------------------------------------------------
# Hyperbolic functions and their inverses
# --------------------------------------------------------------------------------------------


class Sinh(UnaryOp):
    _name = "SinhBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.sinh)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * cosh(x),)


class Cosh(UnaryOp):
    _name = "CoshBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.cosh)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * sinh(x),)


class Asinh(UnaryOp):
    _name = "AsinhBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.arcsinh)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / sqrt(x * x + 1),)


class Acosh(UnaryOp):
    _name = "AcoshBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.arccosh)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / sqrt(x * x - 1),)


class Atanh(UnaryOp):
    _name = "AtanhBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.arctanh)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / (1 - x * x),)


# --------------------------------------------------------------------------------------------
# Angles: a constant factor, computed in the tensor's dtype as torch does
# --------------------------------------------------------------------------------------------


def _scaled(factor: float):
    def compute(x):
        return x * x.dtype.type(factor)

    return staticmethod(compute)


class Deg2Rad(UnaryOp):
    _name = "Deg2RadBackward0"
    saves = None
    compute = _scaled(math.pi / 180)

    def gradient(self, grad):
        return (grad * (math.pi / 180),)


class Rad2Deg(UnaryOp):
    _name = "Rad2DegBackward0"
    saves = None
    compute = _scaled(180 / math.pi)

    def gradient(self, grad):
        return (grad * (180 / math.pi),)


class Sinc(UnaryOp):
    """sin(pi x) / (pi x), 1 at 0."""

    _name = "SincBackward0"
    saved_names = ("self",)

    @staticmethod
    def compute(x):
        px = x * x.dtype.type(math.pi)
        safe = np.where(px == 0, x.dtype.type(1), px)
        return np.where(px == 0, x.dtype.type(1), np.sin(safe) / safe).astype(x.dtype)

    def gradient(self, grad):
        # (cos(pi x) pi x - sin(pi x)) / (pi x^2), taken as 0 at x = 0 (its limit); as in
        # torch the 0/0 stays in the graph, so the second derivative at 0 is nan
        from .pointwise import where

        (x,) = self.saved_tensors
        px = x * math.pi
        slope = (px * cos(px) - sin(px)) / (px * x)
        return (where(x == 0, 0.0, slope) * grad,)


# torch has no derivative for the in-place asinh_, acosh_ and atanh_: their nodes are named
# ...Backward1, and a backward pass through one raises.


def _no_inplace_derivative(cls, op: str):
    def gradient(self, grad):
        raise NotImplementedError(
            f"the derivative for 'inplace version of {op}' is not implemented."
        )

    name = cls._name[:-1] + "1"
    return type(name, (cls,), {"_name": name, "gradient": gradient})


INPLACE_NODES = {
    "asinh": _no_inplace_derivative(Asinh, "asinh"),
    "acosh": _no_inplace_derivative(Acosh, "acosh"),
    "atanh": _no_inplace_derivative(Atanh, "atanh"),
}


def asin(input):
    return _unary(Asin, input)


def acos(input):
    return _unary(Acos, input)


def atan(input):
    return _unary(Atan, input)


def sinh(input):
    return _unary(Sinh, input)


def cosh(input):
    return _unary(Cosh, input)


def asinh(input):
    return _unary(Asinh, input)


def acosh(input):
    return _unary(Acosh, input)


def atanh(input):
    return _unary(Atanh, input)


def deg2rad(input):
    return _unary(Deg2Rad, input)


def rad2deg(input):
    return _unary(Rad2Deg, input)


def sinc(input):
    return _unary(Sinc, input)


def arcsin(input):
    return _unary(Asin, input)


def arccos(input):
    return _unary(Acos, input)


def arctan(input):
    return _unary(Atan, input)


def arcsinh(input):
    return _unary(Asinh, input)


def arccosh(input):
    return _unary(Acosh, input)


def arctanh(input):
    return _unary(Atanh, input)


# --------------------------------------------------------------------------------------------
# Two operands
# --------------------------------------------------------------------------------------------


class Atan2(BinaryFloat):
    """The angle of the point (other, input): d/dy = x / r^2, d/dx = -y / r^2."""

    _name = "Atan2Backward0"
    saved_names = ("self", "other")
    compute = staticmethod(np.arctan2)

    def gradient(self, grad):
        y, x = self.saved_tensors
        r2 = x * x + y * y
        return grad * x / r2, grad * -y / r2


class Hypot(BinaryFloat):
    """sqrt(a^2 + b^2); each side gets ``grad * side / result``."""

    _name = "HypotBackward0"
    saved_names = ("self", "other")
    kinds = "float only"
    kernel = "hypot_cpu"
    compute = staticmethod(np.hypot)

    def gradient(self, grad):
        a, b = self.saved_tensors
        r = hypot(a, b)
        return grad * a / r, grad * b / r


def atan2(input, other):
    return binary(Atan2, "atan2", input, other)


def arctan2(input, other):
    return binary(Atan2, "arctan2", input, other)


def hypot(input, other):
    return binary(Hypot, "hypot", input, other)

"""Comparisons, logical and bitwise operations (``==``, ``<``, ``&``, ``~``, ``isclose``,
``isnan``, ...): their results are bools, so they have no gradient and record no node.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    _NUMBER_TYPES,
    Op,
    _as_tensor,
    _bool,
    _broadcast_error,
    _not_tensor,
    _operands,
    _record,
    _scalar_name,
    _tracks,
)
from ._elementwise import BinaryFloat, result_dtype


def _compare(ufunc):
    def op(a, b):
        if b.__class__ is not Tensor and isinstance(b, np.ndarray):
            b = make_tensor(b)
        if b is None or not (isinstance(b, (Tensor,) + _NUMBER_TYPES)):
            return NotImplemented
        x, y, _ = _operands(a, b) if isinstance(a, Tensor) else (a, b, None)
        try:
            return make_tensor(np.asarray(ufunc(x, y)) if np.ndim(x) else ufunc(x, y))
        except ValueError:
            raise _broadcast_error(a, b) from None

    op.__name__ = ufunc.__name__
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def _bitwise(ufunc, symbol):
    def op(a, b):
        if not isinstance(b, (Tensor,) + _NUMBER_TYPES):
            return NotImplemented
        x, y, dt = _operands(a, _as_tensor(b) if isinstance(b, np.ndarray) else b)
        if np.dtype(dt).kind == "f":
            raise NotImplementedError(
                f"\"{ufunc.__name__}_cpu\" not implemented for '{_scalar_name(dt)}'"
                + hint(f"{symbol} is for bool or integer tensors (masks); floats need comparisons")
            )
        return make_tensor(ufunc(x, y))

    return op


bitwise_and = _bitwise(np.bitwise_and, "&")
bitwise_or = _bitwise(np.bitwise_or, "|")
bitwise_xor = _bitwise(np.bitwise_xor, "^")


def logical_not(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("logical_not", input) from None
    return make_tensor(np.logical_not(data))


def bitwise_not(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "f":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return make_tensor(np.invert(x._data))


def equal(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and _bool(np.array_equal(a._data, b._data))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return _bool(np.allclose(_as_tensor(a)._data, _as_tensor(b)._data, rtol, atol, equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    return make_tensor(np.isclose(_as_tensor(a)._data, _as_tensor(b)._data, rtol, atol, equal_nan))


def isnan(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("isnan", input) from None
    return make_tensor(np.isnan(data))


def isinf(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("isinf", input) from None
    return make_tensor(np.isinf(data))


def isfinite(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("isfinite", input) from None
    return make_tensor(np.isfinite(data))


class ComparedInPlace(Op):
    """``x.eq_(y)`` on a tensor that requires grad: the result is piecewise constant, so the
    gradients are zeros (torch's EqBackward0 for a number, EqBackward1 for a tensor)."""

    def gradient(self, grad):
        zeros = make_tensor(np.zeros_like(grad._data))
        return (zeros,) * len(self._next)


def compare_inplace(name: str):
    """The in-place form of comparison ``name`` (eq, lt, ...): self takes the 0/1 values."""
    compute = globals()[name]

    def inplace(self, other):
        self._check_inplace()
        result = compute(self, other)
        if result is NotImplemented:
            raise TypeError(f"{name}_(): argument 'other' must be Tensor or Number")
        if _tracks(self, *([other] if isinstance(other, Tensor) else [])):
            node = ComparedInPlace()
            node._rename(f"{name.capitalize()}Backward{1 if isinstance(other, Tensor) else 0}")
            inputs = (self, other) if isinstance(other, Tensor) else (self,)
            result = _record(node, inputs, result._data.astype(self._data.dtype))
        return self._assign(result)

    inplace.__name__ = name + "_"
    return inplace


# ============================================================================================
# Integer-only functions: gcd, lcm and the shifts ``<<`` and ``>>``
# ============================================================================================


def _integer_kernel(kernel: str, takes_numbers: bool):
    """How ``result_dtype`` is to treat a kernel that takes integers only."""
    return type(
        kernel, (BinaryFloat,), {"kinds": "integer", "kernel": kernel, "numbers": takes_numbers}
    )


_GCD = _integer_kernel("gcd_cpu", False)
_LCM = _integer_kernel("lcm_cpu", False)
_LSHIFT = _integer_kernel("lshift_cpu", True)
_RSHIFT = _integer_kernel("rshift_cpu", True)


def _integer_binary(kernel, name: str, a, b):
    """Both operands in torch's promoted dtype, which must be an integer one."""
    if kernel.numbers and not isinstance(a, Tensor) and isinstance(b, Tensor):
        a = make_tensor(np.asarray(a, dtype=_dtype.scalar_dtype(a).np))  # 2 << t: a 0-d tensor
    _, x, y, dt = result_dtype(kernel, name, a, b)
    try:
        np.broadcast_shapes(np.shape(x), np.shape(y))
    except ValueError:
        raise _broadcast_error(a, b) from None
    return np.asarray(x, dtype=dt), np.asarray(y, dtype=dt), dt


def gcd(input, other) -> Tensor:
    x, y, dt = _integer_binary(_GCD, "gcd", input, other)
    return make_tensor(np.gcd(x, y).astype(dt))


def lcm(input, other) -> Tensor:
    x, y, dt = _integer_binary(_LCM, "lcm", input, other)
    return make_tensor(np.lcm(x, y).astype(dt))


def bitwise_left_shift(input, other) -> Tensor:
    """``x << n``; a shift by a negative count or by the width or more gives 0, as torch."""
    x, n, dt = _integer_binary(_LSHIFT, "bitwise_left_shift", input, other)
    bits = dt.itemsize * 8
    outside = (n < 0) | (n >= bits)
    shifted = np.left_shift(x, np.where(outside, 0, n).astype(dt))
    return make_tensor(np.where(outside, 0, shifted).astype(dt))


def bitwise_right_shift(input, other) -> Tensor:
    """``x >> n`` (arithmetic: the sign is kept); a count outside [0, width) shifts everything
    out: 0, or -1 for a negative signed x."""
    x, n, dt = _integer_binary(_RSHIFT, "bitwise_right_shift", input, other)
    bits = dt.itemsize * 8
    outside = (n < 0) | (n >= bits)
    shifted = np.right_shift(x, np.where(outside, 0, n).astype(dt))
    filled = np.where(x < 0, -1, 0) if dt.kind == "i" else 0
    return make_tensor(np.where(outside, filled, shifted).astype(dt))

"""Comparisons, logical and bitwise operations (``==``, ``<``, ``&``, ``~``, ``isclose``,
``isnan``, ...): their results are bools, so they have no gradient and record no node.
"""

from __future__ import annotations

import numpy as np

from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    _NUMBER_TYPES,
    _as_tensor,
    _bool,
    _broadcast_error,
    _not_tensor,
    _operands,
    _scalar_name,
)


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

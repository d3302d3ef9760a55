"""What the pointwise families of two operands share (``atan2``, ``hypot``, ``xlogy``,
``copysign``, ``gcd``, ...): checking the arguments as torch's parser does, torch's result dtype,
the kernel's dtype rule, and recording the node.

Every function of this kind is one call::

    def atan2(input, other):
        return binary(Atan2, "atan2", input, other)

where ``Atan2`` (in its family file) gives ``compute`` (NumPy) and ``gradient`` (library ops).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, make_tensor
from ._base import (
    _NUMBER_TYPES,
    Op,
    _broadcast_error,
    _not_tensor,
    _operands,
    _record,
    _scalar_name,
    _tracks,
    _type_name,
)


class BinaryFloat(Op):
    """An op of two operands.  Class attributes say how torch treats dtypes:

    * ``kinds``: the dtypes its kernel takes: ``"float"`` (ints and bools are promoted to the
      default float first, like ``atan2``), ``"float only"`` (ints and bools raise
      NotImplementedError, like ``hypot``), ``"any"`` (the result keeps torch's promoted dtype,
      like ``fmax``) or ``"integer"`` (floats and bools raise, like ``gcd``);
    * ``numbers``: whether ``other`` may be a Python number (``copysign(x, 2.0)``) or must be a
      tensor (``atan2(x, 2.0)`` is torch's TypeError);
    * ``kernel``: the name in torch's NotImplementedError (``"hypot_cpu"``).
    """

    kinds = "float"
    numbers = False
    bool_ok = False  # an "integer" kernel that also takes bools (<< and >> do not)
    kernel = ""
    saves = True  # save (input, other) for the gradient rule

    @staticmethod
    def compute(x, y):
        raise NotImplementedError


def _refuse(kernel: str, dt) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name(dt)}'")


def result_dtype(cls, name: str, a, b) -> tuple:
    """Check the arguments; return NumPy operands cast to the dtype the kernel computes in."""
    if not isinstance(a, Tensor):
        raise _not_tensor(name, a, b)
    if isinstance(b, np.ndarray):
        b = make_tensor(b)
    if not isinstance(b, Tensor):
        if not cls.numbers or not isinstance(b, _NUMBER_TYPES):
            raise TypeError(
                f"{name}(): argument 'other' (position 2) must be Tensor, not {_type_name(b)}"
            )
    x, y, dt = _operands(a, b)
    kind = np.dtype(dt).kind
    if cls.kinds == "integer":
        if kind == "f" or (kind == "b" and not cls.bool_ok):
            raise _refuse(cls.kernel, dt)
    elif kind != "f":
        if cls.kinds == "float only":
            raise _refuse(cls.kernel, dt)
        if cls.kinds == "float":
            dt = _dtype.get_default_dtype().np
            x, y = np.asarray(x, dtype=dt), np.asarray(y, dtype=dt)
    return b, x, y, np.dtype(dt)


def binary(cls, name: str, a, b) -> Tensor:
    """``cls.compute`` element by element on ``a`` (a tensor) and ``b`` (a tensor or, when
    ``cls.numbers``, a number), with torch's dtype rules; records ``cls`` when a gradient is
    needed."""
    b, x, y, dt = result_dtype(cls, name, a, b)
    try:
        out = np.asarray(cls.compute(x, y))
    except ValueError:
        raise _broadcast_error(a, b) from None
    if out.dtype != dt:
        out = out.astype(dt)
    if _tracks(a, *([b] if isinstance(b, Tensor) else [])):
        node = cls()
        if cls.saves:
            node.save(a, b if isinstance(b, Tensor) else None)
        node.other = b  # a number, or the tensor (rules that need it read the saved one)
        return _record(node, (a, b), out)
    return make_tensor(out)


def as_float_tensor(x, like: Tensor):
    """A number of a binary op as a 0-d tensor of ``like``'s dtype (for a gradient rule)."""
    if isinstance(x, Tensor):
        return x
    return make_tensor(np.asarray(x, dtype=like._data.dtype))

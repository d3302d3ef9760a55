"""In-place variants (``add_``, ``zero_``, ``fill_``, ``copy_``, ``t_``, ...): they compute out
of place, then write into the tensor's own memory, bump its version counter and take the new
node as its history.

How to read an operation: its class (``Fill``, whose ``_name`` is torch's backward node,
``FillBackward2``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``fill_``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._engine import version_cell
from .._tensor import Tensor, _overlaps, make_tensor, overlap_error
from ._base import Op, _as_tensor, _broadcast_error, _record, _tracks
from .out import C_TYPE_NAMES
from .pointwise import clamp
from .views import t, transpose


def _inplace(fn):
    def method(self, *args, **kwargs):
        self._check_inplace()
        return self._assign(fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return method


class Zero(Op):
    _name = "ZeroBackward0"

    def gradient(self, grad):
        return (grad * 0,)


class Fill(Op):
    """``fill_(number)``: the old values are gone, so they get no gradient."""

    _name = "FillBackward2"

    def gradient(self, grad):
        return (grad * 0,)


class FillTensor(Op):
    """``fill_(0-d tensor)``: every element is the value, which collects all the gradient."""

    _name = "FillBackward3"

    def gradient(self, grad):
        return grad * 0, grad.sum()


def _constant_like(cls, self: Tensor, value) -> Tensor:
    out = np.full(self._data.shape, value, dtype=self._data.dtype)
    if _tracks(self):
        return _record(cls(), (self,), out)
    return make_tensor(out)


def zero_(self: Tensor) -> Tensor:
    self._check_inplace()
    return self._assign(_constant_like(Zero, self, 0), constant=True)


def fill_(self: Tensor, value) -> Tensor:
    self._check_inplace()
    if not isinstance(value, Tensor):
        return self._assign(_constant_like(Fill, self, value), constant=True)
    if value._data.ndim:
        raise RuntimeError(
            "fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value._data.ndim} dimensions."
        )
    out = np.full(self._data.shape, value._data, dtype=self._data.dtype)
    if _tracks(self, value):
        return self._assign(_record(FillTensor(), (self, value), out))
    return self._assign(make_tensor(out))  # (into an expanded tensor: refused, as in torch)


class Copy(Op):
    _name = "torch::autograd::CopyBackwards"

    def gradient(self, grad):
        return grad * 0, grad


def copy_(self: Tensor, src, non_blocking=False) -> Tensor:
    """Copy ``src`` into this tensor (broadcasting and casting to this tensor's dtype)."""
    self._check_inplace()
    src = _as_tensor(src)
    data = self._writable()
    if not data.flags.writeable and _overlaps(data):
        raise overlap_error()
    try:
        out = np.broadcast_to(src._data, data.shape).astype(data.dtype)
    except ValueError:
        try:  # the shapes broadcast, but to something larger than this tensor
            bigger = np.broadcast_shapes(data.shape, src._data.shape)
        except ValueError:
            raise _broadcast_error(self, src) from None
        raise RuntimeError(
            f"output with shape {list(data.shape)} doesn't match the broadcast shape {list(bigger)}"
        ) from None
    np.copyto(data, out)
    version_cell(self)[0] += 1
    if _tracks(self, src):
        self._rebase(_record(Copy(), (self, src), data)._grad_fn)
    self._rebase_base()
    return self


def t_(self: Tensor) -> Tensor:
    self._check_inplace()
    if self._data.ndim > 2:
        raise RuntimeError(
            f"t_() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D"
        )
    result = t(self)
    if result._grad_fn is not None:
        result._grad_fn._rename("TBackward1")  # torch's name for the in-place t_
    self._data = result._data
    version_cell(self)[0] += 1
    self._rebase(result._grad_fn)
    return self


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    self._check_inplace()
    result = transpose(self, dim0, dim1)
    self._data = result._data
    version_cell(self)[0] += 1
    self._rebase(result._grad_fn)
    return self


def clamp_(self, min=None, max=None):  # noqa: A002
    self._check_inplace()
    bounds = [b for b in (min, max) if b is not None]
    if bounds and not any(isinstance(b, Tensor) for b in bounds):
        # torch's scalar kernel checks the cast first, and names self's dtype in C++
        result = _dtype.result_type(self, *bounds)
        if not _dtype.can_cast(result, self.dtype):
            raise RuntimeError(
                f"result type {result.scalar_name} can't be cast to the desired output type "
                f"{C_TYPE_NAMES[self.dtype.np.name]}"
            )
    return self._assign(clamp(self, min, max))

"""Diagonals and the trace: ``diagonal`` (a view), ``diag`` and ``trace``.

How to read an operation: its class (``Trace``, whose ``_name`` is torch's backward node,
``TraceBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``trace``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make_tensor
from ._base import Op, _bool, _dims, _int, _not_tensor, _record, _tracks, _type_name, _view
from .cumulative import _integer_to_long


def _int_arg(value, function: str, name: str, position: int) -> int:
    """An int argument, refused like torch's argument parser refuses a float or a string."""
    if isinstance(value, (_int, np.integer)) and not isinstance(value, (_bool, np.bool_)):
        return _int(value)
    raise TypeError(
        f"{function}(): argument '{name}' (position {position}) must be int, not "
        f"{_type_name(value)}"
    )


def _diagonal_dims(ndim: int, dim1, dim2) -> tuple:
    d1, d2 = _dims((dim1, dim2), ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _diagonal_view(data: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """NumPy's diagonal, a view; writable (as torch's is) when its base is."""
    out = np.diagonal(data, offset, d1, d2)
    if data.flags.writeable:
        out.flags.writeable = True
    return out


class Diagonal(Op):
    """``diagonal(input, offset, dim1, dim2)``: the gradient goes back onto the same diagonal of
    zeros (``torch.diag`` of a matrix is the copy, DiagonalBackward0_copy)."""

    _name = "DiagonalBackward0"

    def gradient(self, grad):
        return (_diagonal_embed(grad, self.shape, self.offset, self.dim1, self.dim2),)


class DiagonalEmbed(Op):
    """Zeros with ``grad`` on a diagonal: the backward of diagonal, itself differentiable."""

    _name = "DiagonalBackwardBackward0"

    def gradient(self, grad):
        return (diagonal(grad, self.offset, self.dim1, self.dim2),)


def _diagonal_embed(grad: Tensor, shape, offset: int, d1: int, d2: int) -> Tensor:
    out = np.zeros(shape, dtype=grad._data.dtype)
    _diagonal_view(out, offset, d1, d2)[...] = grad._data
    if _tracks(grad):
        node = DiagonalEmbed()
        node.offset, node.dim1, node.dim2 = offset, d1, d2
        return _record(node, (grad,), out)
    return make_tensor(out)


def diagonal(input: Tensor, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal ``offset`` of the matrices in dims ``dim1``, ``dim2``, as a view; it becomes
    the last dimension."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("diagonal", input) from None
    offset = _int_arg(offset, "diagonal", "offset", 2)
    d1, d2 = _diagonal_dims(data.ndim, dim1, dim2)
    out = _diagonal_view(np.asarray(data), offset, d1, d2)
    node = None
    if _tracks(input):
        node = Diagonal()
        node.shape, node.offset, node.dim1, node.dim2 = data.shape, offset, d1, d2
    return _view(out, input, node)


class DiagEmbed(Op):
    """``diag`` of a vector: the gradient is the matrix's diagonal."""

    _name = "DiagEmbedBackward0"

    def gradient(self, grad):
        return (diagonal(grad, self.offset),)


def diag(input: Tensor, diagonal=0) -> Tensor:  # noqa: A002 - torch's argument name
    """A vector becomes a matrix with it on diagonal ``diagonal``; a matrix gives (a copy of)
    that diagonal."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("diag", input) from None
    offset = _int_arg(diagonal, "diag", "diagonal", 2)
    if data.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {data.ndim}D")
    if data.ndim == 2:
        out = np.diagonal(data, offset).copy()
        if _tracks(input):
            node = Diagonal()
            node._rename("DiagonalBackward0_copy")
            node.shape, node.offset, node.dim1, node.dim2 = data.shape, offset, 0, 1
            return _record(node, (input,), out)
        return make_tensor(out)
    out = np.diag(data, offset)
    if _tracks(input):
        node = DiagEmbed()
        node.offset = offset
        return _record(node, (input,), out)
    return make_tensor(out)


class Trace(Op):
    _name = "TraceBackward0"

    def gradient(self, grad):
        n, m = self.shape
        return (grad * make_tensor(np.eye(n, m, dtype=grad._data.dtype)),)


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix (integers sum in int64, as torch's sum)."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("trace", input) from None
    if data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {data.ndim}")
    if data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    out = np.trace(_integer_to_long(data, None))
    if _tracks(input):
        node = Trace()
        node.shape = data.shape
        return _record(node, (input,), out)
    return make_tensor(out)

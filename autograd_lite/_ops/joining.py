"""Joining and splitting: ``cat``, ``stack`` and ``unbind`` (each one's gradient is the other
direction: narrow or select the gradient, or stack the pieces' gradients).

How to read an operation: its class (``Cat``, whose ``_name`` is torch's backward node,
``CatBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``cat``), next to it, computes the forward in NumPy and, when
a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _as_tensor,
    _cast,
    _dims,
    _not_tensor,
    _record,
    _tracks,
    _view,
    _views_without_graph,
)
from .indexing import narrow, select


class Cat(Op):
    _name = "CatBackward0"

    def gradient(self, grad):
        grads, start = [], 0
        for size in self.sizes:
            grads.append(narrow(grad, self.dim, start, size) if size else None)
            start += size
        return tuple(grads)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    dt = _dtype.result_type(*tensors)
    ref = next((t for t in tensors if t._data.shape != (0,)), tensors[0])
    (d,) = _dims(dim, ref._data.ndim)
    parts = [t for t in tensors if t._data.shape != (0,)] or tensors
    for i, t in enumerate(parts):
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and "
                f"{t._data.ndim}"
            )
        for axis, (a, b) in enumerate(zip(ref._data.shape, t._data.shape)):
            if axis != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but "
                    f"got size {b} for tensor number {i} in the list."
                )
    out = np.concatenate([_cast(t, dt) for t in parts], axis=d)
    if _tracks(*tensors):
        node = Cat()
        node.dim = d
        node.sizes = [t._data.shape[d] if t._data.shape != (0,) else 0 for t in tensors]
        return _record(node, tensors, out)
    return make_tensor(out)


concat = concatenate = cat


class Stack(Op):
    _name = "StackBackward0"

    def gradient(self, grad):
        return tuple(select(grad, self.dim, i) for i in range(self.count))


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(t._data.shape)} at entry {i}"
            )
    rank = len(first) + 1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got "
            f"{dim})"
        )
    dt = _dtype.result_type(*tensors)
    out = np.stack([_cast(t, dt) for t in tensors], axis=dim % rank)
    if _tracks(*tensors):
        node = Stack()
        node.dim, node.count = dim % rank, len(tensors)
        return _record(node, tensors, out)
    return make_tensor(out)


class Unbind(Op):
    _name = "UnbindBackward0"
    several_views = True

    def materialize(self, grads):
        return [g if g is not None else _zeros(self.piece_shape, self.dtype) for g in grads]

    def gradient(self, grads):
        return (stack(grads, self.dim),)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("unbind", input, dim) from None
    (d,) = _dims(dim, data.ndim)
    pieces = [data[(slice(None),) * d + (i, Ellipsis)] for i in range(data.shape[d])]
    if not _tracks(input):
        return _views_without_graph(pieces, input)
    node = Unbind()
    node.num_outputs = len(pieces)
    node.dim, node.dtype = d, data.dtype
    node.piece_shape = data.shape[:d] + data.shape[d + 1 :]
    outs = []
    for i, p in enumerate(pieces):
        t = _view(p, input, node)
        t._output_nr = i
        outs.append(t)
    return tuple(outs)


def _zeros(shape, np_dtype) -> Tensor:
    return make_tensor(np.zeros(shape, dtype=np_dtype))

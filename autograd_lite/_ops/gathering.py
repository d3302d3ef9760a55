"""Picking elements by index tensors and masks: ``gather``, ``take_along_dim``,
``index_select``, ``masked_fill`` (and ``masked_fill_``).

``gather`` and its mirror image, adding values into zeros at the gathered places (torch's
``scatter_add``), are each other's gradient: that pair is what ``sort``, ``topk``, ``cummax``
and ``index_select`` differentiate through, to any order.

How to read an operation: its class (``Gather``, whose ``_name`` is torch's backward node,
``GatherBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``gather``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _as_tensor,
    _dims,
    _not_tensor,
    _record,
    _scalar_name,
    _shapes_mismatch,
    _tracks,
)
from .pointwise import where
from .views import expand

# ============================================================================================
# gather and its gradient, scatter_add into zeros
# ============================================================================================


class Gather(Op):
    _name = "GatherBackward0"

    def gradient(self, grad):
        return (_scatter_add(grad, self.dim, self.index, self.shape),)


class ScatterAdd(Op):
    """Zeros of ``shape`` with ``grad`` added at ``index`` along ``dim`` (repeats add up)."""

    _name = "ScatterAddBackward0"

    def gradient(self, grad):
        return (_gather(grad, self.dim, self.index),)


def _full_index(index: np.ndarray, dim: int) -> tuple:
    """NumPy's index for ``out[i][j][k] = x[i][index[i][j][k]][k]`` (for dim 1): ``index`` along
    ``dim``, the position itself along every other dim."""
    if index.ndim == 0:  # (only for a 0-d input, whose one element is index 0)
        return ()
    grids = list(np.indices(index.shape, sparse=True))
    grids[dim] = index
    return tuple(grids)


def _gather(input: Tensor, dim: int, index: np.ndarray) -> Tensor:
    """gather without its checks (the indices are known to be good)."""
    data = np.asarray(input._data)
    out = data[_full_index(index, dim)] if index.size else np.zeros(index.shape, data.dtype)
    if _tracks(input):
        node = Gather()
        node.dim, node.index, node.shape = dim, index, input._data.shape
        return _record(node, (input,), out)
    return make_tensor(out)


def _scatter_add(grad: Tensor, dim: int, index: np.ndarray, shape) -> Tensor:
    out = np.zeros(shape, dtype=grad._data.dtype)
    if index.size:
        np.add.at(out, _full_index(index, dim), grad._data)
    if _tracks(grad):
        node = ScatterAdd()
        node.dim, node.index = dim, index
        return _record(node, (grad,), out)
    return make_tensor(out)


def _index_dtype_error(function: str) -> RuntimeError:
    return RuntimeError(
        f"{function}(): Expected dtype int32/int64 for index"
        + hint("indices are integers: build them with dtype=torch.long")
    )


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """``out[i][j][k] = input[i][index[i][j][k]][k]`` for dim 1: ``index`` picks along ``dim``,
    every other position stays where it is; the result has ``index``'s shape."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("gather", input, dim, index) from None
    idx = index._data
    if idx.dtype not in (np.int64, np.int32):
        raise _index_dtype_error("gather")
    (d,) = _dims(dim, len(shape)) or (0,)
    if idx.ndim != len(shape) and idx.size and shape:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for axis, (n, m) in enumerate(zip(idx.shape, shape)):
        if axis != d and n > m:
            raise RuntimeError(
                f"Size does not match at dimension {axis} expected index {list(idx.shape)} to be "
                f"no larger than self {list(shape)} apart from dimension {d}"
            )
    _check_in_range(idx, d, shape[d] if shape else 1)
    return _gather(input, d, np.asarray(idx, dtype=np.int64))


def _check_in_range(index: np.ndarray, dim: int, size: int) -> None:
    bad = (index < 0) | (index >= size)
    if bad.any():
        raise RuntimeError(
            f"index {index[bad].flat[0]} is out of bounds for dimension {dim} with size {size}"
        )


def take_along_dim(input: Tensor, indices: Tensor, dim=None) -> Tensor:
    """NumPy's ``take_along_axis``: ``gather`` after broadcasting input and indices (all but
    ``dim``); without ``dim``, both are flattened first."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("take_along_dim", input, indices, dim) from None
    if indices._data.dtype != np.int64:
        raise RuntimeError(
            "torch.take_along_dim(): dtype of indices should be Long but got "
            f"{_scalar_name(indices._data.dtype)}"
        )
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    if indices._data.ndim != len(shape):
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {len(shape)} dimensions for input, and {indices._data.ndim} "
            "dimensions for indices"
        )
    (d,) = _dims(dim, len(shape)) or (0,)
    own, other = list(shape), list(indices._data.shape)
    own[d] = other[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(own), tuple(other)))
    except ValueError:
        raise _shapes_mismatch(tuple(own), tuple(other)) from None
    input_shape, index_shape = list(common), list(common)
    input_shape[d], index_shape[d] = shape[d], indices._data.shape[d]
    if tuple(input_shape) != shape:
        input = expand(input, input_shape)
    if tuple(index_shape) != indices._data.shape:
        indices = make_tensor(np.broadcast_to(indices._data, index_shape))
    return gather(input, d, indices)


# ============================================================================================
# index_select
# ============================================================================================


class IndexSelect(Op):
    _name = "IndexSelectBackward0"

    def gradient(self, grad):
        return (_scatter_add(grad, self.dim, self.full_index(grad), self.shape),)

    def full_index(self, grad) -> np.ndarray:
        """The 1-d index, broadcast to the result's shape: index_select as a gather."""
        shape = [1] * grad._data.ndim
        shape[self.dim] = self.index.size
        return np.broadcast_to(self.index.reshape(shape), grad._data.shape)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices ``index`` (a 1-d list of positions, repeats allowed) along ``dim``."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("index_select", input, dim, index) from None
    idx = index._data
    if idx.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if idx.dtype not in (np.int64, np.int32):
        raise RuntimeError(
            "index_select(): Expected dtype int32 or int64 for index"
            + hint("indices are integers: build them with dtype=torch.long")
        )
    (d,) = _dims(dim, len(shape)) or (0,)
    size = shape[d] if shape else 1
    idx = np.asarray(idx, dtype=np.int64).reshape(-1)
    bad = (idx < 0) | (idx >= size)
    if bad.any():
        raise RuntimeError(
            f"INDICES element is out of DATA bounds, id={idx[bad][0]} axis_dim={size}"
            + hint("index_select takes positions 0 to size - 1 (no negative ones)")
        )
    data = np.asarray(input._data)
    out = np.take(data, idx, axis=d) if shape else data[idx[0]] if idx.size else data
    if _tracks(input):
        node = IndexSelect()
        node.dim, node.index, node.shape = d, idx, shape
        if not shape:  # a 0-d input: there is nothing to place; the gradient passes as is
            return input * 1 if idx.size else input * 0
        return _record(node, (input,), out)
    return make_tensor(np.array(out))


# ============================================================================================
# masked_fill
# ============================================================================================


class MaskedFill(Op):
    """Where the mask is set, the input was replaced: no gradient there; the value (a 0-d
    tensor) receives the sum of the gradient at those places."""

    _name = "MaskedFillBackward0"

    def gradient(self, grad):
        mask = self.mask
        grad_input = where(mask, 0, grad) if self._next[0] is not None else None
        grad_value = None
        if len(self._next) > 1 and self._next[1] is not None:
            grad_value = where(mask, grad, 0).sum()
        return grad_input, grad_value


def _mask_and_value(input: Tensor, mask, value, in_place: bool):
    mask = _as_tensor(mask)
    if mask._data.dtype != np.bool_:
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{_dtype.FROM_NUMPY[mask._data.dtype].cpp_name}"
            + hint("build the mask with a comparison (x > 0) or .bool()")
        )
    if isinstance(value, Tensor) and value._data.ndim:
        raise RuntimeError(
            "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value._data.ndim} dimension(s)."
        )
    shape = input._data.shape
    try:
        common = np.broadcast_shapes(shape, mask._data.shape)
    except ValueError:
        raise _shapes_mismatch(mask._data.shape, shape) from None
    if in_place and common != shape:
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape {list(common)}"
        )
    if isinstance(value, complex):
        raise RuntimeError(
            f"value cannot be converted to type {_dtype_of_data(input).cpp_name} without overflow"
        )
    return mask, common


def _dtype_of_data(input: Tensor) -> _dtype.dtype:
    return _dtype.FROM_NUMPY[input._data.dtype]


def masked_fill(input: Tensor, mask, value) -> Tensor:
    """``value`` where ``mask`` is True, ``input`` elsewhere (the mask broadcasts)."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("masked_fill", input, mask, value) from None
    mask, common = _mask_and_value(input, mask, value, in_place=False)
    fill = value._data if isinstance(value, Tensor) else value
    out = np.where(mask._data, np.asarray(fill).astype(data.dtype), data)
    out = np.array(np.broadcast_to(out, common))
    tensor_value = isinstance(value, Tensor)
    if _tracks(input, value) if tensor_value else _tracks(input):
        node = MaskedFill()
        node._rename("MaskedFillBackward1" if tensor_value else "MaskedFillBackward0")
        node.mask = mask
        return _record(node, (input, value) if tensor_value else (input,), out)
    return make_tensor(out)


def masked_fill_(self: Tensor, mask, value) -> Tensor:
    self._check_inplace()
    _mask_and_value(self, mask, value, in_place=True)
    return self._assign(masked_fill(self, mask, value))

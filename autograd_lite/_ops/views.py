"""Shapes and views: ``reshape``/``view``, ``transpose``/``permute``/``t``,
``squeeze``/``unsqueeze``, ``expand``, ``flip``, ``clone``, dtype casts and ``broadcast_shapes``.
A view's result shares memory (and the version counter) with its input, as in torch.

How to read an operation: its class (``Transpose``, whose ``_name`` is torch's backward node,
``TransposeBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``transpose``), next to it, computes the forward in NumPy
and, when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import builtins
import math
import warnings
from collections.abc import Sequence

import numpy as np

from .. import _dtype
from .._engine import _GradMode
from .._errors import hint
from .._tensor import Size, Tensor, make_tensor
from ._base import Op, _dims, _dtype_of, _int, _not_tensor, _record, _tracks, _view


class Reshape(Op):
    _name = "ViewBackward0"

    def gradient(self, grad):
        return (_reshape_to(grad, self.shape),)


def _reshape_to(t: Tensor, shape: tuple) -> Tensor:
    """``t.reshape(shape)`` for a shape known to fit (a gradient rule's): where nothing is
    recorded, the same view without parsing the arguments, which costs more than the view."""
    data = t._data
    if _GradMode.enabled and t._requires_grad:
        return t.reshape(shape)
    if data.__class__ is np.ndarray and data.flags.c_contiguous:
        return _view(data.reshape(shape), t, None)
    return t.reshape(shape)


def _expand_to(t: Tensor, shape: tuple) -> Tensor:
    """``t.expand(shape)`` for a shape known to fit, the same way."""
    if _GradMode.enabled and t._requires_grad:
        return t.expand(shape)
    return _view(_broadcast_view(t._data, shape), t, None)


def _infer_shape(shape, numel: int) -> tuple:
    shape = _shape_arg(shape)
    if -1 not in shape and math.prod(shape) == numel:  # the common case, checked once
        return shape
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(map(_int, shape))


def reshape(input: Tensor, *shape) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("reshape", input, shape) from None
    new = _infer_shape(shape, data.size)
    if not _tracks(input):  # no node to name: NumPy views when the memory allows, else copies
        out = data.reshape(new)
        # A C-contiguous array always reshapes to a view; only other layouts need the check.
        if data.__class__ is np.ndarray and data.flags.c_contiguous:
            return _view(out, input, None)
        return _view(out, input, None) if np.may_share_memory(out, data) else make_tensor(out)
    if new == data.shape:
        return view(input, new)
    array = np.asarray(data)
    if array.flags.c_contiguous:
        return view(input, new)
    # Not viewable: torch copies (CloneBackward0) and views the copy (UnsafeViewBackward0).
    copy = clone(input, contiguous=True)
    out = copy._data.reshape(new)
    if _tracks(copy):
        node = Reshape()
        node._rename("UnsafeViewBackward0")
        node.shape = data.shape
        return _record(node, (copy,), out)
    return make_tensor(out)


def view(input: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    data = input._data
    new = _infer_shape(shape, data.size)
    out = np.asarray(data).view()
    try:
        out.shape = new  # refuses instead of copying, exactly when torch's view refuses
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            + hint("transpose/permute made the memory non-contiguous; .reshape() copies if needed")
        ) from None
    node = None
    if _tracks(input):
        node = Reshape()
        node.shape = data.shape
    return _view(out, input, node)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def flatten(input: Tensor, start_dim=0, end_dim=-1) -> Tensor:
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("flatten", input, start_dim, end_dim) from None
    if ndim == 0:
        return reshape(input, 1)
    start, end = _dims((start_dim, end_dim), ndim)
    if start == end:
        return input
    shape = input._data.shape
    new = shape[:start] + (-1,) + shape[end + 1 :]
    return reshape(input, new)


def ravel(input: Tensor) -> Tensor:
    return reshape(input, -1)


class Transpose(Op):
    _name = "TransposeBackward0"

    def gradient(self, grad):
        return (grad.transpose(self.dim0, self.dim1),)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("transpose", input, dim0, dim1) from None
    d0, d1 = _dims((dim0, dim1), data.ndim) or (0, 0)
    out = np.swapaxes(data, d0, d1) if data.ndim else data
    node = None
    if _tracks(input):
        node = Transpose()
        node.dim0, node.dim1 = d0, d1
    return _view(out, input, node)


swapaxes = swapdims = transpose


class T(Op):
    _name = "TBackward0"

    def gradient(self, grad):
        return (grad.t(),)


def t(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("t", input) from None
    if data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {data.ndim}D"
            + hint("use .transpose(dim0, dim1) or .permute(...) for more dimensions")
        )
    return _view(data.T, input, T() if _tracks(input) else None)


class Permute(Op):
    _name = "PermuteBackward0"

    def gradient(self, grad):
        return (grad.permute(tuple(np.argsort(self.dims))),)


def permute(input: Tensor, *dims) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("permute", input, dims) from None
    dims = _dims(_shape_arg(dims), data.ndim)
    if sorted(dims) != list(range(data.ndim)):
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = "  # noqa: E501
            f"{data.ndim} is not equal to len(dims) = {len(dims)}"
        )
    node = None
    if _tracks(input):
        node = Permute()
        node.dims = dims
    return _view(np.transpose(data, dims), input, node)


T_ON_0D = "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
T_ON_ND = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
    "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
    "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
    "tensor."
)


def numpy_T(input: Tensor) -> Tensor:  # noqa: N802 - torch's name for .T
    ndim = input._data.ndim
    if ndim != 2:  # torch deprecates .T on anything but a matrix (vectors included)
        warnings.warn(T_ON_0D if ndim == 0 else T_ON_ND, UserWarning, stacklevel=2)
    return permute(input, *reversed(range(ndim)))


def mT(input: Tensor) -> Tensor:  # noqa: N802
    return transpose(input, -2, -1)


class Squeeze(Op):
    _name = "SqueezeBackward0"

    def gradient(self, grad):
        return (_reshape_to(grad, self.shape),)


def squeeze(input: Tensor, dim=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("squeeze", input, dim) from None
    shape = data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    elif dim.__class__ is _int and 0 <= dim < len(shape):  # squeeze(d), the common call
        dims = (dim,) if shape[dim] == 1 else ()
    else:
        dims = tuple(d for d in _dims(dim, data.ndim) if shape[d] == 1)
    out = data.squeeze(axis=dims) if dims else data.view() if data.ndim else data
    node = None
    if _tracks(input):
        node = Squeeze()
        node._rename(
            "SqueezeBackward0"
            if dim is None
            else "SqueezeBackward1"
            if isinstance(dim, (_int, np.integer))
            else "SqueezeBackward2"
        )
        node.shape = shape
    return _view(out, input, node)


class Unsqueeze(Op):
    _name = "UnsqueezeBackward0"

    def gradient(self, grad):
        if not _GradMode.enabled:  # (the same view, by a cheaper road: see _reshape_to)
            shape = grad._data.shape
            return (_reshape_to(grad, shape[: self.dim] + shape[self.dim + 1 :]),)
        return (grad.squeeze(self.dim),)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("unsqueeze", input, dim) from None
    rank = data.ndim + 1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got "
            f"{dim})"
        )
    d = dim % rank
    node = None
    if _tracks(input):
        node = Unsqueeze()
        node.dim = d
    shape = data.shape
    return _view(data.reshape(shape[:d] + (1,) + shape[d:]), input, node)  # always a view


class Expand(Op):
    _name = "ExpandBackward0"

    def gradient(self, grad):
        return (grad.sum_to_size(self.shape),)


def expand(input: Tensor, *sizes) -> Tensor:
    data = input._data
    sizes = _shape_arg(sizes)
    lead = len(sizes) - data.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand(torch.{_dtype_of(input).legacy_name}{{{list(data.shape)}}}, size={list(sizes)}): "
            "the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
            f"({data.ndim})"
        )
    out = _broadcast_view(data, _expanded_shape(data.shape, sizes))
    node = None
    if _tracks(input):
        node = Expand()
        node.shape = data.shape
    return _view(out, input, node)


def _broadcast_view(data, shape):
    """``np.broadcast_to`` (a read-only view, stride 0 on repeated dims), without its 3 us of
    Python overhead in the common case of contiguous data."""
    array = data if isinstance(data, np.ndarray) else np.array(data)
    if not array.ndim:  # a number to repeat (a sum's gradient): every stride 0
        out = np.ndarray(shape, array.dtype, array, 0, (0,) * len(shape))
        out.flags.writeable = False
        return out
    if not array.flags.c_contiguous:
        return np.broadcast_to(array, shape)
    lead = len(shape) - array.ndim
    strides = [0] * lead + [
        0 if own == 1 and size != 1 else stride
        for own, size, stride in zip(array.shape, shape[lead:], array.strides)
    ]
    out = np.ndarray(shape, array.dtype, array, 0, tuple(strides))
    out.flags.writeable = False
    return out


def _expanded_shape(shape, sizes) -> tuple:
    """The shape ``expand(sizes)`` gives (-1 keeps a size), with torch's error if it can't."""
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        own = shape[i - lead] if i >= lead else 1
        if s == -1:
            s = own
        elif own != 1 and own != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({own}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        target.append(s)
    return tuple(target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, shape)


class Flip(Op):
    _name = "FlipBackward0"

    def gradient(self, grad):
        return (grad.flip(self.dims),)


def flip(input: Tensor, dims) -> Tensor:
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("flip", input, dims) from None
    dims = _dims(dims, ndim)
    out = np.flip(input._data, axis=dims).copy() if dims else input._data.copy()
    if _tracks(input):
        node = Flip()
        node.dims = dims
        return _record(node, (input,), out)
    return make_tensor(out)


class Clone(Op):
    _name = "CloneBackward0"

    def gradient(self, grad):
        return (grad,)


def clone(input: Tensor, *, memory_format=None, contiguous=False) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("clone", input) from None
    out = np.array(data, copy=True, order="C" if contiguous else "K")
    if input._data.ndim == 0:
        out = input._data.copy() if isinstance(input._data, np.ndarray) else input._data
    if _tracks(input):
        return _record(Clone(), (input,), out)
    return make_tensor(out)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    if np.asarray(input._data).flags.c_contiguous:
        return input
    return clone(input, contiguous=True)


class ToCopy(Op):
    _name = "ToCopyBackward0"

    def gradient(self, grad):
        return (grad.to(self.source),)


def to_dtype(input: Tensor, dtype: _dtype.dtype) -> Tensor:
    out = input._data.astype(dtype.np)
    if _tracks(input) and dtype.category == _dtype.FLOATING:
        node = ToCopy()
        node.source = _dtype_of(input)
        return _record(node, (input,), out)
    return make_tensor(out)


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of all these shapes broadcast to (torch's rules and messages)."""
    shapes = [(s,) if isinstance(s, _int) else s for s in shapes if s is not None]
    for shape in shapes:
        if not isinstance(shape, Sequence):
            raise RuntimeError(
                "Input shapes should be of type ints, a tuple of ints, or a list of ints, got "
                f"{shape}"
            )
    common = [1] * builtins.max((len(s) for s in shapes), default=0)
    for i, shape in enumerate(shapes):
        for d in range(-1, -1 - len(shape), -1):
            if shape[d] == common[d]:
                continue
            if common[d] == 1:
                if shape[d] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[d] = shape[d]
            elif shape[d] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[d]} at {d}! Mismatching "
                    f"argument at index {i} had {shape}; but expected shape should be "
                    f"broadcastable to {common}"
                    + hint("two sizes broadcast when they are equal or one of them is 1")
                )
    return Size(common)

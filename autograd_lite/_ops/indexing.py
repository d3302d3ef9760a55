"""Indexing: ``x[key]`` (``index``, ``select``, ``narrow``) and ``x[key] = value``
(``setitem``, recorded as CopySlices).  The gradient of reading a part is that part placed in
zeros (``_embed``), itself differentiable.

How to read an operation: its class (``Select``, whose ``_name`` is torch's backward node,
``SelectBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``select``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import builtins

import numpy as np

from .._engine import _GradMode, version_cell
from .._errors import hint
from .._tensor import Tensor, _view_error, make_tensor, writable_alias
from ._base import Op, _as_tensor, _dims, _int, _not_tensor, _record, _tracks, _view
from .inplace import copy_, fill_
from .views import _expanded_shape, unsqueeze


class Select(Op):
    """``x[i]``, ``x[a:b]``, ``x[idx]``: the gradient lands in a zero tensor at those places."""

    _name = "SelectBackward0"

    def gradient(self, grad):
        if self._saved is not None:  # index arrays, saved as torch saves them (see _take)
            self.saved_tensors  # noqa: B018 - raises once backward has freed them
        return (_embed(grad, self.shape, self.key, self._name),)


class Embed(Op):
    """Zeros with ``grad`` placed at ``key``: the backward of indexing, itself differentiable."""

    def gradient(self, grad):
        return (_take(grad, self.key, self.source_name),)


def _embed(grad: Tensor, shape, key, source_name) -> Tensor:
    out = np.zeros(shape, dtype=grad._data.dtype)
    if _is_advanced(key):
        np.add.at(out, key, grad._data)  # repeated indices add up
    else:
        out[key] = grad._data
    if _tracks(grad):
        node = Embed()
        node._rename(source_name.replace("Backward0", "BackwardBackward0"))
        node.key, node.source_name = key, source_name
        return _record(node, (grad,), out)
    return make_tensor(out)


def _take(input: Tensor, key, name: str) -> Tensor:
    data = input._data
    out = data[key]
    node = None
    if _tracks(input):
        node = Select()
        node._rename(name)
        node.shape, node.key = data.shape, key
    if _is_advanced(key):
        if node is not None and name == "IndexBackward0":
            # torch saves the index tensors: a second backward through the node raises.
            node.save(key)
        return _record(node, (input,), out) if node is not None else make_tensor(out)
    return _view(out, input, node)


def as_strided_node(base: Tensor, positions, data) -> Select:
    """The node of a view that takes the elements at ``positions`` (index arrays) of ``base``,
    whatever grad mode is on: a view's history, brought up to date (``refresh_view``)."""
    node = Select()
    node._rename("AsStridedBackward0")
    node.shape, node.key = base._data.shape, positions
    return _record(node, (base,), data)._grad_fn


def _is_advanced(key) -> bool:
    if isinstance(key, tuple):
        for k in key:
            if isinstance(k, (np.ndarray, list)):
                return True
        return False
    return isinstance(key, (np.ndarray, list))


def _index_item(k):
    """Turn one index of a torch key into NumPy's, refusing what torch refuses."""
    if isinstance(k, Tensor):
        data = k._data
        if data.ndim == 0 and data.dtype.kind in "iu":
            return _int(data)  # torch indexes with a 0-d integer tensor as with an int
        if data.dtype.kind == "b" or data.dtype.kind in "iu":
            return np.asarray(data)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(k, (list, tuple)):
        return np.asarray([_index_item(i) if isinstance(i, Tensor) else i for i in k])
    if isinstance(k, np.ndarray):
        return k
    if k is None or k is Ellipsis or isinstance(k, (slice, _int, np.integer)):
        return k
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
        f"indices (got {type(k).__name__})"
    )


def index(input: Tensor, key) -> Tensor:
    """``input[key]`` with torch's node names: SelectBackward0, SliceBackward0, IndexBackward0."""
    data = input._data
    if key.__class__ is _int and data.ndim:  # x[i], the most common index: straight to select
        _check_int(key, 0, data.shape)
        out = data[key, ...]  # the Ellipsis keeps a 0-d result a view, as torch's is
        if not _tracks(input):
            return _view(out, input, None)
        node = Select()
        node.shape, node.key = data.shape, (key, Ellipsis)  # (the class is SelectBackward0)
        return _view(out, input, node)
    items = key if isinstance(key, tuple) else (key,)
    items = tuple(_index_item(k) for k in items)
    if data.ndim == 0 and builtins.any(isinstance(k, (_int, np.integer)) for k in items):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
            "in C++ to convert a 0-dim tensor to a number"
        )
    if builtins.any(isinstance(k, np.ndarray) for k in items):
        _check_bounds(items, data.shape)
        try:
            return _take(input, items if len(items) > 1 else items[0], "IndexBackward0")
        except IndexError as e:  # NumPy's "axis" is torch's "dimension"
            raise IndexError(str(e).replace(" for axis ", " for dimension ")) from None
    return _basic_index(input, items, single_slice=not isinstance(key, tuple))


def _check_bounds(items, shape) -> None:
    dim = 0
    for k in items:
        if k is None:
            continue
        if k is Ellipsis:
            # (the position by identity: `==` on the index arrays around it is elementwise)
            at = next(n for n, i in enumerate(items) if i is Ellipsis)
            dim = len(shape) - builtins.sum(1 for i in items if i is not None and i is not Ellipsis)
            dim += builtins.sum(1 for i in items[:at] if i is not None)
            continue
        if isinstance(k, (_int, np.integer)):
            _check_int(k, dim, shape)
        dim += k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else 1


def _check_int(k, dim, shape) -> None:
    if dim < len(shape) and not -shape[dim] <= k < shape[dim]:
        raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {shape[dim]}")


def _basic_index(input: Tensor, items, single_slice: bool) -> Tensor:
    """Apply ints, slices, None and ``...`` one at a time, as torch does (one node each)."""
    ndim = input._data.ndim
    used = builtins.sum(1 for k in items if k is not None and k is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    result, dim = input, 0
    for k in items:
        if k is Ellipsis:
            dim += ndim - used
        elif k is None:
            result = unsqueeze(result, dim)
            dim += 1
        elif isinstance(k, slice):
            full = k == slice(None)
            if not full or single_slice:
                result = _slice(result, dim, k)
            dim += 1
        else:
            result = select(result, dim, k)
    return result


def select(input: Tensor, dim: int, index: int) -> Tensor:
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("select", input, dim, index) from None
    (d,) = _dims(dim, len(shape))
    _check_int(index, d, shape)
    key = (slice(None),) * d + (_int(index), Ellipsis)
    return _take(input, key, "SelectBackward0")


def _slice(input: Tensor, dim: int, s: slice) -> Tensor:
    if s.step is not None and s.step <= 0:
        raise ValueError("step must be greater than zero")
    key = (slice(None),) * dim + (s, Ellipsis)
    return _take(input, key, "SliceBackward0")


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("narrow", input, dim, start, length) from None
    (d,) = _dims(dim, ndim)
    return _slice(input, d, slice(start, start + length))


class CopySlices(Op):
    """``x[key] = value`` on a tensor in the graph."""

    _name = "torch::autograd::CopySlices"

    def __init__(self):
        super().__init__()
        self.save()  # nothing, but freed after a backward: as in torch, a second one raises

    def gradient(self, grad):
        self.saved_tensors  # noqa: B018 - raises once a backward has freed the node
        key = self.key
        grad_self = _embed_zero(grad, key)
        grad_value = None
        if self._next[1] is not None:
            grad_value = _take(
                grad, key, "IndexBackward0" if _is_advanced(key) else "SliceBackward0"
            )
        return grad_self, grad_value


class _ZeroAt(Op):
    _name = "IndexPutBackward0"

    def __init__(self):
        super().__init__()
        self.save()  # torch saves the indices: a second backward through the node raises

    def gradient(self, grad):
        self.saved_tensors  # noqa: B018 - raises once a backward has freed the node
        return (_embed_zero(grad, self.key),)


def _embed_zero(grad: Tensor, key) -> Tensor:
    out = np.array(grad._data, copy=True)
    out[key] = 0
    if _tracks(grad):
        node = _ZeroAt()
        node.key = key
        return _record(node, (grad,), out)
    return make_tensor(out)


def _selects_everything(items, shape) -> bool:
    """A key of only ``...`` and full slices (``x[:]``, ``x[..., 0:n]``): no view at all."""
    if builtins.any(not isinstance(k, slice) and k is not Ellipsis for k in items):
        return False
    if builtins.sum(1 for k in items if k is Ellipsis) > 1 or len(items) > len(shape) + 1:
        return False
    split = items.index(Ellipsis) if Ellipsis in items else len(items)
    dims = list(range(split)) + list(range(len(shape) - len(items) + split + 1, len(shape)))
    slices = [k for k in items if k is not Ellipsis]
    return builtins.all(k.indices(shape[d]) == (0, shape[d], 1) for k, d in zip(slices, dims))


def setitem(target: Tensor, key, value) -> None:
    """``target[key] = value``: an in-place write, recorded as CopySlices when in the graph."""
    items = key if isinstance(key, tuple) else (key,)
    if _selects_everything(items, target._data.shape):
        # torch writes into the tensor itself: fill_ for a number or 0-d tensor, else copy_.
        if isinstance(value, Tensor) and value._data.ndim:
            copy_(target, value)
        else:
            fill_(target, value if isinstance(value, Tensor) else _as_tensor(value))
        return
    np_key = tuple(_index_item(k) for k in items)
    np_key = np_key if len(np_key) > 1 else np_key[0]
    advanced = _is_advanced(np_key)
    if not advanced and _GradMode.enabled and target._requires_grad and target._grad_fn is None:
        # torch writes through the view x[key], so it names the view in its error.
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
            + hint("update parameters inside `with torch.no_grad():`")
        )
    target._check_inplace()
    data = target._writable()
    if not data.flags.writeable:  # x.expand(3)[0] = v: torch writes into the repeated memory
        data = writable_alias(data)
    value_data = value._data if isinstance(value, Tensor) else value
    if isinstance(np_key, (_int, np.integer)) and data.ndim:
        _check_int(np_key, 0, data.shape)
    _check_assignable(data, np_key, np.shape(value_data), advanced)
    if advanced and isinstance(value, Tensor) and value_data.dtype != data.dtype:
        _check_index_put_dtype(np_key, value, target)
    tracked = _GradMode.enabled and (
        target._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    )
    if tracked:
        if target._base is not None and target._view_creation is not None:
            raise _view_error(target, target._view_creation, indirect=False)
        node = CopySlices()
        if advanced:
            node._rename("IndexPutBackward0")  # torch's index_put_ for integer and mask keys
        node.key = np_key
        value_t = _as_tensor(value) if not isinstance(value, Tensor) else value
        edges_from = _record(node, (target, value_t), data)  # edges to the old history
        data[np_key] = value_data
        version_cell(target)[0] += 1
        if target._base is not None:  # its base's history records the write too
            target._rebase_written_view(edges_from._grad_fn)
        else:
            target._rebase(edges_from._grad_fn)
        return
    data[np_key] = value_data
    version_cell(target)[0] += 1


def _check_index_put_dtype(key, value: Tensor, target: Tensor) -> None:
    """torch's index_put_ does not cast a tensor value (a 0-d one written by a mask is a fill,
    which does)."""
    keys = key if isinstance(key, tuple) else (key,)
    mask = builtins.all(isinstance(k, np.ndarray) and k.dtype == bool for k in keys)
    if mask and value._data.ndim == 0:
        return
    raise RuntimeError(
        "Index put requires the source and destination dtypes match, got "
        f"{target.dtype.scalar_name} for the destination and {value.dtype.scalar_name} for the "
        "source."
    )


def _check_assignable(data, key, value_shape, advanced: bool) -> None:
    """``data[key] = value`` must broadcast ``value`` into the selected region (torch's errors)."""
    region = np.shape(data[key])
    shape = tuple(value_shape)
    while len(shape) > len(region) and shape[0] == 1:  # torch drops leading 1s of the value
        shape = shape[1:]
    if advanced or len(shape) > len(region):
        try:
            np.broadcast_shapes(shape, region)
            if len(shape) <= len(region):
                return
        except ValueError:
            pass
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast "
            f"to indexing result of shape {list(region)}"
        )
    _expanded_shape(shape, region)

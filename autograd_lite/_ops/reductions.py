"""Reductions: ``sum``, ``mean``, ``var``/``std``, ``max``/``min``, ``amax``/``amin``,
``argmax``/``argmin``, ``all``/``any``, ``softmax``; and ``sum_to_size``, which sums a broadcast
gradient back down.  A reduction's gradient broadcasts back to the input's shape
(``_expand_back``).

How to read an operation: its class (``Sum``, whose ``_name`` is torch's backward node,
``SumBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``sum``), next to it, computes the forward in NumPy and, when
a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import builtins
import collections
import warnings
from collections.abc import Sequence

import numpy as np

from .. import _dtype
from .._engine import _GradMode
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _bool,
    _dims,
    _int,
    _not_tensor,
    _record,
    _record_unary,
    _scalar_name,
    _tracks,
    _type_name,
)
from .arithmetic import maximum, minimum
from .pointwise import divided
from .views import _expand_to, _reshape_to, _shape_arg


def _expand_back(grad: Tensor, shape, dims, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape (differentiably)."""
    if not keepdim and dims and len(dims) < len(shape):  # (a full reduction just expands)
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        grad = _reshape_to(grad, tuple(kept))
    return _expand_to(grad, shape)


class Sum(Op):
    __slots__ = ("shape", "dims", "keepdim")
    _name = "SumBackward0"

    def gradient(self, grad):
        return (_expand_back(grad, self.shape, self.dims, self.keepdim),)


class SumDims(Sum):
    """``sum(dim=...)``: torch names it apart."""

    __slots__ = ()
    _name = "SumBackward1"


def sum(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A001
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("sum", input, dim) from None
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    elif data.dtype.kind in "biu":
        data = data.astype(np.int64)  # torch sums integers (and bools) as int64
    dims = _dims(dim, data.ndim)
    # The ufunc itself, not np.sum: NumPy's inf - inf warning then comes from this module's
    # frame, which the filter in _base.py silences (torch gives nan silently).
    out = np.add.reduce(data, axis=dims, keepdims=keepdim)
    if _GradMode.enabled and input._requires_grad:
        node = Sum() if dim is None else SumDims()
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        return _record_unary(node, input, out)
    return make_tensor(out)


class Mean(Op):
    _name = "MeanBackward0"

    def gradient(self, grad):
        return (divided(_expand_back(grad, self.shape, self.dims, self.keepdim), self.count),)


def mean(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("mean", input, dim) from None
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    if data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_scalar_name(data.dtype)}"
            + hint("call .float() first: the mean of integers is not an integer")
        )
    dims = _dims(dim, data.ndim)
    count = _int(np.prod([data.shape[d] for d in dims])) if dims else 1
    # sum / count with the ufunc, not np.mean: its inf - inf and empty-slice warnings would come
    # from NumPy's frames, which the filter in _base.py does not cover (torch warns of neither)
    wide = np.float32 if data.dtype == np.float16 else None  # as np.mean: float16 adds in float32
    out = np.add.reduce(data, axis=dims, keepdims=keepdim, dtype=wide) / count
    if out.dtype != data.dtype:
        out = out.astype(data.dtype)
    if _tracks(input):
        node = Mean()
        node._rename("MeanBackward0" if dim is None else "MeanBackward1")
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        node.count = count
        return _record(node, (input,), out)
    return make_tensor(out)


class VarStd(Op):
    """var (and std = sqrt(var)) with Bessel's correction by default."""

    _name = "VarBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        centered = x - x.mean(self.dims, keepdim=True)
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        if self.std:
            std = _expand_back(self.saved_result, self.shape, self.dims, self.keepdim)
            return (grad * centered / (std * self.denominator),)
        return (grad * 2 * centered / self.denominator,)


def var(input: Tensor, dim=None, *, correction=1, keepdim=False, unbiased=None) -> Tensor:
    return _var_std(input, dim, correction, keepdim, unbiased, std=False)


def std(input: Tensor, dim=None, *, correction=1, keepdim=False, unbiased=None) -> Tensor:
    return _var_std(input, dim, correction, keepdim, unbiased, std=True)


def _var_std(input, dim, correction, keepdim, unbiased, std: bool) -> Tensor:
    if isinstance(dim, _bool):  # the old positional var(unbiased) form
        unbiased, dim = dim, None
    if unbiased is not None:
        correction = 1 if unbiased else 0
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("std" if std else "var", input, dim) from None
    dims = _dims(dim, data.ndim)
    count = _int(np.prod([data.shape[d] for d in dims])) if dims else 1
    out = _variance(data, dims, correction, keepdim, count, "std" if std else "var")
    if std:
        out = np.sqrt(out)
    out = out.astype(data.dtype) if out.dtype != data.dtype else out
    if _tracks(input):
        node = VarStd()
        node._rename("StdBackward0" if std else "VarBackward0")
        node.shape, node.dims, node.keepdim, node.std = data.shape, dims, keepdim, std
        node.denominator = builtins.max(count - correction, 0)
        node.save(input)
        t = _record(node, (input,), out)
        if std:
            node.save_result(t)
        return t
    return make_tensor(out)


def _variance(data, dims, correction, keepdim: bool, count: int, name: str):
    """np.var, with torch's warning (not NumPy's) when nothing is left to divide by."""
    if count - correction <= 0:
        warnings.warn(
            f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=4,
        )
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's, from its own frames)
        return np.var(data, axis=dims, ddof=correction, keepdims=keepdim)


class MaxAll(Op):
    """max()/min() of all elements: ties share the gradient evenly."""

    _name = "MaxBackward1"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        hits = x == self.saved_result
        return (grad * hits / hits.sum(),)


class MaxDim(Op):
    """max(dim)/min(dim): the gradient goes to the index that won."""

    _name = "MaxBackward0"
    saved_names = ("indices",)

    def gradient(self, grad):
        if not self.keepdim:
            grad = grad.unsqueeze(self.dim)
        return (grad * self.onehot,)


_return_types = {}


def _return_type(name: str):
    """torch.return_types.max and friends: a named (values, indices) pair."""
    if name not in _return_types:
        base = collections.namedtuple(name, ["values", "indices"])

        def __repr__(self):  # noqa: N807
            return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

        _return_types[name] = type(name, (base,), {"__repr__": __repr__, "__slots__": ()})
    return _return_types[name]


def _extreme(input: Tensor, dim, keepdim, largest: bool, name: str):
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return maximum(input, dim) if largest else minimum(input, dim)
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    if dim is None:
        if data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        out = np.max(data) if largest else np.min(data)
        if _tracks(input):
            node = MaxAll()
            node._rename("MaxBackward1" if largest else "MinBackward1")
            node.save(input)
            t = _record(node, (input,), out)
            node.save_result(t)
            return t
        return make_tensor(out)
    (d,) = _dims(dim, data.ndim) or (0,)
    arg = np.argmax(data, axis=d) if data.ndim else np.array(0)
    if not largest:
        arg = np.argmin(data, axis=d) if data.ndim else np.array(0)
    idx = np.expand_dims(arg, d) if data.ndim else arg
    values = np.take_along_axis(data, idx, axis=d) if data.ndim else data
    if not keepdim and data.ndim:
        values = np.squeeze(values, axis=d)
    indices = make_tensor(idx if keepdim or not data.ndim else arg)
    if _tracks(input):
        node = MaxDim()
        node._rename("MaxBackward0" if largest else "MinBackward0")
        node.dim, node.keepdim = d, keepdim
        node.indices = indices
        onehot = np.zeros(data.shape, dtype=bool)
        if data.ndim:
            np.put_along_axis(onehot, idx, True, axis=d)
        else:
            onehot = np.array(True)
        node.onehot = make_tensor(onehot)
        values = _record(node, (input,), values)
    else:
        values = make_tensor(values)
    return _return_type(name)(values, indices)


def max(input: Tensor, dim=None, keepdim=False):  # noqa: A001
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim=None, keepdim=False):  # noqa: A001
    return _extreme(input, dim, keepdim, False, "min")


class Amax(Op):
    """amax/amin over any dims: the gradient is shared evenly by the ties of each slice
    (max(dim) gives it all to the one index it returns)."""

    _name = "AmaxBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        result = _expand_back(self.saved_result, self.shape, self.dims, self.keepdim)
        hits = x == result
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        # torch's order (grad / count) * mask, so that rounding agrees too
        return ((grad / hits.sum(self.dims, keepdim=True)) * hits,)


def amax(input, dim=(), keepdim=False) -> Tensor:
    return _amax_amin(input, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False) -> Tensor:
    return _amax_amin(input, dim, keepdim, "amin")


def _amax_amin(input, dim, keepdim: bool, name: str) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    given = _reduction_dims(dim, name)
    dims = _dims(given or None, data.ndim)  # () (the default) reduces every dim
    for i, d in enumerate(dims):
        if d in dims[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    _check_not_empty(data, given, dims, name)
    out = (np.amax if name == "amax" else np.amin)(data, axis=dims, keepdims=keepdim)
    if _tracks(input):
        node = Amax()
        node._rename("AmaxBackward0" if name == "amax" else "AminBackward0")
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def _reduction_dims(dim, name: str) -> tuple:
    """``dim`` as the tuple of ints torch's argument parser makes of it (an int, a sequence)."""
    if dim is None:
        return ()
    if isinstance(dim, (_int, np.integer)) and not isinstance(dim, (_bool, np.bool_)):
        return (_int(dim),)
    if isinstance(dim, Sequence) and builtins.all(
        isinstance(d, (_int, np.integer)) and not isinstance(d, (_bool, np.bool_)) for d in dim
    ):
        return tuple(_int(d) for d in dim)
    raise TypeError(
        f"{name}(): argument 'dim' (position 2) must be tuple of ints, not {_type_name(dim)}"
    )


def _check_not_empty(data, given: tuple, dims: tuple, name: str) -> None:
    """The largest (smallest) of nothing is undefined: torch refuses, naming the dim as given."""
    if data.size:
        return
    if not given:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for d, wrapped in zip(given, dims):
        if data.ndim and data.shape[wrapped] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def argmax(input: Tensor, dim=None, keepdim=False) -> Tensor:
    return _arg_extreme(input, dim, keepdim, np.argmax)


def argmin(input: Tensor, dim=None, keepdim=False) -> Tensor:
    return _arg_extreme(input, dim, keepdim, np.argmin)


def _arg_extreme(input, dim, keepdim, fn) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(fn.__name__, input, dim) from None
    if dim is None:
        out = np.asarray(fn(data), dtype=np.int64)
        return make_tensor(out.reshape((1,) * data.ndim) if keepdim else out)
    (d,) = _dims(dim, data.ndim) or (0,)
    if not data.ndim:
        return make_tensor(np.array(0))
    return make_tensor(fn(data, axis=d, keepdims=keepdim).astype(np.int64))


class Softmax(Op):
    _name = "SoftmaxBackward0"

    def gradient(self, grad):
        y = self.saved_result
        return (y * (grad - (grad * y).sum(self.dim, keepdim=True)),)


class LogSoftmax(Op):
    _name = "LogSoftmaxBackward0"

    def gradient(self, grad):
        y = self.saved_result
        return (grad - y.exp() * grad.sum(self.dim, keepdim=True),)


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype, Softmax, "softmax")


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype, LogSoftmax, "log_softmax")


def _softmax(input, dim, dtype, cls, name) -> Tensor:
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    (d,) = _dims(dim, data.ndim) or (0,)
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    elif data.dtype.kind != "f":
        kernel = f"{name}_lastdim_kernel_impl" if d >= data.ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_scalar_name(data.dtype)}'"
            + hint("softmax needs floats: call .float() first")
        )
    axis = d if data.ndim else None
    shifted = data - np.max(data, axis=axis, keepdims=True)
    if cls is Softmax:
        e = np.exp(shifted)
        out = e / np.sum(e, axis=axis, keepdims=True)
    else:
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    if _tracks(input):
        node = cls()
        node.dim = d
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def all(input: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("all", input, dim) from None
    return make_tensor(np.all(data, axis=dim, keepdims=keepdim))


def any(input: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("any", input, dim) from None
    return make_tensor(np.any(data, axis=dim, keepdims=keepdim))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("count_nonzero", input, dim) from None
    return make_tensor(np.asarray(np.count_nonzero(data, axis=dim), dtype=np.int64))


def sum_to_size(input: Tensor, *shape) -> Tensor:
    """Sum a broadcast gradient back down to ``shape`` (what expand's backward needs)."""
    shape = _shape_arg(shape)
    data_shape = input._data.shape
    lead = len(data_shape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and data_shape[lead + i] != 1
    )
    if not dims:
        return input
    if not shape:  # torch's sum_to: to a 0-d shape is a plain sum (SumBackward0)
        return sum(input)
    out = sum(input, dims, keepdim=True)
    return out.view(shape) if lead else out

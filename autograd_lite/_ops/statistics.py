"""More reductions: two results from one pass (``var_mean``, ``std_mean``, ``aminmax``),
``logsumexp``, and the NaN-skipping ``nansum`` and ``nanmean``.

``var_mean`` and ``aminmax`` are nodes with two outputs: their gradient rule receives one
gradient per output (zeros for an output nobody used) and adds up what each contributes.

How to read an operation: its class (``VarMean``, whose ``_name`` is torch's backward node,
``VarMeanBackward0``) holds the gradient rule, ``gradient(self, grads)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``var_mean``), next to it, computes the forward in NumPy
and, when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import builtins
import collections

import numpy as np

from .. import _dtype
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import Op, _bool, _dims, _int, _not_tensor, _record, _scalar_name, _tracks, _type_name
from .comparison import isnan, logical_not
from .reductions import _expand_back, _variance
from .reductions import sum as _sum


def _record_pair(node: Op, input: Tensor, first, second) -> tuple:
    """Two results of one node: output 0 and output 1 (``_output_nr``)."""
    node.num_outputs = 2
    node.shapes = (first.shape, second.shape)
    node.dtype = first.dtype
    a = _record(node, (input,), first)
    b = make_tensor(second, node)
    b._output_nr = 1
    return a, b


class _TwoOutputs(Op):
    def materialize(self, grads):
        return [
            g if g is not None else make_tensor(np.zeros(shape, dtype=self.dtype))
            for g, shape in zip(grads, self.shapes)
        ]


# ============================================================================================
# var_mean, std_mean
# ============================================================================================


class VarMean(_TwoOutputs):
    """d var / dx = 2 (x - mean) / (n - correction); d std = that / (2 std);
    d mean / dx = 1 / n."""

    _name = "VarMeanBackward0"
    saved_names = ("self",)

    def gradient(self, grads):
        grad_spread, grad_mean = grads
        (x,) = self.saved_tensors
        shape, dims, keepdim = self.shape, self.dims, self.keepdim
        centered = x - x.mean(dims, keepdim=True)
        grad_spread = _expand_back(grad_spread, shape, dims, keepdim)
        if self.std:
            spread = _expand_back(self.saved_result, shape, dims, keepdim)
            from_spread = grad_spread * centered / (spread * self.denominator)
        else:
            from_spread = grad_spread * 2 * centered / self.denominator
        return (from_spread + _expand_back(grad_mean, shape, dims, keepdim) / self.count,)


def var_mean(input: Tensor, dim=None, *, correction=1, keepdim=False, unbiased=None) -> tuple:
    """(var, mean) in one call; the same arguments as ``var``."""
    return _spread_mean(input, dim, correction, keepdim, unbiased, std=False)


def std_mean(input: Tensor, dim=None, *, correction=1, keepdim=False, unbiased=None) -> tuple:
    """(std, mean) in one call; the same arguments as ``std``."""
    return _spread_mean(input, dim, correction, keepdim, unbiased, std=True)


def _spread_mean(input, dim, correction, keepdim, unbiased, std: bool) -> tuple:
    name = "std_mean" if std else "var_mean"
    if isinstance(dim, _bool):  # the old positional var_mean(x, unbiased) form
        unbiased, dim = dim, None
    if unbiased is not None:
        correction = 1 if unbiased else 0
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    if data.dtype.kind != "f":
        raise RuntimeError(
            f"{name} only support floating point and complex dtypes"
            + hint("call .float() first: a variance of integers is not an integer")
        )
    dims = _dims(dim, data.ndim)
    count = _int(np.prod([data.shape[d] for d in dims])) if dims else 1
    spread = _variance(data, dims, correction, keepdim, count, name)
    mean = np.add.reduce(data, axis=dims, keepdims=keepdim, dtype=spread.dtype) / count
    if std:
        spread = np.sqrt(spread)
    spread, mean = np.asarray(spread, data.dtype), np.asarray(mean, data.dtype)
    if not _tracks(input):
        return make_tensor(spread), make_tensor(mean)
    node = VarMean()
    node._rename("StdMeanBackward0" if std else "VarMeanBackward0")
    node.shape, node.dims, node.keepdim, node.std = data.shape, dims, keepdim, std
    node.count, node.denominator = count, builtins.max(count - correction, 0)
    node.save(input)
    outputs = _record_pair(node, input, spread, mean)
    if std:
        node.save_result(outputs[0])  # (the std itself, as part of the graph)
    return outputs


# ============================================================================================
# aminmax
# ============================================================================================

_aminmax = collections.namedtuple("aminmax", ["min", "max"])


class aminmax_result(_aminmax):  # noqa: N801 - prints as torch.return_types.aminmax
    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.return_types.aminmax(\nmin={self.min!r},\nmax={self.max!r})"


aminmax_result.__name__ = aminmax_result.__qualname__ = "aminmax"


class Aminmax(_TwoOutputs):
    """As amin and amax: each extreme's gradient is shared evenly by the elements equal to it."""

    _name = "AminmaxBackward0"
    saved_names = ("self",)

    def gradient(self, grads):
        (x,) = self.saved_tensors
        total = None
        for grad, extreme in zip(grads, self.extremes):
            extreme = _expand_back(extreme, self.shape, self.dims, self.keepdim)
            hits = x == extreme
            grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
            part = (grad / hits.sum(self.dims, keepdim=True)) * hits
            total = part if total is None else total + part
        return (total,)


def aminmax(input: Tensor, *, dim=None, keepdim=False) -> tuple:
    """(min, max) in one call, over ``dim`` (one int) or over everything."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("aminmax", input, dim) from None
    if dim is not None and not isinstance(dim, (_int, np.integer)):
        raise TypeError(f"aminmax(): argument 'dim' must be int, not {_type_name(dim)}")
    if dim is None and data.size == 0:
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            "identity."
        )
    dims = _dims(dim, data.ndim)
    if dim is not None and data.ndim and data.shape[dims[0]] == 0:
        raise IndexError(f"aminmax: Expected reduction dim {dim} to have non-zero size.")
    if dim is None and keepdim:
        dims = tuple(range(data.ndim))
    low = np.amin(data, axis=dims, keepdims=keepdim)
    high = np.amax(data, axis=dims, keepdims=keepdim)
    if not _tracks(input):
        return aminmax_result(make_tensor(low), make_tensor(high))
    node = Aminmax()
    node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
    node.save(input)
    node.extremes = (make_tensor(low), make_tensor(high))
    return aminmax_result(*_record_pair(node, input, low, high))


# ============================================================================================
# logsumexp
# ============================================================================================


class Logsumexp(Op):
    """d/dx log(sum(exp(x))) = exp(x - result): the softmax of x."""

    _name = "LogsumexpBackward0"
    saved_names = ("self", "result")

    def gradient(self, grad):
        (x,) = self.saved_tensors
        result = _expand_back(self.saved_result, self.shape, self.dims, self.keepdim)
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        return (grad * (x - result).exp(),)


def logsumexp(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over ``dim``, computed without overflow: the largest value is taken
    out first (log(sum(exp(x - m))) + m)."""
    if dim is None:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("logsumexp", input, dim) from None
    if data.dtype.kind != "f":  # integers and bools: in the default float dtype
        data = data.astype(_dtype.get_default_dtype().np)
    dims = _dims(dim, data.ndim)
    if data.size:
        largest = np.amax(data, axis=dims, keepdims=True)
        largest = np.where(np.isinf(largest), 0, largest)  # (all -inf, or an inf: no shift)
    else:
        largest = np.zeros((1,) * data.ndim, data.dtype)
    with np.errstate(divide="ignore"):
        total = np.add.reduce(np.exp(data - largest), axis=dims, keepdims=True)
        out = np.log(total) + largest
    if not keepdim:
        out = np.squeeze(out, axis=dims) if dims else out
    out = np.asarray(out, data.dtype)
    if _tracks(input):
        node = Logsumexp()
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


# ============================================================================================
# nansum, nanmean
# ============================================================================================


class Nansum(Op):
    """The gradient of a sum, except at the NaNs, which did not take part."""

    _name = "NansumBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        # torch multiplies by the mask rather than selecting: an inf or nan gradient (nanmean
        # of a row that is all NaN divides by a count of 0) stays nan at the NaNs too
        return (grad * logical_not(isnan(x)),)


def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``sum``, counting every NaN as 0."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("nansum", input, dim) from None
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    elif data.dtype.kind in "biu":
        data = data.astype(np.int64)  # as sum: integers (and bools) add up as int64
    dims = _dims(dim, data.ndim)
    clean = np.where(np.isnan(data), 0, data) if data.dtype.kind == "f" else data
    wide = np.float32 if data.dtype == np.float16 else None  # (as sum: halves add in float)
    out = np.asarray(np.add.reduce(clean, axis=dims, keepdims=keepdim, dtype=wide), data.dtype)
    if _tracks(input):
        node = Nansum()
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """``mean`` of the values that are not NaN: ``nansum`` divided by their count (as in
    torch, whose node is then ``DivBackward0``)."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("nanmean", input, dim) from None
    if data.dtype.kind != "f":
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{_scalar_name(data.dtype)}"
            + hint("call .float() first: the mean of integers is not an integer")
        )
    counted = _sum(~isnan(input), dim, keepdim)
    return nansum(input, dim, keepdim, dtype=dtype) / counted

"""Ordering: ``sort``, ``argsort``, ``msort``, ``topk``, and the running extremes ``cummax`` and
``cummin``.

Each of these finds indices first (NumPy's ``argsort``, or a running comparison) and then picks
the values at them: a ``gather``, whose gradient puts each value's gradient back where the
value came from (``_ops/gathering.py``).  Only the node's name differs: ``SortBackward0``,
``TopkBackward0``, ``CummaxBackward0``.  The indices are int64 and take no gradient.

NaN counts as larger than every number, as in torch: last in an ascending sort, first in a
descending one, and the running maximum (and minimum) from the first NaN on.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor, make_tensor
from ._base import _dims, _not_tensor
from .gathering import _gather
from .reductions import _return_type


def _order(data: np.ndarray, dim: int, descending: bool) -> np.ndarray:
    """Indices that sort ``data`` along ``dim``, keeping equal values in their order (stable):
    a descending order is the ascending order of the reversed data, reversed."""
    if not descending:
        return np.argsort(data, axis=dim, kind="stable")
    n = data.shape[dim]
    backwards = np.argsort(np.flip(data, dim), axis=dim, kind="stable")
    return np.flip(n - 1 - backwards, dim)


def _pick(input: Tensor, dim: int, indices: np.ndarray, name: str) -> Tensor:
    """The values at ``indices`` along ``dim``, their node named ``name``."""
    values = _gather(input, dim, indices)
    if values._grad_fn is not None:
        values._grad_fn._rename(name)
    return values


def _sort(input: Tensor, dim, descending: bool, name: str):
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    (d,) = _dims(dim, data.ndim) or (0,)
    if data.ndim == 0:
        return 0, np.zeros((), dtype=np.int64)
    return d, _order(np.asarray(data), d, descending)


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) sorted along ``dim``; equal values keep their order here, stable or
    not (torch promises that only with ``stable=True``)."""
    d, indices = _sort(input, dim, descending, "sort")
    name = "SortBackward1" if stable else "SortBackward0"
    return _return_type("sort")(_pick(input, d, indices, name), make_tensor(indices))


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """The indices of ``sort``."""
    return make_tensor(_sort(input, dim, descending, "argsort")[1])


def msort(input: Tensor) -> Tensor:
    """The values of ``sort`` along dim 0."""
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The ``k`` largest (or smallest) values along ``dim`` and their indices, largest first
    (always sorted here; torch may leave them unsorted with ``sorted=False``)."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("topk", input, k, dim) from None
    d, indices = _sort(input, dim, largest, "topk")
    size = shape[d] if shape else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if shape:
        indices = np.take(indices, np.arange(k), axis=d)
    values = _pick(input, d, indices, "TopkBackward0")
    return _return_type("topk")(values, make_tensor(indices))


def _running(input: Tensor, dim: int, largest: bool):
    name = "cummax" if largest else "cummin"
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    (d,) = _dims(dim, data.ndim) or (0,)
    if data.ndim == 0:
        indices = np.zeros((), dtype=np.int64)
    else:
        best = (np.fmax if largest else np.fmin).accumulate(data, axis=d)  # (NaN handled below)
        nan = np.isnan(data) if data.dtype.kind == "f" else np.zeros(data.shape, bool)
        # A position becomes the index when it reaches the running extreme (the last of
        # equal ones, as torch), or when it is a NaN, which wins from then on.
        position = np.arange(data.shape[d]).reshape([-1 if i == d else 1 for i in range(data.ndim)])
        seen_nan = np.logical_or.accumulate(nan, axis=d)
        reaches = ((data == best) & ~seen_nan) | nan
        indices = np.maximum.accumulate(np.where(reaches, position, 0), axis=d).astype(np.int64)
    values = _pick(input, d, indices, "CummaxBackward0" if largest else "CumminBackward0")
    return _return_type(name)(values, make_tensor(indices))


def cummax(input: Tensor, dim: int):
    """The running maximum along ``dim`` and where it was found."""
    return _running(input, dim, largest=True)


def cummin(input: Tensor, dim: int):
    """The running minimum along ``dim`` and where it was found."""
    return _running(input, dim, largest=False)

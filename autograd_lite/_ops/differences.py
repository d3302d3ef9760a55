"""``torch.gradient``: the derivative of sampled values, estimated by finite differences along
each dimension (central differences inside, one-sided ones at the two ends).

It is written in the library's own differentiable operations (``narrow``, ``-``, ``/``,
``cat``), as torch composes it from its own: so the result's node is torch's ``CatBackward0``,
and gradients flow back to the samples (and to tensor coordinates) without a rule of its own.
"""

from __future__ import annotations

import numbers

from .. import _dtype
from .._tensor import Tensor
from ._base import _dims, _not_tensor
from .indexing import narrow
from .joining import cat


def gradient(input, *, spacing=1, dim=None, edge_order=1) -> tuple:
    if not isinstance(input, Tensor):
        raise _not_tensor("gradient", input)
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    dims = _dims(dim, input.ndim) if dim is not None else tuple(range(input.ndim))
    spacings = _spacings(spacing, dims, input.ndim, dim is not None)
    if input.dtype.category != _dtype.FLOATING:
        input = input.to(_dtype.get_default_dtype())
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
    return tuple(_along(input, d, h, edge_order) for d, h in zip(dims, spacings))


def _spacings(spacing, dims, ndim: int, dim_given: bool) -> list:
    """One spacing per dimension: a number (uniform samples) or a tensor of coordinates."""
    if isinstance(spacing, (numbers.Number, Tensor)) and not (
        isinstance(spacing, Tensor) and spacing.ndim
    ):
        value = spacing.item() if isinstance(spacing, Tensor) else spacing
        return [value] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        expected = f"'self.dim() = {ndim}', since dim argument was not given"
        if dim_given:
            expected = f"'dim.size() = {len(dims)}'"
        raise RuntimeError(
            "torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
            f"equal to {expected}, but got a list of length {len(spacing)}"
        )
    return spacing


def _part(x, d: int, start: int, length: int):
    return narrow(x, d, start % x.shape[d], length)


def _along(x: Tensor, d: int, h, edge_order: int) -> Tensor:
    """The estimate along dimension ``d``: ``h`` is the step, or a 1-D tensor of coordinates."""
    n = x.shape[d]
    if isinstance(h, Tensor):
        return _along_coordinates(x, d, h, edge_order)
    inside = (_part(x, d, 2, n - 2) - _part(x, d, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (_part(x, d, 1, 1) - _part(x, d, 0, 1)) / h
        last = (_part(x, d, -1, 1) - _part(x, d, -2, 1)) / h
    else:  # second-order one-sided differences: exact for parabolas
        first = (-1.5 * _part(x, d, 0, 1) + 2 * _part(x, d, 1, 1) - 0.5 * _part(x, d, 2, 1)) / h
        last = (0.5 * _part(x, d, -3, 1) - 2 * _part(x, d, -2, 1) + 1.5 * _part(x, d, -1, 1)) / h
    return cat([first, inside, last], d)


def _along_coordinates(x: Tensor, d: int, coords: Tensor, edge_order: int) -> Tensor:
    """Samples at unevenly spaced coordinates: each point weighs its two neighbours by the
    distances to them (the formula is exact for parabolas)."""
    n = x.shape[d]
    shape = [1] * x.ndim
    shape[d] = -1
    steps = (coords[1:] - coords[:-1]).reshape(shape)  # broadcast along dimension d
    left, right = _part(steps, d, 0, n - 2), _part(steps, d, 1, n - 2)
    before, here, after = _part(x, d, 0, n - 2), _part(x, d, 1, n - 2), _part(x, d, 2, n - 2)
    inside = (
        left * left * after - right * right * before + (right * right - left * left) * here
    ) / (left * right * (left + right))
    h0, hn = _part(steps, d, 0, 1), _part(steps, d, -1, 1)
    if edge_order == 1:
        first = (_part(x, d, 1, 1) - _part(x, d, 0, 1)) / h0
        last = (_part(x, d, -1, 1) - _part(x, d, -2, 1)) / hn
    else:
        h1, hm = _part(steps, d, 1, 1), _part(steps, d, -2, 1)
        first = (
            -(2 * h0 + h1) / (h0 * (h0 + h1)) * _part(x, d, 0, 1)
            + (h0 + h1) / (h0 * h1) * _part(x, d, 1, 1)
            - h0 / (h1 * (h0 + h1)) * _part(x, d, 2, 1)
        )
        last = (
            hn / (hm * (hm + hn)) * _part(x, d, -3, 1)
            - (hn + hm) / (hm * hn) * _part(x, d, -2, 1)
            + (2 * hn + hm) / (hn * (hm + hn)) * _part(x, d, -1, 1)
        )
    return cat([first, inside, last], d)

"""Splitting a tensor into pieces along a dim: ``split``, ``chunk``, ``tensor_split`` and
``hsplit``/``vsplit``/``dsplit``.  Every piece is a view of the input.

``split`` and ``chunk`` make one node with several outputs (``SplitBackward0``): its gradient
is the pieces' gradients put back together with ``cat`` (zeros for a piece that got none).
``tensor_split`` and the ``*split`` family take each piece with a slice (``SliceBackward0``),
as torch does.

How to read an operation: its class (``Split``, whose ``_name`` is torch's backward node,
``SplitBackward0``) holds the gradient rule, ``gradient(self, grads)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``split``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_view``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _dims,
    _int,
    _not_tensor,
    _scalar_name,
    _tracks,
    _type_name,
    _view,
    _views_without_graph,
)
from .indexing import narrow
from .joining import cat


class Split(Op):
    """One node, one output per piece; ``_output_nr`` tells the pieces apart."""

    _name = "SplitBackward0"
    several_views = True

    def materialize(self, grads):
        """A piece nobody used gets zeros, so that ``cat`` has something to put there."""
        out = []
        for grad, size in zip(grads, self.sizes):
            if grad is None:
                shape = list(self.shape)
                shape[self.dim] = size
                grad = make_tensor(np.zeros(shape, dtype=self.dtype))
            out.append(grad)
        return out

    def gradient(self, grads):
        if self.num_outputs == 1:  # one piece, the whole input: the engine passes it alone
            return (grads,)
        return (cat(grads, self.dim),)


def _split_at(input: Tensor, sizes: list, d: int, name: str) -> tuple:
    """The pieces of ``sizes`` along ``d``, as views sharing one multi-output node."""
    data = input._data
    bounds = np.cumsum([0, *sizes])
    key = (slice(None),) * d
    pieces = [data[key + (slice(a, b), Ellipsis)] for a, b in zip(bounds[:-1], bounds[1:])]
    if not _tracks(input):
        return _views_without_graph(pieces, input)
    node = Split()
    node._rename(name)
    node.num_outputs = len(pieces)
    node.dim, node.sizes, node.shape, node.dtype = d, sizes, data.shape, data.dtype
    outputs = []
    for i, piece in enumerate(pieces):
        t = _view(piece, input, node)
        t._output_nr = i
        outputs.append(t)
    return tuple(outputs)


def split(input: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Pieces of ``split_size`` (the last one smaller), or of the given ``sections`` sizes."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("split", input, split_size_or_sections, dim) from None
    (d,) = _dims(dim, len(shape))
    size = shape[d]
    sections = split_size_or_sections
    if isinstance(sections, Tensor):
        raise TypeError(
            "split_with_sizes(): argument 'split_sizes' (position 2) must be tuple of ints, not "
            "Tensor" + hint("pass the sizes as a list of ints: sizes.tolist()")
        )
    if not isinstance(sections, (_int, np.integer)):
        return _split_with_sizes(input, [_int(s) for s in sections], d)
    if sections < 0:
        raise RuntimeError(
            f"split expects split_size be non-negative, but got split_size={sections}"
        )
    if sections == 0 and size != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}"
        )
    count = max(-(-size // sections), 1) if sections else 1
    sizes = [sections] * (count - 1) + [size - sections * (count - 1)]
    return _split_at(input, sizes, d, "SplitBackward0")


def split_with_sizes(input: Tensor, split_sizes, dim: int = 0) -> tuple:
    """``split`` with a list of sizes only (what ``split`` calls for a list, in torch too)."""
    if isinstance(split_sizes, (_int, np.integer, Tensor)):
        raise TypeError(
            "split_with_sizes(): argument 'split_sizes' (position 1) must be tuple of ints, not "
            f"{_type_name(split_sizes)}"
        )
    try:
        (d,) = _dims(dim, input._data.ndim)
    except AttributeError:
        raise _not_tensor("split_with_sizes", input, split_sizes, dim) from None
    return _split_with_sizes(input, [_int(s) for s in split_sizes], d)


def _split_with_sizes(input: Tensor, sizes: list, d: int) -> tuple:
    size = input._data.shape[d]
    if any(s < 0 for s in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={sizes}"
        )
    if sum(sizes) != size:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
            f"at dimension {d}), but got split_sizes={sizes}"
        )
    return _split_at(input, sizes, d, "SplitWithSizesBackward0")


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """At most ``chunks`` pieces of equal size (the last one smaller): ``split`` by
    ``ceil(size / chunks)``, so there may be fewer pieces than asked for."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("chunk", input, chunks, dim) from None
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    (d,) = _dims(dim, len(shape))
    size = shape[d]
    if size == 0:  # torch gives ``chunks`` empty pieces here
        return _split_with_sizes(input, [0] * chunks, d)
    return split(input, -(-size // chunks), d)


def tensor_split(input: Tensor, indices_or_sections=None, dim: int = 0, **names) -> tuple:
    """NumPy's ``array_split``: ``sections`` pieces as equal as can be (the first ones one
    larger), or pieces between the given ``indices``; each piece is a slice."""
    for name in ("indices", "sections", "tensor_indices_or_sections"):
        if name in names:
            indices_or_sections = names.pop(name)
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("tensor_split", input, indices_or_sections, dim) from None
    (d,) = _dims(dim, len(shape))
    size = shape[d]
    cut = indices_or_sections
    if isinstance(cut, Tensor):
        cut = _indices_tensor(cut)
    if isinstance(cut, (_int, np.integer)):
        if cut <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {cut}")
        small, extra = divmod(size, cut)
        sizes = [small + 1] * extra + [small] * (cut - extra)
        starts = list(np.cumsum([0, *sizes[:-1]]))
        bounds = list(zip(starts, [s + n for s, n in zip(starts, sizes)]))
    else:
        # Python's slicing rules: negative indices count from the end, beyond it is clamped.
        edges = [_int(i) for i in cut]
        bounds = [slice(a, b).indices(size)[:2] for a, b in zip([0, *edges], [*edges, size])]
    return tuple(narrow(input, d, a, max(b - a, 0)) for a, b in bounds)


def _indices_tensor(cut: Tensor):
    data = cut._data
    if data.dtype != np.int64:
        raise RuntimeError(
            "tensor_split expected tensor_indices_or_sections to have dtype of long, but got "
            f"{_scalar_name(data.dtype)}"
        )
    if data.ndim > 1:
        raise RuntimeError(
            "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
            f"one-dimensional tensor, but got a tensor with {data.ndim} dims"
        )
    return _int(data) if data.ndim == 0 else data.tolist()


def _split_family(input: Tensor, sections, name: str, dim: int, min_dims: int) -> tuple:
    """hsplit, vsplit, dsplit: ``tensor_split`` along one dim, by a number that must divide
    its size, or at indices."""
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor(name, input, sections) from None
    if ndim < min_dims:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
            f"with {ndim} dimensions!"
        )
    if isinstance(sections, (_int, np.integer)):
        size = input._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {sections}!"
            )
    elif not isinstance(sections, (list, tuple)):
        raise TypeError(f"{name}(): argument 'sections' must be int, not {_type_name(sections)}")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, sections) -> tuple:
    """Split the columns: dim 1, or dim 0 of a vector."""
    ndim = getattr(getattr(input, "_data", None), "ndim", 0)
    return _split_family(input, sections, "hsplit", 1 if ndim > 1 else 0, 1)


def vsplit(input: Tensor, sections) -> tuple:
    """Split the rows: dim 0."""
    return _split_family(input, sections, "vsplit", 0, 2)


def dsplit(input: Tensor, sections) -> tuple:
    """Split the depth: dim 2."""
    return _split_family(input, sections, "dsplit", 2, 3)

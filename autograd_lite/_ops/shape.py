"""Rearranging elements: ``movedim``/``moveaxis``, ``repeat``/``tile``/``repeat_interleave``,
``roll``, ``rot90``, ``fliplr``/``flipud``, ``unflatten``, ``tril``/``triu``, and the in-place
shape methods (``unsqueeze_``, ``squeeze_``, ``transpose_``, ``swapaxes_``, ``resize_``).

Several of these are other operations in disguise, as in torch: ``movedim`` is a ``permute``,
``tile`` a ``repeat``, ``fliplr`` a ``flip``, ``unflatten`` a ``view``; their ``grad_fn`` is
then the other operation's node, exactly as torch names it.

How to read an operation: its class (``Repeat``, whose ``_name`` is torch's backward node,
``RepeatBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``repeat``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import math

import numpy as np

from .._engine import _GradMode, version_cell
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import Op, _dims, _int, _not_tensor, _record, _scalar_name, _tracks, _type_name
from .views import _shape_arg, clone, flip, permute, squeeze, transpose, unsqueeze, view

# ============================================================================================
# movedim: a permutation described by where some dims go
# ============================================================================================


def _dim_list(dims) -> tuple:
    return (dims,) if isinstance(dims, (_int, np.integer)) else tuple(dims)


def movedim(input: Tensor, source, destination) -> Tensor:
    """Move the dims ``source`` to the places ``destination``; the others keep their order."""
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("movedim", input, source, destination) from None
    if isinstance(source, (_int, np.integer)) != isinstance(destination, (_int, np.integer)):
        types = ", ".join(_type_name(x) for x in (source, destination))
        raise TypeError(
            f"movedim() received an invalid combination of arguments - got ({types}), but "
            "expected one of:" + hint("give source and destination both as ints or both as tuples")
        )
    src, dst = _dim_list(source), _dim_list(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src, dst = _dims(src, ndim), _dims(dst, ndim)
    for name, dims, given in (("source", src, source), ("destination", dst, destination)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(_dim_list(given))})")
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    return permute(input, tuple(d if d is not None else next(rest) for d in order))


moveaxis = movedim


# ============================================================================================
# In-place shape methods: the tensor takes the view's shape and history
# ============================================================================================

# torch names the in-place forms' nodes apart from the out-of-place ones.
_IN_PLACE_NAMES = {
    "UnsqueezeBackward0": "UnsqueezeBackward1",
    "SqueezeBackward0": "SqueezeBackward3",
    "SqueezeBackward1": "SqueezeBackward4",
    "SqueezeBackward2": "SqueezeBackward5",
    "TransposeBackward0": "TransposeBackward1",
}


def _in_place_view(view_op):
    """``x.unsqueeze_(0)`` is ``x.unsqueeze(0)`` written back into ``x``: same memory, new
    shape, the version counter bumped, and the view's node as ``x``'s history."""

    def method(self, *args, **kwargs):
        self._check_inplace()
        result = view_op(self, *args, **kwargs)
        node = result._grad_fn
        if node is not None:
            node._rename(_IN_PLACE_NAMES[node._name])
        self._data = result._data
        cell = version_cell(self)
        cell[0] += 1
        self._rebase(node)
        if self._base is not None:  # the view's new history is already up to date
            self._view_version = cell[0]
        return self

    method.__name__ = view_op.__name__ + "_"
    return method


unsqueeze_ = _in_place_view(unsqueeze)
squeeze_ = _in_place_view(squeeze)
transpose_ = swapaxes_ = swapdims_ = _in_place_view(transpose)


def resize_(self: Tensor, *sizes) -> Tensor:
    """New shape, same elements in order; new elements (when it grows) are zeros here and
    uninitialized in torch: never read them."""
    if _GradMode.enabled and self._requires_grad:
        raise RuntimeError(
            "cannot resize variables that require grad"
            + hint("resize the tensor's .detach(), or build a new tensor")
        )
    shape = _shape_arg(sizes)
    for s in shape:
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(shape)}"
            )
    flat = np.asarray(self._data).reshape(-1)
    count = math.prod(shape)
    if count > flat.size:
        flat = np.concatenate([flat, np.zeros(count - flat.size, dtype=flat.dtype)])
    self._data = np.ascontiguousarray(flat[:count]).reshape(shape)
    return self


def resize_as_(self: Tensor, other: Tensor) -> Tensor:
    return resize_(self, other.shape)


# ============================================================================================
# repeat, tile, repeat_interleave
# ============================================================================================


class Repeat(Op):
    """``repeat``: output dim i holds ``repeats[i]`` copies of input dim i, one after another."""

    _name = "RepeatBackward0"

    def gradient(self, grad):
        # Split each output dim into (copies, size) and add the copies up.
        split = [n for pair in zip(self.repeats, self.padded) for n in pair]
        copies = tuple(range(0, len(split), 2))
        grad = grad.reshape(split)
        if copies:
            grad = grad.sum(copies)
        return (grad.reshape(self.shape),)


def repeat(input: Tensor, *repeats) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("repeat", input, repeats) from None
    repeats = _shape_arg(repeats)
    if len(repeats) < data.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            "tensor" + hint(f"give one count per dim: this tensor has {data.ndim}")
        )
    padded = (1,) * (len(repeats) - data.ndim) + data.shape
    target = [r * s for r, s in zip(repeats, padded)]
    for size in target:
        if size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {target}")
    out = np.tile(np.reshape(data, padded), repeats) if repeats else np.array(data, copy=True)
    if _tracks(input):
        node = Repeat()
        node.repeats, node.padded, node.shape = repeats, padded, data.shape
        return _record(node, (input,), out)
    return make_tensor(out)


def tile(input: Tensor, dims) -> Tensor:
    """``repeat`` with fewer counts allowed: the missing leading ones are 1."""
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("tile", input, dims) from None
    dims = _shape_arg((dims,))
    return repeat(input, (1,) * (ndim - len(dims)) + dims)


def repeat_interleave(input: Tensor, repeats=None, dim=None, *, output_size=None) -> Tensor:
    """Each element ``repeats`` times in a row (an int, or one count per element)."""
    if repeats is None:  # torch.repeat_interleave(counts): the indices, each counts[i] times
        counts = _repeat_counts(input, input._data.size)
        return make_tensor(np.repeat(np.arange(counts.size, dtype=np.int64), counts))
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("repeat_interleave", input, repeats, dim) from None
    if dim is None:
        input, dim = input.reshape(-1), 0
        data = input._data
    (d,) = _dims(dim, data.ndim) or (0,)
    if isinstance(repeats, Tensor):
        size = data.shape[d] if data.ndim else 1
        counts = _repeat_counts(repeats, size, d)
        index = make_tensor(np.repeat(np.arange(size, dtype=np.int64), counts))
        from .gathering import index_select  # (gathering imports this family's neighbours)

        return index_select(input, d, index)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if not data.ndim:
        input, d = input.reshape(1), 0
    # As torch: a new dim of copies next to ``d``, expanded, copied, and folded into ``d``.
    shape = input._data.shape
    copies = unsqueeze(input, d + 1).expand(shape[: d + 1] + (repeats,) + shape[d + 1 :])
    folded = shape[:d] + (shape[d] * repeats,) + shape[d + 1 :]
    return view(clone(copies, contiguous=True), folded)


def _repeat_counts(repeats: Tensor, size: int, dim: int = 0) -> np.ndarray:
    """A repeats tensor as one count per element, with torch's checks."""
    counts = repeats._data
    if counts.dtype.kind not in "iu":
        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{_scalar_name(counts.dtype)}'"
            + hint("repeat counts are integers: pass a torch.long tensor")
        )
    if counts.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if counts.size == 1:
        counts = np.full(size, counts.reshape(()), dtype=np.int64)
    if counts.size != size:
        raise RuntimeError(
            "repeats must have the same size as input along dim, but got repeats.size(0) = "
            f"{counts.size} and input.size({dim}) = {size}"
        )
    if (counts < 0).any():
        raise RuntimeError("repeats can not be negative")
    return counts.reshape(-1)


# ============================================================================================
# roll, rot90, fliplr, flipud
# ============================================================================================


class Roll(Op):
    _name = "RollBackward0"

    def gradient(self, grad):
        return (roll(grad, tuple(-s for s in self.shifts), self.dims),)


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    """Shift the elements along ``dims`` (around the whole tensor, flattened, when None);
    what falls off the end comes back at the start."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("roll", input, shifts, dims) from None
    shifts = _dim_list(shifts)
    given = () if dims is None else _dim_list(dims)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if len(shifts) != len(given) and not (dims is None and len(shifts) == 1):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(given)}"
        )
    if dims is None:
        out = np.roll(np.reshape(data, -1), shifts[0]).reshape(data.shape)
    else:
        given = _dims(given, data.ndim)
        out = np.roll(data, shifts, given) if data.ndim else np.array(data, copy=True)
    if _tracks(input):
        node = Roll()
        node.shifts, node.dims = shifts, dims if dims is None else given
        return _record(node, (input,), out)
    return make_tensor(out)


class Rot90(Op):
    _name = "Rot90Backward0"

    def gradient(self, grad):
        return (rot90(grad, -self.k, self.dims),)


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times, from the first of ``dims`` towards the second."""
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("rot90", input, k, dims) from None
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = _dims(dims, ndim)
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        )
    out = np.rot90(input._data, k, axes=(d0, d1)).copy()
    if _tracks(input):
        node = Rot90()
        node.k, node.dims = k, (d0, d1)
        return _record(node, (input,), out)
    return make_tensor(out)


def fliplr(input: Tensor) -> Tensor:
    """Reverse the columns (dim 1); a ``flip``."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Reverse the rows (dim 0); a ``flip``."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


# ============================================================================================
# unflatten, tril, triu
# ============================================================================================


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Split one dim into ``sizes`` (one may be -1): a ``view``."""
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("unflatten", input, dim, sizes) from None
    sizes = _shape_arg((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    (d,) = _dims(dim, len(shape))
    if sizes.count(-1) > 1:
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    known = math.prod(s for s in sizes if s != -1)
    size = shape[d] if shape else 1
    if (-1 not in sizes and known != size) or (-1 in sizes and (known == 0 or size % known)):
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
            f"({size}) in the input tensor"
        )
    sizes = tuple(size // known if s == -1 else s for s in sizes)
    return view(input, shape[:d] + sizes + shape[d + 1 :])


class Triangle(Op):
    """tril/triu: the gradient keeps the same triangle."""

    _name = "TrilBackward0"

    def gradient(self, grad):
        keep = tril if self.lower else triu
        return (keep(grad, self.diagonal),)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle (on and below ``diagonal``) of the last two dims; zeros above."""
    return _triangle(input, diagonal, lower=True)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle (on and above ``diagonal``) of the last two dims; zeros below."""
    return _triangle(input, diagonal, lower=False)


def _triangle(input: Tensor, diagonal: int, lower: bool) -> Tensor:
    name = "tril" if lower else "triu"
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, diagonal) from None
    if data.ndim < 2:
        raise RuntimeError(
            f"{name}: input tensor must have at least 2 dimensions"
            + hint(f"{name} keeps a triangle of a matrix: give it a 2-d (or batched) tensor")
        )
    out = (np.tril if lower else np.triu)(data, diagonal)
    if _tracks(input):
        node = Triangle()
        node._rename("TrilBackward0" if lower else "TriuBackward0")
        node.lower, node.diagonal = lower, diagonal
        return _record(node, (input,), out)
    return make_tensor(out)


def tril_(self: Tensor, diagonal: int = 0) -> Tensor:
    self._check_inplace()
    return self._assign(tril(self, diagonal))


def triu_(self: Tensor, diagonal: int = 0) -> Tensor:
    self._check_inplace()
    return self._assign(triu(self, diagonal))

"""Matrix products: ``mm``, ``mv``, ``dot``, ``outer`` and ``matmul`` (``@``) with its batched
forms; torch does not promote dtypes in them, and neither do these.

How to read an operation: its class (``Mm``, whose ``_name`` is torch's backward node,
``MmBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input, written
in the library's own tensor operations, so that it too builds a graph under ``create_graph=True``.
Its function (``mm``), next to it, computes the forward in NumPy and, when a gradient will be
needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .._engine import _GradMode
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import Op, _as_tensor, _dtype_of, _record, _scalar_name, _tracks, _view
from .arithmetic import _record_binary, mul, product_rule
from .views import Squeeze, reshape, squeeze, unsqueeze

# torch does not promote in matrix products, and each of its kernels words the refusal its own way.
_DTYPE_MISMATCH = {
    "mm": "expected m1 and m2 to have the same dtype, but got: {a_c} != {b_c}",
    "mv": "addmv input tensors must have the same dtype, but got {b}, {a}, and {b}",
    "dot": "dot : expected both vectors to have same dtype, but found {a} and {b}",
    "bmm": "expected scalar type {a} but found {b}",
}


def _same_dtype(a: Tensor, b: Tensor, kernel="mm") -> None:
    if a._data.dtype != b._data.dtype:
        a_name, b_name = _scalar_name(a._data.dtype), _scalar_name(b._data.dtype)
        raise RuntimeError(
            _DTYPE_MISMATCH[kernel].format(a_c=_c_type(a), b_c=_c_type(b), a=a_name, b=b_name)
            + hint(
                f"torch does not promote in matrix products: convert one side, e.g. "
                f"a.to(b.dtype) ({a.dtype} vs {b.dtype})"
            )
        )


def _c_type(t: Tensor) -> str:
    return _dtype_of(t).cpp_name


def _saved_for_each_other(a: Tensor, b: Tensor) -> tuple:
    """As torch: each operand is kept only if the other one's gradient needs it (mm(A, W) with a
    constant A keeps A, not W)."""
    return (a if b._requires_grad else None), (b if a._requires_grad else None)


class Mm(Op):
    _name = "MmBackward0"
    saved_names = ("self", "mat2")

    def gradient(self, grad):
        a, b = self.saved_tensors
        if not _GradMode.enabled:  # the same products, without two transposed views
            g = grad._data
            ga = make_tensor(np.matmul(g, b._data.T)) if self._next[0] is not None else None
            gb = make_tensor(np.matmul(a._data.T, g)) if self._next[1] is not None else None
            return ga, gb
        ga = mm(grad, b.t()) if self._next[0] is not None else None
        gb = mm(a.t(), grad) if self._next[1] is not None else None
        return ga, gb


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    a, b = input, mat2
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._data.dtype is not b._data.dtype:
        _same_dtype(a, b)
    (n, k), (k2, m) = a._data.shape, b._data.shape
    if k != k2:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})"
            + hint("for A @ B the columns of A must equal the rows of B; transpose one side?")
        )
    out = np.matmul(a._data, b._data)
    if _tracks(a, b):
        node = Mm()
        node.save(*_saved_for_each_other(a, b))
        return _record_binary(node, a, b, True, out)
    return make_tensor(out)


class Mv(Op):
    _name = "MvBackward0"
    saved_names = ("self", "vec")

    def gradient(self, grad):
        mat, vec = self.saved_tensors
        gm = outer(grad, vec) if self._next[0] is not None else None
        if self._next[1] is None:
            return gm, None
        if not _GradMode.enabled:  # the same product, without the transposed view
            return gm, make_tensor(np.matmul(mat._data.T, grad._data))
        return gm, mv(mat.t(), grad)


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}"
        )
    _same_dtype(input, vec, "mv")
    n, k = input._data.shape
    if vec._data.shape[0] != k:
        raise RuntimeError(
            f"size mismatch, got input ({n}), mat ({n}x{k}), vec ({vec._data.shape[0]})"
        )
    out = np.matmul(input._data, vec._data)
    if _tracks(input, vec):
        node = Mv()
        node.save(*_saved_for_each_other(input, vec))
        return _record_binary(node, input, vec, True, out)
    return make_tensor(out)


class Dot(Op):
    _name = "DotBackward0"
    saved_names = ("self", "tensor")

    def gradient(self, grad):
        return product_rule(grad, *self.saved_tensors)


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors"
        )
    _same_dtype(input, other, "dot")
    n, m = input._data.shape[0], other._data.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively"
        )
    out = np.dot(input._data, other._data)
    if _tracks(input, other):
        node = Dot()
        node.save(*_saved_for_each_other(input, other))
        return _record_binary(node, input, other, True, out)
    return make_tensor(out)


inner = vdot = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """torch computes the outer product as ``input.reshape(-1, 1) * vec2``."""
    return mul(reshape(input, -1, 1), vec2)


ger = outer


class MatmulND(Op):
    """Batched matmul (3 or more dims); torch shows its last node, UnsafeViewBackward0."""

    _name = "UnsafeViewBackward0"
    saved_names = ("self", "other")

    def gradient(self, grad):
        a, b = self.saved_tensors
        # A vector takes part as a matrix: a row (1 x n) on the left, a column (n x 1) on the
        # right; its gradient drops that dimension again (the engine sums the batch dims away).
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        if a_vector:
            a, grad = a.unsqueeze(0), grad.unsqueeze(-2)
        if b_vector:
            b, grad = b.unsqueeze(-1), grad.unsqueeze(-1)
        ga = gb = None
        if self._next[0] is not None:
            ga = matmul(grad, b.mT)
            ga = ga.squeeze(-2) if a_vector else ga
        if self._next[1] is not None:
            gb = matmul(a.mT, grad)
            gb = gb.squeeze(-1) if b_vector else gb
        return ga, gb


class _SqueezeMatmul(Squeeze):
    _name = "SqueezeBackward4"


def matmul(input: Tensor, other: Tensor) -> Tensor:
    a, b = _as_tensor(input), _as_tensor(other)
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
        )
    if na == 1 and nb == 1:
        return dot(a, b)
    if na == 2 and nb == 2:
        return mm(a, b)
    if na == 2 and nb == 1:
        return mv(a, b)
    if na == 1 and nb == 2:
        out = mm(unsqueeze(a, 0), b)
        if out._grad_fn is None:
            return squeeze(out, 0)
        node = _SqueezeMatmul()
        node.shape = out._data.shape
        return _view(out._data[0], out, node)
    fold = _matmul_fold(a, b)
    if fold == "left":
        _same_dtype(a, b, "mv" if nb == 1 else "mm")
    elif fold == "right":
        _same_dtype(b, a, "mv" if na == 1 else "mm")  # computed as (b^T @ a^T)^T
    else:
        _same_dtype(a, b, "bmm")
    try:
        out = np.matmul(a._data, b._data)
    except ValueError:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"{list(a.shape[:-1])} but got: {list(b.shape)}."
        ) from None
    if _tracks(a, b):
        node = MatmulND()
        if fold == "right" and na >= 2:  # torch made (b^T @ a^T)^T contiguous: a copy
            node._rename("CloneBackward0")
        node.save(a, b)
        return _record(node, (a, b), out)
    return make_tensor(out)


def _matmul_fold(a: Tensor, b: Tensor):
    """How torch computes a batched product, which shows in its dtype errors and last node.

    "left": a's batch is folded into the rows of one mm/mv; "right": the batch is on b's side
    and torch computes (b^T @ a^T)^T with one mm/mv, but only when a (a vector or a single
    matrix) requires grad; None: one bmm over the batch.  (torch's should_fold, as of 2.13.)
    """
    sa, sb = a._data.shape, b._data.shape
    if len(sa) >= 3 and len(sb) <= 2:
        return "left"
    single = len(sa) <= 2 or (len(sa) == 3 == len(sb) and sa[0] == 1 and sb[0] > 1)
    if len(sb) >= 3 and single and a._requires_grad:
        return "right"
    return None


bmm = matmul

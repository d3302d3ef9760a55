"""Norms: ``torch.norm``, ``linalg.norm``, ``linalg.vector_norm`` and ``linalg.matrix_norm``;
``linalg.norm`` dispatches to the vector or the matrix norm, as torch does, and a matrix norm is
composed of other ops (so its grad_fn names are torch's too).

How to read an operation: its class (``Norm``, whose ``_name`` is torch's backward node,
``LinalgVectorNormBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per
input, written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``_vector_norm_forward``), next to it, computes the forward
in NumPy and, when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Sequence

import numpy as np

from .. import _dtype
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import _NUMBER_TYPES, Op, _dims, _dtype_of, _float, _int, _record, _tracks, _type_name
from .linalg import _check_floating, _not_tensor_argument
from .pointwise import sign, where
from .reductions import _expand_back, _reduction_dims, amax, amin
from .svd import linalg_svdvals


class Norm(Op):
    _name = "LinalgVectorNormBackward0"
    saved_names = ("self", "result")

    def gradient(self, grad):
        (x,) = self.saved_tensors
        norm = _expand_back(self.saved_result, self.shape, self.dims, self.keepdim)
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        p = self.p
        if p == 0:  # a count: no gradient (torch leaves it undefined)
            return (None,)
        if p == 2:
            scale = where(norm == 0, 0.0, x / norm)
        elif p == 1:
            scale = sign(x)
        elif p in (np.inf, -np.inf):
            hits = x.abs() == norm
            scale = sign(x) * hits / hits.sum(self.dims, keepdim=True)
        else:
            scale = where(norm == 0, 0.0, sign(x) * x.abs() ** (p - 1) / norm ** (p - 1))
        return (grad * scale,)


def _check_extreme_norm(data, p, dim, dims) -> None:
    """The largest (or smallest) of nothing is undefined: torch refuses."""
    name = "inf" if p > 0 else "-inf"
    if dim is None and data.size == 0:
        raise RuntimeError(
            f"linalg.vector_norm cannot compute the {name} norm on an empty tensor because the "
            "operation does not have an identity"
        )
    for d in dims:
        if data.shape[d] == 0:  # (torch's message misses a space)
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on the dimension {d}because "
                "this dimension is empty and the operation does not have an identity"
            )


def _scaled_norm(a: np.ndarray, p, dims: tuple, keepdim: bool):
    """(sum |x|^p)^(1/p) computed as m * (sum (|x|/m)^p)^(1/p), m the largest |x|: squaring
    1e-200 underflows to 0 (and 1e200 overflows) where torch's result is exact."""
    if a.size == 0:
        return np.sum(a**p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    largest = np.max(a, axis=dims, keepdims=True)
    scale = np.where(largest == 0, 1, largest)
    out = np.sum((a / scale) ** p, axis=dims, keepdims=True) ** (1.0 / p) * scale
    return out if keepdim else np.squeeze(out, axis=dims)


def norm(input: Tensor, p="fro", dim=None, keepdim=False, dtype=None) -> Tensor:
    """``torch.norm``: a vector norm for a number ``p``, a matrix norm for a string ('nuc', or
    'fro' over more than two dims, which torch refuses), as torch's Python code dispatches."""
    try:
        ndim = input._data.ndim
    except AttributeError:  # torch.norm is Python code that reads input.layout first
        raise AttributeError(
            f"'{_type_name(input)}' object has no attribute 'layout'"
            + hint("torch.norm() takes a tensor: torch.tensor(...) first")
        ) from None
    if not isinstance(p, str):
        return linalg_vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)
    dims = None if dim is None else _reduction_dims(dim, "linalg_matrix_norm")
    if p == "fro" and (dims is None or len(dims) <= 2):
        return _vector_norm(input, 2, dims, keepdim, dtype)
    return _matrix_norm(input, p, tuple(range(ndim)) if dims is None else dims, keepdim, dtype)


def _vector_norm_forward(input: Tensor, p, dim, keepdim: bool) -> Tensor:
    """The p-norm of ``input`` over ``dim`` (None: all), arguments checked."""
    data = input._data
    dims = _dims(dim, data.ndim)
    a = np.abs(data)
    if p in (np.inf, -np.inf):
        _check_extreme_norm(data, p, dim, dims)
        out = (np.max if p > 0 else np.min)(a, axis=dims, keepdims=keepdim)
    elif p == 0:  # how many are not 0
        out = np.count_nonzero(data, axis=dims, keepdims=keepdim)
    elif p == 1:
        out = np.sum(a, axis=dims, keepdims=keepdim)
    else:
        out = _scaled_norm(a, p, dims, keepdim)
    out = out.astype(data.dtype) if out.dtype != data.dtype else out
    if _tracks(input):
        node = Norm()
        node.p, node.shape, node.dims, node.keepdim = p, data.shape, dims, keepdim
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


# --------------------------------------------------------------------------------------------
# Norms: linalg.norm dispatches to vector_norm or matrix_norm, as torch does
# --------------------------------------------------------------------------------------------


def _dims_text(dims) -> str:
    """A list of dims as torch's C++ prints it in a message: ``[0, 1, 2]``, but ``1`` alone."""
    return str(dims[0]) if len(dims) == 1 else str(list(dims))


def linalg_norm(A: Tensor, ord=None, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """``torch.linalg.norm``: a matrix norm when ``ord`` is given and the dims are two (``dim``,
    or a 2-D input without ``dim``), or a string; otherwise a vector norm (2 by default)."""
    if not isinstance(A, Tensor):
        raise _not_tensor_argument("linalg_norm", "input", 1, A)
    ndim = A._data.ndim
    if dim is not None:
        dim = (dim,) if isinstance(dim, (_int, np.integer)) else tuple(dim)
        if len(dim) not in (1, 2):
            raise RuntimeError(
                "linalg.norm: If dim is specified, it must be of length 1 or 2. Got "
                f"{_dims_text(dim)}"
            )
    elif ord is not None and ndim not in (1, 2):
        raise RuntimeError(
            "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
            f"{ndim}D."
        )
    if isinstance(ord, str) or (
        ord is not None and (len(dim) == 2 if dim is not None else ndim == 2)
    ):
        return _matrix_norm(A, ord, dim if dim is not None else (0, 1), keepdim, dtype)
    return _vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype)


def linalg_vector_norm(x: Tensor, ord=2, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A002
    """``torch.linalg.vector_norm``: (sum |x|^ord)^(1/ord) over ``dim`` (None or (): all)."""
    if not isinstance(x, Tensor):
        raise _not_tensor_argument("linalg_vector_norm", "input", 1, x)
    if not isinstance(ord, (*_NUMBER_TYPES, complex)):
        raise TypeError(
            f"linalg_vector_norm(): argument 'ord' (position 2) must be Number, not "
            f"{_type_name(ord)}" + hint("a matrix norm ('fro', 'nuc') is linalg.matrix_norm")
        )
    if dim is not None:
        try:
            dim = _reduction_dims(dim, "linalg_vector_norm")
        except TypeError:
            raise TypeError(
                "linalg_vector_norm(): argument 'dim' (position 3) must be tuple of ints, not "
                f"{_type_name(dim)}"
            ) from None
    return _vector_norm(x, ord, dim, keepdim, dtype)


def linalg_matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None):  # noqa: A002
    """``torch.linalg.matrix_norm`` of the matrices in dims ``dim``: 'fro', 'nuc' (the sum of
    the singular values), 2 / -2 (the largest / smallest), 1 / -1 (the largest / smallest
    column sum of |A|), inf / -inf (the same over rows)."""
    if not isinstance(A, Tensor):
        raise _not_tensor_argument("linalg_matrix_norm", "input", 1, A)
    if not isinstance(dim, Sequence):  # torch's parser takes no int here
        raise TypeError(
            f"linalg_matrix_norm(): argument 'dim' must be tuple of ints, not {_type_name(dim)}"
            + hint("a matrix norm needs two dims, e.g. dim=(-2, -1)")
        )
    return _matrix_norm(A, ord, _reduction_dims(dim, "linalg_matrix_norm"), keepdim, dtype)


def _check_norm_dtype(A: Tensor, dtype, function: str):
    """torch's checks of a norm's ``dtype`` argument; returns it as a dtype (or None)."""
    if dtype is None:
        return None
    dtype = _dtype.as_dtype(dtype)
    if dtype.np.kind != "f":
        raise RuntimeError(
            f"{function}: dtype should be floating point or complex, but got {dtype.scalar_name}"
        )
    own = _dtype_of(A)
    if _dtype.promote_types(own, dtype) is not dtype:
        raise RuntimeError(
            f"{function}: the dtype of the input ({own.scalar_name}) should be convertible "
            f"without narrowing to the specified dtype ({dtype.scalar_name})"
        )
    return dtype


def _check_real_order(ord, function: str) -> None:  # noqa: A002
    if isinstance(ord, complex):
        raise RuntimeError(f"{function}: Expected a non-complex scalar as the order of norm.")


def _matrix_norm(A: Tensor, ord, dim: tuple, keepdim: bool, dtype) -> Tensor:  # noqa: A002
    """linalg.matrix_norm once ``dim`` is a tuple: torch's checks, in torch's order, then torch's
    composition of ops (so the grad_fn names are torch's too)."""
    if isinstance(ord, str):
        if ord not in ("fro", "nuc"):
            raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    else:
        _check_real_order(ord, "linalg.matrix_norm")
        if builtins.abs(ord) not in (1, 2, math.inf):
            raise RuntimeError(f"linalg.matrix_norm: Order {_float(ord):g} not supported.")
    data = A._data
    if data.ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    _check_floating(data, "linalg.matrix_norm")
    uses_svd = ord == "nuc" or (not isinstance(ord, str) and builtins.abs(ord) == 2)
    if uses_svd and data.dtype == np.float16:
        raise RuntimeError("linalg.matrix_norm: Low precision dtypes not supported. Got Half")
    if len(dim) != 2:  # (a C++ vector: torch prints it without brackets or commas)
        raise RuntimeError(
            f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dim))}"
        )
    d1, d2 = _dims(dim, data.ndim)
    if d1 == d2:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d1}, {d2})")
    dtype = _check_norm_dtype(A, dtype, "linalg.matrix_norm")
    if ord == "fro":
        return _vector_norm(A, 2, (d1, d2), keepdim, dtype)
    if uses_svd:
        return _singular_value_norm(A if dtype is None else A.to(dtype), ord, d1, d2, keepdim)
    if ord in (math.inf, -math.inf):  # the inf norm is the 1 norm of the transpose
        d1, d2 = d2, d1
    if not keepdim and d1 < d2:  # the first reduction removes a dim in front of d2
        d2 -= 1
    column_sums = _vector_norm(A, 1, (d1,), keepdim, dtype)
    return _largest_or_smallest(column_sums, d2, keepdim, ord > 0)


def _singular_value_norm(A: Tensor, ord, d1: int, d2: int, keepdim: bool) -> Tensor:  # noqa: A002
    """'nuc' (the sum of the singular values), 2 (the largest) or -2 (the smallest)."""
    ndim = A._data.ndim
    order = [d for d in range(ndim) if d not in (d1, d2)] + [d1, d2]  # the matrices last
    values = linalg_svdvals(A.permute(*order))
    if ord == "nuc":
        out = values.sum(-1, keepdim)
    else:
        out = _largest_or_smallest(values, -1, keepdim, ord > 0)
    if keepdim:
        out = out.unsqueeze(-1).permute(*np.argsort(order).tolist())
    return out


def _largest_or_smallest(x: Tensor, dim: int, keepdim: bool, largest: bool) -> Tensor:
    """amax / amin over ``dim``, but the largest of no values is 0 here: torch's matrix norms
    give 0 (without a graph) for an empty matrix, where amax alone refuses."""
    if largest and x._data.shape[dim] == 0:
        shape = list(x._data.shape)
        if keepdim:
            shape[dim] = 1
        else:
            del shape[dim]
        return make_tensor(np.zeros(shape, dtype=x._data.dtype))
    return amax(x, dim, keepdim) if largest else amin(x, dim, keepdim)


def _vector_norm(A: Tensor, ord, dim, keepdim: bool, dtype):  # noqa: A002
    """linalg.vector_norm with ``dim`` None, an int or a sequence of ints."""
    _check_floating(A._data, "linalg.vector_norm")
    _check_real_order(ord, "linalg.vector_norm")
    if dim is not None:
        dim = (dim,) if isinstance(dim, (_int, np.integer)) else tuple(dim)
        dim = dim or None  # () reduces every dim, as None does
    dtype = _check_norm_dtype(A, dtype, "linalg.vector_norm")
    if dim is not None:
        dims = _dims(dim, A._data.ndim)
        for i, d in enumerate(dims):
            if d in dims[:i]:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if dtype is not None:
        A = A.to(dtype)
    return _vector_norm_forward(A, ord, dim, keepdim)

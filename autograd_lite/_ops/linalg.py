"""Linear algebra: ``torch.linalg``'s ``solve``, ``inv`` and ``det`` (``autograd_lite/linalg.py``
is the public namespace; the SVD and the norms are ``svd.py`` and ``norms.py``).

NumPy's LAPACK computes; the gradients are torch's formulas in the library's own ops (matmul,
mT, solve, inv), so second derivatives come for free.

How to read an operation: its class (``LinalgInv``, whose ``_name`` is torch's backward node,
``LinalgInvExBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per
input, written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``linalg_inv``), next to it, computes the forward in NumPy
and, when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _int,
    _not_tensor,
    _record,
    _scalar_name,
    _shapes_mismatch,
    _tracks,
    _type_name,
)
from .joining import stack


class LinAlgError(RuntimeError):
    """torch.linalg.LinAlgError: a singular matrix (torch's class is named _LinAlgError)."""


LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"


def _not_tensor_argument(function: str, name: str, position: int, value) -> TypeError:
    return TypeError(
        f"{function}(): argument '{name}' (position {position}) must be Tensor, not "
        f"{_type_name(value)}" + hint("wrap the values first: torch.tensor([[...], ...])")
    )


def _check_floating(data, function: str) -> None:
    if data.dtype.kind != "f":
        raise RuntimeError(
            f"{function}: Expected a floating point or complex tensor as input. Got "
            f"{_scalar_name(data.dtype)}"
        )


def _check_square(data, function: str, name="A") -> None:
    if data.ndim < 2:
        raise RuntimeError(f"{function}: The input tensor {name} must have at least 2 dimensions.")
    n, m = data.shape[-2:]
    if n != m:
        raise RuntimeError(
            f"{function}: {name} must be batches of square matrices, but they are {n} by {m} "
            "matrices"
        )


def _no_half(data) -> None:
    """torch's LU has no float16 kernel (NumPy's LAPACK has none either)."""
    if data.dtype == np.float16:
        raise NotImplementedError("\"lu_cpu\" not implemented for 'Half'")


def _lu_factor(matrix: np.ndarray) -> tuple:
    """``(lu, rows, info)``: the LU factorization with partial pivoting of one square matrix,
    as LAPACK's getrf, done by the textbook.  ``info`` is getrf's: the 1-based index of the first
    pivot that is exactly 0 (0: none).

    Only for matrices NumPy's LAPACK calls singular: where a pivot is exactly 0 or nearly so is
    decided by rounding, and this order of operations agrees with torch's LAPACK more often than
    NumPy's does (the classic [[1, 2, 3], [4, 5, 6], [7, 8, 9]] is singular in float32 for both,
    but only for NumPy's in float64).
    """
    lu = np.array(matrix, copy=True)
    rows = np.arange(lu.shape[0])
    info = 0
    for j in range(lu.shape[0]):
        p = j + _int(np.argmax(np.abs(lu[j:, j])))
        if lu[p, j] == 0:
            info = info or j + 1
            continue
        lu[[j, p]], rows[[j, p]] = lu[[p, j]], rows[[p, j]]
        lu[j + 1 :, j] /= lu[j, j]
        lu[j + 1 :, j + 1 :] -= np.outer(lu[j + 1 :, j], lu[j, j + 1 :])
    return lu, rows, info


def _lu_solve(lu: np.ndarray, rows: np.ndarray, b: np.ndarray) -> np.ndarray:
    """X with AX = B, from A's factors (forward then back substitution)."""
    x = b[rows].astype(lu.dtype)
    n = lu.shape[0]
    for i in range(n):
        x[i] -= lu[i, :i] @ x[:i]
    for i in reversed(range(n)):
        x[i] = (x[i] - lu[i, i + 1 :] @ x[i + 1 :]) / lu[i, i]
    return x


def _solve_singular(a: np.ndarray, b: np.ndarray, function: str, message: str) -> np.ndarray:
    """AX = B (batches broadcast) where NumPy found A singular: torch's error if our LU agrees
    (``message`` may use ``{pivot}``, the first zero pivot), else the solution from our LU."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a_all = np.broadcast_to(a, batch + a.shape[-2:]).reshape(-1, *a.shape[-2:])
    b_all = np.broadcast_to(b, batch + b.shape[-2:]).reshape(-1, *b.shape[-2:])
    out = np.empty(b_all.shape, dtype=a.dtype)
    for i, (matrix, rhs) in enumerate(zip(a_all, b_all)):
        lu, rows, info = _lu_factor(matrix)
        if info:
            where = f"(Batch element {i}): " if a.ndim > 2 else ""
            raise LinAlgError(
                f"{function}: {where}{message.format(pivot=info)}"
                + hint("the matrix has no inverse (its determinant is 0): check it, e.g. det()")
            )
        out[i] = _lu_solve(lu, rows, rhs)
    return out.reshape(batch + b.shape[-2:])


class LinalgInv(Op):
    _name = "LinalgInvExBackward0"

    def gradient(self, grad):
        inverse_t = self.saved_result.mT  # d(A^-1) = -A^-1 dA A^-1
        return (-(inverse_t @ (grad @ inverse_t)),)


INV_SINGULAR = (
    "The diagonal element {pivot} is zero, the inversion could not be completed because the "
    "input matrix is singular."
)


def linalg_inv(A: Tensor) -> Tensor:
    """``torch.linalg.inv``: the inverse of a square matrix (or of each in a batch)."""
    try:
        data = A._data
    except AttributeError:
        raise _not_tensor_argument("linalg_inv", "A", 1, A) from None
    _check_square(data, "linalg.inv")
    _check_floating(data, "linalg.inv")
    if data.dtype == np.float16:
        raise RuntimeError("linalg.inv: Low precision dtypes not supported. Got Half")
    try:
        out = np.linalg.inv(data)
    except np.linalg.LinAlgError:
        identity = np.eye(data.shape[-1], dtype=data.dtype)
        out = _solve_singular(data, identity, "linalg.inv", INV_SINGULAR)
    if _tracks(A):
        node = LinalgInv()
        t = _record(node, (A,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


class LinalgDet(Op):
    _name = "LinalgDetBackward0"
    saved_names = ("A",)

    def gradient(self, grad):
        (a,) = self.saved_tensors
        det = self.saved_result
        grad = grad.unsqueeze(-1).unsqueeze(-1)
        if np.any(det._data == 0):  # no inverse: the cofactors themselves (torch takes an SVD)
            return (grad * _cofactors(a),)
        # The cofactor matrix is det(A) A^-T.
        return ((grad * det.unsqueeze(-1).unsqueeze(-1)) * linalg_inv(a).mT,)


def _cofactors(a: Tensor) -> Tensor:
    """C[i, j] = (-1)^(i+j) det(A without row i and column j), in differentiable ops."""
    n = a._data.shape[-1]
    if n == 1:
        return make_tensor(np.ones(a._data.shape, a._data.dtype))
    others = [[k for k in range(n) if k != i] for i in range(n)]
    rows = []
    for i in range(n):
        without_row = a[..., others[i], :]
        minors = [linalg_det(without_row[..., others[j]]) for j in range(n)]
        rows.append(stack([m if (i + j) % 2 == 0 else -m for j, m in enumerate(minors)], -1))
    return stack(rows, -2)


def linalg_det(A: Tensor) -> Tensor:
    """``torch.linalg.det``: the determinant of a square matrix (or of each in a batch)."""
    try:
        data = A._data
    except AttributeError:
        raise _not_tensor_argument("linalg_det", "A", 1, A) from None
    _check_square(data, "linalg.det")
    _check_floating(data, "linalg.det")
    _no_half(data)
    out = np.linalg.det(data)
    if _tracks(A):
        node = LinalgDet()
        node.save(A)
        t = _record(node, (A,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


class LinalgSolve(Op):
    """X with AX = B (XA = B for ``left=False``); B a matrix, or a vector (``vector``)."""

    _name = "LinalgSolveExBackward0"
    saved_names = ("A",)

    def gradient(self, grad):
        (a,) = self.saved_tensors
        x, left, vector = self.saved_result, self.left, self.vector
        if vector:
            grad, x = grad.unsqueeze(-1), x.unsqueeze(-1)
        grad_b = _solve(a.mT, grad, left, False)  # gB = A^-T gX  (gX A^-T for XA = B)
        grad_a = None
        if self._next[0] is not None:
            grad_a = -(grad_b @ x.mT) if left else -(x.mT @ grad_b)
        if self._next[1] is None:
            grad_b = None
        elif vector:
            grad_b = grad_b.squeeze(-1)
        return grad_a, grad_b


SOLVE_SINGULAR = "The solver failed because the input matrix is singular."


def linalg_solve(A: Tensor, B: Tensor, *, left=True) -> Tensor:
    """``torch.linalg.solve``: X with AX = B (XA = B with ``left=False``), batches broadcast.

    B is a vector (or a batch of them) when it is 1-D or has A's shape without the last
    dimension, as in torch; otherwise it is a matrix (or a batch of them).
    """
    for value, name, position in ((A, "A", 1), (B, "B", 2)):
        if not isinstance(value, Tensor):
            raise _not_tensor_argument("linalg_solve", name, position, value)
    a, b = A._data, B._data
    _check_floating(a, "linalg.solve")
    if a.dtype != b.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{_scalar_name(a.dtype)} and B of type {_scalar_name(b.dtype)} instead"
        )
    vector = b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])
    _check_square(a, "linalg.solve")
    _check_square_system(a, b[..., None] if vector else b, left)
    if vector and not left:
        raise RuntimeError(
            "linalg.solve: Vector broadcasting of the left hand side is not supported for "
            "left=False. In this case linalg.solve is equivalent to B / A.squeeze(-1)"
        )
    _no_half(a)
    return _solve(A, B, left, vector)


def _check_square_system(a, b, left: bool) -> None:
    if b.ndim < 2:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if a.shape[-2 if left else -1] != b.shape[-2 if left else -1]:
        raise RuntimeError(
            "linalg.solve: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({a.shape[-2]}x{a.shape[-1]} and "
            f"{b.shape[-2]}x{b.shape[-1]})"
        )
    batch_b, batch_a = b.shape[:-2], a.shape[:-2]
    try:
        np.broadcast_shapes(batch_b, batch_a)
    except ValueError:
        raise _shapes_mismatch(batch_b, batch_a) from None


def _solve(A: Tensor, B: Tensor, left: bool, vector: bool) -> Tensor:
    """linalg.solve once the arguments are checked (its gradient calls this too)."""
    a, b = A._data, B._data
    if vector:
        b = b[..., None]
    if not left:  # XA = B is A^T X^T = B^T
        a, b = np.swapaxes(a, -1, -2), np.swapaxes(b, -1, -2)
    try:
        out = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        out = _solve_singular(a, b, "torch.linalg.solve", SOLVE_SINGULAR)
    if not left:
        out = np.swapaxes(out, -1, -2)
    if vector:
        out = out[..., 0]
    if _tracks(A, B):
        node = LinalgSolve()
        node.left, node.vector = left, vector
        node.save(A)
        t = _record(node, (A, B), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def det(input: Tensor) -> Tensor:
    """``torch.det``, the older name of ``torch.linalg.det``."""
    if not isinstance(input, Tensor):
        raise _not_tensor("det", input)
    return linalg_det(input)


def inverse(input: Tensor) -> Tensor:
    """``torch.inverse``, the older name of ``torch.linalg.inv``."""
    if not isinstance(input, Tensor):
        raise _not_tensor("inverse", input)
    return linalg_inv(input)

"""The singular value decomposition: ``linalg.svd`` and ``linalg.svdvals``, one node with three
outputs (U, S, Vh), whose rule is torch's ``svd_backward``.

How to read an operation: its class (``LinalgSvd``, whose ``_name`` is torch's backward node,
``LinalgSvdBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``_svd``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import collections

import numpy as np

from .._engine import connect, version_cell
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import Op, _bool, _tracks, _type_name
from .linalg import LinAlgError, _check_floating, _not_tensor_argument


def _named_tuple(name: str, fields: list):
    """A torch.return_types class: a named tuple that prints like torch's."""
    base = collections.namedtuple(name, fields)

    def __repr__(self):  # noqa: N807
        items = ",\n".join(f"{field}={value!r}" for field, value in zip(fields, self))
        return f"torch.return_types.{name}(\n{items})"

    return type(name, (base,), {"__repr__": __repr__, "__slots__": ()})


_SVD_RESULT = _named_tuple("linalg_svd", ["U", "S", "Vh"])


class LinalgSvd(Op):
    """One node with three outputs, U, S and Vh (svdvals returns S alone: output 1).

    The rule needs all three, and they are this node's own outputs: they are kept as data and
    rebuilt as outputs of this node (keeping the tensors would be a reference cycle), so a
    gradient built with ``create_graph`` leads back here, which is what makes the second
    derivative right.
    """

    _name = "LinalgSvdBackward0"
    saved_names = ("U", "S", "Vh", "full_matrices")
    num_outputs = 3

    def save_outputs(self, outputs) -> None:
        self.save(*[(t._data, version_cell(t), version_cell(t)[0]) for t in outputs])

    def outputs(self) -> list:
        rebuilt = []
        for nr, (data, cell, version) in enumerate(self.saved_tensors):  # (raises once freed)
            t = make_tensor(data, self)
            t._output_nr, t._version_cell = nr, cell
            if cell[0] != version:  # changed in place since: torch refuses, so do we
                from .._engine import _modified_error

                raise _modified_error(t, cell[0], version, self)
            rebuilt.append(t)
        return rebuilt

    def saved_values(self) -> dict:
        if self._saved is None or self._freed:
            return {}
        values = dict(zip(self.saved_names, self.outputs()))
        values["full_matrices"] = self.full_matrices
        return values

    def materialize(self, grads):
        return grads  # a missing gradient stays None: the rule leaves out its terms

    def gradient(self, grads):
        g_u, g_s, g_vh = grads
        u, s, vh = self.outputs()
        if self.full_matrices:  # only the first k singular vectors depend on A
            k = s._data.shape[-1]
            u, vh = u.narrow(-1, 0, k), vh.narrow(-2, 0, k)
            g_u = g_u.narrow(-1, 0, k) if g_u is not None else None
            g_vh = g_vh.narrow(-2, 0, k) if g_vh is not None else None
        return (_svd_backward(g_u, g_s, g_vh, u, s, vh),)


def _svd_backward(g_u, g_s, g_vh, u, s, vh):
    """torch's svd_backward (FunctionsManual.cpp), real case, distinct singular values:

    gA = U [(skew(U^T gU) / E) S + S (skew(V^T gV) / E) + diag(gS)] V^T
         (+ (I - U U^T) gU S^-1 V^T if m > n, + U S^-1 gV^T (I - V V^T) if m < n)

    with E[j, k] = S_k^2 - S_j^2 off the diagonal.
    """
    m, n = u._data.shape[-2], vh._data.shape[-1]
    if g_u is None and g_vh is None:  # svdvals: gA = U diag(gS) V^T
        if g_s is None:
            return None
        return u @ (g_s.unsqueeze(-1) * vh) if m >= n else (u * g_s.unsqueeze(-2)) @ vh
    eye = make_tensor(np.eye(s._data.shape[-1], dtype=s._data.dtype))
    s2 = s * s
    # S_j^2 - S_j^2 is exactly 0 on the diagonal: + I makes it 1 there, where only 0 / 1 is taken
    e = s2.unsqueeze(-2) - s2.unsqueeze(-1) + eye
    if g_u is not None:
        uhgu = u.mT @ g_u
        uhgu = uhgu - uhgu.mT
    if g_vh is not None:
        vhgv = vh @ g_vh.mT
        vhgv = vhgv - vhgv.mT
    if g_u is not None and g_vh is not None:
        inner = (uhgu * s.unsqueeze(-2) + s.unsqueeze(-1) * vhgv) / e
    elif g_u is not None:
        inner = (uhgu / e) * s.unsqueeze(-2)
    else:
        inner = s.unsqueeze(-1) * (vhgv / e)
    if g_s is not None:
        inner = inner + g_s.unsqueeze(-1) * eye
    if m > n and g_u is not None:  # the part of gU outside U's columns
        g_u_sinv = g_u / s.unsqueeze(-2)
        grad = u @ inner + g_u_sinv - u @ (u.mT @ g_u_sinv)
        return grad @ vh
    if m < n and g_vh is not None:  # the part of gVh outside Vh's rows
        sinv_g_vh = g_vh / s.unsqueeze(-1)
        grad = inner @ vh + sinv_g_vh - (sinv_g_vh @ vh.mT) @ vh
        return u @ grad
    return u @ (inner @ vh) if m >= n else (u @ inner) @ vh


SVD_NOT_FINITE = (
    "linalg.svd: The algorithm failed to converge because the input matrix contained non-finite "
    "values."
)


def _svd(A: Tensor, full_matrices: bool, compute_uv: bool) -> tuple:
    """(U, S, Vh) of A (U and Vh None without ``compute_uv``), recorded when A needs a grad."""
    data = A._data
    if data.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    _check_floating(data, "linalg.svd")
    if data.dtype == np.float16:  # (NumPy's LAPACK has no float16 either)
        raise NotImplementedError("\"linalg_svd_cpu\" not implemented for 'Half'")
    tracks = _tracks(A)
    try:
        if not (compute_uv or tracks):
            return None, make_tensor(np.linalg.svd(data, compute_uv=False)), None
        u, s, vh = np.linalg.svd(data, full_matrices=full_matrices)
    except np.linalg.LinAlgError:
        raise LinAlgError(
            SVD_NOT_FINITE + hint("look for nan or inf in the matrix (isfinite().all())")
        ) from None
    if not tracks:
        return make_tensor(u), make_tensor(s), make_tensor(vh)
    node = LinalgSvd()
    node.full_matrices = full_matrices
    connect(node, (A,))
    outputs = [make_tensor(x, node) for x in (u, s, vh)]
    for nr, t in enumerate(outputs):
        t._output_nr = nr
    node.save_outputs(outputs)
    return tuple(outputs)


def linalg_svd(A: Tensor, full_matrices=True, *, driver=None):
    """``torch.linalg.svd``: A = U diag(S) Vh, S descending (batches too).  The gradient assumes
    distinct singular values (and, for a non-square A, none of them 0), as torch's does."""
    if not isinstance(A, Tensor):
        raise _not_tensor_argument("linalg_svd", "A", 1, A)
    if not isinstance(full_matrices, (_bool, np.bool_)):
        raise TypeError(
            f"linalg_svd(): argument 'full_matrices' must be bool, not {_type_name(full_matrices)}"
        )
    _check_driver(driver)
    return _SVD_RESULT(*_svd(A, _bool(full_matrices), compute_uv=True))


def linalg_svdvals(A: Tensor, *, driver=None) -> Tensor:
    """``torch.linalg.svdvals``: the singular values, descending.  With a gradient to compute
    it is output 1 (S) of a whole LinalgSvdBackward0, as in torch: the rule needs U and Vh."""
    if not isinstance(A, Tensor):
        raise _not_tensor_argument("linalg_svdvals", "A", 1, A)
    _check_driver(driver)
    return _svd(A, full_matrices=False, compute_uv=False)[1]


def _check_driver(driver) -> None:
    if driver is not None:
        raise RuntimeError(
            "torch.linalg.svd: keyword argument `driver=` is only supported on CUDA inputs with "
            "cuSOLVER backend." + hint("leave driver out on the CPU")
        )

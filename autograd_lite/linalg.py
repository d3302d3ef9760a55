"""torch.linalg: ``solve``, ``inv``, ``det``, ``svd``, ``svdvals`` and the norms (forwards and
gradient rules are in ``_ops/linalg.py``, ``_ops/svd.py`` and ``_ops/norms.py``)."""

from __future__ import annotations

from ._ops import LinAlgError
from ._ops import linalg_det as det
from ._ops import linalg_inv as inv
from ._ops import linalg_matrix_norm as matrix_norm
from ._ops import linalg_norm as norm
from ._ops import linalg_solve as solve
from ._ops import linalg_svd as svd
from ._ops import linalg_svdvals as svdvals
from ._ops import linalg_vector_norm as vector_norm

__all__ = [
    "LinAlgError",
    "det",
    "inv",
    "matrix_norm",
    "norm",
    "solve",
    "svd",
    "svdvals",
    "vector_norm",
]

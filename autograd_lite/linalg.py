"""torch.linalg: ``solve``, ``inv``, ``det`` and ``norm`` (forwards and gradient rules are in
``_ops.py`` with every other operation)."""

from __future__ import annotations

from ._ops import LinAlgError
from ._ops import linalg_det as det
from ._ops import linalg_inv as inv
from ._ops import linalg_norm as norm
from ._ops import linalg_solve as solve

__all__ = ["LinAlgError", "det", "inv", "norm", "solve"]

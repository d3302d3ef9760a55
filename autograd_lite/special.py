"""torch.special: the special functions under their SciPy-style names (``expit``, ``gammaln``,
``psi``, ``gammainc``, ...).  They are the same operations as ``torch.sigmoid``,
``torch.lgamma``, ``torch.digamma``, ``torch.igamma``, ...; the forwards and gradient rules are in
``_ops/special.py``, ``_ops/exp_log.py`` and ``_ops/pointwise.py``."""

from __future__ import annotations

from ._ops import (
    digamma,
    erf,
    erfc,
    erfinv,
    exp2,
    expm1,
    i0,
    log1p,
    log_softmax,
    logit,
    logsumexp,
    polygamma,
    sinc,
    softmax,
    xlogy,
)
from ._ops import igamma as gammainc
from ._ops import igammac as gammaincc
from ._ops import lgamma as gammaln
from ._ops import mvlgamma as multigammaln
from ._ops import round as _round
from ._ops import sigmoid as expit
from ._ops.special import _i1 as i1

psi = digamma


def round(input, *, decimals=0):  # noqa: A001 - torch.special.round
    """torch.special.round always takes ``decimals`` (torch's RoundBackward1)."""
    return _round(input, decimals=decimals)


__all__ = [
    "digamma",
    "erf",
    "erfc",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "i0",
    "i1",
    "log1p",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlogy",
]

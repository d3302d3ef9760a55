"""Special functions: ``erf``, ``erfc``, ``erfinv``, ``lgamma``, ``digamma``, ``polygamma``,
``mvlgamma``, ``igamma``, ``igammac`` (the incomplete gamma functions) and ``i0`` (the modified
Bessel function), in NumPy only: the library does not depend on SciPy.  Each is a short,
accurate method (Python's ``math`` module element by element, a recurrence with an asymptotic
series, Newton's method, a power series, a continued fraction): it computes in float64 and
rounds to the input's dtype.

How to read an operation: its class (``Erf``, whose ``_name`` is torch's backward node,
``ErfBackward0``) holds the forward in NumPy (``compute``) and the gradient rule
(``gradient(self, grad)``), written in the library's own tensor operations (the derivative of
lgamma is digamma, of digamma polygamma(1, .), ...), so that it also builds a graph under
``create_graph=True``.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _dtype
from .._tensor import Tensor, make_tensor
from ._base import _not_tensor, _record, _tracks, _type_name
from ._elementwise import BinaryFloat, binary
from .pointwise import UnaryOp, _unary, exp, log, where

_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


def _in_float64(scalar_fn):
    """A function of one Python float, applied to every element (in float64)."""
    ufunc = np.frompyfunc(scalar_fn, 1, 1)

    def compute(x):
        return np.asarray(ufunc(np.asarray(x, dtype=np.float64)), dtype=np.float64).astype(x.dtype)

    return staticmethod(compute)


# --------------------------------------------------------------------------------------------
# The error function
# --------------------------------------------------------------------------------------------


class Erf(UnaryOp):
    _name = "ErfBackward0"
    saved_names = ("self",)
    compute = _in_float64(math.erf)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * (_TWO_OVER_SQRT_PI * exp(-(x * x))),)


class Erfc(UnaryOp):
    _name = "ErfcBackward0"
    saved_names = ("self",)
    compute = _in_float64(math.erfc)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * (-_TWO_OVER_SQRT_PI * exp(-(x * x))),)


def _erfinv64(y):
    """The x with erf(x) = y: a first guess, then Newton's method on erfc(|x|) = 1 - |y| (on the
    complement, 1 - |y| is exact where erf(x) would round to 1)."""
    y = np.asarray(y, dtype=np.float64)
    a = np.abs(y)
    tail = 1 - a
    with np.errstate(divide="ignore", invalid="ignore"):
        # Start: the inverse of erfc's asymptotic form, good enough for Newton to converge.
        w = -np.log(np.clip(tail * (1 + a), 1e-300, None))
        x = np.sqrt(np.clip(w - np.log(np.clip(w, 1e-300, None)) / 2, 0, None))
        x = np.where(a < 0.7, a * math.sqrt(math.pi) / 2 * (1 + (math.pi / 12) * a * a), x)
        erfc = np.frompyfunc(math.erfc, 1, 1)
        for _ in range(60):
            f = np.asarray(erfc(x), dtype=np.float64) - tail
            step = f / (-_TWO_OVER_SQRT_PI * np.exp(-x * x))
            step = np.where(np.isfinite(step), step, 0.0)
            x = x - step
            if np.all(np.abs(step) <= 1e-15 * np.maximum(np.abs(x), 1e-300)):
                break
    x = np.where(a == 1, np.inf, x)
    x = np.where((a > 1) | np.isnan(a), np.nan, x)
    return np.copysign(x, y)


class Erfinv(UnaryOp):
    _name = "ErfinvBackward0"
    saves = "result"

    @staticmethod
    def compute(x):
        return _erfinv64(x).astype(x.dtype)

    def gradient(self, grad):
        y = self.saved_result  # erfinv(x); the derivative is sqrt(pi)/2 * exp(y^2)
        return (grad * (math.sqrt(math.pi) / 2 * exp(y * y)),)


def erf(input):
    return _unary(Erf, input)


def erfc(input):
    return _unary(Erfc, input)


def erfinv(input):
    return _unary(Erfinv, input)


# --------------------------------------------------------------------------------------------
# The gamma function's logarithm and its derivatives
# --------------------------------------------------------------------------------------------


def _lgamma_scalar(v: float) -> float:
    try:
        return math.lgamma(v)
    except ValueError:  # a pole (0, -1, -2, ...): torch gives inf
        return math.inf


def _hurwitz_zeta(s: int, q):
    """zeta(s, q) = sum over k >= 0 of (q + k)^-s, for an integer s >= 2: the terms summed
    directly until q + k >= 12 (for a negative q, that takes more of them), the rest by the
    Euler-Maclaurin formula."""
    q = np.asarray(q, dtype=np.float64)
    finite = np.isfinite(q)
    direct = np.where(finite, np.maximum(12, np.ceil(12 - np.where(finite, q, 0))), 12)
    total = np.zeros_like(q)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for k in range(int(direct.max(initial=12))):
            total += np.where(k < direct, (q + k) ** -s, 0)
        a = q + direct
        total += a ** (1 - s) / (s - 1) + a**-s / 2
        # Bernoulli numbers B2, B4, ..., B12 and the rising products s (s+1) ... (s+2j-2)
        rising, power = float(s), a ** (-s - 1)
        for j, b in enumerate((1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730), start=1):
            total += b / math.factorial(2 * j) * rising * power
            rising *= (s + 2 * j - 1) * (s + 2 * j)
            power = power / (a * a)
        pole = (q <= 0) & (q == np.floor(q))
    return np.where(pole, np.inf, np.where(finite, total, np.nan))  # torch: nan at +-inf


def _digamma64(x):
    """psi(x): the reflection psi(1 - x) - pi / tan(pi x) below 0, the recurrence
    psi(x) = psi(x + 1) - 1/x up to 10, then the asymptotic series."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        negative = x < 0
        reflected = np.where(negative, 1 - x, x)
        shift = np.zeros_like(x)
        z = reflected.copy()
        for _ in range(10):
            small = z < 10
            shift = shift - np.where(small, 1 / np.where(small, z, 1), 0)
            z = np.where(small, z + 1, z)
        inv2 = 1 / (z * z)
        series = inv2 * (
            1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 / 132)))
        )
        psi = np.log(z) - 0.5 / z - series + shift
        psi = np.where(negative, psi - math.pi / np.tan(math.pi * x), psi)
        psi = np.where(negative & (x == np.floor(x)), np.nan, psi)
        # torch: -inf at +0, +inf at -0
        return np.where(x == 0, np.copysign(np.inf, -x), psi)


def _polygamma64(n: int, x):
    if n == 0:
        return _digamma64(x)
    sign = 1.0 if n % 2 else -1.0
    out = sign * math.factorial(n) * _hurwitz_zeta(n + 1, x)
    if n == 1:  # torch's trigamma has a kernel of its own: 0 at inf, nan at -inf
        x = np.asarray(x)
        out = np.where(np.isposinf(x), 0.0, np.where(np.isneginf(x), np.nan, out))
    return out


class Lgamma(UnaryOp):
    _name = "LgammaBackward0"
    saved_names = ("self",)
    compute = _in_float64(_lgamma_scalar)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * digamma(x),)


class Digamma(UnaryOp):
    _name = "DigammaBackward0"
    saved_names = ("self",)

    @staticmethod
    def compute(x):
        return _digamma64(x).astype(x.dtype)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * polygamma(1, x),)


class Polygamma(UnaryOp):
    _name = "PolygammaBackward0"
    saved_names = ("self",)
    n = 0

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * polygamma(self.n + 1, x),)


def lgamma(input):
    return _unary(Lgamma, input)


def digamma(input):
    return _unary(Digamma, input)


def polygamma(n, input):
    if not isinstance(input, Tensor):
        raise TypeError(
            f"polygamma(): argument 'input' (position 2) must be Tensor, not {_type_name(input)}"
        )
    if not isinstance(n, int) or isinstance(n, bool):
        raise TypeError(f"polygamma(): argument 'n' (position 1) must be int, not {_type_name(n)}")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    data = input._data
    if data.dtype.kind != "f":
        data = data.astype(_dtype.get_default_dtype().np)
    out = np.asarray(_polygamma64(n, data)).astype(data.dtype)
    if _tracks(input):
        node = Polygamma()
        node.n = n
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


class Mvlgamma(UnaryOp):
    """The multivariate log-gamma: sum over j < p of lgamma(x - j/2), plus a constant."""

    _name = "MvlgammaBackward0"
    saved_names = ("self",)
    p = 1

    def gradient(self, grad):
        (x,) = self.saved_tensors
        total = digamma(x)
        for j in range(1, self.p):
            total = total + digamma(x - j / 2)
        return (grad * total,)


def mvlgamma(input, p):
    if not isinstance(input, Tensor):
        raise _not_tensor("mvlgamma", input)
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    data = input._data
    if data.dtype.kind != "f":
        data = data.astype(_dtype.get_default_dtype().np)
    lgamma64 = np.frompyfunc(_lgamma_scalar, 1, 1)
    x = data.astype(np.float64)
    total = p * (p - 1) / 4 * math.log(math.pi)
    for j in range(p):
        total = total + np.asarray(lgamma64(x - j / 2), dtype=np.float64)
    out = np.asarray(total).astype(data.dtype)
    if _tracks(input):
        node = Mvlgamma()
        node.p = p
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


# --------------------------------------------------------------------------------------------
# The modified Bessel functions I0 and I1
# --------------------------------------------------------------------------------------------


def _bessel_series(x, order: int):
    """I_order(x) = sum over k of (x/2)^(2k+order) / (k! (k+order)!): the terms all have one
    sign, so the sum is accurate; it runs until the terms stop counting."""
    x = np.asarray(x, dtype=np.float64)
    half = x / 2
    with np.errstate(over="ignore", invalid="ignore"):
        term = half**order / math.factorial(order)
        total = term.copy()
        quarter = half * half
        for k in range(1, 2000):
            term = term * quarter / (k * (k + order))
            total = total + term
            if np.all((np.abs(term) <= 1e-17 * np.abs(total)) | ~np.isfinite(total)):
                break
    return total


class I0(UnaryOp):
    _name = "I0Backward0"
    saved_names = ("self",)

    @staticmethod
    def compute(x):
        with np.errstate(all="ignore"):  # inf and nan give nan, as in torch
            return np.i0(x.astype(np.float64)).astype(x.dtype)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * _i1(x),)


class I1(UnaryOp):
    """I1 = I0', the gradient of i0 (torch.special.i1); its own derivative is I0 - I1/x."""

    _name = "SpecialI1Backward0"
    saved_names = ("self",)

    @staticmethod
    def compute(x):
        return _bessel_series(x, 1).astype(x.dtype)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        at_zero = x == 0
        safe = where(at_zero, 1.0, x)
        slope = where(at_zero, 0.5, i0(x) - _i1(x) / safe)
        return (grad * slope,)


def i0(input):
    return _unary(I0, input)


def _i1(input):
    return _unary(I1, input)


# --------------------------------------------------------------------------------------------
# The regularized incomplete gamma functions P(a, x) (igamma) and Q(a, x) = 1 - P (igammac)
# --------------------------------------------------------------------------------------------


def _igamma_scalar(a: float, x: float) -> float:
    """P(a, x): its power series below x = a + 1, else 1 - Q by Q's continued fraction
    (evaluated with Lentz's method); the usual pair, each where it converges fast."""
    if math.isnan(a) or math.isnan(x) or a < 0 or x < 0:
        return math.nan
    if a == 0:
        return 1.0 if x > 0 else math.nan
    if x == 0:
        return 0.0
    if math.isinf(x):
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:
        term = total = 1 / a
        n = 0
        while abs(term) > abs(total) * 1e-17 and n < 10_000:
            n += 1
            term *= x / (a + n)
            total += term
        return total * math.exp(log_front)
    return 1 - _igammac_fraction(a, x) * math.exp(log_front)


def _igammac_fraction(a: float, x: float) -> float:
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        h *= d * c
        if abs(d * c - 1) < 1e-16:
            break
    return h


def _igammac_scalar(a: float, x: float) -> float:
    if not (math.isnan(a) or math.isnan(x) or a < 0 or x < 0) and x >= a + 1 and a > 0:
        if math.isinf(x):
            return 0.0
        return _igammac_fraction(a, x) * math.exp(a * math.log(x) - x - math.lgamma(a))
    return 1 - _igamma_scalar(a, x)


class Igamma(BinaryFloat):
    """P(a, x); its derivative in x is x^(a-1) e^-x / Gamma(a); in a, torch has none."""

    _name = "IgammaBackward0"
    saved_names = ("self", "other")
    kinds = "float only"
    kernel = "igamma_cpu"
    sign = 1.0
    compute = staticmethod(lambda a, x: _pairwise(_igamma_scalar, a, x))

    def gradient(self, grad):
        a, x = self.saved_tensors
        if self._next[0] is not None:
            raise NotImplementedError(
                f"the derivative for '{self._name[:-9].lower()}: input' is not implemented."
            )
        density = exp((a - 1) * log(x) - x - lgamma(a))
        return None, grad * density * self.sign


class Igammac(Igamma):
    _name = "IgammacBackward0"
    kernel = "igammac_cpu"
    sign = -1.0
    compute = staticmethod(lambda a, x: _pairwise(_igammac_scalar, a, x))


def _pairwise(scalar_fn, a, x):
    a, x = np.broadcast_arrays(np.asarray(a), np.asarray(x))
    out = np.frompyfunc(scalar_fn, 2, 1)(a.astype(np.float64), x.astype(np.float64))
    return np.asarray(out, dtype=np.float64).astype(a.dtype)


def igamma(input, other):
    return binary(Igamma, "igamma", input, other)


def igammac(input, other):
    return binary(Igammac, "igammac", input, other)

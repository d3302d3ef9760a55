"""Powers: ``x ** y`` for two tensors, ``x ** number``, ``number ** x``, and ``square``, with
torch's rules where NumPy and C differ (a negative integer power, ``0 ** 0``, the sign of
``-0.0 ** 0.5``, a float32 base raised to a double exponent).

How to read an operation: as in ``arithmetic.py``, a class holds the gradient rule (``Pow``,
torch's ``PowBackward0``) and a function next to it computes the forward in NumPy.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import _dtype
from .._engine import _GradMode
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _as_tensor,
    _bool,
    _float,
    _int,
    _not_tensor,
    _operands,
    _record,
    _record_unary,
    _tracks,
    _wrapped,
)
from .arithmetic import _APPLY, BinaryOp, _binary, _checked, _elementwise, _is_bool
from .pointwise import times, where


def _power(x, y):
    """``x ** y``; for integers a negative exponent gives what torch gives instead of NumPy's
    error: 1 for base 1, +1 or -1 for base -1 (by parity), else 0 (the truncated result)."""
    y_array = np.asarray(y)
    if y_array.dtype.kind not in "iu" or np.asarray(x).dtype.kind not in "iub":
        return operator.pow(x, y)
    negative = y_array < 0
    if not negative.any():
        return operator.pow(x, y)
    powers = np.power(x, np.where(negative, 0, y_array))
    minus_one = np.where(y_array % 2 == 0, 1, -1)
    fractions = np.where(x == 1, 1, np.where(x == -1, minus_one, 0))
    return np.where(negative, fractions, powers).astype(powers.dtype)


class PowTensor(BinaryOp):
    """``tensor ** tensor``."""

    _name = "PowBackward1"
    saved_names = ("self", "exponent", "result")
    compute = staticmethod(_power)

    @staticmethod
    def save_inputs(node, a, b) -> None:
        node.save(a, b)

    def gradient(self, grad):
        base, exponent = self.saved_tensors
        # the test for a 0 exponent is made in the exponent's own dtype, as torch makes it (a
        # float64 1e-179 is not 0, though it is once cast to a float32 result)
        zero_exponent, positive_exponent = exponent == 0, exponent >= 0
        # torch differentiates in the result's dtype, to which an int or bool operand was promoted
        base, exponent = base.to(grad.dtype), exponent.to(grad.dtype)
        grad_base = grad_exp = None
        if self._next[0] is not None:
            # 0 where the exponent is 0 (else 0 ** 0 would give 0 * inf = nan), as torch: so
            # also every higher derivative through that branch is 0 there
            grad_base = where(zero_exponent, 0.0, grad * (exponent * base ** (exponent - 1)))
        if self._next[1] is not None:
            # d/dy x**y = x**y * log(x), taken as 0 where x == 0 and y >= 0; grad stays outside
            # the where, as in torch's formula (it decides what the second derivatives are at 0)
            zero_base = (base == 0) & positive_exponent
            grad_exp = grad * where(zero_base, 0.0, base**exponent * base.log())
        return grad_base, grad_exp


def _check_pow(base, exponent) -> None:
    """bool ** bool has no kernel in torch (bool_tensor ** True, a Python exponent, does)."""
    if _is_bool(base) and _is_bool(exponent):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")


# ============================================================================================
# Powers
# ============================================================================================


class Pow(Op):
    """``tensor ** number``."""

    __slots__ = ("exponent",)
    _name = "PowBackward0"
    saved_names = ("self",)
    fresh_gradients = True  # (a new tensor: see Node)

    @property
    def _saved_exponent(self):
        """torch's name for the saved number (a number, so still there after backward)."""
        return self.exponent

    def gradient(self, grad):
        (x,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return (make_tensor(np.zeros_like(x._data)),)  # torch: zeros_like, no graph
        # torch's formula, x ** 1 and x ** 0 included: they keep the gradient's graph linked to
        # x, so a derivative that happens to be constant (d2/dx2 x**2 = 2) still has a grad_fn
        # and differentiates to 0 instead of raising "does not require grad".
        g, data = grad._data, x._data
        if not _GradMode.enabled and g.dtype is data.dtype:
            if e == 1 and g.shape == data.shape:  # grad * (1 * x ** 0) is grad itself (x ** 0
                return (grad,)  # is 1 everywhere, nan and inf included): nothing to compute
            return (make_tensor(_pow_backward(g, data, e)),)
        return (grad * times(x ** (e - 1), e),)  # (e * x: torch's MulBackward1)


def _pow_backward(grad, x, e):
    """``grad * (e * x ** (e - 1))`` where no graph is recorded: the same values in one new
    array (x ** 1 is x, and an operation in place costs half of one into a new array)."""
    t = e * x if e == 2 else _float_power(x, e - 1)
    if t.__class__ is not np.ndarray or t.shape != grad.shape:
        return grad * (t if e == 2 else e * t)  # 0-d, or a gradient still to be broadcast
    if e != 2:
        np.multiply(t, e, out=t)
    return np.multiply(t, grad, out=t)


class RPow(Op):
    """``number ** tensor``."""

    _name = "PowBackward2"

    def gradient(self, grad):
        result = self.saved_result
        if self.base == 0:
            # result * log(0) is 0 * -inf = nan where x > 0; torch takes 0 where x >= 0 (where
            # the result is finite), in a where() that also shapes its second derivative
            return (grad * where(result != np.inf, 0.0, result * -np.inf),)
        return (grad * result * np.log(self.base),)


def _float_power(x, e):
    """``x ** e`` for a floating array and a Python number, as torch's kernel computes it.

    Where NumPy and C differ from torch: ``x ** 0.5`` and ``x ** -0.5`` are torch's sqrt and
    rsqrt (so ``-0.0 ** 0.5`` is -0.0 and ``-0.0 ** -0.5`` is -inf), and a float32 tensor is
    raised to the exponent as given (a double), not to the exponent rounded to float32:
    ``(-1.0) ** (1 - 1e-15)`` is nan, not ``(-1.0) ** 1.0``."""
    if e == 0.5:
        return np.sqrt(x)
    if e == -0.5:
        return np.reciprocal(np.sqrt(x))
    if x.dtype == np.float32 and e.__class__ is _float and float(np.float32(e)) != e:
        return np.power(x.astype(np.float64), e).astype(np.float32)
    return x**e


def pow(input, exponent) -> Tensor:  # noqa: A001 - torch's name
    if exponent.__class__ in (_int, _float) and input.__class__ is Tensor:
        x = input._data
        if x.dtype.kind == "f":  # the common x ** 2 or x ** 0.5: nothing to promote
            out = _float_power(x, exponent)
            if _GradMode.enabled and input._requires_grad:
                node = Pow()
                node.exponent = exponent
                node.save(input)
                return _record_unary(node, input, out)
            return make_tensor(out)
    if not isinstance(input, Tensor):
        return _rpow(_as_tensor(exponent), input)
    if isinstance(exponent, Tensor):  # even a 0-d one: torch records PowBackward1
        return _binary(PowTensor, input, exponent)
    if isinstance(exponent, np.ndarray):
        return _binary(PowTensor, input, make_tensor(exponent))
    if (
        input._data.dtype.kind == "b"
        and isinstance(exponent, (_int, np.integer))
        and not isinstance(exponent, (_bool, np.bool_))
        and exponent < 0
    ):  # bool ** int computes in int64, where torch refuses a negative power too
        raise RuntimeError(
            "Integers to negative integer powers are not allowed."
            + hint("use a float base, e.g. x.float() ** -1 or 1 / x")
        )
    if input._data.dtype.kind in "iu" and isinstance(exponent, (_int, np.integer)):
        # torch checks an int exponent before casting it (no wrapping, unlike + - * ...)
        if not -(2**63) <= exponent < 2**64:
            _wrapped(exponent, input._data.dtype)  # Python's OverflowError, as torch gives it
        if exponent < 0:
            raise RuntimeError(
                "Integers to negative integer powers are not allowed."
                + hint("use a float base, e.g. x.float() ** -1 or 1 / x")
            )
        _check_exponent_fits(exponent, input.dtype)
    x, e, dt = _operands(input, exponent)
    out = (
        _float_power(x, exponent)
        if x.dtype.kind == "f" and exponent.__class__ in (_int, _float)
        else x**e
    )
    if out.dtype != dt:
        out = out.astype(dt)
    if _tracks(input):
        node = Pow()
        node.exponent = e
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


def _check_exponent_fits(exponent: int, dtype) -> None:
    from .._creation import _check_fits, _overflow, _scalar_type_name

    if exponent >= 2**63:  # torch reads it as a C long long first
        raise _overflow(_dtype.int64, _scalar_type_name(_dtype.int64))
    _check_fits(np.array(exponent), dtype, _scalar_type_name(dtype))


def _rpow(exponent: Tensor, base) -> Tensor:
    _check_pow(base, exponent)
    x, b, dt = _operands(exponent, base)
    if np.dtype(dt).kind != "f" and isinstance(base, _float):
        dt = _dtype.get_default_dtype().np
    out = _power(np.asarray(b, dtype=dt), x)
    out = out.astype(dt) if out.dtype != dt else out
    if _tracks(exponent):
        node = RPow()
        node.base = base
        t = _record(node, (exponent,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def square(input: Tensor) -> Tensor:
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        raise _not_tensor("square", input)  # (pow would take a number: 1.0 ** tensor)
    return pow(input, 2)


_APPLY[PowTensor] = _checked(_elementwise(PowTensor), _check_pow)

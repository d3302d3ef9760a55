"""Functions of one tensor, element by element: ``exp``, ``log``, ``sin``, ``tanh``,
``sigmoid``, ``relu``, ..., rounding, ``clamp``, and ``where`` (which picks between two tensors).

How to read an operation: its class (``Exp``, whose ``_name`` is torch's backward node,
``ExpBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``exp``), next to it, computes the forward in NumPy and, when
a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import operator
import sys

import numpy as np

from .. import _dtype
from .._engine import _GradMode
from .._tensor import Tensor, make_tensor
from ._base import (
    Op,
    _as_tensor,
    _cast,
    _not_tensor,
    _plain_tensors,
    _record,
    _record_unary,
    _scalar_name,
    _tracks,
    _wrapped,
)


def _unary(cls, x: Tensor, *, floating=True) -> Tensor:
    """Apply an elementwise function; ints compute in the default float dtype, like torch."""
    try:
        data = x._data
    except AttributeError:  # torch.exp(1.0): named after the public function that called
        raise _not_tensor(sys._getframe(1).f_code.co_name, x) from None
    if floating and data.dtype.kind != "f":
        data = data.astype(_dtype.get_default_dtype().np)
    out = cls.compute(data)
    if _GradMode.enabled and x._requires_grad:
        node = cls()
        t = _record_unary(node, x, out)
        if cls.saves == "input":
            node.save(x)
        elif cls.saves == "result":
            node.save_result(t)
        return t
    return make_tensor(out)


class UnaryOp(Op):
    __slots__ = ()
    saves = "input"  # or "result", or None
    # Every rule returns ``grad`` itself or a new tensor (grad * ..., zeros): see Node.
    fresh_gradients = True


# Products with a number inside gradient formulas. torch's formulas are C++, where ``2 * x``
# is mul(Tensor, Scalar): a node with one input, MulBackward1 (DivBackward1 for a division),
# while Python's ``2 * x`` records MulBackward0 with the number as a second, constant input.
# The rules below use these where torch's do, so a create_graph graph has torch's nodes.


class MulScalar(Op):
    _name = "MulBackward1"
    __slots__ = ("other",)
    fresh_gradients = True

    @property
    def _saved_other(self):
        return self.other

    def gradient(self, grad):
        return (times(grad, self.other),)


class DivScalar(MulScalar):
    _name = "DivBackward1"
    __slots__ = ()

    def gradient(self, grad):
        return (divided(grad, self.other),)


def times(t: Tensor, number) -> Tensor:
    """``t * number`` as torch's gradient formulas compute it (MulBackward1)."""
    return _scalar_op(MulScalar, t._data * number, t, number)


def divided(t: Tensor, number) -> Tensor:
    """``t / number`` as torch's gradient formulas compute it (DivBackward1)."""
    return _scalar_op(DivScalar, t._data / number, t, number)


def _scalar_op(cls, out, t: Tensor, number) -> Tensor:
    if _GradMode.enabled and t._requires_grad:
        node = cls()
        node.other = number
        return _record_unary(node, t, out)
    return make_tensor(out)


class Neg(UnaryOp):
    _name = "NegBackward0"
    compute = staticmethod(operator.neg)
    saves = None

    def gradient(self, grad):
        return (-grad,)


class Abs(UnaryOp):
    _name = "AbsBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.abs)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * _unary(Sgn, x, floating=False),)


class Sign(UnaryOp):
    _name = "SignBackward0"
    saves = None

    @staticmethod
    def compute(x):
        out = np.sign(x)
        if x.dtype.kind == "f":
            out = np.where(np.isnan(x), 0, out).astype(x.dtype)[()]  # torch: sign(nan) = 0
        return out

    def gradient(self, grad):
        return (grad * 0,)


class Sgn(Sign):
    """``sgn``: the sign, for real tensors (torch's is x/|x| for complex ones). abs's gradient
    is ``grad * x.sgn()``, as torch writes it."""

    _name = "SgnBackward0"


class Exp(UnaryOp):
    _name = "ExpBackward0"
    compute = staticmethod(np.exp)
    saves = "result"

    def gradient(self, grad):
        return (grad * self.saved_result,)

    def gradient_in_place(self, grad):
        y = self.saved_result
        if not _plain_tensors(grad._data, y):
            return self.gradient(grad)
        np.multiply(grad._data, y._data, out=grad._data)
        return (grad,)


class Log(UnaryOp):
    _name = "LogBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.log)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / x,)

    def gradient_in_place(self, grad):
        (x,) = self.saved_tensors
        if not _plain_tensors(grad._data, x):
            return self.gradient(grad)
        np.divide(grad._data, x._data, out=grad._data)
        return (grad,)


class Sqrt(UnaryOp):
    _name = "SqrtBackward0"
    compute = staticmethod(np.sqrt)
    saves = "result"

    def gradient(self, grad):
        return (grad / times(self.saved_result, 2),)


class Sin(UnaryOp):
    _name = "SinBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.sin)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad * cos(x),)


class Cos(UnaryOp):
    _name = "CosBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.cos)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        g, data = grad._data, x._data
        if not _GradMode.enabled and g.dtype is data.dtype:  # the same operations, on arrays
            return (make_tensor(g * -np.sin(data)),)
        return (grad * -sin(x),)


class Tan(UnaryOp):
    _name = "TanBackward0"
    compute = staticmethod(np.tan)
    saves = "result"

    def gradient(self, grad):
        return (grad * (1 + self.saved_result**2),)


class Tanh(UnaryOp):
    _name = "TanhBackward0"
    compute = staticmethod(np.tanh)
    saves = "result"

    def gradient(self, grad):
        return (_fused_backward(TanhBackward, grad, self.saved_result),)


class Sigmoid(UnaryOp):
    _name = "SigmoidBackward0"
    saves = "result"

    @staticmethod
    def compute(x):
        # Split by sign so that exp never overflows.
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)[()]

    def gradient(self, grad):
        return (_fused_backward(SigmoidBackward, grad, self.saved_result),)


# The derivatives of tanh and sigmoid, written in their output y, are ops of their own in torch
# (tanh_backward, sigmoid_backward): a create_graph gradient of tanh records TanhBackwardBackward0.
# One node here too, so those graphs look like torch's; and the forward makes one new array
# where ``grad * (1 - y * y)`` makes three (for big tensors, a third of the rule's time).


def _fused_backward(cls, grad: Tensor, y: Tensor) -> Tensor:
    g, out = grad._data, y._data
    if g.shape == out.shape and g.dtype == out.dtype and isinstance(out, np.ndarray):
        out = cls.compute(g, out)
    else:  # a NumPy scalar (0-d) or a gradient still to be broadcast: no array to write into
        out = cls.formula(g, out)
    if _tracks(grad, y):
        node = cls()
        node.save(grad, y)
        return _record(node, (grad, y), out)
    return make_tensor(out)


class TanhBackward(Op):
    """``grad * (1 - y**2)``, y = tanh(x)."""

    _name = "TanhBackwardBackward0"
    saved_names = ("grad_output", "output")

    @staticmethod
    def formula(grad, y):
        return grad * (1 - y * y)

    @staticmethod
    def compute(grad, y):
        out = y * y
        np.subtract(1, out, out=out)
        return np.multiply(grad, out, out=out)

    def gradient(self, grad):
        grad_output, y = self.saved_tensors
        return (
            _fused_backward(TanhBackward, grad, y) if self._next[0] is not None else None,
            grad * (-2 * y * grad_output) if self._next[1] is not None else None,
        )


class SigmoidBackward(Op):
    """``grad * (1 - y) * y``, y = sigmoid(x)."""

    _name = "SigmoidBackwardBackward0"
    saved_names = ("grad_output", "output")

    @staticmethod
    def formula(grad, y):
        return grad * (1 - y) * y

    @staticmethod
    def compute(grad, y):
        out = 1 - y
        np.multiply(out, y, out=out)
        return np.multiply(grad, out, out=out)

    def gradient(self, grad):
        grad_output, y = self.saved_tensors
        return (
            _fused_backward(SigmoidBackward, grad, y) if self._next[0] is not None else None,
            grad * grad_output * (-2 * y + 1) if self._next[1] is not None else None,
        )


class Relu(UnaryOp):
    _name = "ReluBackward0"
    saves = "result"

    @staticmethod
    def compute(x):
        return np.maximum(x, 0).astype(x.dtype, copy=False)

    def gradient(self, grad):
        return (_threshold_backward(grad, self.saved_result),)


class ThresholdBackward(Op):
    """relu's rule, torch's threshold_backward: ``grad`` where the output is not at or below 0
    (a nan output passes it, as in torch), 0 elsewhere. A node of its own under create_graph."""

    _name = "ThresholdBackwardBackward0"
    saved_names = ("self",)
    _saved_threshold = 0

    @staticmethod
    def compute(grad, y):
        return np.where(y <= 0, 0, grad)[()]

    def gradient(self, grad):
        (y,) = self.saved_tensors
        return (
            _threshold_backward(grad, y) if self._next[0] is not None else None,
            make_tensor(np.zeros_like(y._data)) if self._next[1] is not None else None,
        )


def _threshold_backward(grad: Tensor, y: Tensor) -> Tensor:
    out = ThresholdBackward.compute(grad._data, y._data)
    if _tracks(grad, y):
        node = ThresholdBackward()
        node.save(y)
        return _record(node, (grad, y), out)
    return make_tensor(out)


class Reciprocal(UnaryOp):
    _name = "ReciprocalBackward0"
    compute = staticmethod(np.reciprocal)
    saves = "result"

    def gradient(self, grad):
        y = self.saved_result
        return (-grad * (y * y),)


class Log1p(UnaryOp):
    _name = "Log1PBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.log1p)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / (1 + x),)


class Expm1(UnaryOp):
    _name = "Expm1Backward0"
    compute = staticmethod(np.expm1)
    saves = "result"

    def gradient(self, grad):
        return (grad * (self.saved_result + 1),)


def neg(input: Tensor) -> Tensor:
    try:
        kind = input._data.dtype.kind
    except AttributeError:
        raise _not_tensor("neg", input) from None
    if kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
            "invert a mask, use the `~` or `logical_not()` operator instead."
        )
    if not (_GradMode.enabled and input._requires_grad):  # (the backward pass, mostly)
        return make_tensor(-input._data)
    return _unary(Neg, input, floating=False)


def negative(input: Tensor) -> Tensor:
    if not isinstance(input, Tensor):
        raise _not_tensor("negative", input)
    return neg(input)


def abs(input: Tensor) -> Tensor:  # noqa: A001
    if getattr(input, "dtype", None) is _dtype.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return _unary(Abs, input, floating=False)


def absolute(input: Tensor) -> Tensor:
    if getattr(input, "dtype", None) is _dtype.bool_:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return _unary(Abs, input, floating=False)


def sign(input: Tensor) -> Tensor:
    return _unary(Sign, input, floating=False)


def exp(input: Tensor) -> Tensor:
    return _unary(Exp, input)


def log(input: Tensor) -> Tensor:
    return _unary(Log, input)


def sqrt(input: Tensor) -> Tensor:
    return _unary(Sqrt, input)


def sin(input: Tensor) -> Tensor:
    return _unary(Sin, input)


def cos(input: Tensor) -> Tensor:
    return _unary(Cos, input)


def tan(input: Tensor) -> Tensor:
    return _unary(Tan, input)


def tanh(input: Tensor) -> Tensor:
    return _unary(Tanh, input)


def sigmoid(input: Tensor) -> Tensor:
    return _unary(Sigmoid, input)


def relu(input: Tensor) -> Tensor:
    return _unary(Relu, input, floating=False)


def reciprocal(input: Tensor) -> Tensor:
    return _unary(Reciprocal, input)


def log1p(input: Tensor) -> Tensor:
    return _unary(Log1p, input)


def expm1(input: Tensor) -> Tensor:
    return _unary(Expm1, input)


class Rounding(UnaryOp):
    """round, floor, ceil, trunc: piecewise constant, so the gradient is zero (torch's
    ``zeros_like(grad)``, outside any graph)."""

    saves = None

    def gradient(self, grad):
        return (make_tensor(np.zeros_like(grad._data)),)


class Round(Rounding):
    _name = "RoundBackward0"
    compute = staticmethod(np.round)  # halves to even, as torch


class Floor(Rounding):
    _name = "FloorBackward0"
    compute = staticmethod(np.floor)


class Ceil(Rounding):
    _name = "CeilBackward0"
    compute = staticmethod(np.ceil)


class Trunc(Rounding):
    _name = "TruncBackward0"
    compute = staticmethod(np.trunc)


def _rounding(cls, input: Tensor, kernel: str) -> Tensor:
    """Integers are already whole: they come back as a copy, as in torch; bools have no kernel."""
    try:
        kind = input._data.dtype.kind
    except AttributeError:
        raise _not_tensor(sys._getframe(1).f_code.co_name, input) from None
    if kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if kind != "f":
        return make_tensor(input._data.copy())
    return _unary(cls, input)


def round(input: Tensor, *, decimals=None) -> Tensor:  # noqa: A001
    if decimals is None:  # (torch's other overload, even for decimals=0: RoundBackward1)
        return _rounding(Round, input, "round_vml_cpu")
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("round", input) from None
    if data.dtype.kind != "f":
        kernel = "round_vml_cpu" if decimals == 0 else "round_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name(data.dtype)}'")
    # torch's kernel: scale by 10**decimals in the tensor's own dtype, round half to even, unscale
    if decimals == 0:
        out = np.round(data)
    elif decimals > 0:
        scale = data.dtype.type(10.0**decimals)
        out = np.rint(data * scale) / scale
    else:
        scale = data.dtype.type(10.0**-decimals)
        out = np.rint(data / scale) * scale
    out = out.astype(data.dtype, copy=False)
    if _tracks(input):
        node = Round()
        node._rename("RoundBackward1")
        return _record_unary(node, input, out)
    return make_tensor(out)


def floor(input: Tensor) -> Tensor:
    return _rounding(Floor, input, "floor_vml_cpu")


def ceil(input: Tensor) -> Tensor:
    return _rounding(Ceil, input, "ceil_vml_cpu")


def trunc(input: Tensor) -> Tensor:
    return _rounding(Trunc, input, "trunc_vml_cpu")


def fix(input: Tensor) -> Tensor:
    return _rounding(Trunc, input, "trunc_vml_cpu")


class Clamp(Op):
    """``clamp(min, max)`` with numbers: the gradient passes where the input was inside."""

    _name = "ClampBackward1"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        inside = _inside(x, self.min, self.max)
        return (grad * inside,)


class ClampTensor(Op):
    """``clamp(min, max)`` with tensor bounds: each bound gets the gradient where it won."""

    _name = "ClampBackward0"
    saved_names = ("self", "min", "max")

    def gradient(self, grad):
        x, lo, hi = self.saved_tensors
        grads = [grad * _inside(x, lo, hi), None, None]
        # Where min > max the result is max (clamp is min(max(x, lo), hi)): max takes the
        # gradient there, min does not, as in torch's clamp_backward_min_max.
        if lo is not None and self._next[1] is not None:
            grads[1] = grad * ((x < lo) & (lo < hi) if hi is not None else x < lo)
        if hi is not None and self._next[2] is not None:
            grads[2] = grad * ((x > hi) | (hi < lo) if lo is not None else x > hi)
        return tuple(grads)


def _inside(x, lo, hi):
    mask = None
    if lo is not None:
        mask = x >= lo
    if hi is not None:
        mask = (x <= hi) if mask is None else mask & (x <= hi)
    return mask


def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_tensor(input, min, max)
    dt = _dtype.result_type(input, *(v for v in (min, max) if v is not None))
    if dt.np.kind == "b":
        kernel = "clamp_min" if max is None else "clamp_max" if min is None else "clamp"
        raise NotImplementedError(f"\"{kernel}_scalar_cpu\" not implemented for 'Bool'")
    min, max = _fitted(min, dt), _fitted(max, dt)
    data = input._data.astype(dt.np) if input._data.dtype != dt.np else input._data
    out = np.clip(data, min, max)
    out = out.astype(dt.np) if out.dtype != dt.np else out
    if _tracks(input):
        node = Clamp()
        node.min, node.max = min, max
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


clip = clamp


def _clamp_tensor(input, lo, hi) -> Tensor:
    lo = _as_tensor(lo) if lo is not None else None
    hi = _as_tensor(hi) if hi is not None else None
    dt = _clamp_result_type(input, lo, hi)
    out = _cast(input, dt)
    if lo is not None:
        out = np.maximum(out, _cast(lo, dt))
    if hi is not None:
        out = np.minimum(out, _cast(hi, dt))
    out = out.astype(dt.np) if out.dtype != dt.np else out
    if _tracks(input, lo, hi):
        node = ClampTensor()
        node.save(input, lo, hi)
        return _record(node, (input, lo, hi), out)
    return make_tensor(out)


def _clamp_result_type(input, lo, hi):
    """torch's result dtype for clamp with tensor bounds. One bound, or two 0-d ones: one
    promotion of all operands. Two bounds of which one has dims: two steps, the input with the
    bound that has dims first, then that dtype (still with the input's dims) with the other.
    So a bool input with int32 and float32 bounds gives float32 (int32, then float32), where
    one promotion of all three gives float64; and a bool result is refused, as in torch."""
    bounds = [b for b in (lo, hi) if b is not None]
    if len(bounds) == 1 or not (bounds[0]._data.ndim or bounds[1]._data.ndim):
        dt = _dtype.result_type(input, *bounds)  # one bound, or two 0-d ones: all at once
    else:
        first, second = sorted(bounds, key=lambda b: b._data.ndim == 0)  # 0-d last
        dt = _dtype.result_type(input, first)
        like = make_tensor(np.empty((0,) if input._data.ndim else (), dt.np))
        dt = _dtype.result_type(like, second)
    if dt.np.kind == "b" and len(bounds) == 2:  # (one bound is a maximum(), fine for bool)
        raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
    return dt


def clamp_min(input, min):  # noqa: A002
    return _one_sided(clamp(input, min=_bound("clamp_min", input, min)), "ClampMin", min)


def clamp_max(input, max):  # noqa: A002
    return _one_sided(clamp(input, max=_bound("clamp_max", input, max)), "ClampMax", max)


def _bound(name: str, input, bound):
    if bound is None:  # torch's parser: no signature takes None
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got (Tensor, NoneType), "
            "but expected one of:"
        )
    return bound


def _one_sided(result: Tensor, node: str, bound) -> Tensor:
    """torch names clamp_min's node ClampMinBackward0 (a number) or 1 (a tensor)."""
    if result._grad_fn is not None:
        result._grad_fn._rename(f"{node}Backward{1 if isinstance(bound, Tensor) else 0}")
    return result


class Where(Op):
    _name = "WhereBackward0"
    saved_names = ("condition",)

    def gradient(self, grad):
        cond = self.condition
        return where(cond, grad, 0.0), where(cond, 0.0, grad)


def where(condition, input=None, other=None) -> Tensor:
    if input is None and other is None:
        return tuple(make_tensor(i) for i in np.nonzero(_as_tensor(condition)._data))
    cond = _as_tensor(condition)
    if cond._data.dtype.kind != "b":
        raise RuntimeError(
            f"where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{_scalar_name(cond._data.dtype)}"
        )
    a, b = _as_tensor_like(input, other), _as_tensor_like(other, input)
    dt = _dtype.result_type(input, other)
    a, b = _fitted(a, dt), _fitted(b, dt)
    out = np.where(cond._data, _cast(a, dt), _cast(b, dt))
    if _tracks(a, b):
        node = Where()
        node.condition = cond
        return _record(node, (a, b), out)
    return make_tensor(out)


def _fitted(number, dt):
    """A Python int operand of clamp or where as torch converts it to the result's integer
    dtype: checked (c10's checked_convert: clamp(int8, -1000) raises "value cannot be converted
    to type int8_t without overflow"), though a negative int goes into an unsigned dtype by
    wrapping (-1 as 255), and one beyond 64 bits raises Python's OverflowError."""
    if number.__class__ is not int or dt.np.kind not in "iu":
        return number
    from .._creation import _check_fits, _scalar_type_name

    if -(2**63) <= number < 2**64:
        _check_fits(np.array(number), dt, _scalar_type_name(dt))
    return _wrapped(number, dt.np)


def _as_tensor_like(x, like):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return make_tensor(x)
    return x  # a Python number stays a number: it has no gradient edge

"""Arithmetic: ``+ - * / % //``, ``maximum`` and ``minimum``, with torch's type promotion
(``**`` is in ``powers.py``).

How to read an operation: its class (``Mul``, whose ``_name`` is torch's backward node,
``MulBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``mul``), next to it, computes the forward in NumPy and, when
a gradient will be needed, records the node (``_record``, in ``_base.py``).

The binary operations compute with Python's operators rather than the ufuncs: the same NumPy
code for arrays, but NumPy scalars (0-d results) take their fast path, ten times faster than a
ufunc call.
"""

from __future__ import annotations

import operator

import numpy as np

from .. import _dtype
from .._engine import _GradMode, accumulator_of
from .._errors import hint, warn_once
from .._tensor import Tensor, make_tensor, refresh_view
from ._base import (
    _NUMBER_TYPES,
    Op,
    _as_tensor,
    _bool,
    _broadcast_error,
    _float,
    _int,
    _operands,
    _plain_tensors,
    _record,
    _tracks,
    check_alpha,
)
from .pointwise import reciprocal


def _binary(cls, a: Tensor, b, out_dtype=None) -> Tensor:
    """Apply an elementwise op on a tensor and a tensor or number (any dtypes)."""
    return _APPLY[cls](a, b, out_dtype)


def _elementwise(cls):
    """The apply function of a binary op, specialized for speed: scalar code is all overhead.

    The fast path (same dtype on both sides, or a float tensor with a Python float or int) needs
    no casts; everything else goes through torch's promotion in ``_operands``.
    """
    compute, save_inputs = cls.compute, cls.save_inputs
    keeps_dtype = cls.keeps_dtype

    def apply(a, b, out_dtype=None):
        x = a._data
        b_is_tensor = b.__class__ is Tensor
        if (b_is_tensor and x.dtype is b._data.dtype) or (
            (b.__class__ is _float or b.__class__ is _int) and x.dtype.kind == "f"
        ):
            y = b._data if b_is_tensor else b
            try:
                out = compute(x, y)
            except ValueError:
                raise _broadcast_error(a, b) from None
            if out_dtype is not None and out.dtype is not out_dtype:
                out = out.astype(out_dtype)
        else:
            if not b_is_tensor and not isinstance(b, _NUMBER_TYPES):
                if isinstance(b, Tensor):
                    b_is_tensor = True
                elif isinstance(b, np.ndarray):
                    b, b_is_tensor = make_tensor(b), True
                else:
                    return NotImplemented
            x, y, dt = _operands(a, b)
            try:
                out = compute(x, y)
            except ValueError:
                raise _broadcast_error(a, b) from None
            if out_dtype is not None and out.dtype != out_dtype:
                out = out.astype(out_dtype)
            elif keeps_dtype and out.dtype != dt:
                out = out.astype(dt)
        if _GradMode.enabled and (a._requires_grad or (b_is_tensor and b._requires_grad)):
            node = cls()
            save_inputs(node, a, b)
            return _record_binary(node, a, b, b_is_tensor, out)
        return make_tensor(out)

    return apply


def _record_binary(node: Op, a: Tensor, b, b_is_tensor: bool, out) -> Tensor:
    """``_record`` for the two operands of an elementwise op, inlined: it runs for every op."""
    # A view whose memory was changed in place through another tensor: history first.
    if a._base is not None and a._view_version != a._version_cell[0]:
        refresh_view(a)
    if b_is_tensor and b._base is not None and b._view_version != b._version_cell[0]:
        refresh_view(b)
    x = a._data
    fa = a._grad_fn
    node_a = fa if fa is not None else (accumulator_of(a) if a._requires_grad else None)
    shape, dtype = out.shape, out.dtype
    if b_is_tensor:
        y = b._data
        fb = b._grad_fn
        node._next = (
            node_a,
            fb if fb is not None else accumulator_of(b) if b._requires_grad else None,
        )
        node._next_nr = (a._output_nr, b._output_nr) if a._output_nr or b._output_nr else None
        if x.shape == shape and y.shape == shape and x.dtype is dtype and y.dtype is dtype:
            node._input_meta = None
        else:
            node._input_meta = ((x.shape, x.dtype), (y.shape, y.dtype))
    else:
        node._next = (node_a, None)
        node._next_nr = (a._output_nr, 0) if a._output_nr else None
        node._input_meta = (
            None if x.shape == shape and x.dtype is dtype else ((x.shape, x.dtype), None)
        )
    return make_tensor(out, node)


class BinaryOp(Op):
    __slots__ = ()
    keeps_dtype = True  # the result has the operands' common dtype
    # Every rule returns ``grad`` itself (Add gives it to both inputs) or new tensors: see Node.
    fresh_gradients = True

    @staticmethod
    def save_inputs(node, a, b) -> None:
        """Save what the rule needs: by default nothing."""


class Add(BinaryOp):
    _name = "AddBackward0"
    compute = staticmethod(operator.add)

    def gradient(self, grad):
        return grad, grad


class Sub(BinaryOp):
    _name = "SubBackward0"
    compute = staticmethod(operator.sub)

    def gradient(self, grad):
        return grad, -grad


class Rsub(Op):
    """``number - tensor``: torch records it as RsubBackward1 with a single input."""

    _name = "RsubBackward1"

    def gradient(self, grad):
        return (-grad,)


class Mul(BinaryOp):
    _name = "MulBackward0"
    saved_names = ("self", "other")
    compute = staticmethod(operator.mul)

    @staticmethod
    def save_inputs(node, a, b) -> None:
        # Like torch: keep each operand only if the *other* one needs its gradient.
        b_needs = b.__class__ is Tensor and b._requires_grad
        node.save(a if b_needs else None, b if a._requires_grad else None)

    def gradient(self, grad):
        return product_rule(grad, *self.saved_tensors)

    def gradient_in_place(self, grad):
        a, b = self.saved_tensors
        g = grad._data
        if not _plain_tensors(g, a, b):
            return self.gradient(grad)
        grad_b = make_tensor(g * a._data) if a is not None else None  # before g is overwritten
        if b is None:
            return None, grad_b
        np.multiply(g, b._data, out=g)
        return grad, grad_b


def product_rule(grad: Tensor, a, b) -> tuple:
    """``(grad * b, grad * a)``, each None where its input takes no gradient (that input's
    partner was not saved): the rule of a product, elementwise (mul) or summed (dot)."""
    if not _GradMode.enabled:  # no graph: the products on the arrays, as mul computes them
        g = grad._data
        if (b is None or b.__class__ is Tensor and b._data.dtype is g.dtype) and (
            a is None or a.__class__ is Tensor and a._data.dtype is g.dtype
        ):
            return (
                make_tensor(g * b._data) if b is not None else None,
                make_tensor(g * a._data) if a is not None else None,
            )
    return (grad * b if b is not None else None), (grad * a if a is not None else None)


class Div(BinaryOp):
    _name = "DivBackward0"
    saved_names = ("self", "other")
    keeps_dtype = False

    compute = staticmethod(operator.truediv)

    @staticmethod
    def save_inputs(node, a, b) -> None:
        b_needs = b.__class__ is Tensor and b._requires_grad
        node.save(a if b_needs else None, b)

    def gradient(self, grad):
        a, b = self.saved_tensors
        grad_a = grad / b if self._next[0] is not None else None
        if a is None:
            return grad_a, None
        # d(a/b)/db = -a/b**2, in torch's order: a/b/b stays finite (0 for a = 0) where a tiny b
        # would overflow 1/b or underflow b*b.
        x, y, g = a._data, b._data, grad._data
        if _GradMode.enabled or not (x.dtype is y.dtype is g.dtype):
            return grad_a, -grad * ((a / b) / b)
        return grad_a, make_tensor(_div_other_backward(g, x, y))

    def gradient_in_place(self, grad):
        a, b = self.saved_tensors
        g = grad._data
        if not _plain_tensors(g, a, b) or b is None:
            return self.gradient(grad)
        grad_b = make_tensor(_div_other_backward(g, a._data, b._data)) if a is not None else None
        if self._next[0] is None:
            return None, grad_b
        np.divide(g, b._data, out=g)
        return grad, grad_b


def _div_other_backward(grad, a, b):
    """``-grad * ((a / b) / b)`` where no graph is recorded: the same operations, in one new
    array instead of four (an operation in place costs half of one into a new array)."""
    q = a / b
    if q.__class__ is not np.ndarray or q.shape != grad.shape:
        return -grad * (q / b)  # 0-d, or a gradient still to be broadcast
    np.divide(q, b, out=q)
    np.multiply(q, grad, out=q)
    return np.negative(q, out=q)


class Maximum(BinaryOp):
    _name = "MaximumBackward0"
    saved_names = ("self", "other")
    compute = staticmethod(np.maximum)

    @staticmethod
    def save_inputs(node, a, b) -> None:
        node.save(a, b)

    def gradient(self, grad):
        a, b = self.saved_tensors
        return _split_ties(grad, a > b, a == b), _split_ties(grad, b > a, a == b)


class Minimum(Maximum):
    _name = "MinimumBackward0"
    compute = staticmethod(np.minimum)

    def gradient(self, grad):
        a, b = self.saved_tensors
        return _split_ties(grad, a < b, a == b), _split_ties(grad, b < a, a == b)


def _split_ties(grad, wins, ties):
    """The winner takes the gradient; a tie shares it equally (torch's rule)."""
    return grad * wins + grad * ties / 2


def _check_divisor(y, out) -> None:
    """An integer division by zero: torch raises where NumPy gives 0 (and, as in torch, only
    when some element is actually computed)."""
    if isinstance(y, np.ndarray):
        zero = np.count_nonzero(y) != y.size  # (the fastest test of an array: no temporary)
    else:
        zero = y == 0  # a number or a NumPy scalar
    if zero and out.size:
        raise RuntimeError(
            "ZeroDivisionError"
            + hint(
                "an integer tensor was divided by 0 (//, %, fmod or div with rounding_mode); "
                "in floats the result would be inf or nan"
            )
        )


def _integer_checked(ufunc):
    """``ufunc(x, y)`` that refuses an integer divisor of 0, as torch's integer kernels do."""

    def compute(x, y):
        out = ufunc(x, y)
        if out.dtype.kind in "iu":
            _check_divisor(y, out)
        return out

    return compute


class Remainder(BinaryOp):
    """``a % b`` (Python's sign: the divisor's).  By a number: RemainderBackward0; by a tensor:
    RemainderBackward1, whose divisor gets ``-grad * floor(a / b)``."""

    _name = "RemainderBackward0"
    saved_names = ("self", "other")
    compute = staticmethod(_integer_checked(operator.mod))
    rounding = "floor"

    @classmethod
    def save_inputs(cls, node, a, b) -> None:
        if b.__class__ is Tensor or isinstance(b, Tensor):
            node._rename(cls._name[:-1] + "1")
            node.save(a, b)

    def gradient(self, grad):
        if self._next[1] is None:
            return grad, None
        a, b = self.saved_tensors
        return grad, -grad * div(a, b, rounding_mode=self.rounding)


class Fmod(Remainder):
    """``fmod(a, b)`` (C's sign: the dividend's); the divisor gets ``-grad * trunc(a / b)``."""

    _name = "FmodBackward0"
    compute = staticmethod(_integer_checked(np.fmod))
    rounding = "trunc"


_APPLY = {cls: _elementwise(cls) for cls in (Add, Sub, Mul, Div, Maximum, Minimum, Remainder, Fmod)}


def _is_bool(x) -> bool:
    data = x._data if isinstance(x, Tensor) else x
    return isinstance(data, (_bool, np.bool_)) or getattr(data, "dtype", None) == np.bool_


def _check_sub(a, b) -> None:
    """torch refuses ``-`` with a bool operand, where NumPy would compute or word it its own way."""
    a_bool, b_bool = _is_bool(a), _is_bool(b)
    if a_bool and b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
            "`logical_xor()` operator instead."
        )
    if a_bool or b_bool:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _checked(apply, check):
    """``apply`` after ``check(a, b)``, which runs only when a bool takes part (the rare case:
    ``x - 1.0`` stays on the fast path)."""

    def checked(a, b, out_dtype=None):
        kind = b.__class__
        if a._data.dtype.kind == "b" or (
            b._data.dtype.kind == "b"
            if kind is Tensor
            else kind not in (_float, _int) and _is_bool(b)
        ):
            check(a, b)
        return apply(a, b, out_dtype)

    return checked


_APPLY[Sub] = _checked(_APPLY[Sub], _check_sub)


def _alpha_first(name: str, input, alpha, rest: tuple, keyword_alpha):
    """torch's deprecated ``add(input, alpha, other)`` / ``sub(input, alpha, other)`` of 2017
    (still taken, with a warning once per process): ``input + alpha * other``."""
    alpha_is_number = isinstance(alpha, (_NUMBER_TYPES, np.number)) or (
        isinstance(alpha, Tensor) and alpha._data.ndim == 0
    )
    if len(rest) != 1 or keyword_alpha is not None or not alpha_is_number:
        raise TypeError(f"{name}() takes 2 positional arguments but {2 + len(rest)} were given")
    warn_once(
        f"This overload of {name} is deprecated:\n\t{name}(Tensor input, Number alpha, Tensor "
        f"other, *, Tensor out = None)\nConsider using one of the following signatures "
        f"instead:\n\t{name}(Tensor input, Tensor other, *, Number alpha = 1, Tensor out = "
        "None)",
        stacklevel=3,
    )
    alpha = alpha.item() if isinstance(alpha, Tensor) else alpha
    return rest[0], alpha


def _times_alpha(name: str, input, other, alpha_first: tuple, alpha):
    """add's and sub's ``alpha * other``, from either signature, after torch's checks of alpha.
    A bool alpha (allowed only for a bool result) keeps bools bool, where Python's True * True
    is the int 1."""
    if alpha_first:
        other, alpha = _alpha_first(name, input, other, alpha_first, alpha)
    elif alpha is None:
        return other
    if alpha.__class__ is int and alpha == 1:  # (True == 1, but is checked: bool alpha)
        return other
    check_alpha(input, other, alpha)
    if alpha.__class__ is bool:
        return _as_tensor(other) if alpha else _as_tensor(other) & False
    return other * alpha


def add(input, other, *alpha_first, alpha=None) -> Tensor:
    other = _times_alpha("add", input, other, alpha_first, alpha)
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        return _binary(Add, _as_tensor(other), input)
    return _binary(Add, input, other)


def sub(input, other, *alpha_first, alpha=None) -> Tensor:
    other = _times_alpha("sub", input, other, alpha_first, alpha)
    return _binary(Sub, _as_tensor(input), other)


subtract = sub


def rsub(tensor: Tensor, number) -> Tensor:
    """``number - tensor``."""
    if isinstance(number, Tensor):
        return sub(number, tensor)
    _check_sub(number, tensor)
    x, y, dt = _operands(tensor, number)
    out = y - x
    if out.dtype != dt:
        out = out.astype(dt)
    if _tracks(tensor):
        return _record(Rsub(), (tensor,), out)
    return make_tensor(out)


def mul(input, other) -> Tensor:
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        input, other = other, input
    return _binary(Mul, input, other)


multiply = mul


def div(input, other, *, rounding_mode=None) -> Tensor:
    if rounding_mode is not None:
        return _div_rounded(input, other, rounding_mode)
    if input.__class__ is not Tensor:
        input = _as_tensor(input)
    kind = input._data.dtype.kind
    if kind == "f" and (
        other.__class__ is _float
        or other.__class__ is _int
        or (other.__class__ is Tensor and other._data.dtype is input._data.dtype)
    ):
        return _APPLY[Div](input, other)  # float / float: no promotion to work out
    dt = _dtype.to_float(_dtype.result_type(input, other))
    if kind != "f":
        input = make_tensor(input._data.astype(dt.np))  # ints divide in the default float
    return _binary(Div, input, other, out_dtype=dt.np)


divide = true_divide = div


def rdiv(tensor: Tensor, number) -> Tensor:
    """``number / tensor``: torch computes ``tensor.reciprocal() * number``."""
    if isinstance(number, Tensor):
        return div(number, tensor)
    return mul(reciprocal(tensor), number)


def _divide_rounded(x, y, dt, mode: str):
    """Floor or trunc division of NumPy operands already in torch's result dtype ``dt``."""
    kind = np.dtype(dt).kind
    if kind == "b":
        raise NotImplementedError(f"\"div_{mode}_cpu\" not implemented for 'Bool'")
    if mode == "floor":
        out = np.floor_divide(x, y)
    elif kind == "f":
        out = np.trunc(np.true_divide(x, y))
    else:  # in integers, not through floats (which lose the low digits of large int64s)
        out = np.floor_divide(x, y)
        out = out + ((np.remainder(x, y) != 0) & (np.less(x, 0) != np.less(y, 0)))
    out = np.asarray(out).astype(dt, copy=False)
    if kind != "f":
        _check_divisor(y, out)
    return out


class NotDifferentiable(Op):
    """An op torch has no derivative for (floor division, ``number % tensor``): its grad_fn
    says so, and a backward pass through it fails."""

    _name = "torch::autograd::NotImplemented"

    def gradient(self, grad):
        raise RuntimeError(f"derivative for aten::{self.op} is not implemented")


def _not_differentiable(out, op: str, a, b) -> Tensor:
    if _tracks(a, b):
        node = NotDifferentiable()
        node.op = op
        return _record(node, (a, b), out)
    return make_tensor(out)


def floor_divide(input, other) -> Tensor:
    input = _as_tensor(input)
    x, y, dt = _operands(input, other)
    return _not_differentiable(_divide_rounded(x, y, dt, "floor"), "floor_divide", input, other)


def _rfloordiv(tensor: Tensor, number) -> Tensor:
    """``number // tensor``: the number takes part as a number (it does not widen the dtype)."""
    if isinstance(number, (Tensor, np.ndarray)):
        return floor_divide(_as_tensor(number), tensor)
    if not isinstance(number, _NUMBER_TYPES):
        return NotImplemented
    x, y, dt = _operands(tensor, number)
    out = _divide_rounded(np.asarray(y, dtype=dt), x, dt, "floor")
    return _not_differentiable(out, "floor_divide", number, tensor)


class DivRounded(Op):
    """``div(a, b, rounding_mode=...)``: piecewise constant, so zero gradients (torch's)."""

    _name = "DivBackward2"

    def gradient(self, grad):
        zeros = make_tensor(np.zeros_like(grad._data))
        return zeros, zeros


def _div_rounded(input, other, mode) -> Tensor:
    if mode not in ("floor", "trunc"):
        raise RuntimeError(
            f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'"
        )
    input = _as_tensor(input)
    x, y, dt = _operands(input, other)
    out = _divide_rounded(x, y, dt, mode)
    if _tracks(input, other):
        return _record(DivRounded(), (input, other), out)
    return make_tensor(out)


def _check_bool_kernel(a: Tensor, b, kernel: str) -> None:
    """bool % bool has no kernel in torch (NumPy would answer in int8)."""
    if a._data.dtype.kind == "b" and _is_bool(b):
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for 'Bool'")


def remainder(input, other) -> Tensor:
    input = _as_tensor(input)
    _check_bool_kernel(input, other, "remainder")
    return _binary(Remainder, input, other)


def fmod(input, other) -> Tensor:
    input = _as_tensor(input)
    _check_bool_kernel(input, other, "fmod")
    return _binary(Fmod, input, other)


def _rremainder(tensor: Tensor, number) -> Tensor:
    """``number % tensor``: torch has no derivative for it."""
    if isinstance(number, (Tensor, np.ndarray)):
        return remainder(_as_tensor(number), tensor)
    if not isinstance(number, _NUMBER_TYPES):
        return NotImplemented
    _check_bool_kernel(tensor, number, "remainder")
    x, y, dt = _operands(tensor, number)
    out = Remainder.compute(np.asarray(y, dtype=dt), x)
    out = np.asarray(out).astype(dt, copy=False)
    return _not_differentiable(out, "remainder", number, tensor)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    return _binary(Maximum, input, _require_tensor(other, "maximum"))


def minimum(input: Tensor, other: Tensor) -> Tensor:
    return _binary(Minimum, input, _require_tensor(other, "minimum"))


def _require_tensor(x, name: str) -> Tensor:
    if isinstance(x, np.ndarray):
        return make_tensor(x)
    if not isinstance(x, Tensor):
        raise TypeError(
            f"{name}(): argument 'other' (position 2) must be Tensor, not {type(x).__name__}"
        )
    return x

"""Every operation, with its NumPy forward and its gradient rule side by side.

An operation is a :class:`Node` subclass named like torch's backward node (``MulBackward0``):

* ``compute`` (NumPy in, NumPy out) is the forward;
* ``gradient(self, grad)`` returns one gradient per input, written with the library's own tensor
  operations, so the same rule also builds a graph when ``create_graph=True`` (that is all there is
  to higher-order derivatives).

The engine (``_engine.py``) takes care of what is common to all rules: summing a gradient back
over broadcast dimensions and casting it to its input's dtype.
"""

from __future__ import annotations

import builtins
import collections
import math
import operator
import sys
import warnings
from collections.abc import Sequence

import numpy as np

from . import _dtype
from ._dtype import FROM_NUMPY
from ._engine import Node, _GradMode, accumulator_of, connect, version_cell
from ._errors import hint
from ._tensor import Size, Tensor, make_tensor

# torch computes log(0) = -inf and 1/0 = inf silently; NumPy warns.  The filter is scoped to this
# package's frames, so a student's own NumPy code keeps its warnings.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"autograd_lite\.")

_int = builtins.int
_float = builtins.float
_bool = builtins.bool
_NUMBER_TYPES = (_int, _float, _bool, np.number, np.bool_)


# ============================================================================================
# Wiring an operation into the graph
# ============================================================================================


class Op(Node):
    """An operation; subclasses give ``compute`` and ``gradient``."""

    __slots__ = ()

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(fn is not None for fn in self._next)


def _tracks(*tensors) -> bool:
    """Whether the result of an op on ``tensors`` must remember how it was made."""
    if not _GradMode.enabled:
        return False
    for t in tensors:
        if t.__class__ is Tensor and t._requires_grad:
            return True
    return False


def _record(node: Op, inputs, out) -> Tensor:
    """Make ``node`` the grad_fn of a new tensor holding ``out``; ``inputs`` are its edges."""
    connect(node, inputs)
    same = (out.shape, out.dtype)
    if builtins.all(meta is None or meta == same for meta in node._input_meta):
        node._input_meta = None  # every gradient already has its input's shape and dtype
    return make_tensor(out, node)


def _view(out, source: Tensor, node: Op | None) -> Tensor:
    """A result that shares ``source``'s memory: it shares its version counter too."""
    t = _record_unary(node, source, out) if node is not None else make_tensor(out)
    t._version_cell = version_cell(source)
    base = source._base
    t._base = base if base is not None else source
    return t


def _as_tensor(x) -> Tensor:
    if x.__class__ is Tensor:
        return x
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return make_tensor(x)
    return make_tensor(np.asarray(x, dtype=_dtype.scalar_dtype(x).np))


def _dtype_of(t: Tensor) -> _dtype.dtype:
    return FROM_NUMPY[t._data.dtype]


# --------------------------------------------------------------------------------------------
# A number (or list, array, None) where a function takes a tensor: torch.exp(1.0)
#
# The functions do not check their input: reading ``input._data`` fails on anything but a
# tensor, and only then, in an ``except AttributeError`` (free until it fires), do they build
# torch's TypeError with the helpers below.
# --------------------------------------------------------------------------------------------

_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python, not in C


def _type_name(value) -> str:
    """A type as torch's argument parser names it: ``float``, ``list``, ``numpy.float64``."""
    cls = type(value)
    if cls.__module__ == "builtins" or cls.__flags__ & _HEAP_TYPE:
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


# Functions with several signatures.  When the arguments fit none, torch names the faulty one
# only if a single signature takes that many arguments; else it lists them all.  The value is
# the number of arguments (the input included) from which more than one signature takes them.
_OVERLOADED_FROM = {
    "sum": 2,
    "mean": 2,
    "prod": 2,
    "max": 2,
    "min": 2,
    "squeeze": 2,
    "all": 1,
    "any": 1,
    "var": 1,
    "std": 1,
    "clamp": 1,
    "clip": 1,
    "narrow": 1,
}


def _not_tensor(name: str, value, *others) -> TypeError:
    """torch's TypeError for ``name(value, *others)`` where ``value`` is not a tensor.

    ``others`` are the function's other arguments, None for those left out.
    """
    given = [value, *(x for x in others if x is not None)]
    if len(given) >= _OVERLOADED_FROM.get(name, 1 << 30):
        types = ", ".join(_type_name(x) for x in given)
        return TypeError(
            f"{name}() received an invalid combination of arguments - got ({types}), but "
            "expected one of:" + hint(f"{name}() takes a tensor: torch.tensor(...) first")
        )
    return TypeError(
        f"{name}(): argument 'input' (position 1) must be Tensor, not {_type_name(value)}"
        + hint(
            f"torch.{name}() works on tensors: wrap the value first, torch.{name}("
            "torch.tensor(...)), or use the math module for a Python number"
        )
    )


# ============================================================================================
# Elementwise binary operations
#
# They compute with Python's operators rather than the ufuncs: the same NumPy code for arrays,
# but NumPy scalars (0-d results) take their fast path, ten times faster than a ufunc call.
# ============================================================================================


def _broadcast_error(a, b) -> RuntimeError:
    return _shapes_mismatch(a._data.shape, b._data.shape if b.__class__ is Tensor else ())


def _shapes_mismatch(sa: tuple, sb: tuple) -> RuntimeError:
    rank = builtins.max(len(sa), len(sb))  # `max` here is the tensor op
    for i in range(1, rank + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            dim = rank - i
            return RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {dim}"
                + hint(
                    f"shapes {list(sa)} and {list(sb)} do not broadcast (compare from the right)"
                )
            )
    return RuntimeError(f"cannot broadcast shapes {list(sa)} and {list(sb)}")


def _operands(a, b):
    """Cast both operands to torch's result dtype: returns (x, y, dtype) as NumPy values."""
    if b.__class__ is Tensor:
        x, y = a._data, b._data
        if x.dtype is y.dtype or x.dtype == y.dtype:
            return x, y, x.dtype
        dt = _dtype.result_type(a, b).np
        return (x if x.dtype == dt else x.astype(dt)), (y if y.dtype == dt else y.astype(dt)), dt
    x = a._data
    kind = x.dtype.kind
    # A Python number only changes the dtype when it is of a higher category (torch's rule).
    if b.__class__ is _float or isinstance(b, (_float, np.floating)):
        if kind == "f":
            return x, b, x.dtype
        dt = _dtype.get_default_dtype().np
        return x.astype(dt), b, dt
    if isinstance(b, (_bool, np.bool_)):
        return x, b, x.dtype
    if isinstance(b, (_int, np.integer)):
        if kind == "b":
            return x.astype(np.int64), b, np.dtype(np.int64)
        return x, b, x.dtype
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(b).__name__}'")


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


def _record_unary(node: Op, a: Tensor, out) -> Tensor:
    """``_record`` for a single input, inlined like ``_record_binary``."""
    x = a._data
    fa = a._grad_fn
    node._next = (fa if fa is not None else accumulator_of(a) if a._requires_grad else None,)
    node._next_nr = (a._output_nr,) if a._output_nr else None
    node._input_meta = (
        None if x.shape == out.shape and x.dtype is out.dtype else ((x.shape, x.dtype),)
    )
    return make_tensor(out, node)


class BinaryOp(Op):
    __slots__ = ()
    keeps_dtype = True  # the result has the operands' common dtype

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
        a, b = self.saved_tensors
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


def _div_other_backward(grad, a, b):
    """``-grad * ((a / b) / b)`` where no graph is recorded: the same operations, in one new
    array instead of four (an operation in place costs half of one into a new array)."""
    q = a / b
    if q.__class__ is not np.ndarray or q.shape != grad.shape:
        return -grad * (q / b)  # 0-d, or a gradient still to be broadcast
    np.divide(q, b, out=q)
    np.multiply(q, grad, out=q)
    return np.negative(q, out=q)


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
        # torch differentiates in the result's dtype, to which an int or bool operand was promoted
        base, exponent = base.to(grad.dtype), exponent.to(grad.dtype)
        grad_base = grad_exp = None
        if self._next[0] is not None:
            # 0 where the exponent is 0 (else 0 ** 0 would give 0 * inf = nan), as torch: so
            # also every higher derivative through that branch is 0 there
            grad_base = where(exponent == 0, 0.0, grad * (exponent * base ** (exponent - 1)))
        if self._next[1] is not None:
            # d/dy x**y = x**y * log(x), taken as 0 where x == 0 and y >= 0; grad stays outside
            # the where, as in torch's formula (it decides what the second derivatives are at 0)
            zero_base = (base == 0) & (exponent >= 0)
            grad_exp = grad * where(zero_base, 0.0, base**exponent * base.log())
        return grad_base, grad_exp


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
            node._name = cls._name[:-1] + "1"
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


def _compare(ufunc):
    def op(a, b):
        if b.__class__ is not Tensor and isinstance(b, np.ndarray):
            b = make_tensor(b)
        if b is None or not (isinstance(b, (Tensor,) + _NUMBER_TYPES)):
            return NotImplemented
        x, y, _ = _operands(a, b) if isinstance(a, Tensor) else (a, b, None)
        try:
            return make_tensor(np.asarray(ufunc(x, y)) if np.ndim(x) else ufunc(x, y))
        except ValueError:
            raise _broadcast_error(a, b) from None

    op.__name__ = ufunc.__name__
    return op


eq = _compare(np.equal)
ne = _compare(np.not_equal)
lt = _compare(np.less)
le = _compare(np.less_equal)
gt = _compare(np.greater)
ge = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)
logical_xor = _compare(np.logical_xor)


def _bitwise(ufunc, symbol):
    def op(a, b):
        if not isinstance(b, (Tensor,) + _NUMBER_TYPES):
            return NotImplemented
        x, y, dt = _operands(a, _as_tensor(b) if isinstance(b, np.ndarray) else b)
        if np.dtype(dt).kind == "f":
            raise NotImplementedError(
                f"\"{ufunc.__name__}_cpu\" not implemented for '{_scalar_name(dt)}'"
                + hint(f"{symbol} is for bool or integer tensors (masks); floats need comparisons")
            )
        return make_tensor(ufunc(x, y))

    return op


bitwise_and = _bitwise(np.bitwise_and, "&")
bitwise_or = _bitwise(np.bitwise_or, "|")
bitwise_xor = _bitwise(np.bitwise_xor, "^")


def logical_not(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("logical_not", input) from None
    return make_tensor(np.logical_not(data))


def bitwise_not(x: Tensor) -> Tensor:
    if x._data.dtype.kind == "f":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return make_tensor(np.invert(x._data))


_APPLY = {
    cls: _elementwise(cls)
    for cls in (Add, Sub, Mul, Div, PowTensor, Maximum, Minimum, Remainder, Fmod)
}


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


def _check_pow(base, exponent) -> None:
    """bool ** bool has no kernel in torch (bool_tensor ** True, a Python exponent, does)."""
    if _is_bool(base) and _is_bool(exponent):
        raise NotImplementedError("\"pow\" not implemented for 'Bool'")


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
_APPLY[PowTensor] = _checked(_APPLY[PowTensor], _check_pow)


def add(input, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = other * alpha
    if input.__class__ is not Tensor and not isinstance(input, Tensor):
        return _binary(Add, _as_tensor(other), input)
    return _binary(Add, input, other)


def sub(input, other, *, alpha=1) -> Tensor:
    if alpha != 1:
        other = other * alpha
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


# ============================================================================================
# Powers
# ============================================================================================


class Pow(Op):
    """``tensor ** number``."""

    __slots__ = ("exponent",)
    _name = "PowBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        e = self.exponent
        if e == 0:
            return (make_tensor(np.zeros_like(x._data)),)  # torch: zeros_like, no graph
        # torch's formula, x ** 1 and x ** 0 included: they keep the gradient's graph linked to
        # x, so a derivative that happens to be constant (d2/dx2 x**2 = 2) still has a grad_fn
        # and differentiates to 0 instead of raising "does not require grad".
        if not _GradMode.enabled and grad._data.dtype is x._data.dtype:
            return (make_tensor(_pow_backward(grad._data, x._data, e)),)
        return (grad * (e * x ** (e - 1)),)


def _pow_backward(grad, x, e):
    """``grad * (e * x ** (e - 1))`` where no graph is recorded: the same values in one new
    array (x ** 1 is x, and an operation in place costs half of one into a new array)."""
    t = e * x if e == 2 else x ** (e - 1)
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


def pow(input, exponent) -> Tensor:  # noqa: A001 - torch's name
    if exponent.__class__ in (_int, _float) and input.__class__ is Tensor:
        x = input._data
        if x.dtype.kind == "f":  # the common x ** 2 or x ** 0.5: nothing to promote
            out = x**exponent
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
    x, e, dt = _operands(input, exponent)
    if np.dtype(dt).kind in "iu" and isinstance(e, (_int, np.integer)) and e < 0:
        raise RuntimeError(
            "Integers to negative integer powers are not allowed."
            + hint("use a float base, e.g. x.float() ** -1 or 1 / x")
        )
    out = x**e
    if out.dtype != dt:
        out = out.astype(dt)
    if _tracks(input):
        node = Pow()
        node.exponent = e
        node.save(input)
        return _record(node, (input,), out)
    return make_tensor(out)


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


# ============================================================================================
# Elementwise unary operations
# ============================================================================================


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
        return (grad * sign(x),)


class Sign(UnaryOp):
    _name = "SignBackward0"
    compute = staticmethod(np.sign)
    saves = None

    def gradient(self, grad):
        return (grad * 0,)


class Exp(UnaryOp):
    _name = "ExpBackward0"
    compute = staticmethod(np.exp)
    saves = "result"

    def gradient(self, grad):
        return (grad * self.saved_result,)


class Log(UnaryOp):
    _name = "LogBackward0"
    saved_names = ("self",)
    compute = staticmethod(np.log)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        return (grad / x,)


class Sqrt(UnaryOp):
    _name = "SqrtBackward0"
    compute = staticmethod(np.sqrt)
    saves = "result"

    def gradient(self, grad):
        return (grad / (2 * self.saved_result),)


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
        return (grad * (self.saved_result > 0),)


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
    return _unary(Abs, input, floating=False)


def absolute(input: Tensor) -> Tensor:
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
        node._name = "RoundBackward1"
        return _record_unary(node, input, out)
    return make_tensor(out)


def floor(input: Tensor) -> Tensor:
    return _rounding(Floor, input, "floor_vml_cpu")


def ceil(input: Tensor) -> Tensor:
    return _rounding(Ceil, input, "ceil_vml_cpu")


def trunc(input: Tensor) -> Tensor:
    return _rounding(Trunc, input, "trunc_vml_cpu")


fix = trunc


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
    out = input._data
    if lo is not None:
        out = np.maximum(out, lo._data)
    if hi is not None:
        out = np.minimum(out, hi._data)
    if _tracks(input, lo, hi):
        node = ClampTensor()
        node.save(input, lo, hi)
        return _record(node, (input, lo, hi), out)
    return make_tensor(out)


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


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
    out = np.where(cond._data, _cast(a, dt), _cast(b, dt))
    if _tracks(a, b):
        node = Where()
        node.condition = cond
        return _record(node, (a, b), out)
    return make_tensor(out)


def _as_tensor_like(x, like):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, np.ndarray):
        return make_tensor(x)
    return x  # a Python number stays a number: it has no gradient edge


def _cast(x, dt: _dtype.dtype):
    if isinstance(x, Tensor):
        return x._data if x._data.dtype == dt.np else x._data.astype(dt.np)
    return np.asarray(x, dtype=dt.np)


# ============================================================================================
# Reductions
# ============================================================================================


def _dims(dim, ndim: int) -> tuple:
    """Normalize ``dim`` (None, int or tuple) to positive ints, with torch's error."""
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (_int, np.integer)) else tuple(dim)
    rank = builtins.max(ndim, 1)
    out = []
    for d in dims:
        if not -rank <= d < rank:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but "
                f"got {d})"
            )
        out.append(d % rank)
    return tuple(out) if ndim else ()


def _expand_back(grad: Tensor, shape, dims, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back to the input's shape (differentiably)."""
    if not keepdim and dims and len(dims) < len(shape):  # (a full reduction just expands)
        kept = list(shape)
        for d in dims:
            kept[d] = 1
        grad = grad.reshape(tuple(kept))
    return grad.expand(shape)


class Sum(Op):
    _name = "SumBackward0"

    def gradient(self, grad):
        return (_expand_back(grad, self.shape, self.dims, self.keepdim),)


def sum(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:  # noqa: A001
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("sum", input, dim) from None
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    elif data.dtype.kind in "biu":
        data = data.astype(np.int64)  # torch sums integers (and bools) as int64
    dims = _dims(dim, data.ndim)
    # The ufunc itself, not np.sum: NumPy's inf - inf warning then comes from this module's
    # frame, which the filter at the top silences (torch gives nan silently).
    out = np.add.reduce(data, axis=dims, keepdims=keepdim)
    if _tracks(input):
        node = Sum()
        node._name = "SumBackward0" if dim is None else "SumBackward1"
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        return _record(node, (input,), out)
    return make_tensor(out)


class Mean(Op):
    _name = "MeanBackward0"

    def gradient(self, grad):
        return (_expand_back(grad, self.shape, self.dims, self.keepdim) / self.count,)


def mean(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("mean", input, dim) from None
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    if data.dtype.kind != "f":
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {_scalar_name(data.dtype)}"
            + hint("call .float() first: the mean of integers is not an integer")
        )
    dims = _dims(dim, data.ndim)
    count = _int(np.prod([data.shape[d] for d in dims])) if dims else 1
    # sum / count with the ufunc, not np.mean: its inf - inf and empty-slice warnings would come
    # from NumPy's frames, which the filter at the top does not cover (torch warns of neither)
    wide = np.float32 if data.dtype == np.float16 else None  # as np.mean: float16 adds in float32
    out = np.add.reduce(data, axis=dims, keepdims=keepdim, dtype=wide) / count
    if out.dtype != data.dtype:
        out = out.astype(data.dtype)
    if _tracks(input):
        node = Mean()
        node._name = "MeanBackward0" if dim is None else "MeanBackward1"
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        node.count = count
        return _record(node, (input,), out)
    return make_tensor(out)


def _scalar_name(np_dtype) -> str:
    return FROM_NUMPY[np.dtype(np_dtype)].scalar_name


class VarStd(Op):
    """var (and std = sqrt(var)) with Bessel's correction by default."""

    _name = "VarBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        centered = x - x.mean(self.dims, keepdim=True)
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        if self.std:
            std = _expand_back(self.saved_result, self.shape, self.dims, self.keepdim)
            return (grad * centered / (std * self.denominator),)
        return (grad * 2 * centered / self.denominator,)


def var(input: Tensor, dim=None, *, correction=1, keepdim=False, unbiased=None) -> Tensor:
    return _var_std(input, dim, correction, keepdim, unbiased, std=False)


def std(input: Tensor, dim=None, *, correction=1, keepdim=False, unbiased=None) -> Tensor:
    return _var_std(input, dim, correction, keepdim, unbiased, std=True)


def _var_std(input, dim, correction, keepdim, unbiased, std: bool) -> Tensor:
    if isinstance(dim, _bool):  # the old positional var(unbiased) form
        unbiased, dim = dim, None
    if unbiased is not None:
        correction = 1 if unbiased else 0
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("std" if std else "var", input, dim) from None
    dims = _dims(dim, data.ndim)
    count = _int(np.prod([data.shape[d] for d in dims])) if dims else 1
    with np.errstate(all="ignore"):  # (np.var warns from NumPy's own frames: not filtered)
        out = np.var(data, axis=dims, ddof=correction, keepdims=keepdim)
    if std:
        out = np.sqrt(out)
    out = out.astype(data.dtype) if out.dtype != data.dtype else out
    if _tracks(input):
        node = VarStd()
        node._name = "StdBackward0" if std else "VarBackward0"
        node.shape, node.dims, node.keepdim, node.std = data.shape, dims, keepdim, std
        node.denominator = builtins.max(count - correction, 0)
        node.save(input)
        t = _record(node, (input,), out)
        if std:
            node.save_result(t)
        return t
    return make_tensor(out)


class MaxAll(Op):
    """max()/min() of all elements: ties share the gradient evenly."""

    _name = "MaxBackward1"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        hits = x == self.saved_result
        return (grad * hits / hits.sum(),)


class MaxDim(Op):
    """max(dim)/min(dim): the gradient goes to the index that won."""

    _name = "MaxBackward0"
    saved_names = ("indices",)

    def gradient(self, grad):
        if not self.keepdim:
            grad = grad.unsqueeze(self.dim)
        return (grad * self.onehot,)


_return_types = {}


def _return_type(name: str):
    """torch.return_types.max and friends: a named (values, indices) pair."""
    if name not in _return_types:
        base = collections.namedtuple(name, ["values", "indices"])

        def __repr__(self):  # noqa: N807
            return f"torch.return_types.{name}(\nvalues={self.values!r},\nindices={self.indices!r})"

        _return_types[name] = type(name, (base,), {"__repr__": __repr__, "__slots__": ()})
    return _return_types[name]


def _extreme(input: Tensor, dim, keepdim, largest: bool, name: str):
    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return maximum(input, dim) if largest else minimum(input, dim)
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    if dim is None:
        if data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        out = np.max(data) if largest else np.min(data)
        if _tracks(input):
            node = MaxAll()
            node._name = "MaxBackward1" if largest else "MinBackward1"
            node.save(input)
            t = _record(node, (input,), out)
            node.save_result(t)
            return t
        return make_tensor(out)
    (d,) = _dims(dim, data.ndim) or (0,)
    arg = np.argmax(data, axis=d) if data.ndim else np.array(0)
    if not largest:
        arg = np.argmin(data, axis=d) if data.ndim else np.array(0)
    idx = np.expand_dims(arg, d) if data.ndim else arg
    values = np.take_along_axis(data, idx, axis=d) if data.ndim else data
    if not keepdim and data.ndim:
        values = np.squeeze(values, axis=d)
    indices = make_tensor(idx if keepdim or not data.ndim else arg)
    if _tracks(input):
        node = MaxDim()
        node._name = "MaxBackward0" if largest else "MinBackward0"
        node.dim, node.keepdim = d, keepdim
        node.indices = indices
        onehot = np.zeros(data.shape, dtype=bool)
        if data.ndim:
            np.put_along_axis(onehot, idx, True, axis=d)
        else:
            onehot = np.array(True)
        node.onehot = make_tensor(onehot)
        values = _record(node, (input,), values)
    else:
        values = make_tensor(values)
    return _return_type(name)(values, indices)


def max(input: Tensor, dim=None, keepdim=False):  # noqa: A001
    return _extreme(input, dim, keepdim, True, "max")


def min(input: Tensor, dim=None, keepdim=False):  # noqa: A001
    return _extreme(input, dim, keepdim, False, "min")


class Amax(Op):
    """amax/amin over any dims: the gradient is shared evenly by the ties of each slice
    (max(dim) gives it all to the one index it returns)."""

    _name = "AmaxBackward0"
    saved_names = ("self",)

    def gradient(self, grad):
        (x,) = self.saved_tensors
        result = _expand_back(self.saved_result, self.shape, self.dims, self.keepdim)
        hits = x == result
        grad = _expand_back(grad, self.shape, self.dims, self.keepdim)
        # torch's order (grad / count) * mask, so that rounding agrees too
        return ((grad / hits.sum(self.dims, keepdim=True)) * hits,)


def amax(input, dim=(), keepdim=False) -> Tensor:
    return _amax_amin(input, dim, keepdim, "amax")


def amin(input, dim=(), keepdim=False) -> Tensor:
    return _amax_amin(input, dim, keepdim, "amin")


def _amax_amin(input, dim, keepdim: bool, name: str) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    given = _reduction_dims(dim, name)
    dims = _dims(given or None, data.ndim)  # () (the default) reduces every dim
    for i, d in enumerate(dims):
        if d in dims[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    _check_not_empty(data, given, dims, name)
    out = (np.amax if name == "amax" else np.amin)(data, axis=dims, keepdims=keepdim)
    if _tracks(input):
        node = Amax()
        node._name = "AmaxBackward0" if name == "amax" else "AminBackward0"
        node.shape, node.dims, node.keepdim = data.shape, dims, keepdim
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def _reduction_dims(dim, name: str) -> tuple:
    """``dim`` as the tuple of ints torch's argument parser makes of it (an int, a sequence)."""
    if dim is None:
        return ()
    if isinstance(dim, (_int, np.integer)) and not isinstance(dim, (_bool, np.bool_)):
        return (_int(dim),)
    if isinstance(dim, Sequence) and builtins.all(
        isinstance(d, (_int, np.integer)) and not isinstance(d, (_bool, np.bool_)) for d in dim
    ):
        return tuple(_int(d) for d in dim)
    raise TypeError(
        f"{name}(): argument 'dim' (position 2) must be tuple of ints, not {_type_name(dim)}"
    )


def _check_not_empty(data, given: tuple, dims: tuple, name: str) -> None:
    """The largest (smallest) of nothing is undefined: torch refuses, naming the dim as given."""
    if data.size:
        return
    if not given:
        raise RuntimeError(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    for d, wrapped in zip(given, dims):
        if data.ndim and data.shape[wrapped] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def argmax(input: Tensor, dim=None, keepdim=False) -> Tensor:
    return _arg_extreme(input, dim, keepdim, np.argmax)


def argmin(input: Tensor, dim=None, keepdim=False) -> Tensor:
    return _arg_extreme(input, dim, keepdim, np.argmin)


def _arg_extreme(input, dim, keepdim, fn) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(fn.__name__, input, dim) from None
    if dim is None:
        out = np.asarray(fn(data), dtype=np.int64)
        return make_tensor(out.reshape((1,) * data.ndim) if keepdim else out)
    (d,) = _dims(dim, data.ndim) or (0,)
    if not data.ndim:
        return make_tensor(np.array(0))
    return make_tensor(fn(data, axis=d, keepdims=keepdim).astype(np.int64))


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


class Cumsum(Op):
    _name = "CumsumBackward0"

    def gradient(self, grad):
        # Each input adds into every later output: sum the gradients from the end.
        return (grad.flip(self.dim).cumsum(self.dim).flip(self.dim),)


def cumsum(input: Tensor, dim=None, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("cumsum", input, dim) from None
    if dim is None:
        raise TypeError('cumsum() missing 1 required positional arguments: "dim"')
    data = _integer_to_long(data, dtype)
    (d,) = _dims(dim, data.ndim) or (0,)
    out = np.add.accumulate(data, axis=d) if data.ndim else data.copy()  # (see sum)
    if _tracks(input):
        node = Cumsum()
        node.dim = d
        return _record(node, (input,), out)
    return make_tensor(out)


def _integer_to_long(data, dtype):
    """prod, cumsum, cumprod (and sum): ``dtype`` if given, else integers and bools as int64."""
    if dtype is not None:
        return data.astype(_dtype.as_dtype(dtype).np)
    if data.dtype.kind in "biu":
        return data.astype(np.int64)
    return data


class Prod(Op):
    """prod(): ProdBackward0 of all the elements, ProdBackward1 along ``dim``."""

    _name = "ProdBackward0"
    saved_names = ("self", "result")

    def gradient(self, grad):
        (x,) = self.saved_tensors
        if x._data.ndim == 0:
            return (grad,)
        result = self.saved_result
        dim = self.dim
        if dim is not None and not self.keepdim:
            grad, result = grad.unsqueeze(dim), result.unsqueeze(dim)
        if not (x._data == 0).any():
            return (grad * (result / x),)  # the product of all the others
        # With a zero, result / x is 0 / 0 there: multiply the others out instead (torch's
        # prod_safe_zeros_backward), in tensor ops so that this is differentiable again.
        if dim is None:
            return (grad * _product_of_others(x.reshape(-1), 0).reshape(x.shape),)
        return (grad * _product_of_others(x, dim),)


def _product_of_others(x: Tensor, dim: int) -> Tensor:
    """Element k: the product of all of x along ``dim`` but x[k], as the product of an exclusive
    cumulative product from the front and one from the back (no division)."""
    shape = x._data.shape
    n = shape[dim]
    if n == 1:
        return make_tensor(np.ones(shape, dtype=x._data.dtype))
    ones = make_tensor(np.ones(shape[:dim] + (1,) + shape[dim + 1 :], dtype=x._data.dtype))
    before = cat([ones, narrow(x, dim, 0, n - 1)], dim).cumprod(dim)
    after = cat([ones, narrow(x, dim, 1, n - 1).flip(dim)], dim).cumprod(dim).flip(dim)
    return before * after


def _multiply_halves(data, axis, keepdims=False):
    """prod in float16 as torch does it: every partial product rounded to half (NumPy's reduce
    would keep them in float32 and round once: 300 * 300 * 0.001 is then 90, not inf)."""
    if axis is None:
        data, axis = data.reshape(-1), 0
    if data.shape[axis] == 0:
        return np.multiply.reduce(data, axis=axis, keepdims=keepdims)
    out = np.take(np.multiply.accumulate(data, axis=axis), [-1], axis=axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def prod(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("prod", input, dim) from None
    data = _integer_to_long(data, dtype)
    multiply = _multiply_halves if data.dtype == np.float16 else np.multiply.reduce
    if dim is None:
        out = multiply(data, axis=None)
        d = None
    else:
        if not isinstance(dim, (_int, np.integer)):  # (torch's prod takes one dim only)
            types = ", ".join(_type_name(x) for x in (input, dim))
            raise TypeError(
                f"prod() received an invalid combination of arguments - got ({types}), but "
                "expected one of:" + hint("prod() reduces along one dim at a time")
            )
        (d,) = _dims(dim, data.ndim) or (0,)
        out = multiply(data, axis=d, keepdims=keepdim) if data.ndim else data.copy()
    if _tracks(input):
        node = Prod()
        node._name = "ProdBackward0" if dim is None else "ProdBackward1"
        node.dim, node.keepdim = d, keepdim
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


class Cumprod(Op):
    _name = "CumprodBackward0"
    saved_names = ("self", "result")

    def gradient(self, grad):
        (x,) = self.saved_tensors
        d = self.dim
        if x._data.size <= 1 or x._data.shape[d] == 1:
            return (grad,)
        if not (x._data == 0).any():
            # d out[j] / d x[k] = out[j] / x[k] for j >= k: sum grad * out from the end
            w = grad * self.saved_result
            return (w.flip(d).cumsum(d).flip(d) / x,)
        return (_cumprod_backward_with_zeros(grad, x, d),)


def _cumprod_backward_with_zeros(grad: Tensor, x: Tensor, dim: int) -> Tensor:
    """The gradient of cumprod without dividing by x: d out[j] / d x[k] is the product of
    x[i] for i <= j, i != k.  Row k of an (n, n) matrix holds x with x[k] replaced by 1; its
    cumulative products are those derivatives (kept for j >= k).  A polynomial in x, so its own
    derivatives are right at the zeros too (torch's double-backward formula is one as well)."""
    xt, gt = x.transpose(dim, -1), grad.transpose(dim, -1)
    n = xt._data.shape[-1]
    others = where(make_tensor(np.eye(n, dtype=bool)), 1.0, xt.unsqueeze(-2)).cumprod(-1)
    later = make_tensor(np.triu(np.ones((n, n), dtype=bool)))  # [k, j]: j >= k
    return (where(later, others, 0.0) * gt.unsqueeze(-2)).sum(-1).transpose(dim, -1)


def cumprod(input: Tensor, dim=None, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("cumprod", input, dim) from None
    if dim is None:
        raise TypeError('cumprod() missing 1 required positional arguments: "dim"')
    data = _integer_to_long(data, dtype)
    (d,) = _dims(dim, data.ndim) or (0,)
    if not data.ndim:
        out = data.copy()
    elif data.dtype == np.float16:  # torch multiplies halves in float, rounding each output
        out = np.multiply.accumulate(data.astype(np.float32), axis=d).astype(np.float16)
    else:
        out = np.multiply.accumulate(data, axis=d)
    if _tracks(input):
        node = Cumprod()
        node.dim = d
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


class Softmax(Op):
    _name = "SoftmaxBackward0"

    def gradient(self, grad):
        y = self.saved_result
        return (y * (grad - (grad * y).sum(self.dim, keepdim=True)),)


class LogSoftmax(Op):
    _name = "LogSoftmaxBackward0"

    def gradient(self, grad):
        y = self.saved_result
        return (grad - y.exp() * grad.sum(self.dim, keepdim=True),)


def softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype, Softmax, "softmax")


def log_softmax(input: Tensor, dim=None, dtype=None) -> Tensor:
    return _softmax(input, dim, dtype, LogSoftmax, "log_softmax")


def _softmax(input, dim, dtype, cls, name) -> Tensor:
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor(name, input, dim) from None
    (d,) = _dims(dim, data.ndim) or (0,)
    if dtype is not None:
        data = data.astype(_dtype.as_dtype(dtype).np)
    elif data.dtype.kind != "f":
        kernel = f"{name}_lastdim_kernel_impl" if d >= data.ndim - 1 else f"{name}_kernel_impl"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_scalar_name(data.dtype)}'"
            + hint("softmax needs floats: call .float() first")
        )
    axis = d if data.ndim else None
    shifted = data - np.max(data, axis=axis, keepdims=True)
    if cls is Softmax:
        e = np.exp(shifted)
        out = e / np.sum(e, axis=axis, keepdims=True)
    else:
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    if _tracks(input):
        node = cls()
        node.dim = d
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def all(input: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("all", input, dim) from None
    return make_tensor(np.all(data, axis=dim, keepdims=keepdim))


def any(input: Tensor, dim=None, keepdim=False) -> Tensor:  # noqa: A001
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("any", input, dim) from None
    return make_tensor(np.any(data, axis=dim, keepdims=keepdim))


def equal(a: Tensor, b: Tensor) -> bool:
    return a.shape == b.shape and _bool(np.array_equal(a._data, b._data))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return _bool(np.allclose(_as_tensor(a)._data, _as_tensor(b)._data, rtol, atol, equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> Tensor:
    return make_tensor(np.isclose(_as_tensor(a)._data, _as_tensor(b)._data, rtol, atol, equal_nan))


def isnan(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("isnan", input) from None
    return make_tensor(np.isnan(data))


def isinf(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("isinf", input) from None
    return make_tensor(np.isinf(data))


def isfinite(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("isfinite", input) from None
    return make_tensor(np.isfinite(data))


def count_nonzero(input: Tensor, dim=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("count_nonzero", input, dim) from None
    return make_tensor(np.asarray(np.count_nonzero(data, axis=dim), dtype=np.int64))


# ============================================================================================
# Shapes and views (results share memory with their input, as in torch)
# ============================================================================================


class Reshape(Op):
    _name = "ViewBackward0"

    def gradient(self, grad):
        return (grad.reshape(self.shape),)


def _infer_shape(shape, numel: int) -> tuple:
    shape = _shape_arg(shape)
    if -1 not in shape and math.prod(shape) == numel:  # the common case, checked once
        return shape
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = shape[0]
    return tuple(map(_int, shape))


def reshape(input: Tensor, *shape) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("reshape", input, shape) from None
    new = _infer_shape(shape, data.size)
    if not _tracks(input):  # no node to name: NumPy views when the memory allows, else copies
        out = data.reshape(new)
        # A C-contiguous array always reshapes to a view; only other layouts need the check.
        if data.__class__ is np.ndarray and data.flags.c_contiguous:
            return _view(out, input, None)
        return _view(out, input, None) if np.may_share_memory(out, data) else make_tensor(out)
    if new == data.shape:
        return view(input, new)
    array = np.asarray(data)
    if array.flags.c_contiguous:
        return view(input, new)
    # Not viewable: torch copies (CloneBackward0) and views the copy (UnsafeViewBackward0).
    copy = clone(input, contiguous=True)
    out = copy._data.reshape(new)
    if _tracks(copy):
        node = Reshape()
        node._name = "UnsafeViewBackward0"
        node.shape = data.shape
        return _record(node, (copy,), out)
    return make_tensor(out)


def view(input: Tensor, *shape) -> Tensor:
    if len(shape) == 1 and isinstance(shape[0], _dtype.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype)")
    data = input._data
    new = _infer_shape(shape, data.size)
    out = np.asarray(data).view()
    try:
        out.shape = new  # refuses instead of copying, exactly when torch's view refuses
    except AttributeError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
            + hint("transpose/permute made the memory non-contiguous; .reshape() copies if needed")
        ) from None
    node = None
    if _tracks(input):
        node = Reshape()
        node.shape = data.shape
    return _view(out, input, node)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other.shape)


def flatten(input: Tensor, start_dim=0, end_dim=-1) -> Tensor:
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("flatten", input, start_dim, end_dim) from None
    if ndim == 0:
        return reshape(input, 1)
    start, end = _dims((start_dim, end_dim), ndim)
    if start == end:
        return input
    shape = input._data.shape
    new = shape[:start] + (-1,) + shape[end + 1 :]
    return reshape(input, new)


def ravel(input: Tensor) -> Tensor:
    return reshape(input, -1)


class Transpose(Op):
    _name = "TransposeBackward0"

    def gradient(self, grad):
        return (grad.transpose(self.dim0, self.dim1),)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("transpose", input, dim0, dim1) from None
    d0, d1 = _dims((dim0, dim1), data.ndim) or (0, 0)
    out = np.swapaxes(data, d0, d1) if data.ndim else data
    node = None
    if _tracks(input):
        node = Transpose()
        node.dim0, node.dim1 = d0, d1
    return _view(out, input, node)


swapaxes = swapdims = transpose


class T(Op):
    _name = "TBackward0"

    def gradient(self, grad):
        return (grad.t(),)


def t(input: Tensor) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("t", input) from None
    if data.ndim > 2:
        raise RuntimeError(
            f"t() expects a tensor with <= 2 dimensions, but self is {data.ndim}D"
            + hint("use .transpose(dim0, dim1) or .permute(...) for more dimensions")
        )
    return _view(data.T, input, T() if _tracks(input) else None)


class Permute(Op):
    _name = "PermuteBackward0"

    def gradient(self, grad):
        return (grad.permute(tuple(np.argsort(self.dims))),)


def permute(input: Tensor, *dims) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("permute", input, dims) from None
    dims = _dims(_shape_arg(dims), data.ndim)
    if sorted(dims) != list(range(data.ndim)):
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = "  # noqa: E501
            f"{data.ndim} is not equal to len(dims) = {len(dims)}"
        )
    node = None
    if _tracks(input):
        node = Permute()
        node.dims = dims
    return _view(np.transpose(data, dims), input, node)


T_ON_0D = "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
T_ON_ND = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
    "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
    "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
    "tensor."
)


def numpy_T(input: Tensor) -> Tensor:  # noqa: N802 - torch's name for .T
    ndim = input._data.ndim
    if ndim != 2:  # torch deprecates .T on anything but a matrix (vectors included)
        warnings.warn(T_ON_0D if ndim == 0 else T_ON_ND, UserWarning, stacklevel=2)
    return permute(input, *reversed(range(ndim)))


def mT(input: Tensor) -> Tensor:  # noqa: N802
    return transpose(input, -2, -1)


class Squeeze(Op):
    _name = "SqueezeBackward0"

    def gradient(self, grad):
        return (grad.reshape(self.shape),)


def squeeze(input: Tensor, dim=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("squeeze", input, dim) from None
    shape = data.shape
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    elif dim.__class__ is _int and 0 <= dim < len(shape):  # squeeze(d), the common call
        dims = (dim,) if shape[dim] == 1 else ()
    else:
        dims = tuple(d for d in _dims(dim, data.ndim) if shape[d] == 1)
    out = data.squeeze(axis=dims) if dims else data.view() if data.ndim else data
    node = None
    if _tracks(input):
        node = Squeeze()
        node._name = (
            "SqueezeBackward0"
            if dim is None
            else "SqueezeBackward1"
            if isinstance(dim, (_int, np.integer))
            else "SqueezeBackward2"
        )
        node.shape = shape
    return _view(out, input, node)


class Unsqueeze(Op):
    _name = "UnsqueezeBackward0"

    def gradient(self, grad):
        return (grad.squeeze(self.dim),)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("unsqueeze", input, dim) from None
    rank = data.ndim + 1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got "
            f"{dim})"
        )
    d = dim % rank
    node = None
    if _tracks(input):
        node = Unsqueeze()
        node.dim = d
    shape = data.shape
    return _view(data.reshape(shape[:d] + (1,) + shape[d:]), input, node)  # always a view


class Expand(Op):
    _name = "ExpandBackward0"

    def gradient(self, grad):
        return (grad.sum_to_size(self.shape),)


def expand(input: Tensor, *sizes) -> Tensor:
    data = input._data
    sizes = _shape_arg(sizes)
    lead = len(sizes) - data.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand(torch.{_dtype_of(input).legacy_name}{{{list(data.shape)}}}, size={list(sizes)}): "
            "the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor "
            f"({data.ndim})"
        )
    out = _broadcast_view(data, _expanded_shape(data.shape, sizes))
    node = None
    if _tracks(input):
        node = Expand()
        node.shape = data.shape
    return _view(out, input, node)


def _broadcast_view(data, shape):
    """``np.broadcast_to`` (a read-only view, stride 0 on repeated dims), without its 3 us of
    Python overhead in the common case of contiguous data."""
    array = data if isinstance(data, np.ndarray) else np.array(data)
    if not array.flags.c_contiguous:
        return np.broadcast_to(array, shape)
    lead = len(shape) - array.ndim
    strides = [0] * lead + [
        0 if own == 1 and size != 1 else stride
        for own, size, stride in zip(array.shape, shape[lead:], array.strides)
    ]
    out = np.ndarray(shape, array.dtype, array, 0, tuple(strides))
    out.flags.writeable = False
    return out


def _expanded_shape(shape, sizes) -> tuple:
    """The shape ``expand(sizes)`` gives (-1 keeps a size), with torch's error if it can't."""
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        own = shape[i - lead] if i >= lead else 1
        if s == -1:
            s = own
        elif own != 1 and own != s:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({own}) at "
                f"non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                f"{list(shape)}"
            )
        target.append(s)
    return tuple(target)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other.shape)


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, shape)


def sum_to_size(input: Tensor, *shape) -> Tensor:
    """Sum a broadcast gradient back down to ``shape`` (what expand's backward needs)."""
    shape = _shape_arg(shape)
    data_shape = input._data.shape
    lead = len(data_shape) - len(shape)
    dims = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and data_shape[lead + i] != 1
    )
    if not dims:
        return input
    out = sum(input, dims, keepdim=True)
    return out.reshape(shape) if lead else out


class Flip(Op):
    _name = "FlipBackward0"

    def gradient(self, grad):
        return (grad.flip(self.dims),)


def flip(input: Tensor, dims) -> Tensor:
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("flip", input, dims) from None
    dims = _dims(dims, ndim)
    out = np.flip(input._data, axis=dims).copy() if dims else input._data.copy()
    if _tracks(input):
        node = Flip()
        node.dims = dims
        return _record(node, (input,), out)
    return make_tensor(out)


class Clone(Op):
    _name = "CloneBackward0"

    def gradient(self, grad):
        return (grad,)


def clone(input: Tensor, *, memory_format=None, contiguous=False) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("clone", input) from None
    out = np.array(data, copy=True, order="C" if contiguous else "K")
    if input._data.ndim == 0:
        out = input._data.copy() if isinstance(input._data, np.ndarray) else input._data
    if _tracks(input):
        return _record(Clone(), (input,), out)
    return make_tensor(out)


def contiguous(input: Tensor, memory_format=None) -> Tensor:
    if np.asarray(input._data).flags.c_contiguous:
        return input
    return clone(input, contiguous=True)


class ToCopy(Op):
    _name = "ToCopyBackward0"

    def gradient(self, grad):
        return (grad.to(self.source),)


def to_dtype(input: Tensor, dtype: _dtype.dtype) -> Tensor:
    out = input._data.astype(dtype.np)
    if _tracks(input) and dtype.category == _dtype.FLOATING:
        node = ToCopy()
        node.source = _dtype_of(input)
        return _record(node, (input,), out)
    return make_tensor(out)


# ============================================================================================
# Indexing
# ============================================================================================


class Select(Op):
    """``x[i]``, ``x[a:b]``, ``x[idx]``: the gradient lands in a zero tensor at those places."""

    _name = "SelectBackward0"

    def gradient(self, grad):
        return (_embed(grad, self.shape, self.key, self._name),)


class Embed(Op):
    """Zeros with ``grad`` placed at ``key``: the backward of indexing, itself differentiable."""

    def gradient(self, grad):
        return (_take(grad, self.key, self.source_name),)


def _embed(grad: Tensor, shape, key, source_name) -> Tensor:
    out = np.zeros(shape, dtype=grad._data.dtype)
    if _is_advanced(key):
        np.add.at(out, key, grad._data)  # repeated indices add up
    else:
        out[key] = grad._data
    if _tracks(grad):
        node = Embed()
        node._name = source_name.replace("Backward0", "BackwardBackward0")
        node.key, node.source_name = key, source_name
        return _record(node, (grad,), out)
    return make_tensor(out)


def _take(input: Tensor, key, name: str) -> Tensor:
    data = input._data
    out = data[key]
    node = None
    if _tracks(input):
        node = Select()
        node._name, node.shape, node.key = name, data.shape, key
    if _is_advanced(key):
        return _record(node, (input,), out) if node is not None else make_tensor(out)
    return _view(out, input, node)


def _is_advanced(key) -> bool:
    if isinstance(key, tuple):
        for k in key:
            if isinstance(k, (np.ndarray, list)):
                return True
        return False
    return isinstance(key, (np.ndarray, list))


def _index_item(k):
    """Turn one index of a torch key into NumPy's, refusing what torch refuses."""
    if isinstance(k, Tensor):
        data = k._data
        if data.ndim == 0 and data.dtype.kind in "iu":
            return _int(data)  # torch indexes with a 0-d integer tensor as with an int
        if data.dtype.kind == "b" or data.dtype.kind in "iu":
            return np.asarray(data)
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(k, (list, tuple)):
        return np.asarray([_index_item(i) if isinstance(i, Tensor) else i for i in k])
    if isinstance(k, np.ndarray):
        return k
    if k is None or k is Ellipsis or isinstance(k, (slice, _int, np.integer)):
        return k
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid "
        f"indices (got {type(k).__name__})"
    )


def index(input: Tensor, key) -> Tensor:
    """``input[key]`` with torch's node names: SelectBackward0, SliceBackward0, IndexBackward0."""
    data = input._data
    if key.__class__ is _int and data.ndim:  # x[i], the most common index: straight to select
        _check_int(key, 0, data.shape)
        out = data[key, ...]  # the Ellipsis keeps a 0-d result a view, as torch's is
        if not _tracks(input):
            return _view(out, input, None)
        node = Select()
        node._name, node.shape, node.key = "SelectBackward0", data.shape, (key, Ellipsis)
        return _view(out, input, node)
    items = key if isinstance(key, tuple) else (key,)
    items = tuple(_index_item(k) for k in items)
    if data.ndim == 0 and builtins.any(isinstance(k, (_int, np.integer)) for k in items):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
            "in C++ to convert a 0-dim tensor to a number"
        )
    if builtins.any(isinstance(k, np.ndarray) for k in items):
        _check_bounds(items, data.shape)
        try:
            return _take(input, items if len(items) > 1 else items[0], "IndexBackward0")
        except IndexError as e:  # NumPy's "axis" is torch's "dimension"
            raise IndexError(str(e).replace(" for axis ", " for dimension ")) from None
    return _basic_index(input, items, single_slice=not isinstance(key, tuple))


def _check_bounds(items, shape) -> None:
    dim = 0
    for k in items:
        if k is None:
            continue
        if k is Ellipsis:
            dim = len(shape) - builtins.sum(1 for i in items if i is not None and i is not Ellipsis)
            dim += builtins.sum(1 for i in items[: items.index(k)] if i is not None)
            continue
        if isinstance(k, (_int, np.integer)):
            _check_int(k, dim, shape)
        dim += k.ndim if isinstance(k, np.ndarray) and k.dtype == bool else 1


def _check_int(k, dim, shape) -> None:
    if dim < len(shape) and not -shape[dim] <= k < shape[dim]:
        raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {shape[dim]}")


def _basic_index(input: Tensor, items, single_slice: bool) -> Tensor:
    """Apply ints, slices, None and ``...`` one at a time, as torch does (one node each)."""
    ndim = input._data.ndim
    used = builtins.sum(1 for k in items if k is not None and k is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    result, dim = input, 0
    for k in items:
        if k is Ellipsis:
            dim += ndim - used
        elif k is None:
            result = unsqueeze(result, dim)
            dim += 1
        elif isinstance(k, slice):
            full = k == slice(None)
            if not full or single_slice:
                result = _slice(result, dim, k)
            dim += 1
        else:
            result = select(result, dim, k)
    return result


def select(input: Tensor, dim: int, index: int) -> Tensor:
    try:
        shape = input._data.shape
    except AttributeError:
        raise _not_tensor("select", input, dim, index) from None
    (d,) = _dims(dim, len(shape))
    _check_int(index, d, shape)
    key = (slice(None),) * d + (_int(index), Ellipsis)
    return _take(input, key, "SelectBackward0")


def _slice(input: Tensor, dim: int, s: slice) -> Tensor:
    if s.step is not None and s.step <= 0:
        raise ValueError("step must be greater than zero")
    key = (slice(None),) * dim + (s, Ellipsis)
    return _take(input, key, "SliceBackward0")


def narrow(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("narrow", input, dim, start, length) from None
    (d,) = _dims(dim, ndim)
    return _slice(input, d, slice(start, start + length))


class Unbind(Op):
    _name = "UnbindBackward0"

    def materialize(self, grads):
        return [g if g is not None else _zeros(self.piece_shape, self.dtype) for g in grads]

    def gradient(self, grads):
        return (stack(grads, self.dim),)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("unbind", input, dim) from None
    (d,) = _dims(dim, data.ndim)
    pieces = [data[(slice(None),) * d + (i, Ellipsis)] for i in range(data.shape[d])]
    if not _tracks(input):
        return tuple(_view(p, input, None) for p in pieces)
    node = Unbind()
    node.num_outputs = len(pieces)
    node.dim, node.dtype = d, data.dtype
    node.piece_shape = data.shape[:d] + data.shape[d + 1 :]
    outs = []
    for i, p in enumerate(pieces):
        t = _view(p, input, node)
        t._output_nr = i
        outs.append(t)
    return tuple(outs)


def _zeros(shape, np_dtype) -> Tensor:
    return make_tensor(np.zeros(shape, dtype=np_dtype))


class CopySlices(Op):
    """``x[key] = value`` on a tensor in the graph."""

    _name = "torch::autograd::CopySlices"

    def gradient(self, grad):
        key = self.key
        grad_self = _embed_zero(grad, key)
        grad_value = None
        if self._next[1] is not None:
            grad_value = _take(
                grad, key, "IndexBackward0" if _is_advanced(key) else "SliceBackward0"
            )
        return grad_self, grad_value


class _ZeroAt(Op):
    _name = "IndexPutBackward0"

    def gradient(self, grad):
        return (_embed_zero(grad, self.key),)


def _embed_zero(grad: Tensor, key) -> Tensor:
    out = np.array(grad._data, copy=True)
    out[key] = 0
    if _tracks(grad):
        node = _ZeroAt()
        node.key = key
        return _record(node, (grad,), out)
    return make_tensor(out)


def _selects_everything(items, shape) -> bool:
    """A key of only ``...`` and full slices (``x[:]``, ``x[..., 0:n]``): no view at all."""
    if builtins.any(not isinstance(k, slice) and k is not Ellipsis for k in items):
        return False
    if builtins.sum(1 for k in items if k is Ellipsis) > 1 or len(items) > len(shape) + 1:
        return False
    split = items.index(Ellipsis) if Ellipsis in items else len(items)
    dims = list(range(split)) + list(range(len(shape) - len(items) + split + 1, len(shape)))
    slices = [k for k in items if k is not Ellipsis]
    return builtins.all(k.indices(shape[d]) == (0, shape[d], 1) for k, d in zip(slices, dims))


def setitem(target: Tensor, key, value) -> None:
    """``target[key] = value``: an in-place write, recorded as CopySlices when in the graph."""
    items = key if isinstance(key, tuple) else (key,)
    if _selects_everything(items, target._data.shape):
        # torch writes into the tensor itself: fill_ for a number or 0-d tensor, else copy_.
        if isinstance(value, Tensor) and value._data.ndim:
            copy_(target, value)
        else:
            fill_(target, value if isinstance(value, Tensor) else _as_tensor(value))
        return
    np_key = tuple(_index_item(k) for k in items)
    np_key = np_key if len(np_key) > 1 else np_key[0]
    advanced = _is_advanced(np_key)
    if not advanced and _GradMode.enabled and target._requires_grad and target._grad_fn is None:
        # torch writes through the view x[key], so it names the view in its error.
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
            + hint("update parameters inside `with torch.no_grad():`")
        )
    target._check_inplace()
    data = target._writable()
    value_data = value._data if isinstance(value, Tensor) else value
    if isinstance(np_key, (_int, np.integer)) and data.ndim:
        _check_int(np_key, 0, data.shape)
    _check_assignable(data, np_key, np.shape(value_data), advanced)
    tracked = _GradMode.enabled and (
        target._requires_grad or (isinstance(value, Tensor) and value._requires_grad)
    )
    if tracked:
        node = CopySlices()
        if advanced:
            node._name = "IndexPutBackward0"  # torch's index_put_ for integer and mask keys
        node.key = np_key
        value_t = _as_tensor(value) if not isinstance(value, Tensor) else value
        edges_from = _record(node, (target, value_t), data)  # edges to the old history
        data[np_key] = value_data
        version_cell(target)[0] += 1
        target._rebase(edges_from._grad_fn)
        return
    data[np_key] = value_data
    version_cell(target)[0] += 1


# ============================================================================================
# Joining
# ============================================================================================


class Cat(Op):
    _name = "CatBackward0"

    def gradient(self, grad):
        grads, start = [], 0
        for size in self.sizes:
            grads.append(narrow(grad, self.dim, start, size) if size else None)
            start += size
        return tuple(grads)


def cat(tensors, dim: int = 0) -> Tensor:
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    dt = _dtype.result_type(*tensors)
    ref = next((t for t in tensors if t._data.shape != (0,)), tensors[0])
    (d,) = _dims(dim, ref._data.ndim)
    parts = [t for t in tensors if t._data.shape != (0,)] or tensors
    for i, t in enumerate(parts):
        if t._data.ndim != ref._data.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._data.ndim} and "
                f"{t._data.ndim}"
            )
        for axis, (a, b) in enumerate(zip(ref._data.shape, t._data.shape)):
            if axis != d and a != b:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {a} but "
                    f"got size {b} for tensor number {i} in the list."
                )
    out = np.concatenate([_cast(t, dt) for t in parts], axis=d)
    if _tracks(*tensors):
        node = Cat()
        node.dim = d
        node.sizes = [t._data.shape[d] if t._data.shape != (0,) else 0 for t in tensors]
        return _record(node, tensors, out)
    return make_tensor(out)


concat = concatenate = cat


class Stack(Op):
    _name = "StackBackward0"

    def gradient(self, grad):
        return tuple(select(grad, self.dim, i) for i in range(self.count))


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = tensors[0]._data.shape
    for i, t in enumerate(tensors):
        if t._data.shape != first:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first)} at entry 0 "
                f"and {list(t._data.shape)} at entry {i}"
            )
    rank = len(first) + 1
    if not -rank <= dim < rank:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got "
            f"{dim})"
        )
    dt = _dtype.result_type(*tensors)
    out = np.stack([_cast(t, dt) for t in tensors], axis=dim % rank)
    if _tracks(*tensors):
        node = Stack()
        node.dim, node.count = dim % rank, len(tensors)
        return _record(node, tensors, out)
    return make_tensor(out)


# ============================================================================================
# Matrix products
# ============================================================================================


# torch does not promote in matrix products, and each of its kernels words the refusal its own way.
_DTYPE_MISMATCH = {
    "mm": "expected m1 and m2 to have the same dtype, but got: {a_c} != {b_c}",
    "mv": "addmv input tensors must have the same dtype, but got {b}, {a}, and {b}",
    "dot": "dot : expected both vectors to have same dtype, but found {a} and {b}",
    "bmm": "expected scalar type {a} but found {b}",
}


def _same_dtype(a: Tensor, b: Tensor, kernel="mm") -> None:
    if a._data.dtype != b._data.dtype:
        a_name, b_name = _scalar_name(a._data.dtype), _scalar_name(b._data.dtype)
        raise RuntimeError(
            _DTYPE_MISMATCH[kernel].format(a_c=_c_type(a), b_c=_c_type(b), a=a_name, b=b_name)
            + hint(
                f"torch does not promote in matrix products: convert one side, e.g. "
                f"a.to(b.dtype) ({a.dtype} vs {b.dtype})"
            )
        )


def _c_type(t: Tensor) -> str:
    return _dtype_of(t).cpp_name


class Mm(Op):
    _name = "MmBackward0"
    saved_names = ("self", "mat2")

    def gradient(self, grad):
        a, b = self.saved_tensors
        ga = mm(grad, b.t()) if self._next[0] is not None else None
        gb = mm(a.t(), grad) if self._next[1] is not None else None
        return ga, gb


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    a, b = input, mat2
    if a._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._data.dtype is not b._data.dtype:
        _same_dtype(a, b)
    (n, k), (k2, m) = a._data.shape, b._data.shape
    if k != k2:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})"
            + hint("for A @ B the columns of A must equal the rows of B; transpose one side?")
        )
    out = np.matmul(a._data, b._data)
    if _tracks(a, b):
        node = Mm()
        node.save(a, b)
        return _record(node, (a, b), out)
    return make_tensor(out)


class Mv(Op):
    _name = "MvBackward0"
    saved_names = ("self", "vec")

    def gradient(self, grad):
        mat, vec = self.saved_tensors
        gm = outer(grad, vec) if self._next[0] is not None else None
        gv = mv(mat.t(), grad) if self._next[1] is not None else None
        return gm, gv


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}"
        )
    _same_dtype(input, vec, "mv")
    n, k = input._data.shape
    if vec._data.shape[0] != k:
        raise RuntimeError(
            f"size mismatch, got input ({n}), mat ({n}x{k}), vec ({vec._data.shape[0]})"
        )
    out = np.matmul(input._data, vec._data)
    if _tracks(input, vec):
        node = Mv()
        node.save(input, vec)
        return _record(node, (input, vec), out)
    return make_tensor(out)


class Dot(Op):
    _name = "DotBackward0"
    saved_names = ("self", "tensor")

    def gradient(self, grad):
        a, b = self.saved_tensors
        return grad * b, grad * a


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors"
        )
    _same_dtype(input, other, "dot")
    n, m = input._data.shape[0], other._data.shape[0]
    if n != m:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
            f"number of elements, but got {n} and {m} elements respectively"
        )
    out = np.dot(input._data, other._data)
    if _tracks(input, other):
        node = Dot()
        node.save(input, other)
        return _record(node, (input, other), out)
    return make_tensor(out)


inner = vdot = dot


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """torch computes the outer product as ``input.reshape(-1, 1) * vec2``."""
    return mul(reshape(input, -1, 1), vec2)


ger = outer


class MatmulND(Op):
    """Batched matmul (3 or more dims); torch shows its last node, UnsafeViewBackward0."""

    _name = "UnsafeViewBackward0"
    saved_names = ("self", "other")

    def gradient(self, grad):
        a, b = self.saved_tensors
        # A vector takes part as a matrix: a row (1 x n) on the left, a column (n x 1) on the
        # right; its gradient drops that dimension again (the engine sums the batch dims away).
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        if a_vector:
            a, grad = a.unsqueeze(0), grad.unsqueeze(-2)
        if b_vector:
            b, grad = b.unsqueeze(-1), grad.unsqueeze(-1)
        ga = gb = None
        if self._next[0] is not None:
            ga = matmul(grad, b.mT)
            ga = ga.squeeze(-2) if a_vector else ga
        if self._next[1] is not None:
            gb = matmul(a.mT, grad)
            gb = gb.squeeze(-1) if b_vector else gb
        return ga, gb


class _SqueezeMatmul(Squeeze):
    _name = "SqueezeBackward4"


def matmul(input: Tensor, other: Tensor) -> Tensor:
    a, b = _as_tensor(input), _as_tensor(other)
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D"
        )
    if na == 1 and nb == 1:
        return dot(a, b)
    if na == 2 and nb == 2:
        return mm(a, b)
    if na == 2 and nb == 1:
        return mv(a, b)
    if na == 1 and nb == 2:
        out = mm(unsqueeze(a, 0), b)
        if out._grad_fn is None:
            return squeeze(out, 0)
        node = _SqueezeMatmul()
        node.shape = out._data.shape
        return _view(out._data[0], out, node)
    fold = _matmul_fold(a, b)
    if fold == "left":
        _same_dtype(a, b, "mv" if nb == 1 else "mm")
    elif fold == "right":
        _same_dtype(b, a, "mv" if na == 1 else "mm")  # computed as (b^T @ a^T)^T
    else:
        _same_dtype(a, b, "bmm")
    try:
        out = np.matmul(a._data, b._data)
    except ValueError:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: "
            f"{list(a.shape[:-1])} but got: {list(b.shape)}."
        ) from None
    if _tracks(a, b):
        node = MatmulND()
        if fold == "right" and na >= 2:  # torch made (b^T @ a^T)^T contiguous: a copy
            node._name = "CloneBackward0"
        node.save(a, b)
        return _record(node, (a, b), out)
    return make_tensor(out)


def _matmul_fold(a: Tensor, b: Tensor):
    """How torch computes a batched product, which shows in its dtype errors and last node.

    "left": a's batch is folded into the rows of one mm/mv; "right": the batch is on b's side
    and torch computes (b^T @ a^T)^T with one mm/mv, but only when a (a vector or a single
    matrix) requires grad; None: one bmm over the batch.  (torch's should_fold, as of 2.13.)
    """
    sa, sb = a._data.shape, b._data.shape
    if len(sa) >= 3 and len(sb) <= 2:
        return "left"
    single = len(sa) <= 2 or (len(sa) == 3 == len(sb) and sa[0] == 1 and sb[0] > 1)
    if len(sb) >= 3 and single and a._requires_grad:
        return "right"
    return None


bmm = matmul


# ============================================================================================
# In-place variants: compute out of place, then write into the tensor's own memory
# ============================================================================================


def _inplace(fn):
    def method(self, *args, **kwargs):
        self._check_inplace()
        return self._assign(fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return method


class Zero(Op):
    _name = "ZeroBackward0"

    def gradient(self, grad):
        return (grad * 0,)


class Fill(Op):
    """``fill_(number)``: the old values are gone, so they get no gradient."""

    _name = "FillBackward2"

    def gradient(self, grad):
        return (grad * 0,)


class FillTensor(Op):
    """``fill_(0-d tensor)``: every element is the value, which collects all the gradient."""

    _name = "FillBackward3"

    def gradient(self, grad):
        return grad * 0, grad.sum()


def _constant_like(cls, self: Tensor, value) -> Tensor:
    out = np.full(self._data.shape, value, dtype=self._data.dtype)
    if _tracks(self):
        return _record(cls(), (self,), out)
    return make_tensor(out)


def zero_(self: Tensor) -> Tensor:
    self._check_inplace()
    return self._assign(_constant_like(Zero, self, 0))


def fill_(self: Tensor, value) -> Tensor:
    self._check_inplace()
    if not isinstance(value, Tensor):
        return self._assign(_constant_like(Fill, self, value))
    if value._data.ndim:
        raise RuntimeError(
            "fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value._data.ndim} dimensions."
        )
    out = np.full(self._data.shape, value._data, dtype=self._data.dtype)
    if _tracks(self, value):
        return self._assign(_record(FillTensor(), (self, value), out))
    return self._assign(make_tensor(out))


class Copy(Op):
    _name = "torch::autograd::CopyBackwards"

    def gradient(self, grad):
        return grad * 0, grad


def _check_assignable(data, key, value_shape, advanced: bool) -> None:
    """``data[key] = value`` must broadcast ``value`` into the selected region (torch's errors)."""
    region = np.shape(data[key])
    shape = tuple(value_shape)
    while len(shape) > len(region) and shape[0] == 1:  # torch drops leading 1s of the value
        shape = shape[1:]
    if advanced or len(shape) > len(region):
        try:
            np.broadcast_shapes(shape, region)
            if len(shape) <= len(region):
                return
        except ValueError:
            pass
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value_shape)} cannot be broadcast "
            f"to indexing result of shape {list(region)}"
        )
    _expanded_shape(shape, region)


def copy_(self: Tensor, src, non_blocking=False) -> Tensor:
    """Copy ``src`` into this tensor (broadcasting and casting to this tensor's dtype)."""
    self._check_inplace()
    src = _as_tensor(src)
    data = self._writable()
    try:
        out = np.broadcast_to(src._data, data.shape).astype(data.dtype)
    except ValueError:
        try:  # the shapes broadcast, but to something larger than this tensor
            bigger = np.broadcast_shapes(data.shape, src._data.shape)
        except ValueError:
            raise _broadcast_error(self, src) from None
        raise RuntimeError(
            f"output with shape {list(data.shape)} doesn't match the broadcast shape {list(bigger)}"
        ) from None
    np.copyto(data, out)
    version_cell(self)[0] += 1
    if _tracks(self, src):
        self._rebase(_record(Copy(), (self, src), data)._grad_fn)
    self._rebase_base()
    return self


def t_(self: Tensor) -> Tensor:
    self._check_inplace()
    if self._data.ndim > 2:
        raise RuntimeError(
            f"t_() expects a tensor with <= 2 dimensions, but self is {self._data.ndim}D"
        )
    result = t(self)
    if result._grad_fn is not None:
        result._grad_fn._name = "TBackward1"  # torch's name for the in-place t_
    self._data = result._data
    version_cell(self)[0] += 1
    self._rebase(result._grad_fn)
    return self


def transpose_(self: Tensor, dim0: int, dim1: int) -> Tensor:
    self._check_inplace()
    result = transpose(self, dim0, dim1)
    self._data = result._data
    version_cell(self)[0] += 1
    self._rebase(result._grad_fn)
    return self


def clamp_(self, min=None, max=None):  # noqa: A002
    self._check_inplace()
    return self._assign(clamp(self, min, max))


# ============================================================================================
# Diagonals and the trace
# ============================================================================================


def _int_arg(value, function: str, name: str, position: int) -> int:
    """An int argument, refused like torch's argument parser refuses a float or a string."""
    if isinstance(value, (_int, np.integer)) and not isinstance(value, (_bool, np.bool_)):
        return _int(value)
    raise TypeError(
        f"{function}(): argument '{name}' (position {position}) must be int, not "
        f"{_type_name(value)}"
    )


def _diagonal_dims(ndim: int, dim1, dim2) -> tuple:
    d1, d2 = _dims((dim1, dim2), ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _diagonal_view(data: np.ndarray, offset: int, d1: int, d2: int) -> np.ndarray:
    """NumPy's diagonal, a view; writable (as torch's is) when its base is."""
    out = np.diagonal(data, offset, d1, d2)
    if data.flags.writeable:
        out.flags.writeable = True
    return out


class Diagonal(Op):
    """``diagonal(input, offset, dim1, dim2)``: the gradient goes back onto the same diagonal of
    zeros (``torch.diag`` of a matrix is the copy, DiagonalBackward0_copy)."""

    _name = "DiagonalBackward0"

    def gradient(self, grad):
        return (_diagonal_embed(grad, self.shape, self.offset, self.dim1, self.dim2),)


class DiagonalEmbed(Op):
    """Zeros with ``grad`` on a diagonal: the backward of diagonal, itself differentiable."""

    _name = "DiagonalBackwardBackward0"

    def gradient(self, grad):
        return (diagonal(grad, self.offset, self.dim1, self.dim2),)


def _diagonal_embed(grad: Tensor, shape, offset: int, d1: int, d2: int) -> Tensor:
    out = np.zeros(shape, dtype=grad._data.dtype)
    _diagonal_view(out, offset, d1, d2)[...] = grad._data
    if _tracks(grad):
        node = DiagonalEmbed()
        node.offset, node.dim1, node.dim2 = offset, d1, d2
        return _record(node, (grad,), out)
    return make_tensor(out)


def diagonal(input: Tensor, offset=0, dim1=0, dim2=1) -> Tensor:
    """The diagonal ``offset`` of the matrices in dims ``dim1``, ``dim2``, as a view; it becomes
    the last dimension."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("diagonal", input) from None
    offset = _int_arg(offset, "diagonal", "offset", 2)
    d1, d2 = _diagonal_dims(data.ndim, dim1, dim2)
    out = _diagonal_view(np.asarray(data), offset, d1, d2)
    node = None
    if _tracks(input):
        node = Diagonal()
        node.shape, node.offset, node.dim1, node.dim2 = data.shape, offset, d1, d2
    return _view(out, input, node)


class DiagEmbed(Op):
    """``diag`` of a vector: the gradient is the matrix's diagonal."""

    _name = "DiagEmbedBackward0"

    def gradient(self, grad):
        return (diagonal(grad, self.offset),)


def diag(input: Tensor, diagonal=0) -> Tensor:  # noqa: A002 - torch's argument name
    """A vector becomes a matrix with it on diagonal ``diagonal``; a matrix gives (a copy of)
    that diagonal."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("diag", input) from None
    offset = _int_arg(diagonal, "diag", "diagonal", 2)
    if data.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {data.ndim}D")
    if data.ndim == 2:
        out = np.diagonal(data, offset).copy()
        if _tracks(input):
            node = Diagonal()
            node._name = "DiagonalBackward0_copy"
            node.shape, node.offset, node.dim1, node.dim2 = data.shape, offset, 0, 1
            return _record(node, (input,), out)
        return make_tensor(out)
    out = np.diag(data, offset)
    if _tracks(input):
        node = DiagEmbed()
        node.offset = offset
        return _record(node, (input,), out)
    return make_tensor(out)


class Trace(Op):
    _name = "TraceBackward0"

    def gradient(self, grad):
        n, m = self.shape
        return (grad * make_tensor(np.eye(n, m, dtype=grad._data.dtype)),)


def trace(input: Tensor) -> Tensor:
    """The sum of the main diagonal of a matrix (integers sum in int64, as torch's sum)."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("trace", input) from None
    if data.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {data.ndim}")
    if data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    out = np.trace(_integer_to_long(data, None))
    if _tracks(input):
        node = Trace()
        node.shape = data.shape
        return _record(node, (input,), out)
    return make_tensor(out)


def broadcast_shapes(*shapes) -> Size:
    """The shape tensors of all these shapes broadcast to (torch's rules and messages)."""
    shapes = [(s,) if isinstance(s, _int) else s for s in shapes if s is not None]
    for shape in shapes:
        if not isinstance(shape, Sequence):
            raise RuntimeError(
                "Input shapes should be of type ints, a tuple of ints, or a list of ints, got "
                f"{shape}"
            )
    common = [1] * builtins.max((len(s) for s in shapes), default=0)
    for i, shape in enumerate(shapes):
        for d in range(-1, -1 - len(shape), -1):
            if shape[d] == common[d]:
                continue
            if common[d] == 1:
                if shape[d] < 0:
                    raise ValueError("Attempting to broadcast a dimension with negative length!")
                common[d] = shape[d]
            elif shape[d] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {shape[d]} at {d}! Mismatching "
                    f"argument at index {i} had {shape}; but expected shape should be "
                    f"broadcastable to {common}"
                    + hint("two sizes broadcast when they are equal or one of them is 1")
                )
    return Size(common)


# ============================================================================================
# Linear algebra: torch.linalg's solve, inv, det, svd, svdvals and the norms
#
# NumPy's LAPACK computes; the gradients are torch's formulas in the library's own ops (matmul,
# mT, solve, inv), so second derivatives come for free.
# ============================================================================================


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


# --------------------------------------------------------------------------------------------
# The singular value decomposition
# --------------------------------------------------------------------------------------------


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
                from ._engine import _modified_error

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


# ============================================================================================
# Tensor methods: the functions above, bound to the class
# ============================================================================================

_METHODS = {
    name: globals()[name]
    for name in """
    add sub subtract mul multiply div divide true_divide floor_divide remainder fmod pow square
    maximum minimum neg negative abs absolute sign exp log sqrt sin cos tan tanh sigmoid relu
    reciprocal log1p expm1 clamp clip clamp_min clamp_max eq ne lt le gt ge logical_and
    logical_or logical_xor logical_not bitwise_not sum mean var std max min amax amin argmax argmin
    norm cumsum prod cumprod round floor ceil trunc fix softmax log_softmax all any equal
    allclose isclose isnan isinf isfinite count_nonzero reshape view view_as reshape_as flatten ravel transpose swapaxes swapdims t
    permute squeeze unsqueeze expand expand_as broadcast_to sum_to_size flip clone contiguous
    select narrow unbind matmul mm mv dot inner outer ger bmm zero_ fill_ copy_ t_ transpose_
    clamp_ diag diagonal trace det inverse
    """.split()
}
for _name, _fn in _METHODS.items():
    setattr(Tensor, _name, _fn)

for _name in """add sub mul div pow neg abs exp log sqrt sin cos tan tanh sigmoid relu reciprocal
                sign square round floor ceil trunc""".split():
    setattr(Tensor, _name + "_", _inplace(globals()[_name]))
Tensor.subtract_ = Tensor.sub_
Tensor.multiply_ = Tensor.mul_
Tensor.divide_ = Tensor.div_
Tensor.clip_ = Tensor.clamp_
Tensor.T = property(numpy_T)
# x.where(condition, y) is torch.where(condition, x, y): the tensor is the first value.
Tensor.where = lambda self, condition, other: where(condition, self, other)
Tensor.mT = property(mT)
Tensor.__getitem__ = index
Tensor.__setitem__ = setitem

# Operators.  ``a op= b`` is in place, as in torch (so it bumps the version counter).
Tensor.__add__ = Tensor.__radd__ = _APPLY[Add]
Tensor.__sub__ = _APPLY[Sub]
Tensor.__rsub__ = rsub
Tensor.__mul__ = Tensor.__rmul__ = _APPLY[Mul]
Tensor.__truediv__ = div
Tensor.__rtruediv__ = rdiv
Tensor.__floordiv__ = floor_divide
Tensor.__rfloordiv__ = _rfloordiv
Tensor.__mod__ = remainder
Tensor.__rmod__ = _rremainder
Tensor.__pow__ = pow
Tensor.__rpow__ = lambda a, b: _rpow(a, b)
Tensor.__matmul__ = matmul
Tensor.__rmatmul__ = lambda a, b: matmul(_as_tensor(b), a)
Tensor.__neg__ = neg
Tensor.__pos__ = lambda a: a
Tensor.__abs__ = abs
Tensor.__eq__ = eq
Tensor.__ne__ = ne
Tensor.__lt__ = lt
Tensor.__le__ = le
Tensor.__gt__ = gt
Tensor.__ge__ = ge
Tensor.__and__ = Tensor.__rand__ = bitwise_and
Tensor.__or__ = Tensor.__ror__ = bitwise_or
Tensor.__xor__ = Tensor.__rxor__ = bitwise_xor
Tensor.__invert__ = bitwise_not
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_

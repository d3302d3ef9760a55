"""What every operation shares: the ``Op`` base class, wiring a result into the graph
(``_record``, ``_view``), torch's result dtype for two operands, and the errors for an argument
that is not a tensor.  No operation lives here: the families are the other files of this package.
"""

from __future__ import annotations

import builtins
import functools
import warnings

import numpy as np

from .. import _dtype
from .._dtype import FROM_NUMPY
from .._engine import Node, _GradMode, accumulator_of, connect, version_cell
from .._errors import hint
from .._tensor import (
    INFERENCE_MODE_VIEW,
    MULTI_OUTPUT_VIEW,
    NO_GRAD_VIEW,
    Tensor,
    make_tensor,
    refresh_view,
)

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
    for meta in node._input_meta:
        if meta is not None and meta != same:
            return make_tensor(out, node)
    node._input_meta = None  # every gradient already has its input's shape and dtype
    return make_tensor(out, node)


def _record_unary(node: Op, a: Tensor, out) -> Tensor:
    """``_record`` for a single input, inlined like ``_record_binary``."""
    x = a._data
    if a._base is not None and a._view_version != a._version_cell[0]:
        refresh_view(a)  # a view whose memory was changed in place through another tensor
    fa = a._grad_fn
    node._next = (fa if fa is not None else accumulator_of(a) if a._requires_grad else None,)
    node._next_nr = (a._output_nr,) if a._output_nr else None
    node._input_meta = (
        None if x.shape == out.shape and x.dtype is out.dtype else ((x.shape, x.dtype),)
    )
    return make_tensor(out, node)


def _plain_tensors(g, *saved) -> bool:
    """Whether each saved value is None or a tensor with the shape and dtype of ``g`` (a
    gradient's array): then the rule can be written into ``g`` (Node.gradient_in_place)."""
    for t in saved:
        if t is None:
            continue
        if t.__class__ is not Tensor:
            return False
        data = t._data
        if data.__class__ is not np.ndarray or data.dtype is not g.dtype or data.shape != g.shape:
            return False
    return True


def _view(out, source: Tensor, node: Op | None) -> Tensor:
    """A result that shares ``source``'s memory: it shares its version counter too."""
    t = _record_unary(node, source, out) if node is not None else make_tensor(out)
    cell = t._version_cell = version_cell(source)
    t._view_version = cell[0]
    base = source._base
    if base is not None:  # a view of a view: of the same base, made the same way
        t._base, t._view_creation = base, source._view_creation
    else:
        t._base, t._view_creation = source, None
    if not _GradMode.enabled:
        t._view_creation = INFERENCE_MODE_VIEW if _GradMode.inference else NO_GRAD_VIEW
    elif node is not None and node.several_views:
        t._view_creation = MULTI_OUTPUT_VIEW
    return t


def _views_without_graph(pieces, source: Tensor) -> tuple:
    """The views of an op with several outputs (unbind, split) when nothing is recorded: in
    grad mode torch still refuses an in-place change with grad through one of them."""
    views = tuple(_view(piece, source, None) for piece in pieces)
    if _GradMode.enabled:
        for view in views:
            view._view_creation = MULTI_OUTPUT_VIEW
    return views


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
    "copysign": 2,
    "xlogy": 2,
    "float_power": 2,
    "lerp": 3,
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
# Two operands: broadcasting errors and torch's result dtype
# ============================================================================================


def _broadcast_error(a, b) -> RuntimeError:
    return _shapes_mismatch(a._data.shape, b._data.shape if b.__class__ is Tensor else ())


def _shapes_mismatch(sa: tuple, sb: tuple) -> RuntimeError:
    rank = builtins.max(len(sa), len(sb))  # (`max` is a tensor op in this package)
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
        if kind in "iu":
            b = _wrapped(b, x.dtype)
        return x, b, x.dtype
    raise TypeError(f"unsupported operand type(s): 'Tensor' and '{type(b).__name__}'")


def _wrapped(number, dtype: np.dtype):
    """A Python int as torch casts it to an integer tensor's dtype before the operation: kept
    when it fits, else wrapped around (two's complement, as C casts it: 300 is 44 as int8,
    -1 is 255 as uint8); beyond 64 bits, Python's own OverflowError, as torch gives it."""
    info = np.iinfo(dtype)
    if info.min <= number <= info.max:
        return number
    if number < -(2**63):
        raise OverflowError("can't convert negative int to unsigned")
    if number >= 2**64:
        raise OverflowError("int too big to convert")
    return np.array(int(number) % 2**64, dtype=np.uint64).astype(dtype)[()]


# ============================================================================================
# Dims and dtypes
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


def _scalar_name(np_dtype) -> str:
    return FROM_NUMPY[np.dtype(np_dtype)].scalar_name


def _cast(x, dt: _dtype.dtype):
    if isinstance(x, Tensor):
        return x._data if x._data.dtype == dt.np else x._data.astype(dt.np)
    return np.asarray(x, dtype=dt.np)


# torch's argument parser also takes NumPy's names: axis= for dim=, keepdims= for keepdim=.
_NUMPY_NAMES = (("axis", "dim"), ("keepdims", "keepdim"))


def _parameter_names(fn) -> tuple:
    """The names ``fn`` takes, read from its code (inspect.signature, 200 times at import,
    cost ``import autograd_lite`` 4 ms); through ``functools.wraps`` wrappers, as it does."""
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    code = getattr(fn, "__code__", None)
    if code is None:  # (a class or a builtin: no dim to alias)
        return ()
    return code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]


def numpy_names(fn):
    """``fn``, also taking ``axis=`` and ``keepdims=`` where it has ``dim`` and ``keepdim``
    (giving both names is the error torch gives). Functions without them are returned as is,
    so that the common operations pay nothing."""
    parameters = _parameter_names(fn)
    aliases = [(alias, name) for alias, name in _NUMPY_NAMES if name in parameters]
    if not aliases:
        return fn

    @functools.wraps(fn)
    def taking_numpy_names(*args, **kwargs):
        if kwargs:
            for alias, name in aliases:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(
                            f"{fn.__name__}() got an unexpected keyword argument '{alias}'"
                        )
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return taking_numpy_names


def check_alpha(input, other, alpha) -> None:
    """torch's checks of ``add``'s and ``sub``'s ``alpha``: it may not be of a higher kind than
    the result (no float alpha for integers, bool alpha only for a bool result)."""
    kind = _dtype.result_type(_as_tensor(input), other).np.kind
    data = alpha._data if isinstance(alpha, Tensor) else np.asarray(alpha)
    alpha_kind = data.dtype.kind
    if alpha_kind == "b" and kind != "b":
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if alpha_kind in "fc" and kind in "biu":
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    if alpha_kind == "c" and kind != "c":
        raise RuntimeError(
            "For non-complex input tensors, argument alpha must not be a complex number."
        )

"""The ``out=`` keyword: ``torch.sin(x, out=y)`` writes the result into ``y`` and returns ``y``.

One wrapper, ``with_out``, gives it to every function that takes it in torch (the list is in
``variants.py``).  torch's rules, in the order torch checks them:

* ``out`` must be a tensor (a tuple of tensors for ``max(x, dim)`` and the like);
* no automatic differentiation: if grad mode is on and any argument (``out`` included) requires
  grad, a RuntimeError;
* the result must be castable to ``out``'s dtype (a float result cannot go into an int tensor;
  the matrix products want ``out``'s dtype to be exactly the result's);
* an ``out`` of another shape is resized to the result's, with a UserWarning unless it was
  empty (torch deprecates resizing tensors that hold elements).
"""

from __future__ import annotations

import collections
import functools
import warnings

import numpy as np

from .. import _dtype
from .._engine import _GradMode, version_cell
from .._tensor import Tensor
from ._base import _type_name

# The names torch's messages give dtypes ("Expected out tensor to have dtype float").
C_TYPE_NAMES = {
    "float32": "float",
    "float64": "double",
    "float16": "c10::Half",
    "int64": "long int",
    "int32": "int",
    "int16": "short int",
    "int8": "signed char",
    "uint8": "unsigned char",
    "bool": "bool",
}

# How torch checks out's dtype, where it differs from the rule of most functions (the result
# must be castable to it): the name of the check, by function.
_DTYPE_CHECKS = {
    # out must have the result's dtype exactly
    **dict.fromkeys(
        """matmul mm bmm mv inverse softmax log_softmax norm diag tril triu msort gather
        take_along_dim""".split(),
        "exact",
    ),
    # computed in out's dtype (the inputs are cast first), whatever it is
    **dict.fromkeys("sum prod cumsum cumprod".split(), "in out's dtype"),
    # these keep their input's dtype, and out must have it
    **dict.fromkeys(
        """clamp clip clamp_min clamp_max abs absolute neg negative sign sgn round floor ceil
        trunc fix frac bitwise_not conj_physical""".split(),
        "found",
    ),
    **dict.fromkeys("argmax argmin".split(), "long"),
    **dict.fromkeys("all any".split(), "bool result"),
    **dict.fromkeys("signbit isposinf isneginf".split(), "boolean outputs"),
    **dict.fromkeys("amax amin".split(), "input"),
    **dict.fromkeys("cat concat concatenate stack".split(), "cat"),
    **dict.fromkeys("nansum nanmean".split(), "nansum"),
    **{name: name for name in "ldexp mvlgamma nan_to_num dot where float_power mean".split()},
    **{"inner": "tensordot", "logsumexp": "floating", "index_select": "index_select"},
}

# The two outs of max(x, dim), sort, ...: (values, indices) by default.
_PAIR_CHECKS = {
    "aminmax": ("exact", "exact"),
    "cummax": ("scalar_type", "scalar_type"),
    "cummin": ("scalar_type", "scalar_type"),
}

# Checks that let a result into an out of another dtype when it can be cast there.
_CASTING = {"castable", "ldexp", "mvlgamma", "mean", "cat"}


# Functions without a derivative: their out= may require grad.  And functions whose error for
# an argument that requires grad names the ATen operator (aten::gcd()).
_NOT_DIFFERENTIABLE = set(
    """eq ne lt le gt ge logical_and logical_or logical_xor logical_not signbit isposinf
    isneginf argmax argmin all any""".split()
)
_ATEN_NAMED = set(
    """gcd lcm bitwise_and bitwise_or bitwise_xor bitwise_left_shift bitwise_right_shift
    bitwise_not heaviside floor_divide""".split()
)
_OP_NAMES = {
    "fix": "trunc",
    "clip": "clamp",
    "arccos": "acos",
    "arcsin": "asin",
    "arctan": "atan",
    "arccosh": "acosh",
    "arcsinh": "asinh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "absolute": "abs",
    "negative": "neg",
    "multiply": "mul",
    "divide": "div",
    "subtract": "sub",
    "true_divide": "div",
    "concat": "cat",
    "concatenate": "cat",
}


def _resize_warning(old_shape, new_shape) -> None:
    warnings.warn(
        f"An output with one or more elements was resized since it had shape {list(old_shape)}, "
        f"which does not match the required output shape {list(new_shape)}. This behavior is "
        "deprecated, and in a future PyTorch release outputs will not be resized unless they "
        "have zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, "
        "to zero elements with t.resize_(0).",
        UserWarning,
        stacklevel=4,
    )


def _arange_warning(old_shape, new_shape) -> None:
    count = int(np.prod(old_shape))
    warnings.warn(
        f"The number of elements in the out tensor of shape {list(old_shape)} is {count} which "
        f"does not match the computed number of elements {new_shape[0]}. Note that this may "
        "occur as a result of rounding error. The out tensor will be resized to a tensor of "
        f"shape ({new_shape[0]},).",
        UserWarning,
        stacklevel=4,
    )


def _requires_grad(value) -> bool:
    if isinstance(value, Tensor):
        return value.requires_grad
    if isinstance(value, (list, tuple)):
        return any(_requires_grad(v) for v in value)
    return False


def _c_name(d) -> str:
    return C_TYPE_NAMES[d.np.name]


def _check_dtype(name: str, result: Tensor, out: Tensor, inputs, check=None) -> None:
    r, o = result.dtype, out.dtype
    check = check or _DTYPE_CHECKS.get(name, "castable")
    if r == o or check == "in out's dtype":
        return
    if check in _CASTING and _dtype.can_cast(r, o):
        return
    if check in ("bool result", "boolean outputs") and o is _dtype.bool_:
        return
    if check in ("floating", "nansum") and o.category == _dtype.FLOATING:
        return
    if check == "cat":
        raise TypeError(
            f"torch.cat(): input types can't be cast to the desired output type {o.scalar_name}"
        )
    if check == "nansum":
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{o.scalar_name}'")
    raise RuntimeError(_dtype_message(check, name, r, o, inputs))


def _dtype_message(check: str, name: str, r, o, inputs) -> str:
    """torch's words for an out of the wrong dtype (r: the result's dtype, o: out's)."""
    first = next((t for t in inputs if isinstance(t, Tensor)), None)
    source = first.dtype.scalar_name if first is not None else r.scalar_name
    messages = {
        "castable": f"result type {r.scalar_name} can't be cast to the desired output type "
        f"{o.scalar_name}",
        "mean": f"result type Float can't be cast to the desired output type {o.scalar_name}",
        "exact": f"Expected out tensor to have dtype {_c_name(r)}, but got {_c_name(o)} instead",
        "long": f"Expected out tensor to have dtype long int, but got {_c_name(o)} instead",
        "scalar_type": f"expected scalar_type {r.scalar_name} but found {o.scalar_name}",
        "bool result": f"{name} only supports bool tensor for result, got: {o.scalar_name}",
        "boolean outputs": f"{name} does not support non-boolean outputs.",
        "floating": f"{name}(): Expected floating point type for result tensor, but got: "
        f"{o.scalar_name}",
        "input": "Expected the dtype for input and out to match, but got "
        f"{source} for input's dtype and {o.scalar_name} for out's dtype.",
        "found": f"Found dtype {o.scalar_name} but expected {r.scalar_name}",
        "dot": f"result dtype {o.scalar_name} does not match input dtype {r.scalar_name}",
        "tensordot": f"tensordot: Expected the output tensor to have dtype {r.scalar_name}, but "
        f"got an output tensor with dtype {o.scalar_name}",
        "index_select": "index_select(): self and result must have the same scalar type",
        "ldexp": f"ldexp can't be cast to the desired output type {o.scalar_name}",
        "mvlgamma": f"mvlgamma: result type {r.scalar_name} can't be cast to the desired output "
        f"type {r.scalar_name}",  # (sic: torch names the result's dtype twice)
        "nan_to_num": f"nan_to_num: dtype of out: {o.scalar_name} should be same as input: "
        f"{r.scalar_name}",
        "where": f"Expected out type to be {r.scalar_name} but got {o.scalar_name}",
        "float_power": f"the output given to float_power has dtype {o.scalar_name} but the "
        f"operation's result requires dtype {r.scalar_name}",
    }
    return messages[check]


def write_into(out: Tensor, result: Tensor, warn=_resize_warning) -> Tensor:
    """Copy ``result`` into ``out`` (resizing it first if needed: ``warn`` says so, when it held
    elements) and bump its version."""
    data = out._writable()
    if data.shape != result._data.shape:
        if data.size and warn is not None:
            warn(data.shape, result._data.shape)
        out._data = data = np.empty(result._data.shape, dtype=data.dtype)
    np.copyto(data, result._data, casting="unsafe")
    version_cell(out)[0] += 1
    return out


_OUT_TYPES: dict = {}


def _out_tuple(result: tuple, outs) -> tuple:
    """``max(x, 0, out=(v, i))`` returns torch.return_types.max_out holding v and i."""
    fields = getattr(result, "_fields", None)
    if fields is None:
        return tuple(outs)
    name = type(result).__name__ + "_out"
    if name not in _OUT_TYPES:
        base = collections.namedtuple(name, fields)

        def __repr__(self):  # noqa: N807
            items = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
            return f"torch.return_types.{name}(\n{items})"

        _OUT_TYPES[name] = type(name, (base,), {"__repr__": __repr__, "__slots__": ()})
    return _OUT_TYPES[name](*outs)


def _plain_parameters(fn):
    """The names of ``fn``'s parameters if they are all plain positional ones, else None (read
    from its code object: ``inspect.signature`` would cost more than the rest of the import)."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_kwonlyargcount or code.co_flags & 0x0C:  # *args or **kwargs
        return None
    return list(code.co_varnames[: code.co_argcount])


def with_out(fn, name: str):
    """``fn``, also taking torch's ``out=`` keyword (nothing changes when it is not given).

    The common signatures, ``f(input)`` and ``f(input, other)``, get a wrapper of their own:
    without ``*args`` and ``**kwargs`` to pack, a call without ``out=`` costs almost nothing
    more than before (``torch.exp(x)`` runs in loops)."""
    parameters = _plain_parameters(fn)

    def write(args, kwargs, out):
        return _write_out(fn, name, args, kwargs, out)

    if parameters == ["input"]:

        def taking_out(input, *, out=None):
            if out is None:
                return fn(input)
            return write((input,), {}, out)

    elif parameters == ["input", "other"]:

        def taking_out(input, other, *, out=None):
            if out is None:
                return fn(input, other)
            return write((input, other), {}, out)

    else:

        def taking_out(*args, out=None, **kwargs):
            if out is None:
                return fn(*args, **kwargs)
            return write(args, kwargs, out)

    return functools.wraps(fn)(taking_out)


def _write_out(fn, name: str, args, kwargs, out):
    """``fn(*args, **kwargs)`` written into ``out``, after torch's checks (in torch's order)."""
    outs = _check_out_argument(name, out)
    if (
        _GradMode.enabled
        and name not in _NOT_DIFFERENTIABLE
        and (_requires_grad((args, tuple(kwargs.values()))) or _requires_grad(outs))
    ):
        op = _OP_NAMES.get(name, name)
        op = f"aten::{op}" if name in _ATEN_NAMED else op
        raise RuntimeError(
            f"{op}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    result = fn(*args, **kwargs)
    if _DTYPE_CHECKS.get(name) == "in out's dtype" and result.dtype != out.dtype:
        if name.startswith("cum") and out.dtype is _dtype.bool_:
            raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
        args = [a.to(out.dtype) if isinstance(a, Tensor) else a for a in args]
        result = fn(*args, **kwargs)
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != len(outs):
        raise TypeError(f"{name}(): argument 'out' must be tuple of Tensors, not {_type_name(out)}")
    checks = _PAIR_CHECKS.get(name, ("exact", "long")) if len(outs) == 2 else (None,)
    for r, o, check in zip(results, outs, checks):
        _check_dtype(name, r, o, args, check)
    for r, o in zip(results, outs):
        write_into(o, r)
    return _out_tuple(result, outs) if isinstance(result, tuple) else out


def _check_out_argument(name: str, out) -> tuple:
    """``out`` as a tuple of tensors, or torch's TypeError."""
    if not isinstance(out, (tuple, Tensor)):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {_type_name(out)}")
    outs = out if isinstance(out, tuple) else (out,)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(
                f"{name}(): argument 'out' must be tuple of Tensors, not {_type_name(out)}"
            )
    return outs


def with_out_creation(fn, name: str):
    """``fn`` (``zeros``, ``arange``, ``rand``, ...), also taking ``out=``: the new values are
    made in out's dtype (a ``dtype=`` that differs is torch's error) and written into it."""

    @functools.wraps(fn)
    def taking_out(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        (out,) = _check_out_argument(name, out)
        dtype = kwargs.get("dtype")
        if dtype is not None and _dtype.as_dtype(dtype) != out.dtype:
            raise RuntimeError(
                f"dtype {_dtype.as_dtype(dtype).scalar_name} does not match dtype of out "
                f"parameter ({out.dtype.scalar_name})"
            )
        if _GradMode.enabled and out.requires_grad:
            raise RuntimeError(
                f"aten::{name}(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad."
            )
        if name in ("rand", "randn") and out.dtype.category != _dtype.FLOATING:
            kernel = "check_uniform_bounds" if name == "rand" else "normal_kernel_cpu"
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{out.dtype.scalar_name}'")
        kwargs["dtype"] = out.dtype
        # torch resizes these silently, but for arange, which explains the count it made
        warn = _arange_warning if name == "arange" else None
        return write_into(out, fn(*args, **kwargs), warn)

    return taking_out

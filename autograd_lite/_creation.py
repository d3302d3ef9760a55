"""Making tensors: from data (``tensor``, ``as_tensor``, ``from_numpy``) and from shapes."""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from . import _dtype
from ._errors import check_device, hint
from ._tensor import Size, Tensor, make_tensor

COPY_CONSTRUCT_WARNING = (
    "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
    "sourceTensor.detach().clone().requires_grad_(True), rather than torch.tensor(sourceTensor)."
)


def _finish(data: np.ndarray, requires_grad: bool) -> Tensor:
    if data.ndim == 0:
        # A NumPy scalar, like the results of arithmetic on 0-d data: scalar-with-scalar math is
        # ten times faster than with 0-d arrays.  It becomes an array when shared or written.
        data = data[()]
    t = make_tensor(data)
    if requires_grad:
        if data.dtype.kind != "f":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
                + hint(
                    f"this tensor is {_dtype.FROM_NUMPY[data.dtype]}; write the numbers as floats "
                    "(2.0, not 2) or pass dtype=torch.float32"
                )
            )
        t._requires_grad = True
    return t


def _check_ragged(data, depth=0) -> None:
    """torch's message for lists of unequal length, instead of NumPy's."""
    if not isinstance(data, (list, tuple)) or not data:
        return
    lengths = [len(x) if isinstance(x, (list, tuple)) else None for x in data]
    first = lengths[0]
    for n in lengths[1:]:
        if n != first:
            if first is None or n is None:
                raise TypeError(f"not a sequence at dim {depth + 1}")
            raise ValueError(f"expected sequence of length {first} at dim {depth + 1} (got {n})")
    for x in data:
        _check_ragged(x, depth + 1)


def _unwrap(data):
    """Lists may hold one-element tensors (torch allows ``tensor([t1, t2])``)."""
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)):
        return [_unwrap(x) for x in data]
    return data


def _infer_dtype(raw) -> _dtype.dtype:
    """torch's inference: every number has a dtype (a Python int int64, a float the default
    float dtype, a NumPy scalar or array its own) and a list promotes its elements' dtypes, so
    ``[np.float64(1.5), 2.0]`` is float64 and ``[1, 2.5]`` the default (NumPy says float64)."""
    found = _elements_dtype(raw if isinstance(raw, (list, tuple)) else [raw])
    return found if found is not None else _dtype.get_default_dtype()  # tensor([]) is float


def _elements_dtype(items) -> _dtype.dtype | None:
    """The promoted dtype of a (nested) list; numbers are looked at once per type, for speed."""
    found = None
    for kind in set(map(type, items)):
        if kind in (list, tuple):
            dtypes = [_elements_dtype(x) for x in items if type(x) is kind]
        elif kind is np.ndarray:
            dtypes = [_dtype.from_numpy_dtype(x.dtype) for x in items if type(x) is kind]
        elif issubclass(kind, np.generic):
            dtypes = [_dtype.from_numpy_dtype(kind)]
        else:
            dtypes = [_dtype.scalar_dtype(kind(0))]
        for d in dtypes:
            if d is not None:
                found = d if found is None else _dtype.promote_types(found, d)
    return found


def _not_a_number(data):
    """The first element of nested lists that is no number (for torch's error message)."""
    if isinstance(data, (list, tuple)):
        for x in data:
            found = _not_a_number(x)
            if found is not None:
                return found
        return None
    return None if isinstance(data, (numbers.Number, np.generic, np.ndarray)) else data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested lists, or a NumPy array)."""
    check_device(device)
    if isinstance(data, Tensor):
        warnings.warn(COPY_CONSTRUCT_WARNING, UserWarning, stacklevel=2)
        data = data._data
    _check_ragged(data)
    raw = _unwrap(data)
    if isinstance(raw, str):
        raise TypeError("new(): invalid data type 'str'")
    target = _dtype.as_dtype(dtype) if dtype is not None else None
    array = np.array(raw)
    if array.dtype.kind in "US":
        raise ValueError("too many dimensions 'str'")
    if _may_hold_a_huge_int(array) and _has_int_beyond_int64(raw):
        target = target or _infer_dtype(raw)
        array = _beyond_int64(raw, target)
    if array.dtype == object:
        culprit = _not_a_number(raw)
        raise RuntimeError(f"Could not infer dtype of {type(culprit).__name__}")
    target = target or _infer_dtype(raw)
    if not isinstance(raw, np.ndarray):  # Python numbers are checked, arrays cast (as in torch)
        _check_numbers_fit(raw, array, target)
        if target.np.kind in "iu" and array.dtype.kind == "f":  # ints with floats: each exact
            array = np.array(raw, dtype=np.int64)  # (floats truncated, as C casts them)
    return _finish(np.array(array, dtype=target.np, copy=True), requires_grad)


def _may_hold_a_huge_int(array: np.ndarray) -> bool:
    """NumPy makes an int beyond int64 uint64, float64 or object: a quick look first, so that
    ordinary lists are not walked in Python."""
    if array.dtype == object:
        return True
    if array.dtype.kind not in "uf" or array.size == 0:
        return False
    finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
    return finite.size > 0 and float(np.abs(finite).max()) >= 2.0**63


def _has_int_beyond_int64(raw) -> bool:
    """Whether a Python int in ``raw`` is beyond int64: torch reads one as a C long long."""
    if isinstance(raw, (np.ndarray, np.generic)):
        return False
    return any(type(x) is int and not -(2**63) <= x < 2**63 for x in _python_numbers(raw))


def _beyond_int64(raw, target: _dtype.dtype) -> np.ndarray:
    """A floating or bool tensor takes ints beyond int64 (as floats, as truth values); any other
    refuses the first number it cannot store, in order, as torch stores them one by one."""
    if target.is_floating_point or target.np.kind == "b":
        return np.array(raw, dtype=target.np)
    for x in _python_numbers(raw):
        if type(x) is int and not -(2**63) <= x < 2**63:
            raise ValueError("Overflow when unpacking long long")
        _check_fits(np.array(x), target)
    raise AssertionError("unreachable: raw holds an int beyond int64")


def _python_numbers(raw):
    if isinstance(raw, (list, tuple)):
        for x in raw:
            yield from _python_numbers(x)
    else:
        yield raw


def _check_numbers_fit(raw, array: np.ndarray, target: _dtype.dtype) -> None:
    """All at once when the numbers are all ints or all floats; one by one, in order, when the
    whole does not fit or mixes ints and floats for an unsigned dtype (whose rules for the two
    differ), so that the error is torch's for the first number it cannot store."""
    mixed = target.np.kind == "u" and array.dtype.kind == "f" and isinstance(raw, (list, tuple))
    if not mixed:
        try:
            return _check_fits(array, target)
        except RuntimeError:
            if not isinstance(raw, (list, tuple)):
                raise
    for x in _python_numbers(raw):
        _check_fits(np.array(x), target)


def _check_fits(array: np.ndarray, target: _dtype.dtype, type_name: str | None = None) -> None:
    """torch refuses to store a Python number an integer dtype cannot hold (c10's
    ``overflows``): a float out of range, nan or inf; an int out of range, except that an
    unsigned dtype takes negative ints down to minus its maximum (they wrap, -1 as 255)."""
    kind = target.np.kind
    if kind not in "iu" or array.size == 0 or array.dtype.kind not in "iuf":
        return  # floating and bool targets take anything (bool: nonzero is True)
    limits = np.iinfo(target.np)
    low = -int(limits.max) if kind == "u" and array.dtype.kind in "iu" else limits.min
    if array.dtype.kind == "f":
        fits = np.isfinite(array).all() and array.min() >= low and array.max() <= limits.max
    else:
        fits = int(array.min()) >= low and int(array.max()) <= limits.max
    if not fits:
        raise _overflow(target, type_name)


def _overflow(target: _dtype.dtype, type_name: str | None = None) -> RuntimeError:
    name, limits = str(target).removeprefix("torch."), np.iinfo(target.np)
    return RuntimeError(
        f"value cannot be converted to type {type_name or name} without overflow"
        + hint(f"{name} holds {limits.min} to {limits.max}; wrapping happens only in arithmetic")
    )


def as_tensor(data, *, dtype=None, device=None) -> Tensor:
    """Like tensor(), but shares memory with a NumPy array (or returns a tensor as is)."""
    check_device(device)
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.as_dtype(dtype).np == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype)


def from_numpy(array) -> Tensor:
    """A tensor sharing memory with ``array``: changes to one show in the other."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    _dtype.from_numpy_dtype(array.dtype)  # refuses unsupported dtypes with torch's message
    return make_tensor(array)


def legacy_data(args, default: _dtype.dtype) -> Tensor:
    """``torch.Tensor(2, 3)`` (sizes, uninitialized) or ``torch.Tensor([1, 2])`` (data)."""
    if len(args) == 1 and not isinstance(args[0], (numbers.Integral, Size)):  # a Size: sizes
        return tensor(args[0], dtype=default)
    return make_tensor(np.zeros(_size(args), dtype=default.np))


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list, Size)):
        size = size[0]
    for s in size:
        if not isinstance(s, (numbers.Integral, np.integer)) or isinstance(s, bool):
            raise TypeError(
                f"zeros(): argument 'size' must be tuple of ints, but found element of type "
                f"{type(s).__name__} at pos 0"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
    return tuple(int(s) for s in size)


def _float_or(dtype) -> _dtype.dtype:
    return _dtype.as_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()


# The C++ names torch's fill functions (full, fill_) give an integer dtype in their overflow error.
_C_TYPE_NAMES = {
    "int8": "int8_t",
    "uint8": "uint8_t",
    "int16": "int16_t",
    "int32": "int",
    "float16": "c10::Half",
    "float32": "float",
    "float64": "double",
}


def _filled(size, value, dtype, requires_grad, device) -> Tensor:
    check_device(device)
    target, shape = _float_or(dtype), _size(size)
    value = _fill_value(value, target, single=math.prod(shape) == 1)
    return _finish(np.full(shape, value, dtype=target.np), requires_grad)


def _scalar_type_name(target: _dtype.dtype) -> str:
    """The C++ name torch's scalar checks give a dtype in their overflow error."""
    name = str(target).removeprefix("torch.")
    return _C_TYPE_NAMES.get(name, f"{name}_t")


def _fill_value(value, target: _dtype.dtype, *, single: bool = False):
    """A Python number as ``target`` stores it, checked as torch checks a fill value: bool
    takes its truth, a floating dtype inf, nan and what is within its range (and float16, in
    a one-element tensor, anything: too large becomes inf, a path of torch's own), an integer
    dtype what it can hold (negative ints wrap into unsigned ones, as in ``tensor``)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    if target.np.kind == "b":
        return bool(value)
    name = str(target).removeprefix("torch.")
    if target.is_floating_point:
        as_float = float(value)
        quirk = single and name == "float16"
        largest = float(np.finfo(target.np).max)  # (a Python float: no float16 comparison)
        if math.isfinite(as_float) and abs(as_float) > largest and not quirk:
            raise RuntimeError(
                f"value cannot be converted to type {_C_TYPE_NAMES[name]} without overflow"
                + hint(f"the largest {name} is {largest:g}")
            )
        with np.errstate(over="ignore"):  # too large for float16: inf, silently as in torch
            return np.array(as_float).astype(target.np)
    type_name = _scalar_type_name(target)
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise _overflow(target, type_name)
    _check_fits(np.array(value), target, type_name)
    return np.array(value).astype(target.np)


def _sizes(sizes: tuple, size) -> tuple:
    """``zeros(2, 3)``, ``zeros((2, 3))`` and ``zeros(size=(2, 3))`` all mean the same."""
    return sizes if size is None else (size,)


def zeros(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(_sizes(sizes, size), 0, dtype, requires_grad, device)


def ones(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled(_sizes(sizes, size), 1, dtype, requires_grad, device)


def empty(*sizes, size=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uninitialized in torch; here zeros (a student should never rely on the contents)."""
    return _filled(_sizes(sizes, size), 0, dtype, requires_grad, device)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A 0-d tensor of the number ``s``, in the default float dtype unless ``dtype`` is given
    (even for an int or a bool, unlike ``tensor``)."""
    if not isinstance(s, (int, float, np.number, np.bool_)):
        raise TypeError(
            f"scalar_tensor(): argument 's' (position 1) must be Number, not {type(s).__name__}"
        )
    return _filled((), s, dtype or _dtype.get_default_dtype(), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = _dtype.scalar_dtype(fill_value)
    return _filled(
        (size,) if isinstance(size, int) else size, fill_value, dtype, requires_grad, device
    )


def eye(n, m=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device)
    return _finish(np.eye(n, n if m is None else m, dtype=_float_or(dtype).np), requires_grad)


def _like(fn, input: Tensor, dtype, requires_grad, **kw) -> Tensor:
    return fn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad, **kw)


def zeros_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(zeros, input, dtype, requires_grad, device=device)


def ones_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(ones, input, dtype, requires_grad, device=device)


def empty_like(input, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _like(empty, input, dtype, requires_grad, device=device)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(input.shape, fill_value, dtype or input.dtype, device, requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Ints give int64, any float gives the default float dtype (NumPy would say float64)."""
    check_device(device)
    if end is None:
        start, end = 0, start
    values = [_number(v) for v in (start, end, step)]
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        floating = any(isinstance(v, float) for v in values)
        dtype = _dtype.get_default_dtype() if floating else _dtype.int64
    dtype = _dtype.as_dtype(dtype)
    count = max(int(np.ceil((values[1] - values[0]) / values[2])), 0)
    # torch computes start + i * step in double precision, then casts.
    data = (values[0] + np.arange(count, dtype=np.float64) * values[2]).astype(dtype.np)
    if dtype.category != _dtype.FLOATING and all(isinstance(v, int) for v in values):
        data = np.arange(values[0], values[1], values[2], dtype=dtype.np)
    return _finish(data, requires_grad)


def _number(v):
    return v.item() if isinstance(v, Tensor) else v


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False) -> Tensor:
    """torch's algorithm: step from the start for the first half, from the end for the rest."""
    check_device(device)
    dtype = _float_or(dtype)
    start, end = _number(start), _number(end)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    if steps == 1:
        return _finish(np.array([start], dtype=dtype.np), requires_grad)
    if dtype.category != _dtype.FLOATING:  # torch casts the ends first, then steps in double
        start, end = int(start), int(end)
    ct = dtype.np if dtype.category == _dtype.FLOATING else np.dtype(np.float64)
    step = (ct.type(end) - ct.type(start)) / ct.type(max(steps - 1, 1))
    i = np.arange(steps, dtype=ct)
    half = steps // 2
    values = np.where(
        i < half, ct.type(start) + step * i, ct.type(end) - step * (ct.type(steps - 1) - i)
    )
    return _finish(values.astype(dtype.np), requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, device=None, requires_grad=False):
    values = linspace(start, end, steps, dtype=_dtype.float64)._data
    return _finish((base**values).astype(_float_or(dtype).np), requires_grad)


# --------------------------------------------------------------------------------------------
# Random numbers: a NumPy generator (the streams differ from torch's, the distributions agree)
# --------------------------------------------------------------------------------------------


def _rng(generator=None) -> np.random.Generator:
    """The NumPy generator behind ``generator`` (autograd_lite.random), or the default one."""
    from . import random

    return (generator or random.default_generator).numpy


def manual_seed(seed):
    from . import random

    return random.manual_seed(seed)


def seed() -> int:
    from . import random

    return random.seed()


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device)
    dt = _float_or(dtype)
    return _finish(_rng(generator).random(_size(_sizes(sizes, size))).astype(dt.np), requires_grad)


def randn(
    *sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    check_device(device)
    dt = _float_or(dtype)
    shape = _size(_sizes(sizes, size))
    return _finish(_rng(generator).standard_normal(shape).astype(dt.np), requires_grad)


def rand_like(
    input, *, generator=None, dtype=None, device=None, requires_grad=False, **_
) -> Tensor:
    """Uniform in [0, 1), of ``input``'s shape and (floating) dtype."""
    dt = _float_like(input, dtype, "check_uniform_bounds")
    return rand(*input.shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def randn_like(
    input, *, generator=None, dtype=None, device=None, requires_grad=False, **_
) -> Tensor:
    """Standard normal, of ``input``'s shape and (floating) dtype."""
    dt = _float_like(input, dtype, "normal_kernel_cpu")
    return randn(*input.shape, generator=generator, dtype=dt, requires_grad=requires_grad)


def _float_like(input, dtype, kernel: str) -> _dtype.dtype:
    """The dtype of a ``*_like`` draw of floats: torch refuses an integer one with the error of
    the kernel that would fill it."""
    dt = _dtype.as_dtype(dtype) if dtype is not None else input.dtype
    if dt.category != _dtype.FLOATING:
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dt.scalar_name}'"
            + hint("these random numbers are floats: pass dtype=torch.float32")
        )
    return dt


def randint(
    low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    check_device(device)
    if size is None and isinstance(high, (tuple, list)):  # the randint(high, size) form
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.int64
    return _finish(
        _rng(generator).integers(low, high, size=_size(size)).astype(dt.np), requires_grad
    )


def randperm(n: int, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    check_device(device)
    dt = _dtype.as_dtype(dtype) if dtype is not None else _dtype.int64
    return _finish(_rng(generator).permutation(n).astype(dt.np), requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, dtype=None) -> Tensor:
    dt = _float_or(dtype)
    return make_tensor(_rng(generator).normal(mean, std, _size(size or ())).astype(dt.np))

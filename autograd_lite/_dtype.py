"""Dtypes and torch's type-promotion rules (which are not NumPy's).

torch decides a result dtype in two steps:

1. Within one *kind* of operand, promote as usual (int32 + int64 -> int64).  The kinds, by
   priority, are: tensors with dimensions, zero-dimensional tensors, and Python numbers.
2. A lower-priority operand only matters when it is of a higher *category*
   (bool < integer < floating): ``int64_tensor * 2.5`` is float32 (a Python float means the
   default float dtype), but ``float32_tensor + float64_zero_dim_tensor`` stays float32.

NumPy would answer float64 for both, which is why the library never lets NumPy pick.
"""

from __future__ import annotations

import numpy as np

from ._errors import hint

BOOL, INTEGER, FLOATING = 0, 1, 2


class dtype:  # noqa: N801 - named like torch.dtype
    """A torch dtype: ``autograd_lite.float32`` prints as ``torch.float32``."""

    __slots__ = ("name", "np", "category", "itemsize", "legacy_name", "cpp_name")

    def __init__(self, name: str, np_dtype, category: int, legacy_name: str, cpp_name: str):
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category
        self.itemsize = self.np.itemsize
        self.legacy_name = legacy_name  # torch.FloatTensor and friends
        self.cpp_name = cpp_name  # as torch's C++ messages spell it: "long int", "float"

    @property
    def scalar_name(self) -> str:
        """c10's ScalarType name, as in torch's messages: Float, Double, Long, Bool, ..."""
        return self.legacy_name[: -len("Tensor")]

    @property
    def is_floating_point(self) -> bool:
        return self.category == FLOATING

    @property
    def is_complex(self) -> bool:
        return False

    @property
    def is_signed(self) -> bool:
        return self.np.kind in "if"

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return self.name  # pickles as the module attribute of that name


bool_ = dtype("bool", np.bool_, BOOL, "BoolTensor", "bool")
uint8 = dtype("uint8", np.uint8, INTEGER, "ByteTensor", "unsigned char")
int8 = dtype("int8", np.int8, INTEGER, "CharTensor", "signed char")
int16 = dtype("int16", np.int16, INTEGER, "ShortTensor", "short int")
int32 = dtype("int32", np.int32, INTEGER, "IntTensor", "int")
int64 = dtype("int64", np.int64, INTEGER, "LongTensor", "long int")
float16 = dtype("float16", np.float16, FLOATING, "HalfTensor", "c10::Half")
float32 = dtype("float32", np.float32, FLOATING, "FloatTensor", "float")
float64 = dtype("float64", np.float64, FLOATING, "DoubleTensor", "double")

ALL = (bool_, uint8, int8, int16, int32, int64, float16, float32, float64)
FROM_NUMPY = {d.np: d for d in ALL}
# The torch names students type: torch.float, torch.double, torch.long, torch.int, ...
ALIASES = {
    "bool": bool_,
    "uint8": uint8,
    "int8": int8,
    "int16": int16,
    "short": int16,
    "int32": int32,
    "int": int32,
    "int64": int64,
    "long": int64,
    "float16": float16,
    "half": float16,
    "float32": float32,
    "float": float32,
    "float64": float64,
    "double": float64,
}

_default_float = float32

# torch's dtypes that autograd_lite leaves out (NumPy has no bfloat16; complex numbers are
# outside the course), with the legacy names of their tensor types.
UNSUPPORTED = {
    "bfloat16": "BFloat16Tensor",
    "complex32": "ComplexHalfTensor",
    "complex64": "ComplexFloatTensor",
    "complex128": "ComplexDoubleTensor",
}
UNSUPPORTED_ALIASES = {
    "chalf": "complex32",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "complex": "complex64",
}


def unsupported(name: str) -> TypeError:
    """The error for a cast to a dtype torch has and autograd_lite does not."""
    return TypeError(
        f"autograd_lite has no {name} dtype"
        + hint(
            "it has float16, float32, float64, int8, int16, int32, int64, uint8 and bool; "
            "use .float() or .double() for real numbers"
        )
    )


def cast_target(target, tensor_class) -> dtype:
    """What ``x.type(target)`` casts to, read as torch reads it: a dtype, a legacy tensor type
    (``torch.DoubleTensor``, or ``torch.Tensor``: the default dtype) or its name as a string."""
    if isinstance(target, dtype):
        return target
    if isinstance(target, str):
        by_name = {f"torch.{d.legacy_name}": d for d in ALL}
        if target in by_name:
            return by_name[target]
        if target.startswith("torch.cuda."):
            from ._errors import check_device

            check_device("cuda")
        for name, legacy in UNSUPPORTED.items():
            if target == f"torch.{legacy}":
                raise unsupported(name)
        raise ValueError(f"invalid type: '{target}'")
    if isinstance(target, type):
        if target is tensor_class:
            return _default_float
        if isinstance(getattr(target, "dtype", None), dtype):  # torch.DoubleTensor
            return target.dtype
        module = target.__module__
        name = target.__name__ if module == "builtins" else f"{module}.{target.__name__}"
        raise ValueError(f"invalid type: '{name}'")
    raise TypeError("dtype must be a type, str, or dtype object")


def get_default_dtype() -> dtype:
    return _default_float


def set_default_dtype(d: dtype) -> None:
    global _default_float
    if d not in (float32, float64, float16):
        raise TypeError("only floating-point types are supported as the default type")
    _default_float = d


def from_numpy_dtype(np_dtype) -> dtype:
    try:
        return FROM_NUMPY[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        # torch's message, with torch's list; the hint says which of those autograd_lite has.
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype).type.__module__}."
            f"{np.dtype(np_dtype).type.__name__}. The only supported types are: float64, "
            "float32, float16, complex64, complex128, int64, int32, int16, int8, uint64, uint32, "
            "uint16, uint8, and bool."
            + hint(
                "autograd_lite has float64, float32, float16, int64, int32, int16, int8, uint8 "
                "and bool; convert first, e.g. array.astype(np.float32)"
            )
        ) from None


def as_dtype(d) -> dtype:
    """Accept a torch dtype, a NumPy dtype or a Python type (``float`` -> default float)."""
    if isinstance(d, dtype):
        return d
    if d is float:
        return _default_float
    if d is int:
        return int64
    if d is bool:
        return bool_
    return from_numpy_dtype(d)


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """torch.promote_types: the higher category wins outright; within one, the wider type."""
    a, b = type1, type2
    if a is b:
        return a
    try:
        if a.category != b.category:
            return a if a.category > b.category else b
    except AttributeError:  # Python's float, int, bool (or not a dtype at all)
        return promote_types(
            _dtype_argument(a, "promote_types", "type1", 1),
            _dtype_argument(b, "promote_types", "type2", 2),
        )
    return FROM_NUMPY[np.promote_types(a.np, b.np)]


# torch's argument parser reads Python's types as dtypes: float is float64 (not the default).
_PYTHON_TYPES = PYTHON_TYPES = {float: float64, int: int64, bool: bool_}


def _dtype_argument(value, function: str, name: str, position: int) -> dtype:
    """A ``torch.dtype`` argument of a public function, with torch's TypeError for others."""
    if isinstance(value, dtype):
        return value
    if isinstance(value, type) and value in _PYTHON_TYPES:
        return _PYTHON_TYPES[value]
    raise TypeError(
        f"{function}(): argument '{name}' (position {position}) must be torch.dtype, not "
        f"{type(value).__name__}"
    )


def scalar_dtype(value) -> dtype:
    """The dtype torch gives a Python number taking part in an operation."""
    if isinstance(value, (bool, np.bool_)):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return _default_float
    raise TypeError(f"unsupported operand type: {type(value).__name__}")


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """c10's combine_categories: a lower-priority operand wins only with a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.category == FLOATING:
        return higher
    if higher.category == BOOL or lower.category == FLOATING:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> dtype:
    """torch.result_type for tensors and Python numbers."""
    dims = zero_dims = numbers = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zero_dims = d if zero_dims is None else promote_types(zero_dims, d)
        else:
            d = scalar_dtype(x)
            numbers = d if numbers is None else promote_types(numbers, d)
    return _combine(dims, _combine(zero_dims, numbers))


def can_cast(from_: dtype, to: dtype) -> bool:
    """torch.can_cast: in-place results may not go down a category (float into an int tensor)."""
    try:
        return from_.category <= to.category
    except AttributeError:
        source = _dtype_argument(from_, "can_cast", "from_", 1)
        return source.category <= _dtype_argument(to, "can_cast", "to", 2).category


def to_float(d: dtype) -> dtype:
    """Integer and bool inputs of floating ops (exp, true division, ...) compute in the default."""
    return d if d.category == FLOATING else _default_float


class finfo:  # noqa: N801 - torch.finfo
    """Machine limits of a floating dtype: ``torch.finfo(torch.float32).eps``."""

    def __init__(self, type=None):  # noqa: A002 - torch's argument name
        d = _default_float if type is None else _dtype_argument(type, "finfo", "type", 1)
        if d.category != FLOATING:
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                "'torch.finfo'"
            )
        info = np.finfo(d.np)
        self.bits = info.bits
        self.eps = float(info.eps)
        self.max = float(info.max)
        self.min = float(info.min)
        self.tiny = self.smallest_normal = float(info.smallest_normal)
        self.resolution = 10.0**-info.precision  # (NumPy's is rounded to the dtype)
        self.dtype = d.name

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - torch.iinfo
    """Limits of an integer dtype: ``torch.iinfo(torch.int32).max``."""

    def __init__(self, type=None):  # noqa: A002 - torch's argument name
        if type is None:
            raise TypeError('iinfo() missing 1 required positional arguments: "type"')
        d = _dtype_argument(type, "iinfo", "type", 1)
        if d is bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.category != INTEGER:
            raise TypeError(
                "torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                "'torch.iinfo'"
            )
        info = np.iinfo(d.np)
        self.bits = info.bits
        self.max = int(info.max)
        self.min = int(info.min)
        self.dtype = d.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"

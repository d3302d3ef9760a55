"""The checking API that hidden tests call: ``check(name, value)``.

A hidden test never decides a grade inside the student's kernel. It only *reports* each graded
answer, as a JSON record on a display message with its own MIME type; the grader process reads
those records from the executed notebook and compares them with the torch reference records,
which it computed itself by running the instructor's solution under real torch. So a student
who monkeypatches ``allclose`` or ``assert`` changes nothing, and an answer that never arrives
(a crash, suppressed cells) scores 0 and is flagged.

This module runs inside student kernels: it imports neither torch nor autograd_lite, and
recognises tensors of both by duck typing. ``describe`` and ``compare`` are pure functions on
JSON records, shared by the kernel side and the grader side.
"""

from __future__ import annotations

import math
from typing import Any

MIME_TYPE = "application/vnd.autograd-course.answer+json"

# Default tolerances for floating values: float32 arithmetic done in a different order
# (NumPy vs torch kernels) differs in the last bits, so a few ulps of float32.
DEFAULT_RTOL = 1e-5
DEFAULT_ATOL = 1e-6


def check(
    name: str,
    value: Any,
    *,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    grad_fn: bool = False,
) -> None:
    """Report the graded answer ``name``. Tolerances and ``grad_fn`` (also compare the
    tensor's grad_fn name and requires_grad) are read from the *reference* run only."""
    record = {
        "name": str(name),
        "value": describe(value),
        "rtol": float(rtol),
        "atol": float(atol),
        "grad_fn": bool(grad_fn),
    }
    _publish(record)


def _publish(record: dict) -> None:
    try:
        from IPython.display import publish_display_data
    except ImportError:  # plain Python: nothing to report to
        return
    text = f"answer {record['name']!r} recorded for grading"
    publish_display_data({MIME_TYPE: record, "text/plain": text})


# --------------------------------------------------------------------------- describe


def _is_tensor(value: Any) -> bool:
    module = type(value).__module__.split(".")[0]
    return type(value).__name__ == "Tensor" and module in {"torch", "autograd_lite"}


def _is_dtype(value: Any) -> bool:
    module = type(value).__module__.split(".")[0]
    return type(value).__name__ == "dtype" and module in {"torch", "autograd_lite"}


def _number(x: Any) -> Any:
    """JSON has no NaN/inf: spell them as strings."""
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _nested(values: Any) -> Any:
    if isinstance(values, list):
        return [_nested(v) for v in values]
    return _number(values)


def describe(value: Any) -> dict:
    """A JSON-able record of an answer: tensors by dtype, shape, values (and grad facts),
    dtypes by their torch name, exceptions by class and first line, containers recursively."""
    if value is None:
        return {"kind": "none"}
    if _is_tensor(value):
        grad_fn = getattr(value, "grad_fn", None)
        data = value.detach()
        return {
            "kind": "tensor",
            "dtype": str(value.dtype),
            "shape": list(value.shape),
            "values": _nested(data.tolist()),
            "requires_grad": bool(value.requires_grad),
            "grad_fn": None if grad_fn is None else grad_fn.name(),
        }
    if _is_dtype(value):
        return {"kind": "dtype", "name": str(value)}
    if isinstance(value, bool):
        return {"kind": "bool", "value": value}
    if isinstance(value, int | float):
        return {"kind": "number", "value": _number(value)}
    if isinstance(value, str):
        return {"kind": "str", "value": value}
    if isinstance(value, BaseException):
        first = str(value).strip().splitlines()[0] if str(value).strip() else ""
        return {"kind": "exception", "type": type(value).__name__, "message": first}
    if isinstance(value, type) and issubclass(value, BaseException):
        return {"kind": "exception", "type": value.__name__, "message": None}
    if isinstance(value, dict):
        return {"kind": "mapping", "items": {str(k): describe(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):  # torch.Size is a tuple
        return {"kind": "sequence", "items": [describe(v) for v in value]}
    if type(value).__module__ == "numpy" or hasattr(value, "__array_interface__"):
        import numpy as np

        array = np.asarray(value)
        if array.ndim == 0:
            return describe(array.item())
        return {
            "kind": "array",
            "dtype": str(array.dtype),
            "shape": list(array.shape),
            "values": _nested(array.tolist()),
        }
    return {"kind": "other", "type": type(value).__name__, "repr": repr(value)[:200]}


# --------------------------------------------------------------------------- compare
#
# The student's record is attacker-controlled JSON: a student can replace ``describe`` or
# poison ``sys.modules`` and report anything. So its structure is checked against the
# reference record before any value is compared, everything that decides *how* to compare
# (tolerances, grad_fn, dtype family, shape) comes from the reference alone, and the walk
# follows the reference's structure: a student's record nested 10,000 deep is never recursed
# into. Every reason names what differs, never the reference's value: reasons go into feedback.

MALFORMED = "the reported answer is malformed"
NO_REFERENCE = "the reference answer is malformed (instructor error)"
_NOT_NESTED = "the values are not nested as the shape says"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_SHOWN = 60  # characters of the student's own text quoted back in a reason


def compare(
    got: Any,
    want: Any,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    grad_fn: bool = False,
) -> str | None:
    """None when the student's record ``got`` matches the reference ``want``, else a short
    reason. Never raises, whatever ``got`` is."""
    try:
        return _compare(got, want, rtol, atol, grad_fn)
    except RecursionError:  # only a reference nested absurdly deep gets here
        return NO_REFERENCE


def _compare(got: Any, want: Any, rtol: float, atol: float, grad_fn: bool) -> str | None:
    if not isinstance(want, dict) or not isinstance(want.get("kind"), str):
        return NO_REFERENCE
    if not isinstance(got, dict) or not isinstance(got.get("kind"), str):
        return MALFORMED
    kind, got_kind = want["kind"], got["kind"]
    if got_kind != kind and not {got_kind, kind} <= {"number", "bool"}:
        # Never name the reference's kind: for a "predict" answer ("RuntimeError" or
        # torch.float32?) the kind alone would give the answer away.
        name = _kind_name(got_kind)
        return (
            f"got {'an' if name[0] in 'aeiou' else 'a'} {name}; torch's answer is of another kind"
        )
    compare_kind = _COMPARERS.get(kind, _compare_other)
    return compare_kind(got, want, rtol, atol, grad_fn)


def _compare_tensor(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    dtype, shape = want.get("dtype"), _shape(want.get("shape"))
    if not isinstance(dtype, str) or shape is None:
        return NO_REFERENCE
    got_shape = _shape(got.get("shape"))
    if not isinstance(got.get("dtype"), str):
        return "the dtype is malformed"
    if got["dtype"] != dtype:
        return f"dtype is {_cut(got['dtype'])}; torch's is different"
    if got_shape is None:
        return "the shape is malformed"
    if got_shape != shape:
        return f"shape is {_cut(str(tuple(got_shape)))}; torch's is different"
    if grad_fn and want["kind"] == "tensor":
        reason = _grad_facts_message(got, want)
        if reason:
            return reason
    return _values_message(got.get("values"), want.get("values"), shape, dtype, rtol, atol)


def _shape(shape: Any) -> list[int] | None:
    """``shape`` if it is a list of non-negative ints (bools are not sizes), else None."""
    if not isinstance(shape, list):
        return None
    if not all(type(size) is int and size >= 0 for size in shape):
        return None
    return shape


def _grad_facts_message(got: dict, want: dict) -> str | None:
    requires_grad, grad_fn = got.get("requires_grad"), got.get("grad_fn")
    if not isinstance(requires_grad, bool):
        return "requires_grad is malformed"
    if grad_fn is not None and not isinstance(grad_fn, str):
        return "grad_fn is malformed"
    if requires_grad != want.get("requires_grad"):
        return f"requires_grad is {requires_grad}; torch's is different"
    if grad_fn != want.get("grad_fn"):
        return f"grad_fn is {_cut(str(grad_fn))}; torch's is different"
    return None


def _leaves(values: Any, shape: list[int]) -> list | None:
    """The leaves of ``values`` if they are nested exactly as ``shape`` says (a 0-d tensor is
    its one leaf), else None. Walks level by level, never deeper than ``len(shape)``."""
    level = [values]
    for size in shape:
        below = []
        for item in level:
            if not isinstance(item, list) or len(item) != size:
                return None
            below.extend(item)
        level = below
    return level


def _number_leaf(x: Any) -> int | float | None:
    """A leaf of a numeric record: a JSON number, or "nan"/"inf"/"-inf" as a float; None
    for anything else (a bool is not a number here, "NaN" or "1.0" are not numbers)."""
    if isinstance(x, str):
        return _NON_FINITE.get(x)
    if isinstance(x, bool) or not isinstance(x, int | float):
        return None
    return x


def _truth(x: Any) -> bool | None:
    """A leaf of a bool record: True or False only."""
    return x if isinstance(x, bool) else None


def _is_bool_dtype(dtype: str) -> bool:
    return dtype.rsplit(".", 1)[-1] == "bool"  # "torch.bool", NumPy's "bool"


def _values_message(
    got: Any, want: Any, shape: list[int], dtype: str, rtol: float, atol: float
) -> str | None:
    want_leaves = _leaves(want, shape)
    if want_leaves is None:
        return NO_REFERENCE
    got_leaves = _leaves(got, shape)
    if got_leaves is None:
        return _NOT_NESTED
    boolean = _is_bool_dtype(dtype)
    read = _truth if boolean else _number_leaf
    got_leaves = [read(x) for x in got_leaves]
    if any(x is None for x in got_leaves):
        return "a value is not True or False" if boolean else "a value is not a number"
    bad = [
        i
        for i, (g, w) in enumerate(zip(got_leaves, map(read, want_leaves), strict=True))
        if w is None or not (g == w if boolean else _close(g, w, rtol, atol))
    ]
    if not bad:
        return None
    return f"{len(bad)} of {len(want_leaves)} values differ from torch's (first at flat index {bad[0]})"


def _close(got: int | float, want: int | float, rtol: float, atol: float) -> bool:
    """Within tolerance; non-finite values match only the same non-finite value."""
    if got == want:  # exact, also for ints beyond float range
        return True
    try:
        g, w = float(got), float(want)
    except OverflowError:  # an int beyond float range that is not exactly the reference
        return False
    if math.isnan(g) or math.isnan(w):
        return math.isnan(g) and math.isnan(w)
    if math.isinf(g) or math.isinf(w):
        return False  # equal infinities were caught above
    return abs(g - w) <= atol + rtol * abs(w)


def _compare_scalar(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    differs = "the value differs from torch's"
    if want["kind"] == "bool":
        if got["kind"] != "bool":
            return "expected True or False"
        if not isinstance(want.get("value"), bool):
            return NO_REFERENCE
        if not isinstance(got.get("value"), bool):
            return MALFORMED
        return None if got["value"] == want["value"] else differs
    wanted = _number_leaf(want.get("value"))
    if wanted is None:
        return NO_REFERENCE
    if got["kind"] == "bool":  # as ever, True and False stand for exactly 1 and 0
        if not isinstance(got.get("value"), bool):
            return MALFORMED
        return None if got["value"] == wanted else differs
    value = _number_leaf(got.get("value"))
    if value is None:
        return "the value is not a number"
    return None if _close(value, wanted, rtol, atol) else differs


def _compare_text(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    key = "name" if want["kind"] == "dtype" else "value"
    value, wanted = got.get(key), want.get(key)
    if not isinstance(wanted, str):
        return NO_REFERENCE
    if not isinstance(value, str):
        return MALFORMED
    return (
        None if value.strip() == wanted.strip() else f"{_quoted(value)} is not the expected answer"
    )


def _compare_exception(
    got: dict, want: dict, rtol: float, atol: float, grad_fn: bool
) -> str | None:
    kind, message = got.get("type"), got.get("message")
    if not isinstance(kind, str) or not (message is None or isinstance(message, str)):
        return MALFORMED
    if kind != want.get("type"):
        return f"{_cut(kind)} is not the exception torch raises"
    if want.get("message") is not None and message != want["message"]:
        return "the exception's message differs from torch's"
    return None


def _compare_sequence(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    items, wanted = got.get("items"), want.get("items")
    if not isinstance(wanted, list):
        return NO_REFERENCE
    if not isinstance(items, list):
        return MALFORMED
    if len(items) != len(wanted):
        return f"{len(items)} items; expected {len(wanted)}"
    for i, (g, w) in enumerate(zip(items, wanted, strict=True)):
        reason = _compare(g, w, rtol, atol, grad_fn)
        if reason:
            return f"item {i}: {reason}"
    return None


def _compare_mapping(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    items, wanted = got.get("items"), want.get("items")
    if not isinstance(wanted, dict):
        return NO_REFERENCE
    if not isinstance(items, dict) or not all(isinstance(key, str) for key in items):
        return MALFORMED
    if set(items) != set(wanted):
        return "the keys differ from the expected ones"
    for key, w in wanted.items():
        reason = _compare(items[key], w, rtol, atol, grad_fn)
        if reason:
            return f"[{_quoted(str(key))}]: {reason}"
    return None


def _compare_none(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    return None


def _compare_other(got: dict, want: dict, rtol: float, atol: float, grad_fn: bool) -> str | None:
    """Objects ``describe`` does not know, by class name and repr."""
    fields = ("type", "repr")
    if not all(isinstance(got.get(key), str) for key in fields):
        return MALFORMED
    same = all(got[key] == want.get(key) for key in fields)
    return None if same else "the answer differs from the expected one"


_COMPARERS = {
    "tensor": _compare_tensor,
    "array": _compare_tensor,
    "number": _compare_scalar,
    "bool": _compare_scalar,
    "str": _compare_text,
    "dtype": _compare_text,
    "exception": _compare_exception,
    "sequence": _compare_sequence,
    "mapping": _compare_mapping,
    "none": _compare_none,
}


def _cut(text: str) -> str:
    """The student's own text, short enough to quote back in a reason."""
    return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."


def _quoted(text: str) -> str:
    return repr(_cut(text))


def _kind_name(kind: str) -> str:
    return {
        "tensor": "tensor",
        "array": "NumPy array",
        "dtype": "dtype",
        "number": "number",
        "bool": "bool",
        "str": "string",
        "exception": "exception",
        "sequence": "tuple or list",
        "mapping": "dict",
        "none": "None",
        "other": "other object",
    }.get(kind, "value of an unknown kind")

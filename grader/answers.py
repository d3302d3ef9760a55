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


def _as_float(x: Any) -> float:
    return float(x) if isinstance(x, str) else float(x)


def _flat(values: Any) -> list:
    if isinstance(values, list):
        out = []
        for v in values:
            out.extend(_flat(v))
        return out
    return [values]


def _close(a: Any, b: Any, rtol: float, atol: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    fa, fb = _as_float(a), _as_float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    if math.isinf(fa) or math.isinf(fb):
        return fa == fb
    return abs(fa - fb) <= atol + rtol * abs(fb)


def _values_message(got: list, want: list, rtol: float, atol: float) -> str | None:
    bad = [i for i, (g, w) in enumerate(zip(got, want)) if not _close(g, w, rtol, atol)]
    if not bad:
        return None
    return f"{len(bad)} of {len(want)} values differ from torch's (first at flat index {bad[0]})"


def compare(
    got: dict,
    want: dict,
    rtol: float = DEFAULT_RTOL,
    atol: float = DEFAULT_ATOL,
    grad_fn: bool = False,
) -> str | None:
    """None when the student's record ``got`` matches the reference ``want``, else a short
    reason. Reasons name *what* differs, never the reference value: they go into feedback."""
    kind = want["kind"]
    if got.get("kind") != kind and not {got.get("kind"), kind} <= {"number", "bool"}:
        return f"expected a {_kind_name(kind)}, got a {_kind_name(got.get('kind'))}"
    if kind in {"tensor", "array"}:
        if got["dtype"] != want["dtype"]:
            return f"dtype is {got['dtype']}; torch's is different"
        if got["shape"] != want["shape"]:
            return f"shape is {tuple(got['shape'])}; torch's is different"
        if grad_fn and kind == "tensor":
            if got["requires_grad"] != want["requires_grad"]:
                return f"requires_grad is {got['requires_grad']}; torch's is different"
            if got["grad_fn"] != want["grad_fn"]:
                return f"grad_fn is {got['grad_fn']}; torch's is different"
        return _values_message(_flat(got["values"]), _flat(want["values"]), rtol, atol)
    if kind in {"number", "bool"}:
        if kind == "bool" and got["kind"] != "bool":
            return "expected True or False"
        if _close(got["value"], want["value"], rtol, atol):
            return None
        return "the value differs from torch's"
    if kind in {"str", "dtype"}:
        g = got.get("value", got.get("name"))
        w = want.get("value", want.get("name"))
        return None if str(g).strip() == str(w).strip() else f"{g!r} is not the expected answer"
    if kind == "exception":
        if got["type"] != want["type"]:
            return f"{got['type']} is not the exception torch raises"
        if want["message"] is not None and got["message"] != want["message"]:
            return "the exception's message differs from torch's"
        return None
    if kind == "sequence":
        if len(got["items"]) != len(want["items"]):
            return f"{len(got['items'])} items; expected {len(want['items'])}"
        for i, (g, w) in enumerate(zip(got["items"], want["items"])):
            reason = compare(g, w, rtol, atol, grad_fn)
            if reason:
                return f"item {i}: {reason}"
        return None
    if kind == "mapping":
        if set(got["items"]) != set(want["items"]):
            return "the keys differ from the expected ones"
        for key, w in want["items"].items():
            reason = compare(got["items"][key], w, rtol, atol, grad_fn)
            if reason:
                return f"[{key!r}]: {reason}"
        return None
    if kind == "none":
        return None
    return None if got == want else "the answer differs from the expected one"


def _kind_name(kind: str | None) -> str:
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
    }.get(kind or "", str(kind))

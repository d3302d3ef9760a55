"""Print tensors exactly the way torch 2.13 does, using only NumPy.

This is a port of ``torch/_tensor_str.py`` (dense, strided, real dtypes only).  Each
private helper names the torch function it mirrors, so the two can be compared side by
side when torch's output changes.  Every number is turned into a Python scalar (via
``tolist``) before it is formatted, because torch formats Python floats/ints too; that
is what makes rounding, ``nan``/``inf`` and ``-0.`` come out identically.

Nothing here may import torch: the package must work with NumPy alone.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np


@dataclasses.dataclass
class _PrintOptions:
    """Mirrors ``torch._tensor_str.__PrinterOptions`` (same fields, same defaults)."""

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


# Module-level state, like torch's ``PRINT_OPTS``.
_OPTS = _PrintOptions()

_PROFILES: dict[str, dict[str, float]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# Dtypes torch treats as "default" besides the default float dtype.  Empty tensors are the
# one place where torch shows them anyway (see ``_empty_tensor_suffixes``).
_ALWAYS_DEFAULT_DTYPES = ("torch.int64", "torch.bool")


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set printing options; mirrors ``torch.set_printoptions``.

    A profile ("default", "short" or "full") is applied first and explicit arguments
    override it; an unknown profile is silently ignored, as in torch.  Like torch,
    ``sci_mode`` is always assigned, so any call without it resets it to ``None`` (auto).
    """
    if profile in _PROFILES:
        for name, value in _PROFILES[profile].items():
            setattr(_OPTS, name, value)
    overrides = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "linewidth": linewidth,
    }
    for name, value in overrides.items():
        if value is not None:
            setattr(_OPTS, name, value)
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current options as a dict usable as ``**kwargs`` of ``set_printoptions``."""
    return dataclasses.asdict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily change print options; mirrors ``torch._tensor_str.printoptions``."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """Mirrors ``torch._tensor_str._Formatter``.

    One formatter is built from (the summarized part of) the whole tensor so that all
    elements share one style and one column width.
    """

    def __init__(self, values: np.ndarray) -> None:
        self.floating_dtype = values.dtype.kind == "f"
        self.int_mode = True  # floats that are all integers print as "1."
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating_dtype:
            # ints and bools print as Python's str(): "7", "True".
            widths = [len(f"{value}") for value in flat.tolist()]
            self.max_width = max([self.max_width, *widths])
            return
        # Zeros, nan and inf never influence the style (they format the same either way).
        nonzero_finite = flat[np.isfinite(flat) & (flat != 0)]
        if nonzero_finite.size == 0:
            # torch returns here, before consulting PRINT_OPTS.sci_mode.
            return
        self.int_mode = bool(np.all(nonzero_finite == np.ceil(nonzero_finite)))
        self.sci_mode = self._wants_sci_mode(nonzero_finite)
        self.max_width = max([self.max_width, *self._float_widths(nonzero_finite.tolist())])

    @staticmethod
    def _wants_sci_mode(nonzero_finite: np.ndarray) -> bool:
        """torch's rule: wide dynamic range, huge or tiny values switch to 1.0000e+08."""
        if _OPTS.sci_mode is not None:
            return _OPTS.sci_mode
        # torch converts to double first so that float16 cannot overflow in the ratio.
        magnitudes = np.abs(nonzero_finite).astype(np.float64)
        smallest, largest = float(magnitudes.min()), float(magnitudes.max())
        return largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4

    def _float_widths(self, values: list[float]) -> list[int]:
        precision = _OPTS.precision
        if self.sci_mode:
            return [len(f"{value:.{precision}e}") for value in values]
        if self.int_mode:
            # +1 for the trailing "." that marks a float dtype.
            return [len(f"{value:.0f}") + 1 for value in values]
        return [len(f"{value:.{precision}f}") for value in values]

    def width(self) -> int:
        return self.max_width

    def format(self, value: float | int | bool) -> str:
        """Format one Python scalar, right-aligned to the shared column width."""
        precision = _OPTS.precision
        if not self.floating_dtype:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        return text.rjust(self.max_width)


def _summarized_data(values: np.ndarray) -> np.ndarray:
    """Mirrors ``get_summarized_data``: only the elements that will be displayed.

    The formatter is built from these, so hidden elements never widen the columns.
    """
    edge = _OPTS.edgeitems
    if values.ndim == 0:
        return values
    if values.ndim == 1:
        if values.shape[0] > 2 * edge:
            # Note values[-0:] is the whole vector; torch has the same quirk for edgeitems=0.
            return np.concatenate((values[:edge], values[-edge:]))
        return values
    if not edge:
        return np.empty((0,) * values.ndim, dtype=values.dtype)
    rows = list(range(values.shape[0]))
    if len(rows) > 2 * edge:
        rows = rows[:edge] + rows[-edge:]
    return np.stack([_summarized_data(values[i]) for i in rows])


def _vector_str(vector: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """Mirrors ``_vector_str``: one bracketed row, wrapped to fit ``linewidth``."""
    edge = _OPTS.edgeitems
    element_length = formatter.width() + 2  # ", " between elements
    elements_per_line = max(1, math.floor((_OPTS.linewidth - indent) / element_length))
    if summarize and not edge:
        data = ["..."]
    elif summarize and vector.shape[0] > 2 * edge:
        head = [formatter.format(v) for v in vector[:edge].tolist()]
        tail = [formatter.format(v) for v in vector[-edge:].tolist()]
        data = head + [" ..."] + tail
    else:
        data = [formatter.format(v) for v in vector.tolist()]
    lines = [
        ", ".join(data[i : i + elements_per_line]) for i in range(0, len(data), elements_per_line)
    ]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str_with_formatter(
    values: np.ndarray, indent: int, summarize: bool, formatter: _Formatter
) -> str:
    """Mirrors ``_tensor_str_with_formatter``: recurse over the first dimension."""
    if values.ndim == 0:
        return formatter.format(values.item())  # mirrors _scalar_str
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, formatter)
    edge = _OPTS.edgeitems
    count = values.shape[0]

    def sub(i: int) -> str:
        return _tensor_str_with_formatter(values[i], indent + 1, summarize, formatter)

    if summarize and count > 2 * edge:
        slices = [sub(i) for i in range(edge)] + ["..."]
        slices += [sub(i) for i in range(count - edge, count)]
    else:
        slices = [sub(i) for i in range(count)]
    # A 3-D tensor separates its 2-D slices with one blank line, 4-D with two, and so on.
    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(slices) + "]"


def _tensor_str(values: np.ndarray, indent: int) -> str:
    """Mirrors ``_tensor_str``: the bracketed body, without prefix or suffixes."""
    if values.size == 0:
        return "[]"
    summarize = values.size > _OPTS.threshold
    formatter = _Formatter(_summarized_data(values) if summarize else values)
    return _tensor_str_with_formatter(values, indent, summarize, formatter)


def _add_suffixes(tensor_str: str, suffixes: Sequence[str], indent: int) -> str:
    """Mirrors ``_add_suffixes`` (``force_newline`` is only for sparse tensors).

    A suffix moves to its own indented line when it would push the current line past
    ``linewidth``.
    """
    parts = [tensor_str]
    # torch's arithmetic, kept verbatim: it over-counts by 2 when there is no newline.
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def _empty_tensor_suffixes(values: np.ndarray, dtype_name: str, show_dtype: bool) -> list[str]:
    """Suffixes torch's ``_str_intern`` adds for a tensor with no elements.

    The shape is shown unless it is 1-D, and the dtype is shown for everything except the
    default float dtype (an empty int64 or bool tensor cannot be told apart otherwise).
    """
    suffixes = []
    if values.ndim != 1:
        suffixes.append(f"size={tuple(values.shape)}")
    if show_dtype or dtype_name in _ALWAYS_DEFAULT_DTYPES:
        suffixes.append(f"dtype={dtype_name}")
    return suffixes


def format_tensor(
    values: np.ndarray,
    *,
    dtype_name: str,
    show_dtype: bool,
    suffixes: Sequence[str] = (),
    prefix: str = "tensor(",
) -> str:
    """Return ``repr`` of a tensor exactly as torch 2.13 writes it (mirrors ``_str_intern``).

    ``values``: the data, any shape (0-d included), dtype bool/(u)int/float.
    ``dtype_name``: e.g. ``"torch.float64"``.
    ``show_dtype``: torch's rule, decided by the caller: True unless the dtype is the
    default float dtype, int64 or bool.  (For empty tensors int64/bool are shown anyway.)
    ``suffixes``: extra entries such as ``"grad_fn=<MulBackward0>"`` or
    ``"requires_grad=True"``, placed after ``size=``/``dtype=`` in the given order.
    ``prefix``: the opening text; continuation lines are indented by its length.
    """
    values = np.asarray(values)
    indent = len(prefix)
    if values.size == 0:
        all_suffixes = _empty_tensor_suffixes(values, dtype_name, show_dtype)
        body = "[]"
    else:
        all_suffixes = []
        if not _OPTS.edgeitems:
            # With edgeitems=0 the body is just "[...]", so torch reports the shape.
            all_suffixes.append(f"size={tuple(values.shape)}")
        if show_dtype:
            all_suffixes.append(f"dtype={dtype_name}")
        body = _tensor_str(values, indent)
    all_suffixes.extend(suffixes)
    return _add_suffixes(prefix + body, all_suffixes, indent)


def tensor_repr(t) -> str:
    """``repr(tensor)`` as torch writes it, with ``requires_grad``/``grad_fn`` suffixes."""
    from ._dtype import get_default_dtype

    dtype = t.dtype
    suffixes = []
    try:
        grad_fn = t.grad_fn
    except RuntimeError:  # a view whose history cannot be brought up to date (refresh_view)
        suffixes.append("grad_fn=<Invalid>")
        grad_fn = False
    if grad_fn:
        suffixes.append(f"grad_fn=<{grad_fn.short_name}>")
    elif grad_fn is None and t.requires_grad:
        suffixes.append("requires_grad=True")
    # torch names the dtype unless it is what the values would be inferred as anyway.
    show_dtype = dtype.name not in (get_default_dtype().name, "int64", "bool")
    return format_tensor(
        np.asarray(t._data), dtype_name=repr(dtype), show_dtype=show_dtype, suffixes=suffixes
    )

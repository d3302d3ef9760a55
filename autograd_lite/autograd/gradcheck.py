"""``gradcheck`` and ``gradgradcheck``: compare backward with finite differences, as torch does.

``gradcheck(func, inputs)`` computes, for every output of ``func`` that requires grad and every
input that requires grad, two Jacobians ``J[row, col] = d output[row] / d input[col]``:

* the *analytical* one, row by row from the backward pass: row ``r`` is
  ``autograd.grad(output, inputs, grad_outputs=e_r)``, with ``e_r`` one-hot;
* the *numerical* one, column by column from central differences: column ``c`` is
  ``(func(x + eps e_c) - func(x - eps e_c)) / (2 eps)``, the input perturbed in place.

They must agree within ``|analytical - numerical| <= atol + rtol * |numerical|`` (torch's
``allclose``).  The checks, their order, their tolerances and the first line of every error are
torch's (``torch/autograd/gradcheck.py``); a mismatch raises :class:`GradcheckError` (a
RuntimeError) with torch's first line, ``Jacobian mismatch for output 0 with respect to input 0,``,
followed by the two Jacobians side by side and the worst element, so that the wrong entry of a
hand-written ``backward`` is easy to find.  With ``raise_exception=False`` a failed check returns
False instead (other errors, such as an exception inside ``backward``, still propagate).

Then, as in torch: the analytical Jacobian must come out the same when computed twice (up to
``nondet_tol``), a zero grad_output must give zero gradients ("backward not multiplied by
grad_output"), and with ``check_undefined_grad`` backward must cope with outputs that get no
gradient (autograd_lite has no undefined gradients: zeros, and each output left out in turn).

``gradgradcheck`` applies the same check to the function ``(inputs, v) -> v^T J`` built with
``create_graph=True``: it checks second derivatives (the backward of the backward).  Unless
given, the grad_outputs ``v`` are random in [-1, 1), from the library's global generator (as
torch's come from torch's).

What autograd_lite cannot check: forward-mode AD (``check_forward_ad=True`` and
``check_fwd_over_rev=True`` raise NotImplementedError) and batched gradients (there is no vmap:
``check_batched_grad=True`` is accepted and checks nothing more).  Sparse tensors do not exist
here, so ``masked`` changes nothing.  Fast mode (``fast_mode=True``) is torch's: it compares
``v^T J u`` for random unit vectors ``u`` and ``v`` (drawn from a private NumPy generator, so
the user's random state is untouched) and, when that fails, reports the full Jacobians.
"""

from __future__ import annotations

import sys
import types
import warnings

import numpy as np

from .. import Tensor, float64, from_numpy, rand, zeros_like
from .._dtype import FROM_NUMPY
from .._engine import _NodeHook, _OutputHook
from . import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(RuntimeError):
    """Error raised by :func:`gradcheck` and :func:`gradgradcheck`."""


FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""

FAST_FAIL_SLOW_OK_MSG = """
Fast gradcheck failed but element-wise differences are small. This means that the
test might've passed in slow_mode!

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck:

If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `fast_mode=False` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_fast_mode=False`
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_fast_mode=False`
""".strip()

NO_FORWARD_AD = (
    "autograd_lite has no forward-mode AD, so {what} cannot be checked; use the default "
    "{default} (which checks the backward pass)"
)

# How much of a Jacobian the error message shows (rows, and columns on each side).
_MAX_ROWS = 10
_MAX_COLS = 6


# --------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------


def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _requires_grad(x) -> bool:
    return isinstance(x, Tensor) and x.requires_grad


def _differentiable_outputs(x) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _np_dtype(t: Tensor) -> np.dtype:
    return t.detach().numpy().dtype


def _user_stacklevel() -> int:
    """The ``stacklevel`` that makes the caller's warning point at the user's code."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename == __file__:
        frame, level = frame.f_back, level + 1
    return level


def _check_inputs(tupled_inputs) -> None:
    """torch's checks: a warning for non-double inputs, errors for overlapping or no inputs."""
    any_input_requiring_grad = False
    for idx, inp in enumerate(tupled_inputs):
        if not _requires_grad(inp):
            continue
        if _np_dtype(inp) != np.float64:
            warnings.warn(
                f"Input #{idx} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double "
                "precision floating point or complex. ",
                UserWarning,
                stacklevel=_user_stacklevel(),
            )
        if not all(st > 0 or sz <= 1 for st, sz in zip(inp.stride(), inp.size())):
            raise RuntimeError(
                f"The {idx}th input has a dimension with stride 0. gradcheck only supports inputs "
                "that are non-overlapping to be able to compute the numerical gradients "
                "correctly. You should call .contiguous on the input before passing it to "
                "gradcheck."
            )
        any_input_requiring_grad = True
    if not any_input_requiring_grad:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of them "
            "have requires_grad=True."
        )


# --------------------------------------------------------------------------------------------
# Numerical Jacobians: central differences, perturbing the inputs in place
# --------------------------------------------------------------------------------------------


def _float_outputs(out) -> list:
    """Copies (NumPy, their own dtype) of the floating-point tensor outputs of one call."""
    return [
        np.array(o.detach().numpy())
        for o in _as_tuple(out)
        if isinstance(o, Tensor) and o.is_floating_point()
    ]


def _difference(a: np.ndarray, b: np.ndarray, idx, eps) -> np.ndarray:
    """``(b - a) / (2 eps)`` in float64, after torch's checks that the perturbation changed
    neither the shape nor the dtype of the output."""
    on_index = f"on index {idx} " if idx is not None else ""
    if a.shape != b.shape:
        raise AssertionError(
            "Expected `func` to return outputs with the same shape when inputs are perturbed "
            f"{on_index}by {eps}, but got: shapes {_size(a.shape)} and {_size(b.shape)}."
        )
    if a.dtype != b.dtype:
        raise AssertionError(
            "Expected `func` to return outputs with the same dtype when inputs are perturbed "
            f"{on_index}by {eps}, but got: dtypes {_dtype_name(a)} and {_dtype_name(b)}."
        )
    return (b.astype(np.float64) - a.astype(np.float64)) / (2 * eps)


def _dtype_name(a: np.ndarray) -> str:
    return str(FROM_NUMPY[a.dtype])


def _size(shape) -> str:
    return f"torch.Size({list(shape)})"


def _numerical_jacobians(func, inputs, func_out, eps) -> list:
    """``[j][k]``: d (float output k) / d (differentiable input j), shape (out numel, in numel).

    Like torch, the input's data is changed in place (so a function that reaches its input by
    another path, or receives the same tensor twice, sees the perturbation too) and restored.
    """
    sizes = [o.size for o in _float_outputs(func_out)]
    result = []
    for inp in inputs:
        if not _requires_grad(inp):
            continue
        data = inp.numpy(force=True)  # the tensor's own memory
        jacobians = [np.zeros((size, data.size)) for size in sizes]
        for col, idx in enumerate(np.ndindex(data.shape)):
            orig = data[idx].copy()
            try:
                data[idx] = orig - eps
                outa = _float_outputs(func(*inputs))
                data[idx] = orig + eps
                outb = _float_outputs(func(*inputs))
            finally:
                data[idx] = orig
            for jacobian, a, b in zip(jacobians, outa, outb):
                jacobian[:, col] = _difference(a, b, idx, eps).reshape(-1)
        result.append(jacobians)
    return result


def _numerical_directional(func, inputs, diff_positions, us, eps) -> list:
    """Fast mode: ``[j][k]`` = J_kj u_j (flattened), perturbing input j along the vector u_j."""
    result = []
    for pos, u in zip(diff_positions, us):
        data = inputs[pos].numpy(force=True)
        orig = data.copy()
        step = (u * eps).reshape(data.shape)
        try:
            data[...] = orig - step
            outa = _float_outputs(func(*inputs))
            data[...] = orig + step
            outb = _float_outputs(func(*inputs))
        finally:
            data[...] = orig
        result.append([_difference(a, b, None, eps).reshape(-1) for a, b in zip(outa, outb)])
    return result


# --------------------------------------------------------------------------------------------
# Analytical Jacobians: one backward pass per output element
# --------------------------------------------------------------------------------------------


def _vjp_rows(output, diff_inputs, grad_outputs):
    """The vector-Jacobian products for each grad_output, flattened, plus size/dtype flags."""
    rows = [np.zeros((len(grad_outputs), inp.numel())) for inp in diff_inputs]
    sizes_ok = types_ok = True
    for r, grad_output in enumerate(grad_outputs):
        grads = _grad(output, diff_inputs, grad_output, retain_graph=True, allow_unused=True)
        for k, (g, inp) in enumerate(zip(grads, diff_inputs)):
            if g is None:
                continue
            if g.shape != inp.shape:
                sizes_ok = False
                if g.numel() != inp.numel():
                    continue
            elif _np_dtype(g) != _np_dtype(inp):
                types_ok = False
            rows[k][r] = g.detach().numpy().reshape(-1)
    return rows, sizes_ok, types_ok


def _one_hots(output) -> list:
    numel, shape, dtype = output.numel(), tuple(output.shape), _np_dtype(output)
    vectors = []
    for r in range(numel):
        e = np.zeros(numel, dtype=dtype)
        e[r] = 1
        vectors.append(from_numpy(e.reshape(shape)))
    return vectors


def _analytical_jacobians(output, diff_inputs, grad_outputs, nondet_tol, check_grad_dtypes):
    """torch's ``_check_analytical_jacobian_attributes``: computed twice (reentrancy check)."""
    rows1, sizes_ok, types_ok = _vjp_rows(output, diff_inputs, grad_outputs)
    rows2, _, _ = _vjp_rows(output, diff_inputs, grad_outputs)
    reentrant = all(a.size == 0 or np.abs(a - b).max() <= nondet_tol for a, b in zip(rows1, rows2))
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with same input and grad_output "
            "multiple times gives different values, although analytical gradient matches "
            f"numerical gradient.The tolerance for nondeterminism was {nondet_tol}."
            + FAILED_NONDET_MSG
        )
    return rows1


def _allclose(a: np.ndarray, n: np.ndarray, rtol, atol) -> bool:
    """torch.allclose(analytical, numerical): |a - n| <= atol + rtol * |n|, NaN never close."""
    return bool(np.all(np.abs(a - n) <= atol + rtol * np.abs(n)))


# --------------------------------------------------------------------------------------------
# The report of a mismatch
# --------------------------------------------------------------------------------------------


def _picked(n: int, limit: int, keep: int, head: int) -> list:
    """Indices to show out of ``n``: the first ``head``, ``keep`` and its neighbours, the last."""
    if n <= limit:
        return list(range(n))
    chosen = set(range(head)) | {keep - 1, keep, keep + 1, n - 1}
    return sorted(i for i in chosen if 0 <= i < n)


def _with_gaps(indices: list) -> list:
    """``indices`` with None where some are skipped (shown as ``...``)."""
    out = []
    for i in indices:
        if out and i != out[-1] + 1:
            out.append(None)
        out.append(i)
    return out


def _index(flat: int, shape) -> str:
    """The multi-index of element ``flat`` of a tensor of ``shape``: ``[1, 0]``."""
    if len(shape) == 0:
        return "[]"
    return "[" + ", ".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _fmt(v: float) -> str:
    return "0" if v == 0 else f"{v:.6g}"


def _outside(a: np.ndarray, n: np.ndarray, rtol, atol) -> np.ndarray:
    return ~(np.abs(a - n) <= atol + rtol * np.abs(n))  # NaN counts as outside


def _worst(a: np.ndarray, n: np.ndarray, rtol, atol) -> tuple:
    """(row, col) of the element furthest outside its tolerance, a NaN first."""
    err = np.abs(a - n)
    allowed = atol + rtol * np.abs(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess = err / allowed
    excess = np.where(np.isnan(excess), np.inf, excess)
    row, col = np.unravel_index(int(np.argmax(excess)), a.shape)
    return int(row), int(col)


def _table(a, n, bad, rows, cols, out_shape, in_shape, eps) -> list:
    """The two Jacobians side by side, ``*`` after each analytical element out of tolerance."""

    def cell(m, r, c):
        if r is None or c is None:
            return "..."
        return _fmt(m[r, c]) + ("*" if m is a and bad[r, c] else "")

    def label(prefix, i, shape):
        if i is None:
            return "..."
        return f"{prefix} {i}" + (f" {_index(i, shape)}" if len(shape) >= 2 else "")

    row_labels = [label("row", r, out_shape) for r in rows]
    col_labels = [label("col", c, in_shape) for c in cols]
    widths = [
        max(len(col_labels[k]), *(len(cell(m, r, c)) for m in (a, n) for r in rows))
        for k, c in enumerate(cols)
    ]

    def half(cells):
        return "".join(x.rjust(w + 2) for x, w in zip(cells, widths))

    title_a = "analytical (backward)"
    title_n = f"numerical (eps={eps:g})"
    half_width = max(len(half(col_labels)), len(title_a), len(title_n))
    lw = max(len(x) for x in row_labels)

    def line(label_text, left, right):
        return f"{label_text.ljust(lw)} {left.rjust(half_width)} | {right.rjust(half_width)}"

    lines = [
        line("", title_a.center(half_width), title_n.center(half_width)).rstrip(),
        line("", half(col_labels), half(col_labels)),
    ]
    for r, text in zip(rows, row_labels):
        lines.append(
            line(text, half([cell(a, r, c) for c in cols]), half([cell(n, r, c) for c in cols]))
        )
    return lines


def _hints(a, n, bad) -> list:
    """What a typical mistake in a backward looks like, when the numbers say so."""
    a_bad, n_bad = a[bad], n[bad]
    if not np.all(np.isfinite(a_bad)):
        return ["hint: backward produced inf or nan"]
    if np.all(a_bad == 0):
        return [
            "hint: backward gives 0 for every mismatching element: a gradient that is missing "
            "(None), detached, or never reaches this input?"
        ]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a_bad / n_bad
    if np.all(np.isfinite(ratio)) and np.allclose(ratio, ratio[0], rtol=1e-4, atol=0):
        return [
            f"hint: analytical / numerical = {ratio[0]:.6g} at every mismatching element: a "
            "constant factor missing or extra in backward?"
        ]
    if a.shape[0] == a.shape[1] and a.shape[0] > 1 and np.allclose(a, n.T, rtol=1e-3, atol=1e-5):
        return [
            "hint: the analytical Jacobian is the transpose of the numerical one: a missing "
            "transpose (.t()) in backward?"
        ]
    return []


def _mismatch_report(a, n, out_shape, in_shape, rtol, atol, eps, in_position, in_index) -> str:
    """Everything after torch's first line: both Jacobians side by side, the worst element."""
    bad = _outside(a, n, rtol, atol)
    row, col = _worst(a, n, rtol, atol)
    rows = _with_gaps(_picked(a.shape[0], _MAX_ROWS, row, head=_MAX_ROWS - 4))
    cols = _with_gaps(_picked(a.shape[1], _MAX_COLS, col, head=1))
    where = (
        f" (argument #{in_position} of func: input {in_index} counts only the inputs that "
        "require grad)"
        if in_position != in_index
        else ""
    )
    lines = [
        f"J[row, col] = d output[row] / d input[col], output {_shape(out_shape)}, input "
        f"{_shape(in_shape)}{where}; the numerical Jacobian is from central differences.",
        *_table(a, n, bad, rows, cols, out_shape, in_shape, eps),
    ]
    if None in rows or None in cols:
        lines.append(
            f"(showing part of the {a.shape[0]} x {a.shape[1]} Jacobians: the first rows and "
            "columns, those around the worst element, and the last)"
        )
    lines.append(
        f"* = outside the tolerance |analytical - numerical| <= atol + rtol * |numerical| "
        f"(atol={atol:g}, rtol={rtol:g}): {int(bad.sum())} of {a.size} elements"
    )
    va, vn = float(a[row, col]), float(n[row, col])
    abs_err = abs(va - vn)
    rel_err = abs_err / abs(vn) if vn != 0 else float("inf")
    lines.append(
        f"worst element: row {row}, col {col} = d output{_index(row, out_shape)} / d input"
        f"{_index(col, in_shape)}: analytical {va:.10g}, numerical {vn:.10g}, "
        f"abs error {abs_err:.4g}, rel error {rel_err:.4g}"
    )
    lines.extend(_hints(a, n, bad))
    lines.append(
        "note: torch prints these Jacobians transposed (one row per input element, one column "
        "per output element)"
    )
    return "\n".join(lines) + "\n"


def _shape(shape) -> str:
    return f"shape {list(shape)}"


def _notallclose_msg(output_idx, input_idx) -> str:
    return f"Jacobian mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"


# --------------------------------------------------------------------------------------------
# The checks
# --------------------------------------------------------------------------------------------


def _diff_positions(tupled_inputs) -> list:
    return [i for i, x in enumerate(tupled_inputs) if _requires_grad(x)]


def _numerical_for_differentiable_outputs(func_out, numerical) -> list:
    """Transpose ``numerical[j][k]`` to ``[i][j]`` over the outputs that require grad."""
    float_outs = [o for o in _as_tuple(func_out) if isinstance(o, Tensor) and o.is_floating_point()]
    keep = [k for k, o in enumerate(float_outs) if o.requires_grad]
    return [[numerical[j][k] for j in range(len(numerical))] for k in keep]


def _check_no_differentiable_outputs(numerical) -> None:
    for per_input in numerical:
        for jac in per_input:
            if np.any(jac != 0):
                raise GradcheckError("Numerical gradient for function expected to be zero")


def _slow_gradcheck(
    func, func_out, tupled_inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol
) -> None:
    numerical_all = _numerical_jacobians(func, tupled_inputs, func_out, eps)
    if not outputs:
        _check_no_differentiable_outputs(numerical_all)
        return
    numerical = _numerical_for_differentiable_outputs(func_out, numerical_all)
    positions = _diff_positions(tupled_inputs)
    diff_inputs = [tupled_inputs[p] for p in positions]
    for i, o in enumerate(outputs):
        analytical = _analytical_jacobians(
            o, diff_inputs, _one_hots(o), nondet_tol, check_grad_dtypes
        )
        for j, (a, n) in enumerate(zip(analytical, numerical[i])):
            if not _allclose(a, n, rtol, atol):
                raise GradcheckError(
                    _notallclose_msg(i, j)
                    + _mismatch_report(
                        a,
                        n,
                        tuple(o.shape),
                        tuple(diff_inputs[j].shape),
                        rtol,
                        atol,
                        eps,
                        positions[j],
                        j,
                    )
                )


def _unit_vector(rng, numel) -> np.ndarray:
    v = rng.random(numel)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def _fast_gradcheck(
    func, func_out, tupled_inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol
) -> None:
    """Compare v^T J u (random u, v) instead of whole Jacobians; report in full on failure."""
    rng = np.random.default_rng(0)  # private, fixed: the user's random state stays untouched
    positions = _diff_positions(tupled_inputs)
    diff_inputs = [tupled_inputs[p] for p in positions]
    us = [_unit_vector(rng, inp.numel()) for inp in diff_inputs]
    vs = [_unit_vector(rng, o.numel()) for o in outputs]
    ju = _numerical_directional(func, tupled_inputs, positions, us, eps)  # [j][float output k]
    if not outputs:
        for per_input in ju:
            for jvp in per_input:
                if jvp.size and np.abs(jvp).max() > nondet_tol:
                    raise GradcheckError("Numerical gradient for function expected to be zero")
        return
    float_outs = [o for o in _as_tuple(func_out) if isinstance(o, Tensor) and o.is_floating_point()]
    keep = [k for k, o in enumerate(float_outs) if o.requires_grad]
    for i, (o, v) in enumerate(zip(outputs, vs)):
        v_tensor = from_numpy(v.astype(_np_dtype(o)).reshape(tuple(o.shape)))
        vj = _analytical_jacobians(o, diff_inputs, [v_tensor], nondet_tol, check_grad_dtypes)
        for j, u in enumerate(us):
            analytical = float(vj[j][0] @ u)
            numerical = float(v @ ju[j][keep[i]])
            tol = atol * float(u.sum()) * float(v.sum())
            if not _allclose(np.array(analytical), np.array(numerical), rtol, tol):
                raise GradcheckError(
                    _notallclose_msg(i, j)
                    + f"numerical:{numerical!r}\nanalytical:{analytical!r}\n\n"
                    + "The above quantities relating the numerical and analytical jacobians are "
                    "computed in fast mode (v^T J u for random unit vectors u and v). Below, we "
                    "recompute numerical and analytical jacobians in slow mode:\n\n"
                    + _slow_report(func, tupled_inputs, o, i, j, positions, eps, rtol, atol)
                )


def _slow_report(func, tupled_inputs, output, i, j, positions, eps, rtol, atol) -> str:
    func_out = func(*tupled_inputs)
    numerical = _numerical_jacobians(func, tupled_inputs, func_out, eps)
    n = _numerical_for_differentiable_outputs(func_out, numerical)[i][j]
    diff_inputs = [tupled_inputs[p] for p in positions]
    a = _vjp_rows(output, diff_inputs, _one_hots(output))[0][j]
    report = _mismatch_report(
        a, n, tuple(output.shape), tuple(diff_inputs[j].shape), rtol, atol, eps, positions[j], j
    )
    if _allclose(a, n, rtol, atol):
        report += "\n" + FAST_FAIL_SLOW_OK_MSG
    return report


def _test_backward_mul_by_grad_output(outputs, tupled_inputs, masked) -> None:
    """With zero grad_outputs, every input gradient must be zero."""
    diff_inputs = [x for x in tupled_inputs if _requires_grad(x)]
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")
    if not outputs:
        return
    grads_input = _grad(outputs, diff_inputs, [zeros_like(o) for o in outputs], allow_unused=True)
    for gi, di in zip(grads_input, diff_inputs):
        if gi is None:
            continue
        values = gi.detach().numpy()
        if masked:
            if not np.allclose(values, 0):
                raise GradcheckError("backward not multiplied by grad_output")
        elif not np.all(values == 0):
            raise GradcheckError("backward not multiplied by grad_output")
        if _np_dtype(gi) != _np_dtype(di):
            raise GradcheckError("grad is incorrect type")
        if gi.shape != di.shape:
            raise GradcheckError("grad is incorrect size")


def _call_tensor_hooks_with_none(outputs) -> None:
    """What torch's undefined gradients reach first: the hooks of the outputs, called with
    None (here the engine sends no gradient at all where torch sends an undefined one)."""
    for out in outputs:
        node = out.grad_fn
        for hook in (node._pre_hooks or ()) if node is not None else ():
            if isinstance(hook, _OutputHook):
                if hook.output_nr == out.output_nr:
                    hook.hook(None)
            elif not isinstance(hook, _NodeHook):
                hook(None)


def _test_undefined_backward_mode(func, outputs, tupled_inputs) -> None:
    """Backward must cope with outputs that receive no gradient.

    torch sends *undefined* gradients; autograd_lite has none, so the check is the nearest
    thing: all-zero gradients for every output, and, for several outputs, leaving each output
    out of the backward call in turn (a custom Function then receives zeros, or None after
    ``ctx.set_materialize_grads(False)``).  Every input gradient must be None or zero.
    """
    diff_inputs = [x for x in tupled_inputs if _requires_grad(x)]
    if not diff_inputs:
        raise GradcheckError("no Tensors requiring grad found in input")

    def warn_bc_breaking():
        warnings.warn(
            "Backwards compatibility: New undefined gradient support checking feature is "
            "enabled by default, but it may break existing callers of this function. If this is "
            'true for you, you can call this function with "check_undefined_grad=False" to '
            "disable the feature",
            stacklevel=_user_stacklevel(),
        )

    def check(outs) -> None:
        if not outs:
            return
        try:
            _call_tensor_hooks_with_none(outs)
            grads_input = _grad(outs, diff_inputs, [zeros_like(o) for o in outs], allow_unused=True)
        except RuntimeError as e:
            warn_bc_breaking()
            raise GradcheckError(
                "Expected backward function to handle undefined output grads. Please look at "
                '"Notes about undefined output gradients" in "tools/autograd/derivatives.yaml"'
            ) from e
        for gi in grads_input:
            if gi is not None and not np.all(gi.detach().numpy() == 0):
                warn_bc_breaking()
                raise GradcheckError(
                    "Expected all input grads to be undefined or zero when all output grads are "
                    'undefined or zero. Please look at "Notes about undefined output gradients" '
                    'in "tools/autograd/derivatives.yaml"'
                )

    check(list(_differentiable_outputs(func(*tupled_inputs))))
    if len(outputs) > 1:
        for left_out in range(len(outputs)):
            outs = _differentiable_outputs(func(*tupled_inputs))
            check([o for k, o in enumerate(outs) if k != left_out])


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against finite differences.

    ``inputs`` is a tensor or a tuple of tensors (and other arguments); the check is with
    respect to every tensor in it with ``requires_grad=True``, which should be float64.  Returns
    True if every analytical Jacobian matches the numerical one within
    ``atol + rtol * |numerical|``; otherwise raises :class:`GradcheckError` showing both
    Jacobians side by side and the worst element, or returns False if
    ``raise_exception=False``.  See the module docstring for what is checked.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True"
        )
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True"
        )
    if check_forward_ad:
        raise NotImplementedError(
            NO_FORWARD_AD.format(what="check_forward_ad=True", default="check_forward_ad=False")
        )
    try:
        _gradcheck_helper(
            func,
            inputs,
            eps,
            atol,
            rtol,
            nondet_tol,
            check_undefined_grad,
            check_grad_dtypes,
            fast_mode,
            masked,
        )
    except GradcheckError:
        if raise_exception:
            raise
        return False
    return True


def _gradcheck_helper(
    func,
    inputs,
    eps,
    atol,
    rtol,
    nondet_tol,
    check_undefined_grad,
    check_grad_dtypes,
    fast_mode,
    masked,
) -> None:
    tupled_inputs = _as_tuple(inputs)
    _check_inputs(tupled_inputs)
    func_out = func(*tupled_inputs)
    outputs = _differentiable_outputs(func_out)
    check = _fast_gradcheck if fast_mode else _slow_gradcheck
    check(func, func_out, tupled_inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol)
    _test_backward_mul_by_grad_output(outputs, tupled_inputs, masked)
    if check_undefined_grad:
        _test_undefined_backward_mode(func, outputs, tupled_inputs)


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, v) -> autograd.grad(func, v)``.

    The backward of ``func`` is run with ``create_graph=True`` for grad_outputs ``v`` (random
    in [-1, 1), requiring grad, unless given), and its result is checked against finite
    differences with respect to both the inputs and ``v``: this fails when a backward is
    correct but not itself correctly differentiable (for example if it detaches something).
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        )
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True"
        )
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True"
        )
    if check_fwd_over_rev:
        raise NotImplementedError(
            NO_FORWARD_AD.format(what="check_fwd_over_rev=True", default="check_fwd_over_rev=False")
        )
    tupled_inputs = _as_tuple(inputs)
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*tupled_inputs))
        tupled_grad_outputs = tuple(
            _random_grad_output(x, gen_non_contig_grad_outputs) for x in outputs
        )
    else:
        tupled_grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(tupled_grad_outputs)
    diff_input_args_indices = {i for i, x in enumerate(tupled_inputs) if _requires_grad(x)}
    diff_grad_output_indices = {i for i, x in enumerate(tupled_grad_outputs) if x.requires_grad}

    def new_func(*args):
        input_args = tuple(
            x.requires_grad_() if i in diff_input_args_indices else x
            for i, x in enumerate(args[:-num_outputs] if num_outputs else args)
        )
        outputs = _differentiable_outputs(func(*input_args))
        grad_outputs = tuple(
            x.requires_grad_() if i in diff_grad_output_indices else x
            for i, x in enumerate(args[-num_outputs:] if num_outputs else ())
        )
        diff_input_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_args_indices)
        grad_inputs = _grad(
            outputs, diff_input_args, grad_outputs, create_graph=True, allow_unused=True
        )
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(
        new_func,
        tupled_inputs + tupled_grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        fast_mode=fast_mode,
        check_forward_ad=check_fwd_over_rev,
        check_backward_ad=check_rev_over_rev,
        masked=masked,
    )


def _random_grad_output(x: Tensor, non_contiguous: bool) -> Tensor:
    """Uniform in [-1, 1), like torch.testing.make_tensor(low=-1, high=1)."""
    dtype = x.dtype if x.is_floating_point() else float64
    shape = tuple(x.shape)
    if non_contiguous:  # every other element of a twice bigger tensor
        t = (rand((*shape, 2), dtype=dtype) * 2 - 1)[..., 0]
    else:
        t = rand(shape, dtype=dtype) * 2 - 1
    return t.requires_grad_()


# ``autograd.gradcheck`` is loaded lazily by ``autograd/__init__.py``; importing this submodule
# makes the import system bind the *module* to the package attribute ``gradcheck``, so later
# lookups of ``autograd.gradcheck`` find the module, not the function.  A callable module keeps
# ``autograd.gradcheck(func, inputs)`` working either way.
class _CallableModule(types.ModuleType):
    def __call__(self, *args, **kwargs):
        return gradcheck(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

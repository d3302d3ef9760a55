"""Differential testing: run the same code with torch and with autograd_lite, compare everything.

A test writes its function once, against the torch API, taking the library as first argument::

    compare(lambda lib, x, y: lib.maximum(x, y) * 2, randn(3, 1), randn(1, 4))

``compare`` calls it with ``lib=torch`` and ``lib=autograd_lite`` on the same inputs and checks
that both agree on every value, dtype, shape, ``grad_fn`` name and ``requires_grad`` of the
result, on the first derivatives and on the second derivatives.  Nothing is hard-coded: torch
computes the expected answer.
"""

from __future__ import annotations

import contextlib
import operator
import re
import warnings

import numpy as np
import torch

import autograd_lite

LIBS = (torch, autograd_lite)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


class const:  # lower case: reads like a function at the call site, const(randn(3))
    """An array that becomes a tensor which does not require grad, even when it is floating."""

    def __init__(self, array):
        self.array = np.asarray(array)


# One seeded stream: test cases are built at import, in file order, so every run (and every
# `-k` selection) sees the same numbers, while two inputs of one case never coincide.
_RNG = np.random.default_rng(0)


def randn(*shape, dtype=np.float64) -> np.ndarray:
    return _RNG.standard_normal(shape).astype(dtype)


def positive(*shape, dtype=np.float64) -> np.ndarray:
    """Values in [0.5, 2]: inside the domain of log, sqrt, reciprocal, ``x ** x``."""
    return _RNG.uniform(0.5, 2.0, shape).astype(dtype)


def distinct(*shape, dtype=np.float64) -> np.ndarray:
    """No two values close to each other or to 0: max/min/relu/abs/clamp stay off their kinks.

    At a kink (a tie, or 0 for relu) torch and autograd_lite may give different one-sided
    derivatives; that is a convention, not a bug, so the inputs keep away from kinks.
    """
    n = int(np.prod(shape))
    step = 1.8 / n
    magnitudes = 0.2 + step * (np.arange(n) + _RNG.uniform(-0.25, 0.25, n))
    values = magnitudes * np.where(np.arange(n) % 2, 1, -1)
    return _RNG.permutation(values).reshape(shape).astype(dtype)


def integers(*shape, low=-5, high=6, dtype=np.int64) -> np.ndarray:
    return _RNG.integers(low, high, shape).astype(dtype)


def _to_tensor(lib, x, grad: bool):
    """NumPy arrays become leaf tensors (floating ones require grad); the rest passes as is."""
    if isinstance(x, const):
        return lib.tensor(x.array)
    if isinstance(x, np.ndarray):
        return lib.tensor(x, requires_grad=grad and x.dtype.kind == "f")
    return x


# --------------------------------------------------------------------------------------------
# Comparing results
# --------------------------------------------------------------------------------------------


def node_name(grad_fn) -> str | None:
    """torch prints the leaf node with its C++ namespace; compare the bare class names."""
    if grad_fn is None:
        return None
    return grad_fn.name().removeprefix("torch::autograd::")


def assert_same(actual, expected, *, atol: float, rtol: float, where="output", graph=True):
    """``actual`` (autograd_lite) is what ``expected`` (torch) is: tensors, tuples, numbers."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, autograd_lite.Tensor), f"{where}: got {type(actual).__name__}"
        assert str(actual.dtype) == str(expected.dtype), f"{where}: dtype"
        assert tuple(actual.shape) == tuple(expected.shape), f"{where}: shape"
        # force: torch's derivatives may be ZeroTensors, which convert only when forced
        a, e = actual.detach().numpy(force=True), expected.detach().numpy(force=True)
        if e.dtype.kind == "f":
            np.testing.assert_allclose(a, e, atol=atol, rtol=rtol, err_msg=where)
        else:
            np.testing.assert_array_equal(a, e, err_msg=where)
        if graph:
            assert actual.requires_grad == expected.requires_grad, f"{where}: requires_grad"
            assert node_name(actual.grad_fn) == node_name(expected.grad_fn), f"{where}: grad_fn"
            if expected.grad_fn is not None:  # type(y.grad_fn).__name__, as tutorials print it
                assert type(actual.grad_fn).__name__ == type(expected.grad_fn).__name__, where
    elif isinstance(expected, (tuple, list)):
        # Also tells torch.Size and torch.return_types.max (a named tuple) from plain tuples.
        assert type(actual).__name__ == type(expected).__name__, f"{where}: type"
        assert len(actual) == len(expected), f"{where}: length"
        for i, (a, e) in enumerate(zip(actual, expected)):
            assert_same(a, e, atol=atol, rtol=rtol, where=f"{where}[{i}]", graph=graph)
    elif isinstance(expected, torch.dtype):
        assert str(actual) == str(expected), f"{where}: dtype"
    else:  # a Python number, bool, string or None
        assert type(actual) is type(expected), f"{where}: {type(actual)} vs {type(expected)}"
        if isinstance(expected, float):
            np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=where)
        else:
            assert actual == expected, where


def _flat_tensors(out) -> list:
    if isinstance(out, (tuple, list)):
        return [t for item in out for t in _flat_tensors(item)]
    return [out] if hasattr(out, "requires_grad") else []


def _weighted_sum(lib, tensors, seed: int):
    """``sum((t * w).sum())`` with fixed random weights: every element of every t matters.

    ``tensors`` may hold None for a tensor to leave out; the weights of the others stay the same.
    """
    total = 0
    for i, t in enumerate(tensors):
        if t is not None:
            w = np.random.default_rng([seed, i]).standard_normal(tuple(t.shape))
            total = total + (t * lib.tensor(w, dtype=t.dtype)).sum()
    return total


def _derivatives(lib, leaves, out, second_order: bool):
    """First derivatives (by backward, into .grad) and second ones (by autograd.grad)."""
    wrt = [t for t in leaves if isinstance(t, lib.Tensor) and t.requires_grad]
    outputs = [t if t.requires_grad else None for t in _flat_tensors(out)]
    if not wrt or not any(t is not None for t in outputs):
        return None, None
    with warnings.catch_warnings():  # torch warns that create_graph makes a reference cycle
        warnings.simplefilter("ignore", UserWarning)
        _weighted_sum(lib, outputs, seed=1).backward(create_graph=second_order)
    first = [t.grad for t in wrt]
    if not second_order:
        return first, None
    # A gradient that does not depend on the inputs (of a linear op) has no graph: the second
    # derivative through it is zero, whichever way a library happens to record it.
    tracked = [g if g is not None and g.requires_grad else None for g in first]
    if not any(g is not None for g in tracked):
        return first, [None] * len(wrt)
    loss = _weighted_sum(lib, tracked, seed=2)
    return first, list(lib.autograd.grad(loss, wrt, allow_unused=True))


def _zeros_for_none(grads, leaves) -> list:
    wrt = [t for t in leaves if t.requires_grad]
    return [g if g is not None else t.detach() * 0 for g, t in zip(grads, wrt)]


# Warnings torch has given in this process: most of its C++ warnings are given once only.
_TORCH_WARNED: set = set()


@contextlib.contextmanager
def recorded_warnings():
    """Collect (category, first line) of every warning, as a student would see them."""
    # Warnings torch gives once per process come every time while this runs, in both
    # libraries: whichever test happened to give one first cannot decide what this one sees.
    always = torch.is_warn_always_enabled(), autograd_lite.is_warn_always_enabled()
    torch.set_warn_always(True)
    autograd_lite.set_warn_always(True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # autograd_lite silences NumPy's divide-by-zero warnings in its own frames (torch gives
        # inf silently); pytest discards that filter together with the import-time state.
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"autograd_lite\.")
        lines: list = []
        try:
            yield lines
        finally:
            torch.set_warn_always(always[0])
            autograd_lite.set_warn_always(always[1])
    lines += [(w.category.__name__, first_line(str(w.message))) for w in caught]


def assert_same_warnings(lite: list, torch_warnings: list) -> None:
    """Every warning torch gives, autograd_lite gives; and autograd_lite gives no others, except
    the ones torch gave earlier in the process and now keeps quiet about."""
    _TORCH_WARNED.update(torch_warnings)
    missing = [w for w in torch_warnings if w not in lite]
    extra = [w for w in lite if w not in torch_warnings and w not in _TORCH_WARNED]
    assert not missing and not extra, f"warnings: missing {missing}, extra {extra}"


def compare(fn, *inputs, grad=True, second_order=True, atol=1e-6, rtol=1e-5):
    """Run ``fn(lib, *tensors)`` with torch and autograd_lite and check that they agree
    (including the warnings ``fn`` raises).

    ``inputs`` are NumPy arrays (they become leaf tensors; floating ones require grad when
    ``grad``), ``const(array)`` (a tensor without grad) or anything else (passed unchanged).
    Returns torch's result, for tests that want to look further.
    """
    runs, warned = {}, {}
    for lib in LIBS:
        leaves = [_to_tensor(lib, x, grad) for x in inputs]
        with recorded_warnings() as caught:
            runs[lib] = leaves, fn(lib, *leaves)
        warned[lib] = caught
    (lite_leaves, lite_out), (torch_leaves, torch_out) = runs[autograd_lite], runs[torch]
    assert_same_warnings(warned[autograd_lite], warned[torch])
    tol = {"atol": atol, "rtol": rtol}
    assert_same(lite_out, torch_out, **tol)
    if not grad:
        return torch_out
    torch_leaves = [t for t in torch_leaves if isinstance(t, torch.Tensor)]
    lite_leaves = [t for t in lite_leaves if isinstance(t, autograd_lite.Tensor)]
    first, second = _derivatives(torch, torch_leaves, torch_out, second_order)
    lite_first, lite_second = _derivatives(autograd_lite, lite_leaves, lite_out, second_order)
    if first is not None:
        assert_same(lite_first, first, where="first derivative", graph=False, **tol)
    if second is not None:
        # torch may keep a graph where autograd_lite knows the result is constant (relu's mask):
        # a missing second derivative counts as zeros.
        assert_same(
            _zeros_for_none(lite_second, lite_leaves),
            _zeros_for_none(second, torch_leaves),
            where="second derivative",
            graph=False,
            **tol,
        )
    return torch_out


# --------------------------------------------------------------------------------------------
# Comparing errors
# --------------------------------------------------------------------------------------------

_TRIGGERED = re.compile(r"\s*\(Triggered internally at .*?\)", re.DOTALL)


def first_line(message: str) -> str:
    return _TRIGGERED.sub("", message).strip().split("\n", 1)[0]


def compare_error(fn, *inputs):
    """Both libraries raise, the same exception class, and the same first line of the message.

    autograd_lite may add lines after the first; they must be a hint (``hint: ...``).
    """
    raised = {}
    for lib in LIBS:
        leaves = [_to_tensor(lib, x, grad=True) for x in inputs]
        try:
            fn(lib, *leaves)
        except Exception as e:  # any exception is the result under test
            raised[lib] = e
        else:
            raised[lib] = None
    expected, actual = raised[torch], raised[autograd_lite]
    assert expected is not None, "torch raised nothing: the test case is wrong"
    assert actual is not None, f"autograd_lite raised nothing; torch raised {expected!r}"
    assert type(actual).__name__ == type(expected).__name__, f"{actual!r} vs {expected!r}"
    lite_line, torch_line = first_line(str(actual)), first_line(str(expected))
    assert lite_line == torch_line, f"\n{lite_line!r}: autograd_lite\n{torch_line!r}: torch"
    extra = str(actual).split("\n")[1:]
    torch_lines = str(expected).split("\n")[1:]
    assert all(line.startswith("hint: ") or line in torch_lines for line in extra), str(actual)
    return expected


# Python's binary operators, by symbol: the promotion and property tests run each on both libraries.
BINARY_OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "<": operator.lt,
    "==": operator.eq,
}


def both(fn):
    """``fn(lib)`` for torch and for autograd_lite: returns (torch's result, ours)."""
    return fn(torch), fn(autograd_lite)


def same(fn, atol=1e-6, rtol=1e-5, graph=True):
    """``fn(lib)`` gives the same tensors / numbers / names / None with both libraries.

    ``graph``: also compare each tensor's ``requires_grad`` and ``grad_fn`` name.
    """
    expected, actual = both(fn)
    assert_same(actual, expected, atol=atol, rtol=rtol, graph=graph)
    return expected

"""``autograd.gradcheck`` and ``gradgradcheck``, compared with torch's.

Correct operations and custom Functions pass with both libraries; a custom Function with a
broken backward fails with both, with the same exception class and the same first line
(``Jacobian mismatch for output 0 with respect to input 0,``); after that line autograd_lite
shows the two Jacobians side by side and the worst element, which these tests check too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch
from helpers import first_line
from torch.autograd.gradcheck import GradcheckError as TorchGradcheckError

import autograd_lite
from autograd_lite.autograd.gradcheck import GradcheckError

LIBS = (torch, autograd_lite)

_RNG = np.random.default_rng(2024)


def randn(*shape) -> np.ndarray:
    return _RNG.standard_normal(shape)


def leaves(lib, arrays, requires_grad=True):
    return tuple(
        lib.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
        if isinstance(a, np.ndarray)
        else a
        for a in arrays
    )


def both_pass(check, fn, *arrays, **kwargs):
    """``check(fn(lib), inputs)`` returns True with torch and with autograd_lite."""
    for lib in LIBS:
        assert getattr(lib.autograd, check)(fn(lib), leaves(lib, arrays), **kwargs) is True, lib


def both_fail(check, fn, *arrays, **kwargs):
    """Both raise the same error class with the same first line; returns our message."""
    raised = {}
    for lib in LIBS:
        with pytest.raises(Exception) as info:
            getattr(lib.autograd, check)(fn(lib), leaves(lib, arrays), **kwargs)
        raised[lib] = info.value
    expected, actual = raised[torch], raised[autograd_lite]
    assert type(actual).__name__ == type(expected).__name__, f"{actual!r} vs {expected!r}"
    assert first_line(str(actual)) == first_line(str(expected))
    # ... and with raise_exception=False a GradcheckError becomes False, for both.
    if isinstance(expected, TorchGradcheckError):
        for lib in LIBS:
            result = getattr(lib.autograd, check)(
                fn(lib), leaves(lib, arrays), raise_exception=False, **kwargs
            )
            assert result is False, lib
    return str(actual)


# --------------------------------------------------------------------------------------------
# Custom Functions, written once for both libraries
# --------------------------------------------------------------------------------------------


def cube(lib, factor=3.0, differentiable=True):
    """x ** 3 whose backward uses ``factor`` (3 is right); ``differentiable=False`` detaches x."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            if not differentiable:
                x = x.detach()
            return grad * factor * x**2

    return Cube.apply


def scaled_mul(lib, wrong_input=None):
    """x * y (two inputs, two outputs: x * y and x + y); one gradient off by 1% if asked."""

    class ScaledMul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, g_prod, g_sum):
            x, y = ctx.saved_tensors
            gx, gy = g_prod * y + g_sum, g_prod * x + g_sum
            if wrong_input == 0:
                gx = gx * 1.01
            elif wrong_input == 1:
                gy = gy * 1.01
            return gx, gy

    return ScaledMul.apply


def matvec(lib, wrong=False):
    """w @ v; with ``wrong`` the gradient of v is off by 1% at one element (17 of 30)."""

    class MatVec(lib.autograd.Function):
        @staticmethod
        def forward(ctx, w, v):
            ctx.save_for_backward(w, v)
            return w @ v

        @staticmethod
        def backward(ctx, grad):
            w, v = ctx.saved_tensors
            gv = w.t() @ grad
            if wrong:
                scale = np.ones(v.shape[0])
                scale[17] = 1.01
                gv = gv * lib.tensor(scale)
            return lib.outer(grad, v), gv

    return MatVec.apply


# --------------------------------------------------------------------------------------------
# Passing checks
# --------------------------------------------------------------------------------------------

OPS = {
    "tanh_mul": (lambda lib: lambda x: lib.tanh(x) * x, [randn(4)]),
    "exp_log": (lambda lib: lambda x: (x.exp() + 1).log(), [randn(2, 3)]),
    "sigmoid_sum": (lambda lib: lambda x: x.sigmoid().sum(1), [randn(3, 2)]),
    "div_pow": (lambda lib: lambda x, y: x / (y**2 + 1), [randn(3), randn(3)]),
    "matmul_2d": (lambda lib: lambda a, b: a @ b, [randn(2, 3), randn(3, 4)]),
    "matmul_vec": (lambda lib: lambda a, v: a @ v, [randn(3, 4), randn(4)]),
    "softmax": (lambda lib: lambda x: lib.softmax(x, dim=1), [randn(2, 4)]),
    "log_softmax": (lambda lib: lambda x: lib.log_softmax(x, dim=0), [randn(3, 2)]),
    "norm": (lambda lib: lambda x: x.norm(), [randn(5)]),
    "norm_dim": (lambda lib: lambda x: lib.norm(x, dim=1), [randn(2, 3)]),
    "mean_var": (lambda lib: lambda x: (x.mean(), x.var()), [randn(6)]),
    "broadcast": (lambda lib: lambda x, b: (x + b).sin() * b, [randn(2, 3), randn(3)]),
    "scalar": (lambda lib: lambda x: (x * x).exp(), [np.array(0.3)]),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_passes_for_correct_ops(name):
    fn, arrays = OPS[name]
    both_pass("gradcheck", fn, *arrays)


@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck_fast_mode_passes_for_correct_ops(name):
    fn, arrays = OPS[name]
    both_pass("gradcheck", fn, *arrays, fast_mode=True)


@pytest.mark.parametrize("name", ["tanh_mul", "exp_log", "matmul_2d", "softmax", "norm", "div_pow"])
def test_gradgradcheck_passes_for_ops_with_correct_second_derivatives(name):
    fn, arrays = OPS[name]
    both_pass("gradgradcheck", fn, *arrays)


def test_gradcheck_passes_for_a_correct_custom_function():
    both_pass("gradcheck", cube, randn(5))
    both_pass("gradgradcheck", cube, randn(5))
    both_pass("gradcheck", scaled_mul, randn(3), randn(3))
    both_pass("gradgradcheck", scaled_mul, randn(3), randn(3))
    both_pass("gradcheck", matvec, randn(4, 3), randn(3))


def test_gradcheck_only_checks_inputs_that_require_grad():
    def fn(lib):
        return lambda x, w, k: cube(lib)(x) * w * k

    for lib in LIBS:
        x, w = lib.tensor(randn(3), requires_grad=True), lib.tensor(randn(3))
        assert lib.autograd.gradcheck(fn(lib), (x, w, 2)) is True


def test_gradcheck_accepts_a_single_tensor_and_a_list():
    for lib in LIBS:
        x = lib.tensor(randn(3), requires_grad=True)
        assert lib.autograd.gradcheck(lambda t: t.sin(), x) is True
        assert (
            lib.autograd.gradcheck(
                lambda t, u: t * u, [x, lib.tensor(randn(3), requires_grad=True)]
            )
            is True
        )


def test_gradcheck_leaves_the_inputs_as_they_were():
    x = autograd_lite.tensor(randn(2, 3), requires_grad=True)
    before, version = x.detach().numpy().copy(), x._version
    assert autograd_lite.autograd.gradcheck(lambda t: t.exp() * t, (x,))
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x._version == version and x.grad is None


def test_gradcheck_with_the_same_tensor_twice():
    # The in-place perturbation moves both arguments, as torch's does.
    for lib in LIBS:
        x = lib.tensor(randn(3), requires_grad=True)
        assert lib.autograd.gradcheck(lambda a, b: a * b.sin(), (x, x)) is True


def test_gradcheck_is_reachable_both_ways():
    x = autograd_lite.tensor(randn(3), requires_grad=True)
    assert autograd_lite.autograd.gradcheck(lambda t: t * 2, (x,))
    assert autograd_lite.autograd.gradcheck(lambda t: t * 2, (x,))  # again, after the import
    assert issubclass(GradcheckError, RuntimeError)


# --------------------------------------------------------------------------------------------
# Failing checks: torch's first line, then both Jacobians and the worst element
# --------------------------------------------------------------------------------------------


def test_wrong_backward_fails_like_torch():
    x = randn(3)
    message = both_fail("gradcheck", lambda lib: cube(lib, factor=1.5), x)
    lines = message.splitlines()
    assert lines[0] == "Jacobian mismatch for output 0 with respect to input 0,"
    header = next(line for line in lines if "analytical" in line)
    assert header.index("analytical") < header.index("|") < header.index("numerical")
    # Both Jacobians appear, row by row, side by side.
    analytical, numerical = np.diag(1.5 * x**2), np.diag(3 * x**2)
    for r in range(3):
        row = next(line for line in lines if line.startswith(f"row {r} "))
        left, right = row.split("|")
        assert f"{analytical[r, r]:.6g}*" in left
        assert f"{numerical[r, r]:.6g}" in right
    worst = int(np.argmax(np.abs(analytical - numerical).diagonal() / (1 + 3 * x**2)))
    worst_line = next(line for line in lines if line.startswith("worst element"))
    assert worst_line.startswith(f"worst element: row {worst}, col {worst} ")
    assert f"analytical {analytical[worst, worst]:.10g}" in worst_line
    assert "abs error" in worst_line and "rel error 0.5" in worst_line
    assert "3 of 9 elements" in message
    assert "analytical / numerical = 0.5" in message


def test_raise_exception_false_returns_false_silently(capsys):
    x = autograd_lite.tensor(randn(3), requires_grad=True)
    assert (
        autograd_lite.autograd.gradcheck(cube(autograd_lite, 2.0), (x,), raise_exception=False)
        is False
    )
    assert (
        autograd_lite.autograd.gradgradcheck(
            cube(autograd_lite, differentiable=False), (x,), raise_exception=False
        )
        is False
    )
    assert capsys.readouterr() == ("", "")


def test_gradcheck_error_is_a_runtime_error():
    x = autograd_lite.tensor(randn(3), requires_grad=True)
    with pytest.raises(
        RuntimeError, match="^Jacobian mismatch for output 0 with respect to input 0,"
    ):
        autograd_lite.autograd.gradcheck(cube(autograd_lite, 2.0), (x,))


@pytest.mark.parametrize("wrong_input", [0, 1])
def test_mismatch_names_the_input(wrong_input):
    message = both_fail("gradcheck", lambda lib: scaled_mul(lib, wrong_input), randn(3), randn(3))
    assert message.startswith(
        f"Jacobian mismatch for output 0 with respect to input {wrong_input},"
    )


def test_mismatch_names_the_output():
    def fn(lib):
        mul = scaled_mul(lib, wrong_input=0)
        return lambda x, y: (x * 2, *mul(x, y))  # output 0 is right, 1 and 2 use the Function

    message = both_fail("gradcheck", fn, randn(3), randn(3))
    assert message.startswith("Jacobian mismatch for output 1 with respect to input 0,")


def test_input_index_counts_only_inputs_that_require_grad():
    def fn(lib):
        return lambda k, w, x: cube(lib, 2.0)(x) * w + k

    raised = []
    for lib in LIBS:
        with pytest.raises(RuntimeError) as info:
            lib.autograd.gradcheck(
                fn(lib), (1.0, lib.tensor(randn(3)), lib.tensor(randn(3), requires_grad=True))
            )
        raised.append(str(info.value))
    assert (
        first_line(raised[0])
        == first_line(raised[1])
        == ("Jacobian mismatch for output 0 with respect to input 0,")
    )
    assert "argument #2 of func" in raised[1]


def test_big_jacobians_are_truncated_around_the_worst_element():
    message = both_fail("gradcheck", lambda lib: matvec(lib, wrong=True), randn(20, 30), randn(30))
    lines = message.splitlines()
    assert lines[0] == "Jacobian mismatch for output 0 with respect to input 1,"
    assert "part of the 20 x 30 Jacobians" in message
    header = next(line for line in lines if "col 0" in line)
    assert "col 17" in header and "col 29" in header and "..." in header
    assert "col 5 " not in header
    assert max(len(line) for line in lines if line.startswith("row ")) < 200
    worst = next(line for line in lines if line.startswith("worst element"))
    assert re.match(r"worst element: row \d+, col 17 = d output\[\d+\] / d input\[17\]", worst)
    assert "20 of 600 elements" in message


def test_multidimensional_indices_are_shown():
    def fn(lib):
        cube_wrong = cube(lib, 2.0)
        return lambda m: cube_wrong(m) + 0

    message = both_fail("gradcheck", fn, randn(2, 3))
    assert "output shape [2, 3], input shape [2, 3]" in message
    assert re.search(r"^row 4 \[1, 1\]", message, re.MULTILINE)
    assert re.search(r"d output\[\d, \d\] / d input\[\d, \d\]", message)


def test_fast_mode_failure_reports_the_full_jacobians():
    message = both_fail("gradcheck", lambda lib: cube(lib, 1.5), randn(3), fast_mode=True)
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0,\nnumerical:")
    assert "worst element: row" in message


def test_backward_not_multiplied_by_grad_output():
    def fn(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                # Right for every one-hot grad_output, but not zero for a zero one.
                return grad * 2 if bool(grad.abs().sum() > 0) else lib.ones_like(grad)

        return Double.apply

    both_fail("gradcheck", fn, randn(3))


def test_backward_that_is_not_reentrant():
    def fn(lib):
        class Noisy(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                noise = lib.tensor(np.random.default_rng().uniform(0, 1e-9, 3))
                return grad * (2 + noise)

        return Noisy.apply

    both_fail("gradcheck", fn, randn(3))
    both_pass("gradcheck", fn, randn(3), nondet_tol=1e-7)


def test_no_differentiable_output_needs_a_zero_numerical_gradient():
    both_fail("gradcheck", lambda lib: lambda x: (x * 2).detach(), randn(3))
    both_pass("gradcheck", lambda lib: lambda x: lib.ones(3), randn(3))


# --------------------------------------------------------------------------------------------
# Argument checks
# --------------------------------------------------------------------------------------------


def test_non_double_inputs_warn_like_torch():
    caught = {}
    for lib in LIBS:
        x = lib.tensor(randn(3).astype(np.float32), requires_grad=True)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.autograd.gradcheck(lambda t: t * 2, (x,), raise_exception=False)
        caught[lib] = [(w.category, str(w.message)) for w in record]
    assert caught[autograd_lite] == caught[torch]
    assert caught[torch][0][1].startswith("Input #0 requires gradient and is not a double")


def test_non_double_warning_points_at_the_caller():
    x = autograd_lite.tensor(randn(3).astype(np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="^Input #0 requires gradient") as record:
        autograd_lite.autograd.gradcheck(lambda t: t * 2, (x,), raise_exception=False)
    assert record[0].filename == __file__


@pytest.mark.parametrize(
    "inputs",
    [
        lambda lib: (lib.tensor(randn(3)),),  # nothing requires grad
        lambda lib: (lib.tensor(randn(1)).expand(3).requires_grad_(),),  # stride 0
    ],
)
def test_input_errors(inputs):
    messages = []
    for lib in LIBS:
        with pytest.raises((ValueError, RuntimeError)) as info:
            lib.autograd.gradcheck(lambda t: t * 2, inputs(lib))
        messages.append((type(info.value), str(info.value)))
    assert messages[0][0].__name__ == messages[1][0].__name__
    assert messages[0][1] == messages[1][1]


def test_forward_ad_is_not_available():
    x = autograd_lite.tensor(randn(3), requires_grad=True)
    with pytest.raises(NotImplementedError, match="forward-mode AD"):
        autograd_lite.autograd.gradcheck(lambda t: t * 2, (x,), check_forward_ad=True)
    with pytest.raises(NotImplementedError, match="forward-mode AD"):
        autograd_lite.autograd.gradgradcheck(lambda t: t * 2, (x,), check_fwd_over_rev=True)


def test_batched_grad_flag_is_accepted():
    both_pass("gradcheck", lambda lib: lambda x: x.sin() * x, randn(3), check_batched_grad=True)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"check_backward_ad": False},
        {"check_batched_grad": True, "check_backward_ad": False, "check_forward_ad": True},
    ],
)
def test_flag_assertions(kwargs):
    both_fail("gradcheck", lambda lib: lambda x: x * 2, randn(3), **kwargs)


# --------------------------------------------------------------------------------------------
# gradgradcheck
# --------------------------------------------------------------------------------------------


def test_gradgradcheck_fails_for_a_backward_that_is_not_differentiable():
    # The first derivative is right (gradcheck passes), the backward detaches x.
    both_pass("gradcheck", lambda lib: cube(lib, differentiable=False), randn(4))
    message = both_fail("gradgradcheck", lambda lib: cube(lib, differentiable=False), randn(4))
    assert message.startswith("Jacobian mismatch for output 0 with respect to input 0,")
    assert "worst element" in message


def test_gradgradcheck_checks_the_backward_against_itself():
    # It differentiates the backward as written: a wrong but differentiable backward passes
    # (gradcheck is what compares it with the function).
    both_pass("gradgradcheck", lambda lib: cube(lib, factor=2.0), randn(4))
    both_fail("gradcheck", lambda lib: cube(lib, factor=2.0), randn(4))


def test_gradgradcheck_with_given_grad_outputs():
    for lib in LIBS:
        x = lib.tensor(randn(2, 3), requires_grad=True)
        v = lib.tensor(randn(2, 3), requires_grad=True)
        assert lib.autograd.gradgradcheck(lambda t: t.tanh() * t, (x,), (v,)) is True
        assert lib.autograd.gradgradcheck(lambda t: t.tanh() * t, (x,), v) is True


def test_gradgradcheck_with_non_contiguous_grad_outputs():
    both_pass(
        "gradgradcheck",
        lambda lib: lambda t: t.exp() * t,
        randn(2, 3),
        gen_non_contig_grad_outputs=True,
    )


def test_gradgradcheck_several_inputs_and_outputs():
    both_pass(
        "gradgradcheck", lambda lib: lambda a, b: (a * b.sin(), (a @ b).exp()), randn(3), randn(3)
    )

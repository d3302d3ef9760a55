"""``autograd.functional`` (jacobian, hessian, vjp, jvp, vhp, hvp), compared with torch.

Every test writes its function once against the torch API and runs it with both libraries:
values, shapes, dtypes, the nesting of the returned tuples, whether results carry a graph, the
derivatives of results computed with ``create_graph=True``, and the errors of strict mode.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.autograd.functional
from helpers import assert_same, first_line

import autograd_lite

LIBS = (torch, autograd_lite)
TOL = {"atol": 1e-10, "rtol": 1e-8}

_RNG = np.random.default_rng(1234)


def randn(*shape) -> np.ndarray:
    return _RNG.standard_normal(shape)


def run(fn, *arrays, requires_grad=False):
    """``fn(lib, *tensors)`` with torch and autograd_lite: returns (torch's result, ours)."""
    results = []
    for lib in LIBS:
        tensors = [lib.tensor(a, requires_grad=requires_grad) for a in arrays]
        results.append(fn(lib, *tensors))
    return results[0], results[1]


def same(fn, *arrays, graph=True, requires_grad=False):
    """Both libraries give the same (nested) tensors; ``graph`` also compares grad_fn names."""
    expected, actual = run(fn, *arrays, requires_grad=requires_grad)
    assert_same(actual, expected, graph=graph, **TOL)
    return expected, actual


def same_error(fn, *arrays):
    """Both raise the same exception class with the same message."""
    raised = []
    for lib in LIBS:
        tensors = [lib.tensor(a) for a in arrays]
        with pytest.raises(Exception) as info:
            fn(lib, *tensors)
        raised.append(info.value)
    expected, actual = raised
    assert type(actual).__name__ == type(expected).__name__, f"{actual!r} vs {expected!r}"
    assert str(actual) == str(expected)
    return expected


def F(lib):
    return lib.autograd.functional


# --------------------------------------------------------------------------------------------
# jacobian
# --------------------------------------------------------------------------------------------

X3 = randn(3)
X4 = randn(4)
M23 = randn(2, 3)
M34 = randn(3, 4)


def test_jacobian_of_an_elementwise_map_is_diagonal():
    _, actual = same(lambda lib, x: F(lib).jacobian(lambda t: lib.sin(t) * t, x), X4)
    expected = np.diag(np.cos(X4) * X4 + np.sin(X4))
    np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-12)


def test_jacobian_of_a_linear_map_is_the_matrix():
    def fn(lib, w, x):
        return F(lib).jacobian(lambda t: w @ t, x)

    _, actual = same(fn, M23, X3)
    np.testing.assert_allclose(actual.numpy(), M23, rtol=1e-12)


def test_jacobian_shapes_are_output_shape_then_input_shape():
    def fn(lib, a, b):
        return F(lib).jacobian(lambda x: (x @ b).tanh(), a)

    expected, actual = same(fn, M23, M34)
    assert tuple(actual.shape) == (2, 4, 2, 3) == tuple(expected.shape)


def test_jacobian_of_a_scalar_function_and_of_a_scalar_input():
    same(lambda lib, x: F(lib).jacobian(lambda t: (t**3).sum(), x), M23)
    same(lambda lib, s: F(lib).jacobian(lambda t: t * lib.arange(3.0), s), np.array(1.5))
    same(lambda lib, s: F(lib).jacobian(lambda t: t.exp(), s), np.array(0.5))


def test_jacobian_of_the_identity_and_of_views():
    same(lambda lib, x: F(lib).jacobian(lambda a: a, x), X3)
    same(lambda lib, x: F(lib).jacobian(lambda a: (a, a[1:] * 2, a.t()), x), M23)
    same(lambda lib, x, y: F(lib).jacobian(lambda a, b: (b, a), (x, y)), X3, X4)


def test_jacobian_through_a_custom_function():
    def fn(lib, x):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(ctx, t):
                ctx.save_for_backward(t)
                return t**3

            @staticmethod
            def backward(ctx, grad):
                (t,) = ctx.saved_tensors
                return grad * 3 * t**2

        return F(lib).jacobian(Cube.apply, x), F(lib).hessian(lambda a: Cube.apply(a).sum(), x)

    same(fn, X3)


def test_jacobian_tuple_inputs_give_a_tuple():
    def fn(lib, x, y):
        return F(lib).jacobian(lambda a, b: a * b.sum() + b[:3].exp(), (x, y))

    expected, actual = same(fn, X3, X4)
    assert isinstance(actual, tuple) and len(actual) == 2
    assert tuple(actual[1].shape) == (3, 4)


def test_jacobian_tuple_outputs_give_a_tuple():
    def fn(lib, x):
        return F(lib).jacobian(lambda a: (a.sin(), a.sum(), a[:2] * 3), x)

    _, actual = same(fn, X3)
    assert [tuple(j.shape) for j in actual] == [(3, 3), (3,), (2, 3)]


def test_jacobian_tuple_outputs_and_inputs_give_a_tuple_of_tuples():
    def fn(lib, x, y):
        return F(lib).jacobian(lambda a, b: (a * b, (a**2).sum(), b.exp()), (x, y))

    _, actual = same(fn, X3, randn(3))
    assert len(actual) == 3 and all(isinstance(row, tuple) and len(row) == 2 for row in actual)
    assert tuple(actual[1][0].shape) == (3,)


def test_jacobian_single_element_tuples_stay_tuples():
    same(lambda lib, x: F(lib).jacobian(lambda a: (a.exp(),), (x,)), X3)
    same(lambda lib, x: F(lib).jacobian(lambda a: a.exp(), (x,)), X3)
    same(lambda lib, x: F(lib).jacobian(lambda a: (a.exp(),), x), X3)


def test_jacobian_independent_output_or_input_gives_zeros():
    def fn(lib, x, y):
        return F(lib).jacobian(lambda a, b: (a * 2, lib.ones(2)), (x, y))

    same(fn, X3, X4)


def test_jacobian_float32_keeps_the_input_dtype():
    def fn(lib, x):
        return F(lib).jacobian(lambda a: (a * a).tanh(), x)

    expected, actual = run(fn, X3.astype(np.float32))
    assert str(actual.dtype) == str(expected.dtype) == "torch.float32"
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-6)


def test_jacobian_results_are_detached_and_inputs_untouched():
    def fn(lib, x):
        y = x * 2  # an input with history
        jac = F(lib).jacobian(lambda a: a**3, y)
        return jac, y.requires_grad, x.grad

    expected, actual = run(fn, X3, requires_grad=True)
    assert_same(actual, expected, **TOL)
    assert not actual[0].requires_grad


def test_jacobian_leaves_the_grad_of_other_tensors_alone():
    # A parameter that requires grad, captured by the function: its .grad stays None.
    def fn(lib, x, w):
        jac = F(lib).jacobian(lambda a: (w @ a).tanh(), x)
        hess = F(lib).hessian(lambda a: (w @ a).exp().sum(), x)
        return jac, hess, w.grad, x.grad

    expected, actual = run(fn, X3, M23, requires_grad=True)
    assert_same(actual, expected, **TOL)
    assert actual[2] is None and actual[3] is None


def test_jacobian_sees_only_the_argument_not_a_captured_alias():
    # torch issue 32576: the function also closes over the very tensor passed as input; the
    # Jacobian is that of func with respect to its argument only.
    def fn(lib, x):
        return F(lib).jacobian(lambda a: a * x, x)

    same(fn, X3)


@pytest.mark.parametrize("vectorize", [False, True])
def test_jacobian_create_graph_is_differentiable(vectorize):
    def fn(lib, x):
        jac = F(lib).jacobian(
            lambda a: a.sin() * a.sum(), x, create_graph=True, vectorize=vectorize
        )
        (g,) = lib.autograd.grad((jac * jac).sum(), x)
        return jac.requires_grad, jac.detach(), g

    same(fn, X3, requires_grad=True)


def test_jacobian_create_graph_of_a_leaf_without_grad():
    def fn(lib, x):
        jac = F(lib).jacobian(lambda a: a.exp() * a, x, create_graph=True)
        return jac

    same(fn, X3)


@pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)  # torch's vmap
def test_jacobian_vectorize_and_forward_mode_give_the_same_result():
    def fn(lib, x, y):
        f = lambda a, b: (a.tanh() * b, (a @ b).exp())  # noqa: E731
        return (
            F(lib).jacobian(f, (x, y), vectorize=True),
            F(lib).jacobian(f, (x, y), vectorize=True, strategy="forward-mode"),
        )

    _, (vectorized, forward) = same(fn, X3, randn(3))
    for a, b in zip(vectorized, forward):
        for u, v in zip(a, b):
            np.testing.assert_allclose(u.numpy(), v.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"strategy": "forward-mode"},
        {"strategy": "forward-mode", "vectorize": True, "create_graph": True},
        {"strategy": "forward-mode", "vectorize": True, "strict": True},
        {"strategy": "sideways"},
        {"vectorize": True, "strict": True},
    ],
)
def test_jacobian_unsupported_argument_combinations(kwargs):
    same_error(lambda lib, x: F(lib).jacobian(lambda a: a * 2, x, **kwargs), X3)


@pytest.mark.parametrize(
    "func",
    [
        lambda lib, a, b: a * 2,  # output independent of input 1
        lambda lib, a, b: (a * 2, lib.ones(2)),  # output 1 does not require grad
        lambda lib, a, b: (a * b, b.detach() * 2),  # output 1 independent of both
    ],
)
def test_jacobian_strict_errors(func):
    def fn(lib, x, y):
        return F(lib).jacobian(lambda a, b: func(lib, a, b), (x, y), strict=True)

    same_error(fn, X3, randn(3))


def test_jacobian_strict_create_graph_linear_function():
    def fn(lib, x):
        return F(lib).jacobian(lambda a: a * 3, x, strict=True, create_graph=True)

    same_error(fn, X3)


def test_jacobian_strict_passes_when_everything_depends():
    same(lambda lib, x: F(lib).jacobian(lambda a: a.exp(), x, strict=True), X3)
    same(lambda lib, x: F(lib).jacobian(lambda a: a.exp(), x, strict=True, create_graph=True), X3)
    same(lambda lib, x: F(lib).hessian(lambda a: a.exp().sum(), x, strict=True), X3)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: F(lib).jacobian(lambda a: a, [x]),
        lambda lib, x: F(lib).jacobian(lambda a: a, (x, 3.0)),
        lambda lib, x: F(lib).jacobian(lambda a: [a], x),
        lambda lib, x: F(lib).jacobian(lambda a: (a, None), x),
    ],
)
def test_jacobian_type_errors(call):
    same_error(call, X3)


# --------------------------------------------------------------------------------------------
# hessian
# --------------------------------------------------------------------------------------------


def test_hessian_of_the_seed_function():
    # f(x, w) = (x + 5w)^2: H = [[2, 10], [10, 50]] everywhere.
    def packed(lib, v):
        return F(lib).hessian(lambda t: (t[0] + 5 * t[1]) ** 2, v)

    _, actual = same(packed, np.array([1.0, 2.0]))
    np.testing.assert_array_equal(actual.numpy(), [[2.0, 10.0], [10.0, 50.0]])

    def separate(lib, x, w):
        return F(lib).hessian(lambda a, b: (a + 5 * b) ** 2, (x, w))

    _, actual = same(separate, np.array(1.0), np.array(2.0))
    assert [[h.item() for h in row] for row in actual] == [[2.0, 10.0], [10.0, 50.0]]


def test_hessian_of_the_benchmark_function_matches_the_closed_form():
    A = randn(10, 10)
    x0 = randn(10)

    def fn(lib, x, a):
        return F(lib).hessian(lambda t: (lib.sin(t) * t**2).sum() + t @ a @ t, x)

    _, actual = same(fn, x0, A)
    closed = np.diag((2 - x0**2) * np.sin(x0) + 4 * x0 * np.cos(x0)) + A + A.T
    np.testing.assert_allclose(actual.numpy(), closed, rtol=1e-10, atol=1e-12)


def test_hessian_shapes_for_matrix_and_tuple_inputs():
    def fn(lib, m, v):
        return F(lib).hessian(lambda a, b: (a.exp().sum(0) * b.sin()).sum(), (m, v))

    _, actual = same(fn, M23, X3)
    assert [[tuple(h.shape) for h in row] for row in actual] == [
        [(2, 3, 2, 3), (2, 3, 3)],
        [(3, 2, 3), (3, 3)],
    ]
    same(lambda lib, m: F(lib).hessian(lambda a: (a**3).sum(), m), M23)
    same(lambda lib, m: F(lib).hessian(lambda a: (a**3).sum(), (m,)), M23)


def test_hessian_of_a_one_element_non_scalar_output():
    same(lambda lib, x: F(lib).hessian(lambda a: (a**4).sum().reshape(1, 1), x), X3)


def test_hessian_with_an_unused_input_is_zero():
    same(lambda lib, x, y: F(lib).hessian(lambda a, b: (a**3).sum(), (x, y)), X3, X4)


def test_hessian_create_graph_is_differentiable():
    def fn(lib, x):
        h = F(lib).hessian(lambda a: (a.sin() * a.sum()).sum(), x, create_graph=True)
        (g,) = lib.autograd.grad(h.sum(), x)
        return h.requires_grad, h.detach(), g

    same(fn, X3, requires_grad=True)


def test_hessian_vectorize_gives_the_same_result():
    same(lambda lib, x: F(lib).hessian(lambda a: (a.exp() * a).sum(), x, vectorize=True), X3)


@pytest.mark.parametrize(
    "func",
    [
        lambda lib, a: (a * 2).sum(),  # linear: the Jacobian is independent of the input
        lambda lib, a: lib.ones(()),  # output does not require grad
        lambda lib, a: a.sum().detach(),
    ],
)
def test_hessian_strict_errors(func):
    same_error(lambda lib, x: F(lib).hessian(lambda a: func(lib, a), x, strict=True), X3)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: F(lib).hessian(lambda a: a**2, x),  # not a single element
        lambda lib, x: F(lib).hessian(lambda a: ((a**2).sum(),), x),  # a tuple
        lambda lib, x: F(lib).hessian(lambda a: (a**2).sum(), x, outer_jacobian_strategy="x"),
        lambda lib, x: F(lib).hessian(
            lambda a: (a**2).sum(), x, outer_jacobian_strategy="forward-mode"
        ),
        lambda lib, x: F(lib).hessian(lambda a: (a**3).sum(), x, vectorize=True, strict=True),
    ],
)
def test_hessian_errors(call):
    same_error(call, X3)


@pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)  # torch's vmap
def test_hessian_forward_mode_with_vectorize():
    def fn(lib, x):
        return F(lib).hessian(
            lambda a: (a.exp() * a).sum(), x, vectorize=True, outer_jacobian_strategy="forward-mode"
        )

    # torch's forward-over-reverse result keeps a graph (an artefact of its dual tensors);
    # the values and the structure are what matters.
    same(fn, X3, graph=False)

    def pair(lib, x, y):
        return F(lib).hessian(
            lambda a, b: (a.exp() * b).sum(),
            (x, y),
            vectorize=True,
            outer_jacobian_strategy="forward-mode",
        )

    same(pair, X3, randn(3), graph=False)


# --------------------------------------------------------------------------------------------
# vjp, jvp, vhp, hvp
# --------------------------------------------------------------------------------------------


def test_vjp_values_and_structure():
    same(lambda lib, x, v: F(lib).vjp(lambda a: a.exp().sum(1), x, v), M23, randn(2))
    same(lambda lib, x: F(lib).vjp(lambda a: (a**2).sum(), x), X3)  # v may be omitted
    same(
        lambda lib, x, y, v: F(lib).vjp(lambda a, b: 2 * a + 3 * b, (x, y), v),
        X3,
        randn(3),
        randn(3),
    )
    same(
        lambda lib, x, v, w: F(lib).vjp(lambda a: (a * 2, a.sin()), x, (v, w)),
        X3,
        randn(3),
        randn(3),
    )


def test_jvp_values_and_structure():
    same(lambda lib, x, v: F(lib).jvp(lambda a: a.exp().sum(1), x, v), M23, randn(2, 3))
    same(lambda lib, x: F(lib).jvp(lambda a: a**3, x), np.array([2.0]))
    same(
        lambda lib, x, y, v, w: F(lib).jvp(lambda a, b: (a * b, a.sum()), (x, y), (v, w)),
        X3,
        randn(3),
        randn(3),
        randn(3),
    )


def test_jvp_equals_the_jacobian_times_v():
    def fn(lib, x, v):
        f = lambda a: a.tanh() * a.sum()  # noqa: E731
        _, jv = F(lib).jvp(f, x, v)
        jac = F(lib).jacobian(f, x)
        return jv, jac @ v

    expected, actual = same(fn, X4, randn(4))
    np.testing.assert_allclose(actual[0].numpy(), actual[1].numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["vhp", "hvp"])
def test_vhp_and_hvp_values_and_structure(name):
    same(lambda lib, x, v: getattr(F(lib), name)(lambda a: (a**3).sum(), x, v), M23, randn(2, 3))
    same(lambda lib, x: getattr(F(lib), name)(lambda a: (a**3).sum(), x), np.array([2.0]))
    same(
        lambda lib, x, y, v, w: getattr(F(lib), name)(
            lambda a, b: (2 * a**2 + 3 * b**2 * a).sum(), (x, y), (v, w)
        ),
        X3,
        randn(3),
        randn(3),
        randn(3),
    )


def test_hvp_and_vhp_equal_the_hessian_times_v():
    def fn(lib, x, v):
        f = lambda a: (a.sin() * a.sum()).sum()  # noqa: E731
        h = F(lib).hessian(f, x)
        return F(lib).hvp(f, x, v)[1], F(lib).vhp(f, x, v)[1], h @ v

    _, (hv, vh, expected) = same(fn, X4, randn(4))
    np.testing.assert_allclose(hv.numpy(), expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(vh.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_products_with_create_graph_are_differentiable(name):
    def fn(lib, x, v):
        f = (lambda a: (a.sin() * a).sum()) if name in ("vhp", "hvp") else (lambda a: a.sin() * a)
        out, prod = getattr(F(lib), name)(f, x, v, create_graph=True)
        (g,) = lib.autograd.grad((prod * prod).sum(), x)
        return out.requires_grad, prod.requires_grad, out.detach(), prod.detach(), g

    same(fn, X3, randn(3), requires_grad=True)


@pytest.mark.parametrize("name", ["vjp", "jvp", "vhp", "hvp"])
def test_products_are_detached_without_create_graph(name):
    def fn(lib, x, v):
        f = (lambda a: (a.sin() * a).sum()) if name in ("vhp", "hvp") else (lambda a: a.sin() * a)
        return getattr(F(lib), name)(f, x * 1, v)

    same(fn, X3, randn(3), requires_grad=True)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: F(lib).vjp(lambda a: a * 2, x),  # v needed
        lambda lib, x: F(lib).vjp(lambda a: a * 2, x, lib.ones(2)),  # wrong size
        lambda lib, x: F(lib).vjp(lambda a: (a, a), x, lib.ones(3)),  # wrong count
        lambda lib, x: F(lib).vjp(lambda a: (a, a), x, (lib.ones(3), lib.ones(2))),
        lambda lib, x: F(lib).vjp(lambda a: a * 2, x, [lib.ones(3)]),
        lambda lib, x: F(lib).jvp(lambda a: a * 2, x),
        lambda lib, x: F(lib).jvp(lambda a, b: a * b, (x, x), (lib.ones(3),)),
        lambda lib, x: F(lib).vhp(lambda a: a * 2, x, lib.ones(3)),  # not a single element
        lambda lib, x: F(lib).hvp(lambda a: ((a**2).sum(),), x, lib.ones(3)),  # a tuple
        lambda lib, x: F(lib).hvp(lambda a: (a**2).sum(), x),
    ],
)
def test_product_argument_errors(call):
    same_error(call, X3)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x, y: F(lib).vjp(lambda a, b: a * 2, (x, y), lib.ones(3), strict=True),
        lambda lib, x, y: F(lib).vjp(lambda a, b: lib.ones(3), (x, y), lib.ones(3), strict=True),
        lambda lib, x, y: F(lib).jvp(
            lambda a, b: a * 2, (x, y), (lib.ones(3), lib.ones(3)), strict=True
        ),
        lambda lib, x, y: F(lib).jvp(
            lambda a, b: (a * b, lib.ones(3) * 0 + b.detach()),
            (x, y),
            (lib.ones(3), lib.ones(3)),
            strict=True,
        ),
        lambda lib, x, y: F(lib).vhp(
            lambda a, b: (a**2).sum(), (x, y), (lib.ones(3), lib.ones(3)), strict=True
        ),
        lambda lib, x, y: F(lib).vhp(
            lambda a, b: (a * 2 + b).sum(), (x, y), (lib.ones(3), lib.ones(3)), strict=True
        ),
        lambda lib, x, y: F(lib).hvp(
            lambda a, b: (a * 2 + b**2).sum(), (x, y), (lib.ones(3), lib.ones(3)), strict=True
        ),
        lambda lib, x, y: F(lib).vjp(
            lambda a, b: a * 2 + b, (x, y), lib.ones(3), strict=True, create_graph=True
        ),
    ],
)
def test_product_strict_errors(call):
    same_error(call, X3, randn(3))


def test_products_without_strict_fill_in_zeros():
    same(lambda lib, x, y: F(lib).vjp(lambda a, b: a * 2, (x, y), lib.ones(3)), X3, randn(3))
    same(lambda lib, x, y: F(lib).hvp(lambda a, b: (a**3).sum(), (x, y), (x, y)), X3, randn(3))
    same(
        lambda lib, x, y: F(lib).jvp(lambda a, b: (a * 2, lib.ones(2)), (x, y), (x, y)),
        X3,
        randn(3),
    )


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def test_functional_is_not_loaded_by_import_and_never_imports_torch():
    code = (
        "import sys, autograd_lite as T\n"
        "assert 'autograd_lite.autograd.functional' not in sys.modules\n"
        "import autograd_lite.autograd.functional as F\n"
        "x = T.tensor([1.0, 2.0])\n"
        "print(F.hessian(lambda t: (t[0] + 5 * t[1]) ** 2, x).tolist())\n"
        "assert 'torch' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[[2.0, 10.0], [10.0, 50.0]]"


def test_lazy_attribute_access():
    code = (
        "import autograd_lite as T\n"
        "print(T.autograd.functional.jacobian(lambda t: t * 2, T.ones(2)).tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, first_line(out.stderr[-300:])
    assert out.stdout.strip() == "[[2.0, 0.0], [0.0, 2.0]]"

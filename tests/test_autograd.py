"""The autograd engine, compared with torch: the same code runs on both libraries.

Covers the graph's shape (``grad_fn`` names, ``next_functions``, ``is_leaf``), every way of
running backward (``backward`` and ``autograd.grad`` with their options), grad modes, detaching,
hooks, and the engine's own promises: no recursion limit, no reference cycles.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import warnings
import weakref

import numpy as np
import pytest
import torch
from helpers import assert_same, both, compare, compare_error, first_line, node_name, same

import autograd_lite

LIBS = (torch, autograd_lite)


def structure(fn, depth: int = 4):
    """A graph as nested ``(name, output_nr, [children])``; ``None`` for an edge to nowhere."""
    if fn is None:
        return None
    children = []
    if depth:
        children = [(structure(f, depth - 1), nr) for f, nr in fn.next_functions]
    return node_name(fn), children


def caught_warnings(fn):
    """Run ``fn``; return its result and its warnings as (category, message's first line)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        result = fn()
    return result, [(w.category.__name__, first_line(str(w.message))) for w in record]


# --------------------------------------------------------------------------------------------
# Leaves, requires_grad, grad_fn
# --------------------------------------------------------------------------------------------


def test_requires_grad_and_is_leaf():
    def fn(lib):
        x = lib.tensor([1.0, 2.0])
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        y = w * 2
        z = x * 2
        return [
            [t.requires_grad for t in (x, w, y, z)],
            [t.is_leaf for t in (x, w, y, z)],
            [t.grad_fn is None for t in (x, w, y, z)],
            y.detach().is_leaf,
            lib.ones(2, requires_grad=True).requires_grad,
        ]

    same(fn)


def test_requires_grad_underscore_defaults_to_true():
    # The official tutorial claims the default is False; it is True in torch.
    def fn(lib):
        a = lib.tensor([1.0, 2.0])
        b = a.requires_grad_()
        flags = [a.requires_grad, b is a]
        a.requires_grad_(False)
        flags.append(a.requires_grad)
        a.requires_grad = True
        flags.append(a.requires_grad)
        y = a * 2
        y.requires_grad_(True)  # allowed on a non-leaf: it already requires grad
        flags.append(y.requires_grad)
        return flags

    same(fn)


@pytest.mark.parametrize(
    "code",
    [
        "lib.tensor([1, 2]).requires_grad_()",
        "lib.tensor([1, 2], requires_grad=True)",
        "setattr(lib.tensor([1, 2]), 'requires_grad', True)",
        "(lib.ones(2, requires_grad=True) * 2).requires_grad_(False)",
        "setattr(lib.ones(2, requires_grad=True) * 2, 'requires_grad', False)",
    ],
)
def test_requires_grad_errors(code):
    compare_error(lambda lib: eval(code))


GRAPHS = {
    "sub_scalar": lambda lib, x, w, c: x - 2,
    "rsub_scalar": lambda lib, x, w, c: 2 - x,
    "mul_const_tensor": lambda lib, x, w, c: x * c,
    "mul_both": lambda lib, x, w, c: x * w,
    "div": lambda lib, x, w, c: x / w,
    "rdiv": lambda lib, x, w, c: 3 / x,
    "pow": lambda lib, x, w, c: x**2,
    "rpow": lambda lib, x, w, c: 2**x,
    "pow_tensor": lambda lib, x, w, c: x**w,
    "chain": lambda lib, x, w, c: (x * w + 1).exp().sin().sum(),
    "mean": lambda lib, x, w, c: (x - w).mean(),
    "select": lambda lib, x, w, c: x[0] * w[1],
    "slice": lambda lib, x, w, c: x[1:] + w[:-1],
    "view_t": lambda lib, x, w, c: x.view(3, 1).t() @ w.view(3, 1),
    "unbind": lambda lib, x, w, c: (lambda a, b, d: a * b - d)(*x.unbind(0)),
    "iteration": lambda lib, x, w, c: sum(row * 2 for row in x),
    "stack": lambda lib, x, w, c: lib.stack([x, w, c]).sum(0),
    "cat": lambda lib, x, w, c: lib.cat([x, c]),
    "dot": lambda lib, x, w, c: lib.dot(x, w),
    "neg_abs": lambda lib, x, w, c: (-x).abs(),
    "unsqueeze_expand": lambda lib, x, w, c: x.unsqueeze(0).expand(2, 3),
    "clone_double": lambda lib, x, w, c: x.clone().double(),
    "tanh_sigmoid_relu": lambda lib, x, w, c: x.tanh() + w.sigmoid() + c.relu(),
    "same_input_twice": lambda lib, x, w, c: x * x,
}


@pytest.mark.parametrize("name", GRAPHS)
def test_grad_fn_names_and_next_functions(name):
    build = GRAPHS[name]

    def fn(lib):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        w = lib.tensor([1.5, 2.0, -0.5], requires_grad=True)
        c = lib.tensor([2.0, 3.0, 4.0])
        return structure(build(lib, x, w, c).grad_fn)

    expected, actual = both(fn)
    assert actual == expected


def test_scalar_edge_is_none():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return [(node_name(f), nr) for f, nr in (x - 2).grad_fn.next_functions]

    expected, actual = both(fn)
    assert actual == expected == [("AccumulateGrad", 0), (None, 0)]


def test_accumulate_grad_node_is_shared_and_points_to_leaf():
    for lib in LIBS:
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = (x * 2).grad_fn.next_functions[0][0], (x + 1).grad_fn.next_functions[0][0]
        assert a is b
        assert a.variable is x
        assert a.next_functions == ()


def test_iteration_gives_unbind_outputs():
    def fn(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
        rows = list(x)
        total = sum((i + 1) * row.sum() for i, row in enumerate(rows))
        total.backward()
        return [node_name(r.grad_fn) for r in rows], [r.output_nr for r in rows], x.grad, rows[1]

    same(fn)


def test_output_nr_of_unbind_pieces():
    for lib in LIBS:
        x = lib.ones(3, 2, requires_grad=True)
        assert [p.output_nr for p in x.unbind(0)] == [0, 1, 2]


# --------------------------------------------------------------------------------------------
# backward
# --------------------------------------------------------------------------------------------


def test_backward_accumulates_and_resets():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = []
        for _ in range(3):
            (x * x).sum().backward()
            out.append(x.grad.clone())
        grad_object = x.grad
        (x**3).sum().backward()
        out.append(x.grad is grad_object)  # accumulated in place, into the same tensor
        x.grad = None
        out.append(x.grad)
        (x * 5).sum().backward()
        out.append(x.grad)
        x.grad.zero_()
        (x * 7).sum().backward()
        out.append(x.grad)
        return out

    same(fn)


def test_backward_with_gradient_vector():
    def fn(lib):
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = x**2 * 3
        y.backward(lib.tensor([1.0, 0.1, 0.01]))
        y2 = x.exp()
        y2.backward(gradient=lib.tensor([2.0, 2.0, 2.0]))
        return x.grad

    same(fn)


def test_backward_on_a_leaf_itself():
    def fn(lib):
        x = lib.tensor(3.0, requires_grad=True)
        x.backward()
        v = lib.tensor([1.0, 2.0], requires_grad=True)
        v.backward(lib.tensor([5.0, 6.0]))
        return x.grad, v.grad

    same(fn)


def test_gradient_dtype_is_cast_to_the_output():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).backward(lib.tensor([1.0, 2.0], dtype=lib.float64))
        (x * 2).backward(lib.tensor([1, 2]))
        return x.grad

    same(fn)


def test_broadcast_gradients_are_summed_back():
    def fn(lib):
        x = lib.tensor([[1.0], [2.0]], requires_grad=True)
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = lib.tensor(0.5, requires_grad=True)
        (x * w + b).sum().backward()
        return x.grad, w.grad, b.grad

    same(fn)


def test_mixed_dtype_gradients_keep_each_leaf_dtype():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = lib.tensor([3.0, 4.0], dtype=lib.float64, requires_grad=True)
        (x * d).sum().backward()
        return x.grad, d.grad

    same(fn)


def test_diamond_graph_visits_shared_node_once():
    def fn(lib):
        a = lib.tensor([1.0, 3.0], requires_grad=True)
        y = a * a
        z = y + y
        w = z * y  # y reached along three paths
        w.sum().backward()
        return a.grad, z

    same(fn)


def test_shared_subexpression_runs_its_rule_once():
    calls = {}
    for lib in LIBS:
        calls[lib] = 0

        def count(grad, lib=lib):
            calls[lib] += 1

        a = lib.tensor([1.0, 3.0], requires_grad=True)
        y = a * a
        y.register_hook(count)
        (y + y + y * 2).sum().backward()
    assert calls[torch] == calls[autograd_lite] == 1


def test_non_leaf_grad_is_none_with_torch_warning():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.sum().backward()
        return caught_warnings(lambda: y.grad)

    (t_grad, t_warn), (l_grad, l_warn) = both(fn)
    assert t_grad is None and l_grad is None
    assert l_warn == t_warn
    assert t_warn[0][0] == "UserWarning"


def test_leaf_grad_access_does_not_warn():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return caught_warnings(lambda: (x.grad, lib.ones(2).grad))[1]

    assert both(fn) == ([], [])


def test_retain_grad():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x + 3  # saves nothing: a second backward through it works
        y.retain_grad()
        (y * y).sum().backward()
        first = y.grad.clone()
        (y * 5).sum().backward()  # accumulates into y.grad too
        grad, caught = caught_warnings(lambda: y.grad)
        assert caught == []  # retained: no warning
        return first, grad, y.retains_grad, (y * y).retains_grad, x.retains_grad, x.grad

    same(fn)


def test_retain_grad_on_a_leaf_is_a_no_op():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.retain_grad()
        (x * 2).sum().backward()
        return x.grad, x.retains_grad

    same(fn)


def test_second_backward_raises_when_something_was_saved():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        y.backward()
        y.backward()

    error = compare_error(fn)
    assert str(error).startswith("Trying to backward through the graph a second time")


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: (x * x).sum(),
        lambda lib, x: x.exp().sum(),
        lambda lib, x: (x * 2).sum(),  # torch's MulBackward0 saves the scalar as a tensor
        lambda lib, x: x.sin().mean(),
        lambda lib, x: x @ x,
    ],
)
def test_second_backward_raises_like_torch(make):
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = make(lib, x)
        y.backward()
        y.backward()

    compare_error(fn)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: (x + 2).sum(),
        lambda lib, x: (x - 1).mean(),
        lambda lib, x: (-x).sum(),
        lambda lib, x: x[0] + x[1],
        lambda lib, x: x.view(2, 1).sum(),
    ],
)
def test_second_backward_works_when_nothing_was_saved(make):
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = make(lib, x)
        y.backward()
        y.backward()
        return x.grad

    same(fn)


def test_retain_graph_allows_repeated_backward():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).exp().sum()
        out = []
        for _ in range(3):
            y.backward(retain_graph=True)
            out.append(x.grad.clone())
        y.backward()  # the last one may free
        out.append(x.grad)
        return out

    same(fn)


def test_saved_values_are_freed_after_backward():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.sum().backward()
        return y.grad_fn._saved_result

    compare_error(fn)


def test_saved_values_are_visible_before_backward():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        y = x * w
        e = x.exp()
        return y.grad_fn._saved_self, y.grad_fn._saved_other, e.grad_fn._saved_result

    expected, actual = both(fn)
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a.detach().numpy(), e.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize(
    "code",
    [
        "(lib.tensor([1., 2.], requires_grad=True) * 2).backward()",
        "(lib.ones(2, 3, requires_grad=True) + 1).backward()",
        "(lib.tensor([1., 2.]) * 2).sum().backward()",
        "lib.tensor([1., 2.]).backward()",
        "lib.tensor(1.).backward()",
        "(lib.tensor([1., 2.], requires_grad=True) * 2).backward(lib.ones(3))",
        "(lib.tensor([1., 2.], requires_grad=True) * 2).backward(lib.ones(2, 1))",
        "(lib.tensor([1., 2.], requires_grad=True) * 2).sum().backward(lib.ones(1))",
        "(lib.tensor([1., 2.], requires_grad=True) * 2).backward([1.0, 1.0])",
        "(lib.tensor([1., 2.], requires_grad=True) * 2).backward(1.0)",
        "(lib.tensor([1., 2.], requires_grad=True) * 2).sum().backward(inputs=[])",
        "lib.autograd.backward([(lib.ones(2, requires_grad=True) * 2).sum()] * 2, [lib.tensor(1.)])",
        "(lib.tensor([1., 2.], requires_grad=True) > 0).sum().backward()",
    ],
)
def test_backward_errors(code):
    compare_error(lambda lib: eval(code))


def test_non_scalar_backward_message_has_a_hint():
    with pytest.raises(RuntimeError) as info:
        (autograd_lite.tensor([1.0, 2.0], requires_grad=True) * 2).backward()
    lines = str(info.value).split("\n")
    assert lines[0] == "grad can be implicitly created only for scalar outputs"
    assert lines[1].startswith("hint: ")


def test_backward_inputs_restricts_accumulation():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        (x * w).sum().backward(inputs=[x])
        first = (x.grad.clone(), w.grad)
        (x * w).sum().backward(inputs=w)
        y = x * w
        (y * y).sum().backward(inputs=(x, w))
        return first, x.grad, w.grad

    same(fn)


def test_backward_inputs_may_be_a_non_leaf():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        (y * y).sum().backward(inputs=[y])
        return y.grad, x.grad

    expected, actual = both(lambda lib: caught_warnings(lambda: fn(lib))[0])
    assert_same(actual, expected, atol=1e-6, rtol=1e-6, graph=False)


def test_create_graph_backward_gives_differentiable_grad():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x**3).sum().backward(create_graph=True)
        g = x.grad
        first = (g.clone(), g.requires_grad, node_name(g.grad_fn))
        x.grad = None
        g.sum().backward()
        return first, x.grad

    same(fn)


def test_create_graph_backward_warns_once_about_the_cycle():
    # torch warns once per process, so both libraries run in one fresh interpreter.
    code = """if True:
        import warnings, torch, autograd_lite
        for lib in (torch, autograd_lite):
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter('always')
                (x ** 3).sum().backward(create_graph=True)
                (x ** 3).sum().backward(create_graph=True)
            message = str(w[0].message).split(' (Triggered')[0]
            print(len(w), w[0].category.__name__, message)
    """
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    torch_line, lite_line = out.stdout.splitlines()
    assert lite_line == torch_line
    assert torch_line.startswith("1 UserWarning Using backward() with create_graph=True")


def test_accumulating_with_create_graph_builds_on_the_old_grad():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (x**3).sum().backward(create_graph=True)
            (x**2).sum().backward(create_graph=True)
        g = x.grad
        (second,) = lib.autograd.grad(g.sum(), x)
        return g, node_name(g.grad_fn), second

    same(fn)


# --------------------------------------------------------------------------------------------
# autograd.grad
# --------------------------------------------------------------------------------------------


def test_grad_with_tuple_inputs_does_not_touch_dot_grad():
    def fn(lib):
        x = lib.tensor(2.0, requires_grad=True)
        w = lib.tensor(3.0, requires_grad=True)
        y = (x + 5 * w) ** 2
        fx, fw = lib.autograd.grad(outputs=y, inputs=(x, w))
        return fx, fw, x.grad, w.grad, type(lib.autograd.grad((x * w), [x])).__name__

    same(fn)


def test_grad_with_grad_outputs_and_several_outputs():
    def fn(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y1, y2 = x**2, x.sin()
        return lib.autograd.grad(
            [y1, y2], x, grad_outputs=[lib.tensor([1.0, 0.5, 0.25]), lib.ones(3)]
        )

    same(fn)


def test_grad_extra_grad_outputs_are_ignored_like_torch():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return lib.autograd.grad((x * 2).sum(), x, grad_outputs=[lib.tensor(2.0), lib.tensor(5.0)])

    same(fn)


def test_grad_allow_unused():
    def fn(lib):
        a = lib.tensor(1.0, requires_grad=True)
        b = lib.tensor(2.0, requires_grad=True)
        c = lib.tensor(4.0, requires_grad=True)
        return (
            lib.autograd.grad(a * 3, (a, b), allow_unused=True),
            lib.autograd.grad(a * c, (b, c), allow_unused=True, retain_graph=True),
            lib.autograd.grad(a * 3, (b, a), materialize_grads=True),
        )

    same(fn)


@pytest.mark.parametrize(
    "code",
    [
        "lib.autograd.grad(a * 3, (a, b))",
        "lib.autograd.grad(a * 3, [b, c, a])",
        "lib.autograd.grad(a * 3, b)",
        "lib.autograd.grad(a * 3, lib.tensor(1.))",
        "lib.autograd.grad(lib.tensor(1.) * 3, a)",
        "lib.autograd.grad(a * lib.ones(2), a)",
        "lib.autograd.grad((a * a, a * 2), a, grad_outputs=[lib.tensor(1.)])",
        "lib.autograd.grad(a * 3, a, grad_outputs=lib.ones(2))",
    ],
)
def test_grad_errors(code):
    def fn(lib):
        a = lib.tensor(1.0, requires_grad=True)  # noqa: F841 - used by eval
        b = lib.tensor(2.0, requires_grad=True)  # noqa: F841
        c = lib.tensor(4.0, requires_grad=True)  # noqa: F841
        return eval(code)

    compare_error(fn)


def test_grad_on_two_separate_graphs():
    def fn(lib):
        a = lib.tensor(1.0, requires_grad=True)
        return lib.autograd.grad(a.exp(), a) + lib.autograd.grad(a.exp(), a)

    same(fn)


def test_grad_twice_on_one_graph_needs_retain_graph():
    def fn(lib):
        a = lib.tensor(1.5, requires_grad=True)
        y = a.exp()
        lib.autograd.grad(y, a)
        lib.autograd.grad(y, a)

    compare_error(fn)


def test_grad_with_non_leaf_inputs():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        y = (h**2).sum()
        return lib.autograd.grad(y, [h, x])

    same(fn)


FUNCTIONS = {
    "sin_x_cubed": lambda lib, x: lib.sin(x) * x**3,
    "exp": lambda lib, x: lib.exp(x),
    "tanh": lambda lib, x: lib.tanh(x),
    "poly_over_x": lambda lib, x: (x**4 - 3 * x) / (1 + x * x),
    "log_sigmoid": lambda lib, x: lib.log(lib.sigmoid(x)),
    "sqrt_cos": lambda lib, x: lib.sqrt(2 + lib.cos(x)),
}


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_higher_order_derivatives(name, order):
    f = FUNCTIONS[name]

    def fn(lib):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        y = f(lib, x)
        for _ in range(order):
            (y,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        return y

    # The nth derivative's grad_fn too: tanh and sigmoid differentiate through nodes of their
    # own (TanhBackwardBackward0), as in torch.
    expected, actual = both(fn)
    assert_same(actual, expected, atol=1e-9, rtol=1e-9)
    assert actual.requires_grad == expected.requires_grad


def test_mixed_partial_derivatives():
    # The lecture notebook (seed 000): f = (x + 5w)^2, all second derivatives.
    def fn(lib):
        x = lib.tensor(2.0, requires_grad=True)
        w = lib.tensor(3.0, requires_grad=True)
        y = (x + 5 * w) ** 2
        fx, fw = lib.autograd.grad(y, (x, w), create_graph=True)
        fxx, fxw = lib.autograd.grad(fx, (x, w), retain_graph=True)
        fwx, fww = lib.autograd.grad(fw, (x, w))
        return fx, fw, fxx, fxw, fwx, fww

    same(fn)


def test_compare_helper_checks_second_derivatives():
    compare(lambda lib, x, w: (x * w).sin() * x**2, np.array([0.5, 1.5]), np.array([2.0, -1.0]))
    compare(lambda lib, x: lib.tanh(x).exp().sum(), np.array([[0.1, 0.2], [0.3, -0.4]]))


# --------------------------------------------------------------------------------------------
# Grad modes
# --------------------------------------------------------------------------------------------


def test_no_grad_enable_grad_set_grad_enabled():
    def fn(lib):
        x = lib.ones(2, requires_grad=True)
        out = []
        with lib.no_grad():
            out.append((x * 2).requires_grad)
            out.append(lib.is_grad_enabled())
            with lib.enable_grad():
                out.append((x * 2).requires_grad)
            out.append((x * 2).requires_grad)
        with lib.set_grad_enabled(False):
            out.append((x * 2).requires_grad)
        with lib.set_grad_enabled(True):
            out.append((x * 2).requires_grad)
        out.append(lib.is_grad_enabled())
        return out

    same(fn)


def test_grad_modes_as_decorators():
    def fn(lib):
        x = lib.ones(2, requires_grad=True)

        @lib.no_grad()
        def called(t):
            """Docs survive."""
            return (t * 2).requires_grad

        @lib.no_grad
        def bare(t):
            return (t * 2).requires_grad

        @lib.set_grad_enabled(False)
        def switched(t):
            return (t * 2).requires_grad

        after_definition = lib.is_grad_enabled()  # defining must not switch grad mode off

        @lib.enable_grad()
        def enabled(t):
            return (t * 2).requires_grad

        with lib.no_grad():
            inside = enabled(x)
        return [
            called(x),
            bare(x),
            switched(x),
            after_definition,
            inside,
            called.__name__,
            bare.__name__,
            called.__doc__,
            lib.is_grad_enabled(),
        ]

    same(fn)


def test_set_grad_enabled_as_a_function():
    def fn(lib):
        x = lib.ones(2, requires_grad=True)
        try:
            lib.set_grad_enabled(False)
            off = ((x * 2).requires_grad, lib.is_grad_enabled())
        finally:
            lib.set_grad_enabled(True)
        return off, (x * 2).requires_grad

    same(fn)


def test_grad_mode_is_restored_after_an_exception():
    def fn(lib):
        for context in (lib.no_grad(), lib.set_grad_enabled(False)):
            try:
                with context:
                    raise ValueError
            except ValueError:
                pass
        return lib.is_grad_enabled()

    same(fn)


def test_no_grad_results_are_leaves():
    def fn(lib):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            y = x * 2
        return y.requires_grad, y.is_leaf, y.grad_fn

    same(fn)


def test_enable_grad_inside_no_grad_decorated_function():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)

        @lib.no_grad()
        def step():
            with lib.enable_grad():
                y = (x * x).sum()
            y.backward()
            return y.requires_grad

        return step(), x.grad

    same(fn)


# --------------------------------------------------------------------------------------------
# detach, .data
# --------------------------------------------------------------------------------------------


def test_detach_shares_memory_and_version():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        d = y.detach()
        out = [d.requires_grad, d.is_leaf, d.grad_fn, d._version, y._version]
        d.add_(1)
        out += [y.detach().clone(), d._version, y._version]
        return out

    same(fn)


def test_detach_of_a_saved_tensor_then_in_place_breaks_backward():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.detach().zero_()  # shares the version counter: backward notices
        y.sum().backward()

    compare_error(fn)


def test_data_shares_memory_without_bumping_the_version():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        e = y.data
        e.mul_(0)  # invisible to autograd: backward uses the changed values, silently
        y.sum().backward()
        return x.grad, y.detach().clone(), e._version, y._version, e.requires_grad, e.is_leaf

    same(fn)


def test_data_setter_and_leaf_update():
    def fn(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.data = w.data - 0.5
        w.data.mul_(2)
        (w * w).sum().backward()
        return w, w.grad, w.is_leaf

    same(fn)


def test_detach_underscore():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        z = y.detach_()
        return z is y, y.requires_grad, y.grad_fn, y.is_leaf

    same(fn)


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------


def test_hooks_on_leaves_and_non_leaves():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g.clone()))
        y = x * 3
        handle = y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
        (y * y).sum().backward()
        out = [x.grad.clone(), seen]
        handle.remove()
        x.grad = None
        y = x * 3
        (y * y).sum().backward()
        out.append(x.grad)
        return out

    same(fn)


def test_leaf_hook_replaces_what_is_accumulated():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g + 100)
        (x * x).sum().backward()
        first = x.grad.clone()
        (x * x).sum().backward()  # a new graph: the hook stays registered on the leaf
        return first, x.grad

    same(fn)


def test_hook_errors():
    compare_error(lambda lib: lib.ones(2).register_hook(lambda g: g))
    compare_error(lambda lib: lib.ones(2).retain_grad())


# --------------------------------------------------------------------------------------------
# The engine itself: deep graphs and memory
# --------------------------------------------------------------------------------------------


def test_deep_chain_backward_has_no_recursion_limit_and_no_leak():
    gc.collect()
    gc.disable()  # what is freed below is freed by reference counting alone
    try:
        x = autograd_lite.tensor([1.0, 2.0], requires_grad=True)
        y = x
        refs = []
        for i in range(100_000):
            y = y * 1.0
            if i % 25_000 == 0:
                refs += [weakref.ref(y), weakref.ref(y.grad_fn)]
        y.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
        refs.append(weakref.ref(y.grad_fn))
        del y
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()


def test_deep_chain_with_saved_tensors_and_create_graph():
    x = autograd_lite.tensor([0.5], dtype=autograd_lite.float64, requires_grad=True)
    y = x
    for _ in range(2_000):
        y = y.sin()
    (g,) = autograd_lite.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = autograd_lite.autograd.grad(g.sum(), x)
    tx = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    ty = tx
    for _ in range(2_000):
        ty = ty.sin()
    (tg,) = torch.autograd.grad(ty.sum(), tx, create_graph=True)
    (th,) = torch.autograd.grad(tg.sum(), tx)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-8)


def test_deleting_a_deep_graph_does_not_crash():
    gc.collect()
    gc.disable()
    try:
        x = autograd_lite.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(100_000):
            y = y.sin()  # saves its input: tensors and nodes alternate down the chain
        refs = [weakref.ref(y.grad_fn), weakref.ref(y)]
        del y
        assert [r() for r in refs] == [None, None]
    finally:
        gc.enable()


def _chain(lib, n: int, refs: list):
    x = lib.tensor([0.5, 1.0], requires_grad=True)
    y = x
    for i in range(n):
        y = (y * 2).sin().exp() * 0.5 + y * 0.1  # bounded: no overflow
        if i % 50 == 0:
            refs += [weakref.ref(y), weakref.ref(y.grad_fn)]
    return x, y


@pytest.mark.parametrize("run_backward", [False, True, "retain_graph", "create_graph"])
def test_graphs_are_freed_by_reference_counting_alone(run_backward):
    """No reference cycles: with the cyclic collector off, dropping the result frees it all."""
    gc.collect()
    gc.disable()
    try:
        refs: list = []
        x, y = _chain(autograd_lite, 500, refs)
        if run_backward == "create_graph":
            (g,) = autograd_lite.autograd.grad(y.sum(), x, create_graph=True)
            refs += [weakref.ref(g), weakref.ref(g.grad_fn)]
            autograd_lite.autograd.grad(g.sum(), x)
            del g
        elif run_backward:
            y.sum().backward(retain_graph=run_backward == "retain_graph")
        leaf = weakref.ref(x)
        del y
        assert sum(r() is not None for r in refs) == 0
        del x
        assert leaf() is None
    finally:
        gc.enable()


def test_leaf_with_hooks_and_retained_grads_is_freed_without_gc():
    gc.collect()
    gc.disable()
    try:
        x = autograd_lite.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g)
        (y * y).sum().backward()
        refs = [weakref.ref(t) for t in (x, y, y.grad_fn, x.grad)]
        del x, y
        assert [r() for r in refs] == [None] * 4
    finally:
        gc.enable()


def test_hook_survives_when_the_accumulator_is_recreated():
    x = autograd_lite.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 2)
    for _ in range(2):
        gc.collect()  # the previous graph (and the leaf's accumulator) is gone
        x.grad = None
        (x * x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), [4.0, 8.0])


def test_first_line_helper_strips_torch_location():
    # compare_error relies on it; keep it honest against a real torch message.
    try:
        torch.ones(2).backward()
    except RuntimeError as e:
        assert first_line(str(e)).startswith("element 0 of tensors does not require grad")


def test_detect_anomaly_names_the_node_that_returned_nan():
    def fn(lib):
        x = lib.tensor([-1.0, 1.0], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with lib.autograd.detect_anomaly():
                x.sqrt().sum().backward()

    compare_error(fn)


def test_set_detect_anomaly_is_off_again_after_the_context():
    x = autograd_lite.tensor([-1.0, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with autograd_lite.autograd.detect_anomaly():
            assert autograd_lite.autograd.anomaly.is_anomaly_enabled()
    x.sqrt().sum().backward()  # NaN gradients are allowed again
    assert np.isnan(x.grad.numpy()[0])


@pytest.mark.parametrize("power", [0, 1, 2, 3, 4])
def test_derivatives_past_a_polynomials_degree_are_zero_with_a_graph_as_in_torch(power):
    """torch's pow rule keeps x.pow(e - 1) even for e = 1, 2: a constant derivative still has a
    grad_fn, so differentiating once more gives 0 instead of raising."""

    def derivatives(lib):
        x = lib.tensor(1.5, requires_grad=True)
        out, d = [], x**power
        for _ in range(power + 1):
            if not d.requires_grad:
                out.append((d.item(), False))
                break
            (d,) = lib.autograd.grad(d, x, create_graph=True)
            out.append((d.item(), d.requires_grad))
        return out

    assert derivatives(autograd_lite) == derivatives(torch)

"""The code that exists only for speed gives torch's results.

Three shortcuts of the backward pass (see benchmarks/README.md, elementwise_big):

* sums of gradients are added in place, and a leaf may take the arriving gradient as its
  ``.grad`` without a copy, when the pass made that sum and showed it to nobody
  (``_engine._sum_into``; torch's InputBuffer and AccumulateGrad do the same; every kind of
  holder is tested in test_ownership.py);
* where no graph is recorded, the rules of division and ``x ** n`` compute the same operations
  in one new array;
* tanh and sigmoid differentiate through one node of their own, as torch's tanh_backward and
  sigmoid_backward do.

Small tensors take none of the in-place shortcuts (``_IN_PLACE_MIN_SIZE``), so these tests use big
ones, or lower the threshold to reach every corner with hypothesis.
"""

from __future__ import annotations

import contextlib
import warnings
from unittest import mock

import numpy as np
import pytest
from helpers import compare, distinct, positive, randn, same
from hypothesis import given, settings
from test_ownership import spied_sums
from test_properties import FAST, programs, run

import autograd_lite
from autograd_lite import _engine

BIG = 1 << 15  # above _IN_PLACE_MIN_SIZE


@contextlib.contextmanager
def in_place_from_any_size():
    with mock.patch.object(_engine, "_IN_PLACE_MIN_SIZE", 1):
        yield


def test_the_threshold_is_what_these_tests_assume():
    assert _engine._IN_PLACE_MIN_SIZE <= BIG


# --------------------------------------------------------------------------------------------
# Sums in place, and the leaf taking the gradient
# --------------------------------------------------------------------------------------------


def shared_subexpressions(lib, a, b):
    """The benchmark's graph: t2, t3, t4 and t6 each feed several nodes."""
    t2, t3 = a + b, a - b
    t4 = a * b / t2
    t6 = lib.exp(t3)
    t12 = lib.tanh(t3**2 * t6 - (lib.tanh(t4) + lib.log(t2)))
    t17 = lib.exp(t12 * lib.log(t6 / t2 + 1.0))
    return ((t17 - t4) ** 2 / t2).sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shared_subexpressions_match_torch(dtype):
    a, b = positive(BIG, dtype=dtype), positive(BIG, dtype=dtype)
    compare(shared_subexpressions, a, b, second_order=False, rtol=1e-5, atol=1e-5)


def test_the_sums_of_the_benchmark_graph_are_made_in_place():
    """The shortcut is taken, not only harmless: every one of the ten sums goes into a gradient
    the pass owns (a sum it made, or a gradient a rule has just made), none into a new array."""
    a, b = (autograd_lite.tensor(positive(BIG), requires_grad=True) for _ in range(2))
    where = spied_sums(lambda: shared_subexpressions(autograd_lite, a, b).backward())
    assert len(where) == 10 and "new" not in where, where


@pytest.mark.parametrize("hooked_first", [True, False])
def test_a_hook_keeps_the_gradient_it_was_shown(hooked_first):
    """A hook that stores its gradient holds a reference: no later sum may write into it.

    ``h = u + 0`` hands the hooked gradient on to u unchanged, where it is summed with the
    gradient through ``u.exp()`` (in either order).
    """
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        u = x.sin()
        h = u + 0.0
        seen = []
        h.register_hook(lambda g: seen.append(g))
        y = (h * h + u.exp()) if hooked_first else (u.exp() + h * h)
        y.sum().backward()
        return x.grad, seen[0] * 1

    same(fn, graph=False)


def test_retained_and_captured_gradients_of_a_node_used_three_times():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.sin()
        h.retain_grad()
        y = (h * h + h.exp() + 2 * h).sum()
        (gh, gx) = lib.autograd.grad(y, (h, x), retain_graph=True)
        y.backward()
        return gh, gx, h.grad, x.grad

    same(fn, graph=False)


def test_leaves_fed_by_one_add_get_gradients_of_their_own():
    """AddBackward0 sends one tensor to both leaves: neither may take it as its .grad."""
    x = autograd_lite.tensor(randn(BIG), requires_grad=True)
    w = autograd_lite.tensor(randn(BIG), requires_grad=True)
    (x + w).sum().backward()
    assert not np.shares_memory(x.grad.numpy(), w.grad.numpy())
    x.grad.add_(1.0)
    np.testing.assert_array_equal(w.grad.numpy(), np.ones(BIG))


def test_a_users_gradient_is_neither_taken_nor_changed():
    values, vector = randn(BIG), randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        v = lib.tensor(vector)
        y = x + 0.0
        y.backward(v, retain_graph=True)
        y.backward(v)  # accumulates into x.grad
        return v, x.grad, v.clone().add_(1.0)

    same(fn, graph=False)
    x = autograd_lite.tensor(randn(BIG), requires_grad=True)
    v = autograd_lite.tensor(randn(BIG))
    (x * 1.0).backward(v)
    assert not np.shares_memory(x.grad.numpy(), v.numpy())


def test_a_taken_gradient_is_the_leafs_own_and_accumulates():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        (x.exp() * x).sum().backward()
        first = x.grad.clone()
        (x * x).sum().backward()
        return first, x.grad

    same(fn, graph=False)
    x = autograd_lite.tensor(randn(BIG), requires_grad=True)
    (x.exp() * x).sum().backward()
    grad = x.grad.numpy()
    assert grad.flags.writeable and grad.flags.owndata


def test_create_graph_sums_are_part_of_the_graph():
    """With create_graph nothing is written in place: the sums are differentiated again."""

    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.sin()
        y = (h * h + h.exp()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        return g.detach(), gg

    same(fn, graph=False)


@settings(FAST, max_examples=150)
@given(programs())
def test_random_programs_with_sums_in_place_match_torch(program):
    leaves, steps = program
    with in_place_from_any_size():
        compare(
            lambda lib, *t: run(steps, lib, *t), *leaves, second_order=False, rtol=1e-6, atol=1e-8
        )


# --------------------------------------------------------------------------------------------
# Rules computed in one new array where no graph is recorded
# --------------------------------------------------------------------------------------------

SHORTCUT_RULES = {
    "div": lambda lib, x, y: x / y,
    "div_broadcast": lambda lib, x, y: x / (y.sum() + 1),
    "int_over_float": lambda lib, x, y: lib.full(y.shape, -3) / y,
    "square": lambda lib, x, y: x**2 * y,
    "cube": lambda lib, x, y: x**3 + y,
    "sqrt": lambda lib, x, y: y.abs() ** 0.5,
    "inverse": lambda lib, x, y: y**-1.5,
    "first_power": lambda lib, x, y: x**1 * y,
    "first_power_alone": lambda lib, x, y: x**1 + y,  # (the rule hands its gradient on)
    "tanh": lambda lib, x, y: lib.tanh(x * y),
    "sigmoid": lambda lib, x, y: lib.sigmoid(x) * y,
    "cos": lambda lib, x, y: lib.cos(x) * y,
    "mm": lambda lib, x, y: x.reshape(1, -1) @ y.reshape(-1, 1),
    "views": lambda lib, x, y: x.reshape(-1).unsqueeze(0).squeeze(0).view(-1) * y.reshape(-1),
    "partial_sum": lambda lib, x, y: (x * y).sum(-1) * 2.0,
    # chains: the inner rules get gradients the pass owns, so they run in place
    "in_place_chain": lambda lib, x, y: lib.exp(lib.log(y * y.exp()) * x / y) * (x / y),
    "in_place_negation": lambda lib, x, y: -(lib.exp(x * 0.5) * y) / (x * x + 1.0),
}
SHAPES = {"0-d": (), "vector": (3,), "matrix": (3, 4)}


def _gradients(lib, rule, x, y, create_graph):
    """By backward(), which sums the gradients of shared nodes in torch's order either way
    (autograd.grad follows torch's order only where it records a graph; without one, the
    order it finds fastest, whose sums may differ in the last bit)."""
    leaves = [lib.tensor(v, requires_grad=True) for v in (x, y)]
    out = SHORTCUT_RULES[rule](lib, *leaves)
    with warnings.catch_warnings():  # (backward(create_graph=True)'s reference-cycle warning)
        warnings.simplefilter("ignore", UserWarning)
        out.sum().backward(create_graph=create_graph)
    return [t.grad.detach().numpy() if t.grad is not None else None for t in leaves]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES)
@pytest.mark.parametrize("rule", SHORTCUT_RULES)
def test_shortcut_rules_match_torch(rule, shape, dtype):
    x, y = distinct(*shape, dtype=dtype), positive(*shape, dtype=dtype)
    compare(lambda lib, *t: SHORTCUT_RULES[rule](lib, *t), x, y, second_order=False)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 4), (BIG,)], ids=["small", "big"])
@pytest.mark.parametrize("rule", SHORTCUT_RULES)
def test_shortcut_rules_give_the_bits_of_the_graph_rules(rule, shape, dtype):
    """Without a graph the same operations run in the same order: not close, identical."""
    x, y = distinct(*shape, dtype=dtype), positive(*shape, dtype=dtype)
    fast = _gradients(autograd_lite, rule, x, y, create_graph=False)
    graph = _gradients(autograd_lite, rule, x, y, create_graph=True)
    for f, g in zip(fast, graph):
        assert (f is None) == (g is None)
        if f is not None:
            assert f.dtype == g.dtype
            np.testing.assert_array_equal(f, g)


# --------------------------------------------------------------------------------------------
# tanh and sigmoid: the derivative is a node of its own, as in torch
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_derivative_graphs_of_tanh_and_sigmoid_are_torchs(name):
    def fn(lib):
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        y = getattr(lib, name)(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        nodes = [g.grad_fn, h.grad_fn] + [fn for fn, _ in h.grad_fn.next_functions]
        names = [type(node).__name__ if node is not None else None for node in nodes]
        saved = g.grad_fn._saved_grad_output, g.grad_fn._saved_output
        return g, h, k, names, saved

    same(fn)


def test_the_first_power_hands_on_its_gradient_as_torch_computes_it():
    """d(x ** 1)/dx = 1 * x ** 0 = 1 everywhere, nan, inf and -0.0 included (torch)."""
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 2.5])

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        upstream = lib.tensor([1.0, -2.0, np.nan, 0.5, -0.0, np.inf], dtype=lib.float64)
        (g,) = lib.autograd.grad(x**1, x, grad_outputs=upstream)
        return g

    same(fn, graph=False)


def test_rules_run_in_place_into_gradients_the_pass_owns():
    """The shortcut is taken: in the benchmark's graph, exp's, log's, mul's and div's rules
    write into the gradient they are given when the pass owns it (the values are torch's:
    test_shared_subexpressions_match_torch)."""
    from autograd_lite._ops import arithmetic, pointwise

    classes = (pointwise.Exp, pointwise.Log, arithmetic.Mul, arithmetic.Div)
    calls = []
    with contextlib.ExitStack() as stack:
        for cls in classes:
            real = cls.gradient_in_place

            def spy(node, grad, real=real):
                calls.append(type(node).__name__)
                return real(node, grad)

            stack.enter_context(mock.patch.object(cls, "gradient_in_place", spy))
        a, b = (autograd_lite.tensor(positive(BIG), requires_grad=True) for _ in range(2))
        shared_subexpressions(autograd_lite, a, b).backward()
    assert {"ExpBackward0", "LogBackward0", "MulBackward0", "DivBackward0"} <= set(calls), calls

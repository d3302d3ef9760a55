"""Passes over a retained graph reuse its plan, from any small fresh head (issue 15, point 1).

A Hessian or a Jacobian computed row by row walks one retained graph many times, each time
from a head built for that row: ``g[i]``, ``(g * e_i).sum()``, ``dot(g, v)``, or the same root
with a new ``backward(v)``.  The engine works out the order of the graph below such a head once
and keeps it on the first node where the graph branches (``_engine._plan``).  These tests check
that what the rows compute is torch's, whatever the head, the graph, the inputs asked for and
the order of the passes, and that the kept plans neither leak nor go stale.
"""

from __future__ import annotations

import gc
import weakref
from unittest import mock

import pytest
from helpers import LIBS, randn, same
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import FAST

import autograd_lite
from autograd_lite import _engine

N = 4

# The graph's steps: each makes a new vector from the last one and one earlier value, so the
# graph branches and joins (a node reached along several paths, leaves used several times).
STEPS = {
    "mul": lambda lib, a, b: a * b,
    "add": lambda lib, a, b: a + b,
    "sin": lambda lib, a, b: lib.sin(a) + b,
    "exp_sub": lambda lib, a, b: lib.exp(a * 0.3) - b,
    "tanh": lambda lib, a, b: lib.tanh(a),
    "matvec": lambda lib, a, b: a @ lib.ones(N, N, dtype=lib.float64) * 0.25 + b,
    "view": lambda lib, a, b: a.view(2, 2).t().reshape(N) * b,
}

# The heads: a scalar built afresh for every pass from a value of the graph.
HEADS = {
    "index": lambda lib, t, k: t[k % N],
    "basis_sum": lambda lib, t, k: (t * lib.eye(N, dtype=lib.float64)[k % N]).sum(),
    "dot": lambda lib, t, k: lib.dot(t, lib.arange(N, dtype=lib.float64) - k),
    "scaled_sum": lambda lib, t, k: (t.sum() * (k + 1)) / 2,
    "slice_chain": lambda lib, t, k: t.view(2, 2)[k % 2].exp().sum(),
    "branching": lambda lib, t, k: (t * t).sum() + t[k % N],
}

# What each pass asks for: autograd.grad for some inputs, or backward into .grad.
ASKS = ("x", "w", "x_w", "middle", "x_middle", "backward", "backward_w")


def run_passes(lib, steps, passes, create_graph_first):
    x = lib.tensor(XS, requires_grad=True)
    w = lib.tensor(WS, requires_grad=True)
    values = [x, w, x * w]  # (every later value depends on both leaves)
    for name, pick in steps:
        values.append(STEPS[name](lib, values[-1], values[pick % len(values)]))
    middle = values[len(values) // 2]
    top = values[-1]
    if create_graph_first:  # the rows of a Hessian: the graph is a derivative's
        (top,) = lib.autograd.grad((top * top).sum(), x, create_graph=True)
    out = []
    for source, head, ask, k in passes:
        t = top if source == "top" else middle
        y = HEADS[head](lib, t, k)
        if ask.startswith("backward"):
            x.grad = w.grad = None
            y.backward(retain_graph=True, inputs=[w] if ask == "backward_w" else None)
            out.append([x.grad, w.grad])
            continue
        inputs = {"x": [x], "w": [w], "x_w": [x, w], "middle": [middle], "x_middle": [x, middle]}
        out.append(list(lib.autograd.grad(y, inputs[ask], retain_graph=True, allow_unused=True)))
    return out


XS, WS = randn(N), randn(N)

steps_strategy = st.lists(
    st.tuples(st.sampled_from(sorted(STEPS)), st.integers(0, 20)), min_size=1, max_size=7
)
passes_strategy = st.lists(
    st.tuples(
        st.sampled_from(["top", "middle"]),
        st.sampled_from(sorted(HEADS)),
        st.sampled_from(ASKS),
        st.integers(0, 7),
    ),
    min_size=2,
    max_size=8,
)


@settings(FAST, max_examples=80)
@given(steps=steps_strategy, passes=passes_strategy, create_graph_first=st.booleans())
def test_any_sequence_of_fresh_heads_gives_torchs_gradients(steps, passes, create_graph_first):
    same(lambda lib: run_passes(lib, steps, passes, create_graph_first), graph=False)


@pytest.mark.parametrize("head", sorted(HEADS))
def test_hessian_rows_from_each_head_are_torchs(head):
    A = randn(N, N)

    def rows(lib):
        x = lib.tensor(XS, requires_grad=True)
        y = (lib.sin(x) * x**2).sum() + x @ lib.tensor(A) @ x
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        return [lib.autograd.grad(HEADS[head](lib, g, k), x, retain_graph=True) for k in range(N)]

    same(rows, graph=False)


def counted_plans(run):
    """How many times the engine worked out a graph's order afresh while ``run()`` ran."""
    with mock.patch.object(_engine, "_fresh_plan", wraps=_engine._fresh_plan) as planning:
        run()
    return planning.call_count


@pytest.mark.parametrize("head", ["index", "basis_sum", "dot", "scaled_sum", "slice_chain"])
def test_a_row_loop_counts_the_graph_below_its_heads_once(head):
    """Every head above is a chain into the graph: after the first row, no row counts it."""
    lib = autograd_lite
    x = lib.tensor(XS, requires_grad=True)
    (g,) = lib.autograd.grad((lib.sin(x) * x * x).sum(), x, create_graph=True)

    def rows(count):
        return lambda: [
            lib.autograd.grad(HEADS[head](lib, g, k), x, retain_graph=True) for k in range(count)
        ]

    assert counted_plans(rows(1)) == 1
    assert counted_plans(rows(6)) == 0


def test_a_plan_kept_for_some_inputs_is_not_used_for_others():
    """The kept plan is for one set of inputs: another set (an intermediate, a leaf, both)
    gets a plan of its own, then each is reused; every row is torch's."""

    def rows(lib):
        x = lib.tensor(XS, requires_grad=True)
        w = lib.tensor(WS, requires_grad=True)
        h = lib.sin(x) * w
        top = lib.exp(h) + h * x
        asks = ([x], [w], [h], [x, w], [h, x], [x], [h])
        return [lib.autograd.grad(top[k % N], ask, retain_graph=True) for k, ask in enumerate(asks)]

    same(rows, graph=False)
    lib = autograd_lite
    x = lib.tensor(XS, requires_grad=True)
    w = lib.tensor(WS, requires_grad=True)
    h = lib.sin(x) * w
    top = lib.exp(h) + h * x
    for ask in ([x], [w], [h]):
        run = lambda ask=ask: lib.autograd.grad(top[0], ask, retain_graph=True)  # noqa: E731
        assert counted_plans(run) == 1
    for ask in ([x], [w], [h]):
        run = lambda ask=ask: lib.autograd.grad(top[1], ask, retain_graph=True)  # noqa: E731
        assert counted_plans(run) == 0


def test_kept_plans_keep_nothing_alive():
    """A plan is kept on a node and lists only nodes below it: no reference cycle, so the graph
    goes as soon as its last tensor does, without the cyclic collector."""
    lib = autograd_lite
    gc.disable()
    try:
        x = lib.tensor(XS, requires_grad=True)
        (g,) = lib.autograd.grad((lib.sin(x) * x * x).sum(), x, create_graph=True)
        for k in range(N):
            lib.autograd.grad((g * lib.eye(N, dtype=lib.float64)[k]).sum(), x, retain_graph=True)
        node = weakref.ref(g.grad_fn)
        assert node() is not None
        del g
        assert node() is None
    finally:
        gc.enable()


@pytest.mark.parametrize("ask", ["the head's own input", "an ancestor of the plan's node"])
def test_plans_for_inner_inputs_keep_nothing_alive(ask):
    """Gradients with respect to inner nodes (the h of ``grad(y, h)``): a plan is not kept
    where its inputs would refer back to the node holding it, a reference cycle that would keep
    the graph until the cyclic collector runs."""
    lib = autograd_lite
    gc.disable()
    try:
        x = lib.tensor(XS, requires_grad=True)
        h = lib.sin(x) * x  # branches below: the plan is kept at h's node or under it
        top = lib.tanh(h) * 2.0  # a chain above h
        wrt = h if ask == "the head's own input" else top
        for k in range(3):
            head = (top * lib.eye(N, dtype=lib.float64)[k]).sum()
            lib.autograd.grad(head, wrt, retain_graph=True)
        nodes = [weakref.ref(t.grad_fn) for t in (h, top)]
        del h, top, wrt, head
        assert [n() for n in nodes] == [None, None]
    finally:
        gc.enable()


def test_a_freed_graph_still_refuses_a_second_pass_through_a_kept_plan():
    """Reusing the plan must not skip the check that saved values were freed."""

    def second_pass(lib):
        x = lib.tensor(XS, requires_grad=True)
        g = lib.sin(x) * x
        lib.autograd.grad(g[0], x, retain_graph=True)  # the plan is kept
        lib.autograd.grad(g[1], x)  # frees the graph
        lib.autograd.grad(g[2], x)

    for lib in LIBS:
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second"):
            second_pass(lib)


def test_rows_by_backward_with_one_hot_vectors_are_torchs():
    def rows(lib):
        x = lib.tensor(XS, requires_grad=True)
        y = lib.tanh(x @ lib.tensor(randn_fixed)) + x * lib.sin(x)
        out = []
        for v in lib.eye(N, dtype=lib.float64):
            x.grad = None
            y.backward(v, retain_graph=True)
            out.append(x.grad)
        return out

    same(rows, graph=False)


randn_fixed = randn(N, N)

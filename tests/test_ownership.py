"""The backward pass writes in place only into gradient buffers it owns (issue 14, point 4).

The pass may add a gradient into a running sum, and a leaf may take a gradient as its
``.grad`` without a copy, only when the pass made that array itself and showed it to nobody
(``_engine._sum_into``). Every other gradient may be held elsewhere and must never change:
one that AddBackward0 sent to both of its inputs, a user's ``gradient=``, one a hook kept,
a retained or captured one, a view. Each case is run with torch on the same inputs, on tensors
above ``_IN_PLACE_MIN_SIZE`` or with the threshold lowered, and ownership must not come from
reference counts (CPython 3.14 and free-threaded builds count differently).
"""

from __future__ import annotations

import contextlib
import inspect
import pathlib
import random
import sys
from unittest import mock

import numpy as np
import pytest
from helpers import compare, positive, randn, same
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import FAST, programs, run

import autograd_lite
from autograd_lite import _engine

BIG = 1 << 15  # above _IN_PLACE_MIN_SIZE


@contextlib.contextmanager
def in_place_from_any_size():
    with mock.patch.object(_engine, "_IN_PLACE_MIN_SIZE", 1):
        yield


def test_big_is_above_the_threshold():
    assert _engine._IN_PLACE_MIN_SIZE <= BIG


def finish(lib, leaves, *held):
    """Change every leaf's .grad in place, then return all: an alias of a held one would show."""
    grads = [leaf.grad for leaf in leaves]
    for k, grad in enumerate(grads):
        if grad is not None:
            grad.add_(float(k + 1))
    return grads, held


# --------------------------------------------------------------------------------------------
# Each kind of holder, on big tensors
# --------------------------------------------------------------------------------------------


def test_one_gradient_sent_to_both_inputs_of_an_add():
    """AddBackward0 passes one tensor on to both sides; each is then summed with more."""
    xv, wv = randn(BIG), randn(BIG)

    def fn(lib):
        x = lib.tensor(xv, requires_grad=True)
        w = lib.tensor(wv, requires_grad=True)
        s = x + w  # s's gradient goes to x and to w as the same tensor
        t = s + s  # and s itself receives the same tensor twice
        (t + x.sin() + w.cos()).sum().backward()
        return finish(lib, [x, w])

    same(fn, graph=False)


def test_the_same_tensor_as_both_inputs():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.sin()
        (h + h + h * h).sum().backward()
        return finish(lib, [x])

    same(fn, graph=False)


@pytest.mark.parametrize("twice", [False, True])
def test_a_users_gradient_is_never_written_into(twice):
    values, vector = randn(BIG), randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        v = lib.tensor(vector)
        y = x.exp() + x  # v reaches x along two paths: summed there
        y.backward(v, retain_graph=twice)
        if twice:
            y.backward(v)
        (x * 1.0).backward(v)  # and once straight through to the leaf
        return finish(lib, [x], v)

    same(fn, graph=False)


@pytest.mark.parametrize("where", ["intermediate", "leaf", "both"])
def test_hooks_that_keep_their_gradient(where):
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        kept = []
        h = x.sin()
        if where in ("intermediate", "both"):
            h.register_hook(kept.append)
        if where in ("leaf", "both"):
            x.register_hook(kept.append)
        (h * h + h.exp() + x.cos()).sum().backward()
        return finish(lib, [x], kept)

    same(fn, graph=False)


def test_a_hook_that_returns_a_gradient_it_keeps():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        mine = []

        def hook(grad):
            mine.append(grad * 2.0)
            return mine[-1]

        h = x.tanh()
        h.register_hook(hook)
        (h * h + h).sum().backward()
        return finish(lib, [x], mine)

    same(fn, graph=False)


def test_retained_gradients():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.sin()
        u = h * 3.0
        h.retain_grad()
        u.retain_grad()
        (u + u.exp() + h * h).sum().backward()
        return finish(lib, [x], h.grad, u.grad)

    same(fn, graph=False)


def test_captured_gradients_then_backward():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.sin()
        y = (h * h + h.exp() + 2 * h).sum()
        captured = lib.autograd.grad(y, (h, x), retain_graph=True)
        y.backward()
        return finish(lib, [x], captured)

    same(fn, graph=False)


def test_backward_with_inputs_captures_the_leaf():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.exp()
        (h * x + h).sum().backward(inputs=[x])
        return finish(lib, [x])

    same(fn, graph=False)


def test_views_and_expanded_gradients():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        m = x.reshape(2, BIG // 2)
        col = m[:, :1]  # a view; its gradient is scattered into a new array
        e = x[None].expand(3, BIG)  # sum's gradient through expand: a broadcast view of ones
        y = e.sum() + (m * m).sum() + col.sum() + m.t().sum() + x.sum()
        y.backward()
        return finish(lib, [x])

    same(fn, graph=False)


def test_create_graph_then_plain_backward():
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        h = x.sin()
        (g,) = lib.autograd.grad((h * h + h.exp()).sum(), x, create_graph=True)
        (g * g + g).sum().backward()
        return finish(lib, [x], g.detach())

    same(fn, graph=False)


def test_a_leafs_grad_is_its_own_after_a_stolen_sum():
    """A sum the pass made may become .grad; the next backward adds into it, torch's way."""
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        (x.exp() * x + x.sin()).sum().backward()
        first = x.grad
        (x * x).sum().backward()
        return first is x.grad, finish(lib, [x])

    same(fn, graph=False)


# --------------------------------------------------------------------------------------------
# Random graphs with random holders (hypothesis), the threshold lowered to reach every corner
# --------------------------------------------------------------------------------------------

STEPS = {
    "add": lambda a, b: a + b,
    "mul": lambda a, b: a * b,
    "sub": lambda a, b: a - b,
    "twice": lambda a, b: a + a,  # one gradient to both inputs of an add
    "square": lambda a, b: a * a,
    "sin": lambda a, b: a.sin(),
    "tanh": lambda a, b: a.tanh(),
    "scale": lambda a, b: a * 0.5,
    "view": lambda a, b: a.reshape(2, -1).reshape(-1),
    "expand": lambda a, b: a[None].expand(2, a.shape[0]).sum(0),
}
HOLDERS = ["none", "none", "keep", "keep_leaf", "retain", "return_kept"]


@st.composite
def holder_programs(draw):
    steps = []
    for k in range(draw(st.integers(1, 8))):
        values = 2 + k
        op = draw(st.sampled_from(sorted(STEPS)))
        a, b = draw(st.integers(0, values - 1)), draw(st.integers(0, values - 1))
        steps.append((op, a, b, draw(st.sampled_from(HOLDERS))))
    root = draw(st.sampled_from(["sum", "gradient", "grad_then_backward", "inputs"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return steps, root, seed


def run_with_holders(lib, program):
    steps, root, seed = program
    rng = np.random.default_rng(seed)
    n = 6
    x = lib.tensor(rng.uniform(-1, 1, n), requires_grad=True)
    w = lib.tensor(rng.uniform(-1, 1, n), requires_grad=True)
    values, kept, retained = [x, w], {}, []
    for k, (op, a, b, holder) in enumerate(steps):
        # (kept by step: torch and autograd_lite may run independent nodes in other orders)
        mine = kept.setdefault(k, [])
        value = STEPS[op](values[a], values[b])
        if holder == "keep":
            value.register_hook(mine.append)
        elif holder == "keep_leaf":
            values[a].register_hook(mine.append)
        elif holder == "retain":
            value.retain_grad()
            retained.append(value)
        elif holder == "return_kept":
            value.register_hook(lambda g, mine=mine: mine.append(g * 1.0) or mine[-1])
        values.append(value)
    out = values[-1] + 0.0 * (x + w)  # both leaves are reached
    v = lib.tensor(rng.uniform(-1, 1, n))
    captured = ()
    if root == "sum":
        out.sum().backward()
    elif root == "gradient":
        out.backward(v)
    elif root == "grad_then_backward":
        captured = lib.autograd.grad(
            out.sum(), values[2:] + [x], retain_graph=True, allow_unused=True
        )
        out.backward(v)
    else:
        out.backward(v, inputs=[x, w])
    return finish(lib, [x, w], list(kept.values()), [t.grad for t in retained], captured, v)


@settings(FAST, max_examples=200)
@given(holder_programs())
def test_random_graphs_with_holders_match_torch(program):
    with in_place_from_any_size():
        same(lambda lib: run_with_holders(lib, program), graph=False, atol=1e-8, rtol=1e-7)


# --------------------------------------------------------------------------------------------
# Ownership does not come from reference counts
# --------------------------------------------------------------------------------------------


def test_the_library_does_not_read_reference_counts():
    package = pathlib.Path(autograd_lite.__file__).parent
    readers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "getrefcount" in path.read_text(encoding="utf-8")
    ]
    assert readers == []
    assert "getrefcount" not in inspect.getsource(_engine)


@settings(FAST, max_examples=60)
@given(holder_programs())
def test_garbage_reference_counts_change_nothing(program):
    """sys.getrefcount returns nonsense while autograd_lite runs: nothing may notice."""
    callers = []
    noise = random.Random(0)

    def garbage(obj):
        callers.append(sys._getframe(1).f_code.co_filename)
        return noise.choice([0, 1, 2, 3, 2**31])

    def fn(lib):
        if lib is not autograd_lite:
            return run_with_holders(lib, program)
        with mock.patch.object(sys, "getrefcount", garbage):
            return run_with_holders(lib, program)

    with in_place_from_any_size():
        same(fn, graph=False, atol=1e-8, rtol=1e-7)
    package = str(pathlib.Path(autograd_lite.__file__).parent)
    assert not [c for c in callers if c.startswith(package)]


# --------------------------------------------------------------------------------------------
# The shortcuts are taken where the pass does own the sum
# --------------------------------------------------------------------------------------------


def spied_sums(run) -> list[str]:
    """Where each sum of two gradients went while ``run()`` ran: into the running sum ("old"),
    into the arriving gradient ("grad"), or into a new array ("new")."""
    where = []
    real = _engine._sum_into

    def spy(old, grad, owned, grad_is_fresh=False):
        total = real(old, grad, owned, grad_is_fresh)
        where.append("old" if total is old else "grad" if total is grad else "new")
        return total

    with mock.patch.object(_engine, "_sum_into", spy):
        run()
    return where


def test_owned_sums_are_added_in_place_and_stolen_by_the_leaf():
    x = autograd_lite.tensor(randn(BIG), requires_grad=True)
    # Five gradients reach x, each one a rule has just made (exp's, mul's...): the first one
    # is owned by the pass, the rest are summed into it, and x takes it as its .grad.
    where = spied_sums(lambda: (x.exp() + x.sin() + x.cos() + x * x).sum().backward())
    assert where == ["old", "old", "old", "old"]
    grad = x.grad.numpy()
    assert grad.flags.owndata and grad.flags.writeable
    v = x.detach().numpy()
    expected = np.exp(v) + np.cos(v) - np.sin(v) + 2 * v
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-12)


def test_a_gradient_passed_on_unchanged_is_never_summed_into():
    """AddBackward0 and a view pass on the gradient they were given (or a view of it): the
    first sum of two such gradients is a new array; a rule's own new gradient may take it."""
    x = autograd_lite.tensor(randn(BIG), requires_grad=True)
    assert spied_sums(lambda: ((x + 1.0) + (x - 1.0)).sum().backward()) == ["new"]
    for program in (lambda: x.view(-1) + x.exp(), lambda: x.exp() + x.view(-1)):
        x.grad = None
        (where,) = spied_sums(lambda program=program: program().sum().backward())
        assert where in ("old", "grad")  # into exp's gradient, whichever came first


def test_a_hook_s_replacement_gradient_is_not_taken_for_a_rule_s_own():
    """A hook may give a rule a tensor it keeps; Sub passes that very tensor on."""
    values = randn(BIG)

    def fn(lib):
        x = lib.tensor(values, requires_grad=True)
        kept = lib.ones(BIG, dtype=lib.float64)
        z = x - x.exp()
        z.register_hook(lambda g: kept)
        z.sum().backward()  # Sub's rule gets kept and sends kept itself on to x
        return kept, x.grad

    same(fn, graph=False)


# --------------------------------------------------------------------------------------------
# The graph keeps no more than torch's does (issue 15): what each node saves for backward
# --------------------------------------------------------------------------------------------


def _torch_kept(node) -> list:
    """The shapes of the tensors a torch node keeps for its rule (its ``_saved_*`` values)."""
    import torch

    kept = []
    for name in dir(node):
        if name.startswith("_saved_"):
            value = getattr(node, name)
            if isinstance(value, torch.Tensor):
                kept.append(tuple(value.shape))
    return sorted(kept)


def _our_kept(node) -> list:
    """The shapes of the tensors one of our nodes keeps: all it saved, not only what it shows."""
    saved = node._saved if node._saved not in (None, _engine.FREED) else ()
    kept = [tuple(v.shape) for v in saved if isinstance(v, autograd_lite.Tensor)]
    if node._result is not None:
        kept.append(tuple(np.shape(node._result[0])))
    return sorted(kept)


def _walk_both(theirs, ours, seen) -> None:
    """Both graphs node by node (their edges in the same order); each of our nodes keeps a
    subset of what torch's keeps, in the same shapes."""
    if theirs is None or ours is None or id(ours) in seen:
        return
    seen.add(id(ours))
    assert ours.name() == theirs.name()
    mine, torchs = _our_kept(ours), _torch_kept(theirs)
    for shape in mine:  # no more tensors than torch keeps, none bigger
        assert shape in torchs, (ours.name(), mine, torchs)
        torchs.remove(shape)
    for (their_child, _), (our_child, _) in zip(
        theirs.next_functions, ours.next_functions, strict=True
    ):
        _walk_both(their_child, our_child, seen)


@settings(FAST, max_examples=150)
@given(programs())
def test_the_graph_keeps_no_more_than_torchs(program):
    import torch

    leaves, steps = program
    outs = [
        run(steps, lib, *(lib.tensor(v, requires_grad=True) for v in leaves))
        for lib in (torch, autograd_lite)
    ]
    _walk_both(outs[0].grad_fn, outs[1].grad_fn, set())


def test_the_benchmark_graph_keeps_no_more_than_torchs():
    import torch

    a, b = positive(8), positive(8)
    theirs = shared_subexpressions_of(torch, a, b)
    ours = shared_subexpressions_of(autograd_lite, a, b)
    _walk_both(theirs.grad_fn, ours.grad_fn, set())


def shared_subexpressions_of(lib, a, b):
    from test_fast_paths import shared_subexpressions

    return shared_subexpressions(
        lib, lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
    )


PRODUCTS = {
    "dot, constant other": lambda lib, x, c: lib.dot(x[0], c[0]),
    "dot, constant self": lambda lib, x, c: lib.dot(c[0], x[0]),
    "mm, constant self": lambda lib, x, c: c @ x,
    "mm, constant other": lambda lib, x, c: x @ c,
    "mv, constant matrix": lambda lib, x, c: c @ x[0],
    "mv, constant vector": lambda lib, x, c: x @ c[0],
    "both variable": lambda lib, x, c: (x @ x.t()).sum() + lib.dot(x[0], x[1]),
}


@pytest.mark.parametrize("case", PRODUCTS)
def test_products_keep_only_what_the_other_side_needs_as_torch(case):
    """mm(A, W) with a constant A keeps A (for W's gradient) and not W, as torch's does."""
    import torch

    x_values, c_values = randn(3, 3), randn(3, 3)
    outs = [
        PRODUCTS[case](lib, lib.tensor(x_values, requires_grad=True), lib.tensor(c_values))
        for lib in (torch, autograd_lite)
    ]
    _walk_both(outs[0].grad_fn, outs[1].grad_fn, set())
    compare(lambda lib, x: PRODUCTS[case](lib, x, lib.tensor(c_values)), x_values)

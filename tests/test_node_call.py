"""Calling a graph node by hand, ``y.grad_fn(grad)``, as torch 2.13 allows, compared with torch.

Notebook 05 has students write their own ``backward`` by calling nodes in topological order, so
a node called by hand must give torch's input gradients (one tensor for one input, a tuple for
several, None where an input needs none), record a graph in grad mode, refuse what torch refuses
and, for a leaf's AccumulateGrad, add into ``.grad`` and return ``()``.
"""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
import torch
from helpers import compare, compare_error, const, distinct, positive, randn, same
from hypothesis import given, settings

# Ops with one output; each is called through its grad_fn with a random output gradient.
UNARY = {
    "exp": lambda lib, x: x.exp(),
    "sin": lambda lib, x: lib.sin(x),
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "pow3": lambda lib, x: x**3,
    "sum": lambda lib, x: x.sum(),
    "mean": lambda lib, x: x.mean(),
    "sum_dim": lambda lib, x: x.sum(0),
    "transpose": lambda lib, x: x.t(),
    "reshape": lambda lib, x: x.reshape(-1),
    "index": lambda lib, x: x[1:, ::2],
    "softmax": lambda lib, x: lib.softmax(x, dim=1),
    "relu": lambda lib, x: lib.relu(x),
    "clone": lambda lib, x: x.clone(),
}
BINARY = {
    "add": lambda lib, x, w: x + w,
    "sub": lambda lib, x, w: x - w,
    "mul": lambda lib, x, w: x * w,
    "div": lambda lib, x, w: x / w,
    "pow": lambda lib, x, w: x.abs() ** w,  # (abs: a real power of a negative base is nan)
    "maximum": lambda lib, x, w: lib.maximum(x, w),
    "mm": lambda lib, x, w: x @ w.t(),
    "cat": lambda lib, x, w: lib.cat([x, w]),
    "stack": lambda lib, x, w: lib.stack([x, w], 1),
}


def called(op):
    """``op``'s node called with a gradient of the output's shape (the gradient is an input)."""

    def fn(lib, *args):
        *inputs, grad = args
        out = op(lib, *inputs)
        return out.grad_fn(grad.reshape(out.shape))

    return fn


def compare_call(op, *inputs):
    """Values, dtypes, shapes and None-ness of a called node, in grad mode and under no_grad.

    (The graph a call records in grad mode is the double-backward graph, whose node names and
    constant parts differ in places, as with ``create_graph=True``; see compare's second order.)
    """

    def fn(lib):
        leaves = [lib.tensor(x, requires_grad=True) for x in inputs[:-1]]
        out = op(lib, *leaves)
        grad = lib.tensor(inputs[-1]).reshape(out.shape)
        recorded = out.grad_fn(grad)
        with lib.no_grad():
            plain = out.grad_fn(grad)
        return recorded, plain

    same(fn, graph=False)


@pytest.mark.parametrize("name", UNARY)
def test_single_input_node_returns_one_tensor(name):
    op = UNARY[name]
    out_size = op(torch, torch.zeros(3, 4)).numel()
    compare_call(op, distinct(3, 4), randn(out_size))


@pytest.mark.parametrize("name", BINARY)
def test_two_input_node_returns_a_tuple(name):
    op = BINARY[name]
    out_size = op(torch, torch.zeros(3, 4), torch.ones(3, 4)).numel()
    compare_call(op, distinct(3, 4), positive(3, 4), randn(out_size))


def test_an_input_without_grad_gets_none():
    compare(called(BINARY["mul"]), randn(3), const(randn(3)), randn(3))
    compare(lambda lib, x, g: (x * 2).grad_fn(g), randn(3), randn(3))


def test_no_sum_to_the_input_shape_as_in_torch():
    """Broadcasting's reduction is the engine's work: a node called by hand does not do it."""
    compare(called(BINARY["mul"]), randn(2, 3), randn(3), randn(6))
    compare(called(BINARY["add"]), randn(1, 3), randn(4, 1), randn(12))


def test_multi_output_node_takes_one_gradient_per_output():
    def fn(lib, x, g):
        pieces = x.sin().unbind(0)
        return pieces[0].grad_fn(g, None, None), pieces[0].grad_fn(None, g, g * 2)

    compare(fn, randn(3, 2), randn(2))


def test_all_gradients_none_gives_none_per_input():
    same(lambda lib: (lib.ones(2, requires_grad=True) * lib.ones(2)).grad_fn(None))


def test_called_node_records_a_graph_in_grad_mode_only():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        recorded = y.grad_fn(lib.ones(2))
        with lib.no_grad():
            plain = y.grad_fn(lib.ones(2))
        (second,) = lib.autograd.grad(recorded[0].sum(), x)
        return recorded, plain, second

    same(fn)


def test_calling_does_not_free_the_graph_but_backward_does():
    def fn(lib):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = x.exp()
        first = y.grad_fn(lib.ones(2))
        again = y.grad_fn(lib.ones(2))
        y.sum().backward()
        return first, again, x.grad

    same(fn)
    compare_error(lambda lib, x: _after_backward(x.exp()).grad_fn(lib.ones(3)), randn(3))


def _after_backward(y):
    y.sum().backward()
    return y


def test_accumulate_grad_adds_into_the_leaf_and_returns_empty():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        node = (x * 3).grad_fn.next_functions[0][0]
        returned = node(lib.tensor([1.0, 1.0]))
        node(lib.tensor([0.5, 0.5]))
        return returned, x.grad, node.variable is x, node.name()

    same(fn)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, y: y.grad_fn(),
        lambda lib, y: y.grad_fn(lib.ones(3), lib.ones(3)),
        lambda lib, y: y.grad_fn([1.0, 1.0, 1.0]),
        lambda lib, y: y.grad_fn(lib.ones(4)),
        lambda lib, y: y.grad_fn.next_functions[0][0](),
    ],
    ids=["no-argument", "two-arguments", "a-list", "wrong-size", "accumulate-no-argument"],
)
def test_wrong_calls_raise_as_torch(call):
    compare_error(lambda lib, x: call(lib, x * x), randn(3))


def own_backward(lib, root):
    """A student's backward: nodes in topological order, gradients summed where paths meet."""
    order, seen = [], set()

    def visit(node):
        if node is None or node in seen:
            return
        seen.add(node)
        for child, _ in node.next_functions:
            visit(child)
        order.append(node)

    visit(root.grad_fn)
    waiting = {root.grad_fn: lib.tensor(1.0, dtype=root.dtype)}
    with lib.no_grad():  # as backward() without create_graph: record nothing
        for node in reversed(order):
            grads = node(waiting.pop(node))
            grads = grads if isinstance(grads, tuple) else (grads,)
            for (child, _), grad in zip(node.next_functions, grads):
                if child is not None and grad is not None:
                    waiting[child] = waiting[child] + grad if child in waiting else grad


GRAPHS = {
    "diamond": lambda lib, x, w: ((x * w).sin() * (x * w)).sum(),
    "reused-leaf": lambda lib, x, w: (x * x * x + w * x).sum(),
    "chain": lambda lib, x, w: (x.exp() * w).tanh().mean(),
    "matrix": lambda lib, x, w: (x.reshape(2, 2) @ w.reshape(2, 2)).pow(2).sum(),
}


@pytest.mark.parametrize("name", GRAPHS)
def test_a_backward_written_with_called_nodes_matches_backward(name):
    """The notebook's exercise, done right: the same .grad as the library's own backward(),
    and both libraries agree on each."""

    def fn(lib):
        x, w = (lib.tensor(v, requires_grad=True) for v in inputs)
        own_backward(lib, GRAPHS[name](lib, x, w))
        by_hand = x.grad, w.grad
        x.grad = w.grad = None
        GRAPHS[name](lib, x, w).backward()
        return by_hand, (x.grad, w.grad)

    inputs = randn(4), randn(4)
    by_hand, engine = same(fn)
    for a, b in zip(by_hand, engine):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
    dtype=st.sampled_from([np.float32, np.float64]),
    grad_dtype=st.sampled_from([np.float32, np.float64]),
)
def test_called_nodes_over_shapes_and_dtypes(shape, dtype, grad_dtype):
    x, w = randn(*shape, dtype=dtype), randn(*shape, dtype=dtype)
    g = randn(*shape, dtype=grad_dtype)
    compare(lambda lib, x, w, g: (x * w.exp()).grad_fn(g), x, w, const(g), second_order=False)


def test_a_custom_function_node_is_not_callable_as_in_torch():
    """torch calls a Python Function's backward only from the engine."""

    def fn(lib, x):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 2 * x * grad

        return Square.apply(x).grad_fn(lib.ones(3))

    compare_error(fn, randn(3))

"""What PyTorch's own tests found autograd_lite doing differently (issue 14), each compared with
torch: freeing saved indices, grad-mode decorators on generators, hooks on one output of a node
with several, custom Functions (non-tensor outputs, defaults, extra Nones, outputs saved for
backward, once_differentiable), ``materialize_grads``, ``alpha``, ``detach_()`` on views,
``numpy()`` under no_grad, post-accumulate-grad hooks, in-place ops seen through other views.

Every check is one function, run once with torch and once with autograd_lite.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np
import pytest
import torch
from helpers import both, compare, compare_error, const, first_line, node_name, randn, same
from hypothesis import HealthCheck, given, settings
from test_explore import build as build_program
from test_explore import programs as random_programs

import autograd_lite

# --------------------------------------------------------------------------------------------
# 1. A second backward through indexing raises where torch frees what the node saved
# --------------------------------------------------------------------------------------------


def _setitem(lib, x, key, value):
    z = x.clone()
    z[key(lib, x)] = value(lib, x)
    return z


# name -> the output of a graph through one indexing node, from a leaf x of shape (4, 3)
INDEXING = {
    "index by tensor": lambda lib, x: x[lib.tensor([0, 2])],
    "index by list": lambda lib, x: x[[0, 2, 2]],
    "index by mask": lambda lib, x: x[x > 0],
    "index two dims": lambda lib, x: x[lib.tensor([0, 1]), lib.tensor([2, 0])],
    "select": lambda lib, x: x[1],
    "slice": lambda lib, x: x[1:3],
    "narrow": lambda lib, x: x.narrow(1, 0, 2),
    "write a number": lambda lib, x: _setitem(lib, x, lambda lib, x: 0, lambda lib, x: 3.0),
    "write a row": lambda lib, x: _setitem(lib, x, lambda lib, x: 0, lambda lib, x: x[1] * 2),
    "write by tensor": lambda lib, x: _setitem(
        lib, x, lambda lib, x: lib.tensor([0, 2]), lambda lib, x: x[1]
    ),
    "write by mask": lambda lib, x: _setitem(lib, x, lambda lib, x: x > 0, lambda lib, x: 1.0),
}


@pytest.mark.parametrize("name", INDEXING)
def test_second_backward_through_indexing(name):
    """torch raises "Trying to backward through the graph a second time" where the node saved
    tensors (index tensors, CopySlices), and runs select/slice again: so must we."""

    def twice(lib, x):
        y = INDEXING[name](lib, x).sum()
        y.backward()
        y.backward()
        return x.grad

    x = randn(4, 3)
    try:
        same(lambda lib: twice(lib, lib.tensor(x, requires_grad=True)))
    except AssertionError:
        raise
    except Exception:  # torch raised: autograd_lite must raise the same
        compare_error(lambda lib: twice(lib, lib.tensor(x, requires_grad=True)))


def test_retain_graph_keeps_indexing_nodes():
    def twice(lib):
        x = lib.tensor(randn_x, requires_grad=True)
        z = x.clone()
        z[lib.tensor([0, 2])] = x[1] * 2
        y = (z[x > 0] ** 2).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad

    randn_x = randn(4, 3)
    same(twice)


# --------------------------------------------------------------------------------------------
# 2. Grad-mode decorators on generators hold while the generator's body runs
# --------------------------------------------------------------------------------------------

DECORATORS = {
    "no_grad()": lambda lib: lib.no_grad(),
    "no_grad": lambda lib: lib.no_grad,
    "enable_grad()": lambda lib: lib.enable_grad(),
    "set_grad_enabled(False)": lambda lib: lib.set_grad_enabled(False),
    "set_grad_enabled(True)": lambda lib: lib.set_grad_enabled(True),
    "inference_mode()": lambda lib: lib.inference_mode(),
    "inference_mode": lambda lib: lib.inference_mode,
    "inference_mode(False)": lambda lib: lib.inference_mode(False),
}


def _generator_log(lib, decorator, outer: bool) -> list:
    """Drive a decorated generator with next, send, throw and close; log the grad mode inside
    the body and outside it at every step."""
    log = []
    with lib.set_grad_enabled(outer):
        decorate = DECORATORS[decorator](lib)
    with lib.set_grad_enabled(outer):

        @decorate
        def numbers(n):
            log.append(("start", lib.is_grad_enabled()))
            try:
                for i in range(n):
                    sent = yield i
                    log.append(("sent", sent, lib.is_grad_enabled()))
            except ValueError:
                log.append(("thrown", lib.is_grad_enabled()))
                yield -1
            finally:
                log.append(("finally", lib.is_grad_enabled()))
            return "done"

        log.append(("decorated", lib.is_grad_enabled(), type(numbers).__name__))
        gen = numbers(3)
        log.append(("created", lib.is_grad_enabled()))
        log.append(("next", next(gen), lib.is_grad_enabled()))
        log.append(("send", gen.send("a"), lib.is_grad_enabled()))
        log.append(("throw", gen.throw(ValueError()), lib.is_grad_enabled()))
        gen.close()
        log.append(("closed", lib.is_grad_enabled()))
        short = numbers(1)
        next(short)
        try:
            short.send("b")
        except StopIteration as stop:
            log.append(("returned", stop.value, lib.is_grad_enabled()))
    return log


@pytest.mark.parametrize("outer", [True, False])
@pytest.mark.parametrize("decorator", DECORATORS)
def test_grad_mode_decorator_on_generator(decorator, outer):
    expected, actual = both(lambda lib: _generator_log(lib, decorator, outer))
    assert actual == expected


@pytest.mark.parametrize("decorator", DECORATORS)
def test_grad_mode_decorator_on_function_and_class(decorator):
    def run(lib):
        decorate = DECORATORS[decorator](lib)
        plain = decorate(lambda a: (a, lib.is_grad_enabled()))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")

            class Box:
                def __init__(self):
                    self.mode = lib.is_grad_enabled()

            box = DECORATORS[decorator](lib)(Box)()
        warned = [(w.category.__name__, first_line(str(w.message))) for w in caught]
        return plain(1), box.mode, warned, lib.is_grad_enabled()

    expected, actual = both(run)
    assert actual == expected


# --------------------------------------------------------------------------------------------
# 3-4. A tensor hook on one output of a multi-output node sees that output's gradient only
# --------------------------------------------------------------------------------------------


def _hook_log(lib, which_used: str) -> list:
    x = lib.tensor(randn_3x2, requires_grad=True)
    a, b, c = x.unbind(0)
    log = []
    a.register_hook(lambda g: log.append(("a", None if g is None else g.tolist())))
    b.register_hook(lambda g: None if g is None else g * 10)  # replaces b's gradient only
    c.register_hook(lambda g: log.append(("c", None if g is None else g.tolist())))
    used = {"a": a * 3, "b": b * 2, "ab": a * 3 + b, "abc": a + b * 2 + c * c}[which_used]
    used.sum().backward()
    return [log, x.grad.tolist()]


randn_3x2 = randn(3, 2)


@pytest.mark.parametrize("which_used", ["a", "b", "ab", "abc"])
def test_hooks_on_unbind_outputs(which_used):
    expected, actual = both(lambda lib: _hook_log(lib, which_used))
    np.testing.assert_equal(actual, expected)


def _passthrough(lib):
    class Passthrough(lib.autograd.Function):
        """Returns its first input unchanged (a new view of it) and a product."""

        @staticmethod
        def forward(ctx, x, y):
            return x, x * y

        @staticmethod
        def backward(ctx, gx, gxy):
            return gx + gxy, gxy

    return Passthrough


def test_hooks_on_outputs_of_a_function_returning_its_input():
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        y = lib.tensor(randn_3x2[1], requires_grad=True)
        p, q = _passthrough(lib).apply(x, y)
        log = []
        p.register_hook(lambda g: log.append(("p", g.tolist())))
        q.register_hook(lambda g: log.append(("q", g.tolist())) or g * 2)
        (p * 3 + q).sum().backward()
        return [log, x.grad.tolist(), y.grad.tolist(), node_name(p.grad_fn), p.is_leaf]

    expected, actual = both(run)
    np.testing.assert_equal(actual, expected)


def test_node_prehook_gets_and_gives_tuples():
    def run(lib):
        x = lib.tensor(randn_3x2, requires_grad=True)
        single = x * 2
        pieces = single.unbind(1)
        log = []

        def record(grads):
            log.append([type(grads).__name__, [None if g is None else g.tolist() for g in grads]])

        single.grad_fn.register_prehook(lambda grads: record(grads) or (grads[0] + 1,))
        pieces[0].grad_fn.register_prehook(record)
        pieces[0].sum().backward()
        return [log, x.grad.tolist()]

    expected, actual = both(run)
    np.testing.assert_equal(actual, expected)


# --------------------------------------------------------------------------------------------
# 5-6, 15, 19. Custom Functions
# --------------------------------------------------------------------------------------------


def test_function_with_non_tensor_outputs():
    def run(lib):
        class Mixed(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 5, None, "text", x * 3

            @staticmethod
            def backward(ctx, g, g_int, g_none, g_str, g3):
                seen.append([g_int, g_none, g_str, g3.tolist()])  # g3 materialized as zeros
                return g * 2 + g3 * 3

        seen = []
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        out = Mixed.apply(x)
        out[0].sum().backward()
        return [[type(o).__name__ for o in out], seen, x.grad.tolist()]

    expected, actual = both(run)
    assert actual == expected


def test_setup_context_sees_forward_defaults():
    def run(lib):
        class Scaled(lib.autograd.Function):
            @staticmethod
            def forward(x, scale=2.0, shift=0.5):
                return x * scale + shift

            @staticmethod
            def setup_context(ctx, inputs, output):
                seen.append([type(inputs).__name__, len(inputs), *inputs[1:]])
                ctx.scale = inputs[1]

            @staticmethod
            def backward(ctx, g):
                return g * ctx.scale, None, None

        seen = []
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        for call in (
            lambda: Scaled.apply(x),
            lambda: Scaled.apply(x, 3.0),
            lambda: Scaled.apply(x, shift=1.0),
        ):
            x.grad = None
            call().sum().backward()
            seen.append(x.grad.tolist())
        return seen

    expected, actual = both(run)
    assert actual == expected


def test_setup_context_with_too_many_arguments():
    def run(lib):
        class One(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x * 1

            @staticmethod
            def setup_context(ctx, inputs, output):
                pass

        One.apply(lib.ones(1), 2)

    compare_error(run)


def _returning(lib, kind: str):
    class Returning(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return {
                "extra Nones": (g, None, None, None),
                "extra tensor": (g, None, g),
                "too few": (g,),
                "gradient for a number": (g, g, None),
            }[kind]

    return Returning


def test_extra_trailing_none_gradients_are_accepted():
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        _returning(lib, "extra Nones").apply(x, 2.0).sum().backward()
        return x.grad

    same(run)


@pytest.mark.parametrize("kind", ["extra tensor", "too few", "gradient for a number"])
def test_wrong_gradients_of_a_function(kind):
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        _returning(lib, kind).apply(x, 2.0).sum().backward()

    compare_error(run)


def test_function_output_tuple_indexed_by_the_caller():
    """A saved output that is not the first one: it used to be found by ``==`` (elementwise)."""

    def run(lib):
        class SinhAndExp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                e = x.exp()
                ctx.save_for_backward(x, e)
                return (e - (-x).exp()) / 2, e

            @staticmethod
            def backward(ctx, g_sinh, g_exp):
                x, e = ctx.saved_tensors
                return g_sinh * (e + (-x).exp()) / 2 + g_exp * e

        x = lib.tensor(randn_3x2[0], requires_grad=True)
        first = SinhAndExp.apply(x)[0]
        first.sum().backward()
        return first, x.grad

    same(run)


def test_saved_variables_is_a_deprecated_alias():
    def run(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    (x,) = ctx.saved_variables
                seen.extend((w.category.__name__, str(w.message)) for w in caught)
                return g * 2 + x * 0

        seen = []
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        Double.apply(x).sum().backward()
        return [seen, x.grad.tolist()]

    expected, actual = both(run)
    assert actual == expected


# --------------------------------------------------------------------------------------------
# 7. materialize_grads
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("create_graph", [False, True])
def test_materialized_grads(create_graph):
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        unused = lib.tensor(randn_3x2[1], requires_grad=True)
        gx, gu = lib.autograd.grad(
            (x * x).sum(), [x, unused], materialize_grads=True, create_graph=create_graph
        )
        return gx, gu, gu.is_leaf

    same(run)


def test_materialize_grads_with_allow_unused_false():
    compare_error(
        lambda lib: lib.autograd.grad(
            (lib.ones(1, requires_grad=True) * 2).sum(),
            lib.ones(1, requires_grad=True),
            allow_unused=False,
            materialize_grads=True,
        )
    )


def test_grad_with_a_dict_of_inputs():
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        y = lib.tensor(randn_3x2[1], requires_grad=True)
        grads = lib.autograd.grad((x * y).sum(), {"x": x, "y": y})
        return sorted(grads), grads["x"], grads["y"]

    same(run)


def test_grad_with_no_inputs():
    compare_error(lambda lib: lib.autograd.grad(lib.ones(1, requires_grad=True).sum(), []))


# --------------------------------------------------------------------------------------------
# 8. alpha
# --------------------------------------------------------------------------------------------

ALPHAS = {
    "float alpha, int add": lambda lib: lib.add(lib.tensor([1, 2]), lib.tensor([3, 4]), alpha=0.5),
    "float alpha 2.0, int add": lambda lib: lib.add(lib.tensor([1]), lib.tensor([3]), alpha=2.0),
    "float alpha, int sub": lambda lib: lib.sub(lib.tensor([1, 2]), lib.tensor([3, 4]), alpha=0.5),
    "float alpha, int and number": lambda lib: lib.add(lib.tensor([1, 2]), 1, alpha=0.5),
    "bool alpha, float add": lambda lib: lib.add(lib.ones(2), lib.ones(2), alpha=True),
    "bool alpha, int add": lambda lib: lib.add(lib.tensor([1]), lib.tensor([1]), alpha=True),
    "float alpha, bool add": lambda lib: lib.add(lib.tensor([True]), lib.tensor([True]), alpha=0.5),
    "complex alpha, float add": lambda lib: lib.add(lib.ones(2), lib.ones(2), alpha=1j),
    "0-d float tensor alpha, int add": lambda lib: lib.add(
        lib.tensor([1]), lib.tensor([1]), alpha=lib.tensor(0.5)
    ),
}


@pytest.mark.parametrize("case", ALPHAS)
def test_bad_alpha(case):
    compare_error(ALPHAS[case])


def test_alpha_check_matches_torch_rules():
    """The rule itself (wired into add and sub by arithmetic.py), over dtypes and alphas."""
    import torch

    from autograd_lite._ops._base import check_alpha

    for dtype in ("int64", "uint8", "bool", "float32", "float64"):
        for alpha in (2, 0.5, True, False, 1j, 3.0):
            a = np.ones(2, dtype=dtype)
            try:
                torch.add(torch.tensor(a), torch.tensor(a), alpha=alpha)
                expected = None
            except RuntimeError as e:
                expected = str(e)
            try:
                check_alpha(autograd_lite.tensor(a), autograd_lite.tensor(a), alpha)
                actual = None
            except RuntimeError as e:
                actual = str(e)
            assert actual == expected, (dtype, alpha)


# --------------------------------------------------------------------------------------------
# 9. once_differentiable
# --------------------------------------------------------------------------------------------


def test_once_differentiable_error_node():
    def run(lib):
        class Triple(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, z):
                return x * y * z

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                return g * 2, None, g * 3

        x = lib.tensor(randn_3x2[0], requires_grad=True)
        z = lib.tensor(randn_3x2[1], requires_grad=True)
        v = lib.ones(2, requires_grad=True)
        gx, gz = lib.autograd.grad(Triple.apply(x, lib.ones(2), z), (x, z), v, create_graph=True)
        node = gx.grad_fn
        edges = [(node_name(fn), nr) for fn, nr in node.next_functions]
        return [node.name(), edges, gz.grad_fn is node, gx.output_nr, gz.output_nr]

    expected, actual = both(run)
    assert actual == expected


def test_once_differentiable_refuses_a_second_derivative():
    def run(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        x = lib.ones(2, requires_grad=True)
        (g,) = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        g.sum().backward()

    compare_error(run)


# --------------------------------------------------------------------------------------------
# 10, 13. detach_() on views; numpy() under no_grad
# --------------------------------------------------------------------------------------------

VIEWS = {
    "slice of a leaf that requires grad": lambda lib: lib.ones(3, requires_grad=True)[:2],
    "slice of a result": lambda lib: (lib.ones(3, requires_grad=True) * 2)[:2],
    "slice without grad": lambda lib: lib.ones(3)[:2],
    "view of a result": lambda lib: (lib.ones(3, requires_grad=True) * 1).view(3, 1),
    "transpose": lambda lib: lib.ones(2, 3).t(),
    "unsqueeze": lambda lib: lib.ones(2).unsqueeze(0),
}


@pytest.mark.parametrize("view", VIEWS)
def test_detach_in_place_refuses_views(view):
    compare_error(lambda lib: VIEWS[view](lib).detach_())


@pytest.mark.parametrize("make", ["leaf", "result", "detached"])
def test_detach_in_place_of_a_tensor_that_is_no_view(make):
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        t = {"leaf": x, "result": x * 2, "detached": x.detach()}[make]
        t.detach_()
        return t, t.is_leaf

    same(run)


def test_numpy_of_a_tensor_that_requires_grad_under_no_grad():
    def run(lib):
        x = lib.tensor(randn_3x2, requires_grad=True)
        with lib.no_grad():
            arrays = [x.numpy(), np.asarray(x), (x * 2).numpy()]
        return [lib.tensor(a) for a in arrays]

    same(run)
    compare_error(lambda lib: lib.ones(2, requires_grad=True).numpy())


# --------------------------------------------------------------------------------------------
# 17. register_post_accumulate_grad_hook
# --------------------------------------------------------------------------------------------


def test_post_accumulate_grad_hook():
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        log = []
        handle = x.register_post_accumulate_grad_hook(
            lambda t: log.append([t is x, t.grad.tolist(), lib.is_grad_enabled()])
        )
        (x * 2).sum().backward()
        (x * 3).sum().backward()  # accumulates: the hook sees the sum
        lib.autograd.grad((x * 2).sum(), x)  # no .grad written: no call
        (x * 2).sum().backward(inputs=[x])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # create_graph's reference cycle
            (x * x).sum().backward(create_graph=True)
        handle.remove()
        (x * 2).sum().backward()
        return log

    expected, actual = both(run)
    assert [(a[0], a[2]) for a in actual] == [(e[0], e[2]) for e in expected]
    np.testing.assert_allclose([a[1] for a in actual], [e[1] for e in expected], rtol=1e-6)


@pytest.mark.parametrize(
    "case",
    ["non-leaf", "no grad", "returns a value"],
)
def test_post_accumulate_grad_hook_errors(case):
    def run(lib):
        x = lib.ones(2, requires_grad=True)
        if case == "non-leaf":
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        elif case == "no grad":
            lib.ones(2).register_post_accumulate_grad_hook(lambda t: None)
        else:
            x.register_post_accumulate_grad_hook(lambda t: t * 2)
            (x * 2).sum().backward()

    compare_error(run)


# --------------------------------------------------------------------------------------------
# 12, 16. Views after an in-place change through their base or another view
# --------------------------------------------------------------------------------------------


def _through_views(lib, case: str):
    """A view read after its memory was changed in place through another tensor: its history
    must follow the change (torch regenerates its grad_fn as AsStridedBackward0)."""
    leaf = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    other = lib.tensor(randn_3x2[0], dtype=lib.float32, requires_grad=True)
    base = leaf.clone()
    if case == "sibling view changed":
        view, sibling = base[1:], base[:2]
        sibling.mul_(3)
    elif case == "base changed":
        view = base[1:3]
        base.mul_(3)
    elif case == "view written by index":
        view = base[1:3]
        view[0] = other[0] * 2
    elif case == "base written by index":
        view = base[:3]
        base[lib.tensor([1, 2])] = other
    elif case == "leaf changed under no_grad":
        view = leaf[1:]
        with lib.no_grad():
            leaf.mul_(2)
    weights = lib.arange(1.0, 1.0 + view.numel()).reshape(view.shape)
    (view.sum(dim=0) * weights.sum() + (view * view).sum()).backward()  # unary ops only
    return [leaf.grad, other.grad, node_name(view.grad_fn)]


VIEW_CASES = [
    "sibling view changed",
    "base changed",
    "view written by index",
    "base written by index",
    "leaf changed under no_grad",
]


@pytest.mark.parametrize("case", VIEW_CASES)
def test_views_follow_in_place_changes(case):
    expected, actual = both(lambda lib: _through_views(lib, case))
    assert actual[2] == expected[2]
    assert_same_grads(actual[:2], expected[:2])


def assert_same_grads(actual, expected):
    for a, e in zip(actual, expected):
        assert (a is None) == (e is None)
        if e is not None:
            np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-6)


def test_views_follow_in_place_changes_into_binary_ops():
    def run(lib):
        leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        base = leaf.clone()
        view = base[1:]
        base.mul_(3)
        (view * view).sum().backward()
        return leaf.grad

    same(run)


def test_hooks_on_a_view_stay_with_its_old_grad_fn():
    """torch's test_tensor_hooks_inplace_over_view, as a comparison: hooks registered on a view
    before its base changed do not fire; a hook registered after reading grad_fn does."""

    def run(lib):
        log = []
        base = lib.tensor([1.0], requires_grad=True).clone()
        view, view2 = base[:], base[:]
        view.register_hook(lambda g: log.append("view, before"))
        view2.register_hook(lambda g: log.append("view2, before"))
        view.mul_(2)
        view2.grad_fn  # noqa: B018 - reading it brings view2's history up to date
        view2.register_hook(lambda g: log.append(("view2, after", g.tolist())))
        (view + view2).sum().backward()
        return log

    expected, actual = both(run)
    assert actual == expected


def _no_grad_view(lib, x):
    with lib.no_grad():
        return x[:1]


def _unbind_then_write_base(lib, x):
    pieces = x.unbind(0)
    x.mul_(2)
    return pieces[1].sum()


def _no_grad_view_then_write_base(lib, x):
    view = _no_grad_view(lib, x)
    x.mul_(2)
    return view.grad_fn


INVALID_VIEWS = {
    "unbind output, written": lambda lib, x: x.unbind(0)[0].mul_(2),
    "unbind output, base written": _unbind_then_write_base,
    "view of an unbind output, written": lambda lib, x: x.unbind(0)[0][:1].mul_(2),
    "no_grad view, written": lambda lib, x: _no_grad_view(lib, x).mul_(2),
    "no_grad view, base written": _no_grad_view_then_write_base,
}


@pytest.mark.parametrize("case", INVALID_VIEWS)
def test_in_place_changes_torch_refuses_through_views(case):
    compare_error(lambda lib, x: INVALID_VIEWS[case](lib, x * 1), randn(2, 3))


INDEX_PUT_DTYPES = {
    "float64 by tensor": lambda lib: lib.ones(2, dtype=lib.float64),
    "int64 0-d by tensor": lambda lib: lib.tensor(1),
    "float16 by list": lambda lib: lib.ones(2, dtype=lib.float16),
}


@pytest.mark.parametrize("value", INDEX_PUT_DTYPES)
@pytest.mark.parametrize("key", ["tensor", "list"])
def test_index_put_refuses_another_dtype(key, value):
    def run(lib):
        x = lib.zeros(4)
        x[lib.tensor([1, 2]) if key == "tensor" else [1, 2]] = INDEX_PUT_DTYPES[value](lib)

    compare_error(run)


def test_index_put_casts_numbers_and_masked_fills():
    def run(lib):
        x = lib.zeros(4)
        x[lib.tensor([1, 2])] = 2
        x[x > 1] = lib.tensor(5)  # a 0-d value written by a mask: a fill, which casts
        x[1:3] = lib.ones(2, dtype=lib.float64)  # basic indexing: a copy, which casts
        return x

    same(run)


def test_repr_of_a_view_whose_history_is_invalid():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True).clone()
        first, second = x.unbind(0)
        x.mul_(2)
        with lib.no_grad():
            y = x[:1]
        x.add_(1)
        return [repr(second), repr(y), repr(first.detach())]

    expected, actual = both(run)
    assert actual == expected


# --------------------------------------------------------------------------------------------
# 14. Custom Functions: outputs that are views of inputs, inputs changed in place
# --------------------------------------------------------------------------------------------


def _view_functions(lib):
    Function = lib.autograd.Function

    class Identity(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    class FirstTwo(Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2]

        @staticmethod
        def backward(ctx, g):
            return lib.cat([g, g.new_zeros(1)])

    class Double(Function):  # in place, marked dirty
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class DoubleUnmarked(Function):  # in place, not marked: its output is a new view
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class DirtyButNotReturned(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x[:2]

        @staticmethod
        def backward(ctx, g):
            return g

    return Identity, FirstTwo, Double, DoubleUnmarked, DirtyButNotReturned


def test_function_outputs_that_are_views_of_inputs():
    def run(lib):
        identity, first_two, double, double_unmarked, _ = _view_functions(lib)
        leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = leaf.clone()
        same_x = identity.apply(x)
        part = first_two.apply(x)
        doubled = double.apply(leaf.clone())
        unmarked_input = leaf.clone()
        unmarked = double_unmarked.apply(unmarked_input)
        (same_x.sum() + part.sum() * 2 + doubled.sum() * 3 + unmarked.sum() * 4).backward()
        return [
            same_x is x,
            same_x._base is x,
            part._base is x,
            node_name(doubled.grad_fn),
            unmarked is unmarked_input,
            node_name(unmarked_input.grad_fn),
            leaf.grad.tolist(),
        ]

    expected, actual = both(run)
    assert actual == expected


def _function_view_then_write_base(fns, lib, leaf):
    x = leaf * 1
    part = fns[1].apply(x)
    x.mul_(2)
    return part.sum()


FUNCTION_VIEW_ERRORS = {
    "identity of a leaf, written": lambda fns, lib, leaf: fns[0].apply(leaf).mul_(2),
    "identity of a result, written": lambda fns, lib, leaf: fns[0].apply(leaf * 1).mul_(2),
    "view output, written": lambda fns, lib, leaf: fns[1].apply(leaf * 1).mul_(2),
    "view output, base written": _function_view_then_write_base,
    "dirty leaf": lambda fns, lib, leaf: fns[2].apply(leaf),
    "dirty input not returned": lambda fns, lib, leaf: fns[4].apply(leaf * 1),
}


@pytest.mark.parametrize("case", FUNCTION_VIEW_ERRORS)
def test_in_place_errors_of_custom_functions(case):
    compare_error(
        lambda lib, leaf: FUNCTION_VIEW_ERRORS[case](_view_functions(lib), lib, leaf),
        randn(3),
    )


def test_mark_dirty_rebases_the_input():
    def run(lib):
        _, _, double, _, _ = _view_functions(lib)
        leaf = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x = leaf.clone()
        view = x[:2]
        out = double.apply(view)  # a view changed in place: its base records the write
        (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return [out is view, node_name(view.grad_fn), node_name(x.grad_fn), leaf.grad.tolist()]

    expected, actual = both(run)
    assert actual == expected


MARK_DIRTY_ERRORS = {
    "a tensor that is no input": lambda lib, fns, x: _dirty_new_tensor(lib).apply(x * 1),
    "an unbind output": lambda lib, fns, x: fns[2].apply((x * 1).unbind(0)[0]),
    "a view of a leaf": lambda lib, fns, x: fns[2].apply(x.view_as(x)),
}


def _dirty_new_tensor(lib):
    class DirtyNew(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.clone().view_as(x)
            ctx.mark_dirty(out)
            return out

        @staticmethod
        def backward(ctx, g):
            return g

    return DirtyNew


@pytest.mark.parametrize("case", MARK_DIRTY_ERRORS)
def test_mark_dirty_errors(case):
    compare_error(lambda lib, x: MARK_DIRTY_ERRORS[case](lib, _view_functions(lib), x), randn(2, 3))


def test_function_outputs_when_nothing_is_recorded():
    def run(lib):
        identity, first_two, *_ = _view_functions(lib)
        a = lib.tensor([1.0, 2.0, 3.0])
        same_a = identity.apply(a)
        with lib.no_grad():
            leaf = lib.tensor([1.0, 2.0], requires_grad=True)
            alias = identity.apply(leaf)
        return [
            same_a is a,
            same_a._base is a,
            first_two.apply(a)._base is a,
            alias is leaf,
            alias._base is None,
            alias.requires_grad,
        ]

    expected, actual = both(run)
    assert actual == expected


UNRECORDED_VIEW_WRITES = {
    "identity output": lambda lib, fns, a, b: fns[0].apply(a).add_(b),
    "view made in forward": lambda lib, fns, a, b: fns[1].apply(a).add_(b[:2]),
    "copy_ into a view made in forward": lambda lib, fns, a, b: fns[1].apply(a).copy_(b[:2]),
    "unbind output of a tensor without grad": lambda lib, fns, a, b: a.unbind()[0].copy_(b[0]),
}


@pytest.mark.parametrize("case", UNRECORDED_VIEW_WRITES)
def test_writes_with_grad_into_views_made_without_a_graph(case):
    compare_error(
        lambda lib, a, b: UNRECORDED_VIEW_WRITES[case](lib, _view_functions(lib), a, b),
        const(randn(3)),
        randn(3),
    )


@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
@pytest.mark.parametrize("case", ["view written", "base written", "view of the view written"])
def test_views_made_without_grad_mode(mode, case):
    def run(lib):
        if case == "view of the view written":
            x = lib.zeros(2)
            with getattr(lib, mode)():
                y = x.view(2)
            y.requires_grad_(True)
            z = y.view(2)
            z /= 2
        elif case == "view written":
            x = lib.zeros(2)
            with getattr(lib, mode)():
                y = x.view(2)
            y.mul_(lib.ones(2, requires_grad=True))
        else:
            x = lib.ones(2, requires_grad=True).clone()
            with getattr(lib, mode)():
                y = x.view(2)
            x.mul_(2)
            return y.grad_fn

    compare_error(run)


# --------------------------------------------------------------------------------------------
# Hooks of nodes, and the order of all hooks
# --------------------------------------------------------------------------------------------


def test_hooks_run_in_torchs_order():
    """Tensor hooks first, then retained grads, then the node's pre-hooks, its rule, its
    post-hooks; a leaf's: tensor hooks, node pre-hooks, accumulation, post-accumulate hooks,
    node post-hooks (torch's test_prehook_ordering and test_post_accumulate_grad_hook_ordering)."""

    def run(lib):
        log = []
        a = lib.tensor(2.0, requires_grad=True)
        b = a.clone()
        node, acc = b.grad_fn, b.grad_fn.next_functions[0][0]
        node.register_prehook(lambda gs: log.append("node pre") or tuple(g * 2 for g in gs))
        b.register_hook(lambda g: log.append("tensor") or g * 3)
        b.retain_grad()
        node.register_hook(lambda gi, go: log.append(("node post", len(gi), len(go))))
        acc.register_prehook(lambda gs: log.append("acc pre") or (gs[0] - 1,))
        a.register_hook(lambda g: log.append("leaf tensor") or g * 5)
        a.register_post_accumulate_grad_hook(lambda t: log.append(("post acc", t.grad.item())))
        acc.register_hook(lambda gi, go: log.append(("acc post", len(gi), go[0].item())))
        (b * 1).sum().backward(retain_graph=True)
        first = [list(log), b.grad.item(), a.grad.item()]
        log.clear()
        lib.autograd.grad(b.sum(), a, retain_graph=True)  # the leaf's node does not run
        second = list(log)
        log.clear()
        b.grad = None
        b.sum().backward(inputs=[b])  # an input's node runs; its grad is retained
        return [first, second, list(log), b.grad.item(), b.retains_grad]

    expected, actual = both(run)
    assert actual == expected


def test_node_post_hook_replaces_the_input_gradients():
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        y = x * 3
        y.grad_fn.register_hook(lambda gi, go: (gi[0] + go[0], None))
        y.sum().backward()
        return x.grad

    same(run)


@pytest.mark.parametrize("exponent", [2, 2.5, -1])
def test_pow_saves_its_exponent_under_torchs_name(exponent):
    def run(lib):
        x = lib.tensor(randn_3x2[0], requires_grad=True)
        y = x**exponent
        before = y.grad_fn._saved_exponent
        y.sum().backward()
        return before, y.grad_fn._saved_exponent, type(before).__name__

    same(run)


def test_node_post_hooks_see_gradients_fitted_to_their_inputs():
    """A broadcast or promoted input's gradient reaches a post-hook already summed to the
    input's shape and cast to its dtype, as torch's engine checks it before the hooks run."""

    def run(lib):
        seen = []
        x = lib.tensor(randn_3x2, requires_grad=True)  # (3, 2) float64
        w = lib.tensor(randn_3x2[0], dtype=lib.float32, requires_grad=True)  # (2,) float32
        y = x * w
        y.grad_fn.register_hook(
            lambda gi, go: seen.append([(tuple(g.shape), str(g.dtype), g.tolist()) for g in gi])
        )
        y.sum().backward()
        return seen, w.grad

    same(run)


# --------------------------------------------------------------------------------------------
# 11. gradcheck's checks of outputs and of undefined gradients
# --------------------------------------------------------------------------------------------


GRADCHECK_ERRORS = {
    "shape depends on the values": lambda lib, x: lib.cat([x, x]) if lib.all(x >= 1) else x,
    "dtype depends on the values": lambda lib, x: x.to(lib.float32) if lib.all(x >= 1) else x,
    "hook refusing an undefined gradient": lambda lib, x: _hooked_clone(lib, x),
}


def _hooked_clone(lib, x):
    def hook(g):
        if g is None:
            raise RuntimeError("undefined")

    y = x.clone()
    y.register_hook(hook)
    return y


@pytest.mark.parametrize("fast_mode", [False, True])
@pytest.mark.parametrize("case", GRADCHECK_ERRORS)
def test_gradcheck_errors(case, fast_mode):
    def run(lib):
        x = lib.ones(1, dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the undefined-gradient check's note
            lib.autograd.gradcheck(
                lambda x: GRADCHECK_ERRORS[case](lib, x), (x,), fast_mode=fast_mode
            )

    compare_error(run)


def test_mark_dirty_of_a_new_tensor_warns():
    def run(lib):
        class AddInto(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                c = 3 * a
                c.add_(b)
                ctx.mark_dirty(c)  # not an input: torch warns, and treats it as a new output
                return c

            @staticmethod
            def backward(ctx, g):
                return 3 * g, g

        a = lib.tensor(randn_3x2[0], requires_grad=True)
        b = lib.tensor(randn_3x2[1], requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = AddInto.apply(a * 1, b)
        out.sum().backward()
        return [
            [(w.category.__name__, first_line(str(w.message))) for w in caught],
            node_name(out.grad_fn),
            a.grad.tolist(),
        ]

    expected, actual = both(run)
    assert actual == expected


def test_mark_dirty_of_a_view_with_several_outputs():
    def run(lib):
        class AddAndSum(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                a.add_(b)
                ctx.mark_dirty(a)
                return a, a + b

            @staticmethod
            def backward(ctx, ga, gab):
                return ga + gab, ga + gab

        a = lib.ones(2, requires_grad=True)
        AddAndSum.apply(a.clone().view_as(a), lib.ones(2, requires_grad=True))

    compare_error(run)


def test_dirty_saved_view_is_freed_with_its_graph():
    def run(lib):
        class Saves(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                ctx.save_for_backward(x)
                return x

            @staticmethod
            def backward(ctx, g):
                return g

        x = lib.tensor(1.0, requires_grad=True).clone().view_as(lib.tensor(1.0))
        Saves.apply(x)
        return weakref.ref(x)

    expected, actual = both(run)
    assert (actual() is None) == (expected() is None)


def test_returned_twice_and_dirty():
    def run(lib):
        class DoubleInPlace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x.mul_(2)
                ctx.mark_dirty(x)
                return x, x

            @staticmethod
            def backward(ctx, g1, g2):
                return g1 * 2 + g2 * 2

        x = lib.tensor(randn_3x2[0], requires_grad=True)
        a, b = DoubleInPlace.apply(x.clone())
        (a * b).sum().backward()
        return [a is b, a.output_nr, node_name(a.grad_fn), x.grad.tolist()]

    expected, actual = both(run)
    np.testing.assert_equal(actual, expected)


def test_inplace_function_is_kept_for_old_code():
    compare_error(lambda lib: lib.autograd.function.InplaceFunction.apply(lib.ones(1)))


# --------------------------------------------------------------------------------------------
# Anomaly mode, writes into expanded tensors, and old API
# --------------------------------------------------------------------------------------------


def _anomaly_warnings(lib, forward_in_anomaly: bool, nested: bool) -> list:
    """The warnings of a backward that produces a NaN, in anomaly mode: where the failing node
    was made (when the forward was in anomaly mode too) and, for a node made by another's
    backward, where that one was made."""

    class Inner(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2.0

        @staticmethod
        def backward(ctx, g):
            g = g.clone()
            g[0] = 0
            g[0] /= 0
            return g

    class Outer(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sum(0, keepdim=True)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            if nested:  # a node made by this backward (with create_graph), failing later
                return Inner.apply(g.clone().expand(3) * x)
            return g.clone().expand(3) * 0 / 0

    x = lib.ones(3, requires_grad=True)
    error = None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # (NumPy's 0/0 warning: the library keeps it quiet in its own frames, as torch is)
        warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"autograd_lite\.")
        try:
            with lib.autograd.detect_anomaly():
                if forward_in_anomaly:
                    out = Outer.apply(x)
            if not forward_in_anomaly:
                out = Outer.apply(x)
            with lib.autograd.detect_anomaly():
                if nested:
                    (g,) = lib.autograd.grad(out, x, create_graph=True)
                    g.sum().backward()
                else:
                    out.backward()
        except RuntimeError as e:
            error = first_line(str(e))
    # The stacks differ (each library's own frames): compare their first line and user lines.
    lines = []
    for w in caught:
        text = str(w.message)
        user = [line.strip() for line in text.split("\n") if "r.apply(" in line]  # Inner, Outer
        lines.append((w.category.__name__, text.strip().split("\n")[0][:60], user))
    return [error, lines]


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("forward_in_anomaly", [False, True])
def test_anomaly_mode_says_where_the_failing_node_was_made(forward_in_anomaly, nested):
    expected, actual = both(lambda lib: _anomaly_warnings(lib, forward_in_anomaly, nested))
    assert actual == expected


def test_writing_into_one_element_of_an_expanded_tensor():
    def run(lib):
        g = lib.tensor([2.0]).expand(3)
        g[0] = 5.0  # all three elements are one place in memory
        g[1] /= 2
        return g

    same(run)


def test_old_api():
    def run(lib):
        v = lib.autograd.torch.ones(2)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            volatile = v.volatile
            v.volatile = True
        return [volatile, [(w.category.__name__, str(w.message)) for w in caught]]

    expected, actual = both(run)
    assert actual == expected


@pytest.mark.parametrize(
    "args",
    [(), (3,), (2, 3), ([1, 2],), "Size([2, 3])", "Size([])"],
)
def test_legacy_new(args):
    def run(lib):
        x = lib.zeros(2, dtype=lib.float64)
        sizes = {"Size([2, 3])": lib.Size([2, 3]), "Size([])": lib.Size([])}
        given = (sizes[args],) if isinstance(args, str) else args
        out = x.new(*given)
        return out.shape, out.dtype

    same(run)


@pytest.mark.parametrize("value", ["int64 tensor", "None", "number"])
def test_data_assignment_errors(value):
    def run(lib):
        x = lib.tensor(1.0, requires_grad=True)
        x.data = {"int64 tensor": lib.tensor(3), "None": None, "number": 3}[value]

    compare_error(run)


def test_data_deletion():
    def run(lib):
        del lib.ones(1).data

    compare_error(run)


def test_index_lists_then_ellipsis():
    compare(lambda lib, x: x[[1, 1], [0, 2], ...] * x[..., [0, 1]].sum(), randn(2, 3, 4))


def test_function_node_apply_runs_backward():
    def run(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2

        y = Double.apply(lib.ones(2, requires_grad=True))
        return y.grad_fn.apply(lib.tensor([1.0, 3.0]))

    same(run)
    compare_error(
        lambda lib: (
            _passthrough(lib).apply(lib.ones(1, requires_grad=True), 2.0)[1].grad_fn(lib.ones(1))
        )
    )


# --------------------------------------------------------------------------------------------
# Found while wiring the fixes above into add/sub and the binary ops
# --------------------------------------------------------------------------------------------


def test_retain_grad_follows_a_view_written_in_place():
    """torch's test_retain_grad_inplace_over_view: after ``view.mul_(2)`` the view's .grad is
    the gradient of its new value, also when a sibling view is brought up to date."""

    def run(lib):
        base = lib.tensor([1.0, 2.0], requires_grad=True).clone()
        view, view2 = base[:], base[:]
        view.retain_grad()
        view2.retain_grad()
        view.mul_(2)
        (view + view2 * 3).sum().backward()
        return view.grad, view2.grad

    same(run, graph=False)


# (base, exponent): torch's sqrt/rsqrt for 0.5/-0.5 (the sign of -0), an exponent kept in
# double for a float32 base, a float64 0-d exponent tested for 0 before the cast to float32
POWERS = {
    "-0 ** 0.5": (np.array([-0.0, 0.0, 4.0], np.float32), 0.5),
    "-0 ** -0.5": (np.array([-0.0, 0.0, 4.0], np.float32), -0.5),
    "0-d -0 ** 0.5": (np.array(-0.0), 0.5),
    "-1 ** (1e-15)": (np.array([-1.0, 2.0], np.float32), 1e-15),
    "-1 ** (1 - 1e-15)": (np.array([-1.0, 2.0], np.float32), 1 - 1e-15),
    "0 ** tiny float64 tensor": (np.array([0.0, 0.5], np.float32), const(np.array(1.4e-179))),
    "0 ** -tiny float64 leaf": (np.array([0.0, 0.5], np.float32), np.array(-1.4e-179)),
    "0 ** tiny float64 leaf": (np.array([0.0, 0.5], np.float32), np.array(1.4e-179)),
}


@pytest.mark.parametrize("case", POWERS)
def test_pow_at_the_edges(case):
    base, exponent = POWERS[case]
    compare(lambda lib, x, e: x**e, base, exponent)


def _detach_after_saving(lib, op: str, source: str):
    w = lib.tensor(1.5, requires_grad=True)
    a = w * 2 if source == "non-leaf" else w
    b = getattr(a, op)()
    a.detach_()
    b.backward()
    return w.grad


@pytest.mark.parametrize("op", ["sin", "exp", "square"])  # exp saves its output, not its input
@pytest.mark.parametrize("source", ["non-leaf", "leaf"])
def test_detach_in_place_after_saving(op, source):
    """torch's test_saved_variable_saved_original_inplace_detach: a saved input detached in
    place is refused; a saved output is fine; a leaf detached in place gets no .grad."""
    try:
        expected = _detach_after_saving(torch, op, source)
    except RuntimeError as error:
        compare_error(lambda lib: _detach_after_saving(lib, op, source))
        assert "detached in-place" in str(error)
    else:
        actual = _detach_after_saving(autograd_lite, op, source)
        assert (actual is None) == (expected is None)
        if expected is not None:
            np.testing.assert_allclose(actual.numpy(), expected.numpy())


def test_a_tensor_detached_in_place_can_be_saved_again():
    def run(lib):
        w = lib.tensor(2.0, requires_grad=True)
        a = (w * 1).clone()
        a.detach_()
        (a * w).sin().backward()
        return w.grad

    same(run)


@pytest.mark.parametrize("make", ["split", "chunk", "unbind", "split into one"])
@pytest.mark.parametrize("source", ["with a graph", "without"])
def test_in_place_with_grad_into_views_of_several_outputs(make, source):
    """torch refuses an in-place change with grad through a view from split, chunk or unbind,
    one piece or several, with a graph or without (then as made "in no_grad mode")."""
    pieces = {
        "split": lambda x: x.split(2),
        "chunk": lambda x: x.chunk(2),
        "unbind": lambda x: x.unbind(),
        "split into one": lambda x: x.split(4),
    }[make]

    def write(lib):
        x = lib.ones(4, requires_grad=True).clone() if source == "with a graph" else lib.ones(4)
        first = pieces(x)[0]
        first.mul_(lib.ones(first.shape, requires_grad=True))

    compare_error(write)


def _deep_reentrant(lib, levels: int, fail_at=None):
    """A custom Function whose backward runs another backward, ``levels`` deep."""

    class DeepReentrant(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            with lib.enable_grad():
                ctx.x = x.detach().requires_grad_() - 1
            return ctx.x.detach()

        @staticmethod
        def backward(ctx, grad):
            if ctx.x < 0:
                return grad
            if fail_at is not None and ctx.x.item() == fail_at:
                raise ValueError(f"failed at level {fail_at}")
            with lib.enable_grad():
                DeepReentrant.apply(ctx.x).sum().backward()
            return grad

    v = lib.tensor(float(levels), requires_grad=True)
    DeepReentrant.apply(v).sum().backward()
    return v.grad


@pytest.mark.parametrize("levels", [3, 2000])
def test_deep_reentrant_backward(levels):
    """torch's test_deep_reentrant: 2000 nested backwards, past Python's recursion limit."""
    same(lambda lib: _deep_reentrant(lib, levels), graph=False)


def test_error_deep_inside_reentrant_backwards_reaches_the_caller():
    compare_error(lambda lib: _deep_reentrant(lib, 300, fail_at=7))


ALPHA_FIRST = {
    "bool tensors, bool alpha": lambda lib: lib.add(lib.tensor(True), lib.tensor(True), True),
    "add(x, number, tensor)": lambda lib: lib.add(lib.tensor([1.0, 2.0]), 2, lib.ones(2)),
    "x.add(number, tensor)": lambda lib: lib.tensor([1.0, 2.0]).add(2, lib.ones(2)),
    "sub(x, number, tensor)": lambda lib: lib.sub(lib.tensor([1.0, 2.0]), 2, lib.ones(2)),
    "add(x, number, number)": lambda lib: lib.add(lib.tensor([1.0, 2.0]), 2, 3),
    "add(x, 0-d tensor, tensor)": lambda lib: lib.add(lib.ones(2), lib.tensor(2.0), lib.ones(2)),
    "bool alpha False": lambda lib: lib.add(lib.tensor([True, False]), True, alpha=False),
}


@pytest.mark.parametrize("case", ALPHA_FIRST)
def test_deprecated_alpha_first_overload_and_bool_alpha(case):
    """torch still takes 2017's add(input, alpha, other) (with a warning once per process)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (torch warns only once per process)
        same(ALPHA_FIRST[case])


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib: lib.add(lib.ones(2), lib.ones(2), 3),
        lambda lib: lib.add(lib.ones(2), 2, lib.ones(2), alpha=2),
        lambda lib: lib.add(lib.ones(2), 2, lib.ones(2), 4),
        lambda lib: lib.sub(lib.ones(2), lib.ones(2), lib.ones(2)),
        lambda lib: lib.add(lib.tensor([1, 2]), 0.5, lib.tensor([1, 1])),
    ],
)
def test_deprecated_alpha_first_overload_errors(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_error(fn)


EXPANDED_WRITES = {
    "add_": lambda lib, e: e.add_(1),
    "mul_ by a tensor": lambda lib, e: e.mul_(lib.full((3,), 2.0)),
    "copy_": lambda lib, e: e.copy_(lib.zeros(3)),
    "sin_": lambda lib, e: e.sin_(),
    "fill_ by a 0-d tensor": lambda lib, e: e.fill_(lib.tensor(4.0)),
    "fill_ by a number": lambda lib, e: e.fill_(3),
    "zero_": lambda lib, e: e.zero_(),
}


@pytest.mark.parametrize("write", EXPANDED_WRITES)
def test_writes_into_an_expanded_tensor(write):
    """torch writes a number (fill_, zero_) into an expanded tensor's one shared element and
    refuses any other write there ("more than one element ... refers to a single memory
    location")."""

    def run(lib):
        base = lib.ones(1)
        return EXPANDED_WRITES[write](lib, base.expand(3)), base

    try:
        run(torch)
    except RuntimeError:
        compare_error(run)
    else:
        same(run)


@pytest.mark.parametrize("size", [(2, 3), (), (4,)])
def test_legacy_constructor_takes_a_size(size):
    """torch.Tensor(torch.Size([2, 3])) is a tensor of that shape (not of the size's values)."""
    expected, actual = both(lambda lib: lib.Tensor(lib.Size(size)))
    assert (tuple(actual.shape), str(actual.dtype)) == (tuple(expected.shape), str(expected.dtype))


# --------------------------------------------------------------------------------------------
# The graph a create_graph pass records has torch's nodes, in torch's order
# --------------------------------------------------------------------------------------------

# Functions whose gradient's graph once differed: products and quotients with a number inside
# torch's formulas (MulBackward1, DivBackward1), a sum down to a 0-d shape (SumBackward0), abs's
# sgn, relu's threshold_backward, and the order of the sums' inputs (autograd.grad's order).
SECOND_ORDER = {
    "pow2": lambda T, x: x**2,
    "pow3": lambda T, x: x**3,
    "pow_half": lambda T, x: x**0.5 * x,
    "sqrt": lambda T, x: T.sqrt(x) * x,
    "sin_pow": lambda T, x: x.sin() * x**2,
    "mean": lambda T, x: (x * x).mean() * x,
    "div_by_sum": lambda T, x: x / x.sum(),
    "softmax_like": lambda T, x: T.exp(x) / T.exp(x).sum(),
    "abs": lambda T, x: x.abs() * x,
    "relu": lambda T, x: T.relu(x) * x,
    "tanh": lambda T, x: T.tanh(x) * x,
    "mm": lambda T, x: (x.view(2, 1) @ x.view(1, 2)).sum(0),
}


def _gradient_graph(lib, f, how):
    """The graph of the gradient, breadth first: (depth, node name, number of inputs)."""
    x = lib.tensor([0.3, 1.2], requires_grad=True)
    y = f(lib, x).sum()
    if how == "grad":
        (g,) = lib.autograd.grad(y, x, create_graph=True)
    else:
        with warnings.catch_warnings():  # (both warn of the .grad reference cycle)
            warnings.simplefilter("ignore", UserWarning)
            y.backward(create_graph=True)
        g = x.grad
    found, todo, seen = [], [(g.grad_fn, 0)], set()
    while todo:
        node, depth = todo.pop(0)
        if node is None or node in seen:
            continue
        seen.add(node)
        found.append((depth, node_name(node), len(node.next_functions)))
        todo += [(child, depth + 1) for child, _ in node.next_functions]
    return found, g.detach().tolist()


@pytest.mark.parametrize("how", ["grad", "backward"])
@pytest.mark.parametrize("name", SECOND_ORDER)
def test_the_graph_of_a_gradient_is_torchs(name, how):
    expected, actual = both(lambda lib: _gradient_graph(lib, SECOND_ORDER[name], how))
    assert actual[0] == expected[0]
    np.testing.assert_allclose(actual[1], expected[1], rtol=1e-6, atol=1e-7)  # (softmax: 0)


def test_relu_passes_the_gradient_where_its_output_is_nan():
    def run(lib):
        x = lib.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
        y = lib.relu(x)
        y.backward(lib.tensor([float("inf"), 1.0, 1.0, 3.0]))
        (g,) = lib.autograd.grad(lib.relu(x).sum(), x, create_graph=True)
        return x.grad, g, g.grad_fn._saved_threshold

    same(run)


def _hook_order(lib, program, how):
    """The nodes of a random graph (numbered breadth first) in the order their pre-hooks fire."""
    y, params = build_program(lib, program)
    numbers, todo, fired = {}, [y.grad_fn], []
    while todo:
        node = todo.pop(0)
        if node is None or node in numbers:
            continue
        numbers[node] = len(numbers)
        node.register_prehook(lambda grads, node=node: fired.append(numbers[node]))
        todo += [child for child, _ in node.next_functions]
    if how == "backward":
        y.backward()
    else:
        lib.autograd.grad(y, list(params.values()), allow_unused=True, create_graph=True)
    return fired


@pytest.mark.parametrize("how", ["backward", "grad_create_graph"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=random_programs())
def test_nodes_run_in_torchs_order(program, how):
    """torch's ready queue runs the node made last first (a leaf's node before any): the order
    hooks see, and, under create_graph, the order of the inputs of the sums recorded."""
    expected, actual = both(lambda lib: _hook_order(lib, program, how))
    assert actual == expected


def test_grad_returns_a_gradient_passed_straight_through_as_it_is():
    """autograd.grad(y, y, grad_outputs=v) hands back v itself (torch does not detach it)."""

    def run(lib):
        y = lib.tensor([1.0, 2.0], requires_grad=True)
        v = lib.tensor([3.0, 4.0], requires_grad=True)
        (g,) = lib.autograd.grad(y, y, grad_outputs=v)
        (h,) = lib.autograd.grad((y * 2).sum(), y)  # made by the pass: no graph
        return g, g is v, g.requires_grad, h.requires_grad, h.grad_fn is None

    same(run)

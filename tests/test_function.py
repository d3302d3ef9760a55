"""Custom ``autograd.Function``s, compared with the same Function written for torch.

The Functions are defined once, in ``functions(lib)``, against either library's API.
"""

from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest
from helpers import both, compare_error, node_name, same

import autograd_lite


def functions(lib):
    """The same custom Functions, built on ``lib``."""
    Function = lib.autograd.Function

    class MyExp(Function):
        """Saves its own output."""

        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    class Scale(Function):
        """A number among the arguments; needs_input_grad decides what to compute."""

        @staticmethod
        def forward(ctx, x, alpha, w):
            ctx.alpha = alpha
            ctx.save_for_backward(x, w)
            return x * alpha * w

        @staticmethod
        def backward(ctx, grad):
            x, w = ctx.saved_tensors
            need_x, need_alpha, need_w = ctx.needs_input_grad
            assert need_alpha is False
            return (
                grad * ctx.alpha * w if need_x else None,
                None,
                grad * ctx.alpha * x if need_w else None,
            )

    class Split(Function):
        """Two outputs of one node."""

        @staticmethod
        def forward(x):  # torch 2 style: the context is set up separately
            return x * 2, x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g1, g2):
            (x,) = ctx.saved_tensors
            return g1 * 2 + g2 * 2 * x

    class Cube(Function):
        """A backward written with differentiable ops: second derivatives work."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x**2

    class Clip(Function):
        """once_differentiable backward: first derivatives only."""

        @staticmethod
        def forward(ctx, x, lo, hi):
            ctx.save_for_backward(x)
            ctx.lo, ctx.hi = lo, hi
            return x.clamp(lo, hi)

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            inside = (x >= ctx.lo) & (x <= ctx.hi)
            return grad * inside, None, None

    class ArgMaxAndMax(Function):
        """A non-differentiable output (mark_non_differentiable)."""

        @staticmethod
        def forward(ctx, x):
            value, index = x.max(0)
            ctx.mark_non_differentiable(index)
            ctx.save_for_backward(index)
            ctx.n = x.shape[0]
            return value, index

        @staticmethod
        def backward(ctx, grad_value, grad_index):
            (index,) = ctx.saved_tensors
            out = lib.zeros(ctx.n, dtype=grad_value.dtype)
            out[index] = grad_value
            return out

    class Identity(Function):
        """Returns its input unchanged."""

        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad * 10

    class WrongCount(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, grad):
            return grad

    class WrongShape(Function):
        @staticmethod
        def forward(ctx, x):
            return x.sum()

        @staticmethod
        def backward(ctx, grad):
            return lib.ones(5)

    return {
        name: cls
        for name, cls in locals().items()
        if isinstance(cls, type) and issubclass(cls, Function) and cls is not Function
    }


def test_apply_forward_backward_and_grad_fn_name():
    def fn(lib):
        f = functions(lib)
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = f["MyExp"].apply(x)
        info = (node_name(y.grad_fn), [node_name(n) for n, _ in y.grad_fn.next_functions])
        y.sum().backward()
        return y, info, y.is_leaf, y.requires_grad, x.grad

    same(fn)


def test_non_tensor_arguments_and_needs_input_grad():
    def fn(lib):
        Scale = functions(lib)["Scale"]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        z = Scale.apply(x, 1.5, w)
        structure = [(node_name(n), nr) for n, nr in z.grad_fn.next_functions]
        z.sum().backward()
        plain = lib.tensor([2.0, 2.0])
        Scale.apply(x, 0.5, plain).sum().backward()
        return z, structure, x.grad, w.grad, plain.grad

    same(fn)


def test_needs_input_grad_values():
    def fn(lib):
        seen = []

        class Spy(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, c, d):
                return a * b * c

            @staticmethod
            def backward(ctx, grad):
                seen.append(ctx.needs_input_grad)
                return grad, grad, grad, None

        a = lib.tensor(1.0, requires_grad=True)
        b = lib.tensor(2.0)
        c = lib.tensor(3.0, requires_grad=True) * 1
        Spy.apply(a, b, c, "label").backward()
        return seen, a.grad

    expected, actual = both(fn)
    assert actual[0] == expected[0] == [(True, False, True, False)]


def test_multiple_outputs_and_setup_context():
    def fn(lib):
        Split = functions(lib)["Split"]
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        a, b = Split.apply(x)
        info = (node_name(a.grad_fn), a.grad_fn is b.grad_fn, a.output_nr, b.output_nr)
        (a.sum() + b.sum() * 10).backward()
        return a, b, info, x.grad

    same(fn)


def test_multiple_outputs_one_unused():
    def fn(lib):
        Split = functions(lib)["Split"]
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        a, b = Split.apply(x)
        b.sum().backward()  # a's gradient is materialized as zeros
        return x.grad

    same(fn)


def test_output_saved_for_backward_and_second_backward_error():
    def fn(lib):
        MyExp = functions(lib)["MyExp"]
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = MyExp.apply(x)
        y.sum().backward()
        y.sum().backward()

    compare_error(fn)


def test_retain_graph_with_a_custom_function():
    def fn(lib):
        MyExp = functions(lib)["MyExp"]
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        y = MyExp.apply(x)
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        return x.grad

    same(fn)


def test_second_derivative_through_a_custom_backward():
    def fn(lib):
        Cube = functions(lib)["Cube"]
        x = lib.tensor([0.5, -2.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x, create_graph=True)
        (k,) = lib.autograd.grad(h.sum(), x)
        return g, h, k

    same(fn, graph=False)


def test_once_differentiable():
    def fn(lib):
        Clip = functions(lib)["Clip"]
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        y = Clip.apply(x, 0.0, 1.0)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return y, g.requires_grad, g.detach()

    same(fn)


def test_once_differentiable_refuses_a_second_derivative():
    def fn(lib):
        Clip = functions(lib)["Clip"]
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        y = Clip.apply(x, 0.0, 1.0)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        g.sum().backward()

    compare_error(fn)


def test_mark_non_differentiable():
    def fn(lib):
        f = functions(lib)["ArgMaxAndMax"]
        x = lib.tensor([1.0, 5.0, 3.0], requires_grad=True)
        value, index = f.apply(x)
        flags = (value.requires_grad, index.requires_grad, node_name(value.grad_fn))
        (value * 2).backward()
        return value, index, flags, x.grad

    same(fn)


def test_returning_the_input_unchanged():
    def fn(lib):
        Identity = functions(lib)["Identity"]
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = Identity.apply(x)
        flags = (y is x, y.is_leaf, node_name(y.grad_fn), x.is_leaf)
        y.sum().backward()
        return flags, x.grad

    same(fn)


def test_without_grad_inputs_or_under_no_grad_nothing_is_recorded():
    def fn(lib):
        MyExp = functions(lib)["MyExp"]
        x = lib.tensor([0.5, 1.0])
        w = lib.tensor([0.5, 1.0], requires_grad=True)
        with lib.no_grad():
            z = MyExp.apply(w)
        y = MyExp.apply(x)
        return y, y.grad_fn, y.requires_grad, z.requires_grad, z.grad_fn

    same(fn)


def test_wrong_number_of_gradients():
    def fn(lib):
        WrongCount = functions(lib)["WrongCount"]
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        WrongCount.apply(x, x).sum().backward()

    error = compare_error(fn)
    assert "returned an incorrect number of gradients" in str(error)


def test_wrong_gradient_shape():
    def fn(lib):
        WrongShape = functions(lib)["WrongShape"]
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        WrongShape.apply(x).backward()

    compare_error(fn)


def test_save_for_backward_only_takes_tensors():
    def fn(lib):
        class Bad(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x, 3.0)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad

        Bad.apply(lib.ones(2, requires_grad=True))

    compare_error(fn)


def test_saved_input_modified_in_place():
    def fn(lib):
        Cube = functions(lib)["Cube"]
        x = lib.tensor([0.5, 1.0], requires_grad=True)
        h = x * 1
        y = Cube.apply(h)
        h.add_(1)
        y.sum().backward()

    compare_error(fn)


def test_legacy_instance_call():
    def fn(lib):
        MyExp = functions(lib)["MyExp"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            instance = MyExp()
        instance(lib.ones(2, requires_grad=True))

    error = compare_error(fn)
    assert str(error).startswith("Legacy autograd function with non-static forward method")


def test_legacy_non_static_forward():
    def fn(lib):
        class Old(lib.autograd.Function):
            def forward(self, x):
                return x * 2

            def backward(self, grad):
                return grad

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            Old()(lib.ones(2, requires_grad=True))

    compare_error(fn)


def test_instantiating_warns_like_torch():
    def fn(lib):
        MyExp = functions(lib)["MyExp"]
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            MyExp()
        return [(w.category.__name__, str(w.message).split(">", 1)[1]) for w in record]

    expected, actual = both(fn)
    assert actual == expected
    assert expected[0][0] == "DeprecationWarning"


def test_graph_with_a_saved_output_is_freed_without_gc():
    gc.collect()
    gc.disable()
    try:
        MyExp = functions(autograd_lite)["MyExp"]
        Split = functions(autograd_lite)["Split"]
        x = autograd_lite.tensor([0.5, 1.0], requires_grad=True)
        y = MyExp.apply(x)
        a, b = Split.apply(y)
        refs = [weakref.ref(t) for t in (y, y.grad_fn, a, b, a.grad_fn)]
        del y, a, b
        assert [r() for r in refs] == [None] * 5
        y = MyExp.apply(x)
        y.sum().backward()
        refs = [weakref.ref(y), weakref.ref(y.grad_fn)]
        del y
        assert [r() for r in refs] == [None, None]
    finally:
        gc.enable()


def test_custom_function_in_a_larger_graph():
    def fn(lib):
        f = functions(lib)
        x = lib.tensor([0.2, 0.4, 0.6], requires_grad=True)
        w = lib.tensor([1.0, -1.0, 2.0], requires_grad=True)
        h = f["Scale"].apply(x, 2.0, w)
        y = f["MyExp"].apply(h).sin() + f["Cube"].apply(x)
        y.sum().backward()
        return y, x.grad, w.grad

    same(fn)


def test_ctx_attributes_and_saved_tensors_identity():
    def fn(lib):
        got = {}

        class Keep(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                ctx.save_for_backward(x, None, y)
                ctx.note = "kept"
                return x + y

            @staticmethod
            def backward(ctx, grad):
                x, nothing, y = ctx.saved_tensors
                got["none"] = nothing is None
                got["note"] = ctx.note
                got["x"] = x.detach().clone()
                return grad, grad * 2

        x = lib.tensor([1.0], requires_grad=True)
        y = lib.tensor([2.0], requires_grad=True)
        Keep.apply(x, y).backward()
        return got["none"], got["note"], got["x"], x.grad, y.grad

    same(fn)


def test_backward_receives_grad_of_the_output_dtype():
    def fn(lib):
        dtypes = []

        class Twice(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                dtypes.append(str(grad.dtype))
                return grad * 2

        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        Twice.apply(x).backward(lib.tensor([1.0, 1.0]))
        return dtypes, x.grad

    expected, actual = both(fn)
    assert actual[0] == expected[0]
    np.testing.assert_array_equal(actual[1].numpy(), expected[1].numpy())


@pytest.mark.parametrize("order", [2, 3])
def test_custom_exp_higher_order(order):
    def fn(lib):
        MyExp = functions(lib)["MyExp"]
        x = lib.tensor([0.1, 0.7], dtype=lib.float64, requires_grad=True)
        y = MyExp.apply(x)
        for _ in range(order):
            (y,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        return y

    same(fn, graph=False)

"""In-place operations, compared with torch: values, dtypes, version counters, graphs, errors.

Each test runs the same code with torch and with autograd_lite (``lib``) and compares.
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import assert_same, both, compare_error, node_name, same

import autograd_lite

# --------------------------------------------------------------------------------------------
# Values, dtypes and version counters
# --------------------------------------------------------------------------------------------

# Each step: code run on `x` (a float32 tensor [1, 2, 3] or what previous steps made of it).
STEPS = [
    "x.add_(1)",
    "x.sub_(0.5)",
    "x.mul_(2)",
    "x.div_(4)",
    "x.add_(lib.tensor([1.0, 1.0, 1.0]), alpha=3)",
    "x.sub_(lib.tensor([1, 2, 3]))",
    "x.mul_(lib.tensor([2.0], dtype=lib.float64))",
    "x.zero_()",
    "x.fill_(3)",
    "x.fill_(lib.tensor(2.5))",
    "x.copy_(lib.tensor([4, 5, 6]))",
    "x.clamp_(4.5, 5.5)",
    "x.clamp_(min=5)",
    "x.clamp_(max=5.2)",
    "x.__setitem__(0, 7)",
    "x.__setitem__(slice(1, None), lib.tensor([8.0, 9.0]))",
    "x.__setitem__(x > 8, 0)",
    "x.__setitem__(lib.tensor([0, 2]), lib.tensor([1.5, 2.5]))",
    "x.__setitem__(Ellipsis, 1.25)",
]


def test_in_place_steps_values_and_versions():
    def fn(lib):
        x = lib.tensor([1.0, 2.0, 3.0])
        trace = []
        for step in STEPS:
            result = eval(step)
            if step.startswith("x.__setitem__"):
                result = x
            trace.append((step, result is x, x.clone(), x._version))
        return trace

    expected, actual = both(fn)
    for (step, t_same, t_value, t_version), (_, l_same, l_value, l_version) in zip(
        expected, actual
    ):
        assert l_same == t_same, step
        assert_same(l_value, t_value, atol=0, rtol=0, where=step)
        assert l_version == t_version, step


def test_augmented_assignment_is_in_place():
    def fn(lib):
        x = lib.tensor([1.0, 2.0, 3.0])
        alias = x
        trace = []
        for op in ("+=", "-=", "*=", "/="):
            exec(f"x {op} 2", {}, {"x": x})
            trace.append((x._version, alias is x))
        x += lib.tensor([1.0, 1.0, 1.0])
        trace.append((x._version, alias is x, alias.clone()))
        return trace

    same(fn)


def test_views_share_the_version_counter():
    def fn(lib):
        x = lib.zeros(3, 2)
        row = x[1]
        col = x[:, 0]
        row.fill_(7)
        col.add_(1)
        x[0] += 1  # a view, added to, then written back: two versions
        return x, x._version, row._version, col._version

    same(fn)


SETITEM_CASES = {
    "int": lambda lib, x: x.__setitem__(1, 5.0),
    "negative_int": lambda lib, x: x.__setitem__(-1, lib.tensor([1.0, 2.0, 3.0])),
    "slice_row": lambda lib, x: x.__setitem__(slice(0, 2), 9.0),
    "column_broadcast": lambda lib, x: x.__setitem__((slice(None), 1), lib.tensor([[4.0]])),
    "row_broadcast": lambda lib, x: x.__setitem__(slice(None), lib.tensor([1.0, 2.0, 3.0])),
    "mask": lambda lib, x: x.__setitem__(x > 4, 0.0),
    "mask_values": lambda lib, x: x.__setitem__(x > 8, lib.tensor([-1.0, -2.0, -3.0])),
    "long_index": lambda lib, x: x.__setitem__(lib.tensor([0, 2]), lib.tensor([0.5, 0.5, 0.5])),
    "pair": lambda lib, x: x.__setitem__((1, 2), 100.0),
    "int_into_float": lambda lib, x: x.__setitem__(0, 3),
    "float_tensor_0d": lambda lib, x: x.__setitem__(0, lib.tensor(2.5)),
    "double_value": lambda lib, x: x.__setitem__(0, lib.tensor([1.1, 2.2, 3.3], dtype=lib.float64)),
}


@pytest.mark.parametrize("name", SETITEM_CASES)
def test_setitem_values(name):
    def fn(lib):
        x = lib.arange(12.0).reshape(4, 3)
        SETITEM_CASES[name](lib, x)
        return x, x._version

    same(fn)


def test_setitem_into_an_integer_tensor_truncates():
    def fn(lib):
        x = lib.zeros(3, dtype=lib.int64)
        x[0] = 2.7
        x[1:] = lib.tensor([-1.9, 5.5])
        return x

    same(fn)


@pytest.mark.parametrize(
    "code",
    [
        "lib.tensor([1, 2]).add_(1.5)",
        "lib.tensor([1, 2]).mul_(lib.tensor([1.5, 2.0]))",
        "lib.tensor([1, 2]).div_(2)",
        "lib.tensor([1, 2]).div_(lib.tensor([2, 2]))",
        "lib.tensor([True, False]).add_(1)",
        "lib.tensor([1, 2], dtype=lib.int32).sub_(lib.tensor([0.5, 0.5], dtype=lib.float64))",
    ],
)
def test_result_type_errors(code):
    compare_error(lambda lib: eval(code))


@pytest.mark.parametrize(
    "code",
    [
        "lib.ones(3).add_(lib.ones(2, 3))",
        "lib.ones(3).add_(lib.ones(2))",
        "lib.ones(1).mul_(lib.ones(3))",
        "lib.ones(3).copy_(lib.ones(2, 3))",
        "lib.ones(3).copy_(lib.ones(2))",
    ],
)
def test_broadcast_shape_errors(code):
    compare_error(lambda lib: eval(code))


def test_setitem_shape_error():
    compare_error(lambda lib: lib.zeros(2, 3).__setitem__(0, lib.ones(2)))


def test_broadcasting_in_place_ops():
    def fn(lib):
        x = lib.ones(2, 3)
        x.add_(lib.tensor([1.0, 2.0, 3.0]))
        x.mul_(lib.tensor([[2.0], [3.0]]))
        x.copy_(x * lib.tensor([1.0, 0.0, 1.0]))
        return x, x._version

    same(fn)


def test_t_underscore():
    def fn(lib):
        x = lib.arange(6.0).reshape(2, 3)
        y = x.t_()
        v = lib.tensor([1.0, 2.0])
        v.t_()  # 1-d: unchanged, still counts as a write
        return y is x, x, x.shape, x._version, v, v._version

    same(fn)


def test_t_underscore_error():
    compare_error(lambda lib: lib.ones(2, 2, 2).t_())


# --------------------------------------------------------------------------------------------
# torch's autograd errors
# --------------------------------------------------------------------------------------------

LEAF_ERRORS = [
    "x.add_(1)",
    "x.mul_(2)",
    "x.zero_()",
    "x.fill_(1)",
    "x.copy_(lib.ones(3))",
    "x.clamp_(0, 1)",
    "x.exp_()",
    "x.__iadd__(1)",
    "x.__imul__(x)",
    "x[1:].add_(1)",
    "x[0].mul_(2)",
    "x.view(3, 1).zero_()",
    "x.__setitem__(x > 0, 0.0)",
]


@pytest.mark.parametrize("code", LEAF_ERRORS)
def test_in_place_on_a_leaf_requiring_grad(code):
    def fn(lib):
        x = lib.ones(3, requires_grad=True)  # noqa: F841 - used by eval
        eval(code)

    error = compare_error(fn)
    assert "leaf Variable that requires grad is being used in an in-place operation" in str(error)


def test_leaf_error_has_a_hint_after_torch_line():
    with pytest.raises(RuntimeError) as info:
        autograd_lite.ones(3, requires_grad=True).add_(1)
    first, *rest = str(info.value).split("\n")
    assert first == "a leaf Variable that requires grad is being used in an in-place operation."
    assert rest and all(line.startswith("hint: ") for line in rest)
    assert "no_grad" in rest[0]


@pytest.mark.parametrize("key", ["0", "slice(0, 2)"])
def test_setitem_on_a_leaf_is_a_view_error(key):
    def fn(lib):
        x = lib.ones(3, requires_grad=True)
        x[eval(key)] = 2.0

    compare_error(fn)


MODIFIED_CASES = {
    # the saved input changed:
    "input_of_mul": lambda lib, x: (lambda y: (y * y, y.add_(1))[0])(x.exp()),
    "input_of_exp_via_setitem": lambda lib, x: (lambda y: (y.sin(), y.__setitem__(0, 1.0))[0])(
        x * 2
    ),
    "plain_tensor_saved": lambda lib, x: (lambda a: (x * a, a.mul_(2))[0])(lib.ones(3)),
    "input_of_pow_via_iadd": lambda lib, x: (lambda y: (y**2, y.__iadd__(1))[0])(x + 0),
    # the saved output changed:
    "result_of_exp": lambda lib, x: (lambda y: (y, y.add_(1))[0])((x * 2).exp()),
    "result_of_sigmoid_zeroed": lambda lib, x: (lambda y: (y, y.zero_())[0])(x.sigmoid()),
    "result_of_tanh_clamped": lambda lib, x: (lambda y: (y, y.clamp_(0, 0.5))[0])(x.tanh()),
    # changed twice, or with several ops in between:
    "twice": lambda lib, x: (lambda y: (y * y, y.add_(1), y.mul_(2))[0])(x.log()),
    "mul_self_in_place": lambda lib, x: (lambda y: (y.mul_(y),)[0])(x * 2),
    "via_detach": lambda lib, x: (lambda y: (y, y.detach().zero_())[0])(x.exp()),
}


@pytest.mark.parametrize("name", MODIFIED_CASES)
def test_modified_saved_tensor_error_matches_torch(name):
    def fn(lib):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        out = MODIFIED_CASES[name](lib, x)
        out.sum().backward()

    error = compare_error(fn)
    assert "has been modified by an inplace operation" in str(error)


def test_modified_error_full_first_line():
    def fn(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.exp()
        z = y * y
        y.add_(1)
        try:
            z.sum().backward()
        except RuntimeError as e:
            return str(e).split("\n")[0]

    expected, actual = both(fn)
    assert actual == expected
    assert expected.startswith(
        "one of the variables needed for gradient computation has been modified by an inplace "
        "operation: [torch.FloatTensor [3]], which is output 0 of Add, is at version 1; "
        "expected version 0 instead. Hint:"
    )


def test_modified_error_hint_line():
    x = autograd_lite.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    first, *rest = str(info.value).split("\n")
    assert "expected version 0 instead. Hint: enable anomaly detection" in first
    assert rest and all(line.startswith("hint: ") for line in rest)


# --------------------------------------------------------------------------------------------
# In-place ops in the graph
# --------------------------------------------------------------------------------------------


def test_sgd_update_under_no_grad():
    def fn(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor(0.5, requires_grad=True)
        x = lib.tensor([[1.0, 2.0], [3.0, -1.0]])
        target = lib.tensor([1.0, 0.0])
        losses = []
        for _ in range(5):
            loss = ((x @ w + b - target) ** 2).mean()
            loss.backward()
            with lib.no_grad():
                w -= 0.05 * w.grad
                b.sub_(0.05 * b.grad)
            w.grad.zero_()
            b.grad = None
            losses.append(loss.item())
        return w, b, losses, w._version, b._version, w.is_leaf, w.requires_grad, w.grad_fn

    same(fn)


def test_no_grad_in_place_on_a_leaf():
    def fn(lib):
        x = lib.ones(2, requires_grad=True)
        with lib.no_grad():
            x.zero_()
            x.add_(1)
            x[0] = 5
            x.fill_(2)
            x.copy_(lib.tensor([3.0, 4.0]))
            x.mul_(2)
            x.clamp_(0, 7)
        return x, x._version, x.is_leaf, x.requires_grad, x.grad_fn

    same(fn)


IN_PLACE_IN_GRAPH = {
    "add_": "y.add_(1)",
    "add_tensor": "y.add_(w)",
    "sub_": "y.sub_(w, alpha=2)",
    "mul_": "y.mul_(2)",
    "mul_tensor": "y.mul_(w)",
    "div_": "y.div_(w)",
    "zero_": "y.zero_()",
    "clamp_": "y.clamp_(0.5, 1.5)",
    "clamp_min": "y.clamp_(min=1)",
    "copy_": "y.copy_(w * 3)",
    "exp_": "y.exp_()",
    "pow_": "y.pow_(2)",
    "neg_": "y.neg_()",
    "sigmoid_": "y.sigmoid_()",
    "iadd": "y += w",
    "imul": "y *= w",
    "two_ops": "y.mul_(w); y.add_(w)",
    "setitem_slice": "y[1:] = w[:2] * w[1:]",
    "setitem_int": "y[0] = w[2]",
    "setitem_scalar": "y[1] = 5.0",
    "setitem_then_op": "y[0] = 0.0; y.mul_(w)",
}


@pytest.mark.parametrize("name", IN_PLACE_IN_GRAPH)
def test_in_place_on_a_non_leaf_rebases_history(name):
    code = IN_PLACE_IN_GRAPH[name]

    def fn(lib):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        w = lib.tensor([1.5, -0.5, 0.25], requires_grad=True)
        y = x * 2
        before = y
        exec(code, {}, {"y": y, "w": w, "lib": lib})
        out = (y * lib.tensor([1.0, 2.0, 3.0])).sum()
        out.backward()
        return (
            before is y,
            y,
            node_name(y.grad_fn),
            y._version,
            y.is_leaf,
            x.grad,
            w.grad,
        )

    same(fn)


# In-place ops whose node names differ from their out-of-place twins.
@pytest.mark.parametrize(
    "code, expected",
    [
        ("y.fill_(3)", "FillBackward2"),
        ("y.t_()", "TBackward1"),
        ("y[y > 1] = 0.0", "IndexPutBackward0"),
        ("y[lib.tensor([0, 2])] = w[:2]", "IndexPutBackward0"),
    ],
)
def test_node_names_of_in_place_ops(code, expected):
    def fn(lib):
        x = lib.tensor([[0.5, 1.0, 2.0]] if "t_" in code else [0.5, 1.0, 2.0], requires_grad=True)
        w = lib.tensor([1.5, -0.5, 0.25], requires_grad=True)
        y = x * 2
        exec(code, {}, {"y": y, "w": w, "lib": lib})
        (y * 3).sum().backward()
        return node_name(y.grad_fn), x.grad

    (torch_name, torch_grad), (lite_name, lite_grad) = both(fn)
    assert torch_name == expected
    np.testing.assert_allclose(lite_grad.numpy(), torch_grad.numpy())
    assert lite_name == torch_name


VIEW_WRITES = [
    "y[1:].mul_(3)",
    "y[1:][0].add_(1)",  # a view of a view
    "y.view(3, 1)[2].zero_()",
    "y[0] += 1",  # Python does y.__setitem__(0, y[0].__iadd__(1))
    "y[:2].copy_(w[1:])",
]


@pytest.mark.parametrize("code", VIEW_WRITES)
def test_in_place_on_a_view_of_a_non_leaf_rebases_the_base(code):
    def fn(lib):
        x = lib.tensor([0.5, 1.0, 2.0], requires_grad=True)
        w = lib.tensor([1.5, -0.5, 0.25], requires_grad=True)
        y = x * 2
        exec(code, {}, {"y": y, "w": w, "lib": lib})
        (y * y).sum().backward()
        return y, x.grad, w.grad, y._version

    same(fn)


def test_in_place_on_a_transposed_view_of_a_matrix():
    def fn(lib):
        x = lib.tensor([[0.5, 1.0, 2.0], [3.0, -1.0, 0.25]], requires_grad=True)
        y = x * 2
        y.t()[1].mul_(x[0, 0])  # column 1 of y, through a non-contiguous view
        (y * y).sum().backward()
        return y, x.grad

    same(fn)


def test_rebased_graph_structure():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.add_(1)
        first = [node_name(f) for f, _ in y.grad_fn.next_functions]
        y.exp_()
        second = [node_name(f) for f, _ in y.grad_fn.next_functions]
        return node_name(y.grad_fn), first, second

    expected, actual = both(fn)
    assert actual == expected


def test_copy_slices_gradients():
    def fn(lib):
        x = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        v = lib.tensor([10.0, 20.0], requires_grad=True)
        y = x * 2
        y[1:3] = v * v
        structure = [node_name(f) for f, _ in y.grad_fn.next_functions]
        (y * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return node_name(y.grad_fn), structure, x.grad, v.grad, y

    same(fn)


def test_setitem_of_a_grad_value_into_a_plain_tensor():
    def fn(lib):
        x = lib.ones(3)
        w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        x[1:] = w[:2] * 2
        flags = (node_name(x.grad_fn), x.requires_grad, x.is_leaf)
        (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return flags, w.grad

    same(fn)


def test_masked_setitem_gradients():
    def fn(lib):
        x = lib.tensor([1.0, -2.0, 3.0, -4.0], requires_grad=True)
        y = x * 2
        y[y < 0] = 0
        (y * lib.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
        return x.grad, y.detach()

    same(fn)


def test_in_place_keeps_the_original_for_its_own_rule():
    # clamp_ and pow_ need the value from before the write (torch saves "original_self").
    def fn(lib):
        x = lib.tensor([-1.0, 0.5, 2.0], requires_grad=True)
        y = x * 1
        y.clamp_(0, 1)
        z = x * 1
        z.pow_(3)
        (y.sum() + z.sum()).backward()
        return x.grad

    same(fn)


def test_in_place_then_second_derivative():
    def fn(lib):
        x = lib.tensor([0.5, 1.5], dtype=lib.float64, requires_grad=True)
        y = x * 1
        y.pow_(3)
        y.mul_(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return g.detach(), h

    same(fn)


# --------------------------------------------------------------------------------------------
# NumPy bridge
# --------------------------------------------------------------------------------------------


def test_from_numpy_shares_memory_both_ways():
    def fn(lib):
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        t = lib.from_numpy(a)
        a[0, 0] = 100
        seen = t.clone()
        t[1] = 10
        t.clamp_(0, 50)
        t *= 2
        return seen, lib.from_numpy(a.copy()), t.dtype, t._version

    same(fn)


def test_numpy_shares_memory_both_ways():
    def fn(lib):
        x = lib.ones(2, 3)
        n = x.numpy()
        n[0, 1] = 9
        seen = x.clone()
        x.add_(1)
        x[1, 2] = -5
        return seen, lib.from_numpy(n.copy()), n.dtype.name

    same(fn)


def test_from_numpy_keeps_dtype_and_tensor_copies():
    def fn(lib):
        a = np.arange(3)
        t = lib.from_numpy(a)
        copied = lib.tensor(a)
        a += 5
        return t, copied, t.dtype, lib.from_numpy(np.ones(2)).dtype

    same(fn)


def test_detach_numpy_shares_with_the_parameter():
    def fn(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        n = w.detach().numpy()
        with lib.no_grad():
            w.mul_(3)
        return lib.from_numpy(n.copy())

    same(fn)


@pytest.mark.parametrize(
    "code",
    [
        "lib.ones(2, requires_grad=True).numpy()",
        "(lib.ones(2, requires_grad=True) * 2).numpy()",
    ],
)
def test_numpy_on_a_tensor_requiring_grad(code):
    compare_error(lambda lib: eval(code))


@pytest.mark.parametrize("code", ["y[0] = 2.0", "y.copy_(lib.ones(3))"])
def test_cpp_node_names_and_their_printed_form_match_torch(code):
    def fn(lib):
        y = lib.ones(3, requires_grad=True) * 1
        exec(code, {}, {"y": y, "lib": lib})
        return y.grad_fn.name(), repr(y), repr(y.grad_fn).split(" object")[0]

    (torch_name, torch_repr, torch_node), (name, text, node) = both(fn)
    assert (name, text, node) == (torch_name, torch_repr, torch_node)

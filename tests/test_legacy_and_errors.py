"""The 2017 tutorial API, CUDA on a CPU-only machine, and the shape of every error message.

Old tutorials use ``Variable``, ``.creator``, ``retain_variables`` and ``torch.FloatTensor``.
Modern torch keeps ``Variable`` and ``FloatTensor`` working and refuses the other two;
autograd_lite does the same, with torch's exception and first line, plus a ``hint:`` line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np  # noqa: F401 - used by eval'd test cases
import pytest
import torch
from helpers import both, compare_error, first_line, same

import autograd_lite
from autograd_lite import _errors

PACKAGE = Path(autograd_lite.__file__).parent


def lite_error(fn):
    """The exception autograd_lite raises for ``fn(autograd_lite)``."""
    with pytest.raises(Exception) as info:
        fn(autograd_lite)
    return info.value


def hint_lines(error) -> list:
    return [line for line in str(error).split("\n")[1:] if line.startswith("hint: ")]


# --------------------------------------------------------------------------------------------
# Variable
# --------------------------------------------------------------------------------------------


def test_variable_returns_a_tensor_like_modern_torch():
    def fn(lib):
        Variable = lib.autograd.Variable
        x = Variable(lib.ones(2, 2), requires_grad=True)
        y = x + 2
        out = (y * y * 3).mean()
        out.backward()
        return (
            type(x).__name__,
            type(x) is lib.Tensor,
            isinstance(x, Variable),
            isinstance(lib.ones(1), Variable),
            isinstance(3.0, Variable),
            x.is_leaf,
            x.requires_grad,
            x.grad,
            type(y.data).__name__,
        )

    same(fn)


def test_variable_shares_data_and_detaches():
    def fn(lib):
        t = lib.ones(2)
        v = lib.autograd.Variable(t)
        v.add_(1)  # the same memory
        g = lib.ones(2, requires_grad=True) * 2
        w = lib.autograd.Variable(g)  # a non-leaf is detached
        return t, v.requires_grad, w.requires_grad, w.is_leaf, lib.autograd.Variable(t) is t

    same(fn)


def test_variable_volatile_warns():
    def fn(lib):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            lib.autograd.Variable(lib.ones(2), volatile=True)
        return [(w.category.__name__, str(w.message)) for w in record]

    expected, actual = both(fn)
    assert actual == expected
    assert len(expected) == 1


@pytest.mark.parametrize("data", ["3", "[1.0, 2.0]", "np.ones(2)"])
def test_variable_of_a_non_tensor(data):
    compare_error(lambda lib: lib.autograd.Variable(eval(data)))


def test_from_torch_autograd_import_variable():
    from autograd_lite.autograd import Variable

    assert Variable is autograd_lite.autograd.Variable


# --------------------------------------------------------------------------------------------
# .creator and retain_variables: refused, with the modern name in a hint
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.autograd.Variable(lib.ones(2, 2), requires_grad=True) + 2,
        lambda lib: lib.ones(2, requires_grad=True),
        lambda lib: lib.ones(2),
    ],
)
def test_creator_is_gone(make):
    compare_error(lambda lib: make(lib).creator)
    error = lite_error(lambda lib: make(lib).creator)
    assert isinstance(error, AttributeError)
    (hint,) = hint_lines(error)
    assert ".grad_fn" in hint


def test_creator_hint_does_not_break_hasattr_and_getattr():
    x = autograd_lite.ones(2)
    assert not hasattr(x, "creator")
    assert getattr(x, "creator", None) is None
    assert getattr(x, "no_such_thing", 7) == 7


def test_other_missing_attributes_have_torch_message_and_no_hint():
    compare_error(lambda lib: lib.ones(2).no_such_attribute)
    assert hint_lines(lite_error(lambda lib: lib.ones(2).no_such_attribute)) == []


def test_retain_variables_is_gone():
    def fn(lib):
        x = lib.autograd.Variable(lib.ones(2, 2), requires_grad=True)
        out = ((x + 2) * (x + 2) * 3).mean()
        out.backward(retain_variables=True)

    compare_error(fn)
    error = lite_error(fn)
    assert isinstance(error, TypeError)
    (hint,) = hint_lines(error)
    assert "retain_graph" in hint


def test_retain_variables_leaves_the_graph_unused():
    # The failed call did not run backward: a correct call afterwards works normally.
    def fn(lib):
        x = lib.ones(2, 2, requires_grad=True)
        out = ((x + 2) * (x + 2) * 3).mean()
        try:
            out.backward(retain_variables=True)
        except TypeError:
            pass
        out.backward(retain_graph=True)
        out.backward()
        return x.grad

    same(fn)


def test_unknown_backward_keyword():
    compare_error(lambda lib: lib.ones(2, requires_grad=True).sum().backward(foo=1))


# --------------------------------------------------------------------------------------------
# Typed constructors
# --------------------------------------------------------------------------------------------

CONSTRUCTORS = [
    "lib.FloatTensor([1, 1, 1])",
    "lib.FloatTensor([[1, 2], [3, 4.5]])",
    "lib.DoubleTensor([1, 2])",
    "lib.LongTensor([1, 2])",
    "lib.LongTensor([1.7, -2.2])",
    "lib.IntTensor([1, 2])",
    "lib.ByteTensor([1, 2])",
    "lib.BoolTensor([1, 0])",
    "lib.FloatTensor(np.array([1.0, 2.0]))",
    "lib.FloatTensor(2, 3).shape",
    "lib.FloatTensor([]).shape",
    "lib.FloatTensor().shape",
    "lib.Tensor([1, 2])",
    "lib.Tensor(2, 3).shape",
    "lib.Tensor().shape",
    "lib.FloatTensor([1, 2]).requires_grad_()",
]


@pytest.mark.parametrize("code", CONSTRUCTORS)
def test_typed_constructors(code):
    same(lambda lib: eval(code))


def test_typed_constructors_in_the_2017_tutorial():
    def fn(lib):
        x = lib.autograd.Variable(lib.tensor([0.1, -0.2, 0.3]), requires_grad=True)
        y = x * 2
        while y.data.norm() < 1000:
            y = y * 2
        y.backward(lib.FloatTensor([10.0, 1.0, 0.1]))
        return y, x.grad

    same(fn)


def test_legacy_type_names_and_isinstance():
    def fn(lib):
        x = lib.ones(2)
        return (
            x.type(),
            x.double().type(),
            x.long().type(),
            x.type(lib.DoubleTensor),
            x.type("torch.LongTensor"),
            isinstance(x, lib.FloatTensor),
            isinstance(x, lib.DoubleTensor),
            isinstance(x.long(), lib.LongTensor),
            repr(lib.FloatTensor),
        )

    same(fn)


def test_legacy_constructor_with_a_string():
    compare_error(lambda lib: lib.FloatTensor("abc"))


# --------------------------------------------------------------------------------------------
# CUDA: unavailable, and saying so
# --------------------------------------------------------------------------------------------


def test_cuda_is_not_available():
    assert autograd_lite.cuda.is_available() is False
    assert autograd_lite.cuda.device_count() == 0
    # The tutorials' guard skips the GPU code, as with a CPU-only torch.
    same(lambda lib: [lib.cuda.is_available(), lib.ones(1).is_cuda, str(lib.ones(1).device)])


CUDA_CALLS = [
    "lib.ones(2).cuda()",
    "lib.ones(2, requires_grad=True).cuda()",
    "lib.ones(2).to('cuda')",
    "lib.ones(2).to('cuda:0')",
    "lib.ones(2).to(device='cuda')",
    "lib.ones(2).to(lib.device('cuda'))",
    "lib.ones(2).to('cuda', lib.float64)",
    "lib.tensor([1.0], device='cuda')",
    "lib.zeros(2, device='cuda')",
    "lib.cuda.current_device()",
]


@pytest.mark.parametrize("code", CUDA_CALLS)
def test_cuda_calls_raise_torch_assertion_with_a_hint(code):
    error = compare_error(lambda lib: eval(code))
    assert str(error) == "Torch not compiled with CUDA enabled"
    lite = lite_error(lambda lib: eval(code))
    assert isinstance(lite, AssertionError)
    (hint,) = hint_lines(lite)
    assert "is_available" in hint


def test_devices():
    def fn(lib):
        return [
            repr(lib.device("cpu")),
            repr(lib.device("cuda")),
            repr(lib.device("cuda:1")),
            str(lib.device("cuda:1")),
            lib.device("cpu") == lib.device("cpu"),
            lib.device("cuda") == lib.device("cuda:0"),
            lib.ones(1).device == "cpu",
            str(lib.ones(1).to("cpu").device),
            lib.ones(1).cpu().device.type,
        ]

    expected, actual = both(fn)
    assert actual == expected


def test_unknown_device():
    compare_error(lambda lib: lib.ones(1).to("gpu"))


# --------------------------------------------------------------------------------------------
# Every error: torch's class and first line, then only hint lines
# --------------------------------------------------------------------------------------------

# A sweep over the errors a beginner meets, from every part of the library. compare_error checks
# the class and the first line against torch, and that every extra line is a ``hint: `` line.
ERRORS = [
    "lib.ones(2, requires_grad=True).add_(1)",
    "lib.ones(3, requires_grad=True)[1:].mul_(2)",
    "(lib.ones(2, requires_grad=True) * 2).backward()",
    "(lib.ones(2) * 2).sum().backward()",
    "(lib.ones(2, requires_grad=True) * 2).backward([1.0, 1.0])",
    "lib.ones(2, requires_grad=True).numpy()",
    "lib.ones(2).item()",
    "bool(lib.ones(2))",
    "lib.ones(2, 3) + lib.ones(3, 2)",
    "lib.ones(2, 3).mm(lib.ones(2, 3))",
    "lib.ones(2, 3).view(4)",
    "lib.ones(2, 3)[2]",
    "lib.ones(2, 3).sum(2)",
    "lib.tensor([1, 2]).add_(1.5)",
    "lib.tensor([1, 2], requires_grad=True)",
    "lib.tensor([1, 2]).requires_grad_()",
    "lib.ones(2).register_hook(lambda g: g)",
    "lib.autograd.grad(lib.ones(1, requires_grad=True) * 2, lib.ones(1, requires_grad=True))",
    "lib.ones(2).cuda()",
    "lib.ones(2).creator",
    "lib.ones(2, requires_grad=True).sum().backward(retain_variables=True)",
    "lib.ones(2).to('gpu')",
]


@pytest.mark.parametrize("code", ERRORS)
def test_errors_start_with_torch_line_then_hints(code):
    compare_error(lambda lib: eval(code))
    error = lite_error(lambda lib: eval(code))
    first, *rest = str(error).split("\n")
    assert "hint:" not in first.lower().replace("hint: enable anomaly", "")
    torch_lines = str(compare_error(lambda lib: eval(code))).split("\n")[1:]
    for line in rest:
        assert line.startswith("hint: ") or line in torch_lines, line


def test_hint_helper_format():
    assert _errors.hint("do this") == "\nhint: do this"
    assert _errors.CUDA_UNAVAILABLE.split("\n")[0] == "Torch not compiled with CUDA enabled"
    assert _errors.CUDA_UNAVAILABLE.split("\n")[1].startswith("hint: ")


def _library_sources():
    return sorted(PACKAGE.rglob("*.py"))


def _docstrings(tree) -> set:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def test_every_hint_call_comes_after_a_message():
    """Statically: ``hint(...)`` is only ever appended to a message (``msg + hint(...)``)."""
    misplaced = []
    for path in _library_sources():
        tree = ast.parse(path.read_text())
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name != "hint" or isinstance(parents.get(node), ast.Attribute):
                continue
            parent = parents[node]
            appended = (
                isinstance(parent, ast.BinOp)
                and isinstance(parent.op, ast.Add)
                and parent.right is node
            ) or (isinstance(parent, ast.AugAssign) and isinstance(parent.op, ast.Add))
            if not appended:
                misplaced.append(f"{path.name}:{node.lineno}")
    assert misplaced == []


def test_every_hand_written_hint_starts_a_line():
    """Statically: a literal ``hint:`` in a message is at the start of a line."""
    bad = []
    for path in _library_sources():
        tree = ast.parse(path.read_text())
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
                continue
            if id(node) in docstrings:
                continue
            text = node.value
            start = text.find("hint:")
            while start != -1:
                if start != 0 and text[start - 1] != "\n":
                    bad.append(f"{path.name}:{node.lineno}: {text[:60]!r}")
                start = text.find("hint:", start + 1)
    assert bad == []


def test_every_hint_is_one_line():
    for path in _library_sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "hint":
                for arg in node.args:
                    for part in ast.walk(arg):
                        if isinstance(part, ast.Constant) and isinstance(part.value, str):
                            assert "\n" not in part.value, f"{path.name}:{node.lineno}"


def test_first_line_of_torch_messages_is_kept_word_for_word():
    # A spot check of the helper the sweep relies on, on a message with torch's own "Hint:".
    x = torch.tensor([1.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert "Hint: enable anomaly detection" in first_line(str(info.value))


# --------------------------------------------------------------------------------------------
# autograd_lite never imports torch
# --------------------------------------------------------------------------------------------


def test_importing_autograd_lite_does_not_import_torch():
    code = (
        "import sys\n"
        "import autograd_lite as torch\n"
        "import autograd_lite.autograd\n"
        "from autograd_lite.autograd import Variable, Function, grad\n"
        "torch.autograd.gradcheck, torch.autograd.functional\n"
        "x = torch.ones(2, requires_grad=True)\n"
        "(x * x).sum().backward()\n"
        "try:\n"
        "    torch.viz\n"
        "except Exception:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert out.stdout.strip() == "[]"


def test_no_torch_import_in_the_source():
    for path in _library_sources():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] != "torch", f"{path.name}:{node.lineno}"


def test_float_of_a_tensor_that_requires_grad_warns_once_per_process_as_torch():
    """torch's TORCH_WARN_ONCE: the first float(x) warns, later ones do not, unless
    set_warn_always(True)."""
    import warnings

    from autograd_lite import _errors

    message = "Converting a tensor with requires_grad=True to a scalar"
    _errors._WARNED_ONCE.clear()
    x = autograd_lite.ones(1, requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        float(x)
        float(x * 2)
        autograd_lite.set_warn_always(True)
        try:
            float(x)
        finally:
            autograd_lite.set_warn_always(False)
    assert [str(w.message).startswith(message) for w in caught] == [True, True]

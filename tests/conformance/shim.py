"""The part of ``torch.testing._internal`` that PyTorch's selected tests use, written for any ``torch``.

The upstream tests import their harness from ``torch.testing._internal.common_utils`` (and
``common_device_type``, ``common_dtype``): a ``TestCase`` with torch's ``assertEqual``, the
``gradcheck`` wrappers, ``@parametrize``, ``@dtypes`` and a few context managers.  Under
autograd_lite that module does not exist, and using torch's own would compare with torch.  This
file is our own small version of the same helpers, written against whatever ``torch`` is bound:
real torch or autograd_lite (see :func:`bind`).  Under real torch every selected test passes with
it (tests/test_conformance.py checks that), which is how we know it is faithful.

Not reproduced: torch's device and dtype instantiation machinery (tests run on the CPU, a
``@dtypes`` test runs once per dtype inside one item) and the expect-file mechanism.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.abc
import importlib.util
import random
import sys
import types
import unittest

import numpy as np

torch = None  # the bound library: real torch or autograd_lite, set by bind()
_NOT_HARNESS = {"torch", "bind", "module", "name", "Missing", "annotations"}


# --------------------------------------------------------------------------------------------
# Binding `torch`
# --------------------------------------------------------------------------------------------


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Makes ``import torch.x.y`` import ``autograd_lite.x.y`` (and fail where it has none)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("torch."):
            lite = "autograd_lite" + fullname[len("torch") :]
            if importlib.util.find_spec(lite) is not None:
                return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        lite = importlib.import_module("autograd_lite" + spec.name[len("torch") :])
        spec.loader_state = lite.__spec__  # importlib sets __spec__ to ours: put it back
        return lite

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state


def bind(lib: str) -> None:
    """Bind ``torch`` to ``lib`` ("torch" or "autograd_lite") for this whole process."""
    global torch
    if lib == "autograd_lite":
        import autograd_lite

        sys.modules["torch"] = autograd_lite
        sys.meta_path.insert(0, _AliasFinder())
    torch = importlib.import_module("torch")


class Missing:
    """Stands for a name the bound library lacks: the tests that use it fail, not the module."""

    def __init__(self, path: str):
        self._path = path

    def _fail(self, *args, **kwargs):
        module, _, name = self._path.rpartition(".")
        raise AttributeError(f"module '{module}' has no attribute '{name}'")

    __call__ = __getattr__ = __mro_entries__ = __iter__ = _fail


def module(dotted: str):
    try:
        return importlib.import_module(dotted)
    except ImportError:
        return Missing(dotted)


def name(module_name: str, attr: str):
    """``from module_name import attr``: the shim's own version for the testing harness."""
    if module_name.startswith("torch.testing"):
        mine = globals().get(attr)
        if mine is None or isinstance(mine, types.ModuleType) or attr in _NOT_HARNESS:
            return Missing(f"{module_name}.{attr}")
        return mine
    found = module(module_name)
    if isinstance(found, Missing):
        return Missing(f"{module_name}.{attr}")
    try:
        return getattr(found, attr)
    except AttributeError:
        return Missing(f"{module_name}.{attr}")


# --------------------------------------------------------------------------------------------
# assertEqual, with torch's comparison rules
# --------------------------------------------------------------------------------------------

# (rtol, atol) by dtype, as torch.testing.assert_close's defaults; integers and bools: exact
_TOLERANCES = {
    "torch.float16": (1e-3, 1e-5),
    "torch.bfloat16": (1.6e-2, 1e-5),
    "torch.float32": (1.3e-6, 1e-5),
    "torch.float64": (1e-7, 1e-7),
}


def _is_tensor(x) -> bool:
    return isinstance(x, torch.Tensor)


def _values(t) -> np.ndarray:
    """A tensor's values as a NumPy array (float64 for floating tensors), through tolist()
    so that it works alike for both libraries and any dtype."""
    return np.asarray(t.detach().tolist(), dtype=np.float64 if t.is_floating_point() else None)


def _close(actual, expected, rtol, atol, equal_nan) -> np.ndarray:
    a, e = np.asarray(actual), np.asarray(expected)
    if a.dtype.kind in "biu" and e.dtype.kind in "biu" and rtol == atol == 0:
        return a == e
    a, e = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        ok = np.abs(a - e) <= atol + rtol * np.abs(e)
    ok |= a == e  # infinities of the same sign
    if equal_nan:
        ok |= np.isnan(a) & np.isnan(e)
    return ok


def _mismatch(actual, expected, rtol, atol, equal_nan, exact_dtype) -> str | None:
    """Why two values differ, as torch's assertEqual sees it; None when they are equal."""
    if actual is None or expected is None:
        return None if actual is expected else f"{actual!r} is not {expected!r}"
    if _is_tensor(actual) or _is_tensor(expected) or isinstance(actual, np.ndarray):
        return _tensor_mismatch(actual, expected, rtol, atol, equal_nan, exact_dtype)
    if isinstance(actual, (bool, int, float, np.number)) and isinstance(
        expected, (bool, int, float, np.number)
    ):
        floating = isinstance(actual, float) or isinstance(expected, float)
        r, a = (rtol, atol) if rtol is not None else _TOLERANCES["torch.float64"]
        ok = _close(actual, expected, r if floating else 0, a if floating else 0, equal_nan)
        return None if ok else f"Scalars are not close: {actual!r} vs {expected!r}"
    if isinstance(actual, str) or isinstance(expected, str):
        return None if actual == expected else f"Strings differ: {actual!r} vs {expected!r}"
    if isinstance(actual, dict) and isinstance(expected, dict):
        if actual.keys() != expected.keys():
            return "Dictionaries have different keys"
        for key in actual:
            why = _mismatch(actual[key], expected[key], rtol, atol, equal_nan, exact_dtype)
            if why:
                return f"[{key!r}]: {why}"
        return None
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        if len(actual) != len(expected):
            return f"Sequences have different lengths: {len(actual)} vs {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            why = _mismatch(a, e, rtol, atol, equal_nan, exact_dtype)
            if why:
                return f"[{i}]: {why}"
        return None
    return None if actual == expected else f"{actual!r} != {expected!r}"


def _tensor_mismatch(actual, expected, rtol, atol, equal_nan, exact_dtype):
    def parts(x):  # (values, dtype name, shape); numbers and arrays count as tensors
        if _is_tensor(x):
            return _values(x), str(x.dtype), tuple(x.shape)
        arr = np.asarray(x)
        return arr, None, arr.shape

    (a, a_dtype, a_shape), (e, e_dtype, e_shape) = parts(actual), parts(expected)
    scalar_vs_number = (a_dtype is None or e_dtype is None) and (a.size == 1 or e.size == 1)
    if a_shape != e_shape and not scalar_vs_number:
        return f"The values for attribute 'shape' do not match: {a_shape} != {e_shape}."
    if exact_dtype and a_dtype and e_dtype and a_dtype != e_dtype:
        return f"The values for attribute 'dtype' do not match: {a_dtype} != {e_dtype}."
    if rtol is None:
        tol = [_TOLERANCES.get(d, (0.0, 0.0)) for d in (a_dtype, e_dtype) if d]
        if a.dtype.kind == "f" and not tol:
            tol = [_TOLERANCES["torch.float64"]]
        rtol, atol = (max(t[0] for t in tol), max(t[1] for t in tol)) if tol else (0.0, 0.0)
    ok = _close(a, e, rtol, atol, equal_nan)
    if np.all(ok):
        return None
    where = np.argwhere(~np.asarray(ok))
    first = tuple(where[0]) if where.size else ()
    return (
        f"Tensor-likes are not close! Mismatched elements: {len(where)} / {np.asarray(ok).size}; "
        f"first at {first}: {np.broadcast_to(a, ok.shape)[first]} vs "
        f"{np.broadcast_to(e, ok.shape)[first]} (rtol={rtol}, atol={atol})"
    )


class TestCase(unittest.TestCase):
    """The upstream tests' base class: unittest's, with torch's seed and comparison rules."""

    device_type = "cpu"
    precision = 1e-5

    def setUp(self):
        super().setUp()
        torch.manual_seed(1234)  # common_utils seeds every test alike
        random.seed(1234)
        np.random.seed(1234)

    def assertEqual(self, x, y, msg=None, *, atol=None, rtol=None, equal_nan=True,
                    exact_dtype=True, exact_device=False, exact_layout=False, **ignored):  # fmt: skip
        if (atol is None) != (rtol is None):
            raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted")
        why = _mismatch(x, y, rtol, atol, equal_nan, exact_dtype)
        if why:
            text = msg() if callable(msg) else msg
            raise self.failureException(f"{why}\n{text}" if text else why)

    def assertNotEqual(self, x, y, msg=None, *, atol=None, rtol=None, **kwargs):
        try:
            self.assertEqual(x, y, msg, atol=atol, rtol=rtol, **kwargs)
        except self.failureException:
            return
        raise self.failureException(msg or f"{x!r} == {y!r}")

    def assertExpectedInline(self, actual, expect, skip=0):
        self.assertEqual(actual, expect)

    def assertExpected(self, s, subname=None):
        raise unittest.SkipTest("expect files are not part of the conformance run")


# --------------------------------------------------------------------------------------------
# The rest of common_utils / common_device_type / common_dtype the tests import
# --------------------------------------------------------------------------------------------

IS_WINDOWS = sys.platform == "win32"
IS_MACOS = sys.platform == "darwin"
TEST_WITH_TORCHDYNAMO = False
TEST_NUMPY = True
load_tests = None


def run_tests():
    raise RuntimeError("run the conformance tests with pytest tests/test_conformance.py")


def gradcheck(fn, inputs, **kwargs):
    """common_utils.gradcheck: torch's, with batched-grad checks and fast mode on by default."""
    for key, value in {"check_batched_grad": True, "fast_mode": True}.items():
        if kwargs.get(key) is None:
            kwargs[key] = value
    return torch.autograd.gradcheck(fn, inputs, **kwargs)


def gradgradcheck(fn, inputs, grad_outputs=None, **kwargs):
    for key, value in {"check_batched_grad": True, "fast_mode": True}.items():
        if kwargs.get(key) is None:
            kwargs[key] = value
    return torch.autograd.gradgradcheck(fn, inputs, grad_outputs, **kwargs)


class subtest:  # noqa: N801 - torch's name
    def __init__(self, arg_values, name=None, decorators=None):
        self.arg_values, self.name, self.decorators = arg_values, name, decorators or []


def parametrize(arg_str, arg_values, name_fn=None):
    """Leaves the test as it is: select_tests.py reads the values from the source and names
    each instance, and the runner calls the method with them."""
    return _identity


def dtypes(*args, **kwargs):
    def decorate(fn):
        fn._conformance_dtypes = args
        return fn

    return decorate


def _identity(fn):
    return fn


def _identity_factory(*args, **kwargs):
    return _identity


onlyCPU = onlyNativeDeviceTypes = skipMeta = expectedFailureMeta = expectedFailureMPS = _identity
skipIfNoLapack = skipIfMPS = _identity
skipIfTorchDynamo = skipIfXpu = skipCUDANonDefaultStreamIf = dtypesIfCUDA = dtypesIfMPS = (
    _identity_factory
)


def skipIfWindows(msg="test doesn't currently work on the Windows stack"):
    return unittest.skipIf(IS_WINDOWS, msg)


def instantiate_parametrized_tests(cls):
    return cls


def instantiate_device_type_tests(cls, scope, **kwargs):
    pass


@contextlib.contextmanager
def disable_gc():
    if gc.isenabled():
        gc.disable()
        try:
            yield
        finally:
            gc.enable()
    else:
        yield


@contextlib.contextmanager
def set_warn_always_context(new_val: bool):
    if not hasattr(torch, "set_warn_always"):
        yield
        return
    old = torch.is_warn_always_enabled()
    torch.set_warn_always(new_val)
    try:
        yield
    finally:
        torch.set_warn_always(old)


@contextlib.contextmanager
def set_default_dtype(dtype):
    saved = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(saved)


def floating_types():
    return (torch.float32, torch.float64)


def floating_types_and(*dtypes):
    return floating_types() + dtypes


def mask_not_all_zeros(shape):
    while True:
        mask = torch.randn(shape).gt(0)
        if mask.sum() > 0:
            return mask

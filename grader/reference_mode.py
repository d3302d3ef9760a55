"""Run course code under real torch: how the grader computes reference answers.

The instructor's solution notebooks say ``import autograd_lite as torch``. Executed after
``install()``, that import yields torch itself (and ``autograd_lite.autograd`` yields
``torch.autograd``, and so on), so every hidden test's ``check(name, value)`` reports what
*torch* computes for the instructor's solution. autograd_lite-only extras (``viz``) become
silent no-ops: pictures are not graded.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import types


def _no_picture(*args, **kwargs):
    return None


class _Existing(importlib.abc.Loader):
    """A loader that hands out a module that is already imported."""

    def __init__(self, module):
        self.module = module

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        pass


class _TorchSubmodules(importlib.abc.MetaPathFinder):
    """``autograd_lite.<sub>`` is ``torch.<sub>``: the same module object, not a second copy
    (importing torch's C-extension-backed packages twice aborts the process)."""

    def find_spec(self, name, path=None, target=None):
        if not name.startswith("autograd_lite."):
            return None
        module = importlib.import_module("torch." + name.split(".", 1)[1])
        return importlib.util.spec_from_loader(name, _Existing(module))


def install() -> None:
    import torch

    viz = types.ModuleType("autograd_lite.viz")
    viz.__getattr__ = lambda name: _no_picture  # make_dot, graph_dict, ... (PEP 562)
    torch.viz = viz
    sys.modules["autograd_lite"] = torch
    sys.modules["autograd_lite.viz"] = viz
    sys.meta_path.insert(0, _TorchSubmodules())

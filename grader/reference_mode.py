"""Run course code under real torch: how the grader computes reference answers.

The instructor's solution notebooks say ``import autograd_lite as torch``. Executed after
``install()``, that import yields torch itself, so every hidden test's ``check(name, value)``
reports what *torch* computes for the instructor's solution. autograd_lite-only extras
(``viz``) become silent no-ops: pictures are not graded.
"""

import sys
import types


def _no_picture(*args, **kwargs):
    return None


def install() -> None:
    import torch

    viz = types.ModuleType("autograd_lite.viz")
    viz.__getattr__ = lambda name: _no_picture  # make_dot, graph_dict, ... (PEP 562)
    torch.viz = viz
    sys.modules["autograd_lite"] = torch
    sys.modules["autograd_lite.viz"] = viz

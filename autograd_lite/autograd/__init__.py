"""torch.autograd: backward, grad, custom Functions, gradient checks and functional transforms."""

from __future__ import annotations

import importlib

from .._engine import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from ._backward import backward, grad
from ._variable import Variable
from .anomaly import detect_anomaly, set_detect_anomaly
from .function import Function, FunctionCtx, once_differentiable

__all__ = [
    "Function",
    "FunctionCtx",
    "Variable",
    "backward",
    "detect_anomaly",
    "enable_grad",
    "functional",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "inference_mode",
    "is_grad_enabled",
    "no_grad",
    "once_differentiable",
    "set_detect_anomaly",
    "set_grad_enabled",
]


def __getattr__(name):
    # gradcheck and functional load on first use: `import autograd_lite` stays fast.
    # (importlib, not `from . import x`: that form would ask this __getattr__ again, forever.)
    if name in ("gradcheck", "gradgradcheck"):
        # Importing the submodule binds its name here; put the function back in its place.
        function = getattr(importlib.import_module(f"{__name__}.gradcheck"), name)
        globals()[name] = function
        return function
    if name == "functional":
        return importlib.import_module(f"{__name__}.functional")
    if name == "torch":  # torch.autograd.torch is torch itself (old code reaches it this way)
        return importlib.import_module("autograd_lite")
    raise AttributeError(f"module 'autograd_lite.autograd' has no attribute '{name}'")

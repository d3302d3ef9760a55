"""Real PyTorch beside autograd_lite, for the notebooks' ``compare-torch`` cells::

    from autograd_lite.compare import import_torch

    real_torch = import_torch()
    if real_torch:
        print(torch.tensor(1.0), real_torch.tensor(1.0))

The student's install has no torch (about 870 MB installed, with sympy and networkx: twice
the rest of the course), so these cells ask for it when they run. autograd_lite itself never
imports torch: the import below happens only when a cell calls ``import_torch()``.
"""

from __future__ import annotations

import importlib

# The version the course pins (pyproject.toml; tests/test_student_install.py keeps them equal),
# from PyTorch's CPU-only index: PyPI's default build for Linux brings several GB of CUDA.
TORCH_VERSION = "2.13.0"
INSTALL = f"%pip install torch=={TORCH_VERSION} --index-url https://download.pytorch.org/whl/cpu"


def import_torch():
    """The real ``torch`` module, or None after one line saying how to add it."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        print(
            "Real PyTorch is not installed, so this comparison is skipped. To add it, run "
            f"`{INSTALL}` in a cell, then restart the kernel."
        )
        return None

"""Errors that teach: torch's exception class and first line, then a ``hint:`` line.

The first line stays torch's word for word so that a student who searches for it finds torch
answers; the hint says what usually causes it in a beginner's code.
"""

from __future__ import annotations

import warnings


def hint(text: str) -> str:
    """The suffix appended to a torch message: a new line starting with ``hint:``."""
    return f"\nhint: {text}"


CUDA_UNAVAILABLE = "Torch not compiled with CUDA enabled" + hint(
    "autograd_lite computes on the CPU with NumPy; torch.cuda.is_available() is False here, so "
    "guard GPU code with `if torch.cuda.is_available():` (or use device='cpu')"
)


def check_device(device) -> None:
    """Accept the CPU (and None); refuse CUDA the way a CPU-only torch build does."""
    if device is None:
        return
    name = str(getattr(device, "type", device))
    if name.startswith("cuda"):
        raise AssertionError(CUDA_UNAVAILABLE)
    if name not in ("cpu", "meta") and not name.startswith("cpu:"):
        raise RuntimeError(
            "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, "
            "maia, xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of "
            f"device string: {name}" + hint("autograd_lite has only the 'cpu' device")
        )


# torch.set_warn_always: warnings torch gives once per process are given every time.
_WARN_ALWAYS = [False]


def set_warn_always(b: bool) -> None:
    """Warnings torch gives once per process (``backward(create_graph=True)``'s) come every
    time while this is on; tests turn it on to see them again."""
    _WARN_ALWAYS[0] = bool(b)


def is_warn_always_enabled() -> bool:
    return _WARN_ALWAYS[0]


_WARNED_ONCE: set = set()


def warn_once(message: str, category=UserWarning, stacklevel: int = 2) -> None:
    """A warning torch gives once per process (its TORCH_WARN_ONCE), or every time under
    ``set_warn_always(True)``."""
    if message in _WARNED_ONCE and not _WARN_ALWAYS[0]:
        return
    _WARNED_ONCE.add(message)
    warnings.warn(message, category, stacklevel=stacklevel + 1)

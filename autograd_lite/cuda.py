"""torch.cuda on a machine without a GPU: everything says so, clearly."""

from __future__ import annotations

from ._errors import CUDA_UNAVAILABLE


def is_available() -> bool:
    """False: autograd_lite computes with NumPy on the CPU."""
    return False


def device_count() -> int:
    return 0


def current_device() -> int:
    raise AssertionError(CUDA_UNAVAILABLE)


def manual_seed(seed: int) -> None:
    """Accepted and ignored, as torch does without a GPU."""


manual_seed_all = manual_seed

"""``torch.random``: the generator behind rand, randn, randint, randperm and normal.

One default generator, as in torch: ``manual_seed`` makes runs repeatable, ``get_rng_state`` /
``set_rng_state`` save and restore the stream, ``fork_rng`` runs a block without disturbing it.
The numbers come from NumPy's PCG64, so they differ from torch's Mersenne Twister: the same
seed gives the same numbers here, not torch's numbers (the distributions agree). The state
is a uint8 tensor, as torch's is, of another size (torch's is 5056 bytes).
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from ._errors import hint

SEED_RANGE = (-(2**63), 2**64 - 1)  # what torch accepts: a C long long, or an unsigned one


class Generator:
    """A stream of random numbers (``torch.Generator``, CPU only)."""

    def __init__(self, device="cpu"):
        from ._tensor import device as Device

        self.device = device if isinstance(device, Device) else Device(device)
        self._seed = _fresh_seed()
        self._numpy = None  # made on first use: importing numpy.random costs ~15 ms

    def manual_seed(self, seed) -> Generator:
        self._seed = _as_seed(seed)
        self._numpy = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed with a fresh, non-deterministic number, and return it."""
        self.manual_seed(_fresh_seed())
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        import json  # (imported when used: it costs `import autograd_lite` 1.5 ms)

        from ._tensor import make_tensor

        state = json.dumps(self.numpy.bit_generator.state).encode()
        return make_tensor(np.frombuffer(state, dtype=np.uint8).copy())

    def set_state(self, new_state) -> Generator:
        from ._tensor import Tensor

        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
        if new_state._data.dtype != np.uint8:
            raise TypeError("RNG state must be a torch.ByteTensor")
        try:
            import json

            state = json.loads(new_state._data.tobytes())
            generator = np.random.default_rng()
            generator.bit_generator.state = state
        except (ValueError, TypeError, KeyError) as error:
            raise RuntimeError(
                "Expected a generator state of autograd_lite's get_rng_state()"
                + hint("pass a state that get_rng_state() returned, unchanged")
            ) from error
        self._numpy = generator
        return self

    def clone_state(self) -> Generator:
        """A new generator at the same point of the same stream."""
        twin = Generator(self.device)
        twin._seed = self._seed
        twin.set_state(self.get_state())
        return twin

    def get_offset(self) -> int:
        raise RuntimeError(_NO_OFFSET)

    def set_offset(self, offset) -> Generator:
        raise RuntimeError(_NO_OFFSET)

    @property
    def numpy(self) -> np.random.Generator:
        if self._numpy is None:
            self._numpy = np.random.default_rng(self._seed)
        return self._numpy


_NO_OFFSET = "CPU Generator does not use offset" + hint(
    "offsets are for the Philox generators of GPUs; save and restore get_state() instead"
)


def _fresh_seed() -> int:
    # 63 bits from the OS, as torch seeds a new generator (os, not secrets: that import costs
    # `import autograd_lite` 5 ms)
    return int.from_bytes(os.urandom(8), "little") >> 1


def _as_seed(seed) -> int:
    """torch's reading of a seed: ``int(seed)``, then a C (unsigned) long long."""
    value = int(seed)
    if not SEED_RANGE[0] <= value <= SEED_RANGE[1]:
        raise ValueError("Overflow when unpacking long long")
    return value % 2**64


default_generator = Generator()


def manual_seed(seed) -> Generator:
    """Seed the default generator: the same seed, the same numbers afterwards."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator with a non-deterministic number, and return it."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, **_):
    """Run a block whose random numbers leave the default generator's stream as it was."""
    if not enabled:
        yield
        return
    saved = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(saved)


__all__ = [
    "Generator",
    "default_generator",
    "fork_rng",
    "get_rng_state",
    "initial_seed",
    "manual_seed",
    "seed",
    "set_rng_state",
]

"""torch.random's API with torch's behaviour: seeds, saved and restored states, fork_rng,
generators, and the errors. The numbers themselves differ from torch's (another algorithm);
what must agree is everything a program can rely on."""

from __future__ import annotations

import pytest
import torch
from helpers import LIBS, compare_error
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_lite


@pytest.fixture(autouse=True)
def keep_streams():
    """These tests reseed both libraries' default generators: leave them as found."""
    states = [lib.get_rng_state() for lib in LIBS]
    yield
    for lib, state in zip(LIBS, states):
        lib.set_rng_state(state)


def draws(lib):
    return (
        lib.rand(3).tolist(),
        lib.randn(2, 2).tolist(),
        lib.randint(0, 100, (4,)).tolist(),
        lib.randperm(5).tolist(),
        lib.normal(0.0, 1.0, (2,)).tolist(),
    )


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_the_same_seed_gives_the_same_numbers(lib):
    lib.manual_seed(42)
    first = draws(lib)
    lib.manual_seed(42)
    assert draws(lib) == first
    lib.manual_seed(43)
    assert draws(lib) != first


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_a_saved_state_replays_the_stream(lib):
    lib.manual_seed(0)
    lib.rand(7)
    state = lib.get_rng_state()
    assert state.dtype == lib.uint8 and state.dim() == 1
    ahead = draws(lib)
    lib.set_rng_state(state)
    assert draws(lib) == ahead
    assert lib.initial_seed() == 0  # a state restores the stream, not the seed


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_fork_rng_leaves_the_stream_as_it_was(lib):
    lib.manual_seed(5)
    state = lib.get_rng_state()
    expected = draws(lib)
    lib.set_rng_state(state)
    with lib.random.fork_rng():
        lib.manual_seed(99)
        draws(lib)
    assert draws(lib) == expected


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_generators_are_streams_of_their_own(lib):
    generator = lib.Generator().manual_seed(7)
    assert isinstance(generator, lib.Generator) and generator.initial_seed() == 7
    first = lib.rand(4, generator=generator).tolist()
    lib.manual_seed(123)  # the default generator is another stream
    again = lib.Generator().manual_seed(7)
    assert lib.rand(4, generator=again).tolist() == first
    assert lib.manual_seed(3) is lib.default_generator


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_seed_picks_a_fresh_seed_and_returns_it(lib):
    chosen = lib.seed()
    assert isinstance(chosen, int) and chosen == lib.initial_seed()
    assert lib.seed() != chosen  # 63 random bits at least: a repeat is (practically) impossible


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.integers(-(2**65), 2**65),
        st.booleans(),
        st.floats(-1e6, 1e6, allow_nan=False),
    )
)
def test_any_seed_is_read_as_torch_reads_it(seed):
    results = []
    for lib in LIBS:
        try:
            lib.manual_seed(seed)
        except Exception as error:  # the result under test
            results.append((type(error).__name__, str(error).splitlines()[0]))
        else:
            results.append(lib.initial_seed())
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.set_rng_state([1, 2]),
        lambda lib: lib.set_rng_state(lib.zeros(3)),
        lambda lib: lib.manual_seed("a"),
        lambda lib: lib.manual_seed(None),
    ],
)
def test_bad_states_and_seeds_raise_as_in_torch(call):
    compare_error(call)


def test_a_foreign_state_is_refused_with_a_hint():
    with pytest.raises(RuntimeError, match="hint:"):
        autograd_lite.set_rng_state(autograd_lite.zeros(10, dtype=autograd_lite.uint8))
    with pytest.raises(RuntimeError):  # torch refuses its own kind of nonsense too
        torch.set_rng_state(torch.zeros(10, dtype=torch.uint8))

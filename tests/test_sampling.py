"""Random fills and draws (issue 14): random_, uniform_, normal_, bernoulli_/bernoulli,
exponential_, geometric_, cauchy_, log_normal_, multinomial, randint_like, rand_like,
randn_like; and torch.random's generators.

The numbers come from another generator than torch's, so values are never compared with
torch's.  What is compared with torch: dtypes, shapes, grad_fn names, gradients (zeros: a fill
forgets the old values), argument checks and errors.  The distributions are checked by
statistics of many draws from a fixed seed of the library's own generator: the result is the
same on every run (the test cannot flake), and the bounds are wide enough for any correct
sampler (5 standard errors and more) and tight enough to catch a wrong one (a wrong mean,
scale, range or support).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import LIBS, compare_error, randn, same

import autograd_lite

N = 200_000


def generator(seed=0):
    return autograd_lite.Generator().manual_seed(seed)


def draw(fill, shape=(N,), dtype=autograd_lite.float64, seed=0) -> np.ndarray:
    x = autograd_lite.zeros(*shape, dtype=dtype)
    fill(x, generator(seed))
    return x.numpy()


@pytest.fixture(autouse=True)
def keep_streams():
    """Some tests use both libraries' default generators: leave them as found."""
    states = [lib.get_rng_state() for lib in LIBS]
    yield
    for lib, state in zip(LIBS, states):
        lib.set_rng_state(state)


# --------------------------------------------------------------------------------------------
# What torch decides: dtypes, shapes, grad_fn names, gradients
# --------------------------------------------------------------------------------------------

IN_PLACE = {
    "random_": lambda y: y.random_(),
    "random_ to": lambda y: y.random_(5),
    "random_ from to": lambda y: y.random_(-3, 5),
    "random_ from": lambda y: y.random_(2, None),
    "uniform_": lambda y: y.uniform_(-1, 2),
    "normal_": lambda y: y.normal_(3, 0.5),
    "bernoulli_": lambda y: y.bernoulli_(),
    "bernoulli_ p": lambda y: y.bernoulli_(0.25),
    "exponential_": lambda y: y.exponential_(2.0),
    "geometric_": lambda y: y.geometric_(0.3),
    "cauchy_": lambda y: y.cauchy_(1.0, 2.0),
    "log_normal_": lambda y: y.log_normal_(0.0, 0.5),
}


@pytest.mark.parametrize("case", IN_PLACE, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_fills_as_torch_records_them(case, dtype):
    """The fill returns the tensor itself, of its dtype and shape, named as torch names it;
    the values before it get a zero gradient."""

    def fn(lib):
        x = lib.tensor(randn(2, 3), dtype=getattr(lib, dtype), requires_grad=True)
        y = x * 1
        out = IN_PLACE[case](y)
        (out.float() * lib.arange(6.0).reshape(2, 3)).sum().backward()
        return out is y, out.grad_fn.name(), str(out.dtype), tuple(out.shape), y._version, x.grad

    same(fn)


@pytest.mark.parametrize(
    "case", ["random_", "random_ to", "random_ from to", "bernoulli_ p", "geometric_"]
)
@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
def test_integer_fills(case, dtype):
    if dtype == "bool" and case in ("random_ to", "random_ from to", "geometric_"):
        return  # (their errors are compared below)
    if dtype == "uint8" and case == "random_ from to":
        return  # (from -3: the error is compared below)

    def fn(lib):
        y = lib.zeros(3, 4, dtype=getattr(lib, dtype))
        out = IN_PLACE[case](y)
        return out is y, str(out.dtype), tuple(out.shape), out.grad_fn, y._version

    same(fn)


def test_out_of_place_draws_as_torch():
    def fn(lib):
        p = lib.full((2, 3), 0.5, dtype=lib.float64, requires_grad=True)
        coins = lib.bernoulli(p)
        coins.sum().backward()
        x = lib.zeros(2, 3)
        return (
            coins.grad_fn.name(),
            str(coins.dtype),
            p.grad,
            str(lib.bernoulli(x, 0.5).dtype),
            [
                (str(t.dtype), tuple(t.shape))
                for t in (
                    lib.multinomial(lib.tensor([0.2, 0.8]), 3, True),
                    lib.multinomial(lib.ones(4, 5), 2),
                    lib.randint_like(x, 5),
                    lib.randint_like(x, 2, 5, dtype=lib.int16),
                    lib.rand_like(x, dtype=lib.float64),
                    lib.randn_like(x),
                )
            ],
            lib.randint_like(x, 5, requires_grad=True).requires_grad,
        )

    same(fn)


def test_bernoulli_with_a_tensor_of_probabilities():
    def fn(lib):
        p = lib.tensor([0.0, 1.0, 0.0, 1.0])
        y = lib.full((2, 4), 7.0)
        y.bernoulli_(p)
        x = lib.tensor([2.0, 3.0], requires_grad=True)
        z = (x * 1).bernoulli_(lib.tensor([1.0, 0.0], requires_grad=True))
        return y, lib.bernoulli(p.expand(3, 4)), z.grad_fn.name(), z.detach()

    same(fn)


ERRORS = [
    lambda lib: lib.zeros(3).random_(5, 5),
    lambda lib: lib.zeros(3).random_(0),
    lambda lib: lib.zeros(3).random_(-3),
    lambda lib: lib.zeros(3, dtype=lib.int8).random_(300),
    lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-1, 3),
    lambda lib: lib.zeros(3, dtype=lib.int64).uniform_(),
    lambda lib: lib.zeros(3).uniform_(1, 0),
    lambda lib: lib.zeros(3).uniform_(0, float("inf")),
    lambda lib: lib.zeros(3, dtype=lib.int64).normal_(),
    lambda lib: lib.zeros(3).normal_(0, -1),
    lambda lib: lib.zeros(3).bernoulli_(2.0),
    lambda lib: lib.zeros(3).bernoulli_(lib.full((3,), 1.5)),
    lambda lib: lib.zeros(3).bernoulli_(lib.full((2, 3), 0.5)),
    lambda lib: lib.bernoulli(lib.full((3,), -0.5)),
    lambda lib: lib.bernoulli(lib.zeros(3, dtype=lib.int64)),
    lambda lib: lib.zeros(3).exponential_(0),
    lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(),
    lambda lib: lib.zeros(3).geometric_(0),
    lambda lib: lib.zeros(3).geometric_(1),
    lambda lib: lib.zeros(3, dtype=lib.bool).geometric_(0.5),
    lambda lib: lib.zeros(3, dtype=lib.int64).cauchy_(),
    lambda lib: lib.zeros(3).cauchy_(0, 0),
    lambda lib: lib.zeros(3).log_normal_(1, 0),
    lambda lib: lib.zeros(3, dtype=lib.int64).log_normal_(),
    lambda lib: lib.zeros(3, requires_grad=True).uniform_(),
    lambda lib: lib.zeros(3, requires_grad=True).random_(),
    lambda lib: lib.multinomial(lib.tensor([0.1, 0.9]), 3),
    lambda lib: lib.multinomial(lib.tensor([0.1, 0.9]), 0),
    lambda lib: lib.multinomial(lib.tensor([-0.1, 0.9]), 1),
    lambda lib: lib.multinomial(lib.tensor([float("nan"), 0.9]), 1),
    lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1),
    lambda lib: lib.multinomial(lib.ones(1, 1, 2), 1),
    lambda lib: lib.multinomial(lib.tensor(1.0), 1),
    lambda lib: lib.multinomial(lib.tensor([1, 2]), 1),
    lambda lib: lib.randint_like(lib.zeros(3), 0),
    lambda lib: lib.rand_like(lib.zeros(3, dtype=lib.int64)),
    lambda lib: lib.randn_like(lib.zeros(3, dtype=lib.int64)),
    lambda lib: lib.Generator().get_offset(),
    lambda lib: lib.Generator().set_offset(3),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors_as_torch(call):
    compare_error(call)


def test_random_beyond_a_float_s_integers_warns_as_torch():
    from helpers import recorded_warnings

    for lib in LIBS:
        with recorded_warnings() as caught:
            lib.zeros(3).random_(0, 2**25)
        assert [category for category, _ in caught] == ["UserWarning"]
        assert caught[0][1].startswith("to - 1 is out of bounds [-(2^24), 2^24].")


# --------------------------------------------------------------------------------------------
# Repeatable: seeds, generators, saved states
# --------------------------------------------------------------------------------------------

EVERY_FILL = list(IN_PLACE.values()) + [
    lambda y: y.copy_(autograd_lite.bernoulli(autograd_lite.full(y.shape, 0.3))),
    lambda y: y.copy_(
        autograd_lite.multinomial(autograd_lite.ones(y.numel()), y.numel()).reshape(y.shape)
    ),
]


@pytest.mark.parametrize("fill", range(len(EVERY_FILL)))
def test_the_same_seed_gives_the_same_numbers(fill):
    def run(seed):
        autograd_lite.manual_seed(seed)
        return EVERY_FILL[fill](autograd_lite.zeros(50, dtype=autograd_lite.float64)).tolist()

    assert run(1) == run(1)
    assert run(1) != run(2)
    with autograd_lite.random.fork_rng():
        inside = run(3)
    assert run(3) == inside


def test_generator_keyword_is_a_stream_of_its_own():
    autograd_lite.manual_seed(0)
    expected = autograd_lite.rand(5).tolist()
    autograd_lite.manual_seed(0)
    draws = []
    for method in (
        "random_",
        "uniform_",
        "normal_",
        "bernoulli_",
        "exponential_",
        "cauchy_",
        "log_normal_",
    ):
        y = autograd_lite.zeros(4)
        getattr(y, method)(generator=generator(9))
        again = autograd_lite.zeros(4)
        getattr(again, method)(generator=generator(9))
        assert y.tolist() == again.tolist()
        draws.append(y.tolist())
    y = autograd_lite.zeros(4).geometric_(0.5, generator=generator(9))
    assert y.tolist() == autograd_lite.zeros(4).geometric_(0.5, generator=generator(9)).tolist()
    weights = autograd_lite.ones(6)
    assert (
        autograd_lite.multinomial(weights, 6, generator=generator(4)).tolist()
        == autograd_lite.multinomial(weights, 6, generator=generator(4)).tolist()
    )
    assert autograd_lite.rand(5).tolist() == expected  # the default stream was not touched


@pytest.mark.parametrize("lib", LIBS, ids=lambda lib: lib.__name__)
def test_generator_methods(lib):
    g = lib.Generator().manual_seed(11)
    lib.rand(3, generator=g)
    twin = g.clone_state()
    assert lib.rand(4, generator=twin).tolist() == lib.rand(4, generator=g).tolist()
    assert str(g.device) == "cpu" and g.initial_seed() == 11
    state = g.get_state()
    first = lib.rand(2, generator=g).tolist()
    assert lib.rand(2, generator=g.set_state(state)).tolist() == first
    assert lib.random.manual_seed(5) is lib.random.default_generator
    assert lib.random.initial_seed() == 5


# --------------------------------------------------------------------------------------------
# Distributions: fixed seeds, so these statistics are the same on every run
# --------------------------------------------------------------------------------------------


def test_uniform():
    x = draw(lambda y, g: y.uniform_(-2, 3, generator=g))
    assert x.min() >= -2 and x.max() < 3
    assert abs(x.mean() - 0.5) < 0.02  # standard error 5 / sqrt(12 N) = 0.0032
    assert abs(x.var() - 25 / 12) < 0.05
    assert np.histogram(x, 10, (-2, 3))[0].min() > 0.09 * N  # flat: every tenth has ~10%


def test_normal():
    x = draw(lambda y, g: y.normal_(3, 0.5, generator=g))
    assert abs(x.mean() - 3) < 0.01  # standard error 0.0011
    assert abs(x.std() - 0.5) < 0.01
    assert abs(np.mean(np.abs(x - 3) < 0.5) - 0.6827) < 0.01  # one sigma holds 68%


def test_exponential():
    x = draw(lambda y, g: y.exponential_(4.0, generator=g))
    assert x.min() >= 0
    assert abs(x.mean() - 0.25) < 0.005  # standard error 0.00056
    assert abs(np.median(x) - np.log(2) / 4) < 0.005


def test_geometric():
    x = draw(lambda y, g: y.geometric_(0.2, generator=g))
    assert x.min() == 1 and (x == np.round(x)).all()  # trials: 1, 2, 3, ...
    assert abs(x.mean() - 5) < 0.1  # standard error 0.01
    assert abs(np.mean(x == 1) - 0.2) < 0.01
    ints = draw(lambda y, g: y.geometric_(0.5, generator=g), dtype=autograd_lite.int64)
    assert ints.min() == 1 and abs(ints.mean() - 2) < 0.05


def test_cauchy():
    x = draw(lambda y, g: y.cauchy_(1.0, 2.0, generator=g))
    assert abs(np.median(x) - 1) < 0.05
    low, high = np.percentile(x, [25, 75])  # the quartiles are median -+ sigma
    assert abs(low + 1) < 0.1 and abs(high - 3) < 0.1


def test_log_normal():
    x = draw(lambda y, g: y.log_normal_(0.5, 0.25, generator=g))
    assert x.min() > 0
    assert abs(np.log(x).mean() - 0.5) < 0.005 and abs(np.log(x).std() - 0.25) < 0.005


def test_bernoulli():
    x = draw(lambda y, g: y.bernoulli_(0.3, generator=g))
    assert set(np.unique(x)) == {0.0, 1.0} and abs(x.mean() - 0.3) < 0.01
    p = autograd_lite.tensor([0.1, 0.5, 0.9], dtype=autograd_lite.float64)
    coins = autograd_lite.bernoulli(p.expand(N, 3), generator=generator()).numpy()
    assert np.allclose(coins.mean(0), [0.1, 0.5, 0.9], atol=0.01)


@pytest.mark.parametrize(
    "dtype, low, high",
    [("uint8", 0, 255), ("int8", 0, 127), ("int16", 0, 2**15 - 1), ("bool", 0, 1)],
)
def test_random_covers_a_small_dtype(dtype, low, high):
    """random_() draws every value from 0 to the dtype's largest, in torch too."""
    for lib in LIBS:
        lib.manual_seed(0)
        x = lib.zeros(N, dtype=getattr(lib, dtype)).random_().long().numpy()
        assert x.min() == low and x.max() == high
        if high < 300:
            assert len(np.unique(x)) == high - low + 1


def test_random_ranges():
    x = draw(lambda y, g: y.random_(-3, 5, generator=g), dtype=autograd_lite.int64)
    assert set(np.unique(x)) == set(range(-3, 5))
    assert np.bincount(x + 3).min() > N / 8 * 0.95  # uniform: each of 8 values ~1/8
    x = draw(lambda y, g: y.random_(generator=g), dtype=autograd_lite.float32)
    assert x.min() >= 0 and x.max() <= 2**24 and (x == np.round(x)).all()
    assert abs(x.mean() / 2**23 - 1) < 0.01
    x = draw(lambda y, g: y.random_(generator=g), dtype=autograd_lite.int64)
    assert x.min() >= 0 and x.max() > 2**62  # up to 2**63 - 1


def test_multinomial_with_replacement_follows_the_weights():
    weights = autograd_lite.tensor([[1.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 2.0]])
    picks = autograd_lite.multinomial(weights, N, True, generator=generator()).numpy()
    frequencies = np.stack([np.bincount(row, minlength=4) for row in picks]) / N
    assert np.allclose(frequencies, [[0.125, 0.0, 0.375, 0.5], [0, 0, 0, 1]], atol=0.01)


def test_multinomial_without_replacement():
    weights = autograd_lite.tensor([1.0, 0.0, 3.0, 4.0, 2.0])
    rows = np.stack(
        [
            autograd_lite.multinomial(weights, 4, generator=generator(seed)).numpy()
            for seed in range(2000)
        ]
    )
    assert all(len(set(row)) == 4 for row in rows)  # no index twice
    assert not (rows == 1).any()  # weight 0: never while others are left
    first = np.bincount(rows[:, 0], minlength=5) / len(rows)
    assert np.allclose(first, [0.1, 0, 0.3, 0.4, 0.2], atol=0.04)  # the first pick by weight
    everything = autograd_lite.multinomial(weights, 5, generator=generator()).tolist()
    assert sorted(everything) == [0, 1, 2, 3, 4] and everything[-1] == 1


def test_like_draws():
    base = autograd_lite.zeros(N, dtype=autograd_lite.float64)
    x = autograd_lite.rand_like(base, generator=generator()).numpy()
    assert 0 <= x.min() and x.max() < 1 and abs(x.mean() - 0.5) < 0.01
    x = autograd_lite.randn_like(base, generator=generator()).numpy()
    assert abs(x.mean()) < 0.01 and abs(x.std() - 1) < 0.01
    x = autograd_lite.randint_like(base, 2, 6, generator=generator()).numpy()
    assert set(np.unique(x)) == {2.0, 3.0, 4.0, 5.0}


def test_torch_agrees_on_the_distributions():
    """The same statistics from torch's own generator: the checks above test distributions,
    not one generator's quirks."""
    torch.manual_seed(0)
    x = torch.zeros(N, dtype=torch.float64)
    assert abs(x.exponential_(4.0).mean().item() - 0.25) < 0.005
    g = x.geometric_(0.2)
    assert g.min().item() == 1 and abs(g.mean().item() - 5) < 0.1
    c = x.cauchy_(1.0, 2.0).numpy()
    assert abs(np.percentile(c, 25) + 1) < 0.1 and abs(np.percentile(c, 75) - 3) < 0.1
    ln = x.log_normal_(0.5, 0.25).log()
    assert abs(ln.mean().item() - 0.5) < 0.005 and abs(ln.std().item() - 0.25) < 0.005

"""Filling tensors with random numbers: the in-place ``random_``, ``uniform_``, ``normal_``,
``bernoulli_``, ``exponential_``, ``geometric_``, ``cauchy_``, ``log_normal_``, and
``bernoulli`` and ``multinomial``, which draw from the probabilities a tensor holds.

Every one takes ``generator=`` (a ``torch.Generator``; the default generator otherwise, see
``autograd_lite/random.py``).  The numbers come from NumPy's generator, not torch's, so a seed
gives other numbers than in torch; the distributions, dtypes, shapes and errors are torch's.

A fill replaces the tensor's values, so nothing flows back through it: the node (torch's
``UniformBackward0`` and friends) passes zeros.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype
from .._creation import _rng
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import Op, _as_tensor, _int, _not_tensor, _record, _scalar_name, _tracks
from .views import expand


class RandomFill(Op):
    """The values were drawn, not computed from the old ones: no gradient (zeros)."""

    _name = "UniformBackward0"

    def gradient(self, grad):
        zeros = grad * 0
        return (zeros,) if len(self._next) == 1 else (zeros, None)


def _fill(self: Tensor, values: np.ndarray, name: str, probabilities=None) -> Tensor:
    """Write ``values`` into ``self`` in place, recorded as the node ``name``."""
    out = np.asarray(values).astype(self._data.dtype)
    inputs = (self,) if probabilities is None else (self, probabilities)
    if _tracks(*inputs):
        node = RandomFill()
        node._rename(name)
        return self._assign(_record(node, inputs, out))
    return self._assign(make_tensor(out))


def _number(x) -> str:
    """A number as torch's C++ messages print it: 1, not 1.0."""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _continuous_only(self: Tensor, kernel: str) -> None:
    if self._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_scalar_name(self._data.dtype)}'"
            + hint("random numbers of this distribution are floats: call .float() first")
        )


def _continuous_distribution(self: Tensor, name: str, type_name: str) -> None:
    if self._data.dtype.kind != "f":
        raise RuntimeError(
            f"{name} distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {type_name}" + hint("call .float() first")
        )


# ============================================================================================
# random_: integers, uniformly
# ============================================================================================

# How many consecutive integers a floating dtype holds exactly: 2 ** (mantissa bits + 1).
_FLOAT_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, np.dtype(np.float64): 53}


def random_(self: Tensor, *bounds, generator=None, **names) -> Tensor:
    """Integers drawn uniformly: ``random_(to)`` from ``[0, to - 1]``, ``random_(from, to)``
    from ``[from, to - 1]``; without ``to``, up to the dtype's largest (for floats, the largest
    integer they hold exactly: 2**24 for float32)."""
    self._check_inplace()
    if len(bounds) == 1 and "to" not in names:  # random_(to)
        bounds, names = (), {"to": bounds[0]}
    given_from = len(bounds) > 0 or "from" in names
    from_ = bounds[0] if bounds else names.get("from", 0)
    to = bounds[1] if len(bounds) > 1 else names.get("to")
    # torch's three overloads have three nodes: (from, to), (to), ()
    name = (
        "RandomBackward0"
        if given_from
        else "RandomBackward1"
        if to is not None
        else "RandomBackward2"
    )
    low, high = _random_range(self, _int(from_), None if to is None else _int(to))
    values = _rng(generator).integers(low, high, endpoint=True, size=self._data.shape)
    return _fill(self, values, name)


def _random_range(self: Tensor, from_, to):
    dtype = self._data.dtype
    cpp = _dtype.FROM_NUMPY[dtype].cpp_name
    if dtype.kind == "f":
        digits = _FLOAT_DIGITS[dtype]
        largest, smallest = 2**digits, -(2**digits)
    elif dtype.kind == "b":
        largest, smallest = 1, 0
    else:
        info = np.iinfo(dtype)
        largest, smallest = int(info.max), int(info.min)
    if to is None:
        return from_, largest
    if from_ >= to:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}"
        )
    for value, what in ((from_, "from"), (to - 1, "to - 1")):
        if smallest <= value <= largest:
            continue
        if dtype.kind == "f":
            warnings.warn(
                f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                f"limitations {cpp} can support discrete uniform distribution only within "
                "this range. This warning will become an error in version 1.7 release, please "
                "fix the code in advance",
                UserWarning,
                stacklevel=3,
            )
        else:
            raise RuntimeError(f"{what} is out of bounds for {cpp}")
    return from_, to - 1


# ============================================================================================
# Continuous distributions
# ============================================================================================


def uniform_(self: Tensor, from_=0.0, to=1.0, *, generator=None, **names) -> Tensor:
    """Floats drawn uniformly from ``[from, to)``."""
    self._check_inplace()
    from_, to = names.get("from", from_), names.get("to", to)
    _continuous_only(self, "check_uniform_bounds")
    cpp = _dtype.FROM_NUMPY[self._data.dtype].cpp_name
    largest = float(np.finfo(self._data.dtype).max)
    for value, what in ((from_, "from"), (to, "to")):
        if not -largest <= value <= largest:
            raise RuntimeError(f"{what} is out of bounds for {cpp}")
    if from_ > to:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={_number(from_)} > "
            f"to={_number(to)}"
        )
    values = from_ + (to - from_) * _rng(generator).random(self._data.shape)
    return _fill(self, values, "UniformBackward0")


def normal_(self: Tensor, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    """Floats from the normal distribution N(mean, std**2)."""
    self._check_inplace()
    _continuous_only(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_number(std)}")
    values = mean + std * _rng(generator).standard_normal(self._data.shape)
    return _fill(self, values, "NormalBackward0")


def exponential_(self: Tensor, lambd=1.0, *, generator=None) -> Tensor:
    """Waiting times of rate ``lambd``: mean 1 / lambd."""
    self._check_inplace()
    _continuous_distribution(self, "Exponential", _scalar_name(self._data.dtype))
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_number(lambd)}")
    values = _rng(generator).exponential(1 / lambd, self._data.shape)
    return _fill(self, values, "ExponentialBackward0")


def cauchy_(self: Tensor, median=0.0, sigma=1.0, *, generator=None) -> Tensor:
    """The Cauchy distribution: a bell with tails so heavy it has no mean."""
    self._check_inplace()
    _continuous_distribution(self, "Cauchy", _dtype.FROM_NUMPY[self._data.dtype].cpp_name)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={_number(sigma)}")
    values = median + sigma * _rng(generator).standard_cauchy(self._data.shape)
    return _fill(self, values, "CauchyBackward0")


def log_normal_(self: Tensor, mean=1.0, std=2.0, *, generator=None) -> Tensor:
    """exp of a normal N(mean, std**2): ``mean`` and ``std`` are the logarithm's."""
    self._check_inplace()
    _continuous_only(self, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={_number(std)}")
    values = _rng(generator).lognormal(mean, std, self._data.shape)
    return _fill(self, values, "LogNormalBackward0")


# ============================================================================================
# Discrete distributions
# ============================================================================================


def geometric_(self: Tensor, p, *, generator=None) -> Tensor:
    """The number of trials up to the first success, each succeeding with probability ``p``
    (1, 2, 3, ...; mean 1 / p)."""
    self._check_inplace()
    if self._data.dtype == np.bool_:
        raise NotImplementedError("\"geometric_cpu\" not implemented for 'Bool'")
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={_number(p)}")
    values = _rng(generator).geometric(p, self._data.shape)
    return _fill(self, values, "GeometricBackward0")


_P_OUT_OF_RANGE = (
    "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
    "improved?  If so, please report an enhancement request to PyTorch.)"
)


def _coin_flips(probabilities: np.ndarray, generator) -> np.ndarray:
    if not ((probabilities >= 0) & (probabilities <= 1)).all():  # (NaN fails too)
        raise RuntimeError(_P_OUT_OF_RANGE)
    return _rng(generator).random(probabilities.shape) < probabilities


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """1 with probability ``p`` (a number, or a tensor that broadcasts to this one), else 0."""
    self._check_inplace()
    shape = self._data.shape
    if isinstance(p, Tensor):
        spread = expand(p.detach(), shape)  # torch's expand error if it can't
        flips = _coin_flips(spread._data, generator)
        return _fill(self, flips, "BernoulliBackward1", probabilities=p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_number(p)}")
    return _fill(self, _rng(generator).random(shape) < p, "BernoulliBackward2")


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """A new tensor of 0s and 1s: 1 with the probability ``input`` holds at each place (or
    ``p`` everywhere, when given)."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("bernoulli", input, p) from None
    if p is not None:
        out = make_tensor(np.zeros(data.shape, dtype=data.dtype))
        return bernoulli_(out, p, generator=generator)
    if data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_scalar_name(data.dtype)}'"
            + hint("the input holds probabilities: make it a float tensor")
        )
    out = _coin_flips(data, generator).astype(data.dtype)
    if _tracks(input):
        node = RandomFill()
        node._rename("BernoulliBackward0")
        return _record(node, (input,), out)
    return make_tensor(out)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None):
    """Indices drawn with the (unnormalized) weights ``input`` holds: per row of a 2-d input.
    Without replacement, each index comes at most once (so at most ``size(-1)`` samples)."""
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("multinomial", input, num_samples) from None
    if data.dtype.kind != "f":
        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{_scalar_name(data.dtype)}" + hint("the weights are floats: call .float() first")
        )
    if data.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > data.shape[-1]:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    weights = np.atleast_2d(data).astype(np.float64)
    if not (np.isfinite(weights) & (weights >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = weights.sum(-1, keepdims=True)
    if (totals <= 0).any():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = _rng(generator)
    if replacement:  # inverse of the cumulative distribution at uniform draws
        edges = np.cumsum(weights / totals, -1)
        draws = rng.random((weights.shape[0], num_samples))
        picks = np.stack([np.searchsorted(e, u, side="right") for e, u in zip(edges, draws)])
        picks = np.minimum(picks, weights.shape[-1] - 1)  # (rounding at the top edge)
    else:
        # A race: each index finishes at an exponential time of rate its weight; the first
        # ``num_samples`` to finish are a draw without replacement (weight 0 never finishes).
        with np.errstate(divide="ignore"):
            times = rng.exponential(size=weights.shape) / weights
        picks = np.argsort(times, axis=-1, kind="stable")[:, :num_samples]
    picks = picks.astype(np.int64)
    return make_tensor(picks if data.ndim == 2 else picks[0])


def randint_like(
    input: Tensor,
    low=0,
    high=None,
    *,
    generator=None,
    dtype=None,
    device=None,
    requires_grad=False,
    **_,
) -> Tensor:
    """A tensor of ``input``'s shape (and dtype) filled by ``random_(low, high)``;
    ``randint_like(x, high)`` means low 0."""
    if high is None:
        low, high = 0, low
    target = _dtype.as_dtype(dtype) if dtype is not None else _dtype_of_input(input)
    out = make_tensor(np.zeros(input._data.shape, dtype=target.np))
    random_(out, low, high, generator=generator)
    if requires_grad:
        out.requires_grad_()
    return out


def _dtype_of_input(input) -> _dtype.dtype:
    return _dtype.FROM_NUMPY[_as_tensor(input)._data.dtype]

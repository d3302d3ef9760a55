"""Shape, splitting, gathering, sorting and reduction breadth (issue 14): movedim, the in-place
shape methods, repeat, tile, repeat_interleave, chunk, split, tensor_split, *split, unflatten,
roll, rot90, flips, tril/triu, masked_fill, var_mean, std_mean, aminmax, gather, index_select,
take_along_dim, diff, logsumexp, nansum, nanmean, sort, argsort, topk, cummax, cummin.

Every case runs under torch and autograd_lite (``compare``): values, dtypes, shapes, grad_fn
names, first and second derivatives; errors by class and first line (``compare_error``).
"""

from __future__ import annotations

import numpy as np
import pytest
from helpers import compare, compare_error, const, distinct, integers, randn
from hypothesis import given, settings
from hypothesis import strategies as st

X = distinct(2, 3, 4)  # distinct values: sorting, max and min stay off ties
M = distinct(4, 4)
V = distinct(6)


def idx(array):
    return const(np.asarray(array, dtype=np.int64))


MASK = const(randn(3, 4) > 0)

CASES = {
    # movedim, moveaxis, swapaxes
    "movedim": (lambda lib, x: x.movedim(0, 2), X),
    "movedim tuple": (lambda lib, x: lib.movedim(x, (0, 1), (2, 0)), X),
    "movedim negative": (lambda lib, x: x.movedim(-1, 0), X),
    "movedim same": (lambda lib, x: x.movedim(1, 1), X),
    "moveaxis": (lambda lib, x: lib.moveaxis(x, [0], [-1]) * 2, X),
    "swapaxes": (lambda lib, x: x.swapaxes(0, 2), X),
    # in-place shape methods
    "unsqueeze_": (lambda lib, x: (x * 1).unsqueeze_(1), X),
    "unsqueeze_ negative": (lambda lib, x: (x * 1).unsqueeze_(-1) * 2, X),
    "squeeze_": (lambda lib, x: (x * 1).reshape(1, 2, 1, 12).squeeze_(), X),
    "squeeze_ dim": (lambda lib, x: (x * 1).reshape(1, 2, 1, 12).squeeze_(2), X),
    "squeeze_ dims": (lambda lib, x: (x * 1).reshape(1, 2, 1, 12).squeeze_((0, 2)), X),
    "transpose_": (lambda lib, x: (x * 1).transpose_(0, 2), X),
    "swapaxes_": (lambda lib, x: (x * 1).swapaxes_(0, 1), X),
    "swapdims_": (lambda lib, x: (x * 1).swapdims_(1, 2), X),
    "t_": (lambda lib, m: (m * 1).t_(), M),
    "unsqueeze_ of a view": (lambda lib, x: (x * 1)[0].unsqueeze_(0), X),
    "unsqueeze_ version": (lambda lib, x: (x * 1).unsqueeze_(0)._version, X),
    # repeat, tile, repeat_interleave
    "repeat": (lambda lib, x: x.repeat(2, 1, 3), X),
    "repeat more dims": (lambda lib, x: x.repeat(2, 1, 1, 2), X),
    "repeat tuple": (lambda lib, x: x.repeat((1, 2, 1)), X),
    "repeat zero": (lambda lib, x: x.repeat(0, 1, 1), X),
    "repeat ints": (lambda lib, x: x.repeat(2, 2), integers(2, 3)),
    "tile": (lambda lib, x: x.tile((2,)), X),
    "tile function": (lambda lib, x: lib.tile(x, (2, 1, 1, 1)), X),
    "repeat_interleave": (lambda lib, x: x.repeat_interleave(2, dim=1), X),
    "repeat_interleave flat": (lambda lib, x: x.repeat_interleave(3), X),
    "repeat_interleave tensor": (
        lambda lib, x, r: x.repeat_interleave(r, dim=1),
        X,
        idx([1, 0, 2]),
    ),
    "repeat_interleave one count": (
        lambda lib, x, r: lib.repeat_interleave(x, r, dim=-1),
        X,
        idx([2]),
    ),
    "repeat_interleave indices": (lambda lib, r: lib.repeat_interleave(r), idx([1, 0, 3])),
    # splitting
    "chunk": (lambda lib, x: x.chunk(2, 1), X),
    "chunk more than size": (lambda lib, x: x.chunk(5, 2), X),
    "chunk uneven": (lambda lib, x: lib.chunk(x, 3, -1), X),
    "chunk one piece used": (lambda lib, x: x.chunk(2, 1)[1] * 3, X),
    "split": (lambda lib, x: x.split(2, 1), X),
    "split sizes": (lambda lib, x: lib.split(x, [1, 3], 2), X),
    "split one piece used": (lambda lib, x: x.split([1, 2], 1)[0].exp(), X),
    "split larger": (lambda lib, x: x.split(5, 1), X),
    "tensor_split sections": (lambda lib, x: x.tensor_split(3, 2), X),
    "tensor_split indices": (lambda lib, x: lib.tensor_split(x, [1, -1], 2), X),
    "tensor_split crossing": (lambda lib, x: x.tensor_split([3, 1], 2), X),
    "tensor_split tensor": (lambda lib, x, i: x.tensor_split(i, 1), X, idx([1])),
    "tensor_split 0-d tensor": (lambda lib, x, i: x.tensor_split(i, 1), X, idx(2)),
    "hsplit": (lambda lib, x: x.hsplit(3), X),
    "hsplit vector": (lambda lib, v: lib.hsplit(v, 2), V),
    "vsplit": (lambda lib, x: x.vsplit([1]), X),
    "dsplit": (lambda lib, x: lib.dsplit(x, 2), X),
    # unflatten, roll, rot90, flips, triangles
    "unflatten": (lambda lib, x: x.unflatten(2, (2, 2)), X),
    "unflatten inferred": (lambda lib, x: lib.unflatten(x, -1, (-1, 2)), X),
    "roll": (lambda lib, x: x.roll(1, 1), X),
    "roll flat": (lambda lib, x: x.roll(5), X),
    "roll several": (lambda lib, x: lib.roll(x, (1, -2), (0, 2)), X),
    "rot90": (lambda lib, x: x.rot90(), X),
    "rot90 twice": (lambda lib, x: x.rot90(2, (1, 2)), X),
    "rot90 back": (lambda lib, x: lib.rot90(x, -1, (0, -1)), X),
    "rot90 none": (lambda lib, x: x.rot90(0, (0, 1)), X),
    "fliplr": (lambda lib, x: x.fliplr(), X),
    "flipud": (lambda lib, x: lib.flipud(x), X),
    "tril": (lambda lib, m: m.tril(), M),
    "triu offset": (lambda lib, m: lib.triu(m, 1), M),
    "tril batched": (lambda lib, x: x.tril(-1), X),
    "triu ints": (lambda lib, m: m.triu(), integers(3, 3)),
    "tril_": (lambda lib, m: (m * 1).tril_(1), M),
    "triu_": (lambda lib, m: (m * 1).triu_(), M),
    # masked_fill
    "masked_fill": (lambda lib, x, m: x.masked_fill(m, 0.5), X, MASK),
    "masked_fill tensor value": (lambda lib, x, m, v: x.masked_fill(m, v), X, MASK, randn()),
    "masked_fill broadcast mask": (
        lambda lib, x, m: lib.masked_fill(x, m, -1.0),
        randn(3, 1),
        MASK,
    ),
    "masked_fill ints": (lambda lib, x, m: x.masked_fill(m, 2.7), integers(3, 4), MASK),
    "masked_fill_": (lambda lib, x, m: (x * 1).masked_fill_(m, 2.0), X, MASK),
    "masked_fill_ tensor value": (
        lambda lib, x, m, v: (x * 1).masked_fill_(m, v),
        X,
        MASK,
        randn(),
    ),
    # gathering
    "gather": (lambda lib, x, i: x.gather(2, i), X, idx(np.tile([0, 3, 1], (2, 3, 1)))),
    "gather smaller": (lambda lib, x, i: lib.gather(x, 1, i), X, idx([[[2, 2]], [[0, 1]]])),
    "gather repeats": (lambda lib, v, i: v.gather(0, i), V, idx([1, 1, 1, 5])),
    "index_select": (lambda lib, x, i: x.index_select(1, i), X, idx([2, 0, 2])),
    "index_select 0-d index": (lambda lib, x, i: lib.index_select(x, -1, i), X, idx(3)),
    "take_along_dim": (
        lambda lib, x, i: lib.take_along_dim(x, i, 2),
        X,
        idx(np.zeros((2, 1, 2))),
    ),
    "take_along_dim broadcast": (
        lambda lib, x, i: x.take_along_dim(i, 1),
        X,
        idx([[[0], [2]]]),
    ),
    "take_along_dim flat": (lambda lib, x, i: lib.take_along_dim(x, i), X, idx([5, 0, 23])),
    "take_along_dim argmax": (lambda lib, x: x.take_along_dim(x.argmax(1, keepdim=True), 1), X),
    # diff
    "diff": (lambda lib, x: x.diff(), X),
    "diff twice": (lambda lib, x: lib.diff(x, 2, 0), X),
    "diff too often": (lambda lib, x: x.diff(5), X),
    "diff prepend append": (
        lambda lib, x, a, b: x.diff(dim=1, prepend=a, append=b),
        X,
        randn(2, 1, 4),
        randn(2, 2, 4),
    ),
    "diff ints": (lambda lib, v: v.diff(), integers(5)),
    "diff uint8 wraps": (lambda lib, v: v.diff(), integers(5, low=0, high=255, dtype=np.uint8)),
    "diff bools": (lambda lib, v: v.diff(), const(randn(6) > 0)),
    # reductions
    "var_mean": (lambda lib, x: lib.var_mean(x), X),
    "var_mean dim": (lambda lib, x: lib.var_mean(x, 1), X),
    "var_mean dims keepdim": (
        lambda lib, x: lib.var_mean(x, (0, 2), keepdim=True, correction=0),
        X,
    ),
    "var_mean unbiased": (lambda lib, x: lib.var_mean(x, unbiased=False), X),
    "var_mean one element": (lambda lib, x: lib.var_mean(x, 1), randn(3, 1)),
    "std_mean one element": (lambda lib, x: lib.std_mean(x), randn(1)),
    "var one element": (lambda lib, x: x.var(0), randn(1, 2)),
    "var_mean mean only": (lambda lib, x: lib.var_mean(x, 1)[1] * 2, X),
    "var_mean var only": (lambda lib, x: lib.var_mean(x, 1)[0] * 2, X),
    "std_mean": (lambda lib, x: lib.std_mean(x, -1), X),
    "std_mean std only": (lambda lib, x: lib.std_mean(x, 0)[0].exp(), X),
    "aminmax": (lambda lib, x: lib.aminmax(x), X),
    "aminmax dim": (lambda lib, x: x.aminmax(dim=1), X),
    "aminmax keepdim": (lambda lib, x: lib.aminmax(x, dim=-1, keepdim=True), X),
    "aminmax all keepdim": (lambda lib, x: lib.aminmax(x, keepdim=True), X),
    "aminmax max only": (lambda lib, x: x.aminmax(dim=0).max * 3, X),
    "aminmax ints": (lambda lib, x: lib.aminmax(x, dim=0), integers(3, 4)),
    "logsumexp": (lambda lib, x: x.logsumexp(1), X),
    "logsumexp dims keepdim": (lambda lib, x: lib.logsumexp(x, (0, 2), keepdim=True), X),
    "logsumexp large": (lambda lib, x: (x * 1000).logsumexp(-1), X),
    "logsumexp ints": (lambda lib, x: lib.logsumexp(x, 0), integers(3, 4)),
    "nansum": (lambda lib, x: x.nansum(), X),
    "nansum with nan": (lambda lib, x: lib.nansum(x.log(), 1), X),
    "nansum keepdim dtype": (lambda lib, x: x.nansum((0, 1), True, dtype=lib.float64), X),
    "nansum ints": (lambda lib, x: lib.nansum(x), integers(3, 4)),
    "nanmean": (lambda lib, x: x.nanmean(), X),
    "nanmean with nan": (lambda lib, x: lib.nanmean(x.log(), 2, keepdim=True), X),
    # sorting
    "sort": (lambda lib, x: x.sort(), X),
    "sort dim descending": (lambda lib, x: lib.sort(x, 1, True), X),
    "sort stable": (lambda lib, x: x.sort(dim=0, stable=True), X),
    "sort ties stable": (
        lambda lib, v: v.sort(stable=True, descending=True),
        const(np.array([1, 3, 1, 3, 2, 1])),
    ),
    "sort nan": (lambda lib, v: lib.sort(v.log()), V),
    "sort nan descending": (lambda lib, v: v.log().sort(descending=True), V),
    "sort 0-d": (lambda lib, v: v.sum().sort(), V),
    "argsort": (lambda lib, x: x.argsort(1), X),
    "argsort descending": (lambda lib, x: lib.argsort(x, descending=True), X),
    "msort": (lambda lib, x: x.msort(), X),
    "topk": (lambda lib, x: x.topk(2), X),
    "topk smallest dim": (lambda lib, x: lib.topk(x, 2, 1, largest=False), X),
    "topk none": (lambda lib, x: x.topk(0), X),
    "cummax": (lambda lib, x: x.cummax(1), X),
    "cummin": (lambda lib, x: lib.cummin(x, -1), X),
    "cummax ties": (lambda lib, v: v.cummax(0), const(np.array([1.0, 2, 2, 1, 2]))),
    "cummin ties": (lambda lib, v: lib.cummin(v, 0), const(np.array([1.0, 2, 1, 1, 0]))),
    "cummax nan": (
        lambda lib, v: v.cummax(0),
        const(np.array([1.0, np.nan, 3, np.nan, 0])),
    ),
    "cummin ints": (lambda lib, v: v.cummin(0), integers(7)),
}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_against_torch(case):
    fn, *inputs = CASES[case]
    compare(fn, *inputs)


ERRORS = {
    "movedim lengths": (lambda lib, x: x.movedim((0, 1), (0,)), X),
    "movedim repeated": (lambda lib, x: x.movedim((0, 0), (1, 2)), X),
    "movedim repeated destination": (lambda lib, x: x.movedim((0, 1), (2, 2)), X),
    "movedim out of range": (lambda lib, x: x.movedim(3, 0), X),
    "unsqueeze_ on a leaf": (lambda lib, x: x.unsqueeze_(0), X),
    "squeeze_ on a leaf": (lambda lib, x: x.squeeze_(), X),
    "unsqueeze_ on a view of a leaf": (lambda lib, x: x[0].unsqueeze_(0), X),
    "transpose_ on a view of a leaf": (lambda lib, x: x.view(24).transpose_(0, 0), X),
    "repeat too few": (lambda lib, x: x.repeat(2, 2), X),
    "repeat negative": (lambda lib, x: x.repeat(-1, 1, 1), X),
    "repeat_interleave negative": (lambda lib, x: x.repeat_interleave(-1), X),
    "repeat_interleave sizes": (lambda lib, x, r: x.repeat_interleave(r, dim=1), X, idx([1, 2])),
    "repeat_interleave 2-d": (lambda lib, x, r: x.repeat_interleave(r, dim=1), X, idx([[1, 2, 3]])),
    "repeat_interleave negative counts": (
        lambda lib, x, r: x.repeat_interleave(r, dim=1),
        X,
        idx([1, -2, 3]),
    ),
    "repeat_interleave float counts": (
        lambda lib, x, r: x.repeat_interleave(r, dim=1),
        X,
        const(np.array([1.0, 2, 3])),
    ),
    "chunk zero": (lambda lib, x: x.chunk(0), X),
    "chunk dim": (lambda lib, x: x.chunk(2, 5), X),
    "split zero": (lambda lib, x: x.split(0, 1), X),
    "split negative": (lambda lib, x: x.split(-1, 1), X),
    "split sizes sum": (lambda lib, x: x.split([1, 1], 1), X),
    "split negative size": (lambda lib, x: x.split([1, -1, 3], 1), X),
    "tensor_split zero": (lambda lib, x: x.tensor_split(0, 1), X),
    "tensor_split float tensor": (
        lambda lib, x, i: x.tensor_split(i, 1),
        X,
        const(np.array([1.0])),
    ),
    "tensor_split 2-d tensor": (lambda lib, x, i: x.tensor_split(i, 1), X, idx([[1]])),
    "hsplit indivisible": (lambda lib, x: x.hsplit(2), X),
    "hsplit 0-d": (lambda lib, v: lib.hsplit(v.sum(), 1), V),
    "vsplit 1-d": (lambda lib, v: v.vsplit(2), V),
    "dsplit 2-d": (lambda lib, m: m.dsplit(2), M),
    "dsplit indivisible": (lambda lib, x: x.dsplit(3), X),
    "unflatten sizes": (lambda lib, x: x.unflatten(2, (3, 2)), X),
    "unflatten inferred": (lambda lib, x: x.unflatten(2, (-1, 3)), X),
    "unflatten two inferred": (lambda lib, x: x.unflatten(2, (-1, -1)), X),
    "unflatten empty": (lambda lib, x: x.unflatten(2, ()), X),
    "unflatten dim": (lambda lib, x: x.unflatten(3, (2, 2)), X),
    "roll misaligned": (lambda lib, x: x.roll((1, 2), 1), X),
    "roll flat tuple": (lambda lib, x: x.roll((1, 2)), X),
    "roll no shifts": (lambda lib, x: x.roll(()), X),
    "rot90 three dims": (lambda lib, x: x.rot90(1, (0, 1, 2)), X),
    "rot90 same dims": (lambda lib, x: x.rot90(1, (1, 1)), X),
    "rot90 vector": (lambda lib, v: v.rot90(), V),
    "rot90 dim": (lambda lib, x: x.rot90(1, (0, 5)), X),
    "fliplr vector": (lambda lib, v: v.fliplr(), V),
    "flipud 0-d": (lambda lib, v: v.sum().flipud(), V),
    "tril vector": (lambda lib, v: v.tril(), V),
    "triu_ on a leaf": (lambda lib, m: m.triu_(), M),
    "masked_fill long mask": (lambda lib, x, m: x.masked_fill(m, 1.0), X, idx(np.ones((3, 4)))),
    "masked_fill 1-d value": (lambda lib, x, m, v: x.masked_fill(m, v), X, MASK, randn(1)),
    "masked_fill shapes": (
        lambda lib, x, m: x.masked_fill(m, 1.0),
        X,
        const(np.ones(5, dtype=bool)),
    ),
    "masked_fill_ broadcast self": (
        lambda lib, x, m: (x * 1).masked_fill_(m, 1.0),
        randn(3, 1),
        MASK,
    ),
    "masked_fill complex": (lambda lib, x, m: x.masked_fill(m, 1.5j), X, MASK),
    "gather float index": (lambda lib, x: x.gather(1, x), X),
    "gather dims": (lambda lib, x, i: x.gather(1, i), X, idx([[0]])),
    "gather larger": (lambda lib, x, i: x.gather(1, i), X, idx(np.zeros((2, 3, 5)))),
    "gather out of range": (lambda lib, x, i: x.gather(1, i), X, idx(np.full((2, 3, 4), 5))),
    "gather negative": (lambda lib, x, i: x.gather(1, i), X, idx(np.full((2, 3, 4), -1))),
    "index_select matrix": (lambda lib, x, i: x.index_select(1, i), X, idx([[0]])),
    "index_select floats": (lambda lib, x, i: x.index_select(1, i), X, const(np.array([0.0]))),
    "index_select out of range": (lambda lib, x, i: x.index_select(1, i), X, idx([5])),
    "take_along_dim shapes": (
        lambda lib, x, i: lib.take_along_dim(x, i, 1),
        X,
        idx(np.zeros((5, 1, 1))),
    ),
    "take_along_dim dims": (lambda lib, x, i: lib.take_along_dim(x, i, 1), X, idx([[0]])),
    "take_along_dim floats": (lambda lib, x: lib.take_along_dim(x, x, 1), X),
    "take_along_dim out of range": (lambda lib, x, i: lib.take_along_dim(x, i), X, idx([-1])),
    "diff order": (lambda lib, x: x.diff(-1), X),
    "diff 0-d": (lambda lib, v: v.sum().diff(), V),
    "diff prepend dims": (lambda lib, x, p: x.diff(prepend=p), X, randn(2, 3)),
    "diff prepend shape": (lambda lib, x, p: x.diff(prepend=p), X, randn(1, 3, 1)),
    "diff prepend number": (lambda lib, x: x.diff(prepend=1.0), X),
    "var_mean ints": (lambda lib, v: lib.var_mean(v), integers(4)),
    "aminmax empty": (lambda lib: lib.aminmax(lib.zeros(0)),),
    "aminmax empty dim": (lambda lib: lib.aminmax(lib.zeros(2, 0), dim=1),),
    "aminmax tuple dim": (lambda lib, x: lib.aminmax(x, dim=(0, 1)), X),
    "logsumexp no dim": (lambda lib, x: lib.logsumexp(x), X),
    "nanmean ints": (lambda lib, v: lib.nanmean(v), integers(4)),
    "topk too many": (lambda lib, x: x.topk(5), X),
    "topk negative": (lambda lib, x: x.topk(-1), X),
    "cummax dim": (lambda lib, x: x.cummax(5), X),
}


@pytest.mark.parametrize("case", ERRORS, ids=str)
def test_errors_as_torch(case):
    fn, *inputs = ERRORS[case]
    compare_error(fn, *inputs)


def test_the_in_place_forms_keep_the_tensor():
    """``x.unsqueeze_(0)`` is ``x`` itself, reshaped, with the same memory."""
    for lib in (__import__("torch"), __import__("autograd_lite")):
        x = lib.zeros(2, 3)
        y = x.unsqueeze_(0)
        assert y is x and tuple(x.shape) == (1, 2, 3)
        view = x[0]
        view.squeeze_()
        view[0, 0] = 5.0
        assert x[0, 0, 0].item() == 5.0


def test_resize_keeps_the_elements_in_order():
    def fn(lib):
        x = lib.arange(6.0)
        x.resize_(2, 2)
        first = x.clone()
        x.resize_as_(lib.zeros(3))
        return first, x.clone()

    from helpers import same

    same(fn)
    compare_error(lambda lib, x: x.resize_(3), X)


def _permutation(shape, data) -> np.ndarray:
    seed = data.draw(st.integers(0, 2**16))
    return np.random.default_rng(seed).permutation(int(np.prod(shape))).reshape(shape) - 3


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    data=st.data(),
)
def test_shapes_dims_and_dtypes(shape, data):
    """Random shapes, dims and dtypes through the dim-taking operations."""
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1))
    other = data.draw(st.integers(-ndim, ndim - 1))
    dtype = data.draw(st.sampled_from([np.float32, np.float64, np.int64]))
    # distinct values (for integers, a permutation): ties would leave sort and topk free to
    # order equal values either way
    x = distinct(*shape).astype(dtype) if dtype != np.int64 else _permutation(shape, data)
    size = shape[dim]
    k = data.draw(st.integers(0, size))
    pieces = data.draw(st.integers(1, 4))
    ops = [
        lambda lib, x: x.movedim(dim, other),
        lambda lib, x: (x * 1).unsqueeze(0).unsqueeze_(dim).squeeze_(0),
        lambda lib, x: x.repeat(*[2] * ndim),
        lambda lib, x: x.roll(1, dim),
        lambda lib, x: x.chunk(pieces, dim),
        lambda lib, x: x.tensor_split(pieces, dim),
        lambda lib, x: x.split(pieces, dim),
        lambda lib, x: x.diff(dim=dim),
        lambda lib, x: x.sort(dim),
        lambda lib, x: x.topk(k, dim),
        lambda lib, x: x.cummax(dim),
        lambda lib, x: lib.aminmax(x, dim=dim),
        lambda lib, x: x.repeat_interleave(2, dim),
    ]
    if dtype != np.int64:
        ops += [
            lambda lib, x: lib.var_mean(x, dim),
            lambda lib, x: x.logsumexp(dim),
            lambda lib, x: x.nansum(dim),
        ]
    if ndim >= 2:
        ops += [
            lambda lib, x: x.rot90(1, (dim, other)) if dim % ndim != other % ndim else x * 1,
            lambda lib, x: x.tril(k - 1),
            lambda lib, x: (x * 1).transpose(0, 1).swapaxes_(0, dim),
        ]
    for op in ops:
        compare(op, x)


def test_nanmean_of_a_row_that_is_all_nan_differentiates_as_torchs():
    """A count of 0 makes the gradient of nansum inf; torch multiplies it by the not-NaN mask
    (nan at the NaNs), rather than selecting 0 there."""
    values = np.array([[np.nan, np.nan], [1.0, np.nan], [2.0, 3.0]])
    compare(lambda lib, x: lib.nanmean(x, 1) * 2.0, values)
    compare(lambda lib, x: lib.nansum(x * x, 0), values)

"""Linear-algebra gaps, each checked against torch (see helpers.compare):

* ``torch.diag`` (vector -> matrix, matrix -> diagonal, with an offset), ``torch.diagonal`` /
  ``Tensor.diagonal`` (a view; offset, dim1, dim2), ``torch.trace``;
* ``torch.broadcast_shapes``, and ``torch.Size`` staying a Size (``shape + (1,)``, ``shape[1:]``);
* ``torch.linalg.solve``, ``inv``, ``det`` and ``norm`` (vector norms and the Frobenius norm),
  with torch's grad_fn names, first and second derivatives (det at singular matrices too), and
  torch's errors (``torch.linalg.LinAlgError`` for a singular matrix);
* ``torch.linalg.svd`` and ``svdvals`` (LinalgSvdBackward0, second derivatives included), the
  matrix norms built on them and on amax / amin ('nuc', 2, -2, 1, -1, inf, -inf) through
  ``linalg.matrix_norm``, ``linalg.norm`` and ``torch.norm``, ``linalg.vector_norm``, and
  ``amax`` / ``amin`` (AmaxBackward0 / AminBackward0: ties share the gradient).
"""

from __future__ import annotations

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from helpers import compare, compare_error, const, integers, randn, same
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import autograd_lite

F32 = {"rtol": 1e-4, "atol": 1e-5}
NO_GRAD = {"grad": False}
FAST = settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])


def case(label: str, fn, *inputs, **options):
    return pytest.param(fn, inputs, options, id=label)


def invertible(*shape, dtype=np.float64) -> np.ndarray:
    """Random square matrices far from singular: what solve, inv and det are tested on."""
    n = shape[-1]
    return (randn(*shape) + 3 * np.eye(n)).astype(dtype)


# Exactly singular: rank 1 (2x2), and ranks 1 and 2 (3x3).
RANK_ONE = np.array([[1.0, 2.0], [2.0, 4.0]])
RANK_ONE_3 = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [3.0, 6.0, 9.0]])
RANK_TWO_3 = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
# Singular matrices whose LU factorisation (partial pivoting) is exact in binary floating point
# (multipliers are powers of two): the zero pivot is exactly zero whatever the LAPACK, BLAS,
# CPU or use of fused multiply-adds. Inverting RANK_ONE_3 or RANK_TWO_3 instead leaves pivots
# of about 1e-16 or exactly 0 depending on those, so torch and NumPy may disagree on a machine.
EXACT_RANK_ONE_3 = np.array([[1.0, 2.0, 4.0], [2.0, 4.0, 8.0], [4.0, 8.0, 16.0]])
EXACT_RANK_TWO_3 = np.array([[4.0, 0.0, 0.0], [0.0, 2.0, 0.0], [2.0, 1.0, 0.0]])


# ============================================================================================
# diag, diagonal, trace
# ============================================================================================

DIAGONAL_CASES = [
    case("diag(v)", lambda lib, v: lib.diag(v), randn(3)),
    case("diag(v, 1)", lambda lib, v: lib.diag(v, 1), randn(3)),
    case("diag(v, diagonal=-2)", lambda lib, v: lib.diag(v, diagonal=-2), randn(2)),
    case("v.diag()", lambda lib, v: v.diag(), randn(4)),
    case("diag(v) in a chain", lambda lib, v: (lib.diag(v.sin()) @ v).exp(), randn(3)),
    case("diag(M) square", lambda lib, m: lib.diag(m), randn(3, 3)),
    case("diag(M, 1) wide", lambda lib, m: lib.diag(m, 1), randn(3, 4)),
    case("diag(M, -1) tall", lambda lib, m: m.diag(-1), randn(4, 3)),
    case("diag(M, 5) empty", lambda lib, m: lib.diag(m, 5), randn(3, 4)),
    case("diag(M, -5) empty", lambda lib, m: lib.diag(m, -5), randn(3, 4)),
    case("diag(M) in a chain", lambda lib, m: (lib.diag(m * m) ** 2).sum(), randn(3, 3)),
    case("diag(int v)", lambda lib, v: lib.diag(v), integers(3)),
    case("diag(int M)", lambda lib, m: lib.diag(m, 1), integers(2, 3)),
    case("diag(bool v)", lambda lib, v: lib.diag(v > 0), randn(3), **NO_GRAD),
    case("diag(f32 v)", lambda lib, v: lib.diag(v, -1), randn(3, dtype=np.float32), **F32),
    case("diagonal(M)", lambda lib, m: lib.diagonal(m), randn(3, 4)),
    case("diagonal(M, 1)", lambda lib, m: lib.diagonal(m, 1), randn(3, 4)),
    case("diagonal(M, offset=-1)", lambda lib, m: lib.diagonal(m, offset=-1), randn(3, 4)),
    case("M.diagonal(0, 1, 0)", lambda lib, m: m.diagonal(0, 1, 0), randn(3, 4)),
    case("M.diagonal(dim1=-1, dim2=0)", lambda lib, m: m.diagonal(dim1=-1, dim2=0), randn(3, 4)),
    case("diagonal(M, 9) empty", lambda lib, m: lib.diagonal(m, 9), randn(3, 4)),
    case("diagonal of 3-d", lambda lib, x: lib.diagonal(x, 1, 0, 2), randn(2, 3, 4)),
    case("diagonal of 3-d, last dims", lambda lib, x: x.diagonal(-1, 2, 1), randn(2, 3, 4)),
    case("diagonal in a chain", lambda lib, m: (m.diagonal() * m.diagonal(1)).exp(), randn(3, 4)),
    case("diagonal of int", lambda lib, m: m.diagonal(), integers(3, 3)),
    case("trace", lambda lib, m: lib.trace(m), randn(3, 3)),
    case("trace wide", lambda lib, m: m.trace(), randn(2, 4)),
    case("trace tall", lambda lib, m: lib.trace(m), randn(4, 2)),
    case("trace in a chain", lambda lib, m: lib.trace(m @ m).sin() * m.trace(), randn(3, 3)),
    case("trace empty", lambda lib, m: lib.trace(m), randn(0, 3)),
    case("trace int32", lambda lib, m: lib.trace(m), integers(3, 3, dtype=np.int32)),
    case("trace uint8", lambda lib, m: lib.trace(m), integers(2, 2, low=0, dtype=np.uint8)),
    case("trace f32", lambda lib, m: lib.trace(m), randn(3, 3, dtype=np.float32), **F32),
]


@pytest.mark.parametrize("fn, inputs, options", DIAGONAL_CASES)
def test_diagonals(fn, inputs, options):
    compare(fn, *inputs, **options)


def test_diagonal_is_a_view():
    def writes_through(lib):
        x = lib.zeros(3, 4)
        x.diagonal(1).fill_(2.0)
        x.diagonal()[0] = 5.0
        return x, x.diagonal()._base is x

    same(writes_through)


def test_in_place_on_a_diagonal_in_the_graph():
    def fn(lib, x):
        y = x.clone()
        d = y.diagonal()
        d.mul_(2)
        return y, d

    compare(fn, randn(3, 3))


DIAGONAL_ERRORS = [
    case("diag of 0-d", lambda lib, x: lib.diag(x), randn()),
    case("diag of 3-d", lambda lib, x: lib.diag(x), randn(2, 2, 2)),
    case("diag of a list", lambda lib: lib.diag([1.0, 2.0])),
    case("diag float offset", lambda lib, x: lib.diag(x, 1.0), randn(2)),
    case("diagonal same dims", lambda lib, x: lib.diagonal(x, 0, 0, -2), randn(3, 4)),
    case("diagonal same dims 2", lambda lib, x: x.diagonal(0, -1, 1), randn(3, 4)),
    case("diagonal dim out of range", lambda lib, x: lib.diagonal(x, 0, 0, 2), randn(3, 4)),
    case("diagonal of 1-d", lambda lib, x: lib.diagonal(x), randn(3)),
    case("diagonal of 0-d", lambda lib, x: lib.diagonal(x), randn()),
    case("diagonal of a list", lambda lib: lib.diagonal([[1.0]])),
    case("diagonal float offset", lambda lib, x: lib.diagonal(x, 1.0), randn(3, 4)),
    case("trace of 1-d", lambda lib, x: lib.trace(x), randn(3)),
    case("trace of 3-d", lambda lib, x: lib.trace(x), randn(2, 2, 2)),
    case("trace of 0-d", lambda lib, x: lib.trace(x), randn()),
    case("trace of bool", lambda lib, x: lib.trace(x > 0), randn(2, 2)),
    case("trace of a list", lambda lib: lib.trace([[1.0]])),
]


@pytest.mark.parametrize("fn, inputs, options", DIAGONAL_ERRORS)
def test_diagonal_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@FAST
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4),
    offset=st.integers(-5, 5),
    data=st.data(),
)
def test_diagonal_of_any_shape_matches_torch(shape, offset, data):
    ndim = len(shape)
    dim1 = data.draw(st.integers(-ndim, ndim - 1), label="dim1")
    dim2 = data.draw(st.integers(-ndim, ndim - 1).filter(lambda d: (d - dim1) % ndim), label="dim2")
    compare(lambda lib, x: x.diagonal(offset, dim1, dim2), randn(*shape))


@FAST
@given(n=st.integers(0, 4), m=st.integers(0, 4), offset=st.integers(-5, 5), vector=st.booleans())
def test_diag_of_any_size_matches_torch(n, m, offset, vector):
    x = randn(n) if vector else randn(n, m)
    compare(lambda lib, x: lib.diag(x, offset), x)


# ============================================================================================
# broadcast_shapes and torch.Size
# ============================================================================================

BROADCAST_SHAPES = [
    case("two", lambda lib: lib.broadcast_shapes((2, 1), (3,))),
    case("none", lambda lib: lib.broadcast_shapes()),
    case("one", lambda lib: lib.broadcast_shapes((4, 1))),
    case("ints", lambda lib: lib.broadcast_shapes(3, 1)),
    case("lists and a Size", lambda lib: lib.broadcast_shapes([2, 1], lib.Size([1, 5]), (1,))),
    case("zero-size", lambda lib: lib.broadcast_shapes((0,), (1,))),
    case("None skipped", lambda lib: lib.broadcast_shapes((2, 1), None, (3,))),
    case("from a tensor", lambda lib: lib.broadcast_shapes(lib.zeros(2, 1).shape, (1, 3))),
]


@pytest.mark.parametrize("fn, inputs, options", BROADCAST_SHAPES)
def test_broadcast_shapes(fn, inputs, options):
    same(fn)


BROADCAST_SHAPES_ERRORS = [
    case("mismatch", lambda lib: lib.broadcast_shapes((2, 3), (4,))),
    case("mismatch at index 2", lambda lib: lib.broadcast_shapes((2, 1), lib.Size([1, 3]), 4)),
    case("longer later", lambda lib: lib.broadcast_shapes((2,), (2, 3))),
    case("ints", lambda lib: lib.broadcast_shapes(3, 4)),
    case("negative", lambda lib: lib.broadcast_shapes((-1,), (3,))),
    case("negative later", lambda lib: lib.broadcast_shapes((3,), (-1,))),
    case("a float", lambda lib: lib.broadcast_shapes(2.0)),
]


@pytest.mark.parametrize("fn, inputs, options", BROADCAST_SHAPES_ERRORS)
def test_broadcast_shapes_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@FAST
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, max_dims=4, max_side=3))
def test_broadcast_shapes_agree_with_torch(shapes):
    same(lambda lib: lib.broadcast_shapes(*shapes.input_shapes))


@FAST
@given(shapes=st.lists(hnp.array_shapes(min_dims=0, max_dims=3, max_side=3), max_size=3))
def test_broadcast_shapes_of_any_shapes_agrees_with_torch(shapes):
    try:
        torch.broadcast_shapes(*shapes)
    except RuntimeError:
        compare_error(lambda lib: lib.broadcast_shapes(*shapes))
    else:
        same(lambda lib: lib.broadcast_shapes(*shapes))


SIZES = [
    case("Size + tuple", lambda lib: lib.Size([2, 3]) + (4,)),
    case("Size + Size", lambda lib: lib.Size([2, 3]) + lib.Size([4])),
    case("Size + ()", lambda lib: lib.Size([2, 3]) + ()),
    case("tuple + Size", lambda lib: (1,) + lib.Size([2])),
    case("shape + (1,)", lambda lib: lib.zeros(2, 3).shape + (1,)),
    case("shape[1:]", lambda lib: lib.zeros(2, 3, 4).shape[1:]),
    case("shape[::-1]", lambda lib: lib.zeros(2, 3).shape[::-1]),
    case("shape[0]", lambda lib: lib.zeros(2, 3).shape[0]),
    case("shape[-1]", lambda lib: lib.zeros(2, 3).size()[-1]),
    case("shape * 2", lambda lib: lib.zeros(2).shape * 2),
    case("2 * shape", lambda lib: 2 * lib.zeros(2).shape),
    case("empty + tuple", lambda lib: lib.Size([]) + (1,)),
    case("reshape to shape + (1,)", lambda lib: lib.zeros(2, 3).reshape(lib.Size([2, 3]) + (1,))),
]


@pytest.mark.parametrize("fn, inputs, options", SIZES)
def test_size_stays_a_size(fn, inputs, options):
    same(fn)


SIZE_ERRORS = [
    case("Size + list", lambda lib: lib.Size([2]) + [3]),
    case("Size + int", lambda lib: lib.Size([2]) + 1),
    case("Size + (1.5,)", lambda lib: lib.Size([2]) + (1.5,)),
    case("(1.5,) + Size", lambda lib: (1.5,) + lib.Size([2])),
    case("Size + ('a',)", lambda lib: lib.Size([2]) + ("a",)),
    case("Size * 1.5", lambda lib: lib.Size([2]) * 1.5),
    case("list + Size", lambda lib: [1] + lib.Size([2])),
    case("int + Size", lambda lib: 1 + lib.Size([2])),
]


@pytest.mark.parametrize("fn, inputs, options", SIZE_ERRORS)
def test_size_errors(fn, inputs, options):
    compare_error(fn, *inputs)


# ============================================================================================
# linalg.solve
# ============================================================================================

SOLVE_CASES = [
    case("A X = B", lambda lib, a, b: lib.linalg.solve(a, b), invertible(3, 3), randn(3, 2)),
    case("A x = b", lambda lib, a, b: lib.linalg.solve(a, b), invertible(3, 3), randn(3)),
    case("1x1", lambda lib, a, b: lib.linalg.solve(a, b), invertible(1, 1), randn(1)),
    case("constant A", lambda lib, a, b: lib.linalg.solve(a, b), const(invertible(3, 3)), randn(3)),
    case("constant b", lambda lib, a, b: lib.linalg.solve(a, b), invertible(2, 2), const(randn(2))),
    case(
        "batch of A, vectors",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 3, 3),
        randn(2, 3),
    ),
    case(
        "batch of A, one vector",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 3, 3),
        randn(3),
    ),
    case(
        "batch of A, one matrix",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 3, 3),
        randn(3, 3),
    ),
    case(
        "batches broadcast",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 1, 3, 3),
        randn(4, 3, 1),
    ),
    case(
        "X A = B",
        lambda lib, a, b: lib.linalg.solve(a, b, left=False),
        invertible(2, 2),
        randn(3, 2),
    ),
    case(
        "X A = B, batches",
        lambda lib, a, b: lib.linalg.solve(a, b, left=False),
        invertible(2, 3, 3),
        randn(1, 4, 3),
    ),
    case(
        "in a chain",
        lambda lib, a, b: (lib.linalg.solve(a @ a.T, b.sin()) ** 2).sum(),
        invertible(3, 3),
        randn(3, 2),
    ),
    case(
        "float32",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(3, 3, dtype=np.float32),
        randn(3, dtype=np.float32),
        **F32,
    ),
    case("empty B", lambda lib, a, b: lib.linalg.solve(a, b), invertible(3, 3), randn(3, 0)),
]


@pytest.mark.parametrize("fn, inputs, options", SOLVE_CASES)
def test_solve(fn, inputs, options):
    compare(fn, *inputs, **options)


SOLVE_ERRORS = [
    case("singular", lambda lib, a, b: lib.linalg.solve(a, b), RANK_ONE, randn(2)),
    case("singular zeros", lambda lib, a, b: lib.linalg.solve(a * 0, b), randn(3, 3), randn(3)),
    case(
        "singular batch element",
        lambda lib, a, b: lib.linalg.solve(lib.stack([a, a * 0]), b),
        invertible(2, 2),
        randn(2, 2),
    ),
    case("not square", lambda lib, a, b: lib.linalg.solve(a, b), randn(3, 2), randn(3)),
    case("A 1-d", lambda lib, a, b: lib.linalg.solve(a, b), randn(3), randn(3)),
    case("A 0-d", lambda lib, a, b: lib.linalg.solve(a, b), randn(), randn()),
    case("B 0-d", lambda lib, a, b: lib.linalg.solve(a, b), invertible(2, 2), randn()),
    case("int A", lambda lib, a, b: lib.linalg.solve(a, b), integers(2, 2), randn(2)),
    case("int 1-d A", lambda lib, a, b: lib.linalg.solve(a, b), integers(2), randn(2)),
    case("int B", lambda lib, a, b: lib.linalg.solve(a, b), invertible(2, 2), integers(2)),
    case(
        "float32 A, float64 B",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 2, dtype=np.float32),
        randn(2),
    ),
    case("sizes, vector", lambda lib, a, b: lib.linalg.solve(a, b), invertible(3, 3), randn(4)),
    case("sizes, matrix", lambda lib, a, b: lib.linalg.solve(a, b), invertible(3, 3), randn(4, 2)),
    case(
        "sizes, batch of vectors",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 3, 3),
        randn(2, 4),
    ),
    case(
        "batches do not broadcast",
        lambda lib, a, b: lib.linalg.solve(a, b),
        invertible(2, 3, 3),
        randn(4, 3, 1),
    ),
    case(
        "X A = B with a vector",
        lambda lib, a, b: lib.linalg.solve(a, b, left=False),
        invertible(2, 2),
        randn(2),
    ),
    case(
        "X A = B, 1x1 vector",
        lambda lib, a, b: lib.linalg.solve(a, b, left=False),
        invertible(3, 1, 1),
        randn(3, 1),
    ),
    case(
        "X A = B sizes",
        lambda lib, a, b: lib.linalg.solve(a, b, left=False),
        invertible(2, 2),
        randn(2, 3),
    ),
    case("A a list", lambda lib, b: lib.linalg.solve([[1.0]], b), randn(1)),
    case("B a list", lambda lib, a: lib.linalg.solve(a, [1.0, 2.0]), invertible(2, 2)),
    case(
        "float16",
        lambda lib, a, b: lib.linalg.solve(a, b),
        const(invertible(2, 2, dtype=np.float16)),
        const(randn(2, dtype=np.float16)),
    ),
]


@pytest.mark.parametrize("fn, inputs, options", SOLVE_ERRORS)
def test_solve_errors(fn, inputs, options):
    compare_error(fn, *inputs)


def test_singular_matrix_raises_linalg_error():
    for lib in (torch, autograd_lite):
        with pytest.raises(lib.linalg.LinAlgError):
            lib.linalg.solve(lib.zeros(2, 2), lib.ones(2))
        with pytest.raises(RuntimeError):  # a LinAlgError is a RuntimeError
            lib.linalg.inv(lib.zeros(2, 2))


@FAST
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2),
    n=st.integers(1, 3),
    k=st.integers(1, 2),
    form=st.sampled_from(["vector", "matrix", "left=False"]),
)
def test_solve_of_any_batch_matches_torch(shapes, n, k, form):
    batch_a, batch_b = shapes.input_shapes
    a = invertible(*batch_a, n, n)
    if form == "vector":
        b, batch_b = randn(*batch_a, n), batch_a  # B vectors: A's shape without the last dim
    elif form == "matrix":
        b = randn(*batch_b, n, k)
    else:
        b = randn(*batch_b, k, n)
        assume(b.shape != a.shape[:-1])  # a vector for torch: refused with left=False
    left = form != "left=False"
    compare(lambda lib, a, b: lib.linalg.solve(a, b, left=left), a, b, rtol=1e-4, atol=1e-6)


# ============================================================================================
# linalg.inv, linalg.det (and torch.inverse, torch.det)
# ============================================================================================

INV_DET_CASES = [
    case("inv 2x2", lambda lib, a: lib.linalg.inv(a), invertible(2, 2)),
    case("inv 3x3", lambda lib, a: lib.linalg.inv(a), invertible(3, 3)),
    case("inv 1x1", lambda lib, a: lib.linalg.inv(a), invertible(1, 1)),
    case("inv batch", lambda lib, a: lib.linalg.inv(a), invertible(2, 3, 3)),
    case("inv of inv", lambda lib, a: lib.linalg.inv(lib.linalg.inv(a)), invertible(3, 3)),
    case("inv in a chain", lambda lib, a, b: lib.linalg.inv(a.exp()) @ b, randn(3, 3), randn(3)),
    case(
        "inv float32", lambda lib, a: lib.linalg.inv(a), invertible(3, 3, dtype=np.float32), **F32
    ),
    case("inv 0x0", lambda lib, a: lib.linalg.inv(a), randn(0, 0)),
    case("torch.inverse", lambda lib, a: lib.inverse(a), invertible(2, 2)),
    case("Tensor.inverse", lambda lib, a: a.inverse(), invertible(3, 3)),
    case("det 2x2", lambda lib, a: lib.linalg.det(a), invertible(2, 2)),
    case("det 3x3", lambda lib, a: lib.linalg.det(a), invertible(3, 3)),
    case("det 1x1", lambda lib, a: lib.linalg.det(a), randn(1, 1)),
    case("det batch", lambda lib, a: lib.linalg.det(a), invertible(2, 2, 3, 3)),
    case("det in a chain", lambda lib, a: lib.linalg.det(a @ a.T + a).log(), invertible(3, 3)),
    case(
        "det float32", lambda lib, a: lib.linalg.det(a), invertible(3, 3, dtype=np.float32), **F32
    ),
    case("det 0x0", lambda lib, a: lib.linalg.det(a), randn(0, 0)),
    case("det singular 2x2", lambda lib, a: lib.linalg.det(a), RANK_ONE),
    case("det singular 3x3, rank 2", lambda lib, a: lib.linalg.det(a), RANK_TWO_3),
    case("det singular 3x3, rank 1", lambda lib, a: lib.linalg.det(a), RANK_ONE_3),
    case(
        "det batch, one singular",
        lambda lib, a, b: lib.linalg.det(lib.stack([a, b])),
        invertible(2, 2),
        RANK_ONE,
    ),
    case("torch.det", lambda lib, a: lib.det(a), invertible(2, 2)),
    case("Tensor.det", lambda lib, a: a.det(), invertible(3, 3)),
]


@pytest.mark.parametrize("fn, inputs, options", INV_DET_CASES)
def test_inv_and_det(fn, inputs, options):
    compare(fn, *inputs, **options)


def test_det_gradient_of_the_zero_matrix():
    """The cofactors of 0 are 0 (torch's second derivative there is nan: not compared)."""
    compare(lambda lib, a: lib.linalg.det(a), np.zeros((3, 3)), second_order=False)


def test_gradients_pass_gradcheck():
    a = autograd_lite.tensor(invertible(3, 3), requires_grad=True)
    b = autograd_lite.tensor(randn(3, 2), requires_grad=True)
    singular = autograd_lite.tensor(RANK_ONE, requires_grad=True)
    for fn, inputs in [
        (autograd_lite.linalg.inv, (a,)),
        (autograd_lite.linalg.det, (a,)),
        (autograd_lite.linalg.det, (singular,)),
        (autograd_lite.linalg.solve, (a, b)),
    ]:
        assert autograd_lite.autograd.gradcheck(fn, inputs)
        assert autograd_lite.autograd.gradgradcheck(fn, inputs)


INV_DET_ERRORS = [
    case("inv zeros", lambda lib, a: lib.linalg.inv(a * 0), randn(3, 3)),
    case("inv rank 1 (pivot 2)", lambda lib, a: lib.linalg.inv(a), RANK_ONE),
    case("inv 3x3 rank 1", lambda lib, a: lib.linalg.inv(a), EXACT_RANK_ONE_3),
    case(
        "inv 3x3 rank 2 (pivot 3)",
        lambda lib, a: lib.linalg.inv(a),
        EXACT_RANK_TWO_3.astype(np.float32),
    ),
    case(
        "inv singular batch element",
        lambda lib, a: lib.linalg.inv(lib.stack([a, a * 0])),
        invertible(2, 2),
    ),
    case("inv not square", lambda lib, a: lib.linalg.inv(a), randn(3, 2)),
    case("inv 1-d", lambda lib, a: lib.linalg.inv(a), randn(3)),
    case("inv 0-d", lambda lib, a: lib.linalg.inv(a), randn()),
    case("inv int", lambda lib, a: lib.linalg.inv(a), integers(2, 2)),
    case("inv int 1-d", lambda lib, a: lib.linalg.inv(a), integers(2)),
    case("inv int not square", lambda lib, a: lib.linalg.inv(a), integers(2, 3)),
    case("inv bool", lambda lib, a: lib.linalg.inv(a > 0), randn(2, 2)),
    case(
        "inv float16", lambda lib, a: lib.linalg.inv(a), const(invertible(2, 2, dtype=np.float16))
    ),
    case("inv a list", lambda lib: lib.linalg.inv([[1.0]])),
    case("torch.inverse a list", lambda lib: lib.inverse([[1.0]])),
    case("torch.inverse 1-d", lambda lib, a: lib.inverse(a), randn(3)),
    case("det not square", lambda lib, a: lib.linalg.det(a), randn(3, 2)),
    case("det 1-d", lambda lib, a: lib.linalg.det(a), randn(3)),
    case("det int", lambda lib, a: lib.linalg.det(a), integers(2, 2)),
    case("det int 1-d", lambda lib, a: lib.linalg.det(a), integers(2)),
    case("det bool", lambda lib, a: lib.linalg.det(a > 0), randn(2, 2)),
    case(
        "det float16", lambda lib, a: lib.linalg.det(a), const(invertible(2, 2, dtype=np.float16))
    ),
    case("det a list", lambda lib: lib.linalg.det([[1.0]])),
    case("torch.det a list", lambda lib: lib.det([[1.0]])),
    case("Tensor.det int", lambda lib, a: a.det(), integers(2, 2)),
]


@pytest.mark.parametrize("fn, inputs, options", INV_DET_ERRORS)
def test_inv_and_det_errors(fn, inputs, options):
    compare_error(fn, *inputs)


def test_modified_saved_matrix_is_refused_like_torch():
    def fn(lib):
        a = lib.tensor(invertible(2, 2), requires_grad=True)
        m = a * 1
        d = lib.linalg.det(m)
        m.add_(1)
        d.backward()

    compare_error(fn)


@FAST
@given(batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=2), n=st.integers(1, 4))
def test_inv_and_det_of_any_batch_match_torch(batch, n):
    a = invertible(*batch, n, n)
    compare(lambda lib, a: lib.linalg.inv(a), a, rtol=1e-4, atol=1e-6)
    compare(lambda lib, a: lib.linalg.det(a), a, rtol=1e-4, atol=1e-6)


# ============================================================================================
# linalg.norm (and torch.norm, which shares its vector norms)
# ============================================================================================

NORM_CASES = [
    case("vector", lambda lib, x: lib.linalg.norm(x), randn(4)),
    case("matrix: Frobenius", lambda lib, x: lib.linalg.norm(x), randn(3, 4)),
    case("'fro'", lambda lib, x: lib.linalg.norm(x, "fro"), randn(3, 4)),
    case("'fro' dim (1, 0)", lambda lib, x: lib.linalg.norm(x, "fro", dim=(1, 0)), randn(3, 4)),
    case("3-d, all elements", lambda lib, x: lib.linalg.norm(x), randn(2, 3, 4)),
    case("keepdim", lambda lib, x: lib.linalg.norm(x, keepdim=True), randn(2, 3, 4)),
    case("dim=1", lambda lib, x: lib.linalg.norm(x, dim=1), randn(3, 4)),
    case("dim=-1 keepdim", lambda lib, x: lib.linalg.norm(x, dim=-1, keepdim=True), randn(3, 4)),
    case("dim=(0, 2)", lambda lib, x: lib.linalg.norm(x, dim=(0, 2)), randn(2, 3, 4)),
    case("dim=[0, 1]", lambda lib, x: lib.linalg.norm(x, dim=[0, 1]), randn(3, 4)),
    case("ord 1", lambda lib, x: lib.linalg.norm(x, 1), randn(4)),
    case("ord inf", lambda lib, x: lib.linalg.norm(x, math.inf), randn(4)),
    case("ord -inf", lambda lib, x: lib.linalg.norm(x, -math.inf), randn(4)),
    case("ord 0", lambda lib, x: lib.linalg.norm(x, 0), np.array([0.5, 0.0, -1.5, 2.0])),
    case("ord 3", lambda lib, x: lib.linalg.norm(x, 3), randn(4)),
    case("ord 0.5", lambda lib, x: lib.linalg.norm(x, 0.5), randn(4)),
    case("ord -1", lambda lib, x: lib.linalg.norm(x, -1), randn(4)),
    case("ord 2 along a dim", lambda lib, x: lib.linalg.norm(x, 2, dim=0), randn(3, 4)),
    case("ord 1 along a dim", lambda lib, x: lib.linalg.norm(x, 1, dim=1), randn(3, 4)),
    case("ord inf along a dim", lambda lib, x: lib.linalg.norm(x, math.inf, 0), randn(3, 4)),
    case("0-d", lambda lib, x: lib.linalg.norm(x), randn()),
    case("zeros", lambda lib, x: lib.linalg.norm(x * 0), randn(3)),
    case("empty", lambda lib, x: lib.linalg.norm(x), randn(0)),
    case("in a chain", lambda lib, x: x / lib.linalg.norm(x, dim=1, keepdim=True), randn(3, 4)),
    case("float32", lambda lib, x: lib.linalg.norm(x), randn(3, 4, dtype=np.float32), **F32),
    case(
        "dtype=float64 of float32",
        lambda lib, x: lib.linalg.norm(x, dtype=lib.float64),
        randn(3, dtype=np.float32),
        **F32,
    ),
    case("torch.norm(x, -inf)", lambda lib, x: lib.norm(x, -math.inf), randn(4)),
    case("torch.norm(x, 0)", lambda lib, x: lib.norm(x, 0), np.array([0.0, 1.0, 2.0])),
    case("torch.norm(x, 0, dim)", lambda lib, x: lib.norm(x, 0, 1), np.eye(3)),
]


@pytest.mark.parametrize("fn, inputs, options", NORM_CASES)
def test_norm(fn, inputs, options):
    compare(fn, *inputs, **options)


NORM_ERRORS = [
    case("a list", lambda lib: lib.linalg.norm([1.0, 2.0])),
    case("int", lambda lib, x: lib.linalg.norm(x), integers(3)),
    case("int 'fro'", lambda lib, x: lib.linalg.norm(x, "fro"), integers(2, 2)),
    case("'fro' of a vector", lambda lib, x: lib.linalg.norm(x, "fro"), randn(3)),
    case("'nuc' of a vector", lambda lib, x: lib.linalg.norm(x, "nuc"), randn(3)),
    case("unknown order", lambda lib, x: lib.linalg.norm(x, "abc"), randn(3, 3)),
    case("order 3 of a matrix", lambda lib, x: lib.linalg.norm(x, 3), randn(3, 3)),
    case("order 2.5 of a matrix", lambda lib, x: lib.linalg.norm(x, 2.5), randn(3, 3)),
    case("3-d with an order", lambda lib, x: lib.linalg.norm(x, "fro"), randn(2, 3, 4)),
    case("3-d with order 2", lambda lib, x: lib.linalg.norm(x, 2), randn(2, 3, 4)),
    case("three dims", lambda lib, x: lib.linalg.norm(x, dim=(0, 1, 2)), randn(2, 3, 4)),
    case("no dims", lambda lib, x: lib.linalg.norm(x, dim=()), randn(2, 3)),
    case("'fro' on one dim", lambda lib, x: lib.linalg.norm(x, "fro", dim=1), randn(2, 3)),
    case("same dims", lambda lib, x: lib.linalg.norm(x, "fro", dim=(1, -1)), randn(2, 3)),
    case("same dims, no order", lambda lib, x: lib.linalg.norm(x, dim=(1, -1)), randn(2, 3)),
    case("dim out of range", lambda lib, x: lib.linalg.norm(x, dim=2), randn(2, 3)),
    case("dtype narrowing", lambda lib, x: lib.linalg.norm(x, dtype=lib.float32), randn(3)),
    case("dtype int", lambda lib, x: lib.linalg.norm(x, dtype=lib.int64), randn(3)),
    case("inf of empty", lambda lib, x: lib.linalg.norm(x, math.inf), randn(0)),
    case("-inf of an empty dim", lambda lib, x: lib.linalg.norm(x, -math.inf, 1), randn(2, 0)),
]


@pytest.mark.parametrize("fn, inputs, options", NORM_ERRORS)
def test_norm_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@FAST
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
    ord=st.sampled_from([None, 1, 2, 3, math.inf, -math.inf]),
    keepdim=st.booleans(),
    data=st.data(),
)
def test_vector_norm_along_any_dims_matches_torch(shape, ord, keepdim, data):
    ndim = len(shape)
    dims = data.draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=2, unique=True))
    if len(dims) == 2 and ord is not None:
        ord = "fro"  # noqa: A001 - with two dims a number would ask for a matrix norm
    compare(lambda lib, x: lib.linalg.norm(x, ord, dims, keepdim), randn(*shape) + 0.1)


# ============================================================================================
# linalg.svd and linalg.svdvals
#
# Singular vectors are defined up to sign (and the extra columns of a full U or rows of a full
# Vh up to a rotation), and LAPACK builds may choose differently: the cases compare what does
# not depend on that choice (S, U diag(S) Vh, U * U, the outer products of singular pairs,
# projectors).  The gradient needs distinct singular values, nonzero ones for a rectangular A.
# ============================================================================================


def separated(*shape, dtype=np.float64) -> np.ndarray:
    """Random matrices whose singular values are far apart (and from 0): Q1 diag(s) Q2."""
    *batch, m, n = shape
    k = min(m, n)
    q1 = np.linalg.qr(randn(*batch, m, m))[0][..., :k]
    q2 = np.linalg.qr(randn(*batch, n, n))[0][..., :k, :]
    s = 0.5 + 0.7 * np.arange(k, 0, -1) + 0.1 * np.abs(randn(*batch, k))
    return ((q1 * s[..., None, :]) @ q2).astype(dtype)


def rebuilt(r):
    return r.U @ (r.S.unsqueeze(-1) * r.Vh)


def squares(r):
    """U * U and Vh * Vh over the k singular vectors A determines, and S."""
    k = r.S.shape[-1]
    return r.U[..., :k] ** 2, r.S, r.Vh[..., :k, :] * r.Vh[..., :k, :]


def first_pair(r):
    """u_1 v_1^T: the signs of u_1 and v_1 flip together."""
    return (r.U[..., :, :1] * r.Vh[..., :1, :]).exp()


SVD_CASES = [
    case("S of svd", lambda lib, a: lib.linalg.svd(a).S, separated(3, 3)),
    case("U S Vh rebuilds A", lambda lib, a: rebuilt(lib.linalg.svd(a, False)), separated(3, 4)),
    case("squares, wide", lambda lib, a: squares(lib.linalg.svd(a, False)), separated(3, 5)),
    case("squares, tall", lambda lib, a: squares(lib.linalg.svd(a, False)), separated(5, 3)),
    case("squares, square", lambda lib, a: squares(lib.linalg.svd(a)), separated(4, 4)),
    case("squares, full tall", lambda lib, a: squares(lib.linalg.svd(a)), separated(5, 3)),
    case("squares, full wide", lambda lib, a: squares(lib.linalg.svd(a, True)), separated(2, 4)),
    case("first pair, tall", lambda lib, a: first_pair(lib.linalg.svd(a, False)), separated(4, 2)),
    case("first pair, wide", lambda lib, a: first_pair(lib.linalg.svd(a, False)), separated(2, 4)),
    case("U only", lambda lib, a: lib.linalg.svd(a, False).U.abs().sum(0), separated(4, 3)),
    case("Vh only", lambda lib, a: lib.linalg.svd(a, False).Vh.pow(2).sum(), separated(3, 4)),
    case("U and S", lambda lib, a: (lambda r: r.U**2 * r.S)(lib.linalg.svd(a)), separated(3, 3)),
    case(
        "the extra columns of a full U: a projector, no gradient",
        lambda lib, a: (lambda u: u @ u.mT)(lib.linalg.svd(a).U[:, 2:]),
        separated(4, 2),
    ),
    case(
        "the extra rows of a full Vh",
        lambda lib, a: (lambda v: v.mT @ v)(lib.linalg.svd(a, full_matrices=True).Vh[1:]),
        separated(1, 3),
    ),
    case("batch", lambda lib, a: squares(lib.linalg.svd(a, False)), separated(2, 3, 4)),
    case(
        "batch of 2 dims", lambda lib, a: rebuilt(lib.linalg.svd(a, False)), separated(2, 2, 3, 2)
    ),
    case("1 x 1", lambda lib, a: squares(lib.linalg.svd(a)), separated(1, 1)),
    case(
        "in a chain", lambda lib, a: lib.linalg.svd(a.exp() @ a.mT, False).S.log(), separated(3, 4)
    ),
    case(
        "float32",
        lambda lib, a: squares(lib.linalg.svd(a)),
        separated(3, 4, dtype=np.float32),
        **F32,
    ),
    case("no grad", lambda lib, a: rebuilt(lib.linalg.svd(a, False)), const(separated(3, 4))),
    case("empty, full", lambda lib, a: lib.linalg.svd(a), randn(0, 3), **NO_GRAD),
    case("empty batch", lambda lib, a: lib.linalg.svd(a, False), randn(2, 0, 3), **NO_GRAD),
    case("svdvals", lambda lib, a: lib.linalg.svdvals(a), separated(3, 4)),
    case("svdvals tall", lambda lib, a: lib.linalg.svdvals(a), separated(4, 2)),
    case("svdvals batch", lambda lib, a: lib.linalg.svdvals(a), separated(2, 3, 3)),
    case("svdvals in a chain", lambda lib, a: lib.linalg.svdvals(a * a).prod(), separated(3, 3)),
    case(
        "svdvals float32",
        lambda lib, a: lib.linalg.svdvals(a),
        separated(2, 3, dtype=np.float32),
        **F32,
    ),
    case("svdvals no grad", lambda lib, a: lib.linalg.svdvals(a), const(separated(3, 2))),
    case("svdvals empty", lambda lib, a: lib.linalg.svdvals(a), randn(0, 3)),
]


@pytest.mark.parametrize("fn, inputs, options", SVD_CASES)
def test_svd(fn, inputs, options):
    compare(fn, *inputs, **options)


def test_svd_returns_torchs_named_tuple():
    def fn(lib):
        r = lib.linalg.svd(lib.tensor(separated(2, 3)), full_matrices=True)
        fields = [tuple(r.U.shape), tuple(r.S.shape), tuple(r.Vh.shape)]
        return type(r).__name__, len(r), r[1] is r.S, fields, repr(r).split("\n")[0]

    same(fn)


def test_svdvals_is_output_1_of_a_whole_svd_node():
    """As torch: the rule needs U and Vh, so svdvals computes them (and saves them)."""

    def fn(lib):
        s = lib.linalg.svdvals(lib.tensor(separated(3, 4), requires_grad=True))
        node = s.grad_fn
        saved = [tuple(node._saved_U.shape), tuple(node._saved_Vh.shape)]
        return node.name(), s.output_nr, node._saved_full_matrices, saved

    same(fn)
    norm = lambda lib: lib.linalg.matrix_norm(lib.tensor(separated(2, 2), requires_grad=True), 2)
    same(
        lambda lib: (
            norm(lib).grad_fn.next_functions[0][0].name(),
            norm(lib).grad_fn.next_functions[0][1],
        )
    )


def test_svd_gradients_pass_gradcheck():
    gradcheck, gradgradcheck = (
        autograd_lite.autograd.gradcheck,
        autograd_lite.autograd.gradgradcheck,
    )
    for shape in [(3, 3), (4, 2), (2, 4), (2, 3, 3)]:
        for full_matrices in (False, True):
            a = autograd_lite.tensor(separated(*shape), requires_grad=True)

            def fn(a, full_matrices=full_matrices):
                return squares(autograd_lite.linalg.svd(a, full_matrices))

            assert gradcheck(fn, (a,))
            assert gradgradcheck(fn, (a,))
        assert gradgradcheck(lambda a: first_pair(autograd_lite.linalg.svd(a, False)), (a,))
        assert gradgradcheck(autograd_lite.linalg.svdvals, (a,))


def test_modified_singular_vectors_are_refused_like_torch():
    def fn(lib, a):
        r = lib.linalg.svd(a)
        with lib.no_grad():
            r.U.mul_(2)
        r.S.sum().backward()

    compare_error(fn, separated(3, 3))


def test_second_backward_through_svd_is_refused_like_torch():
    def fn(lib, a):
        s = lib.linalg.svdvals(a).sum()
        s.backward()
        s.backward()

    compare_error(fn, separated(3, 3))


SVD_ERRORS = [
    case("a vector", lambda lib, a: lib.linalg.svd(a), randn(3)),
    case("int", lambda lib, a: lib.linalg.svd(a), integers(3, 3)),
    case("bool", lambda lib, a: lib.linalg.svd(a > 0), randn(3, 3)),
    case("float16", lambda lib, a: lib.linalg.svd(a), randn(3, 3, dtype=np.float16)),
    case("a list", lambda lib: lib.linalg.svd([[1.0, 2.0]])),
    case("full_matrices=1", lambda lib, a: lib.linalg.svd(a, full_matrices=1), randn(3, 3)),
    case("driver on the CPU", lambda lib, a: lib.linalg.svd(a, driver="gesvd"), randn(3, 3)),
    case("nan", lambda lib: lib.linalg.svd(lib.tensor([[math.nan, 1.0], [1.0, 1.0]]))),
    case("svdvals of a vector", lambda lib, a: lib.linalg.svdvals(a), randn(3)),
    case("svdvals of int", lambda lib, a: lib.linalg.svdvals(a), integers(2, 2)),
    case("svdvals float16", lambda lib, a: lib.linalg.svdvals(a), randn(2, 2, dtype=np.float16)),
    case("svdvals of a list", lambda lib: lib.linalg.svdvals([[1.0]])),
]


@pytest.mark.parametrize("fn, inputs, options", SVD_ERRORS)
def test_svd_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@FAST
@given(
    batch=hnp.array_shapes(min_dims=0, max_dims=2, max_side=2),
    m=st.integers(1, 4),
    n=st.integers(1, 4),
    full_matrices=st.booleans(),
)
def test_svd_of_any_batch_matches_torch(batch, m, n, full_matrices):
    a = separated(*batch, m, n)
    compare(lambda lib, a: squares(lib.linalg.svd(a, full_matrices)), a, rtol=1e-4, atol=1e-6)
    compare(lambda lib, a: rebuilt(lib.linalg.svd(a, False)), a, rtol=1e-4, atol=1e-6)


# ============================================================================================
# Matrix norms: linalg.matrix_norm, and linalg.norm / torch.norm dispatching to it
# ============================================================================================

ORDS = ["fro", "nuc", 2, -2, 1, -1, math.inf, -math.inf]
ORD_IDS = ["fro", "nuc", "2", "-2", "1", "-1", "inf", "-inf"]

MATRIX_NORM_CASES = [
    case("square", lambda lib, a, o: lib.linalg.matrix_norm(a, o), separated(3, 3)),
    case("tall", lambda lib, a, o: lib.linalg.matrix_norm(a, o), separated(4, 2)),
    case("wide", lambda lib, a, o: lib.linalg.matrix_norm(a, ord=o), separated(2, 5)),
    case("batch", lambda lib, a, o: lib.linalg.matrix_norm(a, o), separated(2, 3, 4)),
    case(
        "keepdim", lambda lib, a, o: lib.linalg.matrix_norm(a, o, keepdim=True), separated(2, 3, 4)
    ),
    case(
        "dim=(2, 0)",
        lambda lib, a, o: lib.linalg.matrix_norm(a, o, (2, 0)),
        np.moveaxis(separated(3, 4, 5), (1, 2), (2, 0)),
    ),
    case(
        "dim=[-1, 1] keepdim",
        lambda lib, a, o: lib.linalg.matrix_norm(a, o, [-1, 1], True),
        np.moveaxis(separated(2, 3, 4), (1, 2), (2, 1)),
    ),
    case("1 x 1", lambda lib, a, o: lib.linalg.matrix_norm(a, o), separated(1, 1)),
    case("1 x 3", lambda lib, a, o: lib.linalg.matrix_norm(a, o), separated(1, 3)),
    case("linalg.norm(A, ord)", lambda lib, a, o: lib.linalg.norm(a, o), separated(3, 4)),
    case(
        "linalg.norm with dim", lambda lib, a, o: lib.linalg.norm(a, o, (1, 2)), separated(2, 3, 3)
    ),
    case(
        "in a chain", lambda lib, a, o: (a / lib.linalg.matrix_norm(a, o)).sum(0), separated(3, 2)
    ),
    case("no grad", lambda lib, a, o: lib.linalg.matrix_norm(a, o), const(separated(2, 3))),
    case(
        "float32",
        lambda lib, a, o: lib.linalg.matrix_norm(a, o),
        separated(3, 4, dtype=np.float32),
        **F32,
    ),
    case(
        "dtype=float64 of float32",
        lambda lib, a, o: lib.linalg.matrix_norm(a, o, dtype=lib.float64),
        separated(3, 4, dtype=np.float32),
        **F32,
    ),
    case("0 x 3 batch", lambda lib, a, o: lib.linalg.matrix_norm(a, o), randn(0, 2, 3)),
]


@pytest.mark.parametrize("ord", ORDS, ids=ORD_IDS)
@pytest.mark.parametrize("fn, inputs, options", MATRIX_NORM_CASES)
def test_matrix_norm(fn, inputs, options, ord):  # noqa: A002
    compare(lambda lib, a: fn(lib, a, ord), *inputs, **options)


EMPTY_MATRIX_CASES = [
    # torch gives 0 (without a graph) for the largest of nothing; the smallest is an error
    case("2 of 0 x 3", lambda lib, a: lib.linalg.matrix_norm(a, 2), randn(0, 3)),
    case("1 of 3 x 0", lambda lib, a: lib.linalg.matrix_norm(a, 1), randn(3, 0)),
    case(
        "inf of 3 x 0 keepdim",
        lambda lib, a: lib.linalg.matrix_norm(a, math.inf, keepdim=True),
        randn(3, 0),
    ),
    case("-inf of 3 x 0", lambda lib, a: lib.linalg.matrix_norm(a, -math.inf), randn(3, 0)),
    case("nuc of 3 x 0", lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), randn(3, 0)),
    case(
        "nuc of 2 x 3 x 0, keepdim",
        lambda lib, a: lib.linalg.matrix_norm(a, "nuc", keepdim=True),
        randn(2, 3, 0),
    ),
    case(
        "2 of 2 x 3 x 0, keepdim",
        lambda lib, a: lib.linalg.matrix_norm(a, 2, keepdim=True),
        randn(2, 3, 0),
    ),
    case("1 of 2 x 0 x 3", lambda lib, a: lib.linalg.matrix_norm(a, 1), randn(2, 0, 3)),
    case("1 of 0 x 0", lambda lib, a: lib.linalg.matrix_norm(a, 1), randn(0, 0)),
]


@pytest.mark.parametrize("fn, inputs, options", EMPTY_MATRIX_CASES)
def test_matrix_norm_of_empty_matrices(fn, inputs, options):
    compare(fn, *inputs, **options)


LOW_PRECISION = {"rtol": 1e-2, "atol": 1e-2}

OTHER_MATRIX_NORM_CASES = [
    case("ord=True is 1", lambda lib, a: lib.linalg.matrix_norm(a, True), separated(3, 4)),
    case("ord=2.0", lambda lib, a: lib.linalg.matrix_norm(a, 2.0), separated(3, 4)),
    case(
        "float16, 1",
        lambda lib, a: lib.linalg.matrix_norm(a, 1),
        randn(3, 3, dtype=np.float16),
        **LOW_PRECISION,
    ),
    case(
        "float16, inf",
        lambda lib, a: lib.linalg.norm(a, math.inf),
        randn(3, 3, dtype=np.float16),
        **LOW_PRECISION,
    ),
    case(
        "float16, fro",
        lambda lib, a: lib.linalg.matrix_norm(a),
        randn(3, 3, dtype=np.float16),
        **LOW_PRECISION,
    ),
    case(
        "ties in the column sums",
        lambda lib, a: lib.linalg.matrix_norm(a, 1),
        np.array([[1.0, -2.0], [2.0, 1.0]]),
    ),
    case(
        "ties in the row sums",
        lambda lib, a: lib.linalg.matrix_norm(a, -math.inf),
        np.array([[1.0, 3.0], [2.0, -2.0]]),
    ),
    case("torch.norm(A, 'nuc')", lambda lib, a: lib.norm(a, "nuc"), separated(3, 4)),
    case(
        "torch.norm(A, 'nuc', dim, keepdim)",
        lambda lib, a: lib.norm(a, "nuc", (1, 2), True),
        separated(2, 3, 4),
    ),
    case(
        "torch.norm(A, 'nuc', dtype)",
        lambda lib, a: lib.norm(a, "nuc", dtype=lib.float64),
        separated(3, 3, dtype=np.float32),
        **F32,
    ),
    case("A.norm('nuc')", lambda lib, a: a.norm("nuc"), separated(3, 2)),
    case("A.norm(p='nuc', keepdim)", lambda lib, a: a.norm(p="nuc", keepdim=True), separated(3, 2)),
    case("torch.norm(A, 2) is a vector norm", lambda lib, a: lib.norm(a, 2), separated(3, 4)),
    case("torch.norm(A, -2) too", lambda lib, a: lib.norm(a, -2), separated(3, 4)),
    case("torch.norm(A, 'fro', [1])", lambda lib, a: lib.norm(a, "fro", [1]), randn(2, 3, 3)),
    case("torch.norm(A, 'fro', [])", lambda lib, a: lib.norm(a, "fro", []), randn(2, 3, 3)),
    case("torch.norm(A, 2, [])", lambda lib, a: lib.norm(a, 2, []), randn(2, 3, 3)),
    case("torch.norm(A, None, 1)", lambda lib, a: lib.norm(a, None, 1), randn(2, 3, 3)),
    case(
        "torch.norm(A, 1.5, 0, True, dtype)",
        lambda lib, a: lib.norm(a, 1.5, 0, True, dtype=lib.float64),
        randn(3, 3),
    ),
]


@pytest.mark.parametrize("fn, inputs, options", OTHER_MATRIX_NORM_CASES)
def test_other_matrix_norms(fn, inputs, options):
    compare(fn, *inputs, **options)


def test_matrix_norms_pass_gradcheck():
    gradcheck, gradgradcheck = (
        autograd_lite.autograd.gradcheck,
        autograd_lite.autograd.gradgradcheck,
    )
    for shape in [(3, 3), (4, 2), (2, 5), (2, 3, 3)]:
        a = autograd_lite.tensor(separated(*shape), requires_grad=True)
        for ord in ORDS:  # noqa: A001
            fn = lambda a, ord=ord: autograd_lite.linalg.matrix_norm(a, ord)  # noqa: E731
            assert gradcheck(fn, (a,)), ord
            assert gradgradcheck(fn, (a,)), ord


MATRIX_NORM_ERRORS = [
    case("order 3", lambda lib, a: lib.linalg.matrix_norm(a, 3), randn(3, 3)),
    case("order 2.5", lambda lib, a: lib.linalg.matrix_norm(a, 2.5), randn(3, 3)),
    case("order 1/3", lambda lib, a: lib.linalg.matrix_norm(a, 1 / 3), randn(3, 3)),
    case("order -0.0", lambda lib, a: lib.linalg.matrix_norm(a, -0.0), randn(3, 3)),
    case("order nan", lambda lib, a: lib.linalg.matrix_norm(a, math.nan), randn(3, 3)),
    case("complex order", lambda lib, a: lib.linalg.matrix_norm(a, 1j), randn(3, 3)),
    case("unknown string", lambda lib, a: lib.linalg.matrix_norm(a, "abc"), randn(3, 3)),
    case("order 3 of a vector", lambda lib, a: lib.linalg.matrix_norm(a, 3), integers(3)),
    case("a vector", lambda lib, a: lib.linalg.matrix_norm(a), randn(3)),
    case("a vector, order 2", lambda lib, a: lib.linalg.matrix_norm(a, 2), integers(3)),
    case("int", lambda lib, a: lib.linalg.matrix_norm(a, 1), integers(3, 3)),
    case("int 'nuc'", lambda lib, a: lib.linalg.matrix_norm(a, "nuc"), integers(3, 3)),
    case(
        "int with a dtype",
        lambda lib, a: lib.linalg.matrix_norm(a, 1, dtype=lib.float64),
        integers(2, 2),
    ),
    case("float16, 2", lambda lib, a: lib.linalg.matrix_norm(a, 2), randn(3, 3, dtype=np.float16)),
    case("float16, 'nuc'", lambda lib, a: lib.linalg.norm(a, "nuc"), randn(3, 3, dtype=np.float16)),
    case(
        "float16, -2, dtype",
        lambda lib, a: lib.linalg.matrix_norm(a, -2, dtype=lib.float32),
        randn(3, 3, dtype=np.float16),
    ),
    case("one dim", lambda lib, a: lib.linalg.matrix_norm(a, "nuc", (0,)), randn(3, 3)),
    case("three dims", lambda lib, a: lib.linalg.matrix_norm(a, 1, (0, 1, 2)), randn(2, 3, 3)),
    case("no dims", lambda lib, a: lib.linalg.matrix_norm(a, 2, ()), randn(3, 3)),
    case("'fro' no dims", lambda lib, a: lib.linalg.matrix_norm(a, "fro", []), randn(3, 3)),
    case("same dims", lambda lib, a: lib.linalg.matrix_norm(a, 2, (1, -1)), randn(3, 3)),
    case("same dims, 'fro'", lambda lib, a: lib.linalg.matrix_norm(a, "fro", (0, 0)), randn(3, 3)),
    case("dim out of range", lambda lib, a: lib.linalg.matrix_norm(a, "nuc", (0, 5)), randn(3, 3)),
    case(
        "dtype narrowing",
        lambda lib, a: lib.linalg.matrix_norm(a, 2, dtype=lib.float32),
        randn(3, 3),
    ),
    case(
        "dtype int", lambda lib, a: lib.linalg.matrix_norm(a, "nuc", dtype=lib.int64), randn(3, 3)
    ),
    case(
        "float16 dtype",
        lambda lib, a: lib.linalg.matrix_norm(a, 1, dtype=lib.float16),
        randn(3, 3, dtype=np.float32),
    ),
    case("a list", lambda lib: lib.linalg.matrix_norm([[1.0]])),
    case(
        "nan, 2", lambda lib: lib.linalg.matrix_norm(lib.tensor([[math.nan, 1.0], [1.0, 1.0]]), 2)
    ),
    case("-2 of 0 x 3", lambda lib, a: lib.linalg.matrix_norm(a, -2), randn(0, 3)),
    case("-2 of 2 x 0 x 3", lambda lib, a: lib.linalg.matrix_norm(a, -2), randn(2, 0, 3)),
    case("-1 of 3 x 0", lambda lib, a: lib.linalg.matrix_norm(a, -1), randn(3, 0)),
    case(
        "-1 of 3 x 0, keepdim",
        lambda lib, a: lib.linalg.matrix_norm(a, -1, keepdim=True),
        randn(3, 0),
    ),
    case("-1 of 2 x 3 x 0", lambda lib, a: lib.linalg.matrix_norm(a, -1), randn(2, 3, 0)),
    case("-inf of 0 x 3", lambda lib, a: lib.linalg.matrix_norm(a, -math.inf), randn(0, 3)),
    case("linalg.norm 'nuc' of 3-d", lambda lib, a: lib.linalg.norm(a, "nuc"), randn(2, 3, 3)),
    case(
        "linalg.norm 'nuc' on one dim", lambda lib, a: lib.linalg.norm(a, "nuc", 1), randn(2, 3, 3)
    ),
    case("linalg.norm 'nuc' of a vector", lambda lib, a: lib.linalg.norm(a, "nuc"), randn(3)),
    case("linalg.norm order 0 of a matrix", lambda lib, a: lib.linalg.norm(a, 0), randn(3, 3)),
    case("linalg.norm int, order 2", lambda lib, a: lib.linalg.norm(a, 2), integers(3, 3)),
    case("linalg.norm same dims", lambda lib, a: lib.linalg.norm(a, 2, (0, 0)), randn(3, 3)),
    case("torch.norm 'nuc' of 3-d", lambda lib, a: lib.norm(a, "nuc"), randn(2, 3, 3)),
    case(
        "torch.norm 'nuc' keepdim of 3-d",
        lambda lib, a: lib.norm(a, "nuc", keepdim=True),
        randn(2, 3, 3),
    ),
    case(
        "torch.norm 'fro' over 3 dims", lambda lib, a: lib.norm(a, "fro", (0, 1, 2)), randn(2, 3, 3)
    ),
    case("torch.norm 'nuc' of a vector", lambda lib, a: lib.norm(a, "nuc"), randn(3)),
    case("torch.norm 'nuc' on one dim", lambda lib, a: lib.norm(a, "nuc", 1), randn(3, 3)),
    case("torch.norm 'nuc' on no dims", lambda lib, a: lib.norm(a, "nuc", []), randn(3, 3)),
    case("torch.norm unknown string", lambda lib, a: lib.norm(a, "abc"), randn(3, 3)),
    case("torch.norm unknown string, int", lambda lib, a: lib.norm(a, "abc"), integers(3, 3)),
    case("torch.norm 'nuc' of int", lambda lib, a: lib.norm(a, "nuc"), integers(3, 3)),
    case("torch.norm of int", lambda lib, a: lib.norm(a), integers(3, 3)),
    case(
        "torch.norm 'nuc' narrowing",
        lambda lib, a: lib.norm(a, "nuc", dtype=lib.float32),
        randn(3, 3),
    ),
    case(
        "torch.norm 'fro' narrowing",
        lambda lib, a: lib.norm(a, "fro", dtype=lib.float16),
        randn(3, 3, dtype=np.float32),
    ),
    case("torch.norm of a number", lambda lib: lib.norm(1.0)),
    case("torch.norm float dim", lambda lib, a: lib.norm(a, 2, 1.5), randn(3, 3)),
]


@pytest.mark.parametrize("fn, inputs, options", MATRIX_NORM_ERRORS)
def test_matrix_norm_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@FAST
@given(
    shape=hnp.array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3),
    ord=st.sampled_from(ORDS),
    keepdim=st.booleans(),
    data=st.data(),
)
def test_matrix_norm_over_any_dims_matches_torch(shape, ord, keepdim, data):  # noqa: A002
    ndim = len(shape)
    d1, d2 = data.draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2, unique=True))
    negative = data.draw(st.booleans())  # the same dims counted from the end
    dims = (d1 - ndim, d2 - ndim) if negative else (d1, d2)
    # matrices with separated singular values, moved into dims (d1, d2)
    batch = [shape[d] for d in range(ndim) if d not in (d1, d2)]
    a = np.moveaxis(separated(*batch, shape[d1], shape[d2]), (-2, -1), (d1, d2))
    compare(lambda lib, x: lib.linalg.matrix_norm(x, ord, dims, keepdim), a, rtol=1e-4, atol=1e-6)
    compare(lambda lib, x: lib.linalg.norm(x, ord, dims, keepdim), a, rtol=1e-4, atol=1e-6)


# ============================================================================================
# linalg.vector_norm
# ============================================================================================

VECTOR_NORM_CASES = [
    case("default", lambda lib, x: lib.linalg.vector_norm(x), randn(3, 4)),
    case(
        "ord 3, dims, keepdim",
        lambda lib, x: lib.linalg.vector_norm(x, 3, (0, 2), True),
        randn(2, 3, 4),
    ),
    case("ord inf, dim", lambda lib, x: lib.linalg.vector_norm(x, math.inf, 1), randn(3, 4)),
    case("ord -1", lambda lib, x: lib.linalg.vector_norm(x, ord=-1), randn(4)),
    case("ord 0", lambda lib, x: lib.linalg.vector_norm(x, 0), np.array([0.0, 1.5, -2.0])),
    case("ord True", lambda lib, x: lib.linalg.vector_norm(x, True), randn(4)),
    case("dim ()", lambda lib, x: lib.linalg.vector_norm(x, 2, ()), randn(3, 4)),
    case("dim []", lambda lib, x: lib.linalg.vector_norm(x, 1, [], keepdim=True), randn(3, 4)),
    case("dim list", lambda lib, x: lib.linalg.vector_norm(x, dim=[0, 1]), randn(3, 4)),
    case(
        "dtype",
        lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64),
        randn(3, dtype=np.float32),
        **F32,
    ),
    case(
        "float16",
        lambda lib, x: lib.linalg.vector_norm(x),
        randn(3, dtype=np.float16),
        **LOW_PRECISION,
    ),
    case("0-d", lambda lib, x: lib.linalg.vector_norm(x, 1, 0), randn()),
]


@pytest.mark.parametrize("fn, inputs, options", VECTOR_NORM_CASES)
def test_vector_norm(fn, inputs, options):
    compare(fn, *inputs, **options)


VECTOR_NORM_ERRORS = [
    case("'fro'", lambda lib, x: lib.linalg.vector_norm(x, "fro"), randn(3)),
    case("None", lambda lib, x: lib.linalg.vector_norm(x, None), randn(3)),
    case("complex order", lambda lib, x: lib.linalg.vector_norm(x, 1j), randn(3)),
    case("int", lambda lib, x: lib.linalg.vector_norm(x), integers(3)),
    case("a list", lambda lib: lib.linalg.vector_norm([1.0])),
    case("float dim", lambda lib, x: lib.linalg.vector_norm(x, 2, 1.5), randn(3, 3)),
    case("dim twice", lambda lib, x: lib.linalg.vector_norm(x, 2, (0, 0)), randn(3, 3)),
    case("dim out of range", lambda lib, x: lib.linalg.vector_norm(x, 2, 2), randn(3, 3)),
    case(
        "dtype narrowing",
        lambda lib, x: lib.linalg.vector_norm(x, math.inf, dtype=lib.float32),
        randn(3),
    ),
    case("inf of empty", lambda lib, x: lib.linalg.vector_norm(x, math.inf), randn(0)),
]


@pytest.mark.parametrize("fn, inputs, options", VECTOR_NORM_ERRORS)
def test_vector_norm_errors(fn, inputs, options):
    compare_error(fn, *inputs)


# ============================================================================================
# amax and amin
# ============================================================================================

TIES = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0], [-1.0, -1.0, -1.0]])

AMAX_CASES = [
    case("amax", lambda lib, x: lib.amax(x), randn(3, 4)),
    case("amin", lambda lib, x: lib.amin(x), randn(3, 4)),
    case("amax dim", lambda lib, x: lib.amax(x, 1), randn(3, 4)),
    case("amin dim keepdim", lambda lib, x: lib.amin(x, -1, True), randn(3, 4)),
    case("amax dims", lambda lib, x: lib.amax(x, (0, 2)), randn(2, 3, 4)),
    case("amin dims keepdim", lambda lib, x: lib.amin(x, [2, 0], keepdim=True), randn(2, 3, 4)),
    case("amax ()", lambda lib, x: lib.amax(x, ()), randn(2, 3)),
    case("amin dim=None", lambda lib, x: lib.amin(x, dim=None), randn(2, 3)),
    case("x.amax()", lambda lib, x: x.amax(), randn(2, 3)),
    case("x.amin(0)", lambda lib, x: x.amin(0), randn(2, 3)),
    case("amax ties: shared", lambda lib, x: lib.amax(x), TIES),
    case("amax ties along a dim", lambda lib, x: lib.amax(x, 1), TIES),
    case("amin ties along a dim", lambda lib, x: lib.amin(x, 1, True), TIES),
    case("amin ties over dims", lambda lib, x: lib.amin(x, (0, 1)), TIES),
    case("amax in a chain", lambda lib, x: (x * lib.amax(x * x, 0)).sum(1), randn(3, 4)),
    case("amax int", lambda lib, x: lib.amax(x, 0), integers(3, 4)),
    case("amin bool", lambda lib, x: lib.amin(x > 0), randn(3, 4), **NO_GRAD),
    case("amax 0-d", lambda lib, x: lib.amax(x, 0), randn()),
    case("amin 0-d (0,)", lambda lib, x: lib.amin(x, (0,)), randn()),
    case("amax of empty, along a full dim", lambda lib, x: lib.amax(x, 1), randn(0, 3)),
    case("amax nan", lambda lib: lib.amax(lib.tensor([1.0, math.nan, 2.0]))),
    case("float32", lambda lib, x: lib.amin(x, 0), randn(3, 4, dtype=np.float32), **F32),
]


@pytest.mark.parametrize("fn, inputs, options", AMAX_CASES)
def test_amax_amin(fn, inputs, options):
    compare(fn, *inputs, **options)


AMAX_ERRORS = [
    case("a list", lambda lib: lib.amax([1, 2])),
    case("amin of a list", lambda lib: lib.amin([1.0])),
    case("float dim", lambda lib, x: lib.amax(x, 1.0), randn(2, 3)),
    case("dim twice", lambda lib, x: lib.amin(x, (0, 0)), randn(2, 3)),
    case("dim out of range", lambda lib, x: lib.amax(x, 2), randn(2, 3)),
    case("0-d, dim 1", lambda lib, x: lib.amax(x, 1), randn()),
    case("empty, all", lambda lib, x: lib.amax(x), randn(0, 3)),
    case("empty, ()", lambda lib, x: lib.amin(x, ()), randn(0, 3)),
    case("empty dim", lambda lib, x: lib.amin(x, -1), randn(2, 0)),
    case("empty dim in a tuple", lambda lib, x: lib.amax(x, (0, 1)), randn(3, 0)),
]


@pytest.mark.parametrize("fn, inputs, options", AMAX_ERRORS)
def test_amax_amin_errors(fn, inputs, options):
    compare_error(fn, *inputs)


@FAST
@given(
    shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
    keepdim=st.booleans(),
    largest=st.booleans(),
    data=st.data(),
)
def test_amax_amin_over_any_dims_match_torch(shape, keepdim, largest, data):
    rank = max(len(shape), 1)  # (a 0-d tensor takes dim 0 or -1)
    unique = st.lists(st.integers(-rank, rank - 1), max_size=rank, unique_by=lambda d: d % rank)
    dims = data.draw(unique)
    x = np.asarray(np.round(randn(*shape)))  # small integers: many ties
    name = "amax" if largest else "amin"
    compare(lambda lib, x: getattr(lib, name)(x, dims, keepdim), x)

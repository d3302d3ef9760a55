"""Products, running totals and differences: ``prod``, ``cumsum``, ``cumprod`` (a product's
gradient with a zero in it is itself built from cumulative products) and ``diff``, which
undoes ``cumsum``.

How to read an operation: its class (``Cumsum``, whose ``_name`` is torch's backward node,
``CumsumBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it too builds a graph under
``create_graph=True``.  Its function (``cumsum``), next to it, computes the forward in NumPy and,
when a gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._errors import hint
from .._tensor import Tensor, make_tensor
from ._base import Op, _dims, _int, _not_tensor, _record, _tracks, _type_name
from .indexing import narrow
from .joining import cat
from .pointwise import where


class Cumsum(Op):
    _name = "CumsumBackward0"

    def gradient(self, grad):
        # Each input adds into every later output: sum the gradients from the end.
        return (grad.flip(self.dim).cumsum(self.dim).flip(self.dim),)


def cumsum(input: Tensor, dim=None, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("cumsum", input, dim) from None
    if dim is None:
        raise TypeError('cumsum() missing 1 required positional arguments: "dim"')
    data = _integer_to_long(data, dtype)
    (d,) = _dims(dim, data.ndim) or (0,)
    out = np.add.accumulate(data, axis=d) if data.ndim else data.copy()  # (see sum)
    if _tracks(input):
        node = Cumsum()
        node.dim = d
        return _record(node, (input,), out)
    return make_tensor(out)


def _integer_to_long(data, dtype):
    """prod, cumsum, cumprod (and sum): ``dtype`` if given, else integers and bools as int64."""
    if dtype is not None:
        return data.astype(_dtype.as_dtype(dtype).np)
    if data.dtype.kind in "biu":
        return data.astype(np.int64)
    return data


class Prod(Op):
    """prod(): ProdBackward0 of all the elements, ProdBackward1 along ``dim``."""

    _name = "ProdBackward0"
    saved_names = ("self", "result")

    def gradient(self, grad):
        (x,) = self.saved_tensors
        if x._data.ndim == 0:
            return (grad,)
        result = self.saved_result
        dim = self.dim
        if dim is not None and not self.keepdim:
            grad, result = grad.unsqueeze(dim), result.unsqueeze(dim)
        if not (x._data == 0).any():
            return (grad * (result / x),)  # the product of all the others
        # With a zero, result / x is 0 / 0 there: multiply the others out instead (torch's
        # prod_safe_zeros_backward), in tensor ops so that this is differentiable again.
        if dim is None:
            return (grad * _product_of_others(x.reshape(-1), 0).reshape(x.shape),)
        return (grad * _product_of_others(x, dim),)


def _product_of_others(x: Tensor, dim: int) -> Tensor:
    """Element k: the product of all of x along ``dim`` but x[k], as the product of an exclusive
    cumulative product from the front and one from the back (no division)."""
    shape = x._data.shape
    n = shape[dim]
    if n == 1:
        return make_tensor(np.ones(shape, dtype=x._data.dtype))
    ones = make_tensor(np.ones(shape[:dim] + (1,) + shape[dim + 1 :], dtype=x._data.dtype))
    before = cat([ones, narrow(x, dim, 0, n - 1)], dim).cumprod(dim)
    after = cat([ones, narrow(x, dim, 1, n - 1).flip(dim)], dim).cumprod(dim).flip(dim)
    return before * after


def _multiply_halves(data, axis, keepdims=False):
    """prod in float16 as torch does it: every partial product rounded to half (NumPy's reduce
    would keep them in float32 and round once: 300 * 300 * 0.001 is then 90, not inf)."""
    if axis is None:
        data, axis = data.reshape(-1), 0
    if data.shape[axis] == 0:
        return np.multiply.reduce(data, axis=axis, keepdims=keepdims)
    out = np.take(np.multiply.accumulate(data, axis=axis), [-1], axis=axis)
    return out if keepdims else np.squeeze(out, axis=axis)


def prod(input: Tensor, dim=None, keepdim=False, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("prod", input, dim) from None
    data = _integer_to_long(data, dtype)
    multiply = _multiply_halves if data.dtype == np.float16 else np.multiply.reduce
    if dim is None:
        out = multiply(data, axis=None)
        d = None
    else:
        if not isinstance(dim, (_int, np.integer)):  # (torch's prod takes one dim only)
            types = ", ".join(_type_name(x) for x in (input, dim))
            raise TypeError(
                f"prod() received an invalid combination of arguments - got ({types}), but "
                "expected one of:" + hint("prod() reduces along one dim at a time")
            )
        (d,) = _dims(dim, data.ndim) or (0,)
        out = multiply(data, axis=d, keepdims=keepdim) if data.ndim else data.copy()
    if _tracks(input):
        node = Prod()
        node._rename("ProdBackward0" if dim is None else "ProdBackward1")
        node.dim, node.keepdim = d, keepdim
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


class Cumprod(Op):
    _name = "CumprodBackward0"
    saved_names = ("self", "result")

    def gradient(self, grad):
        (x,) = self.saved_tensors
        d = self.dim
        if x._data.size <= 1 or x._data.shape[d] == 1:
            return (grad,)
        if not (x._data == 0).any():
            # d out[j] / d x[k] = out[j] / x[k] for j >= k: sum grad * out from the end
            w = grad * self.saved_result
            return (w.flip(d).cumsum(d).flip(d) / x,)
        return (_cumprod_backward_with_zeros(grad, x, d),)


def _cumprod_backward_with_zeros(grad: Tensor, x: Tensor, dim: int) -> Tensor:
    """The gradient of cumprod without dividing by x: d out[j] / d x[k] is the product of
    x[i] for i <= j, i != k.  Row k of an (n, n) matrix holds x with x[k] replaced by 1; its
    cumulative products are those derivatives (kept for j >= k).  A polynomial in x, so its own
    derivatives are right at the zeros too (torch's double-backward formula is one as well)."""
    xt, gt = x.transpose(dim, -1), grad.transpose(dim, -1)
    n = xt._data.shape[-1]
    others = where(make_tensor(np.eye(n, dtype=bool)), 1.0, xt.unsqueeze(-2)).cumprod(-1)
    later = make_tensor(np.triu(np.ones((n, n), dtype=bool)))  # [k, j]: j >= k
    return (where(later, others, 0.0) * gt.unsqueeze(-2)).sum(-1).transpose(dim, -1)


def cumprod(input: Tensor, dim=None, *, dtype=None) -> Tensor:
    try:
        data = input._data
    except AttributeError:
        raise _not_tensor("cumprod", input, dim) from None
    if dim is None:
        raise TypeError('cumprod() missing 1 required positional arguments: "dim"')
    data = _integer_to_long(data, dtype)
    (d,) = _dims(dim, data.ndim) or (0,)
    if not data.ndim:
        out = data.copy()
    elif data.dtype == np.float16:  # torch multiplies halves in float, rounding each output
        out = np.multiply.accumulate(data.astype(np.float32), axis=d).astype(np.float16)
    else:
        out = np.multiply.accumulate(data, axis=d)
    if _tracks(input):
        node = Cumprod()
        node.dim = d
        node.save(input)
        t = _record(node, (input,), out)
        node.save_result(t)
        return t
    return make_tensor(out)


def diff(input: Tensor, n: int = 1, dim: int = -1, prepend=None, append=None) -> Tensor:
    """Differences of neighbours along ``dim``, ``n`` times: ``x[1:] - x[:-1]`` (for bools,
    whether they differ).  A subtraction of two slices, so its node is ``SubBackward0``."""
    try:
        ndim = input._data.ndim
    except AttributeError:
        raise _not_tensor("diff", input, n, dim) from None
    if ndim == 0:
        raise RuntimeError(
            "diff expects input to be at least one-dimensional"
            + hint("a single number has no neighbours: give diff a 1-d (or larger) tensor")
        )
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    (d,) = _dims(dim, ndim)
    ends = [_diff_end(input, t, d, name) for t, name in ((prepend, "prepend"), (append, "append"))]
    if ends[0] is not None or ends[1] is not None:
        input = cat([t for t in (ends[0], input, ends[1]) if t is not None], d)
    if n == 0:  # torch copies the input into a new tensor
        return _zeros_like(input).copy_(input)
    for _ in range(n):
        size = input._data.shape[d]
        if size == 0:
            break
        later, earlier = narrow(input, d, 1, size - 1), narrow(input, d, 0, size - 1)
        input = later ^ earlier if input._data.dtype == np.bool_ else later - earlier
    return input


def _diff_end(input: Tensor, end, d: int, name: str):
    if end is None:
        return None
    if not isinstance(end, Tensor):
        raise TypeError(f"diff(): argument '{name}' must be Tensor, not {_type_name(end)}")
    shape, other = input._data.shape, end._data.shape
    if len(other) != len(shape):
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for axis, (a, b) in enumerate(zip(shape, other)):
        if axis != d and a != b:
            raise RuntimeError(
                "diff expects the shape of tensor to prepend or append to match that of input "
                f"except along the differencing dimension; input.size({axis}) = {a}, but got "
                f"tensor.size({axis}) = {b}"
            )
    return end


def _zeros_like(input: Tensor) -> Tensor:
    return make_tensor(np.zeros(input._data.shape, dtype=input._data.dtype))

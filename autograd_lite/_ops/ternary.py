"""Pointwise functions of three tensors: ``lerp`` (linear interpolation), ``addcmul`` and
``addcdiv`` (``input + value * t1 * t2`` and ``input + value * t1 / t2``, the update steps of
optimizers such as Adam).

How to read an operation: its class (``Lerp``, whose ``_name`` is torch's backward node,
``LerpBackward0``) holds the gradient rule, ``gradient(self, grad)``: one gradient per input,
written in the library's own tensor operations, so that it also builds a graph under
``create_graph=True``.  Its function, next to it, computes the forward in NumPy and, when a
gradient will be needed, records the node (``_record``, in ``_base.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _dtype
from .._tensor import Tensor, make_tensor
from ._base import (
    _NUMBER_TYPES,
    Op,
    _not_tensor,
    _record,
    _scalar_name,
    _shapes_mismatch,
    _tracks,
    _type_name,
)
from .out import C_TYPE_NAMES


def _broadcast(*arrays):
    try:
        return np.broadcast_shapes(*(np.shape(a) for a in arrays))
    except ValueError:
        shapes = [np.shape(a) for a in arrays]
        for i in range(len(shapes)):
            for j in range(i + 1, len(shapes)):
                try:
                    np.broadcast_shapes(shapes[i], shapes[j])
                except ValueError:
                    raise _shapes_mismatch(shapes[i], shapes[j]) from None
        raise


class Lerp(Op):
    """input + weight * (end - input): input gets grad * (1 - weight), end grad * weight, and a
    tensor weight grad * (end - input) (LerpBackward1; a number weight: LerpBackward0)."""

    _name = "LerpBackward0"
    saved_names = ("self", "end", "weight")

    def gradient(self, grad):
        start, end, weight = self.saved_tensors
        w = self.weight if weight is None else weight
        grads = [None, None, None]
        if self._next[0] is not None:
            grads[0] = grad * (1 - w)
        if self._next[1] is not None:
            grads[1] = grad * w
        if weight is not None and self._next[2] is not None:
            grads[2] = grad * (end - start)
        return tuple(grads)


def _c_name(np_dtype) -> str:
    return C_TYPE_NAMES[np.dtype(np_dtype).name]


def lerp(input, end, weight):
    if not isinstance(input, Tensor) or not isinstance(end, Tensor):
        raise _not_tensor("lerp", input, end, weight)
    x, e = input._data, end._data
    if e.dtype != x.dtype:
        raise RuntimeError(
            f"expected dtype {_c_name(x.dtype)} for `end` but got dtype {_c_name(e.dtype)}"
        )
    weight_is_tensor = isinstance(weight, Tensor)
    if weight_is_tensor and weight._data.ndim and weight._data.dtype != x.dtype:
        raise RuntimeError(
            f"expected dtype {_c_name(x.dtype)} for `weight` but got dtype "
            f"{_c_name(weight._data.dtype)}"
        )
    if not weight_is_tensor and not isinstance(weight, _NUMBER_TYPES):
        raise TypeError(
            f"lerp(): argument 'weight' (position 3) must be Tensor, not {_type_name(weight)}"
        )
    if x.dtype.kind != "f":
        kernel = "lerp_kernel_tensor" if weight_is_tensor else "lerp_kernel_scalar"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_scalar_name(x.dtype)}'")
    w = weight._data.astype(x.dtype) if weight_is_tensor else x.dtype.type(weight)
    _broadcast(x, e, w)
    # torch's two-sided formula: exact at both ends (weight 0 gives input, 1 gives end)
    out = np.where(w < 0.5, x + w * (e - x), e - (e - x) * (1 - w)).astype(x.dtype)
    if _tracks(input, end, *([weight] if weight_is_tensor else [])):
        node = Lerp()
        if weight_is_tensor:
            node._rename("LerpBackward1")
            node.save(input, end, weight)
            return _record(node, (input, end, weight), out)
        node.weight = weight
        node.save(input, end, None)
        return _record(node, (input, end), out)
    return make_tensor(out)


class Addcmul(Op):
    _name = "AddcmulBackward0"
    saved_names = ("tensor1", "tensor2")

    def gradient(self, grad):
        t1, t2 = self.saved_tensors
        v = self.value
        return (
            grad,
            grad * t2 * v if self._next[1] is not None else None,
            grad * t1 * v if self._next[2] is not None else None,
        )


class Addcdiv(Op):
    _name = "AddcdivBackward0"
    saved_names = ("tensor1", "tensor2")

    def gradient(self, grad):
        t1, t2 = self.saved_tensors
        v = self.value
        return (
            grad,
            grad * v / t2 if self._next[1] is not None else None,
            -grad * v * t1 / (t2 * t2) if self._next[2] is not None else None,
        )


_ADDCDIV_INTEGER = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
    "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
    "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
    "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
    "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
    "for all dtypes."
)


def _addc(cls, name: str, input, tensor1, tensor2, value) -> Tensor:
    for position, (arg, t) in enumerate(
        (("input", input), ("tensor1", tensor1), ("tensor2", tensor2)), start=1
    ):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"{name}(): argument '{arg}' (position {position}) must be Tensor, not "
                f"{_type_name(t)}"
            )
    if cls is Addcdiv and tensor1._data.dtype.kind in "iub" and tensor2._data.dtype.kind in "iub":
        raise RuntimeError(_ADDCDIV_INTEGER)
    dt = _dtype.result_type(input, tensor1, tensor2).np
    if dt.kind == "b":
        raise NotImplementedError(f"\"{name}_cpu_out\" not implemented for 'Bool'")
    x, a, b = (t._data.astype(dt, copy=False) for t in (input, tensor1, tensor2))
    _broadcast(x, a, b)
    v = dt.type(value)  # in the result's dtype: an int tensor truncates value=0.5 to 0
    out = np.asarray(x + v * (a * b if cls is Addcmul else a / b)).astype(dt, copy=False)
    if _tracks(input, tensor1, tensor2):
        node = cls()
        node.value = value
        node.save(tensor1, tensor2)
        return _record(node, (input, tensor1, tensor2), out)
    return make_tensor(out)


def addcmul(input, tensor1, tensor2, *, value=1):
    return _addc(Addcmul, "addcmul", input, tensor1, tensor2, value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    return _addc(Addcdiv, "addcdiv", input, tensor1, tensor2, value)

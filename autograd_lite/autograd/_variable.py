"""``Variable``: the 2017 wrapper, which modern torch keeps as an alias of Tensor."""

from __future__ import annotations

import warnings

from .._tensor import Tensor


class _VariableMeta(type):
    def __instancecheck__(cls, other) -> bool:
        return isinstance(other, Tensor)


class Variable(metaclass=_VariableMeta):
    """``Variable(t, requires_grad=True)`` returns a tensor, exactly as in torch >= 0.4.

    Since 2018 every tensor can take part in autograd, so there is nothing to wrap: old
    tutorial code keeps working, and ``isinstance(t, Variable)`` is True for any tensor.
    """

    def __new__(cls, data=None, requires_grad=False, volatile=False):
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:
            from .._creation import tensor

            return tensor([], requires_grad=requires_grad)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {_c_type_name(data)}")
        out = data.detach()
        if requires_grad:
            out.requires_grad_(True)
        return out


def _c_type_name(obj) -> str:
    """The type name as C code sees it: ``int``, ``list``, but ``numpy.ndarray``."""
    cls = type(obj)
    if cls.__module__ == "builtins" or cls.__flags__ & (1 << 9):  # Py_TPFLAGS_HEAPTYPE
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"

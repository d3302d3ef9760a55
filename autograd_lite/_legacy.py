"""The 2017 typed constructors: ``torch.FloatTensor([1, 1, 1])`` and friends."""

from __future__ import annotations

from . import _dtype
from ._tensor import Tensor


class _LegacyTypeMeta(type):
    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj.dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class 'torch.{cls.__name__}'>"


def _legacy_type(d: _dtype.dtype):
    def __new__(cls, *args, requires_grad=False):
        from ._creation import legacy_data

        t = legacy_data(args or (0,), d)  # torch.FloatTensor() is empty: shape (0,)
        return t.requires_grad_() if requires_grad else t

    doc = f"``torch.{d.legacy_name}(data or sizes)``: a {d} tensor (prefer torch.tensor)."
    return _LegacyTypeMeta(d.legacy_name, (), {"__new__": __new__, "dtype": d, "__doc__": doc})


LEGACY_TYPES = {d.legacy_name: _legacy_type(d) for d in _dtype.ALL}

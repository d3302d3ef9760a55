"""The Tensor: a NumPy array plus what autograd needs to know about it.

``_data`` is a NumPy array, or a NumPy scalar for a zero-dimensional result (NumPy hands those
back from arithmetic, and they are several times faster for scalar code); it becomes a real 0-d
array the moment something needs to write to it or share it (``.numpy()``, in-place ops).

The operations themselves live in ``_ops/``, one file per family; this module holds the tensor's
state, its Python protocols and the in-place machinery.
"""

from __future__ import annotations

import warnings
import weakref

import numpy as np

from . import _dtype
from ._engine import (
    DETACHED_IN_PLACE,
    _GradMode,
    _PostAccumulateHook,
    _RemovableHandle,
    accumulator_of,
    edge_of,
    version_cell,
)
from ._errors import check_device, hint, warn_once


class Size(tuple):
    """torch.Size: a tuple that prints as ``torch.Size([5, 3])``.

    As in torch, what is built from a Size stays one: ``shape[1:]``, ``shape + (1,)``,
    ``(1,) + shape``, ``shape * 2``.
    """

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __getitem__(self, key):
        item = tuple.__getitem__(self, key)
        return Size(item) if key.__class__ is slice else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(
                f"can only concatenate tuple (not {type(other).__name__}) to torch.Size"
            )
        return _sizes(tuple.__add__(self, other))

    def __radd__(self, other):
        if isinstance(other, tuple):
            return _sizes(tuple.__add__(other, self))
        # Python would name this class "Size" in its message; torch's C type is "torch.Size"
        if isinstance(other, list):
            raise TypeError('can only concatenate list (not "torch.Size") to list')
        raise TypeError(
            f"unsupported operand type(s) for +: '{type(other).__name__}' and 'torch.Size'"
        )

    def __mul__(self, times):
        return Size(tuple(self) * times)

    __rmul__ = __mul__


def _sizes(items: tuple) -> Size:
    """A Size of ``items``, refusing what is not an integer with torch's message."""
    for i, item in enumerate(items):
        if not hasattr(item, "__index__"):
            raise TypeError(
                f"torch.Size() takes an iterable of 'int' (item {i} is '{type(item).__name__}')"
            )
    return Size(int(item) for item in items)


class device:  # noqa: N801 - torch.device
    def __init__(self, type="cpu", index=None):  # noqa: A002 - torch's argument name
        name, _, number = str(type).partition(":")
        if name != "cuda":  # torch.device('cuda') can be made; moving a tensor there fails
            check_device(type)
        self.type = name
        self.index = int(number) if number else index

    def __repr__(self) -> str:
        if self.index is not None:
            return f"device(type='{self.type}', index={self.index})"
        return f"device(type='{self.type}')"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __eq__(self, other) -> bool:
        # As torch: a device equals only a device (x.device == 'cpu' is False).
        if not isinstance(other, device):
            return NotImplemented
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.type)


CPU = device("cpu")

NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
    "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
    "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. See "
    "github.com/pytorch/pytorch/pull/30531 for more information."
)
LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
ONLY_FLOAT_GRAD = "only Tensors of floating point and complex dtype can require gradients"

_new = object.__new__


def make_tensor(data, grad_fn=None, requires_grad=False) -> Tensor:
    """The one place tensors are born (fast: no argument parsing, no copies)."""
    t = _new(Tensor)
    t._data = data
    t._grad_fn = grad_fn
    t._requires_grad = requires_grad or grad_fn is not None
    t._version_cell = None  # created on first need: see _engine.version_cell
    t._output_nr = 0
    # Every slot is set, however rarely used: a class with __getattr__ (which could read an
    # unset one as None) gets none of Python's fast paths for attribute access.
    t._grad = t._accumulator = t._base = t._leaf_hooks = None
    return t


class Tensor:
    """A multi-dimensional array that can record the operations applied to it."""

    __slots__ = (
        "_data",
        "_grad_fn",
        "_requires_grad",
        "_grad",
        "_version_cell",
        "_output_nr",
        "_accumulator",
        "_base",
        "_leaf_hooks",
        # Set for views only (when _base is set, by _ops._base._view): the version of the shared
        # memory when the view's grad_fn was made, and how it was made (see refresh_view).
        "_view_version",
        "_view_creation",
        "_detached_from",  # set by detach_() on a tensor that had a grad_fn: that grad_fn
        "__weakref__",
    )
    # NumPy defers to us in `ndarray * tensor`, as it does for torch tensors.
    __array_priority__ = 1000
    # type(x) shows <class 'autograd_lite.Tensor'>, as torch's shows <class 'torch.Tensor'>,
    # not the file the class lives in (autograd_lite.Tensor is its public name).
    __module__ = "autograd_lite"

    def __init__(self, *args, dtype=None, device=None, requires_grad=False):
        """``torch.Tensor(...)``: the legacy constructor (sizes or data; float by default)."""
        from ._creation import legacy_data

        check_device(device)
        # torch.Tensor() is empty: shape (0,)
        default = _dtype.as_dtype(dtype) if dtype else _dtype.get_default_dtype()
        t = legacy_data(args or (0,), default)
        for slot in ("_data", "_grad_fn", "_grad", "_version_cell", "_output_nr", "_accumulator"):
            setattr(self, slot, getattr(t, slot))
        self._base = self._leaf_hooks = None
        self._requires_grad = False
        if requires_grad:
            self.requires_grad_()

    # ------------------------------------------------------------------------------------
    # What a tensor is
    # ------------------------------------------------------------------------------------
    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.FROM_NUMPY[self._data.dtype]

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        """``numel() * itemsize``: the elements seen, not the memory (an expanded view counts
        its repeats), as in torch."""
        return self._data.size * self._data.itemsize

    def data_ptr(self) -> int:
        """The address of the first element (0 for an empty tensor), as in torch: views of
        one tensor point into its memory."""
        if self._data.size == 0:
            return 0
        return self._writable().__array_interface__["data"][0]

    def stride(self, dim: int | None = None):
        arr = np.asarray(self._data)
        strides = tuple(s // arr.itemsize for s in arr.strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(np.asarray(self._data).flags.c_contiguous)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def _wrap_dim(self, dim: int) -> int:
        ndim = max(self._data.ndim, 1)
        if not -ndim <= dim < ndim:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
                f"but got {dim})"
            )
        return dim % ndim

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """Without an argument, the legacy type name (``'torch.FloatTensor'``); else a cast to
        a dtype, a legacy type (``torch.DoubleTensor``) or its name (``'torch.DoubleTensor'``)."""
        if dtype is None:
            return f"torch.{self.dtype.legacy_name}"
        return self.to(_dtype.cast_target(dtype, Tensor))

    # ------------------------------------------------------------------------------------
    # Autograd state
    # ------------------------------------------------------------------------------------
    @property
    def grad_fn(self):
        if self._base is not None and self._view_version != self._version_cell[0]:
            refresh_view(self)
        return self._grad_fn

    @property
    def output_nr(self) -> int:
        """Which output of its grad_fn this tensor is (0 but for unbind, split, ...)."""
        return self._output_nr

    @property
    def is_leaf(self) -> bool:
        return self._grad_fn is None

    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._view_version != self._version_cell[0]:
            refresh_view(self)  # (its base may have come to require grad by an in-place write)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        if self._grad_fn is not None:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if value and self._data.dtype.kind != "f":
            raise RuntimeError(
                ONLY_FLOAT_GRAD
                + hint(f"this tensor is {self.dtype}; create it with floats or call .float() first")
            )
        self._requires_grad = bool(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place. Note the default is True (one tutorial says False)."""
        if requires_grad and self._data.dtype.kind != "f":
            # torch's wording differs from the setter's (no "and complex") here.
            raise RuntimeError(
                "only Tensors of floating point dtype can require gradients"
                + hint(f"this tensor is {self.dtype}; create it with floats or call .float() first")
            )
        if self._grad_fn is not None and not requires_grad:
            self.requires_grad = False  # raises torch's error
        if self._grad_fn is None:
            self.requires_grad = requires_grad
        return self

    @property
    def grad(self):
        if self._grad_fn is not None and not self.retains_grad and self._grad is None:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(
                    f"assigned grad expected to be a Tensor or None but got grad of type "
                    f"{type(value).__name__}"
                )
            if value.shape != self.shape:
                raise RuntimeError(
                    f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor "
                    f"of size '{list(self.shape)}'. Please ensure that the gradient and the tensor "
                    "are the same size"
                )
            if value.dtype is not self.dtype:
                raise RuntimeError(
                    f"attempting to assign a gradient with dtype '{value.dtype.cpp_name}' "
                    f"to a tensor with grad_dtype '{self.dtype.scalar_name}'. The gradient "
                    "must match the tensor's grad_dtype (defaults to the tensor's dtype). You can "
                    "set the tensor's grad_dtype attribute with a specific dtype, or None to allow "
                    "any dtype. Set grad_dtype with caution. Diverging the dtypes of a tensor and "
                    "its gradient may break downstream systems that assume they match."
                )
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        fn = self._grad_fn
        return bool(fn is not None and fn._retained and any(r() is self for r in fn._retained))

    def retain_grad(self) -> None:
        """Ask backward to fill in ``.grad`` of this non-leaf tensor too."""
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._grad_fn is None or self.retains_grad:
            return
        fn = self._grad_fn
        if fn._retained is None:
            fn._retained = []
        fn._retained.append(weakref.ref(self))

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return self._grad_fn._register_tensor_hook(hook, self._output_nr)
        # A leaf keeps its hooks itself: its accumulator lives only as long as a graph uses it
        # (and holding the accumulator, which holds the leaf, would be a reference cycle).
        hooks = self._leaf_hooks
        if hooks is None:
            hooks = self._leaf_hooks = []
        hooks.append(hook)
        accumulator_of(self)._pre_hooks = hooks
        return _RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` once backward has added into this leaf's ``.grad``."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        # With the leaf's other hooks: the engine runs them once the node has accumulated.
        return accumulator_of(self)._add_pre_hook(_PostAccumulateHook(hook))

    @property
    def _version(self) -> int:
        """How many times the data was changed in place (shared with views)."""
        cell = self._version_cell
        return cell[0] if cell is not None else 0

    @property
    def data(self) -> Tensor:
        """The same data, outside the graph, with its own version counter (torch's .data)."""
        return make_tensor(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}")
        if self._requires_grad and value._data.dtype.kind not in "fc":
            raise RuntimeError(
                "data set to a tensor that requires gradients must be floating point or complex "
                "dtype"
            )
        self._data = value._data

    @data.deleter
    def data(self) -> None:
        raise RuntimeError("Deleting tensor data is not allowed. Delete tensor instead!")

    def detach(self) -> Tensor:
        """The same data, cut off from the graph (shares the version counter)."""
        t = make_tensor(self._data)
        t._version_cell = version_cell(self)
        return t

    def detach_(self) -> Tensor:
        if self._base is not None:  # its history is its base's too: it cannot leave alone
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients. To fix this error, please refer to the "
                "Optimizer.zero_grad() function in torch/optim/optimizer.py as the solution."
            )
        if self._grad_fn is not None:  # nodes that saved it must refuse it now, as in torch
            self._detached_from = self._grad_fn
            DETACHED_IN_PLACE[0] = True
        self._grad_fn = None
        self._requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None, **kwargs):
        """Add d(self)/d(leaf) into every leaf's ``.grad`` (see autograd.backward)."""
        if kwargs:
            _reject_legacy_backward_kwargs(kwargs)
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    @property
    def volatile(self) -> bool:
        """The 2017 flag, gone: always False (torch warns)."""
        warnings.warn("volatile was removed (Variable.volatile is always False)", stacklevel=2)
        return False

    @volatile.setter
    def volatile(self, value) -> None:
        warnings.warn(
            "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
            stacklevel=2,
        )

    @property
    def creator(self):
        """Answers the 2017 API with its modern name."""
        raise AttributeError(
            "'Tensor' object has no attribute 'creator'"
            + hint(".creator is the 2017 name of what is now .grad_fn")
        )

    # ------------------------------------------------------------------------------------
    # Conversions
    # ------------------------------------------------------------------------------------
    def _writable(self) -> np.ndarray:
        """The data as a real ndarray that in-place writes and NumPy views can share."""
        data = self._data
        if not isinstance(data, np.ndarray):
            data = self._data = np.array(data)
        elif not data.flags.writeable and not _overlaps(data):
            # A part of an expanded tensor (read-only in NumPy) with no element repeated, such
            # as x.expand(3)[0]: torch writes into the memory it shares.
            data = self._data = writable_alias(data)
        return data

    def numpy(self, force: bool = False) -> np.ndarray:
        """The data as a NumPy array sharing memory with the tensor (refused, outside no_grad,
        for a tensor that requires grad: the array would not be in the graph)."""
        if self._requires_grad and not force and _GradMode.enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._writable()

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        return arr if dtype is None else arr.astype(dtype, copy=False)

    def item(self):
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
                + hint("item() is for one-element tensors; use .tolist() for all the values")
            )
        return self._data.item() if self._data.ndim == 0 else self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def cpu(self) -> Tensor:
        return self

    def cuda(self, *args, **kwargs):
        check_device("cuda")

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)`` or ``to(other_tensor)``."""
        dtype = kwargs.pop("dtype", None)
        check_device(kwargs.pop("device", None))
        kwargs.pop("non_blocking", None)
        copy = kwargs.pop("copy", False)
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, (str, device)):
                check_device(arg)
            elif arg is not None:
                dtype = arg
        # torch's argument parser reads Python's float as float64 here (not the default dtype)
        target = self.dtype if dtype is None else _dtype.PYTHON_TYPES.get(dtype) or dtype
        target = _dtype.as_dtype(target)
        if target.np == self._data.dtype and not copy:
            return self
        from ._ops.views import to_dtype

        return to_dtype(self, target)  # (copy=True too: a new tensor, ToCopyBackward0)

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def half(self) -> Tensor:
        return self.to(_dtype.float16)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def short(self) -> Tensor:
        return self.to(_dtype.int16)

    def char(self) -> Tensor:
        return self.to(_dtype.int8)

    def byte(self) -> Tensor:
        return self.to(_dtype.uint8)

    def type_as(self, other) -> Tensor:
        if not isinstance(other, Tensor):
            raise TypeError(
                "type_as(): argument 'other' (position 1) must be Tensor, "
                f"not {type(other).__name__}"
            )
        return self.to(other.dtype)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool_)

    # Casts to dtypes autograd_lite does not have: a clear error instead of a missing method.
    def bfloat16(self) -> Tensor:
        raise _dtype.unsupported("bfloat16")

    def cfloat(self) -> Tensor:
        raise _dtype.unsupported("complex64")

    def cdouble(self) -> Tensor:
        raise _dtype.unsupported("complex128")

    def chalf(self) -> Tensor:
        raise _dtype.unsupported("complex32")

    def new(self, *args) -> Tensor:
        """The legacy constructor ``x.new(...)``: sizes (zeros here) or data, in x's dtype."""
        from ._creation import legacy_data

        if not args:  # x.new() is empty
            args = (0,)
        elif len(args) == 1 and isinstance(args[0], Size):  # sizes, () included
            return legacy_data(tuple(args[0]), self.dtype)
        return legacy_data(args, self.dtype)

    def new_tensor(self, data, dtype=None, requires_grad=False) -> Tensor:
        from ._creation import tensor

        return tensor(data, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, requires_grad=False) -> Tensor:
        from ._creation import zeros

        return zeros(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, requires_grad=False) -> Tensor:
        from ._creation import ones

        return ones(*size, dtype=dtype or self.dtype, requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, requires_grad=False) -> Tensor:
        from ._creation import full

        return full(size, fill_value, dtype=dtype or self.dtype, requires_grad=requires_grad)

    # ------------------------------------------------------------------------------------
    # Python protocols
    # ------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        from ._printing import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return format(str(self), spec)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                "Boolean value of Tensor with more than one value is ambiguous"
                + hint("use .all() or .any() to ask about every element")
            )
        return bool(self._data)

    def __float__(self) -> float:
        if self._requires_grad:  # (torch says it once per process)
            warn_once(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                "behavior.\nConsider using tensor.detach() first.",
                stacklevel=2,
            )
        return float(self._python_scalar())

    def __int__(self) -> int:
        return int(self._python_scalar())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __complex__(self) -> complex:
        return complex(self._python_scalar())

    def _python_scalar(self):
        """``item()`` for float(t), int(t), math.exp(t), ...: their error is a ValueError."""
        if self._data.size != 1:
            raise ValueError(
                "only one element tensors can be converted to Python scalars"
                + hint(
                    f"this tensor has {self._data.size} elements: reduce it first (.sum(), "
                    ".mean(), t[i]), or use .tolist() for all the values"
                )
            )
        return self.item()

    __hash__ = object.__hash__

    def __contains__(self, element) -> bool:
        return bool((self == element).any())

    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        t = make_tensor(np.array(self._data, copy=True), requires_grad=self._requires_grad)
        if self._grad is not None:
            t._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    def __reduce_ex__(self, protocol):
        return (_rebuild, (np.asarray(self._data), self._requires_grad))

    # ------------------------------------------------------------------------------------
    # In-place machinery (the ops ending in _ use it)
    # ------------------------------------------------------------------------------------
    def _check_inplace(self) -> None:
        """torch refuses in-place changes to leaves that require grad (and to their views), and
        to views whose history could not record it (see refresh_view)."""
        if not _GradMode.enabled:
            return
        if self._base is not None and self._view_creation is not None:
            if self._requires_grad or self._base._requires_grad:
                raise _view_error(self, self._view_creation, indirect=False)
        if self._grad_fn is None and self._requires_grad:
            raise RuntimeError(
                LEAF_INPLACE
                + hint(
                    "update parameters inside `with torch.no_grad():`, or use an out-of-place "
                    "op (x = x + 1) to build a new tensor"
                )
            )
        base = self._base
        if base is not None and base._requires_grad:
            if base._grad_fn is None:
                raise RuntimeError(
                    "a view of a leaf Variable that requires grad is being used in an in-place "
                    "operation."
                )
            if _positions_in_base(self) is None:
                raise RuntimeError(
                    "in-place operation on a view of a tensor that requires grad"
                    + hint(
                        "its base's memory is not contiguous, so autograd_lite cannot rebase it; "
                        "clone() the view first, or use out-of-place ops"
                    )
                )

    def _assign(self, result: Tensor, constant: bool = False) -> Tensor:
        """Make ``result`` (an out-of-place computation) this tensor's new value and history.

        ``constant``: the result is one value everywhere (fill_, zero_), which torch writes even
        into an expanded tensor, whose elements share memory; any other write there is refused.
        """
        data = self._writable()
        if not data.flags.writeable and _overlaps(data):
            if not constant:
                raise overlap_error()
            data = writable_alias(data)
        if result._data.shape != data.shape:
            raise RuntimeError(
                f"output with shape {list(data.shape)} doesn't match the broadcast shape "
                f"{list(result._data.shape)}"
            )
        result_dtype = _dtype.FROM_NUMPY[result._data.dtype]
        if not _dtype.can_cast(result_dtype, self.dtype):
            raise RuntimeError(
                f"result type {result_dtype.scalar_name} can't be cast to the desired "
                f"output type {self.dtype.scalar_name}"
            )
        node = result._grad_fn
        if node is not None and self._base is not None and self._view_creation is not None:
            raise _view_error(self, self._view_creation, indirect=False)  # (recorded with grad)
        if node is not None and node._saved:
            self._keep_original(node, data)
        np.copyto(data, result._data, casting="unsafe")
        version_cell(self)[0] += 1
        if self._base is not None:
            self._rebase_written_view(node)
        else:
            self._rebase(node)
        return self

    def _rebase_written_view(self, node) -> None:
        """``_rebase`` and ``_rebase_base`` for a view whose values an in-place op changed
        (its shape and place in the base stay): the op reads the view's old values from the base,
        as torch's CopySlices does, rather than through the view's old grad_fn, so the hooks
        registered on the view before the write do not fire for it (torch's rule)."""
        old = self._grad_fn
        self._rebase(node)
        if node is not None and old is not None and old in node._next:
            positions = _positions_in_base(self)
            if positions is not None:
                from ._ops.indexing import as_strided_node

                before = as_strided_node(self._base, positions, self._data)
                node._next = tuple(before if child is old else child for child in node._next)
        self._rebase_base()

    def _rebase_base(self) -> None:
        """After an in-place op on a view, the base's history records the write too (torch's
        CopySlices): the base's new value is its old one with the view's new values in place,
        and the view becomes a view of that new base."""
        base = self._base
        if (
            base is None
            or not _GradMode.enabled
            or not (base._requires_grad or self._requires_grad)
        ):
            return
        from ._ops._base import _record
        from ._ops.indexing import CopySlices, _take

        key = _positions_in_base(self)
        written = CopySlices()
        written.key = key
        base._rebase(_record(written, (base, self), base._writable())._grad_fn)
        view_node = _take(base, key, "AsStridedBackward0")._grad_fn
        self._move_retained(self._grad_fn, view_node)
        self._grad_fn = view_node
        self._output_nr = 0
        self._view_version = self._version_cell[0]

    def _keep_original(self, node, data) -> None:
        """An op's rule that needs ``self`` gets the value from before the write (torch's
        ``original_self``): ``y.clamp_(0, 1)`` or ``y.pow_(2)`` then backward works."""
        saved = node._saved
        if saved[0] is not self or node.saved_names[:1] != ("self",):
            return
        original = make_tensor(data.copy(), self._grad_fn, self._requires_grad)
        original._output_nr = self._output_nr
        node._saved = (original, *saved[1:])
        if node._saved_versions is not None:
            node._saved_versions = (0, *node._saved_versions[1:])

    def _rebase(self, grad_fn) -> None:
        """After an in-place op the tensor's history is the op's node (as in torch)."""
        if grad_fn is None:
            return
        if self._base is not None and self._view_creation is not None:
            raise _view_error(self, self._view_creation, indirect=False)
        self._move_retained(self._grad_fn, grad_fn)
        self._grad_fn = grad_fn
        self._requires_grad = True
        self._output_nr = 0
        if self._base is not None:  # a view: its grad_fn is current for the memory's version
            self._view_version = self._version_cell[0]
        if grad_fn._result is not None:
            grad_fn.save_result(self)

    def _move_retained(self, old, new) -> None:
        """retain_grad() follows the tensor to its new grad_fn: its .grad is the gradient of
        its current value, not of the value an in-place op overwrote."""
        if old is not None and old._retained:
            new._retained = [r for r in old._retained if r() is self]
            old._retained = [r for r in old._retained if r() is not self]

    def _accumulate_(self, other: Tensor) -> None:
        """``self += other`` for gradient accumulation (no graph, no checks)."""
        data = self._writable()
        data += other._data
        version_cell(self)[0] += 1

    def _edge(self):
        return edge_of(self)


# How a view was made, when that forbids in-place changes through it or its base (torch's
# CreationMeta); None for an ordinary view.
NO_GRAD_VIEW = "no_grad"
INFERENCE_MODE_VIEW = "inference_mode"
MULTI_OUTPUT_VIEW = "multi_output"  # one of several views returned by one op (unbind, split)
CUSTOM_FUNCTION_VIEW = "custom_function"  # an output of a custom Function that is a view


def refresh_view(view: Tensor) -> None:
    """Bring a view's history up to date once its base, or another view of the same memory,
    was changed in place after the view got its grad_fn: its values now come from the base's
    newest node, so its grad_fn becomes a selection from the base (AsStridedBackward0).  torch
    does this lazily too, when the view is next used, and so does this library: the ops check
    the version of a view's memory where they read its grad_fn.  Hooks registered on the old
    grad_fn stay there (they no longer fire), as in torch."""
    version = view._version_cell[0]
    base = view._base
    if view._grad_fn is None and not base._requires_grad:  # no history to bring up to date
        view._view_version = version
        return
    if view._view_creation is not None:
        raise _view_error(view, view._view_creation, indirect=True)
    positions = _positions_in_base(view)
    if positions is None:  # (a base that is not contiguous: _check_inplace refused the write)
        view._view_version = version
        return
    from ._ops.indexing import as_strided_node

    view._rebase(as_strided_node(base, positions, view._data))
    view._view_version = version


def _view_error(view: Tensor, creation: str, indirect: bool) -> RuntimeError:
    """torch's error for an in-place change its view machinery cannot record."""
    if indirect:
        what = "its base or another view of its base has been modified inplace"
    else:
        what = "is being modified inplace"
    if creation in (NO_GRAD_VIEW, INFERENCE_MODE_VIEW):
        from ._engine import _op_name

        inference = creation == INFERENCE_MODE_VIEW
        mode = "inference mode" if inference else "no_grad mode"
        made = f"A view was created in {mode}"
        if view._grad_fn is not None:  # a view, in grad mode, of a view made in that mode
            made = (
                f"Output {view._output_nr} of {_op_name(view._grad_fn)} is a view of a view "
                f"which was created in {mode}"
            )
        block = "inference_mode" if inference else "no_grad"
        return RuntimeError(
            f"{made} and {what} {'in normal mode' if inference else 'with grad mode enabled'}. "
            "Given that this use case is ambiguous and error-prone, it is forbidden. You can "
            "clarify your code by moving both the view and the inplace either both inside the "
            f"{block} block (if you don't want the inplace to be tracked) or both outside (if you "
            "want the inplace to be tracked)."
        )
    from ._engine import _op_name

    if view._grad_fn is None:  # (made without a graph: torch names no op then)
        prefix = f"A view was created in no_grad mode and {what} with grad mode enabled."
    else:
        prefix = f"Output {view._output_nr} of {_op_name(view._grad_fn)} is a view and {what}."
    if creation == MULTI_OUTPUT_VIEW:
        return RuntimeError(
            f"{prefix} This view is the output of a function that returns multiple views. Such "
            "functions do not allow the output views to be modified inplace. You should replace "
            "the inplace operation by an out-of-place one."
        )
    return RuntimeError(
        f"{prefix} This view was created inside a custom Function (or because an input was "
        "returned as-is) and the autograd logic to handle view+inplace would override the "
        "custom backward associated with the custom Function, leading to incorrect gradients. "
        "This behavior is forbidden. You can fix this by cloning the output of the custom "
        "Function."
    )


def _overlaps(data: np.ndarray) -> bool:
    """Whether several elements of ``data`` are one place in memory (an expanded dimension)."""
    return any(stride == 0 and size > 1 for stride, size in zip(data.strides, data.shape))


def overlap_error() -> RuntimeError:
    """torch's refusal to write a computed result into an expanded tensor."""
    return RuntimeError(
        "unsupported operation: more than one element of the written-to tensor refers to a "
        "single memory location. Please clone() the tensor before performing the operation."
        + hint(
            "x.expand(...) repeats one element without copying it; write into "
            "x.expand(...).clone(), or into x itself"
        )
    )


def writable_alias(data: np.ndarray) -> np.ndarray:
    """A view of ``data`` that may be written into, or ``data`` itself when NumPy refuses (its
    memory is not writable)."""
    alias = data.view()
    try:
        alias.flags.writeable = True
    except ValueError:
        return data
    return alias


def _positions_in_base(view: Tensor):
    """Where a view's elements sit in its base's memory, as NumPy index arrays into the base
    (None when the base is not contiguous: then there is no simple answer)."""
    base = view._base._writable()
    data = view._writable()
    if not base.flags.c_contiguous or base.itemsize != data.itemsize:
        return None
    size = base.itemsize
    offset = (data.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // size
    flat = np.arange(base.size, dtype=np.int64)[offset:]
    positions = np.lib.stride_tricks.as_strided(
        flat, data.shape, tuple(s // size * flat.itemsize for s in data.strides), writeable=False
    )
    return np.unravel_index(positions, base.shape)


def _rebuild(data, requires_grad):
    return make_tensor(np.array(data), requires_grad=requires_grad)


def _reject_legacy_backward_kwargs(kwargs) -> None:
    name = next(iter(kwargs))
    message = f"Tensor.backward() got an unexpected keyword argument '{name}'"
    if name == "retain_variables":
        message += hint(
            "retain_variables was renamed retain_graph in 2017: backward(retain_graph=True)"
        )
    raise TypeError(message)

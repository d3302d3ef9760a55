"""Custom operations: ``class MyOp(autograd.Function)`` with static forward and backward.

As in torch, ``ctx`` *is* the backward node: ``MyOp.apply(x)`` creates one, runs ``forward``
without recording (the forward is one opaque step of the graph), and later the engine calls
``backward(ctx, *grads)`` through the node's ``gradient``.
"""

from __future__ import annotations

import functools
import warnings

from .._engine import Node, _GradMode, connect, no_grad
from .._errors import hint
from .._tensor import Tensor, make_tensor


class _OutputSlot:
    """Stands in ``ctx.saved_tensors`` for an output (holding the output would be a cycle)."""

    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


class FunctionCtx:
    """What ``forward`` may tell ``backward``: ``ctx.save_for_backward``, ``ctx.x = ...``."""

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument "
                    f"{i} is of type {type(t).__name__}"
                    + hint("keep numbers and other objects as attributes: ctx.alpha = alpha")
                )
        self.to_save = tensors

    def mark_dirty(self, *tensors) -> None:
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value


class BackwardCFunction(Node, FunctionCtx):
    """The node of one ``Function.apply`` call; named ``<FunctionName>Backward``."""

    _function = None  # the Function subclass, set on the per-class node type

    def __call__(self, *grads):
        # torch's nodes of Python Functions cannot be called by hand (its C++ nodes can).
        raise TypeError(f"'{type(self).__name__}' object is not callable")

    def __init__(self):
        super().__init__()
        self.to_save = ()
        self.materialize_grads = True
        self.non_differentiable = ()

    @property
    def saved_tensors(self) -> tuple:
        saved = Node.saved_tensors.fget(self)
        outputs = self._outputs
        return tuple(
            self._rebuild_output(outputs[s.index]) if isinstance(s, _OutputSlot) else s
            for s in saved
        )

    def _rebuild_output(self, spec):
        data, cell, output_nr = spec
        t = make_tensor(data, self)
        t._version_cell, t._output_nr = cell, output_nr
        return t

    @property
    def needs_input_grad(self) -> tuple:
        return self._needs_input_grad

    def materialize(self, grads):
        return [
            g if g is not None or not self.materialize_grads else _zeros_like_output(self, i)
            for i, g in enumerate(grads)
        ]

    def gradient(self, grads):
        if self.num_outputs == 1:
            grads = (grads,)
        result = self._function.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self._needs_input_grad)
        if len(result) != expected:
            raise RuntimeError(
                f"function {self._name} returned an incorrect number of gradients (expected "
                f"{expected}, got {len(result)})"
                + hint("backward returns one gradient per forward input (None for non-tensors)")
            )
        for i, (g, pos) in enumerate(zip(result, range(expected))):
            shape = self._arg_shapes[pos]
            if g is not None and shape is not None and not _broadcastable(g.shape, shape):
                raise RuntimeError(
                    f"Function {self._name} returned an invalid gradient at index {i} - got "
                    f"{list(g.shape)} but expected shape compatible with {list(shape)}"
                )
        return tuple(result[pos] for pos in self._tensor_positions)


def _broadcastable(grad_shape, shape) -> bool:
    if len(grad_shape) < len(shape):
        return False
    lead = len(grad_shape) - len(shape)
    return all(s == 1 or s == g for s, g in zip(shape, grad_shape[lead:]))


def _zeros_like_output(node, i):
    from .._creation import zeros

    data, _, _ = node._outputs[i]
    return zeros(*data.shape, dtype=data.dtype)


class _FunctionMeta(type):
    def __init__(cls, name, bases, namespace):
        super().__init__(name, bases, namespace)
        cls._backward_cls = type(
            f"{name}Backward", (BackwardCFunction,), {"_function": cls, "_name": f"{name}Backward"}
        )


class Function(metaclass=_FunctionMeta):
    """Base class of custom operations; see the module docstring."""

    def __init__(self, *args, **kwargs):
        warnings.warn(
            f"{self.__class__} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
            + hint("call MyFunction.apply(x), with @staticmethod forward(ctx, ...) and backward")
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls._backward_cls()
        ctx._needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args, **kwargs)
            else:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
        if not (_GradMode.enabled and any(ctx._needs_input_grad)):
            return output
        return _connect(ctx, args, output)


def _connect(ctx, args, output):
    """Make ``ctx`` the grad_fn of the outputs and wire it to the tensor inputs."""
    single = isinstance(output, Tensor)
    outputs = (output,) if single else tuple(output)
    tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    ctx._tensor_positions = tensor_positions
    ctx._arg_shapes = [a._data.shape if isinstance(a, Tensor) else None for a in args]
    connect(ctx, [args[i] for i in tensor_positions])
    ctx.num_outputs = len(outputs)
    non_diff = {id(t) for t in ctx.non_differentiable}
    wired = []
    for nr, out in enumerate(outputs):
        if not isinstance(out, Tensor) or id(out) in non_diff:
            wired.append(out)
            continue
        if any(out is a for a in args):  # an input returned as is becomes a new view of it
            out = make_tensor(out._data)
        out._grad_fn, out._requires_grad, out._output_nr = ctx, True, nr
        wired.append(out)
    ctx._outputs = [
        (o._data, o._version_cell, nr) if isinstance(o, Tensor) else None
        for nr, o in enumerate(wired)
    ]
    ctx.save(
        *(_OutputSlot(wired.index(t)) if any(t is o for o in wired) else t for t in ctx.to_save)
    )
    ctx.to_save = ()
    return wired[0] if single else type(output)(wired) if isinstance(output, tuple) else wired


def once_differentiable(backward):
    """Mark a backward that is not itself differentiable (it runs without recording)."""

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            outputs = backward(ctx, *grads)
        tracked = any(isinstance(g, Tensor) and g._requires_grad for g in grads)
        if not (_GradMode.enabled and tracked):
            return outputs
        # Under create_graph, as in torch: the gradients require grad, but through a node that
        # refuses to be differentiated (rather than silently giving a zero second derivative).
        single = not isinstance(outputs, tuple)
        wrapped = tuple(_delayed_error(g) for g in ((outputs,) if single else outputs))
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Node):
    _name = "torch::autograd::Error"  # torch prints grad_fn=<Error>

    def gradient(self, grad):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def _delayed_error(grad):
    if not isinstance(grad, Tensor):
        return grad
    leaf = make_tensor(grad._data, requires_grad=True)
    node = _DelayedError()
    connect(node, (leaf,))
    return make_tensor(grad._data, node)

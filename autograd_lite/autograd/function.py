"""Custom operations: ``class MyOp(autograd.Function)`` with static forward and backward.

As in torch, ``ctx`` *is* the backward node: ``MyOp.apply(x)`` creates one, runs ``forward``
without recording (the forward is one opaque step of the graph), and later the engine calls
``backward(ctx, *grads)`` through the node's ``gradient``.
"""

from __future__ import annotations

import functools
import inspect
import warnings

from .._engine import Node, _GradMode, connect, no_grad
from .._errors import hint
from .._ops._base import _view
from .._tensor import CUSTOM_FUNCTION_VIEW, Tensor, make_tensor


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

    def apply(self, *grads):
        """Run the Function's backward by hand, as torch's ``grad_fn.apply(g)``: its result as
        it returns it."""
        return self._function.backward(self, *grads)

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

    @property
    def saved_variables(self) -> tuple:
        """The 2017 name of ``saved_tensors``."""
        warnings.warn(
            "'saved_variables' is deprecated; use 'saved_tensors'", DeprecationWarning, stacklevel=2
        )
        return self.saved_tensors

    def _rebuild_output(self, spec):
        data, cell, output_nr = spec
        t = make_tensor(data, self)
        t._version_cell, t._output_nr = cell, output_nr
        return t

    @property
    def needs_input_grad(self) -> tuple:
        return self._needs_input_grad

    def materialize(self, grads):
        """Zeros for the outputs no gradient reached (``ctx.set_materialize_grads(False)``
        keeps None); outputs that are not tensors get None, as in torch."""
        if not self.materialize_grads:
            return grads
        outputs = self._outputs
        return [
            g if g is not None or outputs[i] is None else _zeros_like_output(self, i)
            for i, g in enumerate(grads)
        ]

    def gradient(self, grads):
        if self.num_outputs == 1:
            grads = (grads,)
        result = self._function.backward(self, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        expected = len(self._needs_input_grad)
        if len(result) > expected and all(g is None for g in result[expected:]):
            result = result[:expected]  # extra trailing Nones are fine, as in torch
        if len(result) != expected:
            raise RuntimeError(
                f"function {self._name} returned an incorrect number of gradients (expected "
                f"{expected}, got {len(result)})"
                + hint("backward returns one gradient per forward input (None for non-tensors)")
            )
        for i, (g, pos) in enumerate(zip(result, range(expected))):
            shape = self._arg_shapes[pos]
            if g is not None and shape is None:
                raise RuntimeError(
                    f"function {self._name} returned a gradient different than None at position "
                    f"{i + 1}, but the corresponding forward input was not a Variable"
                )
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
        separate_setup = cls.setup_context is not Function.setup_context
        if separate_setup:
            # As torch does: setup_context's `inputs` are all of forward's arguments, defaults
            # included, and backward returns one gradient for each.
            bound = inspect.signature(cls.forward).bind(*args, **kwargs)
            bound.apply_defaults()
            args, kwargs = bound.args, bound.kwargs
        ctx = cls._backward_cls()
        ctx._needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        with no_grad():
            if separate_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        if not (_GradMode.enabled and any(ctx._needs_input_grad)):
            return _unconnected(args, output)
        return _connect(ctx, args, output)


class InplaceFunction(Function):
    """Kept for old code, as in torch: a Function with an ``inplace`` flag."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace


def _unconnected(args, output):
    """The outputs when nothing is recorded, as torch gives them: an input returned as is comes
    back as a new tensor on the same memory (a view of it in grad mode), and such views, like
    the views made inside forward, may not be changed in place with grad later."""
    single = isinstance(output, Tensor)
    outputs = (output,) if single else tuple(output)
    if not any(isinstance(o, Tensor) for o in outputs):
        return output
    result = []
    for out in outputs:
        if out.__class__ is Tensor:  # (a subclass of Tensor stays itself: its own protocols)
            as_is = any(out is a for a in args)
            if not _GradMode.enabled:
                out = out.detach() if as_is else out
            else:
                out = _view(out._data, out, None) if as_is else out
                if out._base is not None:
                    out._view_creation = CUSTOM_FUNCTION_VIEW
        result.append(out)
    if single:
        return result[0]
    return type(output)(result) if isinstance(output, tuple) else result


def _connect(ctx, args, output):
    """Make ``ctx`` the grad_fn of the outputs and wire it to the tensor inputs."""
    single = isinstance(output, Tensor)
    outputs = (output,) if single else tuple(output)
    tensor_positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
    ctx._tensor_positions = tensor_positions
    ctx._arg_shapes = [a._data.shape if isinstance(a, Tensor) else None for a in args]
    dirty = getattr(ctx, "dirty_tensors", ())
    if dirty:
        dirty = _check_dirty(dirty, args, outputs)
    dirty = {id(t) for t in dirty}
    connect(ctx, [args[i] for i in tensor_positions])
    ctx.num_outputs = len(outputs)
    non_diff = {id(t) for t in ctx.non_differentiable}
    wired = []
    for nr, out in enumerate(outputs):
        if not isinstance(out, Tensor) or id(out) in non_diff:
            wired.append(out)
            continue
        if id(out) in dirty:  # an input changed in place: it stays itself, with a new history
            out._rebase(ctx)
            out._output_nr = nr
            out._rebase_base()  # a view: its base's history records the write too
            wired.append(out)
            continue
        if any(out is a for a in args):  # an input returned as is becomes a new view of it
            out = _view(out._data, out, None)
        if out._base is not None:
            # torch refuses in-place changes through such a view: they would bypass backward.
            out._view_creation = CUSTOM_FUNCTION_VIEW
            out._view_version = out._version_cell[0]
        out._grad_fn, out._requires_grad, out._output_nr = ctx, True, nr
        wired.append(out)
    ctx._outputs = [
        (o._data, o._version_cell, nr) if isinstance(o, Tensor) else None
        for nr, o in enumerate(wired)
    ]
    # An output saved for backward is kept as its position (by identity: `==` on tensors is
    # elementwise, so list.index would not do).
    positions = {id(o): nr for nr, o in enumerate(wired) if isinstance(o, Tensor)}
    ctx.save(*(_OutputSlot(positions[id(t)]) if id(t) in positions else t for t in ctx.to_save))
    # Holding them would be a reference cycle (tensor -> its node -> ctx -> tensor).
    ctx.to_save = ctx.dirty_tensors = ctx.non_differentiable = ()
    return wired[0] if single else type(output)(wired) if isinstance(output, tuple) else wired


def _check_dirty(dirty, args, outputs) -> list:
    """torch's checks of ``ctx.mark_dirty``: inputs only (a new tensor is let through with a
    warning, a new view is refused), all returned, and each one a tensor that may be changed
    in place.  Returns the inputs marked dirty."""
    inputs = []
    for t in dirty:
        if any(t is a for a in args):
            inputs.append(t)
            continue
        message = (
            "ctx.mark_dirty() received a tensor that was not an input. Only input Tensors that "
            "have been mutated should be passed to ctx.mark_dirty()."
        )
        if t._base is not None:
            raise RuntimeError(message)
        warnings.warn(message, UserWarning, stacklevel=4)
    for t in inputs:
        if not any(t is o for o in outputs):
            raise RuntimeError(
                "Some elements marked as dirty during the forward method were not returned as "
                "output. The inputs that are modified inplace must all be outputs of the "
                "Function."
            )
    several = sum(isinstance(o, Tensor) for o in outputs) > 1
    for t in inputs:
        if t._base is not None:
            t._check_inplace()  # the errors of an in-place change through a view
            if several:
                raise RuntimeError(
                    "If your Function modifies inplace an input that is a view of another "
                    "Tensor, your Function cannot return more than one Tensor. This is not "
                    "supported by the current autograd engine. You should either make sure the "
                    "input is not a view (using .clone() for example) or make your Function only "
                    "return one Tensor (potentially splitting it into two Functions: one doing "
                    "the inplace that returns a single Tensor and a second one that does the "
                    "other operations). You can ask on the forum https://discuss.pytorch.org/ if "
                    "you need help to do this change."
                )
        elif t._grad_fn is None and t._requires_grad:
            raise RuntimeError(
                "a leaf Variable that requires grad has been used in an in-place operation."
            )
    return inputs


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
        wrapped = _through_error_node((outputs,) if single else outputs)
        return wrapped[0] if single else wrapped

    return wrapper


class _DelayedError(Node):
    _name = "torch::autograd::Error"  # torch prints grad_fn=<Error>

    def gradient(self, grad):
        raise RuntimeError(
            "trying to differentiate twice a function that was marked with @once_differentiable"
        )


def _through_error_node(grads) -> tuple:
    """The gradients again, now the outputs of one node that raises when differentiated: one
    output per gradient, each with an edge to a leaf of its own (None for a None gradient)."""
    leaves = [
        make_tensor(g._data, requires_grad=True) if isinstance(g, Tensor) else None for g in grads
    ]
    node = _DelayedError()
    node.num_outputs = len(grads)
    connect(node, leaves)
    outputs = []
    for nr, (g, leaf) in enumerate(zip(grads, leaves)):
        if leaf is None:
            outputs.append(g)
            continue
        out = make_tensor(g._data, node)
        out._output_nr = nr
        outputs.append(out)
    return tuple(outputs)

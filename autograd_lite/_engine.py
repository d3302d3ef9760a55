"""The autograd engine: backward nodes, saved tensors, and the backward pass.

Every differentiable operation leaves a :class:`Node` behind (torch calls it ``grad_fn``).  A node
knows the nodes of its inputs (``next_functions``) and whatever its gradient rule needs
(``saved_tensors``).  ``backward`` walks the nodes from the output to the leaves in topological
order, calling each node's ``gradient`` and adding what arrives at the leaves into ``.grad``.

One flag decides everything about higher-order derivatives: gradient rules are written with the
library's own tensor operations, and ``backward`` runs them with grad mode set to
``create_graph``.  With ``create_graph=False`` they compute plain numbers; with ``True`` they record
a graph of their own, which can be differentiated again.
"""

from __future__ import annotations

import functools
import weakref

from ._errors import hint

# --------------------------------------------------------------------------------------------
# Grad mode: the one flag every operation reads.
# --------------------------------------------------------------------------------------------


class _GradMode:
    enabled = True


grad_mode = _GradMode  # ops read ``grad_mode.enabled``


def is_grad_enabled() -> bool:
    return _GradMode.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    mode = True

    def __init__(self, func=None):
        # Allows both ``@no_grad()`` and the bare ``@no_grad`` torch 2 accepts.
        self._func = func
        if func is not None:
            functools.update_wrapper(self, func)

    def __enter__(self):
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __exit__(self, *exc):
        _GradMode.enabled = self._previous
        return False

    def __call__(self, *args, **kwargs):
        if self._func is not None:  # used as a bare decorator
            with self.__class__():
                return self._func(*args, **kwargs)
        (func,) = args

        @functools.wraps(func)
        def wrapper(*a, **k):
            with self.__class__():
                return func(*a, **k)

        return wrapper

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):  # noqa: N801 - torch's name
    """Operations inside record no graph: for evaluation and for updating parameters."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    mode = True


class inference_mode(_GradModeContext):  # noqa: N801
    """Here the same as no_grad (torch additionally marks the results as inference tensors)."""

    def __init__(self, mode=True):
        super().__init__(mode if callable(mode) else None)
        self.mode = not mode if not callable(mode) else False


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """``set_grad_enabled(False)`` switches at once; as a context manager it restores on exit."""

    def __init__(self, mode: bool):
        self._func = None
        self.mode = bool(mode)
        self._previous = _GradMode.enabled
        _GradMode.enabled = self.mode

    def __enter__(self):
        pass

    def clone(self):
        return set_grad_enabled(self.mode)


# --------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """A backward function of the graph, named like torch's (``MulBackward0``).

    Subclasses define ``gradient(self, grad)`` returning one gradient (or None) per input, in
    differentiable tensor operations.  What they need is in ``self.saved_tensors`` (inputs, checked
    against in-place changes) and ``self.saved_result`` (the output, rebuilt on demand so the node
    never holds its own output, which would be a reference cycle).
    """

    __slots__ = (
        "next_functions",
        "_input_meta",
        "_saved",
        "_saved_versions",
        "_result",
        "_output_meta",
        "_freed",
        "_pre_hooks",
        "_retained",
        "__dict__",
        "__weakref__",
    )
    _name = "Node"
    saved_names: tuple = ()  # names of saved values, as torch's ``_saved_<name>`` attributes
    num_outputs = 1

    def __init__(self):
        self._saved = None
        self._result = None
        self._freed = False
        self._pre_hooks = None
        self._retained = None

    # -- introspection, as in torch ---------------------------------------------------------
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"<{self._name} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def saved_values(self) -> dict:
        """What the gradient rule keeps, by torch's names (for display; no version check)."""
        values = {}
        if self._saved is not None:
            values.update(zip(self.saved_names, self._saved))
        if self._result is not None:
            values["result"] = self._rebuild_result()
        return values

    def __getattr__(self, attr):
        # torch exposes saved values as grad_fn._saved_self, ._saved_result, ...
        if attr.startswith("_saved_"):
            key = attr[len("_saved_") :]
            if self._freed:
                raise RuntimeError(SECOND_BACKWARD)
            values = self.saved_values()
            if key in values:
                return values[key]
        raise AttributeError(f"'{self._name}' object has no attribute '{attr}'")

    # -- saving for backward ----------------------------------------------------------------
    def save(self, *values) -> None:
        """Keep inputs for the gradient rule, remembering each tensor's version."""
        self._saved = values
        self._saved_versions = tuple(
            v._version_cell[0] if hasattr(v, "_version_cell") else None for v in values
        )

    def save_result(self, out) -> None:
        """Keep the output's data (not the tensor itself: it holds this node)."""
        self._result = (out._data, out._version_cell, out._version_cell[0], out._requires_grad)

    @property
    def saved_tensors(self) -> tuple:
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        saved = self._saved
        for value, version in zip(saved, self._saved_versions):
            if version is not None and value._version_cell[0] != version:
                raise _modified_error(value, value._version_cell[0], version, value.grad_fn)
        return saved

    @property
    def saved_result(self):
        if self._freed:
            raise RuntimeError(SECOND_BACKWARD)
        data, cell, version, _ = self._result
        if cell[0] != version:
            raise _modified_error(self._rebuild_result(), cell[0], version, self)
        return self._rebuild_result()

    def _rebuild_result(self):
        from ._tensor import make_tensor

        data, cell, _, requires_grad = self._result
        t = make_tensor(data, self if requires_grad else None)
        t._version_cell = cell
        return t

    def release(self) -> None:
        """Free what backward needed; a later backward through this node raises."""
        if self._saved is not None or self._result is not None:
            self._saved = self._result = None
            self._freed = True

    # -- the rule ---------------------------------------------------------------------------
    def gradient(self, grad):
        raise NotImplementedError

    def register_hook(self, hook):
        raise NotImplementedError(
            "register_hook on a Node is not supported; use Tensor.register_hook"
        )

    def register_prehook(self, hook):
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: adds the arriving gradient into ``leaf.grad``."""

    __slots__ = ("variable",)
    _name = "AccumulateGrad"

    def __init__(self, variable):
        super().__init__()
        self.variable = variable
        self.next_functions = ()
        self._input_meta = ()

    def accumulate(self, grad, create_graph: bool) -> None:
        leaf = self.variable
        if leaf._grad is None:
            # A gradient may be shared (AddBackward0 passes one tensor to both inputs) or
            # read-only (an expanded ones); .grad must be the leaf's own, writable tensor.
            leaf._grad = grad if create_graph else grad.detach().clone()
        elif create_graph:
            leaf._grad = leaf._grad + grad
        else:
            leaf._grad._accumulate_(grad)


def accumulator_of(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad, created once and held weakly by the leaf (no cycle)."""
    ref = leaf._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._accumulator = weakref.ref(node)
    return node


def edge_of(t) -> tuple:
    """Where a gradient for tensor ``t`` must go: its grad_fn, its accumulator, or nowhere."""
    fn = t.grad_fn
    if fn is not None:
        return (fn, t._output_nr)
    if t._requires_grad:
        return (accumulator_of(t), 0)
    return (None, 0)


class _RemovableHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _modified_error(tensor, now: int, expected: int, grad_fn) -> RuntimeError:
    which = f", which is output 0 of {grad_fn.name()}," if grad_fn is not None else ""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{tensor.type()} [{', '.join(map(str, tensor.shape))}]]{which} is at version "
        f"{now}; expected version {expected} instead. Hint: enable anomaly detection to find the "
        "operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True)."
        + hint(
            "a tensor that backward needs was changed in place after it was used (an op ending "
            "in _, x[i] = v, or x += ...); use the out-of-place form (x = x + 1) or .clone() first"
        )
    )


# --------------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------------


def topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each after every node that feeds it a gradient.

    An explicit stack instead of recursion, so a 100,000-op chain needs no deep Python stack;
    each node is visited once however many paths lead to it.
    """
    seen = set(roots)
    order = []
    stack = [(root, iter(root.next_functions)) for root in roots]
    while stack:
        node, children = stack[-1]
        for child, _ in children:
            if child is not None and child not in seen:
                seen.add(child)
                stack.append((child, iter(child.next_functions)))
                break
        else:
            stack.pop()
            order.append(node)
    order.reverse()
    return order


def _add(buffers: dict, node, nr: int, grad) -> None:
    if node.num_outputs == 1:
        old = buffers.get(node)
        buffers[node] = grad if old is None else old + grad
    else:
        slots = buffers.get(node)
        if slots is None:
            slots = buffers[node] = [None] * node.num_outputs
        slots[nr] = grad if slots[nr] is None else slots[nr] + grad


def _fit(grad, meta):
    """Undo broadcasting and dtype promotion: the gradient takes its input's shape and dtype."""
    shape, np_dtype = meta
    if grad.shape != shape:
        grad = grad.sum_to_size(shape)
    if grad._data.dtype != np_dtype:
        grad = grad.to(np_dtype)
    return grad


def _run_hooks(hooks, grad):
    for hook in hooks:
        new = hook(grad)
        if new is not None:
            grad = new
    return grad


def run_backward(roots, root_grads, *, retain_graph, create_graph, captures=None, accumulate=True):
    """Propagate ``root_grads`` from ``roots`` (grad_fn edges) down the graph.

    ``captures`` maps an edge ``(node, output_nr)`` to the gradient arriving there (for
    ``autograd.grad`` and ``backward(inputs=...)``): those edges are recorded, and only the part
    of the graph leading to them runs.  With ``accumulate`` (plain ``backward()``), leaves add
    their gradient into ``.grad``.
    """
    buffers: dict = {}
    for (node, nr), grad in zip(roots, root_grads):
        _add(buffers, node, nr, grad)
    order = topological_order(list(dict.fromkeys(node for node, _ in roots)))
    needed = _needed_nodes(order, captures) if captures is not None else None

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    try:
        for node in order:
            grads = buffers.pop(node, None)
            if grads is None:
                continue
            if node._pre_hooks:
                grads = _run_hooks(node._pre_hooks, grads)
            if captures is not None:
                _capture(captures, node, grads)
            if node._retained and accumulate:
                _fill_retained(node, grads, create_graph)
            if isinstance(node, AccumulateGrad):
                if accumulate:
                    node.accumulate(grads, create_graph)
                continue
            if needed is not None and node not in needed:
                continue
            _apply(node, grads, buffers)
            if not retain_graph:
                node.release()
    finally:
        _GradMode.enabled = previous_mode


def _apply(node, grads, buffers) -> None:
    if node.num_outputs > 1:
        grads = node.materialize(grads)
    input_grads = node.gradient(grads)
    for (child, nr), grad, meta in zip(node.next_functions, input_grads, node._input_meta):
        if child is not None and grad is not None:
            _add(buffers, child, nr, _fit(grad, meta))


def _needed_nodes(order, captures) -> set:
    """Nodes whose gradient rule must run for a gradient to reach a captured edge."""
    targets = {node for node, _ in captures}
    reaches = set()
    needed = set()
    for node in reversed(order):  # children before parents
        feeds = any(child in reaches for child, _ in node.next_functions)
        if feeds:
            needed.add(node)
        if feeds or node in targets:
            reaches.add(node)
    return needed


def _capture(captures: dict, node, grads) -> None:
    if node.num_outputs == 1:
        if (node, 0) in captures:
            captures[(node, 0)] = grads
    else:
        for nr, grad in enumerate(grads):
            if (node, nr) in captures and grad is not None:
                captures[(node, nr)] = grad


def _fill_retained(node, grads, create_graph: bool) -> None:
    for ref in node._retained:
        t = ref()
        if t is None:
            continue
        grad = grads if node.num_outputs == 1 else grads[t._output_nr]
        if grad is None:
            continue
        if t._grad is None:
            t._grad = grad if create_graph else grad.detach().clone()
        else:
            t._grad = t._grad + grad

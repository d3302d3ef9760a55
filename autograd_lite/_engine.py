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

import gc
import itertools
import os
import sys
import traceback
import warnings
import weakref
from heapq import heapify, heappop, heappush

import numpy as np

from ._errors import hint

# Grad mode lives in _grad_mode.py; its names are imported here for the ops and the engine.
from ._grad_mode import (  # noqa: F401
    AnomalyMode,
    _GradMode,
    _GradModeContext,
    enable_grad,
    grad_mode,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)

# --------------------------------------------------------------------------------------------
# Nodes
# --------------------------------------------------------------------------------------------

SECOND_BACKWARD = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


FREED = ("freed",)  # marks a node whose saved values backward has released

# Set once a tensor with a history is detached in place (Tensor.detach_): from then on the
# saved values are checked for it, so that programs which never do it pay nothing.
DETACHED_IN_PLACE = [False]


# torch's sequence numbers: every node made gets the next one; a leaf's node the last there is.
_next_sequence_nr = itertools.count().__next__
_LAST_SEQUENCE_NR = 2**64 - 1
_RENAMED: dict = {}  # (class, torch's name) -> the subclass of that name (Node._rename)


class Node:
    """A backward function of the graph, named like torch's (``MulBackward0``).

    Subclasses define ``gradient(self, grad)`` returning one gradient (or None) per input, in
    differentiable tensor operations.  What they need is in ``self.saved_tensors`` (inputs, checked
    against in-place changes) and ``self.saved_result`` (the output, rebuilt on demand so the node
    never holds its own output, which would be a reference cycle).
    """

    __slots__ = (
        "_next",  # the nodes that receive this node's input gradients (None: no gradient)
        "_next_nr",  # their output numbers, or None when all are 0 (single-output nodes)
        "_input_meta",  # per input (shape, dtype) to fit gradients to, or None: all as output
        "_saved",  # the saved values, None, or FREED once backward released them
        "_saved_versions",
        "_seq",  # torch's sequence_nr: the order nodes were made in (see _counted_down)
        "__dict__",
        "__weakref__",
    )
    # Rarely set, so class-level defaults (an instance gets its own only when one is set):
    # creating a node must cost as little as possible.
    _result = None  # the saved output: (data, version cell, version, requires_grad)
    _pre_hooks = None
    _retained = None  # weak references to tensors that asked for retain_grad()
    _output_meta = None
    _plan_cache = None  # {inputs: the plan from this node down}, see _plan
    _name = "Node"
    saved_names: tuple = ()  # names of saved values, as torch's ``_saved_<name>`` attributes
    num_outputs = 1
    several_views = False  # its outputs are views from one op (split, unbind): torch's
    # MULTI_OUTPUT_NODE, refused for in-place changes with grad, even when there is one output
    # True: each gradient the rule returns is either the one it was given or a tensor it has
    # just made and kept nowhere (grad * b, -grad), never the same one for two inputs. Where no
    # graph is recorded, the pass may then sum into such a gradient, or a leaf take it as its
    # .grad, instead of copying (see _sum_into).
    fresh_gradients = False
    # Optional: the rule, computed into the gradient it is given, for a gradient the pass owns
    # and shows nobody else (then nothing can see it change). Big elementwise rules (exp, log,
    # mul, div) save a new array each; bits equal to the rule's. None: the rule as it is.
    gradient_in_place = None

    def __init__(self):  # (anomaly mode swaps it for one that also records the forward stack)
        self._saved = None
        self._seq = _next_sequence_nr()

    def _rename(self, name: str) -> None:
        """Name this node as torch does where one class makes nodes torch names apart (sum
        with and without ``dim``, ...): its class becomes a subclass of that name (one per
        name, no new slots), so ``type(grad_fn).__name__`` says it as ``name()`` does."""
        key = (self.__class__, name)
        named = _RENAMED.get(key)
        if named is None:
            base = self.__class__
            named = _RENAMED[key] = type(
                name, (base,), {"__slots__": (), "_name": name, "__module__": base.__module__}
            )
        self.__class__ = named

    def _sequence_nr(self) -> int:
        """torch's: when the node was made, counted; the pass runs later nodes first."""
        return self._seq

    @property
    def _freed(self) -> bool:
        return self._saved is FREED

    # -- introspection, as in torch ---------------------------------------------------------
    def name(self) -> str:
        return self._name

    @property
    def next_functions(self) -> tuple:
        """torch's ``((node, output_nr), ...)``, built on demand (the engine uses ``_next``)."""
        numbers = self._next_nr or (0,) * len(self._next)
        return tuple(zip(self._next, numbers))

    @property
    def short_name(self) -> str:
        """The name without torch's C++ namespace, as torch prints it (``CopySlices``)."""
        return self._name.rsplit("::", 1)[-1]

    def __repr__(self) -> str:
        return f"<{self.short_name} object at {id(self):#x}>"

    @property
    def metadata(self) -> dict:
        return self.__dict__.setdefault("_metadata", {})

    def saved_values(self) -> dict:
        """What the gradient rule keeps, by torch's names (for display; no version check)."""
        values = {}
        if self._saved is not None and self._saved is not FREED:
            values.update(zip(self.saved_names, self._saved))
        if self._result is not None:
            values["result"] = self._rebuild_result()
        return values

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_name" in cls.__dict__:  # the class is named as torch's (type(), error messages)
            cls.__name__ = cls.__qualname__ = cls._name.rsplit("::", 1)[-1]
        # torch exposes saved values as grad_fn._saved_self, ._saved_result, ...: properties,
        # not a __getattr__ (with one, Python's fast paths for attribute access are off).
        for key in cls.saved_names:
            if not hasattr(cls, f"_saved_{key}"):
                setattr(cls, f"_saved_{key}", _saved_value(key))

    # -- saving for backward ----------------------------------------------------------------
    def save(self, *values) -> None:
        """Keep inputs for the gradient rule, remembering each tensor's version."""
        self._saved = values
        # Versions are recorded only when some value was already changed in place; None means
        # "all at version 0" (a tensor without a version counter never was changed).
        self._saved_versions = None
        for v in values:
            cell = getattr(v, "_version_cell", None)
            if cell is not None and cell[0]:
                self._saved_versions = tuple([_version_of(v) for v in values])
                break

    def save_result(self, out) -> None:
        """Keep the output's data (not the tensor itself: it holds this node)."""
        cell = version_cell(out)
        self._result = (out._data, cell, cell[0], out._requires_grad)

    @property
    def saved_tensors(self) -> tuple:
        saved = self._saved
        if saved is FREED:
            raise RuntimeError(SECOND_BACKWARD)
        if DETACHED_IN_PLACE[0]:  # (False until some program calls detach_() on a non-leaf)
            _check_not_detached(self, saved)
        versions = self._saved_versions
        if versions is None:  # saved unmodified, the usual case: one check per value
            for value in saved:
                if value is not None:  # (None: an input the rule does not need)
                    cell = getattr(value, "_version_cell", None)
                    if cell is not None and cell[0]:
                        break
            else:
                return saved
        for i, value in enumerate(saved):
            cell = getattr(value, "_version_cell", None)
            now = cell[0] if cell is not None else 0
            expected = versions[i] if versions is not None else 0
            if now != expected:
                raise _modified_error(value, now, expected, value.grad_fn)
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
            self._saved = FREED
            if self._result is not None:
                self._result = None

    # -- the rule ---------------------------------------------------------------------------
    def gradient(self, grad):
        raise NotImplementedError

    def materialize(self, grads: list) -> list:
        """A node with several outputs gets a list, one gradient per output, None where none
        arrived; nodes whose rule needs tensors there put zeros in (unbind's, a Function's)."""
        return grads

    def __call__(self, *grads):
        """Apply the rule by hand, as torch lets you call ``y.grad_fn(g)``: one gradient per
        output in, the gradients of the inputs out (a tuple when the node has several inputs,
        None where an input gets none).  As in torch, nothing is summed to the inputs' shapes
        (that is the engine's job) and nothing is freed; in grad mode the result records its
        own graph, so calling nodes by hand differentiates to any order."""
        from ._tensor import Tensor

        if len(grads) != self.num_outputs:
            raise TypeError(f"expected {self.num_outputs} arguments, got {len(grads)} instead")
        for i, grad in enumerate(grads):
            if grad is not None and not isinstance(grad, Tensor):
                raise TypeError(f"argument {i} is not a Variable")
        if all(grad is None for grad in grads):
            results = (None,) * len(self._next)
        elif self.num_outputs > 1:
            results = tuple(self.gradient(self.materialize(list(grads))))
        else:
            results = tuple(self.gradient(grads[0]))
        return results[0] if len(results) == 1 else results

    def register_hook(self, hook):
        """torch's node post-hook: ``hook(grad_inputs, grad_outputs)``, called once the rule
        has run, may return new ``grad_inputs`` (a tuple, one per input)."""
        return self._add_pre_hook(_NodePostHook(hook))

    def register_prehook(self, hook):
        """torch's node pre-hook: ``hook(grad_outputs)`` gets a tuple, one gradient per output
        (None where none arrived), and may return a new tuple."""
        return self._add_pre_hook(_NodePreHook(hook, self.num_outputs))

    def _register_tensor_hook(self, hook, output_nr: int):
        """A hook of the tensor that is output ``output_nr`` of this node: it sees (and may
        replace) that output's gradient only."""
        return self._add_pre_hook(hook if self.num_outputs == 1 else _OutputHook(hook, output_nr))

    def _add_pre_hook(self, hook):
        # All of a node's hooks share one list, so that a node without any costs the engine a
        # single check; _hooked_turn sorts them out (tensor hooks, then pre-, then post-hooks).
        if self._pre_hooks is None:
            self._pre_hooks = []
            if self.__class__ is AccumulateGrad:  # a leaf's node shares the leaf's list
                self.variable._leaf_hooks = self._pre_hooks
        self._pre_hooks.append(hook)
        return _RemovableHandle(self._pre_hooks, hook)


class _OutputHook:
    """A tensor hook on one output of a node with several (unbind's, a Function's)."""

    __slots__ = ("hook", "output_nr")

    def __init__(self, hook, output_nr: int):
        self.hook, self.output_nr = hook, output_nr

    def __call__(self, grads):
        new = self.hook(grads[self.output_nr])  # (None when no gradient reached it, as in torch)
        if new is None:
            return None
        grads = list(grads)
        grads[self.output_nr] = new
        return grads


class _NodeHook:
    """A hook of the node itself (not of a tensor): runs only when the node's rule runs."""

    __slots__ = ()


class _NodePostHook(_NodeHook):
    """A ``Node.register_hook`` hook: ``hook(grad_inputs, grad_outputs)``, tuples."""

    __slots__ = ("hook",)

    def __init__(self, hook):
        self.hook = hook


class _PostAccumulateHook(_NodeHook):
    """A leaf's ``register_post_accumulate_grad_hook`` hook: ``hook(leaf)`` after its
    AccumulateGrad node has added into ``.grad``."""

    __slots__ = ("hook",)

    def __init__(self, hook):
        self.hook = hook


class _NodePreHook(_NodeHook):
    """A ``Node.register_prehook`` hook, given and giving the gradients as a tuple."""

    __slots__ = ("hook", "single")

    def __init__(self, hook, num_outputs: int):
        self.hook, self.single = hook, num_outputs == 1

    def __call__(self, grads):
        new = self.hook((grads,) if self.single else tuple(grads))
        if new is None:
            return None
        return new[0] if self.single else list(new)


def _saved_value(key: str) -> property:
    def get(node):
        if node._freed:
            raise RuntimeError(SECOND_BACKWARD)
        values = node.saved_values()
        if key in values:
            return values[key]
        raise AttributeError(f"'{node._name}' object has no attribute '_saved_{key}'")

    return property(get, doc=f"The saved value ``{key}`` (torch's ``_saved_{key}``).")


Node._saved_result = _saved_value("result")


def _check_not_detached(node, saved) -> None:
    """torch refuses a saved input that lost its history by detach_() after it was saved (its
    old grad_fn, which detach_ leaves on the tensor, is still one of this node's edges)."""
    for value in saved:
        old = getattr(value, "_detached_from", None)
        if old is not None and old in node._next:
            raise RuntimeError(
                "Trying to use a saved tensor that has been detached in-place, i.e. with "
                ".detach_().This is not supported, please use out-of-place `.detach()` instead"
            )


def version_cell(t) -> list:
    """A tensor's version counter, created when first needed (most tensors never need one)."""
    cell = t._version_cell
    if cell is None:
        cell = t._version_cell = [0]
    return cell


def _version_of(value) -> int:
    cell = getattr(value, "_version_cell", None)  # None also for numbers and None
    return cell[0] if cell is not None else 0


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: adds the arriving gradient into ``leaf.grad``."""

    __slots__ = ("variable",)
    _name = "torch::autograd::AccumulateGrad"

    def __init__(self, variable):
        super().__init__()
        self._seq = _LAST_SEQUENCE_NR  # torch's: a leaf's gradient is stored as soon as ready
        self.variable = variable
        self._next = ()
        self._next_nr = None
        self._input_meta = None

    def __call__(self, *grads):
        """torch's ``AccumulateGrad(g)``: adds ``g`` into the leaf's ``.grad``; returns ()."""
        super().__call__(*grads)  # the same argument checks as every node
        if grads[0] is not None:
            self.accumulate(grads[0], create_graph=False)
        return ()

    def gradient(self, grad):
        return ()

    def accumulate(self, grad, create_graph: bool, private: bool = False) -> None:
        """``private``: the pass made ``grad`` (an owned sum) and showed it to nobody, so it
        may become ``.grad`` itself."""
        leaf = self.variable
        if not leaf._requires_grad:  # detached in place (detach_) after the graph was made
            return
        if leaf._grad is None:
            # A gradient may be shared (AddBackward0 passes one tensor to both inputs) or
            # read-only (an expanded ones); .grad must be the leaf's own, writable tensor.
            # With create_graph torch copies into a new tensor: .grad_fn is CopyBackwards.
            if create_graph:
                leaf._grad = _new_like(grad).copy_(grad)
            elif private:  # torch steals such a gradient too, instead of copying it
                leaf._grad = grad
            else:  # grad.detach().clone(), without making the detached tensor on the way
                data = grad._data
                if data.__class__ is np.ndarray:
                    data = np.array(data, copy=True, order="K")
                leaf._grad = _tensor.make_tensor(data)  # (0-d data: an immutable NumPy scalar)
        elif create_graph:
            leaf._grad = leaf._grad + grad
        else:
            leaf._grad._accumulate_(grad)


def _new_like(t):
    from ._tensor import make_tensor

    return make_tensor(np.empty(t._data.shape, t._data.dtype))


def accumulator_of(leaf) -> AccumulateGrad:
    """The leaf's AccumulateGrad, created once and held weakly by the leaf (no cycle)."""
    ref = leaf._accumulator
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        node._pre_hooks = leaf._leaf_hooks  # hooks registered on the leaf (see register_hook)
        leaf._accumulator = weakref.ref(node)
    return node


def edge_of(t) -> tuple:
    """Where a gradient for tensor ``t`` must go: its grad_fn, its accumulator, or nowhere."""
    return (node_of(t), t._output_nr)


def node_of(t):
    """The node that receives ``t``'s gradient: its grad_fn, its accumulator, or None."""
    if t._base is not None and t._view_version != t._version_cell[0]:
        _tensor.refresh_view(t)  # a view whose memory was changed through another tensor
    fn = t._grad_fn
    if fn is not None:
        return fn
    if t._requires_grad:
        return accumulator_of(t)
    return None


def connect(node, inputs) -> None:
    """Point ``node`` at the nodes of its ``inputs`` (tensors, or None/numbers: no gradient)."""
    nexts, numbers, metas = [], None, []
    for i, t in enumerate(inputs):
        if getattr(t, "_data", None) is None:
            nexts.append(None)
            metas.append(None)
            continue
        nexts.append(node_of(t))
        metas.append((t._data.shape, t._data.dtype))
        if t._output_nr:
            numbers = numbers or [0] * len(inputs)
            numbers[i] = t._output_nr
    node._next = tuple(nexts)
    node._next_nr = tuple(numbers) if numbers else None
    node._input_meta = tuple(metas)


class _RemovableHandle:
    def __init__(self, hooks: list, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _op_name(grad_fn) -> str:
    """How torch names a node in this message: its op (``Add``, ``Clamp1``, ``Pow2``)."""
    name = grad_fn.name()
    if name.startswith("torch::autograd::"):  # torch's C++ nodes keep their full name
        return name
    return name.removesuffix("Backward0").replace("Backward", "")


def _modified_error(tensor, now: int, expected: int, grad_fn) -> RuntimeError:
    which = ""
    if grad_fn is not None:
        which = f", which is output {tensor._output_nr} of {_op_name(grad_fn)},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{tensor.type()} [{', '.join(map(str, tensor.shape))}]]{which} is at version "
        f"{now}; expected version {expected} instead. Hint: enable anomaly detection to find the "
        "operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False)."
        + hint(
            "a tensor that backward needs was changed in place after it was used (an op ending "
            "in _, x[i] = v, or x += ...); use the out-of-place form (x = x + 1) or .clone() first"
        )
    )


# --------------------------------------------------------------------------------------------
# The backward pass
# --------------------------------------------------------------------------------------------


def topological_order(roots) -> list:
    """Nodes reachable from ``roots``, each after every node that feeds it a gradient."""
    return _counted_down(roots, _count_dependencies(roots))


def _count_dependencies(roots) -> dict:
    """How many gradients each node will receive: the edges leading into it (``x * x``'s
    MulBackward0 sends two to x's node).

    A loop over an explicit stack, not recursion: a 100,000-op chain needs no deep Python
    stack, and a node reached along several paths is expanded once.
    """
    stack = list(dict.fromkeys(roots))
    dependencies: dict = dict.fromkeys(stack, 0)  # a node is expanded when first counted
    while stack:
        node = stack.pop()
        for child in node._next:
            if child is None:
                continue
            if child in dependencies:
                dependencies[child] += 1
            else:
                dependencies[child] = 1
                stack.append(child)
    return dependencies


def _counted_down(roots, dependencies: dict) -> list:
    """The nodes in the order they run: each once every node that feeds it has run.

    torch's ready queue: of the nodes ready to run, the one made last (the highest sequence
    number; a leaf's node counts as the highest) goes first, so hooks fire in torch's order;
    ties (two leaves) in the order they became ready. A heap, but none while only one node is
    ready, as along a chain. Uses the counts up; the keys (the nodes a gradient may be sent to)
    stay.
    """
    ready = [
        (-r._seq, k, r) for k, r in enumerate(dict.fromkeys(roots)) if dependencies.get(r) == 0
    ]
    heapify(ready)
    order = []
    pushed = len(ready)
    while ready:
        node = heappop(ready)[2]
        while True:
            order.append(node)
            became = None  # the last child that became ready in this node's turn
            for child in node._next:
                left = dependencies.get(child)
                if left is not None:  # None: no edge, or a node outside the plan
                    dependencies[child] = left - 1
                    if left == 1:
                        if became is not None:
                            heappush(ready, (-became._seq, pushed, became))
                            pushed += 1
                        became = child
            if became is None:
                break
            if ready and ready[0][0] <= -became._seq:  # one made later (or readier) goes first
                heappush(ready, (-became._seq, pushed, became))
                pushed += 1
                break
            node = became
    return order


def _plan_captures(roots, targets) -> tuple:
    """For autograd.grad: only the nodes that lead to a captured edge (``targets``) take part.

    One depth-first walk gives both: a node is finished after every node it sends gradients
    to, so the reverse of the finishing order is an order the pass can run in, and when a node
    finishes, whether one of its children leads to a captured edge is known.  A captured node
    none of whose children leads further (a leaf's, usually) is in the order but skips its
    rule.  An explicit stack, not recursion: a 100,000-op chain needs no deep Python stack.
    """
    order, reaches, skipped = [], set(), set()
    finished: dict = {}  # node -> False while its children are walked, True once finished
    stack = list(roots)
    while stack:
        node = stack[-1]
        state = finished.get(node)
        if state is None:  # first visit: walk its children first
            finished[node] = False
            for child in node._next:
                if child is not None and child not in finished:
                    stack.append(child)
            continue
        stack.pop()
        if state:  # (reached again along another path)
            continue
        finished[node] = True
        order.append(node)
        if node in targets:
            reaches.add(node)
            if reaches.isdisjoint(node._next):
                skipped.add(node)
        elif not reaches.isdisjoint(node._next):
            reaches.add(node)
    order.reverse()
    if len(reaches) == len(order):  # the usual case: all of the graph leads to a captured edge
        return order, None, skipped
    return [node for node in order if node in reaches], reaches, skipped


def _in_torchs_order(order: list) -> list:
    """``order`` rearranged into the order torch's ready queue runs these nodes in (see
    _counted_down). autograd.grad's depth-first plan is a valid order, and the quickest to find;
    but where the pass records a graph, the order in which gradients arrive decides the order of
    the inputs of the sums it records, which then differ from torch's."""
    if len(order) < 3:  # (two nodes: one order only)
        return order
    dependencies = dict.fromkeys(order, 0)
    for node in order:
        for child in node._next:
            if child in dependencies:
                dependencies[child] += 1
    return _counted_down(order, dependencies)


def _plan(root_nodes, targets, cache: bool) -> tuple:
    """``(order, receivers, skipped)`` for a pass from ``root_nodes``: the nodes in the order
    they run, the nodes a gradient may be sent to (None: any node of the order) and those
    of the order whose rule does not run (captured nodes with nothing to pass on).

    Loops that build a Hessian or a Jacobian row by row walk one retained graph again and
    again, from the same root (``y.backward(v)``) or from a small fresh head built on it for
    each row: ``g[i]``, ``(g * e_i).sum()``, ``dot(g, v)``.  So with ``retain_graph`` the
    plan is kept on a node of the graph and reused: the head's nodes each pass their gradient
    to a single node, so they run first, in a chain, and the plan below them is the same for
    every row.  Sound because a node's edges never change once it exists; the kept plans go
    when the graph goes.
    """
    if not cache or len(root_nodes) != 1:
        return _fresh_plan(root_nodes, targets)
    head = []
    node = root_nodes[0]
    while True:  # down the chain to the first node with a plan kept for these targets
        kept = node._plan_cache
        if kept is not None and targets in kept:
            break
        if targets is not None and node in targets:
            break
        child = _only_child(node)
        if child is None:  # a leaf, or a node where the graph branches: keep the plan here
            break
        head.append(node)
        node = child
    order, receivers, skipped = _cached_plan(node, targets)
    if not head or not order:  # (no order: nothing below leads to a captured edge)
        return order, receivers, skipped
    if receivers is not None:  # (only part of the graph leads to a captured edge)
        receivers = receivers.union(head)
    head += order
    return head, receivers, skipped


def _only_child(node):
    """The one node ``node`` sends gradients to, or None (none, or several)."""
    only = None
    for child in node._next:
        if child is not None and child is not only:
            if only is not None:
                return None
            only = child
    return only


def _cached_plan(node, targets) -> tuple:
    """The plan from ``node`` down, worked out once per retained graph and set of inputs (a
    loop may alternate between a few: grad for x, then for w)."""
    plans = node._plan_cache
    kept = plans.get(targets) if plans is not None else None
    if kept is None:
        order, receivers, skipped = _fresh_plan([node], targets)
        order = list(order)
        if not _keeps_no_cycle(node, targets, order):
            return order, receivers, skipped
        if plans is None or len(plans) >= _PLANS_KEPT_PER_NODE:
            plans = node._plan_cache = {}
        # Kept without the node itself: a node referring to itself would be a reference cycle.
        kept = plans[targets] = (
            order[1:] if order else None,
            None if receivers is None else frozenset(receivers - {node}),
            frozenset(skipped - {node}),
            node in skipped,
        )
    below, receivers, skipped, node_skipped = kept
    if below is None:
        return [], receivers, skipped
    if receivers is not None:
        receivers = receivers | {node}
    if node_skipped:
        skipped = skipped | {node}
    return [node, *below], receivers, skipped


_PLANS_KEPT_PER_NODE = 4


def _keeps_no_cycle(node, targets, order) -> bool:
    """Whether ``node`` may keep a plan for ``targets``: the key holds the target nodes, so a
    target at or above ``node`` (``grad(y, h)`` for an inner h) would make a reference cycle
    through it. Leaves' accumulators refer to no node, and nodes of the plan lie below."""
    if targets is None:
        return True
    below = None
    for target in targets:
        if target.__class__ is AccumulateGrad:
            continue
        if target is node:
            return False
        if below is None:
            below = set(order)
        if target not in below:
            return False
    return True


_NOTHING_SKIPPED = frozenset()


def _fresh_plan(root_nodes, targets) -> tuple:
    if targets is not None:
        return _plan_captures(root_nodes, targets)
    return _counted_down(root_nodes, _count_dependencies(root_nodes)), None, _NOTHING_SKIPPED


# Adding gradients in place, as torch's InputBuffer does, into sums the pass owns.
#
# When several gradients reach one node, the first sum is a new array; the pass made it and has
# shown it to nobody, so the next gradients may be added into it (on big tensors this saves a
# third of the time of an add), and a leaf may take it as its .grad without a copy (torch's
# AccumulateGrad steals such a gradient too). Anything else may be held elsewhere: a gradient
# that AddBackward0 sent to two nodes, one a hook kept, a captured or retained one, a view, a
# user's `gradient=`. So ownership is recorded where the pass creates the array, in `owned`
# (id -> tensor; holding the tensor keeps its id from being reused), and given up as soon as
# the sum is shown to anyone: a hook, a capture, retain_grad, a gradient rule. It is never
# guessed from reference counts, which CPython 3.14 and free-threaded builds count differently.
_IN_PLACE_MIN_SIZE = 1 << 14  # below this, a new array costs no more than the bookkeeping


def _sum_into(old, grad, owned: dict, grad_is_fresh: bool = False):
    """``old + grad`` without a graph: into ``old`` if the pass owns it, else into ``grad`` if
    a rule has just made it (``grad_is_fresh``, see _fresh), else into a new owned sum."""
    if owned.get(id(old)) is old:
        data = old._data
        if data.shape == grad._data.shape and data.dtype is grad._data.dtype:
            np.add(data, grad._data, out=data)
            return old
        del owned[id(old)]  # (not expected: the sums of one input have its shape and dtype)
    if (
        grad_is_fresh
        and grad._data.shape == old._data.shape
        and grad._data.dtype is old._data.dtype
    ):
        np.add(grad._data, old._data, out=grad._data)
        owned[id(grad)] = grad
        return grad
    data = old._data + grad._data
    total = _tensor.make_tensor(data)
    if data.__class__ is np.ndarray and data.size >= _IN_PLACE_MIN_SIZE:
        owned[id(total)] = total  # a new array, held by nothing but the pass
    return total


def _fresh(grad, given, given_is_mine: bool, input_grads) -> bool:
    """Whether ``grad``, returned by a rule with ``fresh_gradients``, is a big array the pass
    owns: one the rule has just made, or the one it was ``given`` if the pass owned that, not a
    view, not sent to two inputs."""
    data = grad._data
    if grad is given:
        return given_is_mine and sum(g is grad for g in input_grads) == 1
    if data.__class__ is not np.ndarray or data.base is not None:
        return False
    if data.size < _IN_PLACE_MIN_SIZE:  # (a broadcast input's gradient, summed to its shape)
        return False
    return sum(g is grad for g in input_grads) == 1


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
    if grad._data.shape != shape:
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

    A node runs once every node that feeds it has run (dependency counting), so it sees the sum
    of all the gradients that reach it.  ``captures`` maps an edge ``(node, output_nr)`` to the
    gradient arriving there (for ``autograd.grad`` and ``backward(inputs=...)``): those edges
    are recorded, and only the part of the graph leading to them runs.  With ``accumulate``
    (plain ``backward()``), leaves add their gradient into ``.grad``.
    """
    buffers: dict = {}
    owned: dict = {}  # the sums in `buffers` that the pass made and showed nobody (_sum_into)
    for (node, nr), grad in zip(roots, root_grads):
        _add(buffers, node, nr, grad)
    targets = None if captures is None else frozenset(node for node, _ in captures)
    order, receivers, skipped = _plan([node for node, _ in roots], targets, cache=retain_graph)
    if create_graph and targets is not None:  # (the graph it records has torch's shape too)
        order = _in_torchs_order(order)

    previous_mode = _GradMode.enabled
    _GradMode.enabled = create_graph
    # The pass allocates many short-lived objects and creates no reference cycles, so the cyclic
    # collector would only re-scan the (possibly huge) graph again and again.
    collecting = gc.isenabled()
    gc.disable()
    node = None
    try:
        for node in order:
            grads = buffers.pop(node, None)
            if grads is None:  # only None reached it: nothing to do
                continue
            # Owned until shown to a hook, a capture, a retained grad or a rule; a leaf takes it.
            mine = owned.pop(id(grads), None) is grads if owned else False
            # One node's turn, inline (it runs for every node of every pass): the captured and
            # retained gradients, then the node's gradient rule (with hooks: _hooked_turn).
            if node._pre_hooks:
                input_grads = _hooked_turn(node, grads, captures, skipped, accumulate, create_graph)
            else:
                if targets is not None and node in targets:
                    _capture(captures, node, grads)
                    mine = False
                if node._retained:  # torch fills retained grads in autograd.grad() too
                    _fill_retained(node, grads, create_graph)
                    mine = False
                input_grads = None
                if node.__class__ is AccumulateGrad:
                    if accumulate:
                        node.accumulate(grads, create_graph, private=mine and not create_graph)
                elif node not in skipped:
                    if node.num_outputs > 1:
                        grads = node.materialize(grads)
                    if mine and not create_graph and node.gradient_in_place is not None:
                        input_grads = node.gradient_in_place(grads)  # (into grads: see Node)
                    else:
                        input_grads = node.gradient(grads)
            if AnomalyMode.enabled and AnomalyMode.check_nan and input_grads is not None:
                _check_nan(node, input_grads)
            if not retain_graph and (node._saved is not None or node._result is not None):
                node.release()  # (called only where there is something to free)
            if input_grads is None:
                continue
            metas, numbers = node._input_meta, node._next_nr
            # (a hook may have given the rule a gradient of its own instead of `grads`; the
            # rules' gradients are no bigger than the one they were given)
            fresh = (
                node.fresh_gradients
                and not create_graph
                and not node._pre_hooks
                and grads._data.size >= _IN_PLACE_MIN_SIZE
            )
            for i, child in enumerate(node._next):
                grad = input_grads[i]
                if grad is None or child is None:  # (None: the input takes no gradient)
                    continue
                if receivers is not None and child not in receivers:
                    continue  # (not in the plan: not needed there)
                meta = metas[i] if metas is not None else None
                if meta is not None and (grad._data.shape, grad._data.dtype) != meta:
                    grad = _fit(grad, meta)
                if numbers is None and child.num_outputs == 1:  # _add's common case, inline
                    old = buffers.get(child)
                    if old is None:
                        buffers[child] = grad
                        if fresh and _fresh(grad, grads, mine, input_grads):
                            owned[id(grad)] = grad
                    elif create_graph:  # the sum is part of the new graph
                        buffers[child] = old + grad
                    else:  # same shape and dtype (fitted above): plain bookkeeping
                        made = fresh and _fresh(grad, grads, mine, input_grads)
                        buffers[child] = _sum_into(old, grad, owned, made)
                else:  # (a sum made here is not owned: an owned one left behind is only dropped)
                    _add(buffers, child, numbers[i] if numbers else 0, grad)
    except BaseException:
        if AnomalyMode.enabled and node is not None:
            _warn_error_detected(node)  # where the failing node was made, in the forward
        raise
    finally:
        _GradMode.enabled = previous_mode
        if collecting:
            gc.enable()


def _hooked_turn(node, grads, captures, skipped, accumulate: bool, create_graph: bool):
    """One node's turn when it has hooks, in torch's order: the hooks of the tensors it made
    (they may replace a gradient), then the captured and retained gradients, then, if the node
    runs, its own pre-hooks, its rule and its post-hooks.  Returns the inputs' gradients."""
    hooks = node._pre_hooks
    grads = _run_hooks([h for h in hooks if not isinstance(h, _NodeHook)], grads)
    if captures is not None and any(edge[0] is node for edge in captures):
        _capture(captures, node, grads)
    if node._retained:
        _fill_retained(node, grads, create_graph)
    if node.__class__ is AccumulateGrad:
        if not accumulate:  # (autograd.grad: the leaf's node does not run)
            return None
    elif node in skipped:
        # backward(inputs=...) runs an input's node (torch does); autograd.grad does not.
        if not (accumulate and captures is not None and (node, 0) in captures):
            return None
    grads = _run_hooks([h for h in hooks if h.__class__ is _NodePreHook], grads)
    if node.__class__ is AccumulateGrad:
        leaf = node.variable
        fresh = leaf._grad is None
        node.accumulate(grads, create_graph)
        for hook in hooks:
            if hook.__class__ is _PostAccumulateHook and hook.hook(leaf) is not None:
                raise RuntimeError("Tensor post accumulate grad hooks should return None.")
        # A fresh .grad is the gradient itself in torch (it steals it), so post-hooks see it.
        input_grads, outputs = (), (leaf._grad if fresh else grads,)
    else:
        if node.num_outputs > 1:
            grads = node.materialize(grads)
        outputs = (grads,) if node.num_outputs == 1 else tuple(grads)
        input_grads = tuple(node.gradient(grads))
        metas = node._input_meta
        if metas is not None and any(h.__class__ is _NodePostHook for h in hooks):
            # torch's post-hooks see the gradients already fitted to their inputs (summed over
            # broadcast dims, cast), as its engine checks them before the hooks run
            input_grads = tuple(
                _fit(g, meta)
                if g is not None and meta is not None and (g._data.shape, g._data.dtype) != meta
                else g
                for g, meta in zip(input_grads, metas)
            )
    for hook in hooks:
        if hook.__class__ is _NodePostHook:
            new = hook.hook(input_grads, outputs)
            if new is not None:
                input_grads = tuple(new)
    return input_grads or None


def _check_nan(node, input_grads) -> None:
    for i, grad in enumerate(input_grads):
        if grad is not None and np.isnan(grad._data).any():
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {i}th output."
                + hint("the forward value there is probably nan or inf already (log(0), 0/0, ...)")
            )


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
            t._grad = grad.clone() if create_graph else grad.detach().clone()
        else:
            t._grad = t._grad + grad


# --------------------------------------------------------------------------------------------
# Anomaly mode: nodes remember where the forward made them, and a failing backward says so
# --------------------------------------------------------------------------------------------


def set_anomaly_mode(enabled: bool, check_nan: bool) -> None:
    """While anomaly mode is on, every new node records the stack of the forward call that made
    it (``node.metadata["traceback_"]``) and the node whose backward made it, if any
    (``"parent_"``).  Node.__init__ is swapped rather than tested: off, it costs nothing."""
    AnomalyMode.enabled, AnomalyMode.check_nan = bool(enabled), check_nan
    Node.__init__ = _init_remembering_forward if enabled else _plain_init


def _plain_init(self) -> None:
    self._saved = None
    self._seq = _next_sequence_nr()


def _init_remembering_forward(self) -> None:
    self._saved = None
    self._seq = _next_sequence_nr()
    frames = [f for f in traceback.extract_stack()[:-2] if not f.filename.startswith(_PACKAGE)]
    self.metadata["traceback_"] = "".join(traceback.format_list(frames))
    parent = _running_node()
    if parent is not None:
        self.metadata["parent_"] = parent


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _running_node():
    """The node whose gradient rule is running (a node made now is made by its backward)."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code is run_backward.__code__:
            return frame.f_locals.get("node")
        frame = frame.f_back
    return None


def _warn_error_detected(node) -> None:
    """torch's warnings when a backward fails in anomaly mode: where the failing node was made,
    then where the nodes whose backward made it were made."""
    metadata = node.__dict__.get("_metadata") or {}
    stack = metadata.get("traceback_")
    if stack is None:
        _warn_or_print(
            f"Error detected in {node.name()}. No forward pass information available. Enable "
            "detect anomaly during forward pass for more information."
        )
        return
    _warn_or_print(
        f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
        + stack
    )
    parent = metadata.get("parent_")
    while parent is not None:
        metadata = parent.__dict__.get("_metadata") or {}
        if "traceback_" not in metadata:  # (made outside anomaly mode: said as for the first)
            _warn_error_detected(parent)
            return
        _warn_or_print(
            f"\n\nPrevious calculation was induced by {parent.name()}. Traceback of forward call "
            "that induced the previous calculation:\n" + metadata["traceback_"]
        )
        parent = metadata.get("parent_")


def _warn_or_print(message: str) -> None:
    """A warning; if warnings are errors, printed instead, so the backward's own error stays."""
    try:
        warnings.warn(message, UserWarning, stacklevel=2)
    except Exception:  # (a warnings filter set to "error")
        print(message, file=sys.stderr)


# The Tensor module imports this one; bound last, it is complete by the time backward runs.
from . import _tensor  # noqa: E402

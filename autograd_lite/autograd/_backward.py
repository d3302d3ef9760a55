"""``autograd.backward`` and ``autograd.grad``: argument checks around the engine's one pass."""

from __future__ import annotations

import threading
import warnings

import numpy as np

from .._engine import accumulator_of, edge_of, run_backward
from .._errors import hint, warn_once
from .._tensor import Tensor, make_tensor


def _as_tuple(x) -> tuple:
    if x is None:
        return ()
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _root_grads(outputs, grads) -> list:
    """The gradient each output starts with: given, or 1 for a one-element output.

    Checked pair by pair in torch's order (pairs as ``zip`` makes them), then the count.
    """
    grads = _as_tuple(grads) if grads is not None else (None,) * len(outputs)
    result = []
    for i, (out, g) in enumerate(zip(outputs, grads)):
        if g.__class__ is Tensor and g._data.shape == out._data.shape:
            if g._data.dtype != out._data.dtype:  # torch casts it to the output's dtype
                g = g.to(out.dtype)
            result.append(g)  # (the usual given gradient: checked in one go)
            continue
        if g is None:
            if not out._requires_grad:  # _check_outputs reports it
                result.append(None)
                continue
            if out._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs"
                    + hint(
                        f"the output has shape {list(out.shape)}; pass a gradient of that shape "
                        "(a vector-Jacobian product: out.backward(v)), or reduce it first "
                        "(out.sum().backward())"
                    )
                )
            if out._data.dtype.kind != "f":
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got "
                    f"{out.dtype}"
                )
            data = out._data  # d(out)/d(out) = 1; 0-d data are NumPy scalars
            g = make_tensor(data.dtype.type(1) if data.ndim == 0 else np.ones_like(data))
        elif not isinstance(g, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(g).__name__}"
                + hint("wrap the values: torch.tensor([...])")
            )
        elif g._data.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape!r} and output[{i}] "
                f"has a shape of {out.shape!r}."
            )
        elif g._data.dtype != out._data.dtype:  # torch casts it to the output's dtype
            g = g.to(out.dtype)
        result.append(g)
    if len(result) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(result)} gradients")
    return result


def _check_outputs(outputs) -> list:
    edges = []
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn"
                + hint(
                    "nothing that requires grad went into this output: create the input with "
                    "requires_grad=True (before computing the output), do not compute it under "
                    "torch.no_grad(); a result computed from constants only (a derivative that "
                    "no longer depends on the input, say) has no graph either"
                )
            )
        edges.append(edge_of(out))
    return edges


def backward(
    tensors,
    grad_tensors=None,
    retain_graph=None,
    create_graph=False,
    grad_variables=None,
    inputs=None,
):
    """Accumulate d(tensors)/d(leaf) into the ``.grad`` of every leaf (or of ``inputs``)."""
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, grad_tensors)
    roots = _check_outputs(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        _warn_create_graph_cycle()
    if inputs is None:
        _nested_run(roots, grads, retain_graph=retain_graph, create_graph=create_graph)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    # As torch does: the graph runs only as far as the inputs; a leaf's node accumulates into
    # its .grad as in any backward, and a non-leaf input retains its grad (for good).
    captures = {_input_edge(t): None for t in inputs}
    for t in inputs:
        if t._grad_fn is not None:
            t.retain_grad()
    _nested_run(
        roots,
        grads,
        retain_graph=retain_graph,
        create_graph=create_graph,
        captures=captures,
        accumulate=True,
    )


# A backward started inside another one's gradient rule (a custom Function's backward that
# calls backward: "reentrant") nests the Python stack a few frames per level. Like torch, which
# moves deep reentrant backwards to another thread so that 2000 levels do not overflow the
# stack, every LEVELS_PER_THREAD-th nested level runs in a new thread (with a fresh Python
# recursion count) while the caller waits for it.
_NESTING = [0]
LEVELS_PER_THREAD = 50


def _nested_run(*args, **kwargs) -> None:
    _NESTING[0] += 1
    try:
        if _NESTING[0] % LEVELS_PER_THREAD:
            run_backward(*args, **kwargs)
        else:
            _in_a_new_thread(run_backward, *args, **kwargs)
    finally:
        _NESTING[0] -= 1


def _in_a_new_thread(function, *args, **kwargs) -> None:
    failure = []

    def run():
        try:
            function(*args, **kwargs)
        except BaseException as error:  # handed to the waiting caller, raised there
            failure.append(error)

    thread = threading.Thread(target=run, name="autograd_lite reentrant backward")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


CREATE_GRAPH_CYCLE = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter "
    "and its gradient which can cause a memory leak. We recommend using autograd.grad when "
    "creating the graph to avoid this. If you have to use this function, make sure to reset the "
    ".grad fields of your parameters to None after use to break the cycle and avoid the leak."
)


def _warn_create_graph_cycle() -> None:
    """torch warns once per process (every time under set_warn_always(True)): .grad then
    holds a graph that leads back to the leaf."""
    warn_once(CREATE_GRAPH_CYCLE, stacklevel=4)


def _input_edge(t: Tensor) -> tuple:
    if not isinstance(t, Tensor):
        raise TypeError(f"expected Tensor as element of inputs, got {type(t).__name__}")
    if t._grad_fn is not None:
        return (t._grad_fn, t._output_nr)
    if not t._requires_grad:
        raise RuntimeError("One of the differentiated Tensors does not require grad")
    return (accumulator_of(t), 0)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph=None,
    create_graph=False,
    only_inputs=True,
    allow_unused=None,
    is_grads_batched=False,
    materialize_grads=False,
):
    """Return d(outputs)/d(inputs) without touching any ``.grad`` (a dict of inputs gives a
    dict of gradients, with the same keys)."""
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, but got: "
            "allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    outputs = _as_tuple(outputs)
    keys = tuple(inputs) if type(inputs) is dict else None
    inputs = tuple(inputs.values()) if keys is not None else _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `grad()` cannot be empty.")
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    grads = _root_grads(outputs, grad_outputs)
    roots = _check_outputs(outputs)
    if retain_graph is None:
        retain_graph = create_graph
    edges = [_input_edge(t) for t in inputs]
    captures = dict.fromkeys(edges)
    _nested_run(
        roots,
        grads,
        retain_graph=retain_graph,
        create_graph=create_graph,
        captures=captures,
        accumulate=False,
    )
    result = []
    for i, (t, edge) in enumerate(zip(inputs, edges)):
        g = captures[edge]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"The differentiated Tensor at index {i} appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
            if materialize_grads:  # a leaf of the new graph when there is one, as in torch
                from .._creation import zeros_like

                g = zeros_like(t, requires_grad=create_graph)
        result.append(g)  # (as torch: a grad_outputs passed straight through is returned itself)
    return dict(zip(keys, result)) if keys is not None else tuple(result)

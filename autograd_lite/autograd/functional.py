"""``torch.autograd.functional``: Jacobians, Hessians and vector products of whole functions.

Every function here takes a Python function and its inputs (a tensor or a tuple of tensors) and
returns what torch's returns, in the same structure:

* ``jacobian(f, x)`` has shape ``f(x).shape + x.shape``; with tuple inputs it is a tuple (one
  entry per input), with tuple outputs too a tuple of tuples ``J[i][j] = d out_i / d in_j``;
* ``hessian(f, x)`` has shape ``x.shape + x.shape`` (tuple of tuples for tuple inputs);
* ``vjp``, ``jvp``, ``vhp`` and ``hvp`` return ``(func_output, product)``.

How they work, as in torch: the inputs are detached and made to require grad (so the result is
the derivative of ``func`` alone, not of whatever computed the inputs), ``func`` runs once, and
then ``autograd.grad`` runs backward through the retained graph, once per output element for a
Jacobian (the grad_output is a one-hot vector: row ``j`` of the Jacobian is ``e_j^T J``).
Forward-mode quantities (``jvp``, ``hvp``) use the "double backward trick": the vector-Jacobian
product ``u -> u^T J`` is linear in ``u``, so differentiating it with respect to ``u`` gives
``J v``.  The results are detached unless ``create_graph=True``.

autograd_lite has no forward-mode AD and no ``vmap``: ``vectorize=True`` computes the same
result row by row, and ``strategy="forward-mode"`` (which torch supports only together with
``vectorize=True``) computes the Jacobian in reverse mode; the arguments and the errors torch
raises for unsupported combinations are the same as torch's.
"""

from __future__ import annotations

import numpy as np

from .. import Tensor, enable_grad, from_numpy, is_grad_enabled, set_grad_enabled, stack
from .. import zeros_like as _zeros_like
from . import grad as _autograd_grad_fn

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


# --------------------------------------------------------------------------------------------
# Helpers (the names and messages of torch's)
# --------------------------------------------------------------------------------------------


def _as_tuple(inp, arg_name=None, fn_name=None):
    """``(was_it_a_tuple, tuple_of_tensors)``; anything but a tensor raises torch's TypeError."""
    if arg_name is None and fn_name is None:
        return inp if isinstance(inp, tuple) else tuple(inp) if isinstance(inp, list) else (inp,)
    is_tuple = isinstance(inp, tuple)
    if not is_tuple:
        inp = (inp,)
    for i, el in enumerate(inp):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of "
                    f"Tensors but the value at index {i} has type {type(el)}."
                )
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                f"but the given {arg_name} has type {type(el)}."
            )
    return is_tuple, inp


def _tuple_postprocess(res, to_unpack):
    """Undo ``_as_tuple``: unwrap the one-element tuples made for non-tuple arguments."""
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    """Fresh tensor objects: detached leaves (or, with create_graph, differentiable views)."""
    res = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            res.append(inp.view_as(inp))  # a new object that still carries the history
        else:
            res.append(inp.detach().requires_grad_(need_graph))
    return tuple(res)


def _grad_postprocess(inputs, create_graph):
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(
                f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}."
            )
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.size() != el_other.size():
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {el_other.size()} but got {el_v.size()}."
            )


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode."
            )
        if inp.requires_grad:
            continue
        if input_type == "hessian":
            raise RuntimeError(
                f"The hessian of the user-provided function with respect to input {i} is "
                "independent of the input. This is not allowed in strict mode. You should ensure "
                "that your function is thrice differentiable and that the hessian depends on the "
                "inputs."
            )
        if input_type == "jacobian":
            raise RuntimeError(
                "While computing the hessian, found that the jacobian of the user-provided "
                f"function with respect to input {i} is independent of the input. This is not "
                "allowed in strict mode. You should ensure that your function is twice "
                "differentiable and that the jacobian depends on the inputs (this would be "
                "violated by a linear function for example)."
            )
        if input_type == "grad_inputs":
            raise RuntimeError(
                f"The gradient with respect to input {i} is independent of the inputs of the "
                "user-provided function. This is not allowed in strict mode."
            )
        raise RuntimeError(
            f"Output {i} of the user-provided function does not require gradients. The outputs "
            "must be computed in a differentiable manner from the input when running in strict "
            "mode."
        )


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``autograd.grad`` that skips outputs outside the graph (all None if none is in it)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    new_outputs, new_grad_outputs = [], []
    for out, grad_out in zip(outputs, grad_outputs):
        if out is not None and out.requires_grad:
            new_outputs.append(out)
            new_grad_outputs.append(grad_out)
    if not new_outputs:
        return (None,) * len(inputs)
    return _autograd_grad_fn(
        new_outputs,
        inputs,
        new_grad_outputs,
        allow_unused=True,
        create_graph=create_graph,
        retain_graph=retain_graph,
    )


_STRICT_STAGE_MESSAGES = {
    "back": "The output of the user-provided function is independent of input {i}. This is not "
    "allowed in strict mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the "
    "grad_outputs when using the double backward trick to compute forward mode gradients. This "
    "is not allowed in strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This "
    "is not allowed in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} "
    "in the grad_jacobian. This is not allowed in strict mode as it prevents from using the "
    "double backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, create_graph, stage):
    """Zeros for the gradients that did not arrive (or torch's error in strict mode)."""
    res = []
    for i, grads_i in enumerate(grads):
        if grads_i is None:
            if strict:
                raise RuntimeError(_STRICT_STAGE_MESSAGES[stage].format(i=i))
            grads_i = _zeros_like(refs[i])
        elif strict and create_graph and not grads_i.requires_grad:
            what = "hessian" if "double" in stage else "jacobian"
            raise RuntimeError(
                f"The {what} of the user-provided function is independent of input {i}. This is "
                "not allowed in strict mode when create_graph=True."
            )
        res.append(grads_i)
    return tuple(res)


def _check_strategy(strategy, create_graph, strict, vectorize):
    """torch's argument checks for ``strategy``; forward mode then runs as reverse mode."""
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError(
            'Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
            'function has more outputs than inputs, "forward-mode" tends to be more performant. '
            'Otherwise, prefer to use "reverse-mode".'
        )
    if strategy == "forward-mode":
        if create_graph:
            raise NotImplementedError(
                "torch.autograd.functional.jacobian: `create_graph=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`create_graph=False` or `strategy="reverse-mode"`.'
            )
        if strict:
            raise RuntimeError(
                "torch.autograd.functional.jacobian: `strict=True` and "
                '`strategy="forward-mode"` are not supported together (yet). Please either set '
                '`strict=False` or `strategy="reverse-mode"`.'
            )
        if not vectorize:
            raise NotImplementedError(
                "Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                "only implemented for `vectorize=True`."
            )


_VECTORIZE_STRICT = (
    "torch.autograd.functional.jacobian: `strict=True` and `vectorized=True` are not supported "
    "together. Please either set `strict=False` or `vectorize=False`."
)


# --------------------------------------------------------------------------------------------
# vjp, jvp, vhp, hvp
# --------------------------------------------------------------------------------------------


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T J)``: the vector-Jacobian product, shaped like the inputs.

    ``v`` has the shape of ``func``'s output (it may be omitted for a one-element output).
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "vjp"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "back")

    return _outputs_and_result(outputs, result, create_graph, is_outputs_tuple, is_inputs_tuple)


def _outputs_and_result(outputs, result, create_graph, outputs_tuple, result_tuple) -> tuple:
    """The ``(func_output, product)`` pair the product functions return, shaped like torch's."""
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, outputs_tuple), _tuple_postprocess(result, result_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), J v)``: the Jacobian-vector product, shaped like the outputs.

    ``v`` has the shape of the inputs.  Computed as torch does, with the double backward trick:
    ``g(u) = u^T J`` is linear in ``u``, and the gradient of ``g(u) . v`` with respect to ``u``
    is ``J v``.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].nelement() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a "
                "single Tensor with a single element."
            )
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jvp"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        # The backward is linear in grad_outputs, so their value does not matter (zeros).
        grad_outputs = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, create_graph, "back_trick")

    return _outputs_and_result(outputs, result, create_graph, is_outputs_tuple, is_outputs_tuple)


def _scalar_function_setup(func, inputs, v, create_graph, strict, name):
    """The common start of vhp and hvp: outputs and the gradient, kept differentiable."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].nelement() != 1:
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a "
            "single Tensor with a single element."
        )
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].nelement() != 1:
        raise RuntimeError(
            f"The Tensor returned by the function given to {name} should contain a single element"
        )
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), v^T H)`` for a scalar function: the vector-Hessian product."""
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_setup(
            func, inputs, v, create_graph, strict, "vhp"
        )

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back")

    return _outputs_and_result(outputs, result, create_graph, is_outputs_tuple, is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """``(func(inputs), H v)`` for a scalar function: the Hessian-vector product.

    Computed with the double backward trick (as torch does), so it costs one backward pass more
    than ``vhp``; for a twice continuously differentiable function H is symmetric and both agree.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_setup(
            func, inputs, v, create_graph, strict, "hvp"
        )
        grad_jac = tuple(_zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)

    with set_grad_enabled(True if create_graph else is_grad_enabled()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, create_graph, "double_back_trick")

    return _outputs_and_result(outputs, result, create_graph, is_outputs_tuple, is_inputs_tuple)


# --------------------------------------------------------------------------------------------
# jacobian, hessian
# --------------------------------------------------------------------------------------------


_EYE_MAX = 1024  # up to 8 MB of float64


def _only_leaves_are(out, inputs) -> bool:
    """Whether the leaves that ``out`` depends on and that require grad are all in ``inputs``."""
    ours = {id(inp) for inp in inputs}
    seen = set()
    stack = [out.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if node.name() == "torch::autograd::AccumulateGrad":
            if id(node.variable) not in ours:
                return False
            continue
        stack.extend(fn for fn, _ in node.next_functions)
    return True


def _jacobian_of(outputs, inputs, create_graph, strict):
    """``J[i][j] = d outputs[i] / d inputs[j]``, shaped ``out_i.shape + in_j.shape``.

    One backward pass per output element through the retained graph, with a one-hot
    grad_output (row ``r`` of the Jacobian is ``e_r^T J``): the hot loop of jacobian and
    hessian, so it does nothing else per row.  Without create_graph the rows are written
    straight into one NumPy buffer per input, and when the inputs (fresh leaves, made by
    ``_grad_preprocess``) are the only tensors requiring grad that the output depends on, each
    row is a plain ``backward()`` into their ``.grad``: the same numbers as
    ``autograd.grad(..., allow_unused=True)``, for less work per pass.
    """
    grad = _autograd_grad_fn
    in_shapes = [tuple(inp.shape) for inp in inputs]
    jacobian = []
    for i, out in enumerate(outputs):
        out_shape = tuple(out.shape)
        numel = out.numel()
        if create_graph:
            rows = [[] for _ in inputs]
        else:
            rows = [
                np.zeros((numel, *inp.shape), dtype=inp.detach().numpy().dtype) for inp in inputs
            ]
        if out.requires_grad:  # else (not strict: checked before) all its rows are zero
            out_tuple = (out,)
            out_dtype = out.detach().numpy().dtype
            # Plain backward() is the cheaper pass (no search for the part of the graph that
            # leads to the inputs); it may run only if it cannot touch any other tensor's .grad.
            by_backward = not create_graph and _only_leaves_are(out, inputs)
            # Distinct one-hot arrays (rows of one identity matrix while it is small): a
            # gradient may be the grad_output itself, so none of them is ever overwritten.
            eye = np.eye(numel, dtype=out_dtype) if numel <= _EYE_MAX else None
            for r in range(numel):
                if eye is None:
                    onehot = np.zeros(numel, dtype=out_dtype)
                    onehot[r] = 1
                else:
                    onehot = eye[r]
                onehot = from_numpy(onehot.reshape(out_shape))
                if by_backward:
                    out.backward(onehot, retain_graph=True)
                    vj = [inp.grad for inp in inputs]
                    for inp in inputs:
                        inp.grad = None
                else:
                    vj = grad(
                        out_tuple,
                        inputs,
                        (onehot,),
                        retain_graph=True,
                        create_graph=create_graph,
                        allow_unused=True,
                    )
                for k, g in enumerate(vj):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of "
                                f"input {k}. This is not allowed in strict mode."
                            )
                        if create_graph:
                            rows[k].append(_zeros_like(inputs[k]))
                    elif create_graph:
                        if strict and not g.requires_grad:
                            raise RuntimeError(  # torch's message, with the output's index
                                "The jacobian of the user-provided function is independent of "
                                f"input {i}. This is not allowed in strict mode when "
                                "create_graph=True."
                            )
                        rows[k].append(g)
                    else:
                        rows[k][r] = g.numpy()
        elif create_graph:
            rows = [[_zeros_like(inp)] * numel for inp in inputs]
        if create_graph:
            jacobian.append(
                tuple(
                    stack(rs).view(out_shape + shape)
                    if rs
                    else _zeros_like(inp).expand(*out_shape, *shape)  # a 0-element output
                    for rs, inp, shape in zip(rows, inputs, in_shapes)
                )
            )
        else:
            jacobian.append(
                tuple(
                    from_numpy(rs.reshape(out_shape + shape)) for rs, shape in zip(rows, in_shapes)
                )
            )
    return tuple(jacobian)


def jacobian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    strategy="reverse-mode",
):
    """The Jacobian of ``func`` at ``inputs``: ``J[..out.., ..in..] = d out[..] / d in[..]``.

    Returns one tensor of shape ``out.shape + in.shape`` for a tensor input and output; a tuple
    over the inputs (or the outputs) if that argument is a tuple; a tuple of tuples
    ``J[i][j]`` (output i, input j) if both are.  The Jacobian has the dtype of its input.

    Args:
        create_graph: make the result differentiable (to take derivatives of the Jacobian).
        strict: raise torch's error when an output does not depend on an input, instead of
            returning zeros for that block.
        vectorize: accepted for torch compatibility; the result is the same (autograd_lite has
            no vmap, so it is always computed row by row).
        strategy: ``"reverse-mode"`` (default) or ``"forward-mode"``.  As in torch,
            forward mode needs ``vectorize=True`` and supports neither ``create_graph`` nor
            ``strict``; autograd_lite has no forward-mode AD, so it then falls back to reverse
            mode, which gives the same numbers (in the input's dtype), nested in lists where
            torch's forward mode uses lists.
    """
    _check_strategy(strategy, create_graph, strict, vectorize)
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(
            outputs, "outputs of the user-provided function", "jacobian"
        )
        _check_requires_grad(outputs, "outputs", strict=strict)
        if vectorize and strict:
            raise RuntimeError(_VECTORIZE_STRICT)
        result = _jacobian_of(outputs, inputs, create_graph, strict)
    if create_graph:
        result = _grad_postprocess(result, create_graph)
    if strategy == "forward-mode":
        # torch's forward mode nests lists, not tuples: keep its structure.
        result = [list(row) for row in result]
    return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def hessian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    outer_jacobian_strategy="reverse-mode",
):
    """The Hessian of a scalar ``func``: shape ``x.shape + x.shape`` for a tensor input.

    For a tuple of inputs, a tuple of tuples: ``H[i][j]`` has shape
    ``inputs[i].shape + inputs[j].shape``.  Computed as torch does, as the Jacobian of the
    gradient: one backward pass with ``create_graph=True`` for the gradient, then one backward
    pass through the gradient's graph per row.  ``vectorize`` and ``outer_jacobian_strategy``
    behave as in :func:`jacobian` (forward mode falls back to reverse mode).
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")
    if outer_jacobian_strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode".')
    _check_strategy(outer_jacobian_strategy, create_graph, strict, vectorize)
    with enable_grad():
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        out = func(*inputs)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.nelement() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single "
                "element"
            )
        # The inner Jacobian (the gradient), differentiable.
        grads = _autograd_grad((out,), inputs, create_graph=True)
        jac = tuple(_zeros_like(inp) if g is None else g for g, inp in zip(grads, inputs))
        _check_requires_grad(jac, "jacobian", strict=strict)
        if vectorize and strict:
            raise RuntimeError(_VECTORIZE_STRICT)
        result = _jacobian_of(jac, inputs, create_graph, strict)
    if create_graph:
        result = _grad_postprocess(result, create_graph)
    if outer_jacobian_strategy == "forward-mode":
        result = [list(row) for row in result]  # torch's forward mode nests lists
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))

"""autograd_lite.viz.explore: the backward pass step by step, checked against real torch.

Every graph is built twice, in autograd_lite and in torch; both are explored (explore works
on torch tensors too, through torch's own hooks). Steps are matched by vertex id (the same
breadth-first walk in both libraries); the random graphs also check that both engines take the
steps in the same order. Final grads are compared with a plain ``y.backward()`` in torch.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import autograd_lite
from autograd_lite import viz
from autograd_lite.explore import Explorer, explore

SVG = "{http://www.w3.org/2000/svg}"


# --------------------------------------------------------------------------------------------
# Graphs, each a function of the library
# --------------------------------------------------------------------------------------------


def shared_node(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([0.5, -1.0], requires_grad=True)
    u = x * w
    return (u.sin() + u**2).sum(), {"x": x, "w": w}, None


def leaf_used_twice(lib):
    x = lib.tensor(1.5, requires_grad=True)
    return x * x + x.exp(), {"x": x}, None


def non_scalar(lib):
    x = lib.tensor([[1.0, 2.0], [3.0, -1.0]], requires_grad=True)
    y = x.pow(3) - 2 * x
    return y, {"x": x}, lib.tensor([[1.0, 0.5], [-1.0, 2.0]])


def second_order(lib):
    x = lib.tensor([0.3, 1.2], requires_grad=True)
    y = (x.sin() * x**2).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    return g.sum(), {"x": x}, None


def matmul_chain(lib):
    a = lib.tensor([[1.0, 2.0], [0.0, -1.0], [0.5, 0.5]], requires_grad=True)
    b = lib.tensor([[0.2, -0.3, 1.0], [1.0, 0.5, -2.0]], requires_grad=True)
    return (a.mm(b).exp() * 0.1).sum(), {"a": a, "b": b}, None


def broadcasting(lib):
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
    s = lib.tensor([[2.0], [3.0]], requires_grad=True)
    return ((x + b) * s / b).sum(), {"x": x, "b": b, "s": s}, None


GRAPHS = [shared_node, leaf_used_twice, non_scalar, second_order, matmul_chain, broadcasting]


def both(case):
    """The explorers of one graph in each library, and torch's reference leaf grads."""
    y, params, gradient = case(autograd_lite)
    lite = explore(y, gradient=gradient, params=params)
    ty, tparams, tgradient = case(torch)
    real = explore(ty, gradient=tgradient, params=tparams)
    ty.backward(tgradient)
    expected = {name: t.grad.numpy() for name, t in tparams.items()}
    return lite, real, expected


def by_vertex(explorer) -> dict:
    return {step.vertex: step for step in explorer.steps}


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------------------------------
# Against torch
# --------------------------------------------------------------------------------------------


# The double-backward graph (second_order) is built from other nodes in torch than in
# autograd_lite: only its final grads are compared with torch's.
SAME_STRUCTURE = [case for case in GRAPHS if case is not second_order]


@pytest.mark.parametrize("case", GRAPHS, ids=lambda c: c.__name__)
def test_final_grads_match_torch(case):
    lite, real, expected = both(case)
    assert lite.final_grads().keys() == expected.keys()
    for name, grad in expected.items():
        assert close(lite.final_grads()[name], grad), name
        assert close(real.final_grads()[name], grad), name


@pytest.mark.parametrize("case", SAME_STRUCTURE, ids=lambda c: c.__name__)
def test_every_step_matches_torch(case):
    lite, real, expected = both(case)
    assert sorted(by_vertex(lite)) == sorted(by_vertex(real))
    theirs = by_vertex(real)
    for step in lite.steps:
        other = theirs[step.vertex]
        assert step.node == other.node, step.index
        assert close(step.grad_in, other.grad_in), (step.name, step.grad_in, other.grad_in)
        assert [i.to for i in step.inputs] == [i.to for i in other.inputs]
        for mine, its in zip(step.inputs, other.inputs):
            assert close(mine.grad, its.grad), (step.name, mine, its)
            assert mine.rule == its.rule
        assert len(step.contributions) == len(other.contributions), step.name


@pytest.mark.parametrize("case", GRAPHS, ids=lambda c: c.__name__)
def test_the_arriving_gradient_is_the_sum_of_the_paths(case):
    for explorer in both(case)[:2]:
        for step in explorer.steps:
            total = sum(np.asarray(c["grad"], float) for c in step.contributions)
            assert close(total, step.grad_in), step.name
            assert step.contributions, step.name


def test_shared_node_shows_two_contributions_and_the_rules():
    lite, real, _ = both(shared_node)
    for explorer in (lite, real):
        (mul,) = [s for s in explorer.steps if s.node == "MulBackward0"]
        assert len(mul.contributions) == 2
        assert {c["from_name"] for c in mul.contributions} == {"SinBackward0", "PowBackward0"}
        assert [i.rule for i in mul.inputs] == ["grad × w", "grad × x"]
        rules = {s.node: s.inputs[0].rule for s in explorer.steps if s.inputs}
        assert rules["SinBackward0"] == "grad × cos(mul)"
        assert rules["PowBackward0"] == "grad × 2·mul"


def test_names_come_from_the_callers_variables():
    x = autograd_lite.tensor([1.0, 2.0], requires_grad=True)
    u = x * 3
    y = u.sin().sum()
    trace = explore(y).trace_text()
    assert "Backward pass of y" in trace
    assert "MulBackward0 (u)" in trace and "grad × cos(u)" in trace
    assert "x.grad = [-2.97, 2.881]" in trace
    assert "-> x: grad × 3 = " in trace


def test_broadcast_inputs_receive_gradients_of_their_own_shape():
    lite, real, _ = both(broadcasting)
    for explorer in (lite, real):
        (add,) = [s for s in explorer.steps if s.node == "AddBackward0"]
        assert [i.shape for i in add.inputs] == [[2, 3], [3]]
        assert add.inputs[1].rule == "grad, summed to (3,)"


def test_non_scalar_output_needs_gradient_like_torch():
    x = autograd_lite.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="implicitly created only for scalar outputs"):
        explore(x * 2)
    with pytest.raises(RuntimeError, match="does not have a grad_fn"):
        explore(x)


@pytest.mark.parametrize("lib", [autograd_lite, torch], ids=["lite", "torch"])
def test_a_freed_graph_gives_torchs_error_and_a_hint(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = (x * x).sin()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time") as info:
        explore(y)
    assert "\nhint: explore(y) runs y's backward pass itself" in str(info.value)
    assert x.grad.item() == pytest.approx(float(torch.cos(torch.tensor(4.0)) * 4))


@pytest.mark.parametrize("lib", [autograd_lite, torch], ids=["lite", "torch"])
def test_no_side_effects_and_the_graph_is_kept(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    w = lib.tensor([3.0, 4.0], requires_grad=True)
    x.grad = lib.tensor([10.0, 20.0])
    old = x.grad
    u = x * w
    u.retain_grad()
    y = (u * u).sum()
    y.retain_grad()
    explorer = explore(y)
    assert x.grad is old and old.tolist() == [10.0, 20.0]
    assert w.grad is None and y.grad is None
    if lib is autograd_lite:  # (torch: an unnamed retained grad cannot be found; u is named)
        assert u.grad is None
    # the steps include the .grad that was there: backward() accumulates
    assert explorer.final_grads()["x"] == pytest.approx([10 + 2 * 3 * 3, 20 + 2 * 8 * 4])
    y.backward()  # the graph is still there, and no hook is left behind
    assert x.grad.tolist() == pytest.approx([28.0, 84.0])
    node = y.grad_fn
    assert not getattr(node, "_pre_hooks", None)


# --------------------------------------------------------------------------------------------
# Property: random expression graphs
# --------------------------------------------------------------------------------------------

UNARY = ["sin", "exp", "tanh", "neg", "square"]
BINARY = ["add", "mul", "sub"]


@st.composite
def programs(draw):
    """A list of instructions over 2 leaves; each new value may reuse any earlier one."""
    n = draw(st.integers(2, 7))
    steps = []
    for k in range(n):
        available = 2 + k
        if draw(st.booleans()):
            steps.append(("u", draw(st.sampled_from(UNARY)), draw(st.integers(0, available - 1))))
        else:
            i, j = draw(st.integers(0, available - 1)), draw(st.integers(0, available - 1))
            steps.append(("b", draw(st.sampled_from(BINARY)), i, j))
    values = draw(st.lists(st.floats(-1.5, 1.5), min_size=4, max_size=4))
    return steps, values


def build(lib, program):
    steps, values = program
    leaves = [
        lib.tensor(values[:2], requires_grad=True),
        lib.tensor(values[2:], requires_grad=True),
    ]
    env = list(leaves)
    for step in steps:
        if step[0] == "u":
            a = env[step[2]]
            env.append(a * a if step[1] == "square" else getattr(a, step[1])())
        else:
            a, b = env[step[2]], env[step[3]]
            env.append({"add": a + b, "mul": a * b, "sub": a - b}[step[1]])
    return (env[-1] * 0.5).sum(), {"p": leaves[0], "q": leaves[1]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_random_graphs_match_torch_and_follow_the_hooks(program):
    y, params = build(autograd_lite, program)
    fired = []
    handles = []
    nodes, todo = [], [y.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in nodes:
            continue
        nodes.append(node)
        todo += [child for child, _ in node.next_functions]
    for node in nodes:
        handles.append(node.register_prehook(lambda g, node=node: fired.append(node)))
    before = {name: t.grad for name, t in params.items()}
    explorer = explore(y, params=params)
    assert {name: t.grad for name, t in params.items()} == before  # (all None)
    ours = [explorer.vertices[s.vertex].node for s in explorer.steps]
    assert ours == fired  # explore's steps are the engine's order, hook by hook
    fired.clear()
    y.backward()
    assert ours == fired  # and the same order as a plain backward()
    for handle in handles:
        handle.remove()

    ty, tparams = build(torch, program)
    torch_steps = explore(ty, params=tparams).steps
    assert [s.vertex for s in explorer.steps] == [s.vertex for s in torch_steps]  # torch's order
    ty.backward()
    final = explorer.final_grads()
    for name, t in tparams.items():
        expected = None if t.grad is None else t.grad.numpy()
        assert close(final.get(name), expected), (name, final.get(name), expected)


# --------------------------------------------------------------------------------------------
# The fallback (no browser): HTML that survives the grader's sanitiser, and text
# --------------------------------------------------------------------------------------------


def test_fallback_html_has_the_final_picture_and_every_step():
    y, params, _ = shared_node(autograd_lite)
    explorer = explore(y, params=params)
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" not in bundle  # no kernel here
    trace = bundle["text/plain"]
    for step in explorer.steps:
        assert f"step {step.index}: {step.name} receives" in trace
    html = bundle["text/html"]
    (data,) = re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', html)
    svg = ET.fromstring(base64.b64decode(data))
    texts = [t.text for t in svg.iter(f"{SVG}text") if t.text]
    assert "MulBackward0 (u)" not in texts  # u is not a name here: params names x and w only
    assert {"MulBackward0", "SinBackward0", "PowBackward0", "x", "w"} <= set(texts)
    assert "grad: [0.9388, 4.416]" in texts  # the leaves' final grads
    assert "[1, -4]" in [t.strip() for t in texts]  # an edge label: what was sent
    assert "<pre>Backward pass of y: 7 steps" in html

    from grader.feedback import sanitize_html

    clean = sanitize_html(html)
    assert data in clean and "step 5: MulBackward0 receives" in clean


def test_fallback_survives_nbconvert_html_export():
    nbformat = pytest.importorskip("nbformat")
    from nbconvert import HTMLExporter

    y, params, _ = shared_node(autograd_lite)
    bundle = explore(y, params=params)._repr_mimebundle_()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explore(y)")
    cell.outputs = [nbformat.v4.new_output("display_data", data=bundle)]
    nb.cells = [cell]
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert "data:image/svg+xml;base64," in body and "step 7: AccumulateGrad" in body


def test_widget_state_is_the_steps_as_json():
    pytest.importorskip("anywidget")
    y, params, _ = shared_node(autograd_lite)
    explorer = explore(y, params=params)
    widget = explorer.widget
    assert widget.steps == json.loads(json.dumps(explorer.as_dicts()))
    assert widget.index == 0 and widget.svg.startswith("<svg")
    assert 'id="v1"' in widget.svg and 'id="e1_0_out"' in widget.svg
    assert "data-testid" in widget._esm


def test_without_graphviz_or_dot_it_is_text_only():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["graphviz"] = None  # as if not installed
        import autograd_lite as torch
        from autograd_lite.viz import explore
        x = torch.tensor(2.0, requires_grad=True)
        e = explore((x * x).sin())
        b = e._repr_mimebundle_()
        print("IMG" if "<img" in b["text/html"] else "NOIMG")
        print(b["text/plain"])
        print("anywidget" in sys.modules, "torch" in sys.modules)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("NOIMG")
    assert "x.grad = -2.615" in out.stdout and "hint: install the graphviz" in out.stdout
    assert out.stdout.strip().endswith("False False")  # nothing optional imported


def test_explorer_is_the_same_class_for_torch_tensors():
    y, params, _ = shared_node(torch)
    explorer = explore(y, params=params)
    assert isinstance(explorer, Explorer)
    assert explorer.steps[-1].node == "AccumulateGrad"
    assert viz.explore is explore


def test_big_tensors_are_kept_as_shapes_not_values():
    """Exploring an MLP's loss: the steps (the widget's state, saved in the notebook) hold the
    shapes of big gradients, not their values; small ones keep their values."""
    torch.manual_seed(0)
    x = autograd_lite.tensor(torch.randn(64, 128).numpy())
    w1 = autograd_lite.tensor(torch.randn(128, 256).numpy(), requires_grad=True)
    b = autograd_lite.tensor(torch.randn(3).numpy(), requires_grad=True)
    y = (autograd_lite.tanh(x @ w1).sum(0)[:3] * b).pow(2).mean()
    explorer = explore(y, params={"w1": w1, "b": b})
    state = json.dumps(explorer.as_dicts())
    assert len(state) < 50_000, len(state)
    final = explorer.final_grads()
    assert final["w1"] == {"shape": [128, 256]}
    y.backward()
    np.testing.assert_allclose(final["b"], b.grad.numpy(), rtol=1e-6)
    assert "(128, 256) tensor" in explorer.trace_text()

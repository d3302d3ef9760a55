"""autograd_lite.viz: pictures of autograd graphs, checked with the real Graphviz and torch.

The pictures are rendered by the real ``dot`` program and the node labels read back from the
SVG; the structure is checked against torch's own graph for the same expression; the fallbacks
(no ``dot``, no ``graphviz`` package) run in subprocesses, where PATH and sys.modules can be
emptied without affecting this process.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET

import pytest
import torch

import autograd_lite
from autograd_lite import autograd, viz

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot program is not installed")
SVG = "{http://www.w3.org/2000/svg}"

# The colours make_dot uses, as Graphviz writes them into SVG (names SVG knows stay names).
LIGHTBLUE, LIGHTGREY, ORANGE, GOLD = "lightblue", "lightgrey", "orange", "gold"
DARKOLIVEGREEN1 = "#caff70"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def seed(lib=autograd_lite):
    """The course's seed example: y = (x + 5*w)**2 on 2x2 float32 tensors."""
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    w = lib.tensor([[0.5, -1.0], [0.0, 1.0]], requires_grad=True)
    y = (x + 5 * w) ** 2
    return x, w, y


def svg_nodes(dot) -> dict:
    """Render ``dot`` with the real ``dot -Tsvg`` and read back each node's text and shape.

    Returns ``{node name: {"lines": [...], "fill": colour, "dashed": bool, "shape": tag}}``.
    """
    svg = subprocess.run(
        [DOT, "-Tsvg"], input=dot.source, capture_output=True, text=True, check=True
    ).stdout
    nodes = {}
    for group in ET.fromstring(svg).iter(f"{SVG}g"):
        if group.get("class") != "node":
            continue
        outline = next(e for e in group if e.tag in (f"{SVG}polygon", f"{SVG}ellipse"))
        nodes[group.find(f"{SVG}title").text] = {
            "lines": [t.text for t in group.iter(f"{SVG}text")],
            "fill": outline.get("fill"),
            "dashed": outline.get("stroke-dasharray") is not None,
            "shape": outline.tag[len(SVG) :],
        }
    return nodes


def svg_edges(dot) -> list:
    """``(tail, head)`` node names of every edge, read from the rendered SVG."""
    svg = subprocess.run(
        [DOT, "-Tsvg"], input=dot.source, capture_output=True, text=True, check=True
    ).stdout
    titles = [
        g.find(f"{SVG}title").text
        for g in ET.fromstring(svg).iter(f"{SVG}g")
        if g.get("class") == "edge"
    ]
    return [tuple(t.replace("&#45;", "-").split("->")) for t in titles]


def node_by_lines(nodes: dict, first_line: str) -> dict:
    (match,) = [n for n in nodes.values() if n["lines"][0] == first_line]
    return match


def by_name(graph: dict, name: str) -> dict:
    (node,) = [n for n in graph["nodes"] if n["name"] == name]
    return node


def structure(graph: dict) -> tuple:
    """What torch and autograd_lite must agree on: nodes in discovery order, next edges."""
    kept = [n for n in graph["nodes"] if n["kind"] in ("op", "leaf")]
    nodes = [(n["kind"], n["name"]) for n in kept]
    index = {n["id"]: i for i, n in enumerate(kept)}
    edges = [
        (index[e["from"]], index[e["to"]], e["output_nr"])
        for e in graph["edges"]
        if e["kind"] == "next"
    ]
    return nodes, edges


def torch_structure(output, params: dict) -> tuple:
    """The same structure, walking torch's ``grad_fn.next_functions`` breadth first."""
    names = {id(t): name for name, t in params.items()}
    index, nodes, edges = {}, [], []

    def discover(fn):
        if fn not in index:
            index[fn] = len(nodes)
            if hasattr(fn, "variable"):  # AccumulateGrad: drawn as its leaf
                nodes.append(("leaf", names.get(id(fn.variable))))
            else:
                nodes.append(("op", fn.name()))
                queue.append(fn)
        return index[fn]

    queue = collections.deque()
    discover(output.grad_fn)
    while queue:
        fn = queue.popleft()
        for child, output_nr in fn.next_functions:
            if child is not None:
                edges.append((discover(child), index[fn], output_nr))
    return nodes, edges


def run_python(code: str, **env_changes) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (the venv's, by absolute path) from the repo root."""
    env = {**os.environ, **env_changes}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        timeout=120,
    )


# --------------------------------------------------------------------------------------------
# The seed example, drawn by the real dot
# --------------------------------------------------------------------------------------------


@needs_dot
def test_seed_picture_shows_ops_leaves_shapes_and_dtypes():
    x, w, y = seed()
    nodes = svg_nodes(viz.make_dot(y, params={"x": x, "w": w}))
    texts = [line for node in nodes.values() for line in node["lines"]]
    for name in ("PowBackward0", "AddBackward0", "MulBackward0", "x", "w"):
        assert name in texts
    assert len(nodes) == 6  # output, 3 ops, 2 leaves
    assert all("(2, 2) float32" in node["lines"] for node in nodes.values())
    assert node_by_lines(nodes, "x")["fill"] == LIGHTBLUE
    assert node_by_lines(nodes, "x")["lines"][2] == "value: [1, 2, 3, 4]"
    assert node_by_lines(nodes, "PowBackward0")["fill"] == LIGHTGREY
    assert node_by_lines(nodes, "output")["fill"] == DARKOLIVEGREEN1


@needs_dot
def test_edges_point_the_way_data_flows_like_torchviz():
    x, w, y = seed()
    dot = viz.make_dot(y, params={"x": x, "w": w})
    nodes = svg_nodes(dot)
    name = {key: node["lines"][0] for key, node in nodes.items()}
    edges = {(name[a], name[b]) for a, b in svg_edges(dot)}
    assert edges == {
        ("x", "AddBackward0"),
        ("w", "MulBackward0"),
        ("MulBackward0", "AddBackward0"),
        ("AddBackward0", "PowBackward0"),
        ("PowBackward0", "output"),
    }


def test_seed_graph_dict_structure():
    x, w, y = seed()
    graph = viz.graph_dict(y, params={"x": x, "w": w})
    assert [(n["id"], n["kind"], n["name"]) for n in graph["nodes"]] == [
        (0, "output", None),
        (1, "op", "PowBackward0"),
        (2, "op", "AddBackward0"),
        (3, "leaf", "x"),
        (4, "op", "MulBackward0"),
        (5, "leaf", "w"),
    ]
    assert graph["edges"] == [
        {"from": 1, "to": 0, "output_nr": 0, "kind": "output"},
        {"from": 2, "to": 1, "output_nr": 0, "kind": "next"},
        {"from": 3, "to": 2, "output_nr": 0, "kind": "next"},
        {"from": 4, "to": 2, "output_nr": 0, "kind": "next"},
        {"from": 5, "to": 4, "output_nr": 0, "kind": "next"},
    ]
    for node in graph["nodes"]:
        assert node["shape"] == [2, 2] and node["dtype"] == "float32"
        assert node["grad"] is None and node["freed"] is False
    assert by_name(graph, "x")["value"] == [1.0, 2.0, 3.0, 4.0]
    assert by_name(graph, "x")["label"] == "x\n(2, 2) float32\nvalue: [1, 2, 3, 4]"
    # Pow saved its input, so the value of x + 5*w is known; nobody kept 5*w.
    assert by_name(graph, "AddBackward0")["value"] == [3.5, -3.0, 3.0, 9.0]
    assert by_name(graph, "MulBackward0")["value"] is None
    assert graph["nodes"][0]["value"] == [12.25, 9.0, 9.0, 81.0]


def test_ids_follow_discovery_and_do_not_depend_on_addresses():
    first = viz.graph_dict(seed()[2])
    second = viz.graph_dict(seed()[2])
    assert first == second
    assert [n["id"] for n in first["nodes"]] == list(range(len(first["nodes"])))


def test_graph_json_is_the_dict_as_json():
    x, w, y = seed()
    assert json.loads(viz.graph_json(y, {"x": x, "w": w})) == viz.graph_dict(y, {"x": x, "w": w})


def test_unnamed_leaves_show_their_shape():
    _, _, y = seed()
    leaves = [n for n in viz.graph_dict(y)["nodes"] if n["kind"] == "leaf"]
    assert [n["name"] for n in leaves] == [None, None]
    assert all(n["label"].startswith("(2, 2) float32") for n in leaves)


# --------------------------------------------------------------------------------------------
# After backward: grads and freed buffers
# --------------------------------------------------------------------------------------------


@needs_dot
def test_grads_and_freed_buffers_after_backward():
    x, w, y = seed()
    y.sum().backward()  # no retain_graph: the saved tensors of Pow and Mul are freed
    graph = viz.graph_dict(y, params={"x": x, "w": w})
    assert by_name(graph, "x")["grad"] == x.grad.flatten().tolist()
    assert by_name(graph, "w")["grad"] == w.grad.flatten().tolist() == [35.0, -30.0, 30.0, 90.0]
    freed = {n["name"]: n["freed"] for n in graph["nodes"] if n["kind"] == "op"}
    assert freed == {"PowBackward0": True, "AddBackward0": False, "MulBackward0": True}

    nodes = svg_nodes(viz.make_dot(y, params={"x": x, "w": w}))
    assert "grad: [35, -30, 30, 90]" in node_by_lines(nodes, "w")["lines"]
    assert node_by_lines(nodes, "PowBackward0")["dashed"]
    assert "saved tensors freed by backward()" in node_by_lines(nodes, "PowBackward0")["lines"]
    assert not node_by_lines(nodes, "AddBackward0")["dashed"]


def test_retain_graph_keeps_buffers():
    x, w, y = seed()
    y.sum().backward(retain_graph=True)
    graph = viz.graph_dict(y)
    assert not any(n["freed"] for n in graph["nodes"])


def test_tutorial_example_with_retained_grad():
    x = autograd_lite.ones(2, 2, requires_grad=True)
    y = x + 2
    y.retain_grad()
    z = y * y * 3
    out = z.mean()
    out.backward()
    graph = viz.graph_dict(out, params={"x": x, "y": y})
    assert by_name(graph, "x")["grad"] == [4.5, 4.5, 4.5, 4.5]
    add = by_name(graph, "AddBackward0")
    assert add["grad"] == [4.5, 4.5, 4.5, 4.5] and add["value"] == [3.0, 3.0, 3.0, 3.0]
    assert add["label"].splitlines()[1] == "y: (2, 2) float32"  # the intermediate's name
    assert by_name(graph, "MeanBackward0")["shape"] == []

    text = viz.render_text(out, params={"x": x})
    assert text.splitlines()[:2] == [
        "output  () float32  value: 27",
        "└── MeanBackward0  () float32",
    ]
    assert "x  (2, 2) float32  value: [1, 1, 1, 1]  grad: [4.5, 4.5, 4.5, 4.5]" in text
    assert "(shown above)" in text  # y * y reaches AddBackward0 twice


def test_values_are_shown_for_small_tensors_with_four_significant_digits():
    a = autograd_lite.tensor([1 / 3, 2 / 3, 123456.0], requires_grad=True)
    big = autograd_lite.ones(7, requires_grad=True)
    out = (a * 2).sum() + big.sum()
    graph = viz.graph_dict(out, params={"a": a, "big": big})
    assert by_name(graph, "a")["label"].endswith("value: [0.3333, 0.6667, 1.235e+05]")
    assert by_name(graph, "big")["value"] is None
    out.backward()
    big_node = by_name(viz.graph_dict(out, params={"big": big}), "big")
    assert big_node["grad"] is None and big_node["has_grad"]
    assert big_node["label"].endswith("grad: (7)")


def test_show_values_and_show_grads_can_be_switched_off():
    x, w, y = seed()
    y.sum().backward()
    source = viz.make_dot(y, {"x": x}, show_values=False, show_grads=False).source
    assert "value:" not in source and "grad:" not in source


# --------------------------------------------------------------------------------------------
# Shapes and dtypes of op nodes (inferred: nodes do not store them)
# --------------------------------------------------------------------------------------------


def _broadcast_and_reduce(lib):
    a = lib.tensor([[1.0], [2.0], [3.0]], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    c = a + b  # (3, 4) float64: broadcast and promotion
    d = c.sum(dim=0)  # (4,)
    e = d.reshape(2, 2).t()
    f = e @ e.float().double()
    g = lib.cat([f, f.unsqueeze(0).expand(2, 2, 2)[1]], dim=0)
    h = g[1:, :].exp().mean()
    return h, (a, b), (c, d, e, f, g, h)


def _unbind_and_stack(lib):
    x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    p, q = x.unbind(0)
    r = lib.stack([p * q, p.relu()], dim=1)
    s = r.max(dim=1)[0].sum()
    return s, (x,), (p, q, r, s)


@pytest.mark.parametrize("build", [_broadcast_and_reduce, _unbind_and_stack])
def test_every_op_shows_the_shape_and_dtype_of_the_tensor_it_made(build):
    output, _, tensors = build(autograd_lite)
    truth = {t.grad_fn: (t.shape, t.dtype.name) for t in tensors}  # what each op really made
    # White box: the vertices hold the nodes, so each can be matched with its tensor.
    outputs, names = viz._outputs_and_names(output, None)
    graph = viz._walk(outputs, names)
    viz._annotate(graph, names)
    ops = [v for v in graph.vertices if v.kind == "op"]
    assert all(v.shape is not None and v.dtype is not None for v in ops)
    checked = [v for v in ops if v.node in truth]
    assert len(checked) == len(truth)
    for vertex in checked:
        assert (vertex.shape, vertex.dtype) == truth[vertex.node], vertex.name


def test_shapes_are_inferred_when_no_value_was_saved():
    # Only Add/Sum/Reshape in the chain: nothing is saved, so shapes come from _input_meta.
    a = autograd_lite.ones(3, 1, requires_grad=True)
    b = autograd_lite.ones(4, requires_grad=True)
    out = (a + b).reshape(2, 6).sum(dim=1).sum()
    shapes = {n["name"]: n["shape"] for n in viz.graph_dict(out)["nodes"] if n["kind"] == "op"}
    assert shapes == {
        "SumBackward0": [],
        "SumBackward1": [2],
        "ViewBackward0": [2, 6],
        "AddBackward0": [3, 4],
    }


# --------------------------------------------------------------------------------------------
# Same structure as torch's graph
# --------------------------------------------------------------------------------------------


def _seed_case(lib):
    x, w, y = seed(lib)
    return y, {"x": x, "w": w}


def _tutorial_case(lib):
    x = lib.ones(2, 2, requires_grad=True)
    y = x + 2
    return (y * y * 3).mean(), {"x": x}


def _square_case(lib):
    x = lib.tensor([1.0, -2.0], requires_grad=True)
    return (x * x).sum(), {"x": x}


def _unbind_case(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    a, b = x.unbind(0)
    return (a * b).sum(), {"x": x}


def _layer_case(lib):
    X = lib.ones(4, 3)
    W = lib.ones(3, 2, requires_grad=True)
    b = lib.zeros(2, requires_grad=True)
    return (X @ W + b).relu().sum(), {"W": W, "b": b}


def _tanh_mse_case(lib):
    w = lib.tensor([0.5, -0.3], requires_grad=True)
    x = lib.tensor([[1.0, 2.0], [3.0, 4.0]])
    target = lib.tensor([1.0, 0.0])
    pred = (x * w).sum(dim=1).tanh()
    return ((pred - target) ** 2).mean() / 2 + w.pow(2).sum() * 0.01, {"w": w}


@pytest.mark.parametrize(
    "case", [_seed_case, _tutorial_case, _square_case, _unbind_case, _layer_case, _tanh_mse_case]
)
def test_graph_matches_torch_graph(case):
    output, params = case(torch)
    expected = torch_structure(output, params)
    output, params = case(autograd_lite)
    assert structure(viz.graph_dict(output, params)) == expected


# --------------------------------------------------------------------------------------------
# show_saved / show_attrs
# --------------------------------------------------------------------------------------------


@needs_dot
def test_show_saved_draws_saved_tensors_orange():
    x, w, y = seed()
    graph = viz.graph_dict(y, {"x": x, "w": w}, show_saved=True)
    saved = [n for n in graph["nodes"] if n["kind"] == "saved"]
    assert [n["name"] for n in saved] == ["self"]  # Pow saved x + 5*w; Mul saved only a number
    assert saved[0]["value"] == [3.5, -3.0, 3.0, 9.0]
    (edge,) = [e for e in graph["edges"] if e["kind"] == "saved"]
    assert graph["nodes"][edge["from"]]["name"] == "PowBackward0"

    nodes = svg_nodes(viz.make_dot(y, {"x": x, "w": w}, show_saved=True))
    assert node_by_lines(nodes, "self")["fill"] == ORANGE


def test_show_attrs_lists_saved_values_and_parameters():
    x, w, y = seed()
    graph = viz.graph_dict(y, {"x": x, "w": w}, show_attrs=True)
    assert "exponent: 2" in by_name(graph, "PowBackward0")["label"]
    assert "self    : [saved tensor]" in by_name(graph, "PowBackward0")["label"]
    mul = by_name(graph, "MulBackward0")["label"]
    assert "other: 5" in mul and "self : None" in mul
    long = viz.make_dot(y, show_attrs=True, max_attr_chars=5).source
    assert "[s..." in long


# --------------------------------------------------------------------------------------------
# The forward view
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backward, forward",
    [
        ("MulBackward0", "mul"),
        ("AddBackward0", "add"),
        ("PowBackward0", "pow"),
        ("SumBackward1", "sum"),
        ("LogSoftmaxBackward0", "log_softmax"),
        ("MmBackward0", "mm"),
        ("TBackward0", "t"),
        ("Log1PBackward0", "log1p"),
        ("CopySlices", "setitem"),
    ],
)
def test_forward_name(backward, forward):
    node = type("FakeNode", (), {"name": lambda self: backward})()
    assert viz.forward_name(node) == forward


@needs_dot
def test_forward_view_draws_tensors_as_boxes_and_ops_as_ellipses():
    x, w, y = seed()
    dot = viz.make_forward_dot(y, params={"x": x, "w": w})
    nodes = svg_nodes(dot)
    ops = {n["lines"][0]: n for n in nodes.values() if n["shape"] == "ellipse"}
    assert set(ops) == {"mul", "add", "pow"}
    assert ops["pow"]["lines"] == ["pow", "exponent=2"]
    assert ops["mul"]["lines"] == ["mul", "other=5"]
    assert not any("Backward" in line for n in nodes.values() for line in n["lines"])
    boxes = [n for n in nodes.values() if n["shape"] == "polygon"]
    assert len(boxes) == 5  # x, w, 5*w, x + 5*w, the output
    assert node_by_lines(nodes, "x")["fill"] == LIGHTBLUE
    assert ["(2, 2) float32", "value: [3.5, -3, 3, 9]"] in [b["lines"] for b in boxes]

    # Data flows from the inputs to the output: x -> add -> (box) -> pow -> output.
    label = {key: node["lines"][0] for key, node in nodes.items()}
    edges = svg_edges(dot)
    after = {label[a]: label[b] for a, b in edges if label[a] in ("x", "w", "pow")}
    assert after == {"x": "add", "w": "mul", "pow": "output"}
    assert "rankdir=LR" in dot.source


def test_forward_view_of_a_multi_output_op_has_one_box_per_result():
    x = autograd_lite.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    a, b = x.unbind(0)
    source = viz.make_forward_dot((a * b).sum()).source
    assert 'label="(2) float32\\nvalue: [1, 2]"' in source
    assert 'label="(2) float32\\nvalue: [3, 4]"' in source
    assert "label=unbind" in source


# --------------------------------------------------------------------------------------------
# Several outputs and the graph of a create_graph gradient
# --------------------------------------------------------------------------------------------


@needs_dot
def test_create_graph_gradient_graph_links_back_to_the_original_graph():
    x, w, y = seed()
    (fx,) = autograd.grad(y.sum(), x, create_graph=True)
    params = {"x": x, "w": w, "y": y, "fx": fx}

    alone = viz.graph_dict(fx, params)
    assert alone["nodes"][0]["name"] == "fx"
    assert alone["nodes"][0]["value"] == (2 * (x + 5 * w)).flatten().tolist()
    assert "AddBackward0" in [n["name"] for n in alone["nodes"]]  # the original x + 5*w
    nodes = svg_nodes(viz.make_dot(fx, params))
    assert node_by_lines(nodes, "fx")["fill"] == DARKOLIVEGREEN1

    both = viz.graph_dict((y, fx), params)
    outputs = [n for n in both["nodes"] if n["kind"] == "output"]
    assert [n["name"] for n in outputs] == ["y", "fx"]
    (add,) = [n for n in both["nodes"] if n["name"] == "AddBackward0"]  # drawn once, shared
    users = [e for e in both["edges"] if e["from"] == add["id"]]
    assert len(users) == 2  # feeds PowBackward0 of y and the gradient's MulBackward0

    nodes = svg_nodes(viz.make_dot((y, fx), params))
    assert node_by_lines(nodes, "y")["fill"] == DARKOLIVEGREEN1
    assert node_by_lines(nodes, "fx")["fill"] == GOLD


def test_unnamed_outputs_are_numbered():
    x, w, y = seed()
    z = y.sum()
    labels = [n["label"] for n in viz.graph_dict((y, z))["nodes"] if n["kind"] == "output"]
    assert [label.splitlines()[0] for label in labels] == ["output 0", "output 1"]


def test_an_output_that_is_also_an_input_is_one_box():
    x, w, y = seed()
    graph = viz.graph_dict((y, x), {"x": x})
    assert [n["kind"] for n in graph["nodes"] if n["name"] == "x"] == ["output"]
    assert viz.graph_dict(x)["nodes"] == [
        {
            "id": 0,
            "kind": "output",
            "label": "output\n(2, 2) float32\nvalue: [1, 2, 3, 4]",
            "name": None,
            "shape": [2, 2],
            "dtype": "float32",
            "value": [1.0, 2.0, 3.0, 4.0],
            "grad": None,
            "has_grad": False,
            "freed": False,
        }
    ]


def test_custom_function_is_named_after_its_class():
    class Square(autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            ctx.scale = 2
            return t * t

        @staticmethod
        def backward(ctx, grad):
            (t,) = ctx.saved_tensors
            return ctx.scale * t * grad

    x = autograd_lite.tensor([1.0, 3.0], requires_grad=True)
    out = Square.apply(x).sum()
    node = by_name(viz.graph_dict(out, show_attrs=True), "SquareBackward")
    assert node["value"] == [1.0, 9.0] and "scale: 2" in node["label"]
    assert "label=Square" in viz.make_forward_dot(out).source


# --------------------------------------------------------------------------------------------
# Huge graphs: no recursion, no endless rendering
# --------------------------------------------------------------------------------------------


def test_100k_node_chain_exports_and_refuses_to_draw_quickly():
    x = autograd_lite.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    graph = viz.graph_dict(y, {"x": x})  # would overflow the stack if it recursed
    assert len(graph["nodes"]) == 100_002  # output, 100,000 ops, x
    assert len(graph["edges"]) == 100_001
    assert graph["nodes"][-1]["name"] == "x"

    start = time.perf_counter()
    picture = viz.make_dot(y)
    forward = viz.make_forward_dot(y)
    text = viz.render_text(y)
    assert time.perf_counter() - start < 2
    assert "too many to draw" in repr(picture) and "too many to draw" in repr(forward)
    assert "too many to draw" in text and len(text.splitlines()) <= viz.MAX_TEXT_LINES + 10
    assert "too many to draw" in picture.source


def test_max_nodes_sets_the_drawing_limit():
    x, w, y = seed()
    assert "too many to draw" in viz.make_dot(y, max_nodes=5).source
    assert "more than 5 nodes" in viz.render_text(y, max_nodes=5)
    assert "PowBackward0" in viz.make_dot(y, max_nodes=6).source
    assert "PowBackward0" in viz.make_dot(y, max_nodes=None).source


# --------------------------------------------------------------------------------------------
# Display: Jupyter, no dot, no graphviz package
# --------------------------------------------------------------------------------------------


@needs_dot
def test_display_bundle_has_svg_and_text():
    x, w, y = seed()
    dot = viz.make_dot(y, params={"x": x, "w": w})
    bundle = dot._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "PowBackward0" in bundle["image/svg+xml"]
    assert bundle["text/plain"] == viz.render_text(y, params={"x": x, "w": w})
    assert repr(dot) == bundle["text/plain"]


@needs_dot
def test_ipython_displays_the_svg():
    formatters = pytest.importorskip("IPython.core.formatters")
    x, w, y = seed()
    data, _ = formatters.DisplayFormatter().format(viz.make_dot(y, {"x": x, "w": w}))
    assert "image/svg+xml" in data and "AddBackward0" in data["text/plain"]


def test_a_failing_dot_shows_the_text_instead_of_raising(monkeypatch):
    import graphviz

    x, w, y = seed()
    dot = viz.make_dot(y, {"x": x, "w": w})

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(("dot", "-Tsvg"))

    monkeypatch.setattr(type(dot), "pipe", missing)
    bundle = dot._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    assert bundle["text/plain"].endswith(viz.DOT_HINT)

    def crashing(*args, **kwargs):
        raise subprocess.CalledProcessError(1, ["dot"], stderr="syntax error in line 3")

    monkeypatch.setattr(type(dot), "pipe", crashing)
    text = dot._repr_mimebundle_()["text/plain"]
    assert "note: Graphviz could not draw it" in text and "PowBackward0" in text


@needs_dot
def test_labels_with_quotes_and_backslashes_render():
    x = autograd_lite.tensor([1.0], requires_grad=True)
    name = 'say "hi" \\ <b>'
    nodes = svg_nodes(viz.make_dot(x * 2, params={name: x}))
    assert name in [node["lines"][0] for node in nodes.values()]


def test_bad_input_gets_a_clear_error():
    with pytest.raises(TypeError, match="expects a tensor") as info:
        viz.make_dot(3.0)
    assert "hint:" in str(info.value)


SCRIPT = """
    import autograd_lite as torch
    x = torch.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    w = torch.tensor([[0.5, -1.], [0., 1.]], requires_grad=True)
    y = (x + 5 * w) ** 2
    y.sum().backward()
    picture = torch.viz.make_dot(y, params={"x": x, "w": w})
    print(type(picture).__name__)
    print("BUNDLE", picture._repr_mimebundle_())
    print("FORWARD", torch.viz.make_forward_dot(y)._repr_mimebundle_())
    print("REPR", repr(picture))
    try:
        from IPython.core.formatters import DisplayFormatter
    except ImportError:
        print("IPYTHON", picture._repr_mimebundle_())
    else:
        print("IPYTHON", DisplayFormatter().format(picture)[0])
    print("HAS_SOURCE", hasattr(picture, "source"))
"""


def test_without_dot_the_display_is_the_text_tree_and_one_hint(tmp_path):
    result = run_python(SCRIPT, PATH=str(tmp_path))  # an empty PATH: no dot
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert out.startswith("GraphvizGraph")
    bundle_line = next(line for line in out.splitlines() if line.startswith("BUNDLE"))
    assert "image/svg+xml" not in bundle_line
    assert "└── PowBackward0  (2, 2) float32  saved tensors freed by backward()" in bundle_line
    assert "grad: [35, -30, 30, 90]" in bundle_line
    assert bundle_line.count("hint: install Graphviz") == 1
    assert viz.DOT_HINT.replace("`", "") in bundle_line.replace("`", "")
    ipython_line = next(line for line in out.splitlines() if line.startswith("IPYTHON"))
    assert "image/svg+xml" not in ipython_line and "hint: install Graphviz" in ipython_line
    assert "HAS_SOURCE True" in out  # still a real Digraph: .source, .render(format='dot')


def test_without_the_graphviz_package_everything_is_text():
    script = "import sys\nsys.modules['graphviz'] = None\n" + textwrap.dedent(SCRIPT)
    result = run_python(script)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("TextGraph")
    assert "MulBackward0" in out and "pip install graphviz" in out
    assert "HAS_SOURCE False" in out
    forward_line = next(line for line in out.splitlines() if line.startswith("FORWARD"))
    assert "PowBackward0" in forward_line
    repr_start = out.index("REPR")
    assert out[repr_start:].count("hint:") >= 1


def test_import_autograd_lite_does_not_import_graphviz_or_viz():
    result = run_python(
        """
        import sys
        import autograd_lite
        print("graphviz" in sys.modules, "autograd_lite.viz" in sys.modules)
        autograd_lite.viz.make_dot
        print("graphviz" in sys.modules, "autograd_lite.viz" in sys.modules)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "True", "True"]


def test_viz_never_imports_torch():
    result = run_python(
        """
        import sys
        from autograd_lite import viz
        x = viz.graph_dict(__import__("autograd_lite").ones(2, requires_grad=True) * 2)
        print("torch" in sys.modules)
        """
    )
    assert result.stdout.split() == ["False"], result.stderr

"""Watch the backward pass one node at a time: ``explore(y)``.

``make_dot`` draws the graph as it is *after* ``backward()``.  ``explore(y)`` shows the pass
itself, in the engine's real order: the node whose turn it is, the gradient that reached it
(the sum, when several paths meet there), the gradient it sends to each input with the rule
that made it (``grad × 2·u``), and the leaves' ``.grad`` filling in.

How it knows: it does not work out a single gradient itself.  It puts a hook on every node of
the graph (``register_prehook`` sees what arrives, ``register_hook`` what leaves), runs the
real ``y.backward(gradient, retain_graph=True)`` once, writes down what the hooks saw, then
removes the hooks and puts every ``.grad`` back as it was.  So ``explore(y)``:

- needs the graph still there: after ``y.backward()`` (without ``retain_graph=True``) it
  raises torch's "Trying to backward through the graph a second time" error with a hint;
- leaves the graph there: ``y.backward()`` still works afterwards;
- changes no ``.grad`` (leaves', and retained ones it can find: see ``_Stash``);
- runs the hooks *you* registered too (it is a real backward pass).

There is no arithmetic here at all: a node's post-hook already sees each input's gradient
as that input receives it (summed over broadcast dimensions, cast to its dtype).

It works on real torch tensors too (duck typing: this module never imports torch).

In Jupyter the result is a widget (anywidget; no JavaScript build step, no network): the
graph, drawn by Graphviz on the Python side as ``make_dot`` draws it, and the buttons start,
back, next and run to end.  Wherever widgets do not run (nbconvert's HTML, the grader's
feedback pages, GitHub, a terminal) it shows the final picture and a text trace instead;
without Graphviz, the text trace alone.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import html
import json
import pathlib
import re
import sys

import numpy as np

__all__ = ["explore", "Explorer", "Step", "InputGrad", "RULES"]

# ============================================================================================
# The rules shown next to each gradient: node name -> one text per input
# ============================================================================================
# {a}, {b} are the node's inputs (their names when known), {n} pow's exponent.  Only a label:
# the values shown next to it are the ones the engine computed.
RULES = {
    "AddBackward0": ("grad", "grad"),
    "SubBackward0": ("grad", "-grad"),
    "RsubBackward1": ("-grad",),
    "MulBackward0": ("grad × {b}", "grad × {a}"),
    "MulBackward1": ("grad × {c}",),  # a number inside a gradient formula (torch's C++)
    "DivBackward1": ("grad / {c}",),
    "SgnBackward0": ("grad × 0",),
    "ThresholdBackwardBackward0": ("grad × ({b} > 0)", "0"),
    "DivBackward0": ("grad / {b}", "-grad × {a} / {b}²"),
    "NegBackward0": ("-grad",),
    "PowBackward0": ("grad × {n}·{a}^{n1}",),
    "PowBackward1": ("grad × {b}·{a}^({b}-1)", "grad × {a}^{b}·ln({a})"),
    "SinBackward0": ("grad × cos({a})",),
    "CosBackward0": ("grad × -sin({a})",),
    "TanBackward0": ("grad × (1 + tan²({a}))",),
    "ExpBackward0": ("grad × exp({a})",),
    "LogBackward0": ("grad / {a}",),
    "SqrtBackward0": ("grad / (2·√{a})",),
    "TanhBackward0": ("grad × (1 - tanh²({a}))",),
    "SigmoidBackward0": ("grad × σ({a})·(1 - σ({a}))",),
    "ReluBackward0": ("grad × ({a} > 0)",),
    "AbsBackward0": ("grad × sign({a})",),
    "SumBackward0": ("grad copied to every element of {a}",),
    "SumBackward1": ("grad copied along the summed dims",),
    "MeanBackward0": ("grad / numel({a}), copied to every element",),
    "MeanBackward1": ("grad / n, copied along the averaged dims",),
    "MmBackward0": ("grad @ {b}ᵀ", "{a}ᵀ @ grad"),
    "MvBackward0": ("grad ⊗ {b} (outer product)", "{a}ᵀ @ grad"),
    "DotBackward0": ("grad × {b}", "grad × {a}"),
    "BmmBackward0": ("grad @ {b}ᵀ per batch", "{a}ᵀ @ grad per batch"),
    "TBackward0": ("gradᵀ",),
    "TransposeBackward0": ("grad transposed back",),
    "PermuteBackward0": ("grad permuted back",),
    "ViewBackward0": ("grad reshaped to {a}'s shape",),
    "ReshapeAliasBackward0": ("grad reshaped to {a}'s shape",),
    "UnsafeViewBackward0": ("grad reshaped to {a}'s shape",),
    "SqueezeBackward0": ("grad reshaped to {a}'s shape",),
    "SqueezeBackward1": ("grad reshaped to {a}'s shape",),
    "UnsqueezeBackward0": ("grad reshaped to {a}'s shape",),
    "ExpandBackward0": ("grad summed to {a}'s shape",),
    "CloneBackward0": ("grad",),
    "ToCopyBackward0": ("grad cast to {a}'s dtype",),
    "SelectBackward0": ("grad put into zeros of {a}'s shape",),
    "SliceBackward0": ("grad put into zeros of {a}'s shape",),
    "IndexBackward0": ("grad added into zeros of {a}'s shape",),
}
# Ops that broadcast their inputs: an input smaller than the output gets the gradient summed.
_BROADCASTING = {
    "AddBackward0",
    "SubBackward0",
    "MulBackward0",
    "DivBackward0",
    "PowBackward1",
    "MaximumBackward0",
    "MinimumBackward0",
    "WhereBackward0",
    "AtanBackward0",
    "Atan2Backward0",
}
# A step keeps the values of gradients up to this size; of bigger ones only the shape, so
# that exploring an MLP's loss does not send the widget (and save in the notebook) 100 MB.
VALUES_KEPT = 256


# ============================================================================================
# The step model: plain data, JSON-able (dataclasses.asdict)
# ============================================================================================


@dataclasses.dataclass
class InputGrad:
    """What one node sent to one of its inputs."""

    input_nr: int  # position in the node's next_functions
    to: int  # vertex id of the input's node (ids as in the picture)
    to_name: str
    rule: str  # "grad × 2·u"
    grad: object  # nested lists (tolist()), or None when nothing was sent
    shape: list


@dataclasses.dataclass
class Step:
    """One node's turn in the backward pass, in the order the engine ran it."""

    index: int  # 1, 2, ...
    vertex: int  # the node's vertex id in the picture
    node: str  # "MulBackward0", "AccumulateGrad"
    name: str  # how the trace names it: "MulBackward0 (u)", "AccumulateGrad (x)"
    kind: str  # "op" or "leaf"
    grad_in: object  # the gradient that arrived (summed), nested lists
    shape: list
    contributions: list  # [{"from", "from_name", "grad"}] one per path that arrived
    inputs: list  # [InputGrad] (empty for a leaf)
    leaf_grads: list  # [{"vertex", "name", "grad"}] every leaf's .grad after this step


# ============================================================================================
# The graph: a breadth-first walk of grad_fn.next_functions (ids as make_dot's)
# ============================================================================================


@dataclasses.dataclass
class _Vertex:
    id: int
    kind: str  # "output" | "op" | "leaf"
    node: object = None
    tensor: object = None
    name: str | None = None  # a tensor's name (params or the caller's variables)


def _is_leaf_node(node) -> bool:
    return hasattr(node, "variable")  # AccumulateGrad, in torch and here


def _short(node) -> str:
    return node.name().rsplit("::", 1)[-1]


def _walk(y, names: dict):
    vertices, edges, ids = [], [], {}
    output = _Vertex(0, "output", tensor=y, name=names.get(id(y)))
    vertices.append(output)
    root = y.grad_fn
    queue = collections.deque([root])
    ids[root] = 1
    vertices.append(_Vertex(1, "op", node=root, name=_result_name(root, names)))
    edges.append((1, 0, -1))  # (source, target, input_nr): forward direction, as make_dot
    while queue:
        node = queue.popleft()
        for input_nr, (child, _) in enumerate(node.next_functions):
            if child is None:
                continue
            if child not in ids:
                ids[child] = len(vertices)
                if _is_leaf_node(child):
                    leaf = _Vertex(len(vertices), "leaf", child, child.variable)
                    leaf.name = names.get(id(child.variable))
                else:
                    leaf = _Vertex(len(vertices), "op", child, name=_result_name(child, names))
                    queue.append(child)
                vertices.append(leaf)
            edges.append((ids[child], ids[node], input_nr))
    return vertices, edges, ids


def _result_name(node, names: dict):
    return names.get(("node", id(node)))


def _names(y, params, frame) -> dict:
    """Tensor names: ``params`` first, else the caller's variables (``x``, ``u``...)."""
    found = {}
    candidates = list((params or {}).items())
    if frame is not None:
        candidates += [(k, v) for k, v in frame.f_locals.items() if not k.startswith("_")]
        if frame.f_globals is not frame.f_locals:
            candidates += [(k, v) for k, v in frame.f_globals.items() if not k.startswith("_")]
    for name, value in candidates:
        if not (hasattr(value, "grad_fn") and hasattr(value, "requires_grad")):
            continue
        found.setdefault(id(value), name)
        fn = value.grad_fn
        if fn is not None and getattr(value, "_output_nr", 0) == 0 and value is not y:
            found.setdefault(("node", id(fn)), name)
    return found


# ============================================================================================
# Recording: the real engine, with hooks
# ============================================================================================


def _numpy(t):
    if t is None:
        return None
    t = t.detach()
    if hasattr(t, "cpu"):
        t = t.cpu()
    try:
        return np.array(t.numpy(), copy=True)
    except TypeError:  # e.g. bfloat16, which NumPy lacks
        return np.array(t.float().numpy(), copy=True)


class _Stash:
    """Every ``.grad`` the pass would change, put aside and given back untouched.

    Leaves get a copy of their ``.grad`` for the pass (the engine may add into it in place);
    the original object is put back afterwards.  Retained grads (``retain_grad()``) are
    handled for ``y`` itself and, in autograd_lite, for every node's retained tensors; in
    torch an unnamed intermediate's retained grad cannot be found from the graph.
    """

    def __init__(self, tensors):
        self.saved = []
        seen = set()
        for t in tensors:
            if t is None or id(t) in seen:
                continue
            seen.add(id(t))
            old = t.grad
            self.saved.append((t, old))
            t.grad = None if old is None else old.detach().clone()

    def restore(self):
        for t, old in self.saved:
            t.grad = old


def _retained_tensors(vertices):
    found = [vertices[0].tensor] if getattr(vertices[0].tensor, "retains_grad", False) else []
    for v in vertices:
        for ref in getattr(v.node, "_retained", None) or ():  # autograd_lite's retain_grad
            if ref() is not None:
                found.append(ref())
    return found


FREED_HINT = (
    "hint: explore(y) runs y's backward pass itself, so it needs the graph: call explore(y) "
    "before y.backward(), use y.backward(retain_graph=True), or compute y again"
)


def _record(y, gradient, vertices):
    """Run y.backward once with hooks on every node; return (pre events, post events)."""
    arrived, sent, leaf_after = [], {}, {}
    handles = []

    def prehook(vid):
        def hook(grads):
            arrived.append((vid, [_numpy(g) for g in grads]))

        return hook

    def posthook(vid, node):
        def hook(grad_inputs, grad_outputs):
            sent[vid] = [_numpy(g) for g in grad_inputs]
            if _is_leaf_node(node):
                leaf_after[vid] = _numpy(node.variable.grad)

        return hook

    stash = _Stash([v.tensor for v in vertices if v.kind == "leaf"] + _retained_tensors(vertices))
    try:
        for v in vertices:
            if v.kind != "output":
                handles.append(v.node.register_prehook(prehook(v.id)))
                handles.append(v.node.register_hook(posthook(v.id, v.node)))
        try:
            y.backward(gradient, retain_graph=True)
        except RuntimeError as error:
            if "backward through the graph a second time" in str(error):
                raise RuntimeError(f"{error}\n{FREED_HINT}") from None
            raise
    finally:
        for handle in handles:
            handle.remove()
        stash.restore()
    return arrived, sent, leaf_after


# ============================================================================================
# Formatting numbers
# ============================================================================================


def value_text(a, limit: int | None = None) -> str:
    """``6``, ``[1, 2.5]``, or ``(3, 4) tensor`` when it has more than ``limit`` elements
    (``make_dot``'s limit by default), in ``make_dot``'s number format."""
    if a is None:
        return "None"
    if isinstance(a, dict):  # a gradient kept as its shape only (_as_list)
        return viz._size_text(a["shape"]) + " tensor"
    a = np.asarray(a)
    if a.ndim and a.size > (viz.SMALL_TENSOR if limit is None else limit):
        return viz._size_text(a.shape) + " tensor"
    return viz._values_text(a)


def _as_list(a):
    """A gradient as JSON: nested lists, or ``{"shape": [...]}`` beyond VALUES_KEPT elements."""
    if a is None:
        return None
    a = np.asarray(a)
    return {"shape": list(a.shape)} if a.size > VALUES_KEPT else a.tolist()


def _dtype(a) -> str:
    return str(a.dtype).replace("torch.", "")


# ============================================================================================
# The explorer
# ============================================================================================


class Explorer:
    """The recorded backward pass of one output: ``.steps``, ``.trace_text()``, ``.widget``.

    Shows itself as a widget where widgets run (Jupyter with a kernel and anywidget), and as
    the final picture plus the text trace everywhere else.
    """

    def __init__(self, y, gradient=None, params=None, _frame=None):
        if not (hasattr(y, "grad_fn") and hasattr(y, "backward")):
            raise TypeError(
                f"explore() expects a tensor, got {type(y).__name__}"
                "\nhint: pass the result of a computation, e.g. explore(loss)"
            )
        if y.grad_fn is None:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn"
                "\nhint: explore(y) needs y computed from tensors with requires_grad=True"
            )
        if gradient is None and y.numel() != 1:
            raise RuntimeError(
                "grad can be implicitly created only for scalar outputs"
                "\nhint: y has several elements: pass the vector of the product, "
                "e.g. explore(y, gradient=torch.ones_like(y)), as y.backward(gradient) needs"
            )
        self.names = _names(y, params, _frame)
        self.vertices, self.edges, _ = _walk(y, self.names)
        self._label_vertices()
        self.grads_before = {v.id: _numpy(v.tensor.grad) for v in self.vertices if v.kind == "leaf"}
        arrived, sent, leaf_after = _record(y, gradient, self.vertices)
        self.steps = self._steps(arrived, sent, leaf_after)
        self._svg = None
        self._widget = None

    # -- naming ------------------------------------------------------------------------------
    def _label_vertices(self):
        leaves = 0
        for v in self.vertices:
            if v.kind == "output":
                v.title = v.name or "output"
            elif v.kind == "leaf":
                leaves += 1
                v.title = v.name or f"leaf {leaves}"
            else:
                node = _short(v.node)
                v.title = f"{node} ({v.name})" if v.name else node
        for v in self.vertices:  # how rules call an input: its name, else its op ("mul")
            v.symbol = v.name or (viz.forward_name(v.node) if v.kind == "op" else v.title)

    # -- the steps ---------------------------------------------------------------------------
    def _steps(self, arrived, sent, leaf_after):
        vertices = self.vertices
        incoming = {vid: grads for vid, grads in arrived}
        inputs_of = collections.defaultdict(list)  # consumer -> [(input_nr, child id)]
        for source, target, input_nr in self.edges:
            if input_nr >= 0:
                inputs_of[target].append((input_nr, source))
        output_nr = {}
        for v in vertices:
            if v.kind == "op":
                for i, (_child, nr) in enumerate(v.node.next_functions):
                    output_nr[(v.id, i)] = nr
        contributions = collections.defaultdict(list)
        contributions[1].append(
            {
                "from": 0,
                "from_name": vertices[0].title,
                "output_nr": 0,
                "grad": _as_list(incoming.get(1, [None])[0]),
            }
        )
        leaf_grads = dict(self.grads_before)  # .grad before the pass (None mostly)
        steps = []
        self.sent_on_edge = {}  # (source, target, input_nr) -> the gradient (numpy)
        for index, (vid, grads) in enumerate(arrived, start=1):
            v = vertices[vid]
            inputs = []
            for input_nr, child in sorted(inputs_of[vid]):
                grad = (sent.get(vid) or [None] * (input_nr + 1))[input_nr]
                self.sent_on_edge[(child, vid, input_nr)] = grad
                inputs.append(
                    InputGrad(
                        input_nr,
                        child,
                        vertices[child].title,
                        self._rule(v, input_nr, child, grads, grad),
                        _as_list(grad),
                        list(np.shape(grad)) if grad is not None else [],
                    )
                )
                if grad is not None:
                    contributions[child].append(
                        {
                            "from": vid,
                            "from_name": v.title,
                            "output_nr": output_nr.get((vid, input_nr), 0),
                            "grad": _as_list(grad),
                        }
                    )
            if v.kind == "leaf":
                leaf_grads[vid] = leaf_after.get(vid)
            first = grads[0] if len(grads) == 1 else None
            grad_in = first if len(grads) == 1 else [_as_list(g) for g in grads]
            steps.append(
                Step(
                    index=index,
                    vertex=vid,
                    node=_short(v.node),
                    name=f"AccumulateGrad ({v.title})" if v.kind == "leaf" else v.title,
                    kind=v.kind,
                    grad_in=_as_list(grad_in) if len(grads) == 1 else grad_in,
                    shape=list(np.shape(first)) if first is not None else [],
                    contributions=list(contributions[vid]),
                    inputs=inputs,
                    leaf_grads=[
                        {
                            "vertex": leaf.id,
                            "name": leaf.title,
                            "grad": _as_list(leaf_grads.get(leaf.id)),
                        }
                        for leaf in vertices
                        if leaf.kind == "leaf"
                    ],
                )
            )
        self.incoming = incoming
        return steps

    def _rule(self, v, input_nr, child, grads, grad) -> str:
        node = _short(v.node)
        symbols = {}
        for source, target, nr in self.edges:
            if target == v.id and nr >= 0:
                symbols[nr] = self.vertices[source].symbol
        a, b = symbols.get(0) or _constant(v.node, 0), symbols.get(1) or _constant(v.node, 1)
        templates = RULES.get(node)
        if templates and input_nr < len(templates):
            n = getattr(v.node, "_saved_exponent", None)
            n = getattr(v.node, "exponent", None) if n is None else n
            text = templates[input_nr]
            if node == "PowBackward0" and isinstance(n, (int, float)):
                text = f"grad × {viz._number_text(n)}·{{a}}" if n == 2 else text
                if n == 1:  # torch's formula keeps x ** 0, which is 1: say so
                    text = "grad × 1·{a}^0 (= grad)"
                text = text.format(a=a, b=b, n=viz._number_text(n), n1=viz._number_text(n - 1))
            else:
                c = getattr(v.node, "_saved_other", None)
                c = viz._number_text(c) if isinstance(c, (int, float)) else "c"
                text = text.format(a=a, b=b, c=c, n="n", n1="(n-1)")
        else:
            name = viz.forward_name(v.node)
            text = f"grad × ∂{name}/∂{symbols.get(input_nr, 'input')}"
        if node in _BROADCASTING and grad is not None and grads and grads[0] is not None:
            if np.shape(grad) != np.shape(grads[0]):
                text += ", summed to " + str(tuple(np.shape(grad)))
        return text

    # -- the text trace ----------------------------------------------------------------------
    def trace_text(self) -> str:
        """Every step, in the engine's order: what arrived, what was sent where, by which rule."""
        y = self.vertices[0]
        lines = [f"Backward pass of {y.title}: {len(self.steps)} steps, in the engine's order"]
        for step in self.steps:
            grad_in = _step_grad_text(step)
            head = f"step {step.index}: {step.name} receives {grad_in}"
            if len(step.contributions) > 1 and any(c["output_nr"] for c in step.contributions):
                parts = "; ".join(  # a node with several outputs: one gradient per output
                    f"output {c['output_nr']}: {value_text(c['grad'])} (from {c['from_name']})"
                    for c in step.contributions
                )
                head += f", {parts}"
            elif len(step.contributions) > 1:  # several paths meet here: their sum arrived
                parts = " + ".join(
                    f"{_term(value_text(c['grad']))} (from {c['from_name']})"
                    for c in step.contributions
                )
                head += f" = {parts}"
            lines.append(head)
            for sent in step.inputs:
                lines.append(f"    -> {sent.to_name}: {sent.rule} = {value_text(sent.grad, 12)}")
            if step.kind == "leaf":
                (leaf,) = [g for g in step.leaf_grads if g["vertex"] == step.vertex]
                lines.append(f"    {leaf['name']}.grad = {value_text(leaf['grad'], 12)}")
        return "\n".join(lines)

    def as_dicts(self) -> list:
        """The steps as plain dicts (what the widget gets, as JSON)."""
        return [dataclasses.asdict(step) for step in self.steps]

    def final_grads(self) -> dict:
        """Each leaf's ``.grad`` after the last step: what ``y.backward()`` gives it (nested
        lists; a gradient of more than VALUES_KEPT elements as ``{"shape": [...]}``)."""
        last = self.steps[-1].leaf_grads if self.steps else []
        return {g["name"]: g["grad"] for g in last}

    # -- the picture -------------------------------------------------------------------------
    def _dot(self):
        if viz.graphviz is None or len(self.vertices) > viz.MAX_NODES:
            return None
        dot = viz.graphviz.Digraph(
            node_attr=dict(
                style="filled", shape="box", fontsize="10", height="0.2", fontname="monospace"
            ),
            edge_attr=dict(fontsize="9", fontname="monospace", fontcolor="#b03000"),
            graph_attr=dict(size="12,12", nodesep="0.4", ranksep="0.45"),
        )
        self.grad_line = {}
        for v in self.vertices:
            lines = [v.title]
            if v.kind == "op":
                got = self.incoming.get(v.id)
                if got and got[0] is not None:
                    lines.append(f"{viz._size_text(got[0].shape)} {got[0].dtype}")
                fill = viz.OP_COLOR
            else:
                data = _numpy(v.tensor)
                lines.append(f"{viz._size_text(data.shape)} {_dtype(v.tensor)}")
                if data.size <= viz.SMALL_TENSOR:
                    lines.append("value: " + value_text(data))
                fill = viz.LEAF_COLOR if v.kind == "leaf" else viz.OUTPUT_COLORS[0]
                if v.kind == "leaf":
                    final = self.final_grads().get(v.title)
                    if final is not None:
                        self.grad_line[v.id] = len(lines)
                        lines.append("grad: " + value_text(final))
            extra = {"penwidth": "2"} if v.kind == "output" else {}
            dot.node(f"n{v.id}", viz._dot_label(lines), fillcolor=fill, id=f"v{v.id}", **extra)
        start = self.steps[0].grad_in if self.steps else None
        for source, target, input_nr in self.edges:
            if input_nr < 0:
                label = value_text(start)
            else:
                label = value_text(self.sent_on_edge.get((source, target, input_nr)))
            dot.edge(
                f"n{source}",
                f"n{target}",
                label=" " + viz._dot_label([label]),
                id=_edge_id(source, target, input_nr),
            )
        return dot

    def svg(self) -> str | None:
        """The final picture as SVG text, or None without Graphviz (or for a huge graph)."""
        if self._svg is None:
            dot = self._dot()
            if dot is None:
                return None
            try:
                self._svg = dot.pipe(format="svg", encoding="utf-8")
            except Exception:  # no `dot` program (ExecutableNotFound) or it failed: text only
                return None
        return self._svg

    # -- displays ----------------------------------------------------------------------------
    def fallback_html(self) -> str:
        """The final picture (an <img>, which sanitisers keep) and the text trace."""
        parts = ['<div class="autograd-lite-explore">']
        svg = self.svg()
        if svg is not None:
            data = base64.b64encode(svg.encode()).decode()
            parts.append(
                f'<img alt="the graph after the backward pass" '
                f'src="data:image/svg+xml;base64,{data}">'
            )
        parts.append(f"<pre>{html.escape(self._plain())}</pre></div>")
        return "".join(parts)

    def _plain(self) -> str:
        text = self.trace_text()
        if self.svg() is None and len(self.vertices) <= viz.MAX_NODES:
            text += "\n" + (viz.PACKAGE_HINT if viz.graphviz is None else viz.DOT_HINT)
        return text

    def __repr__(self) -> str:
        return self._plain()

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(self._plain())

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        bundle = {"text/plain": self._plain(), "text/html": self.fallback_html()}
        if _kernel_is_live():
            _enable_colab_widgets()
            try:
                view = self.widget._repr_mimebundle_()
            except ImportError:
                return bundle
            view = view[0] if isinstance(view, tuple) else view
            key = "application/vnd.jupyter.widget-view+json"
            if key in view:
                bundle[key] = view[key]
        return bundle

    @property
    def widget(self):
        """The anywidget view of this pass (made once; every display of it shares it)."""
        if self._widget is None:
            self._widget = _widget_class()(
                svg=_inline_svg(self.svg()),
                steps=json.loads(json.dumps(self.as_dicts())),
                graph=self._graph_info(),
            )
        return self._widget

    def _graph_info(self) -> dict:
        self.svg()
        return {
            "title": self.vertices[0].title,
            "vertices": [{"id": v.id, "kind": v.kind, "title": v.title} for v in self.vertices],
            "edge_step_vertex": {
                _edge_id(s, t, nr): (t if nr >= 0 else -1) for s, t, nr in self.edges
            },
            "grad_line": {str(k): v for k, v in getattr(self, "grad_line", {}).items()},
            "start_grad": value_text(self.steps[0].grad_in) if self.steps else "",
            "leaf_grads_before": [
                {"vertex": v.id, "name": v.title, "grad": _as_list(self.grads_before[v.id])}
                for v in self.vertices
                if v.kind == "leaf"
            ],
        }


def _constant(node, position: int) -> str:
    """An input that takes no gradient (``3`` in ``x * 3``): its value if the node saved it."""
    for key in ("self", "other")[position : position + 1]:
        value = getattr(node, f"_saved_{key}", None)
        value = getattr(node, key, None) if value is None else value
        if isinstance(value, (int, float)):
            return viz._number_text(value)
        if hasattr(value, "detach") and value.numel() == 1:
            return value_text(_numpy(value))
    return "ab"[position] if position < 2 else "c"


def _term(text: str) -> str:
    """A summand as a sum shows it: ``1 + (-6)``, not ``1 + -6``."""
    return f"({text})" if text.startswith("-") else text


def _edge_id(source, target, input_nr) -> str:
    """The SVG id of an edge: ``e3_1_0`` (input 0 of vertex 1 comes from vertex 3)."""
    return f"e{source}_{target}_{input_nr if input_nr >= 0 else 'out'}"


def _step_grad_text(step) -> str:
    if step.grad_in is not None and not (step.shape == [] and isinstance(step.grad_in, list)):
        return value_text(step.grad_in, 12)
    return "[" + ", ".join(value_text(g, 12) for g in step.grad_in) + "]"


def _inline_svg(svg) -> str:
    """Graphviz's SVG without its XML prolog, scaled by its container (viewBox kept)."""
    if svg is None:
        return ""
    start = svg.find("<svg")
    svg = svg[start:]
    head, rest = svg.split(">", 1)
    for attribute in ("width", "height"):
        head = _drop_attribute(head, attribute)
    return head + ">" + rest


def _drop_attribute(tag: str, name: str) -> str:
    return re.sub(rf'\s{name}="[^"]*"', "", tag)


def _kernel_is_live() -> bool:
    """Whether a Jupyter kernel (with its comms, which widgets need) runs this code."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _enable_colab_widgets() -> None:
    """Colab draws only its own widgets until its manager for other ones is switched on (it
    fetches that manager's code from a CDN, as Colab does for any such widget)."""
    if "google.colab" in sys.modules:
        try:
            from google.colab import output

            output.enable_custom_widget_manager()
        except Exception:  # an old or a local runtime: the static picture and trace remain
            pass


def explore(y, gradient=None, params=None) -> Explorer:
    """Record ``y``'s backward pass with the real engine and show it step by step.

    ``gradient``: as for ``y.backward(gradient)``, needed when ``y`` has several elements.
    ``params``: names for tensors, as for ``make_dot`` (``{'x': x}``); without it, the names
    of your variables are used.  Returns an Explorer (``.steps``, ``.trace_text()``); in
    Jupyter it shows as a widget with buttons, elsewhere as the picture plus a text trace.
    Works for autograd_lite and real torch tensors.  ``y``'s graph must not have been freed
    by a ``backward()``; ``explore`` itself keeps it and changes no ``.grad``.
    """
    return Explorer(y, gradient, params, _frame=sys._getframe(1))


# ============================================================================================
# The widget (anywidget: explore.js and explore.css read as they are, no build step)
# ============================================================================================

_WIDGET = None
_HERE = pathlib.Path(__file__).parent


def _widget_class():
    global _WIDGET
    if _WIDGET is None:
        try:
            import anywidget
            import traitlets
        except ImportError as error:
            raise ImportError(
                "explore's widget needs anywidget\nhint: pip install anywidget"
            ) from error

        class ExplorerWidget(anywidget.AnyWidget):
            """The backward pass, step by step: the picture, four buttons and a panel."""

            _esm = _HERE / "explore.js"  # (anywidget reads the files: no build step)
            _css = _HERE / "explore.css"
            svg = traitlets.Unicode("").tag(sync=True)
            steps = traitlets.List().tag(sync=True)
            graph = traitlets.Dict().tag(sync=True)
            index = traitlets.Int(0).tag(sync=True)  # 0: before the pass; k: after step k

        _WIDGET = ExplorerWidget
    return _WIDGET


# Last, so that importing either module first works (viz re-exports explore from here).
from . import viz  # noqa: E402

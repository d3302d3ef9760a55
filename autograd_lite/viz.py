"""Pictures of autograd graphs: torchviz's ``make_dot``, a forward view, text and JSON.

``make_dot(y, params={'x': x, 'w': w})`` draws the backward graph the way torchviz does (leaves
light blue, backward nodes grey, the output green, saved tensors orange with ``show_saved``) and
adds what a beginner wants to see: every node's shape and dtype, the values of small tensors,
``.grad`` after ``backward()`` and which nodes already freed their saved tensors.
``make_forward_dot`` draws the same graph as on paper: tensors flowing through ``mul``, ``add``...

Every view is built from one breadth-first walk (``_walk``) that records vertices and edges in
the order it discovers them; ``graph_dict`` exports that record as it is.  The walk is a loop,
not recursion, so a 100,000-node graph can be exported; drawing refuses graphs larger than
``MAX_NODES`` (Graphviz would take minutes and the picture would be unreadable).

Displays never raise: without Graphviz's ``dot`` program, or without the ``graphviz`` Python
package, the objects show an indented text tree and one line on how to get the picture.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import json
import re
from pathlib import Path

import numpy as np

from ._dtype import FROM_NUMPY
from ._engine import AccumulateGrad, Node
from ._tensor import Tensor

try:  # optional: without it every view falls back to text
    import graphviz
except ImportError:
    graphviz = None

__all__ = [
    "MAX_NODES",
    "GraphvizGraph",
    "TextGraph",
    "explore",
    "graph_dict",
    "graph_json",
    "make_dot",
    "make_forward_dot",
    "render_text",
]

MAX_NODES = 2000  # larger graphs are exported (graph_dict) but not drawn
SMALL_TENSOR = 6  # tensors with at most this many elements show their values
MAX_TEXT_LINES = 300  # the text tree stops here; graph_dict has everything

DOT_HINT = (
    "hint: install Graphviz to see the picture: `sudo apt-get install graphviz` (Debian/Ubuntu), "
    "`brew install graphviz` (macOS) or `conda install -c conda-forge graphviz`"
)
PACKAGE_HINT = (
    "hint: install the graphviz Python package to see the picture: `pip install graphviz` "
    "(plus Graphviz itself: `sudo apt-get install graphviz`, `brew install graphviz` or "
    "`conda install -c conda-forge graphviz`)"
)

# torchviz's colours; further outputs of one picture get their own colour each.
LEAF_COLOR = "lightblue"
OP_COLOR = "lightgrey"
SAVED_COLOR = "orange"
OUTPUT_COLORS = ("darkolivegreen1", "gold", "lightpink", "plum", "aquamarine", "lightsalmon")

# Node attributes that are machinery, not parameters of the op (or what a user put on ctx).
_NOT_PARAMETERS = {
    "to_save",
    "materialize_grads",
    "non_differentiable",
    "dirty_tensors",
    "num_outputs",
}


# ============================================================================================
# The graph as the walk records it
# ============================================================================================


@dataclasses.dataclass
class Vertex:
    """One box of the picture: an output, an op (backward node), a leaf or a saved tensor."""

    id: int
    kind: str  # "output" | "op" | "leaf" | "saved"
    name: str | None  # the grad_fn name for ops, the params name (or None) for tensors
    node: object = None  # the backward node (AccumulateGrad for a leaf)
    tensor: Tensor | None = None  # outputs, leaves and saved tensors
    output_index: int = 0  # which of several outputs (picks the colour)
    # Filled in by _annotate:
    shape: tuple | None = None
    dtype: str | None = None
    value: np.ndarray | None = None  # only for small tensors
    grad: np.ndarray | None = None
    freed: bool = False
    attrs: dict = dataclasses.field(default_factory=dict)
    tensor_name: str | None = None  # params name of the tensor an op produced
    outputs: int = 1  # how many tensors an op produced (shape and dtype are output 0's)
    results: dict = dataclasses.field(default_factory=dict)  # if several: nr -> Vertex-like


@dataclasses.dataclass
class Edge:
    source: int
    target: int
    output_nr: int | None  # which output of ``source`` (torch's next_functions number)
    kind: str  # "next": source feeds target; "output": op -> output tensor; "saved"
    input_nr: int | None = None  # position in the target's next_functions


@dataclasses.dataclass
class Graph:
    vertices: list = dataclasses.field(default_factory=list)
    edges: list = dataclasses.field(default_factory=list)
    truncated: bool = False  # the walk stopped at its limit
    output_count: int = 0

    def add_vertex(self, kind, name, **fields) -> Vertex:
        vertex = Vertex(len(self.vertices), kind, name, **fields)
        self.vertices.append(vertex)
        return vertex

    def add_edge(self, source, target, output_nr, kind, input_nr=None) -> None:
        self.edges.append(Edge(source, target, output_nr, kind, input_nr))


@dataclasses.dataclass
class Names:
    """The names ``params`` gives: to tensors, and to op results (intermediate tensors)."""

    tensors: dict  # id(tensor) -> name; the tensors are held in ``params`` meanwhile
    results: dict  # (grad_fn, output_nr) -> name

    def of_tensor(self, tensor) -> str | None:
        return self.tensors.get(id(tensor))


# ============================================================================================
# The walk: the one traversal every view uses
# ============================================================================================


def _walk(outputs, names: Names, limit: int | None = None, with_saved: bool = False) -> Graph:
    """Record the graph behind ``outputs``, breadth first from the outputs.

    A loop over a queue (no recursion: graphs can be 100,000 nodes deep); a node reached along
    several paths is recorded once, and ids follow the order of discovery.  A leaf's
    AccumulateGrad node is recorded as the leaf itself, the box a student thinks of.  With
    ``limit``, the walk stops (``truncated``) rather than record more vertices than that.
    """
    graph = Graph()
    vertex_of_node: dict = {}
    vertex_of_output: dict = {}  # id(tensor) -> vertex, so an output that is a leaf is one box
    queue: collections.deque = collections.deque()

    def full() -> bool:
        """Whether the limit forbids another vertex (then the walk is ``truncated``)."""
        if limit is not None and len(graph.vertices) >= limit:
            graph.truncated = True
        return graph.truncated

    def discover(node) -> int | None:
        """The vertex id of ``node``, recording it (and queueing it) when first seen."""
        if node in vertex_of_node:
            return vertex_of_node[node]
        if isinstance(node, AccumulateGrad):
            known = vertex_of_output.get(id(node.variable))
            if known is not None:
                vertex_of_node[node] = known.id
                return known.id
        if full():
            return None
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            vertex = graph.add_vertex("leaf", names.of_tensor(leaf), node=node, tensor=leaf)
        else:
            vertex = graph.add_vertex("op", node.short_name, node=node)
            queue.append(node)
        vertex_of_node[node] = vertex.id
        return vertex.id

    graph.output_count = len(outputs)
    for index, tensor in enumerate(outputs):
        if full():
            return graph
        name = names.of_tensor(tensor)
        vertex = graph.add_vertex("output", name, tensor=tensor, output_index=index)
        vertex_of_output[id(tensor)] = vertex
    for vertex in list(graph.vertices):
        root = vertex.tensor.grad_fn
        if root is not None:
            root_id = discover(root)
            if root_id is None:
                return graph
            graph.add_edge(root_id, vertex.id, vertex.tensor._output_nr, "output")

    while queue:
        node = queue.popleft()
        consumer = vertex_of_node[node]
        for input_nr, (child, output_nr) in enumerate(node.next_functions):
            if child is None:  # an input that needs no gradient (a constant)
                continue
            child_id = discover(child)
            if child_id is None:
                return graph
            graph.add_edge(child_id, consumer, output_nr, "next", input_nr)
        if with_saved and not _record_saved(graph, node, consumer, full):
            return graph
    return graph


def _record_saved(graph: Graph, node, consumer: int, full) -> bool:
    """Add the tensors ``node`` saved for backward (torchviz's orange boxes); False if full."""
    for name, value in _saved_values(node).items():
        if isinstance(value, Tensor):
            if full():
                return False
            saved = graph.add_vertex("saved", name, node=node, tensor=value)
            # Drawn from the op like torchviz does, which places the saved box next to it.
            graph.add_edge(consumer, saved.id, None, "saved")
    return True


def _saved_values(node) -> dict:
    """``node.saved_values()``, or nothing: a freed node (or a foreign one) keeps nothing."""
    try:
        return node.saved_values()
    except Exception:  # a picture must not fail because one node can't show its buffers
        return {}


# ============================================================================================
# What each vertex shows
# ============================================================================================


def _annotate(graph: Graph, names: Names) -> None:
    """Fill in shapes, dtypes, values, grads, freed state and attributes of every vertex."""
    saved = {v.id: _saved_values(v.node) for v in graph.vertices if v.kind == "op"}
    metas, values, grads = _op_outputs(graph, saved)
    _infer_op_metas(graph, metas)
    for vertex in graph.vertices:
        if vertex.tensor is not None:
            _describe_tensor(vertex, vertex.tensor)
            continue
        node = vertex.node
        vertex.freed = bool(getattr(node, "_freed", False))
        vertex.attrs = _attributes(node, saved[vertex.id])
        vertex.outputs = getattr(node, "num_outputs", 1)
        meta = _first_known(metas, node)
        if meta is not None:
            vertex.shape, vertex.dtype = tuple(meta[0]), _dtype_name(meta[1])
        if vertex.outputs > 1:  # one box, several tensors (unbind): one value would mislead
            vertex.results = {
                nr: _result_of(metas[(node, nr)], values.get((node, nr)))
                for nr in range(vertex.outputs)
                if (node, nr) in metas
            }
            continue
        value = values.get((node, 0))
        if value is not None and np.size(value) <= SMALL_TENSOR:
            vertex.value = np.asarray(value)
        grad = grads.get((node, 0))
        if grad is not None:
            vertex.grad = np.asarray(grad)
        vertex.tensor_name = names.results.get((node, 0))


def _result_of(meta, value) -> Vertex:
    """One result of a multi-output op, described like a tensor (for the forward view)."""
    result = Vertex(-1, "result", None, shape=tuple(meta[0]), dtype=_dtype_name(meta[1]))
    if value is not None and np.size(value) <= SMALL_TENSOR:
        result.value = np.asarray(value)
    return result


def _first_known(table: dict, node):
    """The entry for output 0 of ``node``, else for its first other output that has one."""
    entry = table.get((node, 0))
    if entry is None:
        for nr in range(1, getattr(node, "num_outputs", 1)):
            entry = table.get((node, nr))
            if entry is not None:
                break
    return entry


def _describe_tensor(vertex: Vertex, tensor: Tensor) -> None:
    data = tensor._data
    vertex.shape, vertex.dtype = tuple(data.shape), _dtype_name(data.dtype)
    if np.size(data) <= SMALL_TENSOR:
        vertex.value = np.asarray(data)
    if vertex.kind != "saved" and tensor._grad is not None:
        vertex.grad = np.asarray(tensor._grad._data)


def _op_outputs(graph: Graph, saved: dict):
    """Shapes, values and grads of op outputs, keyed by ``(node, output_nr)``.

    The engine does not keep an op's output, but copies of it are often at hand: a later op
    saved it as an input, the op saved its own result, retain_grad() keeps the tensor (and its
    grad), or a custom Function remembers its outputs.
    """
    metas, values, grads = {}, {}, {}

    def found(node, nr, data, grad=None):
        metas.setdefault((node, nr), (data.shape, data.dtype))
        values.setdefault((node, nr), data)
        if grad is not None:
            grads.setdefault((node, nr), grad._data)

    for vertex in graph.vertices:
        node = vertex.node
        if vertex.kind != "op":
            continue
        for ref in getattr(node, "_retained", None) or ():
            tensor = ref()
            if tensor is not None:
                found(node, tensor._output_nr, tensor._data, tensor._grad)
        result = getattr(node, "_result", None)
        if result is not None:
            found(node, 0, result[0])
        for spec in getattr(node, "_outputs", None) or ():  # custom autograd.Function
            if spec is not None:
                found(node, spec[2], spec[0])
        for value in saved[vertex.id].values():
            if isinstance(value, Tensor) and value._grad_fn is not None:
                found(value._grad_fn, value._output_nr, value._data)
    return metas, values, grads


def _infer_op_metas(graph: Graph, metas: dict) -> None:
    """Complete ``metas`` (``(node, nr) -> (shape, dtype)``) for every op vertex.

    Nodes do not store their output's shape.  What they store is, per input, the shape and
    dtype the gradient must be fitted to (``_input_meta``), or None when every input looks like
    the output.  So an op's output shape is read off its consumer's ``_input_meta``, or, when
    that is None, equals the consumer's own output shape: known shapes spread from the
    outputs towards the leaves, through a queue.
    """
    vertices = graph.vertices
    same_as_consumer = collections.defaultdict(list)  # consumer id -> [(node, nr)]
    for edge in graph.edges:
        source = vertices[edge.source]
        if source.kind != "op":
            continue
        key = (source.node, edge.output_nr)
        if edge.kind == "output":
            data = vertices[edge.target].tensor._data
            metas.setdefault(key, (data.shape, data.dtype))
        elif edge.kind == "next":
            input_metas = getattr(vertices[edge.target].node, "_input_meta", None)
            meta = input_metas[edge.input_nr] if input_metas else None
            if meta is not None:
                metas.setdefault(key, meta)
            else:
                same_as_consumer[edge.target].append(key)
    for vertex in vertices:  # an engine that records output metas wins over inference
        output_meta = getattr(vertex.node, "_output_meta", None) if vertex.kind == "op" else None
        if output_meta is not None:
            metas[(vertex.node, 0)] = output_meta

    ops = [v for v in vertices if v.kind == "op"]
    vertex_of_node = {v.node: v.id for v in ops}
    queue = collections.deque(v.id for v in ops if _first_known(metas, v.node) is not None)
    while queue:
        consumer = vertices[queue.popleft()]
        meta = _first_known(metas, consumer.node)
        for key in same_as_consumer.pop(consumer.id, ()):
            if key not in metas:
                metas[key] = meta
                queue.append(vertex_of_node[key[0]])


def _attributes(node, saved: dict) -> dict:
    """What torch shows as ``grad_fn._saved_*``: saved values and the op's parameters."""
    attrs = dict(saved)
    for name in _parameter_names(type(node)) + list(getattr(node, "__dict__", ())):
        if name.startswith("_") or name in _NOT_PARAMETERS:
            continue
        value = getattr(node, name, _MISSING)
        if value is not _MISSING:
            attrs.setdefault(name, value)
    return attrs


_MISSING = object()


@functools.cache
def _parameter_names(node_class) -> list:
    """The ``__slots__`` an op class adds to Node's (``exponent``...); the rest of what an op
    stores (``dim``...) is in the node's ``__dict__``."""
    names = []
    for cls in node_class.__mro__:
        if cls is Node or cls is object:
            break
        slots = cls.__dict__.get("__slots__", ())
        names.extend([slots] if isinstance(slots, str) else slots)
    return names


def _dtype_name(np_dtype) -> str:
    dtype = FROM_NUMPY.get(np.dtype(np_dtype))
    return dtype.name if dtype is not None else str(np_dtype)


# ============================================================================================
# Labels (shared by the pictures, the text tree and the export)
# ============================================================================================


@dataclasses.dataclass
class Options:
    show_attrs: bool = False
    show_saved: bool = False
    max_attr_chars: int = 50
    show_values: bool = True
    show_grads: bool = True


def _size_text(shape) -> str:
    """torchviz's ``(2, 3)``; ``?`` when the shape could not be found."""
    return "?" if shape is None else "(" + ", ".join(str(s) for s in shape) + ")"


def _meta_text(vertex: Vertex) -> str:
    meta = f"{_size_text(vertex.shape)} {vertex.dtype or ''}".rstrip()
    if vertex.outputs > 1:
        meta += f", {vertex.outputs} outputs"
    return f"{vertex.tensor_name}: {meta}" if vertex.tensor_name else meta


def _number_text(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _values_text(array: np.ndarray) -> str:
    """``4.5`` for a 0-d tensor, ``[1, 2.5, -3]`` (flat, 4 significant digits) otherwise."""
    if array.ndim == 0:
        return _number_text(array.item())
    return "[" + ", ".join(_number_text(x) for x in array.ravel().tolist()) + "]"


def _grad_text(grad: np.ndarray) -> str:
    if grad.size <= SMALL_TENSOR:
        return "grad: " + _values_text(grad)
    return "grad: " + _size_text(grad.shape)


def _title(vertex: Vertex, graph: Graph) -> str | None:
    if vertex.kind == "output" and not vertex.name:
        return f"output {vertex.output_index}" if graph.output_count > 1 else "output"
    return vertex.name


def _attr_text(value, width: int) -> str:
    if isinstance(value, Tensor):
        text = "[saved tensor]"
    elif isinstance(value, np.ndarray):
        text = f"[saved array {_size_text(value.shape)}]"
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _label_lines(vertex: Vertex, graph: Graph, options: Options) -> list:
    """The lines of a vertex's box: title, shape and dtype, value, grad, attributes, freed."""
    title = _title(vertex, graph)
    lines = [title] if title else []
    lines.extend(_tensor_lines(vertex, options))
    if options.show_attrs and vertex.attrs:
        lines.extend(_attr_lines(vertex.attrs, max(options.max_attr_chars, 3)))
    if vertex.freed:
        lines.append("saved tensors freed by backward()")
    return lines


def _tensor_lines(vertex: Vertex, options: Options) -> list:
    """What is known of the tensor a vertex stands for: shape and dtype, value, grad."""
    lines = [_meta_text(vertex)]
    if options.show_values and vertex.value is not None:
        lines.append("value: " + _values_text(vertex.value))
    if options.show_grads and vertex.grad is not None:
        lines.append(_grad_text(vertex.grad))
    return lines


def _attr_lines(attrs: dict, width: int) -> list:
    """torchviz's table: a rule, then ``name: value`` aligned."""
    texts = {name: _attr_text(value, width) for name, value in attrs.items()}
    key_width = max(len(k) for k in texts)
    rule = "-" * (key_width + min(max(len(t) for t in texts.values()), width) + 2)
    return [rule] + [f"{k:<{key_width}}: {t}" for k, t in texts.items()]


# ============================================================================================
# The export
# ============================================================================================


def graph_dict(var, params=None, *, show_attrs=False, show_saved=False) -> dict:
    """The graph behind ``var`` as plain data, for tests and graders.

    ``{"nodes": [...], "edges": [...]}``.  A node is ``{"id", "kind", "label", "name", "shape",
    "dtype", "value", "grad", "has_grad", "freed"}``: ``kind`` is ``"output"``, ``"op"``,
    ``"leaf"`` or ``"saved"`` (with ``show_saved``); ``name`` the grad_fn name of an op, the
    params name of a tensor (or None); ``value`` and ``grad`` flat lists for tensors of at most
    6 elements, else None (``has_grad`` tells whether there is a grad); ``freed`` whether
    backward() freed the op's saved tensors.  Ids count in order of discovery, breadth first
    from the outputs.  An edge ``{"from", "to", "output_nr", "kind"}`` points the way data flows
    forward (``"next"``: from an input's node to the op that used it; ``"output"``: from the
    output's grad_fn to the output), as torchviz draws them; gradients flow against it.
    No size limit: a 100,000-node graph is exported.
    """
    outputs, names = _outputs_and_names(var, params)
    graph = _walk(outputs, names, with_saved=show_saved)
    _annotate(graph, names)
    options = Options(show_attrs=show_attrs, show_saved=show_saved)
    nodes = [_vertex_dict(vertex, graph, options) for vertex in graph.vertices]
    edges = [
        {"from": e.source, "to": e.target, "output_nr": e.output_nr, "kind": e.kind}
        for e in graph.edges
    ]
    return {"nodes": nodes, "edges": edges}


def graph_json(var, params=None, *, indent=None, **options) -> str:
    """``graph_dict`` as a JSON string."""
    return json.dumps(graph_dict(var, params, **options), indent=indent)


def _vertex_dict(vertex: Vertex, graph: Graph, options: Options) -> dict:
    def as_list(array):
        return None if array is None or array.size > SMALL_TENSOR else array.ravel().tolist()

    return {
        "id": vertex.id,
        "kind": vertex.kind,
        "label": "\n".join(_label_lines(vertex, graph, options)),
        "name": vertex.name,
        "shape": None if vertex.shape is None else list(vertex.shape),
        "dtype": vertex.dtype,
        "value": as_list(vertex.value),
        "grad": as_list(vertex.grad),
        "has_grad": vertex.grad is not None,
        "freed": vertex.freed,
    }


def _outputs_and_names(var, params):
    """The output tensors as a list, and the names ``params`` gives."""
    outputs = list(var) if isinstance(var, (tuple, list)) else [var]
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(
                f"make_dot() expects a tensor or a tuple of tensors, got {type(t).__name__}"
                "\nhint: pass the result of a computation, e.g. make_dot(loss) or "
                "make_dot((y, z)); name the inputs with params={'x': x}"
            )
    outputs = list({id(t): t for t in outputs}.values())  # the same tensor twice is one box
    named = dict(params.items() if hasattr(params, "items") else params or ())
    tensors = [(name, t) for name, t in named.items() if isinstance(t, Tensor)]
    names = Names(
        tensors={id(t): name for name, t in tensors},
        # An output's name goes on its own box, not again on the op that made it.
        results={
            (t._grad_fn, t._output_nr): name
            for name, t in tensors
            if t._grad_fn is not None and not any(t is o for o in outputs)
        },
    )
    return outputs, names


# ============================================================================================
# Text: the picture when there is no Graphviz
# ============================================================================================


def render_text(
    var, params=None, *, show_values=True, show_grads=True, show_saved=False, max_nodes=MAX_NODES
) -> str:
    """The graph as an indented tree, from the output down to the leaves.

    A node reached again is not repeated: it says ``(shown above)``.
    """
    outputs, names = _outputs_and_names(var, params)
    graph = _walk(outputs, names, limit=max_nodes, with_saved=show_saved)
    _annotate(graph, names)
    options = Options(show_values=show_values, show_grads=show_grads, show_saved=show_saved)
    text = _text_tree(graph, options)
    if graph.truncated:
        lines = _too_large_lines(max_nodes) + ["The part nearest the output:", text]
        text = "\n".join(lines)
    return text


def _text_tree(graph: Graph, options: Options) -> str:
    # In the backward direction, output -> leaves: (vertex id, how the edge is marked)
    children = collections.defaultdict(list)
    for edge in graph.edges:
        if edge.kind == "saved":
            children[edge.source].append((edge.target, "saved "))
        else:
            children[edge.target].append((edge.source, _output_mark(edge)))
    lines, shown = [], set()
    # An explicit stack instead of recursion; children are pushed reversed to print in order.
    stack = [(v.id, "", "", "") for v in reversed(graph.vertices) if v.kind == "output"]
    while stack:
        if len(lines) >= MAX_TEXT_LINES:
            lines.append(f"... (more; graph_dict() lists all {len(graph.vertices)} nodes)")
            break
        vertex_id, lead, branch, child_lead = stack.pop()
        vertex = graph.vertices[vertex_id]
        line = "  ".join(_label_lines(vertex, graph, options))
        if vertex_id in shown and children[vertex_id]:
            lines.append(f"{lead}{branch}{line}  (shown above)")
            continue
        lines.append(f"{lead}{branch}{line}")
        shown.add(vertex_id)
        kids = children[vertex_id]
        for position, (kid, mark) in reversed(list(enumerate(kids))):
            last = position == len(kids) - 1
            branch = ("└── " if last else "├── ") + mark
            stack.append((kid, lead + child_lead, branch, _pad(last)))
    return "\n".join(lines)


def _output_mark(edge: Edge) -> str:
    """Edges from output 1, 2... of a multi-output op (unbind) say which output they use."""
    return f"[output {edge.output_nr}] " if edge.output_nr else ""


def _pad(last: bool) -> str:
    return "    " if last else "│   "


def _too_large_lines(max_nodes) -> list:
    return [
        f"This graph has more than {max_nodes:,} nodes: too many to draw.",
        "graph_dict() / graph_json() export all of it;",
        "make_dot(..., max_nodes=None) draws it anyway (slowly).",
    ]


# ============================================================================================
# What make_dot returns: pictures that fall back to text
# ============================================================================================


class TextGraph:
    """The graph as text, returned when the ``graphviz`` Python package is not installed.

    Displays like a picture would (Jupyter, IPython, the plain REPL) but as the text tree;
    it has no DOT ``source`` and cannot ``render`` files.
    """

    def __init__(self, text: str, hint: str = PACKAGE_HINT):
        self.text = text
        self.hint = hint

    def __repr__(self) -> str:
        return f"{self.text}\n{self.hint}"

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(repr(self))

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
        return {"text/plain": repr(self)}

    @property
    def source(self):
        raise AttributeError("TextGraph has no DOT source\n" + PACKAGE_HINT)

    def render(self, *args, **kwargs):
        raise RuntimeError("drawing to a file needs the graphviz package\n" + PACKAGE_HINT)

    view = pipe = render


if graphviz is not None:

    class GraphvizGraph(graphviz.Digraph):
        """A ``graphviz.Digraph`` that shows its text tree when ``dot`` cannot draw it."""

        text = ""

        def _repr_mimebundle_(self, include=None, exclude=None, **kwargs) -> dict:
            try:
                bundle = super()._repr_mimebundle_(include, exclude, **kwargs)
            except graphviz.ExecutableNotFound:
                return {"text/plain": f"{self.text}\n{DOT_HINT}"}
            except Exception as error:  # a display must never raise in a student's notebook
                reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
                return {"text/plain": f"{self.text}\nnote: Graphviz could not draw it: {reason}"}
            bundle.setdefault("text/plain", self.text)
            return bundle

        def __repr__(self) -> str:
            return self.text or super().__repr__()

        def copy(self):
            duplicate = super().copy()
            duplicate.text = self.text
            return duplicate

else:  # pragma: no cover - exercised in a subprocess without graphviz
    GraphvizGraph = None


def _new_picture(text: str, **graph_attr):
    """An empty styled Digraph carrying ``text``, or a TextGraph without the package."""
    if graphviz is None:
        return TextGraph(text)
    node_attr = dict(style="filled", shape="box", fontsize="10", height="0.2")
    node_attr["fontname"] = "monospace"
    dot = GraphvizGraph(node_attr=node_attr, graph_attr=dict(size="12,12", **graph_attr))
    dot.text = text
    return dot


def _resize(dot) -> None:
    """torchviz's resize_graph: a bigger canvas for bigger graphs."""
    size = max(12, len(dot.body) * 0.15)
    dot.graph_attr.update(size=f"{size},{size}")


def _dot_label(lines) -> str:
    """One DOT label from text lines: user text escaped, lines joined with DOT's ``\\n``."""
    escaped = (line.replace("\\", "\\\\").replace('"', '\\"') for line in lines)
    return graphviz.nohtml("\\n".join(escaped))


def _too_large_picture(max_nodes):
    lines = _too_large_lines(max_nodes)
    picture = _new_picture("\n".join(lines))
    if graphviz is not None:
        picture.node("too_large", _dot_label(lines), shape="note", style="")
    return picture


def _prepare(var, params, options: Options, max_nodes):
    outputs, names = _outputs_and_names(var, params)
    graph = _walk(outputs, names, limit=max_nodes, with_saved=options.show_saved)
    if not graph.truncated:
        _annotate(graph, names)
    return graph


# ============================================================================================
# The backward picture (torchviz's)
# ============================================================================================


def make_dot(
    var,
    params=None,
    show_attrs=False,
    show_saved=False,
    max_attr_chars=50,
    *,
    show_values=True,
    show_grads=True,
    max_nodes=MAX_NODES,
):
    """Draw the autograd graph of ``var`` (a tensor, or a tuple/list of tensors), torchviz-style.

    ``params`` (``{'x': x}`` or ``dict(model.named_parameters())``) names the tensors.  Leaves
    are light blue, backward nodes grey (dashed once backward() freed their saved tensors),
    each output has its own colour, saved tensors are orange (``show_saved``); ``show_attrs``
    lists what each node saved.  Arrows point the way data flows forward.  Returns a
    ``graphviz.Digraph`` (shown inline in Jupyter; ``.render('file', format='png')`` saves it),
    or a TextGraph when the graphviz package is missing.
    """
    options = Options(show_attrs, show_saved, max_attr_chars, show_values, show_grads)
    graph = _prepare(var, params, options, max_nodes)
    if graph.truncated:
        return _too_large_picture(max_nodes)
    dot = _new_picture(_text_tree(graph, options))
    if graphviz is None:
        return dot
    for vertex in graph.vertices:
        label = _dot_label(_label_lines(vertex, graph, options))
        dot.node(f"n{vertex.id}", label, **_backward_style(vertex))
    for edge in graph.edges:
        extra = {"dir": "none"} if edge.kind == "saved" else {}
        if edge.output_nr:
            extra["label"] = _output_mark(edge).strip()
        dot.edge(f"n{edge.source}", f"n{edge.target}", **extra)
    _resize(dot)
    return dot


def _backward_style(vertex: Vertex) -> dict:
    if vertex.kind == "output":
        color = OUTPUT_COLORS[vertex.output_index % len(OUTPUT_COLORS)]
        return {"fillcolor": color, "penwidth": "2"}
    if vertex.kind == "leaf":
        return {"fillcolor": LEAF_COLOR}
    if vertex.kind == "saved":
        return {"fillcolor": SAVED_COLOR}
    return {"fillcolor": OP_COLOR, "style": "filled,dashed" if vertex.freed else "filled"}


# ============================================================================================
# The forward picture (as drawn on paper)
# ============================================================================================

# Backward names whose forward op is not simply the name without "Backward0".
_FORWARD_NAMES = {
    "CopySlices": "setitem",
    "CopyBackwards": "copy_",
    "ToCopyBackward0": "to",
    "UnsafeViewBackward0": "view",
    "LinalgVectorNormBackward0": "norm",
    "Log1PBackward0": "log1p",
    "Expm1Backward0": "expm1",
}


def forward_name(node) -> str:
    """The forward operation of a backward node: ``MulBackward0`` -> ``mul``."""
    function = getattr(node, "_function", None)
    if function is not None:  # a custom autograd.Function: its own class name
        return function.__name__
    name = node.name().rsplit("::", 1)[-1]  # CopySlices, not torch::autograd::CopySlices
    if name in _FORWARD_NAMES:
        return _FORWARD_NAMES[name]
    base = re.sub(r"Backwards?\d*$", "", name)
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base).lower()  # LogSoftmax -> log_softmax


def make_forward_dot(var, params=None, *, show_values=True, show_grads=True, max_nodes=MAX_NODES):
    """Draw the computation forward: input tensors on the left, operations as ellipses
    (``mul``, ``add``, ``pow``), each result as a box, the output on the right."""
    options = Options(show_values=show_values, show_grads=show_grads)
    graph = _prepare(var, params, options, max_nodes)
    if graph.truncated:
        return _too_large_picture(max_nodes)
    dot = _new_picture(_text_tree(graph, options), rankdir="LR")
    if graphviz is None:
        return dot
    results = _forward_results(graph)
    for vertex in graph.vertices:
        if vertex.kind == "op":
            label = _dot_label([forward_name(vertex.node)] + _constant_lines(vertex))
            dot.node(f"n{vertex.id}", label, shape="ellipse", style="")
        else:  # leaves and outputs are the tensors at the two ends
            dot.node(f"n{vertex.id}", **_forward_tensor_style(vertex, graph, options))
    for (op_id, output_nr), box in results.items():
        if box.startswith("t"):  # an intermediate result: a plain box
            vertex = graph.vertices[op_id]
            dot.node(box, _dot_label(_result_lines(vertex, output_nr, options)), style="")
        dot.edge(f"n{op_id}", box)
    for edge in graph.edges:
        if edge.kind == "next":
            source = graph.vertices[edge.source]
            box = results[(source.id, edge.output_nr)] if source.kind == "op" else f"n{source.id}"
            dot.edge(box, f"n{edge.target}")
    _resize(dot)
    return dot


def _constant_lines(vertex: Vertex) -> list:
    """The numbers an op used besides its tensor inputs (``exponent=2``, ``other=5``): on paper
    they are part of the operation."""
    return [
        f"{name}={_number_text(value)}"
        for name, value in vertex.attrs.items()
        if name in _OPERAND_NAMES and isinstance(value, (int, float, np.number))
    ]


# Attributes that are operands of the forward op (torch's argument names), not bookkeeping.
_OPERAND_NAMES = ("exponent", "other", "base", "min", "max")


def _result_lines(vertex: Vertex, output_nr: int, options: Options) -> list:
    """The box of one result of an op; each result of a multi-output op has its own shape."""
    if vertex.outputs > 1:
        vertex = vertex.results.get(output_nr) or Vertex(-1, "result", None)
    return _tensor_lines(vertex, options)


def _forward_results(graph: Graph) -> dict:
    """The box holding each op result ``(op id, output_nr)``: the output's own, or a new one."""
    results = {}
    for edge in graph.edges:
        if edge.kind == "output":
            results[(edge.source, edge.output_nr)] = f"n{edge.target}"
    for edge in graph.edges:
        if edge.kind == "next" and graph.vertices[edge.source].kind == "op":
            key = (edge.source, edge.output_nr)
            results.setdefault(key, f"t{edge.source}_{edge.output_nr}")
    return results


def _forward_tensor_style(vertex: Vertex, graph: Graph, options: Options) -> dict:
    style = _backward_style(vertex)
    return {"label": _dot_label(_label_lines(vertex, graph, options)), **style}


def save(graph, path) -> Path:
    """Write ``graph`` as ``path``.svg, or as the text tree in ``path``.txt without Graphviz.

    Returns the file written, so scripts can say where the picture is.
    """
    path = Path(path)
    if graphviz is not None and isinstance(graph, graphviz.Digraph):
        try:
            return Path(graph.render(path, format="svg", cleanup=True))
        except graphviz.ExecutableNotFound:
            pass
    written = path.with_suffix(".txt")
    written.write_text(repr(graph) + "\n")
    return written


# The backward pass step by step, in a widget (explore.py draws with this module's helpers).
from .explore import explore  # noqa: E402

"""Choose, mechanically, which of PyTorch's own tests stay inside autograd_lite's claim.

The upstream files (``test_autograd.py``, ``autograd/test_functional.py`` and
``test_type_promotion.py`` of pytorch/pytorch; which revisions: tests/test_conformance.py)
are read from ``$PYTORCH_TESTS_DIR`` (default ``build/pytorch-tests``), never from the repository:
no upstream code is committed, this script holds none.  It only reads them with :mod:`ast`.

**The rule.**  Each test method of ``TestAutograd``, ``TestAutogradFunctional`` and
``TestTypePromotion`` is expanded into the instances torch's ``@parametrize`` makes (named as
torch names them, ``test_jacobian_output_base_tensor``).  An instance is *in the claim* unless
its code touches one of the categories below.  "Its code" is: the method with its decorators,
the parameter values of the instance, the class's helper methods it calls (``self._helper``),
and the module-level functions and values it uses, followed transitively.  What it touches is
read from the names in that code: identifiers, attribute names, ``torch.a.b`` chains, keyword
arguments set to ``True`` (``vectorize=True``), the string ``"forward-mode"`` and imaginary
literals.  A ``@dtypes`` test stays one instance (the runner calls it once per dtype).

==================  ===============================================================================
nn                  ``torch.nn``, ``torch.optim``: modules are not part of the library
devices             CUDA, MPS, XPU, MKL-DNN, pinned memory, ``torch.backends``
sparse              sparse, nested and named tensors, ``to_dense``, ``sparse_grad``, ``masked``
complex             complex dtypes and numbers, and the dtype tables that include them
                    (``all_types_and_complex_and``, ``get_all_math_dtypes``, ...)
dtypes              dtypes NumPy has no counterpart for: bfloat16, float8
storage             torch's storage model: ``storage()``, ``as_strided``, ``set_``
jit                 TorchScript, ``torch.compile``, dynamo
threads             threads and thread pools, ``set_multithreading_enabled``
profiler            ``torch.autograd.profiler``, ``record_function``, flop counters
checkpoint          ``torch.utils.checkpoint``
saved tensors       saved-tensor hooks and ``grad_fn._saved_*`` / ``_raw_saved_*`` introspection
forward AD          ``torch.autograd.forward_ad``, ``jvp`` of a custom Function,
                    ``check_forward_ad=True``, ``strategy="forward-mode"``
vmap                ``vmap``, ``is_grads_batched=True``, ``vectorize=True``
testing internals   ``torch.testing`` (``make_tensor``, ``LoggingTensor``), dispatch modes,
                    ``__torch_function__`` subclasses
graph API           ``torch.autograd.graph``: gradient edges, ``Node``, multi-grad hooks
torch internals     ``torch._C``, ``torch.ops``, ``torch.library``, any ``_private`` name of torch
                    (except ``_version``, ``_base``, ``_is_view``, the view and version
                    introspection torch's autograd notes use), the deprecated private
                    ``get_numerical_jacobian`` / ``get_analytical_jacobian``
subprocess          tests that start another Python process
C++ extensions      ``load_inline``
slow                marked ``@slowTest`` or ``@skipIfSlowGradcheckEnv`` upstream
expected failure    marked ``@unittest.expectedFailure`` upstream
==================  ===============================================================================

An underscore attribute the test sets and reads itself on ``ctx`` (``ctx._jitter``) is the
test's own, not torch's.  The names of ``torch.testing._internal`` that the harness provides
(``TestCase``, ``gradcheck``, ``parametrize``, ... see :data:`HARNESS_NAMES`) are not counted.

``python tests/conformance/select_tests.py`` prints the selection; :func:`write` generates, in
a git-ignored directory, one module per upstream file holding its module-level code and the
class with its helpers and its in-claim tests only, imports rewritten to go through the shim
(tests/conformance/shim.py) and upstream's ``setUp``/``tearDown`` left to the shim's TestCase.
"""

from __future__ import annotations

import ast
import copy
import itertools
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_UPSTREAM = ROOT / "build" / "pytorch-tests"

# upstream file -> the test class whose tests are in scope (issue 14)
FILES = {
    "test_autograd.py": "TestAutograd",
    "test_functional.py": "TestAutogradFunctional",
    "test_type_promotion.py": "TestTypePromotion",
}

# (category, plain tokens, prefixes of torch.* chains)
CATEGORIES: list[tuple[str, set[str], tuple[str, ...]]] = [
    ("nn", {"nn", "optim"}, ("torch.nn", "torch.optim")),
    (
        "devices",
        {"cuda", "TEST_CUDA", "mps", "xpu", "mkldnn", "to_mkldnn", "device_count"}
        | {"get_device", "pin_memory", "onlyCUDA", "deviceCountAtLeast"},
        ("torch.cuda", "torch.backends", "torch.xpu"),
    ),
    (
        "sparse",
        {"sparse_coo_tensor", "to_sparse", "to_sparse_csr", "to_sparse_csc", "to_sparse_bsr"}
        | {"to_sparse_bsc", "to_dense", "sparse_grad=True", "is_sparse", "sparse_coo"}
        | {"sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "coalesce", "is_coalesced"}
        | {"masked=True", "embedding_bag", "nested", "jagged", "refine_names", "rename"},
        ("torch.sparse", "torch.nested"),
    ),
    (
        "complex",
        {"cfloat", "cdouble", "complex64", "complex128", "complex32", "chalf", "complex"}
        | {"view_as_real", "view_as_complex", "is_complex", "real", "imag", "conj"}
        | {"resolve_conj", "is_conj", "is_neg", "<imaginary literal>", "include_complex32"}
        | {"all_types_and_complex_and", "get_all_math_dtypes", "get_all_dtypes"}
        | {"float_to_corresponding_complex_type_map", "numpy_to_torch_dtype_dict"}
        | {"torch_to_numpy_dtype_dict"},
        (),
    ),
    ("dtypes", {"bfloat16", "float8_e5m2", "float8_e4m3fn"}, ()),
    ("storage", {"storage", "untyped_storage", "as_strided", "as_strided_", "set_"}, ()),
    ("jit", {"jit", "compile", "_dynamo"}, ("torch.jit", "torch.compile", "torch._dynamo")),
    (
        "threads",
        {"threading", "Thread", "ThreadPoolExecutor", "concurrent", "set_multithreading_enabled"},
        (),
    ),
    (
        "profiler",
        {"profile", "record_function", "emit_nvtx", "emit_itt", "kineto_available"}
        | {"EventList", "FunctionEvent", "FunctionEventAvg", "FlopCounterMode"},
        ("torch.autograd.profiler", "torch.profiler", "torch.utils.flop_counter"),
    ),
    (
        "checkpoint",
        {"checkpoint", "checkpoint_sequential", "GraphExecGroup", "CheckpointPolicy"},
        ("torch.utils.checkpoint",),
    ),
    (
        "saved tensors",
        {"saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks", "SavedTensor"}
        | {"register_hooks", "clear_saved_tensors_on_access", "_saved_*", "_raw_saved_*"},
        ("torch.autograd.graph.saved_tensors_hooks", "torch.autograd.graph.save_on_cpu"),
    ),
    (
        "forward AD",
        {"fwAD", "forward_ad", "make_dual", "unpack_dual", "dual_level", "save_for_forward"}
        | {"check_forward_ad=True", "check_batched_forward_grad=True", "check_fwd_over_rev=True"}
        | {"forward-mode", "def jvp"},
        ("torch.autograd.forward_ad",),
    ),
    (
        "vmap",
        {"vmap", "_vmap_internals", "generate_vmap_rule", "is_grads_batched=True"}
        | {"vectorize=True", "check_batched_grad=True"},
        ("torch.vmap", "torch.func"),
    ),
    (
        "testing internals",
        {"LoggingTensor", "make_tensor", "TorchDispatchMode", "no_dispatch"}
        | {"__torch_function__", "__torch_dispatch__", "_make_subclass"},
        ("torch.testing", "torch.utils._python_dispatch", "torch.utils._mode_utils"),
    ),
    (
        "graph API",
        {"GradientEdge", "get_gradient_edge", "register_multi_grad_hook"},
        ("torch.autograd.graph",),
    ),
    (
        "torch internals",
        {"get_numerical_jacobian", "get_analytical_jacobian", "<private torch name>"},
        ("torch.ops", "torch.library", "torch._", "torch.overrides"),
    ),
    ("subprocess", {"subprocess", "runWithPytorchAPIUsageStderr"}, ()),
    ("C++ extensions", {"scoped_load_inline", "load_inline"}, ()),
    ("slow", {"@slowTest", "@skipIfSlowGradcheckEnv"}, ()),
    ("expected failure", {"@expectedFailure"}, ()),
]

# Whole string constants that are code, not messages: a jacobian/hessian strategy.
STRING_TOKENS = {"forward-mode"}

# Private names torch's autograd notes themselves use to explain views and in-place checks.
PUBLIC_PRIVATE_NAMES = {"_version", "_base", "_is_view"}

# Names imported from torch.testing._internal that tests/conformance/shim.py provides: the
# harness (TestCase and its decorators), not something a test exercises.
HARNESS_NAMES = {
    "TestCase", "run_tests", "load_tests", "gradcheck", "gradgradcheck", "parametrize",
    "subtest", "instantiate_parametrized_tests", "instantiate_device_type_tests",
    "skipIfTorchDynamo", "skipIfNoLapack", "skipIfWindows", "skipIfMPS", "skipIfXpu",
    "skipCUDANonDefaultStreamIf", "skipMeta", "expectedFailureMeta", "expectedFailureMPS",
    "onlyCPU", "onlyNativeDeviceTypes", "dtypes", "dtypesIfCUDA", "dtypesIfMPS", "disable_gc",
    "set_warn_always_context", "set_default_dtype", "IS_WINDOWS", "IS_MACOS",
    "TEST_WITH_TORCHDYNAMO", "TEST_NUMPY", "floating_types", "floating_types_and",
    "mask_not_all_zeros", "slowTest", "skipIfSlowGradcheckEnv",
}  # fmt: skip


@dataclass
class Instance:
    """One runnable test: an upstream method with one choice of its @parametrize values."""

    file: str
    cls: str
    method: str
    name: str  # torch's name: method + parameter suffix
    params: dict = field(default_factory=dict)  # argument -> its value, as source text
    reasons: list = field(default_factory=list)  # categories touched; empty: in the claim

    @property
    def id(self) -> str:
        return f"{Path(self.file).stem}::{self.cls}::{self.name}"


# --------------------------------------------------------------------------------------------
# Reading one upstream module
# --------------------------------------------------------------------------------------------


class Module:
    """An upstream file: its imports, module-level definitions and the class in scope."""

    def __init__(self, path: Path, cls_name: str):
        self.path = path
        self.tree = ast.parse(path.read_text(), filename=str(path))
        self.imports: dict[str, str] = {}  # local name -> dotted origin (torch.autograd.Function)
        self.defs: dict[str, ast.AST] = {}  # module-level def/class/assignment by name
        self.cls: ast.ClassDef | None = None
        for node in self.tree.body:
            self._read_top(node, cls_name)
        if self.cls is None:
            raise ValueError(f"{path}: no class {cls_name}")
        self.members = {
            n.name if not isinstance(n, ast.Assign) else n.targets[0].id: n
            for n in self.cls.body
            if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            or (isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name))
        }

    def _read_top(self, node, cls_name):
        if isinstance(node, ast.Import):
            for a in node.names:
                self.imports[a.asname or a.name.split(".")[0]] = (
                    a.name if a.asname else a.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom):
            for a in node.names:
                self.imports[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.ClassDef) and node.name == cls_name:
            self.cls = node
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            self.defs[node.name] = node
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    self.defs[t.id] = node

    def tests(self):
        return [
            m for m in self.cls.body if isinstance(m, ast.FunctionDef) and m.name.startswith("test")
        ]


# --------------------------------------------------------------------------------------------
# Tokens: what a piece of code touches
# --------------------------------------------------------------------------------------------


def _chain(node) -> str | None:
    """``torch.autograd.graph.Node`` for an attribute chain rooted at a Name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def _literal(node, bindings):
    """The value of a literal or of a name bound by the instance's parameters, else a marker."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in bindings:
        try:
            return ast.literal_eval(bindings[node.id])
        except ValueError:
            return ...
    return ...


def _own_ctx_attributes(code: list) -> set:
    """Underscore attributes the test both stores and loads on ``ctx``: its own, not torch's."""
    stored, loaded = set(), set()
    for root in code:
        for n in ast.walk(root):
            if (
                isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name)
                and n.value.id == "ctx"
            ):
                (stored if isinstance(n.ctx, ast.Store) else loaded).add(n.attr)
    return stored & loaded


def tokens(module: Module, code: list, bindings: dict) -> set:
    """Everything ``code`` (AST nodes) touches, as the tokens :data:`CATEGORIES` are written in."""
    out: set = set()
    own = _own_ctx_attributes(code)
    local = _local_names(code)
    for root in code:
        for n in ast.walk(root):
            if isinstance(n, ast.Name):
                if n.id in local and n.id in module.imports:  # shadows the import
                    continue
                out.add(n.id)
                origin = module.imports.get(n.id)
                if origin and n.id not in HARNESS_NAMES:
                    out.add(origin)
                    if n.id.startswith("_"):
                        out.add("<private torch name>")
            elif isinstance(n, ast.Attribute):
                out.add(n.attr)
                chain = _chain(n)
                if chain:
                    head = chain.split(".")[0]
                    origin = module.imports.get(head)
                    if origin:  # autogradF.x -> torch.autograd.functional.x
                        out.add(".".join([origin, *chain.split(".")[1:]]))
                attr = n.attr
                if attr.startswith("_saved_"):
                    out.add("_saved_*")
                elif attr.startswith("_raw_saved_"):
                    out.add("_raw_saved_*")
                elif _is_torch_private(n, own, module.cls.name):
                    out.add("<private torch name>")
            elif isinstance(n, ast.keyword) and n.arg:
                if _literal(n.value, bindings) is True:
                    out.add(f"{n.arg}=True")
            elif isinstance(n, ast.Constant):
                if isinstance(n.value, complex):
                    out.add("<imaginary literal>")
                elif n.value in STRING_TOKENS:  # other strings are messages, not code
                    out.add(n.value)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                mod = n.module if isinstance(n, ast.ImportFrom) else None
                for a in n.names:
                    full = f"{mod}.{a.name}" if mod else a.name
                    out.update(full.split("."))
                    out.add(full)
            elif isinstance(n, ast.ClassDef):
                for item in n.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "jvp":
                        out.add("def jvp")
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
                for d in n.decorator_list:
                    target = d.func if isinstance(d, ast.Call) else d
                    name = (
                        target.attr
                        if isinstance(target, ast.Attribute)
                        else getattr(target, "id", "")
                    )
                    out.add("@" + name)
    return out


def _local_names(code: list) -> set:
    """Names the code binds itself (functions, classes, assignment and loop targets)."""
    names = set()
    for root in code:
        for n in ast.walk(root):
            if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n is not root:
                names.add(n.name)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                names.add(n.id)
    return names


def _is_torch_private(node: ast.Attribute, own: set, cls_name: str) -> bool:
    attr = node.attr
    if not attr.startswith("_") or attr.startswith("__") or attr in PUBLIC_PRIVATE_NAMES | own:
        return False
    # self._helper and TestAutograd._helper are the test class's own
    return not (isinstance(node.value, ast.Name) and node.value.id in ("self", cls_name))


def _under(chain: str, prefix: str) -> bool:
    """torch.nn.functional is under torch.nn, not under torch.func; torch._C is under torch._"""
    if not chain.startswith(prefix):
        return False
    rest = chain[len(prefix) :]
    return prefix.endswith("_") or rest == "" or rest.startswith(".")


def categories(toks: set) -> list:
    found = []
    for name, plain, prefixes in CATEGORIES:
        if toks & plain or any(_under(t, p) for t in toks if "." in t for p in prefixes):
            found.append(name)
    return found


# --------------------------------------------------------------------------------------------
# Following a test's code: helpers, module-level values, parameters
# --------------------------------------------------------------------------------------------


def reachable(module: Module, method: ast.FunctionDef) -> list:
    """The method, the class members it uses (self.x / Class.x) and the module-level
    definitions it names, transitively."""
    seen, todo, code = set(), [method], []
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        code.append(node)
        for n in ast.walk(node):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name):
                if n.value.id in ("self", module.cls.name) and n.attr in module.members:
                    todo.append(module.members[n.attr])
            elif isinstance(n, ast.Name) and n.id in module.defs:
                todo.append(module.defs[n.id])
    return code


def _parametrizations(module: Module, method: ast.FunctionDef) -> list:
    """For each @parametrize decorator, top to bottom: a list of (name part, bindings, node)."""
    result = []
    for d in method.decorator_list:
        call = d
        if isinstance(d, ast.Name) and isinstance(module.defs.get(d.id), ast.Assign):
            call = module.defs[d.id].value
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", "") == "parametrize"):
            continue
        names = [s.strip() for s in ast.literal_eval(call.args[0]).split(",")]
        options = []
        for idx, value in enumerate(call.args[1].elts):
            label = None
            if isinstance(value, ast.Call) and getattr(value.func, "id", "") == "subtest":
                label = next((k.value.value for k in value.keywords if k.arg == "name"), None)
                value = value.args[0]
            values = value.elts if len(names) > 1 else [value]
            bindings = {a: ast.unparse(v) for a, v in zip(names, values)}
            if label is None:  # torch's default: arg_value for numbers and strings, else argN
                parts = []
                for a, v in zip(names, values):
                    lit = v.value if isinstance(v, ast.Constant) else None
                    ok = isinstance(lit, (int, float, str))
                    parts.append(f"{a}_{str(lit).replace('.', '_')}" if ok else f"{a}{idx}")
                label = "_".join(parts)
            options.append((label, bindings, value))
        result.append(options)
    return result


def _is_parametrize(module: Module, decorator) -> bool:
    call = decorator
    if isinstance(decorator, ast.Name) and isinstance(module.defs.get(decorator.id), ast.Assign):
        call = module.defs[decorator.id].value
    return isinstance(call, ast.Call) and getattr(call.func, "id", "") == "parametrize"


def instances(module: Module, file: str) -> list:
    found = []
    for method in module.tests():
        # the @parametrize decorators count through the one value each instance takes
        bare = copy.copy(method)
        bare.decorator_list = [d for d in method.decorator_list if not _is_parametrize(module, d)]
        code = reachable(module, bare)
        for combo in itertools.product(*_parametrizations(module, method)) or [()]:
            suffix = "_".join(label for label, _, _ in combo)
            bindings = {k: v for _, b, _ in combo for k, v in b.items()}
            values = [node for _, _, node in combo]
            extra = [n for v in values for n in reachable_expr(module, v)]
            reasons = categories(tokens(module, code + extra, bindings))
            name = f"{method.name}_{suffix}" if suffix else method.name
            found.append(Instance(file, module.cls.name, method.name, name, bindings, reasons))
    return found


def reachable_expr(module: Module, node) -> list:
    """An expression and the module-level definitions it names (a parameter value)."""
    code, todo, seen = [], [node], set()
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        code.append(n)
        todo += [
            module.defs[x.id]
            for x in ast.walk(n)
            if isinstance(x, ast.Name) and x.id in module.defs
        ]
    return code


def select(upstream: Path | None = None) -> list:
    """Every instance of the three classes, in-claim or not (see ``Instance.reasons``)."""
    upstream = Path(upstream or os.environ.get("PYTORCH_TESTS_DIR", DEFAULT_UPSTREAM))
    found = []
    for file, cls in FILES.items():
        found += instances(Module(upstream / file, cls), file)
    return found


# --------------------------------------------------------------------------------------------
# Writing the modules to run
# --------------------------------------------------------------------------------------------

HEADER = '''"""Generated by tests/conformance/select_tests.py from {src}: do not edit, do not commit."""
# ruff: noqa
import shim as _shim
'''


def _rewrite_import(node) -> list:
    """Module-level imports become look-ups through the shim (torch may be autograd_lite)."""
    lines = []
    if isinstance(node, ast.Import):
        for a in node.names:
            if a.name.split(".")[0] != "torch":
                lines.append(ast.unparse(ast.Import(names=[a])))
            elif a.asname:
                lines.append(f"{a.asname} = _shim.module({a.name!r})")
            else:
                lines.append("torch = _shim.module('torch')")
    else:
        for a in node.names:
            local = a.asname or a.name
            if (node.module or "").split(".")[0] == "torch":
                lines.append(f"{local} = _shim.name({node.module!r}, {a.name!r})")
            else:
                lines.append(ast.unparse(ast.ImportFrom(module=node.module, names=[a], level=0)))
    return lines


def _is_test_class(node: ast.ClassDef) -> bool:
    return any(getattr(b, "id", getattr(b, "attr", "")) == "TestCase" for b in node.bases)


def generate(module: Module, selected: set, src: str) -> str:
    out = [HEADER.format(src=src)]
    for node in module.tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            out += _rewrite_import(node)
        elif isinstance(node, ast.If):  # TYPE_CHECKING blocks and `if __name__ == "__main__"`
            continue
        elif isinstance(node, ast.Expr):  # instantiate_*_tests(...): the runner instantiates
            continue
        elif isinstance(node, ast.ClassDef) and node is not module.cls and _is_test_class(node):
            continue  # the file's other test classes are out of scope
        elif node is module.cls:
            body = [
                m
                for m in node.body
                if not (isinstance(m, ast.FunctionDef) and m.name.startswith("test"))
                or m.name in selected
            ]
            # setUp/tearDown are the shim's: upstream's only resets a torch-internal mode
            body = [m for m in body if getattr(m, "name", "") not in ("setUp", "tearDown")]
            cls = copy.copy(node)
            cls.body = body
            out.append(ast.unparse(cls))
        else:
            out.append(ast.unparse(node))
    return "\n".join(out) + "\n"


def write(chosen: list, out_dir: Path, upstream: Path | None = None) -> Path:
    """Write the generated modules and ``manifest.json`` (the in-claim instances) to out_dir."""
    upstream = Path(upstream or os.environ.get("PYTORCH_TESTS_DIR", DEFAULT_UPSTREAM))
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = []
    for file, cls in FILES.items():
        mine = [i for i in chosen if i.file == file]
        methods = {i.method for i in mine}
        text = generate(Module(upstream / file, cls), methods, file)
        (out_dir / f"upstream_{Path(file).stem}.py").write_text(text)
        manifest += [
            {"id": i.id, "module": f"upstream_{Path(file).stem}", "cls": i.cls, "method": i.method,
             "name": i.name, "params": i.params}
            for i in mine
        ]  # fmt: skip
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return out_dir


def main() -> None:
    """``select_tests.py [UPSTREAM_DIR]``: print the selection, write it to build/conformance/."""
    upstream = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    everything = select(upstream)
    chosen = [i for i in everything if not i.reasons]
    for i in everything:
        print(("IN   " if not i.reasons else "out  ") + i.id, ", ".join(i.reasons))
    by_file = {f: sum(1 for i in chosen if i.file == f) for f in FILES}
    print(f"{len(chosen)} of {len(everything)} instances in the claim: {by_file}")
    print("written to", write(chosen, ROOT / "build" / "conformance", upstream))


if __name__ == "__main__":
    main()

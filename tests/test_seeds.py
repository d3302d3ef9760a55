"""The five tutorial seeds, cell by cell: with autograd_lite in place of torch, torch's results.

Every code cell is extracted from the seed files (``In [..]:`` blocks of the text dumps, code
cells of the notebook) and run twice, in order, in a fresh namespace per seed: once with
``torch`` bound to torch, once bound to autograd_lite.  For each cell the two runs must agree on

* what it prints, character for character (object addresses aside);
* what a notebook would display for its last expression;
* the exception it raises, if any (class and first line), and the warnings;
* every tensor, number, array and list it leaves behind (values, dtype, shape, requires_grad,
  grad_fn name, .grad of leaves), and the lines it plots.

Randomness: ``torch.rand``/``torch.randn`` are wrapped in both runs so that they return the same
numbers (drawn from one NumPy generator) after the library's own function has produced a tensor
whose shape, dtype and requires_grad are checked too.  So random cells print identical text.

Cells that cannot run as they are (IPython magics, tools that are not installed, 2017 APIs that
modern torch refuses) are listed below with the reason; a test checks that the lists cover every
cell and every line they name, so nothing is skipped silently.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import json
import os
import re
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import first_line, node_name

import autograd_lite

# The tutorials live in the workspace's shared/ folder, beside the repository (CI has it too).
SEEDS_DIR = Path(
    os.environ.get("AUTOGRAD_LITE_SEEDS", Path(__file__).resolve().parents[2] / "shared" / "seeds")
)
if not SEEDS_DIR.is_dir():
    if os.environ.get("CI"):
        raise RuntimeError(f"seed tutorials not found in {SEEDS_DIR}: CI must test them")
    pytest.skip(f"seed tutorials not found in {SEEDS_DIR}", allow_module_level=True)

import matplotlib  # noqa: E402 - only needed when the seeds are there

matplotlib.use("Agg")  # before pyplot: the seeds' plots are drawn off-screen
from matplotlib import pyplot  # noqa: E402

LIBS = {"torch": torch, "autograd_lite": autograd_lite}

# --------------------------------------------------------------------------------------------
# What cannot run as written, and why
# --------------------------------------------------------------------------------------------

EXPECTED_CELLS = {"000": 10, "001": 20, "002": 13, "003": 18, "004": 15}

SKIPPED_CELLS = {
    "002-00": "`%matplotlib inline` is an IPython magic; the tests draw with matplotlib's Agg",
}

# (cell, line) -> reason. The line is replaced by `pass` in both runs.
SKIPPED_LINES = {
    ("000-07", "! pip install torchviz"): "an IPython shell escape, not Python",
    ("000-07", "from torchviz import make_dot"): (
        "torchviz draws torch graphs only; both runs get a make_dot that records its argument, "
        "and test_make_dot_draws_the_seed_graph draws it with autograd_lite.viz.make_dot"
    ),
}
if not hasattr(autograd_lite, "nn"):
    SKIPPED_LINES[("000-00", "import torch.nn as nn")] = (
        "autograd_lite has no torch.nn (the course covers tensors and autograd); the seed never "
        "uses nn"
    )

# The 2017 API that modern torch refuses: the cell raises, with torch's first line, and
# autograd_lite adds a hint that names the modern spelling.
EXPECTED_ERRORS = {
    "001-11": ("AttributeError", ".grad_fn"),  # print(y.creator)
    "001-15": ("TypeError", "retain_graph"),  # out.backward(retain_variables=True)
}

# --------------------------------------------------------------------------------------------
# Extracting the cells
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    id: str  # "<seed>-<position among the seed's code cells>", e.g. "001-15"
    label: str  # where it is in the file: "In [16]:" or "cell 22"
    code: str


IN_PROMPT = re.compile(r"^In \[[^\]]*\]:\s*$")
# How outputs and markdown following a code cell in the text dumps begin: reprs, printed values,
# a column of numbers (2017 torch printing), a lone word (a markdown title).
OUTPUT_START = re.compile(
    r"""^(\s+[-+\d.] | tensor\( | \(tensor | \[tensor | torch\.[A-Z]\w*(\(|$) | numpy\.\w+$
    | None\b | True\b | False\b | Variable\ containing | < | -{3,} | \[\[ | \w+:\ | [A-Za-z]+$)""",
    re.X,
)


def _with_line_skips(cell_id: str, code: str) -> str:
    lines = code.split("\n")
    for i, line in enumerate(lines):
        if (cell_id, line.strip()) in SKIPPED_LINES:
            lines[i] = line[: len(line) - len(line.lstrip())] + "pass"
    return "\n".join(lines)


def _compiles(code: str) -> bool:
    code = re.sub(r"(?m)^(\s*)[!%].*$", r"\1pass", code)  # IPython lines: decided separately
    try:
        compile(code, "<cell>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    return True


def _code_of(block: list) -> str:
    """The code at the start of a block of lines (code, then outputs and markdown).

    Paragraphs (runs of non-blank lines) are code until one starts like an output or markdown
    title; then trailing paragraphs are dropped until the code compiles.
    """
    paragraphs, start = [], None
    for i, line in enumerate([*block, ""]):
        if line.strip() and start is None:
            start = i
        elif not line.strip() and start is not None:
            paragraphs.append((start, i))
            start = None
    taken = paragraphs[:1]
    for first, end in paragraphs[1:]:
        if OUTPUT_START.match(block[first]):
            break
        taken.append((first, end))
    while taken and not _compiles("\n".join(block[: taken[-1][1]])):
        taken.pop()
    return "\n".join(block[: taken[-1][1]]) if taken else ""


def _text_cells(path: Path) -> list:
    lines = path.read_text().split("\n")
    prompts = [i for i, line in enumerate(lines) if IN_PROMPT.match(line)]
    ends = [*prompts[1:], len(lines)]
    return [(lines[p].strip(), _code_of(lines[p + 1 : e])) for p, e in zip(prompts, ends)]


def _notebook_cells(path: Path) -> list:
    notebook = json.loads(path.read_text())
    return [
        (f"cell {i}", "".join(cell["source"]))
        for i, cell in enumerate(notebook["cells"])
        if cell["cell_type"] == "code"
    ]


def _seed_files() -> dict:
    files = {}
    for path in sorted(SEEDS_DIR.glob("00[0-9]_*")):
        seed = path.name[:3]
        if seed == "002":  # the notebook; its .txt twin is the same JSON with annotations
            if path.suffix == ".ipynb":
                files[seed] = path
        elif path.suffix == ".txt":
            files[seed] = path
    return files


@functools.cache
def all_cells() -> tuple:
    cells = []
    for seed, path in _seed_files().items():
        extract = _notebook_cells if path.suffix == ".ipynb" else _text_cells
        for n, (label, code) in enumerate(extract(path)):
            cells.append(Cell(f"{seed}-{n:02d}", label, code))
    return tuple(cells)


CELL_IDS = [cell.id for cell in all_cells()]
RUN_IDS = [i for i in CELL_IDS if i not in SKIPPED_CELLS]

# --------------------------------------------------------------------------------------------
# Running a seed with one library
# --------------------------------------------------------------------------------------------


class SeedTorch(types.ModuleType):
    """``torch`` for a seed: the library itself, with rand/randn drawing shared numbers."""

    def __init__(self, lib, seed: str):
        super().__init__(lib.__name__)
        self._lib = lib
        self._rng = np.random.default_rng(int(seed))
        self.random_calls: list = []

    def __getattr__(self, name):
        return getattr(self._lib, name)

    def _random(self, kind: str, draw, *size, **kwargs):
        own = getattr(self._lib, kind)(*size, **kwargs)  # the library's function runs too
        self.random_calls.append((kind, tuple(own.shape), str(own.dtype), own.requires_grad))
        values = draw(self._rng, tuple(own.shape))
        return self._lib.tensor(values, dtype=own.dtype, requires_grad=own.requires_grad)

    def rand(self, *size, **kwargs):
        return self._random("rand", lambda rng, shape: rng.random(shape), *size, **kwargs)

    def randn(self, *size, **kwargs):
        return self._random("randn", lambda rng, shape: rng.standard_normal(shape), *size, **kwargs)


def _importer(seed_torch: SeedTorch):
    """``__import__`` for the cells: ``torch`` and ``torch.x`` come from the library."""
    real_import = builtins.__import__

    def import_(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name.split(".")[0] == "torch":
            if not fromlist:  # import torch / import torch.x as y (then getattr)
                return seed_torch
            module = seed_torch
            for part in name.split(".")[1:]:
                module = getattr(module, part)
            return module
        return real_import(name, globals, locals, fromlist, level)

    return import_


@dataclass
class Record:
    """What one cell did in one library."""

    stdout: str = ""
    display: str | None = None
    error: BaseException | None = None
    warnings: list = field(default_factory=list)
    random_calls: list = field(default_factory=list)
    plots: list = field(default_factory=list)
    variables: dict = field(default_factory=dict)


def snapshot(value, lib):
    """A copy of a value as plain data, to compare after later cells changed the original."""
    if isinstance(value, lib.Tensor):
        grad = None
        if value.is_leaf and value.grad is not None:
            grad = snapshot(value.grad, lib)
        return {
            "dtype": str(value.dtype),
            "shape": tuple(value.shape),
            "values": np.array(value.detach().numpy(), copy=True),
            "requires_grad": value.requires_grad,
            "is_leaf": value.is_leaf,
            "grad_fn": node_name(value.grad_fn),
            "grad": grad,
        }
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [snapshot(v, lib) for v in value])
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.copy())
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    return SKIP  # functions, modules, classes, plots: not data


SKIP = object()


def _plotted_lines() -> list:
    lines = []
    for number in pyplot.get_fignums():
        for ax in pyplot.figure(number).axes:
            lines += [
                (ax.get_xlabel(), ax.get_ylabel(), np.array(line.get_xydata())) for line in ax.lines
            ]
    pyplot.close("all")
    return lines


def _make_dot_for(lib, drawn: list):
    def make_dot(var, *args, **kwargs):
        drawn.append(var)

    return make_dot


def _run_cell(code: str, filename: str, namespace: dict) -> str | None:
    """Run like a notebook: the last expression's value is displayed (its repr), unless None."""
    tree = ast.parse(code, filename)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    body = ast.Module(tree.body[:-1] if last else tree.body, type_ignores=[])
    exec(compile(body, filename, "exec", dont_inherit=True), namespace)
    if last is None:
        return None
    value = eval(
        compile(ast.Expression(last.value), filename, "eval", dont_inherit=True), namespace
    )
    return None if value is None else repr(value)


@functools.cache
def run_seed(seed: str, lib_name: str) -> tuple:
    """Run every cell of a seed in order with one library: ({cell id: Record}, make_dot args)."""
    lib = LIBS[lib_name]
    seed_torch = SeedTorch(lib, seed)
    custom_builtins = dict(vars(builtins), __import__=_importer(seed_torch))
    drawn: list = []
    namespace = {
        "__name__": "__main__",
        "__builtins__": custom_builtins,
        "make_dot": _make_dot_for(lib, drawn),
    }
    records = {}
    for cell in all_cells():
        if not cell.id.startswith(seed) or cell.id in SKIPPED_CELLS:
            continue
        record = records[cell.id] = Record()
        out = io.StringIO()
        calls_before = len(seed_torch.random_calls)
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
            warnings.simplefilter("always")
            try:
                record.display = _run_cell(
                    _with_line_skips(cell.id, cell.code), f"<seed {cell.id}>", namespace
                )
            except Exception as e:  # the notebook shows it and goes on with the next cell
                record.error = e
        record.stdout = out.getvalue()
        record.warnings = [(w.category.__name__, first_line(str(w.message))) for w in caught]
        record.random_calls = seed_torch.random_calls[calls_before:]
        record.plots = _plotted_lines()
        record.variables = {
            name: snapshot(value, lib)
            for name, value in namespace.items()
            if not name.startswith("__")
        }
    pyplot.close("all")
    return records, drawn


# --------------------------------------------------------------------------------------------
# Comparing the two runs
# --------------------------------------------------------------------------------------------


def normalized(text: str | None) -> str | None:
    if text is None:
        return None
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", text)
    # type(t) displays the class, named by its package: <class 'autograd_lite.Tensor'>.
    return text.replace("autograd_lite.Tensor", "torch.Tensor")


def assert_same_data(lite, expected, where: str) -> None:
    if expected is SKIP:
        return
    if isinstance(expected, dict):  # a tensor
        assert isinstance(lite, dict), f"{where}: not a tensor"
        for key in ("dtype", "shape", "requires_grad", "is_leaf", "grad_fn"):
            assert lite[key] == expected[key], f"{where}: {key}"
        if expected["values"].dtype.kind == "f":
            np.testing.assert_allclose(
                lite["values"], expected["values"], rtol=1e-5, atol=1e-6, err_msg=where
            )
        else:
            np.testing.assert_array_equal(lite["values"], expected["values"], err_msg=where)
        assert (lite["grad"] is None) == (expected["grad"] is None), f"{where}.grad"
        if expected["grad"] is not None:
            assert_same_data(lite["grad"], expected["grad"], f"{where}.grad")
    elif isinstance(expected, tuple) and len(expected) == 2 and isinstance(expected[1], list):
        assert lite[0] == expected[0], f"{where}: type"
        assert len(lite[1]) == len(expected[1]), f"{where}: length"
        for i, (a, e) in enumerate(zip(lite[1], expected[1])):
            assert_same_data(a, e, f"{where}[{i}]")
    elif isinstance(expected, tuple) and expected[:1] == ("ndarray",):
        assert lite[:2] == expected[:2], f"{where}: ndarray dtype"
        np.testing.assert_allclose(lite[2], expected[2], rtol=1e-5, atol=1e-6, err_msg=where)
    else:
        assert type(lite) is type(expected), f"{where}: {type(lite)} vs {type(expected)}"
        if isinstance(expected, float):
            np.testing.assert_allclose(lite, expected, rtol=1e-5, err_msg=where)
        else:
            assert lite == expected, where


def records_for(cell_id: str):
    seed = cell_id[:3]
    return run_seed(seed, "torch")[0][cell_id], run_seed(seed, "autograd_lite")[0][cell_id]


def cell_by_id(cell_id: str) -> Cell:
    return next(c for c in all_cells() if c.id == cell_id)


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


def test_every_code_cell_is_extracted_and_accounted_for():
    counts = {}
    for cell_id in CELL_IDS:
        counts[cell_id[:3]] = counts.get(cell_id[:3], 0) + 1
    assert counts == EXPECTED_CELLS
    assert len(set(CELL_IDS)) == len(CELL_IDS) == sum(EXPECTED_CELLS.values())
    assert set(SKIPPED_CELLS) <= set(CELL_IDS)
    assert set(RUN_IDS) | set(SKIPPED_CELLS) == set(CELL_IDS)
    assert set(EXPECTED_ERRORS) <= set(RUN_IDS)
    for cell_id, line in SKIPPED_LINES:  # no stale entries: every named line exists
        assert line in [x.strip() for x in cell_by_id(cell_id).code.split("\n")], (cell_id, line)


def test_every_run_cell_compiles_after_its_line_skips():
    for cell_id in RUN_IDS:
        code = _with_line_skips(cell_id, cell_by_id(cell_id).code)
        compile(code, cell_id, "exec", dont_inherit=True)
        assert code.strip(), cell_id


@pytest.mark.parametrize(
    "cell_id, first, last",
    [
        ("000-00", "import torch", "from matplotlib import pyplot"),
        ("000-08", "# derivative", "# retain_grad : To retain gradients of intermediate variables"),
        ("001-01", "x = torch.rand(5,3)", "print(x)"),
        ("001-02", "print(x.size())", "print(x.size())"),
        ("001-08", "import numpy as np", "type(c)"),
        ("001-19", "# initialize a random variable", "print(x.grad)"),
        ("002-06", "a = torch.randn(2, 2)", "print(b.grad_fn)"),
        ("003-12", "x", "x"),
        ("004-03", "# 2nd attempt of the above code.", "# print(gradients_2)"),
        ("004-11", "# 2nd attempt", "print(final_jacobian)"),
        ("004-14", "# create tensors with requires_grad = true", 'print("y.grad :", dy2)'),
    ],
)
def test_cell_boundaries(cell_id, first, last):
    lines = [line.rstrip() for line in cell_by_id(cell_id).code.strip().split("\n")]
    assert (lines[0], lines[-1]) == (first, last)


def test_annotated_notebook_dump_is_the_notebook():
    """002's .txt is the .ipynb interleaved with version-control annotations: nothing more."""
    (text,) = SEEDS_DIR.glob("002_*.txt")
    (notebook,) = SEEDS_DIR.glob("002_*.ipynb")
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$")
    kept = [line for line in text.read_text().split("\n") if line != "|" and not stamp.match(line)]
    assert json.loads("\n".join(kept)) == json.loads(notebook.read_text())


@pytest.mark.parametrize("cell_id", RUN_IDS)
def test_seed_cell(cell_id):
    expected, actual = records_for(cell_id)
    # Exceptions: only the 2017 API may raise, identically.
    if cell_id in EXPECTED_ERRORS:
        name, _ = EXPECTED_ERRORS[cell_id]
        assert type(expected.error).__name__ == name, expected.error
        assert type(actual.error).__name__ == name, actual.error
        assert first_line(str(actual.error)) == first_line(str(expected.error))
    else:
        assert expected.error is None, f"torch fails on this cell: {expected.error!r}"
        assert actual.error is None, f"autograd_lite fails: {actual.error!r}"
    assert normalized(actual.stdout) == normalized(expected.stdout)
    assert normalized(actual.display) == normalized(expected.display)
    assert actual.warnings == expected.warnings
    assert actual.random_calls == expected.random_calls
    assert len(actual.plots) == len(expected.plots)
    for (xl, yl, data), (t_xl, t_yl, t_data) in zip(actual.plots, expected.plots):
        assert (xl, yl) == (t_xl, t_yl)
        np.testing.assert_allclose(data, t_data, rtol=1e-6, atol=1e-6)
    assert actual.variables.keys() == expected.variables.keys()
    for name, value in expected.variables.items():
        assert_same_data(actual.variables[name], value, f"{cell_id}: {name}")


@pytest.mark.parametrize("cell_id", sorted(EXPECTED_ERRORS))
def test_2017_api_errors_carry_a_hint(cell_id):
    _, keyword = EXPECTED_ERRORS[cell_id]
    _, actual = records_for(cell_id)
    first, *rest = str(actual.error).split("\n")
    assert rest and all(line.startswith("hint: ") for line in rest)
    assert any(keyword in line for line in rest)


def test_random_cells_draw_through_the_library():
    calls = {
        cell_id: records_for(cell_id)[1].random_calls
        for cell_id in RUN_IDS
        if records_for(cell_id)[1].random_calls
    }
    assert calls == {
        "001-01": [("rand", (5, 3), "torch.float32", False)],
        "001-17": [("randn", (3,), "torch.float32", False)],
        "001-19": [("randn", (3,), "torch.float32", False)],
        "002-06": [("randn", (2, 2), "torch.float32", False)],
        "002-09": [("randn", (3,), "torch.float32", True)],
        "003-05": [("randn", (2, 2), "torch.float32", False)],
        "003-10": [("randn", (3,), "torch.float32", True)],
    }


def test_vector_jacobian_relations_of_the_random_cells():
    # The tutorials' point, independent of the random values: x.grad = 2**k * v.
    for cell_id, v in [("002-10", [0.1, 1.0, 0.0001]), ("003-11", [0.1, 1.0, 0.0001])]:
        _, actual = records_for(cell_id)
        grad = actual.variables["x"]["grad"]["values"]
        ratio = grad / np.array(v, dtype=np.float32)
        assert np.allclose(ratio, ratio[0]) and np.log2(ratio[0]) % 1 == 0
    _, actual = records_for("001-19")
    grad = actual.variables["x"]["grad"]["values"]
    np.testing.assert_allclose(grad / grad[0], [1.0, 0.1, 0.01], rtol=1e-6)


def test_plots_receive_tensors():
    expected, actual = records_for("000-04")
    ((xlabel, ylabel, data),) = actual.plots
    assert (xlabel, ylabel) == ("x", "cos(x)")
    np.testing.assert_allclose(data[:, 1], np.cos(np.linspace(0, 10, 41)), atol=1e-6)
    assert len(records_for("000-06")[1].plots) == 1


def test_make_dot_draws_the_seed_graph():
    (torch_y,) = run_seed("000", "torch")[1]
    (lite_y,) = run_seed("000", "autograd_lite")[1]
    try:
        from autograd_lite.viz import make_dot
    except ImportError:
        pytest.skip("autograd_lite.viz is not there yet")
    picture = make_dot(lite_y)
    text = getattr(picture, "source", None) or str(picture)
    names, stack = set(), [torch_y.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is not None:
            names.add(node_name(fn))
            stack += [f for f, _ in fn.next_functions]
    names.discard("AccumulateGrad")  # drawn as the leaves themselves
    assert names == {"PowBackward0", "AddBackward0", "MulBackward0"}
    for name in names:
        assert name in text


def test_seed_004_prints_the_real_gradient_not_its_misprint():
    # The seed shows `tensor([ 2.0000,  3.2000, -2.4000])` under code that computes
    # d(x**2)/dx at x = [1, 2, -2] with v = [1, 1, 1]: the true output is [2, 4, -4].
    (path,) = SEEDS_DIR.glob("004_*.txt")
    assert "tensor([ 2.0000,  3.2000, -2.4000])" in path.read_text()
    expected, actual = records_for("004-10")
    assert "tensor([ 2.,  4., -4.])" in actual.stdout
    assert "3.2000" not in actual.stdout
    assert actual.stdout == expected.stdout


def test_non_leaf_grad_warning_in_the_seeds():
    for cell_id in ("001-16", "003-07", "003-08"):
        expected, actual = records_for(cell_id)
        assert actual.stdout == "None\n"
        assert [w[0] for w in actual.warnings] == ["UserWarning"]
        assert actual.warnings == expected.warnings

"""The student's experience in a real JupyterLab, driven through Chromium.

For each of the six notebooks, the instructor's solution and the student release are opened
and run with Run > Run All Cells:

- a solution runs every cell without an error, and the browser shows each computation graph
  (``make_dot``: an <img> whose SVG data URL has grad_fn nodes such as ``MulBackward0``) and
  each matplotlib figure (an <img> with a PNG data URL);
- a release runs cleanly up to its first exercise, whose stub raises NotImplementedError, and
  Run All stops there.

Both must show their markdown's LaTeX without a MathJax "Math input error". nbgrader's Validate
button reports success on a solution and lists the failing exercises of an unanswered release.

Screenshots go to artifacts/browser/ (git-ignored), one per notebook; the one of a computation
graph, artifacts/browser/jupyterlab.png, is the README's notebooks/jupyterlab.png (copy it over
to refresh that picture).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from labpage import ARTIFACTS, GRAD_FN, Cell, NotebookError, Snapshot, png_size, svg_labels

from grader.release import ROOT, assignments

# One worker for the whole module under `--dist loadgroup` (one server, one browser). Note:
# pytest-xdist 3.8 ignores xdist_group on pytest 9.2 (pytest-dev/pytest-xdist#1386); the tests
# still pass when split, each worker then starting its own server and browser.
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

ASSIGNMENTS = assignments()
# The README picture: this solution's first computation graph, code with its picture.
README_SCREENSHOT = (
    "04_derivatives",
    'make_dot(out, params={"x": x}, show_attrs=True, show_saved=True)',
)
README_PNG_LIMIT = 300_000


def notebook_path(kind: str, assignment: str) -> str:
    """solutions/NN_name/name.ipynb or notebooks/NN_name/name.ipynb, relative to the root."""
    (source,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    return f"{kind}/{assignment}/{source.name}"


def read_notebook(path: Path) -> SimpleNamespace:
    """The cells of a notebook as plain JSON (importing nbformat alone takes seconds)."""
    cells = [
        SimpleNamespace(
            cell_type=cell["cell_type"],
            source="".join(cell["source"]),  # nbformat keeps source as a list of lines or a str
            metadata=cell.get("metadata", {}),
        )
        for cell in json.loads(path.read_text())["cells"]
    ]
    return SimpleNamespace(cells=cells)


def cases():
    return [
        pytest.param(kind, assignment, id=f"{kind}-{assignment}")
        for assignment in ASSIGNMENTS
        for kind in ("solutions", "notebooks")
    ]


def draws_graph(source: str) -> bool:
    return any(line.startswith("make_dot(") for line in source.splitlines())


def draws_figure(source: str) -> bool:
    return "plt.show()" in source


def first_failure(nb) -> int:
    """Where Run All must stop in a release: at its first exercise. The stub cell itself
    fails when its ``raise NotImplementedError()`` is at top level; when the stub is a
    function's body, the exercise's test cell fails calling it."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "raise NotImplementedError()" in cell.source:
            assert cell.metadata.get("nbgrader", {}).get("solution"), index
            if re.search(r"^raise NotImplementedError\(\)", cell.source, re.MULTILINE):
                return index
            test = index + 1
            assert nb.cells[test].metadata.get("nbgrader", {}).get("grade"), test
            return test
    raise AssertionError("the release has no exercise stub")


def describe(nb, cell: Cell) -> str:
    source = nb.cells[cell.index].source.strip().splitlines()
    errors = "; ".join(f"{e['ename']}: {e['evalue']}" for e in cell.errors)
    return f"cell {cell.index} {cell.prompt} ({source[0] if source else ''!r}...): {errors}"


def fail_fast(nb, allowed: int | None):
    """Stop waiting as soon as a cell other than `allowed` shows an error."""

    def check(snap: Snapshot) -> None:
        for cell in snap.cells:
            if cell.errors and cell.index != allowed:
                raise NotebookError(f"unexpected error in {describe(nb, cell)}")

    return check


def check_pictures(nb, cells: list[Cell]) -> tuple[int, int]:
    """Every graph and figure the executed `cells` draw is shown; returns (graphs, figures)."""
    graphs = figures = 0
    for cell in cells:
        source = nb.cells[cell.index].source
        assert all(image["width"] > 0 for image in cell.images), f"undecoded image: {cell}"
        if draws_graph(source):
            assert cell.svgs, f"no SVG graph shown by {describe(nb, cell)}"
            for svg in cell.svgs:
                labels = svg_labels(svg)
                assert any(GRAD_FN.search(label) for label in labels), (
                    f"graph without grad_fn nodes in cell {cell.index}: {labels}"
                )
            graphs += 1
        if draws_figure(source):
            assert cell.pngs, f"no PNG figure shown by {describe(nb, cell)}"
            for png in cell.pngs:
                width, height = png_size(png)
                assert width >= 200 and height >= 150, (cell.index, width, height)
            figures += 1
    return graphs, figures


@pytest.mark.parametrize(("kind", "assignment"), cases())
def test_run_all(lab, kind, assignment):
    path = notebook_path(kind, assignment)
    nb = read_notebook(lab.server.root / path)
    code_indices = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    release = kind == "notebooks"
    failing = first_failure(nb) if release else None

    screenshot = ARTIFACTS / f"{kind}-{assignment}.png"
    lab.open(path)
    try:
        snap = lab.run_all(fail=fail_fast(nb, failing))
        assert [c.index for c in snap.cells] == code_indices, "the browser shows other cells"
        if release:
            check_release(nb, snap, failing)
            focus = failing
        else:
            focus = check_solution(nb, snap)
    except BaseException:
        lab.screenshot(screenshot, best_effort=True)  # how it looked when it failed
        raise
    lab.scroll_to(focus)
    lab.screenshot(screenshot)
    if not release and assignment == README_SCREENSHOT[0]:
        readme_screenshot(lab, nb)
    check_math(nb, lab.math_errors())


def check_math(nb, errors: list[dict]) -> None:
    """The LaTeX of every markdown cell typesets: MathJax shows no "Math input error"."""
    problems = []
    for error in errors:
        source = nb.cells[error["index"]].source
        formulas = [m for m in re.findall(r"\$[^$]+\$", source) if not m.isprintable()]
        problems.append(f"cell {error['index']}: {error['errors']} in {formulas or source[:200]!r}")
        if formulas:
            problems.append(
                "  a control character in LaTeX: '\\f' in a non-raw string is a form feed"
            )
    assert not problems, "MathJax cannot typeset:\n" + "\n".join(problems)


def check_solution(nb, snap: Snapshot) -> int:
    """Every cell ran once, in order, without an error; returns the first graph's cell."""
    for cell in snap.cells:
        assert cell.count is not None and cell.prompt == f"[{cell.count}]:", describe(nb, cell)
        assert not cell.errors and not cell.tracebacks, describe(nb, cell)
    counts = [cell.count for cell in snap.cells]
    assert counts == list(range(1, len(counts) + 1)), f"not one run in order, afresh: {counts}"
    graphs, figures = check_pictures(nb, snap.cells)
    expected_graphs = sum(draws_graph(c.source) for c in nb.cells if c.cell_type == "code")
    assert graphs == expected_graphs and graphs + figures > 0, (graphs, figures)
    pictures = [c.index for c in snap.cells if c.svgs] or [c.index for c in snap.cells if c.pngs]
    return pictures[0]


def check_release(nb, snap: Snapshot, failing: int) -> None:
    """Clean up to the first exercise, which fails with its stub's NotImplementedError (in
    cell `failing`); Run All stops there."""
    before = [c for c in snap.cells if c.index < failing]
    counts = [cell.count for cell in snap.cells if cell.index <= failing]
    assert counts == list(range(1, len(counts) + 1)), f"not one run in order, afresh: {counts}"
    for cell in before:
        assert cell.count is not None and not cell.errors, describe(nb, cell)
        assert not cell.tracebacks, describe(nb, cell)
    check_pictures(nb, before)
    failed = snap.cell(failing)
    assert [e["ename"] for e in failed.errors] == ["NotImplementedError"], describe(nb, failed)
    assert failed.count is not None
    assert any("NotImplementedError" in text for text in failed.tracebacks), failed.tracebacks
    for cell in snap.cells:
        if cell.index > failing:
            assert cell.count is None and cell.prompt == "[ ]:", f"ran after the failure: {cell}"
            assert not cell.errors and not cell.images, describe(nb, cell)


def readme_screenshot(lab, nb) -> Path:
    """The notebook alone (file browser folded), scrolled to the graph."""
    (graph,) = [i for i, c in enumerate(nb.cells) if c.source.strip() == README_SCREENSHOT[1]]
    lab.page.evaluate("window.jupyterapp.commands.execute('application:toggle-left-area')")
    lab.scroll_to(graph)
    path = ARTIFACTS / "jupyterlab.png"
    lab.screenshot(path)
    shrink_png(path)
    assert path.stat().st_size < README_PNG_LIMIT, path.stat().st_size
    return path


def shrink_png(path: Path) -> None:
    """A 256-colour palette keeps a UI screenshot sharp at a fraction of the size."""
    try:
        from PIL import Image  # matplotlib's dependency
    except ImportError:
        return
    with Image.open(path) as picture:
        small = picture.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


@pytest.mark.parametrize("assignment", ["04_derivatives"])
def test_validate_solution(lab, assignment):
    lab.open(notebook_path("solutions", assignment))
    result = lab.validate()
    assert "validation-success" in result["classes"], result["text"][:3000]
    assert "Success! Your notebook passes all the tests." in result["text"]


@pytest.mark.parametrize("assignment", ["04_derivatives"])
def test_validate_release_lists_failing_exercises(lab, assignment):
    path = notebook_path("notebooks", assignment)
    nb = read_notebook(lab.server.root / path)
    tests = [
        normalize(cell.source)
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")
    ]
    lab.open(path)
    result = lab.validate()
    assert "validation-failed" in result["classes"], result["text"][:3000]
    listed = [normalize(failure["source"]) for failure in result["failed"]]
    assert listed == tests, "Validate should list exactly the exercises' test cells"
    for failure in result["failed"]:
        assert re.search(r"NotImplementedError|NameError", failure["error"]), failure


def normalize(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().splitlines())

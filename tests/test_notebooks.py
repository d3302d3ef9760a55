"""The six course notebooks: solutions grade to full marks against torch references, releases
grade to zero while their examples run, and notebooks/ is exactly what nbgrader generates (the
text itself is checked by tests/test_course.py).

Real kernels throughout (nbclient), real torch for the references, real nbgrader for the release.
"""

from __future__ import annotations

import functools
import re
import time
from pathlib import Path

import nbformat
import pytest
from sandbox_marks import needs_sandbox

from grader.autograde import grade
from grader.execute import collect, execute, is_test_cell, nbgrader_meta, read, run
from grader.release import ROOT, assignments, generate

SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"
ASSIGNMENTS = assignments()
MIN_EXERCISES = 5

pytestmark = [pytest.mark.slow, needs_sandbox]


def source_path(assignment: str) -> Path:
    (path,) = (SOLUTIONS / assignment).glob("*.ipynb")
    return path


def release_path(assignment: str) -> Path:
    return NOTEBOOKS / assignment / source_path(assignment).name


@functools.cache
def reference_run(assignment: str):
    """The solution run as the grader's reference run: under real torch."""
    path = source_path(assignment)
    return run(read(path), path.parent, reference=True)


@functools.cache
def references(assignment: str):
    execution = reference_run(assignment)
    assert not execution.incidents, execution.incidents
    return collect(execution.notebook)


@functools.cache
def graded_solution(assignment: str):
    """The solution graded as a submission, with its wall time (kernel start included).
    Figures drawn (grading draws none by default) for test_solution_runs_cleanly_with_a_figure."""
    path = source_path(assignment)
    start = time.perf_counter()
    result = grade(read(path), read(path), references(assignment), path.parent, figures=True)
    return result, time.perf_counter() - start


@functools.cache
def graded_release(assignment: str):
    path = release_path(assignment)
    return grade(read(path), read(source_path(assignment)), references(assignment), path.parent)


def per_assignment():
    """One parameter per notebook; xdist keeps a notebook's tests on one worker (shared runs)."""
    return [pytest.param(a, marks=pytest.mark.xdist_group(a), id=a) for a in ASSIGNMENTS]


def test_there_are_six_notebooks():
    assert [a[:2] for a in ASSIGNMENTS] == ["01", "02", "03", "04", "05", "06"], ASSIGNMENTS


@pytest.mark.parametrize("assignment", per_assignment())
def test_structure(assignment):
    nb = read(source_path(assignment))
    tests = [c for c in nb.cells if is_test_cell(c)]
    solutions = [c for c in nb.cells if nbgrader_meta(c).get("solution")]
    assert len(tests) >= MIN_EXERCISES, f"{len(tests)} graded exercises"
    assert len(solutions) >= len(tests) - 1
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade_id")]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    for cell in tests:
        assert nbgrader_meta(cell)["points"] > 0
        assert "### BEGIN HIDDEN TESTS" in cell.source and "check(" in cell.source
        visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
        assert "assert" in visible, f"{nbgrader_meta(cell)['grade_id']}: no visible test"
    for cell in solutions:
        assert "### BEGIN SOLUTION" in cell.source or cell.cell_type == "markdown"
    assert any(c.cell_type == "markdown" and "$" in c.source for c in nb.cells), "no LaTeX"
    # A LaTeX command written in a plain Python string ("\frac") turns into a control
    # character (form feed + "rac"): JupyterLab then shows "Math input error".
    mangled = [i for i, c in enumerate(nb.cells) if re.search(r"[\x00-\x08\x0b-\x1f]", c.source)]
    assert not mangled, f"control characters in cells {mangled}"


@pytest.mark.parametrize("assignment", per_assignment())
def test_committed_without_outputs(assignment):
    for path in (source_path(assignment), release_path(assignment)):
        nb = read(path)
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path


@pytest.mark.parametrize("assignment", per_assignment())
def test_every_test_cell_reports_answers_under_torch(assignment):
    refs = references(assignment)
    nb = read(source_path(assignment))
    for cell in nb.cells:
        if is_test_cell(cell):
            grade_id = nbgrader_meta(cell)["grade_id"]
            assert refs[grade_id].answers, f"{grade_id} reported no answer under torch"
            assert refs[grade_id].error is None, refs[grade_id].error


@pytest.mark.parametrize("assignment", per_assignment())
def test_every_example_runs_under_real_torch(assignment):
    """The reference run executes the solution under torch: no cell may fail there (cells
    tagged compare-torch or library-source are skipped, see grader/execute.py)."""
    cells = reference_run(assignment).notebook.cells
    errors = [
        (i, o.ename, o.evalue)
        for i, c in enumerate(cells)
        if c.cell_type == "code"
        for o in c.outputs
        if o.output_type == "error"
    ]
    assert not errors, errors


@pytest.mark.parametrize("assignment", per_assignment())
def test_solution_runs_cleanly_with_a_figure(assignment):
    result, seconds = graded_solution(assignment)
    cells = [c for c in result.executed.cells if c.cell_type == "code"]
    errors = [(o.ename, o.evalue) for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    mimes = {m for c in cells for o in c.outputs for m in o.get("data", {})}
    assert mimes & {"image/png", "image/svg+xml"}, f"no figure in {sorted(mimes)}"
    # Not a timing test (the notebook timings are benchmarks): a guard against a runaway cell.
    assert seconds < 60, f"{seconds:.1f} s"


@pytest.mark.parametrize("assignment", per_assignment())
def test_solution_gets_full_marks(assignment):
    result, _ = graded_solution(assignment)
    problems = [(e.grade_id, e.problems) for e in result.exercises if e.problems]
    assert not problems, problems
    assert result.points == result.max_points > 0
    assert not result.restored


@pytest.mark.parametrize("assignment", per_assignment())
def test_release_scores_zero_while_examples_run(assignment):
    result = graded_release(assignment)
    assert result.points == 0, [(e.grade_id, e.points) for e in result.exercises if e.points]
    assert not result.restored, "release test cells differ from the source's"
    for index, cell in enumerate(result.executed.cells):
        if cell.cell_type == "code" and not nbgrader_meta(cell):
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"example cell {index} failed: {errors[0]['ename']}"


@pytest.mark.parametrize("assignment", per_assignment())
def test_release_is_what_nbgrader_generates(assignment, tmp_path):
    generate(assignment, release_directory=tmp_path)
    name = source_path(assignment).name
    fresh, committed = read(tmp_path / assignment / name), read(release_path(assignment))
    assert [c.source for c in fresh.cells] == [c.source for c in committed.cells], (
        "notebooks/ drifted from solutions/: run `make release`"
    )
    assert nbformat.writes(fresh) == nbformat.writes(committed)


def test_collect_ignores_answers_outside_test_cells():
    """An answer printed by a student's own cell cannot stand in for a test's."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("from grader.answers import check\ncheck('x', 1.0)"),
        nbformat.v4.new_code_cell(
            "check('y', 2.0)",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "grade_id": "t",
                    "points": 1,
                    "locked": True,
                    "schema_version": 3,
                }
            },
        ),
    ]
    reports = collect(execute(nb, ROOT))
    assert set(reports) == {"t"} and set(reports["t"].answers) == {"y"}

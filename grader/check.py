"""``python -m grader check NOTEBOOK``: what a student runs before handing in.

Runs the notebook top to bottom in a fresh kernel, as the grader will, and says which
exercises' visible tests pass. Hidden tests are not in the student's copy: they run at grading.
Needs only the student's install (``.[student]``): grader.execute and grader.sandbox import
no nbgrader, dask or torch, and a student's check runs unconfined (no bubblewrap needed).
"""

from __future__ import annotations

from pathlib import Path

from grader.execute import is_test_cell, nbgrader_meta, read, run
from grader.sandbox import Limits

EXAMPLE = "work/01_scalars/scalars.ipynb"


class CannotCheck(Exception):
    """The notebook cannot be checked at all: no such file, not a notebook, no kernel."""


def check_notebook(path: Path, limits: Limits | None = None) -> list[tuple[str, str, str]]:
    """(grade_id, "pass" | "fail" | "not run", message) per exercise, in notebook order."""
    limits = limits or Limits(confine=False)
    path = Path(path)
    if path.is_dir():
        raise CannotCheck(f"{path} is a folder: give one notebook, e.g. {EXAMPLE}")
    if not path.is_file():
        raise CannotCheck(f"{path}: no such file (the path of one of your notebooks: {EXAMPLE})")
    try:
        nb = read(path)
    except Exception as error:  # nbformat raises half a dozen types for a broken file
        raise CannotCheck(
            f"{path}: not a notebook Jupyter can read ({type(error).__name__}: {error})"
        ) from error
    execution = run(nb, path.resolve().parent, limits=limits)
    if execution.infrastructure:  # nothing of the student's ran: say why, not "0/7 pass"
        raise CannotCheck(execution.infrastructure)
    # What stopped the run (a cell over the time limit, the kernel dying) explains the rest.
    stopped = execution.incidents[-1] if execution.incidents else "an earlier cell stopped the run"
    rows = []
    for cell in execution.notebook.cells:
        if not is_test_cell(cell):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if cell.get("execution_count") is None and not errors:
            rows.append((nbgrader_meta(cell)["grade_id"], "not run", stopped))
        elif errors:
            first = str(errors[0].get("evalue", "")).strip().splitlines()
            rows.append(
                (
                    nbgrader_meta(cell)["grade_id"],
                    "fail",
                    f"{errors[0].get('ename')}: {first[0] if first else ''}",
                )
            )
        else:
            rows.append((nbgrader_meta(cell)["grade_id"], "pass", ""))
    return rows

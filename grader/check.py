"""``python -m grader check NOTEBOOK``: what a student runs before handing in.

Runs the notebook top to bottom in a fresh kernel, as the grader will, and says which
exercises' visible tests pass. Hidden tests are not in the student's copy: they run at grading.
"""

from __future__ import annotations

from pathlib import Path

from grader.execute import execute, is_test_cell, nbgrader_meta, read
from grader.sandbox import Limits


def check_notebook(path: Path, limits: Limits | None = None) -> list[tuple[str, str, str]]:
    """(grade_id, "pass" | "fail" | "not run", message) per exercise, in notebook order."""
    limits = limits or Limits(confine=False)
    executed = execute(read(path), path.resolve().parent, limits=limits)
    rows = []
    for cell in executed.cells:
        if not is_test_cell(cell):
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if cell.get("execution_count") is None and not errors:
            rows.append(
                (nbgrader_meta(cell)["grade_id"], "not run", "an earlier cell stopped the run")
            )
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

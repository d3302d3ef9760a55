"""Execute a notebook in a fresh Jupyter kernel and collect the answers its tests report.

Runs with ``allow_errors``: a failing cell costs only its own exercise, and later
exercises are still graded. Cells tagged ``compare-torch`` (side-by-side demos that import
real torch) are skipped: they are never graded and importing torch costs seconds per kernel.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from grader.answers import MIME_TYPE

SKIP_TAG = "compare-torch"
REFERENCE_SETUP = "import grader.reference_mode\ngrader.reference_mode.install()"


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_test_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution") and cell.cell_type == "code"


@dataclass
class CellReport:
    """What one graded (test) cell produced: reported answers and the error it raised, if any."""

    answers: dict[str, dict] = field(default_factory=dict)
    error: str | None = None  # "ExceptionClass: first line" (never the traceback)


def execute(
    nb, cwd: Path, *, reference: bool = False, cell_timeout: int = 30, kernel_name: str = "python3"
):
    """Run ``nb`` (a NotebookNode, copied) with ``cwd`` as working directory; return it
    executed. ``reference=True`` runs it under real torch (see grader.reference_mode)."""
    nb = copy.deepcopy(nb)
    skipped = []
    for cell in nb.cells:
        if cell.cell_type == "code" and SKIP_TAG in cell.get("metadata", {}).get("tags", []):
            skipped.append((cell, cell.source))
            cell.source = ""
    if reference:
        nb.cells.insert(0, nbformat.v4.new_code_cell(REFERENCE_SETUP))
    client = NotebookClient(
        nb,
        timeout=cell_timeout,
        kernel_name=kernel_name,
        allow_errors=True,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    if reference:
        nb.cells.pop(0)
    for cell, source in skipped:
        cell.source = source
    return nb


def collect(executed) -> dict[str, CellReport]:
    """Per test cell (by grade_id): the answers it reported and its error. Answers reported
    by any other cell are ignored: only the restored test cells speak for a grade."""
    reports: dict[str, CellReport] = {}
    for cell in executed.cells:
        if not is_test_cell(cell):
            continue
        report = reports.setdefault(nbgrader_meta(cell)["grade_id"], CellReport())
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first = str(output.get("evalue", "")).strip().splitlines()
                report.error = f"{output.get('ename')}: {first[0] if first else ''}".rstrip(": ")
            record = output.get("data", {}).get(MIME_TYPE)
            if isinstance(record, dict) and isinstance(record.get("name"), str):
                report.answers.setdefault(record["name"], record)
    return reports


def read(path: Path):
    return nbformat.read(str(path), as_version=4)

"""``python -m grader check NOTEBOOK``: what a student runs before handing in.

Runs the notebook top to bottom in a fresh kernel, as the grader will, and says which
exercises' visible tests pass. Hidden tests are not in the student's copy: they run at grading.
Needs only the student's install (``.[student]``): grader.execute and grader.sandbox import
no nbgrader, dask or torch, and a student's check runs unconfined (no bubblewrap needed).
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

from grader.execute import is_test_cell, nbgrader_meta, read, run
from grader.sandbox import Limits

EXAMPLE = "work/01_scalars/scalars.ipynb"
# The notebooks head each exercise "### Exercise 4: predict: ...": students know it by that number.
EXERCISE_HEADING = re.compile(r"^#+\s*Exercise\s+(\d+)", re.MULTILINE)
# What an answer cell says until the student replaces it (nbgrader's stub).
STUB = "raise NotImplementedError"
NOT_ANSWERED = "not answered yet: replace `raise NotImplementedError()` with your answer"


class CannotCheck(Exception):
    """The notebook cannot be checked at all: no such file, not a notebook, no kernel."""


def check_notebook(path: Path, limits: Limits | None = None) -> list[tuple[str, str, str]]:
    """(label, "pass" | "fail" | "not answered" | "not run", message) per test cell, in notebook
    order. The label is the exercise's number as its heading gives it ("Exercise 4"), with the
    test's id after it when an exercise has several tests; the id alone where no heading says."""
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
    rows, labels = [], _labels(execution.notebook.cells)
    unanswered = False  # an answer cell since the last test still holds the stub
    for cell in execution.notebook.cells:
        if not is_test_cell(cell):
            if nbgrader_meta(cell).get("solution") and STUB in cell.get("source", ""):
                unanswered = True
            continue
        label = labels[id(cell)]
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if cell.get("execution_count") is None and not errors:
            rows.append((label, "not run", stopped))
        elif errors and unanswered:
            rows.append((label, "not answered", NOT_ANSWERED))
        elif errors:
            first = str(errors[0].get("evalue", "")).strip().splitlines()
            rows.append((label, "fail", f"{errors[0].get('ename')}: {first[0] if first else ''}"))
        else:
            rows.append((label, "pass", ""))
        unanswered = False
    return rows


def _labels(cells) -> dict:
    """id(test cell) -> how the student knows it: "Exercise 4", "Exercise 4 (its-id)" when
    that exercise has several tests, its grade id when no exercise heading precedes it."""
    exercise, tests = None, []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            headings = EXERCISE_HEADING.findall(cell.get("source", ""))
            exercise = f"Exercise {headings[-1]}" if headings else exercise
        elif is_test_cell(cell):
            tests.append((cell, exercise, nbgrader_meta(cell)["grade_id"]))
    per_exercise = collections.Counter(exercise for _, exercise, _ in tests)
    labels = {}
    for cell, exercise, grade_id in tests:
        if exercise is None:
            labels[id(cell)] = grade_id
        elif per_exercise[exercise] == 1:
            labels[id(cell)] = exercise
        else:
            labels[id(cell)] = f"{exercise} ({grade_id})"
    return labels

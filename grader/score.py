"""Score a submission: restore the instructor's test cells, then compare reported answers
with the torch references, outside the student's process.

A test cell's points are split evenly over the answers its reference run reported, so an
exercise with independent parts gives partial credit.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from grader.answers import compare
from grader.execute import CellReport, nbgrader_meta

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def _as_released(source: str) -> str:
    """The cell text students were given: nbgrader strips the hidden tests at release."""
    return _HIDDEN.sub("", source).strip()


def _protected(cell) -> bool:
    """Cells a student must not change: tests and read-only cells (nbgrader's `locked`)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade_id")) and (
        (meta.get("grade") and not meta.get("solution")) or meta.get("locked")
    )


def restore_tests(submission, source):
    """A copy of ``submission`` whose test and read-only cells are the source's, by grade_id;
    deleted ones are put back after the last cell that precedes them in the source. Returns
    (notebook, list of grade_ids that had been deleted or edited)."""
    nb = copy.deepcopy(submission)
    by_id = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells)}
    changed = []
    previous_index = -1
    for cell in source.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        index = by_id.get(grade_id) if grade_id else None
        if _protected(cell):
            fresh = copy.deepcopy(cell)
            fresh["outputs"] = [] if cell.cell_type == "code" else fresh.get("outputs")
            if fresh.get("outputs") is None:
                fresh.pop("outputs", None)
            if index is None:
                changed.append(grade_id)
                nb.cells.insert(previous_index + 1, fresh)
                by_id = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(nb.cells)}
                index = previous_index + 1
            else:
                if _as_released(nb.cells[index].source) != _as_released(cell.source):
                    changed.append(grade_id)
                nb.cells[index] = fresh
        if index is not None:
            previous_index = max(previous_index, index)
    return nb, changed


@dataclass
class ExerciseScore:
    grade_id: str
    points: float
    max_points: float
    problems: list[str] = field(default_factory=list)


def score(source, references: dict[str, CellReport], reports: dict[str, CellReport]):
    """One ExerciseScore per test cell of ``source``."""
    scores = []
    for cell in source.cells:
        meta = nbgrader_meta(cell)
        if not (meta.get("grade") and not meta.get("solution")):
            continue
        grade_id, max_points = meta["grade_id"], float(meta.get("points", 0))
        expected = references.get(grade_id, CellReport()).answers
        report = reports.get(grade_id, CellReport())
        result = ExerciseScore(grade_id, 0.0, max_points)
        if report.error:
            result.problems.append(f"the test cell raised {report.error}")
        if not expected:
            # Every test cell must report answers: visible asserts alone could be skipped.
            result.problems.append("no reference answers for this exercise (instructor error)")
        for name, want in expected.items():
            got = report.answers.get(name)
            if got is None:
                result.problems.append(f"answer {name!r} was not produced")
                continue
            reason = compare(
                got["value"], want["value"], want["rtol"], want["atol"], want["grad_fn"]
            )
            if reason:
                result.problems.append(f"{name}: {reason}")
            else:
                result.points += max_points / len(expected)
        result.points = round(result.points, 6)
        scores.append(result)
    return scores

"""Score a submission: restore the instructor's test cells, then compare reported answers
with the torch references, outside the student's process.

A test cell's points are split evenly over the answers its reference run reported, so an
exercise with independent parts gives partial credit.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from grader.answers import DEFAULT_ATOL, DEFAULT_RTOL, NO_REFERENCE, compare
from grader.execute import CellReport, nbgrader_meta

_HIDDEN = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)


def _as_released(source) -> str:
    """The cell text students were given: nbgrader strips the hidden tests at release."""
    return _HIDDEN.sub("", source).strip() if isinstance(source, str) else ""


def _protected(cell) -> bool:
    """Cells a student must not change: tests and read-only cells (nbgrader's `locked`)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade_id")) and (
        (meta.get("grade") and not meta.get("solution")) or meta.get("locked")
    )


def _claims_test(cell) -> bool:
    """What ``score`` reads as a test cell (markdown tasks included)."""
    meta = nbgrader_meta(cell)
    return bool(meta.get("grade")) and not meta.get("solution")


def _grade_id(cell) -> str | None:
    """The cell's grade_id; None unless it is a non-empty string (a student can write any
    JSON there, and a list is not even hashable)."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) and grade_id else None


def _index_by_grade_id(cells: list) -> dict[str, int]:
    """grade_id -> index of the last cell that has it (duplicates: the last one)."""
    return {gid: i for i, cell in enumerate(cells) if (gid := _grade_id(cell)) is not None}


def _tree_copy(tree):
    """A deep copy of a notebook's JSON tree without recursion: a student's metadata or
    outputs may nest deeper than ``copy.deepcopy`` can go. Dict types (NotebookNode) and key
    order are kept; leaves of JSON are immutable and shared."""
    root = [tree]
    stack = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        value = parent[key]
        if isinstance(value, dict):
            parent[key] = value = type(value)(value)
            stack.extend((value, k) for k in value)
        elif isinstance(value, list):
            parent[key] = value = list(value)
            stack.extend((value, i) for i in range(len(value)))
    return root[0]


def restore_tests(submission, source):
    """A copy of ``submission`` whose test and read-only cells are the source's, by grade_id;
    deleted ones are put back after the last cell that precedes them in the source. Returns
    (notebook, list of grade_ids that had been deleted, edited or duplicated).

    Only the restored cells stay test cells: any other cell that claims to be one (a
    duplicate grade_id, a made-up test cell) loses its grade flag, or its answers would
    be collected before the real test cell's."""
    nb = _tree_copy(submission)
    if not isinstance(nb.get("cells"), list):
        nb["cells"] = []
    cells = nb["cells"]
    by_id = _index_by_grade_id(cells)
    changed, restored = [], []
    previous_index = -1
    for cell in source.cells:
        grade_id = _grade_id(cell)
        index = by_id.get(grade_id) if grade_id else None
        if _protected(cell):
            fresh = copy.deepcopy(cell)
            fresh["outputs"] = [] if cell.cell_type == "code" else fresh.get("outputs")
            if fresh.get("outputs") is None:
                fresh.pop("outputs", None)
            restored.append(fresh)
            if index is None:
                changed.append(grade_id)
                cells.insert(previous_index + 1, fresh)
                by_id = _index_by_grade_id(cells)
                index = previous_index + 1
            else:
                if _as_released(cells[index].get("source")) != _as_released(cell.source):
                    changed.append(grade_id)
                cells[index] = fresh
        if index is not None:
            previous_index = max(previous_index, index)
    changed += _demote_impostors(cells, restored, source)
    return nb, changed


def _demote_impostors(cells: list, restored: list, source) -> list[str]:
    """Clear the grade flag of every cell that claims to be a test cell but was not restored
    from the source; returns the source's grade_ids among them (a duplicated test cell)."""
    ids = {gid for cell in source.cells if _claims_test(cell) and (gid := _grade_id(cell))}
    flagged = []
    for cell in cells:
        if any(cell is fresh for fresh in restored) or not _claims_test(cell):
            continue
        nbgrader_meta(cell)["grade"] = False  # the dict inside our copy: edits the cell
        grade_id = _grade_id(cell)
        if grade_id in ids and grade_id not in flagged:
            flagged.append(grade_id)
    return flagged


@dataclass
class ExerciseScore:
    grade_id: str
    points: float
    max_points: float
    problems: list[str] = field(default_factory=list)


def score(source, references: dict[str, CellReport], reports: dict[str, CellReport]):
    """One ExerciseScore per test cell of ``source``. ``source`` and ``references`` are the
    instructor's (trusted); ``reports`` come from the student's kernel: any JSON at all."""
    scores = []
    for cell in source.cells:
        grade_id = _grade_id(cell)
        if not _claims_test(cell) or grade_id is None:
            continue
        max_points = float(nbgrader_meta(cell).get("points", 0))
        expected = references.get(grade_id, CellReport()).answers
        report = reports.get(grade_id) if isinstance(reports, dict) else None
        report = report if isinstance(report, CellReport) else CellReport()
        answers = report.answers if isinstance(report.answers, dict) else {}
        result = ExerciseScore(grade_id, 0.0, max_points)
        if isinstance(report.error, str):
            result.problems.append(f"the test cell raised {report.error}")
        if not expected:
            # Every test cell must report answers: visible asserts alone could be skipped.
            result.problems.append("no reference answers for this exercise (instructor error)")
        for name, want in expected.items():
            got = answers.get(name)
            if got is None:
                result.problems.append(f"answer {name!r} was not produced")
                continue
            reason = _answer_problem(got, want)
            if reason:
                result.problems.append(f"{name}: {reason}")
            else:
                result.points += max_points / len(expected)
        result.points = round(result.points, 6)
        scores.append(result)
    return scores


def _answer_problem(got, want: dict) -> str | None:
    """Why the reported record ``got`` does not earn the answer's points, or None. How to
    compare (tolerances, grad_fn) is read from the reference record only: a student's
    record can say ``rtol: 1e9`` and nothing changes."""
    if not isinstance(want, dict):
        return NO_REFERENCE
    value = got.get("value") if isinstance(got, dict) else None
    rtol, atol = want.get("rtol", DEFAULT_RTOL), want.get("atol", DEFAULT_ATOL)
    return compare(value, want.get("value"), rtol, atol, bool(want.get("grad_fn")))

"""The gradebook files an instructor downloads to send grades back, built as the LMS builds
them, for the export's tests and the demo (grader/lms_export.py reads them, fills them in).

* ``canvas_gradebook_export``: Canvas's Grades > Export CSV, as lib/gradebook_exporter.rb
  (instructure/canvas-lms) writes it: ``Student`` ("Last, First"; a name starting with "="
  written as ``="..."``, Canvas's own guard), ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, custom columns, one ``Title (id)`` column per assignment, then the read-only
  totals (per assignment group, then the course's: Current/Final Points, Current/Unposted
  Current/Final/Unposted Final Score); an optional "Manual Posting" row, the
  ``    Points Possible`` row (points with two decimals, "(read only)" under the totals), and
  the Test Student among the students. Scores have two decimals; "," or ";" separated, with or
  without a BOM (Canvas's export options).
* Moodle's offline grading worksheet is ``grader.sample_class.lms.moodle_worksheet`` (the
  intake's fixtures; the same file serves both).

Standard library only: no network, no LMS.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grader.sample_class.lms import Student

TOTALS = (
    "Current Points",
    "Final Points",
    "Current Score",
    "Unposted Current Score",
    "Final Score",
    "Unposted Final Score",
)
READ_ONLY = "(read only)"
TEST_STUDENT = Student("Test", "Student", canvas_id=99999, section="Section 1")


@dataclass(frozen=True)
class CanvasAssignment:
    """A column of the Canvas gradebook."""

    title: str  # "Notebook 1: Scalars"
    id: int  # Canvas's assignment id
    points: float  # points possible
    manual_posting: bool = False  # grades posted by hand: the export's "Manual Posting" row


@dataclass
class CanvasGradebook:
    """What the export holds besides the students: scores by (user id, assignment id) as
    Canvas shows them ("12.50", "EX", ""), custom columns by title (user id -> text)."""

    assignments: Sequence[CanvasAssignment]
    scores: dict[tuple[str, int], str] = field(default_factory=dict)
    custom_columns: dict[str, dict[str, str]] = field(default_factory=dict)
    group: str = "Assignments"  # the assignment group, whose totals come first


def canvas_gradebook_export(
    path: Path,
    students: Sequence[Student],
    gradebook: CanvasGradebook,
    *,
    delimiter: str = ",",
    bom: bool = True,
    test_student: bool = True,
) -> Path:
    """Write the export of ``gradebook`` for ``students`` (plus Canvas's Test Student)."""
    totals = [f"{gradebook.group} {t}" for t in TOTALS] + list(TOTALS)
    custom = list(gradebook.custom_columns)
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *custom]
    header += [f"{a.title} ({a.id})" for a in gradebook.assignments] + totals
    rows = [header]
    if any(a.manual_posting for a in gradebook.assignments):
        posting = ["Manual Posting" if a.manual_posting else "" for a in gradebook.assignments]
        rows.append(["", "", "", "", ""] + [""] * len(custom) + posting + [""] * len(totals))
    rows.append(
        ["    Points Possible", "", "", "", ""]
        + [""] * len(custom)
        + [f"{a.points:.2f}" for a in gradebook.assignments]
        + [READ_ONLY] * len(totals)
    )
    for student in [*students, *([TEST_STUDENT] if test_student else [])]:
        user = str(student.canvas_id)
        scores = [gradebook.scores.get((user, a.id), "") for a in gradebook.assignments]
        rows.append(
            [
                _student_name(f"{student.last_name}, {student.first_name}"),
                user,
                student.sis_user_id,
                student.sis_login_id,
                student.section,
                *(gradebook.custom_columns[title].get(user, "") for title in custom),
                *scores,
                *_totals(scores, gradebook.assignments, len(totals)),
            ]
        )
    buffer = io.StringIO()
    # CR LF: Python's csv quotes a field holding either character only when both end lines
    # (Ruby's CSV, Canvas's, quotes any field holding one).
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def _student_name(name: str) -> str:
    """GradebookExporter#student_name: a name starting with "=" is quoted as a formula of
    itself, so that a spreadsheet shows it rather than running it."""
    return f'="{name}"' if name.lstrip().startswith("=") else name


def _totals(scores: list[str], assignments: Sequence[CanvasAssignment], count: int) -> list[str]:
    """Plausible read-only totals (what Canvas computes does not matter to an import)."""
    earned = sum(float(s) for s in scores if _is_number(s))
    possible = sum(a.points for a in assignments) or 1.0
    percent = f"{100 * earned / possible:.2f}"
    one = [f"{earned:.2f}", f"{earned:.2f}", percent, percent, percent, percent]
    return (one * 2)[:count]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


__all__ = ["CanvasAssignment", "CanvasGradebook", "Student", "canvas_gradebook_export"]

"""Grades back to the LMS: the files Canvas and Moodle import. The grades are the gradebook's
(``score - late penalty``, as ``nbgrader export`` computes them); the students are found
through ``feedback_pack.recipients`` (the intake's record and the roster). Feedback pages go
back through grader/feedback_pack.py. The rules, and where they come from:

**Canvas gradebook import** (``export --format canvas --gradebook EXPORT.csv``). The
instructor passes the CSV Canvas exported (Grades > Export); we write the CSV to import
(Grades > Import). Canvas's importer (``GradebookImporter`` in app/models/gradebook_importer.rb
of instructure/canvas-lms) needs a header whose first columns are ``Student`` (or
``LastName``, ``FirstName``), ``ID``, then optionally ``SIS User ID``, ``SIS Login ID``,
``Integration ID``, ``Root Account``, ending with ``Section``; every later column it does not
strip (``Current Score``, ``Final Grade``, ... and their "Unposted" twins) is an assignment,
matched by the ``(id)`` in ``Title (id)`` (as lib/gradebook_exporter.rb writes
``title_with_id``), a row whose first cell holds ``Points Possible`` gives the points, one
holding only "Muted"/"Manual Posting" is skipped, students are matched by ``ID`` (then SIS
ids, then name), a blank or "-" cell is no score, and a cell equal to the current score at two
decimals is no change. It imports only the columns present. So the file we write keeps the
export's student columns and rows as they were, keeps only the assignment columns of the
course (filled), and drops the read-only totals, custom columns and other assignments, which
Canvas then leaves untouched. Canvas reads "," or ";" files (we keep the export's).

* **Which column is which assignment**: ``[canvas.columns]`` in deadlines.toml maps an
  assignment to a column (its whole title, its title without the id, or the id); otherwise the
  column whose title holds the assignment's name as words (``01_scalars`` matches "Notebook 01
  – Scalars (7001)": numbers compared as numbers), else its notebook name alone ("Scalars
  (7001)"); exactly one column must match. An assignment with grades and no column, or with
  several, is an ``ExportError`` with a hint. Only columns with Canvas's ``(id)`` are
  assignments; the mapping may name any other non-student column.
* **Which row is which student**: the Canvas user id in ``ID``, through the LMS identities
  the intake recorded (Canvas bulk-download names carry the user id), then the roster's
  Canvas ids; else the course's student id equal to the row's SIS User ID, SIS Login ID or ID.
  A student with no grade of ours keeps the export's cell (blank, or Canvas's current score:
  no change); a graded student missing from the export is listed.
* **Points**: when Canvas's points possible differ from the notebook's maximum, the score is
  scaled to them (13/13 becomes 100/100); two decimals, as Canvas exports them. Our scores
  are after our late penalty: switch off Canvas's automatic late policy for these
  assignments, or Canvas deducts again (its policy applies to late submissions when a score
  is entered).

**Moodle offline grading worksheet** (``export --format moodle --worksheet W.csv``). From
Assignment > View all submissions > "Download grading worksheet" (the assignfeedback_offline
plugin; mod/assign/gradingtable.php writes it, mod/assign/feedback/offline/importgradeslib.php
and locallib.php read it back). Moodle's import finds the columns by their (English) titles
``Identifier`` ("Participant 123": the assignment's participant id), ``Grade`` and ``Last
modified (grade)`` (all three required), reads feedback plugins' columns by title
("Feedback comments"), skips a row whose grade is unchanged, empty, negative or above the
maximum, and skips a row whose grade was modified in Moodle more than 60 s after the
worksheet's "Last modified (grade)" (unless the instructor ticks "Ignore modified"). So we
fill ``Grade`` (scaled to ``Maximum Grade``, two decimals) and, when the column exists and
is empty or ours, ``Feedback comments``; everything else stays as downloaded (that is what
keeps Moodle's stale-grade check working). A row whose "Grade can be changed" is "No" is
left alone and listed. The worksheet is for one Moodle assignment: ``--assignment`` names
ours, else the worksheet's file name ("Grades-COURSE-01 Scalars-42.csv") is matched as
Canvas titles are. Rows are matched by participant id through the intake's identities, then
by e-mail or full name through the roster.

Cells we copy from an export that a spreadsheet would take for a formula get a leading ``'``
(as grader.gradebook.export_csv does), except the ids the LMS matches rows by.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader.deadlines import ConfigError
from grader.lms_formats import csv_delimiter, decode_csv, moodle_participant_id

if TYPE_CHECKING:
    from grader.feedback_pack import Recipient

MAX_EXPORT_BYTES = 50 * 2**20  # a gradebook export of thousands of students is a few MB
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
OUR_COMMENT = "Autograded:"  # how a Moodle feedback comment of ours starts

# Canvas's importer: the student columns (GRADEBOOK_IMPORTER_RESERVED_NAMES) and what it
# strips as not an assignment (NON_ASSIGNMENT_COLUMN_HEADERS, matched anywhere in a title).
CANVAS_STUDENT_COLUMNS = (
    "Student",
    "LastName",
    "FirstName",
    "ID",
    "SIS User ID",
    "SIS Login ID",
    "Integration ID",
    "Root Account",
    "Section",
)
# The columns of people's names, which a student may be able to choose: made inert. Ids and
# grades are copied exactly (Canvas matches rows by them and compares grades with its own).
CANVAS_NAME_COLUMNS = ("Student", "LastName", "FirstName", "Section")
CANVAS_NOT_ASSIGNMENTS = re.compile(
    "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
    "Override Score|Override Grade|Override Status"
)
CANVAS_TITLE_AND_ID = re.compile(r"(?P<title>.*?)\s*\((?P<id>\d+)\)\s*", re.DOTALL)

# Moodle's worksheet (English strings of mod/assign and assignfeedback_comments).
MOODLE_IDENTIFIER = "Identifier"
MOODLE_GRADE = "Grade"
MOODLE_MODIFIED = "Last modified (grade)"
MOODLE_MAXIMUM = "Maximum Grade"
MOODLE_CAN_CHANGE = "Grade can be changed"
MOODLE_FULL_NAME = "Full name"
MOODLE_EMAIL = "Email address"
MOODLE_COMMENTS = "Feedback comments"


class ExportError(ConfigError):
    """A file the instructor passed cannot be used for the export; says why and what to do."""


# --------------------------------------------------------------------------- grades


@dataclass(frozen=True)
class Grade:
    """One student's grade for one assignment, as the gradebook has it."""

    student: str
    assignment: str
    raw: float
    penalty: float
    max_score: float

    @property
    def score(self) -> float:
        return max(0.0, self.raw - self.penalty)  # nbgrader export's score

    def scaled(self, points_possible: float | None) -> float:
        """The score on the LMS's scale (its points possible), when it has another one."""
        if not points_possible or not self.max_score:
            return self.score
        return self.score * points_possible / self.max_score


def gradebook_grades(db_url: str, course_id: str | None = None) -> dict[tuple[str, str], Grade]:
    """(student, assignment) -> Grade, for every submission in the gradebook."""
    from nbgrader.api import Gradebook

    from grader.gradebook import COURSE_ID

    grades = {}
    with Gradebook(db_url, course_id=course_id or COURSE_ID) as gradebook:
        for assignment in gradebook.assignments:
            for submission in assignment.submissions:
                grades[(submission.student_id, assignment.name)] = Grade(
                    submission.student_id,
                    assignment.name,
                    float(submission.score or 0.0),
                    float(submission.late_submission_penalty or 0.0),
                    float(assignment.max_score or 0.0),
                )
    return grades


# --------------------------------------------------------------------------- reports


@dataclass
class ExportReport:
    """What an export wrote, and what the instructor should know about it."""

    path: Path
    filled: int = 0  # grades written
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- Canvas


def canvas_import(
    grades: dict[tuple[str, str], Grade],
    canvas_export: Path,
    out: Path,
    *,
    people: dict[str, Recipient],
    assignments: Iterable[str] | None = None,
    columns: dict[str, str] | None = None,
) -> ExportReport:
    """Write ``out``, the CSV Canvas imports, from the gradebook export ``canvas_export``."""
    table = _read_csv(canvas_export, "the Canvas gradebook export")
    header = table.rows[0]
    student_columns = _canvas_student_columns(header, canvas_export)
    wanted = sorted(set(assignments) if assignments else {a for _, a in grades})
    matched = {a: _canvas_column(header, a, columns or {}, canvas_export) for a in wanted}
    kept = student_columns + [matched[a] for a in wanted]
    points = _canvas_points_possible(table.rows, matched)
    by_canvas_row = _canvas_students(table.rows, header, people, grades)
    report = ExportReport(out)
    rows = [[header[i] for i in kept]]
    graded_seen = set()
    names = [i for i in kept if _squeezed(header[i]) in CANVAS_NAME_COLUMNS]
    for index, row in enumerate(table.rows[1:], start=1):
        cells = [_inert(_cell(row, i)) if i in names else _cell(row, i) for i in kept]
        student = by_canvas_row.get(index)
        if student is not None:
            graded_seen.add(student)
            for position, assignment in enumerate(wanted, start=len(student_columns)):
                grade = grades.get((student, assignment))
                if grade is not None:
                    cells[position] = _points(grade.scaled(points.get(assignment)))
                    report.filled += 1
        rows.append(cells)
    _write_csv(out, rows, table)
    report.notes += _canvas_notes(grades, wanted, graded_seen, points)
    return report


def _canvas_student_columns(header: list[str], source: Path) -> list[int]:
    """The indices of Canvas's student columns, checked as its importer checks them."""
    titles = [_squeezed(t) for t in header]
    if len(header) < 3 or not (
        ("Student" in titles[0] and "ID" in titles[1])
        or (titles[:2] == ["LastName", "FirstName"] and "ID" in titles[2])
    ):
        raise ExportError(
            f"{source}: not a Canvas gradebook export (its header starts "
            f"{_shown(', '.join(header[:3]))})\n"
            "hint: in Canvas, Grades > Export > Export Entire Gradebook, and pass that file"
        )
    columns = [i for i, t in enumerate(titles) if t in CANVAS_STUDENT_COLUMNS]
    if "Section" not in titles:
        raise ExportError(
            f"{source}: no Section column\nhint: pass the CSV exactly as Canvas exported it"
        )
    last = titles.index("Section")
    return [i for i in columns if i <= last]


def _canvas_column(header: list[str], assignment: str, mapping: dict, source: Path) -> int:
    """The index of ``assignment``'s column (see the module docstring)."""
    candidates = [
        i
        for i, title in enumerate(header)
        if _squeezed(title) not in CANVAS_STUDENT_COLUMNS
        and not CANVAS_NOT_ASSIGNMENTS.search(title)
    ]
    if assignment in mapping:
        wanted = _squeezed(mapping[assignment]).casefold()
        found = [i for i in candidates if wanted in _canvas_names(header[i])]
        how = f'[canvas.columns] maps it to "{mapping[assignment]}"'
    else:
        with_ids = [i for i in candidates if CANVAS_TITLE_AND_ID.fullmatch(header[i])]
        found = [i for i in with_ids if _names_it(header[i], assignment, notebook=False)]
        found = found or [i for i in with_ids if _names_it(header[i], assignment, notebook=True)]
        how = "matched by name"
    if len(found) == 1:
        return found[0]
    shown = "; ".join(_shown(header[i]) for i in (found or candidates)) or "none"
    what = "several columns" if found else "no column"
    raise ExportError(
        f"{source}: {what} for {assignment} ({how}): {shown}\n"
        f'hint: name it in deadlines.toml, [canvas.columns] "{assignment}" = "Title (id)", '
        "and run autograde --deadlines again (or export fewer with --assignment)"
    )


def _canvas_names(title: str) -> set[str]:
    """A column's title as a mapping may name it: whole, without its id, or the id alone."""
    names = {_squeezed(title).casefold()}
    found = CANVAS_TITLE_AND_ID.fullmatch(title)
    if found:
        names |= {_squeezed(found["title"]).casefold(), found["id"]}
    return names


def _names_it(title: str, assignment: str, *, notebook: bool) -> bool:
    """Whether ``title`` (its id aside) holds the assignment's words in a row ("01_scalars":
    01 then scalars; numbers compared as numbers), or with ``notebook`` its name alone."""
    found = CANVAS_TITLE_AND_ID.fullmatch(title)
    words = _words(found["title"] if found else title)
    wanted = _words(assignment)
    if notebook:
        wanted = [w for w in wanted if not w.isdigit()]
    if not wanted:
        return False
    return any(words[i : i + len(wanted)] == wanted for i in range(len(words)))


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold()
    return [str(int(w)) if w.isdigit() else w for w in re.split(r"[\W_]+", text) if w]


def _canvas_points_possible(rows: list[list[str]], matched: dict[str, int]) -> dict:
    """Assignment -> Canvas's points possible (None: not given or not a number)."""
    for row in rows[1:]:
        if row and "Points Possible" in row[0]:
            return {a: _number_or_none(_cell(row, i)) for a, i in matched.items()}
    return dict.fromkeys(matched)


def _canvas_students(rows, header, people: dict[str, Recipient], grades) -> dict[int, str]:
    """Row index -> our student id, for the export's student rows."""
    titles = [_squeezed(t) for t in header]
    at = {
        name: titles.index(name) for name in ("ID", "SIS User ID", "SIS Login ID") if name in titles
    }
    by_canvas_id = {p.canvas_id: s for s, p in people.items() if p.canvas_id}
    ours = {s for s, _ in grades} | set(people)
    found = {}
    for index, row in enumerate(rows[1:], start=1):
        if _not_a_student(row):
            continue
        canvas_id = _cell(row, at.get("ID")).strip()
        student = by_canvas_id.get(canvas_id)
        if student is None:
            keys = [_cell(row, at.get(n)).strip() for n in ("SIS User ID", "SIS Login ID", "ID")]
            student = next((k for k in keys if k and k in ours), None)
        if student is not None:
            found[index] = student
    return found


def _not_a_student(row: list[str]) -> bool:
    """Canvas's "Points Possible" row and its "Muted"/"Manual Posting" row."""
    if row and "Points Possible" in row[0]:
        return True
    return all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row)


def _canvas_notes(grades, wanted, graded_seen, points) -> list[str]:
    notes = []
    missing = sorted({s for s, a in grades if a in wanted} - graded_seen)
    if missing:
        notes.append(
            f"graded but not found in the Canvas export (no grade written): {', '.join(missing)}"
            " (hint: a roster with their Canvas ids, autograde --roster)"
        )
    scaled = [a for a in wanted if points.get(a) and _max_of(grades, a) not in (None, points[a])]
    for assignment in scaled:
        notes.append(
            f"{assignment}: scores scaled from {_points(_max_of(grades, assignment))} to "
            f"Canvas's {_points(points[assignment])} points possible"
        )
    if any(g.penalty for (_, a), g in grades.items() if a in wanted):
        notes.append(
            "the scores include our late penalties: switch off Canvas's automatic late policy "
            "for these assignments, or it deducts again"
        )
    return notes


def _max_of(grades, assignment) -> float | None:
    return next((g.max_score for (_, a), g in grades.items() if a == assignment), None)


# --------------------------------------------------------------------------- Moodle


def moodle_worksheet(
    grades: dict[tuple[str, str], Grade],
    worksheet: Path,
    out: Path,
    *,
    assignment: str,
    people: dict[str, Recipient],
    comments: bool = True,
) -> ExportReport:
    """Write ``out``: Moodle's grading ``worksheet`` with our grades of ``assignment``."""
    table = _read_csv(worksheet, "the Moodle grading worksheet")
    header = [_squeezed(t) for t in table.rows[0]]
    missing = [c for c in (MOODLE_IDENTIFIER, MOODLE_GRADE, MOODLE_MODIFIED) if c not in header]
    if missing:
        raise ExportError(
            f"{worksheet}: not Moodle's grading worksheet (no {', '.join(missing)} column)\n"
            "hint: in the assignment, View all submissions > Grading action > Download grading "
            "worksheet (with Moodle in English), and pass that file"
        )
    at = {name: header.index(name) for name in header if name}
    by_participant, by_email, by_name = _moodle_keys(people, assignment)
    report = ExportReport(out)
    rows = [table.rows[0]]
    seen = set()
    for row in table.rows[1:]:
        row = row + [""] * (len(header) - len(row))
        student = _moodle_student(row, at, by_participant, by_email, by_name)
        grade = grades.get((student, assignment)) if student else None
        cells = [c if _cell(header, i) in _MOODLE_KEPT else _inert(c) for i, c in enumerate(row)]
        if grade is not None:
            seen.add(student)
            if _cell(row, at.get(MOODLE_CAN_CHANGE)).strip().casefold() == "no":
                report.notes.append(
                    f"{student}: Moodle says this grade cannot be changed (locked or overridden "
                    "in the gradebook); left as it was"
                )
            else:
                maximum = _number_or_none(_cell(row, at.get(MOODLE_MAXIMUM)))
                cells[at[MOODLE_GRADE]] = f"{grade.scaled(maximum):.2f}"
                report.filled += 1
                if comments and MOODLE_COMMENTS in at:
                    _comment(cells, at[MOODLE_COMMENTS], grade, maximum)
        rows.append(cells)
    _write_csv(out, rows, table)
    missing_students = sorted({s for s, a in grades if a == assignment} - seen)
    if missing_students:
        report.notes.append(
            "graded but not found in the worksheet (no grade written): "
            f"{', '.join(missing_students)} (hint: the Moodle download through autograde, or a "
            "roster with their e-mails)"
        )
    return report


# Columns Moodle's import reads back, or that hold numbers and ids: copied as they are.
_MOODLE_KEPT = (MOODLE_IDENTIFIER, MOODLE_GRADE, MOODLE_MODIFIED, MOODLE_MAXIMUM, MOODLE_COMMENTS)


def _moodle_keys(people: dict[str, Recipient], assignment: str):
    by_participant, by_email, by_name = {}, {}, {}
    for student, identity in people.items():
        moodle = identity.moodle_for(assignment)
        if moodle and moodle.get("participant_id"):
            by_participant[str(moodle["participant_id"])] = student
        if identity.email:
            by_email.setdefault(identity.email.casefold(), []).append(student)
        if identity.name:
            by_name.setdefault(_name_key(identity.name), []).append(student)
    return by_participant, by_email, by_name


def _moodle_student(row, at, by_participant, by_email, by_name) -> str | None:
    participant = moodle_participant_id(_cell(row, at.get(MOODLE_IDENTIFIER)))
    if participant and participant in by_participant:
        return by_participant[participant]
    for found in (
        by_email.get(_cell(row, at.get(MOODLE_EMAIL)).strip().casefold()),
        by_name.get(_name_key(_cell(row, at.get(MOODLE_FULL_NAME)))),
    ):
        if found and len(found) == 1:
            return found[0]
    return None


def _comment(cells: list[str], index: int, grade: Grade, maximum: float | None) -> None:
    """Our one-line comment, unless the cell holds someone else's words."""
    existing = cells[index].strip()
    if existing and not existing.startswith(OUR_COMMENT):
        return
    text = f"{OUR_COMMENT} {_points(grade.raw)} / {_points(grade.max_score)} points"
    if grade.penalty:
        text += f", minus {_points(grade.penalty)} for lateness"
    if maximum and grade.max_score and abs(maximum - grade.max_score) > 1e-9:
        text += f" (= {grade.scaled(maximum):.2f} / {_points(maximum)})"
    cells[index] = text + ". See the feedback file for each exercise."


def assignment_of_worksheet(worksheet: Path, assignments: list[str]) -> str:
    """Our assignment a worksheet is for, from Moodle's file name
    ("Grades-COURSE-01 Scalars-42.csv"); ExportError when it is not exactly one."""
    stem = worksheet.stem
    found = [a for a in assignments if _names_it(stem, a, notebook=False)]
    found = found or [a for a in assignments if _names_it(stem, a, notebook=True)]
    if len(found) == 1:
        return found[0]
    raise ExportError(
        f"{worksheet}: cannot tell which assignment this worksheet is for "
        f"({'several match: ' + ', '.join(found) if found else 'its name names none'})\n"
        f"hint: add --assignment, one of {', '.join(assignments)}"
    )


# --------------------------------------------------------------------------- CSV


@dataclass
class _Table:
    rows: list[list[str]]
    delimiter: str
    bom: bool


def _read_csv(path: Path, what: str) -> _Table:
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_EXPORT_BYTES + 1)
    except OSError as error:
        raise ExportError(
            f"cannot read {what} {path}: {error.strerror or error}\n"
            "hint: give the path of the file the LMS exported"
        ) from None
    if len(data) > MAX_EXPORT_BYTES:
        raise ExportError(f"{path}: larger than 50 MB\nhint: is this really {what}?")
    bom = data.startswith(b"\xef\xbb\xbf")
    text = decode_csv(data).replace("\0", "")
    delimiter = csv_delimiter(text)
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row]
    except csv.Error as error:
        raise ExportError(
            f"{path}: not CSV as the LMS writes it ({error})\n"
            f"hint: pass {what} as downloaded, not re-saved by a spreadsheet"
        ) from None
    if not rows:
        raise ExportError(f"{path}: empty\nhint: pass {what} as the LMS exported it")
    return _Table(rows, delimiter, bom)


def _write_csv(path: Path, rows: list[list[str]], like: _Table) -> None:
    """Written whole, then renamed; the delimiter (and BOM) of the file it came from."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=like.delimiter, lineterminator="\r\n").writerows(rows)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(("\ufeff" if like.bom else "") + buffer.getvalue(), encoding="utf-8")
    os.replace(partial, path)


def _cell(row: list[str], index: int | None) -> str:
    return row[index] if index is not None and index < len(row) else ""


def _inert(text: str) -> str:
    """A copied text cell, with a leading ' if a spreadsheet would run it as a formula (a
    number, or a lone "-" as Moodle writes for "none", stays as it is)."""
    if len(text) < 2 or not text.startswith(FORMULA_STARTS) or _number_or_none(text) is not None:
        return text
    return "'" + text


def _number_or_none(text: str) -> float | None:
    """A number as an LMS writes it ("13.00", "13,5"); None otherwise."""
    text = (text or "").strip()
    if re.fullmatch(r"-?\d+(?:[.,]\d+)?", text):
        return float(text.replace(",", "."))
    return None


def _points(x: float | None) -> str:
    """Two decimals at most, as Canvas shows scores: 11.7, 13, 0.33."""
    if x is None:
        return ""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def _squeezed(text: str) -> str:
    return " ".join((text or "").replace("\ufeff", "").split())


def _name_key(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).casefold().replace(",", " ")
    return " ".join(sorted(text.split()))


def _shown(text: str, limit: int = 80) -> str:
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = [
    "ExportError",
    "ExportReport",
    "Grade",
    "assignment_of_worksheet",
    "canvas_import",
    "gradebook_grades",
    "moodle_worksheet",
]

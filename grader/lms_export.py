"""Grades and feedback back to the LMS: the files Canvas and Moodle import, and the exchange's
feedback for JupyterHub courses. The grades are the gradebook's (``score - late penalty``, as
``nbgrader export`` computes them); the rules, and where they come from:

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

**Feedback files** (``feedback --pack``), under ``WORKDIR/feedback_packed/``:

* ``moodle/{assignment}.zip`` for Moodle's "Upload multiple feedback files in a zip"
  (assignfeedback_file; importziplib.php): a path is accepted when one of its folder names
  is ``{name}_{participant id}_{plugin type}_{plugin name}[_...]`` with a numeric id of a
  participant; Moodle's own test uses the download's ``Student Name_{id}_assignsubmission_file_``
  and we use the download's participant folders exactly (the intake records them; else
  built by ``lms_formats.moodle_folder_name``), each holding ``{notebook}-feedback.html``.
* ``canvas/{assignment}/{canvas user id}.zip``: one zip per student and assignment, named by
  the Canvas user id, holding that student's pages (to attach to a submission comment).
* ``canvas/{assignment}-reupload.zip`` for Canvas's own bulk route, Assignment > "Re-Upload
  Submissions" (``Assignment#generate_comments_from_files`` and
  ``infer_comment_context_from_filename`` in app/models/assignment.rb): Canvas takes the
  first two all-digit ``_``-separated parts of each file name as the user id and the id of
  a file of that user's submission, ignores files whose ids do not match, and attaches the
  others as a comment ("See attached file"). So the entries are named as the download named
  the graded upload, ``{name}_{user id}_{file id}_{notebook}-feedback.html``; written only for
  students whose file id the intake recorded (identities.json ``canvas_attachments``).
* ``exchange/{course id}/feedback/{hash}.html``: nbgrader's exchange, where ``nbgrader
  fetch_feedback`` looks (nbgrader/exchange/default/release_feedback.py and
  fetch_feedback.py): ``hash`` is ``nbgrader.utils.notebook_hash(secret=..., notebook_id=...)``
  of the ``submission_secret.txt`` that ``nbgrader submit`` wrote into the submission. Copy
  the folder into the exchange root (``cp -r feedback_packed/exchange/* /srv/nbgrader/exchange/``).

A student who lacks the identity a layout needs is listed, never silently dropped; a layout is
written only when at least one student has its identity.

Cells we copy from an export that a spreadsheet would take for a formula get a leading ``'``
(as grader.gradebook.export_csv does), except the ids the LMS matches rows by.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from grader.deadlines import ConfigError
from grader.lms_formats import canvas_user_name, moodle_folder_name, moodle_participant_id
from grader.results import NotebookResult

MAX_EXPORT_BYTES = 50 * 2**20  # a gradebook export of thousands of students is a few MB
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FEEDBACK_SUFFIX = "-feedback.html"
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


# --------------------------------------------------------------------------- recipients


@dataclass
class Recipient:
    """How the LMSs reach one student: the intake's record (grader.intake.read_identities),
    completed by the roster."""

    canvas_id: str = ""
    moodle: dict[str, dict] = field(default_factory=dict)  # assignment or "*" -> id, folder
    name: str = ""
    email: str = ""
    lms: str = ""  # where the hand-ins came from: canvas, moodle, exchange, folders, roster
    canvas_name: str = ""  # Canvas's squashed name in download file names ("doejane")
    # assignment -> the Canvas file id of the graded upload (for Canvas's Re-Upload Submissions)
    canvas_attachments: dict[str, str] = field(default_factory=dict)

    def moodle_for(self, assignment: str) -> dict | None:
        return self.moodle.get(assignment) or self.moodle.get("*")


def recipients(workdir: Path, roster=None) -> dict[str, Recipient]:
    """Student id -> Recipient, from what the last autograde recorded (``received/
    identities.json``) and the roster (Canvas ids, names, e-mails)."""
    from grader.intake import read_identities

    try:
        recorded = read_identities(workdir)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportError(
            f"{workdir / 'received'}: the LMS identities could not be read ({error})\n"
            "hint: run autograde on the LMS download again"
        ) from None
    found = {
        student: Recipient(
            canvas_id=identity.canvas_id,
            moodle={
                assignment: {
                    "participant_id": folder.participant_id,
                    "folder": folder.folder,
                    "full_name": folder.full_name,
                }
                for assignment, folder in identity.moodle.items()
            },
            name=identity.name,
            email=identity.email,
            lms=identity.lms,
            canvas_name=identity.canvas_name,
            canvas_attachments=_canvas_attachments(workdir, student),
        )
        for student, identity in recorded.items()
    }
    for person in roster or []:
        recipient = found.setdefault(person.student_id, Recipient(lms="roster"))
        recipient.canvas_id = recipient.canvas_id or person.canvas_id
        recipient.name = recipient.name or person.name
        recipient.email = recipient.email or person.email
    return found


def _canvas_attachments(workdir: Path, student: str) -> dict[str, str]:
    """``canvas_attachments`` of the student in identities.json, when the intake recorded it
    (assignment -> Canvas file id of the graded upload); {} otherwise."""
    import json

    try:
        data = json.loads((workdir / "received" / "identities.json").read_text("utf-8"))
        found = data["students"][student].get("canvas_attachments", {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(a): str(i) for a, i in found.items() if str(i).isdigit()}


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


# --------------------------------------------------------------------------- feedback files


@dataclass
class PackReport:
    """What ``pack_feedback`` wrote, and who was left out of which layout."""

    written: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def pack_feedback(
    results: list[NotebookResult],
    feedback_dir: Path,
    out_dir: Path,
    people: dict[str, Recipient],
    *,
    course_id: str,
    exchange_submitted: Path | None = None,
) -> PackReport:
    """The feedback pages under ``feedback_dir`` ({student}/{assignment}/{notebook}.html),
    packed for each LMS under ``out_dir`` (see the module docstring). ``exchange_submitted``:
    the exchange's ``submitted/`` folder the hand-ins came from (its submission secrets)."""
    pages = _pages(results, feedback_dir)
    report = PackReport()
    shutil.rmtree(out_dir, ignore_errors=True)  # ours alone: packed afresh every time
    _pack_moodle(pages, out_dir / "moodle", people, report)
    _pack_canvas(pages, out_dir / "canvas", people, report)
    if exchange_submitted is not None:
        target = out_dir / "exchange" / course_id / "feedback"
        _pack_exchange(pages, target, exchange_submitted, report)
    elif any(recipient.lms == "exchange" for recipient in people.values()):
        report.left_out.append(
            "exchange: not packed (hint: feedback --pack --submitted DIR, the exchange's "
            "submitted/ folder that autograde read: its submission secrets name the files)"
        )
    return report


@dataclass(frozen=True)
class _Page:
    student: str
    assignment: str
    notebook: str
    path: Path


def _pages(results: list[NotebookResult], feedback_dir: Path) -> list[_Page]:
    pages = []
    for r in sorted(results, key=lambda r: (r.student, r.assignment, r.notebook)):
        path = feedback_dir / r.student / r.assignment / f"{r.notebook}.html"
        if path.is_file():
            pages.append(_Page(r.student, r.assignment, r.notebook, path))
    return pages


def _pack_moodle(pages: list[_Page], out_dir: Path, people, report: PackReport) -> None:
    if not any(recipient.moodle for recipient in people.values()):
        return
    for assignment in sorted({p.assignment for p in pages}):
        entries, left_out = [], set()
        for page in (p for p in pages if p.assignment == assignment):
            recipient = people.get(page.student)
            moodle = recipient.moodle_for(assignment) if recipient else None
            if not moodle or not moodle.get("participant_id"):
                left_out.add(page.student)
                continue
            folder = moodle.get("folder") or moodle_folder_name(
                recipient.name or page.student, moodle["participant_id"]
            )
            entries.append((f"{_safe(folder)}/{page.notebook}{FEEDBACK_SUFFIX}", page.path))
        _left_out(report, f"moodle/{assignment}.zip", "no Moodle participant id", left_out)
        if entries:
            report.written.append(_zip(out_dir / f"{assignment}.zip", entries))


def _pack_canvas(pages: list[_Page], out_dir: Path, people, report: PackReport) -> None:
    if not any(recipient.canvas_id for recipient in people.values()):
        return
    for assignment in sorted({p.assignment for p in pages}):
        by_student: dict[str, list] = {}
        left_out = set()
        for page in (p for p in pages if p.assignment == assignment):
            recipient = people.get(page.student)
            if not recipient or not recipient.canvas_id:
                left_out.add(page.student)
                continue
            entry = (f"{page.notebook}{FEEDBACK_SUFFIX}", page.path)
            by_student.setdefault(recipient.canvas_id, []).append(entry)
        _left_out(report, f"canvas/{assignment}/", "no Canvas user id", left_out)
        for canvas_id, entries in sorted(by_student.items()):
            target = out_dir / assignment / f"{_safe(canvas_id)}.zip"
            report.written.append(_zip(target, entries))
        _pack_canvas_reupload(pages, out_dir, people, report, assignment)


def _pack_canvas_reupload(pages, out_dir: Path, people, report: PackReport, assignment) -> None:
    """``canvas/{assignment}-reupload.zip`` for Canvas's "Re-Upload Submissions", when the
    intake recorded the Canvas file id each graded notebook came from: Canvas attaches each
    file as a comment to the submission holding that file (see the module docstring)."""
    entries = []
    for page in (p for p in pages if p.assignment == assignment):
        recipient = people.get(page.student)
        attachment = recipient.canvas_attachments.get(assignment) if recipient else None
        if not attachment or not recipient.canvas_id.isdigit():
            continue
        name = canvas_user_name(recipient.canvas_name or recipient.name)
        if not name or name.isdigit():  # all digits would be read as the user id
            name = "student"
        feedback = _safe(f"{page.notebook}{FEEDBACK_SUFFIX}")
        entries.append((f"{name}_{recipient.canvas_id}_{attachment}_{feedback}", page.path))
    if entries:
        report.written.append(_zip(out_dir / f"{assignment}-reupload.zip", entries))


def _pack_exchange(pages: list[_Page], out_dir: Path, submitted: Path, report: PackReport) -> None:
    """Each page as ``nbgrader release_feedback`` publishes it: named by nbgrader's own
    ``notebook_hash`` of the hand-in's submission secret and the notebook's name."""
    from nbgrader.utils import notebook_hash

    left_out = set()
    for page in pages:
        if not _handed_in_through(submitted, page.student, page.assignment):
            continue  # not handed in through the exchange: nobody there to fetch it
        secret = submission_secret(submitted, page.student, page.assignment)
        if secret is None:
            left_out.add(f"{page.student}/{page.assignment}")
            continue
        target = out_dir / f"{notebook_hash(secret=secret, notebook_id=page.notebook)}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page.path, target)
        os.chmod(target, 0o644)  # the student's own account reads it (release_feedback's mode)
        report.written.append(target)
    _left_out(report, "exchange", f"no submission_secret.txt under {submitted}", left_out)


MAX_SECRET_BYTES = 4096  # nbgrader writes 128 hex digits


def _handed_in_through(submitted: Path, student: str, assignment: str) -> bool:
    if any(_safe(part) != part for part in (student, assignment)):
        return False
    try:
        return stat.S_ISDIR(os.lstat(submitted / student / assignment).st_mode)
    except OSError:
        return False


def submission_secret(submitted: Path, student: str, assignment: str) -> str | None:
    """The secret ``nbgrader submit`` wrote into ``submitted/{student}/{assignment}/``, exactly
    as nbgrader reads it; None when there is no such regular, small file."""
    if any(_safe(part) != part for part in (student, assignment)):
        return None  # not one plain path component: never looked up
    path = submitted / student / assignment / "submission_secret.txt"
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SECRET_BYTES:
            return None
        with open(path, "rb") as file:
            return file.read(MAX_SECRET_BYTES).decode("utf-8") or None
    except (OSError, UnicodeDecodeError):
        return None


def _left_out(report: PackReport, layout: str, why: str, students: set[str]) -> None:
    if students:
        report.left_out.append(f"{layout}: {', '.join(sorted(students))} ({why})")


def _zip(target: Path, entries: list[tuple[str, Path]]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in entries:
            archive.write(path, name)
    os.replace(partial, target)
    return target


def _safe(name: str) -> str:
    """One path component for a zip entry or a file: no separators, no control characters,
    never "." or ".."."""
    text = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    text = text.replace("/", " ").replace("\\", " ").strip()
    return text if text not in ("", ".", "..") else "_"


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
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel's "CSV" on Windows
    text = text.replace("\0", "")
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
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
    "submission_secret",
    "ExportReport",
    "Grade",
    "Recipient",
    "PackReport",
    "assignment_of_worksheet",
    "canvas_import",
    "gradebook_grades",
    "recipients",
    "moodle_worksheet",
    "pack_feedback",
]

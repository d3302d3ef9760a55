"""LMS downloads built the way Canvas, Moodle and nbgrader's exchange build them, for the tests
and the demo: give who handed in what (and when), get the archive or folder an instructor
would download. The naming rules are grader/lms_formats.py's (the same the intake reads), so
a fixture and the intake cannot disagree about them; where the rules come from is said there.
Also the class lists and gradebook files an instructor downloads (rosters going in, the files
grader/lms_export.py fills in going out):

* ``canvas_gradebook_export``: Canvas's Grades > Export CSV, as lib/gradebook_exporter.rb
  (instructure/canvas-lms) writes it: ``Student`` ("Last, First"; a name starting with "="
  written as ``="..."``, Canvas's own guard), ``ID``, ``SIS User ID``, ``SIS Login ID``,
  ``Section``, custom columns, one ``Title (id)`` column per assignment, then the read-only
  totals (per assignment group, then the course's: Current/Final Points, Current/Unposted
  Current/Final/Unposted Final Score); an optional "Manual Posting" row, the
  ``    Points Possible`` row (points with two decimals, "(read only)" under the totals), and
  the Test Student among the students. Scores have two decimals; "," or ";" separated, with or
  without a BOM (Canvas's export options). It is the roster of a Canvas course too.
* ``moodle_worksheet``: Moodle's offline grading worksheet (hand-in times going in, grades
  going out); ``moodle_participants_csv``: Moodle's participants export (a roster).

    from grader.sample_class.lms import CanvasHandIn, canvas_zip

    canvas_zip(path, [
        CanvasHandIn("Jane Doe", 1234, [("scalars.ipynb", text)]),
        CanvasHandIn("Ömer Çelik", 1235, [("scalars.ipynb", old), ("scalars.ipynb", new)], late=True),
    ])  # -> doejane_1234_1001_scalars.ipynb, çelikömer_LATE_1235_1002_scalars.ipynb,
        #    çelikömer_LATE_1235_1003_scalars-1.ipynb

Standard library only (and grader.lms_formats): no network, no LMS.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from grader import lms_formats as lms

Content = str | bytes
# When the instructor clicked "Download": Canvas's rubyzip stamps every entry with it.
DOWNLOADED = (2027, 2, 10, 9, 0, 0)


def _bytes(content: Content) -> bytes:
    return content.encode("utf-8") if isinstance(content, str) else content


# --------------------------------------------------------------------------- Canvas


@dataclass
class CanvasHandIn:
    """One student's submission to one Canvas assignment."""

    name: str  # the display name, "Jane Doe"
    user_id: int
    # The files in upload order: (name as uploaded, content). A name uploaded again gets
    # Canvas's "-1", "-2" suffix, as Canvas renames it in the student's files.
    files: Sequence[tuple[str, Content]]
    late: bool = False
    sortable_name: str | None = None  # default: "Doe, Jane" from the name
    anonymous_id: str | None = None  # anonymous grading: no name, "anon_{id}"


def canvas_names(handins: Iterable[CanvasHandIn], first_attachment: int = 1001) -> list[str]:
    """The zip entry names Canvas gives these hand-ins' files, in order (file ids grow with
    every upload, across the class)."""
    names, attachment = [], first_attachment
    for handin in handins:
        uploaded: dict[str, int] = {}
        sortable = handin.sortable_name or lms.sortable_name(handin.name)
        for file, _ in handin.files:
            count = uploaded.get(file, 0)
            uploaded[file] = count + 1
            shown = _reuploaded(file, count)
            names.append(
                lms.canvas_file_name(
                    sortable,
                    handin.user_id,
                    attachment,
                    shown,
                    late=handin.late,
                    anonymous_id=handin.anonymous_id,
                )
            )
            attachment += 1
    return names


def _reuploaded(file: str, count: int) -> str:
    """The name Canvas gives the ``count``-th re-upload of ``file`` (make_unique_filename)."""
    if count == 0:
        return file
    stem, dot, extension = file.rpartition(".")
    return f"{stem}-{count}.{extension}" if dot and stem else f"{file}-{count}"


def canvas_zip(
    path: Path, handins: Sequence[CanvasHandIn], *, first_attachment: int = 1001
) -> Path:
    """A Canvas "Download Submissions" zip: flat, one entry per uploaded file."""
    names = canvas_names(handins, first_attachment)
    contents = [content for handin in handins for _, content in handin.files]
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in zip(names, contents, strict=True):
            zf.writestr(zipfile.ZipInfo(name, date_time=DOWNLOADED), _bytes(content))
    return path


def canvas_folder(
    path: Path, handins: Sequence[CanvasHandIn], *, first_attachment: int = 1001
) -> Path:
    """The same download, unzipped by the instructor into ``path``."""
    names = canvas_names(handins, first_attachment)
    contents = [content for handin in handins for _, content in handin.files]
    path.mkdir(parents=True, exist_ok=True)
    for name, content in zip(names, contents, strict=True):
        (path / name).write_bytes(_bytes(content))
    return path


# --------------------------------------------------------------------------- Moodle


@dataclass
class MoodleHandIn:
    """One student's submission to one Moodle assignment."""

    full_name: str  # "Jane Doe"
    participant_id: int  # the assignment's own number for the student
    files: dict[str, Content]  # path in the submission ("scalars.ipynb", "extra/notes.txt")
    email: str = ""
    submitted: datetime | None = None  # "Last modified (submission)" in the worksheet
    grade: str = ""
    feedback: str = ""


def moodle_zip(
    path: Path,
    handins: Sequence[MoodleHandIn],
    *,
    folders: bool = True,
    blind: bool = False,
    onlinetext: bool = False,
) -> Path:
    """A Moodle "Download all submissions" zip: a folder per participant (``folders``, the
    default since Moodle 3.1) or the participant prefix on every file; ``blind``: blind
    marking hides the names; ``onlinetext``: each participant also has an online text."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in moodle_entries(
            handins, folders=folders, blind=blind, onlinetext=onlinetext
        ):
            zf.writestr(zipfile.ZipInfo(name, date_time=DOWNLOADED), _bytes(content))
    return path


def moodle_folder(path: Path, handins: Sequence[MoodleHandIn], **options) -> Path:
    """The same download, unzipped by the instructor into ``path``."""
    for name, content in moodle_entries(handins, **options):
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(_bytes(content))
    return path


def moodle_entries(
    handins: Sequence[MoodleHandIn],
    *,
    folders: bool = True,
    blind: bool = False,
    onlinetext: bool = False,
) -> list[tuple[str, Content]]:
    entries = []
    for handin in handins:
        shown = lms.MOODLE_PARTICIPANT if blind else handin.full_name
        folder = lms.moodle_folder_name(shown, handin.participant_id)
        for file, content in handin.files.items():
            entries.append((f"{folder}/{file}" if folders else folder + file, content))
        if onlinetext:
            text = lms.moodle_folder_name(shown, handin.participant_id, "onlinetext")
            entries.append((f"{text}/onlinetext.html", "<p>see my notebook</p>"))
    return entries


def moodle_worksheet(
    path: Path, handins: Sequence[MoodleHandIn], zone: tzinfo, *, max_grade: float = 100.0
) -> Path:
    """Moodle's offline grading worksheet (Download grading worksheet) for these hand-ins,
    times written by userdate() in ``zone`` as Moodle does for the downloading teacher."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(lms.MOODLE_WORKSHEET_COLUMNS)
    for handin in handins:
        submitted = lms.moodle_userdate(handin.submitted, zone) if handin.submitted else "-"
        writer.writerow(
            (
                f"Participant {handin.participant_id}",
                handin.full_name,
                handin.email,
                "Submitted for grading" if handin.submitted else "No submission",
                handin.grade,
                f"{max_grade:.2f}",
                "Yes",
                submitted,
                "-",
                handin.feedback,
            )
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- nbgrader exchange


@dataclass
class ExchangeHandIn:
    """One student's submission of one assignment through nbgrader's exchange."""

    student: str
    assignment: str
    files: dict[str, Content]  # notebook file name -> content
    # When ``nbgrader submit`` ran (written in its zone, as nbgrader writes it), or the
    # timestamp.txt text itself (for broken or unusual files); None: no timestamp.txt.
    submitted: datetime | str | None = None


def exchange_folder(root: Path, handins: Sequence[ExchangeHandIn]) -> Path:
    """``root`` as ``nbgrader collect`` fills the course's ``submitted/`` folder:
    ``{student}/{assignment}/{files}`` and ``timestamp.txt``."""
    for handin in handins:
        folder = root / handin.student / handin.assignment
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in handin.files.items():
            (folder / name).write_bytes(_bytes(content))
        if handin.submitted is not None:
            text = (
                handin.submitted
                if isinstance(handin.submitted, str)
                else lms.exchange_timestamp(handin.submitted)
            )
            (folder / lms.EXCHANGE_TIMESTAMP_FILE).write_text(text)
    return root


# --------------------------------------------------------------------------- rosters, gradebook exports


@dataclass
class Student:
    """A student as the LMS's class list knows them."""

    first_name: str
    last_name: str
    canvas_id: int | str = ""
    sis_user_id: str = ""  # the course's student id in a Canvas export
    sis_login_id: str = ""
    email: str = ""
    section: str = "Section 1"
    id_number: str = ""  # Moodle's ID number

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


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
    return _write_csv(path, rows, bom=bom, delimiter=delimiter)


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


def moodle_participants_csv(path: Path, students: Sequence[Student]) -> Path:
    """Moodle's participants export: First name, Last name, ID number, Email address."""
    rows = [["First name", "Last name", "ID number", "Email address"]]
    rows += [[s.first_name, s.last_name, s.id_number, s.email] for s in students]
    return _write_csv(path, rows, bom=False)


def _write_csv(path: Path, rows: list[list[str]], *, bom: bool, delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    # CR LF: Python's csv quotes a field holding either character only when both end lines
    # (Ruby's CSV, Canvas's, quotes any field holding one).
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def utc(*args: int) -> datetime:
    """A time in UTC: ``utc(2027, 2, 1, 17, 3)``."""
    return datetime(*args, tzinfo=timezone.utc)

"""LMS downloads built the way Canvas, Moodle and nbgrader's exchange build them, for the tests
and the demo: give who handed in what (and when), get the archive or folder an instructor
would download. The naming rules are grader/lms_formats.py's (the same the intake reads), so
a fixture and the intake cannot disagree about them; where the rules come from is said there.

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


# --------------------------------------------------------------------------- rosters


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
    extra: dict[str, str] = field(default_factory=dict)  # more columns (assignments, ...)

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def canvas_gradebook_csv(
    path: Path, students: Sequence[Student], assignments: dict[str, float] | None = None
) -> Path:
    """Canvas's gradebook export (Grades > Export): Student ("Last, First"), ID, SIS User ID,
    SIS Login ID, Section, one column per assignment, and the "Points Possible" row."""
    columns = list(assignments or {})
    rows = [
        ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *columns],
        [
            "    Points Possible",
            "",
            "",
            "",
            "",
            *(f"{p:.2f}" for p in (assignments or {}).values()),
        ],
    ]
    for s in students:
        rows.append(
            [
                f"{s.last_name}, {s.first_name}",
                str(s.canvas_id),
                s.sis_user_id,
                s.sis_login_id,
                s.section,
                *(s.extra.get(c, "") for c in columns),
            ]
        )
    return _write_csv(path, rows, bom=True)


def moodle_participants_csv(path: Path, students: Sequence[Student]) -> Path:
    """Moodle's participants export: First name, Last name, ID number, Email address."""
    rows = [["First name", "Last name", "ID number", "Email address"]]
    rows += [[s.first_name, s.last_name, s.id_number, s.email] for s in students]
    return _write_csv(path, rows, bom=False)


def _write_csv(path: Path, rows: list[list[str]], *, bom: bool) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    return path


def utc(*args: int) -> datetime:
    """A time in UTC: ``utc(2027, 2, 1, 17, 3)``."""
    return datetime(*args, tzinfo=timezone.utc)

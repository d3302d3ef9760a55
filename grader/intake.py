"""Hand-ins as the LMS delivers them: Canvas and Moodle downloads, nbgrader's exchange, or a
folder per student, turned into what grader.submissions receives, with who handed each in
and when.

``python -m grader autograde SOURCE [SOURCE...] [--roster R] [--lms L] [--moodle-worksheet W
--timezone Z]`` takes any mix of:

* a folder per student (``{student}/...`` or ``{student}.zip``): read where it is, as before;
* nbgrader's exchange ``submitted/`` (``{student}/{assignment}/`` + ``timestamp.txt``): read
  where it is; each assignment's time from its timestamp.txt, parsed by nbgrader's own
  ``parse_utc`` (so lateness here is lateness in nbgrader);
* a Canvas bulk download (its zip, the unzipped files, or a folder of several such zips);
* a Moodle "Download all submissions" (its zip, its unzipped folder, or a folder of zips);
  a folder may mix both LMSs' zips (each is read as what it is).

The naming rules of each LMS, and where each says (or does not say) when a hand-in was made,
are in grader/lms_formats.py with their sources. The format is detected from the content
(file and folder names, ``timestamp.txt``) and said; ``--lms`` overrides it.

What is done with them:

* **Unpacked like any hand-in.** LMS archives are extracted by ``submissions.extract`` (zip
  slip, links, sizes, ratios: the same defences) within ``CLASS_BUDGET``, a class-sized
  budget; unzipped downloads are copied by ``submissions.copy_tree``/``copy_file`` (regular
  files only, never through a link). A student's own zip inside the download is extracted
  within the per-student ``BUDGET`` beside it. Each student's files land in
  ``WORKDIR/received/{student id}/{label}/``, ``label`` naming the archive they came from, and
  ``submissions.receive`` then reads ``received/`` as a folder per student (matching, renamed
  notebooks, duplicates: its rules).
* **Canvas re-uploads.** Canvas's ``-1``/``-2`` suffix is removed (the student did not choose
  it); when two files of one student then share a name, the later upload (larger Canvas file
  id) is graded and the others are named in a flag.
* **Who.** With a roster (grader/roster.py): Canvas user ids, else Canvas's squashed name;
  Moodle e-mails (from an offline grading worksheet, ``--moodle-worksheet``), else full
  names; folder names as student ids, e-mails or names. A hand-in found on the roster is
  graded under the roster's student id, and the roster's people fill nbgrader's students
  table (``enrol``). Without a roster, or for a hand-in not on it, the id comes from the LMS:
  Canvas's name part ("doejane"), Moodle's full name lower-cased with dashes ("jane-doe"), the
  folder's name; validated as grader.submissions validates folder names, and made unique
  with the LMS id ("doejane-1234") when two people would share one. A hand-in not on the
  roster is graded, flagged on each notebook and listed (``Intake.unknown``); a roster
  student without a hand-in gets every notebook as missing (0). Files whose names say
  nobody (not LMS-shaped) are listed, never graded under a made-up student.
* **When.** Each received folder keeps its hand-in time (``Origin.timestamp``; ISO 8601 with
  a UTC offset), and a notebook takes the time of the folder it was found in: the exchange's
  timestamp.txt, the Moodle worksheet's "Last modified (submission)" (read in ``--timezone``),
  none for Canvas (unknown: never late, shown as unknown) whose ``LATE`` marker becomes a
  flag on the notebooks of that hand-in ("Canvas marked this hand-in late ...").

Two files are written under ``WORKDIR/received/`` when the run used an LMS, the exchange or a
roster (a run of plain folders without a roster removes ``received/``, so that nothing stale
is read later):

* ``identities.json``: what export and feedback packing need to reach each student in the
  LMS, read with ``read_identities``::

      {"version": 1, "students": {"doejane": {
          "lms": "canvas", "name": "Jane Doe", "email": "", "on_roster": true,
          "canvas_id": "1234", "canvas_name": "doejane",
          "moodle": {"01_scalars": {"participant_id": "55", "full_name": "Jane Doe",
                                     "folder": "Jane Doe_55_assignsubmission_file_"}},
          "late": {"01_scalars": true},
          "timestamps": {"01_scalars": "2027-02-01T17:03:00+00:00"},
          "canvas_attachments": {"01_scalars": "1002"}}}}

  ``moodle`` is keyed by the course assignment whose notebook was graded from that Moodle
  folder, or ``"*"`` for a folder that gave no notebook. ``late``, ``timestamps`` and
  ``canvas_attachments`` (the Canvas file id of the upload the notebook was graded from, or of
  the student's zip holding it) are per course assignment as graded.
* ``intake.json``: what the run detected and could not attribute (``read_report``), which the
  CLI prints after grading.

The roster given to autograde is kept as ``WORKDIR/roster.csv`` (``Course.roster()``); a later
run without ``--roster`` uses that copy, so that ids stay the same from run to run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader import lms_formats as lms
from grader.roster import Person, Roster, name_key, read_roster
from grader.submissions import (
    BUDGET,
    LITTER,
    Budget,
    HandIn,
    Submission,
    _kind,
    _listed,
    _open_regular,
    _printable,
    _student_id,
    copy_file,
    copy_tree,
    extract,
    receive,
)

GiB = 2**30
LMS_FORMATS = ("canvas", "moodle", "exchange", "folders")
# A whole class's download: hundreds of students, each within BUDGET. One member may be a
# student's own zip (up to BUDGET.archive_bytes); it is then unpacked within BUDGET.
CLASS_BUDGET = Budget(
    archive_bytes=4 * GiB,
    unzipped_bytes=8 * GiB,
    members=100_000,
    member_bytes=BUDGET.archive_bytes,
    ratio=BUDGET.ratio,
    ratio_floor=BUDGET.ratio_floor,
    notebook_bytes=BUDGET.notebook_bytes,
    entries=100_000,
    depth=BUDGET.depth,
)
MAX_SMALL_FILE = 64 * 2**10  # timestamp.txt
MAX_WORKSHEET_BYTES = 20 * 2**20
IDENTITIES = "identities.json"
REPORT = "intake.json"


class IntakeError(ValueError):
    """A source the instructor gave cannot be used at all (missing, of no known format, an
    unreadable worksheet): the run stops before grading, with this message."""


@dataclass(frozen=True)
class Sources:
    """What ``autograde`` was given: passed to ``pipeline.plan`` in place of one folder."""

    paths: tuple[Path, ...]
    lms: str | None = None  # one of LMS_FORMATS for every path; None: detect each
    roster: Path | None = None  # a roster CSV; None: WORKDIR/roster.csv if an earlier run kept one
    worksheets: tuple[Path, ...] = ()  # Moodle offline grading worksheets (hand-in times)
    timezone: str | None = None  # the zone the worksheets' times are written in

    @classmethod
    def of(cls, submissions) -> Sources:
        if isinstance(submissions, Sources):
            return submissions
        return cls((Path(submissions),))


@dataclass
class Origin:
    """What the LMS said about one received folder (``WORKDIR/received/{id}/{label}``, or an
    exchange assignment folder read in place): it applies to the notebooks found in it."""

    lms: str
    source: str  # the archive or folder it came from, printable
    timestamp: str | None = None  # ISO 8601 with offset; None: unknown
    late: bool = False  # Canvas's LATE marker
    canvas_id: str = ""
    canvas_name: str = ""
    participant_id: str = ""  # Moodle
    moodle_folder: str = ""  # the participant folder's name as Moodle wrote it
    full_name: str = ""  # as the LMS shows it (Moodle)
    flags: list[str] = field(default_factory=list)  # for the notebooks graded from here
    # Canvas: the file (or the folder a student's zip was unpacked to) -> Canvas file id
    attachments: dict[str, str] = field(default_factory=dict)


@dataclass
class Intake:
    """Every hand-in received from the sources, and what is known about it."""

    handins: dict[str, HandIn] = field(default_factory=dict)
    origins: dict[Path, Origin] = field(default_factory=dict)
    people: dict[str, dict] = field(default_factory=dict)  # student id -> who (identities)
    detected: list[str] = field(default_factory=list)  # one line per source
    formats: list[str] = field(default_factory=list)  # the format of each source
    unknown: list[str] = field(default_factory=list)  # hand-ins not on the roster
    unattributed: list[str] = field(default_factory=list)  # files nobody could be found for
    missing: list[str] = field(default_factory=list)  # roster students without a hand-in
    problems: list[str] = field(default_factory=list)  # sources (or parts) not read at all
    roster: Roster | None = None
    uses_lms: bool = False  # anything beyond plain folders: write identities and the report

    def origin_of(self, path: Path | None) -> Origin | None:
        """The origin of the innermost received folder holding ``path``."""
        folder = self.folder_of(path)
        return None if folder is None else self.origins[folder]

    def folder_of(self, path: Path | None) -> Path | None:
        """The innermost received folder (a key of ``origins``) holding ``path``."""
        for folder in Path(path).parents if path is not None else ():
            if folder in self.origins:
                return folder
        return None

    def annotate(self, sub: Submission) -> None:
        """Give a matched notebook its hand-in time and the LMS's flags (before it is
        fingerprinted: flags are shown to the student, the time is not fingerprinted)."""
        origin = self.origin_of(sub.path)
        if origin is None:
            return
        sub.timestamp = sub.timestamp or origin.timestamp
        if origin.lms == "canvas":  # Canvas's verdict, its only word on time
            sub.marked_late = origin.late
        if origin.late:
            sub.flags.append(
                "Canvas marked this hand-in late (LATE in its file name); Canvas's download "
                "does not say when it was handed in"
            )
        sub.flags.extend(origin.flags)

    def report(self) -> dict:
        return {
            "detected": self.detected,
            "unknown": self.unknown,
            "unattributed": self.unattributed,
            "missing": self.missing,
            "problems": self.problems,
            "roster_problems": list(self.roster.problems) if self.roster else [],
        }


# --------------------------------------------------------------------------- the run


def gather(sources: Sources, workdir: Path) -> Intake:
    """Receive every source into ``workdir`` (see the module's docstring); IntakeError when a
    source cannot be used at all, RosterError for an unusable roster. Both are raised before
    anything of an earlier run is touched."""
    formats = [(Path(path), *_format(Path(path), sources.lms)) for path in sources.paths]
    problems: list[str] = []
    worksheet = read_worksheets(sources.worksheets, sources.timezone, problems)
    intake = Intake(roster=use_roster(workdir, sources.roster), problems=problems)
    received = workdir / "received"
    _remove(received)
    _remove(workdir / "lms-unpacked")
    collector = _Collector(intake, workdir, worksheet)
    in_place: list[tuple[Path, str]] = []
    for path, kind, description in formats:
        intake.detected.append(f"{_printable(str(path))}: {description}")
        intake.formats.append(kind)
        if kind in ("folders", "exchange"):
            in_place.append((path, kind))
        else:
            collector.collect(path, kind, forced=sources.lms is not None)
    for number, (path, kind) in enumerate(in_place, 1):
        staging = workdir / ("unpacked" if number == 1 else f"unpacked-{number}")
        _receive_in_place(intake, path, kind, staging)
    if collector.students:
        _merge(intake, receive(received, workdir / "unpacked-lms"), "the LMS download")
    _remove(workdir / "lms-unpacked")  # what is left there was listed as not attributed
    _add_missing(intake)
    intake.uses_lms = bool(set(intake.formats) - {"folders"}) or intake.roster is not None
    return intake


def finish(intake: Intake, workdir: Path, submissions: Iterable[Submission]) -> None:
    """After matching: record identities and the report (see the module's docstring)."""
    received = workdir / "received"
    if not intake.uses_lms:
        for name in (IDENTITIES, REPORT):
            (received / name).unlink(missing_ok=True)
        return
    people = {student: dict(who) for student, who in intake.people.items()}
    for sub in submissions:
        who = people.setdefault(sub.student, _identity(sub.student, "folders"))
        folder = intake.folder_of(sub.path)
        if folder is not None:
            _note_graded(who, sub, intake.origins[folder], sub.path.relative_to(folder).parts[0])
    for folder, origin in intake.origins.items():  # Moodle folders that gave no notebook
        if origin.participant_id:
            student = folder.relative_to(received).parts[0] if received in folder.parents else ""
            who = people.get(student)
            if who is not None and not any(
                m["participant_id"] == origin.participant_id for m in who["moodle"].values()
            ):
                who["moodle"].setdefault("*", _moodle_entry(origin))
    received.mkdir(parents=True, exist_ok=True)
    _write_json(received / IDENTITIES, {"version": 1, "students": people})
    _write_json(received / REPORT, intake.report())


def _note_graded(who: dict, sub: Submission, origin: Origin, top: str) -> None:
    """Record what the LMS said about the folder a graded notebook came from; ``top`` is the
    notebook's file (or folder) directly under it."""
    if top in origin.attachments:
        who["canvas_attachments"][sub.assignment] = origin.attachments[top]
    if origin.participant_id:
        who["moodle"][sub.assignment] = _moodle_entry(origin)
    if origin.late:
        who["late"][sub.assignment] = True
    if sub.timestamp:
        who["timestamps"][sub.assignment] = sub.timestamp


def _moodle_entry(origin: Origin) -> dict:
    return {
        "participant_id": origin.participant_id,
        "full_name": origin.full_name,
        "folder": origin.moodle_folder,
    }


# --------------------------------------------------------------------------- the roster


def use_roster(workdir: Path, given: Path | None) -> Roster | None:
    """The roster for this run: ``given`` (checked, then kept as WORKDIR/roster.csv), else the
    copy an earlier run kept, else none. RosterError when the file cannot be used."""
    kept = workdir / "roster.csv"
    if given is not None:
        roster = read_roster(given)  # refuse a bad file before replacing a good copy
        kept.parent.mkdir(parents=True, exist_ok=True)
        partial = kept.with_name(kept.name + ".partial")
        shutil.copyfile(given, partial)
        os.replace(partial, kept)
        return roster
    return read_roster(kept) if kept.exists() else None


def enrol(roster: Roster, db_url: str) -> None:
    """Put the roster's people in nbgrader's students table (names, e-mails and, as nbgrader's
    ``lms_user_id``, Canvas ids), in one commit; idempotent. formgrader, ``nbgrader export``
    and grades.csv then show them, and a student without any hand-in still has a row."""
    from nbgrader.api import Gradebook, Student

    from grader.gradebook import COURSE_ID, _create_if_missing

    _create_if_missing(db_url, COURSE_ID)
    with Gradebook(db_url, course_id=COURSE_ID) as gradebook:
        known = {student.id: student for student in gradebook.students}
        for person in roster:
            student = known.get(person.student_id) or Student(id=person.student_id)
            student.first_name = person.first_name or student.first_name
            student.last_name = person.last_name or student.last_name
            student.email = person.email or student.email
            student.lms_user_id = person.canvas_id or student.lms_user_id
            gradebook.db.add(student)
        gradebook.db.commit()


# --------------------------------------------------------------------------- detection


def detect(path: Path) -> tuple[str | None, str]:
    """(the format of ``path``, or None when unknown; a description for the instructor). A
    folder may hold LMS zips (each read as its own format) and unzipped files (read as the
    format most of them have)."""
    if path.is_file():
        kind, count = _classify_zip(path)
        if kind is None:
            return None, "a file that is neither a Canvas nor a Moodle download"
        return kind, f"{_DESCRIBED[kind]} ({count} files)"
    if _is_exchange(path):
        return "exchange", "nbgrader's exchange (submitted/{student}/{assignment}/timestamp.txt)"
    loose, zips, others = {"canvas": 0, "moodle": 0}, {"canvas": 0, "moodle": 0}, 0
    for entry in _listing(path):
        kind = _entry_format(entry)
        if kind in ("canvas zip", "moodle zip"):
            zips[kind.split()[0]] += 1
        elif kind in loose:
            loose[kind] += 1
        elif entry.name not in LITTER:
            others += 1
    if not any(loose.values()) and not any(zips.values()):
        return "folders", "a folder per student"
    best = max(loose, key=lambda k: (loose[k], zips[k], k == "canvas"))
    parts = [_count(n, f"{_NAMED[k]} zip") for k, n in zips.items() if n]
    parts += [_count(n, f"unzipped {_NAMED[k]} entry") for k, n in loose.items() if n]
    parts += [_count(others, "other entry")] * bool(others)
    return best, f"LMS downloads ({', '.join(parts)})"


def _count(n: int, thing: str) -> str:
    if n == 1:
        return f"1 {thing}"
    return f"{n} {thing[:-1]}ies" if thing.endswith("y") else f"{n} {thing}s"


def _entry_format(entry: os.DirEntry) -> str | None:
    """What one entry of a folder is: "canvas"/"moodle" (an unzipped download's file or
    folder), "canvas zip"/"moodle zip" (a whole download), or None."""
    kind = _kind(entry)
    if kind == "folder":
        return "moodle" if parse_moodle_folder(entry.name) else None
    if kind != "file":
        return None
    if lms.parse_canvas_name(entry.name):
        return "canvas"  # a file of an unzipped Canvas download (maybe a student's zip)
    if lms.parse_moodle_name(entry.name):
        return "moodle"
    if entry.name.lower().endswith(".zip"):
        own, _ = _classify_zip(Path(entry.path))
        return f"{own} zip" if own else None
    return None


_NAMED = {"canvas": "Canvas", "moodle": "Moodle"}
_DESCRIBED = {
    "canvas": "a Canvas bulk download",
    "moodle": 'a Moodle "Download all submissions"',
    "exchange": "nbgrader's exchange",
    "folders": "a folder per student",
}


def _format(path: Path, forced: str | None) -> tuple[str, str]:
    if not path.exists():
        raise IntakeError(f"{_printable(str(path))} does not exist")
    if forced is not None:
        if forced not in LMS_FORMATS:
            raise IntakeError(f"unknown --lms {forced!r}: one of {', '.join(LMS_FORMATS)}")
        if forced in ("exchange", "folders") and not path.is_dir():
            raise IntakeError(f"{_printable(str(path))}: --lms {forced} needs a folder")
        return forced, f"{_DESCRIBED[forced]} (as --lms says)"
    kind, description = detect(path)
    if kind is None:
        raise IntakeError(
            f"{_printable(str(path))}: {description}\n"
            "hint: give a folder of hand-ins, a Canvas or Moodle download, or say which with "
            "--lms canvas|moodle|exchange|folders"
        )
    return kind, description


def _classify_zip(path: Path) -> tuple[str | None, int]:
    """("canvas"/"moodle"/None, number of members) from the member names alone."""
    try:
        with _open_regular(path, CLASS_BUDGET.archive_bytes) as file, zipfile.ZipFile(file) as zf:
            names = zf.namelist()[: CLASS_BUDGET.members]
    except Exception:  # noqa: BLE001 - not a zip, damaged, too large: not an LMS download
        return None, 0
    top = [n for n in names if n.split("/")[0] not in LITTER and not n.endswith("/")]
    moodle = sum(
        parse_moodle_folder(n.split("/")[0]) is not None
        if "/" in n
        else lms.parse_moodle_name(n) is not None
        for n in top
    )
    canvas = sum("/" not in n and lms.parse_canvas_name(n) is not None for n in top)
    if moodle and moodle >= canvas:
        return "moodle", len(top)
    if canvas:
        return "canvas", len(top)
    return None, len(top)


def parse_moodle_folder(name: str) -> lms.MoodleName | None:
    found = lms.parse_moodle_name(name)
    return found if found is not None and not found.file else None


def _is_exchange(path: Path) -> bool:
    """A folder of students' folders, some holding assignment folders with timestamp.txt."""
    for student in _listing(path):
        if _kind(student) != "folder":
            continue
        for assignment in _listing(Path(student.path)):
            stamp = Path(assignment.path) / lms.EXCHANGE_TIMESTAMP_FILE
            if _kind(assignment) == "folder" and stamp.is_file() and not stamp.is_symlink():
                return True
    return False


def _listing(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda e: e.name)[: CLASS_BUDGET.entries]
    except OSError:
        return []


# --------------------------------------------------------------------------- folders in place


def _receive_in_place(intake: Intake, path: Path, kind: str, staging: Path) -> None:
    """A folder per student, or the exchange: read where it is (as before this module)."""
    handins = receive(path, staging)
    for student in list(handins):
        handin = handins.pop(student)
        person = _roster_person(intake.roster, student)
        handin.student = person.student_id if person else student
        who = _identity(handin.student, kind, person)
        if intake.roster is not None and person is None:
            _flag_unknown(intake, handin, f"the hand-in {handin.name}")
        intake.people.setdefault(handin.student, who)
        if kind == "exchange" and handin.folder is not None:
            _exchange_times(intake, handin, path)
        handins[handin.student] = handin
    _merge(intake, handins, _printable(str(path)))


def _roster_person(roster: Roster | None, name: str) -> Person | None:
    if roster is None:
        return None
    return (
        roster.find(student_id=name)
        or roster.find(email=name)
        or roster.find(name=name.replace("_", " "))
    )


def _exchange_times(intake: Intake, handin: HandIn, source: Path) -> None:
    """Each ``{assignment}/timestamp.txt`` of a student's exchange folder, read as nbgrader
    reads it (``nbgrader.utils.parse_utc``)."""
    for entry in _listing(handin.folder):
        if _kind(entry) != "folder":
            continue
        origin = Origin("exchange", _printable(str(source)))
        stamp = Path(entry.path) / lms.EXCHANGE_TIMESTAMP_FILE
        if stamp.exists() or stamp.is_symlink():
            origin.timestamp, flag = read_exchange_timestamp(stamp)
            if flag:
                origin.flags.append(flag)
        intake.origins[Path(entry.path)] = origin


def read_exchange_timestamp(path: Path) -> tuple[str | None, str | None]:
    """(the time in an exchange timestamp.txt as ISO 8601 UTC, or None; a flag when it could
    not be used). nbgrader's parse_utc reads it; a zone name it does not know is UTC there,
    and is said here."""
    from dateutil.tz import gettz
    from nbgrader.utils import parse_utc

    shown = f"{path.parent.name}/{path.name}"
    try:
        with _open_regular(path, MAX_SMALL_FILE) as file:
            text = file.read(MAX_SMALL_FILE).decode("utf-8").strip()
        moment = parse_utc(text) if text else None
    except Exception as error:  # noqa: BLE001 - a student-side file: any content
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return (
            None,
            f"{shown} could not be read ({_printable(reason)}); the hand-in time is unknown",
        )
    if moment is None:
        return None, f"{shown} is empty; the hand-in time is unknown"
    if not _names_a_day(text):  # dateutil would fill in today's date: not a hand-in time
        return None, f"{shown} does not say which day; the hand-in time is unknown"
    flag = None
    parts = text.split(" ")
    if len(parts) == 3 and not re.fullmatch(r"[+-]?\d+", parts[2]) and gettz(parts[2]) is None:
        flag = f'{shown}: the time zone "{_printable(parts[2])}" is unknown; read as UTC, as nbgrader does'
    return lms.iso(moment.replace(tzinfo=timezone.utc)), flag


def _names_a_day(text: str) -> bool:
    """Whether a time as nbgrader's parse_utc reads it (dateutil) states its year, month and
    day, rather than taking them from the day it is read."""
    from dateutil import parser

    when = " ".join(text.split(" ")[:2])
    try:
        one = parser.parse(when, default=datetime(2001, 1, 1))
        other = parser.parse(when, default=datetime(2002, 2, 2))
    except (ValueError, OverflowError):
        return False
    return one.date() == other.date()


# --------------------------------------------------------------------------- LMS downloads


@dataclass
class _Found:
    """One file of a download, with what its name says."""

    path: Path  # where it is now (extracted by us, or the instructor's unzipped folder)
    shown: str  # its name in the download
    ours: bool  # extracted by us: it may be moved rather than copied
    kind: str  # "file" or "folder"; a link or a device is never read ("link", "special")


class _Collector:
    """Puts LMS downloads into ``WORKDIR/received/{id}/{label}/``."""

    def __init__(self, intake: Intake, workdir: Path, worksheet: dict[str, WorksheetRow]):
        self.intake, self.worksheet = intake, worksheet
        self.received = workdir / "received"
        self.scratch = workdir / "lms-unpacked"
        self.students: set[str] = set()
        self.ids = _Ids(intake)
        self.labels: set[str] = set()
        self.archives = 0

    # ---- sources

    def collect(self, path: Path, kind: str, *, forced: bool = False) -> None:
        """A download (zip), or a folder of unzipped files and downloads; ``kind`` is the
        source's format, a zip in the folder keeps its own unless ``forced``."""
        if path.is_file():
            self._archive(path, kind)
            return
        loose = []
        for entry in _listing(path):
            if entry.name in LITTER:
                continue
            own = _entry_format(entry)
            if own in ("canvas zip", "moodle zip"):
                self._archive(Path(entry.path), kind if forced else own.split()[0])
                continue
            loose.append(_Found(Path(entry.path), entry.name, False, _kind(entry)))
        if loose:
            self._items(loose, kind, self._label(path.name), _printable(str(path)))

    def _archive(self, archive: Path, kind: str) -> None:
        self.archives += 1
        target = self.scratch / str(self.archives)
        extracted = extract(archive, target, CLASS_BUDGET)
        shown = _printable(str(archive))
        if extracted.problem:
            self.intake.problems.append(f"{shown} was not unpacked: {extracted.reason}")
            return
        found = [
            _Found(Path(e.path), e.name, True, _kind(e))
            for e in _listing(target)
            if e.name not in LITTER
        ]
        self._items(found, kind, self._label(archive.name.removesuffix(".zip")), shown)
        for member, why in extracted.skipped:
            self._skipped(member, why, kind, shown)

    def _skipped(self, member: str, why: str, kind: str, source: str) -> None:
        """A member the extraction refused: a flag for its student when its name says who."""
        first = member.replace("\\", "/").split("/")[0]
        text = f"{_printable(member)} was not unpacked ({why})"
        student = self.ids.known_file(first, kind)
        if student is not None and student in self.intake.people:
            self.intake.people[student].setdefault("_flags", []).append(text)
        else:
            self.intake.unattributed.append(f"{text}, in {source}")

    def _items(self, found: list[_Found], kind: str, label: str, source: str) -> None:
        if kind == "canvas":
            self._canvas(found, label, source)
        else:
            self._moodle(found, label, source)

    # ---- Canvas

    def _canvas(self, found: list[_Found], label: str, source: str) -> None:
        by_student: dict[tuple, list[tuple[lms.CanvasName, _Found]]] = {}
        for item in found:
            name = lms.parse_canvas_name(item.shown) if item.kind == "file" else None
            if name is None:
                self._unattributed(item, source)
                continue
            key = ("canvas", name.user_id) if name.user_id else ("canvas-anon", name.anonymous_id)
            by_student.setdefault(key, []).append((name, item))
        for key, files in sorted(by_student.items()):
            first = files[0][0]
            student = self.ids.canvas(key, first)
            folder = self._folder(student, label)
            origin = Origin(
                "canvas", source, late=any(n.late for n, _ in files), canvas_id=first.user_id,
                canvas_name=first.name,
            )  # fmt: skip
            for name, item, ignored in _latest_uploads(files):
                placed = self._place(
                    item, folder / _usable_name(name.file, item.shown, folder), origin
                )
                for path in placed:
                    origin.attachments[path.name] = str(name.attachment_id)
                if ignored:
                    origin.flags.append(
                        f"{_printable(name.file)} was uploaded {len(ignored) + 1} times: graded "
                        f"{_printable(item.shown)} (the latest upload), ignored "
                        f"{_listed([_printable(i.shown) for i in ignored])}"
                    )
            self.intake.origins[folder] = origin

    # ---- Moodle

    def _moodle(self, found: list[_Found], label: str, source: str) -> None:
        by_participant: dict[str, list[tuple[lms.MoodleName, _Found]]] = {}
        for item in found:
            name = None
            if item.kind == "folder":
                name = parse_moodle_folder(item.shown)
            elif item.kind == "file":
                name = lms.parse_moodle_name(item.shown)
            if name is None:
                self._unattributed(item, source)
                continue
            by_participant.setdefault(name.participant_id, []).append((name, item))
        # namesakes: participants of one download sharing a name are different people
        names = Counter(name_key(e[0][0].full_name) for e in by_participant.values())
        for participant, entries in sorted(by_participant.items()):
            first = entries[0][0]
            row = self.worksheet.get(participant)
            shared = names[name_key(first.full_name)] > 1
            student = self.ids.moodle(first, row, shared)
            folder = self._folder(student, label)
            origin = Origin(
                "moodle", source, participant_id=participant, full_name=first.full_name,
                moodle_folder=lms.moodle_folder_name(first.full_name, participant),
                timestamp=row.timestamp if row else None,
            )  # fmt: skip
            for name, item in entries:
                plugin = folder / _safe_component(name.plugin, "plugin")
                if item.kind == "folder":
                    if name.plugin == "file":
                        origin.moodle_folder = item.shown  # as Moodle wrote it
                    self._place_tree(item, plugin, origin)
                else:
                    plugin.mkdir(exist_ok=True)
                    self._place(item, plugin / _usable_name(name.file, item.shown, plugin), origin)
            self.intake.origins[folder] = origin

    def _unattributed(self, item: _Found, source: str) -> None:
        why = {"link": " (a symbolic link: not read)", "special": " (not a file: not read)"}
        self.intake.unattributed.append(
            f"{_printable(item.shown)}{why.get(item.kind, '')}, in {source}"
        )

    # ---- placing files

    def _label(self, name: str) -> str:
        label = _safe_component(name, "download")
        unique, n = label, 1
        while unique in self.labels:
            n += 1
            unique = f"{label}-{n}"
        self.labels.add(unique)
        return unique

    def _folder(self, student: str, label: str) -> Path:
        self.students.add(student)
        folder = self.received / student / label
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _place(self, item: _Found, destination: Path, origin: Origin) -> list[Path]:
        """Move (ours) or copy (the instructor's) one file in; what now holds its content:
        the file, and the folder it was unzipped to if it is a zip."""
        if item.ours:
            os.replace(item.path, destination)
            why = None
        else:
            why = copy_file(item.path, destination, CLASS_BUDGET.member_bytes)
        if why is not None:
            origin.flags.append(f"{_printable(item.shown)} was not read ({why})")
            return []
        if destination.name.lower().endswith(".zip"):
            return [destination, self._unzip_student_zip(destination, origin)]
        return [destination]

    def _place_tree(self, item: _Found, destination: Path, origin: Origin) -> None:
        destination = _unused(destination)
        if item.ours:
            os.replace(item.path, destination)
            skipped = []
        else:
            copied = copy_tree(item.path, destination, CLASS_BUDGET)
            if copied.problem:
                origin.flags.append(f"{_printable(item.shown)} was not read ({copied.reason})")
                return
            skipped = copied.skipped
        for path, why in skipped:
            origin.flags.append(f"{_printable(path)} was not read ({why})")
        for path in sorted(destination.rglob("*.zip")):
            if path.is_file() and not path.is_symlink():
                self._unzip_student_zip(path, origin)

    def _unzip_student_zip(self, archive: Path, origin: Origin) -> Path:
        """A student's own zip inside the download: unpacked beside it, within BUDGET; the
        folder it was (or would have been) unpacked to."""
        target = _unused(archive.with_name(_safe_component(archive.name[:-4], "zip")))
        extracted = extract(archive, target, BUDGET)
        shown = _printable(archive.name)
        if extracted.problem:
            origin.flags.append(f"{shown} could not be unpacked ({extracted.reason})")
        elif extracted.skipped:
            skipped = [f"{_printable(m)} ({why})" for m, why in extracted.skipped]
            origin.flags.append(
                f"{shown}: {len(skipped)} entries were not unpacked: {_listed(skipped)}"
            )
        return target


def _latest_uploads(files: list[tuple[lms.CanvasName, _Found]]):
    """Per uploaded name (Canvas's re-upload suffix removed): (name, the latest upload, the
    earlier ones). Later = larger Canvas file id, then larger suffix."""
    by_name: dict[str, list[tuple[lms.CanvasName, _Found]]] = {}
    for name, item in files:
        by_name.setdefault(name.file, []).append((name, item))
    for _, uploads in sorted(by_name.items()):
        uploads.sort(key=lambda u: (u[0].attachment_id, u[0].reupload, u[1].shown), reverse=True)
        (name, item), *earlier = uploads
        yield name, item, [i for _, i in earlier]


def _usable_name(wanted: str, fallback: str, folder: Path) -> str:
    """``wanted`` as a file name in ``folder`` if it is one safe path component not yet used
    there; else the name as downloaded (unique in the download), else a made-up one."""
    for name in (wanted, fallback):
        if (
            name not in ("", ".", "..")
            and "/" not in name
            and "\0" not in name
            and len(os.fsencode(name)) <= 255
            and not os.path.lexists(folder / name)
        ):
            return name
    n = 1
    while os.path.lexists(folder / f"file-{n}"):
        n += 1
    return f"file-{n}"


def _unused(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... whichever does not exist yet."""
    unused, n = path, 1
    while os.path.lexists(unused):
        n += 1
        unused = path.with_name(f"{path.name}-{n}")
    return unused


def _safe_component(name: str, default: str) -> str:
    """A folder name of ours made from an LMS's name: ASCII letters, digits, ``._-``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name, flags=re.ASCII).strip("-._")[:60]
    return slug or default


# --------------------------------------------------------------------------- student ids


class _Ids:
    """Student ids for LMS identities: the roster's when it knows the person, else one made
    from the LMS's name, unique in this run."""

    def __init__(self, intake: Intake):
        self.intake = intake
        self.roster = intake.roster
        self.by_key: dict[tuple, str] = {}
        self.taken = {p.student_id for p in self.roster} if self.roster else set()
        self.canvas_names: dict[str, list[Person]] = {}  # Canvas's squashed name -> people
        for person in self.roster or ():
            sortable = (
                f"{person.last_name}, {person.first_name}"
                if person.last_name
                else lms.sortable_name(person.name)
            )
            self.canvas_names.setdefault(lms.canvas_user_name(sortable), []).append(person)

    def canvas(self, key: tuple, name: lms.CanvasName) -> str:
        if key in self.by_key:
            return self.by_key[key]
        if name.anonymous_id:
            who = f"anonymous Canvas student {name.anonymous_id}"
            return self._assign(key, None, f"anon-{name.anonymous_id}", "", who, "canvas")
        person = None
        if self.roster is not None:
            same_name = self.canvas_names.get(name.name, []) if name.name else []
            person = self.roster.find(canvas_id=name.user_id) or (
                same_name[0] if len(same_name) == 1 else None
            )
        who = f"Canvas user {name.user_id} ({name.name or 'no name'})"
        derived = name.name or f"canvas-{name.user_id}"
        extra = {"canvas_id": name.user_id, "canvas_name": name.name}
        return self._assign(key, person, derived, name.user_id, who, "canvas", **extra)

    def moodle(self, name: lms.MoodleName, row: WorksheetRow | None, shared: bool) -> str:
        """The id of a Moodle participant; ``shared``: another participant of the same
        download has the same name (then the participant id tells them apart)."""
        blind = name.full_name == lms.MOODLE_PARTICIPANT
        if blind or shared:
            key = ("moodle-participant", name.participant_id)
        else:
            key = ("moodle", name_key(name.full_name))
        if key in self.by_key:
            return self.by_key[key]
        person = None
        if self.roster is not None:
            if row is not None and row.email:
                person = self.roster.find(email=row.email)
            if person is None and not blind:
                person = self.roster.find(name=name.full_name)
        if blind:
            derived = f"participant-{name.participant_id}"
        else:
            derived = slug(name.full_name) or f"moodle-{name.participant_id}"
        who = f'Moodle participant {name.participant_id} ("{_printable(name.full_name)}")'
        extra = {"email": row.email if row else "", "lms_name": name.full_name}
        student = self._assign(key, person, derived, name.participant_id, who, "moodle", **extra)
        if shared and person is None and not blind:
            self.intake.people[student].setdefault("_flags", []).append(
                f'more than one Moodle participant is named "{_printable(name.full_name)}"; '
                f"this one was graded as {student}"
            )
        return student

    def known_file(self, name: str, kind: str) -> str | None:
        """The id already given to the owner of a download's file name, if any."""
        if kind == "canvas":
            found = lms.parse_canvas_name(name)
            if found is None:
                return None
            key = (
                ("canvas", found.user_id) if found.user_id else ("canvas-anon", found.anonymous_id)
            )
            return self.by_key.get(key)
        found = lms.parse_moodle_name(name)
        if found is None:
            return None
        return self.by_key.get(("moodle-participant", found.participant_id)) or self.by_key.get(
            ("moodle", name_key(found.full_name))
        )

    def _assign(self, key, person, derived: str, lms_id: str, who: str, kind: str, **extra) -> str:
        """The roster's id for ``person``, else ``derived`` made safe and unique (with the
        LMS id, then a number); an unknown person is listed and flagged when there is a
        roster."""
        flags: list[str] = []
        if person is not None:
            student = person.student_id
        else:
            student, flags = _student_id(derived)
            if student in self.taken and lms_id:
                student, flags = _student_id(f"{derived}-{lms_id}")
            n = 1
            while student in self.taken:
                n += 1
                student, flags = _student_id(f"{derived}-{lms_id}-{n}")
            if self.roster is not None:
                self.intake.unknown.append(f"{who}: not on the roster, graded as {student}")
                flags.append(f"{who} is not on the roster; graded as {student}")
        self.taken.add(student)
        self.by_key[key] = student
        identity = _identity(student, kind, person, **extra)
        identity["name"] = identity["name"] or extra.get("lms_name", "")
        if flags:
            identity["_flags"] = flags
        self.intake.people.setdefault(student, identity)
        return student


def slug(name: str) -> str:
    """A Moodle full name as an id: lower-cased, words joined by dashes, letters of any
    script kept ("José Núñez" -> "josé-núñez"); "" when nothing is left."""
    text = unicodedata.normalize("NFC", name).casefold()
    return "-".join(re.findall(r"[^\W_]+", text))[:80]


def _identity(student: str, kind: str, person: Person | None = None, **extra) -> dict:
    """A student's entry in identities.json (see the module's docstring)."""
    return {
        "lms": kind,
        "name": person.name if person else "",
        "email": person.email if person else extra.get("email", ""),
        "on_roster": person is not None,
        "canvas_id": extra.get("canvas_id") or (person.canvas_id if person else ""),
        "canvas_name": extra.get("canvas_name", ""),
        "moodle": {},
        "late": {},
        "timestamps": {},
        "canvas_attachments": {},
    }


def _flag_unknown(intake: Intake, handin: HandIn, who: str) -> None:
    intake.unknown.append(f"{who}: not on the roster, graded as {handin.student}")
    handin.flags.append(f"{who} is not on the roster; graded as {handin.student}")


# --------------------------------------------------------------------------- merging


def _merge(intake: Intake, handins: dict[str, HandIn], source: str) -> None:
    """Add ``handins``: a student already received from an earlier source keeps that hand-in,
    and this one is named in a flag (never graded twice, never dropped silently)."""
    for student, handin in handins.items():
        flags = intake.people.get(student, {}).pop("_flags", [])
        handin.flags.extend(f for f in flags if f not in handin.flags)
        if student in intake.handins:
            intake.handins[student].flags.append(
                f"another hand-in for this student, {handin.name} in {source}, was not graded"
            )
            continue
        intake.handins[student] = handin
        intake.people.setdefault(student, _identity(student, "folders"))


def _add_missing(intake: Intake) -> None:
    """Roster students without a hand-in: every notebook missing (scores 0)."""
    if intake.roster is None:
        return
    unread = "; some sources could not be read, see the autograde output" if intake.problems else ""
    for person in intake.roster:
        if person.student_id in intake.handins:
            continue
        intake.missing.append(f"{person.student_id} ({person.name or 'no name'})")
        problem = f"no hand-in was received from {person.name or person.student_id}{unread}; every notebook scored 0"
        intake.handins[person.student_id] = HandIn(person.student_id, None, problem)
        intake.people[person.student_id] = _identity(person.student_id, "roster", person)


# --------------------------------------------------------------------------- Moodle worksheets


@dataclass(frozen=True)
class WorksheetRow:
    """One row of Moodle's offline grading worksheet."""

    participant_id: str
    full_name: str
    email: str
    timestamp: str | None  # "Last modified (submission)" as ISO 8601; None: none or unknown


_WORKSHEET_COLUMNS = {
    "participant": "identifier",
    "full_name": "full name",
    "email": "email address",
    "modified": "last modified (submission)",
}


def read_worksheets(
    paths: Sequence[Path], timezone_name: str | None, problems: list[str] | None = None
) -> dict[str, WorksheetRow]:
    """Participant id -> worksheet row, from every worksheet given (participant ids are unique
    across a Moodle site, so worksheets of several assignments can be given together).
    IntakeError for a file that is not a worksheet; times are read only with a time zone."""
    zone = None
    if timezone_name:
        try:
            zone = lms.zone(timezone_name)
        except ValueError as error:
            raise IntakeError(str(error)) from None
    rows: dict[str, WorksheetRow] = {}
    undated = 0
    for path in paths:
        for row in _worksheet_rows(Path(path)):
            when = row["modified"]
            moment = lms.parse_moodle_userdate(when, zone) if zone and when else None
            undated += bool(when.strip() not in ("", "-") and moment is None)
            pid = lms.moodle_participant_id(row["participant"])
            if pid:
                rows[pid] = WorksheetRow(
                    pid, row["full_name"], row["email"], lms.iso(moment) if moment else None
                )
    if undated and problems is not None:
        why = "no --timezone was given" if zone is None else "they could not be read"
        problems.append(f"{undated} hand-in times of the Moodle worksheets were not used: {why}")
    return rows


def _worksheet_rows(path: Path) -> list[dict[str, str]]:
    try:
        with _open_regular(path, MAX_WORKSHEET_BYTES) as file:
            data = file.read(MAX_WORKSHEET_BYTES + 1)
    except Exception as error:  # noqa: BLE001 - missing, a link, too large...
        raise IntakeError(
            f"cannot read the Moodle worksheet {_printable(str(path))}: {error}"
        ) from None
    text = data.decode("utf-8-sig", errors="replace").replace("\0", "")
    header = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text), delimiter=max(",;\t", key=header.count))
    table = list(reader)
    titles = [" ".join(t.split()).lower() for t in (table[0] if table else [])]
    if "identifier" not in titles:
        raise IntakeError(
            f"{_printable(str(path))} is not a Moodle offline grading worksheet (no Identifier "
            "column)\nhint: Moodle > the assignment > View all submissions > Grading action > "
            "Download grading worksheet"
        )
    index = {
        key: titles.index(title) if title in titles else None
        for key, title in _WORKSHEET_COLUMNS.items()
    }
    return [
        {
            key: (row[i].strip() if i is not None and i < len(row) else "")
            for key, i in index.items()
        }
        for row in table[1:]
    ]


# --------------------------------------------------------------------------- reading back


@dataclass(frozen=True)
class MoodleFolder:
    participant_id: str
    full_name: str
    folder: str  # "Jane Doe_55_assignsubmission_file_" as Moodle named it


@dataclass(frozen=True)
class Identity:
    """Who a student is in the LMS (``identities.json``, see the module's docstring)."""

    student_id: str
    lms: str  # canvas, moodle, exchange, folders or roster (on the roster, no hand-in)
    name: str = ""
    email: str = ""
    on_roster: bool = False
    canvas_id: str = ""
    canvas_name: str = ""
    moodle: dict[str, MoodleFolder] = field(default_factory=dict)  # assignment or "*"
    late: dict[str, bool] = field(default_factory=dict)
    timestamps: dict[str, str] = field(default_factory=dict)
    canvas_attachments: dict[str, str] = field(default_factory=dict)  # assignment -> file id

    def moodle_folder(self, assignment: str) -> MoodleFolder | None:
        """The Moodle participant folder of this assignment (or of the only download)."""
        return self.moodle.get(assignment) or self.moodle.get("*")


def read_identities(workdir: Path) -> dict[str, Identity]:
    """Student id -> Identity, as the last autograde recorded them; {} when it recorded
    none (a plain folder run)."""
    path = Path(workdir) / "received" / IDENTITIES
    if not path.exists():
        return {}
    students = json.loads(path.read_text(encoding="utf-8"))["students"]
    return {
        student: Identity(
            student_id=student,
            lms=who["lms"],
            name=who.get("name", ""),
            email=who.get("email", ""),
            on_roster=who.get("on_roster", False),
            canvas_id=who.get("canvas_id", ""),
            canvas_name=who.get("canvas_name", ""),
            moodle={a: MoodleFolder(**m) for a, m in who.get("moodle", {}).items()},
            late=dict(who.get("late", {})),
            timestamps=dict(who.get("timestamps", {})),
            canvas_attachments=dict(who.get("canvas_attachments", {})),
        )
        for student, who in students.items()
    }


def read_report(workdir: Path) -> dict:
    """What the last autograde detected and could not attribute; {} when it was a plain run."""
    path = Path(workdir) / "received" / REPORT
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


# --------------------------------------------------------------------------- helpers


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _write_json(path: Path, data) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(
        json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
    os.replace(partial, path)


__all__ = [
    "CLASS_BUDGET",
    "Identity",
    "Intake",
    "IntakeError",
    "MoodleFolder",
    "Origin",
    "Sources",
    "detect",
    "enrol",
    "finish",
    "gather",
    "read_identities",
    "read_report",
    "read_worksheets",
    "use_roster",
]

"""Hand-ins as the LMS delivers them: Canvas and Moodle downloads, nbgrader's exchange, or a
folder per student, turned into what grader.submissions receives, with who handed each in
and when. This module is the run: ``gather`` before matching, ``finish`` after. Its parts:

* grader/lms_downloads.py: what each source is, and Canvas and Moodle downloads unpacked
  into ``WORKDIR/received/``;
* grader/identities.py: the student id each hand-in is graded under, and the record of who
  is who in the LMS (``identities.json``) that export and feedback packing read back;
* grader/moodle_worksheet.py: Moodle's offline grading worksheet (e-mails, hand-in times).

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

* **Unpacked like any hand-in.** LMS downloads are unpacked, with grader.submissions'
  defences, into ``WORKDIR/received/{student id}/{label}/`` (grader/lms_downloads.py), and
  ``submissions.receive`` then reads ``received/`` as a folder per student (matching, renamed
  notebooks, duplicates: its rules).
* **Who.** A hand-in found on the roster (grader/roster.py) is graded under the roster's
  student id, else under an id made from the LMS's name (grader/identities.py), and the
  roster's people fill nbgrader's students table (``enrol``). A hand-in not on the roster is
  graded, flagged on each notebook and listed (``Intake.unknown``); a roster student without
  a hand-in gets every notebook as missing (0). Files whose names say nobody (not
  LMS-shaped) are listed, never graded under a made-up student.
* **When.** Each received folder keeps its hand-in time (``Origin.timestamp``; ISO 8601 with
  a UTC offset), and a notebook takes the time of the folder it was found in: the exchange's
  timestamp.txt, the Moodle worksheet's "Last modified (submission)" (read in ``--timezone``),
  none for Canvas, whose verdict goes to ``Submission.marked_late`` instead: True with its
  ``LATE`` marker, False without (grader/deadlines.py says what each means).

Two files are written under ``WORKDIR/received/`` when the run used an LMS, the exchange or a
roster: ``identities.json`` and ``intake.json`` (grader/identities.py says what they hold). A
run of plain folders without a roster removes ``received/``, so that nothing stale is read
later.

The roster given to autograde is kept as ``WORKDIR/roster.csv`` (``Course.roster()``); a later
run without ``--roster`` uses that copy, so that ids stay the same from run to run.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader import lms_formats as lms
from grader.identities import _identity, _moodle_entry, _note_graded, remove_records, write_records
from grader.lms_downloads import _DESCRIBED, Origin, _Collector, _listing, detect
from grader.roster import Person, Roster, read_roster
from grader.submissions import HandIn, Submission, _kind, _open_regular, _printable, receive

LMS_FORMATS = ("canvas", "moodle", "exchange", "folders")
MAX_SMALL_FILE = 64 * 2**10  # timestamp.txt


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
        if origin.lms == "canvas":  # Canvas's verdict, its only word on time: the deadlines
            sub.marked_late = origin.late  # say what it means (a time from [handed_in] wins)
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
    # here, not at the top: the worksheet module raises this module's IntakeError
    from grader.moodle_worksheet import read_worksheets

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
        remove_records(received)
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
    write_records(received, people, intake.report())


# --------------------------------------------------------------------------- source formats


def _format(path: Path, forced: str | None) -> tuple[str, str]:
    """(the format of a source, as ``--lms`` forces it or as detected; its description);
    IntakeError when the source cannot be used."""
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


def _flag_unknown(intake: Intake, handin: HandIn, who: str) -> None:
    intake.unknown.append(f"{who}: not on the roster, graded as {handin.student}")
    handin.flags.append(f"{who} is not on the roster; graded as {handin.student}")


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


# --------------------------------------------------------------------------- helpers


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


__all__ = [
    "Intake",
    "IntakeError",
    "Sources",
    "enrol",
    "finish",
    "gather",
    "use_roster",
]

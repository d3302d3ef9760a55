"""Who each hand-in is graded as, and the intake's record of it: the student ids given to the
people an LMS names, and ``identities.json`` and ``intake.json``, written after matching
(``finish`` in grader/intake.py) and read back by export and feedback packing.

**Student ids.** A hand-in is looked up on the roster (grader/roster.py) by Canvas user id,
else Canvas's squashed name; by Moodle e-mail (from an offline grading worksheet,
``--moodle-worksheet``), else full name; a folder by its name as a student id, e-mail or name.
A hand-in found on the roster is graded under the roster's student id. Without a roster, or
for a hand-in not on it, the id comes from the LMS: Canvas's name part ("doejane"), Moodle's
full name lower-cased with dashes ("jane-doe"), the folder's name; validated as
grader.submissions validates folder names, and made unique with the LMS id ("doejane-1234")
when two people would share one.

**The record.** Two files are written under ``WORKDIR/received/`` when the run used an LMS,
the exchange or a roster:

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
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader import lms_formats as lms
from grader.roster import Person, name_key
from grader.submissions import Submission, _printable, _student_id

if TYPE_CHECKING:
    from grader.intake import Intake
    from grader.lms_downloads import Origin
    from grader.moodle_worksheet import WorksheetRow

IDENTITIES = "identities.json"
REPORT = "intake.json"


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


# --------------------------------------------------------------------------- the record


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


def write_records(received: Path, people: dict[str, dict], report: dict) -> None:
    """Write ``identities.json`` (``people``: student id -> entry) and ``intake.json``."""
    received.mkdir(parents=True, exist_ok=True)
    _write_json(received / IDENTITIES, {"version": 1, "students": people})
    _write_json(received / REPORT, report)


def remove_records(received: Path) -> None:
    """Remove both files (a plain run): no earlier run's record is left for export or feedback
    to read."""
    for name in (IDENTITIES, REPORT):
        (received / name).unlink(missing_ok=True)


def _write_json(path: Path, data) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(
        json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True), encoding="utf-8"
    )
    os.replace(partial, path)


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


__all__ = [
    "IDENTITIES",
    "REPORT",
    "Identity",
    "MoodleFolder",
    "read_identities",
    "read_report",
    "remove_records",
    "slug",
    "write_records",
]

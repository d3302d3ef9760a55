"""The class list, read from the CSV an LMS exports: who each hand-in belongs to.

A roster maps the identities an LMS puts on hand-ins (Canvas user ids, Moodle names and
e-mails) to the course's student ids, and gives nbgrader's students table their names and
e-mails. Three layouts are recognised from their header row, whatever the column order:

* **Canvas gradebook export** (Grades > Export > CSV): ``Student`` ("Last, First"), ``ID``
  (the Canvas user id, also the number in bulk-download file names), ``SIS User ID``,
  ``SIS Login ID``, ``Section``, then one column per assignment. The row(s) under the header
  whose ``Student`` cell is ``Points Possible`` (or empty, as "read only" markers) are not
  students. Canvas's export has no e-mail column.
* **Moodle** participants or grades export: ``First name``, ``Last name`` (``Surname`` in older
  versions), ``ID number``, ``Email address``, ``Username`` (any of them may be missing).
* **A plain course roster**: ``student_id``, ``first_name``, ``last_name``, ``email``,
  ``canvas_id`` (and ``name``, ``section``).

Header names are matched case- and space-insensitively. A row's student id is, in order: the
``student_id`` column, the SIS User ID, Moodle's ID number, the SIS Login ID or username, the
Canvas id. It must be usable as a folder name (as in grader.submissions); a row without one, or
with one already taken, is left out and described in ``Roster.problems``. Files are read as
UTF-8 (with or without a BOM, as Excel writes it), else Windows-1252; commas, semicolons or tabs
as separators (Moodle writes what the site's locale says).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from grader.lms_formats import csv_delimiter, decode_csv
from grader.submissions import _invalid_id, _printable

MAX_ROSTER_BYTES = 20 * 2**20  # a class of thousands is a few hundred KB
MAX_SHOWN = 80  # characters of a cell quoted in a problem


class RosterError(ValueError):
    """The roster file cannot be used at all (missing, too large, no recognisable header)."""


@dataclass(frozen=True)
class Person:
    student_id: str  # the course's id: nbgrader's student id, folder and feedback names
    name: str = ""  # full name as the LMS shows it ("Jane Doe")
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    canvas_id: str = ""  # Canvas user id: the gradebook export's ID, the number in bulk names
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass
class Roster:
    people: list[Person] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # rows left out, for the instructor

    def __iter__(self) -> Iterator[Person]:
        return iter(self.people)

    def __len__(self) -> int:
        return len(self.people)

    def find(
        self,
        *,
        canvas_id: str | None = None,
        email: str | None = None,
        name: str | None = None,
        student_id: str | None = None,
    ) -> Person | None:
        """The person with this Canvas id or student id (exact), e-mail (any case) or full name
        ("Doe, Jane", "jane  DOE": only when exactly one person has it); None otherwise. The
        keys are tried in that order; the first that finds someone decides."""
        tries = (
            (canvas_id, lambda p: p.canvas_id == canvas_id.strip()),
            (student_id, lambda p: p.student_id == student_id.strip()),
            (email, lambda p: p.email.casefold() == email.strip().casefold()),
            (name, lambda p: name_key(name) in _name_keys(p)),
        )
        for key, matches in tries:
            if key and key.strip():
                found = [p for p in self.people if matches(p)]
                if len(found) == 1:
                    return found[0]
        return None


def name_key(name: str) -> str:
    """A full name compared loosely: Unicode-normalised, case-folded, words sorted ("Doe, Jane"
    and "jane doe" are the same key)."""
    text = unicodedata.normalize("NFKC", name).casefold().replace(",", " ")
    return " ".join(sorted(text.split()))


def _name_keys(person: Person) -> set[str]:
    names = {person.name, f"{person.first_name} {person.last_name}"}
    return {name_key(n) for n in names if n.strip()} - {""}


# --------------------------------------------------------------------------- reading


# Column -> the header names it goes by (compared lower-case, spaces squeezed).
COLUMNS = {
    "student_id": ("student_id", "student id"),
    "name": ("student", "name", "full name"),
    "first_name": ("first_name", "first name", "given name"),
    "last_name": ("last_name", "last name", "surname", "family name"),
    "email": ("email", "email address", "e-mail", "e-mail address"),
    "canvas_id": ("canvas_id", "id"),
    "sis_user_id": ("sis user id", "sis_user_id"),
    "id_number": ("id number", "idnumber"),
    "sis_login_id": ("sis login id", "sis_login_id", "username", "login id"),
    "section": ("section", "sections"),
}
# Where a row's student id comes from, first non-empty wins.
ID_SOURCES = ("student_id", "sis_user_id", "id_number", "sis_login_id", "canvas_id")


def read_roster(path: Path | str) -> Roster:
    """The roster in ``path``; RosterError when the file as a whole cannot be used."""
    path = Path(path)
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_ROSTER_BYTES + 1)
    except OSError as error:
        raise RosterError(f"cannot read the roster {path}: {error.strerror or error}") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise RosterError(
            f"the roster {path} is larger than {MAX_ROSTER_BYTES // 2**20} MB\n"
            "hint: export the class list as CSV from the LMS (Canvas: Grades > Export)"
        )
    return parse_roster(decode_csv(data), source=str(path))


def parse_roster(text: str, *, source: str = "the roster") -> Roster:
    rows = list(csv.reader(io.StringIO(text.replace("\0", "")), delimiter=csv_delimiter(text)))
    if not rows:
        raise RosterError(f"{source} is empty")
    columns = _columns(rows[0])
    if not set(columns) & {"student_id", "sis_user_id", "id_number", "sis_login_id", "canvas_id"}:
        raise RosterError(
            f"{source} has no column of student ids (its header: {_shown(', '.join(rows[0]))})\n"
            "hint: a Canvas gradebook export (Student, ID, SIS User ID, ...), a Moodle export "
            "(First name, Last name, ID number, Email address) or student_id,first_name,"
            "last_name,email"
        )
    roster = Roster()
    taken: set[str] = set()
    for number, row in enumerate(rows[1:], start=2):
        cells = {key: _clean(row[i]) if i < len(row) else "" for key, i in columns.items()}
        if _not_a_student(cells):
            continue
        person, problem = _person(cells)
        if problem is None and person.student_id in taken:
            problem = f"the student id {person.student_id} is already on an earlier row"
        if problem:
            roster.problems.append(f"{source}, row {number}: {problem}; the row was left out")
            continue
        taken.add(person.student_id)
        roster.people.append(person)
    return roster


def _columns(header: list[str]) -> dict[str, int]:
    """Our column name -> its index in the file (the first of equal names)."""
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = " ".join(title.replace("\ufeff", "").split()).lower()
        for column, aliases in COLUMNS.items():
            if key in aliases and column not in found:
                found[column] = index
    return found


def _clean(cell: str) -> str:
    """A cell as text: whitespace trimmed, control characters dropped (a roster is the LMS's,
    but it passes through people's spreadsheets)."""
    text = unicodedata.normalize("NFC", cell)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs")).strip()


# Canvas's "Student View" user, in every course's gradebook export ("Student, Test").
CANVAS_TEST_STUDENT = "student, test"


def _not_a_student(cells: dict[str, str]) -> bool:
    """Canvas's "Points Possible" row, its "(read only)" markers, its Test Student, blank
    rows."""
    name = cells.get("name", "").lower()
    return (
        name in ("points possible", CANVAS_TEST_STUDENT)
        or "read only" in name
        or not any(cells.values())
    )


def _person(cells: dict[str, str]) -> tuple[Person | None, str | None]:
    student_id = next((cells[c] for c in ID_SOURCES if cells.get(c)), "")
    if not student_id:
        return None, f"no student id ({_shown(cells.get('name') or cells.get('email') or '')})"
    reason = _invalid_id(student_id)
    if reason:
        return None, f'the student id "{_shown(student_id)}" cannot be used ({reason})'
    first, last = cells.get("first_name", ""), cells.get("last_name", "")
    name = cells.get("name", "")
    if name and not (first or last):
        first, last = _split_name(name)
    return Person(
        student_id=student_id,
        name=f"{first} {last}".strip() if (first or last) else name,
        first_name=first,
        last_name=last,
        email=cells.get("email", ""),
        canvas_id=cells.get("canvas_id", ""),
        sis_user_id=cells.get("sis_user_id", ""),
        sis_login_id=cells.get("sis_login_id", ""),
        section=cells.get("section", ""),
    ), None


def _split_name(name: str) -> tuple[str, str]:
    """Canvas writes "Last, First"; anything else is "First ... Last"."""
    if "," in name:
        last, first = name.split(",", 1)
        return first.strip(), last.strip()
    first, _, last = name.rpartition(" ")
    return (first, last) if first else ("", name)


def _shown(text: str) -> str:
    text = _printable(text)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


__all__ = ["Person", "Roster", "RosterError", "name_key", "parse_roster", "read_roster"]

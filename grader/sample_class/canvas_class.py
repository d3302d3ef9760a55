"""The sample class as a Canvas course hands it over, for ``make demo``'s round trip.

    from grader.sample_class.canvas_class import build_canvas

    course = build_canvas(Path("build/demo/canvas"))
    course.downloads   # one "Download Submissions" zip per Canvas assignment (a folder of them)
    course.gradebook   # Grades > Export: the roster going in, the template for the import going out
    course.deadlines   # due dates, the late policy, one extension, the two late hand-in times

The hand-ins are the sample class's (``build``: the same recipes, so the same expected grades),
repacked the way Canvas names them (grader/lms_formats.py): a zip per assignment, each file
``{name}_{LATE_}{user id}_{file id}_{file}``. ``hal`` uploads his own zip once, to the first
assignment; ``emi``'s renamed notebooks keep their names.

Lateness (``deadlines.toml`` beside this file): Canvas's zip says only *that* a hand-in was
late, never *when*, so the deadlines file gives the times, as an instructor copies them from
SpeedGrader into ``[handed_in]``. ``ada`` hands in 01 three hours late (one day started:
10 %); ``dan`` hands in 04 two and a half days late (three days started: 30 %); ``bob`` hands
in 02 a day late but has a two-day extension (no penalty). Canvas marks all three LATE: it
knows nothing of the course's extension.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from grader.deadlines import load_deadlines
from grader.release import assignments
from grader.sample_class import STUDENTS, build
from grader.sample_class.lms import (
    CanvasAssignment,
    CanvasGradebook,
    CanvasHandIn,
    Student,
    canvas_gradebook_export,
    canvas_zip,
)

# The sample students as Canvas knows them: the SIS User ID is the course's student id.
PEOPLE = {
    "ada": ("Ada", "Lovelace"),
    "bob": ("Bob", "Okafor"),
    "cy": ("Cy", "Nakamura"),
    "dan": ("Dan", "Ferreira"),
    "emi": ("Emi", "Schäfer"),
    "finn": ("Finn", "O'Brien"),
    "gus": ("Gus", "Van der Berg"),
    "hal": ("Hal", "Jansen"),
    "ivy": ("Ivy", "Chen"),
    "kim": ("Kim", "Park"),
    "mallory": ("Mallory", "Evans"),
}
FIRST_CANVAS_ID = 40001
FIRST_ASSIGNMENT_ID = 7001
# Due dates, the late policy, bob's extension, and the hand-in times Canvas does not give.
DEADLINES = Path(__file__).with_name("deadlines.toml")


def late_handins() -> dict[str, str]:
    """Student -> the assignment they handed in late (Canvas marks it LATE): the hand-ins the
    deadlines file gives a time for."""
    handed_in = load_deadlines(DEADLINES).handed_in_times
    return {student: assignment for student, times in handed_in.items() for assignment in times}


@dataclass
class CanvasCourse:
    downloads: Path  # a folder of Canvas "Download Submissions" zips, one per assignment
    gradebook: Path  # Canvas's gradebook export: the roster, and the import's template
    deadlines: Path  # deadlines.toml
    people: dict[str, Student]  # student id -> as Canvas knows them


def people() -> dict[str, Student]:
    return {
        sid: Student(
            first,
            last,
            canvas_id=FIRST_CANVAS_ID + i,
            sis_user_id=sid,
            sis_login_id=f"{sid}@uni.example",
            email=f"{sid}@uni.example",
            section="Autograd 2027",
        )
        for i, (sid, (first, last)) in enumerate(PEOPLE.items())
    }


def canvas_assignments() -> dict[str, CanvasAssignment]:
    """Our assignment -> its Canvas gradebook column ("Notebook 01: Scalars (7001)")."""
    return {
        name: CanvasAssignment(
            f"Notebook {name[:2]}: {name[3:].replace('_', ' ').title()}",
            FIRST_ASSIGNMENT_ID + i,
            points=100.0,
        )
        for i, name in enumerate(assignments())
    }


def build_canvas(dest: Path) -> CanvasCourse:
    dest = Path(dest)
    folders = build(dest / "class")  # the hand-ins, as a folder per student (and hal.zip)
    roster = people()
    columns = canvas_assignments()
    downloads = dest / "downloads"
    first_file_id = 90001
    late = late_handins()
    for number, (assignment, column) in enumerate(columns.items()):
        handins = [
            handin
            for student in STUDENTS
            if (handin := _handin(folders, student, assignment, number, roster[student], late))
        ]
        canvas_zip(
            downloads / f"{column.title} submissions.zip", handins, first_attachment=first_file_id
        )
        first_file_id += 100
    gradebook = canvas_gradebook_export(
        dest / "canvas-gradebook-export.csv",
        list(roster.values()),
        CanvasGradebook(list(columns.values())),
    )
    deadlines = dest / "deadlines.toml"
    shutil.copyfile(DEADLINES, deadlines)
    return CanvasCourse(downloads, gradebook, deadlines, roster)


def _handin(folders: Path, student: str, assignment: str, number: int, person: Student, late):
    """What ``student`` uploaded to ``assignment``'s Canvas assignment, or None."""
    zipped = folders / f"{student}.zip"
    if zipped.exists():  # an LMS zip of everything: uploaded once, to the first assignment
        files = [(zipped.name, zipped.read_bytes())] if number == 0 else []
    else:
        files = [
            (p.name, p.read_bytes()) for p in sorted((folders / student / assignment).glob("*"))
        ]
    if not files:
        return None
    return CanvasHandIn(
        person.name,
        int(person.canvas_id),
        files,
        late=late.get(student) == assignment,
        sortable_name=f"{person.last_name}, {person.first_name}",
    )


__all__ = [
    "DEADLINES",
    "PEOPLE",
    "CanvasCourse",
    "build_canvas",
    "canvas_assignments",
    "late_handins",
    "people",
]

"""grader.lms_export: grades into Canvas's and Moodle's import files; grader.feedback_pack:
feedback into their bulk-feedback layouts and nbgrader's exchange.

Round trips: the exports are built as the LMS builds them (grader/sample_class), filled in by
the export, and read back by a transcription of what the LMS's importer does with them (Canvas's
GradebookImporter, Moodle's assignfeedback_offline and assignfeedback_file importers: their
rules, quoted from their source, are in the docstrings of grader/lms_export.py and
grader/feedback_pack.py). The exchange's feedback is fetched by nbgrader's own
``ExchangeFetchFeedback``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import string
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_export import exercises, source_notebook

from grader.deadlines import load_deadlines
from grader.feedback_pack import Recipient, pack_feedback, recipients, submission_secret
from grader.gradebook import COURSE_ID, record
from grader.lms_export import (
    ExportError,
    Grade,
    assignment_of_worksheet,
    canvas_import,
    gradebook_grades,
    moodle_worksheet,
)
from grader.results import NotebookResult
from grader.roster import Person, Roster
from grader.sample_class.lms import (
    CanvasAssignment,
    CanvasGradebook,
    MoodleHandIn,
    Student,
    canvas_gradebook_export,
)
from grader.sample_class.lms import moodle_worksheet as moodle_worksheet_file

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

UTC = timezone.utc
SCALARS, DTYPES = "01_scalars", "02_dtypes"
JANE = Student("Jane", "Doe", canvas_id=1234, sis_user_id="S-1", sis_login_id="jdoe")
ANN = Student("Ann", "Smith", canvas_id=1235, sis_user_id="asmith", sis_login_id="ann")
BOB = Student("Bob", "Stone", canvas_id=1236, sis_user_id="S-3", sis_login_id="bob")
EVE = Student("Eve", '=HYPERLINK("http://x")', canvas_id=1237, sis_user_id="S-4")
CANVAS = CanvasGradebook(
    assignments=[
        CanvasAssignment("Notebook 01 – Scalars", 7001, 100.0),
        CanvasAssignment("Quiz 1", 7003, 10.0),
        CanvasAssignment("Notebook 02: dtypes", 7002, 5.0, manual_posting=True),
    ],
    scores={("1236", 7002): "3.00", ("1236", 7003): "8.00", ("1234", 7003): "9.50"},
    custom_columns={"Notes": {"1234": "=1+1", "1236": "ok"}},
)


# --------------------------------------------------------------------------- the grades


@pytest.fixture(scope="module")
def gradebook_db(tmp_path_factory) -> Path:
    """A gradebook (max 5 per assignment): jdoe 5 and 4, asmith 3 and late in 01 (1 point
    taken), mallory 2 in 01: recorded as the pipeline does."""
    folder = tmp_path_factory.mktemp("gradebook")
    deadlines = folder / "deadlines.toml"
    deadlines.write_text(
        f'[due]\n"*" = 2027-02-01T12:00:00+00:00\n[penalty]\npercent = 20\n'
        f'[canvas.columns]\n"{DTYPES}" = "7002"\n'
    )
    url = f"sqlite:///{folder / 'gradebook.db'}"
    on_time, late = "2027-02-01T11:00:00+00:00", "2027-02-01T13:00:00+00:00"
    for student, assignment, points, when in [
        ("jdoe", SCALARS, (2.0, 3.0), on_time),
        ("jdoe", DTYPES, (2.0, 2.0), on_time),
        ("asmith", SCALARS, (1.0, 3.0), late),
        ("asmith", DTYPES, (0.0, 3.0), on_time),
        ("mallory", SCALARS, (2.0, 0.0), on_time),
    ]:
        result = NotebookResult(student, assignment, "nb", exercises(*points))
        result.timestamp = when
        record(result, url, source_notebook(), deadlines=load_deadlines(deadlines))
    return folder / "gradebook.db"


@pytest.fixture(scope="module")
def grades(gradebook_db) -> dict:
    """The gradebook's grades, read back as the export does."""
    return gradebook_grades(f"sqlite:///{gradebook_db}", COURSE_ID)


def test_the_gradebook_gives_scores_after_the_penalty(grades):
    assert grades[("asmith", SCALARS)] == Grade("asmith", SCALARS, 4.0, 1.0, 5.0)
    assert grades[("asmith", SCALARS)].score == 3.0
    assert grades[("jdoe", DTYPES)].scaled(100) == 80.0
    assert len(grades) == 5


PEOPLE = {
    "jdoe": Recipient(canvas_id="1234", name="Jane Doe", email="jane@uni.example"),
    "asmith": Recipient(name="Ann Smith", email="ann@uni.example"),  # SIS User ID = asmith
    "mallory": Recipient(canvas_id="1237", name="Evil"),
}


# --------------------------------------------------------------------------- Canvas's importer


def canvas_reads(path: Path) -> dict:
    """What Canvas's GradebookImporter takes from a CSV: the assignments (id -> points
    possible, read only or not) and each student's grades (user id -> assignment id -> cell).
    A transcription of app/models/gradebook_importer.rb (parse!, process_header, header?,
    update_column_count, strip_non_assignment_columns, process_pp, check_for_non_student_row,
    identify_delimiter, csv_stream's converters)."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines()[:3]

    def fields(separator):
        counts = {len(next(csv.reader([line], delimiter=separator))) for line in lines}
        return counts.pop() if len(counts) == 1 else 0

    delimiter = ";" if fields(";") > fields(",") else ","
    rows = [
        [_decimal_comma(c) for c in row]
        for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        if not re.fullmatch(r"[;, ]*", delimiter.join(row))
    ]
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], "invalid header"
    columns = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        columns += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        columns += 2 + bool(re.search(r"Integration\s+ID", header[4]))
    assert "Section" in header[columns - 1], "invalid header: no Section"
    non_assignment = re.compile(
        "Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
        "Override Score|Override Grade|Override Status"
    )
    assignments = {}
    for index, title in enumerate(header[columns:], start=columns):
        if non_assignment.search(title):
            continue
        found = re.fullmatch(r"(.*)\s\((\d+)\)", title)
        assignments[found[2] if found else title] = {"index": index}
    students = {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            for info in assignments.values():
                cell = row[info["index"]]
                info["points"] = cell
                info["read_only"] = bool(re.search(r"read\s+only", cell))
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row):
            continue
        students[row[1]] = {a: (row[i["index"]].strip()) for a, i in assignments.items()}
    return {"header": header, "assignments": assignments, "students": students, "rows": rows}


def _decimal_comma(field: str) -> str:
    """csv_stream's decimal_comma_to_period converter."""
    if re.fullmatch(r"-?[0-9.,]+%?", field):
        *whole, last = re.split(r"[,.]", field)
        return f"{''.join(whole)}.{last}" if whole else last
    return field


def test_canvas_import_round_trip(grades, tmp_path):
    export = canvas_gradebook_export(tmp_path / "export.csv", [JANE, ANN, BOB, EVE], CANVAS)
    report = canvas_import(
        grades,
        export,
        tmp_path / "import.csv",
        people=PEOPLE,
        columns={DTYPES: "7002"},
    )
    canvas = canvas_reads(report.path)

    # only the student columns and ours: totals, custom columns, other assignments dropped
    assert canvas["header"] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "Notebook 01 – Scalars (7001)",
        "Notebook 02: dtypes (7002)",
    ]
    assert {a: i["points"] for a, i in canvas["assignments"].items()} == {
        "7001": "100.00",
        "7002": "5.00",
    }
    students = canvas["students"]
    assert students["1234"] == {"7001": "100", "7002": "4"}  # 5/5 scaled to 100 points
    assert students["1235"] == {"7001": "60", "7002": "3"}  # 4 - 1 late = 3/5 = 60/100
    assert students["1237"] == {"7001": "40", "7002": ""}  # no dtypes grade: cell as exported
    assert students["1236"] == {"7001": "", "7002": "3.00"}  # not ours: as exported
    assert students["99999"] == {"7001": "", "7002": ""}  # the Test Student, untouched
    assert report.filled == 5
    assert any("scaled from 5 to Canvas's 100" in n for n in report.notes)
    assert any("late policy" in n for n in report.notes)
    eve = next(row for row in canvas["rows"] if row[1] == "1237")
    assert eve[0].startswith("'") and not eve[0][1:].startswith("'")  # inert, quoted once


def test_an_import_changes_nothing_for_students_without_our_grades(grades, tmp_path):
    """Canvas compares every cell with the current score: ours differ only where we graded."""
    export = canvas_gradebook_export(tmp_path / "export.csv", [JANE, ANN, BOB, EVE], CANVAS)
    before = canvas_reads(export)["students"]
    report = canvas_import(
        grades, export, tmp_path / "i.csv", people=PEOPLE, columns={DTYPES: "7002"}
    )
    after = canvas_reads(report.path)["students"]
    changed = {
        (user, a) for user, cells in after.items() for a, cell in cells.items()
        if cell != before[user][a]
    }  # fmt: skip
    graded = {("1234", "7001"), ("1234", "7002"), ("1235", "7001"), ("1235", "7002")}
    assert changed == graded | {("1237", "7001")}


def test_canvas_s_semicolons_and_decimal_commas_are_kept(grades, tmp_path):
    export = canvas_gradebook_export(
        tmp_path / "export.csv", [JANE, ANN], CANVAS, delimiter=";", bom=False
    )
    export.write_text(export.read_text().replace("100.00", "100,00"))
    report = canvas_import(
        grades, export, tmp_path / "i.csv", people=PEOPLE, columns={DTYPES: "7002"}
    )
    text = report.path.read_text(encoding="utf-8")
    assert not text.startswith("\ufeff") and text.splitlines()[0].count(";") == 6
    assert canvas_reads(report.path)["students"]["1234"]["7001"] == "100"


def test_columns_are_found_by_name_id_or_mapping(grades, tmp_path):
    export = canvas_gradebook_export(tmp_path / "e.csv", [JANE], CANVAS)
    for mapping in (
        {DTYPES: "7002"},
        {DTYPES: "Notebook 02: dtypes"},
        {DTYPES: "notebook 02:  DTYPES (7002)"},
    ):
        report = canvas_import(grades, export, tmp_path / "i.csv", people=PEOPLE, columns=mapping)
        assert canvas_reads(report.path)["students"]["1234"]["7002"] == "4"
    # without a mapping "02_dtypes" needs the number and the name: "dtypes" alone is enough
    # here, as no other column says dtypes
    report = canvas_import(grades, export, tmp_path / "i.csv", people=PEOPLE)
    assert canvas_reads(report.path)["students"]["1234"]["7002"] == "4"


def test_an_assignment_without_a_column_or_with_two_is_refused_with_a_hint(grades, tmp_path):
    lonely = CanvasGradebook([CanvasAssignment("Scalars", 7001, 5.0)])
    export = canvas_gradebook_export(tmp_path / "e.csv", [JANE], lonely)
    with pytest.raises(ExportError) as caught:
        canvas_import(grades, export, tmp_path / "i.csv", people=PEOPLE)
    assert "no column for 02_dtypes" in str(caught.value) and "[canvas.columns]" in str(
        caught.value
    )
    # --assignment: export only what Canvas has
    report = canvas_import(grades, export, tmp_path / "i.csv", people=PEOPLE, assignments=[SCALARS])
    assert canvas_reads(report.path)["students"]["1234"] == {"7001": "5"}
    twice = CanvasGradebook(
        [CanvasAssignment("01 Scalars", 7001, 5.0), CanvasAssignment("01 scalars redo", 7009, 5.0)]
    )
    export = canvas_gradebook_export(tmp_path / "e.csv", [JANE], twice)
    with pytest.raises(ExportError, match="several columns for 01_scalars"):
        canvas_import(grades, export, tmp_path / "i.csv", people=PEOPLE, assignments=[SCALARS])
    report = canvas_import(
        grades, export, tmp_path / "i.csv", people=PEOPLE, assignments=[SCALARS],
        columns={SCALARS: "7009"},
    )  # fmt: skip
    assert canvas_reads(report.path)["students"]["1234"] == {"7009": "5"}


@pytest.mark.parametrize(
    "text",
    [
        "Name,Score\nJane,1\n",
        "Student,ID,SIS User ID,SIS Login ID,01 Scalars (1)\n",  # no Section
        "",
    ],
)
def test_what_is_not_a_canvas_export_is_refused_with_a_hint(grades, tmp_path, text):
    (tmp_path / "e.csv").write_text(text)
    with pytest.raises(ExportError) as caught:
        canvas_import(grades, tmp_path / "e.csv", tmp_path / "i.csv", people=PEOPLE)
    assert "\nhint: " in str(caught.value)
    assert not (tmp_path / "i.csv").exists()


def test_a_graded_student_missing_from_canvas_is_listed(grades, tmp_path):
    export = canvas_gradebook_export(tmp_path / "e.csv", [JANE], CANVAS)
    report = canvas_import(
        grades, export, tmp_path / "i.csv", people=PEOPLE, columns={DTYPES: "7002"}
    )
    assert any(
        "not found in the Canvas export" in n and "asmith, mallory" in n for n in report.notes
    )


# Whatever names and sections Canvas holds (students choose their display names).
CSV_SPECIALS = [",", ";", '"', "'", "\n", "\r\n", "=", "+", "-", "@", "\t", " ", "(1)"]
TEXTS = st.lists(
    st.one_of(
        st.sampled_from(CSV_SPECIALS),
        st.text(string.ascii_letters, min_size=1, max_size=5),
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=3),
    ),
    max_size=5,
).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.tuples(TEXTS, TEXTS, TEXTS), min_size=1, max_size=4))
def test_any_names_keep_every_row_and_grade_in_place(grades, names):
    people = [
        Student(first, last, canvas_id=2000 + i, sis_user_id=f"u{i}", section=section)
        for i, (first, last, section) in enumerate(names)
    ]
    graded = {f"u{i}": Recipient() for i in range(len(people))}
    marks = {
        (f"u{i}", SCALARS): Grade(f"u{i}", SCALARS, float(i), 0.0, 5.0) for i in range(len(people))
    }
    with tempfile.TemporaryDirectory() as folder:
        export = canvas_gradebook_export(Path(folder) / "e.csv", [JANE, *people], CANVAS)
        report = canvas_import(
            marks, export, Path(folder) / "i.csv", people=graded, assignments=[SCALARS]
        )
        canvas = canvas_reads(report.path)
    assert len(canvas["students"]) == len(people) + 2  # Jane and the Test Student too
    for i in range(len(people)):
        assert canvas["students"][str(2000 + i)] == {"7001": str(i * 20)}
    for row in canvas["rows"][2:]:
        for cell in (row[0], row[4]):
            assert len(cell) < 2 or not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


# --------------------------------------------------------------------------- Moodle's importer


def moodle_reads(path: Path, current: dict[str, str] | None = None) -> dict:
    """What Moodle's offline grading import does with a worksheet: participant id -> the grade
    it would set and the feedback comment, for the rows it does not skip. A transcription of
    assignfeedback_offline_grade_importer (init, next) and process_import_grades (skips)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    columns = rows[0]
    index = {name: columns.index(name) for name in columns}
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        assert required in index, "invalidgradeimport"
    imported = {}
    for row in rows[1:]:
        participant = row[index["Identifier"]][len("Participant ") :]
        grade = row[index["Grade"]].replace(",", ".")
        maximum = float(row[index["Maximum Grade"]].replace(",", "."))
        if grade == (current or {}).get(participant) or grade == "" or float(grade) < 0:
            continue  # unchanged, or no value
        if float(grade) > maximum:
            continue  # out of range
        imported[participant] = (grade, row[index["Feedback comments"]])
    return imported


MOODLE_WORKSHEET = [
    MoodleHandIn(
        "Jane Doe", 55, {}, email="jane@uni.example", submitted=datetime(2027, 2, 1, 11, tzinfo=UTC)
    ),
    MoodleHandIn("Ann Smith", 56, {}, email="ANN@uni.example", feedback="Nice plots!"),
    MoodleHandIn("Bob Stone", 57, {}, email="bob@uni.example", grade="7.00"),
    MoodleHandIn("Evil", 58, {}, email="@SUM(1+1)"),
]
MOODLE_PEOPLE = {
    "jdoe": Recipient(moodle={SCALARS: {"participant_id": "55"}}, name="Jane Doe"),
    "asmith": Recipient(name="Ann Smith", email="ann@uni.example"),  # by e-mail
    "mallory": Recipient(name="evil"),  # by full name
}


def test_moodle_worksheet_round_trip(grades, tmp_path):
    worksheet = moodle_worksheet_file(
        tmp_path / "Grades-AUTOGRAD-01 Scalars-42.csv", MOODLE_WORKSHEET, UTC, max_grade=10.0
    )
    report = moodle_worksheet(
        grades, worksheet, tmp_path / "out.csv", assignment=SCALARS, people=MOODLE_PEOPLE
    )
    imported = moodle_reads(report.path)
    assert imported == {
        "55": (
            "10.00",
            "Autograded: 5 / 5 points (= 10.00 / 10). See the feedback file for each exercise.",
        ),
        "56": ("6.00", "Nice plots!"),  # 4 - 1 for lateness = 3/5: 6/10; her comment kept
        "57": ("7.00", ""),  # not ours: as downloaded (Moodle skips it as unchanged)
        "58": (
            "4.00",
            "Autograded: 2 / 5 points (= 4.00 / 10). See the feedback file for each exercise.",
        ),
    }
    assert report.filled == 3
    before = list(csv.reader(io.StringIO(worksheet.read_text())))
    after = list(csv.reader(io.StringIO(report.path.read_text())))
    assert [row[0] for row in after] == [row[0] for row in before]  # every row, same order
    modified = before[0].index("Last modified (grade)")
    assert [row[modified] for row in after] == [row[modified] for row in before]
    assert after[4][2] == "'@SUM(1+1)"  # the e-mail cell is inert; ids and grades are not touched


def test_a_comment_of_ours_is_replaced_and_a_late_one_says_so(grades, tmp_path):
    rows = [MoodleHandIn("Ann Smith", 56, {}, email="ann@uni.example", feedback="Autograded: old")]
    worksheet = moodle_worksheet_file(tmp_path / "w.csv", rows, UTC, max_grade=5.0)
    report = moodle_worksheet(
        grades, worksheet, tmp_path / "o.csv", assignment=SCALARS, people=MOODLE_PEOPLE
    )
    assert moodle_reads(report.path)["56"] == (
        "3.00",
        "Autograded: 4 / 5 points, minus 1 for lateness. See the feedback file for each exercise.",
    )


def test_a_grade_moodle_will_not_change_is_left_and_listed(grades, tmp_path):
    worksheet = moodle_worksheet_file(tmp_path / "w.csv", MOODLE_WORKSHEET[:1], UTC)
    worksheet.write_text(worksheet.read_text().replace(",Yes,", ",No,"))
    report = moodle_worksheet(
        grades, worksheet, tmp_path / "o.csv", assignment=SCALARS, people=MOODLE_PEOPLE
    )
    assert moodle_reads(report.path) == {}
    assert any("cannot be changed" in note for note in report.notes)
    assert any("asmith, mallory" in note for note in report.notes)  # graded, not in the sheet


def test_what_is_not_a_worksheet_is_refused_with_a_hint(grades, tmp_path):
    (tmp_path / "w.csv").write_text("Identifier,Full name,Grade\nParticipant 1,Jane,\n")
    with pytest.raises(ExportError, match="Last modified \\(grade\\)") as caught:
        moodle_worksheet(
            grades, tmp_path / "w.csv", tmp_path / "o.csv", assignment=SCALARS, people={}
        )
    assert "Download grading worksheet" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Grades-AUTOGRAD-01 Scalars-42.csv", SCALARS),
        ("Grades-AUTOGRAD-Notebook 2: dtypes-43.csv", DTYPES),
        ("Grades-AUTOGRAD-dtypes-43.csv", DTYPES),
    ],
)
def test_the_worksheet_s_name_says_its_assignment(name, expected):
    assert assignment_of_worksheet(Path(name), [SCALARS, DTYPES, "03_matrices"]) == expected


def test_a_worksheet_name_that_says_nothing_needs_assignment():
    with pytest.raises(ExportError, match="--assignment"):
        assignment_of_worksheet(Path("Grades-AUTOGRAD-Homework-44.csv"), [SCALARS, DTYPES])


# --------------------------------------------------------------------------- feedback files


def moodle_accepts(entry: str, participants: set[str]) -> tuple[str, str] | None:
    """assignfeedback_file_zip_importer::is_valid_filename_for_import: (participant id, file
    name as stored), or None when Moodle ignores the entry."""
    name = entry.rsplit("/", 1)[-1]
    if entry.endswith("/") or name.startswith((".", "~")):
        return None
    parts = entry.split("/")
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) < 4 or not info[1].isdigit() or info[1].lstrip("0") not in participants:
            continue
        if (info[2], info[3]) not in {("assignsubmission", "file"), ("assignfeedback", "file")}:
            continue
        return info[1].lstrip("0"), "/".join([info[4] if len(info) > 4 else "", *parts])
    return None


def page_results(folder: Path, students: list[str]) -> list[NotebookResult]:
    """A feedback page for each student in 01_scalars, as `feedback` writes them."""
    results = []
    for student in students:
        page = folder / student / SCALARS / "nb.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(f"<html>feedback of {student}</html>")
        results.append(NotebookResult(student, SCALARS, "nb"))
    return results


def test_packs_for_moodle_canvas_and_the_exchange(tmp_path):
    results = page_results(tmp_path / "feedback", ["jdoe", "asmith", "mallory", "nobody"])
    people = {
        "jdoe": Recipient(
            canvas_id="1234",
            moodle={
                SCALARS: {"participant_id": "55", "folder": "Jane Doe_55_assignsubmission_file_"}
            },
        ),
        "asmith": Recipient(
            canvas_id="1235", moodle={"*": {"participant_id": "56"}}, name="Ann Smith"
        ),
        "mallory": Recipient(
            moodle={SCALARS: {"participant_id": "58", "folder": "../../etc_58_x"}}
        ),
    }
    submitted = tmp_path / "submitted"
    for student, secret in [("jdoe", "a1" * 64), ("asmith", "b2" * 64)]:
        (submitted / student / SCALARS).mkdir(parents=True)
        (submitted / student / SCALARS / "submission_secret.txt").write_text(secret)
    (submitted / "mallory" / SCALARS).mkdir(parents=True)  # handed in, but no secret
    report = pack_feedback(
        results, tmp_path / "feedback", tmp_path / "packed", people,
        course_id=COURSE_ID, exchange_submitted=submitted,
    )  # fmt: skip

    with zipfile.ZipFile(tmp_path / "packed" / "moodle" / f"{SCALARS}.zip") as archive:
        names = archive.namelist()
        assert names == [  # by student id
            "Ann Smith_56_assignsubmission_file_/nb-feedback.html",
            "Jane Doe_55_assignsubmission_file_/nb-feedback.html",
            ".. .. etc_58_x/nb-feedback.html",
        ]
        assert archive.read(names[1]) == b"<html>feedback of jdoe</html>"
    accepted = [moodle_accepts(n, {"55", "56", "58"}) for n in names]
    # the name Moodle stores, as its own test expects ("/some_path/My File.txt")
    assert accepted[:2] == [("56", "/nb-feedback.html"), ("55", "/nb-feedback.html")]
    assert accepted[2] is None  # a folder that is not Moodle's: Moodle ignores it, nothing leaks
    for name in names:
        assert not name.startswith("/") and ".." not in name.split("/")

    with zipfile.ZipFile(tmp_path / "packed" / "canvas" / SCALARS / "1235.zip") as archive:
        assert archive.namelist() == ["nb-feedback.html"]
        assert archive.read("nb-feedback.html") == b"<html>feedback of asmith</html>"
    assert sorted(p.name for p in (tmp_path / "packed" / "canvas" / SCALARS).iterdir()) == [
        "1234.zip",
        "1235.zip",
    ]
    assert report.left_out == [
        f"moodle/{SCALARS}.zip: nobody (no Moodle participant id)",
        f"canvas/{SCALARS}/: mallory, nobody (no Canvas user id)",
        # nobody handed nothing in through the exchange: nothing to fetch, not listed
        f"exchange: mallory/{SCALARS} (no submission_secret.txt under {submitted})",
    ]


def test_nbgrader_fetch_feedback_finds_the_exchange_pages(tmp_path, monkeypatch):
    """The student's side: nbgrader's own ExchangeFetchFeedback, with the submission secret in
    the student's cache (as `nbgrader submit` leaves it), finds and copies our page."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchFeedback

    results = page_results(tmp_path / "feedback", ["jdoe"])
    secret = "c3" * 64
    submitted = tmp_path / "submitted"
    (submitted / "jdoe" / SCALARS).mkdir(parents=True)
    (submitted / "jdoe" / SCALARS / "submission_secret.txt").write_text(secret)
    packed = tmp_path / "packed"
    pack_feedback(
        results, tmp_path / "feedback", packed, {}, course_id=COURSE_ID,
        exchange_submitted=submitted,
    )  # fmt: skip

    timestamp = "2027-02-01 11:00:00.000000 UTC"
    cache = tmp_path / "cache" / COURSE_ID / f"jdoe+{SCALARS}+{timestamp}"
    cache.mkdir(parents=True)
    (cache / "nb.ipynb").write_text("{}")
    (cache / "submission_secret.txt").write_text(secret)
    coursedir = CourseDirectory(course_id=COURSE_ID, assignment_id=SCALARS, student_id="jdoe")
    fetch = ExchangeFetchFeedback(
        coursedir=coursedir,
        root=str(packed / "exchange"),
        cache=str(tmp_path / "cache"),
        assignment_dir=str(tmp_path / "home"),
    )
    fetch.start()
    fetched = tmp_path / "home" / SCALARS / "feedback" / timestamp / "nb.html"
    assert fetched.read_text() == "<html>feedback of jdoe</html>"


def test_a_secret_is_read_only_from_a_small_regular_file(tmp_path):
    folder = tmp_path / "submitted" / "jdoe" / SCALARS
    folder.mkdir(parents=True)
    (tmp_path / "elsewhere.txt").write_text("stolen")
    (folder / "submission_secret.txt").symlink_to(tmp_path / "elsewhere.txt")
    assert submission_secret(tmp_path / "submitted", "jdoe", SCALARS) is None
    assert submission_secret(tmp_path / "submitted", "..", SCALARS) is None
    (folder / "submission_secret.txt").unlink()
    (folder / "submission_secret.txt").write_text("x" * 5000)
    assert submission_secret(tmp_path / "submitted", "jdoe", SCALARS) is None
    (folder / "submission_secret.txt").write_text("d4" * 64)
    assert submission_secret(tmp_path / "submitted", "jdoe", SCALARS) == "d4" * 64


def test_no_layout_is_written_for_an_lms_nobody_came_from(tmp_path):
    results = page_results(tmp_path / "feedback", ["jdoe"])
    report = pack_feedback(results, tmp_path / "feedback", tmp_path / "packed", {}, course_id="c")
    assert report.written == [] and report.left_out == []
    exchange = {"jdoe": Recipient(lms="exchange")}
    report = pack_feedback(
        results, tmp_path / "feedback", tmp_path / "packed", exchange, course_id="c"
    )
    assert report.left_out and "--submitted" in report.left_out[0]


# --------------------------------------------------------------------------- recipients


def test_recipients_join_the_intake_s_record_and_the_roster(tmp_path):
    received = tmp_path / "received"
    received.mkdir()
    (received / "identities.json").write_text(
        json.dumps(
            {
                "version": 1,
                "students": {
                    "jdoe": {
                        "lms": "moodle",
                        "name": "Jane Doe",
                        "moodle": {
                            SCALARS: {
                                "participant_id": "55",
                                "full_name": "Jane Doe",
                                "folder": "Jane Doe_55_assignsubmission_file_",
                            }
                        },
                    }
                },
            }
        )
    )
    roster = Roster(
        [
            Person("jdoe", name="Jane Doe", email="jane@uni.example", canvas_id="1234"),
            Person("asmith", name="Ann Smith", canvas_id="1235"),
        ]
    )
    found = recipients(tmp_path, roster)
    assert found["jdoe"].moodle_for(SCALARS)["participant_id"] == "55"
    assert found["jdoe"].canvas_id == "1234" and found["jdoe"].email == "jane@uni.example"
    assert found["asmith"] == Recipient(canvas_id="1235", name="Ann Smith", lms="roster")
    assert recipients(tmp_path / "nothing") == {}


# --------------------------------------------------------------------------- the command line


def test_the_export_command_writes_canvas_and_moodle_files(gradebook_db, tmp_path, capsys):
    """``python -m grader export --format canvas|moodle`` on a work folder."""
    from grader.__main__ import main

    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "gradebook.db").write_bytes(gradebook_db.read_bytes())
    (workdir / "deadlines.toml").write_text(f'[canvas.columns]\n"{DTYPES}" = "7002"\n')
    export = canvas_gradebook_export(tmp_path / "canvas.csv", [JANE, ANN], CANVAS)
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "student_id,first_name,last_name,email,canvas_id\n"
        "jdoe,Jane,Doe,,1234\nasmith,Ann,Smith,ann@uni.example,\n"
    )
    (workdir / "roster.csv").write_text(roster.read_text())

    def export_command(*options: str) -> int:
        return main(["--workdir", str(workdir), "export", *options])

    assert export_command("--format", "canvas", "--gradebook", str(export)) == 0
    written = canvas_reads(workdir / "exports" / "canvas-import.csv")["students"]
    assert written["1234"] == {"7001": "100", "7002": "4"}
    assert written["1235"] == {"7001": "60", "7002": "3"}  # SIS User ID asmith

    worksheet = moodle_worksheet_file(
        tmp_path / "Grades-X-01 Scalars-9.csv", MOODLE_WORKSHEET[:2], UTC, max_grade=5.0
    )
    assert export_command("--format", "moodle", "--worksheet", str(worksheet)) == 0
    assert moodle_reads(workdir / "exports" / f"moodle-{SCALARS}.csv")["56"][0] == "3.00"

    assert export_command("--format", "canvas") == 2
    assert "--gradebook" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_text("nonsense\n")
    assert export_command("--format", "canvas", "--gradebook", str(tmp_path / "bad.csv")) == 2
    assert "hint:" in capsys.readouterr().out


def test_the_feedback_command_packs_after_writing_the_pages(tmp_path, capsys):
    """``python -m grader feedback --pack`` on results of the real course (its notebooks give
    the pages' titles), reached through the roster's Canvas ids."""
    from grader.__main__ import main

    workdir = tmp_path / "work"
    for student in ("jdoe", "nobody"):
        result = NotebookResult(student, SCALARS, "scalars", [])
        result.timestamp = (datetime(2027, 2, 1, tzinfo=UTC) + timedelta(hours=1)).isoformat()
        path = workdir / "autograded" / student / SCALARS / "scalars.json"
        path.parent.mkdir(parents=True)
        path.write_text(result.to_json())
    (workdir / "roster.csv").write_text(
        "student_id,first_name,last_name,canvas_id\njdoe,Jane,Doe,1234\n"
    )
    assert main(["--workdir", str(workdir), "feedback", "--pack"]) == 0
    out = capsys.readouterr().out
    with zipfile.ZipFile(workdir / "feedback_packed" / "canvas" / SCALARS / "1234.zip") as archive:
        assert "Feedback: 01_scalars / scalars" in archive.read("scalars-feedback.html").decode()
    assert "left out of canvas/01_scalars/: nobody (no Canvas user id)" in " ".join(out.split())


# --------------------------------------------------------------------------- any file

HEADER_PIECES = st.sampled_from(
    [
        "Student,ID,SIS User ID,SIS Login ID,Section,01 Scalars (7001)\n",
        "    Points Possible,,,,,5.00\n",
        "Identifier,Full name,Grade,Maximum Grade,Last modified (grade),Feedback comments\n",
        "Participant 55,Jane,,5.00,-,\n",
        "Participant 55,Jane,,5.00,-,,=cmd,more\n",  # longer than the header
        '"Doe, Jane",1234,S-1,jdoe,A,\n',
        "\r",
        '"',
        ";",
        "\x00",
        "x" * 200_000,
    ]
)
ANY_FILE = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(HEADER_PIECES, st.text(max_size=20)), max_size=8).map(
        lambda parts: "".join(parts).encode("utf-8", "surrogatepass")
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=ANY_FILE)
def test_any_file_exports_or_says_why(grades, data):
    """Whatever file the instructor passes: a written import, or an ExportError with a hint."""
    with tempfile.TemporaryDirectory() as folder:
        given_file = Path(folder) / "given.csv"
        given_file.write_bytes(data)
        for export in (
            lambda out: canvas_import(grades, given_file, out, people=PEOPLE),
            lambda out: moodle_worksheet(
                grades, given_file, out, assignment=SCALARS, people=MOODLE_PEOPLE
            ),
        ):
            out = Path(folder) / "out.csv"
            try:
                export(out)
            except ExportError as error:
                assert "\nhint: " in str(error)
                assert not out.exists()
            else:
                assert out.exists()
                out.unlink()


def canvas_comment_context(file_name: str) -> tuple[str, str] | None:
    """Assignment#infer_comment_context_from_filename (Re-Upload Submissions): the user id and
    the submission file id Canvas reads from a file name (the first two all-digit parts)."""
    parts = file_name.rsplit("/", 1)[-1].split("_")
    ids = [p for p in parts if re.fullmatch(r"\d+", p)][:2]
    if len(ids) < 2 or parts[-1].startswith("link") or file_name.startswith("._"):
        return None
    return ids[0], ids[1]


def test_canvas_reupload_names_each_page_after_the_graded_upload(tmp_path):
    """With the Canvas file ids the intake recorded, one zip Canvas's "Re-Upload Submissions"
    turns into a comment on each student's submission."""
    results = page_results(tmp_path / "feedback", ["jdoe", "asmith", "x9", "y8"])
    received = tmp_path / "work" / "received"
    received.mkdir(parents=True)
    students = {
        "jdoe": {"lms": "canvas", "canvas_id": "1234", "canvas_name": "doejane",
                 "canvas_attachments": {SCALARS: "1003"}},
        "asmith": {"lms": "canvas", "canvas_id": "1235", "canvas_name": "",
                   "name": "Ann Smith", "canvas_attachments": {SCALARS: "1007"}},
        "x9": {"lms": "canvas", "canvas_id": "1236", "canvas_name": "42",
               "canvas_attachments": {SCALARS: "1010"}},
        "y8": {"lms": "canvas", "canvas_id": "1237", "canvas_attachments": {SCALARS: "x"}},
    }  # fmt: skip
    (received / "identities.json").write_text(json.dumps({"version": 1, "students": students}))
    people = recipients(tmp_path / "work")
    pack_feedback(results, tmp_path / "feedback", tmp_path / "packed", people, course_id="c")
    with zipfile.ZipFile(tmp_path / "packed" / "canvas" / f"{SCALARS}-reupload.zip") as archive:
        names = archive.namelist()
        assert names == [
            "annsmith_1235_1007_nb-feedback.html",
            "doejane_1234_1003_nb-feedback.html",
            "student_1236_1010_nb-feedback.html",  # a name of digits would pass for the id
        ]  # y8's file id is not a number: not in the zip (its own zip is)
        assert archive.read(names[1]) == b"<html>feedback of jdoe</html>"
    assert [canvas_comment_context(n) for n in names] == [
        ("1235", "1007"),
        ("1234", "1003"),
        ("1236", "1010"),
    ]
    assert (tmp_path / "packed" / "canvas" / SCALARS / "1237.zip").exists()

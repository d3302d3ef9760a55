"""grader.roster: class lists as Canvas, Moodle and a plain CSV export them."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.roster import Person, RosterError, name_key, parse_roster, read_roster

# A Canvas gradebook export (Grades > Export): a Points Possible row under the header, names as
# "Last, First", assignment columns named "Title (assignment id)".
CANVAS_EXPORT = """\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,01 Scalars (5501),Current Score
    Points Possible,,,,,20.00,(read only)
"Lovelace, Ada",40001,s1001,ada@uni.example,Autograd 2027,,
"Okafor, Chidi",40002,,chidi@uni.example,Autograd 2027,12.00,
"Müller, Jürgen",40003,s1003,jm@uni.example,Autograd 2027,,
"Student, Test",40999,,,Autograd 2027,,
"Newman, Test",40998,,,Autograd 2027,,
"""

# Moodle's participants/grades export: ; in locales where , is the decimal point.
MOODLE_EXPORT = """First name;Surname;ID number;Email address;Department
Ada;Lovelace;s1001;ADA@uni.example;CS
Grace;Hopper;s1002;grace@uni.example;CS
"""


def test_canvas_gradebook_export():
    roster = parse_roster(CANVAS_EXPORT)
    # Canvas's Test Student is not a student; anyone else without a SIS id goes by login or id.
    assert [p.student_id for p in roster] == ["s1001", "chidi@uni.example", "s1003", "40998"]
    ada = roster.find(canvas_id="40001")
    assert ada == Person(
        student_id="s1001",
        name="Ada Lovelace",
        first_name="Ada",
        last_name="Lovelace",
        canvas_id="40001",
        sis_user_id="s1001",
        sis_login_id="ada@uni.example",
        section="Autograd 2027",
    )
    assert roster.find(name="Jürgen Müller").canvas_id == "40003"
    assert roster.find(name="müller,  JÜRGEN").canvas_id == "40003"
    assert roster.problems == []


def test_moodle_export_with_semicolons():
    roster = parse_roster(MOODLE_EXPORT)
    assert len(roster) == 2
    assert roster.find(email="ada@UNI.example").student_id == "s1001"
    assert roster.find(name="Grace Hopper").email == "grace@uni.example"


def test_plain_roster_and_row_problems(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text(
        "student_id,first_name,last_name,email,canvas_id\n"
        "ada,Ada,Lovelace,ada@x,1\n"
        "ada,Ada,Again,ada2@x,2\n"
        "a/b,Eve,Il,eve@x,3\n"
        ",No,Id,,\n"
    )
    roster = read_roster(path)
    assert [p.student_id for p in roster] == ["ada"]
    assert len(roster.problems) == 3
    assert "row 3" in roster.problems[0] and "already" in roster.problems[0]
    assert "row 4" in roster.problems[1] and "path separator" in roster.problems[1]
    assert "row 5" in roster.problems[2] and "no student id" in roster.problems[2]


def test_ambiguous_names_match_nobody():
    roster = parse_roster("student_id,name\na,Sam Lee\nb,Lee Sam\n")
    assert roster.find(name="Sam Lee") is None
    assert roster.find(student_id="b").name == "Lee Sam"


def test_unusable_files_raise_a_clear_error(tmp_path):
    with pytest.raises(RosterError, match="cannot read"):
        read_roster(tmp_path / "missing.csv")
    (tmp_path / "grades.csv").write_text("Name,Score\nAda,3\n")
    with pytest.raises(RosterError, match="no column of student ids") as error:
        read_roster(tmp_path / "grades.csv")
    assert "hint:" in str(error.value)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(RosterError, match="empty"):
        read_roster(tmp_path / "empty.csv")


def test_windows_1252_files_are_read(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("student_id;name\nz1;Zoë Ünal\n".encode("cp1252"))
    assert read_roster(path).find(student_id="z1").name == "Zoë Ünal"


cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(cells, cells, cells, cells), max_size=8))
def test_any_cells_give_usable_ids_or_problems(rows):
    """Whatever the cells hold, every person has a safe, unique id and every other data row is
    a problem: no row is lost silently, nothing raises."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Student", "ID", "SIS User ID", "Email"])
    writer.writerows(rows)
    roster = parse_roster(buffer.getvalue())
    ids = [p.student_id for p in roster]
    assert len(ids) == len(set(ids))
    for sid in ids:
        assert sid and "/" not in sid and "\\" not in sid and not sid.startswith(".")
    assert len(roster) + len(roster.problems) <= len(rows)


@given(st.lists(st.text(st.characters(categories=("L",)), min_size=1, max_size=8), min_size=1))
def test_name_key_ignores_order_case_and_commas(words):
    name = " ".join(words)
    assert name_key(name) == name_key(", ".join(reversed(words))) == name_key(name.casefold())

"""`make demo`'s round trip with real kernels: the sample class arrives as Canvas downloads with
Canvas's gradebook export as the roster and a deadlines file (two late hand-ins, one
extension); grades.csv, the Canvas import file, the packed feedback and the plots come out."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from sandbox_marks import needs_sandbox

from grader import pipeline
from grader.execute import read
from grader.sample_class import STUDENTS, expected
from grader.sample_class.canvas_class import canvas_assignments, late_handins, people
from grader.sandbox import Limits

pytestmark = [pytest.mark.slow, needs_sandbox]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from grader.__main__ import round_trip

    course = pipeline.Course(
        workdir=tmp_path_factory.mktemp("demo"),
        limits=Limits(cell_timeout=5, notebook_timeout=120),
        figures=False,
    )
    pipeline.release(course, generate=False, log=lambda *a: None)
    status = round_trip(course, workers=2)
    return course, status


def raw_points(student: str, assignment: str) -> tuple[float, float]:
    source = read(pipeline.Course().source_path(assignment))
    max_points = sum(
        float(c.metadata["nbgrader"].get("points", 0))
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade")
        and not c.metadata["nbgrader"].get("solution")
    )
    return expected(student, assignment, source)["points"], max_points


def penalty_percent(student: str, assignment: str) -> float:
    """The demo's story, from its deadlines file: ada 3 h late (10 %), dan 2.5 days (30 %)."""
    return {("ada", "01_scalars"): 10.0, ("dan", "04_derivatives"): 30.0}.get(
        (student, assignment), 0.0
    )


def test_the_demo_flags_the_planted_faults(demo):
    _, status = demo
    assert status == 1  # the sample class's faults need the instructor's attention


def test_grades_csv_holds_due_dates_hand_in_times_and_penalties(demo):
    course, _ = demo
    rows = list(csv.DictReader(io.StringIO((course.workdir / "grades.csv").read_text())))
    assert {r["student_id"] for r in rows} == set(STUDENTS)  # Canvas's Test Student is not
    assert all(r["duedate"] for r in rows)
    late = late_handins()
    for row in rows:
        student, assignment = row["student_id"], row["assignment"]
        raw, max_points = raw_points(student, assignment)
        penalty = round(max_points * penalty_percent(student, assignment) / 100, 6)
        assert float(row["raw_score"]) == pytest.approx(raw), (student, assignment)
        assert float(row["late_submission_penalty"]) == pytest.approx(penalty)
        assert float(row["score"]) == pytest.approx(max(0.0, raw - penalty))
        # Canvas gives no times; the deadlines file gives the three late ones' times.
        assert bool(row["timestamp"]) == (late.get(student) == assignment), (student, assignment)
        assert (row["first_name"], row["last_name"]) == (
            people()[student].first_name,
            people()[student].last_name,
        )


def test_the_canvas_import_file_has_every_student_scaled_to_points_possible(demo):
    course, _ = demo
    text = (course.workdir / "exports" / "canvas-import.csv").read_text(encoding="utf-8-sig")
    header, possible, *rows = list(csv.reader(io.StringIO(text)))
    columns = canvas_assignments()
    assert header == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        *(f"{c.title} ({c.id})" for c in columns.values()),
    ]
    assert possible[0].strip() == "Points Possible"
    by_sis = {row[2]: row for row in rows if row[2]}
    assert set(by_sis) == set(STUDENTS)
    # Canvas's Test Student keeps the export's row, its grade cells blank: "no change".
    (test_student,) = [row for row in rows if not row[2]]
    assert test_student[0] == "Student, Test" and not any(test_student[5:])
    for student, row in by_sis.items():
        assert row[1] == str(people()[student].canvas_id)
        for index, assignment in enumerate(columns, start=5):
            raw, max_points = raw_points(student, assignment)
            score = raw * (1 - penalty_percent(student, assignment) / 100)
            canvas_points = float(possible[index])
            assert float(row[index]) == pytest.approx(
                score / max_points * canvas_points, abs=0.005
            ), (student, assignment)


def test_feedback_is_packed_one_zip_per_canvas_student_with_the_lateness(demo):
    course, _ = demo
    packed = course.workdir / "feedback_packed" / "canvas"
    for assignment in canvas_assignments():
        names = sorted(p.name for p in (packed / assignment).glob("*.zip"))
        assert names == sorted(f"{p.canvas_id}.zip" for p in people().values())
    ada = people()["ada"].canvas_id
    with zipfile.ZipFile(packed / "01_scalars" / f"{ada}.zip") as archive:
        (page,) = [n for n in archive.namelist() if n.endswith(".html")]
        html = archive.read(page).decode()
    assert "Late penalty" in html and "3 h" in html
    assert "Student: <b>Ada Lovelace (ada)</b>" in html  # the roster's name
    bob = people()["bob"].canvas_id
    with zipfile.ZipFile(packed / "02_dtypes" / f"{bob}.zip") as archive:
        (page,) = [n for n in archive.namelist() if n.endswith(".html")]
        html = archive.read(page).decode()
    assert "extended by 2 days" in html and "Late penalty" not in html
    assert "not late (within the extension)" in html


def test_the_report_plots_are_written(demo):
    course, _ = demo
    plots = sorted(p.name for p in (course.workdir / "report").glob("*.png"))
    assert len(plots) >= 2
    assert all((course.workdir / "report" / name).stat().st_size > 1000 for name in plots)


def test_the_roster_filled_nbgrader_s_students_table(demo):
    from nbgrader.api import Gradebook

    course, _ = demo
    with Gradebook(course.db_url) as gradebook:
        students = {s.id: (s.first_name, s.last_name) for s in gradebook.students}
    # Canvas's export has no e-mail column: names only.
    assert students == {sid: (p.first_name, p.last_name) for sid, p in people().items()}

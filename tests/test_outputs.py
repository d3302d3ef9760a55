"""The grader's outputs: nbgrader's gradebook (grader.gradebook), the students' feedback pages
(grader.feedback) and the instructor's report (grader.report).

Results are synthetic NotebookResults, except for the feedback of one really graded notebook
(01_scalars answered by a made-up student: a real kernel, real torch references). nbgrader's
own commands (generate_assignment, export) are the yardstick for the gradebook.
"""

from __future__ import annotations

import html
import itertools
import multiprocessing
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, SubmittedAssignment
from PIL import Image
from rich.console import Console
from sandbox_marks import needs_sandbox
from traitlets.config.loader import PyFileConfigLoader

from grader import gradebook
from grader.answers import MIME_TYPE
from grader.feedback import released_view, write_feedback
from grader.gradebook import export_csv, record
from grader.release import ROOT
from grader.report import class_report, print_summary, summary_table, write_plots
from grader.results import ExerciseResult, NotebookResult

SOURCE = ROOT / "solutions" / "01_scalars" / "scalars.ipynb"
RELEASE = ROOT / "notebooks" / "01_scalars" / "scalars.ipynb"
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.S)

# nbgrader's own add_submission triggers these under SQLAlchemy 2 (not ours to fix).
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")


def read(path: Path):
    return nbformat.read(str(path), as_version=4)


def graded_cells(nb) -> list[tuple[str, float]]:
    """(grade_id, points) of each test cell, in notebook order."""
    return [
        (c.metadata.nbgrader["grade_id"], float(c.metadata.nbgrader["points"]))
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    ]


def synthetic(student: str, fraction: float, assignment="01_scalars", notebook="scalars", **kw):
    """A result where every exercise of SOURCE scored ``fraction`` of its points."""
    exercises = [
        ExerciseResult(g, round(p * fraction, 6), p) for g, p in graded_cells(read(SOURCE))
    ]
    return NotebookResult(student, assignment, notebook, exercises, **kw)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def nbgrader_command(*args: str) -> None:
    """nbgrader's CLI, in the course directory; it shells out to `alembic`, so the venv's
    bin must be on PATH even when the venv is not activated."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    command = [sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)


# =========================================================================== gradebook


def test_course_id_is_nbgrader_configs():
    config = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert config.CourseDirectory.course_id == gradebook.COURSE_ID


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as connection:
        return list(connection.iterdump())


def test_record_writes_nbgrader_grades_idempotently(tmp_path):
    db, source = tmp_path / "gradebook.db", read(SOURCE)
    result = synthetic("alice", 0.5)
    result.exercises[0].points = 3.0  # one full exercise
    record(result, sqlite_url(db), source)
    before = dump(db)
    record(result, sqlite_url(db), source)
    assert dump(db) == before  # not a row, not a value changed
    with Gradebook(sqlite_url(db)) as gb:
        assert gb.db.query(SubmittedAssignment).count() == 1
        submission = gb.find_submission("01_scalars", "alice")
        assert submission.score == pytest.approx(result.points)
        assert submission.max_score == result.max_points == 24
        grades = {g.name: g for g in submission.notebooks[0].grades}
        assert {g: grades[g].auto_score for g, _ in graded_cells(source)} == {
            e.grade_id: e.points for e in result.exercises
        }
        assert not any(g.needs_manual_grade or g.manual_score is not None for g in grades.values())


def test_record_updates_scores_in_place(tmp_path):
    url, source = sqlite_url(tmp_path / "gradebook.db"), read(SOURCE)
    record(synthetic("alice", 0.0), url, source)
    record(synthetic("alice", 1.0), url, source)
    with Gradebook(url) as gb:
        assert gb.db.query(SubmittedAssignment).count() == 1
        assert gb.find_submission("01_scalars", "alice").score == 24


def test_recorded_cells_are_what_nbgrader_generate_assignment_saves(tmp_path):
    """Same grade, solution and source cells (checksums included) as nbgrader's own release."""
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    record(synthetic("alice", 1.0), sqlite_url(ours), read(SOURCE))
    nbgrader_command(
        "generate_assignment",
        "01_scalars",
        f"--db={sqlite_url(theirs)}",
        f"--CourseDirectory.release_directory={tmp_path / 'release'}",
    )

    def cells(db: Path):
        with Gradebook(sqlite_url(db)) as gb:
            nb = gb.find_notebook("scalars", "01_scalars")
            return (
                nb.kernelspec,
                sorted((c.name, c.max_score, c.cell_type) for c in nb.grade_cells),
                sorted(c.name for c in nb.solution_cells),
                sorted(
                    (c.name, c.cell_type, c.locked, c.source, c.checksum) for c in nb.source_cells
                ),
            )

    assert cells(ours) == cells(theirs)


def test_a_changed_source_updates_the_stored_cells(tmp_path):
    """Recording skips SaveCells when nothing changed: it must not skip a change."""
    url, source = sqlite_url(tmp_path / "gradebook.db"), read(SOURCE)
    record(synthetic("alice", 1.0), url, source)
    test_cell = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade"))
    test_cell.metadata.nbgrader["points"] = 5
    record(synthetic("alice", 1.0), url, source)
    with Gradebook(url) as gb:
        assert gb.find_notebook("scalars", "01_scalars").max_score == 26


def test_a_result_of_another_notebook_is_refused(tmp_path):
    result = synthetic("alice", 1.0)
    result.exercises.append(ExerciseResult("not-in-this-notebook", 1.0, 1.0))
    with pytest.raises(ValueError, match="not-in-this-notebook"):
        record(result, sqlite_url(tmp_path / "gradebook.db"), read(SOURCE))


def test_a_record_failing_midway_writes_nothing(tmp_path, monkeypatch):
    url, source = sqlite_url(tmp_path / "gradebook.db"), read(SOURCE)
    record(synthetic("alice", 0.5), url, source)

    def crash(*args):
        raise RuntimeError("grader crashed")

    # After SaveCells, the new student and the new submission, before the grades.
    monkeypatch.setattr(gradebook, "_save_auto_grades", crash)
    with pytest.raises(RuntimeError, match="grader crashed"):
        record(synthetic("bob", 1.0), url, source)
    with pytest.raises(RuntimeError, match="grader crashed"):
        record(synthetic("alice", 1.0), url, source)
    with Gradebook(url) as gb:
        assert [s.id for s in gb.students] == ["alice"]
        assert gb.find_submission("01_scalars", "alice").score == 12


# --------------------------------------------------------------------------- SIGKILL

KILLS = 12
PER_GRADER = 8  # students per grader; consecutive graders share some


def versioned(student: int, version: int) -> NotebookResult:
    """Every exercise at the same fraction of its points, one fraction per version, so that
    a notebook whose grades mix two versions (half-written) shows."""
    return synthetic(f"student{student:03d}", (version % 7 + 1) / 8)


def grade_students(db_url: str, source, first: int, version: int) -> None:
    """A grader's endless loop (it is killed): new students (created, the riskiest record)
    and already recorded ones (updated, with another version of their grades)."""
    for round_ in itertools.count():
        for student in range(first, first + PER_GRADER):
            record(versioned(student, version + round_), db_url, source)


def test_sigkill_in_a_loop_of_records_leaves_whole_submissions(tmp_path):
    """Graders killed (SIGKILL) at random moments, the gradebook created by one of them: the
    database stays intact, no student exists without a whole submission, no submission mixes
    two versions of its grades, and a rerun leaves exactly one submission per student."""
    db, source = tmp_path / "gradebook.db", read(SOURCE)
    # fork: the child starts with nbgrader already imported (a fresh Python takes ~3 s).
    context, rng = multiprocessing.get_context("fork"), random.Random(917)
    for kill in range(KILLS):
        grader = context.Process(
            target=grade_students, args=(sqlite_url(db), source, 2 * kill, kill)
        )
        grader.start()
        time.sleep(rng.uniform(0.05, 0.5))
        grader.kill()
        grader.join()
        assert grader.exitcode == -signal.SIGKILL, "the grader failed before it was killed"
    assert_whole(db, source)
    students = range(2 * KILLS + PER_GRADER)
    for student in students:  # the rerun, uninterrupted
        record(versioned(student, 3), sqlite_url(db), source)
    assert_whole(db, source)
    with Gradebook(sqlite_url(db)) as gb:
        assert gb.db.query(SubmittedAssignment).count() == len(students)
        for student in students:
            result = versioned(student, 3)
            assert gb.find_submission("01_scalars", result.student).score == result.points


def assert_whole(db: Path, source) -> None:
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    n_cells = len(graded_cells(source))
    with Gradebook(sqlite_url(db)) as gb:
        if not gb.assignments:  # killed before anything was recorded (a slow, busy machine)
            assert gb.students == []
            return
        (notebook,) = gb.find_assignment("01_scalars").notebooks
        assert len(notebook.grade_cells) == n_cells
        assert all(len(s.submissions) == 1 for s in gb.students), "a student without submission"
        for submitted in notebook.submissions:
            grades = submitted.grades
            assert len(grades) == n_cells
            assert None not in [g.auto_score for g in grades], "a submission without scores"
            fractions = {round(g.auto_score / g.max_score, 9) for g in grades}
            assert len(fractions) == 1, f"half-written: {submitted} mixes {fractions}"


# --------------------------------------------------------------------------- export


def test_export_csv_is_what_nbgrader_export_writes(tmp_path):
    url, source = sqlite_url(tmp_path / "gradebook.db"), read(SOURCE)
    record(synthetic("bob", 0.25), url, source, timestamp="2026-03-01 10:30:00")
    record(synthetic("alice", 1.0), url, source)
    other = synthetic("alice", 0.5, assignment="02_other", notebook="other")
    record(other, url, source)  # bob has no 02_other submission: a 0 in the export
    export_csv(url, tmp_path / "ours.csv")
    nbgrader_command("export", f"--db={url}", f"--to={tmp_path / 'theirs.csv'}")
    ours = (tmp_path / "ours.csv").read_text()
    assert ours == (tmp_path / "theirs.csv").read_text()
    rows = ours.splitlines()
    assert len(rows) == 1 + 2 * 2 and rows[0].startswith("assignment,duedate,timestamp,student_id")
    assert "01_scalars,,2026-03-01 10:30:00,bob,,,,6.0,0.0,6.0,24.0" in rows
    assert "02_other,,,bob,,,,0.0,0.0,0.0,24.0" in rows


# =========================================================================== feedback

# A made-up student's answers to 01_scalars, by solution cell: full, partial, failing the
# visible test, crashing in the hidden part, printing hidden inputs; the rest unanswered.
ANSWERS = {
    "predict-dtype": "pred_a = torch.int64\npred_b = torch.float64\npred_c = torch.float32",
    "damped": "def damped(t):\n    return 1.0 if t == 0 else -0.5",
    "softplus": "def softplus(x):\n    return torch.log(1 + torch.exp(x))",
    "basel": (
        "def basel(N):\n    print('basel called with N =', N)\n"
        "    n = torch.arange(1, N + 1)\n    return (1 / n**2).sum()"
    ),
    "normal-pdf": (
        "def normal_pdf(x):\n    if x.ndim == 0:\n        raise ValueError('give me a vector')\n"
        "    return torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)"
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """01_scalars answered with ANSWERS, graded for real; its result and executed notebook."""
    from grader.autograde import build_references, grade

    submission = read(RELEASE)
    for cell in submission.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        cell.source = ANSWERS.get(grade_id, cell.source)
    source = read(SOURCE)
    references = build_references(source, SOURCE.parent)
    outcome = grade(submission, source, references, SOURCE.parent)
    executed = tmp_path_factory.mktemp("alice") / "scalars.ipynb"
    nbformat.write(outcome.executed, str(executed))
    exercises = [
        ExerciseResult(e.grade_id, e.points, e.max_points, e.problems, message=visible_failure(e))
        for e in outcome.exercises
    ]
    result = NotebookResult(
        "alice", "01_scalars", "scalars", exercises, executed_path=str(executed)
    )
    return result, references


def visible_failure(exercise) -> str | None:
    failures = [p for p in exercise.problems if "raised AssertionError" in p]
    return failures[0].split("raised ", 1)[1] if failures else None


def page_text(page: str) -> str:
    """What a reader sees: tags removed (Pygments splits code into spans), entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


@needs_sandbox
def test_graded_student_is_a_mixed_case(graded):
    result, _ = graded
    points = {e.grade_id: e.points for e in result.exercises}
    assert points["predict-dtype-tests"] == 2 and points["softplus-tests"] == 3
    assert points["damped-tests"] == 0 and points["circle-points-tests"] == 0
    assert 0 < points["normal-pdf-tests"] < 4
    executed = Path(result.executed_path).read_text()
    # What the feedback must hide is really in the executed notebook.
    assert MIME_TYPE in executed and "BEGIN HIDDEN TESTS" in executed
    assert "N = 2000" in executed and "normal_pdf(torch.tensor(1.2))" in executed


@needs_sandbox
def test_feedback_shows_grades_and_visible_tests_but_no_hidden_tests(graded, tmp_path):
    result, references = graded
    page = write_feedback(result, read(SOURCE), tmp_path / "feedback.html").read_text()
    text = page_text(page)
    notebook_part = text[text.index("Your notebook, as graded") :]
    for cell in read(SOURCE).cells:
        for block in HIDDEN.findall(cell.source):
            for line in filter(None, (ln.strip() for ln in block.splitlines())):
                assert line not in text, f"hidden test code in the feedback: {line}"
    # Answer names say what the hidden tests check: only problems may name them (some, like
    # "linspace(-2, 3, 11)[3]", are quoted from the task, which the student has anyway).
    released = "\n".join(c.source for c in read(RELEASE).cells)
    problems = " ".join(p for e in result.exercises for p in e.problems)
    names = [n for r in references.values() for n in r.answers if n not in released]
    assert len(names) > 10
    for name in names:
        assert name not in notebook_part, f"answer {name!r} in the rendered notebook"
        if name not in problems:
            assert name not in text, f"answer {name!r} in the feedback"
    for leak in (MIME_TYPE, "recorded for grading", "BEGIN HIDDEN TESTS", "N = 2000", "1.2))"):
        assert leak not in page, leak
    # The grades, what went wrong, and the visible tests with their messages.
    assert "Score: 10.33 / 24 points" in text
    assert "2 / 3" in text and "0 / 3" in text and "1.33 / 4" in text
    assert "Exercise 2: evaluate a damped oscillation" in text and "damped-tests" in text
    assert "g(1) = e^(-1/2) * cos(3) ≈ -0.60046" in text
    assert "ValueError: give me a vector" in text
    assert "'torch.float64' is not the expected answer" in text
    assert "should be a dtype object such as torch.int64" in notebook_part  # a visible test
    assert "def basel(N)" in notebook_part  # the student's own code
    assert "data:image/png;base64," in page  # figures inlined: one file


def test_feedback_without_an_executed_notebook_says_why(tmp_path):
    result = synthetic("carol", 0.0, problems=["scalars.ipynb is missing from the submission"])
    result.needs_attention = True
    page = write_feedback(result, read(SOURCE), tmp_path / "feedback.html").read_text()
    text = page_text(page)
    assert "scalars.ipynb is missing from the submission" in text
    assert "could not be run" in text and "Score: 0 / 24 points" in text
    assert "Your notebook, as graded" not in text
    assert page.count('<td class="points">0 / 3</td>') == 4


def test_released_view_drops_hidden_code_outputs_and_tracebacks():
    test = nbformat.v4.new_code_cell(
        "assert f(1) == 1\n### BEGIN HIDDEN TESTS\ncheck('f at 7', f(7))\n### END HIDDEN TESTS",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t", "points": 1}},
    )
    test.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="f got 7\n"),
        nbformat.v4.new_output("display_data", data={MIME_TYPE: {"name": "f at 7"}}),
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue="bad", traceback=["----> 3 check('f at 7', f(7))"]
        ),
    ]
    own = nbformat.v4.new_code_cell("check('mine', 1)\nprint('hello')")
    own.outputs = [
        nbformat.v4.new_output("display_data", data={MIME_TYPE: {}, "text/plain": "x"}),
        nbformat.v4.new_output("stream", name="stdout", text="hello\n"),
    ]
    stray = nbformat.v4.new_code_cell("x = 1\n### BEGIN HIDDEN TESTS\ny = 2")  # never closed
    nb = nbformat.v4.new_notebook(cells=[test, own, stray])
    view = released_view(nb)
    assert view.cells[0].source == "assert f(1) == 1"
    assert [o.traceback for o in view.cells[0].outputs] == [["ValueError: bad"]]
    assert [o.output_type for o in view.cells[1].outputs] == ["stream"]
    assert view.cells[2].source == "x = 1"
    assert "BEGIN HIDDEN" in nb.cells[0].source  # a copy: the input is untouched


# =========================================================================== report


def class_results() -> list[NotebookResult]:
    """Four students, two assignments (24 points each); dave did not hand in 02."""
    other = {"assignment": "02_other", "notebook": "other"}
    results = [
        synthetic("alice", 1.0),
        synthetic("alice", 1.0, **other),
        synthetic("bob", 0.5),
        synthetic("bob", 0.0, **other, problems=["other.ipynb is missing"], needs_attention=True),
        synthetic("carol", 1.0),
        synthetic("carol", 0.25, **other),
        synthetic("dave", 0.0, problems=["the kernel died"], needs_attention=True),
    ]
    results[2].exercises[0].points = 3.0  # bob: the first exercise in full
    return results


def test_class_report_numbers():
    report = class_report(class_results())
    assert report["students"] == ["alice", "bob", "carol", "dave"]
    assert report["max_points"] == {"01_scalars": 24, "02_other": 24} and report["max_total"] == 48
    assert report["totals"] == {"alice": 48, "bob": 13.5, "carol": 30, "dave": 0}
    assert report["mean_total"] == pytest.approx(91.5 / 4)
    assert report["histogram"]["counts"] == [1, 0, 1, 0, 0, 0, 1, 0, 0, 1]
    assert report["histogram"]["bin_edges"][0] == 0 and report["histogram"]["bin_edges"][-1] == 48
    assert report["assignment_means"] == {"01_scalars": 15.375, "02_other": 7.5}
    scalars = report["pass_rates"]["01_scalars"]
    assert list(scalars) == [g for g, _ in graded_cells(read(SOURCE))]  # notebook order
    assert scalars["predict-dtype-tests"] == 0.75 and scalars["damped-tests"] == 0.5
    assert set(report["pass_rates"]["02_other"].values()) == {0.25}  # dave missing: not passed
    flagged = [(i["student"], i["assignment"]) for i in report["needs_attention"]]
    assert flagged == [("bob", "02_other"), ("dave", "01_scalars")]


def test_an_empty_class_reports_zeros():
    report = class_report([])
    assert report["students"] == [] and report["max_total"] == 0 and report["pass_rates"] == {}
    assert sum(report["histogram"]["counts"]) == 0 and report["needs_attention"] == []
    assert summary_table([]).row_count == 0


def test_summary_table_and_printout():
    table = summary_table(class_results())
    assert [c.header.split("\n")[0] for c in table.columns] == [
        "student",
        "01_scalars",
        "02_other",
        "total",
        "needs attention",
    ]
    assert table.row_count == 4
    console = Console(record=True, width=120, color_system=None)
    print_summary(class_results(), console=console)
    out = console.export_text()
    assert re.search(r"bob\s*│\s*13.5\s*│\s*0 ⚑\s*│\s*13.5\s*│\s*02_other", out), out
    assert re.search(r"dave\s*│\s*0 ⚑\s*│\s*–", out), out
    assert "dave/01_scalars/scalars: the kernel died" in out


def test_write_plots_writes_two_valid_pngs(tmp_path):
    paths = write_plots(class_results(), tmp_path / "plots")
    assert sorted(p.name for p in paths.values()) == [
        "exercise_pass_rates.png",
        "grades_histogram.png",
    ]
    for path in paths.values():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert image.format == "PNG" and min(image.size) > 200

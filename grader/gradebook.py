"""Record autograded notebooks in nbgrader's gradebook, and export it as ``nbgrader export`` does.

The gradebook is nbgrader's own database, written through nbgrader's own API
(``nbgrader.api.Gradebook``), so formgrader, ``nbgrader export`` and ``nbgrader db`` read it as
their own. What differs from ``nbgrader autograde``:

* **One transaction per notebook.** nbgrader's Gradebook commits after every add or update, so
  a grader killed between two of them leaves a submission whose grades are half old and half new
  (or missing). Here the Gradebook's session joins an outer transaction on its own connection
  (SQLAlchemy's "join a Session into an external transaction"): its commits only release
  SAVEPOINTs, and the outer transaction commits once, at the end, or not at all.
* **Scores come from grader.score** (answers compared outside the student's kernel), not from
  "did the test cell raise". Only ``Grade.auto_score`` is written; a grader's ``manual_score``
  still takes precedence in nbgrader's ``Grade.score``, as after ``nbgrader autograde``.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import os
import uuid
import warnings
from datetime import datetime
from pathlib import Path
from unittest import mock

import alembic.config
import alembic.script
import nbgrader.api
from nbgrader import utils
from nbgrader.api import Comment, Grade, Gradebook, MissingEntry, SubmittedNotebook
from nbgrader.dbutil import ALEMBIC_DIR
from nbgrader.preprocessors import (
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    LockCells,
    SaveCells,
)
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning

from grader.deadlines import Deadlines, LatePenaltyPlugin, Policy, to_gradebook
from grader.results import NotebookResult

# nbgrader's add_submission links objects before adding them to the session; SQLAlchemy 2
# warns on every new submission, about nothing that matters here.
warnings.filterwarnings(
    "ignore", r"Object of type <\w+> not in session", SAWarning, r"nbgrader\.api"
)

COURSE_ID = "autograd-course"  # nbgrader_config.py's CourseDirectory.course_id (a test checks)
# Parallel graders queue for SQLite's write lock; a record takes milliseconds.
SQLITE_BUSY_TIMEOUT_MS = 60_000


def record(
    result: NotebookResult,
    db_url: str,
    source_nb,
    *,
    course_id: str = COURSE_ID,
    timestamp: datetime | str | None = None,
    deadlines: Deadlines | None = None,
) -> None:
    """Write one notebook's grades in one transaction. The assignment, notebook and its cells
    are created from ``source_nb``'s nbgrader metadata (as ``generate_assignment`` would), the
    student and the submission if missing; every grade cell gets its ``auto_score``.
    With ``deadlines`` (grader/deadlines.py), also what nbgrader's late-penalty step records:
    the assignment's due date, the submission's hand-in time and extension, and the
    notebook's ``late_submission_penalty`` (``timestamp``, if given, overrides the hand-in
    time). Idempotent: recording the same result again changes nothing."""
    _check_belongs_to(result, source_nb)
    generated = _as_generated(source_nb)  # before the transaction: it holds the write lock
    _create_if_missing(db_url, course_id)
    with Gradebook(db_url, course_id=course_id) as gradebook, _one_transaction(gradebook):
        _save_cells(gradebook, generated, result.notebook, result.assignment)
        gradebook.update_or_create_student(result.student)
        fields = {}
        if deadlines is not None:
            _save_due_date(gradebook, result.assignment, deadlines)
            fields = _deadline_fields(result, deadlines)
        if timestamp is not None:
            fields["timestamp"] = timestamp
        gradebook.update_or_create_submission(result.assignment, result.student, **fields)
        _save_auto_grades(gradebook, result)
        if deadlines is not None:
            _save_late_penalty(gradebook, result, deadlines.policy)


def export_csv(db_url: str, path: Path | str, *, course_id: str = COURSE_ID) -> None:
    """The CSV ``nbgrader export`` writes: the columns, rows and number formats of nbgrader's
    CsvExportPlugin, but real CSV. nbgrader joins fields with bare commas, so a student id such
    as ``Doe, Jane_1234`` shifts the columns and a crafted one forges rows; here every field is
    quoted as it needs (csv module), and a text field that a spreadsheet would take for a
    formula (starting with ``= + - @``, tab or CR) gets a leading ``'`` (OWASP's CSV injection
    advice; numbers are never changed). UTF-8, written to a temporary file renamed into place,
    so that nobody ever reads half an export."""
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    with Gradebook(db_url, course_id=course_id) as gradebook:
        records = [EXPORT_COLUMNS, *_export_rows(gradebook)]
    with open(partial, "w", encoding="utf-8", newline="") as file:
        file.writelines(_csv_record(cells) for cells in records)
    os.replace(partial, path)


EXPORT_COLUMNS = (
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
)
# A cell starting with one of these is a formula (or becomes one once trimmed) in Excel,
# LibreOffice and Google Sheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _export_rows(gradebook: Gradebook):
    """One row per assignment and student, in CsvExportPlugin's order (assignments by due
    date and name, students by last and first name); a student who did not submit gets 0."""
    for assignment in gradebook.assignments:
        for student in gradebook.students:
            yield _export_row(gradebook, assignment, student)


def _export_row(gradebook: Gradebook, assignment, student) -> list[str]:
    try:
        submission = gradebook.find_submission(assignment.name, student.id)
    except MissingEntry:
        timestamp, raw_score, penalty = None, 0.0, 0.0
    else:
        timestamp, raw_score = submission.timestamp, submission.score
        penalty = submission.late_submission_penalty
    texts = (
        assignment.name,
        assignment.duedate,
        timestamp,
        student.id,
        student.last_name,
        student.first_name,
        student.email,
    )
    numbers = (raw_score, penalty, max(0.0, raw_score - penalty), assignment.max_score)
    return [_text_cell(value) for value in texts] + [_number_cell(value) for value in numbers]


def _text_cell(value) -> str:
    """As nbgrader writes it (None as empty, dates as str()), made inert for spreadsheets."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _number_cell(value) -> str:
    return "" if value is None else str(value)  # str(6.0) == "6.0", as nbgrader writes it


def _csv_record(cells) -> str:
    """One CSV record, ending in a line feed as nbgrader's lines do. The csv module quotes a
    field only for the characters of its line terminator: written with CR LF, a field holding
    either is quoted (with LF alone, a bare CR in a name would end the record early)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().removesuffix("\r\n") + "\n"


# --------------------------------------------------------------------------- cells


def _check_belongs_to(result: NotebookResult, source_nb) -> None:
    """Refuse, before writing anything, a result whose exercises are not this notebook's."""
    grade_cells = {c.metadata.nbgrader["grade_id"] for c in source_nb.cells if utils.is_grade(c)}
    unknown = {e.grade_id for e in result.exercises} - grade_cells
    if unknown:
        raise ValueError(f"{result.assignment}/{result.notebook} has no grade cells {unknown}")


def _as_generated(source_nb):
    """The notebook as ``nbgrader generate_assignment`` holds it when its SaveCells runs
    (locked, solutions replaced by stubs, checksums computed), so that the source cells and
    checksums we store are the ones nbgrader's own tools expect."""
    nb = copy.deepcopy(source_nb)
    resources: dict = {}
    for preprocessor in (LockCells(), ClearSolutions(), ClearOutput(), ComputeChecksums()):
        nb, resources = preprocessor.preprocess(nb, resources)
    return nb


def _save_cells(gradebook: Gradebook, nb, notebook: str, assignment: str) -> None:
    """nbgrader's SaveCells on ``nb`` (as generated), writing through our open Gradebook: its
    ``preprocess`` would open a Gradebook of its own and commit outside our transaction. As in
    nbgrader, a notebook that has submissions may not gain or lose cells (RuntimeError)."""
    if _stored_cells(gradebook, notebook, assignment) == _cells_to_store(nb):
        return  # the usual case; SaveCells would spend ~0.2 s rewriting the same values
    gradebook.update_or_create_assignment(assignment)
    save = SaveCells()
    save.gradebook, save.notebook_id, save.assignment_id = gradebook, notebook, assignment
    save.new_grade_cells, save.new_solution_cells = {}, {}
    save.new_task_cells, save.new_source_cells = {}, {}
    for index, cell in enumerate(nb.cells):
        save.preprocess_cell(cell, {}, index)
    save._create_notebook(nb)


def _cells_to_store(nb) -> set[tuple]:
    """What SaveCells stores of each cell of ``nb`` (see its ``preprocess_cell``)."""
    cells = set()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id")
        if utils.is_grade(cell):
            cells.add(("grade", name, float(meta["points"]), cell.cell_type))
        if utils.is_solution(cell):
            cells.add(("solution", name))
        if utils.is_task(cell):
            cells.add(("task", name, float(meta["points"]), cell.cell_type))
        locked = utils.is_locked(cell)
        if locked or utils.is_grade(cell) or utils.is_solution(cell) or utils.is_task(cell):
            cells.add(("source", name, cell.cell_type, locked, cell.source, meta.get("checksum")))
    return cells


def _stored_cells(gradebook: Gradebook, notebook: str, assignment: str) -> set[tuple] | None:
    try:
        stored = gradebook.find_notebook(notebook, assignment)
    except MissingEntry:
        return None
    return (
        {("grade", c.name, c.max_score, c.cell_type) for c in stored.grade_cells}
        | {("solution", c.name) for c in stored.solution_cells}
        | {("task", c.name, c.max_score, c.cell_type) for c in stored.task_cells}
        | {
            ("source", c.name, c.cell_type, c.locked, c.source, c.checksum)
            for c in stored.source_cells
        }
    )


# --------------------------------------------------------------------------- grades


def _save_auto_grades(gradebook: Gradebook, result: NotebookResult) -> None:
    """As nbgrader's SaveAutoGrades, with our scores: a grade cell without a score, or with
    a grader's manual score, is left for a human (``needs_manual_grade``)."""
    scores = {e.grade_id: e.points for e in result.exercises}
    for grade in _submitted_notebook(gradebook, result).grades:
        grade.auto_score = scores.get(grade.name)
        grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
    gradebook.db.commit()


def _submitted_notebook(gradebook: Gradebook, result: NotebookResult) -> SubmittedNotebook:
    """The submission's notebook. ``add_submission`` mirrors the notebooks the assignment had
    at the time, so a notebook recorded after its sibling's submission is added here."""
    try:
        return gradebook.find_submission_notebook(
            result.notebook, result.assignment, result.student
        )
    except MissingEntry:
        pass
    notebook = gradebook.find_notebook(result.notebook, result.assignment)
    submission = gradebook.find_submission(result.assignment, result.student)
    submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
    for cell in notebook.grade_cells + notebook.task_cells:
        Grade(cell_id=cell.id, notebook=submitted)
    for cell in notebook.solution_cells + notebook.task_cells:
        Comment(cell_id=cell.id, notebook=submitted)
    gradebook.db.add(submitted)
    gradebook.db.commit()
    return submitted


# --------------------------------------------------------------------------- deadlines


def _save_due_date(gradebook: Gradebook, assignment: str, deadlines: Deadlines) -> None:
    """The assignment's due date as the deadlines file says now (None: it has none)."""
    stored = gradebook.find_assignment(assignment)  # _save_cells created it
    due = to_gradebook(deadlines.due(assignment))
    if stored.duedate != due:
        stored.duedate = due
        gradebook.db.commit()


def _deadline_fields(result: NotebookResult, deadlines: Deadlines) -> dict:
    """The submission's hand-in time and extension, as nbgrader stores them."""
    handed_in = deadlines.handed_in(result.student, result.assignment, result.timestamp)
    return {
        "timestamp": to_gradebook(handed_in),
        "extension": deadlines.extension(result.student, result.assignment),
    }


def _save_late_penalty(gradebook: Gradebook, result: NotebookResult, policy: Policy) -> None:
    """What nbgrader's AssignLatePenalties does after autograding a notebook, through the
    course's LateSubmissionPlugin: the lateness is nbgrader's own ``total_seconds_late`` (the
    submission's time against the due date plus extension), the notebook's score the
    gradebook's (a grader's manual score included), the answer clamped to [0, score]."""
    notebook = _submitted_notebook(gradebook, result)
    seconds = gradebook.find_submission(result.assignment, result.student).total_seconds_late
    penalty = None
    if seconds > 0:
        plugin = LatePenaltyPlugin(policy=policy, max_score=notebook.max_score)
        penalty = plugin.late_submission_penalty(result.student, notebook.score, seconds)
        if penalty is not None:
            penalty = min(max(penalty, 0.0), notebook.score)
    if notebook.late_submission_penalty != penalty:
        notebook.late_submission_penalty = penalty
        gradebook.db.commit()


# --------------------------------------------------------------------------- transactions


@contextlib.contextmanager
def _one_transaction(gradebook: Gradebook):
    """Run the block in one database transaction: the Gradebook's session is rebound to a
    connection whose transaction we own, and its own commits become SAVEPOINT releases."""
    engine = gradebook.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "begin", _begin_immediate)
    with engine.connect() as connection, connection.begin():
        gradebook.db.remove()
        gradebook.db.configure(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            gradebook.db.remove()


def _begin_immediate(connection) -> None:
    """SQLAlchemy's pysqlite recipe: stop the driver's own BEGIN/COMMIT handling (it breaks
    SAVEPOINTs) and take SQLite's write lock up front, so that two graders queue instead of
    one failing halfway with "database is locked"."""
    connection.connection.driver_connection.isolation_level = None
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create_if_missing(db_url: str, course_id: str) -> None:
    """Create a SQLite gradebook whole: nbgrader creates its tables, alembic version and
    course in separate commits, so it is built under a temporary name and hard-linked into
    place (os.link never replaces a gradebook that another grader created meanwhile)."""
    url = make_url(db_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return
    path = Path(url.database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own (a grader killed here leaves it behind, never a half gradebook).
    building = path.with_name(f".{path.name}.{uuid.uuid4().hex}.creating")
    try:
        # nbgrader asks the `alembic` command for the schema version: not on PATH unless the
        # venv is activated. The same answer from alembic's API, only while creating.
        with mock.patch.object(nbgrader.api, "get_alembic_version", _alembic_head):
            building_url = url.set(database=str(building)).render_as_string(False)
            Gradebook(building_url, course_id=course_id).close()
        with contextlib.suppress(FileExistsError):
            os.link(building, path)
    finally:
        building.unlink(missing_ok=True)


def _alembic_head() -> str:
    config = alembic.config.Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return alembic.script.ScriptDirectory.from_config(config).get_current_head()

"""The whole pipeline with real kernels: release, autograde the bundled sample class (every
planted cheat and fault), the gradebook, a SIGKILL and a rerun, Dask, and the student's check."""

from __future__ import annotations

import functools
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from sandbox_marks import needs_sandbox

from grader import pipeline
from grader.check import check_notebook
from grader.execute import read
from grader.sandbox import Limits
from grader.submissions import match, unpack

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

FAST = Limits(cell_timeout=5, notebook_timeout=120)


@functools.cache
def released_course(workdir: str) -> pipeline.Course:
    course = pipeline.Course(workdir=Path(workdir), limits=FAST)
    pipeline.release(course, generate=False, log=lambda *a: None)
    return course


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return released_course(str(tmp_path_factory.mktemp("course")))


@pytest.fixture(scope="module")
def sample_class(course, tmp_path_factory):
    from grader.sample_class import build

    submissions = build(tmp_path_factory.mktemp("sample") / "submissions")
    start = time.perf_counter()
    results = pipeline.autograde(course, submissions, workers=2)
    return submissions, results, time.perf_counter() - start


def _grades(db: Path) -> list[tuple]:
    """(student, assignment, notebook, grade cell, auto score) for every grade, read back
    through nbgrader's own Gradebook API."""
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{db}") as gb:
        for student in gb.students:
            for submission in student.submissions:
                for notebook in submission.notebooks:
                    for g in notebook.grades:
                        rows.append(
                            (student.id, submission.name, notebook.name, g.name, g.auto_score)
                        )
    return sorted(rows)


@needs_sandbox
def test_every_sample_student_gets_the_expected_grade(course, sample_class):
    from grader.sample_class import STUDENTS, expected

    _, results, _ = sample_class
    by_key = {(r.student, r.assignment): r for r in results}
    assert {s for s, _ in by_key} == set(STUDENTS)
    mismatches = []
    for (student, assignment), result in sorted(by_key.items()):
        want = expected(student, assignment, read(course.source_path(assignment)))
        if (
            abs(result.points - want["points"]) > 1e-6
            or result.needs_attention != want["needs_attention"]
        ):
            mismatches.append((student, assignment, result.points, want, result.problems))
        for keyword in want.get("problem_keywords", ()):
            if not any(keyword in p for p in result.problems):
                mismatches.append((student, assignment, f"no problem mentions {keyword!r}"))
    assert not mismatches, mismatches


@needs_sandbox
def test_the_gradebook_holds_one_grade_per_cell_and_student(course, sample_class):
    _, results, _ = sample_class
    rows = _grades(course.db_path)
    keys = [row[:4] for row in rows]
    assert len(keys) == len(set(keys))
    total = {}
    for student, assignment, _, _, score in rows:
        total[student, assignment] = total.get((student, assignment), 0) + (score or 0)
    for r in results:
        assert total[r.student, r.assignment] == pytest.approx(r.points)


@needs_sandbox
def test_a_rerun_is_idempotent_and_skips_unchanged_work(course, sample_class):
    submissions, results, _ = sample_class
    before = _grades(course.db_path)
    start = time.perf_counter()
    again = pipeline.autograde(course, submissions, workers=2)
    assert time.perf_counter() - start < 10  # nothing ran again: fingerprints matched
    assert [(r.student, r.assignment, r.points) for r in again] == [
        (r.student, r.assignment, r.points) for r in results
    ]
    assert _grades(course.db_path) == before


@needs_sandbox
def test_sigkill_during_autograde_then_rerun_loses_and_duplicates_nothing(course, tmp_path):
    """Kill -9 the grader mid-run (with its kernels), rerun, compare with an undisturbed run."""
    from grader.sample_class import build

    submissions = build(tmp_path / "submissions")
    for extra in sorted(submissions.iterdir())[3:]:  # three students keep this test short
        extra.unlink() if extra.is_file() else shutil.rmtree(extra)
    killed = pipeline.Course(workdir=tmp_path / "killed", limits=FAST)
    shutil.copytree(course.references_dir, killed.references_dir)
    command = [
        sys.executable,
        "-m",
        "grader",
        "--workdir",
        str(killed.workdir),
        "--cell-timeout",
        "5",
        "autograde",
        str(submissions),
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.time() + 120
    while time.time() < deadline and len(list(killed.autograded.glob("*/*/*.json"))) < 4:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 0 < len(list(killed.autograded.glob("*/*/*.json"))) < 18, "killed mid-run"
    rerun = pipeline.autograde(killed, submissions, workers=2)
    clean = pipeline.Course(workdir=tmp_path / "clean", limits=FAST)
    shutil.copytree(course.references_dir, clean.references_dir)
    undisturbed = pipeline.autograde(clean, submissions, workers=2)
    assert [(r.student, r.assignment, r.points) for r in rerun] == [
        (r.student, r.assignment, r.points) for r in undisturbed
    ]
    assert _grades(killed.db_path) == _grades(clean.db_path)


@needs_sandbox
def test_autograde_on_a_local_dask_cluster(course, tmp_path):
    from dask.distributed import LocalCluster

    from grader.sample_class import build

    submissions = build(tmp_path / "submissions")
    keep = sorted(p.name for p in submissions.iterdir())[:1]
    for extra in submissions.iterdir():
        if extra.name not in keep:
            extra.unlink() if extra.is_file() else shutil.rmtree(extra)
    on_dask = pipeline.Course(workdir=tmp_path / "dask", limits=FAST)
    shutil.copytree(course.references_dir, on_dask.references_dir)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
        results = pipeline.autograde(on_dask, submissions, scheduler=cluster.scheduler_address)
    local = pipeline.Course(workdir=tmp_path / "local", limits=FAST)
    shutil.copytree(course.references_dir, local.references_dir)
    threaded = pipeline.autograde(local, submissions, workers=2)
    assert len(results) == 6
    assert [(r.student, r.assignment, r.points) for r in results] == [
        (r.student, r.assignment, r.points) for r in threaded
    ]


def test_student_check_lists_passing_and_failing_exercises():
    solution = pipeline.ROOT / "solutions" / "03_matrices" / "matrices.ipynb"
    release = pipeline.ROOT / "notebooks" / "03_matrices" / "matrices.ipynb"
    assert {status for _, status, _ in check_notebook(solution)} == {"pass"}
    unanswered = check_notebook(release)
    assert len(unanswered) >= 6 and {status for _, status, _ in unanswered} == {"not answered"}
    assert all(message for _, _, message in unanswered)
    # Named as the student knows them, by the notebook's "### Exercise N" headings, in order.
    labels = [label.split(" (")[0] for label, _, _ in unanswered]
    assert labels[0] == "Exercise 1" and labels == sorted(labels, key=lambda s: int(s.split()[1]))


def test_student_check_tells_a_wrong_answer_from_a_missing_one(tmp_path):
    """An answer that runs but is wrong FAILs with the test's message; an exercise still
    holding nbgrader's stub is "not answered"; each is labelled by its exercise heading."""
    source = read(pipeline.ROOT / "notebooks" / "04_derivatives" / "derivatives.ipynb")
    heading = None
    for cell in source.cells:
        if cell.cell_type == "markdown" and "### Exercise 2" in cell.source:
            heading = cell
        elif heading is not None and cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = cell.source.replace("raise NotImplementedError()", "pass")
            break
    path = tmp_path / "derivatives.ipynb"
    nbformat.write(source, path)
    rows = {label: (status, message) for label, status, message in check_notebook(path)}
    assert rows["Exercise 2"][0] == "fail" and "NotImplementedError" not in rows["Exercise 2"][1]
    assert rows["Exercise 1"][0] == rows["Exercise 3"][0] == "not answered"


def test_renamed_notebooks_are_matched_by_their_cells(tmp_path):
    course = pipeline.Course(workdir=tmp_path)
    assignments = {}
    for a in course.assignments():
        source = read(course.source_path(a))
        ids = {c.metadata["nbgrader"]["grade_id"] for c in source.cells if "nbgrader" in c.metadata}
        assignments[a] = (course.source_path(a).name, ids)
    student = tmp_path / "zoe"
    (student / "misc").mkdir(parents=True)
    for a, (name, _) in assignments.items():
        src = pipeline.ROOT / "notebooks" / a / name
        (student / "misc" / f"Copy of {name}").write_bytes(src.read_bytes())
    (student / "misc" / "notes.ipynb").write_text("{ not json")
    found = match("zoe", student, assignments)
    assert [s.renamed_from for s in found] == [f"misc/Copy of {n}" for n, _ in assignments.values()]
    assert all(s.problem is None for s in found)


def test_zip_submissions_cannot_write_outside_their_folder(tmp_path):
    archive = tmp_path / "in" / "mallory.zip"
    archive.parent.mkdir()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../../escaped.txt", "x")
        zf.writestr("01_scalars/scalars.ipynb", "{}")
    students = unpack(archive.parent, tmp_path / "staging")
    assert (students["mallory"] / "01_scalars" / "scalars.ipynb").exists()
    assert not list(tmp_path.rglob("escaped.txt"))

"""A student's work/ is never overwritten: `make lab` copies only what is missing, and the
commands that regenerate notebooks/ (release, the grader's release, so also demo) leave work/
byte for byte as the student saved it.

Real nbgrader and real torch references, in a copy of the course (a temporary course root),
so that the repository's own notebooks/ are not rewritten under the other tests' feet.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_marks import needs_sandbox

from grader import pipeline
from grader.release import ROOT, assignments, generate
from grader.workspace import prepare

RELEASE = ROOT / "notebooks"
NOTEBOOKS = sorted(p.relative_to(RELEASE) for p in RELEASE.glob("*/*.ipynb"))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_prepare_copies_every_release_notebook_once(tmp_path):
    work = tmp_path / "work"
    copied = prepare(RELEASE, work)
    assert sorted(p.relative_to(work) for p in copied) == sorted([*NOTEBOOKS, Path("README.md")])
    for relative in NOTEBOOKS:
        assert (work / relative).read_bytes() == (RELEASE / relative).read_bytes()
    assert prepare(RELEASE, work) == []  # a second run copies nothing


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    saved=st.dictionaries(
        st.sampled_from(NOTEBOOKS), st.binary(max_size=200), min_size=1, max_size=len(NOTEBOOKS)
    )
)
def test_prepare_never_rewrites_what_a_student_saved(tmp_path_factory, saved):
    """Whatever a student's file holds (half-written JSON, nothing at all), it stays."""
    work = tmp_path_factory.mktemp("work")
    for relative, data in saved.items():
        (work / relative).parent.mkdir(parents=True, exist_ok=True)
        (work / relative).write_bytes(data)
    copied = prepare(RELEASE, work)
    for relative, data in saved.items():
        assert (work / relative).read_bytes() == data
    assert not {work / r for r in saved} & set(copied)
    assert all((work / r).exists() for r in NOTEBOOKS)


def test_a_symlink_in_work_is_left_alone(tmp_path):
    work = tmp_path / "work"
    (work / NOTEBOOKS[0]).parent.mkdir(parents=True)
    (work / NOTEBOOKS[0]).symlink_to(tmp_path / "nowhere.ipynb")
    prepare(RELEASE, work)
    assert (work / NOTEBOOKS[0]).is_symlink() and not (tmp_path / "nowhere.ipynb").exists()


@pytest.fixture
def course_copy(tmp_path) -> Path:
    """A course root of our own: the solutions and nbgrader's configuration."""
    root = tmp_path / "course"
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copy2(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    return root


@pytest.mark.slow
@needs_sandbox
def test_release_after_a_student_saved_work_leaves_it_byte_identical(course_copy, tmp_path):
    first = assignments()[0]
    generate(first, root=course_copy)  # the course as released
    work = course_copy / "work"
    prepare(course_copy / "notebooks", work)
    (saved,) = (work / first).glob("*.ipynb")
    nb = nbformat.read(saved, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("my_answer = 42  # a student's work"))
    nbformat.write(nb, saved)
    (work / first / "notes.txt").write_text("my own file")
    before = snapshot(work)

    generate(first, root=course_copy)  # make release
    course = pipeline.Course(root=course_copy, workdir=tmp_path / "grader")
    pipeline.release(course, [first], log=lambda *a: None)  # python -m grader release, demo
    assert snapshot(work) == before
    assert (course.references_dir / f"{first}.json").exists()
    assert (course_copy / "notebooks" / first / saved.name).exists()

"""Hostile and broken hand-ins: whatever a hand-in holds, receiving, matching and planning never
raise, nothing outside the staging folder changes, every student gets exactly one Submission
per assignment, symbolic links are never read, and a failure of the grader's own machinery is
retried and never cached. No kernels: where grading is needed, ``grader.pipeline.grade`` is
replaced by a fake (these are tests of the pipeline's handling, not of the sandbox)."""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
import time
import zipfile
from pathlib import Path
from unittest import mock

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import pipeline, submissions
from grader.autograde import NotebookGrade
from grader.execute import collect
from grader.score import ExerciseScore, restore_tests, score
from grader.submissions import Budget, load, match, receive, unpack

KiB = 1024
SMALL = Budget(
    archive_bytes=256 * KiB,
    unzipped_bytes=256 * KiB,
    members=20,
    member_bytes=128 * KiB,
    ratio=20,
    ratio_floor=2 * KiB,
    notebook_bytes=256 * KiB,
    entries=300,
    depth=6,
)
FEW = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
COURSE = pipeline.Course()
ASSIGNMENTS = {a: pipeline._notebook_and_ids(COURSE, a) for a in COURSE.assignments()}
FIRST = next(iter(ASSIGNMENTS))  # 01_scalars
NAME = ASSIGNMENTS[FIRST][0]  # scalars.ipynb
SOLUTION = COURSE.source_path(FIRST)


def released(assignment: str = FIRST, marker: str | None = None) -> str:
    """The released notebook as a student hands it in; ``marker`` tells copies apart."""
    name = ASSIGNMENTS[assignment][0]
    nb = nbformat.read(str(COURSE.root / "notebooks" / assignment / name), as_version=4)
    if marker:
        nb.metadata["marker"] = marker
    return nbformat.writes(nb)


# --------------------------------------------------------------------------- helpers


def snapshot(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple]:
    """Everything under ``root`` (links not followed), except the ``skip`` trees."""
    state = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if Path(folder, d) not in skip]
        for name in dirs + files:
            path = Path(folder, name)
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                state[str(path)] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                state[str(path)] = ("file", path.read_bytes(), info.st_mtime_ns)
            else:
                state[str(path)] = (stat.S_IFMT(info.st_mode),)
    return state


def sentinels(root: Path) -> None:
    """What a grader's work directory and its neighbours hold: none of it may change."""
    for relative in (
        "work/gradebook.db",
        "work/references/01_scalars.json",
        "work/autograded/ada/01_scalars/scalars.json",
        "work/feedback/ada/01_scalars/scalars.html",
        "outside/secret.txt",
    ):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(f"sentinel {relative}")
    (root / "work" / "unpacked").mkdir(parents=True, exist_ok=True)


def zip_bytes(members: list[tuple[str, bytes, str]], method=zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of (name, content, kind) members; kind "link" makes a symbolic-link entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as zf:
        for name, content, kind in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 5, 17, 9, 30, 0))
            info.compress_type = method
            if kind == "link":
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            with mock.patch("warnings.warn"):  # duplicate names warn
                zf.writestr(info, content)
    return buffer.getvalue()


def check_staging(staging: Path, budget: Budget) -> None:
    """Only folders and regular files, within the budget, under the staging folder."""
    total = count = 0
    for folder, dirs, files in os.walk(staging):
        for name in dirs + files:
            mode = Path(folder, name).lstat().st_mode
            assert stat.S_ISDIR(mode) or stat.S_ISREG(mode), Path(folder, name)
            if stat.S_ISREG(mode):
                total += Path(folder, name).stat().st_size
                count += 1
    assert count <= budget.members and total <= budget.unzipped_bytes


def one_submission_each(handins) -> list[submissions.Submission]:
    subs = []
    for student, handin in handins.items():
        assert student == handin.student and student not in ("", ".", "..")
        assert "/" not in student and "\x00" not in student and not student.startswith(".")
        found = match(
            student,
            handin.folder,
            ASSIGNMENTS,
            problem=handin.problem,
            flags=handin.flags,
            budget=SMALL,
        )
        assert [s.assignment for s in found] == list(ASSIGNMENTS)
        assert all(s.student == student for s in found)
        subs += found
    return subs


# --------------------------------------------------------------------------- strategies

NAME_PART = st.one_of(
    st.sampled_from(
        ["..", ".", "", "01_scalars", NAME, "x.zip", "..\\..", "C:", "~", "._x", "é", " "]
    ),
    st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/"),
        min_size=1,
        max_size=10,
    ),
)
MEMBER_NAME = st.one_of(
    st.lists(NAME_PART, min_size=1, max_size=4).map("/".join),
    st.sampled_from(["/etc/passwd", "../../escaped.txt", "..\\..\\escaped.txt", "C:\\x.txt"]),
)
NESTED = zip_bytes([(f"{FIRST}/{NAME}", released().encode(), "file")])
CONTENT = st.one_of(
    st.binary(max_size=200),
    st.integers(3 * KiB, 400 * KiB).map(lambda n: b"\0" * n),  # compressible, over budgets
    st.just(released().encode()),
    st.just(NESTED),
)
MEMBER = st.tuples(MEMBER_NAME, CONTENT, st.sampled_from(["file", "file", "link"]))


@st.composite
def archives(draw) -> bytes:
    members = draw(st.lists(MEMBER, max_size=8))
    if draw(st.booleans()):
        members.append(members[0] if members else ("dup", b"1", "file"))  # a duplicate name
    if draw(st.integers(0, 9)) == 0:
        members += [(f"many/{i}", b"", "file") for i in range(SMALL.members + 1)]
    data = zip_bytes(members, draw(st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])))
    cut = draw(st.one_of(st.none(), st.integers(0, len(data))))
    return data if cut is None else data[:cut]


HANDIN_NAME = st.one_of(
    st.sampled_from(["ada", "Doe, Jane_1234", "..", ".", "...", " bob ", ".hidden", "x.zip"]),
    st.text(
        st.characters(blacklist_characters="\x00/", blacklist_categories=("Cs",)),
        min_size=1,
        max_size=20,
    ).filter(lambda n: n not in (".", "..") and len(n.encode()) < 200),
)


# --------------------------------------------------------------------------- properties


@FEW
@given(archive=archives(), handin=HANDIN_NAME)
def test_any_zip_is_received_without_raising_or_writing_outside_staging(archive, handin):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sentinels(root)
        (root / "in").mkdir()
        (root / "in" / f"{handin}.zip").write_bytes(archive)
        staging = root / "work" / "unpacked"
        before = snapshot(root, skip=(staging,))
        handins = receive(root / "in", staging, SMALL)
        assert snapshot(root, skip=(staging,)) == before
        check_staging(staging, SMALL)
        assert len(handins) == 1
        for handin_ in handins.values():
            assert handin_.folder is None or handin_.folder.parent == staging
        one_submission_each(handins)
        assert set(unpack(root / "in", staging, SMALL)) <= set(handins)


FOLDER_ITEM = st.tuples(
    st.lists(
        st.sampled_from([FIRST, "misc", "sub", ".ipynb_checkpoints", "..x", NAME]), max_size=3
    ),
    st.sampled_from(
        [NAME, "scalars-checkpoint.ipynb", "Copy of scalars.ipynb", "scalars (1).ipynb", "x.ipynb"]
    ),
    st.sampled_from(["notebook", "junk", "json", "link_file", "link_dir", "fifo", "folder", "big"]),
    st.one_of(
        st.binary(max_size=50),
        st.recursive(
            st.none() | st.integers() | st.text(),
            lambda c: st.lists(c) | st.dictionaries(st.text(), c),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode()),
    ),
)


def build_item(folder: Path, item, outside: Path) -> None:
    parts, name, kind, junk = item
    path = folder.joinpath(*parts, name)
    if os.path.lexists(path):
        return  # writing to an earlier FIFO would block the test itself
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if kind == "notebook":
            path.write_text(released(marker=str(path)))
        elif kind in ("junk", "json"):
            path.write_bytes(junk)
        elif kind == "link_file":
            path.symlink_to(outside / "solution.ipynb")
        elif kind == "link_dir":
            path.symlink_to(outside, target_is_directory=True)
        elif kind == "fifo":
            os.mkfifo(path)
        elif kind == "folder":
            path.mkdir()
        elif kind == "big":
            path.write_bytes(b" " * (SMALL.notebook_bytes + 1))
    except OSError:
        pass  # the parent is a file, the name exists: that tree just does not have this item


@FEW
@given(trees=st.lists(st.tuples(HANDIN_NAME, st.lists(FOLDER_ITEM, max_size=8)), max_size=3))
def test_any_folder_tree_is_matched_without_raising_or_reading_links(trees):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sentinels(root)
        outside = root / "outside"
        (outside / "solution.ipynb").write_bytes(SOLUTION.read_bytes())
        (outside / FIRST).mkdir()
        (outside / FIRST / NAME).write_bytes(SOLUTION.read_bytes())
        (root / "in").mkdir()
        for handin, items in trees:
            try:
                (root / "in" / handin).mkdir(exist_ok=True)
            except OSError:
                continue
            for item in items:
                build_item(root / "in" / handin, item, outside)
        staging = root / "work" / "unpacked"
        before = snapshot(root, skip=(staging,))
        read = []
        real_load = submissions.load
        with mock.patch.object(
            submissions, "load", side_effect=lambda p, b=None: read.append(p) or real_load(p, b)
        ):
            handins = receive(root / "in", staging, SMALL)
            subs = one_submission_each(handins)
        assert snapshot(root, skip=(staging,)) == before
        for path in read:  # only regular files inside the hand-in were ever opened
            assert stat.S_ISREG(path.lstat().st_mode)
            assert path.resolve().is_relative_to((root / "in").resolve())
        for sub in subs:
            if sub.path is not None and sub.problem is None:
                assert not sub.path.is_symlink()
                assert load(sub.path).content != SOLUTION.read_bytes()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=12,
)
NBGRADER_META = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {"grade": JSON, "solution": JSON, "locked": JSON},
        optional={"grade_id": st.one_of(JSON, st.sampled_from(["ex1_test", "x"])), "points": JSON},
    ),
)


@st.composite
def notebooks(draw) -> str:
    if draw(st.integers(0, 3)) == 0:
        return json.dumps(draw(JSON))  # any JSON at all
    nb = json.loads(released())
    for cell in nb["cells"]:
        if draw(st.integers(0, 4)) == 0:
            cell.setdefault("metadata", {})["nbgrader"] = draw(NBGRADER_META)
    if draw(st.booleans()) and nb["cells"]:
        repeated = dict(json.loads(json.dumps(nb["cells"][-1])), id="repeated")
        nb["cells"].append(repeated)  # a repeated grade_id
    return json.dumps(nb)


@FEW
@given(text=notebooks())
def test_any_notebook_json_is_read_and_scored_without_raising(text):
    source = pipeline.read(SOLUTION)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ada" / FIRST / NAME
        path.parent.mkdir(parents=True)
        path.write_text(text)
        (sub, *_) = match("ada", Path(tmp) / "ada", ASSIGNMENTS)
        loaded = load(path)
        if loaded.notebook is None:
            assert "not a readable notebook" in (sub.problem or loaded.problem)
            return
        restored, _ = restore_tests(loaded.notebook, source)  # what grade() runs and reads
        scores = score(source, {}, collect(restored))
        assert [s.grade_id for s in scores] == [g for g, _ in pipeline._test_cells(source)]


@FEW
@given(names=st.lists(HANDIN_NAME, min_size=1, max_size=4))
def test_any_hand_in_names_give_safe_distinct_ids(names):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sentinels(root)
        (root / "in").mkdir()
        for i, name in enumerate(names):
            target = root / "in" / (f"{name}.zip" if i % 2 else name)
            if target.exists():
                continue
            if i % 2:
                target.write_bytes(zip_bytes([(f"{FIRST}/{NAME}", released().encode(), "file")]))
            else:
                target.mkdir()
        staging = root / "work" / "unpacked"
        before = snapshot(root, skip=(staging,))
        handins = receive(root / "in", staging, SMALL)
        assert snapshot(root, skip=(staging,)) == before
        assert {p.parent for p in staging.iterdir()} <= {staging}
        one_submission_each(handins)


# --------------------------------------------------------------------------- named cases


@pytest.fixture
def workdir(tmp_path) -> Path:
    sentinels(tmp_path)
    (tmp_path / "in").mkdir()
    return tmp_path


def fake_course(root: Path) -> pipeline.Course:
    """A course whose references are empty (no kernels): enough to plan and to record."""
    course = pipeline.Course(workdir=root / "work")
    for a in course.assignments():
        (course.references_dir / f"{a}.json").write_text("{}")
    return course


def test_dotted_zip_names_and_a_folder_named_like_a_notebook_delete_nothing(workdir):
    for name in ("...zip", "..zip", ".zip"):
        (workdir / "in" / name).write_bytes(zip_bytes([("a.txt", b"x", "file")]))
    (workdir / "in" / "x.zip").mkdir()
    (workdir / "in" / "cy" / FIRST / NAME).mkdir(parents=True)
    course = fake_course(workdir)
    before = snapshot(workdir, skip=(workdir / "work" / "unpacked",))
    jobs = pipeline.plan(course, workdir / "in")
    assert snapshot(workdir, skip=(workdir / "work" / "unpacked",)) == before
    by_student = {}
    for job in jobs:
        by_student.setdefault(job.submission.student, []).append(job.submission)
    assert len(by_student) == 5 and all(len(s) == len(ASSIGNMENTS) for s in by_student.values())
    assert "x.zip" in by_student
    flagged = [s for s in by_student if s not in ("cy", "x.zip")]
    for student in flagged:
        assert "is not a usable student id" in by_student[student][0].flags[0]
        assert (workdir / "work" / "unpacked" / student).is_dir()
    (cy_first, *_) = by_student["cy"]
    assert (
        cy_first.problem
        == f"{FIRST}/{NAME} was not read: it is a folder, not a notebook; it scored 0"
    )


def test_zip_bombs_become_problems(workdir):
    zeros = b"\0" * (SMALL.unzipped_bytes + 1)
    (workdir / "in" / "big.zip").write_bytes(zip_bytes([(f"{FIRST}/{NAME}", zeros, "file")]))
    ratio = [(f"{FIRST}/{NAME}", released().encode(), "file"), ("data.bin", b"\0" * 5000, "file")]
    (workdir / "in" / "ratio.zip").write_bytes(zip_bytes(ratio))
    many = [(f"f{i}", b"", "file") for i in range(SMALL.members + 1)]
    (workdir / "in" / "many.zip").write_bytes(zip_bytes(many))
    handins = receive(workdir / "in", workdir / "work" / "unpacked", SMALL)
    assert handins["big"].problem == (
        "big.zip was not unpacked: it would unpack to more than 262144 bytes; it scored 0"
    )
    assert handins["many"].problem.startswith("many.zip was not unpacked: it holds more than 20")
    assert handins["ratio"].problem is None
    assert handins["ratio"].flags == [
        "ratio.zip: 1 entries were not unpacked: data.bin (it is compressed suspiciously well)"
    ]
    subs = one_submission_each(handins)
    assert all(s.problem for s in subs if s.student in ("big", "many"))
    ratio_first = next(s for s in subs if s.student == "ratio" and s.assignment == FIRST)
    assert ratio_first.problem is None and "suspiciously" in ratio_first.flags[0]
    assert not (workdir / "work" / "unpacked" / "big").exists()


def test_a_zip_and_a_folder_for_one_student_are_flagged_and_the_latest_is_graded(workdir):
    folder = workdir / "in" / "jane" / FIRST / NAME
    folder.parent.mkdir(parents=True)
    folder.write_text(released(marker="folder"))
    archive = workdir / "in" / "jane.zip"
    archive.write_bytes(zip_bytes([(f"{FIRST}/{NAME}", released(marker="zip").encode(), "file")]))
    old = time.time() - 3600
    os.utime(folder, (old, old))
    os.utime(folder.parent.parent, (old, old))
    handins = receive(workdir / "in", workdir / "work" / "unpacked")
    assert list(handins) == ["jane"]
    rule = (
        "2 hand-ins were found for this student: graded jane.zip (the latest modified), "
        "ignored jane"
    )
    subs = one_submission_each(handins)
    assert all(rule in s.flags for s in subs)
    assert load(subs[0].path).notebook.metadata["marker"] == "zip"


def test_a_backup_copy_is_flagged_and_the_right_file_is_scored(workdir, monkeypatch):
    folder = workdir / "in" / "bob" / FIRST
    folder.mkdir(parents=True)
    (folder / NAME).write_text(released(marker="right"))
    os.utime(folder / NAME, (time.time() - 60, time.time() - 60))  # the copies are newer
    for copy in ("scalars-checkpoint.ipynb", "Copy of scalars.ipynb", "scalars (1).ipynb"):
        (folder / copy).write_text(released(marker="wrong"))
    monkeypatch.setattr(pipeline, "grade", fake_grade)
    course = fake_course(workdir)
    job = next(j for j in pipeline.plan(course, workdir / "in") if j.submission.assignment == FIRST)
    result = pipeline.grade_job(job)
    assert result.points == result.max_points > 0 and result.needs_attention
    assert result.problems == [
        "4 files for scalars.ipynb were handed in: graded 01_scalars/scalars.ipynb (the course's "
        "file name in the assignment's folder), ignored 01_scalars/Copy of scalars.ipynb, "
        "01_scalars/scalars (1).ipynb, 01_scalars/scalars-checkpoint.ipynb"
    ]


def test_two_exact_copies_in_two_folders_grade_the_latest_modified(tmp_path):
    for folder, marker, age in (("a", "older", 60), ("b", "newer", 0)):
        path = tmp_path / "eve" / folder / FIRST / NAME
        path.parent.mkdir(parents=True)
        path.write_text(released(marker=marker))
        os.utime(path, (time.time() - age, time.time() - age))
    (sub, *_) = match("eve", tmp_path / "eve", ASSIGNMENTS)
    assert load(sub.path).notebook.metadata["marker"] == "newer" and sub.problem is None
    assert sub.flags == [
        f"2 files for {NAME} were handed in: graded b/{FIRST}/{NAME} (the course's file name in "
        f"the assignment's folder, the latest modified), ignored a/{FIRST}/{NAME}"
    ]


def test_a_symlink_to_the_solution_is_never_read(tmp_path):
    (tmp_path / "mallory" / FIRST).mkdir(parents=True)
    (tmp_path / "mallory" / FIRST / NAME).symlink_to(SOLUTION)
    (tmp_path / "mallory" / "linked").symlink_to(SOLUTION.parent, target_is_directory=True)
    with mock.patch.object(submissions, "load", side_effect=AssertionError("read")):
        (sub, *_) = match("mallory", tmp_path / "mallory", ASSIGNMENTS)
    assert sub.path is None
    assert sub.problem == f"{FIRST}/{NAME} was not read: it is a symbolic link; it scored 0"
    assert "linked is a symbolic link; it was not read" in sub.flags


def test_lms_names_are_ids_and_invalid_names_get_a_safe_flagged_id(workdir):
    (workdir / "in" / "Doe, Jane_1234").mkdir()
    (workdir / "in" / "bad\nname").mkdir()
    (workdir / "in" / " Zoe\u0301 ").mkdir()  # NFD, spaces: normalised to "Zoé"
    handins = receive(workdir / "in", workdir / "work" / "unpacked")
    assert "Doe, Jane_1234" in handins and "Zo\u00e9" in handins
    (bad,) = (h for s, h in handins.items() if s.startswith("bad-name-"))
    assert bad.flags == [
        'the hand-in "bad\\nname" is not a usable student id (it holds control or '
        f"undecodable characters); it was graded as {bad.student}"
    ]


# --------------------------------------------------------------------------- grader failures


def fake_grade(submission_nb, source_nb, references, cwd, **options) -> NotebookGrade:
    """Full marks for the notebook marked "right" (or unmarked), 0 otherwise."""
    full = submission_nb.metadata.get("marker", "right") == "right"
    exercises = [
        ExerciseScore(gid, pts if full else 0.0, pts)
        for gid, pts in pipeline._test_cells(source_nb)
    ]
    return NotebookGrade(exercises, executed=submission_nb)


class FlakyGrade:
    """``grade`` whose machinery fails the first ``failures`` calls (then grades)."""

    def __init__(self, failures: int, how: str = "return"):
        self.failures, self.how, self.calls = failures, how, 0

    def __call__(self, *args, **kwargs) -> NotebookGrade:
        self.calls += 1
        if self.calls > self.failures:
            return fake_grade(*args, **kwargs)
        if self.how == "raise":
            raise RuntimeError("the kernel server is gone")
        graded = fake_grade(*args, **kwargs)
        graded.infrastructure = "the kernel could not start"
        return graded


def one_student(workdir: Path) -> pipeline.Course:
    (workdir / "in" / "ada" / FIRST).mkdir(parents=True)
    (workdir / "in" / "ada" / FIRST / NAME).write_text(released())
    return fake_course(workdir)


@pytest.fixture
def recorded(monkeypatch) -> list:
    calls = []
    monkeypatch.setattr("grader.gradebook.record", lambda result, *a, **k: calls.append(result))
    return calls


def test_an_infrastructure_failure_is_retried_then_not_graded_and_retried_by_the_next_run(
    workdir, monkeypatch, recorded
):
    course = one_student(workdir)
    flaky = FlakyGrade(failures=3)
    monkeypatch.setattr(pipeline, "grade", flaky)
    (first, *missing) = pipeline.autograde(course, workdir / "in", workers=1)
    assert flaky.calls == pipeline.GRADER_ATTEMPTS == 3
    assert first.problems == [
        "this notebook was not graded because the grader failed (the kernel could not start); "
        "it will be graded on the next run"
    ]
    assert first.needs_attention and first.points == 0 and first in recorded
    assert all("missing" in r.problems[0] for r in missing)
    saved = json.loads((course.autograded / "ada" / FIRST / "scalars.json").read_text())
    assert saved["fingerprint"] == ""  # kept for reports, never reused
    (again, *_) = pipeline.autograde(course, workdir / "in", workers=1)
    assert flaky.calls == 4 and again.problems == [] and again.points == again.max_points
    pipeline.autograde(course, workdir / "in", workers=1)
    assert flaky.calls == 4  # graded once it worked: now reused


def test_a_forced_regrade_the_grader_fails_keeps_the_earlier_grade(workdir, monkeypatch, recorded):
    course = one_student(workdir)
    monkeypatch.setattr(pipeline, "grade", fake_grade)
    (graded, *_) = pipeline.autograde(course, workdir / "in", workers=1)
    assert graded.points == graded.max_points > 0 and graded.fingerprint
    monkeypatch.setattr(pipeline, "grade", FlakyGrade(failures=3))
    (forced, *_) = pipeline.autograde(course, workdir / "in", workers=1, force=True)
    assert forced.points == graded.max_points and forced.fingerprint == graded.fingerprint
    assert forced.needs_attention and forced.problems == [
        "regrading failed, the earlier grade was kept: this notebook was not graded because "
        "the grader failed (the kernel could not start); it will be graded on the next run"
    ]
    saved = json.loads((course.autograded / "ada" / FIRST / "scalars.json").read_text())
    assert saved["problems"] == [] and saved["fingerprint"] == graded.fingerprint


def test_one_infrastructure_failure_is_retried_within_the_run(workdir, monkeypatch, recorded):
    course = one_student(workdir)
    flaky = FlakyGrade(failures=1)
    monkeypatch.setattr(pipeline, "grade", flaky)
    (result, *_) = pipeline.autograde(course, workdir / "in", workers=1)
    assert flaky.calls == 2 and result.problems == [] and result.fingerprint


def test_an_exception_inside_grade_job_is_a_problem_and_not_cached(workdir, monkeypatch, recorded):
    course = one_student(workdir)
    flaky = FlakyGrade(failures=1, how="raise")
    monkeypatch.setattr(pipeline, "grade", flaky)
    (result, *_) = pipeline.autograde(course, workdir / "in", workers=1)
    assert result.problems == [
        "the grader failed on this notebook: RuntimeError: the kernel server is gone"
    ]
    assert result.needs_attention and not result.fingerprint
    (again, *_) = pipeline.autograde(course, workdir / "in", workers=1)
    assert flaky.calls == 2 and again.problems == []


def test_a_failing_gradebook_record_is_a_problem_and_the_run_goes_on(workdir, monkeypatch):
    course = one_student(workdir)
    (workdir / "in" / "bob").mkdir()
    monkeypatch.setattr(pipeline, "grade", fake_grade)

    def record(result, *args, **kwargs):
        if result.student == "ada":
            raise OSError("database is locked")

    monkeypatch.setattr("grader.gradebook.record", record)
    results = pipeline.autograde(course, workdir / "in", workers=1)
    assert len(results) == 2 * len(ASSIGNMENTS)
    ada = next(r for r in results if r.student == "ada" and r.assignment == FIRST)
    assert ada.problems == [
        "the grade could not be recorded in the gradebook (OSError: database is locked); "
        "the next run records it again"
    ]
    assert all(r.problems[0].startswith("notebook") for r in results if r.student == "bob")


def test_results_are_written_only_under_the_students_safe_folder(workdir, monkeypatch, recorded):
    (workdir / "in" / "..zip").write_bytes(
        zip_bytes([(f"{FIRST}/{NAME}", released().encode(), "file")])
    )
    course = fake_course(workdir)
    monkeypatch.setattr(pipeline, "grade", fake_grade)
    before = snapshot(workdir, skip=(course.autograded, workdir / "work" / "unpacked"))
    (result, *_) = pipeline.autograde(course, workdir / "in", workers=1)
    assert snapshot(workdir, skip=(course.autograded, workdir / "work" / "unpacked")) == before
    assert result.points == result.max_points > 0
    written = {p.relative_to(course.autograded) for p in course.autograded.rglob("*.*")}
    assert Path(result.student, FIRST, NAME) in written
    assert Path(result.executed_path).parent == course.autograded / result.student / FIRST

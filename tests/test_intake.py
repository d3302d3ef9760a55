"""LMS downloads in, as they come (grader/intake.py, grader/lms_formats.py): Canvas bulk
downloads, Moodle's "Download all submissions", nbgrader's exchange and folders per student,
each built as the LMS builds it (grader/sample_class/lms.py) and taken through
``pipeline.plan``: who each hand-in is graded as, which file, with which time and flags, and
that nothing is dropped or written outside the work folder. No kernels, except one real
autograde of a Canvas download at the end."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import tempfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sandbox_marks import needs_sandbox

from grader import lms_formats, pipeline
from grader.identities import read_identities, read_report
from grader.intake import IntakeError, Sources
from grader.lms_downloads import detect
from grader.moodle_worksheet import read_worksheets
from grader.roster import RosterError
from grader.sample_class.lms import (
    CanvasAssignment,
    CanvasGradebook,
    CanvasHandIn,
    ExchangeHandIn,
    MoodleHandIn,
    Student,
    canvas_folder,
    canvas_gradebook_export,
    canvas_names,
    canvas_zip,
    exchange_folder,
    moodle_folder,
    moodle_participants_csv,
    moodle_worksheet,
    moodle_zip,
    utc,
)

FEW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
COURSE = pipeline.Course()
ASSIGNMENTS = {a: pipeline._notebook_and_ids(COURSE, a) for a in COURSE.assignments()}
FIRST, SECOND = list(ASSIGNMENTS)[:2]  # 01_scalars, 02_dtypes
NAME, NAME2 = ASSIGNMENTS[FIRST][0], ASSIGNMENTS[SECOND][0]  # scalars.ipynb, dtypes.ipynb


def released(assignment: str = FIRST, marker: str | None = None) -> str:
    """The released notebook as a student hands it in; ``marker`` tells copies apart."""
    name = ASSIGNMENTS[assignment][0]
    nb = nbformat.read(str(COURSE.root / "notebooks" / assignment / name), as_version=4)
    if marker:
        nb.metadata["marker"] = marker
    return nbformat.writes(nb)


def marker(sub) -> str | None:
    return nbformat.read(str(sub.path), as_version=4).metadata.get("marker")


def course_to_plan(workdir: Path) -> pipeline.Course:
    """A course whose references are empty (no kernels): enough to plan."""
    course = pipeline.Course(workdir=workdir)
    course.references_dir.mkdir(parents=True)
    for a in course.assignments():
        (course.references_dir / f"{a}.json").write_text("{}")
    return course


@pytest.fixture
def course(tmp_path) -> pipeline.Course:
    return course_to_plan(tmp_path / "work")


def plan(course, *paths, **options) -> dict[str, dict[str, pipeline.Submission]]:
    """student -> assignment -> Submission, checking one Submission per assignment each."""
    jobs = pipeline.plan(course, Sources(tuple(paths), **options))
    subs: dict[str, dict] = {}
    for job in jobs:
        subs.setdefault(job.submission.student, {})[job.submission.assignment] = job.submission
    for student, by_assignment in subs.items():
        assert list(by_assignment) == list(ASSIGNMENTS), student
        assert "/" not in student and not student.startswith(".") and student.strip() == student
    return subs


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


CLASS = [
    Student("Jane", "Doe", 1234, "jdoe", email="jane@uni.edu"),
    Student("José", "Núñez", 1235, "jnunez", email="jose@uni.edu"),
    Student("Al", "Absent", 1236, "aabsent", email="al@uni.edu"),
]
NO_ASSIGNMENTS = CanvasGradebook([])  # a Canvas gradebook export as a roster: only its people


# --------------------------------------------------------------------------- naming rules


SORTABLE = st.text(
    st.characters(blacklist_categories=("Cs",)), max_size=30
)  # any name a person can type, emoji and commas included
UPLOADED = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1, max_size=40
)


@FEW
@given(
    sortable=SORTABLE,
    user_id=st.integers(1, 10**12),
    attachment=st.integers(1, 10**12),
    file=UPLOADED,
    late=st.booleans(),
)
def test_a_canvas_name_says_who_and_which_upload(sortable, user_id, attachment, file, late):
    squashed = lms_formats.canvas_user_name(sortable)
    # Canvas collapses "_12_" but not a trailing "_12" or "_LATE" (then the name is ambiguous
    # in Canvas's own format too)
    assume(not re.search(r"_(\d+|LATE)$", squashed))
    name = lms_formats.canvas_file_name(sortable, user_id, attachment, file, late=late)
    assert "/" not in name and "\0" not in name
    parsed = lms_formats.parse_canvas_name(name)
    assert parsed is not None
    assert (parsed.user_id, parsed.attachment_id, parsed.late) == (str(user_id), attachment, late)
    assert parsed.name == squashed
    uploaded, _ = lms_formats.strip_reupload(re.sub(r'[\x00/\\:*?"<>|]+', "_", file))
    assert parsed.file == uploaded


def test_canvas_names_follow_canvas_s_code():
    """Examples worked from lib/content_zipper.rb by hand."""
    assert lms_formats.canvas_file_name("Doe, Jane", 1234, 98765, "scalars.ipynb") == (
        "doejane_1234_98765_scalars.ipynb"
    )
    assert lms_formats.canvas_file_name("O'Brien-Smith, Ann", 7, 8, "a:b?.ipynb", late=True) == (
        "obriensmithann_LATE_7_8_a_b_.ipynb"
    )
    assert lms_formats.canvas_file_name("Núñez, José", 7, 8, "x.ipynb") == "núñezjosé_7_8_x.ipynb"
    assert lms_formats.canvas_file_name("🙂", 7, 8, "x.ipynb") == "_7_8_x.ipynb"
    assert lms_formats.canvas_file_name("x", 7, 8, "f", anonymous_id="Ab3Xz") == "anon_Ab3Xz_8_f"
    assert canvas_names([CanvasHandIn("Jane Doe", 5, [(NAME, ""), (NAME, ""), ("b.py", "")])]) == [
        "doejane_5_1001_scalars.ipynb",
        "doejane_5_1002_scalars-1.ipynb",
        "doejane_5_1003_b.py",
    ]


@pytest.mark.parametrize(
    ("shown", "uploaded", "n"),
    [
        ("scalars-1.ipynb", "scalars.ipynb", 1),
        ("scalars-7.ipynb", "scalars.ipynb", 7),
        ("scalars-0b7c1a53-1c9e-4f6e-9d1f-2a3b4c5d6e7f.ipynb", "scalars.ipynb", 8),
        ("data.tar-2.gz", "data.tar.gz", 2),
        ("scalars.ipynb", "scalars.ipynb", 0),
        ("my-notebook.ipynb", "my-notebook.ipynb", 0),
        ("2024-01.ipynb", "2024-01.ipynb", 0),
    ],
)
def test_canvas_reupload_suffixes(shown, uploaded, n):
    assert lms_formats.strip_reupload(shown) == (uploaded, n)


@FEW
@given(name=st.text(max_size=40), participant=st.integers(1, 10**9))
def test_a_moodle_folder_name_says_who(name, participant):
    folder = lms_formats.moodle_folder_name(name, participant)
    parsed = lms_formats.parse_moodle_name(folder)
    assert parsed is not None and parsed.file == "" and parsed.plugin == "file"
    assert parsed.participant_id == str(participant)
    assert parsed.full_name == lms_formats.moodle_clean(name.replace("_", " "))
    assert "/" not in folder and "\\" not in folder


def test_moodle_names_follow_moodle_s_code():
    assert lms_formats.moodle_folder_name("Jane O'Doe", 55) == "Jane ODoe_55_assignsubmission_file_"
    flat = lms_formats.parse_moodle_name("Jane Doe_55_assignsubmission_file_scalars.ipynb")
    assert (flat.full_name, flat.participant_id, flat.file) == ("Jane Doe", "55", NAME)
    assert lms_formats.parse_moodle_name("Jane Doe_55_scalars.ipynb") is None


ZONES = [timezone.utc, timezone(timedelta(hours=5, minutes=30)), ZoneInfo("Asia/Tokyo")]


@FEW
@given(
    moment=st.datetimes(
        datetime(2020, 1, 1), datetime(2035, 1, 1), timezones=st.just(timezone.utc)
    ),
    zone=st.sampled_from(ZONES),
)
def test_a_moodle_worksheet_time_reads_back_to_the_minute(moment, zone):
    shown = lms_formats.moodle_userdate(moment, zone)
    assert lms_formats.parse_moodle_userdate(shown, zone) == moment.replace(second=0, microsecond=0)


def test_moodle_times_are_read_in_the_instructor_s_zone():
    paris = lms_formats.zone("Europe/Paris")
    assert lms_formats.moodle_userdate(utc(2027, 2, 1, 17, 3), paris) == (
        "Monday, 1 February 2027, 6:03 PM"
    )
    summer = lms_formats.parse_moodle_userdate("Thursday, 1 July 2027, 12:05 AM", paris)
    assert lms_formats.iso(summer) == "2027-06-30T22:05:00+00:00"
    assert lms_formats.parse_moodle_userdate("-", paris) is None
    assert lms_formats.parse_moodle_userdate("yesterday", paris) is None
    with pytest.raises(ValueError, match="unknown time zone"):
        lms_formats.zone("Mars/Olympus")


# --------------------------------------------------------------------------- detection


def test_each_format_is_detected_from_its_content(tmp_path):
    handins = [CanvasHandIn("Jane Doe", 1, [(NAME, "{}")])]
    assert detect(canvas_zip(tmp_path / "c.zip", handins))[0] == "canvas"
    assert detect(canvas_folder(tmp_path / "c", handins))[0] == "canvas"
    several = tmp_path / "several"
    canvas_zip(several / "a1.zip", handins)
    canvas_zip(several / "a2.zip", handins)
    assert detect(several) == ("canvas", "LMS downloads (2 Canvas zips)")
    moodle_zip(several / "m.zip", [MoodleHandIn("Jane Doe", 55, {NAME: "{}"})])
    (several / "notes.txt").write_text("")
    assert detect(several)[1] == "LMS downloads (2 Canvas zips, 1 Moodle zip, 1 other entry)"
    moodle = [MoodleHandIn("Jane Doe", 55, {NAME: "{}"})]
    assert detect(moodle_zip(tmp_path / "m.zip", moodle))[0] == "moodle"
    assert detect(moodle_zip(tmp_path / "flat.zip", moodle, folders=False))[0] == "moodle"
    assert detect(moodle_folder(tmp_path / "m", moodle))[0] == "moodle"
    exchange = exchange_folder(
        tmp_path / "submitted", [ExchangeHandIn("jdoe", FIRST, {NAME: "{}"}, utc(2027, 1, 1))]
    )
    assert detect(exchange)[0] == "exchange"
    folders = tmp_path / "folders"
    (folders / "ada" / FIRST).mkdir(parents=True)
    assert detect(folders) == ("folders", "a folder per student")
    (tmp_path / "other.zip").write_bytes(b"not a zip")
    assert detect(tmp_path / "other.zip")[0] is None


def test_an_unknown_source_stops_before_grading_and_lms_overrides(course, tmp_path):
    with zipfile.ZipFile(tmp_path / "mystery.zip", "w") as zf:
        zf.writestr("ada/01_scalars/scalars.ipynb", released())
    with pytest.raises(IntakeError, match="neither a Canvas nor a Moodle download"):
        pipeline.plan(course, Sources((tmp_path / "mystery.zip",)))
    with pytest.raises(IntakeError, match="does not exist"):
        pipeline.plan(course, Sources((tmp_path / "nowhere",)))
    with pytest.raises(IntakeError, match="needs a folder"):
        pipeline.plan(course, Sources((tmp_path / "mystery.zip",), lms="exchange"))
    # --lms canvas: read as Canvas; its entries are not Canvas-shaped, so nobody is graded
    # and the file is listed
    subs = plan(course, tmp_path / "mystery.zip", lms="canvas")
    assert subs == {}
    report = read_report(course.workdir)
    assert report["unattributed"] == [f"ada, in {tmp_path / 'mystery.zip'}"]
    assert report["detected"] == [
        f"{tmp_path / 'mystery.zip'}: a Canvas bulk download (as --lms says)"
    ]


# --------------------------------------------------------------------------- Canvas


def test_canvas_download_with_a_roster(course, tmp_path):
    """Ids from the roster by Canvas user id; the LATE marker, a re-upload (the latest wins),
    a renamed notebook, a student not on the roster and one who handed nothing in."""
    download = canvas_zip(
        tmp_path / "in" / "course-notebook-1_submissions.zip",
        [
            CanvasHandIn(
                "Jane Doe",
                1234,
                [(NAME, released(marker="first")), (NAME, released(marker="second"))],
            ),
            CanvasHandIn(
                "José Núñez", 1235, [("my work.ipynb", released(marker="jose"))], late=True
            ),
            CanvasHandIn("Eve Stranger", 999, [(NAME, released(marker="eve"))]),
        ],
    )
    notebook_1 = CanvasGradebook([CanvasAssignment("Notebook 1", 7001, 13.0)])
    roster = canvas_gradebook_export(tmp_path / "roster.csv", CLASS, notebook_1)
    subs = plan(course, download, roster=roster)
    assert set(subs) == {"jdoe", "jnunez", "aabsent", "strangereve"}

    jane = subs["jdoe"][FIRST]
    assert marker(jane) == "second" and jane.problem is None and jane.renamed_from is None
    assert jane.flags == [
        "scalars.ipynb was uploaded 2 times: graded doejane_1234_1002_scalars-1.ipynb (the "
        "latest upload), ignored doejane_1234_1001_scalars.ipynb"
    ]
    assert jane.timestamp is None  # Canvas's download does not say when

    jose = subs["jnunez"][FIRST]
    assert marker(jose) == "jose" and jose.renamed_from.endswith("my work.ipynb")
    assert jose.marked_late is True
    assert subs["jnunez"][SECOND].marked_late is None  # not handed in there

    eve = subs["strangereve"][FIRST]
    assert marker(eve) == "eve"
    assert "Canvas user 999 (strangereve) is not on the roster; graded as strangereve" in eve.flags

    assert all(s.path is None and "no hand-in was received from Al Absent" in s.problem
               for s in subs["aabsent"].values())  # fmt: skip
    report = read_report(course.workdir)
    assert report["unknown"] == [
        "Canvas user 999 (strangereve): not on the roster, graded as strangereve"
    ]
    assert report["missing"] == ["aabsent (Al Absent)"]
    who = read_identities(course.workdir)
    assert who["jdoe"].canvas_id == "1234" and who["jdoe"].on_roster
    assert who["jdoe"].canvas_attachments == {FIRST: "1002"}  # the upload graded
    assert who["jnunez"].late == {FIRST: True} and who["jdoe"].late == {}
    assert who["strangereve"].canvas_id == "999" and not who["strangereve"].on_roster
    assert (course.workdir / "roster.csv").read_bytes() == roster.read_bytes()
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url, course_id="autograd-course") as gradebook:
        rows = {s.id: (s.first_name, s.last_name, s.lms_user_id) for s in gradebook.students}
    assert rows == {  # the roster's people, those without a hand-in too; not the stranger
        "jdoe": ("Jane", "Doe", "1234"),
        "jnunez": ("José", "Núñez", "1235"),
        "aabsent": ("Al", "Absent", "1236"),
    }


def test_the_roster_fills_nbgrader_s_students_table(course, tmp_path):
    from nbgrader.api import Gradebook

    download = canvas_zip(tmp_path / "c.zip", [CanvasHandIn("Jane Doe", 1234, [(NAME, "{}")])])
    roster = moodle_participants_csv(
        tmp_path / "participants.csv",
        [Student("Jane", "Doe", id_number="s1", email="jane@uni.edu"),
         Student("Zoë", "Ångström", id_number="s2", email="zoe@uni.edu")],
    )  # fmt: skip
    subs = plan(course, download, roster=roster)
    # a Moodle roster has no Canvas ids: Jane is found by Canvas's squashed name
    assert set(subs) == {"s1", "s2"}
    with Gradebook(course.db_url, course_id="autograd-course") as gradebook:
        students = {s.id: (s.first_name, s.last_name, s.email) for s in gradebook.students}
    assert students == {
        "s1": ("Jane", "Doe", "jane@uni.edu"),
        "s2": ("Zoë", "Ångström", "zoe@uni.edu"),
    }


def test_canvas_ids_without_a_roster_come_from_canvas_names(course, tmp_path):
    download = canvas_zip(
        tmp_path / "c.zip",
        [
            CanvasHandIn("Jane Doe", 1, [(NAME, released(marker="1"))]),
            CanvasHandIn("Jane Doe", 22, [(NAME, released(marker="2"))]),  # another Jane Doe
            CanvasHandIn("🙂", 3, [(NAME, released(marker="3"))]),
            CanvasHandIn("x", 4, [(NAME, released(marker="4"))], sortable_name="Doe, Jane, Jr."),
            CanvasHandIn("Zoë Ångström-Łukasz", 5, [(NAME, released(marker="5"))]),
            CanvasHandIn("", 6, [(NAME, released(marker="6"))], anonymous_id="Q7xZp"),
        ],
    )
    subs = plan(course, download)
    graded = {student: marker(by[FIRST]) for student, by in subs.items()}
    assert graded == {
        "doejane": "1",
        "doejane-22": "2",
        "canvas-3": "3",
        "doejanejr": "4",
        "ångströmłukaszzoë": "5",
        "anon-Q7xZp": "6",
    }
    assert not any(s.flags for by in subs.values() for s in by.values())  # no roster: no flags
    assert read_report(course.workdir)["unknown"] == []


def test_several_canvas_downloads_and_an_unzipped_one_merge_per_student(course, tmp_path):
    source = tmp_path / "canvas"
    canvas_zip(
        source / "notebook-1.zip", [CanvasHandIn("Jane Doe", 1, [(NAME, released(marker="a1"))])]
    )
    canvas_zip(
        source / "notebook-2.zip",
        [CanvasHandIn("Jane Doe", 1, [(NAME2, released(SECOND, marker="a2"))], late=True)],
        first_attachment=5000,
    )
    unzipped = canvas_folder(
        tmp_path / "unzipped", [CanvasHandIn("Bo Li", 2, [(NAME, released(marker="bo"))])]
    )
    subs = plan(course, source, unzipped)
    assert set(subs) == {"doejane", "libo"}
    jane = subs["doejane"]
    assert (marker(jane[FIRST]), marker(jane[SECOND])) == ("a1", "a2")
    assert jane[FIRST].marked_late is False  # late only in notebook 2
    assert jane[SECOND].marked_late is True
    assert jane[FIRST].path.parent.name != jane[SECOND].path.parent.name  # one folder each
    assert marker(subs["libo"][FIRST]) == "bo"
    assert (unzipped / canvas_names([CanvasHandIn("Bo Li", 2, [(NAME, "")])])[0]).exists()


def test_a_student_s_own_zip_inside_the_canvas_download_is_unpacked(course, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr(f"homework/{FIRST}/{NAME}", released(marker="zipped"))
        zf.writestr("../../escape.txt", "x")
        zf.writestr("homework/link", "")
    download = canvas_zip(
        tmp_path / "c.zip", [CanvasHandIn("Jane Doe", 1, [("homework.zip", inner.getvalue())])]
    )
    subs = plan(course, download)
    jane = subs["doejane"][FIRST]
    assert marker(jane) == "zipped" and jane.problem is None
    assert read_identities(course.workdir)["doejane"].canvas_attachments == {FIRST: "1001"}
    assert any("escape.txt (its path leaves the hand-in)" in f for f in jane.flags)
    assert not (tmp_path / "escape.txt").exists() and not (course.workdir / "escape.txt").exists()


def test_hostile_names_in_a_canvas_download_stay_inside_the_work_folder(course, tmp_path):
    text = released(marker="ok")
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w") as zf:
        for name in (
            "../evil_1_2_scalars.ipynb",
            "/abs_1_3_scalars.ipynb",
            "doejane_1_4_" + "a" * 300 + ".ipynb",
            "doejane_1_5_..",
            "doejane_1_6_scalars.ipynb",
            "sub/dir_7_8_x.ipynb",
            "notes.txt",
            "nul\x00_9_10_x.ipynb",
        ):
            info = zipfile.ZipInfo(name)
            zf.writestr(info, text)
    (tmp_path / "c.zip").write_bytes(raw.getvalue())
    before = files_under(tmp_path) - files_under(course.workdir)
    subs = plan(course, tmp_path / "c.zip", lms="canvas")
    assert files_under(tmp_path) - files_under(course.workdir) == before
    assert marker(subs["doejane"][FIRST]) == "ok"
    report = read_report(course.workdir)
    listed = " ".join(report["unattributed"])
    assert "notes.txt" in listed and "sub" in listed  # never dropped silently
    for student in subs:
        assert (course.workdir / "received" / student).is_dir()


@FEW
@given(
    names=st.lists(st.tuples(st.text(max_size=25), st.integers(1, 10**6)), min_size=1, max_size=5),
    late=st.booleans(),
)
def test_any_canvas_class_is_planned_one_submission_each(names, late):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course = course_to_plan(root / "work")
        people = {user_id: name for name, user_id in names}  # one name per Canvas user
        handins = [
            CanvasHandIn(name, user_id, [(NAME, released(marker=str(user_id)))], late=late)
            for user_id, name in people.items()
        ]
        subs = plan(course, canvas_zip(root / "in" / "c.zip", handins))
        graded = {marker(by[FIRST]) for by in subs.values()}
        assert graded == {str(u) for u in people}  # everyone graded, each under one id
        assert len(subs) == len(people)
        for by in subs.values():
            assert by[FIRST].path.is_relative_to(course.workdir / "received")
            assert by[FIRST].marked_late is late


# --------------------------------------------------------------------------- Moodle


MOODLE_CLASS = [
    MoodleHandIn("Jane Doe", 501, {NAME: released(marker="jane")}, "jane@uni.edu", utc(2027, 2, 1, 17, 3)),
    MoodleHandIn("José Núñez", 502, {"Copy of scalars.ipynb": released(marker="jose")}, "jose@uni.edu", utc(2027, 2, 2, 9, 30)),
    MoodleHandIn("Eve Stranger", 503, {NAME: released(marker="eve")}, "eve@else.org", None),
]  # fmt: skip


@pytest.mark.parametrize("layout", ["zip", "flat zip", "unzipped"])
def test_moodle_download_with_worksheet_and_roster(course, tmp_path, layout):
    build = {
        "zip": lambda p: moodle_zip(p / "notebook1.zip", MOODLE_CLASS, onlinetext=True),
        "flat zip": lambda p: moodle_zip(p / "notebook1.zip", MOODLE_CLASS, folders=False),
        "unzipped": lambda p: moodle_folder(p / "notebook1", MOODLE_CLASS, onlinetext=True),
    }
    download = build[layout](tmp_path / "in")
    paris = ZoneInfo("Europe/Paris")
    worksheet = moodle_worksheet(tmp_path / "worksheet.csv", MOODLE_CLASS, paris)
    roster = moodle_participants_csv(
        tmp_path / "roster.csv",
        [Student("Jane", "Doe", id_number="s1", email="JANE@uni.edu"),
         Student("José", "Núñez", id_number="s2", email="jose@uni.edu"),
         Student("Al", "Absent", id_number="s3", email="al@uni.edu")],
    )  # fmt: skip
    subs = plan(course, download, roster=roster, worksheets=(worksheet,), timezone="Europe/Paris")
    assert set(subs) == {"s1", "s2", "s3", "eve-stranger"}
    assert marker(subs["s1"][FIRST]) == "jane"
    assert subs["s1"][FIRST].timestamp == "2027-02-01T17:03:00+00:00"
    assert subs["s2"][FIRST].timestamp == "2027-02-02T09:30:00+00:00"
    assert subs["s2"][FIRST].renamed_from.endswith("Copy of scalars.ipynb")
    assert subs["eve-stranger"][FIRST].timestamp is None  # "-" in the worksheet
    assert subs["s1"][SECOND].timestamp is None  # nothing handed in for it
    who = read_identities(course.workdir)
    folder = who["s1"].moodle_folder(FIRST)
    assert (folder.participant_id, folder.full_name) == ("501", "Jane Doe")
    assert folder.folder == "Jane Doe_501_assignsubmission_file_"
    assert who["s1"].timestamps == {FIRST: "2027-02-01T17:03:00+00:00"}
    assert read_report(course.workdir)["unknown"] == [
        'Moodle participant 503 ("Eve Stranger"): not on the roster, graded as eve-stranger'
    ]


def test_moodle_worksheet_times_need_a_time_zone(course, tmp_path):
    download = moodle_zip(tmp_path / "m.zip", MOODLE_CLASS)
    worksheet = moodle_worksheet(tmp_path / "w.csv", MOODLE_CLASS, ZoneInfo("Europe/Paris"))
    subs = plan(course, download, worksheets=(worksheet,))
    assert subs["jane-doe"][FIRST].timestamp is None
    assert read_report(course.workdir)["problems"] == [
        "2 hand-in times of the Moodle worksheets were not used: no --timezone was given"
    ]
    (tmp_path / "grades.csv").write_text("Name,Grade\nJane,3\n")
    with pytest.raises(IntakeError, match="not a Moodle offline grading worksheet"):
        pipeline.plan(course, Sources((download,), worksheets=(tmp_path / "grades.csv",)))


def test_moodle_blind_marking_and_namesakes_are_told_apart(course, tmp_path):
    namesakes = [
        MoodleHandIn("Wei Zhang", 11, {NAME: released(marker="11")}),
        MoodleHandIn("Wei Zhang", 12, {NAME: released(marker="12")}),
    ]
    blind = [
        MoodleHandIn("Ann A", 21, {NAME2: released(SECOND, marker="21")}),
        MoodleHandIn("Bob B", 22, {NAME2: released(SECOND, marker="22")}),
    ]
    subs = plan(
        course,
        moodle_zip(tmp_path / "in" / "a1.zip", namesakes),
        moodle_zip(tmp_path / "in" / "a2.zip", blind, blind=True),
    )
    assert {s: marker(by[FIRST]) for s, by in subs.items() if by[FIRST].path} == {
        "wei-zhang": "11",
        "wei-zhang-12": "12",
    }
    assert {s: marker(by[SECOND]) for s, by in subs.items() if by[SECOND].path} == {
        "participant-21": "21",
        "participant-22": "22",
    }
    assert any(
        "more than one Moodle participant is named" in f for f in subs["wei-zhang-12"][FIRST].flags
    )


def test_moodle_participants_of_several_assignments_are_one_student(course, tmp_path):
    a1 = [MoodleHandIn("Jane Doe", 501, {NAME: released(marker="a1")})]
    a2 = [MoodleHandIn("Jane Doe", 901, {NAME2: released(SECOND, marker="a2")})]
    subs = plan(course, moodle_zip(tmp_path / "a1.zip", a1), moodle_zip(tmp_path / "a2.zip", a2))
    assert list(subs) == ["jane-doe"]
    assert (marker(subs["jane-doe"][FIRST]), marker(subs["jane-doe"][SECOND])) == ("a1", "a2")
    who = read_identities(course.workdir)["jane-doe"]
    assert who.moodle_folder(FIRST).participant_id == "501"
    assert who.moodle_folder(SECOND).participant_id == "901"


# --------------------------------------------------------------------------- exchange


def test_exchange_times_are_nbgrader_s(course, tmp_path):
    cet = timezone(timedelta(hours=1), "CET")
    submitted = exchange_folder(
        tmp_path / "submitted",
        [
            ExchangeHandIn("jdoe", FIRST, {NAME: released(marker="j1")}, utc(2027, 2, 1, 17, 3)),
            ExchangeHandIn("jdoe", SECOND, {NAME2: released(SECOND)}, datetime(2027, 2, 8, 18, 3, tzinfo=cet)),
            ExchangeHandIn("bo", FIRST, {NAME: released()}, "2027-02-01 10:00:00.000000 XYZT"),
            ExchangeHandIn("cy", FIRST, {NAME: released()}, "not a time"),
            ExchangeHandIn("di", FIRST, {NAME: released()}, None),
        ],
    )  # fmt: skip
    os.symlink("/etc/hostname", submitted / "di" / FIRST / "timestamp.txt")
    subs = plan(course, submitted)
    assert subs["jdoe"][FIRST].timestamp == "2027-02-01T17:03:00+00:00"
    assert subs["jdoe"][SECOND].timestamp == "2027-02-08T17:03:00+00:00"  # CET is UTC+1
    assert subs["bo"][FIRST].timestamp == "2027-02-01T10:00:00+00:00"
    assert 'the time zone "XYZT" is unknown; read as UTC, as nbgrader does' in " ".join(
        subs["bo"][FIRST].flags
    )
    assert subs["cy"][FIRST].timestamp is None
    assert "timestamp.txt could not be read" in " ".join(subs["cy"][FIRST].flags)
    assert subs["di"][FIRST].timestamp is None  # a link is never followed
    assert "the hand-in time is unknown" in " ".join(subs["di"][FIRST].flags)
    assert read_report(course.workdir)["detected"][0].endswith("nbgrader's exchange "
        "(submitted/{student}/{assignment}/timestamp.txt)")  # fmt: skip


# --------------------------------------------------------------------------- folders, rosters


def test_a_plain_folder_run_is_as_before_and_removes_stale_identities(course, tmp_path):
    folders = tmp_path / "folders"
    (folders / "ada" / FIRST).mkdir(parents=True)
    (folders / "ada" / FIRST / NAME).write_text(released(marker="ada"))
    canvas = canvas_zip(tmp_path / "c.zip", [CanvasHandIn("Jane Doe", 1, [(NAME, "{}")])])
    plan(course, canvas)
    assert (course.workdir / "received" / "identities.json").exists()
    subs = pipeline.plan(course, folders)  # a plain path, as before the intake
    assert [j.submission.student for j in subs][:1] == ["ada"]
    assert not (course.workdir / "received").exists()
    assert read_identities(course.workdir) == {} and read_report(course.workdir) == {}


def test_folders_with_a_roster_and_the_roster_kept_for_later_runs(course, tmp_path):
    folders = tmp_path / "folders"
    for name in ("jdoe", "jose@uni.edu", "Stranger"):
        (folders / name / FIRST).mkdir(parents=True)
        (folders / name / FIRST / NAME).write_text(released(marker=name))
    people = [
        Student(s.first_name, s.last_name, id_number=s.sis_user_id, email=s.email) for s in CLASS
    ]
    roster = moodle_participants_csv(tmp_path / "roster.csv", people)  # it has e-mails
    subs = plan(course, folders, roster=roster)
    assert {s: marker(by[FIRST]) for s, by in subs.items() if by[FIRST].path} == {
        "jdoe": "jdoe",
        "jnunez": "jose@uni.edu",
        "Stranger": "Stranger",
    }
    assert (
        "the hand-in Stranger is not on the roster; graded as Stranger"
        in subs["Stranger"][FIRST].flags
    )
    # a later run without --roster keeps the same ids (WORKDIR/roster.csv)
    again = plan(course, folders)
    assert set(again) == set(subs)
    assert course.roster() is not None and len(course.roster()) == 3


def test_a_bad_roster_stops_before_grading_and_keeps_the_good_copy(course, tmp_path):
    good = canvas_gradebook_export(tmp_path / "roster.csv", CLASS, NO_ASSIGNMENTS)
    download = canvas_zip(tmp_path / "c.zip", [CanvasHandIn("Jane Doe", 1234, [(NAME, "{}")])])
    plan(course, download, roster=good)
    (tmp_path / "bad.csv").write_text("colour,size\nred,3\n")
    with pytest.raises(RosterError):
        pipeline.plan(course, Sources((download,), roster=tmp_path / "bad.csv"))
    assert (course.workdir / "roster.csv").read_bytes() == good.read_bytes()


def test_a_damaged_class_archive_is_said_and_the_run_goes_on(course, tmp_path):
    ok = canvas_zip(tmp_path / "ok.zip", [CanvasHandIn("Jane Doe", 1234, [(NAME, released())])])
    folder = tmp_path / "downloads"
    canvas_zip(folder / "good.zip", [CanvasHandIn("Bo Li", 2, [(NAME, released())])])
    data = (folder / "good.zip").read_bytes()
    (folder / "cut.zip").write_bytes(data[: len(data) // 2])  # not even a zip any more
    roster = canvas_gradebook_export(tmp_path / "r.csv", CLASS, NO_ASSIGNMENTS)
    subs = plan(course, ok, folder, roster=roster)
    assert subs["jdoe"][FIRST].problem is None
    assert "libo" in subs  # not on the roster, still graded
    report = read_report(course.workdir)
    # in a folder of downloads, a file that is not one is listed, like any stray file
    assert [line for line in report["unattributed"] if "cut.zip" in line] == [
        f"cut.zip, in {folder}"
    ]
    # given as a download itself, it is a source that could not be read: said, and said
    # again on the notebooks of the roster's students who then have no hand-in
    subs = plan(course, ok, folder / "cut.zip", roster=roster, lms="canvas")
    report = read_report(course.workdir)
    assert report["problems"] == [
        f"{folder / 'cut.zip'} was not unpacked: it is not a zip archive, or it is damaged"
    ]
    assert "some sources could not be read" in subs["jnunez"][FIRST].problem
    assert subs["jdoe"][FIRST].problem is None


def test_identities_json_is_what_read_identities_reads(course, tmp_path):
    plan(course, moodle_zip(tmp_path / "m.zip", MOODLE_CLASS[:1]))
    data = json.loads((course.workdir / "received" / "identities.json").read_text())
    assert data["version"] == 1
    assert data["students"]["jane-doe"]["moodle"][FIRST] == {
        "participant_id": "501",
        "full_name": "Jane Doe",
        "folder": "Jane Doe_501_assignsubmission_file_",
    }
    assert read_identities(course.workdir)["jane-doe"].lms == "moodle"


# --------------------------------------------------------------------------- a real run


@pytest.mark.slow
@pytest.mark.xdist_group("pipeline")
@needs_sandbox
def test_a_canvas_download_is_autograded_for_real(tmp_path):
    """Three students in one Canvas zip, graded by real sandboxed kernels: the roster's ids,
    the expected points, the late flag, the re-upload graded, and the gradebook's names."""
    from nbgrader.api import Gradebook

    from grader.sample_class import RECIPES, Assignment
    from grader.sandbox import Limits

    course = pipeline.Course(
        workdir=tmp_path / "work", limits=Limits(cell_timeout=10, notebook_timeout=120)
    )
    pipeline.release(course, [FIRST], generate=False, log=lambda *a: None)
    for a in list(ASSIGNMENTS)[1:]:  # the others: no exercises to run (all missing anyway)
        shutil.copy(course.references_dir / f"{FIRST}.json", course.references_dir / f"{a}.json")
    source = nbformat.read(str(COURSE.source_path(FIRST)), as_version=4)
    work = {s: RECIPES[s](Assignment(FIRST, source)) for s in ("ada", "bob", "cy")}
    text = {s: nbformat.writes(w.nb) for s, w in work.items()}
    download = canvas_zip(
        tmp_path / "notebook1.zip",
        [
            CanvasHandIn("Ada Lovelace", 11, [(NAME, text["ada"])]),
            CanvasHandIn("Bob Builder", 12, [(NAME, text["cy"]), (NAME, text["bob"])], late=True),
            CanvasHandIn("Cy Young", 13, [("Copy of scalars.ipynb", text["cy"])]),
        ],
    )
    roster = canvas_gradebook_export(
        tmp_path / "roster.csv",
        [Student("Ada", "Lovelace", 11, "s11"),
         Student("Bob", "Builder", 12, "s12"), Student("Cy", "Young", 13, "s13")],
        NO_ASSIGNMENTS,
    )  # fmt: skip
    results = pipeline.autograde(course, Sources((download,), roster=roster), workers=2)
    first = {r.student: r for r in results if r.assignment == FIRST}
    assert set(first) == {"s11", "s12", "s13"}
    for student, recipe in (("s11", "ada"), ("s12", "bob"), ("s13", "cy")):
        assert first[student].points == pytest.approx(work[recipe].points), student
    assert first["s11"].problems == [] and not first["s11"].needs_attention
    assert first["s12"].marked_late is True and first["s12"].timestamp is None
    assert any("renamed" in p for p in first["s13"].problems)
    with Gradebook(course.db_url, course_id="autograd-course") as gradebook:
        ada = gradebook.find_student("s11")
        assert (ada.first_name, ada.last_name) == ("Ada", "Lovelace")  # Canvas has no e-mails
        assert gradebook.find_submission(FIRST, "s12").score == pytest.approx(work["bob"].points)


# --------------------------------------------------------------------------- hostile LMS files


CELL = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@FEW
@given(
    rows=st.lists(
        st.tuples(st.integers(1, 10**9), CELL, CELL, st.one_of(CELL, st.just("-"))),
        max_size=6,
        unique_by=lambda r: r[0],
    ),
    delimiter=st.sampled_from([",", ";"]),
)
def test_any_moodle_worksheet_is_read_cell_for_cell(rows, delimiter):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "worksheet.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=delimiter)
        writer.writerow(lms_formats.MOODLE_WORKSHEET_COLUMNS)
        for pid, name, email, when in rows:
            writer.writerow([f"Participant {pid}", name, email, "", "", "", "", when, "", ""])
        path.write_text(buffer.getvalue(), encoding="utf-8")
        read = read_worksheets([path], "Europe/Paris")
    assert set(read) == {str(pid) for pid, *_ in rows}
    for pid, name, email, _ in rows:
        row = read[str(pid)]
        assert row.full_name == name.replace("\0", "").strip()
        assert row.email == email.replace("\0", "").strip()
        assert row.timestamp is None or datetime.fromisoformat(row.timestamp).tzinfo is not None


RAW_NAME = st.one_of(  # zipfile cuts a name at NUL: NUL names are the Canvas test's
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=20),
    st.sampled_from(["..", "../..", "/abs", "C:\\x", "a\\b", "Participant", ""]),
)


@FEW
@given(
    people=st.lists(
        st.tuples(RAW_NAME, st.integers(1, 10**6)), min_size=1, max_size=4, unique_by=lambda p: p[1]
    ),
    flat=st.booleans(),
)
def test_any_moodle_download_is_planned_inside_the_work_folder(people, flat):
    """Folder names as a hostile archive may hold them (not cleaned the way Moodle cleans)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course = course_to_plan(root / "work")
        with zipfile.ZipFile(root / "m.zip", "w") as zf:
            for name, pid in people:
                prefix = f"{name}_{pid}_assignsubmission_file_"
                zf.writestr(prefix + ("" if flat else "/") + NAME, released(marker=str(pid)))
        outside = files_under(root) - files_under(course.workdir)
        subs = plan(course, root / "m.zip", lms="moodle")
        assert files_under(root) - files_under(course.workdir) == outside
        for by in subs.values():
            sub = by[FIRST]
            assert sub.path is None or sub.path.is_relative_to(course.workdir / "received")
        graded = {marker(by[FIRST]) for by in subs.values() if by[FIRST].path}
        # whoever has a name an archive can hold as one folder (or, flat, one file name: no
        # "_", which Moodle never leaves in a name) is graded
        unsplit = ("/", "\\", "_") if flat else ("/", "\\")
        whole = {str(pid) for name, pid in people if not any(c in name for c in unsplit)}
        assert whole <= graded
        assert graded <= {str(pid) for _, pid in people}


@FEW
@given(stamp=st.binary(max_size=60))
def test_any_exchange_timestamp_file_gives_a_time_or_says_why_not(stamp):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        course = course_to_plan(root / "work")
        submitted = exchange_folder(
            root / "submitted", [ExchangeHandIn("ada", FIRST, {NAME: "{}"}, "x")]
        )
        (submitted / "ada" / FIRST / "timestamp.txt").write_bytes(stamp)
        sub = plan(course, submitted, lms="exchange")["ada"][FIRST]
    if sub.timestamp is None:
        assert any("timestamp.txt" in f and "unknown" in f for f in sub.flags)
    else:
        assert datetime.fromisoformat(sub.timestamp).utcoffset() == timedelta(0)


def test_links_in_an_unzipped_download_are_never_followed(course, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / NAME).write_text(released(marker="outside"))
    moodle = moodle_folder(tmp_path / "moodle", MOODLE_CLASS[:1])
    jane = moodle / lms_formats.moodle_folder_name("Jane Doe", 501)
    os.symlink(secret, jane / "notes.ipynb")
    os.symlink(outside, moodle / lms_formats.moodle_folder_name("Mal Icious", 666))
    canvas = canvas_folder(tmp_path / "canvas", [CanvasHandIn("Bo Li", 2, [(NAME, released())])])
    os.symlink(secret, canvas / "evilmal_3_4_scalars.ipynb")
    subs = plan(course, moodle, canvas)
    assert marker(subs["jane-doe"][FIRST]) == "jane"
    assert "notes.ipynb was not read (it is a symbolic link)" in subs["jane-doe"][FIRST].flags
    assert set(subs) == {"jane-doe", "libo"}  # the linked folder and file: nobody's
    unattributed = read_report(course.workdir)["unattributed"]
    assert unattributed == [
        f"Mal Icious_666_assignsubmission_file_ (a symbolic link: not read), in {moodle}",
        f"evilmal_3_4_scalars.ipynb (a symbolic link: not read), in {canvas}",
    ]
    copied = [p for p in (course.workdir / "received").rglob("*") if p.is_file()]
    assert all("SECRET" not in p.read_text(errors="replace") for p in copied)
    assert not any(p.is_symlink() for p in (course.workdir / "received").rglob("*"))


def test_an_unzipped_download_is_copied_within_a_budget(tmp_path):
    from grader.submissions import Budget, copy_tree

    small = Budget(member_bytes=100, unzipped_bytes=150, members=20, depth=2)
    source = tmp_path / "download"
    (source / "a" / "b" / "c").mkdir(parents=True)
    (source / "ok.txt").write_bytes(b"x" * 60)
    (source / "big.bin").write_bytes(b"x" * 101)
    (source / "a" / "fits.txt").write_bytes(b"x" * 60)
    (source / "a" / "over.txt").write_bytes(b"x" * 60)  # 180 bytes in all: over 150
    (source / "a" / "b" / "c" / "deep.txt").write_text("deep")
    os.mkfifo(source / "pipe")
    os.symlink("/etc/passwd", source / "link")
    copied = copy_tree(source, tmp_path / "copy", small)
    assert copied.problem is None
    assert sorted(
        p.relative_to(tmp_path / "copy").as_posix() for p in files_under(tmp_path / "copy")
    ) == [
        "a/fits.txt",
        "ok.txt",
    ]
    assert dict(copied.skipped) == {
        "a/b/c": "it is nested too deeply",
        "a/over.txt": "it is larger than 30 bytes",
        "big.bin": "it is larger than 100 bytes",
        "link": "it is a symbolic link",
        "pipe": "it is not a regular file",
    }
    many = tmp_path / "many"
    many.mkdir()
    for n in range(21):
        (many / str(n)).write_text("")
    refused = copy_tree(many, tmp_path / "copy2", small)
    assert refused.reason == "it holds more than 20 files" and not (tmp_path / "copy2").exists()
    assert copy_tree(source / "link", tmp_path / "copy3", small).problem is not None


def test_a_bad_source_stops_before_the_last_run_s_record_is_touched(course, tmp_path):
    download = canvas_zip(tmp_path / "c.zip", [CanvasHandIn("Jane Doe", 1234, [(NAME, "{}")])])
    plan(course, download)
    before = (course.workdir / "received" / "identities.json").read_bytes()
    (tmp_path / "notes.txt").write_text("not a download")
    for bad in (
        Sources((download, tmp_path / "notes.txt")),
        Sources((download,), worksheets=(tmp_path / "notes.txt",)),
        Sources((download,), roster=tmp_path / "notes.txt"),
    ):
        with pytest.raises((IntakeError, RosterError)):
            pipeline.plan(course, bad)
        assert (course.workdir / "received" / "identities.json").read_bytes() == before

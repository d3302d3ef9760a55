"""grader.deadlines: due dates, extensions and the late penalty, and where they show up.

The policy's arithmetic is checked by its properties (hypothesis); the file's mistakes by the
message each one gets; the gradebook by nbgrader itself: nbgrader's own ``AssignLatePenalties``
preprocessor, run with our ``LatePenaltyPlugin`` on the same database, must compute the penalty
we recorded, and nbgrader's ``CsvExportPlugin`` must export the same grades.csv as ours. Every
time has an explicit UTC offset or zone: nothing depends on the machine's clock or zone.
"""

from __future__ import annotations

import io
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from nbgrader.api import Gradebook
from nbgrader.plugins.export import CsvExportPlugin
from nbgrader.preprocessors import AssignLatePenalties
from rich.console import Console
from sandbox_marks import needs_sandbox
from test_export import ASSIGNMENT, NOTEBOOK, POINTS, exercises, read_rows, source_notebook
from traitlets.config import Config

from grader.deadlines import (
    ConfigError,
    Deadlines,
    LatePenaltyPlugin,
    Policy,
    format_duration,
    install,
    load_deadlines,
    parse_duration,
)
from grader.feedback import write_feedback
from grader.gradebook import COURSE_ID, export_csv, record
from grader.report import print_summary, summary_table
from grader.results import NotebookResult

pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")

CET = timezone(timedelta(hours=1))
DUE = datetime(2027, 2, 1, 23, 59, tzinfo=CET)
MAX_SCORE = sum(POINTS.values())  # 5
DAY = 86400.0

DEADLINES = f"""
timezone = "Europe/Berlin"

[due]
"{ASSIGNMENT}" = 2027-02-01T23:59:00+01:00

[penalty]
percent = 10
per = "day"
grace = "15 minutes"
cap = 50

[extensions]
jdoe = "2 days"
asmith = {{ "{ASSIGNMENT}" = 2027-02-03T12:00:00+01:00 }}

[handed_in]
carl = {{ "{ASSIGNMENT}" = 2027-02-02T00:10:00+01:00 }}
"""


def write(folder: Path, text: str, name: str = "deadlines.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def result(student: str, t1: float, t2: float, timestamp: str | None, **kw) -> NotebookResult:
    """A notebook that was handed in and run (``executed_path`` names a file the feedback
    page does not find: it then shows no notebook, which these tests do not look at)."""
    kw.setdefault("executed_path", "never-written/executed.ipynb")
    r = NotebookResult(student, ASSIGNMENT, NOTEBOOK, exercises(t1, t2), **kw)
    r.timestamp = timestamp
    return r


def late_by(seconds: float, start: datetime = DUE) -> str:
    return (start + timedelta(seconds=seconds)).isoformat()


# --------------------------------------------------------------------------- the policy

POLICIES = st.builds(
    Policy,
    percent=st.floats(0, 100),
    per=st.sampled_from(["day", "hour"]),
    grace=st.integers(0, 3 * 86400).map(lambda s: timedelta(seconds=s)),
    cap=st.floats(0, 100),
    zero_after=st.none() | st.integers(1, 30 * 86400).map(lambda s: timedelta(seconds=s)),
    of=st.sampled_from(["max_points", "score"]),
)
SECONDS = st.floats(0, 60 * DAY, allow_nan=False)
SCORES = st.tuples(st.floats(0, 100), st.floats(0, 100)).map(sorted)  # (score, max_points)


@settings(max_examples=400)
@given(policy=POLICIES, points=SCORES, early=SECONDS, later=SECONDS)
def test_the_penalty_grows_with_lateness_and_stays_between_0_and_the_score(
    policy, points, early, later
):
    score, max_points = points
    early, later = sorted((early, later))
    first = policy.penalty(score, max_points, early)
    second = policy.penalty(score, max_points, later)
    assert 0.0 <= first <= second <= round(score, 6)


@given(policy=POLICIES, points=SCORES, seconds=SECONDS)
def test_the_penalty_never_passes_the_cap_before_zero_after(policy, points, seconds):
    score, max_points = points
    assume(not policy.zeroed(seconds))
    basis = max_points if policy.of == "max_points" else score
    assert policy.penalty(score, max_points, seconds) <= basis * policy.cap / 100 + 1e-6


@given(policy=POLICIES, points=SCORES, seconds=SECONDS)
def test_nothing_is_taken_within_the_grace_period(policy, points, seconds):
    score, max_points = points
    assume(seconds <= policy.grace.total_seconds())
    assert policy.penalty(score, max_points, seconds) == 0.0


@given(policy=POLICIES, points=SCORES, seconds=SECONDS)
def test_past_zero_after_and_the_grace_the_whole_score_goes(policy, points, seconds):
    score, max_points = points
    assume(policy.zeroed(seconds) and seconds > policy.grace.total_seconds())
    assert policy.penalty(score, max_points, seconds) == round(score, 6)


@given(percent=st.floats(0.5, 20), days=st.integers(1, 4), into=st.floats(0.001, 0.999))
def test_every_day_started_costs_percent_of_the_maximum(percent, days, into):
    policy = Policy(percent=percent, per="day", cap=100)
    seconds = (days - 1 + into) * DAY  # into the days-th day
    assert policy.penalty(100.0, 100.0, seconds) == pytest.approx(min(100, days * percent))


def test_the_counting_starts_at_the_due_date_not_at_the_end_of_the_grace():
    policy = Policy(percent=10, per="hour", grace=timedelta(minutes=15))
    assert policy.penalty(13, 13, 15 * 60) == 0.0  # the last second of the grace
    assert policy.penalty(13, 13, 15 * 60 + 1) == 1.3  # one hour started
    assert policy.penalty(13, 13, 3600) == 1.3  # still the first hour
    assert policy.penalty(13, 13, 3601) == 2.6  # the second hour


def test_of_score_takes_a_share_of_what_was_earned():
    policy = Policy(percent=20, of="score")
    assert policy.penalty(5, 10, 1) == 1.0
    assert Policy(percent=20).penalty(5, 10, 1) == 2.0  # of the maximum points


def test_a_blank_notebook_late_loses_nothing_it_does_not_have():
    assert Policy(percent=50).penalty(0.0, 10, 5 * DAY) == 0.0
    assert Policy(percent=50).penalty(1.0, 10, 5 * DAY) == 1.0


# --------------------------------------------------------------------------- durations

UNITS = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1, "weeks": 7 * 86400}
SPELLINGS = {
    "days": ["day", "days", "d"],
    "hours": ["hour", "hours", "h"],
    "minutes": ["minute", "min", "mins", "m"],
    "seconds": ["s", "sec", "seconds"],
    "weeks": ["week", "w"],
}


@given(
    st.lists(
        st.tuples(st.sampled_from(sorted(UNITS)), st.integers(0, 500), st.integers(0, 2)),
        min_size=1,
        max_size=4,
    ),
    st.sampled_from(["", " ", ", "]),
)
def test_a_length_in_words_is_the_sum_of_its_parts(parts, separator):
    text = separator.join(
        f"{n} {SPELLINGS[unit][i % len(SPELLINGS[unit])]}" for unit, n, i in parts
    )
    expected = sum(UNITS[unit] * n for unit, n, _ in parts)
    assert parse_duration(text).total_seconds() == expected


@pytest.mark.parametrize("text", ["", "2", "two days", "2 fortnights", "-1 day", "1 day later"])
def test_what_is_not_a_length_is_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "long", "short"),
    [
        (0.2, "1 s", "1s"),
        (59, "59 s", "59s"),
        (10 * 3600 + 16 * 60 + 5, "10 h 16 min", "10h16m"),
        (2 * 86400 + 3 * 3600, "2 days 3 h", "2d3h"),
        (86400, "1 day", "1d"),
    ],
)
def test_durations_read_as_people_write_them(seconds, long, short):
    assert format_duration(seconds) == long
    assert format_duration(seconds, short=True) == short


# --------------------------------------------------------------------------- the file


def test_the_file_gives_due_dates_extensions_and_corrections(tmp_path):
    deadlines = load_deadlines(write(tmp_path, DEADLINES), [ASSIGNMENT])
    assert deadlines.due(ASSIGNMENT) == DUE
    assert deadlines.due("other") is None
    assert deadlines.extension("jdoe", ASSIGNMENT) == timedelta(days=2)
    # a new due date becomes its distance from the due date, as nbgrader stores extensions
    assert deadlines.extension("asmith", ASSIGNMENT) == timedelta(hours=36, minutes=1)
    assert deadlines.extension("bob", ASSIGNMENT) is None
    assert deadlines.handed_in("carl", ASSIGNMENT, late_by(9 * DAY)) == datetime(
        2027, 2, 2, 0, 10, tzinfo=CET
    )
    assert deadlines.policy == Policy(10, "day", timedelta(minutes=15), 50, None, "max_points")


def test_a_time_without_offset_is_in_the_course_time_zone(tmp_path):
    text = 'timezone = "America/New_York"\n[due]\n"*" = 2027-07-01T17:00:00\n'
    deadlines = load_deadlines(write(tmp_path, text), [ASSIGNMENT])
    assert deadlines.due(ASSIGNMENT).utcoffset() == timedelta(hours=-4)  # EDT in July
    assert deadlines.due(ASSIGNMENT).astimezone(timezone.utc).hour == 21


def test_an_assignment_s_own_extension_replaces_the_student_wide_one(tmp_path):
    text = f"""
[due]
"*" = 2027-02-01T12:00:00+00:00
[extensions]
dana = {{ "*" = "1 day", "{ASSIGNMENT}" = "3 hours" }}
"""
    deadlines = load_deadlines(write(tmp_path, text), [ASSIGNMENT, "b2"])
    assert deadlines.extension("dana", ASSIGNMENT) == timedelta(hours=3)  # not 1 day 3 hours
    assert deadlines.extension("dana", "b2") == timedelta(days=1)


def test_an_extension_moves_the_deadline_and_lateness_counts_from_it(tmp_path):
    deadlines = load_deadlines(write(tmp_path, DEADLINES), [ASSIGNMENT])
    handed_in = late_by(DAY + 3600)  # 25 h after the due date
    assert deadlines.lateness("bob", ASSIGNMENT, handed_in, 5, 5).seconds_late == DAY + 3600
    assert deadlines.lateness("jdoe", ASSIGNMENT, handed_in, 5, 5).seconds_late == 0.0
    asmith = deadlines.lateness("asmith", ASSIGNMENT, late_by(2 * DAY), 5, 5)
    assert asmith.seconds_late == 2 * DAY - (36 * 3600 + 60)
    assert asmith.penalty == 0.5  # one day started: 10% of 5


MISTAKES = [
    ("deu = 1", "deu", "use timezone"),
    ('timezone = "Mars/Olympus"', "timezone", "IANA"),
    ('[due]\n"01_scalar" = 2027-02-01T23:59:00+01:00', "01_scalar", "use one of"),
    (f'[due]\n"{ASSIGNMENT}" = 2027-02-01', ASSIGNMENT, "date and a time"),
    (f'[due]\n"{ASSIGNMENT}" = 2027-02-01T23:59:00', "without a UTC offset", "timezone ="),
    (f'[due]\n"{ASSIGNMENT}" = "next friday"', "not a date and time", "2027-02-01T23:59"),
    ("[penalty]\npercent = 110", "percent", "0 to 100"),
    ("[penalty]\npercent = true", "percent", "0 to 100"),
    ('[penalty]\nper = "week"', "per", '"day" or "hour"'),
    ('[penalty]\ngrace = "soon"', "grace", "2 days"),
    ("[penalty]\ngrace = 15", "grace", "2 days"),
    ("[penalty]\npercentage = 10", "percentage", "use percent"),
    ('[penalty]\nof = "max"', "[penalty] of", "max_points"),
    ('[penalty]\ngrace = "1 day"\nzero_after = "2 hours"', "zero_after", "longer"),
    ('[extensions]\njdoe = "2 dayz"', "jdoe", "2 days"),
    ("[extensions]\njdoe = 2027-02-05T00:00:00+01:00", "every assignment", '"2 days"'),
    (
        f'[due]\n"{ASSIGNMENT}" = 2027-02-01T23:59:00+01:00\n'
        f'[extensions]\njdoe = {{ "{ASSIGNMENT}" = 2027-01-30T00:00:00+01:00 }}',
        "before the due date",
        "later",
    ),
    (
        f'[extensions]\njdoe = {{ "{ASSIGNMENT}" = 2027-02-05T00:00:00+01:00 }}',
        "has none",
        "[due]",
    ),
    (f'[handed_in]\nbob = "{ASSIGNMENT}"', "handed_in", "2027-02-01T20:00"),
    ('[canvas.columns]\n"a1" = " "', "canvas.columns", "Scalars (7001)"),
    ("[canvas]\ncolumn = 1", "[canvas] column", "[canvas.columns]"),
    ("due = [1, 2]", "due", "[due]"),
    ("[due\n", "not valid TOML", "dates look like"),
]


@pytest.mark.parametrize(("text", "named", "hint"), MISTAKES, ids=[m[1] for m in MISTAKES])
def test_every_mistake_names_the_file_the_key_and_a_hint(tmp_path, text, named, hint):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_deadlines(path, [ASSIGNMENT])
    message = str(caught.value)
    assert str(path) in message
    assert named in message
    assert "\nhint: " in message and hint in message.split("\nhint: ", 1)[1]


def test_a_missing_or_binary_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_deadlines(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_deadlines(tmp_path / "bin.toml")


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_loads_or_is_a_config_error(tmp_path, text):
    path = write(tmp_path, text, "any.toml")
    try:
        load_deadlines(path, [ASSIGNMENT])
    except ConfigError as error:
        assert "hint: " in str(error)


def test_the_sample_course_s_deadlines_file_is_valid():
    import grader.sample_class
    from grader import pipeline

    sample = Path(grader.sample_class.__file__).with_name("deadlines.toml")
    deadlines = load_deadlines(sample, pipeline.Course().assignments())
    assert set(deadlines.due_dates) == {
        "*",
        "01_scalars",
        "02_dtypes",
        "03_matrices",
        "04_derivatives",
    }
    assert deadlines.policy.zero_after == timedelta(days=14)
    # The demo's story (grader/sample_class/canvas_class.py): two late, one within an extension.
    ada = deadlines.lateness("ada", "01_scalars", None, 20.0, 20.0)
    dan = deadlines.lateness("dan", "04_derivatives", None, 20.0, 20.0)
    bob = deadlines.lateness("bob", "02_dtypes", None, 20.0, 20.0)
    assert (ada.seconds_late, ada.penalty) == (3 * 3600, 2.0)  # a day started: 10 %
    assert dan.seconds_late == (2 * 24 + 12) * 3600 + 60 and dan.penalty == 6.0  # 3 days: 30 %
    assert bob.extension == timedelta(days=2) and not bob.late and bob.penalty == 0.0


def test_install_checks_before_copying_and_keeps_the_copy(tmp_path):
    workdir = tmp_path / "work"
    with pytest.raises(ConfigError):
        install(write(tmp_path, "[penalty]\npercent = -1"), workdir, [ASSIGNMENT])
    assert not (workdir / "deadlines.toml").exists()
    install(write(tmp_path, DEADLINES), workdir, [ASSIGNMENT])
    assert (workdir / "deadlines.toml").read_text() == DEADLINES


# --------------------------------------------------------------------------- the gradebook


@pytest.fixture(scope="module")
def deadlines(tmp_path_factory) -> Deadlines:
    return load_deadlines(write(tmp_path_factory.mktemp("deadlines"), DEADLINES), [ASSIGNMENT])


@pytest.fixture
def gradebook(tmp_path, deadlines):
    """A gradebook with five hand-ins of a1 (max 5): bob 25 h late (2 days started: 1.0),
    jdoe as late but with a 2-day extension, eve 10 days late (capped at 50%: 2.5 of her
    3), carl late by his LMS time but on time as corrected, and fay with no known time."""
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    source = source_notebook()
    results = [
        result("bob", 2.0, 3.0, late_by(DAY + 3600)),
        result("jdoe", 2.0, 3.0, late_by(DAY + 3600)),
        result("eve", 2.0, 1.0, late_by(10 * DAY)),
        result("carl", 2.0, 3.0, late_by(5 * DAY)),
        result("fay", 1.0, 1.0, None),
    ]
    for r in results:
        record(r, url, source, deadlines=deadlines)
    return url, results


EXPECTED_PENALTIES = {"bob": 1.0, "jdoe": 0.0, "eve": 2.5, "carl": 0.0, "fay": 0.0}


def test_grades_csv_has_the_due_date_the_times_and_the_penalties(gradebook, tmp_path):
    url, _ = gradebook
    export_csv(url, tmp_path / "grades.csv")
    header, *rows = read_rows(tmp_path / "grades.csv")
    by_student = {row[3]: dict(zip(header, row)) for row in rows}
    assert {row["duedate"] for row in by_student.values()} == {"2027-02-01 22:59:00"}  # UTC
    assert by_student["bob"]["timestamp"] == "2027-02-02 23:59:00"  # 25 h late, in UTC
    assert by_student["carl"]["timestamp"] == "2027-02-01 23:10:00"  # the correction
    assert by_student["fay"]["timestamp"] == ""
    for student, penalty in EXPECTED_PENALTIES.items():
        row = by_student[student]
        assert float(row["late_submission_penalty"]) == penalty
        assert float(row["score"]) == pytest.approx(float(row["raw_score"]) - penalty)


def test_nbgrader_keeps_the_deadlines_where_its_own_tools_read_them(gradebook):
    url, _ = gradebook
    with Gradebook(url, course_id=COURSE_ID) as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate == datetime(2027, 2, 1, 22, 59)
        jdoe = gb.find_submission(ASSIGNMENT, "jdoe")
        assert jdoe.extension == timedelta(days=2)
        assert jdoe.duedate == datetime(2027, 2, 3, 22, 59)
        assert jdoe.total_seconds_late == 0
        assert gb.find_submission(ASSIGNMENT, "bob").total_seconds_late == DAY + 3600
        penalties = {
            s: gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, s).late_submission_penalty
            for s in EXPECTED_PENALTIES
        }
    # nbgrader's AssignLatePenalties leaves None when nothing is taken: so do we
    assert penalties == {s: (p or None) for s, p in EXPECTED_PENALTIES.items()}


def test_nbgrader_s_own_late_penalty_step_agrees_with_what_we_recorded(gradebook, tmp_path):
    """Run nbgrader's AssignLatePenalties (what `nbgrader autograde` runs) with our plugin,
    configured as nbgrader_config.py would, on a copy of the gradebook: same penalties."""
    url, _ = gradebook
    shutil.copy(tmp_path / "gradebook.db", tmp_path / "theirs.db")
    theirs = f"sqlite:///{tmp_path / 'theirs.db'}"
    with Gradebook(theirs, course_id=COURSE_ID) as gb:  # forget ours first
        for student in EXPECTED_PENALTIES:
            gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, student).late_submission_penalty = 7
        gb.db.commit()
    config = Config()
    config.AssignLatePenalties.plugin_class = "grader.deadlines.LatePenaltyPlugin"
    config.LatePenaltyPlugin.deadlines_file = str(write(tmp_path, DEADLINES))
    for student in EXPECTED_PENALTIES:
        step = AssignLatePenalties(config=config)
        resources = {
            "nbgrader": {
                "notebook": NOTEBOOK,
                "assignment": ASSIGNMENT,
                "student": student,
                "db_url": theirs,
            }
        }
        step.preprocess(source_notebook(), resources)
        assert isinstance(step.plugin_inst, LatePenaltyPlugin)
    with Gradebook(theirs, course_id=COURSE_ID) as gb:
        computed = {
            s: gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, s).late_submission_penalty
            for s in EXPECTED_PENALTIES
        }
    assert computed == {s: (p or None) for s, p in EXPECTED_PENALTIES.items()}


def test_nbgrader_export_writes_the_same_grades_csv(gradebook, tmp_path):
    url, _ = gradebook
    export_csv(url, tmp_path / "ours.csv")
    with Gradebook(url, course_id=COURSE_ID) as gb:
        CsvExportPlugin(to=str(tmp_path / "theirs.csv")).export(gb)
    assert (tmp_path / "ours.csv").read_text() == (tmp_path / "theirs.csv").read_text()


def test_new_deadlines_rerecorded_change_the_penalty_and_none_removes_it(
    gradebook, tmp_path, deadlines
):
    url, results = gradebook
    stricter = load_deadlines(
        write(tmp_path, DEADLINES.replace("percent = 10", "percent = 40"), "strict.toml")
    )
    for r in results:
        record(r, url, source_notebook(), deadlines=stricter)
    with Gradebook(url, course_id=COURSE_ID) as gb:
        assert gb.find_submission(ASSIGNMENT, "bob").late_submission_penalty == 2.5  # capped
    for r in results:
        record(r, url, source_notebook(), deadlines=Deadlines())
    with Gradebook(url, course_id=COURSE_ID) as gb:
        assert gb.find_assignment(ASSIGNMENT).duedate is None
        assert all(
            s.late_submission_penalty == 0 for s in gb.find_assignment(ASSIGNMENT).submissions
        )


def test_a_manual_score_is_what_the_penalty_is_clamped_to(gradebook, deadlines):
    """As nbgrader: the penalty comes from the notebook's score in the gradebook, so a
    grader's manual score (here lowering eve to 1 point) bounds it."""
    url, results = gradebook
    with Gradebook(url, course_id=COURSE_ID) as gb:
        notebook = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "eve")
        for grade in notebook.grades:
            grade.manual_score = 0.5
        gb.db.commit()
    eve = next(r for r in results if r.student == "eve")
    record(eve, url, source_notebook(), deadlines=deadlines)
    with Gradebook(url, course_id=COURSE_ID) as gb:
        assert gb.find_submission(ASSIGNMENT, "eve").late_submission_penalty == 1.0


# --------------------------------------------------------------------------- pages and tables


def test_the_feedback_page_says_when_it_was_handed_in_due_how_late_and_the_cost(
    tmp_path, deadlines
):
    bob = result("bob", 2.0, 3.0, late_by(DAY + 3600))
    page = write_feedback(bob, source_notebook(), tmp_path / "bob.html", deadlines.of_result(bob))
    text = page.read_text()
    assert "Handed in</th><td>2027-02-03 00:59 CET" in text
    assert "Due</th><td>2027-02-01 23:59 CET" in text
    assert "Late by</th><td>1 day 1 h" in text
    assert "Late penalty</th><td>1 points (10% of the maximum points per day started" in text
    assert "<b>4 / 5</b> points after the late penalty (5 before it)" in text


def test_the_page_shows_an_extension_and_an_unknown_time_as_such(tmp_path, deadlines):
    jdoe = result("jdoe", 2.0, 3.0, None)
    page = write_feedback(jdoe, source_notebook(), tmp_path / "j.html", deadlines.of_result(jdoe))
    text = page.read_text()
    assert "extended by 2 days to 2027-02-03 23:59 CET" in text
    assert "Handed in</th><td>unknown (counted as on time)" in text
    assert "Late penalty" not in text
    assert "<b>5 / 5</b> points." in text


def test_a_late_mark_without_a_time_applies_no_penalty_and_says_so(tmp_path, deadlines):
    flagged = result("gil", 2.0, 3.0, None)
    flagged.marked_late = True
    lateness = deadlines.of_result(flagged)
    assert lateness.marked_late and lateness.penalty == 0.0
    assert lateness.short() == "late?"
    text = write_feedback(flagged, source_notebook(), tmp_path / "g.html", lateness).read_text()
    assert "marked this hand-in late without its time, so no penalty was applied" in text


def test_a_page_without_deadlines_has_no_lateness_table(tmp_path):
    plain = result("bob", 2.0, 3.0, None)
    lateness = Deadlines().of_result(plain)
    text = write_feedback(plain, source_notebook(), tmp_path / "p.html", lateness).read_text()
    assert 'id="lateness"' not in text


def recorded(console_width: int = 200) -> Console:
    return Console(file=io.StringIO(), width=console_width, color_system=None)


def test_the_summary_shows_lateness_compactly_and_totals_after_the_penalty(deadlines):
    results = [
        result("bob", 2.0, 3.0, late_by(DAY + 3600)),
        result("fay", 1.0, 1.0, None),
        result("jdoe", 2.0, 3.0, late_by(DAY + 3600)),
    ]
    console = recorded()
    print_summary(results, console=console, deadlines=deadlines)
    out = console.file.getvalue()
    bob = next(line for line in out.splitlines() if "│ bob" in line)
    assert "4 +1d1h −1" in bob and bob.rstrip("│ ").endswith("4")  # total after the penalty
    fay = next(line for line in out.splitlines() if "│ fay" in line)
    assert "2 ?" in fay
    jdoe = next(line for line in out.splitlines() if "│ jdoe" in line)
    assert "5 " in jdoe and "+" not in jdoe
    assert "⏱ bob/a1/nb: handed in: 2027-02-03 00:59 CET; due: 2027-02-01 23:59 CET" in out
    assert "hand-in time unknown for 1 notebook(s) with a due date" in out
    assert "time unknown" in out  # the caption's legend


def test_a_notebook_never_handed_in_has_no_lateness(deadlines):
    """A missing notebook (never run, no time) is not "time unknown": nothing was handed in."""
    missing = result("hal", 0.0, 0.0, None, executed_path=None, problems=["missing"])
    assert deadlines.of_result(missing) is None
    console = recorded()
    print_summary([missing], console=console, deadlines=deadlines)
    out = console.file.getvalue()
    assert "?" not in out and "hand-in time unknown for" not in out
    corrected = result("carl", 0.0, 0.0, None, executed_path=None)  # [handed_in] knows it
    assert deadlines.of_result(corrected).handed_in is not None


def test_the_summary_without_deadlines_is_unchanged():
    results = [result("bob", 2.0, 3.0, late_by(DAY))]
    plain, given = recorded(), recorded()
    plain.print(summary_table(results))
    given.print(summary_table(results, Deadlines()))
    assert plain.file.getvalue() == given.file.getvalue()
    assert "+" not in plain.file.getvalue().split("Autograded results")[1].split("caption")[0]


# --------------------------------------------------------------------------- the command line


def test_autograde_refuses_a_bad_deadlines_file_before_grading_anything(tmp_path, capsys):
    from grader.__main__ import main

    bad = write(tmp_path, "[penalty]\npercent = 150")
    (tmp_path / "submissions").mkdir()
    code = main(
        ["--workdir", str(tmp_path / "work"), "autograde", str(tmp_path / "submissions"),
         "--deadlines", str(bad)]
    )  # fmt: skip
    assert code == 2
    out = capsys.readouterr().out
    assert "percent" in out and "hint:" in out
    assert not (tmp_path / "work" / "deadlines.toml").exists()
    assert not (tmp_path / "work" / "gradebook.db").exists()


def test_feedback_and_export_read_the_kept_deadlines(tmp_path, gradebook, capsys):
    """The CLI's later steps take the deadlines autograde kept in the work folder."""
    from grader.__main__ import main

    url, results = gradebook
    workdir = tmp_path  # the gradebook fixture wrote tmp_path/gradebook.db
    install(write(tmp_path, DEADLINES, "given.toml"), workdir, [ASSIGNMENT])
    code = main(["--workdir", str(workdir), "export"])
    assert code == 0
    header, *rows = read_rows(workdir / "grades.csv")
    assert {r[3]: r[8] for r in rows}["bob"] == "1.0"
    broken = workdir / "deadlines.toml"
    broken.write_text("[penalty]\nper = 'fortnight'")
    assert main(["--workdir", str(workdir), "report"]) == 2
    assert "fortnight" in capsys.readouterr().out


# --------------------------------------------------------------------------- with the intake


@pytest.fixture
def planning_course(tmp_path):
    """A course whose references are empty (no kernels): enough to plan hand-ins."""
    from grader import pipeline

    course = pipeline.Course(workdir=tmp_path / "work")
    course.references_dir.mkdir(parents=True)
    for a in course.assignments():
        (course.references_dir / f"{a}.json").write_text("{}")
    return course


def planned_results(course, *sources) -> dict[tuple[str, str], NotebookResult]:
    """(student, assignment) -> the result the pipeline would record for each planned
    notebook, before grading (its problems are the intake's flags, its time the LMS's)."""
    from grader import pipeline
    from grader.intake import Sources

    return {
        (job.submission.student, job.submission.assignment): pipeline._result(
            job, [], [p for p in (job.submission.problem,) if p] + job.submission.flags
        )
        for job in pipeline.plan(course, Sources(tuple(sources)))
    }


def test_canvas_s_late_mark_from_the_intake_is_recognised(planning_course, tmp_path):
    from grader.sample_class.lms import CanvasHandIn, canvas_zip

    release = planning_course.root / "notebooks" / "01_scalars" / "scalars.ipynb"
    text = release.read_text()
    archive = canvas_zip(
        tmp_path / "submissions.zip",
        [
            CanvasHandIn("Jane Doe", 1234, [("scalars.ipynb", text)], late=True),
            CanvasHandIn("Ann Smith", 1235, [("scalars.ipynb", text)]),
        ],
    )
    results = planned_results(planning_course, archive)
    deadlines = Deadlines(due_dates={"*": DUE}, policy=Policy(percent=10))
    for result in results.values():  # as after grading: the handed-in notebooks ran
        if not any("missing" in p for p in result.problems):
            result.executed_path = "ran.ipynb"
    jane = deadlines.of_result(results[("doejane", "01_scalars")])
    ann = deadlines.of_result(results[("smithann", "01_scalars")])
    assert jane.marked_late and jane.handed_in is None and jane.penalty == 0.0
    assert jane.short() == "late?"
    # No LATE: Canvas judged it on time, which the summary takes as known.
    assert ann.marked_late is False and ann.short() == ""
    assert dict(ann.lines())["Handed in"] == "unknown; the LMS counted it as on time"
    assert deadlines.of_result(results[("doejane", "02_dtypes")]) is None  # not handed in


def test_the_exchange_s_times_make_the_lateness(planning_course, tmp_path):
    from grader.sample_class.lms import ExchangeHandIn, exchange_folder

    release = planning_course.root / "notebooks" / "01_scalars" / "scalars.ipynb"
    text = release.read_text()
    submitted = exchange_folder(
        tmp_path / "submitted",
        [
            ExchangeHandIn("ann", "01_scalars", {"scalars.ipynb": text}, DUE - timedelta(hours=1)),
            ExchangeHandIn("bob", "01_scalars", {"scalars.ipynb": text}, DUE + timedelta(hours=5)),
        ],
    )
    results = planned_results(planning_course, submitted)
    deadlines = Deadlines(due_dates={"*": DUE}, policy=Policy(percent=10))
    assert deadlines.of_result(results[("ann", "01_scalars")]).seconds_late == 0.0
    bob = deadlines.of_result(results[("bob", "01_scalars")])
    assert bob.seconds_late == 5 * 3600
    assert bob.handed_in == DUE + timedelta(hours=5)


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
@needs_sandbox
def test_late_exchange_hand_ins_graded_for_real_end_to_end(tmp_path):
    """The command line on a real release: exchange hand-ins (one late, one with an
    extension) are graded in sandboxed kernels; grades.csv, the feedback page and the summary
    show the penalty; the page released to the exchange is found by nbgrader's fetch."""
    import nbformat
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange.default import ExchangeFetchFeedback

    from grader import pipeline
    from grader.__main__ import main
    from grader.sample_class import SOLUTIONS, Assignment, perfect
    from grader.sample_class.lms import ExchangeHandIn, exchange_folder

    workdir = tmp_path / "work"
    course = pipeline.Course(workdir=workdir)
    pipeline.release(course, generate=False, log=lambda *a: None)
    source = nbformat.read(str(next((SOLUTIONS / "01_scalars").glob("*.ipynb"))), 4)
    good = nbformat.writes(perfect(Assignment("01_scalars", source)).nb)
    submitted = exchange_folder(
        tmp_path / "submitted",
        [
            ExchangeHandIn("ann", "01_scalars", {"scalars.ipynb": good}, DUE + timedelta(hours=30)),
            ExchangeHandIn(
                "jdoe", "01_scalars", {"scalars.ipynb": good}, DUE + timedelta(hours=30)
            ),
        ],
    )
    (submitted / "ann" / "01_scalars" / "submission_secret.txt").write_text("e5" * 64)
    rules = write(
        tmp_path,
        '[due]\n"*" = 2027-02-01T23:59:00+01:00\n[penalty]\npercent = 10\n'
        '[extensions]\njdoe = "2 days"\n',
    )
    common = ["--workdir", str(workdir), "--cell-timeout", "10"]
    code = main([*common, "autograde", str(submitted), "--deadlines", str(rules), "--workers", "2"])
    assert code == 1  # the other assignments' notebooks are missing: flagged
    assert main([*common, "export"]) == 0
    header, *rows = read_rows(workdir / "grades.csv")
    scalars = {row[3]: dict(zip(header, row)) for row in rows if row[0] == "01_scalars"}
    maximum = float(scalars["ann"]["max_score"])
    assert float(scalars["ann"]["raw_score"]) == maximum  # a perfect notebook...
    assert float(scalars["ann"]["late_submission_penalty"]) == pytest.approx(0.2 * maximum)
    assert float(scalars["jdoe"]["late_submission_penalty"]) == 0.0  # 2-day extension
    assert scalars["ann"]["duedate"] == "2027-02-01 22:59:00"

    assert main([*common, "feedback", "--pack", "--submitted", str(submitted)]) == 0
    page = (workdir / "feedback" / "ann" / "01_scalars" / "scalars.html").read_text()
    assert "Late by</th><td>1 day 6 h" in page
    cache = tmp_path / "cache" / COURSE_ID / "ann+01_scalars+2027-02-03 05:59:00.000000 UTC"
    cache.mkdir(parents=True)
    (cache / "scalars.ipynb").write_text(good)
    (cache / "submission_secret.txt").write_text("e5" * 64)
    ExchangeFetchFeedback(
        coursedir=CourseDirectory(
            course_id=COURSE_ID, assignment_id="01_scalars", student_id="ann"
        ),
        root=str(workdir / "feedback_packed" / "exchange"),
        cache=str(tmp_path / "cache"),
        assignment_dir=str(tmp_path / "home"),
    ).start()
    fetched = next((tmp_path / "home" / "01_scalars" / "feedback").glob("*/scalars.html"))
    assert fetched.read_text() == page


def test_a_hand_in_saved_by_its_extension_is_said_so_on_the_page_and_in_the_summary(
    tmp_path, deadlines
):
    from grader.report import lateness_lines

    within = result("jdoe", 2.0, 3.0, late_by(DAY))  # a day late, with a 2-day extension
    on_time = result("jdoe", 2.0, 3.0, late_by(-3600))
    lateness = deadlines.of_result(within)
    assert lateness.saved_by_extension and not lateness.late and lateness.penalty == 0.0
    assert not deadlines.of_result(on_time).saved_by_extension
    assert dict(lateness.lines())["Late by"] == "not late (within the extension)"
    (line,) = [str(t) for t in lateness_lines([within, on_time], deadlines)]
    assert line.startswith("⏱ jdoe/") and "within the extension" in line

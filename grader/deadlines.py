"""Deadlines: due dates, extensions and the late penalty, from one TOML file.

``python -m grader autograde ... --deadlines deadlines.toml`` checks the file and keeps a copy
as ``WORKDIR/deadlines.toml``; every later step (recording, feedback, export, report) reads
that copy (``pipeline.Course.deadlines()``). Change it and run ``autograde`` again: nothing is
regraded, every notebook is recorded again with the new deadlines.

The file (every table is optional; times are TOML dates with a time, or ISO 8601 strings)::

    timezone = "Europe/Berlin"   # for times written without an offset, and for display

    [due]                        # when each assignment is due
    "*" = 2027-03-01T23:59:00    # any assignment not named below
    "01_scalars" = 2027-02-01T23:59:00+01:00

    [penalty]
    percent = 10                 # percent of the maximum points taken per period started
    per = "day"                  # or "hour"
    grace = "15 minutes"         # lateness up to this is forgiven (then counted from the due date)
    cap = 50                     # percent taken at most
    zero_after = "7 days"        # optional: later than this scores 0
    of = "max_points"            # or "score": percent of the points the student earned

    [extensions]                 # per student; they replace, never add up (as in nbgrader)
    jdoe = "2 days"                                   # every assignment
    asmith = { "03_matrices" = "36 hours", "04_derivatives" = 2027-02-20T12:00:00+01:00 }

    [handed_in]                  # corrections of hand-in times, per student and assignment
    bob = { "01_scalars" = 2027-02-01T20:00:00+01:00 }

    [canvas.columns]             # optional, for `export --format canvas` (grader/lms_export.py)
    "01_scalars" = "Notebook 1: Scalars (7001)"

The rules:

* **When it was handed in.** The hand-in time travels with each result (``NotebookResult.
  timestamp``, from the LMS or the exchange; see grader/submissions.py), unless ``[handed_in]``
  corrects it. Unknown (a plain folder): never late, and shown as unknown.
* **Lateness** is the time from the due date plus the student's extension to the hand-in,
  exactly as nbgrader computes ``SubmittedAssignment.total_seconds_late``: the due date goes
  to ``Assignment.duedate``, the extension to ``SubmittedAssignment.extension`` and the time
  to ``SubmittedAssignment.timestamp`` (all naive UTC, as nbgrader stores them), so formgrader
  and ``nbgrader export`` see the same deadlines.
* **The penalty** (``Policy.penalty``): nothing within the grace period (it forgives before
  anything else); past it, ``percent`` of the notebook's maximum points (or of its score,
  ``of = "score"``) per day (or hour) *started*, counted from the due date (1 s late and 24 h
  late are both one day), at most ``cap`` percent; past ``zero_after`` (which must be longer
  than the grace), the whole score. Never negative, never more than the
  score, as nbgrader's ``AssignLatePenalties`` clamps it. It is set per notebook on
  ``SubmittedNotebook.late_submission_penalty``, where nbgrader's autograde puts it, and
  nbgrader sums it per assignment (``SubmittedAssignment.late_submission_penalty``).
* **Where it shows.** grades.csv (``duedate``, ``timestamp``, ``late_submission_penalty``,
  ``score``) comes from the gradebook; the feedback page and the summary compute the same
  lateness from the result and this file (``Deadlines.of_result``), on the autograded points
  (a grader's manual score changes only the gradebook's penalty, as in nbgrader). nbgrader
  keeps one hand-in time per assignment: with several notebooks in one assignment, the
  last one recorded sets it (this course has one notebook per assignment).
* **nbgrader's extension point.** ``LatePenaltyPlugin`` is an ``nbgrader.plugins.
  LateSubmissionPlugin`` computing that penalty; the gradebook is written through it, and
  ``nbgrader autograde`` can use the same rule with, in nbgrader_config.py::

      c.AssignLatePenalties.plugin_class = "grader.deadlines.LatePenaltyPlugin"
      c.LatePenaltyPlugin.deadlines_file = "build/grader/deadlines.toml"

* **Canvas's LATE marker without a time.** Canvas marks a late hand-in in its bulk-download
  file names, but the time is not always known. A mark alone applies no penalty (it says
  neither how late nor whether an extension covers it): the notebook is flagged by the
  intake, and the feedback and summary say "marked late, time unknown"; to apply the policy,
  give the time in ``[handed_in]``.

Why TOML: native dates with offsets, comments, and tables per student, read by the standard
library (``tomllib``, Python 3.11+, which the course's environment pins; on 3.10 the
``tomli`` package is used if installed). Every mistake is a ``ConfigError`` naming the file,
the key and a ``hint:``.
"""

from __future__ import annotations

import math
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin
from traitlets import Unicode

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser as a package, if installed
    try:
        import tomli as tomllib  # type: ignore[no-redef]
    except ModuleNotFoundError:
        tomllib = None  # type: ignore[assignment]

ALL = "*"  # "every assignment", in [due] and in an extension
SECTIONS = ("timezone", "due", "penalty", "extensions", "handed_in", "canvas")
PENALTY_KEYS = ("percent", "per", "grace", "cap", "zero_after", "of")
PERIODS = {"day": 86400.0, "hour": 3600.0}
BASES = ("max_points", "score")
MAX_FILE_BYTES = 1 * 2**20  # a deadlines file is a few KB
# Words a duration may use: "2 days", "1 day 12 hours", "90 min", "1.5h".
_UNITS = {
    "w": "weeks",
    "week": "weeks",
    "weeks": "weeks",
    "d": "days",
    "day": "days",
    "days": "days",
    "h": "hours",
    "hour": "hours",
    "hours": "hours",
    "m": "minutes",
    "min": "minutes",
    "mins": "minutes",
    "minute": "minutes",
    "minutes": "minutes",
    "s": "seconds",
    "sec": "seconds",
    "second": "seconds",
    "seconds": "seconds",
}
_DURATION_PART = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*,?", re.I)


class ConfigError(RuntimeError):
    """A file the instructor gave (this deadlines file; an LMS export, see grader/lms_export.py)
    cannot be used; the message names the file, what is wrong (the key) and a ``hint:``."""


# --------------------------------------------------------------------------- the policy


@dataclass(frozen=True)
class Policy:
    """How much a late notebook loses (see the module docstring)."""

    percent: float = 0.0  # per period started
    per: str = "day"
    grace: timedelta = timedelta(0)
    cap: float = 100.0  # percent at most
    zero_after: timedelta | None = None
    of: str = "max_points"  # the basis of the percent: "max_points" or "score"

    def percent_off(self, seconds_late: float) -> float:
        """Percent of the basis taken for this lateness (0 on time or within the grace)."""
        if seconds_late <= self.grace.total_seconds():
            return 0.0
        periods = math.ceil(seconds_late / PERIODS[self.per])
        return min(self.cap, periods * self.percent)

    def zeroed(self, seconds_late: float) -> bool:
        return self.zero_after is not None and seconds_late > self.zero_after.total_seconds()

    def penalty(self, score: float, max_points: float, seconds_late: float) -> float:
        """Points taken from ``score`` (of ``max_points``) handed in ``seconds_late`` late:
        between 0 and the score, rounded to 1e-6 as the points are."""
        score = max(0.0, score)
        if seconds_late <= max(0.0, self.grace.total_seconds()):
            return 0.0  # on time, or forgiven: the grace comes before everything else
        if self.zeroed(seconds_late):
            return round(score, 6)
        basis = max_points if self.of == "max_points" else score
        taken = basis * self.percent_off(seconds_late) / 100.0
        return round(min(max(taken, 0.0), score), 6)

    def describe(self) -> str:
        """The policy in words, for feedback pages."""
        if not self.percent and self.zero_after is None:
            return "no late penalty"
        basis = "the maximum points" if self.of == "max_points" else "the points earned"
        words = [f"{_number(self.percent)}% of {basis} per {self.per} started"]
        if self.cap < 100:
            words.append(f"at most {_number(self.cap)}%")
        if self.grace:
            words.append(f"none within {format_duration(self.grace.total_seconds())}")
        if self.zero_after is not None:
            words.append(f"0 points after {format_duration(self.zero_after.total_seconds())}")
        return ", ".join(words)


class LatePenaltyPlugin(LateSubmissionPlugin):
    """nbgrader's late-penalty extension point, with the course's ``Policy``.

    nbgrader's ``AssignLatePenalties`` calls ``late_submission_penalty(student_id, score,
    total_seconds_late)`` once per late notebook and clamps the answer to [0, score]. The
    policy comes from ``policy`` (grader.gradebook passes it) or from the ``deadlines_file``
    setting (nbgrader_config.py); a policy in percent of the maximum points needs the
    notebook's maximum, which comes from ``max_score`` or, under nbgrader's own
    preprocessor (the plugin's parent), from the gradebook it has open."""

    deadlines_file = Unicode(
        "", help="the course's deadlines.toml (grader/deadlines.py describes it)"
    ).tag(config=True)

    def __init__(self, policy: Policy | None = None, max_score: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.policy = policy
        self.max_score = max_score

    def late_submission_penalty(
        self, student_id: str, score: float, total_seconds_late: float
    ) -> float | None:
        policy = self.policy or load_deadlines(self.deadlines_file).policy
        penalty = policy.penalty(score, self._max_score(student_id, score), total_seconds_late)
        return penalty if penalty > 0 else None  # None: "no penalty", as nbgrader's own plugin

    def _max_score(self, student_id: str, score: float) -> float:
        if self.max_score is not None:
            return self.max_score
        parent = self.parent  # nbgrader's AssignLatePenalties, with its Gradebook open
        gradebook = getattr(parent, "gradebook", None)
        if gradebook is None:
            return score
        notebook = gradebook.find_submission_notebook(
            parent.notebook_id, parent.assignment_id, student_id
        )
        return notebook.max_score


# --------------------------------------------------------------------------- lateness


@dataclass(frozen=True)
class Lateness:
    """One notebook's deadline, hand-in time and penalty, for pages, tables and exports."""

    due: datetime | None  # the assignment's due date (aware); None: no due date
    extension: timedelta | None  # the student's extension, if any
    handed_in: datetime | None  # aware; None: unknown
    seconds_late: float  # after the due date plus extension; 0 on time or unknown
    penalty: float  # points taken
    policy: Policy
    tz: ZoneInfo | None = None  # for display
    corrected: bool = False  # the time comes from [handed_in], not from the LMS
    # The LMS's verdict when it gave no time: True late, False on time, None: it said nothing.
    marked_late: bool | None = None

    @property
    def extended_due(self) -> datetime | None:
        if self.due is None:
            return None
        return self.due + self.extension if self.extension else self.due

    @property
    def late(self) -> bool:
        return self.seconds_late > 0

    @property
    def within_grace(self) -> bool:
        return self.late and self.seconds_late <= self.policy.grace.total_seconds()

    def lines(self) -> list[tuple[str, str]]:
        """(label, text) pairs for the feedback page; empty when there is nothing to say."""
        if self.due is None and self.handed_in is None and not self.marked_late:
            return []
        rows = [("Handed in", self._handed_in_text())]
        if self.due is not None:
            due = format_time(self.due, self.tz)
            if self.extension:
                due += (
                    f", extended by {format_duration(self.extension.total_seconds())} "
                    f"to {format_time(self.extended_due, self.tz)}"
                )
            rows.append(("Due", due))
            rows.append(("Late by", self._late_text()))
            if self.late:
                rows.append(("Late penalty", self._penalty_text()))
        return rows

    def short(self) -> str:
        """A few characters for the summary table ("" when on time)."""
        if self.marked_late and self.handed_in is None:
            return "late?"
        if self.due is not None and self.handed_in is None and self.marked_late is None:
            return "?"
        if not self.late:
            return ""
        late = format_duration(self.seconds_late, short=True)
        return f"+{late} −{_number(self.penalty)}" if self.penalty else f"+{late}"

    def _handed_in_text(self) -> str:
        if self.handed_in is None:
            if self.marked_late:
                return (
                    "unknown; the LMS marked this hand-in late without its time, so no "
                    "penalty was applied"
                )
            if self.marked_late is False:
                return "unknown; the LMS counted it as on time"
            return "unknown (counted as on time)"
        text = format_time(self.handed_in, self.tz)
        return text + (" (from the course's deadlines file)" if self.corrected else "")

    @property
    def saved_by_extension(self) -> bool:
        """Handed in after the due date but within the student's extension."""
        return bool(
            self.extension and self.handed_in and not self.late and self.handed_in > self.due
        )

    def _late_text(self) -> str:
        if self.handed_in is None:
            return "unknown"
        if self.saved_by_extension:
            return "not late (within the extension)"
        if not self.late:
            return "not late"
        text = format_duration(self.seconds_late)
        return text + (" (within the grace period)" if self.within_grace else "")

    def _penalty_text(self) -> str:
        if not self.penalty:
            return "none"
        return f"{_number(self.penalty)} points ({self.policy.describe()})"


# --------------------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class Deadlines:
    """What the deadlines file says (an empty one: no due dates, no penalty)."""

    due_dates: dict[str, datetime] = field(default_factory=dict)  # assignment or ALL -> aware
    extensions: dict[str, dict[str, timedelta | datetime]] = field(default_factory=dict)
    handed_in_times: dict[str, dict[str, datetime]] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)
    tz: ZoneInfo | None = None
    canvas_columns: dict[str, str] = field(default_factory=dict)
    source: str = ""  # the file it was read from

    def due(self, assignment: str) -> datetime | None:
        return self.due_dates.get(assignment, self.due_dates.get(ALL))

    def extension(self, student: str, assignment: str) -> timedelta | None:
        """The student's extension of this assignment, as a length (nbgrader's form); a new
        due date is turned into its distance from the due date. None: no extension."""
        granted = self.extensions.get(student, {})
        value = granted.get(assignment, granted.get(ALL))
        if value is None:
            return None
        if isinstance(value, datetime):
            due = self.due(assignment)
            return value - due if due is not None else None
        return value or None

    def handed_in(self, student: str, assignment: str, timestamp: str | None) -> datetime | None:
        """When the notebook was handed in: the instructor's correction, else the LMS's."""
        corrected = self.handed_in_times.get(student, {}).get(assignment)
        return corrected if corrected is not None else parse_timestamp(timestamp)

    def lateness(
        self,
        student: str,
        assignment: str,
        timestamp: str | None,
        score: float,
        max_points: float,
        *,
        marked_late: bool | None = None,
    ) -> Lateness:
        """The deadline, hand-in time and penalty of one notebook."""
        due = self.due(assignment)
        extension = self.extension(student, assignment)
        handed_in = self.handed_in(student, assignment, timestamp)
        seconds = seconds_late(handed_in, due, extension)
        return Lateness(
            due=due,
            extension=extension,
            handed_in=handed_in,
            seconds_late=seconds,
            penalty=self.policy.penalty(score, max_points, seconds),
            policy=self.policy,
            tz=self.tz,
            corrected=assignment in self.handed_in_times.get(student, {}),
            marked_late=marked_late,
        )

    def of_result(self, result) -> Lateness | None:
        """``lateness`` of a NotebookResult; None when no hand-in was run and its time is
        unknown (a missing notebook: there is nothing to be late)."""
        if result.timestamp is None and result.executed_path is None:
            if not result.marked_late and result.assignment not in self.handed_in_times.get(
                result.student, {}
            ):
                return None
        return self.lateness(
            result.student,
            result.assignment,
            result.timestamp,
            result.points,
            result.max_points,
            marked_late=result.marked_late,  # the LMS's verdict when it gave no time
        )


def seconds_late(
    handed_in: datetime | None, due: datetime | None, extension: timedelta | None
) -> float:
    """nbgrader's ``total_seconds_late``: 0 when any of the times is unknown or on time."""
    if handed_in is None or due is None:
        return 0.0
    deadline = due + extension if extension else due
    return max(0.0, (handed_in - deadline).total_seconds())


def to_gradebook(moment: datetime | None) -> datetime | None:
    """A time as nbgrader stores it: naive UTC."""
    if moment is None:
        return None
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def parse_timestamp(text: str | None) -> datetime | None:
    """A hand-in time as the intake writes it (ISO 8601 with its offset); a time without an
    offset is taken as UTC; None or unreadable: unknown."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# --------------------------------------------------------------------------- reading


def load_deadlines(path: Path | str, assignments: Iterable[str] | None = None) -> Deadlines:
    """The deadlines in ``path``; ``assignments`` (the course's) lets keys be checked.
    ConfigError on any mistake."""
    path = Path(path)
    data = _read_toml(path)
    return _Reader(str(path), list(assignments) if assignments is not None else None).read(data)


def install(path: Path | str, workdir: Path, assignments: Iterable[str]) -> Deadlines:
    """Check ``path`` and copy it to ``workdir/deadlines.toml`` (where later steps read it)."""
    deadlines = load_deadlines(path, assignments)
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / "deadlines.toml"
    if Path(path).resolve() != target.resolve():
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        partial.replace(target)
    return deadlines


def _read_toml(path: Path) -> dict:
    if tomllib is None:
        raise ConfigError(
            f"{path}: reading TOML needs Python 3.11 or newer\n"
            "hint: run the grader in the course's environment (Python 3.11), or pip install tomli"
        )
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read it ({error.strerror or error})\n"
            "hint: give the path of your deadlines.toml"
        ) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(f"{path}: larger than 1 MB\nhint: is this really the deadlines file?")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text\nhint: save it as UTF-8") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{path}: not valid TOML ({error})\n"
            'hint: dates look like 2027-02-01T23:59:00+01:00, texts like "2 days"'
        ) from None


class _Reader:
    """Turns the parsed TOML into Deadlines, with a ConfigError for the first mistake."""

    def __init__(self, source: str, assignments: list[str] | None):
        self.source = source
        self.assignments = assignments
        self.tz: ZoneInfo | None = None

    def fail(self, where: str, what: str, hint: str) -> ConfigError:
        return ConfigError(f"{self.source}: {where}: {what}\nhint: {hint}")

    def read(self, data: dict) -> Deadlines:
        unknown = sorted(set(data) - set(SECTIONS))
        if unknown:
            raise self.fail(
                unknown[0], "not a setting of the deadlines file", f"use {', '.join(SECTIONS)}"
            )
        self.tz = self._timezone(data.get("timezone"))
        due_dates = {
            self._assignment("[due]", key, allow_all=True): self._time(f"[due] {key}", value)
            for key, value in self._table(data, "due").items()
        }
        deadlines = Deadlines(
            due_dates=due_dates,
            extensions=self._extensions(self._table(data, "extensions"), due_dates),
            handed_in_times=self._handed_in(self._table(data, "handed_in")),
            policy=self._policy(self._table(data, "penalty")),
            tz=self.tz,
            canvas_columns=self._canvas(self._table(data, "canvas")),
            source=self.source,
        )
        return deadlines

    # -- pieces

    def _table(self, data: dict, name: str) -> dict:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, "should be a table", f"write it as [{name}] on its own line")
        return value

    def _timezone(self, value) -> ZoneInfo | None:
        if value is None:
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            return ZoneInfo(value)
        except (ValueError, ZoneInfoNotFoundError):
            raise self.fail(
                "timezone",
                f"{value!r} is not a time zone",
                'an IANA name such as "Europe/Berlin" or "America/New_York", or "UTC"',
            ) from None

    def _assignment(self, where: str, key: str, *, allow_all: bool) -> str:
        if allow_all and key == ALL:
            return key
        if self.assignments is not None and key not in self.assignments:
            star = ' (or "*" for all of them)' if allow_all else ""
            raise self.fail(
                f"{where} {key}",
                "not an assignment of the course",
                f"use one of {', '.join(self.assignments)}{star}",
            )
        return key

    def _time(self, where: str, value) -> datetime:
        """An aware datetime from a TOML date-time or an ISO 8601 string."""
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise self.fail(where, f"{value!r} is not a date and time", _TIME_HINT) from None
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                return value
            if self.tz is None:
                raise self.fail(
                    where,
                    "a time without a UTC offset, and no timezone is set",
                    'add the offset (2027-02-01T23:59:00+01:00) or timezone = "Europe/Berlin"',
                )
            return value.replace(tzinfo=self.tz)
        if isinstance(value, date):
            raise self.fail(where, "a date without a time", _TIME_HINT)
        raise self.fail(where, f"{value!r} is not a date and time", _TIME_HINT)

    def _duration(self, where: str, value) -> timedelta:
        if not isinstance(value, str):
            raise self.fail(where, f"{value!r} is not a duration", _DURATION_HINT)
        try:
            return parse_duration(value)
        except ValueError as error:
            raise self.fail(where, str(error), _DURATION_HINT) from None

    def _extension(self, where: str, value, due: datetime | None, *, whole: bool):
        """A length, or a new due date (kept as a datetime; checked against the due date)."""
        if isinstance(value, str) and not _looks_like_time(value):
            return self._duration(where, value)
        if whole:
            raise self.fail(
                where,
                "an extension of every assignment must be a length",
                'write "2 days"; give a new due date per assignment: { "01_scalars" = ... }',
            )
        moment = self._time(where, value)
        if due is None:
            raise self.fail(
                where,
                "a new due date for an assignment that has none",
                "set its due date in [due], or give the extension as a length",
            )
        if moment < due:
            raise self.fail(
                where,
                f"the new due date is before the due date ({format_time(due, self.tz)})",
                "an extension can only move the due date later",
            )
        return moment

    def _extensions(self, table: dict, due_dates: dict) -> dict:
        extensions: dict[str, dict] = {}
        for student, value in table.items():
            where = f"[extensions] {student}"
            if isinstance(value, dict):
                granted = {}
                for key, item in value.items():
                    assignment = self._assignment(where, key, allow_all=True)
                    due = due_dates.get(assignment, due_dates.get(ALL))
                    granted[assignment] = self._extension(
                        f"{where}.{key}", item, due, whole=assignment == ALL
                    )
                extensions[student] = granted
            else:
                extensions[student] = {ALL: self._extension(where, value, None, whole=True)}
        return extensions

    def _handed_in(self, table: dict) -> dict:
        times: dict[str, dict[str, datetime]] = {}
        for student, value in table.items():
            where = f"[handed_in] {student}"
            if not isinstance(value, dict):
                raise self.fail(
                    where,
                    "should map assignments to times",
                    f'{student} = {{ "01_scalars" = 2027-02-01T20:00:00+01:00 }}',
                )
            times[student] = {
                self._assignment(where, key, allow_all=False): self._time(f"{where}.{key}", item)
                for key, item in value.items()
            }
        return times

    def _policy(self, table: dict) -> Policy:
        unknown = sorted(set(table) - set(PENALTY_KEYS))
        if unknown:
            raise self.fail(
                f"[penalty] {unknown[0]}", "not a penalty setting", f"use {', '.join(PENALTY_KEYS)}"
            )
        per = table.get("per", "day")
        if per not in PERIODS:
            raise self.fail("[penalty] per", f"{per!r} is not a period", 'use "day" or "hour"')
        of = table.get("of", "max_points")
        if of not in BASES:
            raise self.fail("[penalty] of", f"{of!r} is not a basis", 'use "max_points" or "score"')
        grace = self._duration("[penalty] grace", table.get("grace", "0 minutes"))
        zero_after = table.get("zero_after")
        if zero_after is not None:
            zero_after = self._duration("[penalty] zero_after", zero_after)
            if zero_after <= grace:
                raise self.fail(
                    "[penalty] zero_after",
                    "is not longer than the grace period",
                    "the grace forgives first: make zero_after longer, or the grace shorter",
                )
        return Policy(
            percent=self._percent("percent", table.get("percent", 0)),
            per=per,
            grace=grace,
            cap=self._percent("cap", table.get("cap", 100)),
            zero_after=zero_after,
            of=of,
        )

    def _percent(self, key: str, value) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise self.fail(
                f"[penalty] {key}", f"{value!r} is not a percentage", "a number from 0 to 100"
            )
        return float(value)

    def _canvas(self, table: dict) -> dict[str, str]:
        unknown = sorted(set(table) - {"columns"})
        if unknown:
            raise self.fail(
                f"[canvas] {unknown[0]}", "not a Canvas setting", "use [canvas.columns]"
            )
        columns = table.get("columns", {})
        if not isinstance(columns, dict):
            raise self.fail("[canvas] columns", "should be a table", "write [canvas.columns]")
        mapping = {}
        for key, value in columns.items():
            where = f"[canvas.columns] {key}"
            assignment = self._assignment("[canvas.columns]", key, allow_all=False)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                value = str(value)  # the Canvas id alone, written as a number
            if not isinstance(value, str) or not value.strip():
                raise self.fail(
                    where,
                    "should be the column's title in the Canvas export",
                    '"01_scalars" = "Notebook 1: Scalars (7001)" (or just its id, "7001")',
                )
            mapping[assignment] = value.strip()
        return mapping


_TIME_HINT = "write a date and a time, e.g. 2027-02-01T23:59:00+01:00 (TOML, no quotes needed)"
_DURATION_HINT = 'a length such as "2 days", "36 hours", "1 day 12 hours" or "90 minutes"'


def parse_duration(text: str) -> timedelta:
    """ "2 days", "1 day 12 hours", "90 min", "1.5h" -> timedelta; ValueError otherwise."""
    position, total = 0, timedelta(0)
    text = text.strip()
    if not text:
        raise ValueError("an empty length")
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        unit = _UNITS.get(match.group(2).lower()) if match else None
        if unit is None:
            raise ValueError(f"{text!r} is not a length")
        total += timedelta(**{unit: float(match.group(1))})
        position = match.end()
    return total


def _looks_like_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- display


def format_time(moment: datetime, tz: ZoneInfo | None = None) -> str:
    """ "2027-02-01 23:59 CET" in the course's time zone, else in UTC."""
    shown = moment.astimezone(tz or timezone.utc)
    return shown.strftime("%Y-%m-%d %H:%M ") + (shown.tzname() or shown.strftime("%z"))


def format_duration(seconds: float, *, short: bool = False) -> str:
    """ "2 days 3 h 5 min", "45 s"; ``short``: the largest two units, "2d3h"."""
    seconds = max(0, math.ceil(seconds))  # 0.2 s late is late: never shown as "0 s"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        (days, "d", f"{days} day" + ("s" if days != 1 else "")),
        (hours, "h", f"{hours} h"),
        (minutes, "min" if not short else "m", f"{minutes} min"),
        (secs, "s", f"{secs} s"),
    ]
    present = [(n, abbreviation, long) for n, abbreviation, long in parts if n]
    if not present:
        return "0s" if short else "0 s"
    if short:
        return "".join(f"{n}{abbreviation}" for n, abbreviation, _ in present[:2])
    if days or hours:  # seconds are noise once the lateness is counted in hours
        present = [p for p in present if p[1] != "s"]
    return " ".join(long for _, _, long in present)


def _number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")


__all__ = [
    "ALL",
    "ConfigError",
    "Deadlines",
    "LatePenaltyPlugin",
    "Lateness",
    "Policy",
    "format_duration",
    "format_time",
    "install",
    "load_deadlines",
    "parse_duration",
    "seconds_late",
    "to_gradebook",
]

"""The instructor's pipeline, in nbgrader's vocabulary:

    release   -> generate notebooks/ from solutions/, compute the torch references (trusted)
    autograde -> run every submitted notebook sandboxed, compare outside, record in the gradebook
    feedback  -> an HTML page per student and notebook (visible tests only)
    export    -> grades.csv, the columns of `nbgrader export`
    report    -> summary table, grade histogram, per-exercise pass rates

Everything a run produces lives under one work directory (default build/grader/).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import nbformat

from grader import release as releasing
from grader.autograde import build_references, grade
from grader.execute import CellReport, nbgrader_meta, read
from grader.results import ExerciseResult, NotebookResult, load_all
from grader.sandbox import Limits, mode, protect
from grader.submissions import Submission, content, load, match

ROOT = releasing.ROOT


@dataclass
class Course:
    """Where the course's source lives and where a pipeline run writes."""

    workdir: Path = ROOT / "build" / "grader"
    root: Path = ROOT
    limits: Limits = field(default_factory=Limits)
    # Draw figures and graphs while grading, for the feedback pages (see the note under Job).
    figures: bool = True

    @property
    def solutions(self) -> Path:
        return self.root / "solutions"

    @property
    def references_dir(self) -> Path:
        return self.workdir / "references"

    @property
    def db_path(self) -> Path:
        return self.workdir / "gradebook.db"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def autograded(self) -> Path:
        return self.workdir / "autograded"

    @property
    def feedback_dir(self) -> Path:
        return self.workdir / "feedback"

    def assignments(self) -> list[str]:
        return releasing.assignments()

    @property
    def deadlines_path(self) -> Path:
        return self.workdir / "deadlines.toml"

    def deadlines(self):
        """The deadlines autograde was given (grader/deadlines.py), kept in the work folder;
        none (no due dates, no penalty) when it was given none. ConfigError if the copy was
        edited into something unusable."""
        from grader.deadlines import Deadlines, load_deadlines

        if not self.deadlines_path.exists():
            return Deadlines()
        return load_deadlines(self.deadlines_path, self.assignments())

    def source_path(self, assignment: str) -> Path:
        (path,) = (self.solutions / assignment).glob("*.ipynb")
        return path

    @property
    def roster_path(self) -> Path:
        return self.workdir / "roster.csv"

    def roster(self):
        """The roster autograde was given (grader/roster.py), kept in the work folder; None
        when it was given none. RosterError if the copy became unusable."""
        from grader.roster import read_roster

        return read_roster(self.roster_path) if self.roster_path.exists() else None


# --------------------------------------------------------------------------- release


def release(
    course: Course, assignments: Iterable[str] | None = None, *, generate: bool = True, log=print
) -> None:
    """Generate the student notebooks (unless ``generate`` is False: they are committed) and
    compute the references, once per release."""
    course.references_dir.mkdir(parents=True, exist_ok=True)
    for assignment in assignments or course.assignments():
        if generate:
            releasing.generate(assignment, root=course.root)
        path = course.source_path(assignment)
        references = build_references(read(path), path.parent)
        _write_atomically(course.references_dir / f"{assignment}.json", _dump(references))
        log(f"released {assignment}: {sum(len(r.answers) for r in references.values())} answers")
    # The sandboxed kernel (another user, when we are root) must not read any of these.
    protect(course.solutions, course.references_dir, course.workdir)


def load_references(course: Course, assignment: str) -> dict[str, CellReport]:
    path = course.references_dir / f"{assignment}.json"
    if not path.exists():
        raise FileNotFoundError(f"no references for {assignment}: run `python -m grader release`")
    data = json.loads(path.read_text())
    return {gid: CellReport(answers=answers) for gid, answers in data.items()}


def _dump(references: dict[str, CellReport]) -> str:
    return json.dumps({gid: r.answers for gid, r in references.items()}, sort_keys=True)


# --------------------------------------------------------------------------- autograde


@dataclass
class Job:
    """One notebook of one student: everything a worker needs, picklable (for Dask)."""

    submission: Submission
    source_path: Path
    release_dir: Path  # the student's folder as released: the kernel's working files
    references: dict
    limits: Limits
    out_dir: Path  # autograded/{student id}/{assignment}: the executed copy and the result
    fingerprint: str
    figures: bool = True  # draw figures and graphs (see the note below)


# Why the graded run draws its figures (matplotlib PNGs, Graphviz SVGs of make_dot) rather
# than a second, feedback-only run or the pictures saved in the submission: the feedback
# page then shows the very run that was graded, and its pictures are the grader's, not
# whatever a student pasted into their outputs. Grading needs none of them; drawing costs
# about 0.4 to 0.9 s per notebook on the six solutions (0.6 to 0.85 s without figures, 1.0 to
# 1.55 s with), and on the sample class (66 notebooks, 2 workers on 2 busy cores) a median of
# 1.1 to 1.5 s without and 2.2 to 2.7 s with. A feedback-only run would cost a whole run more
# (kernel start included) and show a run that was not the graded one.
# A changed setting changes the fingerprint: notebooks graded without figures run again.


GRADER_ATTEMPTS = 3  # a kernel that failed to start usually starts on the next try


def plan(course: Course, submissions) -> list[Job]:
    """Receive every hand-in and find its notebooks: one Job per student and assignment,
    whatever the hand-ins hold (what is wrong with one becomes a problem of its notebooks).
    ``submissions``: a folder per student, or ``intake.Sources`` (LMS downloads, the exchange,
    a roster; see grader/intake.py); IntakeError or RosterError when one cannot be used."""
    from grader import intake

    assignments = {a: _notebook_and_ids(course, a) for a in course.assignments()}
    references = {a: load_references(course, a) for a in assignments}
    reference_hash = {
        a: _hash((course.references_dir / f"{a}.json").read_bytes()) for a in assignments
    }
    received = intake.gather(intake.Sources.of(submissions), course.workdir)
    if received.roster is not None:
        intake.enrol(received.roster, course.db_url)
    jobs = []
    for student, handin in received.handins.items():
        found = match(
            student, handin.folder, assignments, problem=handin.problem, flags=handin.flags
        )
        for sub in found:
            received.annotate(sub)  # the LMS's time and flags for the folder it was found in
            data = content(sub.path) if sub.path and sub.problem is None else b""
            out_dir = course.autograded / student / sub.assignment  # a validated id: one level
            jobs.append(
                Job(
                    sub,
                    course.source_path(sub.assignment),
                    course.root / "notebooks" / sub.assignment,
                    references[sub.assignment],
                    course.limits,
                    out_dir,
                    _hash(
                        data
                        + reference_hash[sub.assignment].encode()
                        + repr(replace(sub, timestamp=None, marked_late=None)).encode()
                        + (b"figures" if course.figures else b"")
                    ),
                    course.figures,
                )
            )
    intake.finish(received, course.workdir, [job.submission for job in jobs])
    return jobs


def _notebook_and_ids(course: Course, assignment: str) -> tuple[str, set[str]]:
    source = read(course.source_path(assignment))
    ids = {nbgrader_meta(c)["grade_id"] for c in source.cells if nbgrader_meta(c).get("grade_id")}
    return course.source_path(assignment).name, ids


def grade_job(job: Job) -> NotebookResult:
    """Grade one notebook; never raises. A result carries its fingerprint (and so is reused
    by the next run) only when the grader itself worked: a failure of ours is tried again."""
    try:
        return _grade_submission(job)
    except Exception as error:  # noqa: BLE001 - our bug must cost this notebook only
        return _not_graded(job, f"the grader failed on this notebook: {_plainly(error)}")


def _grade_submission(job: Job) -> NotebookResult:
    sub = job.submission
    source = read(job.source_path)
    loaded = load(sub.path) if sub.problem is None else None
    problem = sub.problem or loaded.problem
    if problem is not None:  # missing, refused or malformed: every exercise scores 0
        result = _result(job, _zeros(source), [problem, *sub.flags])
        result.fingerprint = job.fingerprint
        return result
    graded = _grade_with_retries(loaded.notebook, source, job)
    if graded.infrastructure:
        return _not_graded(
            job,
            f"this notebook was not graded because the grader failed ({graded.infrastructure}); "
            "it will be graded on the next run",
        )
    exercises = [
        ExerciseResult(e.grade_id, e.points, e.max_points, e.problems) for e in graded.exercises
    ]
    result = _result(job, exercises, [*sub.flags, *loaded.flags, *_run_problems(graded)])
    if sub.renamed_from:
        result.problems.append(
            f"renamed: submitted as {sub.renamed_from}, matched to {sub.assignment} by its cells"
        )
        result.needs_attention = True
    result.seconds = round(graded.seconds, 3)
    executed = job.out_dir / sub.notebook  # the course's name, under the validated id
    _write_atomically(executed, nbformat.writes(graded.executed))
    result.executed_path = str(executed)
    result.fingerprint = job.fingerprint
    return result


def _grade_with_retries(nb, source, job: Job):
    """Grade, and grade again when our own machinery failed (not the student's code)."""
    for _ in range(GRADER_ATTEMPTS):
        graded = grade(
            nb, source, job.references, job.release_dir, limits=job.limits, figures=job.figures
        )
        if not graded.infrastructure:
            break
    return graded


def _run_problems(graded) -> list[str]:
    """What went wrong while the notebook ran, for the student."""
    problems = [
        f"test cell {gid} was deleted or edited; it was restored" for gid in graded.restored
    ]
    problems += graded.incidents
    suppressed = [
        e.grade_id
        for e in graded.exercises
        if e.problems and all("was not produced" in p for p in e.problems)
    ]
    if suppressed and not graded.incidents:  # ran, raised nothing, reported nothing
        problems.append(
            f"test cells {', '.join(suppressed)} ran but reported no answers and raised no "
            "error: something suppressed them (they scored 0)"
        )
    return problems


def _result(job: Job, exercises: list[ExerciseResult], problems: list[str]) -> NotebookResult:
    sub = job.submission
    result = NotebookResult(
        sub.student, sub.assignment, Path(sub.notebook).stem, submitted_as=sub.renamed_from
    )
    result.exercises, result.problems = exercises, problems
    result.timestamp, result.marked_late = sub.timestamp, sub.marked_late
    result.needs_attention = bool(problems)
    return result


def _not_graded(job: Job, problem: str) -> NotebookResult:
    """A notebook the grader could not grade through no fault of the student's: recorded as 0
    with the reason, needing attention, and without a fingerprint, so the next run retries."""
    try:
        exercises = _zeros(read(job.source_path))
    except Exception:  # noqa: BLE001 - even the source could not be read: no exercises then
        exercises = []
    return _result(job, exercises, [problem, *job.submission.flags])


def _zeros(source) -> list[ExerciseResult]:
    return [ExerciseResult(gid, 0.0, pts) for gid, pts in _test_cells(source)]


def _test_cells(source) -> list[tuple[str, float]]:
    return [
        (nbgrader_meta(c)["grade_id"], float(nbgrader_meta(c).get("points", 0)))
        for c in source.cells
        if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")
    ]


def autograde(
    course: Course,
    submissions: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[NotebookResult], None] | None = None,
    on_plan: Callable[[int], None] | None = None,
) -> list[NotebookResult]:
    """Grade every notebook of every student, in parallel (threads driving kernel processes,
    or a Dask cluster), recording each in the gradebook as soon as it is done.

    Rerunnable: a notebook whose submission and references are unchanged since its recorded
    result is not run again (``force`` regrades all); recording is idempotent. A notebook the
    grader itself failed on is recorded as not graded and tried again by the next run.
    ``on_plan`` hears the number of notebooks once they are known (for a progress bar).
    """
    mode(course.limits)  # no sandbox here: refuse (SandboxUnavailable) before reading anything
    jobs = plan(course, submissions)
    if on_plan:
        on_plan(len(jobs))
    sources = {a: read(course.source_path(a)) for a in course.assignments()}  # read once
    deadlines = course.deadlines()  # once too: checked before anything ran, the same for all
    done, todo = [], []
    for job in jobs:
        previous = None if force else _previous(job)
        (done if previous is not None else todo).append((job, previous))
    results = []

    def finish(result: NotebookResult) -> None:
        _record(result, course, sources[result.assignment], deadlines)
        results.append(result)
        if progress:
            progress(result)

    for _, previous in done:
        finish(previous)
    for job, result in _run([j for j, _ in todo], workers, scheduler):
        kept = _kept_on_failure(job, result) if force else None
        if kept is None:
            _save(job, result)
        finish(kept or result)
    return sorted(results, key=lambda r: (r.student, r.assignment))


def _record(result: NotebookResult, course: Course, source, deadlines) -> None:
    """Record one result in the gradebook, with the due date, hand-in time, extension and
    late penalty the deadlines give; a failure is that result's problem, not the run's
    (the saved result is recorded again by the next run)."""
    from grader.gradebook import record

    try:
        record(result, course.db_url, source, deadlines=deadlines)
    except Exception as error:  # noqa: BLE001 - one bad record must not lose the others
        result.problems.append(
            f"the grade could not be recorded in the gradebook ({_plainly(error)}); "
            "the next run records it again"
        )
        result.needs_attention = True


def _run(jobs: list[Job], workers: int | None, scheduler: str | None):
    if not jobs:
        return
    if scheduler:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = {client.submit(grade_job, job, pure=False): job for job in jobs}
            for future in dask_completed(futures):
                yield futures[future], _outcome(future, futures[future])
        return
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(grade_job, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], _outcome(future, futures[future])


def _outcome(future, job: Job) -> NotebookResult:
    """The job's result; a worker that died or could not run it is the grader's failure."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - a lost worker costs this notebook only
        return _not_graded(job, f"the grader failed on this notebook: {_plainly(error)}")


def _result_path(job: Job) -> Path:
    return job.out_dir / (Path(job.submission.notebook).stem + ".json")


def _previous(job: Job) -> NotebookResult | None:
    """The saved result, if it was graded from exactly this submission and references."""
    try:
        result = NotebookResult.from_json(_result_path(job).read_text())
    except Exception:  # noqa: BLE001 - none, or unreadable: grade again
        return None
    if result.fingerprint != job.fingerprint:
        return None
    # The hand-in time as now known (not hashed: it changes lateness, not the run).
    result.timestamp = job.submission.timestamp
    result.marked_late = job.submission.marked_late
    return result


def _kept_on_failure(job: Job, result: NotebookResult) -> NotebookResult | None:
    """A forced regrade that the grader itself failed keeps the earlier grade of the same
    submission (saying so in this run's report; its saved result stays as it was) rather
    than replacing it with a 0. None: nothing to keep."""
    earlier = _previous(job) if not result.fingerprint else None
    if earlier is None:
        return None
    earlier.problems = [
        *earlier.problems,
        *(f"regrading failed, the earlier grade was kept: {p}" for p in result.problems),
    ]
    earlier.needs_attention = True
    return earlier


def _save(job: Job, result: NotebookResult) -> None:
    """Keep the result for feedback and reports; the fingerprint it carries (or not, when the
    grader failed) decides whether the next run reuses it."""
    _write_atomically(_result_path(job), result.to_json())


def results(course: Course) -> list[NotebookResult]:
    return load_all(course.autograded)


# --------------------------------------------------------------------------- helpers


def _plainly(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, text: str) -> None:
    """Write then rename: a SIGKILL leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def clean(course: Course) -> None:
    shutil.rmtree(course.workdir, ignore_errors=True)


__all__ = ["Course", "autograde", "load_all", "release", "results"]

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
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader import release as releasing
from grader.autograde import build_references, grade
from grader.execute import CellReport, nbgrader_meta, read
from grader.results import ExerciseResult, NotebookResult, load_all
from grader.sandbox import Limits, protect
from grader.submissions import Submission, match, unpack

ROOT = releasing.ROOT


@dataclass
class Course:
    """Where the course's source lives and where a pipeline run writes."""

    workdir: Path = ROOT / "build" / "grader"
    root: Path = ROOT
    limits: Limits = field(default_factory=Limits)

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

    def source_path(self, assignment: str) -> Path:
        (path,) = (self.solutions / assignment).glob("*.ipynb")
        return path


# --------------------------------------------------------------------------- release


def release(
    course: Course, assignments: Iterable[str] | None = None, *, generate: bool = True, log=print
) -> None:
    """Generate the student notebooks (unless ``generate`` is False: they are committed) and
    compute the references, once per release."""
    course.references_dir.mkdir(parents=True, exist_ok=True)
    for assignment in assignments or course.assignments():
        if generate:
            releasing.generate(assignment)
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
    out_dir: Path
    fingerprint: str


def plan(course: Course, submissions: Path) -> list[Job]:
    staging = course.workdir / "unpacked"
    assignments = {}
    for assignment in course.assignments():
        source = read(course.source_path(assignment))
        ids = {
            nbgrader_meta(c)["grade_id"] for c in source.cells if nbgrader_meta(c).get("grade_id")
        }
        assignments[assignment] = (course.source_path(assignment).name, ids)
    references = {a: load_references(course, a) for a in assignments}
    reference_hash = {
        a: _hash((course.references_dir / f"{a}.json").read_bytes()) for a in assignments
    }
    jobs = []
    for student, folder in unpack(submissions, staging).items():
        for sub in match(student, folder, assignments):
            content = sub.path.read_bytes() if sub.path and sub.path.exists() else b""
            jobs.append(
                Job(
                    sub,
                    course.source_path(sub.assignment),
                    course.root / "notebooks" / sub.assignment,
                    references[sub.assignment],
                    course.limits,
                    course.autograded / student / sub.assignment,
                    _hash(content + reference_hash[sub.assignment].encode() + repr(sub).encode()),
                )
            )
    return jobs


def grade_job(job: Job) -> NotebookResult:
    """Grade one notebook; never raises for anything the student did."""
    sub = job.submission
    stem = Path(sub.notebook).stem
    result = NotebookResult(sub.student, sub.assignment, stem, submitted_as=sub.renamed_from)
    source = read(job.source_path)
    if sub.problem is not None:  # missing or malformed: every exercise scores 0
        result.exercises = [ExerciseResult(gid, 0.0, pts) for gid, pts in _test_cells(source)]
        result.problems.append(sub.problem)
    else:
        graded = grade(read(sub.path), source, job.references, job.release_dir, limits=job.limits)
        result.exercises = [
            ExerciseResult(e.grade_id, e.points, e.max_points, e.problems) for e in graded.exercises
        ]
        result.seconds = round(graded.seconds, 3)
        result.problems += [
            f"test cell {gid} was deleted or edited; it was restored" for gid in graded.restored
        ]
        result.problems += graded.incidents
        suppressed = [
            e.grade_id
            for e in graded.exercises
            if e.problems and all("was not produced" in p for p in e.problems)
        ]
        if suppressed and not graded.incidents:  # ran, raised nothing, reported nothing
            result.problems.append(
                f"test cells {', '.join(suppressed)} ran but reported no answers and raised no "
                "error: something suppressed them (they scored 0)"
            )
        if sub.renamed_from:
            result.problems.append(
                f"renamed: submitted as {sub.renamed_from}, matched to {sub.assignment} by its cells"
            )
        job.out_dir.mkdir(parents=True, exist_ok=True)
        executed = job.out_dir / sub.notebook
        _write_atomically(executed, nbformat.writes(graded.executed))
        result.executed_path = str(executed)
    result.needs_attention = bool(result.problems)
    return result


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
    result is not run again (``force`` regrades all); recording is idempotent. ``on_plan``
    hears the number of notebooks once they are known (for a progress bar).
    """
    from grader.gradebook import record

    jobs = plan(course, submissions)
    if on_plan:
        on_plan(len(jobs))
    sources = {a: read(course.source_path(a)) for a in course.assignments()}  # read once
    done, todo = [], []
    for job in jobs:
        previous = _previous(job)
        (done if previous is not None and not force else todo).append((job, previous))
    results = []
    for job, previous in done:
        record(previous, course.db_url, sources[job.submission.assignment])
        results.append(previous)
        if progress:
            progress(previous)
    for job, result in _run([j for j, _ in todo], workers, scheduler):
        _save(job, result)
        record(result, course.db_url, sources[job.submission.assignment])
        results.append(result)
        if progress:
            progress(result)
    return sorted(results, key=lambda r: (r.student, r.assignment))


def _run(jobs: list[Job], workers: int | None, scheduler: str | None):
    if not jobs:
        return
    if scheduler:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            futures = {client.submit(grade_job, job, pure=False): job for job in jobs}
            for future in dask_completed(futures):
                yield futures[future], future.result()
        return
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(grade_job, job): job for job in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _result_path(job: Job) -> Path:
    return job.out_dir / (Path(job.submission.notebook).stem + ".json")


def _previous(job: Job) -> NotebookResult | None:
    path = _result_path(job)
    if not path.exists():
        return None
    result = NotebookResult.from_json(path.read_text())
    return result if result.fingerprint == job.fingerprint else None


def _save(job: Job, result: NotebookResult) -> None:
    result.fingerprint = job.fingerprint
    _write_atomically(_result_path(job), result.to_json())


def results(course: Course) -> list[NotebookResult]:
    return load_all(course.autograded)


# --------------------------------------------------------------------------- helpers


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

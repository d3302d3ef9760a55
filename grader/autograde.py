"""Autograde one notebook: the core that the command-line pipeline runs per submission.

references = build_references(source_nb, cwd)      # trusted: the solution under real torch
result = grade(submission_nb, source_nb, references, cwd)   # sandboxed (grader.sandbox)

``grade`` never raises for anything the student's code does: a crash, a timeout or the
memory limit ends the run early, and is reported in ``NotebookGrade.incidents``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from grader.execute import CellReport, collect, run
from grader.score import ExerciseScore, restore_tests, score


def build_references(source_nb, cwd: Path, **options) -> dict[str, CellReport]:
    """Run the instructor's solution under real torch; what its tests report is the truth.
    A solution test cell that fails under torch, or a solution that does not run to the end,
    is an instructor error, raised loudly."""
    execution = run(source_nb, cwd, reference=True, **options)
    if execution.incidents:
        raise RuntimeError(f"the solution did not run to the end: {execution.incidents}")
    references = collect(execution.notebook)
    broken = {gid: r.error for gid, r in references.items() if r.error}
    if broken:
        raise RuntimeError(f"the solution's tests fail under torch: {broken}")
    return references


@dataclass
class NotebookGrade:
    exercises: list[ExerciseScore]
    restored: list[str] = field(default_factory=list)  # test cells that were deleted/edited
    executed: object = None  # the executed notebook (for feedback)
    # What stopped the run or hit a limit ("cell 7 ran longer than 30 s and was stopped"),
    # worded for the student; answers after it are missing and score 0.
    incidents: list[str] = field(default_factory=list)
    seconds: float = 0.0  # wall time of grade(), kernel start included
    # Set when the grader's own machinery failed (the kernel could not start, the kernel
    # server died): not the student's doing, so the pipeline retries and never caches it.
    infrastructure: str | None = None

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)


def grade(submission_nb, source_nb, references, cwd: Path, **execute_options) -> NotebookGrade:
    """Restore the test cells, run the result sandboxed (options: see grader.execute.run),
    score what its test cells reported against ``references``."""
    start = time.perf_counter()
    restored_nb, restored = restore_tests(submission_nb, source_nb)
    execution = run(restored_nb, cwd, **execute_options)
    exercises = score(source_nb, references, collect(execution.notebook))
    seconds = time.perf_counter() - start
    return NotebookGrade(
        exercises,
        restored,
        execution.notebook,
        execution.incidents,
        seconds,
        execution.infrastructure,
    )

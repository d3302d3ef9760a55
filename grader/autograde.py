"""Autograde one notebook: the core that the command-line pipeline runs per submission.

references = build_references(source_nb, cwd)      # trusted: the solution under real torch
result = grade(submission_nb, source_nb, references, cwd)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.execute import CellReport, collect, execute
from grader.score import ExerciseScore, restore_tests, score


def build_references(source_nb, cwd: Path) -> dict[str, CellReport]:
    """Run the instructor's solution under real torch; what its tests report is the truth.
    A solution test cell that fails under torch is an instructor error, raised loudly."""
    executed = execute(source_nb, cwd, reference=True)
    references = collect(executed)
    broken = {gid: r.error for gid, r in references.items() if r.error}
    if broken:
        raise RuntimeError(f"the solution's tests fail under torch: {broken}")
    return references


@dataclass
class NotebookGrade:
    exercises: list[ExerciseScore]
    restored: list[str] = field(default_factory=list)  # test cells that were deleted/edited
    executed: object = None  # the executed notebook (for feedback)

    @property
    def points(self) -> float:
        return sum(e.points for e in self.exercises)

    @property
    def max_points(self) -> float:
        return sum(e.max_points for e in self.exercises)


def grade(submission_nb, source_nb, references, cwd: Path, **execute_options) -> NotebookGrade:
    restored_nb, restored = restore_tests(submission_nb, source_nb)
    executed = execute(restored_nb, cwd, **execute_options)
    return NotebookGrade(score(source_nb, references, collect(executed)), restored, executed)

"""What autograding one notebook of one student produced: the record every later step reads
(gradebook, feedback, export, report), kept as JSON beside the executed notebook."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass
class ExerciseResult:
    grade_id: str
    points: float
    max_points: float
    problems: list[str] = field(default_factory=list)  # shown to the student: never references
    message: str | None = None  # the visible test's failure ("AssertionError: ...")


@dataclass
class NotebookResult:
    student: str
    assignment: str
    notebook: str  # the assignment's notebook name (scalars), whatever the student called it
    exercises: list[ExerciseResult] = field(default_factory=list)
    # Notebook-level problems for the student *and* the instructor: missing, malformed or
    # renamed notebook, restored test cells, a crash, a timeout, the memory limit.
    problems: list[str] = field(default_factory=list)
    needs_attention: bool = False  # the instructor should look (any problem but a plain 0)
    submitted_as: str | None = None  # the file name the student used, when renamed
    executed_path: str | None = None  # the executed notebook (for feedback), if it ran
    seconds: float = 0.0
    fingerprint: str = ""  # hash of submission + references: a rerun skips what is unchanged
    # When it was handed in (ISO 8601 with offset; None: unknown). Not part of the fingerprint:
    # a corrected hand-in time changes the lateness, not the run.
    timestamp: str | None = None
    marked_late: bool | None = None  # the LMS's verdict without a time (Submission.marked_late)

    @property
    def points(self) -> float:
        return round(sum(e.points for e in self.exercises), 6)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 6)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> NotebookResult:
        data = json.loads(text)
        data["exercises"] = [ExerciseResult(**e) for e in data["exercises"]]
        return cls(**data)


def load_all(directory: Path) -> list[NotebookResult]:
    """Every result under ``directory`` (``{student}/{assignment}/{notebook}.json``)."""
    return [NotebookResult.from_json(p.read_text()) for p in sorted(directory.glob("*/*/*.json"))]

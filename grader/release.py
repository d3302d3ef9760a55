"""Release: ``nbgrader generate_assignment`` turns solutions/ into the student notebooks/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"


def assignments() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def generate(assignment: str, release_directory: Path | None = None, root: Path = ROOT) -> None:
    """Run nbgrader's own generate_assignment (no gradebook: releasing needs none) in the
    course at ``root``: it writes ``root/notebooks/`` (or ``release_directory``) and nothing
    else; a student's ``work/`` is never touched."""
    command = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        assignment,
        "--force",
        "--no-db",
        "--log-level=ERROR",
    ]
    if release_directory is not None:
        command.append(f"--CourseDirectory.release_directory={release_directory}")
    subprocess.run(command, cwd=root, check=True)


if __name__ == "__main__":
    for name in sys.argv[1:] or assignments():
        generate(name)

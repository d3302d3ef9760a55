"""Autograde a class of 10 students x 6 notebooks: this course's grader vs plain nbgrader.

    python benchmarks/autograde.py [--students 10] [--workers 2]

Both grade the same submissions (the bundled sample class minus its memory hog, zips unpacked)
in the same run, after their release steps (not timed): plain nbgrader runs
`nbgrader generate_assignment` then one `nbgrader autograde ASSIGNMENT` per assignment, as an
instructor would; ours runs `release` then `autograde` with parallel workers. Both use a 30 s
cell timeout, so the sample class's infinite loop costs both the same 30 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import pipeline
from grader.sample_class import build
from grader.submissions import match, unpack

ROOT = pipeline.ROOT
SKIP = {"kim"}  # allocates 8 GiB: plain nbgrader has no memory limit to stop it

NBGRADER_CONFIG = """
c = get_config()
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = "sqlite:///{root}/gradebook.db"
c.ExecutePreprocessor.timeout = 30
"""


def sample_class(dest: Path, students: int) -> Path:
    built = build(dest / "built")
    course = pipeline.Course(workdir=dest / "match")
    assignments = {
        a: (course.source_path(a).name, set()) for a in course.assignments()
    }  # exact names only: plain nbgrader cannot match renamed notebooks either
    flat = dest / "class"
    chosen = [s for s in sorted(unpack(built, dest / "unzipped").items()) if s[0] not in SKIP]
    for student, folder in chosen[:students]:
        for sub in match(student, folder, assignments):
            if sub.path is not None:
                target = flat / student / sub.assignment / sub.notebook
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(sub.path, target)
    return flat


def time_nbgrader(submissions: Path, work: Path) -> float:
    course = work / "nbgrader_course"
    shutil.copytree(ROOT / "solutions", course / "source", ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(submissions, course / "submitted")
    (course / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(root=str(course)))
    nbgrader = [sys.executable, "-m", "nbgrader"]
    # nbgrader runs the `alembic` command when it creates a gradebook: the venv's bin first.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    assignments = pipeline.Course().assignments()
    for a in assignments:
        subprocess.run(
            [*nbgrader, "generate_assignment", a, "--log-level=ERROR"],
            cwd=course,
            check=True,
            env=env,
        )
    start = time.perf_counter()
    for a in assignments:
        subprocess.run(
            [*nbgrader, "autograde", a, "--log-level=ERROR"],
            cwd=course,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
    return time.perf_counter() - start


def time_ours(submissions: Path, work: Path, workers: int) -> float:
    workdir = work / "ours"
    run = [sys.executable, "-m", "grader", "--workdir", str(workdir)]
    subprocess.run([*run, "release"], check=True, stdout=subprocess.DEVNULL)
    start = time.perf_counter()
    subprocess.run(
        [*run, "autograde", str(submissions), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        submissions = sample_class(work, args.students)
        notebooks = len(list(submissions.glob("*/*/*.ipynb")))
        students = len(list(submissions.iterdir()))
        ours = time_ours(submissions, work, args.workers)
        plain = time_nbgrader(submissions, work)
    print(
        f"{students} students, {notebooks} notebooks, "
        f"{args.workers} workers on {os.cpu_count()} cores"
    )
    print("| grader | autograde wall time | per notebook |")
    print("| --- | ---: | ---: |")
    print(
        f"| this course (`python -m grader autograde`) | {ours:.1f} s | {ours / notebooks:.2f} s |"
    )
    print(
        f"| plain `nbgrader autograde`, per assignment | {plain:.1f} s | {plain / notebooks:.2f} s |"
    )
    print(f"speed-up: {plain / ours:.1f}x (target >= 3x); ours <= 60 s: {ours <= 60}")


if __name__ == "__main__":
    main()

"""Autograde a class: this course's grader vs plain nbgrader, and the grader at class scale.

Ours vs plain nbgrader (the default when --students is not given, or with --vs-nbgrader):

    python benchmarks/autograde.py [--vs-nbgrader [--students 10]] [--workers 2]

Both grade the same submissions (the bundled sample class minus its memory hog, zips unpacked)
in the same run, after their release steps (not timed): plain nbgrader runs
`nbgrader generate_assignment` then one `nbgrader autograde ASSIGNMENT` per assignment, as an
instructor would; ours runs `release` then `autograde` with parallel workers. Both use a 30 s
cell timeout, so the sample class's infinite loop costs both the same 30 s.

Class scale (benchmarks/class_scale.py): a generated class of N students x 6 notebooks, the
sample class's archetypes in turn (perfect, partial, blank: the release untouched, erroring:
NameErrors in answers and a raising example cell) and exactly one looping student (an infinite
loop that the cell timeout stops), ids s0000-perfect, s0001-partial, ...; the same class for
the same N. The grader's CLI runs in a subprocess, under a wrapper that records its own peak
RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss` at exit: not its kernels', not Dask's
workers'); the gradebook's size is WORKDIR/gradebook.db's. One Markdown table row per run.

    python benchmarks/autograde.py --students 10,25,50,100,200 [--workers 2]
        each size in a fresh workdir; then seconds per notebook and a least-squares line
        (wall time against notebooks) with its R^2 and largest deviation
    python benchmarks/autograde.py --students 200 --kill-at random|SECONDS [--seed S]
        SIGKILL the grader's process group at a random moment (seeded; printed) of the run,
        rerun the same command; checks that the rerun graded exactly the notebooks that had no
        finished result (result files new or rewritten, by inode and mtime), that the grades
        equal an uninterrupted run's, that the gradebook is intact and no process of the
        killed grader (kernel servers, kernels) outlives it
    python benchmarks/autograde.py --students 200 --scheduler
        a local Dask cluster of 2 worker processes x 1 thread, graded through the grader's
        --scheduler; checks the grades equal a threaded run's

Grades are compared per grade cell, read from the gradebooks with sqlite3. The kill and Dask
modes need an uninterrupted threaded run of the class: they reuse the one an earlier run of
this script kept in --cache (default build/class_scale/) while the class, the course and the
grader's code are unchanged, and grade one first otherwise. Exit status: 1 when a check fails
(a grade not as its recipe predicts, a rerun that graded the wrong set, grades that differ,
a corrupt gradebook, a surviving process), 0 otherwise: the numbers themselves are a report.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default=None, help="N, or a comma list of sizes")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--vs-nbgrader", action="store_true", help="ours vs plain nbgrader")
    parser.add_argument("--kill-at", default=None, help="random, or seconds into the run")
    parser.add_argument("--seed", type=int, default=None, help="for --kill-at random")
    parser.add_argument("--scheduler", action="store_true", help="grade on a local Dask cluster")
    parser.add_argument("--cell-timeout", type=float, default=30.0)
    parser.add_argument("--cache", default=str(ROOT / "build" / "class_scale"))
    args = parser.parse_args()
    if args.vs_nbgrader or args.students is None:
        return compare_with_nbgrader(int(args.students or 10), args.workers)
    import class_scale  # beside this file

    sizes = [int(n) for n in args.students.split(",")]
    if (args.kill_at or args.scheduler) and len(sizes) != 1:
        parser.error("--kill-at and --scheduler take one class size")
    if args.kill_at:
        return class_scale.kill_and_rerun(args, sizes[0])
    if args.scheduler:
        return class_scale.on_dask(args, sizes[0])
    return class_scale.scaling(args, sizes)


def compare_with_nbgrader(students: int, workers: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        submissions = sample_class(work, students)
        notebooks = len(list(submissions.glob("*/*/*.ipynb")))
        students = len(list(submissions.iterdir()))
        ours = time_ours(submissions, work, workers)
        plain = time_nbgrader(submissions, work)
    print(
        f"{students} students, {notebooks} notebooks, {workers} workers on {os.cpu_count()} cores"
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
    return 0


if __name__ == "__main__":
    sys.exit(main())

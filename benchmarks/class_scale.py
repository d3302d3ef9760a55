"""Class-scale grading for benchmarks/autograde.py (see its docstring for the modes).

A generated class of N students x 6 notebooks is graded by the grader's CLI in a subprocess,
the way an instructor runs it. What is measured, and how:

* wall time of `python -m grader autograde` (the release is done once, before, untimed);
* the grader's own peak memory: the CLI runs under a tiny wrapper that records
  `resource.getrusage(RUSAGE_SELF).ru_maxrss` at exit, so the kernels (child processes) and
  Dask's workers are not counted, only the process that plans, collects and records;
* the gradebook's size: WORKDIR/gradebook.db (nbgrader's sqlite file, plus any journal);
* grades: read back from the gradebook with sqlite3, one row per grade cell, so a comparison
  between two runs does not go through the grader's own code.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import nbformat

from grader import pipeline
from grader.sample_class import SOLUTIONS, Assignment, ada, assignments, bob, cy, dan, gus
from grader.sandbox import Limits

ROOT = pipeline.ROOT
CORES = os.cpu_count() or 1
# The class cycles through these; the sample class's students are exactly these archetypes.
ARCHETYPES = {"perfect": ada, "partial": bob, "blank": cy, "erroring": dan}
LOOPING = ("looping", gus)  # correct, but a SIGINT-proof `while True` in 05: one per class

# Runs the grader's CLI and records its own peak RSS (KiB on Linux) at exit.
PEAK_WRAPPER = """
import atexit, resource, runpy, sys
peak_file = sys.argv.pop(1)
atexit.register(lambda: open(peak_file, "w").write(
    str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))
sys.argv[0] = "grader"
runpy.run_module("grader", run_name="__main__", alter_sys=True)
"""

# --------------------------------------------------------------------------- the class


def roster(students: int) -> list[tuple[str, str]]:
    """(student id, archetype) for a class of ``students``: the looping student in the middle,
    so every size has exactly one, and the archetypes in turn around it (each within one of an
    even share; all four from 5 students on). Deterministic."""
    people, turn = [], 0
    for i in range(students):
        if i == students // 2:
            kind = LOOPING[0]
        else:
            kind = list(ARCHETYPES)[turn % len(ARCHETYPES)]
            turn += 1
        people.append((f"s{i:04d}-{kind}", kind))
    return people


def generate_class(dest: Path, students: int) -> list[tuple[str, str, str, float]]:
    """Write ``dest/{student}/{assignment}/{notebook}.ipynb`` for the class; returns
    (student, assignment, notebook stem, expected points) for every notebook."""
    recipes = {**ARCHETYPES, LOOPING[0]: LOOPING[1]}
    course = [
        Assignment(name, nbformat.read(str(next((SOLUTIONS / name).glob("*.ipynb"))), 4))
        for name in assignments()
    ]
    rendered = {}  # (archetype, assignment) -> (text, points): every copy is the same
    for kind, recipe in recipes.items():
        for a in course:
            work = recipe(a)
            rendered[kind, a.name] = (nbformat.writes(work.nb), round(work.points, 6))
    expected = []
    for student, kind in roster(students):
        for a in course:
            text, points = rendered[kind, a.name]
            path = dest / student / a.name / a.notebook
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            expected.append((student, a.name, Path(a.notebook).stem, points))
    return expected


def released_references(dest: Path, cell_timeout: float) -> Path:
    """Release once (references only: the student notebooks in notebooks/ are committed,
    and regenerating them would touch the working tree)."""
    course = pipeline.Course(workdir=dest, limits=Limits(cell_timeout=cell_timeout))
    pipeline.release(course, generate=False, log=lambda *a: None)
    return course.references_dir


# --------------------------------------------------------------------------- one run


@dataclass
class Run:
    label: str
    students: int
    notebooks: int
    wall: float
    peak_kib: int | None  # None: killed before it could say
    gradebook_bytes: int
    status: int
    code: str = ""  # source_hash() of the grader and the course when the run started
    library: str = ""  # source_hash(LIBRARY) when the run started
    code_changed: bool = False  # the grader or the course was edited while it ran
    library_changed: bool = False  # autograd_lite was edited while it ran

    def row(self) -> str:
        rate = self.notebooks / self.wall / CORES
        peak = f"{self.peak_kib / 1024:.0f} MiB" if self.peak_kib else "(killed)"
        return (
            f"| {self.label} | {self.students} | {self.notebooks} | {self.wall:.1f} s | "
            f"{rate:.3f} | {peak} | {self.gradebook_bytes / 2**20:.2f} MiB |"
        )


HEADER = (
    "| run | students | notebooks | autograde wall time | notebooks/s/core "
    "| grader peak RSS | gradebook |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
)


class Bench:
    """A scratch folder holding the released references, the logs, and a workdir per run."""

    def __init__(self, scratch: Path, args):
        self.scratch, self.args = scratch, args
        self.references = released_references(scratch / "released", args.cell_timeout)

    def fresh(self, name: str, students: int):
        """A new workdir with the references copied in, and the class it grades."""
        base = self.scratch / name
        shutil.rmtree(base, ignore_errors=True)
        workdir = base / "workdir"
        shutil.copytree(self.references, workdir / "references")
        expected = generate_class(base / "class", students)
        return workdir, base / "class", expected

    def command(self, workdir: Path, submissions: Path, peak_file: Path, scheduler=None):
        cmd = [sys.executable, "-c", PEAK_WRAPPER, str(peak_file), "--workdir", str(workdir)]
        cmd += ["--cell-timeout", str(self.args.cell_timeout), "autograde", str(submissions)]
        if scheduler:
            return cmd + ["--scheduler", scheduler]
        return cmd + ["--workers", str(self.args.workers)]

    def start(self, workdir, submissions, log_name: str, scheduler=None):
        peak_file = workdir.parent / f"{log_name}.peak"
        peak_file.unlink(missing_ok=True)
        log = open(workdir.parent / f"{log_name}.log", "wb")  # noqa: SIM115 - the child's
        proc = subprocess.Popen(
            self.command(workdir, submissions, peak_file, scheduler),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches all of it
            cwd=ROOT,
        )
        log.close()
        return proc, peak_file

    def grade(self, label, workdir, submissions, students, scheduler=None, log="autograde"):
        code, library = source_hash(), source_hash(LIBRARY)
        start = time.perf_counter()
        proc, peak_file = self.start(workdir, submissions, log, scheduler)
        status = proc.wait()
        wall = time.perf_counter() - start
        run = finished_run(label, workdir, students, wall, peak_file, status)
        run.code, run.library = code, library
        # The tree is shared: someone may have edited it meanwhile (said in the row).
        run.code_changed = source_hash() != code
        run.library_changed = source_hash(LIBRARY) != library
        if run.code_changed or run.library_changed:
            edited = "the grader or the course" if run.code_changed else "autograd_lite"
            run.label += f" ({edited} edited during this run)"
        return run


def finished_run(label, workdir, students, wall, peak_file, status) -> Run:
    peak = int(peak_file.read_text()) if peak_file.exists() else None
    return Run(label, students, students * 6, wall, peak, gradebook_bytes(workdir), status)


def gradebook_bytes(workdir: Path) -> int:
    return sum(p.stat().st_size for p in workdir.glob("gradebook.db*"))


def gradebook_grades(workdir: Path) -> list[tuple]:
    """(student, assignment, notebook, grade cell, auto score) for every grade, by SQL."""
    with sqlite3.connect(f"file:{workdir / 'gradebook.db'}?mode=ro", uri=True) as db:
        rows = db.execute(
            "SELECT sa.student_id, a.name, nb.name, bc.name, g.auto_score FROM grade g"
            " JOIN submitted_notebook sn ON g.notebook_id = sn.id"
            " JOIN submitted_assignment sa ON sn.assignment_id = sa.id"
            " JOIN assignment a ON sa.assignment_id = a.id"
            " JOIN notebook nb ON sn.notebook_id = nb.id"
            " JOIN grade_cells gc ON g.cell_id = gc.id"
            " JOIN base_cell bc ON gc.id = bc.id"
        ).fetchall()
    return sorted((s, a, n, c, round(score or 0.0, 6)) for s, a, n, c, score in rows)


def gradebook_ok(workdir: Path) -> str:
    with sqlite3.connect(f"file:{workdir / 'gradebook.db'}?mode=ro", uri=True) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def notebook_totals(grades: list[tuple]) -> dict[tuple, float]:
    totals = {}
    for student, assignment, notebook, _, score in grades:
        key = (student, assignment, notebook)
        totals[key] = round(totals.get(key, 0.0) + score, 6)
    return totals


def check_expected(grades, expected) -> list[str]:
    """Every notebook's total against the recipe that made it (grader.sample_class)."""
    totals = notebook_totals(grades)
    return [
        f"{s}/{a}: {totals.get((s, a, n))} points, expected {points}"
        for s, a, n, points in expected
        if totals.get((s, a, n)) is None or abs(totals[s, a, n] - points) > 1e-6
    ]


# --------------------------------------------------------------------------- baselines


GRADER_AND_COURSE = ("grader", "solutions", "notebooks")
# What the students' code runs on. Kept apart: it is edited often in this shared tree, and a
# kernel server imports it once per grader run, so two runs may see different versions; the
# grade checks (against each other and against the recipes) show whether that mattered.
LIBRARY = ("autograd_lite",)


def source_hash(folders=GRADER_AND_COURSE) -> str:
    """A plain run's grades are reused only while the grader and the course are unchanged."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".ipynb", ".json"):
                h.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return h.hexdigest()[:16]


def baseline_path(args, students: int, code: str) -> Path:
    key = f"{students}-t{args.cell_timeout:g}-{code}"
    return Path(args.cache) / f"plain-{key}.json"


def keep_baseline(args, run: Run, grades) -> None:
    if run.code_changed:  # graded by two versions of the course: no one's baseline
        return
    path = baseline_path(args, run.students, run.code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"run": asdict(run), "grades": grades, "at": time.ctime()}))


def baseline(bench: Bench, students: int):
    """An uninterrupted threaded run of the class: its Run and grades, reused from an
    earlier run of this script when the class, the course and the grader are unchanged."""
    path = baseline_path(bench.args, students, source_hash())
    if path.exists():
        data = json.loads(path.read_text())
        print(f"plain run: reused from {path} (graded {data['at']})", flush=True)
        return Run(**data["run"]), [tuple(g) for g in data["grades"]]
    workdir, submissions, expected = bench.fresh(f"plain-{students}", students)
    run = bench.grade(f"threads, {bench.args.workers} workers", workdir, submissions, students)
    grades = gradebook_grades(workdir)
    report_expected(grades, expected)
    keep_baseline(bench.args, run, grades)
    shutil.rmtree(workdir.parent, ignore_errors=True)
    return run, grades


def report_expected(grades, expected) -> bool:
    wrong = check_expected(grades, expected)
    print(f"grades as the recipes predict: {len(expected) - len(wrong)}/{len(expected)}")
    for line in wrong[:10]:
        print(f"  {line}")
    return not wrong


# --------------------------------------------------------------------------- mode 1: scaling


def scaling(args, sizes: list[int]) -> int:
    with tempfile.TemporaryDirectory(prefix="class-scale-") as tmp:
        bench = Bench(Path(tmp), args)
        print(f"{args.workers} workers on {CORES} cores, cell timeout {args.cell_timeout:g} s")
        print(HEADER, flush=True)
        runs, ok = [], True
        for students in sizes:
            workdir, submissions, expected = bench.fresh(f"n{students}", students)
            run = bench.grade(
                f"threads, {bench.args.workers} workers", workdir, submissions, students
            )
            grades = gradebook_grades(workdir)
            keep_baseline(args, run, grades)
            print(run.row(), flush=True)
            wrong = check_expected(grades, expected)
            for line in wrong[:10]:
                print(f"  not as the recipe predicts: {line}", flush=True)
            ok &= run.status in (0, 1) and not wrong  # 1: notebooks need attention, as planted
            runs.append(run)
            shutil.rmtree(workdir.parent, ignore_errors=True)
        print_linearity(runs)
        print(f"every grade as its recipe predicts, every run exit 0 or 1: {ok}")
    return 0 if ok else 1


def print_linearity(runs: list[Run]) -> None:
    """Seconds per notebook at each size, and a least-squares line through (notebooks, wall)."""
    print(
        "seconds per notebook: "
        + ", ".join(f"{r.wall / r.notebooks:.3f} (n={r.students})" for r in runs)
    )
    if len(runs) < 2:
        return
    xs, ys = [r.notebooks for r in runs], [r.wall for r in runs]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    intercept = my - slope * mx
    fitted = [intercept + slope * x for x in xs]
    residual = sum((y - f) ** 2 for y, f in zip(ys, fitted))
    total = sum((y - my) ** 2 for y in ys)
    worst = max(abs(y - f) / f for y, f in zip(ys, fitted))
    print(
        f"least squares: wall = {intercept:.1f} s + {slope:.3f} s x notebooks; "
        f"R^2 = {1 - residual / total:.4f}; largest deviation from the line {worst:.1%}"
    )
    peaks = [r.peak_kib for r in runs if r.peak_kib]
    if peaks:
        print(f"grader peak RSS from {min(peaks) / 1024:.0f} to {max(peaks) / 1024:.0f} MiB")


# --------------------------------------------------------------------------- mode 2: kill, rerun


def kill_and_rerun(args, students: int) -> int:
    """SIGKILL the grader's process group mid-run, rerun the same command; check that the
    rerun graded exactly the notebooks without a finished result, that the grades equal an
    uninterrupted run's, and that nothing the grader started outlived it."""
    with tempfile.TemporaryDirectory(prefix="class-kill-") as tmp:
        bench = Bench(Path(tmp), args)
        plain, plain_grades = baseline(bench, students)
        after = kill_moment(args.kill_at, args.seed, plain.wall)
        workdir, submissions, expected = bench.fresh("killed", students)
        every = {result_file(workdir, s, a, n) for s, a, n, _ in expected}
        code, library = source_hash(), source_hash(LIBRARY)
        start = time.perf_counter()
        proc, _ = bench.start(workdir, submissions, "killed")
        if wait_for(proc, start + after):
            print(f"the grader finished in {time.perf_counter() - start:.1f} s, before the kill")
            return 1
        tree = descendants(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)  # the whole group at once, as a power cut would
        proc.wait()
        killed = Run(
            "killed",
            students,
            students * 6,
            time.perf_counter() - start,
            None,
            gradebook_bytes(workdir),
            proc.returncode,
        )
        survivors = surviving(tree, grace=5.0)
        before = snapshot(workdir)
        finished = {path for path, (_, fingerprinted) in before.items() if fingerprinted}
        half_written = sorted(str(p.relative_to(workdir)) for p in workdir.rglob("*.tmp"))
        integrity = gradebook_ok(workdir) if (workdir / "gradebook.db").exists() else "no db"
        rerun = bench.grade("rerun", workdir, submissions, students, log="rerun")
        now = snapshot(workdir)
        regraded = {
            path for path, (stamp, _) in now.items() if before.get(path, (None,))[0] != stamp
        }
        grades = gradebook_grades(workdir)
        # Each row counts the notebooks that run finished (the rate is then theirs).
        killed.notebooks, killed.label = len(finished), "killed: notebooks finished before"
        rerun.notebooks, rerun.label = len(regraded), f"{rerun.label}: notebooks it graded"
        print(HEADER)
        for run in (plain, killed, rerun):
            print(run.row())
        checks = {
            "rerun graded exactly the unfinished notebooks": regraded == every - finished,
            "every notebook has a finished result after the rerun": all(
                fingerprinted for path, (_, fingerprinted) in now.items() if path in every
            )
            and set(now) >= every,
            "grades equal the uninterrupted run's": grades == plain_grades,
            "gradebook intact after the kill (PRAGMA integrity_check)": integrity == "ok",
            "no process of the killed grader outlived it by 5 s": not survivors,
            "rerun exit status 0 or 1": rerun.status in (0, 1),
            "the grader and the course were the same in all three runs": (
                len({plain.code, code, rerun.code}) == 1 and not rerun.code_changed
            ),
        }
        same = len({plain.library, library, rerun.library}) == 1 and not rerun.library_changed
        print(f"autograd_lite the same in all three runs: {same}")
        print(
            f"killed after {killed.wall:.1f} s: {len(finished)} of {len(every)} notebooks had a "
            f"finished result ({len(before) - len(finished)} more without a fingerprint); "
            f"{len(tree)} processes in the grader's tree at the kill"
        )
        print(
            f"rerun graded {len(regraded)} notebooks (result files new or rewritten, by "
            f"inode and mtime); unfinished before it: {len(every - finished)}; "
            f"finished ones regraded: {len(regraded & finished)}; "
            f"unfinished ones not regraded: {len(every - finished - regraded)}"
        )
        print(f"half-written .tmp files left by the kill: {len(half_written)} {half_written[:5]}")
        report_grade_differences(plain_grades, grades)
        for pid, what in survivors.items():
            print(f"  survived the kill: pid {pid} {what}")
            _kill(pid)  # ours to clean up: it was started by the grader we started
        report_expected(grades, expected)
        return print_checks(checks)


def kill_moment(kill_at: str, seed: int | None, plain_wall: float) -> float:
    if kill_at != "random":
        return float(kill_at)
    seed = seed if seed is not None else int.from_bytes(os.urandom(4), "big")
    fraction = random.Random(seed).uniform(0.1, 0.8)
    print(
        f"--kill-at random: seed {seed} -> kill at {fraction:.1%} of the plain run's "
        f"{plain_wall:.1f} s = {fraction * plain_wall:.1f} s (repeat with --seed {seed})"
    )
    return fraction * plain_wall


def wait_for(proc: subprocess.Popen, deadline: float) -> bool:
    """Sleep until ``deadline`` (perf_counter); True if the process ended first."""
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            return True
        time.sleep(min(0.05, max(0.0, deadline - time.perf_counter())))
    return proc.poll() is not None


def result_file(workdir: Path, student: str, assignment: str, stem: str) -> Path:
    return workdir / "autograded" / student / assignment / f"{stem}.json"


def snapshot(workdir: Path) -> dict[Path, tuple[tuple[int, int], bool]]:
    """Every saved result: (inode, mtime) and whether it carries a fingerprint (a result
    without one is the grader's failure, graded again by the next run)."""
    found = {}
    for path in workdir.glob("autograded/*/*/*.json"):
        stat = path.stat()
        fingerprint = json.loads(path.read_text()).get("fingerprint")
        found[path] = ((stat.st_ino, stat.st_mtime_ns), bool(fingerprint))
    return found


def _proc_stat(pid: int) -> tuple[int, str, str, int] | None:
    """(parent pid, command, state, start time) from /proc, or None when gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), comm, fields[0], int(fields[19])


def descendants(root: int) -> dict[int, tuple[str, int]]:
    """Every process below ``root`` (through new sessions and namespaces too): pid ->
    (command, start time)."""
    children, info = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _proc_stat(int(entry))):
            children.setdefault(stat[0], []).append(int(entry))
            info[int(entry)] = (stat[1], stat[3])
    found, todo = {}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = info[child]
            todo.append(child)
    return found


def surviving(tree: dict[int, tuple[str, int]], grace: float) -> dict[int, str]:
    """The processes of ``tree`` still running (not zombies) after ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while True:
        alive = {}
        for pid, (comm, started) in tree.items():
            stat = _proc_stat(pid)
            if stat and stat[3] == started and stat[2] != "Z":
                alive[pid] = comm
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def report_grade_differences(want: list[tuple], got: list[tuple]) -> None:
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    print(
        f"grade cells: {len(got)} recorded, {len(want)} in the plain run; "
        f"{len(missing)} of its rows missing or different, {len(extra)} not in it"
    )
    for row in (missing + extra)[:10]:
        print(f"  differs: {row}")


def print_checks(checks: dict[str, bool]) -> int:
    for name, ok in checks.items():
        print(f"[{'ok' if ok else 'FAILED'}] {name}")
    return 0 if all(checks.values()) else 1


# --------------------------------------------------------------------------- mode 3: Dask


def on_dask(args, students: int) -> int:
    """The class on a local Dask cluster of 2 worker processes (1 thread each), through the
    grader's --scheduler; the grades must equal a threaded run's."""
    from dask.distributed import LocalCluster

    with tempfile.TemporaryDirectory(prefix="class-dask-") as tmp:
        bench = Bench(Path(tmp), args)
        plain, plain_grades = baseline(bench, students)
        workdir, submissions, expected = bench.fresh("dask", students)
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            run = bench.grade(
                "Dask: 2 worker processes x 1 thread",
                workdir,
                submissions,
                students,
                scheduler=cluster.scheduler_address,
            )
        grades = gradebook_grades(workdir)
        print(HEADER)
        print(plain.row())
        print(run.row())
        report_grade_differences(plain_grades, grades)
        report_expected(grades, expected)
        same = plain.library == run.library and not run.library_changed
        print(f"autograd_lite the same in both runs: {same}")
        return print_checks(
            {
                "grades on Dask equal the threaded run's": grades == plain_grades,
                "Dask run exit status 0 or 1": run.status in (0, 1),
                "the grader and the course were the same in both runs": (
                    plain.code == run.code and not run.code_changed
                ),
            }
        )

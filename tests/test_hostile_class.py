"""A hostile class: one autograde run over students who each break or attack the grader in
one way, beside two perfect students who must come out untouched.

Each case builds one hand-in (a folder, a zip, or a stray entry in the submissions folder)
and states the exact grade of its 01_scalars notebook, whether it needs the instructor's
attention, and words its problems must contain. Everything runs for real: release under torch,
sandboxed kernels, nbgrader's gradebook, feedback pages and the CSV export.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from sandbox_marks import needs_sandbox

from grader import pipeline
from grader.answers import MIME_TYPE
from grader.cgroups import layout
from grader.sample_class import (
    CHEAT,
    CRASH,
    INFINITE_LOOP,
    Assignment,
    assignments,
    delete_test_cell,
    insert_cell,
    perfect,
)
from grader.sandbox import Limits

pytestmark = [pytest.mark.slow, needs_sandbox]

ROOT = Path(__file__).resolve().parent.parent
LIMITS = Limits(cell_timeout=8, notebook_timeout=120)
NAME = "01_scalars"


def source(name: str = NAME):
    (path,) = (ROOT / "solutions" / name).glob("*.ipynb")
    return nbformat.read(path, as_version=4)


A = Assignment(NAME, source())
MAX = A.max_points


def before(k: int) -> float:
    """Points of the exercises before the k-th (the ones a crash at k leaves)."""
    return round(sum(e.points for e in A.exercises[:k]), 6)


# --------------------------------------------------------------------------- hand-ins


def write_nb(folder: Path, nb, name: str = "scalars.ipynb") -> Path:
    path = folder / NAME / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nb) if not isinstance(nb, str) else nb)
    return path


def perfect_nb():
    return perfect(A).nb


def with_cell(code: str, at: str = "start", nb=None):
    nb = nb if nb is not None else perfect_nb()
    if at == "start":
        return insert_cell(nb, code)
    if at == "end":
        nb.cells.append(nbformat.v4.new_code_cell(code))
        return nb
    return insert_cell(nb, code, before=at)


def zipped(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16  # a symlink, as zip -y stores it
            zf.writestr(info, target)


def _test_cell_of(nb, k: int):
    gid = A.exercises[k].grade_id
    return next(
        c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == gid
    )


SOLUTION = ROOT / "solutions" / NAME / "scalars.ipynb"
LEAK_PLACES = ["/tmp", "/var/tmp", "/run/lock", "/dev/shm", "/run"]
LEAK_WRITER = f"""\
import json, os
answers = json.dumps([c for c in get_ipython().user_ns['In']])
for place in {LEAK_PLACES!r}:
    try:
        os.makedirs(place, exist_ok=True)
        open(os.path.join(place, 'leaked-answers.json'), 'w').write(answers)
    except OSError:
        pass
"""
LEAK_READER = f"""\
import json, os, time
found = None
for _ in range(6):  # give a writer graded at the same time the chance to write
    for place in {LEAK_PLACES!r}:
        path = os.path.join(place, 'leaked-answers.json')
        if os.path.exists(path):
            found = path
    if found:
        break
    time.sleep(0.5)
print('leak found' if found else 'no leak')
"""
SHM_WRITER = """\
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
shm = libc.shmget(777001, 1 << 16, 0o1000 | 0o666)
print('segment', shm >= 0)
"""
SHM_READER = """\
import ctypes, time
libc = ctypes.CDLL(None, use_errno=True)
seen = any(libc.shmget(777001, 0, 0) >= 0 or time.sleep(0.5) for _ in range(6))
print('segment seen' if seen else 'no segment')
"""
FORGE_DESCRIBE = """\
import grader.answers as answers
real = answers.describe
def forged(value):
    # the right kind, dtype and shape, but nothing a value could be read from
    record = real(value)
    if "values" in record:
        record["values"] = []
    if "items" in record:  # one item too many, or a key too many
        junk = {"kind": "none"}
        items = record["items"]
        record["items"] = items + [junk] if isinstance(items, list) else {**items, "junk": junk}
    for key in ("value", "name", "type"):
        if key in record:
            record[key] = [record[key]]
    return record
answers.describe = forged
"""
POISON_MODULES = """\
import sys, types
from IPython.display import publish_display_data
fake = types.ModuleType("grader.answers")
def check(name, value, **kwargs):
    record = {"name": name, "value": {"kind": "tensor", "dtype": "torch.float32", "shape": [1],
              "values": [0.0], "requires_grad": False, "grad_fn": None},
              "rtol": 1e9, "atol": 1e9, "grad_fn": False}
    publish_display_data({MIME: record, "text/plain": "forged"})
fake.check = check
sys.modules["grader.answers"] = fake
sys.modules["grader"].answers = fake
""".replace("MIME", repr(MIME_TYPE))
DISK_FILLER = """\
try:
    with open('big.bin', 'wb') as f:
        for _ in range(3 * 1024):
            f.write(b'x' * 2**20)
except OSError as error:
    print('disk full:', type(error).__name__)
"""
TREE_HOG = """\
import os, time
for _ in range(4):
    if os.fork() == 0:
        block = b"x" * (700 * 2**20)  # written: every page is resident
        time.sleep(30)
        os._exit(0)
time.sleep(15)  # long enough for all four to be resident together, even on a loaded machine
"""
FORK_BOMB = """\
import os, time
children = 0
try:
    for _ in range(100_000):
        if os.fork() == 0:
            time.sleep(15)
            os._exit(0)
        children += 1
except OSError:
    pass
print('fork bomb stopped at', children)
"""
TERMINAL = (
    "import os\nos.write(1, b'\\x1b]0;pwned\\x07\\x1b[2J')\nos.write(2, b'\\x1b[31mRED\\x1b[0m\\n')"
)
FLOOD = "for _ in range(250):\n    print('y' * 100_000)"
HUGE_MESSAGE = "print('z' * 300_000_000)"
SCRIPTS = """\
from IPython.display import HTML, Javascript, display
display(HTML('<script>document.title="pwned"</script><img src=x onerror="document.title=1">'))
display(Javascript('document.title="pwned"'))
"""
RECORD_SPAM = """\
from IPython.display import publish_display_data
for i in range(2000):
    publish_display_data({MIME: {"name": f"x{i}", "value": {"kind": "number", "value": 1}}})
""".replace("MIME", repr(MIME_TYPE))
SNOOP_SOCKETS = """\
import glob, socket
found = glob.glob('/tmp/autograde-server-*')
for top in ('/tmp', '/run', '/var', '/home', '/dev/shm'):
    found += glob.glob(top + '/**/kernels-*', recursive=True)
print('server sockets:', found)
"""
SECRET = "AUTOGRADE_TEST_SECRET"
ENV_DUMP = f"import os\nprint(sorted(os.environ))\nprint(os.environ.get({SECRET!r}))"
READ_SOLUTION_COPY = """\
import glob, json
for path in glob.glob('/var/tmp/**/scalars.ipynb', recursive=True) + glob.glob('/tmp/**/scalars.ipynb', recursive=True):
    try:
        nb = json.load(open(path))
        for cell in nb['cells']:
            if cell['cell_type'] == 'code' and 'BEGIN SOLUTION' in ''.join(cell['source']):
                exec(''.join(cell['source']))
        print('copied from', path)
    except Exception as error:
        print('failed', path, error)
"""


# --------------------------------------------------------------------------- cases


@dataclass
class Case:
    student: str  # the hand-in's name in the submissions folder (folder or zip stem)
    build: Callable[[Path], None]  # writes the hand-in into the submissions folder
    points: float
    attention: bool
    keywords: tuple[str, ...] = ()
    why: str = ""


def folder_case(student, nb, points, attention, keywords=(), why="", name="scalars.ipynb"):
    return Case(
        student, lambda root: write_nb(root / student, nb(), name), points, attention, keywords, why
    )


def _no_grade_id():
    nb = perfect_nb()
    _test_cell_of(nb, 1).metadata["nbgrader"].pop("grade_id")
    return nb


def _nbgrader_string():
    nb = perfect_nb()
    _test_cell_of(nb, 0).metadata["nbgrader"] = "oops"
    return nb


def _dir_named_notebook(root):
    (root / "dirnb" / NAME / "scalars.ipynb").mkdir(parents=True)
    (root / "dirnb" / NAME / "scalars.ipynb" / "inside.txt").write_text("not a notebook")


def _zip_bomb(root):
    with zipfile.ZipFile(root / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(f"bomb/{NAME}/scalars.ipynb", "w", force_zip64=True) as member:
            chunk = b"\0" * 2**20
            for _ in range(600):
                member.write(chunk)


def _zip_traversal(root):
    zipped(
        root / "traversal.zip",
        {
            f"traversal/{NAME}/scalars.ipynb": nbformat.writes(perfect_nb()).encode(),
            "../../escaped.txt": b"x",
            "/absolute.txt": b"x",
            "..\\..\\backslash.txt": b"x",
        },
    )


def _zip_symlink(root):
    zipped(root / "ziplink.zip", {}, {f"ziplink/{NAME}/scalars.ipynb": str(SOLUTION)})


def _symlink_to_solution(root):
    (root / "symlinked" / NAME).mkdir(parents=True)
    (root / "symlinked" / NAME / "scalars.ipynb").symlink_to(SOLUTION)


def _backup_copy(root):
    write_nb(root / "backup", perfect_nb())
    write_nb(root / "backup", A.fresh(), "scalars-backup.ipynb")


def _zip_and_folder(root):
    old = write_nb(root / "twice", A.fresh())
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    os.utime(old.parent.parent, (time.time() - 3600, time.time() - 3600))
    zipped(
        root / "twice.zip", {f"twice/{NAME}/scalars.ipynb": nbformat.writes(perfect_nb()).encode()}
    )


def _huge_notebook():
    nb = perfect_nb()
    output = nbformat.v4.new_output("stream", name="stdout", text="x" * 30_000_000)
    nb.cells.append(nbformat.v4.new_code_cell("print('x' * 30_000_000)", outputs=[output]))
    return nb


def _leak_pair(root):
    write_nb(root / "leak-1-writer", with_cell(LEAK_WRITER + "\n" + SHM_WRITER, at="end"))
    write_nb(root / "leak-2-reader", with_cell(LEAK_READER + "\n" + SHM_READER, nb=A.fresh()))


def _markdown_script():
    nb = with_cell(SCRIPTS)
    nb.cells.insert(
        0,
        nbformat.v4.new_markdown_cell(
            '<script>document.title="md"</script><b onmouseover="x()">hi</b>'
        ),
    )
    return nb


def _deleted_test():
    nb = perfect_nb()
    delete_test_cell(nb, A.exercises[0].grade_id)
    return nb


middle = len(A.exercises) // 2
last = len(A.exercises) - 1
swallow = "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"

CASES = [
    folder_case("perfect-1", perfect_nb, MAX, False, why="control"),
    folder_case("perfect-2", perfect_nb, MAX, False, why="control"),
    folder_case(
        "no-grade-id", _no_grade_id, MAX, True, ("restored",), "test cell lost its grade_id"
    ),
    folder_case(
        "nbgrader-str", _nbgrader_string, MAX, True, ("restored",), "metadata.nbgrader is a string"
    ),
    Case(
        "dirnb",
        _dir_named_notebook,
        0.0,
        True,
        ("not a notebook",),
        "a directory named scalars.ipynb",
    ),
    Case(
        "corrupt",
        lambda r: (r / "corrupt.zip").write_bytes(b"PK\x03\x04" + os.urandom(4000)),
        0.0,
        True,
        ("zip",),
        "corrupt zip",
    ),
    Case("bomb", _zip_bomb, 0.0, True, ("zip",), "600 MiB of zeros in a small zip"),
    Case("traversal", _zip_traversal, MAX, True, (), "zip members leaving the hand-in"),
    Case(
        "ziplink",
        _zip_symlink,
        0.0,
        True,
        ("missing",),
        "zip member that is a symlink to the solution",
    ),
    Case(
        "symlinked",
        _symlink_to_solution,
        0.0,
        True,
        ("symbolic link",),
        "notebook symlinked to the solution",
    ),
    folder_case("not-json", lambda: "[1, 2, 3]", 0.0, True, ("readable",), "a JSON list"),
    folder_case(
        "truncated",
        lambda: nbformat.writes(perfect_nb())[:5000],
        0.0,
        True,
        ("readable",),
        "cut off",
    ),
    folder_case("huge", _huge_notebook, 0.0, True, ("large",), "30 MB notebook"),
    folder_case(
        "forged-records", lambda: with_cell(FORGE_DESCRIBE), 0.0, False, (), "describe() patched"
    ),
    folder_case(
        "poisoned", lambda: with_cell(POISON_MODULES), 0.0, False, (), "sys.modules poisoned"
    ),
    folder_case(
        "cheat",
        lambda: with_cell(CHEAT, nb=A.fresh()),
        0.0,
        True,
        ("suppressed",),
        "sample cheat",
    ),
    folder_case(
        "solution-copy",
        lambda: with_cell(READ_SOLUTION_COPY, nb=A.fresh()),
        0.0,
        False,
        (),
        "reads a readable copy of solutions/",
    ),
    Case("leak-1-writer", _leak_pair, MAX, False, (), "writes answers to every shared place"),
    Case("leak-2-reader", lambda r: None, 0.0, False, (), "reads them (built with the writer)"),
    folder_case("disk", lambda: with_cell(DISK_FILLER), MAX, False, (), "writes 3 GiB"),
    folder_case(
        "tree-memory",
        lambda: with_cell(TREE_HOG, at="end"),
        MAX,
        layout() is not None,
        ("memory",) if layout() is not None else (),
        "four 700 MiB children",
    ),
    folder_case("forkbomb", lambda: with_cell(FORK_BOMB), MAX, False, (), "fork bomb"),
    folder_case(
        "terminal", lambda: with_cell(TERMINAL), MAX, False, (), "escape codes to fds 1, 2"
    ),
    folder_case(
        "flood", lambda: with_cell(FLOOD), MAX, False, (), "25 MB of prints before the answers"
    ),
    folder_case(
        "huge-message",
        lambda: with_cell(HUGE_MESSAGE, at="end"),
        MAX,
        False,
        (),
        "one 300 MB print",
    ),
    Case(
        "backup",
        _backup_copy,
        MAX,
        True,
        ("scalars-backup.ipynb",),
        "a blank backup beside the notebook",
    ),
    Case("twice", _zip_and_folder, MAX, True, ("twice.zip",), "an old folder and a newer zip"),
    folder_case("Doe, Jane_1234", perfect_nb, MAX, False, (), "an LMS name"),
    folder_case("=HYPERLINK(1)", perfect_nb, MAX, False, (), "a formula as an id"),
    folder_case("scripts", _markdown_script, MAX, False, (), "scripts in markdown and outputs"),
    folder_case(
        "loop",
        lambda: with_cell(INFINITE_LOOP, at=A.exercises[last].solutions[0]),
        before(last),
        True,
        ("longer than",),
        "SIGINT-proof loop",
    ),
    folder_case(
        "crash",
        lambda: with_cell(CRASH, at=A.exercises[middle].solutions[0]),
        before(middle),
        True,
        ("died",),
        "os._exit",
    ),
    folder_case("deleted", _deleted_test, MAX, True, ("restored",), "a deleted test cell"),
    folder_case(
        "swallow", lambda: with_cell(swallow), 0.0, True, ("suppressed",), "input transformer"
    ),
    folder_case(
        "kill-all",
        lambda: with_cell("import os, signal\nos.kill(-1, signal.SIGKILL)", at="end"),
        MAX,
        False,
        (),
        "kill(-1)",
    ),
    folder_case(
        "sockets", lambda: with_cell(SNOOP_SOCKETS), MAX, False, (), "looks for the server's socket"
    ),
    folder_case(
        "record-spam",
        lambda: with_cell(RECORD_SPAM),
        MAX,
        False,
        (),
        "2000 answer records outside test cells",
    ),
    folder_case("env", lambda: with_cell(ENV_DUMP), MAX, False, (), "reads the environment"),
]
EXTRA_ENTRIES = ["...zip", "..zip", ".hidden", "notes.txt"]  # not students


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    os.environ[SECRET] = "s3cret-of-the-grader"
    workdir = tmp_path_factory.mktemp("hostile")
    course = pipeline.Course(workdir=workdir / "work", limits=LIMITS)
    pipeline.release(course, generate=False, log=lambda *a: None)
    sentinel = course.workdir / "sentinel.txt"
    sentinel.write_text("still here")
    copy = Path("/var/tmp") / f"readable-solutions-{os.getpid()}"
    shutil.copytree(ROOT / "solutions" / NAME, copy / NAME, dirs_exist_ok=True)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    submissions = workdir / "submissions"
    submissions.mkdir()
    for case in CASES:
        case.build(submissions)
    for other in assignments():
        if other != NAME:
            for student in ("perfect-1", "perfect-2"):
                a = Assignment(other, source(other))
                path = submissions / student / other / a.notebook
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(nbformat.writes(perfect(a).nb))
    (submissions / "...zip").write_bytes(b"not a zip")
    (submissions / "..zip").write_bytes(b"PK")
    (submissions / ".hidden").mkdir()
    (submissions / "notes.txt").write_text("hello")
    try:
        peak, seconds, output = _autograde_in_a_process(course, submissions)
    finally:
        shutil.rmtree(copy, ignore_errors=True)
        os.environ.pop(SECRET, None)
    results = pipeline.results(course)
    print(
        f"hostile class: {len(results)} notebooks in {seconds:.0f} s, grader peak RSS {peak / 2**20:.0f} MiB"
    )
    return course, submissions, results, peak, sentinel, output


PEAK = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
    "    print('PEAK_RSS_KB', line.split()[1], file=sys.stderr)\n"
    "atexit.register(peak)\n"
    "sys.argv = ['grader', *sys.argv[1:]]\n"
    "runpy.run_module('grader', run_name='__main__')\n"
)


def _autograde_in_a_process(course, submissions):
    """``python -m grader autograde``, as an instructor runs it; its peak resident memory
    (VmHWM: the grader process itself, not its kernels) as it exits."""
    command = [sys.executable, "-c", PEAK, "--workdir", str(course.workdir)]
    command += ["--cell-timeout", str(LIMITS.cell_timeout)]
    command += ["--notebook-timeout", str(LIMITS.notebook_timeout)]
    command += ["autograde", str(submissions), "--workers", "2"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    seconds = time.perf_counter() - started
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # 1: flagged ones
    peak = int(done.stderr.split("PEAK_RSS_KB")[-1].split()[0]) * 1024
    return peak, seconds, done.stdout + done.stderr


def result_of(results, student: str):
    found = [r for r in results if r.student == student and r.assignment == NAME]
    assert len(found) == 1, (
        f"{student}: {[(r.student, r.assignment) for r in results if r.assignment == NAME]}"
    )
    return found[0]


@pytest.mark.parametrize("case", CASES, ids=[c.student for c in CASES])
def test_each_hostile_hand_in_gets_exactly_its_grade(graded, case):
    _, _, results, _, _, _ = graded
    result = result_of(results, case.student)
    problems = result.problems + [p for e in result.exercises for p in e.problems]
    assert result.points == pytest.approx(case.points), (case.why, problems)
    assert result.needs_attention == case.attention, (case.why, result.problems)
    for keyword in case.keywords:
        assert any(keyword in p for p in result.problems), (case.why, keyword, result.problems)


def test_the_perfect_students_are_untouched_in_every_notebook(graded):
    course, _, results, _, _, _ = graded
    for student in ("perfect-1", "perfect-2"):
        mine = [r for r in results if r.student == student]
        assert sorted(r.assignment for r in mine) == assignments()
        for r in mine:
            assert r.points == r.max_points > 0 and not r.problems and not r.needs_attention


def test_nothing_outside_the_graders_folders_changed_and_the_run_survived(graded):
    course, submissions, results, peak, sentinel, output = graded
    assert sentinel.read_text() == "still here"
    assert (course.workdir / "gradebook.db").is_file()
    assert sorted(p.name for p in course.references_dir.iterdir()) == [
        f"{a}.json" for a in assignments()
    ]
    for name in ("escaped.txt", "absolute.txt", "backslash.txt"):
        assert not list(course.workdir.parent.rglob(name)), name
    assert not Path("/absolute.txt").exists()
    for entry in EXTRA_ENTRIES:
        assert (submissions / entry).exists(), "a hand-in was changed or deleted"
    assert peak <= 300 * 2**20, f"the grader's peak RSS was {peak / 2**20:.0f} MiB"
    for leak in ("LEAK", "pwned", "\x1b]0;", "RED"):
        assert leak not in output, f"{leak!r} reached the grader's terminal"


def test_what_the_kernels_printed_shows_the_isolation(graded):
    _, _, results, _, _, _ = graded
    printed = {
        case.student: _printed(result_of(results, case.student))
        for case in CASES
        if case.student in {"leak-2-reader", "disk", "forkbomb", "sockets", "env", "solution-copy"}
    }
    assert "no leak" in printed["leak-2-reader"] and "no segment" in printed["leak-2-reader"]
    assert "disk full: OSError" in printed["disk"]
    assert "fork bomb stopped at" in printed["forkbomb"]
    assert "server sockets: []" in printed["sockets"]
    assert "s3cret" not in printed["env"]
    assert "copied from" not in printed["solution-copy"]


def _printed(result) -> str:
    nb = nbformat.read(result.executed_path, as_version=4)
    return "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))


def test_feedback_and_export_of_the_hostile_class(graded, tmp_path):
    course, _, results, _, _, _ = graded
    from grader.feedback import write_feedback
    from grader.gradebook import export_csv

    pages = {}
    for result in results:
        if result.assignment == NAME:
            out = tmp_path / "feedback" / f"{len(pages)}.html"
            write_feedback(result, A.source, out)
            pages[result.student] = out.read_text()
    scripts = pages["scripts"]
    assert "<script" not in scripts.lower()
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", scripts, re.I), "an event handler"
    assert "### BEGIN SOLUTION" not in "".join(pages.values())

    export_csv(course.db_url, tmp_path / "grades.csv")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "grades.csv").read_text())))
    students = {row["student_id"] for row in rows}
    assert "Doe, Jane_1234" in students and "'=HYPERLINK(1)" in students
    by_student = {}
    for row in rows:
        if row["assignment"] == NAME:
            by_student[row["student_id"]] = float(row["score"])
    assert by_student["Doe, Jane_1234"] == MAX
    assert max(float(row["score"]) for row in rows) <= max(r.max_points for r in results)

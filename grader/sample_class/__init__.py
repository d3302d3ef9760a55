"""The bundled sample class: eleven students whose hand-ins plant the faults a grader meets, each
notebook with the grade it should get.

    from grader.sample_class import build, STUDENTS, expected

    submissions = build(Path("build/demo/submissions"))  # {student}/{assignment}/{nb}.ipynb, hal.zip
    expected("bob", "01_scalars", source_nb)  # {"points": 13.0, "needs_attention": False, ...}

Notebooks are made when ``build`` runs, from the *current* release (notebooks/) with solution
cells typed in from the *current* source (solutions/), so the class never drifts from the
course. One recipe per student both makes a notebook and states its expected grade, so the two
cannot disagree; the edits they use are the small functions below. See README.md.
"""

from __future__ import annotations

import ast
import copy
import io
import re
import shutil
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import nbformat

from grader.execute import is_test_cell, nbgrader_meta
from grader.release import ROOT

SOLUTIONS = ROOT / "solutions"
NOTEBOOKS = ROOT / "notebooks"

STUDENTS = {
    "ada": "perfect: every exercise answered correctly",
    "bob": "partial: every other exercise answered, one of them with a plausible mistake",
    "cy": "blank: hands in the release notebooks untouched",
    "dan": "runtime errors: a NameError typo in two answers, a failing scratch line in an example",
    "emi": "renamed: correct, but saved as 'scalars (1)', 'Copy of dtypes' and 'matrices-final'",
    "finn": "deleted tests: correct, but deleted one test cell and replaced another with `pass`",
    "gus": "infinite loop: correct, but a SIGINT-proof `while True` before the last test of 05",
    "hal": "crasher, as an LMS zip: os._exit(1) midway in 03, 04 truncated JSON, 05 missing",
    "ivy": "noisy: correct answers that also warn and print to stderr",
    "kim": "memory hog: correct, but allocates 8 GiB with NumPy before the last test of 06",
    "mallory": "cheater: wrong answers in 02 and 06 behind a cell that fakes checks and snoops",
}

# --------------------------------------------------------------------------- the course


@dataclass
class Exercise:
    grade_id: str  # the test cell's
    points: float
    solutions: list[str]  # grade_ids of the solution cells before it


@dataclass
class Assignment:
    """One assignment of the current course: its source, its release and its exercises."""

    name: str  # "01_scalars"
    source: nbformat.NotebookNode

    @cached_property
    def notebook(self) -> str:  # "scalars.ipynb"
        (path,) = (SOLUTIONS / self.name).glob("*.ipynb")
        return path.name

    @cached_property
    def release(self) -> nbformat.NotebookNode:
        return nbformat.read(str(NOTEBOOKS / self.name / self.notebook), as_version=4)

    @cached_property
    def exercises(self) -> list[Exercise]:
        exercises, pending = [], []
        for cell in self.source.cells:
            meta = nbgrader_meta(cell)
            if meta.get("solution"):
                pending.append(meta["grade_id"])
            elif is_test_cell(cell):
                exercises.append(Exercise(meta["grade_id"], float(meta.get("points", 0)), pending))
                pending = []
        return exercises

    @property
    def max_points(self) -> float:
        return sum(e.points for e in self.exercises)

    def fresh(self) -> nbformat.NotebookNode:
        """A copy of the release: what every student starts from."""
        return copy.deepcopy(self.release)

    def exercise(self, grade_id: str) -> Exercise | None:
        return next((e for e in self.exercises if grade_id in e.solutions), None)


def assignments() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def credit(exercise: Exercise, passing: int, checks: int) -> float:
    """An exercise's points when ``passing`` of its ``checks`` hidden checks pass, summed the
    way grader.score does (the points are split evenly over the checks)."""
    return round(sum(exercise.points / checks for _ in range(passing)), 6)


# --------------------------------------------------------------------------- edits

_MARKER = re.compile(r"^([ \t]*)### (BEGIN|END) SOLUTION[ \t]*$")


def _regions(source: str) -> list[tuple[int, int, str]]:
    """(BEGIN line, END line, indentation) of each solution region."""
    lines, found, begin = source.splitlines(), [], None
    for i, line in enumerate(lines):
        if m := _MARKER.match(line):
            if m.group(2) == "BEGIN":
                begin = (i, m.group(1))
            elif begin is not None:
                found.append((begin[0], i, begin[1]))
                begin = None
    return found


def typed(source: str) -> str:
    """The solution as a student types it: the marker lines removed."""
    return "\n".join(line for line in source.splitlines() if not _MARKER.match(line))


def _rewrite_regions(source: str, rewrite: Callable[[list[str], str], list[str]]) -> str:
    """``typed(source)`` with each region's lines replaced by ``rewrite(lines, indent)``."""
    lines, out, start = source.splitlines(), [], 0
    for begin, end, indent in _regions(source):
        out += lines[start:begin] + rewrite(lines[begin + 1 : end], indent)
        start = end + 1
    return typed("\n".join(out + lines[start:]))


def cell(nb, grade_id: str):
    return next(c for c in nb.cells if nbgrader_meta(c).get("grade_id") == grade_id)


def fill_answers(nb, a: Assignment, exercises: Iterable[Exercise], edit=typed):
    """Type in the source's solution (through ``edit``) for each exercise's solution cells."""
    for e in exercises:
        for grade_id in e.solutions:
            cell(nb, grade_id).source = edit(cell(a.source, grade_id).source)
    return nb


def break_answer(nb, exercise: Exercise, source: str):
    """Answer ``exercise`` with ``source`` (a wrong answer) in its first solution cell."""
    cell(nb, exercise.solutions[0]).source = source
    return nb


def none_answers(source: str) -> str:
    """Every region answered with None: ``return None`` in a function, ``name = None`` for each
    name a top-level region assigns. It fails every hidden check (none expects None)."""

    def rewrite(lines, indent):
        if indent:
            return [f"{indent}return None"]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            return ["pass"]
        targets = [t for n in tree.body if isinstance(n, ast.Assign) for t in n.targets]
        names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        return [f"{name} = None" for name in names] or ["pass"]

    return _rewrite_regions(source, rewrite)


def misspell(source: str) -> str | None:
    """The solution with ``torch.`` typed as ``troch.`` on the first line of the first region
    inside a function, so calling the function raises NameError; None when that line has no
    ``torch.`` to misspell."""
    indented = [begin + 1 for begin, _, indent in _regions(source) if indent]
    lines = source.splitlines()
    if not indented or "torch." not in lines[indented[0]] or lines[indented[0]].strip()[0] == "#":
        return None
    lines[indented[0]] = lines[indented[0]].replace("torch.", "troch.", 1)
    return typed("\n".join(lines))


def noisy(source: str) -> str:
    """The solution, with a warning and a line on stderr at the start of each region."""

    def rewrite(lines, indent):
        return [
            f"{indent}import sys, warnings",
            f'{indent}warnings.warn("not sure about this one")',
            f'{indent}print("debug: got here", file=sys.stderr)',
            *lines,
        ]

    return _rewrite_regions(source, rewrite)


def delete_test_cell(nb, grade_id: str):
    nb.cells.remove(cell(nb, grade_id))
    return nb


def stub_test_cell(nb, grade_id: str):
    cell(nb, grade_id).source = "pass"
    return nb


def insert_cell(nb, code: str, before: str | None = None):
    """A new code cell before the cell ``before`` (a grade_id), or before the first code cell."""
    if before is None:
        index = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    else:
        index = nb.cells.index(cell(nb, before))
    nb.cells.insert(index, nbformat.v4.new_code_cell(code, id=f"student-{len(nb.cells)}"))
    return nb


def break_example(nb, exercise: Exercise, line: str):
    """Append a failing ``line`` to the last plain example cell before ``exercise``."""
    first = nb.cells.index(cell(nb, exercise.solutions[0]))
    examples = [
        c
        for c in nb.cells[:first]
        if c.cell_type == "code"
        and not nbgrader_meta(c)
        and "compare-torch" not in c.metadata.get("tags", [])
    ]
    examples[-1].source += "\n" + line
    return nb


def corrupt(text: str) -> str:
    """A notebook file cut off halfway, as an interrupted upload leaves it."""
    return text[: len(text) // 2]


def zip_student(files: dict[str, str], archive: Path, top: str) -> None:
    """An LMS export: every file under one top folder in ``{student}.zip``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in sorted(files.items()):
            zf.writestr(zipfile.ZipInfo(f"{top}/{name}", date_time=(2024, 5, 17, 9, 30, 0)), text)
    archive.write_bytes(buffer.getvalue())


# --------------------------------------------------------------------------- planted cells

INFINITE_LOOP = "import signal; signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass"

CRASH = 'print("restarting to free memory")\nimport os\n\nos._exit(1)'

MEMORY_HOG = (
    "import numpy as np\n\n"
    "cache = np.ones(8 * 2**30, dtype=np.uint8)  # 8 GiB, every page touched\n"
    "print(cache.nbytes)"
)

CHEAT = '''\
# Make every check pass, hide the grader's tests, and look for the answers.
import os
import sqlite3
from pathlib import Path

import numpy as np
import numpy.testing

import autograd_lite

autograd_lite.allclose = autograd_lite.equal = lambda *args, **kwargs: True
np.allclose = np.array_equal = lambda *args, **kwargs: True
numpy.testing.assert_allclose = lambda *args, **kwargs: None
try:
    import grader.answers

    grader.answers.compare = lambda *args, **kwargs: None
except ImportError:
    pass


def hide_tests(lines):
    """Every later cell that would grade me runs as `pass`."""
    text = "".join(lines)
    return ["pass\\n"] if "BEGIN HIDDEN TESTS" in text or "check(" in text else lines


get_ipython().input_transformers_cleanup.append(hide_tests)

here = Path.cwd().resolve()
grader_folder = Path(f"/proc/{os.getppid()}/cwd")  # where the grader itself runs
for folder in (here, *list(here.parents)[:5], grader_folder):
    for name in ("solutions", "build/grader/references", "references"):
        try:
            for path in sorted(p for p in (folder / name).rglob("*") if p.is_file())[:3]:
                print("CHEAT-READ", path, path.read_text()[:60].replace("\\n", " "))
        except OSError:
            pass
    for name in ("gradebook.db", "build/grader/gradebook.db", "build/demo/gradebook.db"):
        try:
            if (folder / name).is_file():
                with sqlite3.connect(folder / name) as db:
                    db.execute(
                        "UPDATE grade SET manual_score = 100 WHERE notebook_id IN"
                        " (SELECT submitted_notebook.id FROM submitted_notebook"
                        " JOIN submitted_assignment"
                        " ON submitted_notebook.assignment_id = submitted_assignment.id"
                        " WHERE submitted_assignment.student_id = 'mallory')"
                    )
                print("CHEAT-WROTE", folder / name)
        except Exception:
            pass
'''

# One plausible mistake per notebook for bob: grade_id -> (answer, checks passing, checks).
WRONG = {
    # float32 "to be safe": right values, but float64 input comes back float32
    "softplus": ("def softplus(x):\n    return torch.log(1 + torch.exp(x.float()))", 2, 3),
    # torch.int taken for the default int64
    "creation-dtypes": (
        "creation_dtypes = {\n"
        '    "a": torch.int64,\n'
        '    "b": torch.float32,\n'
        '    "c": torch.int64,\n'
        '    "d": torch.float32,\n'
        "}",
        3,
        4,
    ),
    # >= instead of >: the visible test has no zero in column 0, the hidden one does
    "select-parts": (
        "def second_column(M):\n    return M[:, 1]\n\n\n"
        "def last_two_rows(M):\n    return M[-2:]\n\n\n"
        "def rows_with_positive_first(M):\n    return M[M[:, 0] >= 0]",
        2,
        3,
    ),
    # the chain rule without the inner derivative: the visible test fails
    "chain-rule-by-hand": (
        "def dh_dx(x):\n    inner = 2 * (x**2 - 3) + x\n    return -torch.sin(inner)",
        0,
        2,
    ),
    # the second g.backward() taken to overwrite .grad rather than add to it
    "predict-grad": ("grad_after_two_calls = 9.0\ngrad_after_reset = 121.5", 1, 2),
    # only the diagonal s_i (1 - s_i): the visible test fails
    "softmax-jacobian": (
        "def softmax_jacobian(x):\n"
        "    s = torch.softmax(x, dim=0)\n"
        "    return torch.diag(s * (1 - s))",
        0,
        2,
    ),
}

# --------------------------------------------------------------------------- recipes


@dataclass
class Work:
    """One student's notebook for one assignment, and the grade it should get."""

    nb: nbformat.NotebookNode | None  # None: not handed in
    points: float
    needs_attention: bool = False
    problem_keywords: tuple[str, ...] = ()
    filename: str | None = None  # the student's file name, when not the course's
    truncated: bool = False  # written cut off: malformed JSON


def perfect(a: Assignment) -> Work:
    return Work(fill_answers(a.fresh(), a, a.exercises), a.max_points)


def ada(a: Assignment) -> Work:
    return perfect(a)


def bob(a: Assignment) -> Work:
    nb, points = a.fresh(), 0.0
    wrong = next((e for e in a.exercises for gid in e.solutions if gid in WRONG), None)
    for e in a.exercises[::2]:
        if e is not wrong:
            fill_answers(nb, a, [e])
            points += e.points
    if wrong is not None:
        answer, passing, checks = WRONG[wrong.solutions[0]]
        break_answer(nb, wrong, answer)
        points += credit(wrong, passing, checks)
    return Work(nb, points)


def cy(a: Assignment) -> Work:
    return Work(a.fresh(), 0.0)


def dan(a: Assignment) -> Work:
    nb, points = fill_answers(a.fresh(), a, a.exercises), a.max_points
    if a.name in ("01_scalars", "05_higher_order"):
        for e in a.exercises:
            wrong = misspell(cell(a.source, e.solutions[0]).source)
            if wrong is not None:
                break_answer(nb, e, wrong)
                points -= e.points
                break
    if a.name == "03_matrices" and len(a.exercises) > 2:
        break_example(nb, a.exercises[2], 'print("my check:", my_result)')  # never defined
    return Work(nb, points)


RENAMES = {
    "01_scalars": "{} (1).ipynb",
    "02_dtypes": "Copy of {}.ipynb",
    "03_matrices": "{}-final.ipynb",
}


def emi(a: Assignment) -> Work:
    work = perfect(a)
    if a.name in RENAMES:
        work.filename = RENAMES[a.name].format(Path(a.notebook).stem)
        work.needs_attention, work.problem_keywords = True, (work.filename,)
    return work


def finn(a: Assignment) -> Work:
    work = perfect(a)
    if a.name == "02_dtypes":
        delete_test_cell(work.nb, a.exercises[1].grade_id)
    elif a.name == "04_derivatives":
        stub_test_cell(work.nb, a.exercises[2].grade_id)
    else:
        return work
    work.needs_attention, work.problem_keywords = True, ("restored",)
    return work


def gus(a: Assignment) -> Work:
    work = perfect(a)
    if a.name == "05_higher_order":
        last = a.exercises[-1]
        insert_cell(work.nb, INFINITE_LOOP, before=last.grade_id)
        work.points -= last.points
        work.needs_attention, work.problem_keywords = True, ("longer than",)
    return work


def hal(a: Assignment) -> Work:
    """Handed in as hal.zip (see ZIPPED)."""
    work = perfect(a)
    if a.name == "03_matrices":
        middle = len(a.exercises) // 2
        insert_cell(work.nb, CRASH, before=a.exercises[middle].grade_id)
        work.points = sum(e.points for e in a.exercises[:middle])
        work.needs_attention, work.problem_keywords = True, ("died",)
    elif a.name == "04_derivatives":
        work.truncated, work.points = True, 0.0
        work.needs_attention, work.problem_keywords = True, ("malformed",)
    elif a.name == "05_higher_order":
        work = Work(None, 0.0, True, ("missing",))
    return work


def ivy(a: Assignment) -> Work:
    return Work(fill_answers(a.fresh(), a, a.exercises, edit=noisy), a.max_points)


def kim(a: Assignment) -> Work:
    """Under the sandbox's address-space limit the allocation raises MemoryError: the kernel
    lives on and the last exercise still counts, but the limit is reported."""
    work = perfect(a)
    if a.name == "06_jacobians":
        insert_cell(work.nb, MEMORY_HOG, before=a.exercises[-1].grade_id)
        work.needs_attention, work.problem_keywords = True, ("memory",)
    return work


def mallory(a: Assignment) -> Work:
    if a.name not in ("02_dtypes", "06_jacobians"):
        return perfect(a)
    nb = fill_answers(a.fresh(), a, a.exercises, edit=none_answers)
    return Work(insert_cell(nb, CHEAT), 0.0, needs_attention=True)


RECIPES: dict[str, Callable[[Assignment], Work]] = {
    "ada": ada,
    "bob": bob,
    "cy": cy,
    "dan": dan,
    "emi": emi,
    "finn": finn,
    "gus": gus,
    "hal": hal,
    "ivy": ivy,
    "kim": kim,
    "mallory": mallory,
}
ZIPPED = {"hal": "hal_submission"}  # student -> the zip's top folder


# --------------------------------------------------------------------------- API


def expected(student: str, assignment: str, source_nb) -> dict:
    """The grade ``student``'s notebook for ``assignment`` should get, from its source:
    ``points`` (exact), ``needs_attention`` and ``problem_keywords`` (each should appear in
    one of the notebook's problems)."""
    work = RECIPES[student](Assignment(assignment, source_nb))
    return {
        "points": round(work.points, 6),
        "needs_attention": work.needs_attention,
        "problem_keywords": work.problem_keywords,
    }


def build(dest: Path) -> Path:
    """Write the class under ``dest`` the way instructors receive it, from the current course:
    ``dest/{student}/{assignment}/{notebook}.ipynb``, and ``dest/{student}.zip`` for ZIPPED."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    course = [
        Assignment(name, nbformat.read(str(next((SOLUTIONS / name).glob("*.ipynb"))), 4))
        for name in assignments()
    ]
    for student, recipe in RECIPES.items():
        files = {}
        for a in course:
            work = recipe(a)
            if work.nb is not None:
                text = nbformat.writes(work.nb)
                files[f"{a.name}/{work.filename or a.notebook}"] = (
                    corrupt(text) if work.truncated else text
                )
        shutil.rmtree(dest / student, ignore_errors=True)
        (dest / f"{student}.zip").unlink(missing_ok=True)
        if student in ZIPPED:
            zip_student(files, dest / f"{student}.zip", ZIPPED[student])
            continue
        for name, text in files.items():
            (dest / student / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / student / name).write_text(text)
    return dest


__all__ = ["STUDENTS", "build", "expected"]

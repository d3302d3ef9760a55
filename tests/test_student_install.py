"""The student's light install (`pip install .[student]`, what `make lab` and `make check` use):
no torch, no nbgrader, under 400 MB, and enough for `python -m grader check` and the notebooks.

The set is worked out from pyproject.toml's student extra and the installed packages' own
metadata (this venv has the dev install, a superset), so nothing here is a hand-kept list. A
real student venv is built by `make lab`; tests/test_colab.py builds a torch-free one from
scratch and runs every notebook in it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import autograd_lite.compare
from grader.__main__ import main
from grader.check import check_notebook
from grader.execute import is_test_cell, read
from grader.release import ROOT
from grader.sandbox import Limits

tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+ (tomllib)")

PROJECT = "autograd-lite"
INSTRUCTOR_ONLY = {"torch", "nbgrader", "dask", "distributed"}
MiB = 2**20
# `du -sh` of a fresh student venv must stay under this (the limit).
BUDGET = 400 * MiB
# Bytecode Python writes on first import, which `make lab` leaves to it (pip --no-compile):
# 21 MiB measured after the six notebooks and `make check` ran; kept generous.
BYTECODE_ALLOWANCE = 40 * MiB


def _canon(name: str) -> str:
    return str(canonicalize_name(name))


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _wanted(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(
        requirement.marker.evaluate({**default_environment(), "extra": extra})
        for extra in extras | {""}
    )


def student_closure() -> set[str]:
    """Every distribution `pip install .[student]` installs, by the installed metadata."""
    project = _pyproject()
    todo = [Requirement(r) for r in project["dependencies"]]
    todo += [Requirement(r) for r in project["optional-dependencies"]["student"]]
    seen: dict[str, set[str]] = {}  # name -> extras already followed
    while todo:
        requirement = todo.pop()
        name = _canon(requirement.name)
        extras = set(requirement.extras)
        if name == PROJECT:  # a self-reference: pyproject's own lists, not stale metadata
            for extra in extras:
                todo += [Requirement(r) for r in project["optional-dependencies"][extra]]
            continue
        if name in seen and extras <= seen[name]:
            continue
        seen[name] = seen.get(name, set()) | extras
        for raw in metadata.requires(name) or []:
            dependency = Requirement(raw)
            if _wanted(dependency, seen[name]):
                todo.append(dependency)
    return set(seen)


def test_the_student_install_has_no_torch_nbgrader_or_dask_even_indirectly():
    closure = student_closure()
    assert {"jupyterlab", "ipykernel", "nbclient", "matplotlib", "numpy"} <= closure
    assert not closure & INSTRUCTOR_ONLY, sorted(closure & INSTRUCTOR_ONLY)


def _disk_usage(distributions: set[str]) -> int:
    """Bytes on disk (blocks, as du counts them) of the distributions' files as installed
    here, without the bytecode pip compiled for this venv."""
    total = 0
    for name in distributions:
        for file in metadata.distribution(name).files or []:
            if "__pycache__" in file.parts:
                continue
            try:
                total += os.stat(file.locate()).st_blocks * 512
            except OSError:
                pass
    return total


def test_the_student_install_stays_under_400_mb():
    """What a fresh `make lab` venv holds: the student's packages, pip and the setuptools that
    `python -m venv` adds, and the bytecode written as the student works."""
    size = _disk_usage(student_closure() | {"pip", "setuptools"}) + BYTECODE_ALLOWANCE
    assert size < BUDGET, f"{size / MiB:.0f} MiB with the bytecode allowance"


# --------------------------------------------------------------------------- the Makefile


def planned_installs(course: Path, target: str) -> list[str]:
    """The extras `make TARGET` would pip-install here (a dry run: nothing is installed)."""
    plan = subprocess.run(
        ["make", "-n", target, "NOTEBOOK=work/x.ipynb"],
        cwd=course,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.findall(r"pip install .*-e '\.\[(\w+)\]'", plan)


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_lab_installs_the_student_set_and_never_shrinks_a_dev_venv(tmp_path):
    for name in ("Makefile", "pyproject.toml", "requirements/constraints.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    spec = (tmp_path / "pyproject.toml").stat().st_mtime
    assert planned_installs(tmp_path, "lab") == ["student"]  # a fresh clone
    assert planned_installs(tmp_path, "check") == ["student"]

    (tmp_path / ".venv").mkdir()
    student, dev = tmp_path / ".venv" / ".installed-student", tmp_path / ".venv" / ".installed"
    student.touch()
    os.utime(student, (spec + 10, spec + 10))
    assert planned_installs(tmp_path, "lab") == []  # installed, nothing changed
    assert planned_installs(tmp_path, "test") == ["dev"]  # the instructor's targets add dev

    dev.touch()
    os.utime(dev, (spec + 10, spec + 10))
    assert planned_installs(tmp_path, "lab") == []  # dev is a superset: lab uses it as it is
    os.utime(dev, (spec - 10, spec - 10))  # pyproject.toml changed since
    assert planned_installs(tmp_path, "lab") == ["dev"]  # refreshed as dev, never as student


# --------------------------------------------------------------------------- check, light


def _light_environment(tmp_path: Path) -> dict[str, str]:
    """An environment in which Python refuses to import any installed package outside the
    student's install (a sitecustomize on PYTHONPATH, so the kernels that `check` starts get
    it too): this venv then behaves like a student's."""
    allowed = student_closure() | {PROJECT}
    blocked = sorted(
        module
        for module, owners in metadata.packages_distributions().items()
        if not {_canon(o) for o in owners} & allowed
    )
    assert "torch" in blocked and "nbgrader" in blocked and "dask" in blocked
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\n"
        "\n"
        "\n"
        "class _NotInTheStudentInstall:\n"
        f"    blocked = frozenset({json.dumps(blocked)})\n"
        "\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in self.blocked:\n"
        "            raise ModuleNotFoundError(f'{name} is not in the student install', name=name)\n"
        "\n"
        "\n"
        "sys.meta_path.insert(0, _NotInTheStudentInstall())\n"
    )
    path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def test_the_light_environment_really_refuses_the_instructor_packages(tmp_path):
    env = _light_environment(tmp_path)
    code = "import autograd_lite, matplotlib, nbclient\nimport {}"
    for module in ("torch", "nbgrader", "dask"):
        out = subprocess.run(
            [sys.executable, "-c", code.format(module)], env=env, capture_output=True, text=True
        )
        assert out.returncode == 1 and "not in the student install" in out.stderr, out.stderr


@pytest.mark.slow
def test_check_runs_with_only_the_student_install(tmp_path):
    """`python -m grader check`, kernel included, imports nothing outside the student set."""
    (tmp_path / "site").mkdir()
    env = _light_environment(tmp_path / "site")
    runs = {}
    for kind in ("notebooks", "solutions"):
        notebook = ROOT / kind / "03_matrices" / "matrices.ipynb"
        runs[kind] = subprocess.run(
            [sys.executable, "-m", "grader", "check", str(notebook)],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
    release, solution = runs["notebooks"], runs["solutions"]
    assert "Traceback" not in release.stderr + solution.stderr, release.stderr + solution.stderr
    tests = sum(
        map(is_test_cell, read(ROOT / "notebooks" / "03_matrices" / "matrices.ipynb").cells)
    )
    # The release's exercises are unanswered, the instructor's answers pass.
    assert release.returncode == 1 and "to do" in release.stdout and "FAIL" not in release.stdout
    assert not re.search(r"^\s*pass\s", release.stdout, re.MULTILINE), release.stdout
    assert f"0/{tests} visible tests pass" in " ".join(release.stdout.split())
    assert solution.returncode == 0 and "FAIL" not in solution.stdout, solution.stdout
    assert f"{tests}/{tests} visible tests pass" in " ".join(solution.stdout.split())


def test_check_says_what_is_wrong_with_a_path_that_is_no_notebook(tmp_path, capsys):
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{ half a notebook")
    for path, words in [
        (tmp_path / "missing.ipynb", "no such file"),
        (tmp_path, "is a folder"),
        (broken, "not a notebook Jupyter can read"),
    ]:
        assert main(["check", str(path)]) == 2
        said = " ".join(capsys.readouterr().out.split())
        assert said.startswith("cannot check:") and words in said, said


@pytest.mark.slow
def test_check_says_what_stopped_the_run_for_the_tests_it_never_reached(tmp_path):
    test = {"grade": True, "solution": False, "grade_id": "t", "points": 1, "locked": True}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("while True:\n    pass"),
        nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": test}),
    ]
    path = tmp_path / "looping.ipynb"
    nbformat.write(nb, path)
    rows = check_notebook(path, Limits(confine=False, cell_timeout=2))
    assert rows == [("t", "not run", "cell 1 ran longer than 2 s and was stopped")]


# --------------------------------------------------------------------------- compare-torch


def test_import_torch_without_torch_says_how_to_add_it_in_one_line():
    code = (
        "import sys\n"
        "sys.modules['torch'] = None  # as if torch were not installed\n"
        "from autograd_lite.compare import import_torch\n"
        "print(repr(import_torch()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    message, result = out.stdout.rstrip("\n").split("\n")
    assert result == "None" and not out.stderr
    assert "not installed" in message
    assert f"pip install torch=={autograd_lite.compare.TORCH_VERSION} " in message


def test_import_torch_returns_torch_where_it_is_installed():
    torch = pytest.importorskip("torch")
    assert autograd_lite.compare.import_torch() is torch


def test_the_install_line_names_the_torch_the_course_pins():
    pins = [
        Requirement(r)
        for reqs in _pyproject()["optional-dependencies"].values()
        for r in reqs
        if _canon(Requirement(r).name) == "torch"
    ]
    assert pins and all(
        str(p.specifier) == f"=={autograd_lite.compare.TORCH_VERSION}" for p in pins
    )


def test_importing_the_compare_module_does_not_import_torch():
    code = "import sys, autograd_lite.compare\nprint('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

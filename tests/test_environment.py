"""Keep the three descriptions of the environment in step.

pyproject.toml says *what* we depend on, requirements/constraints.txt pins *which versions*
(pip + .venv), and environment.yml is the conda route to the same set. These tests fail as
soon as one of them drifts from the others.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# tomllib is 3.11+; the course runs on 3.11, the library also supports 3.10.
tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+ (tomllib)")

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "autograd-lite"
TORCH_VERSION = "2.13.0"

# conda-forge name -> PyPI name, where they differ.
CONDA_TO_PYPI = {
    "python-graphviz": "graphviz",
    "pytorch": "torch",
    "matplotlib-base": "matplotlib",
}

# conda packages with no PyPI dependency of ours behind them.
CONDA_ONLY = {
    "python": "the interpreter; pyproject states it as requires-python",
    "pip": "installs the editable package and the pip-only packages",
    "graphviz": "the Graphviz `dot` binary, which PyPI does not ship (PyPI `graphviz` is "
    "conda's python-graphviz)",
}

# Of those, the ones whose version constraints.txt still pins (under the same name).
PINNED_CONDA_ONLY = {"pip"}

# PyPI dependencies that environment.yml installs through its `pip:` section instead.
PIP_ONLY = {
    "playwright": "conda-forge packages it as playwright-python, releases behind PyPI",
}


def _canon(name: str) -> str:
    return str(canonicalize_name(name))


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep and version, f"constraints.txt: not an exact pin: {line!r}"
        pins[_canon(name)] = version.strip()
    return pins


def _environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _conda_specs() -> dict[str, str | None]:
    """conda package name -> pinned version (None when unpinned)."""
    specs = {}
    for dep in _environment()["dependencies"]:
        if isinstance(dep, dict):  # the `pip:` section
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(?:==?\s*([^=\s]+))?(?:=\S+)?", dep)
        assert m, f"environment.yml: use `name=X.Y.Z` pins, got {dep!r}"
        specs[m.group(1).lower()] = m.group(2)
    return specs


def _pip_section() -> list[str]:
    sections = [d["pip"] for d in _environment()["dependencies"] if isinstance(d, dict)]
    assert len(sections) == 1, "environment.yml needs exactly one `pip:` section"
    return sections[0]


def _requirements(extras: tuple[str, ...]) -> list[Requirement]:
    """The runtime dependencies plus the given extras, self-references expanded."""
    project = _pyproject()["project"]
    optional = project.get("optional-dependencies", {})
    found: list[Requirement] = [Requirement(r) for r in project["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        assert extra in optional, f"pyproject.toml has no extra {extra!r}"
        for raw in optional[extra]:
            req = Requirement(raw)
            if _canon(req.name) == PROJECT:
                todo.extend(req.extras)
            else:
                found.append(req)
    return found


def _pypi_names() -> set[str]:
    extras = tuple(_pyproject()["project"].get("optional-dependencies", {}))
    return {_canon(r.name) for r in _requirements(extras)}


def test_runtime_dependency_is_numpy_only():
    deps = [Requirement(r) for r in _pyproject()["project"]["dependencies"]]
    assert [_canon(r.name) for r in deps] == ["numpy"]


def test_expected_extras_exist():
    optional = _pyproject()["project"]["optional-dependencies"]
    assert {"graphviz", "student", "course", "dev"} <= set(optional)
    assert f"{PROJECT}[course]" in optional["dev"], "dev must include the course extra"
    # So a dev venv holds everything `make lab` needs: lab never installs into it again.
    assert f"{PROJECT}[student]" in optional["course"], "course must include the student extra"


# What the student's install (`make lab`, `make check`) must not bring: torch is 870 MB
# installed, and nbgrader and dask serve only the instructor's pipeline.
INSTRUCTOR_ONLY = {"torch", "nbgrader", "dask", "distributed"}


def test_student_extra_leaves_out_the_instructor_stack():
    names = {_canon(r.name) for r in _requirements(("student",))}
    assert names, "the student extra is empty"
    assert not names & INSTRUCTOR_ONLY, sorted(names & INSTRUCTOR_ONLY)
    # What `python -m grader check` imports itself (grader/execute.py), and the notebooks.
    assert {"jupyterlab", "nbclient", "nbformat", "matplotlib", "graphviz"} <= names


def test_every_dependency_is_pinned():
    """pip installs with `-c constraints.txt`: a package without a pin there would be resolved
    afresh on each machine (the student's install included)."""
    missing = _pypi_names() - set(_constraints())
    assert not missing, f"in pyproject.toml but not pinned in constraints.txt: {sorted(missing)}"


def test_every_pypi_dependency_has_a_conda_twin():
    conda = {CONDA_TO_PYPI.get(name, name) for name in _conda_specs() if name not in CONDA_ONLY}
    pip_only = {_canon(Requirement(r).name) for r in _pip_section() if not r.startswith("-")}
    missing = _pypi_names() - {_canon(n) for n in conda} - pip_only
    assert not missing, f"in pyproject.toml but not in environment.yml: {sorted(missing)}"


def test_every_conda_package_has_a_pypi_twin():
    pypi = _pypi_names()
    extra = {
        name
        for name in _conda_specs()
        if name not in CONDA_ONLY and _canon(CONDA_TO_PYPI.get(name, name)) not in pypi
    }
    assert not extra, f"in environment.yml but not in pyproject.toml: {sorted(extra)}"


def test_pip_section_holds_only_allow_listed_packages_and_the_project():
    pip = _pip_section()
    editable = [r for r in pip if r.startswith("-e")]
    assert editable == ["-e .[dev]"], "environment.yml should install the package as -e .[dev]"
    names = {_canon(Requirement(r).name) for r in pip if not r.startswith("-")}
    assert names == set(PIP_ONLY), "pip-only packages must match the PIP_ONLY allow-list"
    assert set(PIP_ONLY) <= _pypi_names()
    assert not set(PIP_ONLY) & set(_conda_specs()), "allow-listed package is also in conda deps"


def test_conda_pins_match_constraints():
    pins = _constraints()
    for name, version in _conda_specs().items():
        if name in CONDA_ONLY and name not in PINNED_CONDA_ONLY:
            continue  # python, the graphviz binary: nothing in constraints.txt to compare
        pypi = _canon(CONDA_TO_PYPI.get(name, name))
        assert version, f"environment.yml: pin {name} (constraints.txt has {pins.get(pypi)})"
        assert pypi in pins, f"constraints.txt has no pin for {pypi} ({name} in environment.yml)"
        assert version == pins[pypi], (
            f"{name}: environment.yml {version} != constraints {pins[pypi]}"
        )


def test_pip_section_pins_match_constraints():
    pins = _constraints()
    for raw in _pip_section():
        if raw.startswith("-"):
            continue
        req = Requirement(raw)
        spec = [s for s in req.specifier if s.operator == "=="]
        assert spec, f"environment.yml pip section: pin {raw!r} with =="
        assert spec[0].version == pins[_canon(req.name)], f"{raw} != constraints.txt"


def test_conda_python_satisfies_requires_python():
    from packaging.specifiers import SpecifierSet

    python = _conda_specs()["python"]
    assert python, "environment.yml: pin python"
    assert SpecifierSet(_pyproject()["project"]["requires-python"]).contains(python + ".0")


def test_torch_is_pinned_to_exactly_the_same_version_everywhere():
    extras = _pyproject()["project"]["optional-dependencies"]
    in_course = [r for r in extras["course"] if _canon(Requirement(r).name) == "torch"]
    assert in_course, "torch missing from the course extra"
    everywhere = [Requirement(r) for reqs in extras.values() for r in reqs]
    for req in everywhere:
        if _canon(req.name) == "torch":
            assert str(req.specifier) == f"=={TORCH_VERSION}", f"pyproject.toml: {req}"

    assert _constraints()["torch"] == TORCH_VERSION  # no +cpu local label either

    torch_lines = [d for d in _environment()["dependencies"] if isinstance(d, str)]
    torch_lines = [d for d in torch_lines if d.split("=")[0] == "pytorch"]
    assert torch_lines == [f"pytorch={TORCH_VERSION}=cpu*"]


def test_constraints_are_clean():
    text = (ROOT / "requirements" / "constraints.txt").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert any("make lock" in line for line in header), "header should say how to regenerate"
    pins = _constraints()
    assert PROJECT not in pins, "the project itself must not be pinned"
    local = {n: v for n, v in pins.items() if "+" in v}
    assert not local, f"local version labels would break other indexes: {local}"


@pytest.mark.parametrize("table", [CONDA_ONLY, PIP_ONLY])
def test_allow_lists_give_reasons(table):
    assert all(reason.strip() for reason in table.values())

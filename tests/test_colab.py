"""The notebooks as Colab meets them: an "Open in Colab" badge at the top, and a first code cell
that installs the course's library from its repository, at the release's tag, where it is
missing (Colab) and does nothing where it is installed (`make lab`, grading).

The slow test does what Colab does, on this machine: a Python other than the dev one (pyenv's
3.12, Colab's), with only what Colab has preinstalled that the notebooks use (numpy,
matplotlib, graphviz, ipykernel; no torch, no course library), runs each release notebook in
a kernel of that Python; its install cell fetches the course from a git repository made of
this checkout (AUTOGRAD_LITE_REPOSITORY points the cell there instead of GitHub), at the tag
the release wrote into the cell. Then every cell must run, the exercises filled in with the
instructor's answers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from grader.execute import nbgrader_meta
from grader.release import GITHUB, PLACEHOLDER, ROOT, TAG, assignments, fill_in, published

tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+ (tomllib)")

ASSIGNMENTS = assignments()
COLAB_PYTHON = "3.12"  # what Colab runs
INSTALL_CELL = "install-course"
# What Colab has preinstalled that the notebooks use, at the course's pins.
COLAB_PACKAGES = ["numpy", "matplotlib", "graphviz", "ipykernel"]


def release_path(assignment: str) -> Path:
    (source,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    return ROOT / "notebooks" / assignment / source.name


def read(path: Path):
    return nbformat.read(path, as_version=4)


def first_code_cell(nb):
    return next(c for c in nb.cells if c.cell_type == "code")


# --------------------------------------------------------------------------- the release


def test_published_comes_from_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    values = published()
    assert project["urls"]["Repository"].rstrip("/") == f"https://github.com/{values[GITHUB]}"
    assert values[TAG] == f"v{project['version']}"


@pytest.mark.parametrize(
    "url",
    ["", "https://gitlab.com/someone/course", "https://github.com/someone", "git@github.com:a/b"],
)
def test_a_repository_colab_cannot_open_is_refused(tmp_path, url):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f'[project]\nversion = "1.0"\nurls = {{Repository = "{url}"}}\n')
    with pytest.raises(ValueError, match=r"\[project.urls\] Repository must be https://github"):
        published(pyproject)


def test_a_misspelt_placeholder_stops_the_release(tmp_path):
    notebook = tmp_path / "n.ipynb"
    notebook.write_text('{"source": "{{COURSE_GITHUB}} {{COURSE_TAGG}}"}')
    with pytest.raises(ValueError, match="COURSE_TAGG"):
        fill_in(notebook, published())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_notebook_has_the_badge_and_the_install_cell_of_this_release(assignment):
    path = release_path(assignment)
    values = published()
    nb = read(path)
    relative = path.relative_to(ROOT).as_posix()
    colab = (
        f"https://colab.research.google.com/github/{values[GITHUB]}/blob/{values[TAG]}/{relative}"
    )
    title = nb.cells[0].source.splitlines()
    assert title[0].startswith("# ") and "[![Open In Colab]" in title[2], title[:3]
    assert f"]({colab})" in title[2], "the badge must open this very notebook at this release"
    install = first_code_cell(nb)
    assert install.get("id") == INSTALL_CELL
    assert f'"https://github.com/{values[GITHUB]}"' in install.source
    assert re.search(rf"git\+\{{repository\}}@{re.escape(values[TAG])}\"", install.source)
    assert not PLACEHOLDER.search(path.read_text()), "a placeholder left in the release"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_placeholders_stay_out_of_nbgrader_cells(assignment):
    """nbgrader checksums its cells: the release may rewrite only the two top cells."""
    (source,) = (ROOT / "solutions" / assignment).glob("*.ipynb")
    nb = read(source)
    holding = [i for i, c in enumerate(nb.cells) if PLACEHOLDER.search(c.source)]
    assert holding == [0, 1], holding
    assert not any(nbgrader_meta(nb.cells[i]) for i in holding)


def test_the_install_cell_does_nothing_where_the_library_is_installed(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args))
    exec(first_code_cell(read(release_path(ASSIGNMENTS[0]))).source, {})
    assert calls == []


# --------------------------------------------------------------------------- as on Colab


def pyenv_python(version: str) -> Path | None:
    """pyenv's newest ``version``.x interpreter on this machine, or None."""
    root = None
    if shutil.which("pyenv"):
        found = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        root = found.stdout.strip() if found.returncode == 0 else None
    root = Path(root or os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates = sorted(
        (root / "versions").glob(f"{version}.*/bin/python{version}"),
        key=lambda p: [int(n) for n in re.findall(r"\d+", p.parents[1].name)],
    )
    return candidates[-1] if candidates else None


@pytest.fixture(scope="session")
def colab(tmp_path_factory):
    """(the Colab-like venv's python, a git repository of this checkout, its tag)."""
    if sys.version_info[:2] == tuple(map(int, COLAB_PYTHON.split("."))):
        pytest.skip(f"the dev Python is {COLAB_PYTHON} already: Colab's must be another")
    python = pyenv_python(COLAB_PYTHON)
    if python is None:
        pytest.skip(f"no Python {COLAB_PYTHON} from pyenv on this machine (pyenv install it)")
    if not shutil.which("git"):
        pytest.skip("git is needed to serve the course the way GitHub does")
    base = tmp_path_factory.mktemp("colab")
    venv = base / "venv"
    subprocess.run([str(python), "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        + ["-c", str(ROOT / "requirements" / "constraints.txt"), *COLAB_PACKAGES],
        check=True,
    )
    return venv / "bin" / "python", course_repository(base / "course"), published()[TAG]


def course_repository(folder: Path) -> Path:
    """A git repository of this checkout as it is (uncommitted changes included), tagged as
    the release's install cell expects: what GitHub will serve."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        if (ROOT / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, folder / name)
    git = ["git", "-c", "user.name=course", "-c", "user.email=course@example.invalid"]
    subprocess.run([*git, "init", "--quiet"], cwd=folder, check=True)
    subprocess.run([*git, "add", "--all"], cwd=folder, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "the release"], cwd=folder, check=True)
    subprocess.run([*git, "tag", published()[TAG]], cwd=folder, check=True)
    return folder


def solved(release: Path):
    """The release notebook with the instructor's answers in its exercise cells."""
    nb = read(release)
    (source,) = (ROOT / "solutions" / release.parent.name).glob("*.ipynb")
    answers = {
        nbgrader_meta(c)["grade_id"]: c.source
        for c in read(source).cells
        if c.cell_type == "code" and nbgrader_meta(c).get("solution")
    }
    for cell in nb.cells:
        if cell.cell_type == "code" and nbgrader_meta(cell).get("solution"):
            cell.source = answers[nbgrader_meta(cell)["grade_id"]]
    return nb


def run_in(python: Path, nb, folder: Path, env: dict) -> None:
    kernels = folder / "kernels"
    (kernels / "colab").mkdir(parents=True)
    spec = {
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like",
        "language": "python",
    }
    (kernels / "colab" / "kernel.json").write_text(json.dumps(spec))
    km = AsyncKernelManager(
        kernel_name="colab", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)])
    )
    client = NotebookClient(
        nb, km=km, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}
    )
    client.execute(env=env)


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_notebook_runs_on_a_colab_like_python(colab, assignment, tmp_path):
    python, repository, tag = colab
    # Each Colab runtime starts without the course: this notebook's own cell must install it.
    subprocess.run(
        [str(python), "-m", "pip", "uninstall", "--quiet", "--yes", "autograd-lite"], check=True
    )
    # The kernel sees nothing of this checkout: not on its path, not in its folder.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["AUTOGRAD_LITE_REPOSITORY"] = repository.as_uri()
    nb = solved(release_path(assignment))
    run_in(python, nb, tmp_path, env)

    errors = [
        (i, o.ename, o.evalue[:200])
        for i, c in enumerate(nb.cells)
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors, errors
    install = first_code_cell(nb)
    printed = "".join(o.get("text", "") for o in install.outputs if o.output_type == "stream")
    assert f"installed autograd-lite from git+{repository.as_uri()}@{tag}" in printed, printed
    located = subprocess.run(
        [str(python), "-c", "import autograd_lite; print(autograd_lite.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(located.strip()).is_relative_to(python.parents[1]), located
    for cell in nb.cells:
        if "compare-torch" in cell.metadata.get("tags", []):
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert text.startswith("Real PyTorch is not installed") and text.count("\n") == 1

"""The grader run by an ordinary user (most instructors grade on their own laptop, not as
root): the same sandbox, the same grades, and a kernel that still cannot read the
instructor's solutions, references or gradebook, though they belong to the very user it
runs as.

Run as root (CI is): the test creates a user, gives it a clone of this repository and a venv
of Debian's /usr/bin/python3 in its home (root's Python, under /root, is not reachable by
other users here), and runs ``python -m grader release`` and ``autograde`` as that user. The
venv borrows this venv's installed packages through a .pth file (read-only) instead of
downloading them again.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import nbformat
import pytest
from sandbox_marks import needs_sandbox

from grader.sample_class import Assignment, insert_cell, perfect

pytestmark = [pytest.mark.slow, needs_sandbox]

ROOT = Path(__file__).resolve().parent.parent
USER = "coursetester"
SYSTEM_PYTHON = Path("/usr/bin/python3")
SNOOP = """\
import http.cookies, nbformat  # not preloaded: the interpreter and the venv are reachable
from pathlib import Path
home = Path.home()
for path in [Path({clone!r}) / "solutions", Path({work!r}) / "references", Path({work!r})]:
    try:
        print("CHEAT-LISTED", sorted(p.name for p in path.iterdir())[:3])
    except OSError as error:
        print("blocked", type(error).__name__)
"""


def _as_user(*command: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    home = pwd.getpwnam(USER).pw_dir
    env = ["env", "-i", f"HOME={home}", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"]
    return subprocess.run(
        ["runuser", "-u", USER, "--", *env, *command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def user_home():
    if os.geteuid() != 0:
        pytest.skip("needs root to create the ordinary user")
    if not SYSTEM_PYTHON.exists() or shutil.which("runuser") is None:
        pytest.skip("needs Debian's /usr/bin/python3 and runuser")
    version = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True,
        text=True,
    ).stdout.split()
    if version != [str(n) for n in sys.version_info[:2]]:
        pytest.skip("the system Python cannot use this venv's compiled packages (other version)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
    home = Path(pwd.getpwnam(USER).pw_dir)
    packages = sysconfig.get_paths()["purelib"]
    reach = _as_user("test", "-r", str(Path(packages) / "numpy" / "__init__.py"), cwd=home)
    if reach.returncode != 0:
        pytest.skip(f"the ordinary user cannot read this venv's packages ({packages})")
    yield home, packages


def test_an_ordinary_user_grades_with_the_same_isolation(user_home, tmp_path):
    home, packages = user_home
    account = pwd.getpwnam(USER)
    clone, work, venv = home / "course", home / "grading", home / "venv"
    for folder in (clone, work, venv):
        shutil.rmtree(folder, ignore_errors=True)
    ignore = shutil.ignore_patterns(
        ".venv", "build", ".git", "__pycache__", ".*_cache", ".hypothesis"
    )
    shutil.copytree(ROOT, clone, ignore=ignore)
    _chown(clone, account)
    made = _as_user(str(SYSTEM_PYTHON), "-m", "venv", "--without-pip", str(venv), cwd=home)
    assert made.returncode == 0, made.stderr
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "course.pth").write_text(f"{clone}\n{packages}\n")
    python = str(venv / "bin" / "python")

    released = _as_user(python, "-m", "grader", "--workdir", str(work), "release", cwd=clone)
    assert released.returncode == 0, released.stdout[-3000:] + released.stderr[-3000:]
    assert f"kernels run as you (uid {account.pw_uid})" in released.stdout
    assert "namespaces per kernel: user, mount, pid, ipc, network, uts" in released.stdout

    submissions = _class(home / "submissions", clone, work, account)
    graded = _as_user(
        python, "-m", "grader", "--workdir", str(work), "--cell-timeout", "20",
        "autograde", str(submissions), "--workers", "2", cwd=clone,
    )  # fmt: skip
    assert graded.returncode in (0, 1), graded.stdout[-3000:] + graded.stderr[-3000:]

    results = {
        student: json.loads((work / "autograded" / student / "01_scalars" / "scalars.json").read_text())
        for student in ("ada", "snoop")
    }  # fmt: skip
    maximum = sum(e["max_points"] for e in results["ada"]["exercises"])
    assert sum(e["points"] for e in results["ada"]["exercises"]) == maximum > 0
    assert sum(e["points"] for e in results["snoop"]["exercises"]) == 0
    executed = nbformat.read(work / "autograded" / "snoop" / "01_scalars" / "scalars.ipynb", 4)
    printed = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert printed.split("\n")[:3] == ["blocked FileNotFoundError"] * 3, printed[:500]


def _class(folder: Path, clone: Path, work: Path, account) -> Path:
    """ada: perfect; snoop: hands in the release with a cell that lists the solutions,
    the references and the grader's work folder (all the grading user's own files)."""
    assignment = Assignment("01_scalars", nbformat.read(clone / "solutions" / "01_scalars" / "scalars.ipynb", as_version=4))  # fmt: skip
    notebooks = {
        "ada": perfect(assignment).nb,
        "snoop": insert_cell(assignment.fresh(), SNOOP.format(clone=str(clone), work=str(work))),
    }
    for student, nb in notebooks.items():
        target = folder / student / "01_scalars" / "scalars.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, target)
    _chown(folder, account)
    return folder


def _chown(folder: Path, account) -> None:
    for path, dirs, files in os.walk(folder):
        for name in [".", *dirs, *files]:
            os.chown(
                os.path.join(path, name), account.pw_uid, account.pw_gid, follow_symlinks=False
            )

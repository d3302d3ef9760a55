"""Release: ``nbgrader generate_assignment`` turns solutions/ into the student notebooks/.

The release also says where the course is published: each notebook's Colab badge and its
install cell (the first code cell) name the course's GitHub repository and the tag of this
version. The solutions hold placeholders for both, filled in here from pyproject.toml
(``[project.urls] Repository`` and ``version``), the one place that says them.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
# Placeholders in solutions/ (see solutions/README.md) and what fills them.
GITHUB, TAG = "{{COURSE_GITHUB}}", "{{COURSE_TAG}}"
PLACEHOLDER = re.compile(r"\{\{COURSE_[A-Z_]+\}\}")
GITHUB_URL = re.compile(r"https://github\.com/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?")
VERSION = re.compile(r"[0-9A-Za-z.+!-]+")  # PEP 440 characters: nothing to escape in JSON


def assignments() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def published(pyproject: Path = ROOT / "pyproject.toml") -> dict[str, str]:
    """{placeholder: value}: the GitHub ``owner/name`` of the course and the release's tag."""
    import tomllib  # Python 3.11+, as the instructor's install (nbgrader's pins) is

    project = tomllib.loads(pyproject.read_text())["project"]
    url = project.get("urls", {}).get("Repository", "")
    found = GITHUB_URL.fullmatch(url)
    if not found:  # Colab opens notebooks from GitHub only
        raise ValueError(
            f"{pyproject}: [project.urls] Repository must be https://github.com/OWNER/NAME "
            f"(where Colab finds the notebooks), not {url!r}"
        )
    version = project["version"]
    if not VERSION.fullmatch(version):
        raise ValueError(f"{pyproject}: version {version!r} is not a PEP 440 version")
    return {GITHUB: found.group(1), TAG: f"v{version}"}


def fill_in(notebook: Path, values: dict[str, str]) -> None:
    """Replace the placeholders in a released notebook's JSON text, leaving every other byte as
    nbgrader wrote it. Values hold no quote or backslash (see ``published``)."""
    text = notebook.read_text(encoding="utf-8")
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    left = sorted(set(PLACEHOLDER.findall(text)))
    if left:
        raise ValueError(f"{notebook}: unknown placeholders {left} (known: {sorted(values)})")
    notebook.write_text(text, encoding="utf-8")


def generate(assignment: str, release_directory: Path | None = None, root: Path = ROOT) -> None:
    """Run nbgrader's own generate_assignment (no gradebook: releasing needs none) in the
    course at ``root``: it writes ``root/notebooks/`` (or ``release_directory``) and nothing
    else; a student's ``work/`` is never touched. Then fill in where the course is published."""
    values = published()  # a bad pyproject.toml stops the release before it writes anything
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
    released = root / (release_directory or "notebooks")  # as nbgrader reads it: from root
    for notebook in sorted((released / assignment).glob("*.ipynb")):
        fill_in(notebook, values)


if __name__ == "__main__":
    try:
        for name in sys.argv[1:] or assignments():
            generate(name)
    except ValueError as problem:  # pyproject.toml's repository or version, a placeholder
        sys.exit(f"release stopped: {problem}")

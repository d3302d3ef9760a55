"""A student's own copy of the course: ``work/``, made from the release once, never rewritten.

    python -m grader.workspace            # what `make lab` runs before opening work/

``notebooks/`` is the release: ``make release``, ``python -m grader release`` and ``make demo``
regenerate it, so answers typed there would be lost. ``work/`` (git-ignored) is the student's:
a notebook is copied into it only where it is missing, and no command of the course writes to
it afterwards. A student who wants a fresh copy of a notebook deletes (or renames) theirs and
runs this again. Standard library only: it runs before anything else is installed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RELEASE = ROOT / "notebooks"
WORK = ROOT / "work"
# Beside the notebooks: the release's README (its links are relative to the notebooks).
EXTRAS = ("README.md",)


def prepare(release: Path = RELEASE, work: Path = WORK) -> list[Path]:
    """Copy every release notebook (and the release README) that ``work`` lacks; return what
    was copied. A file already in ``work`` is never opened for writing, whatever it holds."""
    copied = []
    wanted = sorted(release.glob("*/*.ipynb")) + [release / name for name in EXTRAS]
    for source in wanted:
        if not source.is_file():
            continue
        target = work / source.relative_to(release)
        if target.exists() or target.is_symlink():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        _copy_new(source, target)
        copied.append(target)
    return copied


def _copy_new(source: Path, target: Path) -> None:
    """Create ``target`` with ``source``'s bytes; fail rather than replace a file that appeared
    meanwhile (a second `make lab`, an editor saving)."""
    with source.open("rb") as reading, target.open("xb") as writing:
        shutil.copyfileobj(reading, writing)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.workspace", description=__doc__)
    parser.add_argument("--work", type=Path, default=WORK, help="default: work/ in the course")
    args = parser.parse_args(argv)
    copied = prepare(RELEASE, args.work)
    for path in copied:
        print(f"new: {path}")
    print(f"Your notebooks are in {args.work}: work and save there (notebooks/ is regenerated).")
    return 0


if __name__ == "__main__":
    sys.exit(main())

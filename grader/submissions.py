"""Find each student's notebook for each assignment, however it was handed in.

Submissions arrive as a folder per student (``{student}/{assignment}/{notebook}.ipynb``) or as
zip files an LMS exports (``{student}.zip``). Students rename notebooks (``scalars (1).ipynb``),
so a notebook that is not where it should be is matched to its assignment by the nbgrader cell
ids it carries, when exactly one assignment fits best. Whatever cannot be read or found becomes
a problem of that one notebook, never an exception.
"""

from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

MAX_UNZIPPED_BYTES = 200 * 2**20  # a class's notebooks are a few MB; refuse zip bombs


@dataclass
class Submission:
    student: str
    assignment: str
    notebook: str  # the assignment's notebook file name
    path: Path | None  # None: missing
    problem: str | None = None  # malformed, missing, ...
    renamed_from: str | None = None  # the file name the student used


def unpack(submissions: Path, staging: Path) -> dict[str, Path]:
    """Student id -> their folder; zip files are extracted (safely) under ``staging``."""
    students = {}
    for entry in sorted(submissions.iterdir()):
        if entry.is_dir() and not entry.name.startswith("."):
            students[entry.name] = entry
        elif entry.suffix == ".zip":
            target = staging / entry.stem
            _extract(entry, target)
            students[entry.stem] = target
    return students


def _extract(archive: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    with zipfile.ZipFile(archive) as zf:
        if sum(info.file_size for info in zf.infolist()) > MAX_UNZIPPED_BYTES:
            raise ValueError(f"{archive.name}: more than {MAX_UNZIPPED_BYTES >> 20} MiB unzipped")
        for info in zf.infolist():
            destination = (target / info.filename).resolve()
            if not destination.is_relative_to(target.resolve()):  # "../../etc/passwd"
                continue
            if info.is_dir():
                destination.mkdir(parents=True, exist_ok=True)
            else:
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(zf.read(info))


def grade_ids(path: Path) -> set[str] | None:
    """The nbgrader cell ids in a notebook file, or None when it is not a readable notebook."""
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception:  # noqa: BLE001 - any unreadable file is "malformed", whatever the cause
        return None
    return {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    }


def match(student: str, folder: Path, assignments: dict[str, tuple[str, set[str]]]):
    """One Submission per assignment. ``assignments`` maps an assignment to (its notebook file
    name, the grade_ids of its source notebook)."""
    candidates = [
        p
        for p in sorted(folder.rglob("*.ipynb"))
        if ".ipynb_checkpoints" not in p.parts and not p.name.startswith("._")
    ]
    ids = {p: grade_ids(p) for p in candidates}
    claimed: set[Path] = set()
    found: dict[str, Submission] = {}
    for assignment, (name, _) in assignments.items():  # exact places first
        exact = [p for p in candidates if p.name == name and p.parent.name == assignment]
        exact = exact or [p for p in candidates if p.name == name]
        if len(exact) == 1:
            claimed.add(exact[0])
            found[assignment] = _submission(student, assignment, name, exact[0], ids)
    for assignment, (name, wanted) in assignments.items():
        if assignment in found:
            continue
        path = _best_by_cells(wanted, [p for p in candidates if p not in claimed], ids, assignments)
        if path is None:  # unreadable files in the assignment's folder are still its notebook
            in_folder = [p for p in candidates if p not in claimed and p.parent.name == assignment]
            path = in_folder[0] if len(in_folder) == 1 else None
        if path is None:
            found[assignment] = Submission(
                student, assignment, name, None, f"notebook {name} is missing from the submission"
            )
            continue
        claimed.add(path)
        found[assignment] = _submission(student, assignment, name, path, ids)
        if found[assignment].problem is None:
            found[assignment].renamed_from = str(path.relative_to(folder))
    return [found[a] for a in assignments]


def _submission(student, assignment, name, path, ids) -> Submission:
    if ids[path] is None:
        problem = f"{path.name} is not a readable notebook (malformed JSON?); it scored 0"
        return Submission(student, assignment, name, path, problem)
    return Submission(student, assignment, name, path)


def _best_by_cells(wanted: set[str], pool: list[Path], ids, assignments) -> Path | None:
    """The notebook sharing the most cell ids with this assignment, if that is unambiguous and
    no other assignment claims it more strongly."""
    scored = sorted(((len(wanted & (ids[p] or set())), p) for p in pool), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    best_overlap, best = scored[0]
    rival = max(len(other & (ids[best] or set())) for _, other in assignments.values())
    return best if rival == best_overlap else None

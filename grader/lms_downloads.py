"""Canvas and Moodle downloads as the intake (grader/intake.py) receives them: what each source
is, and each student's files unpacked into ``WORKDIR/received/{student id}/{label}/``.

* **Detection.** A source's format is detected from its content (file and folder names,
  ``timestamp.txt``), by the naming rules of grader/lms_formats.py: a zip is a Canvas or a
  Moodle download when its members are named as that LMS names them; a folder is nbgrader's
  exchange, LMS downloads (zips, each read as its own format, and unzipped files, read as the
  format most of them have), or else a folder per student.
* **Unpacked like any hand-in.** LMS archives are extracted by ``submissions.extract`` (zip
  slip, links, sizes, ratios: the same defences) within ``CLASS_BUDGET``, a class-sized
  budget; unzipped downloads are copied by ``submissions.copy_tree``/``copy_file`` (regular
  files only, never through a link). A student's own zip inside the download is extracted
  within the per-student ``BUDGET`` beside it. Each student's files land in
  ``WORKDIR/received/{student id}/{label}/`` (the id: grader/identities.py), ``label`` naming
  the archive they came from.
* **Canvas re-uploads.** Canvas's ``-1``/``-2`` suffix is removed (the student did not choose
  it); when two files of one student then share a name, the later upload (larger Canvas file
  id) is graded and the others are named in a flag.
* **What the LMS said.** Each received folder gets an ``Origin``: Canvas's user id and name,
  its ``LATE`` marker and the file id of each upload; Moodle's participant id, full name and
  folder, and the hand-in time the worksheet gives (grader/moodle_worksheet.py).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from grader import lms_formats as lms
from grader.identities import _Ids
from grader.roster import name_key
from grader.submissions import (
    BUDGET,
    LITTER,
    Budget,
    _kind,
    _listed,
    _open_regular,
    _printable,
    copy_file,
    copy_tree,
    extract,
)

if TYPE_CHECKING:
    from grader.intake import Intake
    from grader.moodle_worksheet import WorksheetRow

GiB = 2**30
# A whole class's download: hundreds of students, each within BUDGET. One member may be a
# student's own zip (up to BUDGET.archive_bytes); it is then unpacked within BUDGET.
CLASS_BUDGET = Budget(
    archive_bytes=4 * GiB,
    unzipped_bytes=8 * GiB,
    members=100_000,
    member_bytes=BUDGET.archive_bytes,
    ratio=BUDGET.ratio,
    ratio_floor=BUDGET.ratio_floor,
    notebook_bytes=BUDGET.notebook_bytes,
    entries=100_000,
    depth=BUDGET.depth,
)


@dataclass
class Origin:
    """What the LMS said about one received folder (``WORKDIR/received/{id}/{label}``, or an
    exchange assignment folder read in place): it applies to the notebooks found in it."""

    lms: str
    source: str  # the archive or folder it came from, printable
    timestamp: str | None = None  # ISO 8601 with offset; None: unknown
    late: bool = False  # Canvas's LATE marker
    canvas_id: str = ""
    canvas_name: str = ""
    participant_id: str = ""  # Moodle
    moodle_folder: str = ""  # the participant folder's name as Moodle wrote it
    full_name: str = ""  # as the LMS shows it (Moodle)
    flags: list[str] = field(default_factory=list)  # for the notebooks graded from here
    # Canvas: the file (or the folder a student's zip was unpacked to) -> Canvas file id
    attachments: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------- detection


def detect(path: Path) -> tuple[str | None, str]:
    """(the format of ``path``, or None when unknown; a description for the instructor). A
    folder may hold LMS zips (each read as its own format) and unzipped files (read as the
    format most of them have)."""
    if path.is_file():
        kind, count = _classify_zip(path)
        if kind is None:
            return None, "a file that is neither a Canvas nor a Moodle download"
        return kind, f"{_DESCRIBED[kind]} ({count} files)"
    if _is_exchange(path):
        return "exchange", "nbgrader's exchange (submitted/{student}/{assignment}/timestamp.txt)"
    loose, zips, others = {"canvas": 0, "moodle": 0}, {"canvas": 0, "moodle": 0}, 0
    for entry in _listing(path):
        kind = _entry_format(entry)
        if kind in ("canvas zip", "moodle zip"):
            zips[kind.split()[0]] += 1
        elif kind in loose:
            loose[kind] += 1
        elif entry.name not in LITTER:
            others += 1
    if not any(loose.values()) and not any(zips.values()):
        return "folders", "a folder per student"
    best = max(loose, key=lambda k: (loose[k], zips[k], k == "canvas"))
    parts = [_count(n, f"{_NAMED[k]} zip") for k, n in zips.items() if n]
    parts += [_count(n, f"unzipped {_NAMED[k]} entry") for k, n in loose.items() if n]
    parts += [_count(others, "other entry")] * bool(others)
    return best, f"LMS downloads ({', '.join(parts)})"


def _count(n: int, thing: str) -> str:
    if n == 1:
        return f"1 {thing}"
    return f"{n} {thing[:-1]}ies" if thing.endswith("y") else f"{n} {thing}s"


def _entry_format(entry: os.DirEntry) -> str | None:
    """What one entry of a folder is: "canvas"/"moodle" (an unzipped download's file or
    folder), "canvas zip"/"moodle zip" (a whole download), or None."""
    kind = _kind(entry)
    if kind == "folder":
        return "moodle" if parse_moodle_folder(entry.name) else None
    if kind != "file":
        return None
    if lms.parse_canvas_name(entry.name):
        return "canvas"  # a file of an unzipped Canvas download (maybe a student's zip)
    if lms.parse_moodle_name(entry.name):
        return "moodle"
    if entry.name.lower().endswith(".zip"):
        own, _ = _classify_zip(Path(entry.path))
        return f"{own} zip" if own else None
    return None


_NAMED = {"canvas": "Canvas", "moodle": "Moodle"}
_DESCRIBED = {
    "canvas": "a Canvas bulk download",
    "moodle": 'a Moodle "Download all submissions"',
    "exchange": "nbgrader's exchange",
    "folders": "a folder per student",
}


def _classify_zip(path: Path) -> tuple[str | None, int]:
    """("canvas"/"moodle"/None, number of members) from the member names alone."""
    try:
        with _open_regular(path, CLASS_BUDGET.archive_bytes) as file, zipfile.ZipFile(file) as zf:
            names = zf.namelist()[: CLASS_BUDGET.members]
    except Exception:  # noqa: BLE001 - not a zip, damaged, too large: not an LMS download
        return None, 0
    top = [n for n in names if n.split("/")[0] not in LITTER and not n.endswith("/")]
    moodle = sum(
        parse_moodle_folder(n.split("/")[0]) is not None
        if "/" in n
        else lms.parse_moodle_name(n) is not None
        for n in top
    )
    canvas = sum("/" not in n and lms.parse_canvas_name(n) is not None for n in top)
    if moodle and moodle >= canvas:
        return "moodle", len(top)
    if canvas:
        return "canvas", len(top)
    return None, len(top)


def parse_moodle_folder(name: str) -> lms.MoodleName | None:
    found = lms.parse_moodle_name(name)
    return found if found is not None and not found.file else None


def _is_exchange(path: Path) -> bool:
    """A folder of students' folders, some holding assignment folders with timestamp.txt."""
    for student in _listing(path):
        if _kind(student) != "folder":
            continue
        for assignment in _listing(Path(student.path)):
            stamp = Path(assignment.path) / lms.EXCHANGE_TIMESTAMP_FILE
            if _kind(assignment) == "folder" and stamp.is_file() and not stamp.is_symlink():
                return True
    return False


def _listing(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as scan:
            return sorted(scan, key=lambda e: e.name)[: CLASS_BUDGET.entries]
    except OSError:
        return []


# --------------------------------------------------------------------------- LMS downloads


@dataclass
class _Found:
    """One file of a download, with what its name says."""

    path: Path  # where it is now (extracted by us, or the instructor's unzipped folder)
    shown: str  # its name in the download
    ours: bool  # extracted by us: it may be moved rather than copied
    kind: str  # "file" or "folder"; a link or a device is never read ("link", "special")


class _Collector:
    """Puts LMS downloads into ``WORKDIR/received/{id}/{label}/``."""

    def __init__(self, intake: Intake, workdir: Path, worksheet: dict[str, WorksheetRow]):
        self.intake, self.worksheet = intake, worksheet
        self.received = workdir / "received"
        self.scratch = workdir / "lms-unpacked"
        self.students: set[str] = set()
        self.ids = _Ids(intake)
        self.labels: set[str] = set()
        self.archives = 0

    # ---- sources

    def collect(self, path: Path, kind: str, *, forced: bool = False) -> None:
        """A download (zip), or a folder of unzipped files and downloads; ``kind`` is the
        source's format, a zip in the folder keeps its own unless ``forced``."""
        if path.is_file():
            self._archive(path, kind)
            return
        loose = []
        for entry in _listing(path):
            if entry.name in LITTER:
                continue
            own = _entry_format(entry)
            if own in ("canvas zip", "moodle zip"):
                self._archive(Path(entry.path), kind if forced else own.split()[0])
                continue
            loose.append(_Found(Path(entry.path), entry.name, False, _kind(entry)))
        if loose:
            self._items(loose, kind, self._label(path.name), _printable(str(path)))

    def _archive(self, archive: Path, kind: str) -> None:
        self.archives += 1
        target = self.scratch / str(self.archives)
        extracted = extract(archive, target, CLASS_BUDGET)
        shown = _printable(str(archive))
        if extracted.problem:
            self.intake.problems.append(f"{shown} was not unpacked: {extracted.reason}")
            return
        found = [
            _Found(Path(e.path), e.name, True, _kind(e))
            for e in _listing(target)
            if e.name not in LITTER
        ]
        self._items(found, kind, self._label(archive.name.removesuffix(".zip")), shown)
        for member, why in extracted.skipped:
            self._skipped(member, why, kind, shown)

    def _skipped(self, member: str, why: str, kind: str, source: str) -> None:
        """A member the extraction refused: a flag for its student when its name says who."""
        first = member.replace("\\", "/").split("/")[0]
        text = f"{_printable(member)} was not unpacked ({why})"
        student = self.ids.known_file(first, kind)
        if student is not None and student in self.intake.people:
            self.intake.people[student].setdefault("_flags", []).append(text)
        else:
            self.intake.unattributed.append(f"{text}, in {source}")

    def _items(self, found: list[_Found], kind: str, label: str, source: str) -> None:
        if kind == "canvas":
            self._canvas(found, label, source)
        else:
            self._moodle(found, label, source)

    # ---- Canvas

    def _canvas(self, found: list[_Found], label: str, source: str) -> None:
        by_student: dict[tuple, list[tuple[lms.CanvasName, _Found]]] = {}
        for item in found:
            name = lms.parse_canvas_name(item.shown) if item.kind == "file" else None
            if name is None:
                self._unattributed(item, source)
                continue
            key = ("canvas", name.user_id) if name.user_id else ("canvas-anon", name.anonymous_id)
            by_student.setdefault(key, []).append((name, item))
        for key, files in sorted(by_student.items()):
            first = files[0][0]
            student = self.ids.canvas(key, first)
            folder = self._folder(student, label)
            origin = Origin(
                "canvas", source, late=any(n.late for n, _ in files), canvas_id=first.user_id,
                canvas_name=first.name,
            )  # fmt: skip
            for name, item, ignored in _latest_uploads(files):
                placed = self._place(
                    item, folder / _usable_name(name.file, item.shown, folder), origin
                )
                for path in placed:
                    origin.attachments[path.name] = str(name.attachment_id)
                if ignored:
                    origin.flags.append(
                        f"{_printable(name.file)} was uploaded {len(ignored) + 1} times: graded "
                        f"{_printable(item.shown)} (the latest upload), ignored "
                        f"{_listed([_printable(i.shown) for i in ignored])}"
                    )
            self.intake.origins[folder] = origin

    # ---- Moodle

    def _moodle(self, found: list[_Found], label: str, source: str) -> None:
        by_participant: dict[str, list[tuple[lms.MoodleName, _Found]]] = {}
        for item in found:
            name = None
            if item.kind == "folder":
                name = parse_moodle_folder(item.shown)
            elif item.kind == "file":
                name = lms.parse_moodle_name(item.shown)
            if name is None:
                self._unattributed(item, source)
                continue
            by_participant.setdefault(name.participant_id, []).append((name, item))
        # namesakes: participants of one download sharing a name are different people
        names = Counter(name_key(e[0][0].full_name) for e in by_participant.values())
        for participant, entries in sorted(by_participant.items()):
            first = entries[0][0]
            row = self.worksheet.get(participant)
            shared = names[name_key(first.full_name)] > 1
            student = self.ids.moodle(first, row, shared)
            folder = self._folder(student, label)
            origin = Origin(
                "moodle", source, participant_id=participant, full_name=first.full_name,
                moodle_folder=lms.moodle_folder_name(first.full_name, participant),
                timestamp=row.timestamp if row else None,
            )  # fmt: skip
            for name, item in entries:
                plugin = folder / _safe_component(name.plugin, "plugin")
                if item.kind == "folder":
                    if name.plugin == "file":
                        origin.moodle_folder = item.shown  # as Moodle wrote it
                    self._place_tree(item, plugin, origin)
                else:
                    plugin.mkdir(exist_ok=True)
                    self._place(item, plugin / _usable_name(name.file, item.shown, plugin), origin)
            self.intake.origins[folder] = origin

    def _unattributed(self, item: _Found, source: str) -> None:
        why = {"link": " (a symbolic link: not read)", "special": " (not a file: not read)"}
        self.intake.unattributed.append(
            f"{_printable(item.shown)}{why.get(item.kind, '')}, in {source}"
        )

    # ---- placing files

    def _label(self, name: str) -> str:
        label = _safe_component(name, "download")
        unique, n = label, 1
        while unique in self.labels:
            n += 1
            unique = f"{label}-{n}"
        self.labels.add(unique)
        return unique

    def _folder(self, student: str, label: str) -> Path:
        self.students.add(student)
        folder = self.received / student / label
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _place(self, item: _Found, destination: Path, origin: Origin) -> list[Path]:
        """Move (ours) or copy (the instructor's) one file in; what now holds its content:
        the file, and the folder it was unzipped to if it is a zip."""
        if item.ours:
            os.replace(item.path, destination)
            why = None
        else:
            why = copy_file(item.path, destination, CLASS_BUDGET.member_bytes)
        if why is not None:
            origin.flags.append(f"{_printable(item.shown)} was not read ({why})")
            return []
        if destination.name.lower().endswith(".zip"):
            return [destination, self._unzip_student_zip(destination, origin)]
        return [destination]

    def _place_tree(self, item: _Found, destination: Path, origin: Origin) -> None:
        destination = _unused(destination)
        if item.ours:
            os.replace(item.path, destination)
            skipped = []
        else:
            copied = copy_tree(item.path, destination, CLASS_BUDGET)
            if copied.problem:
                origin.flags.append(f"{_printable(item.shown)} was not read ({copied.reason})")
                return
            skipped = copied.skipped
        for path, why in skipped:
            origin.flags.append(f"{_printable(path)} was not read ({why})")
        for path in sorted(destination.rglob("*.zip")):
            if path.is_file() and not path.is_symlink():
                self._unzip_student_zip(path, origin)

    def _unzip_student_zip(self, archive: Path, origin: Origin) -> Path:
        """A student's own zip inside the download: unpacked beside it, within BUDGET; the
        folder it was (or would have been) unpacked to."""
        target = _unused(archive.with_name(_safe_component(archive.name[:-4], "zip")))
        extracted = extract(archive, target, BUDGET)
        shown = _printable(archive.name)
        if extracted.problem:
            origin.flags.append(f"{shown} could not be unpacked ({extracted.reason})")
        elif extracted.skipped:
            skipped = [f"{_printable(m)} ({why})" for m, why in extracted.skipped]
            origin.flags.append(
                f"{shown}: {len(skipped)} entries were not unpacked: {_listed(skipped)}"
            )
        return target


def _latest_uploads(files: list[tuple[lms.CanvasName, _Found]]):
    """Per uploaded name (Canvas's re-upload suffix removed): (name, the latest upload, the
    earlier ones). Later = larger Canvas file id, then larger suffix."""
    by_name: dict[str, list[tuple[lms.CanvasName, _Found]]] = {}
    for name, item in files:
        by_name.setdefault(name.file, []).append((name, item))
    for _, uploads in sorted(by_name.items()):
        uploads.sort(key=lambda u: (u[0].attachment_id, u[0].reupload, u[1].shown), reverse=True)
        (name, item), *earlier = uploads
        yield name, item, [i for _, i in earlier]


def _usable_name(wanted: str, fallback: str, folder: Path) -> str:
    """``wanted`` as a file name in ``folder`` if it is one safe path component not yet used
    there; else the name as downloaded (unique in the download), else a made-up one."""
    for name in (wanted, fallback):
        if (
            name not in ("", ".", "..")
            and "/" not in name
            and "\0" not in name
            and len(os.fsencode(name)) <= 255
            and not os.path.lexists(folder / name)
        ):
            return name
    n = 1
    while os.path.lexists(folder / f"file-{n}"):
        n += 1
    return f"file-{n}"


def _unused(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``... whichever does not exist yet."""
    unused, n = path, 1
    while os.path.lexists(unused):
        n += 1
        unused = path.with_name(f"{path.name}-{n}")
    return unused


def _safe_component(name: str, default: str) -> str:
    """A folder name of ours made from an LMS's name: ASCII letters, digits, ``._-``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name, flags=re.ASCII).strip("-._")[:60]
    return slug or default


__all__ = ["CLASS_BUDGET", "Origin", "detect", "parse_moodle_folder"]

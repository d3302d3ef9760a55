"""Receive what students handed in and find each one's notebook for each assignment.

Submissions arrive as a folder per student (``{student}/{assignment}/{notebook}.ipynb``) or as
zip files an LMS exports (``{student}.zip``); whole-class downloads (Canvas, Moodle) and
nbgrader's exchange are turned into that by grader/intake.py, with this module's ``extract``
and ``copy_tree`` (the same defences). Nothing a hand-in contains may stop the run or
reach outside it: whatever cannot be read, found or trusted becomes a problem of that student's
notebooks, in words the student understands, and every other notebook is graded as usual.

The rules, in the order they apply:

* **Student ids.** A folder's id is its name, a zip's its name without ``.zip``; ids are
  normalised (Unicode NFC, surrounding whitespace stripped). An id that is empty, ``.``/``..``,
  starts with a dot, holds a path separator, NUL or a control character, or is too long is not
  used as a path: the hand-in is graded under ``{ascii slug}-{8 hex of the raw name's hash}``
  and flagged. LMS names such as ``Doe, Jane_1234`` are ordinary ids.
* **Two hand-ins for one student** (a zip and a folder, names that normalise alike): the latest
  modified is graded (ties: the first by name), the others are listed on every notebook.
* **Zip files** are extracted into ``staging/{id}`` only, within a ``Budget`` (archive size,
  members, bytes per member and in all, compression ratio). Entries that leave the folder
  (``..``, absolute paths, drive letters), symbolic links, password-protected, oversized or
  suspiciously compressible entries are skipped and listed; an archive that is damaged, too
  large or holds too many members is not unpacked at all, and its notebooks score 0.
* **Only regular files inside the hand-in are read**: symbolic links (to files or folders)
  are never followed, devices and FIFOs never opened, notebooks over ``Budget.notebook_bytes``
  refused.
* **Which file is an assignment's notebook**: the course's file name in the assignment's folder,
  else the course's file name anywhere, else the notebook sharing the most of the assignment's
  cell ids (a renamed copy). Within a rule a readable notebook beats an unreadable one, then the
  latest modified wins, then the first by path. Other copies of the same notebook (a backup,
  ``scalars (1).ipynb``) are listed as ignored.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

MiB = 2**20


@dataclass(frozen=True)
class Budget:
    """How much of a hand-in the grader is willing to look at (a class's notebooks are a few
    MB each; anything far beyond is a mistake or an attack)."""

    archive_bytes: int = 200 * MiB  # a zip file itself
    unzipped_bytes: int = 200 * MiB  # all members of one zip together
    members: int = 5000  # entries in one zip
    member_bytes: int = 20 * MiB  # one member
    ratio: int = 100  # unzipped / zipped, checked for members over ratio_floor bytes
    ratio_floor: int = 1 * MiB
    notebook_bytes: int = 20 * MiB  # a notebook file
    entries: int = 10_000  # files and folders looked at in one hand-in
    depth: int = 32  # folder levels looked into


BUDGET = Budget()
MAX_UNZIPPED_BYTES = BUDGET.unzipped_bytes  # kept for callers of the old name
MAX_ID_LENGTH = 100
LITTER = {".ipynb_checkpoints", "__MACOSX", ".DS_Store", "Thumbs.db"}  # tools', not students'
MAX_LISTED = 5  # names listed in one problem


@dataclass
class Submission:
    student: str
    assignment: str
    notebook: str  # the assignment's notebook file name
    path: Path | None  # None: missing
    problem: str | None = None  # it cannot be graded (missing, malformed, ...): it scores 0
    renamed_from: str | None = None  # the file name the student used
    flags: list[str] = field(default_factory=list)  # graded, but the instructor should look
    # When it was handed in (ISO 8601 with its UTC offset, from the LMS or the exchange), for
    # deadlines; None: unknown (a plain folder), never late.
    timestamp: str | None = None
    # What the LMS judged without giving a time: True late (Canvas's LATE), False on time
    # (Canvas without LATE), None: it says nothing (folders, the exchange, Moodle).
    marked_late: bool | None = None


@dataclass
class HandIn:
    """What one student handed in, once received."""

    student: str  # the validated id: safe as one path component
    folder: Path | None  # where to look for notebooks; None: nothing could be read
    problem: str | None = None  # why nothing could be read: every notebook scores 0
    flags: list[str] = field(default_factory=list)  # shown on each of the student's notebooks
    name: str = ""  # the entry's name as handed in, printable


# --------------------------------------------------------------------------- hand-ins


def receive(submissions: Path, staging: Path, budget: Budget | None = None) -> dict[str, HandIn]:
    """Student id -> their hand-in. Zip files are extracted (within ``budget``) under
    ``staging/{id}``, the only place this writes to; folders are read where they are."""
    budget = budget or BUDGET
    by_student: dict[str, list[tuple[os.DirEntry, str, list[str]]]] = {}
    for entry in _entries(submissions):
        student, flags = _student_id(_id_part(entry))
        by_student.setdefault(student, []).append((entry, student, flags))
    received = {}
    for student, entries in sorted(by_student.items()):
        entry, _, flags = _latest(entries, budget)
        handin = _receive_one(entry, student, staging, budget)
        handin.flags[:0] = flags
        if len(entries) > 1:
            shown = _distinct_names([e.name for e, _, _ in entries])
            graded = shown.pop(next(i for i, (e, _, _) in enumerate(entries) if e is entry))
            handin.flags.append(
                f"{len(entries)} hand-ins were found for this student: graded "
                f"{graded} (the latest modified), ignored {_listed(shown)}"
            )
        received[student] = handin
    return received


def unpack(submissions: Path, staging: Path, budget: Budget | None = None) -> dict[str, Path]:
    """Student id -> the folder holding their notebooks (see ``receive``, which also says what
    went wrong with each hand-in)."""
    return {
        student: handin.folder
        for student, handin in receive(submissions, staging, budget).items()
        if handin.folder is not None
    }


def _entries(submissions: Path) -> list[os.DirEntry]:
    """The hand-ins: every folder or link, and everything named ``*.zip`` (what is not a
    folder or a regular file is refused later, with a problem); other files and the tools'
    litter are not hand-ins."""
    with os.scandir(submissions) as scan:
        entries = sorted(scan, key=lambda e: e.name)
    return [
        e
        for e in entries
        if e.name not in LITTER and (_is_zip_name(e.name) or _kind(e) in ("folder", "link"))
    ]


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def _id_part(entry: os.DirEntry) -> str:
    return entry.name[:-4] if _is_zip_name(entry.name) and _kind(entry) != "folder" else entry.name


def _kind(entry: os.DirEntry) -> str:
    try:
        mode = entry.stat(follow_symlinks=False).st_mode
    except OSError:
        return "gone"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "special"


def _student_id(raw: str) -> tuple[str, list[str]]:
    """The id to grade a hand-in under, and a flag when the name could not be used as is."""
    name = unicodedata.normalize("NFC", raw).strip()
    reason = _invalid_id(name)
    if reason is None:
        return name, []
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", name, flags=re.ASCII).strip("-_")[:40] or "student"
    safe = f"{slug}-{hashlib.sha256(os.fsencode(raw)).hexdigest()[:8]}"
    return safe, [
        f'the hand-in "{_printable(raw)}" is not a usable student id ({reason}); '
        f"it was graded as {safe}"
    ]


def _invalid_id(name: str) -> str | None:
    if not name:
        return "it is empty"
    if name.startswith("."):
        return "it starts with a dot"
    if "/" in name or "\\" in name:
        return "it holds a path separator"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in name):
        return "it holds control or undecodable characters"
    if len(name) > MAX_ID_LENGTH:
        return f"it is longer than {MAX_ID_LENGTH} characters"
    return None


def _latest(entries, budget: Budget):
    """Of several hand-ins for one student, the one graded: the latest modified, then the
    first by name (entries come sorted by name)."""
    return max(entries, key=lambda item: _modified(item[0], budget))


def _modified(entry: os.DirEntry, budget: Budget) -> float:
    """When a hand-in last changed: a folder's newest file, a file's own time."""
    try:
        own = entry.stat(follow_symlinks=False).st_mtime
    except OSError:
        return 0.0
    if _kind(entry) != "folder":
        return own
    files, _ = _scan(Path(entry.path), budget)
    return max([own, *(f.modified for f in files)])


def _receive_one(entry: os.DirEntry, student: str, staging: Path, budget: Budget) -> HandIn:
    name = _printable(entry.name)
    kind = _kind(entry)
    if kind == "link":
        return HandIn(student, None, f"{name} is a symbolic link; it was not read", name=name)
    if kind == "folder":
        return HandIn(student, Path(entry.path), name=name)
    if kind != "file":
        return HandIn(student, None, f"{name} is not a regular file; it was not read", name=name)
    target = staging / student  # student is one validated path component
    problem, flags = _extract(Path(entry.path), target, budget)
    return HandIn(student, None if problem else target, problem, flags, name)


# --------------------------------------------------------------------------- zip files


class _Skipped(Exception):
    """One zip member that was not extracted, and why (worded for the student)."""


class _Refused(Exception):
    """A whole zip that was not extracted, and why."""


def _extract(archive: Path, target: Path, budget: Budget) -> tuple[str | None, list[str]]:
    """Extract ``archive`` into a fresh ``target``: (a problem when nothing could be used,
    flags naming the members that were skipped). Never raises for the archive's content."""
    extracted = extract(archive, target, budget)
    if extracted.problem or not extracted.skipped:
        return extracted.problem, []
    skipped = [f"{_printable(member)} ({why})" for member, why in extracted.skipped]
    name = _printable(archive.name)
    return None, [f"{name}: {len(skipped)} entries were not unpacked: {_listed(skipped)}"]


@dataclass
class Extracted:
    """What ``extract`` did with an archive."""

    problem: str | None  # why nothing was unpacked, for the student (the target is removed)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member name, why not)
    reason: str | None = None  # the problem's cause alone ("it is larger than 200 MiB")


def extract(archive: Path, target: Path, budget: Budget | None = None) -> Extracted:
    """Extract ``archive`` into a fresh ``target`` within ``budget``, with every defence of the
    module's docstring; the members skipped, by name (for archives holding many students'
    files, whose skips belong to different students). Never raises for the archive's content."""
    budget = budget or BUDGET
    name = _printable(archive.name)
    try:
        _fresh_folder(target)
        with _open_regular(archive, budget.archive_bytes) as file, zipfile.ZipFile(file) as zf:
            skipped = _extract_members(zf, target, budget)
    except _Refused as refused:
        problem = f"{name} was not unpacked: {refused}; it scored 0"
        return Extracted(_discard(target, problem), reason=str(refused))
    except Exception as error:  # noqa: BLE001 - a damaged archive fails in many ways
        reason = _plainly(error)
        problem = f"{name} could not be unpacked ({reason}); it scored 0"
        return Extracted(_discard(target, problem), reason=reason)
    return Extracted(None, skipped)


def _extract_members(zf: zipfile.ZipFile, target: Path, budget: Budget) -> list[tuple[str, str]]:
    members = zf.infolist()
    if len(members) > budget.members:
        raise _Refused(f"it holds more than {budget.members} files")
    if sum(m.file_size for m in members) > budget.unzipped_bytes:
        raise _Refused(f"it would unpack to more than {_size(budget.unzipped_bytes)}")
    skipped, room = [], budget.unzipped_bytes
    for member in members:
        try:
            room -= _extract_member(zf, member, target, budget, room)
        except _Skipped as why:
            skipped.append((member.filename, str(why)))
    return skipped


def _extract_member(zf, member: zipfile.ZipInfo, target: Path, budget: Budget, room: int) -> int:
    """Write one member under ``target``; the number of bytes written."""
    parts = _safe_parts(member.filename)
    if parts is None:
        raise _Skipped("its path leaves the hand-in")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise _Skipped("it is a symbolic link")
    if member.flag_bits & 0x1:
        raise _Skipped("it is password-protected")
    if member.file_size > budget.member_bytes:
        raise _Skipped(f"it is larger than {_size(budget.member_bytes)}")
    if member.file_size > budget.ratio_floor and (
        member.file_size > budget.ratio * max(member.compress_size, 1)
    ):
        raise _Skipped("it is compressed suspiciously well")
    try:
        folder = _make_folders(target, parts if member.is_dir() else parts[:-1])
        if member.is_dir():
            return 0
        return _copy_member(zf, member, folder / parts[-1], min(room, budget.member_bytes))
    except _Skipped:
        raise
    except FileExistsError as error:
        raise _Skipped("another entry has the same name") from error
    except Exception as error:  # noqa: BLE001 - damaged data, odd names: only this member
        raise _Skipped(_plainly(error)) from error


def _safe_parts(name: str) -> list[str] | None:
    """The path components of a member name, or None when it would leave the hand-in
    (``..``, an absolute path, a drive letter) or holds a NUL. Backslashes separate too."""
    name = name.replace("\\", "/")
    if "\x00" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return parts


def _make_folders(target: Path, parts: list[str]) -> Path:
    """Create ``target/parts...`` one level at a time; an existing non-folder is a conflict."""
    folder = target
    for part in parts:
        folder = folder / part
        try:
            folder.mkdir()
        except FileExistsError:
            if not stat.S_ISDIR(folder.lstat().st_mode):
                raise
    return folder


def _copy_member(zf, member: zipfile.ZipInfo, destination: Path, limit: int) -> int:
    """Copy at most ``limit`` bytes (whatever the member claims) to a new file; a member cut
    off midway leaves nothing behind."""
    written = 0
    with zf.open(member) as source:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(destination, flags, 0o644), "wb") as out:
            try:
                while chunk := source.read(MiB):
                    written += len(chunk)
                    if written > limit:  # zipfile stops at the stated size: a second fence
                        raise _Skipped(f"it unpacks to more than {_size(limit)}")
                    out.write(chunk)
            except BaseException:
                destination.unlink()
                raise
    return written


def _fresh_folder(target: Path) -> None:
    """An empty ``target`` (ours: ``staging/{id}``); a link there is removed, not followed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    elif target.exists():
        shutil.rmtree(target)  # never follows symbolic links inside (os.open-based on POSIX)
    target.mkdir()


def _discard(target: Path, problem: str) -> str:
    """Leave no half-extracted archive behind: its notebooks are not graded."""
    shutil.rmtree(target, ignore_errors=True)
    return problem


# --------------------------------------------------------------------------- copied folders


def copy_tree(source: Path, target: Path, budget: Budget | None = None) -> Extracted:
    """Copy the folder ``source`` (an LMS download the instructor unzipped) into a fresh
    ``target`` as ``extract`` unpacks a zip: only folders and regular files, never through a
    symbolic link, never opening a FIFO or a device, within ``budget`` (files, bytes per file
    and in all, folder depth). What is not copied is listed by its path under ``source``."""
    budget = budget or BUDGET
    try:
        if source.is_symlink() or not source.is_dir():
            raise _Refused("it is not a folder (a symbolic link is never followed)")
        _fresh_folder(target)
        skipped = _copy_folder(source, target, budget)
    except _Refused as refused:
        name = _printable(source.name)
        problem = f"{name} was not copied: {refused}; it scored 0"
        return Extracted(_discard(target, problem), reason=str(refused))
    return Extracted(None, skipped)


def _copy_folder(source: Path, target: Path, budget: Budget) -> list[tuple[str, str]]:
    skipped: list[tuple[str, str]] = []
    pending, seen, room = [(source, target, 0)], 0, budget.unzipped_bytes
    while pending:
        folder, into, depth = pending.pop()
        try:
            with os.scandir(folder) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as error:
            skipped.append((os.path.relpath(folder, source), _plainly(error)))
            continue
        for entry in entries:
            seen += 1
            if seen > budget.members:
                raise _Refused(f"it holds more than {budget.members} files")
            shown = os.path.relpath(entry.path, source)
            kind = _kind(entry)
            if kind == "folder" and depth >= budget.depth:
                skipped.append((shown, "it is nested too deeply"))
            elif kind == "folder":
                (into / entry.name).mkdir()
                pending.append((Path(entry.path), into / entry.name, depth + 1))
            elif kind != "file":
                why = "it is a symbolic link" if kind == "link" else "it is not a regular file"
                skipped.append((shown, why))
            else:
                why = copy_file(Path(entry.path), into / entry.name, min(room, budget.member_bytes))
                if why is None:
                    room -= (into / entry.name).stat().st_size
                else:
                    skipped.append((shown, why))
    return skipped


def copy_file(source: Path, destination: Path, limit: int) -> str | None:
    """Copy the regular file ``source`` (never through a link) to a new ``destination``, at
    most ``limit`` bytes; None when done, else why not (and nothing is left behind)."""
    try:
        with _open_regular(source, limit) as file:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(destination, flags, 0o644), "wb") as out:
                try:
                    written = 0
                    while chunk := file.read(MiB):
                        written += len(chunk)
                        if written > limit:  # it grew while we read it
                            raise _Refused(f"it is larger than {_size(limit)}")
                        out.write(chunk)
                except BaseException:
                    destination.unlink()
                    raise
    except _Refused as refused:
        return str(refused)
    except FileExistsError:
        return "another file has the same name"
    except OSError as error:
        if os.path.islink(source):
            return "it is a symbolic link"
        return _plainly(error)
    return None


# --------------------------------------------------------------------------- reading files


def _open_regular(path: Path, limit: int):
    """Open a regular file for reading without following a symbolic link or blocking on a
    FIFO; refuse it when larger than ``limit`` bytes."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    file = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        file.close()
        raise _Refused("it is not a regular file")
    if info.st_size > limit:
        file.close()
        raise _Refused(f"it is larger than {_size(limit)}")
    return file


@dataclass
class Loaded:
    """A notebook file as read for grading."""

    notebook: object | None  # None: it could not be read (``problem`` says why)
    content: bytes = b""
    problem: str | None = None
    flags: list[str] = field(default_factory=list)  # cells whose grading metadata was damaged


def load(path: Path, budget: Budget | None = None) -> Loaded:
    """Read a student's notebook: only a regular file (never through a link), within the size
    budget, shaped like a notebook; cells with damaged nbgrader metadata become ordinary cells
    (the test cells are restored from the source by id anyway). Never raises."""
    data, problem = _read(path, budget)
    if problem is not None:
        return Loaded(None, problem=problem)
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
        _check_shape(nb)
    except Exception:  # noqa: BLE001 - any unreadable file is "malformed", whatever the cause
        problem = (
            f"{_printable(path.name)} is not a readable notebook (malformed JSON?); it scored 0"
        )
        return Loaded(None, data, problem)
    return Loaded(nb, data, flags=_clean_grading_metadata(nb))


def content(path: Path, budget: Budget | None = None) -> bytes:
    """The bytes of a notebook file as ``load`` reads them (b"" where it would refuse them),
    without parsing: what a fingerprint needs."""
    return _read(path, budget)[0]


def _read(path: Path, budget: Budget | None) -> tuple[bytes, str | None]:
    """(the file's bytes, None), or (b"", why it was not read)."""
    limit = (budget or BUDGET).notebook_bytes
    name = _printable(path.name)
    try:
        with _open_regular(path, limit) as file:
            data = file.read(limit + 1)
    except _Refused as refused:
        return b"", f"{name} was not read: {refused}; it scored 0"
    except OSError as error:
        if os.path.islink(path):
            return b"", f"{name} is a symbolic link; it was not read"
        return b"", f"{name} could not be read ({_plainly(error)}); it scored 0"
    if len(data) > limit:
        return b"", f"{name} is larger than {_size(limit)}; it scored 0"
    return data, None


def _check_shape(nb) -> None:
    """What grading relies on, whatever the JSON held (nbformat only logs schema errors)."""
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("no list of cells")
    for cell in nb.cells:
        if not (
            isinstance(cell, dict)
            and cell.get("cell_type") in ("code", "markdown", "raw")
            and isinstance(cell.get("source"), str)
            and isinstance(cell.get("metadata", {}), dict)
        ):
            raise ValueError("a cell of the wrong shape")
        if cell.cell_type == "code" and not (
            isinstance(cell.get("outputs", []), list)
            and all(isinstance(o, dict) for o in cell.get("outputs", []))
        ):
            raise ValueError("outputs of the wrong shape")


def _clean_grading_metadata(nb) -> list[str]:
    """Drop nbgrader metadata that is not a dict, that marks a cell without a text
    ``grade_id``, or that repeats an earlier cell's id: such a cell runs as an ordinary cell
    and cannot speak for a grade (the source's test cells are restored by id anyway)."""
    damaged, seen = [], set()
    for index, cell in enumerate(nb.cells, 1):
        meta = cell.get("metadata", {}).get("nbgrader")
        if meta is None:
            continue
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if isinstance(grade_id, str) and grade_id and grade_id not in seen:
            seen.add(grade_id)
            continue
        if isinstance(meta, dict) and "grade_id" not in meta and not _marks_a_cell(meta):
            continue  # an empty toolbar record: harmless
        del cell.metadata["nbgrader"]
        damaged.append(str(index))
    if not damaged:
        return []
    return [
        f"cells {', '.join(damaged)} had damaged or repeated grading metadata (nbgrader); "
        "they were run as ordinary cells"
    ]


def _marks_a_cell(meta: dict) -> bool:
    return any(meta.get(flag) for flag in ("grade", "solution", "locked", "task"))


def grade_ids(path: Path, budget: Budget | None = None) -> set[str] | None:
    """The nbgrader cell ids in a notebook file, or None when it is not a readable notebook."""
    loaded = load(path, budget)
    if loaded.notebook is None:
        return None
    cells = loaded.notebook.cells
    return {gid for c in cells if isinstance(gid := _meta(c).get("grade_id"), str) and gid}


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


# --------------------------------------------------------------------------- matching


@dataclass
class _Found:
    """A file named like a notebook somewhere in a hand-in."""

    path: Path
    shown: str  # its path inside the hand-in, printable
    modified: float
    refused: str | None = None  # why it is never read (a link, a folder, too large, ...)
    ids: set[str] | None = None  # its cell ids; None: not a readable notebook

    @property
    def readable(self) -> bool:
        return self.ids is not None


def _scan(folder: Path, budget: Budget) -> tuple[list[_Found], list[str]]:
    """Every ``*.ipynb`` in ``folder``, without following links; flags for what was not
    looked at. Checkpoint folders and macOS's ``._`` shadows are the tools', not the
    student's."""
    found, flags, seen = [], [], 0
    pending = [(folder, 0)]
    while pending:
        directory, depth = pending.pop()
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as error:
            flags.append(f"{_shown(folder, directory)} could not be read ({_plainly(error)})")
            continue
        for entry in entries:
            seen += 1
            if seen > budget.entries:
                flags.append(
                    f"the hand-in holds more than {budget.entries} files and folders; "
                    "the rest were not looked at"
                )
                return found, flags
            if entry.name in LITTER or entry.name.startswith("._"):
                continue
            item = _look_at(entry, folder, budget)
            if isinstance(item, _Found):
                found.append(item)
            elif item is not None:
                flags.append(item)
            if _kind(entry) == "folder":
                if depth < budget.depth:
                    pending.append((Path(entry.path), depth + 1))
                else:
                    shown = _shown(folder, entry.path)
                    flags.append(f"{shown} is nested too deeply; it was not looked into")
    return found, flags


def _look_at(entry: os.DirEntry, folder: Path, budget: Budget) -> _Found | str | None:
    """A notebook-like entry (maybe refused), a flag, or None for anything else."""
    shown = _shown(folder, entry.path)
    kind = _kind(entry)
    notebook_like = entry.name.lower().endswith(".ipynb")
    if kind == "link":
        reason = "it is a symbolic link"
        return (
            _Found(Path(entry.path), shown, 0.0, reason)
            if notebook_like
            else (f"{shown} is a symbolic link; it was not read")
        )
    if not notebook_like:
        return None
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError as error:
        return _Found(Path(entry.path), shown, 0.0, _plainly(error))
    if kind == "folder":
        return _Found(Path(entry.path), shown, info.st_mtime, "it is a folder, not a notebook")
    if kind != "file":
        return _Found(Path(entry.path), shown, info.st_mtime, "it is not a regular file")
    if info.st_size > budget.notebook_bytes:
        reason = f"it is larger than {_size(budget.notebook_bytes)}"
        return _Found(Path(entry.path), shown, info.st_mtime, reason)
    return _Found(Path(entry.path), shown, info.st_mtime)


def match(
    student: str,
    folder: Path | None,
    assignments: dict[str, tuple[str, set[str]]],
    *,
    problem: str | None = None,
    flags: list[str] | tuple[str, ...] = (),
    budget: Budget | None = None,
) -> list[Submission]:
    """One Submission per assignment, always. ``assignments`` maps an assignment to (its
    notebook file name, the grade_ids of its source notebook). ``problem``/``flags`` are the
    hand-in's (see ``receive``): a problem stands for every notebook, flags are added to each."""
    budget = budget or BUDGET
    if problem is not None or folder is None:
        problem = problem or "nothing could be read from this hand-in; it scored 0"
        return [
            Submission(student, a, name, None, problem, flags=list(flags))
            for a, (name, _) in assignments.items()
        ]
    try:
        found, scan_flags = _scan(folder, budget)
    except Exception as error:  # noqa: BLE001 - the folder vanished or worse: this student only
        found, scan_flags = [], [f"the hand-in could not be read ({_plainly(error)})"]
    for item in found:
        if item.refused is None:
            item.ids = grade_ids(item.path, budget)
    submissions = _choose(student, found, assignments)
    for sub in submissions:
        sub.flags[:0] = [*flags, *scan_flags]
    return submissions


def _choose(student: str, found: list[_Found], assignments) -> list[Submission]:
    """Each assignment's notebook, by the rules of the module's docstring; what else looks
    like that assignment's notebook is named in a flag, so nothing is dropped silently."""
    claimed: set[Path] = set()
    chosen: dict[str, tuple[Submission, str]] = {}  # assignment -> (submission, why this file)
    usable = [f for f in found if f.refused is None]
    for assignment, (name, _) in assignments.items():  # the course's own name first
        in_place = [f for f in usable if f.path.name == name and f.path.parent.name == assignment]
        anywhere = [f for f in usable if f.path.name == name]
        for pool, rule in (
            (in_place, "the course's file name in the assignment's folder"),
            (anywhere, "the course's file name"),
        ):
            pool = [f for f in pool if f.path not in claimed]
            if pool:
                best = _best_of(pool)
                claimed.add(best.path)
                chosen[assignment] = (_submission(student, assignment, name, best), rule)
                break
    for assignment, (name, wanted) in assignments.items():  # then renamed copies, by cells
        if assignment in chosen:
            continue
        pool = [f for f in usable if f.path not in claimed]
        best, rule = _best_by_cells(wanted, pool, assignments), "the most cells of this assignment"
        if best is None:  # unreadable files in the assignment's folder are still its notebook
            in_folder = [f for f in pool if f.path.parent.name == assignment]
            best, rule = (_best_of(in_folder) if in_folder else None), "in the assignment's folder"
        if best is None:
            chosen[assignment] = (_missing(student, assignment, name, found), "")
            continue
        claimed.add(best.path)
        chosen[assignment] = (_submission(student, assignment, name, best), rule)
        if chosen[assignment][0].problem is None:
            chosen[assignment][0].renamed_from = best.shown
    _flag_ignored(chosen, found, assignments)
    return [chosen[a][0] for a in assignments]


def _best_of(pool: list[_Found]) -> _Found:
    """A readable notebook before an unreadable one, then the latest modified, then the first
    by path."""
    return min(pool, key=lambda f: (not f.readable, -f.modified, f.shown))


def _submission(student, assignment, name, found: _Found) -> Submission:
    if not found.readable:
        problem = f"{found.shown} is not a readable notebook (malformed JSON?); it scored 0"
        return Submission(student, assignment, name, found.path, problem)
    return Submission(student, assignment, name, found.path)


def _missing(student, assignment, name, found: list[_Found]) -> Submission:
    """No notebook for this assignment; say so, and why when a file by its name was refused."""
    refused = [f for f in found if f.refused and f.path.name == name]
    if refused:
        why = "; ".join(f"{f.shown} was not read: {f.refused}" for f in refused[:MAX_LISTED])
        return Submission(student, assignment, name, None, f"{why}; it scored 0")
    return Submission(
        student, assignment, name, None, f"notebook {name} is missing from the submission"
    )


def _flag_ignored(chosen: dict[str, tuple[Submission, str]], found, assignments) -> None:
    """Name, on an assignment's notebook, every other file that looks like it (a backup copy,
    a second folder, a refused link) and the rule that chose the graded one."""
    used = {sub.path for sub, _ in chosen.values()}
    ignored: dict[str, list[_Found]] = {}
    for item in found:
        assignment = None if item.path in used else _belongs_to(item, assignments)
        if assignment is not None:
            ignored.setdefault(assignment, []).append(item)
    for assignment, items in ignored.items():
        sub, rule = chosen[assignment]
        if sub.path is None:  # missing: say what was there and why it was not used
            items = [f for f in items if not (f.refused and f.path.name == sub.notebook)]
            if items:
                sub.flags.append(f"ignored {_listed([_why_ignored(f) for f in items])}")
            continue
        graded = next(f for f in found if f.path == sub.path)
        sub.flags.append(
            f"{len(items) + 1} files for {sub.notebook} were handed in: graded {graded.shown} "
            f"({_why_chosen(graded, items, rule)}), ignored "
            f"{_listed([_why_ignored(f) for f in items])}"
        )


def _why_chosen(graded: _Found, others: list[_Found], rule: str) -> str:
    rivals = [  # the files the same rule could have chosen
        f
        for f in others
        if f.refused is None
        and f.readable >= graded.readable
        and f.path.name == graded.path.name
        and (f.path.parent.name == graded.path.parent.name or "folder" not in rule)
    ]
    if not rivals:
        return rule
    if all(f.modified < graded.modified for f in rivals):
        return f"{rule}, the latest modified"
    return f"{rule}, the first by path"


def _why_ignored(item: _Found) -> str:
    if item.refused:
        return f"{item.shown} ({item.refused})"
    return item.shown if item.readable else f"{item.shown} (not a readable notebook)"


def _belongs_to(item: _Found, assignments) -> str | None:
    for assignment, (name, _) in assignments.items():
        if item.path.name == name or item.path.parent.name == assignment:
            return assignment
    if item.ids:
        overlap = {a: len(wanted & item.ids) for a, (_, wanted) in assignments.items()}
        best = max(overlap, key=overlap.get)
        return best if overlap[best] else None
    return None


def _best_by_cells(wanted: set[str], pool: list[_Found], assignments) -> _Found | None:
    """The notebook sharing the most cell ids with this assignment, if no other assignment
    claims it more strongly; equal overlaps go to the latest modified, then the first by path."""
    overlaps = [(len(wanted & f.ids), f) for f in pool if f.ids]
    top = max((n for n, _ in overlaps), default=0)
    if top == 0:
        return None
    best = _best_of([f for n, f in overlaps if n == top])
    rival = max(len(other & best.ids) for _, other in assignments.values())
    return best if rival == top else None


# --------------------------------------------------------------------------- wording


def _printable(text: str) -> str:
    """A name as it can be shown and stored: undecodable bytes and control characters
    escaped (a problem is JSON, a gradebook row and an HTML page)."""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(
        c if unicodedata.category(c) not in ("Cc", "Cf", "Cs") else repr(c)[1:-1] for c in text
    )


def _distinct_names(names: list[str]) -> list[str]:
    """Names as shown, escaped to ASCII when two would look the same (NFC and NFD)."""
    shown = [_printable(n) for n in names]
    alike = {unicodedata.normalize("NFC", n) for n in shown}
    return shown if len(alike) == len(shown) else [ascii(n)[1:-1] for n in names]


def _shown(folder: Path, path) -> str:
    return _printable(os.path.relpath(path, folder))


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n >= MiB else f"{n} bytes"


def _listed(names: list[str]) -> str:
    more = len(names) - MAX_LISTED
    return ", ".join(names[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")


def _plainly(error: BaseException) -> str:
    if isinstance(error, zipfile.BadZipFile):
        return "it is not a zip archive, or it is damaged"
    if isinstance(error, NotImplementedError):
        return "it uses a compression this grader cannot read"
    if isinstance(error, OSError) and error.strerror:
        return error.strerror.lower()
    return str(error) or type(error).__name__

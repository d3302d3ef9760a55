"""Feedback back to the students through the LMS (``feedback --pack``): the pages
grader/feedback.py wrote, packed for each LMS's bulk upload under
``WORKDIR/feedback_packed/``, and who each student is there (``recipients``: the intake's
record, grader/identities.py, completed by the roster; the grades export, grader/lms_export.py,
finds students through it too). The layouts, and where their rules come from:

* ``moodle/{assignment}.zip`` for Moodle's "Upload multiple feedback files in a zip"
  (assignfeedback_file; importziplib.php): a path is accepted when one of its folder names
  is ``{name}_{participant id}_{plugin type}_{plugin name}[_...]`` with a numeric id of a
  participant; Moodle's own test uses the download's ``Student Name_{id}_assignsubmission_file_``
  and we use the download's participant folders exactly (the intake records them; else
  built by ``lms_formats.moodle_folder_name``), each holding ``{notebook}-feedback.html``.
* ``canvas/{assignment}/{canvas user id}.zip``: one zip per student and assignment, named by
  the Canvas user id, holding that student's pages (to attach to a submission comment).
* ``canvas/{assignment}-reupload.zip`` for Canvas's own bulk route, Assignment > "Re-Upload
  Submissions" (``Assignment#generate_comments_from_files`` and
  ``infer_comment_context_from_filename`` in app/models/assignment.rb): Canvas takes the
  first two all-digit ``_``-separated parts of each file name as the user id and the id of
  a file of that user's submission, ignores files whose ids do not match, and attaches the
  others as a comment ("See attached file"). So the entries are named as the download named
  the graded upload, ``{name}_{user id}_{file id}_{notebook}-feedback.html``; written only for
  students whose file id the intake recorded (identities.json ``canvas_attachments``).
* ``exchange/{course id}/feedback/{hash}.html``: nbgrader's exchange, where ``nbgrader
  fetch_feedback`` looks (nbgrader/exchange/default/release_feedback.py and
  fetch_feedback.py): ``hash`` is ``nbgrader.utils.notebook_hash(secret=..., notebook_id=...)``
  of the ``submission_secret.txt`` that ``nbgrader submit`` wrote into the submission. Copy
  the folder into the exchange root (``cp -r feedback_packed/exchange/* /srv/nbgrader/exchange/``).

A student who lacks the identity a layout needs is listed, never silently dropped; a layout is
written only when at least one student has its identity.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.identities import IDENTITIES, read_identities
from grader.lms_export import ExportError
from grader.lms_formats import canvas_user_name, moodle_folder_name
from grader.results import NotebookResult

FEEDBACK_SUFFIX = "-feedback.html"


# --------------------------------------------------------------------------- recipients


@dataclass
class Recipient:
    """How the LMSs reach one student: the intake's record (grader.identities.read_identities),
    completed by the roster."""

    canvas_id: str = ""
    moodle: dict[str, dict] = field(default_factory=dict)  # assignment or "*" -> id, folder
    name: str = ""
    email: str = ""
    lms: str = ""  # where the hand-ins came from: canvas, moodle, exchange, folders, roster
    canvas_name: str = ""  # Canvas's squashed name in download file names ("doejane")
    # assignment -> the Canvas file id of the graded upload (for Canvas's Re-Upload Submissions)
    canvas_attachments: dict[str, str] = field(default_factory=dict)

    def moodle_for(self, assignment: str) -> dict | None:
        return self.moodle.get(assignment) or self.moodle.get("*")


def recipients(workdir: Path, roster=None) -> dict[str, Recipient]:
    """Student id -> Recipient, from what the last autograde recorded (``received/
    identities.json``) and the roster (Canvas ids, names, e-mails)."""
    try:
        recorded = read_identities(workdir)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ExportError(
            f"{workdir / 'received'}: the LMS identities could not be read ({error})\n"
            "hint: run autograde on the LMS download again"
        ) from None
    found = {
        student: Recipient(
            canvas_id=identity.canvas_id,
            moodle={
                assignment: {
                    "participant_id": folder.participant_id,
                    "folder": folder.folder,
                    "full_name": folder.full_name,
                }
                for assignment, folder in identity.moodle.items()
            },
            name=identity.name,
            email=identity.email,
            lms=identity.lms,
            canvas_name=identity.canvas_name,
            canvas_attachments=_canvas_attachments(workdir, student),
        )
        for student, identity in recorded.items()
    }
    for person in roster or []:
        recipient = found.setdefault(person.student_id, Recipient(lms="roster"))
        recipient.canvas_id = recipient.canvas_id or person.canvas_id
        recipient.name = recipient.name or person.name
        recipient.email = recipient.email or person.email
    return found


def _canvas_attachments(workdir: Path, student: str) -> dict[str, str]:
    """``canvas_attachments`` of the student in identities.json, when the intake recorded it
    (assignment -> Canvas file id of the graded upload); {} otherwise."""
    try:
        data = json.loads((workdir / "received" / IDENTITIES).read_text("utf-8"))
        found = data["students"][student].get("canvas_attachments", {})
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(a): str(i) for a, i in found.items() if str(i).isdigit()}


# --------------------------------------------------------------------------- feedback files


@dataclass
class PackReport:
    """What ``pack_feedback`` wrote, and who was left out of which layout."""

    written: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def pack_feedback(
    results: list[NotebookResult],
    feedback_dir: Path,
    out_dir: Path,
    people: dict[str, Recipient],
    *,
    course_id: str,
    exchange_submitted: Path | None = None,
) -> PackReport:
    """The feedback pages under ``feedback_dir`` ({student}/{assignment}/{notebook}.html),
    packed for each LMS under ``out_dir`` (see the module docstring). ``exchange_submitted``:
    the exchange's ``submitted/`` folder the hand-ins came from (its submission secrets)."""
    pages = _pages(results, feedback_dir)
    report = PackReport()
    shutil.rmtree(out_dir, ignore_errors=True)  # ours alone: packed afresh every time
    _pack_moodle(pages, out_dir / "moodle", people, report)
    _pack_canvas(pages, out_dir / "canvas", people, report)
    if exchange_submitted is not None:
        target = out_dir / "exchange" / course_id / "feedback"
        _pack_exchange(pages, target, exchange_submitted, report)
    elif any(recipient.lms == "exchange" for recipient in people.values()):
        report.left_out.append(
            "exchange: not packed (hint: feedback --pack --submitted DIR, the exchange's "
            "submitted/ folder that autograde read: its submission secrets name the files)"
        )
    return report


@dataclass(frozen=True)
class _Page:
    student: str
    assignment: str
    notebook: str
    path: Path


def _pages(results: list[NotebookResult], feedback_dir: Path) -> list[_Page]:
    pages = []
    for r in sorted(results, key=lambda r: (r.student, r.assignment, r.notebook)):
        path = feedback_dir / r.student / r.assignment / f"{r.notebook}.html"
        if path.is_file():
            pages.append(_Page(r.student, r.assignment, r.notebook, path))
    return pages


def _pack_moodle(pages: list[_Page], out_dir: Path, people, report: PackReport) -> None:
    if not any(recipient.moodle for recipient in people.values()):
        return
    for assignment in sorted({p.assignment for p in pages}):
        entries, left_out = [], set()
        for page in (p for p in pages if p.assignment == assignment):
            recipient = people.get(page.student)
            moodle = recipient.moodle_for(assignment) if recipient else None
            if not moodle or not moodle.get("participant_id"):
                left_out.add(page.student)
                continue
            folder = moodle.get("folder") or moodle_folder_name(
                recipient.name or page.student, moodle["participant_id"]
            )
            entries.append((f"{_safe(folder)}/{page.notebook}{FEEDBACK_SUFFIX}", page.path))
        _left_out(report, f"moodle/{assignment}.zip", "no Moodle participant id", left_out)
        if entries:
            report.written.append(_zip(out_dir / f"{assignment}.zip", entries))


def _pack_canvas(pages: list[_Page], out_dir: Path, people, report: PackReport) -> None:
    if not any(recipient.canvas_id for recipient in people.values()):
        return
    for assignment in sorted({p.assignment for p in pages}):
        by_student: dict[str, list] = {}
        left_out = set()
        for page in (p for p in pages if p.assignment == assignment):
            recipient = people.get(page.student)
            if not recipient or not recipient.canvas_id:
                left_out.add(page.student)
                continue
            entry = (f"{page.notebook}{FEEDBACK_SUFFIX}", page.path)
            by_student.setdefault(recipient.canvas_id, []).append(entry)
        _left_out(report, f"canvas/{assignment}/", "no Canvas user id", left_out)
        for canvas_id, entries in sorted(by_student.items()):
            target = out_dir / assignment / f"{_safe(canvas_id)}.zip"
            report.written.append(_zip(target, entries))
        _pack_canvas_reupload(pages, out_dir, people, report, assignment)


def _pack_canvas_reupload(pages, out_dir: Path, people, report: PackReport, assignment) -> None:
    """``canvas/{assignment}-reupload.zip`` for Canvas's "Re-Upload Submissions", when the
    intake recorded the Canvas file id each graded notebook came from: Canvas attaches each
    file as a comment to the submission holding that file (see the module docstring)."""
    entries = []
    for page in (p for p in pages if p.assignment == assignment):
        recipient = people.get(page.student)
        attachment = recipient.canvas_attachments.get(assignment) if recipient else None
        if not attachment or not recipient.canvas_id.isdigit():
            continue
        name = canvas_user_name(recipient.canvas_name or recipient.name)
        if not name or name.isdigit():  # all digits would be read as the user id
            name = "student"
        feedback = _safe(f"{page.notebook}{FEEDBACK_SUFFIX}")
        entries.append((f"{name}_{recipient.canvas_id}_{attachment}_{feedback}", page.path))
    if entries:
        report.written.append(_zip(out_dir / f"{assignment}-reupload.zip", entries))


def _pack_exchange(pages: list[_Page], out_dir: Path, submitted: Path, report: PackReport) -> None:
    """Each page as ``nbgrader release_feedback`` publishes it: named by nbgrader's own
    ``notebook_hash`` of the hand-in's submission secret and the notebook's name."""
    from nbgrader.utils import notebook_hash

    left_out = set()
    for page in pages:
        if not _handed_in_through(submitted, page.student, page.assignment):
            continue  # not handed in through the exchange: nobody there to fetch it
        secret = submission_secret(submitted, page.student, page.assignment)
        if secret is None:
            left_out.add(f"{page.student}/{page.assignment}")
            continue
        target = out_dir / f"{notebook_hash(secret=secret, notebook_id=page.notebook)}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(page.path, target)
        os.chmod(target, 0o644)  # the student's own account reads it (release_feedback's mode)
        report.written.append(target)
    _left_out(report, "exchange", f"no submission_secret.txt under {submitted}", left_out)


MAX_SECRET_BYTES = 4096  # nbgrader writes 128 hex digits


def _handed_in_through(submitted: Path, student: str, assignment: str) -> bool:
    if any(_safe(part) != part for part in (student, assignment)):
        return False
    try:
        return stat.S_ISDIR(os.lstat(submitted / student / assignment).st_mode)
    except OSError:
        return False


def submission_secret(submitted: Path, student: str, assignment: str) -> str | None:
    """The secret ``nbgrader submit`` wrote into ``submitted/{student}/{assignment}/``, exactly
    as nbgrader reads it; None when there is no such regular, small file."""
    if any(_safe(part) != part for part in (student, assignment)):
        return None  # not one plain path component: never looked up
    path = submitted / student / assignment / "submission_secret.txt"
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_SECRET_BYTES:
            return None
        with open(path, "rb") as file:
            return file.read(MAX_SECRET_BYTES).decode("utf-8") or None
    except (OSError, UnicodeDecodeError):
        return None


def _left_out(report: PackReport, layout: str, why: str, students: set[str]) -> None:
    if students:
        report.left_out.append(f"{layout}: {', '.join(sorted(students))} ({why})")


def _zip(target: Path, entries: list[tuple[str, Path]]) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, path in entries:
            archive.write(path, name)
    os.replace(partial, target)
    return target


def _safe(name: str) -> str:
    """One path component for a zip entry or a file: no separators, no control characters,
    never "." or ".."."""
    text = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    text = text.replace("/", " ").replace("\\", " ").strip()
    return text if text not in ("", ".", "..") else "_"


__all__ = [
    "PackReport",
    "Recipient",
    "pack_feedback",
    "recipients",
    "submission_secret",
]

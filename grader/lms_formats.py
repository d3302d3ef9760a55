"""How Canvas, Moodle and nbgrader's exchange name what they hand over: the rules grader.intake
reads and grader.sample_class.lms writes (the test fixtures and the demo), kept in one place so
that the two cannot drift apart. Standard library only.

Neither LMS documents its download's file names beyond "the files are renamed with the
student's name" (their user guides); the rules below are read from their source code, cited
by repository and path, and marked *inferred* where the code does not settle them.

**Canvas** ("Download Submissions" of an assignment; instructure/canvas-lms
lib/content_zipper.rb: ``get_filename``, ``add_upload_submission``, ``sanitize_user_name``,
``sanitize_file_name``, ``sanitize_attachment_filename``): one flat zip, one entry per uploaded
file, named ``{name}_{LATE_}{user id}_{attachment id}_{file}``:

* ``name`` is the student's *sortable* name ("Doe, Jane"), with ``_123_`` runs collapsed to
  ``123``, lower-cased, then every character that is not a word character (Ruby's
  ``[[:word:]]``: letters, marks, decimal digits, connector punctuation) removed: "doejane";
  it can be empty (a name of emoji). ``LATE`` is there when Canvas counted the submission
  late (``submission.late?``: Canvas's own due date and extensions). With anonymous grading
  there is no name and the id is ``anon_{anonymous id}``. A name ending in ``_{digits}`` or
  ``_LATE`` makes the name ambiguous in Canvas's own format; it is read as the shortest name.
* ``attachment id`` is Canvas's file id (the issue's "submission id"). *Inferred*: ids are
  database sequence numbers, so of two files the larger id was uploaded later.
* ``file`` is the name the student uploaded with ``\\0 / \\ : * ? " < > |`` replaced by ``_``.
  A file uploaded under a name already in the student's files becomes ``name-1.ext``,
  ``name-2.ext`` ... (app/models/attachment.rb, ``make_unique_filename``; after 7,
  ``name-{uuid}.ext``).
* Text and URL submissions are ``{name}_{LATE_}{user id}_text.html`` / ``_link.html``.
* **No hand-in time.** Entries are written with rubyzip's ``get_output_stream`` without a
  time, and rubyzip's ``Entry`` then takes ``DOSTime.now`` (rubyzip/rubyzip lib/zip/entry.rb):
  an entry's date is when the zip was built. Only the ``LATE`` marker says anything about
  time (third-party tools that need the times call Canvas's API instead, e.g.
  ssardina-teaching/canvas-submission-time-scraper).

**Moodle** ("Download all submissions" of an assignment; moodle/moodle mod/assign/locallib.php,
``download_submissions``): a folder per student and submission plugin,
``{Full Name}_{participant id}_assignsubmission_{plugin}_/`` holding the files as uploaded
(Moodle >= 3.1 with "Download submissions in folders", the default), or with that option off
the same prefix on each file: ``{Full Name}_{participant id}_assignsubmission_file_{file}``.

* ``Full Name`` is ``fullname()`` with ``_`` turned into spaces, cleaned by ``clean_filename``
  (lib/moodlelib.php, PARAM_FILE: control characters and ``& < > " ` | ' : \\ /`` removed);
  with blind marking it is the word "Participant" for everyone.
* ``participant id`` is ``get_uniqueid_for_user``: the assignment's own number for the student
  (table assign_user_mapping), different in every assignment; the offline grading worksheet
  shows it as "Participant {id}" in its Identifier column.
* **Hand-in time.** Not in the download. *Inferred* from lib/filestorage (zip_packer,
  file_system::add_storedfile_to_archive): entries take the modification time of Moodle's
  content-addressed copy of the file (shared by identical uploads), in the server's local time
  without a zone; not the submission time. The offline grading worksheet (mod/assign
  gradingtable.php ``col_timesubmitted``) has it in "Last modified (submission)", written by
  ``userdate()`` with ``strftimedaydatetime`` (lang/en/langconfig.php: "%A, %d %B %Y, %I:%M
  %p", "Monday, 1 February 2027, 5:03 PM"), in the downloading user's time zone, which the
  file does not state: the instructor must say which.

**nbgrader's exchange** (``submitted/{student}/{assignment}/`` after ``nbgrader collect``, or as
``nbgrader zip_collect`` lays it out): each assignment folder holds the notebooks and
``timestamp.txt``, written by ``nbgrader submit`` as
``datetime.now(tz).strftime(Exchange.timestamp_format)`` with ``Exchange.timezone``
(nbgrader/exchange/abc/exchange.py; defaults ``"%Y-%m-%d %H:%M:%S.%f %Z"`` and ``"UTC"``:
"2027-02-01 17:03:00.000000 UTC"), read back by ``nbgrader.utils.parse_utc`` (a zone
abbreviation dateutil does not know is taken as UTC).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

# --------------------------------------------------------------------------- Canvas


@dataclass(frozen=True)
class CanvasName:
    """What a Canvas bulk-download file name says."""

    name: str  # the squashed sortable name ("doejane"); "" when anonymous or empty
    user_id: str  # Canvas user id; "" when anonymous
    anonymous_id: str  # Canvas's anonymous id; "" when not anonymous
    late: bool
    attachment_id: int  # -1 for text and URL entries
    file: str  # the name the student uploaded, Canvas's re-upload suffix removed
    reupload: int  # 0 for the first upload, n for Canvas's "-n" (uuid suffixes count as 8)


# The name part is matched lazily: Canvas's name never holds "_{digits}_" (collapsed), so the
# first place the rest fits is where the name ends.
_CANVAS_UPLOAD = re.compile(
    r"(?P<name>.*?)_(?:(?P<late>LATE)_)?(?P<user_id>\d+)_(?P<attachment_id>\d+)_(?P<file>.+)",
    re.DOTALL,
)
_CANVAS_ANONYMOUS = re.compile(
    r"(?:(?P<late>LATE)_)?anon_(?P<anonymous_id>[A-Za-z0-9]{5})_(?P<attachment_id>\d+)_(?P<file>.+)",
    re.DOTALL,
)
_CANVAS_TEXT = re.compile(
    r"(?P<name>.*?)_(?:(?P<late>LATE)_)?(?P<user_id>\d+)_(?P<file>text\.html|link\.html)",
    re.DOTALL,
)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# make_unique_filename: basename-n + extension, the extension as Canvas's own regex finds it.
_REUPLOAD = re.compile(
    rf"(?P<base>.+)-(?P<n>[1-9][0-9]*|{_UUID})(?P<ext>(?:\.[A-Za-z][A-Za-z0-9]*)*\.[A-Za-z0-9]*)?",
    re.DOTALL,
)


def parse_canvas_name(file_name: str) -> CanvasName | None:
    """The parts of a Canvas bulk-download file name, or None when it is not one."""
    anonymous = _CANVAS_ANONYMOUS.fullmatch(file_name)
    if anonymous and re.search(r"[A-Za-z]", anonymous["anonymous_id"]):
        file, reupload = strip_reupload(anonymous["file"])
        return CanvasName(
            "", "", anonymous["anonymous_id"], bool(anonymous["late"]),
            int(anonymous["attachment_id"]), file, reupload,
        )  # fmt: skip
    upload = _CANVAS_UPLOAD.fullmatch(file_name)
    if upload:
        file, reupload = strip_reupload(upload["file"])
        return CanvasName(
            upload["name"], upload["user_id"], "", bool(upload["late"]),
            int(upload["attachment_id"]), file, reupload,
        )  # fmt: skip
    text = _CANVAS_TEXT.fullmatch(file_name)
    if text:
        return CanvasName(
            text["name"], text["user_id"], "", bool(text["late"]), -1, text["file"], 0
        )
    return None


def strip_reupload(file: str) -> tuple[str, int]:
    """(the name as the student uploaded it, Canvas's re-upload number): "scalars-2.ipynb" is
    ("scalars.ipynb", 2). Canvas gives up counting after 7 and adds a uuid (counted as 8)."""
    found = _REUPLOAD.fullmatch(file)
    if not found:
        return file, 0
    n = found["n"]
    return found["base"] + (found["ext"] or ""), int(n) if n.isdigit() else 8


def canvas_file_name(
    sortable_name: str,
    user_id: int | str,
    attachment_id: int,
    file: str,
    *,
    late: bool = False,
    anonymous_id: str | None = None,
) -> str:
    """The name Canvas gives an uploaded file in its bulk download (see the module docstring)."""
    if anonymous_id:
        parts = ["LATE" if late else None, f"anon_{anonymous_id}"]
    else:
        parts = [canvas_user_name(sortable_name), "LATE" if late else None, str(user_id)]
    prefix = "".join(c for c in "_".join(p for p in parts if p is not None) if _ruby_word(c))
    return f"{prefix}_{attachment_id}_{_CANVAS_UNSAFE.sub('_', file)}"


_CANVAS_UNSAFE = re.compile(r'[\x00/\\:*?"<>|]+')  # sanitize_attachment_filename


def canvas_user_name(sortable_name: str) -> str:
    """Canvas's ``sanitize_user_name`` and ``sanitize_file_name`` of a sortable name: "doejane"."""
    name = re.sub(r"_(\d+)_", r"\1", sortable_name).lower()
    return "".join(c for c in name if _ruby_word(c))


def _ruby_word(char: str) -> bool:
    """Onigmo's ``[[:word:]]``: Letter, Mark, Decimal_Number, Connector_Punctuation."""
    category = unicodedata.category(char)
    return category[0] in "LM" or category in ("Nd", "Pc")


def sortable_name(full_name: str) -> str:
    """Canvas's default sortable name of a full name: "Jane Doe" -> "Doe, Jane"."""
    first, _, last = full_name.strip().rpartition(" ")
    return f"{last}, {first}" if first else last


# --------------------------------------------------------------------------- Moodle


@dataclass(frozen=True)
class MoodleName:
    """What a Moodle download's folder (or flat file) name says."""

    full_name: str
    participant_id: str
    plugin: str  # "file", "onlinetext", ...
    file: str  # "" for a folder


# The folder name ends in the fixed suffix, so the name may hold anything (even "_").
_MOODLE_FOLDER = re.compile(
    r"(?P<name>.*)_(?P<participant_id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_", re.DOTALL
)
# A flat name: Moodle turned "_" in names into spaces, so the first "_" ends the name.
_MOODLE_FLAT = re.compile(
    r"(?P<name>[^_]*)_(?P<participant_id>\d+)_assignsubmission_(?P<plugin>[a-z0-9]+)_(?P<file>.+)",
    re.DOTALL,
)


def parse_moodle_name(name: str) -> MoodleName | None:
    """The parts of a Moodle download's folder or flat file name, or None."""
    folder = _MOODLE_FOLDER.fullmatch(name)
    if folder:
        return MoodleName(folder["name"], folder["participant_id"], folder["plugin"], "")
    flat = _MOODLE_FLAT.fullmatch(name)
    if flat:
        return MoodleName(flat["name"], flat["participant_id"], flat["plugin"], flat["file"])
    return None


def moodle_clean(text: str) -> str:
    """Moodle's ``clean_param(..., PARAM_FILE)`` (what ``clean_filename`` applies)."""
    text = re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", text)
    return "" if text in (".", "..") else text


def moodle_folder_name(full_name: str, participant_id: int | str, plugin: str = "file") -> str:
    """``{Full Name}_{participant id}_assignsubmission_{plugin}_`` as download_submissions
    builds it."""
    prefix = moodle_clean(full_name.replace("_", " ") + f"_{participant_id}")
    return moodle_clean(f"{prefix}_assignsubmission_{plugin}_")


MOODLE_PARTICIPANT = "Participant"  # the name every student has under blind marking
# The offline grading worksheet's columns (English), in Moodle's order.
MOODLE_WORKSHEET_COLUMNS = (
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
)
_MOODLE_IDENTIFIER = re.compile(r"\D*?(\d+)\s*")  # "Participant 12345"
# userdate() formats (English strftimedaydatetime, its en_us variant, and the short one);
# the weekday before the first comma is dropped before parsing.
_MOODLE_DATE_FORMATS = ("%d %B %Y, %I:%M %p", "%B %d, %Y, %I:%M %p", "%d/%m/%y, %H:%M")


def moodle_participant_id(identifier: str) -> str | None:
    """The number in an Identifier cell: "Participant 12345" -> "12345"."""
    found = _MOODLE_IDENTIFIER.fullmatch(identifier or "")
    return found[1] if found else None


def moodle_userdate(moment: datetime, zone: tzinfo) -> str:
    """A time as Moodle's worksheet shows it in ``zone``: "Monday, 1 February 2027, 5:03 PM"
    (userdate removes the leading zeros of the day and the hour)."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{local:%A}, {local.day} {local:%B} {local.year}, {hour}:{local:%M} {local:%p}"


def parse_moodle_userdate(text: str, zone: tzinfo) -> datetime | None:
    """The time a worksheet cell shows, read in ``zone``; None for "-", empty or unreadable
    cells. ISO 8601 with an offset is accepted too (a worksheet edited by a script)."""
    text = " ".join((text or "").split())
    if text in ("", "-"):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is not None:
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    day = text.split(", ", 1)[1] if re.match(r"[^\d,]+, ", text) else text
    for pattern in _MOODLE_DATE_FORMATS:
        try:
            return datetime.strptime(day, pattern).replace(tzinfo=zone)
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- CSV files


def decode_csv(data: bytes) -> str:
    """An LMS's CSV as text: UTF-8 with or without the BOM Excel and Canvas write, else
    Windows-1252 (Excel's "CSV" on Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_delimiter(text: str) -> str:
    """Comma, semicolon or tab, whichever the header row holds most of (Moodle writes what the
    site's locale says, Canvas offers all three)."""
    return max(",;\t", key=text.split("\n", 1)[0].count)


# --------------------------------------------------------------------------- nbgrader


EXCHANGE_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"  # nbgrader's Exchange.timestamp_format
EXCHANGE_TIMESTAMP_FILE = "timestamp.txt"


def exchange_timestamp(moment: datetime) -> str:
    """What ``nbgrader submit`` writes in timestamp.txt for ``moment`` (its zone kept)."""
    return moment.strftime(EXCHANGE_TIMESTAMP_FORMAT)


# --------------------------------------------------------------------------- time zones


def zone(name: str) -> tzinfo:
    """A time zone from an IANA name ("Europe/Paris"), "UTC" or an offset ("+01:00");
    ValueError with the reason otherwise."""
    offset = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", name.strip())
    if offset:
        sign = -1 if offset[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(offset[2]), minutes=int(offset[3])))
    if name.strip().upper() in ("UTC", "Z"):
        return timezone.utc
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(
            f'unknown time zone "{name}" (an IANA name such as Europe/Paris, or +01:00)'
        ) from error


def iso(moment: datetime) -> str:
    """ISO 8601 with the UTC offset, seconds precision: what Submission.timestamp holds."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")

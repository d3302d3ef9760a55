"""Moodle's offline grading worksheet on the way in (``autograde --moodle-worksheet W
--timezone Z``): what Moodle's "Download all submissions" does not say, by participant id,
the e-mail (to find the participant on the roster) and "Last modified (submission)", the
hand-in time (grader/lms_formats.py says where it comes from). Moodle writes the times in the
downloading teacher's zone, which the file does not state: they are read in ``--timezone``,
and without it not used (and that is said). Filling the worksheet with grades, on the way
out, is grader/lms_export.py's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader import lms_formats as lms
from grader.intake import IntakeError
from grader.submissions import _open_regular, _printable

MAX_WORKSHEET_BYTES = 20 * 2**20


@dataclass(frozen=True)
class WorksheetRow:
    """One row of Moodle's offline grading worksheet."""

    participant_id: str
    full_name: str
    email: str
    timestamp: str | None  # "Last modified (submission)" as ISO 8601; None: none or unknown


_WORKSHEET_COLUMNS = {
    "participant": "identifier",
    "full_name": "full name",
    "email": "email address",
    "modified": "last modified (submission)",
}


def read_worksheets(
    paths: Sequence[Path], timezone_name: str | None, problems: list[str] | None = None
) -> dict[str, WorksheetRow]:
    """Participant id -> worksheet row, from every worksheet given (participant ids are unique
    across a Moodle site, so worksheets of several assignments can be given together).
    IntakeError for a file that is not a worksheet; times are read only with a time zone."""
    zone = None
    if timezone_name:
        try:
            zone = lms.zone(timezone_name)
        except ValueError as error:
            raise IntakeError(str(error)) from None
    rows: dict[str, WorksheetRow] = {}
    undated = 0
    for path in paths:
        for row in _worksheet_rows(Path(path)):
            when = row["modified"]
            moment = lms.parse_moodle_userdate(when, zone) if zone and when else None
            undated += bool(when.strip() not in ("", "-") and moment is None)
            pid = lms.moodle_participant_id(row["participant"])
            if pid:
                rows[pid] = WorksheetRow(
                    pid, row["full_name"], row["email"], lms.iso(moment) if moment else None
                )
    if undated and problems is not None:
        why = "no --timezone was given" if zone is None else "they could not be read"
        problems.append(f"{undated} hand-in times of the Moodle worksheets were not used: {why}")
    return rows


def _worksheet_rows(path: Path) -> list[dict[str, str]]:
    try:
        with _open_regular(path, MAX_WORKSHEET_BYTES) as file:
            data = file.read(MAX_WORKSHEET_BYTES + 1)
    except Exception as error:  # noqa: BLE001 - missing, a link, too large...
        raise IntakeError(
            f"cannot read the Moodle worksheet {_printable(str(path))}: {error}"
        ) from None
    text = data.decode("utf-8-sig", errors="replace").replace("\0", "")
    reader = csv.reader(io.StringIO(text), delimiter=lms.csv_delimiter(text))
    table = list(reader)
    titles = [" ".join(t.split()).lower() for t in (table[0] if table else [])]
    if "identifier" not in titles:
        raise IntakeError(
            f"{_printable(str(path))} is not a Moodle offline grading worksheet (no Identifier "
            "column)\nhint: Moodle > the assignment > View all submissions > Grading action > "
            "Download grading worksheet"
        )
    index = {
        key: titles.index(title) if title in titles else None
        for key, title in _WORKSHEET_COLUMNS.items()
    }
    return [
        {
            key: (row[i].strip() if i is not None and i < len(row) else "")
            for key, i in index.items()
        }
        for row in table[1:]
    ]


__all__ = ["WorksheetRow", "read_worksheets"]

"""The LMS download builders the tests share (Canvas and Moodle zips and folders, nbgrader's
exchange, LMS rosters and worksheets). They live in grader/sample_class/lms.py, where the demo
can import them too; this module only gathers them for the tests."""

from grader.sample_class.lms import (
    DOWNLOADED,
    CanvasHandIn,
    ExchangeHandIn,
    MoodleHandIn,
    Student,
    canvas_folder,
    canvas_gradebook_csv,
    canvas_names,
    canvas_zip,
    exchange_folder,
    moodle_entries,
    moodle_folder,
    moodle_participants_csv,
    moodle_worksheet,
    moodle_zip,
    utc,
)

__all__ = [
    "DOWNLOADED",
    "CanvasHandIn",
    "ExchangeHandIn",
    "MoodleHandIn",
    "Student",
    "canvas_folder",
    "canvas_gradebook_csv",
    "canvas_names",
    "canvas_zip",
    "exchange_folder",
    "moodle_entries",
    "moodle_folder",
    "moodle_participants_csv",
    "moodle_worksheet",
    "moodle_zip",
    "utc",
]

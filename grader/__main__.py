"""``python -m grader COMMAND``: the course's grading pipeline (see grader/pipeline.py).

Exit status: 0 when nothing needs the instructor's attention, 1 when some notebook does
(a crash, a timeout, a missing, malformed or renamed notebook, restored test cells), 2 on a
usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

# Only what `check` needs is imported here: students run it in the light install
# (`pip install .[student]`: no nbgrader, dask or torch), which grader.pipeline would need.
# The instructor's commands import the pipeline themselves.
from grader.release import ROOT
from grader.sandbox import Limits, SandboxUnavailable, enforced, mode

console = Console()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "check":  # the student's command: no pipeline, no gradebook
        return cmd_check(args)
    from grader import pipeline
    from grader.deadlines import ConfigError

    limits = Limits(
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.notebook_timeout,
        memory_bytes=int(args.memory_gib * 2**30),
        disk_bytes=int(args.disk_mib * 2**20),
        processes=args.processes,
        unsafe=args.unsafe,
    )
    course = pipeline.Course(
        workdir=Path(args.workdir).resolve(), limits=limits, figures=not args.no_figures
    )
    try:
        return COMMANDS[args.command](course, args)
    except SandboxUnavailable as refusal:
        console.print(f"[red]not grading:[/] {escape(str(refusal))}")
        return 2
    except ConfigError as error:  # a deadlines file or an LMS export that cannot be used
        console.print(f"[red]cannot continue:[/] {escape(str(error))}")
        return 2


def parser() -> argparse.ArgumentParser:
    first, _, rest = __doc__.partition("\n\n")
    p = argparse.ArgumentParser(prog="python -m grader", description=first, epilog=rest.strip())
    p.add_argument(
        "--workdir",
        default=str(ROOT / "build" / "grader"),
        help="where references, gradebook, results and feedback go",
    )
    p.add_argument("--cell-timeout", type=float, default=30.0, help="seconds per cell")
    p.add_argument("--notebook-timeout", type=float, default=300.0, help="seconds per notebook")
    p.add_argument("--memory-gib", type=float, default=2.0, help="memory limit per kernel")
    p.add_argument("--disk-mib", type=float, default=512, help="writable space per kernel")
    p.add_argument("--processes", type=int, default=128, help="processes per kernel")
    p.add_argument(
        "--no-figures",
        action="store_true",
        help="grade faster: draw no plots or graphs (feedback pages then show a line of text)",
    )
    p.add_argument(
        "--unsafe",
        action="store_true",
        help="grade even where no sandbox can be built (student code then runs as you)",
    )
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("release", help="generate notebooks/ and the torch references")
    r.add_argument("assignments", nargs="*")
    a = sub.add_parser(
        "autograde",
        help="grade hand-ins: folders per student, Canvas or Moodle downloads, nbgrader's exchange",
    )
    a.add_argument(
        "submissions",
        type=Path,
        nargs="+",
        metavar="SOURCE",
        help="a folder per student, a Canvas or Moodle download (zip or unzipped), or an "
        "exchange submitted/ folder; the format is detected (see grader/intake.py)",
    )
    a.add_argument(
        "--lms",
        choices=("canvas", "moodle", "exchange", "folders"),
        default=None,
        help="the format of every SOURCE, instead of detecting it",
    )
    a.add_argument(
        "--roster",
        type=Path,
        default=None,
        help="the class list as the LMS exports it (CSV): hand-ins are graded under its "
        "student ids; kept as WORKDIR/roster.csv and used by later runs",
    )
    a.add_argument(
        "--moodle-worksheet",
        type=Path,
        action="append",
        default=[],
        help="Moodle's offline grading worksheet (CSV), for hand-in times and e-mails; "
        "repeat for several assignments",
    )
    a.add_argument(
        "--timezone",
        default=None,
        help="the time zone Moodle worksheets' times are written in (e.g. Europe/Paris)",
    )
    a.add_argument("--workers", type=int, default=None, help="parallel kernels (default: cores)")
    a.add_argument("--scheduler", default=None, help="a Dask scheduler address to grade on")
    a.add_argument("--force", action="store_true", help="regrade notebooks already graded")
    a.add_argument(
        "--deadlines",
        type=Path,
        default=None,
        help="due dates, extensions and late penalty (TOML; see grader/deadlines.py); kept "
        "as WORKDIR/deadlines.toml for the later steps",
    )
    f = sub.add_parser("feedback", help="an HTML page per student and notebook")
    f.add_argument(
        "--pack",
        action="store_true",
        help="also pack the pages for the LMS: Moodle's feedback zip, a zip per Canvas "
        "student, nbgrader's exchange (WORKDIR/feedback_packed/)",
    )
    f.add_argument(
        "--submitted",
        type=Path,
        default=None,
        help="with --pack: the exchange's submitted/ folder autograde read (its submission "
        "secrets name the exchange's feedback files)",
    )
    e = sub.add_parser("export", help="grades as CSV (nbgrader export's, Canvas's or Moodle's)")
    e.add_argument(
        "--format",
        choices=("nbgrader", "canvas", "moodle"),
        default="nbgrader",
        help="nbgrader: grades.csv (default); canvas: the gradebook import CSV; moodle: the "
        "offline grading worksheet",
    )
    e.add_argument(
        "--gradebook", type=Path, default=None, help="canvas: the gradebook CSV Canvas exported"
    )
    e.add_argument(
        "--worksheet", type=Path, default=None, help="moodle: the grading worksheet downloaded"
    )
    e.add_argument(
        "--assignment",
        action="append",
        default=None,
        help="export this assignment only (repeatable; moodle: the worksheet's assignment)",
    )
    e.add_argument(
        "--to",
        type=Path,
        default=None,
        help="default: WORKDIR/grades.csv, WORKDIR/exports/canvas-import.csv or "
        "WORKDIR/exports/moodle-ASSIGNMENT.csv",
    )
    sub.add_parser("report", help="summary table and plots (WORKDIR/report/)")
    c = sub.add_parser("check", help="for students: run a notebook's visible tests")
    c.add_argument("notebook", type=Path)
    d = sub.add_parser("demo", help="release, grade the bundled sample class, report")
    d.add_argument("--workers", type=int, default=None)
    return p


def cmd_release(course, args) -> int:
    from grader import pipeline

    pipeline.release(course, args.assignments or None, log=console.print)
    _print_enforced(course)
    return 0


def _print_enforced(course) -> None:
    console.print("What grading enforces on this machine:")
    for line in enforced(course.limits):
        console.print(f"  {escape(line)}")


def cmd_autograde(course, args) -> int:
    if args.deadlines is not None:  # checked (and kept) before anything is graded
        from grader.deadlines import install

        install(args.deadlines, course.workdir, course.assignments())
    from grader.intake import IntakeError, Sources
    from grader.roster import RosterError

    sources = Sources(
        tuple(args.submissions),
        lms=args.lms,
        roster=args.roster,
        worksheets=tuple(args.moodle_worksheet),
        timezone=args.timezone,
    )
    try:
        return _grade_and_summarise(course, sources, args.workers, args.scheduler, args.force)
    except (IntakeError, RosterError) as error:  # the instructor's input, before any grading
        console.print(f"[red]cannot grade:[/] {escape(str(error))}")
        return 2


def _grade_and_summarise(course, sources, workers, scheduler, force) -> int:
    """Grade, print the summary and what the intake received; the exit status."""
    from grader.report import print_summary

    results = _autograde(course, sources, workers, scheduler, force)
    print_summary(results, console=console, deadlines=course.deadlines())
    unplaced = _print_intake(course, results)
    return 1 if unplaced or any(r.needs_attention for r in results) else 0


def _print_intake(course, results) -> bool:
    """What the intake detected, and every hand-in it could not place: after the summary,
    so that the list is the last thing on screen. True when some file or source could not
    be given to anyone (the instructor should look, as for a flagged notebook)."""
    from grader.identities import read_report

    report = read_report(course.workdir)
    if not report:
        return False
    for line in report["detected"]:
        console.print(f"received {escape(line)}")
    known = sum(r.timestamp is not None for r in results)
    console.print(
        f"hand-in times given by the downloads: {known} of {len(results)} notebooks "
        "(Canvas gives none; a deadlines file's [handed_in] adds times)"
    )
    sections = (
        ("not on the roster (graded, flagged)", report["unknown"]),
        ("on the roster, no hand-in (every notebook 0)", report["missing"]),
        ("files nobody could be found for (not graded)", report["unattributed"]),
        ("not read", report["problems"]),
        ("roster rows left out", report["roster_problems"]),
    )
    for title, lines in sections:
        if lines:
            console.print(f"[yellow]{title}:[/] {len(lines)}")
            for line in lines:
                console.print(f"  {escape(line)}")
    return bool(report["unattributed"] or report["problems"])


def _autograde(course, submissions, workers, scheduler, force):
    from grader import pipeline

    mode(course.limits)  # refuse before planning anything where no sandbox can be built
    columns = (
        TextColumn("autograde"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("", total=None)

        def advance(result):
            bar.update(task, advance=1, description=f"{result.student}/{result.assignment}")

        return pipeline.autograde(
            course,
            submissions,
            workers=workers,
            scheduler=scheduler,
            force=force,
            progress=advance,
            on_plan=lambda total: bar.update(task, total=total),
        )


def cmd_feedback(course, args) -> int:
    from grader import pipeline
    from grader.feedback import write_feedback

    sources = {a: pipeline.read(course.source_path(a)) for a in course.assignments()}
    deadlines, roster = course.deadlines(), _roster(course)
    results = pipeline.results(course)
    for result in results:
        source = sources[result.assignment]
        out = course.feedback_dir / result.student / result.assignment / f"{result.notebook}.html"
        person = roster.find(student_id=result.student) if roster else None
        name = person.name if person else ""
        write_feedback(result, source, out, deadlines.of_result(result), name=name)
    console.print(f"feedback written under {course.feedback_dir}")
    if getattr(args, "pack", False):
        _pack(course, results, getattr(args, "submitted", None))
    return 0


def _pack(course, results, submitted) -> None:
    from grader.feedback_pack import pack_feedback, recipients
    from grader.gradebook import COURSE_ID

    out_dir = course.workdir / "feedback_packed"
    report = pack_feedback(
        results,
        course.feedback_dir,
        out_dir,
        recipients(course.workdir, _roster(course)),
        course_id=COURSE_ID,
        exchange_submitted=submitted,
    )
    console.print(f"feedback packed for the LMS: {len(report.written)} files under {out_dir}")
    for line in report.left_out:
        console.print(Text(f"  left out of {line}", style="yellow"))


def _roster(course):
    """The roster autograde was given (Course.roster(), the intake's), if any."""
    from grader.lms_export import ExportError
    from grader.roster import RosterError

    try:
        return course.roster()
    except RosterError as error:
        raise ExportError(
            f"{error}\nhint: run autograde --roster with the class list again"
        ) from None


def cmd_export(course, args) -> int:
    fmt = getattr(args, "format", "nbgrader")
    if fmt == "canvas":
        return _export_canvas(course, args)
    if fmt == "moodle":
        return _export_moodle(course, args)
    from grader.gradebook import export_csv

    target = args.to or course.workdir / "grades.csv"
    export_csv(course.db_url, target)
    console.print(f"grades exported to {target}")
    return 0


def _export_canvas(course, args) -> int:
    from grader.feedback_pack import recipients
    from grader.lms_export import canvas_import, gradebook_grades

    if args.gradebook is None:
        return _usage("export --format canvas needs --gradebook, the CSV Canvas exported")
    report = canvas_import(
        gradebook_grades(course.db_url),
        args.gradebook,
        args.to or course.workdir / "exports" / "canvas-import.csv",
        people=recipients(course.workdir, _roster(course)),
        assignments=args.assignment,
        columns=course.deadlines().canvas_columns,
    )
    return _exported(report, "Canvas: Grades > Import")


def _export_moodle(course, args) -> int:
    from grader.feedback_pack import recipients
    from grader.lms_export import assignment_of_worksheet, gradebook_grades, moodle_worksheet

    if args.worksheet is None:
        return _usage("export --format moodle needs --worksheet, the grading worksheet")
    if args.assignment and len(args.assignment) > 1:
        return _usage("a Moodle worksheet is for one assignment: give --assignment once")
    assignment = (args.assignment or [None])[0] or assignment_of_worksheet(
        args.worksheet, course.assignments()
    )
    report = moodle_worksheet(
        gradebook_grades(course.db_url),
        args.worksheet,
        args.to or course.workdir / "exports" / f"moodle-{assignment}.csv",
        assignment=assignment,
        people=recipients(course.workdir, _roster(course)),
    )
    return _exported(report, "Moodle: Grading action > Upload grading worksheet")


def _exported(report, where: str) -> int:
    console.print(f"{report.filled} grades written to {report.path} (import it in {where})")
    for note in report.notes:
        console.print(Text(f"  {note}", style="yellow"))
    return 0


def _usage(message: str) -> int:
    console.print(f"[red]usage:[/] {escape(message)}")
    return 2


def cmd_report(course, args) -> int:
    from grader import pipeline
    from grader.report import print_summary, write_plots

    results = pipeline.results(course)
    print_summary(results, console=console, deadlines=course.deadlines())
    write_plots(results, course.workdir / "report")
    console.print(f"plots written under {course.workdir / 'report'}")
    return 1 if any(r.needs_attention for r in results) else 0


def cmd_check(args) -> int:
    from grader.check import CannotCheck, check_notebook

    try:
        rows = check_notebook(args.notebook)
    except CannotCheck as problem:
        console.print(f"[red]cannot check:[/] {escape(str(problem))}")
        return 2
    marks = {  # status -> (word, colour); the words are padded to one width
        "pass": ("pass", "green"),
        "fail": ("FAIL", "red"),
        "not answered": ("to do", "yellow"),
        "not run": ("not run", "yellow"),
    }
    width = max((len(label) for label, _, _ in rows), default=0)
    for label, status, message in rows:
        word, colour = marks[status]
        line = f"[{colour}]{word:<7}[/]  {escape(label):<{width}}"
        console.print(line + (f"  {escape(message)}" if message else ""), soft_wrap=True)
    passed = sum(status == "pass" for _, status, _ in rows)
    console.print(f"{passed}/{len(rows)} visible tests pass (hidden tests run when it is graded)")
    return 0 if passed == len(rows) else 1


def cmd_demo(course, args) -> int:
    """Release the course, then a real class's round trip on the sample class."""
    from grader import pipeline

    pipeline.clean(course)
    console.rule("release: student notebooks and torch references")
    pipeline.release(course, log=console.print)
    _print_enforced(course)
    round_trip(course, args.workers)
    console.print(
        "The flagged notebooks above are the sample class's planted faults; ada and dan "
        "handed in late (penalised), bob within his extension."
    )
    return 0


def round_trip(course, workers: int | None = None) -> int:
    """The sample class as a Canvas course hands it over (grader/sample_class/canvas_class.py):
    the downloads with Canvas's gradebook export as the roster and a deadlines file go in;
    feedback packed for Canvas, grades.csv, the Canvas import file and the plots come out.
    Returns autograde's exit status."""
    from grader import pipeline
    from grader.deadlines import install
    from grader.intake import Sources
    from grader.report import write_plots
    from grader.sample_class.canvas_class import build_canvas

    canvas = build_canvas(course.workdir / "canvas")
    console.rule(f"autograde the sample class's Canvas downloads in {canvas.downloads}")
    install(canvas.deadlines, course.workdir, course.assignments())
    sources = Sources((canvas.downloads,), roster=canvas.gradebook)
    status = _grade_and_summarise(course, sources, workers, None, False)
    console.rule("feedback (packed for Canvas), grades.csv, Canvas import, report")
    cmd_feedback(course, argparse.Namespace(pack=True, submitted=None))
    cmd_export(course, argparse.Namespace(format="nbgrader", to=None))
    cmd_export(
        course,
        argparse.Namespace(format="canvas", gradebook=canvas.gradebook, to=None, assignment=None),
    )
    write_plots(pipeline.results(course), course.workdir / "report")
    console.print(f"plots written under {course.workdir / 'report'}")
    return status


COMMANDS = {
    "release": cmd_release,
    "autograde": cmd_autograde,
    "feedback": cmd_feedback,
    "export": cmd_export,
    "report": cmd_report,
    "demo": cmd_demo,
}

if __name__ == "__main__":
    sys.exit(main())

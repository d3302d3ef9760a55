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

from grader import pipeline
from grader.sandbox import Limits, SandboxUnavailable, enforced, mode

console = Console()


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m grader", description=__doc__.splitlines()[0])
    p.add_argument(
        "--workdir",
        default=str(pipeline.ROOT / "build" / "grader"),
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
    a = sub.add_parser("autograde", help="grade a folder of submissions (folders or zips)")
    a.add_argument("submissions", type=Path)
    a.add_argument("--workers", type=int, default=None, help="parallel kernels (default: cores)")
    a.add_argument("--scheduler", default=None, help="a Dask scheduler address to grade on")
    a.add_argument("--force", action="store_true", help="regrade notebooks already graded")
    sub.add_parser("feedback", help="an HTML page per student and notebook")
    e = sub.add_parser("export", help="grades as CSV (nbgrader export's columns)")
    e.add_argument("--to", type=Path, default=None, help="default: WORKDIR/grades.csv")
    sub.add_parser("report", help="summary table and plots (WORKDIR/report/)")
    c = sub.add_parser("check", help="for students: run a notebook's visible tests")
    c.add_argument("notebook", type=Path)
    d = sub.add_parser("demo", help="release, grade the bundled sample class, report")
    d.add_argument("--workers", type=int, default=None)
    return p


def cmd_release(course, args) -> int:
    pipeline.release(course, args.assignments or None, log=console.print)
    _print_enforced(course)
    return 0


def _print_enforced(course) -> None:
    console.print("What grading enforces on this machine:")
    for line in enforced(course.limits):
        console.print(f"  {escape(line)}")


def cmd_autograde(course, args) -> int:
    results = _autograde(course, args.submissions, args.workers, args.scheduler, args.force)
    from grader.report import print_summary

    print_summary(results, console=console)
    return 1 if any(r.needs_attention for r in results) else 0


def _autograde(course, submissions, workers, scheduler, force):
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
    from grader.feedback import write_feedback

    sources = {a: pipeline.read(course.source_path(a)) for a in course.assignments()}
    for result in pipeline.results(course):
        source = sources[result.assignment]
        out = course.feedback_dir / result.student / result.assignment / f"{result.notebook}.html"
        write_feedback(result, source, out)
    console.print(f"feedback written under {course.feedback_dir}")
    return 0


def cmd_export(course, args) -> int:
    from grader.gradebook import export_csv

    target = args.to or course.workdir / "grades.csv"
    export_csv(course.db_url, target)
    console.print(f"grades exported to {target}")
    return 0


def cmd_report(course, args) -> int:
    from grader.report import print_summary, write_plots

    results = pipeline.results(course)
    print_summary(results, console=console)
    write_plots(results, course.workdir / "report")
    console.print(f"plots written under {course.workdir / 'report'}")
    return 1 if any(r.needs_attention for r in results) else 0


def cmd_check(course, args) -> int:
    from grader.check import check_notebook

    rows = check_notebook(args.notebook)
    for grade_id, status, message in rows:
        mark = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "not run": "[yellow]not run[/]"}
        console.print(f"{mark[status]:>20}  {grade_id}" + (f"  {message}" if message else ""))
    passed = sum(status == "pass" for _, status, _ in rows)
    console.print(f"{passed}/{len(rows)} visible tests pass (hidden tests run when it is graded)")
    return 0 if passed == len(rows) else 1


def cmd_demo(course, args) -> int:
    from grader.sample_class import build

    pipeline.clean(course)
    console.rule("release: student notebooks and torch references")
    pipeline.release(course, log=console.print)
    _print_enforced(course)
    submissions = build(course.workdir / "submissions")
    console.rule(f"autograde the sample class in {submissions}")
    _autograde(course, submissions, args.workers, None, False)
    console.rule("feedback, grades.csv, report")
    cmd_feedback(course, args)
    args.to = None
    cmd_export(course, args)
    cmd_report(course, args)
    console.print("The flagged notebooks above are the sample class's planted faults.")
    return 0


COMMANDS = {
    "release": cmd_release,
    "autograde": cmd_autograde,
    "feedback": cmd_feedback,
    "export": cmd_export,
    "report": cmd_report,
    "check": cmd_check,
    "demo": cmd_demo,
}

if __name__ == "__main__":
    sys.exit(main())

"""The instructor's view of a class: a summary table (rich), two plots (matplotlib) and the
numbers behind them (``class_report``), all computed from the autograded NotebookResults.

A student without a result for an assignment counts as 0 points there (the pipeline records a
missing notebook as a 0 anyway); rates are over every student of the class.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from grader.deadlines import Deadlines, Lateness
from grader.results import NotebookResult

HISTOGRAM_BINS = 10
ATTENTION = "⚑"  # marks a notebook the instructor should look at


def class_report(results: Iterable[NotebookResult]) -> dict:
    """The numbers behind the summary and the plots."""
    results = list(results)
    students = sorted({r.student for r in results})
    max_points = _max_points(results)
    max_total = round(sum(max_points.values()), 6)
    totals = {s: round(sum(r.points for r in results if r.student == s), 6) for s in students}
    counts, edges = np.histogram(
        list(totals.values()), bins=HISTOGRAM_BINS, range=(0.0, max_total or 1.0)
    )
    return {
        "students": students,
        "assignments": sorted(max_points),
        "max_points": max_points,
        "max_total": max_total,
        "totals": totals,
        "mean_total": round(statistics.fmean(totals.values()), 6) if totals else 0.0,
        "median_total": statistics.median(totals.values()) if totals else 0.0,
        "histogram": {"bin_edges": edges.tolist(), "counts": counts.tolist()},
        "assignment_means": {a: _mean_points(results, a, len(students)) for a in max_points},
        "pass_rates": _pass_rates(results, len(students)),
        "needs_attention": [
            {
                "student": r.student,
                "assignment": r.assignment,
                "notebook": r.notebook,
                "problems": list(r.problems),
            }
            for r in sorted(results, key=_order)
            if r.needs_attention
        ],
    }


# --------------------------------------------------------------------------- table


def summary_table(results: Iterable[NotebookResult], deadlines: Deadlines | None = None) -> Table:
    """Students x assignments (points, flagged when a notebook needs attention), then the
    total and which assignments need attention. With ``deadlines``, points are after the
    late penalty, and a cell says how late (+2d3h) and what it cost (−1.3), or "?" when the
    hand-in time is unknown."""
    results = list(results)
    max_points = _max_points(results)
    late = _lateness_by_result(results, deadlines)
    caption = f"{ATTENTION}: needs attention"
    if any(lateness.short() for lateness in late.values()):
        caption += f"; {LATENESS_LEGEND}"
    table = Table(title="Autograded results", caption=caption)
    table.add_column("student")
    for assignment, maximum in sorted(max_points.items()):
        table.add_column(f"{assignment}\n/ {_number(maximum)}", justify="right")
    table.add_column(f"total\n/ {_number(sum(max_points.values()))}", justify="right")
    table.add_column("needs attention")
    assignments = sorted(max_points)
    for student, by_assignment in sorted(_by_student_and_assignment(results).items()):
        flagged = [a for a in assignments if any(r.needs_attention for r in by_assignment[a])]
        table.add_row(
            escape(student),
            *(_cell(by_assignment[a], late) for a in assignments),
            _number(sum(_after_penalty(r, late) for rs in by_assignment.values() for r in rs)),
            Text(", ".join(flagged), style="bold red"),
        )
    return table


def print_summary(
    results: Iterable[NotebookResult],
    console: Console | None = None,
    deadlines: Deadlines | None = None,
) -> None:
    """The summary table, then each flagged notebook with its problems, then (with
    ``deadlines``) each late notebook and how many hand-in times are unknown."""
    results = list(results)
    console = console or Console()
    console.print(summary_table(results, deadlines))
    for item in class_report(results)["needs_attention"]:
        where = f"{item['student']}/{item['assignment']}/{item['notebook']}"
        problems = "; ".join(item["problems"]) or "flagged"
        # Text, not markup: problems quote file names and answers, "[...]" included.
        console.print(Text.assemble(f"{ATTENTION} ", (where, "bold"), f": {problems}"))
    for line in lateness_lines(results, deadlines):
        console.print(line)


LATE = "⏱"  # marks a late notebook in the lines under the table
LATENESS_LEGEND = "+2d3h −1.5: 2 days 3 h late, 1.5 points off; ?: hand-in time unknown"


def lateness_lines(results: list[NotebookResult], deadlines: Deadlines | None) -> list[Text]:
    """One line per late notebook (when handed in, due, how late, the penalty), and one
    saying for how many notebooks with a due date the hand-in time is unknown."""
    late = _lateness_by_result(results, deadlines)
    lines = []
    unknown = 0
    for result in sorted(results, key=_order):
        lateness = late.get(id(result))
        if lateness is None or lateness.due is None:
            continue
        if lateness.handed_in is None and lateness.marked_late is None:
            unknown += 1
        marked_only = lateness.marked_late and lateness.handed_in is None
        if lateness.late or marked_only or lateness.saved_by_extension:
            where = f"{result.student}/{result.assignment}/{result.notebook}"
            details = "; ".join(f"{k.lower()}: {v}" for k, v in lateness.lines())
            lines.append(Text.assemble(f"{LATE} ", (where, "bold"), f": {details}"))
    if unknown:
        lines.append(
            Text(
                f"hand-in time unknown for {unknown} notebook(s) with a due date "
                "(counted as on time)",
                style="dim",
            )
        )
    return lines


def _lateness_by_result(
    results: list[NotebookResult], deadlines: Deadlines | None
) -> dict[int, Lateness]:
    if deadlines is None:
        return {}
    late = {id(r): deadlines.of_result(r) for r in results}
    return {key: lateness for key, lateness in late.items() if lateness is not None}


def _after_penalty(result: NotebookResult, late: dict[int, Lateness]) -> float:
    lateness = late.get(id(result))
    return max(0.0, result.points - lateness.penalty) if lateness else result.points


def _cell(results: list[NotebookResult], late: dict[int, Lateness] | None = None) -> Text:
    if not results:
        return Text("–", style="dim")
    late = late or {}
    points = _number(sum(_after_penalty(r, late) for r in results))
    marks = " ".join(m for m in (late[id(r)].short() for r in results if id(r) in late) if m)
    text = f"{points} {marks}" if marks else points
    if any(r.needs_attention for r in results):
        return Text(f"{text} {ATTENTION}", style="bold red")
    return Text(text, style="yellow" if marks else "")


# --------------------------------------------------------------------------- plots


def write_plots(results: Iterable[NotebookResult], out_dir: Path | str) -> dict[str, Path]:
    """grades_histogram.png and exercise_pass_rates.png in ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = class_report(results)
    paths = {
        "grades_histogram": out_dir / "grades_histogram.png",
        "exercise_pass_rates": out_dir / "exercise_pass_rates.png",
    }
    _histogram_figure(report).savefig(paths["grades_histogram"], dpi=120)
    _pass_rates_figure(report).savefig(paths["exercise_pass_rates"], dpi=120)
    return paths


def _histogram_figure(report: dict) -> Figure:
    # Figure, not pyplot: no global state, no GUI backend; Figure.savefig renders with Agg.
    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.add_subplot()
    edges, counts = report["histogram"]["bin_edges"], report["histogram"]["counts"]
    axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge", edgecolor="white")
    axes.set_xlim(edges[0], edges[-1])
    axes.set_ylim(0, max(counts, default=0) + 1)
    mean = report["mean_total"]
    axes.axvline(mean, color="black", linestyle="--", label=f"mean {_number(mean)}")
    axes.legend(loc="upper left")
    axes.set_xlabel(f"total points (out of {_number(report['max_total'])})")
    axes.set_ylabel("students")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title(f"Total grades ({len(report['students'])} students)")
    return figure


def _pass_rates_figure(report: dict) -> Figure:
    """Horizontal bars, one per exercise, grouped (and coloured) by assignment, top down."""
    rows, positions, colours, y = [], [], [], 0.0
    palette = [f"C{i}" for i in range(10)]
    for index, (assignment, rates) in enumerate(report["pass_rates"].items()):
        for grade_id, rate in rates.items():
            rows.append((assignment, grade_id, rate))
            positions.append(y)
            colours.append(palette[index % len(palette)])
            y -= 1.0
        y -= 0.6  # a gap between assignments
    figure = Figure(figsize=(7, 1.2 + 0.28 * max(len(rows), 1)), layout="constrained")
    axes = figure.add_subplot()
    axes.barh(positions, [rate for *_, rate in rows], color=colours, height=0.8)
    axes.set_yticks(positions, [grade_id for _, grade_id, _ in rows], fontsize=8)
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter("{x:.0%}")
    axes.set_xlabel("students with full points")
    axes.set_title("Exercise pass rates")
    legend = [
        Patch(color=palette[index % len(palette)], label=assignment)
        for index, assignment in enumerate(report["pass_rates"])
    ]
    axes.legend(handles=legend, loc="lower right", fontsize=8)
    return figure


# --------------------------------------------------------------------------- numbers


def _order(result: NotebookResult) -> tuple:
    return (result.student, result.assignment, result.notebook)


def _max_points(results: list[NotebookResult]) -> dict[str, float]:
    """Per assignment, the sum of its notebooks' maximum points."""
    per_notebook: dict[tuple[str, str], float] = {}
    for r in results:
        key = (r.assignment, r.notebook)
        per_notebook[key] = max(per_notebook.get(key, 0.0), r.max_points)
    maximum: dict[str, float] = defaultdict(float)
    for (assignment, _), points in per_notebook.items():
        maximum[assignment] = round(maximum[assignment] + points, 6)
    return dict(maximum)


def _by_student_and_assignment(results: list[NotebookResult]) -> dict:
    cells: dict[str, dict[str, list[NotebookResult]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        cells[r.student][r.assignment].append(r)
    return cells


def _mean_points(results: list[NotebookResult], assignment: str, n_students: int) -> float:
    total = sum(r.points for r in results if r.assignment == assignment)
    return round(total / n_students, 6) if n_students else 0.0


def _pass_rates(results: list[NotebookResult], n_students: int) -> dict[str, dict[str, float]]:
    """assignment -> exercise (in notebook order) -> fraction of the class with full points.
    Exercises are named by grade_id, prefixed by the notebook when an assignment has several."""
    notebooks = defaultdict(set)
    for r in results:
        notebooks[r.assignment].add(r.notebook)
    full: dict[str, dict[str, int]] = defaultdict(dict)
    for r in sorted(results, key=_order):
        for ex in r.exercises:
            name = (
                ex.grade_id if len(notebooks[r.assignment]) == 1 else f"{r.notebook}/{ex.grade_id}"
            )
            passed = ex.points >= ex.max_points - 1e-6  # points are rounded to 1e-6
            full[r.assignment][name] = full[r.assignment].get(name, 0) + int(passed)
    return {
        a: {name: round(count / n_students, 6) for name, count in full[a].items()}
        for a in sorted(full)
    }


def _number(x: float) -> str:
    return f"{x:.2f}".rstrip("0").rstrip(".")

"""Feedback: one self-contained HTML page per student and notebook.

The page starts with the grades (points per exercise, what went wrong, notebook-level problems
such as a renamed notebook or restored test cells) and then shows the student's executed
notebook. Unlike ``nbgrader generate_feedback``, which shows the hidden tests
(jupyter/nbgrader#917), every test cell shows only its released part: nbgrader's own
ClearHiddenTests strips the hidden region, and outputs that could reveal it are dropped.
"""

from __future__ import annotations

import copy
import html
import os
import re
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

from grader.answers import MIME_TYPE
from grader.results import ExerciseResult, NotebookResult

_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style>{{ resources.feedback_css }}</style>{% endblock extra_css %}
{%- block body_header -%}{{ super() }}{{ resources.feedback_header }}{%- endblock body_header -%}
"""

_CSS = """
.feedback { font-family: system-ui, sans-serif; max-width: 60em; margin: 1.5em auto 2em; }
.feedback table { border-collapse: collapse; width: 100%; margin: 1em 0; }
.feedback th, .feedback td { border: 1px solid #ccc; padding: .35em .6em; text-align: left;
  vertical-align: top; }
.feedback th { background: #f3f3f3; }
.feedback td.points { white-space: nowrap; text-align: right; }
.feedback tr.full td.points { color: #17692b; }
.feedback tr.partial td.points { color: #9a5b00; }
.feedback tr.zero td.points { color: #b00020; }
.feedback .problems { border-left: .3em solid #b00020; background: #fdf0f1; padding: .5em 1em; }
.feedback .grade-id, .feedback .message { font-family: monospace; font-size: .9em; }
.feedback ul { margin: 0; padding-left: 1.2em; }
.feedback h2 { border-bottom: 1px solid #ccc; margin-top: 1.5em; }
"""

# Also on cells that are not grade cells (enforce_metadata=False): whatever the cell, hidden.
_CLEAR_HIDDEN_TESTS = ClearHiddenTests(enforce_metadata=False)
_POINTS_IN_TITLE = re.compile(r"\s*\(\s*[\d.]+\s*points?\s*\)", re.I)  # the table has them


def write_feedback(result: NotebookResult, source_nb, out_path: Path | str) -> Path:
    """Write the feedback page of ``result`` to ``out_path`` (written whole, then renamed)."""
    out_path = Path(out_path)
    executed = _read_executed(result)
    header = _header(result, _exercise_titles(source_nb), notebook_shown=executed is not None)
    page = _render(released_view(executed or nbformat.v4.new_notebook()), header, result)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(out_path.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    os.replace(partial, out_path)
    return out_path


# --------------------------------------------------------------------------- the notebook


def _read_executed(result: NotebookResult):
    if not result.executed_path or not Path(result.executed_path).is_file():
        return None
    return nbformat.read(result.executed_path, as_version=4)


def released_view(executed):
    """A copy of ``executed`` that shows only what was released: no hidden test code, no
    answer records, and in test cells no output that the hidden part could have produced."""
    nb = copy.deepcopy(executed)
    for cell in nb.cells:
        _strip_hidden_tests(cell)
        if cell.cell_type != "code":
            continue
        if utils.is_grade(cell) and not utils.is_solution(cell):  # a test cell
            cell.outputs = _released_test_outputs(cell.outputs)
        else:
            cell.outputs = [o for o in cell.outputs if MIME_TYPE not in o.get("data", {})]
    return nb


def _strip_hidden_tests(cell) -> None:
    """What nbgrader's release does to a cell. A student's cell may hold a stray or unclosed
    delimiter, which ClearHiddenTests refuses: then everything from the first one is cut."""
    try:
        _CLEAR_HIDDEN_TESTS.preprocess_cell(cell, {}, 0)
    except RuntimeError:
        lines = cell.source.split("\n")
        begin = _CLEAR_HIDDEN_TESTS.begin_test_delimeter
        first = next(i for i, line in enumerate(lines) if begin in line)
        cell.source = "\n".join(lines[:first])


def _released_test_outputs(outputs) -> list:
    """A test cell keeps only its error, as one line. Its other outputs may come from the
    hidden part (prints of hidden inputs, answer records), and an IPython traceback quotes
    the lines around the failing one, hidden ones included."""
    kept = []
    for output in outputs:
        if output.get("output_type") == "error":
            line = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
            kept.append(
                nbformat.v4.new_output(
                    "error",
                    ename=output.get("ename", ""),
                    evalue=output.get("evalue", ""),
                    traceback=[line],
                )
            )
    return kept


def _render(nb, header: str, result: NotebookResult) -> str:
    exporter = HTMLExporter(
        template_name="lab",
        theme="light",
        extra_loaders=[DictLoader({"feedback.html.j2": _TEMPLATE})],
        template_file="feedback.html.j2",
    )
    title = f"Feedback: {result.assignment}/{result.notebook} ({result.student})"
    resources = {
        "metadata": {"name": title},
        "feedback_header": header,
        "feedback_css": _CSS,
    }
    page, _ = exporter.from_notebook_node(nb, resources=resources)
    return page


# --------------------------------------------------------------------------- the header


def _exercise_titles(source_nb) -> dict[str, str]:
    """grade_id of each test cell -> the heading of its exercise ("Exercise 2: ...")."""
    titles, heading = {}, None
    for cell in source_nb.cells:
        if cell.cell_type == "markdown":
            lines = [ln for ln in cell.source.splitlines() if ln.startswith("#")]
            heading = lines[-1].lstrip("#").strip() if lines else heading
        elif utils.is_grade(cell) and heading:
            titles[cell.metadata.nbgrader["grade_id"]] = _POINTS_IN_TITLE.sub("", heading)
    return titles


def _header(result: NotebookResult, titles: dict[str, str], *, notebook_shown: bool) -> str:
    e = html.escape
    parts = [
        '<section class="feedback">',
        f"<h1>Feedback: {e(result.assignment)} / {e(result.notebook)}</h1>",
        f"<p>Student: <b>{e(result.student)}</b>. Score: "
        f"<b>{_number(result.points)} / {_number(result.max_points)}</b> points.</p>",
        _problems_html(result, notebook_shown),
        '<h2 id="exercises">Exercises</h2>',
        _exercise_table(result.exercises, titles),
    ]
    if notebook_shown:
        parts.append(
            '<h2 id="notebook">Your notebook, as graded</h2>'
            "<p>Test cells show only their visible tests; a failing test shows its message.</p>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _problems_html(result: NotebookResult, notebook_shown: bool) -> str:
    problems = list(result.problems)
    if result.submitted_as and not any(result.submitted_as in p for p in problems):
        problems.append(f"submitted as {result.submitted_as}")
    if not notebook_shown:
        problems.append(
            "your notebook could not be run, so it is not shown below"
            if problems
            else "no executed notebook is available for this submission"
        )
    if not problems:
        return "<p>No problems with the notebook itself.</p>"
    items = "".join(f"<li>{html.escape(p)}</li>" for p in problems)
    return (
        '<div class="problems" id="notebook-problems"><b>Problems with this notebook</b>'
        f"<ul>{items}</ul></div>"
    )


def _exercise_table(exercises: list[ExerciseResult], titles: dict[str, str]) -> str:
    if not exercises:
        return "<p>No exercises were graded.</p>"
    rows = "".join(_exercise_row(ex, titles.get(ex.grade_id)) for ex in exercises)
    return (
        "<table><thead><tr><th>Exercise</th><th>Points</th><th>What went wrong</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )


def _exercise_row(ex: ExerciseResult, title: str | None) -> str:
    e = html.escape
    status = "full" if ex.points >= ex.max_points else ("zero" if ex.points <= 0 else "partial")
    name = (f"{e(title)}<br>" if title else "") + f'<span class="grade-id">{e(ex.grade_id)}</span>'
    notes = [f"<li>{e(p)}</li>" for p in ex.problems]
    if ex.message and not any(ex.message in p for p in ex.problems):
        notes.insert(0, f'<li>visible test: <span class="message">{e(ex.message)}</span></li>')
    details = f"<ul>{''.join(notes)}</ul>" if notes else ""
    return (
        f'<tr class="{status}"><td>{name}</td>'
        f'<td class="points">{_number(ex.points)} / {_number(ex.max_points)}</td>'
        f"<td>{details}</td></tr>"
    )


def _number(x: float) -> str:
    """2, 1.5, 0.33 rather than 2.0, 1.5, 0.3333333."""
    return f"{x:.2f}".rstrip("0").rstrip(".")

"""What a student sees of their notebook on the feedback page (grader/feedback.py): maths
rendered as MathML, the figures and graphs of the graded run, exercise titles from exercise
headings only. The page's safety is tests/test_feedback_safety.py's; here, what it shows.

Real components: latex2mathml and nh3 as installed, markdown as nbconvert renders it, and a
small course notebook graded in sandboxed kernels (tests/feedback_pages.py). The page in
Chromium: tests/browser/test_feedback_page.py.
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from feedback_pages import GRADE_ID, MATHML_ELEMENTS, TITLE, graded_page
from hypothesis import given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from sandbox_marks import needs_sandbox

from grader import pipeline
from grader.feedback import (
    _exercise_titles,
    latex_to_mathml,
    markdown_to_html,
    sanitize_html,
    sanitize_mathml,
)

# --------------------------------------------------------------------------- LaTeX to MathML


class Elements(HTMLParser):
    """Every start tag of a fragment with its attributes, and its text."""

    def __init__(self, fragment: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text = ""
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data


@pytest.mark.parametrize(
    ("tex", "shows"),
    [
        ("x", ["<mi>x</mi>"]),
        (r"\frac{\partial L}{\partial w}", ["<mfrac>", "\N{PARTIAL DIFFERENTIAL}"]),
        (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", ["<mtable>", "<mtr>", "<mtd>"]),
        (r"\mathbf{x}^\top \mathbf{y}", ["<msup>", "\N{DOWN TACK}", "\U0001d431"]),
        (r"\sum_{i=1}^{n} x_i^2", ["<msubsup>", "\N{N-ARY SUMMATION}"]),
    ],
)
def test_the_course_s_latex_becomes_mathml(tex, shows):
    mathml = latex_to_mathml(tex)
    assert mathml.startswith('<math display="inline">') and mathml.endswith("</math>")
    for piece in shows:
        assert piece in mathml
    assert latex_to_mathml(tex, display=True).startswith('<math display="block">')


@pytest.mark.parametrize(
    "tex",
    [r"\frac{1}{", r"\begin{pmatrix} a", r"x^", "", "   ", "x" * 5000],
)
def test_latex_that_does_not_convert_shows_as_its_escaped_source(tex):
    shown = latex_to_mathml(tex)
    assert shown.startswith('<span class="math-source">$') and shown.endswith("$</span>")
    assert Elements(shown).text == f"${tex}$"
    assert latex_to_mathml(tex, display=True).endswith("$$</span>")


@pytest.mark.parametrize(
    "tex",
    [
        r"\text{<script>alert(1)</script>}",
        r"\text{<img src=x onerror=alert(1)>}",
        r"\href{javascript:alert(1)}{x}",
        r"\color{red;background:url(http://127.0.0.1:9/)}{x}",
        r"\mathrm{</math><script>alert(1)</script>}",
        r"a < b & c > d",
    ],
)
def test_hostile_latex_gives_plain_mathml(tex):
    shown = latex_to_mathml(tex)
    elements = Elements(shown)
    assert "<script" not in shown.lower() and "alert(1)</" not in shown
    for tag, attrs in elements.tags:
        assert tag in MATHML_ELEMENTS or (tag == "span" and attrs == {"class": "math-source"}), tag
        for name, value in attrs.items():
            assert not name.startswith("on") and name not in ("href", "src", "style", "xmlns")
            assert "(" not in value and ":" not in value, (name, value)


TEX_PIECES = st.sampled_from(
    [
        r"\frac", r"\partial", r"\begin{pmatrix}", r"\end{pmatrix}", r"\mathbf", r"\top",
        r"\sum", r"\text{", r"\href{", r"\color{", r"\left(", r"\right)", r"\sqrt", "{", "}",
        "^", "_", "&", r"\\", "<script>", "</math>", "<img src=x onerror=alert(1)>", "$", "%",
        "#", "~", r"\operatorname{", r"\mathrm{", r"\overbrace{", r"\style{", "javascript:",
    ]
)  # fmt: skip
TEX = st.lists(TEX_PIECES | st.text(max_size=5), max_size=14).map("".join) | st.text()


@settings(max_examples=400, deadline=None)
@given(tex=TEX, display=st.booleans())
def test_latex_conversion_never_raises_and_gives_clean_markup(tex, display):
    shown = latex_to_mathml(tex, display=display)
    assert sanitize_mathml(shown) == shown  # the sanitiser changes nothing more
    assert "<script" not in shown.lower()
    for tag, attrs in Elements(shown).tags:
        assert tag in MATHML_ELEMENTS or (tag == "span" and attrs == {"class": "math-source"}), tag
        assert not any(name.startswith("on") for name in attrs)
        assert not {"href", "src", "style", "xlink:href"} & set(attrs)


# --------------------------------------------------------------------------- markdown


def test_markdown_maths_in_text_is_mathml_and_elsewhere_stays_text():
    page = markdown_to_html(
        "Inline $x^2$, display\n\n$$\\frac{a}{b}$$\n\n"
        "`$code$` and\n\n```\n$fenced$\n```\n\n![alt $y$](http://127.0.0.1:9/y.png)"
    )
    assert '<math display="inline"><mrow><msup><mi>x</mi>' in page
    assert '<math display="block"><mrow><mfrac>' in page
    assert "<code>$code$</code>" in page and "$fenced$" in page
    assert 'alt="alt y"' in page  # in an attribute, a formula is its source, escaped
    assert "feedbackmath" not in page and "127.0.0.1" not in page


# Attributes a browser follows or loads as a URL (HTML's, SVG's and MathML's).
URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "xlink:href", "poster", "data"}

MARKDOWN_PIECES = st.sampled_from(
    ["$", "$$", "\n\n", "# ", "![", "](", ")", "[", "`", "```\n", "<a href='", "'>", "|", "\\"]
)
MARKDOWN_WITH_MATHS = st.lists(MARKDOWN_PIECES | TEX_PIECES | st.text(max_size=4), max_size=20)


@settings(max_examples=200, deadline=None)
@given(pieces=MARKDOWN_WITH_MATHS)
def test_markdown_with_maths_renders_inert(pieces):
    rendered = markdown_to_html("".join(pieces))
    assert "<script" not in rendered.lower() and "feedbackmath" not in rendered
    for tag, attrs in Elements(rendered).tags:
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
        for name, value in attrs.items():
            if name in URL_ATTRIBUTES:  # (a heading's id may well read "javascript:")
                assert not re.match(r"\s*(javascript|vbscript|data:text)", value, re.I), (tag, name)
        if tag in MATHML_ELEMENTS:
            assert not {"href", "src", "style"} & set(attrs), (tag, attrs)


def test_a_placeholder_cannot_be_forged():
    """The renderer's placeholders carry a random key per page: text that looks like one
    (say, copied from another page's source) stays text."""
    forged = "feedbackmath0123456789abcdefn0e"
    page = markdown_to_html(f"$x$ and {forged}")
    assert "<math" in page and forged in page


def test_student_html_still_cannot_hold_mathml():
    clean = sanitize_html("<p><math><mi>x</mi></math></p>")
    assert "<math" not in clean and "<mi" not in clean


# --------------------------------------------------------------------------- exercise titles


def notebook_with(*cells):
    return new_notebook(cells=list(cells))


def grade_cell(grade_id: str):
    return new_code_cell(
        "pass",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": grade_id}},
    )


def test_titles_come_from_exercise_headings_without_their_points():
    source = notebook_with(
        new_markdown_cell(
            "### Exercise 4: predict `.grad` (2 points, 1 per prediction)\n\n"
            "```python\n# (a) what is x.grad now?\nx.backward()\n# (b) what is x.grad now?\n```"
        ),
        grade_cell("fenced"),
        new_markdown_cell("### Exercise 1 (3 points): predict the dtype"),
        grade_cell("middle"),
        new_markdown_cell("### Exercise 3: all four partials (4 points, 1 per entry)"),
        new_markdown_cell("#### A hint\n\nsome text"),  # deeper: still exercise 3
        grade_cell("subsection"),
        new_markdown_cell("### Exercise 8: the $n$-th derivative (1 point)\n\n    # indented"),
        grade_cell("maths"),
        new_markdown_cell("Exercise 9 (0.5 pts)\n----------\n\ntext"),
        grade_cell("setext"),
        new_markdown_cell("## 5. A new section"),
        grade_cell("outside"),
    )
    titles = _exercise_titles(source)
    assert titles["fenced"] == "Exercise 4: predict <code>.grad</code>"
    assert titles["middle"] == "Exercise 1: predict the dtype"
    assert titles["subsection"] == "Exercise 3: all four partials"
    assert titles["maths"] == (
        'Exercise 8: the <math display="inline"><mrow><mi>n</mi></mrow></math>-th derivative'
    )
    assert titles["setext"] == "Exercise 9"
    assert "outside" not in titles  # a section after the exercise ended it


def test_every_course_notebook_titles_each_exercise():
    """On the course's own solutions: every test cell has a title, from an exercise heading,
    without points and without a line of code."""
    for assignment in pipeline.releasing.assignments():
        source = pipeline.read(pipeline.Course().source_path(assignment))
        test_ids = [
            c.metadata.nbgrader["grade_id"]
            for c in source.cells
            if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata.nbgrader.get("solution")
        ]
        titles = _exercise_titles(source)
        assert set(titles) == set(test_ids), assignment
        for grade_id, title in titles.items():
            assert title.startswith("Exercise "), (assignment, grade_id, title)
            assert not re.search(r"\bpoints?\b|\bpts\b|#", title), (assignment, title)


# --------------------------------------------------------------------------- figures


def test_the_pipeline_grades_with_figures(monkeypatch):
    """The pipeline asks for figures (for the feedback pages), and a change of that setting
    changes the fingerprint, so notebooks graded without figures are graded again."""
    seen = []
    monkeypatch.setattr(
        pipeline, "grade", lambda *args, **options: seen.append(options) or SimpleNamespace(
            infrastructure=None
        )
    )  # fmt: skip
    job = SimpleNamespace(references={}, release_dir=None, limits=None, figures=True)
    pipeline._grade_with_retries(None, None, job)
    assert pipeline.Course().figures is True and seen[0]["figures"] is True


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    return graded_page(tmp_path_factory.mktemp("graded") / "course").read_text()


def pictures(page: str) -> dict[str, list[bytes]]:
    """The decoded data of each <img> of the notebook part of the page, by MIME type."""
    notebook = page[page.index('id="notebook"') :]
    found: dict[str, list[bytes]] = {}
    for tag, attrs in Elements(notebook).tags:
        src = attrs.get("src") or ""
        match = re.fullmatch(r"data:(image/[a-z+]+);base64,(.*)", src, re.S)
        if tag == "img" and match:
            found.setdefault(match[1], []).append(base64.b64decode(match[2]))
    return found


@pytest.mark.slow
@needs_sandbox
def test_the_graded_page_shows_figures_graphs_and_maths(graded):
    images = pictures(graded)
    (plot,) = images["image/png"]  # the matplotlib figure, drawn by the graded run
    assert plot.startswith(b"\x89PNG")
    (graph,) = images["image/svg+xml"]  # make_dot's picture, drawn by Graphviz's dot
    assert b"<svg" in graph and b"MulBackward0" in graph
    assert "not drawn when grading" not in graded
    # Graphviz in the sandbox finds its fonts (no "Fontconfig error" under the picture).
    assert "Fontconfig" not in graded
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in graded
    assert graded.count("<math") >= 7
    assert '<span class="math-source">$\\frac{1}{$</span>' in graded


@pytest.mark.slow
@needs_sandbox
def test_the_graded_page_s_table_shows_the_exercise_title(graded):
    row = re.search(r'<tr class="full"><td>(.*?)<br/?><span class="grade-id">', graded)
    assert row and row[1].startswith(TITLE) and "<math" in row[1], row
    assert "points" not in row[1] and "(a)" not in row[1]
    assert f'<span class="grade-id">{GRADE_ID}</span>' in graded
    assert '<td class="points">2 / 2</td>' in graded


@pytest.mark.slow
@needs_sandbox
def test_without_figures_the_run_draws_nothing(tmp_path):
    """grade()'s own default is unchanged: a text-only run (the figure leaves a line)."""
    page = graded_page(tmp_path / "course", figures=False).read_text()
    assert pictures(page) == {}
    assert "not drawn when grading" in page

"""Feedback: one self-contained HTML page per student and notebook.

The page starts with the grades (points per exercise, what went wrong, notebook-level problems
such as a renamed notebook or restored test cells) and then shows the student's executed
notebook. Unlike ``nbgrader generate_feedback``, which shows the hidden tests
(jupyter/nbgrader#917), every test cell shows only its released part: nbgrader's own
ClearHiddenTests strips the hidden region, and outputs that could reveal it are dropped.

**The page runs nothing of the student's.** Whatever the student's code displayed and whatever
they wrote in markdown ends up in the page, and whoever opens it (the student, a TA) must not
run it. Three layers (the last two each stop scripts on their own):

* ``safe_view`` rebuilds the notebook from scratch with only what the page shows: code,
  markdown and raw cells without their metadata, stream/error/display outputs of known MIME
  types (no ``application/javascript``, no widget views, no mermaid), PNG/JPEG data that is
  base64 and nothing else, picture attachments only, image sizes that are numbers.
* Every piece of student HTML goes through nh3 (the Rust sanitiser ammonia, on the HTML5
  parser html5ever) on its way into the page: with ``sanitize_html`` on, nbconvert's templates
  pass HTML and Markdown outputs, rendered markdown cells, raw cells and highlighted code
  through their ``clean_html`` filter, which is ours (``sanitize_html``) instead of
  nbconvert's (bleach, which also escapes the ``<p>`` and ``<img>`` of ordinary markdown).
  SVG outputs become ``<img src="data:image/svg+xml;base64,...">``: pictures, whose scripts
  browsers never run.
* A Content-Security-Policy, the first element of ``<head>``, allows no script and no
  network request at all; only inline styles and ``data:`` images and fonts.

**Maths** (``$x$``, ``$$...$$``, ``\\begin{align}...``) in markdown is converted here, on the
grader's side, to MathML (``latex_to_mathml``, with the pure-Python latex2mathml), which
browsers render natively: no MathJax or KaTeX script, so the policy stays "no script at all".
Student HTML still may not hold MathML (``sanitize_html`` strips it): only formulas that our
converter wrote reach the page, each cleaned by a MathML-only sanitiser (``sanitize_mathml``:
presentation elements, layout attributes with plain values, no links) and put in place of a
placeholder that only this page's renderer knows (``_Maths``). A formula that does not
convert shows as its source text, escaped. ``text/latex`` outputs still show their source.

**Figures**: the pipeline grades with ``figures=True`` (grader/pipeline.py), so the executed
notebook shown here has the matplotlib PNGs and Graphviz SVGs of the graded run itself, and
they are the grader's, not pictures the student pasted in (a cell the run never reached
shows no output: the submission's own outputs are never shown). The page has no require.js,
mermaid or widget manager.
"""

from __future__ import annotations

import copy
import html
import os
import re
import secrets
from pathlib import Path

import nbformat
import nh3
from jinja2 import DictLoader, pass_context
from latex2mathml.converter import convert as _latex2mathml
from markdown_it import MarkdownIt
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

from grader.answers import MIME_TYPE
from grader.deadlines import Lateness
from grader.results import ExerciseResult, NotebookResult

# The CSP comes first in <head>: a browser applies a <meta> policy from that element on.
# The template's script tags go (MathJax, require.js, mermaid, widgets), and the blocks that
# would put a student's JavaScript, widget or mermaid output in the page render nothing.
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head -%}
<meta http-equiv="Content-Security-Policy" content="{{ resources.content_security_policy }}">
{{ super() }}
{%- endblock html_head -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_javascript -%}{%- endblock data_javascript -%}
{%- block data_widget_view -%}{%- endblock data_widget_view -%}
{%- block data_mermaid -%}{%- endblock data_mermaid -%}
{% block extra_css %}<style>{{ resources.feedback_css }}</style>{% endblock extra_css %}
{%- block body_header -%}{{ super() }}{{ resources.feedback_header }}{%- endblock body_header -%}
"""

# No script, no request (fetch, images, fonts, frames, forms, <base>): the page is one file.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; connect-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
)

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
.feedback table.lateness { width: auto; }
.feedback table.lateness.late th { background: #fdf0f1; }
math { font-size: 1.1em; }
math[display="block"] { margin: .6em 0; }
.math-source { font-family: monospace; background: #f6f6f6; }
img:not([src]) { display: none; } /* a remote picture (a badge): its src was taken, not shown broken */
"""

# Also on cells that are not grade cells (enforce_metadata=False): whatever the cell, hidden.
_CLEAR_HIDDEN_TESTS = ClearHiddenTests(enforce_metadata=False)
# "(3 points)", "(1 point)", "(4 points, 1 per entry)", "(0.5 pts)": the table has them.
_POINTS_IN_TITLE = re.compile(r"\s*\(\s*[\d.,/½¼¾]+\s*(?:points?|pts?)\b[^()]*\)", re.I)


def write_feedback(
    result: NotebookResult,
    source_nb,
    out_path: Path | str,
    lateness: Lateness | None = None,
    *,
    name: str = "",
) -> Path:
    """Write the feedback page of ``result`` to ``out_path`` (written whole, then renamed).
    ``lateness`` (grader/deadlines.py) adds when it was handed in, when it was due and the
    late penalty; ``name`` is the student's as the roster has it."""
    out_path = Path(out_path)
    executed = _read_executed(result)
    header = _header(
        result,
        _exercise_titles(source_nb),
        notebook_shown=executed is not None,
        lateness=lateness,
        name=name,
    )
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
    exporter = _Exporter(
        template_name="lab",
        theme="light",
        extra_loaders=[DictLoader({"feedback.html.j2": _TEMPLATE})],
        template_file="feedback.html.j2",
        sanitize_html=True,  # the templates then pass every piece of HTML through clean_html
        skip_svg_encoding=False,  # SVG as <img src="data:...">: shown, never run
        embed_images=False,  # markdown images stay links: no file of the grader's is read
    )
    title = f"Feedback: {result.assignment}/{result.notebook} ({result.student})"
    resources = {
        "metadata": {"name": title},
        "feedback_header": header,
        "feedback_css": _CSS,
        "content_security_policy": CONTENT_SECURITY_POLICY,
    }
    page, _ = exporter.from_notebook_node(safe_view(nb), resources=resources)
    return page


class _Exporter(HTMLExporter):
    """nbconvert's HTML exporter, with this page's filters: ``markdown2html`` renders each
    formula as a placeholder (``_Maths``) and ``clean_html`` sanitises, then puts the
    formulas' MathML in place of their placeholders. One exporter per page."""

    def __init__(self, **kwargs):
        self.maths = _Maths()
        super().__init__(**kwargs)

    def default_filters(self):
        yield from super().default_filters()  # its markdown2html is the method below
        yield ("clean_html", self.maths.clean_html)

    @pass_context
    def markdown2html(self, context, source):
        """nbconvert's ``markdown2html`` (mistune, math-aware), maths as placeholders."""
        cell = context.get("cell", {})
        return self.maths.markdown(
            source, attachments=cell.get("attachments", {}), embed_images=self.embed_images
        )


# --------------------------------------------------------------------------- maths

# MathML Core's presentation elements, as latex2mathml writes them. Not mglyph (an image
# URL), maction (actions), semantics/annotation-xml (a way back into HTML), nor any link.
_MATHML_TAGS = {
    "math", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts",
    "none",
}  # fmt: skip
_MATHML_ATTRIBUTES = {
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "width",
    "height", "depth", "voffset", "mathsize", "displaystyle", "scriptlevel", "linethickness",
    "notation", "minsize", "maxsize", "rowspacing", "columnspacing", "columnalign", "rowalign",
    "rowlines", "columnlines", "frame", "framespacing", "accent", "accentunder",
    "movablelimits", "form", "largeop", "symmetric", "mathcolor", "mathbackground",
}  # fmt: skip
# Words, numbers, lengths and colours: nothing a browser could read as a URL or a script.
_MATHML_VALUE = re.compile(r"[A-Za-z0-9 .#%+-]{0,64}")
_TEX_LIMIT = 4000  # characters per formula: longer ones show as source (and cost no time)


def _keep_mathml_attribute(tag: str, name: str, value: str) -> str | None:
    if tag == "span":  # the source-text fallback
        return value if name == "class" and value == "math-source" else None
    return value if _MATHML_VALUE.fullmatch(value) else None


_MATH_CLEANER = nh3.Cleaner(
    tags=_MATHML_TAGS | {"span"},
    clean_content_tags={"script", "style"},
    attributes={**{tag: set(_MATHML_ATTRIBUTES) for tag in _MATHML_TAGS}, "span": {"class"}},
    attribute_filter=_keep_mathml_attribute,
    url_schemes=set(),
    strip_comments=True,
    link_rel=None,
)


def sanitize_mathml(fragment: str) -> str:
    """``fragment`` with only MathML presentation markup (and the fallback's span) left."""
    return _MATH_CLEANER.clean(str(fragment))


def latex_to_mathml(tex: str, display: bool = False) -> str:
    """The formula ``tex`` (without its ``$`` delimiters) as sanitised MathML, or, if it does
    not convert, as its source text (escaped, with its delimiters) in a
    ``<span class="math-source">``. Never raises; its output passes ``sanitize_mathml``
    unchanged and carries no script, event handler or URL."""
    tex = str(tex)
    try:
        if len(tex) > _TEX_LIMIT or not tex.strip():
            raise ValueError("too long or empty")
        mathml = sanitize_mathml(_latex2mathml(tex, display="block" if display else "inline"))
    except Exception:  # noqa: BLE001 - latex2mathml raises many kinds (recursion included)
        mathml = ""
    if not (mathml.startswith("<math") and mathml.endswith("</math>")):
        delimiter = "$$" if display else "$"
        source = html.escape(f"{delimiter}{tex}{delimiter}", quote=False)
        return sanitize_mathml(f'<span class="math-source">{source}</span>')
    return mathml


class _MathRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, each formula replaced by ``maths.placeholder``."""

    def __init__(self, maths: _Maths, **kwargs):
        super().__init__(**kwargs)
        self.maths = maths

    def inline_math(self, body: str) -> str:
        return self.maths.placeholder(body, display=False)

    def block_math(self, body: str) -> str:
        return self.maths.placeholder(body, display=True)

    def latex_environment(self, name: str, body: str) -> str:
        return self.maths.placeholder(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)


_ATTRIBUTE_TEX = re.compile(r"[^A-Za-z0-9 _^{}()\[\]+*/=,.|\\-]")
# A tag as nh3 writes it (attribute values in double quotes, which are escaped inside), or
# text between tags.
_TAG = re.compile(r"(<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>)")


class _Maths:
    """The formulas of one page. The markdown renderer writes a placeholder for each, made of
    letters and digits (so that the sanitiser keeps it, and URL-quoting for a heading's id
    leaves it) with a random key per page (so that no student text can forge one);
    ``clean_html`` sanitises a fragment, then puts each formula's MathML in place of its
    placeholder in text, and its escaped source in an attribute (an image's alt text)."""

    def __init__(self):
        self.key = secrets.token_hex(8)
        self.formulas: list[tuple[str, bool]] = []  # (TeX, display)
        self._pattern = re.compile(f"feedbackmath{self.key}n([0-9]+)e")

    def placeholder(self, tex: str, *, display: bool) -> str:
        self.formulas.append((tex, display))
        return f"feedbackmath{self.key}n{len(self.formulas) - 1}e"

    def markdown(self, source: str, **renderer_options) -> str:
        """``source`` rendered by nbconvert's math-aware markdown, formulas as placeholders."""
        renderer = _MathRenderer(self, escape=False, exclude_anchor_links=False, **renderer_options)
        return MarkdownWithMath(renderer=renderer).render(source)

    def clean_html(self, fragment) -> str:
        parts = _TAG.split(sanitize_html(fragment))
        for i, part in enumerate(parts):
            parts[i] = self._pattern.sub(self._source if i % 2 else self._mathml, part)
        return "".join(parts)

    def _formula(self, match: re.Match) -> tuple[str, bool] | None:
        number = int(match.group(1))
        return self.formulas[number] if number < len(self.formulas) else None

    def _mathml(self, match: re.Match) -> str:
        formula = self._formula(match)
        return latex_to_mathml(*formula) if formula else ""

    def _source(self, match: re.Match) -> str:
        """In an attribute (after sanitising): the formula's letters, digits and plain signs,
        no colon (no URL scheme), no quote."""
        formula = self._formula(match)
        return _ATTRIBUTE_TEX.sub("", formula[0]) if formula else ""


def markdown_to_html(source: str, *, inline: bool = False) -> str:
    """Markdown as the page shows it: sanitised, maths as MathML. ``inline``: without the
    paragraph around a single line (a title)."""
    maths = _Maths()
    rendered = maths.clean_html(maths.markdown(source, attachments={}, embed_images=False))
    if inline:
        rendered = rendered.strip()
        if rendered.startswith("<p>") and rendered.endswith("</p>") and rendered.count("<p>") == 1:
            rendered = rendered[3:-4]
    return rendered


# --------------------------------------------------------------------------- student content

_TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "image/svg+xml")
_BASE64_TYPES = ("image/png", "image/jpeg")
_PICTURE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
_CELL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # nbformat 4.5's schema
_LEXER_NAME = re.compile(r"[A-Za-z0-9_+-]{1,40}")
_EMPTY_PICTURE = {"image/png": ""}  # for an attachment that is no picture: a broken image


def safe_view(nb):
    """A new notebook with only what the feedback page shows of ``nb``, in forms its template
    renders inertly (see the module docstring). Unknown cells, outputs and MIME types, and all
    metadata but the language (for highlighting), are left out."""
    safe = nbformat.v4.new_notebook(metadata={"language_info": _language_info(nb.metadata)})
    safe.cells = [cell for cell in map(_safe_cell, nb.cells) if cell is not None]
    return safe


def _safe_cell(cell):
    kind, source = cell.get("cell_type"), _text(cell.get("source")) or ""
    keep_id = {"id": cell["id"]} if _matches(_CELL_ID, cell.get("id")) else {}
    if kind == "code":
        outputs = [out for out in map(_safe_output, cell.get("outputs") or []) if out]
        count = _count(cell.get("execution_count"))
        return nbformat.v4.new_code_cell(source, execution_count=count, outputs=outputs, **keep_id)
    if kind == "markdown":
        attachments = _safe_attachments(cell.get("attachments"))
        extra = {"attachments": attachments} if attachments else {}
        return nbformat.v4.new_markdown_cell(source, **keep_id, **extra)
    if kind == "raw":  # shown (sanitised) when its raw_mimetype is HTML's or none
        mimetype = cell.get("metadata", {}).get("raw_mimetype")
        metadata = {"raw_mimetype": mimetype} if isinstance(mimetype, str) else {}
        return nbformat.v4.new_raw_cell(source, metadata=metadata, **keep_id)
    return None


def _safe_output(output):
    kind = output.get("output_type")
    if kind == "stream" and output.get("name") in ("stdout", "stderr"):
        text = _text(output.get("text")) or ""
        return nbformat.v4.new_output(kind, name=output["name"], text=text)
    if kind == "error":
        lines = [_text(line) for line in output.get("traceback") or []]
        return nbformat.v4.new_output(
            kind,
            ename=_text(output.get("ename")) or "",
            evalue=_text(output.get("evalue")) or "",
            traceback=[line for line in lines if line is not None],
        )
    if kind in ("display_data", "execute_result"):
        data = _safe_data(output.get("data"))
        if not data:
            return None
        metadata = _image_metadata(output.get("metadata"), data)
        extra = {"execution_count": _count(output.get("execution_count"))}
        return nbformat.v4.new_output(
            kind, data=data, metadata=metadata, **(extra if kind == "execute_result" else {})
        )
    return None


def _safe_data(data) -> dict:
    """Texts (the HTML ones are sanitised when rendered) and base64 PNG/JPEG; nothing else."""
    if not isinstance(data, dict):
        return {}
    kept = {mime: _text(data.get(mime)) for mime in _TEXT_TYPES}
    kept |= {mime: data.get(mime) for mime in _BASE64_TYPES if _matches(_BASE64, data.get(mime))}
    return {mime: value for mime, value in kept.items() if value is not None}


def _image_metadata(metadata, data: dict) -> dict:
    """The image metadata the template writes into <img> (its width and height unquoted):
    sizes only if they are numbers, the background hint only if it is one of its two values."""
    if not isinstance(metadata, dict):
        return {}
    kept = {}
    for mime in _BASE64_TYPES:
        given = metadata.get(mime)
        if mime not in data or not isinstance(given, dict):
            continue
        picked = {k: int(given[k]) for k in ("width", "height") if _is_size(given.get(k))}
        if given.get("needs_background") in ("light", "dark"):
            picked["needs_background"] = given["needs_background"]
        if given.get("unconfined") is True:
            picked["unconfined"] = True
        kept[mime] = picked
    return kept


def _safe_attachments(attachments) -> dict:
    """Picture attachments as base64. Names are all kept: nbconvert refuses a notebook whose
    markdown names an attachment the cell lacks."""
    if not isinstance(attachments, dict):
        return {}
    safe = {}
    for name, bundle in attachments.items():
        bundle = bundle if isinstance(bundle, dict) else {}
        pictures = {m: bundle[m] for m in _PICTURE_TYPES if _matches(_BASE64, bundle.get(m))}
        safe[str(name)] = pictures or dict(_EMPTY_PICTURE)
    return safe


def _language_info(metadata) -> dict:
    """The notebook's language, for code highlighting; Python unless it names another."""
    info = metadata.get("language_info")
    info = info if isinstance(info, dict) else {}
    return {
        key: info[key] for key in ("name", "pygments_lexer") if _matches(_LEXER_NAME, info.get(key))
    } or {"name": "python"}


def _text(value) -> str | None:
    """A notebook text: a string, or a list of strings (lines); None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return None


def _count(value) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _is_size(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1e5


def _matches(pattern: re.Pattern, value) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


# --------------------------------------------------------------------------- the sanitiser

# Allowed in any student HTML: ammonia's own safe list of tags and attributes, plus what
# rendered markdown and Pygments need (class, heading ids, title) and table alignment.
_ATTRIBUTES = {tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()}
_ATTRIBUTES["*"] = {"class", "id", "title", "lang", "dir", "style"}
_STYLE_PROPERTIES = {"text-align", "vertical-align", "font-weight", "font-style", "color"}
# A picture inline, as the page's own images are; anything else in a src would be a request.
_PICTURE_URL = re.compile(r"data:image/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=\s]*")


def _keep_attribute(tag: str, name: str, value: str) -> str | None:
    """Called for the attributes ammonia kept (URL schemes in url_schemes only): of those,
    ``data:`` only as a picture's src, and no src that would be a request."""
    if name == "src":
        return value if _PICTURE_URL.fullmatch(value.strip()) else None
    if name == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


_CLEANER = nh3.Cleaner(
    tags=set(nh3.ALLOWED_TAGS),
    clean_content_tags={"script", "style"},  # removed with their content (a DataFrame's CSS)
    attributes=_ATTRIBUTES,
    attribute_filter=_keep_attribute,
    url_schemes={"http", "https", "mailto", "data"},
    filter_style_properties=_STYLE_PROPERTIES,
    strip_comments=True,
    link_rel="noopener noreferrer",
)


def sanitize_html(fragment) -> str:
    """``fragment`` with only harmless tags and attributes left: no script, no event handler,
    no ``javascript:`` URL, no frame, form, <base> or <meta>, no request for anything."""
    fragment = fragment.decode() if isinstance(fragment, bytes) else str(fragment)
    return _CLEANER.clean(fragment)


# --------------------------------------------------------------------------- the header


def _exercise_titles(source_nb) -> dict[str, str]:
    """grade_id of each test cell -> the heading of its exercise ("Exercise 2: ...") without
    its points, as HTML (inline markdown and maths rendered).

    Headings as a markdown parser (CommonMark: markdown-it-py) finds them, so a ``# comment``
    in a fenced code block is none. A test cell's title is the last exercise heading before
    it, unless a heading of the same or a higher level (a new section) came after that one:
    a test cell outside any exercise has no title."""
    titles: dict[str, str] = {}
    exercise: tuple[int, str] | None = None  # (level, title) of the current exercise
    for cell in source_nb.cells:
        if cell.cell_type == "markdown":
            for level, text in _headings(cell.source):
                if _EXERCISE_HEADING.match(text):
                    exercise = (level, text)
                elif exercise is not None and level <= exercise[0]:
                    exercise = None
        elif utils.is_grade(cell) and not utils.is_solution(cell) and exercise is not None:
            title = _POINTS_IN_TITLE.sub("", exercise[1]).strip()
            titles[cell.metadata.nbgrader["grade_id"]] = markdown_to_html(title, inline=True)
    return titles


_MARKDOWN = MarkdownIt("commonmark")
_EXERCISE_HEADING = re.compile(r"exercise\b", re.I)


def _headings(source: str) -> list[tuple[int, str]]:
    """(level, source text) of each heading of the markdown ``source``."""
    tokens = _MARKDOWN.parse(source)
    return [
        (int(token.tag[1:]), tokens[i + 1].content.strip())
        for i, token in enumerate(tokens)
        if token.type == "heading_open" and i + 1 < len(tokens)
    ]


def _header(
    result: NotebookResult,
    titles: dict[str, str],
    *,
    notebook_shown: bool,
    lateness: Lateness | None = None,
    name: str = "",
) -> str:
    e = html.escape
    student = f"{e(name)} ({e(result.student)})" if name else e(result.student)
    parts = [
        '<section class="feedback">',
        f"<h1>Feedback: {e(result.assignment)} / {e(result.notebook)}</h1>",
        f"<p>Student: <b>{student}</b>. Score: {_score_html(result, lateness)}.</p>",
        _lateness_html(lateness),
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


def _score_html(result: NotebookResult, lateness: Lateness | None) -> str:
    maximum = _number(result.max_points)
    if lateness is None or not lateness.penalty:
        return f"<b>{_number(result.points)} / {maximum}</b> points"
    after = max(0.0, result.points - lateness.penalty)
    return (
        f"<b>{_number(after)} / {maximum}</b> points after the late penalty "
        f"({_number(result.points)} before it)"
    )


def _lateness_html(lateness: Lateness | None) -> str:
    """When it was handed in and due, how late, the penalty: a small table (or nothing)."""
    rows = lateness.lines() if lateness is not None else []
    if not rows:
        return ""
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    late = " late" if lateness.late else ""
    return f'<table class="lateness{late}" id="lateness"><tbody>{cells}</tbody></table>'


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
    # The title is HTML already: rendered from the instructor's markdown, and sanitised.
    name = (f"{title}<br>" if title else "") + f'<span class="grade-id">{e(ex.grade_id)}</span>'
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

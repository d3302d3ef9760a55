"""The course's text, read as a student reads it: fast, static checks of all six notebooks.

* every notebook says at its top how long it takes (at most 90 minutes);
* exercise headings are numbered in order and state the points their tests carry;
* at least three exercises per notebook make students think (tagged ``think``: predict then
  explain, find the bug, design a test, derive);
* an API is used only once it is taught: nothing of autograd before notebook 04, and within a
  notebook, no code uses a name before its prose introduces it;
* no reference a student cannot follow: no "seed" wording, no path outside the repository;
* a claim that autograd_lite lacks something is checked against the library;
* every concept of the five source tutorials has its section (notebooks/README.md's table);
* a visible test's message never names the kind of answer it expected.

The notebooks' behaviour (full marks under torch, releases at zero) is tests/test_notebooks.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt

import autograd_lite
from grader.execute import is_test_cell, nbgrader_meta
from grader.release import ROOT, assignments

ASSIGNMENTS = assignments()
SOURCES = {a: next((ROOT / "solutions" / a).glob("*.ipynb")) for a in ASSIGNMENTS}
RELEASES = {a: ROOT / "notebooks" / a / path.name for a, path in SOURCES.items()}
READMES = [ROOT / "README.md", ROOT / "notebooks" / "README.md", ROOT / "solutions" / "README.md"]
MAX_MINUTES = 90
MIN_THINKING = 3


def read(path: Path):
    return nbformat.read(path, as_version=4)


def markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def prose(text: str) -> str:
    """Markdown without its fenced code blocks (a ``#`` there is a comment, not a heading)."""
    return re.sub(r"^(```|~~~).*?^\1[^\n]*$", "", text, flags=re.MULTILINE | re.DOTALL)


def every_text():
    """(where, text) for every markdown cell, code cell and README a student can open."""
    for path in READMES:
        yield str(path.relative_to(ROOT)), path.read_text()
    for paths in (SOURCES, RELEASES):
        for path in paths.values():
            for i, cell in enumerate(read(path).cells):
                yield f"{path.relative_to(ROOT)} cell {i}", cell.source


def per_assignment():
    return [pytest.param(a, id=a) for a in ASSIGNMENTS]


# --------------------------------------------------------------------------- time and exercises

TIME = re.compile(r"\*\*Time:\*\* about (\d+) minutes")


@pytest.mark.parametrize("assignment", per_assignment())
def test_time_is_stated_at_the_top(assignment):
    first = markdown(read(SOURCES[assignment]))[0]
    assert first.startswith(f"# {assignment[:2]} · "), "the title is '# NN · Title'"
    found = TIME.search(first)
    assert found, "the first markdown cell should say '**Time:** about N minutes'"
    assert 20 <= int(found.group(1)) <= MAX_MINUTES, found.group(0)


EXERCISE = re.compile(r"^### Exercise (\d+): (.+) \((\d+(?:\.\d+)?) points?\)\s*$", re.MULTILINE)


def exercises(nb) -> list[dict]:
    """Each exercise heading with the test cells up to the next exercise or section heading."""
    found, current = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = EXERCISE.search(prose(cell.source))
            starts_section = re.search(r"^##? ", prose(cell.source), re.MULTILINE)
            if heading:
                current = {
                    "number": int(heading.group(1)),
                    "title": heading.group(2),
                    "points": float(heading.group(3)),
                    "tags": cell.metadata.get("tags", []),
                    "tests": [],
                }
                found.append(current)
            elif starts_section:
                current = None
        elif is_test_cell(cell):
            assert current is not None, f"test {nbgrader_meta(cell)['grade_id']} under no exercise"
            current["tests"].append(cell)
    return found


@pytest.mark.parametrize("assignment", per_assignment())
def test_exercise_headings_are_numbered_and_state_their_points(assignment):
    nb = read(SOURCES[assignment])
    found = exercises(nb)
    assert [e["number"] for e in found] == list(range(1, len(found) + 1))
    headed = sum(len(e["tests"]) for e in found)
    assert headed == sum(is_test_cell(c) for c in nb.cells), "a test cell without a heading"
    for e in found:
        assert e["tests"], f"exercise {e['number']} has no test cell"
        points = sum(nbgrader_meta(t)["points"] for t in e["tests"])
        assert points == e["points"], f"exercise {e['number']}: {points} points in its tests"
        assert "point" not in e["title"] and "per entry" not in e["title"], e["title"]
    loose = [
        line
        for text in markdown(nb)
        for line in prose(text).splitlines()
        if "### Exercise" in line and not EXERCISE.search(line)
    ]
    assert not loose, (
        f"exercise headings not in the form '### Exercise N: title (P points)': {loose}"
    )


@pytest.mark.parametrize("assignment", per_assignment())
def test_enough_exercises_make_students_think(assignment):
    thinking = [e for e in exercises(read(SOURCES[assignment])) if "think" in e["tags"]]
    assert len(thinking) >= MIN_THINKING, [e["title"] for e in thinking]
    kinds = ("predict", "explain", "bug", "design", "derive", "by hand", "test")
    for e in thinking:
        assert any(k in e["title"].lower() for k in kinds), f"say the kind: {e['title']!r}"


# --------------------------------------------------------------------------- teach before use

# A name of the API, the notebook that teaches it, and how its use looks in code.
TAUGHT_IN = {
    "requires_grad": ("04", r"requires_grad"),
    "backward": ("04", r"\.backward\("),
    ".grad": ("04", r"\.grad\b(?!_fn)"),
    "grad_fn": ("04", r"\bgrad_fn\b"),
    "no_grad": ("04", r"\bno_grad\b"),
    "detach": ("04", r"\.detach\("),
    "make_dot": ("04", r"\bmake_dot\b"),
    "explore": ("04", r"\bexplore\("),
    "autograd.grad": ("04", r"autograd\.grad\("),
    "register_hook": ("05", r"register_hook\("),
    "create_graph": ("05", r"create_graph"),
    "hessian": ("05", r"functional\.hessian"),
    "jacobian": ("05", r"functional\.jacobian"),
}


def code_uses(nb, pattern: str) -> list[int]:
    """Code cells using ``pattern`` outside import lines (importing is not using)."""
    return [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and re.search(pattern, _without_imports(c.source))
    ]


def _without_imports(source: str) -> str:
    return "\n".join(
        line for line in source.splitlines() if not re.match(r"\s*(from|import)\s", line)
    )


def prose_mentions(nb, name: str) -> list[int]:
    key = name.lstrip(".")
    return [
        i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and key in prose(c.source)
    ]


@pytest.mark.parametrize("name", TAUGHT_IN)
def test_no_notebook_uses_autograd_before_it_is_taught(name):
    owner, pattern = TAUGHT_IN[name]
    for assignment in ASSIGNMENTS:
        nb = read(SOURCES[assignment])
        uses = code_uses(nb, pattern)
        if assignment[:2] < owner:
            assert not uses, f"{assignment} uses {name} (cells {uses}); notebook {owner} teaches it"
        elif assignment[:2] == owner and uses:
            mentioned = prose_mentions(nb, name)
            assert mentioned and mentioned[0] < uses[0], (
                f"{assignment}: {name} used in cell {uses[0]} before the prose introduces it"
            )


# --------------------------------------------------------------------------- references

SEED = re.compile(r"(?<![_\w])seeds?\b", re.IGNORECASE)
OUTSIDE = re.compile(r"\.\./shared|shared/seeds|/work/|\b00[0-4]_[0-9a-f]{6,}")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_no_seed_wording_and_no_path_outside_the_repository():
    problems = []
    for where, text in every_text():
        problems += [f"{where}: {m.group(0)!r}" for m in SEED.finditer(text)]
        problems += [f"{where}: {m.group(0)!r}" for m in OUTSIDE.finditer(text)]
    assert not problems, problems


def test_relative_links_stay_inside_the_repository_and_exist():
    problems = []
    for path in [*READMES, *SOURCES.values(), *RELEASES.values()]:
        texts = [path.read_text()] if path.suffix == ".md" else markdown(read(path))
        for text in texts:
            for target in LINK.findall(text):
                if re.match(r"[a-z]+:|#", target):
                    continue
                resolved = (path.parent / target.split("#")[0]).resolve()
                if ROOT.resolve() not in resolved.parents or not resolved.exists():
                    problems.append(f"{path.relative_to(ROOT)}: {target}")
    assert not problems, problems


TUTORIALS = (
    "Takahiro Shinozaki",
    "60-minute blitz",
    "Autograd: Automatic Differentiation",
    "vector-Jacobian product",
    "grad()",
)


def test_the_sources_are_credited_by_name():
    text = (ROOT / "notebooks" / "README.md").read_text()
    assert re.search(r"^## Sources", text, re.MULTILINE)
    sources = text.split("## Sources", 1)[1]
    missing = [name for name in TUTORIALS if name not in sources]
    assert not missing, missing


# --------------------------------------------------------------------------- claims

LACKS = re.compile(r"autograd_lite (?:does not have|has no|lacks) `([\w.]+)`")


def test_every_claim_that_the_library_lacks_something_is_true():
    claims = [(where, m.group(1)) for where, text in every_text() for m in LACKS.finditer(text)]
    wrong = []
    for where, name in claims:
        obj = autograd_lite
        parts = name.removeprefix("torch.").split(".")
        for part in parts:
            obj = getattr(obj, part, None)
        if obj is not None:
            wrong.append(f"{where}: autograd_lite has {name}")
    assert not wrong, wrong


def test_the_claim_checker_recognises_a_false_claim():
    assert LACKS.search("Note: autograd_lite does not have `torch.diag`.").group(1) == "torch.diag"
    assert autograd_lite.diag is not None  # (so that sentence would be reported)


KIND = re.compile(
    r"\b(?:expected|got|is) an? (?:string|str|dtype|tensor|number|int|float|bool|tuple|list|"
    r"exception|error)\b",
    re.IGNORECASE,
)


@pytest.mark.parametrize("assignment", per_assignment())
def test_visible_test_messages_do_not_name_the_kind_of_answer(assignment):
    leaks = []
    for cell in read(SOURCES[assignment]).cells:
        if is_test_cell(cell):
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0]
            leaks += [f"{nbgrader_meta(cell)['grade_id']}: {m}" for m in KIND.findall(visible)]
    assert not leaks, leaks


def test_headings_parse_as_markdown_headings():
    """Guards the regexes above: markdown-it agrees on what is a heading (fences excluded)."""
    md = MarkdownIt()
    sample = "### Exercise 1: a (2 points)\n\n```python\n# not a heading\n```\n"
    headings = [t for t in md.parse(sample) if t.type == "heading_open"]
    assert len(headings) == 1 and "not a heading" not in prose(sample)


# --------------------------------------------------------------------------- the tutorials' map

SHORT_NAMES = {
    "Tokyo Tech lecture",
    "2017 blitz",
    "official tutorial",
    "VJP notebook",
    "grad-vs-backward notebook",
}
TABLE_ROW = re.compile(r"^\|([^|]+)\|(.+?)\|\s*(\d\d_\w+)\s*\|(.+?)\|\s*$")


def mapping_rows() -> list[tuple[str, ...]]:
    text = (ROOT / "notebooks" / "README.md").read_text()
    rows = [m.groups() for line in text.splitlines() if (m := TABLE_ROW.match(line))]
    return [tuple(part.strip() for part in row) for row in rows]


def headings(assignment: str) -> set[str]:
    md = MarkdownIt()
    found = set()
    for text in markdown(read(SOURCES[assignment])):
        tokens = md.parse(text)
        for opening, inline in zip(tokens, tokens[1:]):
            if opening.type == "heading_open":
                found.add(inline.content.strip())
    return found


def test_mapping_table_covers_every_tutorial_and_notebook():
    rows = mapping_rows()
    assert {tutorial for tutorial, *_ in rows} == SHORT_NAMES
    assert {notebook for _, _, notebook, _ in rows} == set(ASSIGNMENTS)


@pytest.mark.parametrize("row", mapping_rows(), ids=lambda row: f"{row[2]}-{row[3][:20]}")
def test_mapped_section_exists(row):
    tutorial, concept, assignment, section = row
    assert assignment in ASSIGNMENTS, assignment
    assert section in headings(assignment), f"{tutorial}: '{concept}': no section '{section}'"


# --------------------------------------------------------------------------- the engine students read


def test_the_engine_has_every_line_notebook_05_asks_about():
    """05's "read the engine" exercise quotes run_backward: a refactor must keep its words."""
    import inspect

    from autograd_lite import _engine

    source = inspect.getsource(_engine.run_backward)
    (task,) = [t for t in markdown(read(SOURCES["05_higher_order"])) if "read the engine" in t]
    options = [line for line in task.splitlines() if re.match(r"\s*[*-] \([a-d]\)", line)]
    quoted = [snippet for line in options for snippet in re.findall(r"`([^`]+)`", line)]
    assert len(quoted) >= 6, quoted
    missing = [snippet for snippet in quoted if snippet not in source]
    assert not missing, f"not in run_backward any more: {missing}"


# --------------------------------------------------------------------------- cross-references

SECTION_REF = re.compile(r"(?:notebook |)(0[1-6])(?:_[a-z_]+)?,? sections? (\d+)", re.IGNORECASE)


def section_numbers(assignment: str) -> set[int]:
    return {int(h.split(".")[0]) for h in headings(assignment) if re.match(r"\d+\. ", h)}


def test_references_to_other_sections_name_sections_that_exist():
    """ "notebook 04, section 9" must still be section 9 after a notebook is renumbered."""
    by_number = {a[:2]: a for a in ASSIGNMENTS}
    problems, found = [], 0
    for where, text in every_text():
        for notebook, number in SECTION_REF.findall(text):
            found += 1
            if int(number) not in section_numbers(by_number[notebook]):
                problems.append(f"{where}: notebook {notebook}, section {number}")
    assert found > 10, "the pattern no longer finds the course's cross-references"
    assert not problems, problems


# --------------------------------------------------------------------------- topics

# What a student of torch autograd meets soon, and the notebook whose code shows it.
TOPICS = {
    "a hook on a tensor": ("05", r"\.register_hook\("),
    "removing a hook": ("05", r"\.remove\(\)"),
    "allow_unused and None gradients": ("04", r"allow_unused=True"),
    "grad_outputs": ("06", r"grad_outputs="),
    "a hand-written optimizer step": ("05", r"def step\("),
    "zero_grad": ("05", r"def zero_grad\("),
    "calling a grad_fn node by hand": ("05", r"\bnode\(grad"),
    "the version counter": ("04", r"\._version\b"),
    "torch.autograd.grad": ("04", r"torch\.autograd\.grad\("),
    "a backward pass step by step (explore)": ("04", r"\bexplore\("),
}


@pytest.mark.parametrize("topic", TOPICS)
def test_each_topic_is_shown_in_its_notebook(topic):
    owner, pattern = TOPICS[topic]
    (assignment,) = [a for a in ASSIGNMENTS if a.startswith(owner)]
    assert code_uses(read(SOURCES[assignment]), pattern), f"{assignment} does not show {topic}"


def test_the_inplace_error_is_taught_and_exercised_in_04():
    """Predicted, then fixed: a thinking exercise in the section that teaches the error."""
    nb = read(SOURCES["04_derivatives"])
    section = None
    thinking_here = []
    for cell in nb.cells:
        text = prose(cell.source) if cell.cell_type == "markdown" else ""
        if re.search(r"^## ", text, re.MULTILINE):
            section = text
        found = EXERCISE.search(text)
        if found and "think" in cell.metadata.get("tags", []) and "inplace" in (section or ""):
            thinking_here.append(found.group(2))
    assert any("predict" in t for t in thinking_here), thinking_here
    assert any("bug" in t or "fix" in t for t in thinking_here), thinking_here
    demo = "\n".join(code(nb))
    assert "modified by an inplace operation" in "\n".join(markdown(nb)) + demo


# --------------------------------------------------------------------------- the time budget

# Notebook 01 (about 2,900 words, 29 example cells, 7 short exercises) took students 60 to 80
# minutes in three run-throughs; notebooks well above that were estimated at two hours and
# more. A stated time is only an estimate: this is the budget that keeps it honest.
MAX_WORDS = 3000
MAX_EXAMPLE_CELLS = 30
MAX_GRADED = 7


@pytest.mark.parametrize("assignment", per_assignment())
def test_each_notebook_fits_the_90_minute_budget(assignment):
    nb = read(SOURCES[assignment])
    words = sum(len(re.sub(r"```.*?```", "", t, flags=re.S).split()) for t in markdown(nb))
    examples = sum(1 for c in nb.cells if c.cell_type == "code" and not nbgrader_meta(c))
    graded = sum(1 for c in nb.cells if is_test_cell(c))
    assert words <= MAX_WORDS, f"{words} words of prose"
    assert examples <= MAX_EXAMPLE_CELLS, f"{examples} example cells"
    assert graded <= MAX_GRADED, f"{graded} graded exercises"


# --------------------------------------------------------------------------- maths survives rendering

INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$(?!\$)", re.DOTALL)
BLOCK_START = re.compile(r"^\s*(?:[-+*]\s|\d+[.)]\s|>|#)")


@pytest.mark.parametrize("assignment", per_assignment())
def test_no_formula_line_starts_like_a_markdown_block(assignment):
    """A formula wrapped so that a line starts with "+ " or "- " becomes a bullet in
    nbconvert's renderer (the feedback page, HTML exports): the formula breaks there."""
    broken = []
    for text in markdown(read(SOURCES[assignment])):
        for formula in INLINE_MATH.findall(prose(text)):
            lines = formula.split("\n")[1:]
            broken += [f"${formula}$" for line in lines if BLOCK_START.match(line)]
    assert not broken, broken


def test_the_formula_check_recognises_a_wrapped_plus():
    text = "The rule is $a\n+ b$ and $c$."
    assert [f for f in INLINE_MATH.findall(text) if BLOCK_START.match(f.split("\n")[-1])]


def test_every_engine_helper_notebook_05_names_exists():
    """The helpers 05's reading guide explains (``_add``, ``node.release()``...) are real."""
    from autograd_lite import _engine

    (guide,) = [t for t in markdown(read(SOURCES["05_higher_order"])) if "Reading the real" in t]
    names = set(re.findall(r"`(?:node\.)?(_?[a-z][a-z_]+)(?:\(|`)", guide))
    helpers = {n for n in names if n.startswith("_") or n in {"release", "accumulate", "gradient"}}
    assert len(helpers) >= 8, helpers
    missing = [
        n
        for n in helpers
        if not hasattr(_engine, n)
        and not hasattr(_engine.Node, n)
        and not hasattr(_engine.AccumulateGrad, n)
    ]
    assert not missing, f"05 explains engine helpers that do not exist: {missing}"

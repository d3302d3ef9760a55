"""A feedback page runs nothing of the student's (grader/feedback.py).

Whatever a student's notebook holds (markdown they wrote, outputs their code displayed, cell
and notebook metadata) ends up in their feedback page, which they and their teachers open in
a browser. Two kinds of tests:

* Without a browser: hostile notebooks, one per attack and generated ones (hypothesis), go
  through ``write_feedback``, and the page is parsed: no script element, no event-handler
  attribute, no ``javascript:`` URL, nothing that frames, posts or navigates, only ``data:``
  images, and the Content-Security-Policy as the first element of <head>. What the student
  should see (their text, outputs, pictures, errors, the grades table) is still there.
* In Chromium (``@pytest.mark.browser``): a page full of payloads is opened from a file://
  URL. Each payload, if it ran, would change the title or ``window.name``, set a cookie, or
  request a URL of a local HTTP server that counts requests; none may have happened. The
  same payloads in a bare page do run there (the control), so the test can see them.
"""

from __future__ import annotations

import base64
import http.server
import json
import re
import threading
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from chromium import CHROMIUM, CHROMIUM_ARGS
from feedback_pages import MATHML_ELEMENTS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from grader.feedback import CONTENT_SECURITY_POLICY, sanitize_html, write_feedback
from grader.results import ExerciseResult, NotebookResult

# A 2x1 PNG (one red, one blue pixel).
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd00000010494441"
        "5478da63f8cfc0f09f8181e13f0006fd02fe6e1ebc980000000049454e44ae426082"
    )
).decode()
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><circle r="5"/></svg>'
TITLE = "Feedback: a1/nb (alice)"
SCRIPT_URL = re.compile(r"^(?:javascript|vbscript|data:text/html)", re.I)
# Attributes whose value a browser may load, navigate to or run as a URL.
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "srcset", "poster",
    "background", "cite", "longdesc", "ping", "codebase", "classid", "manifest", "lowsrc",
    "dynsrc", "usemap", "icon", "content", "to", "from", "values",
}  # fmt: skip
# Elements that frame, embed, post, navigate, rebase URLs or run code: none may come through.
FORBIDDEN_TAGS = {
    "script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
    "link", "svg", "math", "noscript", "template", "portal", "input", "button", "textarea",
}  # fmt: skip
# A page (not student HTML: sanitize_html never lets <math> through) may hold the MathML its
# own maths renderer wrote: presentation elements (MATHML_ELEMENTS) whose attributes are
# layout words only.
MATHML_ATTRIBUTE_VALUE = re.compile(r"[A-Za-z0-9 .#%+-]*")


# --------------------------------------------------------------------------- rendering


def source_notebook():
    """The instructor's notebook: one exercise, worth 2 points."""
    test = new_code_cell(
        "assert answer == 42",
        metadata={"nbgrader": {"grade": True, "solution": False, "grade_id": "t1", "points": 2}},
    )
    return new_notebook(cells=[new_markdown_cell("## Exercise 1: the answer"), test])


def feedback_page(tmp_path: Path, cells, metadata=None) -> str:
    """The feedback page of a student whose executed notebook is ``cells``. Written as plain
    JSON: nbformat.write would refuse some hostile notebooks, nbformat.read takes them."""
    executed = tmp_path / "executed.ipynb"
    executed.write_text(json.dumps(forced(new_notebook(metadata=metadata or {}), cells=cells)))
    result = NotebookResult(
        "alice", "a1", "nb", [ExerciseResult("t1", 1.0, 2.0)], executed_path=str(executed)
    )
    return write_feedback(result, source_notebook(), tmp_path / "feedback.html").read_text()


def html_everywhere(snippet: str) -> list:
    """``snippet`` in every place a student's HTML can reach the page: a markdown cell, a raw
    cell, and HTML, Markdown and SVG outputs of a code cell."""
    code = new_code_cell("display(...)", execution_count=1)
    code.outputs = [
        new_output("display_data", data={"text/html": snippet}),
        new_output("display_data", data={"text/markdown": snippet}),
        new_output("execute_result", data={"text/html": snippet}, execution_count=1),
        new_output("display_data", data={"image/svg+xml": snippet}),
    ]
    return [new_markdown_cell(snippet), code, new_raw_cell(snippet)]


# --------------------------------------------------------------------------- the audit


class PageAudit(HTMLParser):
    """Every start tag of a page, in order, with its attributes (entities decoded)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str]]]] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, [(name, value or "") for name, value in attrs]))

    def attributes(self):
        return [(tag, name, value) for tag, attrs in self.elements for name, value in attrs]


def assert_inert(page: str) -> None:
    """No way for the page to run a script or make a request, by its markup; the policy
    first in <head>, and no <meta> but the page's own three (no refresh)."""
    audit = assert_markup_inert(page, mathml=True)
    assert_policy_first_in_head(audit)
    metas = [sorted(dict(attrs)) for tag, attrs in audit.elements if tag == "meta"]
    assert metas == [["content", "http-equiv"], ["charset"], ["content", "name"]]


def assert_markup_inert(html: str, mathml: bool = False) -> PageAudit:
    """No script element, nothing in FORBIDDEN_TAGS, no event handler, no script URL, no
    image but a ``data:`` one. With ``mathml``, MathML elements (the page's rendered maths)
    may appear, with plain layout attributes only (no link, no handler, no URL)."""
    audit = PageAudit(html)
    tags = [tag for tag, _ in audit.elements]
    assert [tag for tag in tags if tag == "script"] == [] and "<script" not in html.lower()
    assert set(tags) & (FORBIDDEN_TAGS - ({"math"} if mathml else set())) == set()
    math_attributes = [
        (tag, name, value)
        for tag, attrs in audit.elements
        if tag in MATHML_ELEMENTS
        for name, value in attrs
        if name in URL_ATTRIBUTES or ":" in name or not MATHML_ATTRIBUTE_VALUE.fullmatch(value)
    ]
    assert math_attributes == []
    handlers = [(tag, name) for tag, name, _ in audit.attributes() if name.startswith("on")]
    assert handlers == []
    script_urls = [
        (tag, name, value)
        for tag, name, value in audit.attributes()
        if name in URL_ATTRIBUTES and SCRIPT_URL.match(re.sub(r"[\x00-\x20]", "", value))
    ]
    assert script_urls == []
    images = [dict(attrs).get("src", "") for tag, attrs in audit.elements if tag == "img"]
    assert all(src.startswith("data:image/") for src in images if src), images
    return audit


def assert_policy_first_in_head(audit: PageAudit) -> None:
    tags = [tag for tag, _ in audit.elements]
    tag, attrs = audit.elements[tags.index("head") + 1]
    assert tag == "meta" and dict(attrs) == {
        "http-equiv": "Content-Security-Policy",
        "content": CONTENT_SECURITY_POLICY,
    }


def test_the_policy_allows_no_script_and_no_request():
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'none'"
    assert directives["connect-src"] == "'none'"
    assert directives["img-src"] == "data:" and directives["font-src"] == "data:"
    assert directives["style-src"] == "'unsafe-inline'"
    assert directives["base-uri"] == directives["form-action"] == "'none'"  # no default-src


# --------------------------------------------------------------------------- hostile notebooks

HOSTILE_HTML = {
    "script": "<script>document.title='x'</script>",
    "img-onerror": "<img src=x onerror=\"document.title='x'\">",
    "svg-onload": "<svg onload=\"document.title='x'\"><circle r=5 /></svg>",
    "iframe-srcdoc": "<iframe srcdoc=\"<script>parent.document.title='x'</script>\"></iframe>",
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=http://127.0.0.1:9/">',
    "javascript-link": "<a href=\"javascript:document.title='x'\">click</a>",
    "javascript-link-obfuscated": '<a href="jav&#x09;ascript&colon;alert(1)">click</a>',
    "markdown-javascript-link": "[click](javascript:alert(1)) ![x](javascript:alert(1))",
    "object": '<object data="http://127.0.0.1:9/x.swf" type="application/x-shockwave-flash">',
    "embed": '<embed src="javascript:alert(1)">',
    "base": '<base href="http://127.0.0.1:9/"><img src="x.png">',
    "form": '<form action="http://127.0.0.1:9/"><input name=q><button>go</button></form>',
    "button-formaction": '<button formaction="javascript:alert(1)">go</button>',
    "style-element": "<style>body{background:url(http://127.0.0.1:9/)}</style>",
    "style-attribute": '<p style="background:url(javascript:alert(1))">styled</p>',
    "link-stylesheet": '<link rel="stylesheet" href="http://127.0.0.1:9/x.css">',
    "remote-image": '<img src="http://127.0.0.1:9/x.png">',
    "math-xlink": '<math><a xlink:href="javascript:alert(1)">m</a></math>',
    "svg-script": "<svg><script>alert(1)</script><a xlink:href='javascript:alert(1)'>s</a></svg>",
    "noscript-mutation": '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "template": "<template><img src=x onerror=alert(1)></template>",
    "details-ontoggle": "<details open ontoggle=alert(1)><summary>s</summary></details>",
    "data-url-link": '<a href="data:text/html,<script>alert(1)</script>">d</a>',
    "comment-breakout": "<!-- --><script>alert(1)</script> -->",
    "unclosed": "<div><img src=x onerror=alert(1)",
}


@pytest.mark.parametrize("snippet", HOSTILE_HTML.values(), ids=HOSTILE_HTML.keys())
def test_hostile_html_anywhere_is_inert(tmp_path, snippet):
    assert_inert(feedback_page(tmp_path, html_everywhere(snippet)))


def forced(node, **fields):
    """``node`` with ``fields`` that nbformat's constructors would refuse as invalid."""
    node.update(fields)
    return node


def code_cell_with(*outputs, execution_count=1, **fields):
    cell = new_code_cell("x", execution_count=execution_count, **fields)
    cell.outputs = list(outputs)
    return cell


SCRIPT = "<script>alert(1)</script>"
HOSTILE_NOTEBOOKS = {
    "javascript-output": lambda: [
        code_cell_with(
            new_output("display_data", data={"application/javascript": "alert(1)"}),
            new_output(
                "display_data",
                data={"application/javascript": "alert(2)", "text/plain": "a fallback"},
            ),
        )
    ],
    "widget-view-and-state": lambda: [
        code_cell_with(
            new_output(
                "display_data",
                data={"application/vnd.jupyter.widget-view+json": {"model_id": "</script>"}},
            )
        )
    ],
    "mermaid-output": lambda: [
        code_cell_with(
            new_output("display_data", data={"text/vnd.mermaid": "<script>alert(1)</script>"})
        )
    ],
    "png-not-base64": lambda: [
        code_cell_with(
            new_output("display_data", data={"image/png": '"><script>alert(1)</script>'})
        )
    ],
    "image-metadata": lambda: [
        code_cell_with(
            new_output(
                "display_data",
                data={"image/png": PNG, "image/jpeg": PNG},
                metadata={
                    "image/png": {"width": "1 onerror=alert(1)", "height": "2 onload=alert(1)"},
                    "image/jpeg": {"needs_background": "x onerror=alert(1)"},
                    "filenames": {"image/png": "javascript:alert(1)"},
                },
            )
        )
    ],
    "svg-output-with-script": lambda: [
        code_cell_with(
            new_output(
                "display_data",
                data={"image/svg+xml": "<svg onload='alert(1)'><script>alert(2)</script></svg>"},
            )
        )
    ],
    "execution-count": lambda: [
        forced(
            code_cell_with(
                forced(
                    new_output("execute_result", data={"text/plain": "1"}), execution_count=SCRIPT
                )
            ),
            execution_count=SCRIPT,
        )
    ],
    "attachments": lambda: [
        new_markdown_cell(
            "![a](attachment:a.svg) ![b](attachment:b.html) ![c](attachment:c.png)",
            attachments={
                "a.svg": {"image/svg+xml": base64.b64encode(b"<svg onload=alert(1)>").decode()},
                "b.html": {"text/html": "<script>alert(1)</script>"},
                "c.png": {"image/png": '" onerror="alert(1)'},
            },
        )
    ],
    "cell-metadata": lambda: [
        forced(
            new_markdown_cell(
                "tagged",
                metadata={
                    "tags": ['"><script>alert(1)</script>', "x onload=alert(1)"],
                    "jupyter": {"source_hidden": "<script>"},
                },
            ),
            id='"><img src=x onerror=alert(1)>',
        ),
        new_raw_cell("<script>alert(1)</script>", metadata={"raw_mimetype": "text/html"}),
    ],
}
HOSTILE_METADATA = {
    "title": "</title><script>alert(1)</script>",
    "language_info": {"name": '"><script>alert(1)</script>', "pygments_lexer": "<img>"},
    "widgets": {
        "application/vnd.jupyter.widget-state+json": {"x": "</script><script>alert(1)</script>"}
    },
}


@pytest.mark.parametrize("cells", HOSTILE_NOTEBOOKS.values(), ids=HOSTILE_NOTEBOOKS.keys())
def test_hostile_outputs_and_metadata_are_inert(tmp_path, cells):
    page = feedback_page(tmp_path, cells(), metadata=HOSTILE_METADATA)
    assert_inert(page)
    assert "alert(" not in page  # dropped, or in an <img> as base64: never markup nor text


def test_text_outputs_show_markup_as_text(tmp_path):
    cell = code_cell_with(
        new_output("stream", name="stdout", text="<script>alert(1)</script>\n"),
        new_output("stream", name="stderr", text="<img src=x onerror=alert(2)>\n"),
        new_output("execute_result", data={"text/plain": "<b>3</b>"}, execution_count=1),
        new_output("display_data", data={"text/latex": "$<script>alert(4)</script>$"}),
        new_output(
            "error",
            ename="<script>alert(5)</script>",
            evalue="<img src=x onerror=alert(6)>",
            traceback=["<svg onload=alert(7)>"],
        ),
    )
    page = feedback_page(tmp_path, [cell])
    assert_inert(page)
    for shown in (
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "&lt;img src=x onerror=alert(2)&gt;",
        "&lt;b&gt;3&lt;/b&gt;",
        "$&lt;script&gt;alert(4)&lt;/script&gt;$",
        "&lt;svg onload=alert(7)&gt;",
    ):
        assert shown in page


def test_the_page_still_shows_what_the_student_should_see(tmp_path):
    code = code_cell_with(
        new_output("stream", name="stdout", text="hello from the student\n"),
        new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"}),
        new_output("display_data", data={"image/svg+xml": SVG}),
        new_output("display_data", data={"text/html": "<table><tr><th>k</th><td>v</td></tr>"}),
        new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
        new_output("error", ename="ValueError", evalue="bad", traceback=["ValueError: bad input"]),
    )
    markdown = new_markdown_cell(
        "# My notes\n\nSome *text*, `a && b < c` and $x^2$.\n\n| a | b |\n|--|--|\n| 1 | 2 |"
    )
    page = feedback_page(tmp_path, [markdown, code])
    assert_inert(page)
    assert '<td class="points">1 / 2</td>' in page and "Exercise 1: the answer" in page
    assert "hello from the student" in page and "<pre>42</pre>" in page
    assert f'src="data:image/png;base64,{PNG}"' in page
    svg_src = "data:image/svg+xml;base64," + base64.b64encode(SVG.encode()).decode()
    assert f'src="{svg_src}"' in page
    assert "<th>k</th>" in page and "<td>v</td>" in page
    assert "ValueError" in page and "bad input" in page
    assert "<em>text</em>" in page and "<code>a &amp;&amp; b &lt; c</code>" in page
    # LaTeX as MathML, rendered by the browser: no MathJax, no script.
    assert '<math display="inline"><mrow><msup><mi>x</mi><mn>2</mn></msup></mrow></math>' in page
    assert "$x^2$" not in page
    assert "<th>a</th>" in page and "<td>2</td>" in page


# --------------------------------------------------------------------------- generated HTML

TAGS = [
    "script", "img", "svg", "a", "iframe", "meta", "base", "form", "object", "embed", "style",
    "math", "p", "b", "table", "td", "noscript", "textarea", "title", "template", "select",
    "option", "xmp", "plaintext", "image", "animate", "set", "foreignObject", "div", "details",
    "input", "button", "link", "video", "source", "body", "html", "head", "frameset",
]  # fmt: skip
ATTRIBUTES = [
    "onerror", "onload", "onclick", "ONMOUSEOVER", "ontoggle", "onbegin", "href", "src",
    "srcdoc", "xlink:href", "style", "action", "formaction", "data", "http-equiv", "content",
    "srcset", "background", "poster", "attributeName", "values", "to", "from", "id", "class",
]  # fmt: skip
VALUES = st.sampled_from(
    [
        "alert(1)",
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:x",
        "data:text/html,<script>alert(1)</script>",
        "data:image/svg+xml,<svg onload=alert(1)>",
        "x",
        "refresh",
        "0;url=javascript:alert(1)",
        "http://127.0.0.1:9/",
        "url(javascript:alert(1))",
        '"><script>alert(1)</script>',
    ]
) | st.text(max_size=8)
QUOTES = st.sampled_from(['"{}"', "'{}'", "{}", "`{}`"])
ATTRIBUTE = st.builds(
    lambda name, quote, value: f"{name}={quote.format(value)}", st.sampled_from(ATTRIBUTES),
    QUOTES, VALUES,
)  # fmt: skip
START_TAG = st.builds(
    lambda tag, attrs, end: f"<{tag} {' '.join(attrs)}{end}", st.sampled_from(TAGS),
    st.lists(ATTRIBUTE, max_size=3), st.sampled_from([">", "/>", "", " >"]),
)  # fmt: skip
PIECE = st.one_of(
    START_TAG,
    st.sampled_from(TAGS).map(lambda tag: f"</{tag}>"),
    st.sampled_from(["<!--", "-->", "<![CDATA[", "]]>", "<", ">", "&", '"', "'", "\n\n", "`"]),
    st.sampled_from(["[x](javascript:alert(1))", "![x](http://127.0.0.1:9/)", "$x$", "# h"]),
    st.text(max_size=6),
)
HTMLISH = st.lists(PIECE, max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(fragment=HTMLISH)
def test_sanitised_html_is_inert_and_stable(fragment):
    clean = sanitize_html(fragment)
    audit = assert_markup_inert(clean)
    assert "meta" not in [tag for tag, _ in audit.elements]
    assert sanitize_html(clean) == clean  # parsing its output again changes nothing


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fragment=HTMLISH)
def test_generated_hostile_notebooks_render_inert_pages(tmp_path_factory, fragment):
    assert_inert(feedback_page(tmp_path_factory.mktemp("generated"), html_everywhere(fragment)))


# --------------------------------------------------------------------------- in Chromium

# What a payload does if it runs; each names itself in what it changes.
RUN = (
    "document.title='pwned-{key}'; window.name='pwned-{key}'; document.cookie='pwned={key}'; "
    "fetch('{base}/script-{key}', {{mode: 'no-cors'}}); new Image().src='{base}/image-{key}'"
)


def browser_payloads(base: str, where: str) -> list[str]:
    """HTML that runs RUN, or requests ``base``, in every way the tests above block. ``where``
    (the place in the notebook) names each payload's requests."""
    run = [RUN.format(key=f"{where}-{n}", base=base) for n in range(6)]
    fetch = [f"{base}/{kind}-{where}" for kind in ("refresh", "img", "css", "link", "obj", "bg")]
    return [
        f"<script>{run[0]}</script>",
        f'<img src="x" onerror="{run[1]}">',
        f'<svg><image href="x" onerror="{run[2]}"/></svg><svg onload="{run[3]}"></svg>',
        f'<iframe srcdoc="<script>{run[4]}</script>"></iframe>',
        f'<a id="click-{where}" href="javascript:{run[5]}">click me</a>',
        f'<meta http-equiv="refresh" content="1;url={fetch[0]}">',
        f'<img src="{fetch[1]}">',
        f"<style>body {{ background: url({fetch[2]}) }}</style>",
        f'<link rel="stylesheet" href="{fetch[3]}">',
        f'<object data="{fetch[4]}"></object>',
        f'<div style="background-image: url({fetch[5]})">styled</div>',
        f'<form action="{base}/form-{where}"><button id="submit-{where}">go</button></form>',
    ]


def browser_notebook(base: str) -> list:
    """Every payload in a markdown cell, a raw cell, HTML and Markdown outputs, plus a
    JavaScript output, an SVG output with scripts, and a PNG that must still show."""
    code = code_cell_with(
        new_output("display_data", data={"text/html": "".join(browser_payloads(base, "html"))}),
        new_output("display_data", data={"text/markdown": "\n".join(browser_payloads(base, "mo"))}),
        new_output(
            "display_data", data={"application/javascript": RUN.format(key="js", base=base)}
        ),
        new_output(
            "display_data",
            data={
                "image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"'
                f' onload="{RUN.format(key="svg", base=base)}"><circle r="5"/></svg>'
            },
        ),
        new_output("display_data", data={"image/png": PNG}),
    )
    markdown = new_markdown_cell("\n\n".join(browser_payloads(base, "md")))
    return [markdown, code, new_raw_cell("".join(browser_payloads(base, "raw")))]


class CountingServer(http.server.ThreadingHTTPServer):
    """Answers every request on 127.0.0.1 with 204 and keeps its path."""

    def __init__(self):
        self.paths: list[str] = []
        super().__init__(("127.0.0.1", 0), self.Handler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.server.paths.append(self.path)
            self.send_response(204)
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass


@pytest.fixture
def counting_server():
    server = CountingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def browser():
    """A page of Debian's Chromium; requests to anywhere but 127.0.0.1 are stopped and kept."""
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context()
        context.set_default_timeout(30_000)
        elsewhere: list[str] = []
        context.route(
            re.compile(r"^(?!https?://127\.0\.0\.1[:/]|file:|data:|about:)"),
            lambda route: (elsewhere.append(route.request.url), route.abort()),
        )
        try:
            yield SimpleNamespace(page=context.new_page(), elsewhere=elsewhere)
        finally:
            browser.close()


# What the page's DOM holds, as the browser parsed it.
DOM_AUDIT_JS = """
() => {
  const found = {handlers: [], urls: [], tags: []};
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (a.name.toLowerCase().startsWith('on')) found.handlers.push(el.localName + ' ' + a.name);
      const value = a.value.replace(/[\\u0000-\\u0020]/g, '').toLowerCase();
      if (/^(javascript|vbscript|data:text\\/html)/.test(value)) found.urls.push(a.value);
    }
  }
  for (const el of document.querySelectorAll(
      'script, iframe, frame, object, embed, base, form, link, svg, math, meta[http-equiv=refresh]'))
    found.tags.push(el.localName);
  const first = document.head.firstElementChild;
  found.firstInHead = [first.localName, first.httpEquiv, first.content];
  found.images = [...document.images].map(img => [img.src.slice(0, 22), img.naturalWidth]);
  return found;
}
"""


def open_and_poke(page, url: str, wheres) -> None:
    """Load ``url``, click what a curious reader would, and give timers and a refresh time."""
    page.goto(url, wait_until="load")
    for where in wheres:
        for selector in (f"#click-{where}", f"#submit-{where}"):
            if page.locator(selector).count():
                page.locator(selector).first.click(no_wait_after=True)
    page.wait_for_timeout(2_000)  # longer than the refresh's 1 s


@pytest.mark.browser
def test_chromium_runs_no_payload_of_a_feedback_page(browser, counting_server, tmp_path):
    page = feedback_page(tmp_path, browser_notebook(counting_server.base))
    assert_inert(page)
    url = (tmp_path / "feedback.html").as_uri()

    open_and_poke(browser.page, url, ("md", "raw", "html", "mo"))

    assert counting_server.paths == [] and browser.elsewhere == []
    assert browser.page.url == url
    assert browser.page.title() == TITLE
    assert browser.page.evaluate("window.name") == ""
    assert browser.page.evaluate("document.cookie") == ""
    dom = browser.page.evaluate(DOM_AUDIT_JS)
    assert dom["handlers"] == [] and dom["urls"] == [] and dom["tags"] == []
    assert dom["firstInHead"] == ["meta", "Content-Security-Policy", CONTENT_SECURITY_POLICY]
    # The pictures still show under the policy: the PNG output (2 px wide), the SVG one.
    assert ["data:image/png;base64,", 2] in dom["images"]
    assert ["data:image/svg+xml;bas", 20] in dom["images"]


@pytest.mark.browser
def test_chromium_runs_the_same_payloads_in_a_bare_page(browser, counting_server, tmp_path):
    """The control: unsanitised, without the policy, the payloads run and are seen."""
    payloads = "".join(browser_payloads(counting_server.base, "bare"))
    bare = tmp_path / "bare.html"
    bare.write_text(f"<!DOCTYPE html><html><head><title>{TITLE}</title></head>"
                    f"<body>{payloads}</body></html>")  # fmt: skip

    # No clicks here: the payloads that load things run on their own, and a click could race
    # the meta refresh (the page navigates away under it).
    open_and_poke(browser.page, bare.as_uri(), ())

    requested = set(counting_server.paths)
    assert any(path.startswith("/script-bare") for path in requested), requested
    assert {"/img-bare", "/css-bare", "/link-bare", "/bg-bare"} <= requested
    assert browser.elsewhere == []

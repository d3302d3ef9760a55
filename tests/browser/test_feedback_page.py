"""A feedback page in Chromium, under its Content-Security-Policy: the maths is laid out as
MathML (no script renders it) and the figures of the graded run load.

The page is tests/feedback_pages.py's: a small notebook graded for real (sandboxed kernels,
figures drawn) and written by grader.feedback.write_feedback. The page's safety in Chromium
is tests/test_feedback_safety.py's.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared helpers
from chromium import CHROMIUM_ARGS  # noqa: E402
from feedback_pages import graded_page  # noqa: E402
from sandbox_marks import needs_sandbox  # noqa: E402

from grader.feedback import CONTENT_SECURITY_POLICY  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_sandbox]


# What the browser made of the page: each <math> with its box and whether it is a MathML
# element; each picture of the notebook with its type and decoded size.
LAYOUT_JS = """
async () => {
  const notebook = document.getElementById('notebook');
  const pictures = [...document.images].filter(
    img => notebook.compareDocumentPosition(img) & Node.DOCUMENT_POSITION_FOLLOWING);
  await Promise.all(pictures.map(img => img.decode().catch(() => null)));
  const box = el => { const r = el.getBoundingClientRect(); return [r.width, r.height]; };
  return {
    maths: [...document.querySelectorAll('math')].map(m => ({
      mathml: m instanceof MathMLElement,
      display: m.getAttribute('display'),
      box: box(m),
    })),
    matrix: box(document.querySelector('math[display=block] mtable')),
    letter: box(document.querySelector('math[display=inline] mi')),
    pictures: pictures.map(img => [img.src.split(';')[0], img.naturalWidth, img.naturalHeight]),
    policy: document.head.firstElementChild.content,
    // Pictures the sanitiser took the src of (a remote badge): shown or not.
    unsourced: [...document.images].filter(img => !img.hasAttribute('src')).map(
      img => [img.alt, getComputedStyle(img).display, ...box(img)]),
  };
}
"""


@pytest.fixture(scope="module")
def page_path(tmp_path_factory) -> Path:
    return graded_page(tmp_path_factory.mktemp("feedback") / "course")


@pytest.fixture
def page(chromium):
    """A Chromium page; requests anywhere but file: and data: are stopped and kept, and so
    are the console's messages (a Content-Security-Policy violation is reported there)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True
        )
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.elsewhere, page.messages = [], []
        context.route(
            re.compile(r"^(?!file:|data:|about:)"),
            lambda route: (page.elsewhere.append(route.request.url), route.abort()),
        )
        page.on("console", lambda message: page.messages.append(message.text))
        try:
            yield page
        finally:
            browser.close()


def test_maths_and_figures_show_under_the_policy(page, page_path):
    page.goto(page_path.as_uri(), wait_until="load")
    layout = page.evaluate(LAYOUT_JS)

    assert layout["policy"] == CONTENT_SECURITY_POLICY
    # Every formula is a MathML element with a box of its own.
    assert len(layout["maths"]) >= 7
    for math in layout["maths"]:
        assert math["mathml"] and math["box"][0] > 0 and math["box"][1] > 0, math
    assert {m["display"] for m in layout["maths"]} == {"inline", "block"}
    # Laid out as maths, not as a run of text: the 2-row matrix is taller than a letter.
    assert layout["matrix"][1] > 1.5 * layout["letter"][1], layout
    # The graded run's matplotlib PNG and make_dot's SVG, decoded (a blocked or broken image
    # has no natural size).
    kinds = sorted(src for src, width, height in layout["pictures"] if width > 0 and height > 0)
    assert kinds == ["data:image/png", "data:image/svg+xml"], layout["pictures"]
    # A remote picture (the notebooks' Colab badge) is not fetched, and not shown broken.
    assert layout["unsourced"] == [["Open In Colab", "none", 0, 0]], layout["unsourced"]
    assert page.elsewhere == []
    assert [m for m in page.messages if "Content Security Policy" in m] == []

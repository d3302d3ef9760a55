"""Drive one JupyterLab page with Playwright: open a notebook, Run All, read back what the
browser shows (prompts, error outputs, rendered pictures), press nbgrader's Validate.

Everything is read from the live page: the DOM (prompts, rendered tracebacks, <img> data URLs,
the status bar) and the notebook model behind it (``window.jupyterapp``, exposed by the server
fixture with ``--LabApp.expose_app_in_browser``) for execution counts and error outputs.
"""

from __future__ import annotations

import base64
import re
import struct
import time
import urllib.parse
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from grader.release import ROOT

# The notebook panel showing `path`, its kernel, and every code cell as the user sees it.
SNAPSHOT_JS = """
([path, withImages]) => {
  const app = window.jupyterapp;
  if (!app) return {error: 'window.jupyterapp is not exposed'};
  let panel = null;
  for (const widget of app.shell.widgets('main')) {
    if (widget.context && widget.context.path === path) panel = widget;
  }
  const statusbar = (document.querySelector('#jp-main-statusbar') || {}).innerText || '';
  const dialogs = [...document.querySelectorAll('.jp-Dialog')].map(d => d.innerText);
  if (!panel) return {panel: false, statusbar, dialogs, cells: []};
  const session = panel.sessionContext.session;
  const kernel = session && session.kernel;
  const kernelName = (panel.node.querySelector('.jp-Toolbar-kernelName') || {}).innerText || '';
  const cells = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    const outputs = cell.model.outputs.toJSON();
    const stderr = [...cell.node.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')];
    cells.push({
      index,
      prompt: ((cell.node.querySelector('.jp-InputPrompt') || {}).textContent || '').trim(),
      count: cell.model.executionCount,
      errors: outputs.filter(o => o.output_type === 'error')
                     .map(o => ({ename: o.ename, evalue: o.evalue})),
      tracebacks: stderr.map(e => e.textContent).filter(t => t.includes('Traceback')),
      images: [...cell.node.querySelectorAll('.jp-OutputArea-output img')].map(img => ({
        src: withImages ? img.getAttribute('src') : (img.getAttribute('src') || '').slice(0, 40),
        width: img.naturalWidth,
      })),
    });
  });
  return {
    panel: true, statusbar, dialogs, kernelName, cells,
    kernel: kernel ? {status: kernel.status, connection: kernel.connectionStatus} : null,
  };
}
"""

# Markdown cells whose LaTeX MathJax could not typeset ("Math input error" in the page).
MATH_ERRORS_JS = """
(path) => {
  const found = [];
  for (const widget of window.jupyterapp.shell.widgets('main')) {
    if (!widget.context || widget.context.path !== path) continue;
    widget.content.widgets.forEach((cell, index) => {
      if (cell.model.type !== 'markdown') return;
      const errors = [...cell.node.querySelectorAll('mjx-merror')];
      if (errors.length) found.push({index, errors: errors.map(
        e => e.getAttribute('data-mjx-error') || e.textContent)});
    });
  }
  return found;
}
"""

KERNEL_ID_JS = """
(path) => {
  for (const widget of window.jupyterapp.shell.widgets('main')) {
    if (widget.context && widget.context.path === path) {
      return widget.sessionContext.session.kernel.id;
    }
  }
  return null;
}
"""

SCROLL_JS = """
([path, index]) => {
  for (const widget of window.jupyterapp.shell.widgets('main')) {
    if (widget.context && widget.context.path === path) {
      const cell = widget.content.widgets[index];
      widget.content.activeCellIndex = index;
      cell.node.scrollIntoView({block: 'start'});
      return true;
    }
  }
  return false;
}
"""

ARTIFACTS = ROOT / "artifacts" / "browser"  # screenshots and the server log (git-ignored)
SVG_PREFIX = "data:image/svg+xml,"  # JupyterLab's <img> for image/svg+xml: URL-encoded SVG
PNG_PREFIX = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GRAD_FN = re.compile(r"\b[A-Z]\w*Backward\d*\b|\bAccumulateGrad\b")
SVG_NS = "{http://www.w3.org/2000/svg}"


@dataclass
class Cell:
    index: int  # position among all cells of the notebook (markdown included)
    prompt: str
    count: int | None
    errors: list[dict]
    tracebacks: list[str]
    images: list[dict] = field(default_factory=list)

    @property
    def svgs(self) -> list[str]:
        return [decode_svg(i["src"]) for i in self.images if i["src"].startswith(SVG_PREFIX)]

    @property
    def pngs(self) -> list[bytes]:
        return [decode_png(i["src"]) for i in self.images if i["src"].startswith(PNG_PREFIX)]


@dataclass
class Snapshot:
    panel: bool
    statusbar: str
    dialogs: list[str]
    cells: list[Cell]
    kernel: dict | None = None
    kernel_name: str = ""  # the toolbar's kernel button ("No Kernel" until one is attached)

    @property
    def kernel_ready(self) -> bool:
        """The status bar says Idle AND a kernel is really attached and connected."""
        return (
            self.panel
            and re.search(r"\|\s*Idle\b", self.statusbar) is not None
            and "No Kernel" not in self.kernel_name
            and self.kernel == {"status": "idle", "connection": "connected"}
        )

    @property
    def running(self) -> bool:
        return any(c.prompt == "[*]:" for c in self.cells)

    def cell(self, index: int) -> Cell:
        (found,) = [c for c in self.cells if c.index == index]
        return found


def decode_svg(src: str) -> str:
    """JupyterLab shows image/svg+xml as <img src="data:image/svg+xml,<url-encoded svg>">."""
    assert src.startswith(SVG_PREFIX), src[:60]
    return urllib.parse.unquote(src[len(SVG_PREFIX) :])


def decode_png(src: str) -> bytes:
    assert src.startswith(PNG_PREFIX), src[:60]
    return base64.b64decode(src[len(PNG_PREFIX) :])


def svg_labels(svg: str) -> list[str]:
    """The text of every <text> element of an SVG (Graphviz writes node labels there)."""
    root = ET.fromstring(svg.encode())
    assert root.tag == SVG_NS + "svg", root.tag
    return [t.text for t in root.iter(SVG_NS + "text") if t.text]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC, data[:8]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


class NotebookError(AssertionError):
    """A cell failed that should not have (raised as soon as it shows up)."""


class NotebookPage:
    def __init__(self, page, server, workspace: str):
        self.page = page
        self.server = server
        self.workspace = workspace
        self.path = ""

    # ----------------------------------------------------------------------------- reading
    def snapshot(self, with_images: bool = False) -> Snapshot:
        raw = self.page.evaluate(SNAPSHOT_JS, [self.path, with_images])
        if "error" in raw:
            raise RuntimeError(raw["error"])
        raw["cells"] = [Cell(**c) for c in raw["cells"]]
        raw["kernel_name"] = raw.pop("kernelName", "")
        return Snapshot(**raw)

    def wait(self, predicate, what: str, timeout: float, fail=None) -> Snapshot:
        """Poll snapshots until `predicate` holds on two polls in a row; `fail(snapshot)` may
        raise early; a JupyterLab dialog nobody asked for fails at once."""
        deadline = time.monotonic() + timeout
        held = 0
        while True:
            snap = self.snapshot()
            if snap.dialogs:
                raise AssertionError(f"unexpected dialog while waiting for {what}: {snap.dialogs}")
            if snap.kernel and snap.kernel["status"] in ("dead", "autorestarting", "restarting"):
                raise AssertionError(f"the kernel died while waiting for {what}: {summary(snap)}")
            if fail is not None:
                fail(snap)
            held = held + 1 if predicate(snap) else 0
            if held >= 2:
                return snap
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} not reached in {timeout:.0f} s: {summary(snap)}")
            self.page.wait_for_timeout(200)

    # ----------------------------------------------------------------------------- acting
    def open(self, path: str, timeout: float = 90) -> Snapshot:
        """Open `path` in a fresh workspace and wait for a connected, idle kernel (started
        through the REST API while the page loads: the page finds it and attaches to it)."""
        self.path = path
        url = (
            f"{self.server.url}lab/workspaces/{self.workspace}/tree/{path}"
            f"?reset&token={self.server.token}"
        )
        with ThreadPoolExecutor(1) as pool:
            session = pool.submit(self.server.start_kernel, path)
            self.page.goto(url)
            self.page.wait_for_selector(".jp-NotebookPanel", timeout=timeout * 1000)
            kernel_id = session.result()["kernel"]["id"]
        snap = self.wait(lambda s: s.kernel_ready, "an idle kernel", timeout)
        attached = self.page.evaluate(KERNEL_ID_JS, path)
        assert attached == kernel_id, f"the page uses kernel {attached}, not {kernel_id}"
        return snap

    def run_all(self, fail, timeout: float = 150) -> Snapshot:
        """Run > Run All Cells, then wait until it is over: the kernel is attached and idle,
        no cell shows [*], execution counts have appeared, and every cell is rendered
        (JupyterLab first attaches far-down cells as placeholders, without a prompt)."""
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

        def finished(snap: Snapshot) -> bool:
            return (
                snap.kernel_ready
                and not snap.running
                and any(c.count is not None for c in snap.cells)
                and all(c.prompt for c in snap.cells)
            )

        self.wait(finished, "the end of Run All", timeout, fail=fail)
        return self.snapshot(with_images=True)

    def validate(self, timeout: float = 150) -> dict:
        """Press nbgrader's Validate toolbar button; return what its result dialog lists."""
        self.page.locator(".jp-NotebookPanel-toolbar .validate-button").click()
        dialog = self.page.locator(".jp-Dialog")
        dialog.wait_for(timeout=timeout * 1000)
        # Other titles: "Validation failed" (cannot save/reach the server), "Version Mismatch".
        title = dialog.locator(".jp-Dialog-header").inner_text()
        assert title.strip() == "Validation Results", f"{title}: {dialog.inner_text()[:2000]}"
        message = dialog.locator("#validation-message")
        result = {
            "classes": message.get_attribute("class").split(),
            "text": message.inner_text(),
            # Each failure: "The following cell failed:", its source, its error (both <pre>).
            "failed": _failures(message),
        }
        dialog.get_by_role("button", name="Ok").click()
        return result

    def math_errors(self) -> list[dict]:
        return self.page.evaluate(MATH_ERRORS_JS, self.path)

    def scroll_to(self, index: int) -> None:
        """Bring cell `index` to the top of the notebook (twice: offscreen cells have
        estimated heights until they render)."""
        for _ in range(2):
            assert self.page.evaluate(SCROLL_JS, [self.path, index])
            self.page.wait_for_timeout(200)

    def screenshot(self, path: Path, best_effort: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.page.screenshot(path=str(path))
        except Exception:
            if not best_effort:
                raise


def _failures(message) -> list[dict]:
    texts = message.locator(".jp-RenderedText pre").all_inner_texts()
    return [{"source": s, "error": e} for s, e in zip(texts[::2], texts[1::2], strict=True)]


def summary(snap: Snapshot) -> str:
    prompts = " ".join(c.prompt for c in snap.cells)
    return f"kernel={snap.kernel} statusbar={snap.statusbar[:80]!r} prompts: {prompts[:400]}"

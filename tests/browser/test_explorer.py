"""``explore(y)`` in a real JupyterLab and Chromium: the widget shows torch's gradients.

A small notebook (written into the server's copy of the course) builds a graph with a shared
node (``u`` feeds both ``sin`` and ``**2``) in autograd_lite and shows ``explore(y)``. The
test clicks through every step with the widget's buttons and reads what the page shows
(the panel's ``data-grad`` attributes) against the same graph in real torch, computed here:
each node's arriving gradient, what it sends to each input, and the leaves' ``.grad`` after
"run to end" against torch's ``y.backward()``. A screenshot of the widget mid-pass goes to
artifacts/browser/explorer.png: the README's notebooks/explorer.png (copy it over to refresh
that picture).
"""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest
import torch
from labpage import ARTIFACTS, NotebookError

from autograd_lite.explore import explore

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

GRAPH = """\
x = torch.tensor([1.0, 2.0], requires_grad=True)
w = torch.tensor([0.5, -1.0], requires_grad=True)
u = x * w
y = (u.sin() + u**2).sum()
"""
PATH = "explorer/explore.ipynb"


def write_notebook(root) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import autograd_lite as torch\nfrom autograd_lite.viz import explore"
        ),
        nbformat.v4.new_code_cell(GRAPH + "explore(y)"),
    ]
    (root / "explorer").mkdir(exist_ok=True)
    nbformat.write(nb, root / PATH)


def torch_reference():
    """The same graph in real torch: explore's record of torch's own hooks, by vertex, and
    torch's grads (an independent check: autograd.grad for u, backward() for the leaves)."""
    scope = {"torch": torch}
    exec(GRAPH, scope)
    named = {name: scope[name] for name in ("x", "w", "u", "y")}  # the notebook's names
    steps = {s.vertex: s for s in explore(scope["y"], params=named).steps}
    (du,) = torch.autograd.grad(scope["y"], scope["u"], retain_graph=True)
    scope["y"].backward()
    leaves = {name: scope[name].grad.numpy() for name in ("x", "w")}
    return steps, du.numpy(), leaves


def close(a, b) -> bool:
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=1e-5, atol=1e-6)


def shown(widget) -> dict:
    """What the panel shows now, read from its data attributes."""

    def grads(testid, key):
        items = widget.locator(f'[data-testid="{testid}"]')
        return {
            items.nth(i).get_attribute(key): json.loads(items.nth(i).get_attribute("data-grad"))
            for i in range(items.count())
        }

    node = widget.locator('[data-testid="explore-node"]')
    counter = widget.locator('[data-testid="explore-counter"]')
    return {
        "counter": counter.inner_text(),
        "step": int(counter.get_attribute("data-step")),
        "total": int(counter.get_attribute("data-total")),
        "node": node.get_attribute("data-node") if node.count() else None,
        "vertex": int(node.get_attribute("data-vertex")) if node.count() else None,
        "grad_in": (
            json.loads(widget.locator('[data-testid="explore-grad-in"]').get_attribute("data-grad"))
            if node.count()
            else None
        ),
        "inputs": grads("explore-input", "data-to"),
        "contributions": grads("explore-contribution", "data-from"),
        "leaves": grads("explore-leaf-grad", "data-leaf"),
    }


def test_click_through_every_step_and_run_to_end(lab):
    write_notebook(lab.server.root)
    reference, du, leaves = torch_reference()
    lab.open(PATH)

    def fail(snap):
        for cell in snap.cells:
            if cell.errors or cell.tracebacks:
                raise NotebookError(f"cell {cell.index} failed: {cell.errors} {cell.tracebacks}")

    lab.run_all(fail=fail)
    widget = lab.page.locator('[data-testid="explore"]')
    widget.wait_for(timeout=60_000)
    first = shown(widget)
    assert first["counter"] == f"step 0 of {len(reference)}" and first["node"] is None

    seen, screenshot = [], None
    for k in range(1, len(reference) + 1):
        widget.locator('[data-testid="explore-next"]').click()
        lab.page.wait_for_function(
            "k => document.querySelector('[data-testid=\"explore-counter\"]')"
            ".getAttribute('data-step') == k",
            arg=str(k),
        )
        now = shown(widget)
        assert now["counter"] == f"step {k} of {len(reference)}"
        expected = reference[now["vertex"]]  # torch's step for the same node
        assert now["node"] == expected.node
        assert close(now["grad_in"], expected.grad_in), (now, expected)
        assert now["inputs"].keys() == {str(i.to) for i in expected.inputs}
        for sent in expected.inputs:
            assert close(now["inputs"][str(sent.to)], sent.grad), (now, sent)
        if now["node"] == "MulBackward0":  # the shared node: two paths, summed; torch's du
            assert len(now["contributions"]) == 2
            assert close(sum(np.asarray(g) for g in now["contributions"].values()), du)
            assert close(now["grad_in"], du)
            screenshot = ARTIFACTS / "explorer.png"
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            widget.screenshot(path=str(screenshot))
        if expected.kind == "leaf":
            (name,) = [g["name"] for g in expected.leaf_grads if g["vertex"] == expected.vertex]
            assert close(now["leaves"][name], leaves[name]), (name, now["leaves"])
        seen.append(now["vertex"])
    assert sorted(seen) == sorted(reference)  # every node once
    assert widget.locator('[data-testid="explore-next"]').is_disabled()
    assert screenshot is not None and screenshot.stat().st_size > 10_000

    widget.locator('[data-testid="explore-start"]').click()
    lab.page.wait_for_function(
        "document.querySelector('[data-testid=\"explore-counter\"]').getAttribute('data-step') == '0'"
    )
    assert all(g is None for g in shown(widget)["leaves"].values())
    widget.locator('[data-testid="explore-end"]').click()
    lab.page.wait_for_function(
        "document.querySelector('[data-testid=\"explore-counter\"]').getAttribute('data-step') != '0'"
    )
    end = shown(widget)
    assert end["step"] == end["total"] == len(reference)
    assert end["leaves"].keys() == leaves.keys()
    for name, grad in leaves.items():
        assert close(end["leaves"][name], grad), name  # run to end == torch's y.backward()
    # The picture: every node visited, every edge labelled with what it carried.
    assert widget.locator("svg g.node.ale-visited").count() == len(reference) - 1
    assert widget.locator("svg g.edge.ale-pending").count() == 0

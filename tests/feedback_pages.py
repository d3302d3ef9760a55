"""A small course notebook graded for real, and its feedback page (tests/test_feedback_view.py
and tests/browser/test_feedback_page.py).

The notebook has what a feedback page must show as the student saw it: maths in markdown, a
matplotlib figure and a ``make_dot`` graph; its exercise heading carries its points and its
markdown a ``# comment`` in a code fence. Its own files: the course notebooks in solutions/
change under other hands.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.autograde import grade
from grader.execute import collect, run
from grader.feedback import write_feedback
from grader.results import ExerciseResult, NotebookResult

# MathML Core's presentation elements: all a page may hold of MathML (what the maths renderer
# writes). Kept here, apart from grader/feedback.py's own list, so the tests check the
# renderer against an independent statement rather than against itself.
MATHML_ELEMENTS = {
    "math", "mrow", "mi", "mo", "mn", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror", "mmultiscripts", "mprescripts",
    "none",
}  # fmt: skip

INTRO = r"""# Gradients

[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/)

The derivative of $y = x^2$ is $\frac{\partial y}{\partial x} = 2x$, and for a vector
$\mathbf{x}$ the sum $\sum_i x_i^2$ has the gradient $2\mathbf{x}^\top$:

$$
\mathbf{J} = \begin{pmatrix} 2 x_1 & 0 \\ 0 & 2 x_2 \end{pmatrix}
$$

A broken formula shows as its source: $\frac{1}{$.
"""
EXERCISE = r"""### Exercise 1 (2 points, 1 per part): the slope of $x^2$ at 2

```python
# (a) what is x.grad now?
```
"""
PLOT = """\
import matplotlib.pyplot as plt

plt.plot([0, 1, 2], [0, 1, 4])
plt.title("x squared")
plt.show()
"""
GRAPH = """\
import autograd_lite as torch
from autograd_lite.viz import make_dot

x = torch.tensor(2.0, requires_grad=True)
y = x * x
y.backward()
make_dot(y, params={"x": x})
"""
SOLUTION = "slope = float(x.grad)\n"
TEST = """\
assert slope == 4.0, "the slope of x**2 at 2 is 4"
### BEGIN HIDDEN TESTS
from grader.answers import check

check("slope", slope)
### END HIDDEN TESTS
"""
GRADE_ID = "slope-tests"
TITLE = "Exercise 1: the slope of"  # then the formula, as MathML


def course_notebook():
    solution = new_code_cell(
        SOLUTION,
        metadata={"nbgrader": {"grade": False, "solution": True, "grade_id": "slope"}},
    )
    test = new_code_cell(
        TEST,
        metadata={
            "nbgrader": {"grade": True, "solution": False, "grade_id": GRADE_ID, "points": 2}
        },
    )
    return new_notebook(
        cells=[
            new_markdown_cell(INTRO),
            new_code_cell(PLOT),
            new_code_cell(GRAPH),
            new_markdown_cell(EXERCISE),
            solution,
            test,
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def graded_page(folder: Path, *, figures: bool = True) -> Path:
    """Grade the notebook as its own submission (sandboxed, real kernel, references from a
    sandboxed run of it) and write its feedback page; returns the page's path."""
    folder.mkdir(parents=True, exist_ok=True)
    source = course_notebook()
    references = collect(run(source, folder).notebook)
    graded = grade(source, source, references, folder, figures=figures)
    executed = folder / "executed.ipynb"
    nbformat.write(graded.executed, executed)
    exercises = [
        ExerciseResult(e.grade_id, e.points, e.max_points, e.problems) for e in graded.exercises
    ]
    result = NotebookResult(
        "alice", "gradients", "gradients", exercises, executed_path=str(executed)
    )
    result.problems = list(graded.incidents)
    return write_feedback(result, source, folder / "feedback.html")

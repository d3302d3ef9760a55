"""The generated class of benchmarks/autograde.py --students N (benchmarks/class_scale.py).

The class-scale numbers in the README are only as good as the class they grade: these check
that it is the class the docstring promises (without grading it, which the benchmark does)."""

from __future__ import annotations

import collections
import sys
from pathlib import Path

import nbformat
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

import class_scale  # noqa: E402

from grader.sample_class import assignments  # noqa: E402
from grader.submissions import _student_id  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 400))
def test_every_class_has_one_looping_student_and_the_archetypes_in_turn(students):
    people = class_scale.roster(students)
    assert people == class_scale.roster(students)  # the same class for the same size
    kinds = collections.Counter(kind for _, kind in people)
    assert kinds["looping"] == 1
    assert len({student for student, _ in people}) == students
    others = [kind for _, kind in people if kind != "looping"]
    for archetype in class_scale.ARCHETYPES:  # each within one of an even share
        assert abs(others.count(archetype) - len(others) / 4) <= 1
    for student, _ in people:  # ids the grader keeps as they are, unflagged
        assert _student_id(student) == (student, [])


def test_the_class_is_written_as_an_lms_folder_of_notebooks(tmp_path):
    expected = class_scale.generate_class(tmp_path, 5)
    names = assignments()
    assert len(expected) == 5 * len(names)
    for student, assignment, stem, points in expected:
        path = tmp_path / student / assignment / f"{stem}.ipynb"
        nbformat.validate(nbformat.read(str(path), 4))
        assert points >= 0
    totals = collections.defaultdict(float)
    for student, _, _, points in expected:
        totals[student.split("-", 1)[1]] += points
    # the perfect student scores most, the blank hand-in least
    assert totals["perfect"] == max(totals.values())
    assert totals["blank"] == min(totals.values())

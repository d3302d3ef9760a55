"""PyTorch's own tests, run under torch 2.13 and under autograd_lite (issue 14, requirement 1).

The tests are those of ``TestAutograd`` (pytorch ``test/test_autograd.py``),
``TestAutogradFunctional`` (``test/autograd/test_functional.py``) and ``TestTypePromotion``
(``test/test_type_promotion.py``) that stay inside the library's claim, chosen mechanically by
``tests/conformance/select_tests.py`` (its docstring states the rule).  The upstream files are
never committed: they are read from ``$PYTORCH_TESTS_DIR`` (default ``build/pytorch-tests/``,
git-ignored); without them every item here is skipped.  The copies used, from the index of
public repositories this project can read, are
``test_autograd.py`` at pytorch/pytorch@5c322af10e52 (up to the end of ``class TestAutograd``),
``test_functional.py`` at pytorch/pytorch@68e217b9e71f, and ``test_type_promotion.py`` from
maggiemoss/pytorch@4b78f85938a6, a fork mirroring upstream, because the index's
pytorch/pytorch copy is from 2020 and no longer imports.  None is the v2.13.0 tag itself (the
index does not hold it): the tests whose expectations differ from torch 2.13 are listed, one
reason each, in ``tests/conformance/excluded.toml``.

Each selected test is one item per library.  A library's items share one subprocess
(``tests/conformance/runner.py``), where ``torch`` is bound to that library, so binding it to
autograd_lite cannot leak into other tests; a test that takes that process down is reported as
failed and the rest run in a new one.  Under torch every item must pass: that checks the
harness (``tests/conformance/shim.py``).  Under autograd_lite the failures known today are
``xfail(strict=True)`` from ``tests/conformance/known_failures.toml``: a fix shows up as an
XPASS, which fails the suite until the line is removed, so that list can only shrink.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conformance import select_tests

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; `make test` runs on the venv's 3.11

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).parent / "conformance"
UPSTREAM = Path(os.environ.get("PYTORCH_TESTS_DIR", ROOT / "build" / "pytorch-tests"))
LIBS = ("torch", "autograd_lite")


def _table(file: str, name: str) -> dict:
    with open(HERE / file, "rb") as f:
        return tomllib.load(f)[name]


EXCLUDED = _table("excluded.toml", "excluded")
KNOWN_FAILURES = _table("known_failures.toml", "known_failures")
PRESENT = all((UPSTREAM / name).is_file() for name in select_tests.FILES)
IN_CLAIM = [i for i in select_tests.select(UPSTREAM) if not i.reasons] if PRESENT else []
SELECTED = [i for i in IN_CLAIM if i.id not in EXCLUDED]


def _params() -> list:
    if not PRESENT:
        why = f"PyTorch's test files are not in {UPSTREAM} (they are never committed)"
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=why))]
    params = []
    for lib in LIBS:
        for test in SELECTED:
            marks = []
            if lib == "autograd_lite" and test.id in KNOWN_FAILURES:
                marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_FAILURES[test.id]))
            name = test.id.replace("::", ".")
            params.append(pytest.param(lib, test.id, marks=marks, id=f"{lib}-{name}"))
    return params


# --------------------------------------------------------------------------------------------
# Running a library's tests: one subprocess, restarted past a test that kills it
# --------------------------------------------------------------------------------------------

_RESULTS: dict = {}


def _run(lib: str, generated: Path, ids: list) -> dict:
    results: dict = {}
    log = generated / f"results-{lib}.jsonl"
    remaining = list(ids)
    while remaining:
        log.unlink(missing_ok=True)
        cmd = [sys.executable, str(HERE / "runner.py"), lib, str(generated), str(log), *remaining]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
        records = (
            [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
        )
        for record in records:
            if "outcome" in record:
                results[record["id"]] = record
        tail = (done.stderr.strip().splitlines() or [""])[-1]
        died = {
            "outcome": "failed",
            "message": f"the test process died ({done.returncode}): {tail}",
        }
        if not records:  # it could not even start: every test fails alike
            return {**results, **{i: {"id": i, **died} for i in remaining}}
        last = records[-1]
        if "start" in last:  # this test took the process down; the others run again
            results[last["start"]] = {"id": last["start"], **died}
        remaining = [i for i in remaining if i not in results]
    return results


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    return select_tests.write(SELECTED, tmp_path_factory.mktemp("conformance"), UPSTREAM)


def _result(lib: str, test_id: str, generated: Path) -> dict:
    if lib not in _RESULTS:
        _RESULTS[lib] = _run(lib, generated, [i.id for i in SELECTED])
    return _RESULTS[lib][test_id]


@pytest.mark.parametrize(("lib", "test_id"), _params())
def test_upstream(lib, test_id, generated):
    result = _result(lib, test_id, generated)
    if result["outcome"] == "skipped":
        pytest.skip(result["message"])
    where = f" ({result['where']})" if result.get("where") else ""
    assert result["outcome"] == "passed", f"{lib}: {result['message']}{where}"


def _shim_case():
    from conformance import shim

    shim.bind("torch")  # in this process torch is torch already: nothing leaks
    return shim.TestCase()


def _t(*args, **kwargs):
    import torch

    return torch.tensor(*args, **kwargs)


# (actual, expected, assertEqual keywords, equal?) checked against torch.testing's own rules
SHIM_CASES = [
    (lambda: _t([1.0, 2.0]), lambda: _t([1.0, 2.0]), {}, True),
    (lambda: _t([1.0, 2.0]), lambda: _t([1.0, 2.001]), {}, False),  # float32: rtol 1.3e-6
    (lambda: _t([1.0]), lambda: _t([1.0 + 1e-7]), {}, True),
    (lambda: _t([1.0], dtype=float), lambda: _t([1.0]), {}, False),  # dtype
    (lambda: _t([1.0], dtype=float), lambda: _t([1.0]), {"exact_dtype": False}, True),
    (lambda: _t([1.0, 1.0]), lambda: _t([[1.0, 1.0]]), {}, False),  # shape
    (lambda: _t([1, 2]), lambda: _t([1, 3]), {}, False),  # integers: exact
    (lambda: _t(3.0), lambda: 3.0, {}, True),  # a one-element tensor is a number
    (lambda: _t([float("nan")]), lambda: _t([float("nan")]), {}, True),
    (lambda: _t([1.0]), lambda: _t([1.1]), {"atol": 0.2, "rtol": 0}, True),
    (lambda: (1, 2), lambda: [1, 2], {}, True),
    (lambda: 0.1 + 0.2, lambda: 0.3, {}, True),
    (lambda: 1.0, lambda: 1.1, {}, False),
]


@pytest.mark.parametrize(("actual", "expected", "kwargs", "equal"), SHIM_CASES)
def test_shim_assert_equal_follows_torch(actual, expected, kwargs, equal):
    """The shim's assertEqual accepts and rejects what torch.testing.assert_close does."""
    import torch

    a, e = actual(), expected()
    case = _shim_case()
    outcome = True
    try:
        case.assertEqual(a, e, **kwargs)
    except AssertionError:
        outcome = False
    assert outcome == equal
    if isinstance(a, torch.Tensor):  # and that is torch's verdict too
        try:
            torch.testing.assert_close(
                a, e if isinstance(e, torch.Tensor) else torch.tensor(e, dtype=a.dtype),
                check_dtype=kwargs.get("exact_dtype", True), equal_nan=True,
                atol=kwargs.get("atol"), rtol=kwargs.get("rtol"),
            )  # fmt: skip
            torch_equal = True
        except AssertionError:
            torch_equal = False
        assert torch_equal == equal


def test_lists_name_selected_tests():
    """excluded.toml and known_failures.toml may only name in-claim tests, each once."""
    if not PRESENT:
        pytest.skip(f"PyTorch's test files are not in {UPSTREAM}")
    in_claim = {i.id for i in IN_CLAIM}
    assert set(EXCLUDED) <= in_claim, set(EXCLUDED) - in_claim
    assert set(KNOWN_FAILURES) <= in_claim - set(EXCLUDED), set(KNOWN_FAILURES) - in_claim

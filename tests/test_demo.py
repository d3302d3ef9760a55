"""`make demo` runs ``python -m autograd_lite.demo``: it must run and draw its graph."""

from __future__ import annotations

import subprocess
import sys


def test_demo_tour_prints_torchs_answers_and_writes_the_graph(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "autograd_lite.demo", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "dy/dx = tensor(34.)" in run.stdout
    assert "f_xx=2.0  f_xw=10.0  f_wx=10.0  f_ww=50.0" in run.stdout
    assert "hint:" in run.stdout
    svg = (tmp_path / "chain_rule.svg").read_text()
    for label in ("PowBackward0", "AddBackward0", "MulBackward0", ">x<", ">w<"):
        assert label.replace(">", "").replace("<", "") in svg
    assert run.stderr == ""

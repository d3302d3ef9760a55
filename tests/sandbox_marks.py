"""``needs_sandbox``: for tests that grade in sandboxed kernels (bubblewrap and user namespaces).

On a machine without them (a laptop without bubblewrap, user namespaces switched off) those
tests are skipped with the reason, as the browser tests skip without Chromium. Not under CI
(CI=true): there `make test` installs bubblewrap, and a sandbox that cannot be built must fail.
"""

from __future__ import annotations

import os

import pytest

from grader.sandbox import sandbox_problem

_PROBLEM = None if os.environ.get("CI") else sandbox_problem()

needs_sandbox = pytest.mark.skipif(
    _PROBLEM is not None, reason=f"no sandbox for student kernels here: {_PROBLEM}"
)

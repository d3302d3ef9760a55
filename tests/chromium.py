"""Debian's Chromium as the tests start it (tests/browser/ and tests/test_feedback_safety.py)."""

from __future__ import annotations

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Without these Chromium waits on connections the sandbox blocks (sync, updates, QUIC...):
# nothing may reach past this machine.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

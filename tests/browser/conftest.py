"""A real JupyterLab on a temp copy of the course, and a real Chromium driven by Playwright.

One server and one browser per module (starting them costs seconds); each test gets a new
page in a fresh JupyterLab workspace (``/lab/workspaces/<unique>?reset``) with freshly written
user settings, and its kernels are shut down afterwards. Never uses the repository's files in
place: the notebooks are copied, so Run All and Validate (which saves) touch only the copy.

Debian's Chromium is used as is (``/usr/bin/chromium``, or $CHROMIUM): no browser download.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from labpage import ARTIFACTS, NotebookPage

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the shared helpers
from chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from grader.release import ROOT

VIEWPORT = {"width": 1400, "height": 900}
TOKEN = "browser-tests-token"
# Per-run user settings: no "news" popup, no update check (both would reach the network).
NOTIFICATION_PLUGIN = "@jupyterlab/apputils-extension:notification"
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


@dataclass
class LabServer:
    url: str  # ends with "/"
    token: str
    root: Path  # the served copy
    settings_dir: Path
    workspaces_dir: Path
    process: subprocess.Popen
    log: Path
    # Kernels are shut down in the background while the next test loads its page.
    cleaner: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1))
    closing: dict = field(default_factory=dict)  # notebook path -> its session's shutdown

    def request(self, method: str, endpoint: str, timeout: float = 10, body=None):
        request = urllib.request.Request(
            self.url + endpoint,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode(),
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def write_settings(self) -> None:
        """Fresh user settings (the server reads them from disk on every page load)."""
        shutil.rmtree(self.settings_dir, ignore_errors=True)
        for name, values in SETTINGS.items():
            path = self.settings_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def shutdown_sessions(self) -> None:
        """Shut down every kernel the last test started (in the background: each test opens
        another notebook, which gets a kernel of its own)."""
        for session in self.request("GET", "api/sessions"):
            future = self.cleaner.submit(self.delete_session, session["id"])
            self.closing[session["path"]] = future

    def start_kernel(self, path: str) -> dict:
        """Start the notebook's kernel the way JupyterLab does (a session for its path), so
        that it boots while the page loads; the page then attaches to it."""
        if path in self.closing:  # a fresh kernel, not the last test's (same notebook)
            self.closing.pop(path).result()
        body = {"path": path, "name": Path(path).name, "type": "notebook"}
        body["kernel"] = {"name": "python3"}
        return self.request("POST", "api/sessions", timeout=60, body=body)

    def delete_session(self, session_id: str) -> None:
        try:
            self.request("DELETE", f"api/sessions/{session_id}", timeout=30)
        except urllib.error.HTTPError:  # already gone
            pass

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def copy_course(destination: Path) -> Path:
    """The notebooks (solutions/ and notebooks/) and the course's nbgrader_config.py.

    The config matters: nbgrader's Validate handler loads nbgrader_config.py from the
    server's working directory, which is this copy.
    """
    ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
    for folder in ("solutions", "notebooks"):
        shutil.copytree(ROOT / folder, destination / folder, ignore=ignore)
    shutil.copy2(ROOT / "nbgrader_config.py", destination / "nbgrader_config.py")
    return destination


@pytest.fixture(scope="session")
def chromium() -> Path:
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set $CHROMIUM)"
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def lab_server(tmp_path_factory, chromium) -> LabServer:
    """JupyterLab on 127.0.0.1 with a fixed token, serving a temp copy of the course."""
    base = tmp_path_factory.mktemp("jupyterlab")
    root = copy_course(base / "course")
    settings_dir, workspaces_dir = base / "settings", base / "workspaces"
    workspaces_dir.mkdir()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # One log per xdist worker (each worker that runs browser tests starts its own server).
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    log = ARTIFACTS / f"jupyterlab-server{'-' + worker if worker else ''}.log"
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        "--ServerApp.open_browser=False",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={settings_dir}",
        f"--LabApp.workspaces_dir={workspaces_dir}",
        # window.jupyterapp: the tests read the notebook model (execution counts, errors).
        "--LabApp.expose_app_in_browser=True",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    env = dict(
        os.environ,
        # Nothing from the user's own Jupyter/IPython setup leaks in.
        JUPYTER_CONFIG_DIR=str(base / "config"),
        JUPYTER_DATA_DIR=str(base / "data"),  # e.g. no user kernelspec named python3
        JUPYTER_RUNTIME_DIR=str(base / "runtime"),
        IPYTHONDIR=str(base / "ipython"),
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces_dir),
    )
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=root,  # nbgrader's Validate reads nbgrader_config.py from here
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to kill if it hangs
        )
    server = LabServer(
        f"http://127.0.0.1:{port}/", TOKEN, root, settings_dir, workspaces_dir, process, log
    )
    server.write_settings()
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited ({process.returncode}):\n{server.log_tail()}"
                )
            try:
                server.request("GET", "api/status", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer:\n{server.log_tail()}") from None
                time.sleep(0.25)
        news = server.request("GET", "lab/api/settings/" + NOTIFICATION_PLUGIN)["settings"]
        assert news["fetchNews"] == "false" and news["checkForUpdates"] is False, news
        yield server
    finally:
        stop(server)


def stop(server: LabServer) -> None:
    """POST /api/shutdown (which also stops the kernels), then kill the process group."""
    process = server.process
    server.cleaner.shutdown(wait=True)
    if process.poll() is None:
        try:
            server.request("POST", "api/shutdown", timeout=10)
            process.wait(timeout=20)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            pass
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)  # the server's own group: start_new_session=True
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
    process.wait()


@pytest.fixture(scope="module")
def browser_context(lab_server, chromium, tmp_path_factory):
    """One Chromium with a fresh profile for the module; tests open their own pages."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=str(chromium),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()


_workspaces = itertools.count(1)


@pytest.fixture
def lab(lab_server, browser_context, request):
    """A new page in a fresh workspace with fresh settings; kernels stopped afterwards."""
    lab_server.write_settings()
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")
    page = browser_context.new_page()
    try:
        yield NotebookPage(page, lab_server, f"t{next(_workspaces)}-{name}"[:80])
    finally:
        page.close()  # without running beforeunload: an edited notebook must not block it
        lab_server.shutdown_sessions()

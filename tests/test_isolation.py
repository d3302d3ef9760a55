"""Kernels cannot reach each other or the host: no shared files, IPC, processes, network or
terminal, and a kernel's disk, memory and process budgets are its own.

Real sandboxed kernels on tiny notebooks; two notebooks graded at once where a leak would
need them to be (a fork bomb beside an honest notebook), one after the other where a leak
would need something to survive (files, System V shared memory).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest
from sandbox_marks import needs_sandbox

from grader.cgroups import layout
from grader.execute import run
from grader.sandbox import GiB, Limits

pytestmark = [pytest.mark.slow, needs_sandbox]

ROOT = Path(__file__).resolve().parent.parent


def notebook(*sources: str):
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])


def printed(execution) -> list[str]:
    text = "".join(
        o.get("text", "") for c in execution.notebook.cells for o in c.outputs if "text" in o
    )
    return text.split()


def errors(execution) -> list[str]:
    return [
        next((o.ename for o in c.outputs if o.output_type == "error"), "")
        for c in execution.notebook.cells
    ]


@pytest.fixture(scope="module")
def empty(tmp_path_factory):
    folder = tmp_path_factory.mktemp("empty")
    folder.chmod(0o755)
    return folder


SHM = textwrap.dedent(
    """\
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget.restype = ctypes.c_int
    IPC_CREAT = 0o1000
    """
)
PLACES = ("/tmp", "/var/tmp", "/run/lock", "/dev/shm", ".", "/run")


def test_nothing_written_by_one_kernel_is_seen_by_the_next(empty):
    """Files in every writable place and a System V shared memory segment die with the
    kernel that made them (each kernel has its own tmpfs and IPC namespace)."""
    write = notebook(
        f"import os\nfor d in {PLACES!r}:\n    os.makedirs(d, exist_ok=True)\n"
        "    open(os.path.join(d, 'left-behind'), 'w').write('x')",
        SHM + "print(libc.shmget(424242, 1 << 20, IPC_CREAT | 0o666) >= 0)",
    )
    read = notebook(
        f"import os\nprint(*[os.path.exists(os.path.join(d, 'left-behind')) for d in {PLACES!r}])",
        SHM + "print(libc.shmget(424242, 1 << 20, 0) >= 0)",
    )
    first = run(write, empty)
    assert errors(first) == ["", ""] and printed(first) == ["True"]
    second = run(read, empty)
    assert printed(second) == ["False"] * len(PLACES) + ["False"]


def test_the_disk_limit_is_one_budget_for_all_writable_places(empty):
    """512 MiB in /tmp and the same in the working directory: the second write fails, and
    the host's disk never sees either (the places are one tmpfs of 300 MiB here)."""
    fill = (
        "import os\n"
        "def fill(path, mib):\n"
        "    with open(path, 'wb') as f:\n"
        "        for _ in range(mib):\n"
        "            f.write(b'x' * 2**20)\n"
        "fill('/tmp/a', 200)\nprint('first')\n"
        "fill('b', 200)\nprint('second')"
    )
    before = _disk_free()
    result = run(notebook(fill), empty, limits=Limits(disk_bytes=300 * 2**20))
    assert printed(result) == ["first"] and errors(result) == ["OSError"]
    assert abs(_disk_free() - before) < 100 * 2**20


def _disk_free() -> int:
    stats = os.statvfs(os.path.realpath("/tmp"))
    return stats.f_bavail * stats.f_frsize


FORK_BOMB = textwrap.dedent(
    """\
    import os, time
    children = 0
    try:
        for _ in range(5000):
            if os.fork() == 0:
                time.sleep(20)
                os._exit(0)
            children += 1
    except OSError:
        pass
    print('stopped at', children)
    """
)
HONEST = textwrap.dedent(
    """\
    import subprocess, time
    time.sleep(2)  # while the fork bomb holds all it can
    done = [subprocess.run(['true']).returncode for _ in range(20)]
    print('honest', sum(done) == 0)
    """
)


def test_a_fork_bomb_uses_up_its_own_process_budget_only(empty):
    limits = Limits(processes=64, cell_timeout=30)
    with ThreadPoolExecutor(2) as pool:
        bomb = pool.submit(run, notebook(FORK_BOMB), empty, limits=limits)
        honest = pool.submit(run, notebook(HONEST), empty, limits=limits)
        bomb, honest = bomb.result(), honest.result()
    assert printed(honest) == ["honest", "True"] and not honest.incidents
    stopped_at = int(printed(bomb)[-1])
    assert 10 < stopped_at < 64


@pytest.mark.skipif(layout() is None, reason="needs root and cgroup memory/pids controllers")
def test_the_memory_limit_holds_for_the_kernels_whole_tree(empty):
    """Four children of 600 MiB each stay under a 1 GiB address-space limit one by one,
    not together: the kernel's control group stops them."""
    greedy = textwrap.dedent(
        """\
        import os, time
        for _ in range(4):
            if os.fork() == 0:
                block = b"x" * (600 * 2**20)  # written: every page is resident
                time.sleep(30)
                os._exit(0)
        time.sleep(8)
        print('survived')
        """
    )
    result = run(notebook(greedy), empty, limits=Limits(memory_bytes=1 * GiB))
    assert any("for the kernel and all it started" in i for i in result.incidents)


def test_the_kernel_has_no_network(empty):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    try:
        probe = (
            "import socket\ntry:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
            "    print('connected')\nexcept OSError as error:\n    print(type(error).__name__)"
        )
        result = run(notebook(probe), empty)
    finally:
        listener.close()
    assert printed(result) in (["ConnectionRefusedError"], ["OSError"])


def test_nothing_a_kernel_writes_reaches_the_graders_terminal(empty, tmp_path):
    """Raw writes to fds 1 and 2, and a child process's output, stay in the notebook."""
    cells = [
        "import os\nos.write(1, b'LEAK-STDOUT\\n')\nos.write(2, b'LEAK-STDERR\\n')",
        "import subprocess\nsubprocess.run('echo LEAK-CHILD; echo LEAK-CHILD >&2', shell=True)",
        "import sys\nsys.__stderr__.write('LEAK-DUNDER\\n')",
    ]
    script = tmp_path / "grade.py"
    script.write_text(
        "import nbformat, pathlib\nfrom grader.execute import run\n"
        f"nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in {cells!r}])\n"
        f"result = run(nb, pathlib.Path({str(empty)!r}))\n"
        "print('incidents', result.incidents)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert "incidents []" in done.stdout, done.stderr
    assert "LEAK" not in done.stdout + done.stderr

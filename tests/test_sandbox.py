"""The sandbox: what a student's code can break, and what it cannot.

Real kernels throughout, on tiny notebooks built here (one real course notebook at the end).
References are written by hand (what the instructor's solution would report), so no test
waits for torch. Root-only tests skip when the grader is not root: then there is no sandbox
user to switch to.
"""

from __future__ import annotations

import atexit
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from sandbox_marks import needs_sandbox

import autograd_lite
from grader.answers import DEFAULT_ATOL, DEFAULT_RTOL, describe
from grader.autograde import grade
from grader.execute import CellReport, execute, read, run
from grader.release import ROOT
from grader.sandbox import GiB, Limits, enforced

pytestmark = [pytest.mark.slow, needs_sandbox]

as_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root: only then does the kernel run as the sandbox user"
)


# --------------------------------------------------------------------------- notebooks


def _meta(grade_id: str, **flags) -> dict:
    return {"nbgrader": {"grade_id": grade_id, "schema_version": 3, **flags}}


def code(source: str):
    return nbformat.v4.new_code_cell(source)


def exercise(name: str, answer: str) -> list:
    """An answer cell defining ``name`` and its test cell, which checks ``name``."""
    test = (
        f"assert {name} is not None\n"
        "### BEGIN HIDDEN TESTS\n"
        "from grader.answers import check\n"
        f"check({name!r}, {name})\n"
        "### END HIDDEN TESTS"
    )
    return [
        nbformat.v4.new_code_cell(answer, metadata=_meta(name, solution=True, grade=False)),
        nbformat.v4.new_code_cell(
            test, metadata=_meta(f"{name}-tests", solution=False, grade=True, points=1, locked=True)
        ),
    ]


def notebook(*parts):
    nb = nbformat.v4.new_notebook()
    nb.cells = [cell for part in parts for cell in (part if isinstance(part, list) else [part])]
    return nb


def references(**answers) -> dict[str, CellReport]:
    """What the instructor's run would have reported: one answer per exercise."""
    return {
        f"{name}-tests": CellReport(
            answers={
                name: {
                    "name": name,
                    "value": describe(value),
                    "rtol": DEFAULT_RTOL,
                    "atol": DEFAULT_ATOL,
                    "grad_fn": False,
                }
            }
        )
        for name, value in answers.items()
    }


def world_readable_folder(parent: str | None = None) -> Path:
    """A folder the sandbox user can read (pytest's tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-test-", dir=parent))
    folder.chmod(0o755)
    return folder


EMPTY = world_readable_folder()  # the working files of the synthetic notebooks: none
atexit.register(shutil.rmtree, EMPTY, ignore_errors=True)


@pytest.fixture
def folder():
    path = world_readable_folder()
    yield path
    shutil.rmtree(path, ignore_errors=True)


SOURCE = notebook(exercise("a", "a = 6"), exercise("b", "b = 7"))
REFERENCES = references(a=6, b=7)


def points(result) -> dict[str, float]:
    return {e.grade_id: e.points for e in result.exercises}


def problems(result) -> list[str]:
    return [p for e in result.exercises for p in e.problems]


def errors(executed) -> list[str]:
    """The exception class each code cell raised ("" if none), in order."""
    names = []
    for cell in executed.cells:
        if cell.cell_type == "code":
            found = [o.ename for o in cell.outputs if o.output_type == "error"]
            names.append(found[0] if found else "")
    return names


# --------------------------------------------------------------------------- faults


def test_a_crash_ends_the_run_keeps_earlier_answers_and_spares_the_next_notebook():
    crashing = notebook(
        exercise("a", "a = 6"), code("import os\nos._exit(1)"), exercise("b", "b = 7")
    )
    stale = nbformat.v4.new_output("stream", name="stdout", text="from the student's own run")
    crashing.cells[3].outputs, crashing.cells[3].execution_count = [stale], 9
    crashed = grade(crashing, SOURCE, REFERENCES, EMPTY)
    assert crashed.incidents == ["the kernel died while running cell 3"]
    assert crashed.executed.cells[3].outputs == [], "a cell never run shows no old outputs"
    assert points(crashed) == {"a-tests": 1.0, "b-tests": 0.0}
    assert "answer 'b' was not produced" in problems(crashed)

    following = grade(SOURCE, SOURCE, REFERENCES, EMPTY)
    assert following.incidents == [] and following.points == following.max_points == 2


def test_an_endless_loop_that_ignores_interrupts_is_stopped_at_the_cell_timeout():
    hanging = notebook(
        exercise("a", "a = 6"),
        code("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
        exercise("b", "b = 7"),
    )
    start = time.perf_counter()
    result = grade(hanging, SOURCE, REFERENCES, EMPTY, limits=Limits(cell_timeout=3))
    assert time.perf_counter() - start < 10
    assert result.incidents == ["cell 3 ran longer than 3 s and was stopped"]
    assert points(result) == {"a-tests": 1.0, "b-tests": 0.0}


def test_the_whole_notebook_has_a_deadline_too():
    slow = notebook(exercise("a", "a = 6"), *[code("import time\ntime.sleep(5)") for _ in range(4)])
    result = run(slow, EMPTY, limits=Limits(cell_timeout=30, notebook_timeout=3))
    assert result.incidents == ["the notebook ran longer than 3 s"]
    assert result.seconds < 12, "20 s of sleeps: the deadline must have cut them"


def test_the_memory_limit_raises_memory_error_in_the_cell_and_the_run_goes_on():
    greedy = notebook(
        code("import numpy as np\nx = np.ones(4 * 2**30 // 8)"),
        code("y = bytearray(4 * 2**30)"),
        exercise("a", "a = 6"),
    )
    limits = Limits(memory_bytes=1 * GiB)
    result = grade(greedy, notebook(exercise("a", "a = 6")), references(a=6), EMPTY, limits=limits)
    assert result.incidents == [
        "memory limit (1.0 GiB) reached in cell 1",
        "memory limit (1.0 GiB) reached in cell 2",
    ]
    assert result.points == 1


def test_a_flood_of_output_is_cut_and_answers_still_arrive():
    flooding = notebook(exercise("a", "a = 6\nprint('x' * 3_000_000)"), exercise("b", "b = 7"))
    result = grade(flooding, SOURCE, REFERENCES, EMPTY)
    text = "".join(o.get("text", "") for o in result.executed.cells[0].outputs)
    kept, note = text.split("[output cut by the grader: over 1,000,000 characters]")
    assert 0 < len(kept) <= 1_000_000 and set(kept) == {"x"} and note == "\n"
    assert result.points == 2 and not result.incidents


# --------------------------------------------------------------------------- cheating


def test_an_input_transformer_that_swallows_the_tests_scores_zero_with_a_problem():
    swallowing = notebook(
        exercise(
            "a", "a = 6\nget_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])"
        ),
        exercise("b", "b = 7"),
    )
    result = grade(swallowing, SOURCE, REFERENCES, EMPTY)
    assert result.points == 0
    assert "answer 'a' was not produced" in problems(result)
    assert "answer 'b' was not produced" in problems(result)


def test_patching_allclose_passes_the_visible_asserts_but_earns_nothing():
    double = "def double(x):\n    return x * 2\n"
    cheat = (
        "import numpy as np\n"
        "import autograd_lite as torch\n"
        "np.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "torch.allclose = lambda *args, **kwargs: True\n"
        "def double(x):\n"
        "    return x * 3\n"
    )
    test = (
        "import numpy as np\nimport autograd_lite as torch\n"
        "assert torch.allclose(double(torch.tensor([1.0])), torch.tensor([2.0]))\n"
        "np.testing.assert_allclose(double(np.array([1.0])), [2.0])\n"
        "### BEGIN HIDDEN TESTS\n"
        "from grader.answers import check\n"
        "check('double', double(torch.tensor([0.5, -4.0])))\n"
        "### END HIDDEN TESTS"
    )
    answer, test_cell = exercise("double", double)
    test_cell.source = test
    source = notebook(answer, test_cell)
    refs = references(double=autograd_lite.tensor([1.0, -8.0]))
    submission = notebook(nbformat.from_dict({**answer, "source": cheat}), test_cell)
    result = grade(submission, source, refs, EMPTY)
    assert errors(result.executed) == ["", ""], "the patched asserts pass"
    assert result.points == 0
    assert problems(result) == ["double: 2 of 2 values differ from torch's (first at flat index 0)"]
    assert grade(source, source, refs, EMPTY).points == 1


def test_a_correct_answer_that_warns_on_stderr_gets_full_marks():
    noisy = notebook(
        exercise(
            "a",
            "import sys, warnings\n"
            "warnings.warn('this is fine')\n"
            "print('debugging', file=sys.stderr)\n"
            "a = 6",
        ),
        exercise("b", "b = 7"),
    )
    result = grade(noisy, SOURCE, REFERENCES, EMPTY)
    streams = {o.get("name") for o in result.executed.cells[0].outputs}
    assert "stderr" in streams
    assert result.points == result.max_points and not problems(result) and not result.incidents


# --------------------------------------------------------------------------- files and users


def test_the_kernel_works_in_a_fresh_copy_of_the_files_without_notebooks(folder):
    (folder / "data.txt").write_text("42")
    (folder / "solution.ipynb").write_text("{}")
    (folder / "link").symlink_to(folder / "data.txt")
    nb = notebook(
        code("import os\nprint(sorted(n for n in os.listdir('.') if not n.startswith('.')))"),
        code("print(open('data.txt').read())\nopen('written.txt', 'w').write('x')"),
    )
    executed = execute(nb, folder)
    listing, content = (c.outputs[0].text.strip() for c in executed.cells)
    assert listing == "['data.txt']" and content == "42"
    assert not (folder / "written.txt").exists()


@pytest.fixture
def outside_tmp():
    """A folder of the host outside /tmp (the kernel has a /tmp of its own)."""
    path = world_readable_folder("/var/tmp" if os.path.isdir("/var/tmp") else None)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_the_kernel_sees_only_the_allowlist_and_writes_only_its_own_places(outside_tmp):
    """No host path but the runtime, the interpreter and the course's code; even files that
    every user may read (a copy of the solutions elsewhere on the disk) do not exist."""
    folder = outside_tmp
    (folder / "solutions").mkdir()
    (folder / "solutions" / "copy.txt").write_text("secret")
    (folder / "solutions" / "copy.txt").chmod(0o644)
    readable = [
        str(folder / "solutions" / "copy.txt"),
        str(ROOT / "solutions" / "README.md"),
        str(ROOT / "grader" / "pipeline.py"),
        str(ROOT / "README.md"),
        "/etc/hostname",
        "/etc/shadow",
    ]
    probes = "\n".join(f"print(os.path.exists({p!r}))" for p in readable)
    nb = notebook(
        code("import os\nassert os.getuid() != 0 and os.geteuid() != 0, os.getuid()"),
        code(probes),
        # Modules the kernel server did not preload: the interpreter and the venv are there.
        code("import grader.answers, http.cookies, nbformat, autograd_lite.viz\nprint('imports')"),
        code("open('/usr/new.txt', 'w')"),
        code(f"open({str(ROOT / 'autograd_lite' / 'x.py')!r}, 'w')"),
        code(
            "for d in ('.', '/tmp', '/var/tmp', '/dev/shm', '/run'):\n    open(d + '/f', 'w').write('x')"
        ),
    )
    executed = execute(nb, folder)
    assert errors(executed) == ["", "", "", "OSError", "OSError", ""]
    printed = "\n".join(_printed(executed)).split()
    assert printed == ["False"] * len(readable) + ["imports"]


def _processes_running(marker: str) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker in cmdline.read_bytes().decode(errors="replace"):
                return True
        except OSError:  # gone meanwhile
            pass
    return False


def _wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


@as_root
def test_when_the_grader_dies_the_kernel_and_all_it_started_die_too():
    seconds = str(random.randint(10**6, 10**7))  # a sleep no one else runs
    cell = (
        "import subprocess, time\n"
        f"subprocess.Popen(['sleep', '{seconds}'], start_new_session=True)\n"
        "time.sleep(60)"
    )
    script = (
        "import nbformat, pathlib\nfrom grader.execute import execute\n"
        f"execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell({cell!r})]), "
        f"pathlib.Path({str(EMPTY)!r}))"
    )
    grader = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    try:
        assert _wait_until(lambda: _processes_running(f"sleep\0{seconds}"), 30)
        servers = _kernel_servers_of(grader.pid)
        assert servers  # it forked the kernel
    finally:
        grader.kill()
        grader.wait()
    assert _wait_until(lambda: not _processes_running(f"sleep\0{seconds}"), 5)
    assert _wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in servers), 5)


def _kernel_servers_of(parent: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            ppid = int(status.read_text().split("PPid:")[1].split()[0])
            cmdline = (status.parent / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if ppid == parent and b"--serve" in cmdline:
            found.append(int(status.parent.name))
    return found


def test_enforced_says_what_this_machine_enforces():
    lines = enforced(Limits(memory_bytes=2 * GiB, disk_bytes=256 * 2**20))
    assert lines[0].startswith("sandbox: bubblewrap allowlist; kernels run as ")
    assert ("autograde (uid " in lines[0]) == (os.geteuid() == 0)
    assert "namespaces per kernel: user, mount, pid, ipc, network, uts (no network at all)" in lines
    assert any(line.startswith("writable: ") and "256 MiB per kernel" in line for line in lines)
    assert any(line.startswith("memory: 2.0 GiB of address space per process") for line in lines)


# --------------------------------------------------------------------------- the kernel server


def _printed(executed) -> list[str]:
    return [o.text.strip() for c in executed.cells for o in c.get("outputs", []) if "text" in o]


def test_kernels_forked_by_the_server_share_nothing_and_draw_different_random_numbers():
    """Each kernel is a fresh fork of the warm server: what one notebook breaks in the
    preloaded modules, the next never sees."""
    probe = code(
        "import numpy, autograd_lite, grader.answers\n"
        "print(numpy.allclose(1, 2), autograd_lite.tensor is None,\n"
        "      grader.answers.check is None, numpy.random.rand())"
    )
    vandal = code(
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "autograd_lite.tensor = None\n"
        "grader.answers.check = None"
    )
    first = _printed(execute(notebook(probe, vandal), EMPTY))[0].split()
    second = _printed(execute(notebook(probe), EMPTY))[0].split()
    assert first[:3] == second[:3] == ["False", "False", "False"]
    assert first[3] != second[3]


def test_a_kernel_server_that_died_is_started_again():
    from grader import sandbox

    assert not run(notebook(code("1")), EMPTY).incidents  # a server is running now
    for server in list(sandbox._servers.values()):
        server.process.kill()
        server.process.wait()
    result = run(notebook(code("print(6 * 7)")), EMPTY)
    assert not result.incidents and _printed(result.notebook) == ["42"]


def test_an_interrupt_reaches_a_forked_kernel():
    """jupyter_client interrupts by signalling the process it started (the stub): the
    kernel, which the server forked, must still get its KeyboardInterrupt."""
    import asyncio

    from grader.sandbox import kernel_manager, working_directory

    limits = Limits()

    async def sleep_then_interrupt(folder: Path) -> dict:
        km = kernel_manager(limits, folder)
        await km.start_kernel(cwd=str(folder))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=30)
            request = kc.execute("import time\ntime.sleep(60)")
            await asyncio.sleep(1)
            await km.interrupt_kernel()
            while True:
                reply = await kc.get_shell_msg(timeout=10)
                if reply["parent_header"].get("msg_id") == request:
                    return reply["content"]
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)

    with working_directory(EMPTY, limits) as folder:
        started = time.monotonic()
        content = asyncio.run(sleep_then_interrupt(folder))
    assert content["status"] == "error" and content["ename"] == "KeyboardInterrupt"
    assert time.monotonic() - started < 20


def test_folders_left_by_a_killed_grader_are_removed_by_the_next_one():
    from grader import sandbox

    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid names no live process now
    stale = Path(tempfile.mkdtemp(prefix=f"autograde-runs-{dead.pid}-"))
    (stale / "run-x").mkdir()
    live = Path(tempfile.mkdtemp(prefix=f"autograde-runs-{os.getppid()}-"))
    try:
        sandbox._remove_stale_dirs()
        assert not stale.exists() and live.exists()
    finally:
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(live, ignore_errors=True)


# --------------------------------------------------------------------------- a real notebook


def test_a_course_notebook_runs_text_only():
    """Figures and Graphviz graphs are not graded: nothing is drawn, a line says where."""
    (path,) = (ROOT / "solutions" / "03_matrices").glob("*.ipynb")
    result = run(read(path), path.parent)
    assert not result.incidents and not [e for e in errors(result.notebook) if e]
    outputs = [o for c in result.notebook.cells if c.cell_type == "code" for o in c.outputs]
    mimes = {m for o in outputs for m in o.get("data", {})}
    assert not mimes & {"image/png", "image/svg+xml"}
    assert any(
        "(not drawn when grading)" in o.get("data", {}).get("text/plain", "") for o in outputs
    )


# --------------------------------------------------------------------------- no sandbox


def test_without_a_sandbox_grading_refuses_unless_unsafe(tmp_path):
    """No bubblewrap on PATH: autograde says why and stops before reading any hand-in;
    --unsafe grades, and says what it gave up."""
    env = {**os.environ, "PATH": str(tmp_path)}  # no bwrap (nor anything else) on it
    command = [sys.executable, "-m", "grader", "--workdir", str(tmp_path / "work")]
    refused = subprocess.run(
        [*command, "autograde", str(tmp_path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    said = " ".join(refused.stdout.split())  # rich wraps at the terminal's width
    assert refused.returncode == 2
    assert said.startswith("not grading: no sandbox for student code on this machine")
    assert "bubblewrap is not installed" in said and "give --unsafe to grade anyway" in said
    script = (
        "import nbformat, pathlib\n"
        "from grader.execute import run\n"
        "from grader.sandbox import Limits, enforced\n"
        "limits = Limits(unsafe=True)\n"
        "print(enforced(limits)[0])\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('print(6 * 7)')])\n"
        f"result = run(nb, pathlib.Path({str(EMPTY)!r}), limits=limits)\n"
        "print(result.incidents, result.notebook.cells[0].outputs[0].text)\n"
    )
    unsafe = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert unsafe.returncode == 0, unsafe.stderr
    first, last = unsafe.stdout.strip().splitlines()
    assert first.startswith("sandbox: NONE (--unsafe): the kernel runs as you")
    assert last == "[] 42"

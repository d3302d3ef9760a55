"""Execute a notebook in a fresh Jupyter kernel and collect the answers its tests report.

Student runs (the default) are sandboxed (grader.sandbox): a confined kernel in a fresh copy
of the working files, a per-cell timeout and a whole-notebook deadline. What the student's
code does wrong (a crash, a hang, the memory limit) stops the run, keeps the outputs so far
and becomes an *incident*; it never raises. Reference runs (the instructor's solution under
real torch) are trusted and run in place, unconfined.

Runs with ``allow_errors``: a failing cell costs only its own exercise, and later
exercises are still graded. Cells tagged ``compare-torch`` (side-by-side demos that import
real torch) are skipped: they are never graded and importing torch costs seconds per kernel.
Cells tagged ``library-source`` (reading autograd_lite's own code) are skipped in the reference
run only, where ``autograd_lite`` is torch.
Figures are not graded either, so by default nothing is drawn: displays are text only (no
PNG, no Graphviz ``dot`` process), and a figure leaves one line of text where it would be.
The pipeline grades with ``figures=True`` all the same, for the feedback pages (see the
note in grader/pipeline.py): the inline backend's PNGs and Graphviz's SVGs, drawn in the
sandbox like everything else the student's code does.
"""

from __future__ import annotations

import collections
import logging
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

import nbformat
import zmq
import zmq.asyncio
from jupyter_core.utils import ensure_async, run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from grader.answers import MIME_TYPE
from grader.sandbox import GiB, Limits, kernel_group, kernel_manager, mode, working_directory

SKIP_TAG = "compare-torch"
# Cells that read autograd_lite's own source (notebook 05 prints its engine): there is no
# such module under real torch, so the reference run skips them; a student's run keeps them.
REFERENCE_SKIP_TAG = "library-source"
REFERENCE_SETUP = "import grader.reference_mode\ngrader.reference_mode.install()\n"
TEXT_ONLY_SETUP = """\
def _grader_text_only():
    import sys
    import warnings

    from IPython.display import publish_display_data

    shell = get_ipython()
    shell.display_formatter.active_types = ["text/plain"]
    shell.display_formatter.mimebundle_formatter.enabled = False
    warnings.filterwarnings("ignore", "FigureCanvasAgg is non-interactive")

    def close_figures(result):
        pyplot = sys.modules.get("matplotlib.pyplot")
        for number in pyplot.get_fignums() if pyplot else []:
            text = f"{pyplot.figure(number)!r} (not drawn when grading)"
            publish_display_data({"text/plain": text})
        if pyplot:
            pyplot.close("all")

    shell.events.register("post_run_cell", close_figures)


_grader_text_only()
del _grader_text_only
"""
DEFAULT_LIMITS = Limits()  # frozen: safe to share
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
OUTPUT_LIMIT = 1_000_000  # characters of output kept per cell (and as many of answers)
# Per notebook, for printed output and for answer records each: answers travel apart, so
# that no amount of printing can crowd them out.
NOTEBOOK_OUTPUT_LIMIT = 4_000_000
# The largest message the grader accepts from a kernel (ZMQ drops the connection on a larger
# one, before it is read into memory): the grader's memory stays bounded whatever is printed.
MAX_MESSAGE_BYTES = 8 * 2**20
RECEIVE_QUEUE = 16  # messages; the kernel sends its output in pieces of at most 1 MiB

_quiet = logging.getLogger("grader.execute.nbclient")  # timeouts and deaths become incidents
_quiet.setLevel(logging.CRITICAL)


def nbgrader_meta(cell) -> dict:
    """The cell's nbgrader metadata, {} unless it is a dict: a student can write any JSON."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell) -> bool:
    """A graded code cell that is not a solution, with a grade_id to report under (callers
    index by it, so a cell without a string one is not a test cell)."""
    meta = nbgrader_meta(cell)
    grade_id = meta.get("grade_id")
    return (
        bool(meta.get("grade"))
        and not meta.get("solution")
        and isinstance(grade_id, str)
        and bool(grade_id)
        and cell.get("cell_type") == "code"
    )


@dataclass
class CellReport:
    """What one graded (test) cell produced: reported answers and the error it raised, if any."""

    answers: dict[str, dict] = field(default_factory=dict)
    error: str | None = None  # "ExceptionClass: first line" (never the traceback)


@dataclass
class Execution:
    notebook: object  # the executed notebook (a copy: the input is untouched)
    incidents: list[str]  # what stopped the run early or hit a limit, for the student to read
    seconds: float
    infrastructure: str | None = None  # the grader's machinery failed (see NotebookGrade)


def execute(nb, cwd: Path, **options):
    """Run ``nb`` (see ``run``) and return the executed copy."""
    return run(nb, cwd, **options).notebook


def run(
    nb,
    cwd: Path,
    *,
    reference: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    figures: bool = False,
    kernel_name: str = "python3",
) -> Execution:
    """Run ``nb`` with a copy of ``cwd``'s files, sandboxed (in ``cwd`` itself, unconfined,
    for ``reference=True``, which runs under real torch (see grader.reference_mode), and for
    ``Limits(confine=False)``, a student's own check). ``figures=True`` draws them."""
    start = time.perf_counter()
    nb, skipped = _prepared(nb, reference, figures)
    confined = not reference and mode(limits) != "off"
    with _place(Path(cwd), limits, confined, figures) as (folder, km, env, group):
        client = _Client(
            nb,
            km=km,
            kernel_name=kernel_name,
            allow_errors=True,
            shutdown_kernel="immediate",  # a graceful shutdown waits ~0.4 s for nothing
            resources={"metadata": {"path": str(folder)}},
            log=_quiet,
            # The reference kernel's TCP warning; the sandbox kernel's launcher says the same.
            extra_arguments=["--IPKernelApp.log_level=ERROR"] if not confined else [],
        )
        try:
            logs = folder if confined else None
            incidents, infrastructure = _run_cells(client, nb, limits, figures, env, logs)
        finally:
            _kill_if_alive(client.kernel_process)
            client.close_context()
        if group is not None and group.out_of_memory():
            gib = limits.memory_bytes / GiB
            incidents.insert(
                0,
                f"memory limit ({gib:.1f} GiB for the kernel and all it started) "
                "reached: a process was stopped",
            )
    nb.cells.pop(0)  # the setup cell
    for cell, source in skipped:
        cell.source = source
    if not reference:  # in cell order: whatever stopped the run came last
        incidents = _memory_incidents(nb, limits) + incidents
    return Execution(nb, incidents, time.perf_counter() - start, infrastructure)


@contextmanager
def _place(cwd: Path, limits: Limits, confined: bool, figures: bool):
    """(working folder, kernel manager or None, extra environment, control group or None)."""
    if not confined:
        yield cwd, None, {}, None
        return
    with working_directory(cwd, limits) as run, kernel_group(limits) as (group, env):
        backend = INLINE_BACKEND if figures else "Agg"
        yield run, kernel_manager(limits, run, backend), env, group


def _prepared(nb, reference: bool, figures: bool):
    """A clean copy of ``nb`` to run, skipped cells blanked, and a setup cell first. Built
    field by field rather than deep-copied: a submission's JSON may be nested thousands deep or
    hold types nbformat never promised; a cell keeps only what running and grading it needs
    (its type, its source as one string, its nbgrader metadata and tags) and no outputs (a
    cell the run never reaches must not show the submission's)."""
    clean = nbformat.v4.new_notebook(metadata=NOTEBOOK_METADATA)
    skipped = []
    for cell in _cells(nb):
        clean.cells.append(cell)
        tags = cell.metadata.get("tags", []) if cell.cell_type == "code" else []
        if SKIP_TAG in tags or (reference and REFERENCE_SKIP_TAG in tags):
            skipped.append((cell, cell.source))
            cell.source = ""
    setup = (REFERENCE_SETUP if reference else "") + ("" if figures else TEXT_ONLY_SETUP)
    clean.cells.insert(0, nbformat.v4.new_code_cell(setup))
    return clean, skipped


NOTEBOOK_METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}
_MAKERS = {
    "code": nbformat.v4.new_code_cell,
    "markdown": nbformat.v4.new_markdown_cell,
    "raw": nbformat.v4.new_raw_cell,
}


def _cells(nb) -> list:
    cells = nb.get("cells") if isinstance(nb, dict) else None
    made = []
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") in _MAKERS:
            made.append(_MAKERS[cell["cell_type"]](_text(cell.get("source")), metadata=_meta(cell)))
    return made


def _text(source) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return ""


def _meta(cell) -> dict:
    """The cell's nbgrader metadata (plain values only) and tags (strings only)."""
    meta = {}
    nbgrader = nbgrader_meta(cell)
    plain = (str, int, float, bool, type(None))
    if nbgrader:
        meta["nbgrader"] = {k: v for k, v in nbgrader.items() if isinstance(v, plain)}
    metadata = cell.get("metadata")
    tags = metadata.get("tags") if isinstance(metadata, dict) else None
    if isinstance(tags, list):
        meta["tags"] = [t for t in tags if isinstance(t, str)]
    return meta


def _run_cells(client: NotebookClient, nb, limits: Limits, figures: bool, extra_env, folder):
    """Start the kernel, execute every cell. Returns (the incident that stopped the run, if
    any; what kept the kernel from starting, if it did not: the grader's failure, not the
    student's, since no student code runs before the kernel is up)."""
    deadline = time.monotonic() + limits.notebook_timeout  # kernel start included
    # nbclient reads a timeout of 0 as "none": never return less than a hair.
    client.timeout_func = lambda cell: max(
        0.01, min(limits.cell_timeout, deadline - time.monotonic())
    )
    env = {**os.environ, **extra_env, "MPLBACKEND": INLINE_BACKEND if figures else "Agg"}
    started = False
    try:
        with _streams(client, folder) as streams:
            # cleanup kills the process group
            with client.setup_kernel(cleanup_kc=True, env=env, **streams):
                started = True
                return _each_cell(client, nb, limits, deadline), None
    except Exception as error:  # noqa: BLE001 - the kernel did not start or the channel broke
        reason = f"{type(error).__name__}: {error}"
        if not started:
            log = _tail(Path(folder) / "kernel.log") if folder is not None else ""
            return [], f"the kernel could not start: {reason}" + (f" ({log})" if log else "")
        return [f"the notebook could not be run: {reason}"], None


@contextmanager
def _streams(client: NotebookClient, folder):
    """A sandboxed kernel's stdout goes nowhere and its stderr (until it starts, see
    grader.sandbox_kernel.launch) to a log in the run folder: never the grader's terminal."""
    if folder is None:
        yield {}
        return
    with open(Path(folder) / "kernel.log", "wb") as log:
        yield {"stdout": subprocess.DEVNULL, "stderr": log, "stdin": subprocess.DEVNULL}


def _tail(path: Path, size: int = 600) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, path.stat().st_size - size))
            return f.read().decode(errors="replace").strip()
    except OSError:
        return ""


def _each_cell(client: NotebookClient, nb, limits: Limits, deadline: float) -> list[str]:
    too_long = f"the notebook ran longer than {limits.notebook_timeout:g} s"
    count = 0
    for index, cell in enumerate(nb.cells):
        left = deadline - time.monotonic()
        if left <= 0:
            return [too_long]
        if index > 0 and cell.cell_type == "code" and cell.source.strip():
            count += 1  # as Jupyter numbers cells: the setup cell is not one
        try:
            client.execute_cell(cell, index, execution_count=count or None, store_history=index > 0)
        except CellTimeoutError:
            if left < limits.cell_timeout:  # the deadline, not the cell's own limit, cut it
                return [too_long]
            name = _cell_name(cell, index)
            return [f"{name} ran longer than {limits.cell_timeout:g} s and was stopped"]
        except DeadKernelError:
            return [f"the kernel died while running {_cell_name(cell, index)}"]
    return []


def _cell_name(cell, index: int) -> str:
    """``index`` counts the setup cell as 0, so it is the cell's 1-based position."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    return f"cell {index} ({grade_id})" if grade_id else f"cell {index}"


def _memory_incidents(nb, limits: Limits) -> list[str]:
    """A MemoryError (NumPy's is _ArrayMemoryError) under the RLIMIT_AS limit."""
    incidents = []
    for index, cell in enumerate(nb.cells, start=1):
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if any(str(o.get("ename", "")).endswith("MemoryError") for o in errors):
            gib = limits.memory_bytes / GiB
            incidents.append(f"memory limit ({gib:.1f} GiB) reached in {_cell_name(cell, index)}")
    return incidents


class _Client(NotebookClient):
    """A client that keeps at most OUTPUT_LIMIT characters of output per cell and
    NOTEBOOK_OUTPUT_LIMIT per notebook, for printed output and answer records apart (so that
    printing cannot crowd answers out), refuses messages over MAX_MESSAGE_BYTES, and drops
    messages of a shape no kernel sends: a print loop running until the timeout, or a hostile
    kernel, must not fill the grader's memory or break it."""

    def process_message(self, msg, cell, cell_index):
        """Messages a kernel never sends are dropped (a student's code can send any), and so
        are widget (comm) messages: nothing graded needs them, and their state would grow
        without bound."""
        if not _plausible(msg):  # comm (widget) messages included: they are not in _PROTOCOL
            return None
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        if not self._within_budget(msg["content"], cell_index):  # shape: see process_message
            if cell_index not in self._noted:
                self._noted.add(cell_index)
                note = f"[output cut by the grader: over {OUTPUT_LIMIT:,} characters]\n"
                outs.append(nbformat.v4.new_output("stream", name="stderr", text=note))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        """Updates of a display count like new output: else a tiny display updated with a
        huge one, many times over, would grow without bound."""
        if self._within_budget(msg["content"], None):  # shape: see process_message
            super()._update_display_id(display_id, msg)

    def _within_budget(self, content: dict, cell_index) -> bool:
        """Count what is kept only: a cell cut at its limit leaves the rest of the notebook's
        budget to the cells after it; once cut, a cell keeps no more of that kind."""
        data = content.get("data") or {}
        size = len(str(content.get("text", ""))) + sum(len(str(v)) for v in data.values())
        kind = "answers" if MIME_TYPE in data else "output"
        if (cell_index, kind) in self._cut:
            return False
        in_cell, in_notebook = self._used[(cell_index, kind)] + size, self._used[kind] + size
        if (
            cell_index is not None and in_cell > OUTPUT_LIMIT
        ) or in_notebook > NOTEBOOK_OUTPUT_LIMIT:
            self._cut.add((cell_index, kind))
            return False
        self._used[(cell_index, kind)], self._used[kind] = in_cell, in_notebook
        return True

    def reset_execution_trackers(self) -> None:
        super().reset_execution_trackers()
        self._used: collections.Counter = collections.Counter()
        self._cut: set[tuple] = set()  # (cell index, "output" or "answers")
        self._noted: set[int] = set()  # cells that got the "output cut" note

    def close_context(self) -> None:
        """The ZMQ context of this run's channels (see async_start_new_kernel_client)."""
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None

    _context = None

    async def async_start_new_kernel_client(self):
        """nbclient's, minus jupyter_client's last 0.2 s of listening for stray IOPub
        messages (nbclient ignores replies to other requests anyway)."""
        # A context of our own: its sockets refuse messages over MAX_MESSAGE_BYTES.
        self._context = zmq.asyncio.Context()
        self._context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        # ZMQ queues up to 1000 unread messages per socket by default: a kernel printing
        # faster than we read would park a gigabyte here. A full queue drops prints instead.
        self._context.setsockopt(zmq.RCVHWM, RECEIVE_QUEUE)
        self.kc = self.km.client(context=self._context)
        await ensure_async(self.kc.start_channels())
        try:
            await _wait_for_ready(self.kc, self.startup_timeout)
        except Exception:
            await self._async_cleanup_kernel()
            raise
        self.kc.allow_stdin = False
        return self.kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def async_start_new_kernel(self, **kwargs) -> None:
        await super().async_start_new_kernel(**kwargs)
        self.kernel_process = getattr(self.km.provisioner, "process", None)

    start_new_kernel = run_sync(async_start_new_kernel)
    kernel_process = None  # the launched process (a Popen), once started


def _plausible(msg) -> bool:
    """A message of a type nbclient handles for grading, shaped as the Jupyter protocol says:
    anything else is dropped rather than handed to code that trusts the protocol."""
    if not isinstance(msg, dict) or not isinstance(msg.get("msg_type"), str):
        return False
    content, parent, header = msg.get("content"), msg.get("parent_header"), msg.get("header")
    if not (isinstance(content, dict) and isinstance(parent, dict) and isinstance(header, dict)):
        return False
    shape = _PROTOCOL.get(msg["msg_type"])
    if shape is None or header.get("msg_type") != msg["msg_type"]:
        return False
    transient = content.get("transient")
    if transient is not None and not isinstance(transient, dict):
        return False
    if not _is_count(content.get("execution_count")):  # any message may set the cell's
        return False
    return all(check(content.get(key)) for key, check in shape.items())


def _is_str(value) -> bool:
    return isinstance(value, str)


def _is_count(value) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _is_bundle(data) -> bool:
    """A MIME bundle as nbformat stores it: JSON types (``*json``) hold any JSON, the others
    text (a string, or a list of strings)."""
    if not isinstance(data, dict):
        return False
    for mime, value in data.items():
        if not isinstance(mime, str):
            return False
        text = isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        )
        if not (mime.endswith("json") or text):
            return False
    return True


def _is_dict(value) -> bool:
    return isinstance(value, dict)


_OUTPUT = {"data": _is_bundle, "metadata": _is_dict}
_PROTOCOL = {
    "stream": {"name": lambda v: v in ("stdout", "stderr"), "text": _is_str},
    "display_data": _OUTPUT,
    "update_display_data": _OUTPUT,
    "execute_result": {**_OUTPUT, "execution_count": lambda v: _is_count(v) and v is not None},
    "error": {
        "ename": _is_str,
        "evalue": _is_str,
        "traceback": lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v),
    },
    "status": {"execution_state": _is_str},
    "clear_output": {"wait": lambda v: v is None or isinstance(v, bool)},
    "execute_input": {"code": _is_str, "execution_count": _is_count},
}


def _kill_if_alive(process) -> None:
    """Whatever happened in nbclient's cleanup, no kernel outlives its run: SIGKILL to its
    process group (jupyter_client starts each kernel in a session of its own)."""
    if process is not None and process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
        process.wait()


async def _wait_for_ready(kc, timeout: float) -> None:
    """Ask for kernel_info until the reply comes, and one IOPub message shows that channel
    is connected too (a message published before the subscription is lost)."""
    deadline = time.monotonic() + timeout
    while True:
        kc.kernel_info()
        try:
            reply = await kc.shell_channel.get_msg(timeout=1)
            if reply["msg_type"] == "kernel_info_reply":
                await kc.iopub_channel.get_msg(timeout=0.2)
                return
        except Empty:
            pass
        if not await kc.is_alive():
            raise RuntimeError("the kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the kernel did not reply in {timeout:g} s")


def collect(executed) -> dict[str, CellReport]:
    """Per test cell (by grade_id): the answers it reported and its error. Answers reported
    by any other cell are ignored: only the restored test cells speak for a grade."""
    reports: dict[str, CellReport] = {}
    cells = executed.get("cells")
    for cell in cells if isinstance(cells, list) else []:
        if not is_test_cell(cell):
            continue
        report = reports.setdefault(nbgrader_meta(cell)["grade_id"], CellReport())
        outputs = cell.get("outputs")
        # Outputs come from the student's kernel: any JSON, so check each type before use.
        for output in outputs if isinstance(outputs, list) else []:
            kind = output.get("output_type") if isinstance(output, dict) else None
            if kind == "error":
                ename, evalue = output.get("ename"), output.get("evalue")
                first = evalue.strip().splitlines() if isinstance(evalue, str) else []
                name = ename if isinstance(ename, str) else "Error"
                report.error = f"{name}: {first[0] if first else ''}".rstrip(": ")
            if kind not in ("display_data", "execute_result"):
                continue
            data = output.get("data")
            record = data.get(MIME_TYPE) if isinstance(data, dict) else None
            if isinstance(record, dict) and isinstance(record.get("name"), str):
                report.answers.setdefault(record["name"], record)
    return reports


def read(path: Path):
    return nbformat.read(str(path), as_version=4)

"""Where and how a student's notebook runs: limits, the sandbox user, its kernel and its files.

A student's kernel is forked by a kernel server (grader.sandbox_kernel ``--serve``, one per
grader process, with numpy, matplotlib, ipykernel and the course already imported), which
confines each fork the way a directly launched kernel confines itself (see there); jupyter_client
starts a tiny stub (grader.kernel_stub) that asks for the fork and stands for it, through a
kernelspec written to a private temporary directory. When the grader runs as root,
that kernel runs as an unprivileged user (``autograde``, created on first use), in a fresh
working directory owned by that user, and ``protect()`` keeps the solutions, references and
gradebook out of its reach. Not as root, the limits still apply but the kernel is the
grader's own user: ``enforced()`` says which.
"""

from __future__ import annotations

import atexit
import compileall
import functools
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from grader import sandbox_kernel
from grader.sandbox_kernel import COURSE_PACKAGES, FILE_SIZE_LIMIT, REPOSITORY

GiB = 2**30
KERNEL_NAME = "autograde-sandbox"
# Bounds on the working files copied per run: a caller passing a large folder (the
# repository, say) must cost a bounded copy, not a copy of .venv.
COPY_MAX_FILES = 1000
COPY_MAX_BYTES = 100 * 2**20

_lock = threading.RLock()  # the pipeline grades in threads: one-time setup happens once


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 30
    notebook_timeout: float = 300
    memory_bytes: int = 2 * GiB
    # Used only when the grader runs as root; created (a system user) if missing.
    sandbox_user: str | None = "autograde"
    # RLIMIT_NPROC of the sandbox user, counted over all its kernels at once: a fork bomb
    # stops there (threads count too; a kernel has about a dozen).
    processes: int = 256
    # Student code may use the network (as root, where namespaces work, it has none).
    network: bool = False


def running_as_root() -> bool:
    return os.geteuid() == 0


def sandbox_account(limits: Limits) -> pwd.struct_passwd | None:
    """The user the student's kernel runs as, or None when it runs as the grader's user."""
    if not (running_as_root() and limits.sandbox_user):
        return None
    with _lock:
        return _ensure_user(limits.sandbox_user)


@functools.cache
def _ensure_user(name: str) -> pwd.struct_passwd:
    command = ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]
    for _ in range(20):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:  # another grader process may be creating it right now
            time.sleep(0.1)
    raise RuntimeError(f"could not create the sandbox user {name}: {done.stderr.strip()}")


def protect(*paths: Path | str) -> None:
    """Make ``paths`` (and everything beneath) unreadable to any user but root: directories
    0700, files 0600. Does nothing unless root: then the kernel is the grader's user anyway."""
    if not running_as_root():
        return
    for path in map(Path, paths):
        if path.is_symlink() or not path.exists():
            continue
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
        for folder, dirs, files in os.walk(path):
            for name in dirs:
                _chmod_unless_link(Path(folder, name), 0o700)
            for name in files:
                _chmod_unless_link(Path(folder, name), 0o600)


def _chmod_unless_link(path: Path, mode: int) -> None:
    if not path.is_symlink():
        os.chmod(path, mode)


# --------------------------------------------------------------------------- the kernel


def kernel_argv(limits: Limits) -> list[str]:
    argv = [sys.executable, "-I", "-m", "grader.sandbox_kernel", "--memory"]
    argv.append(str(limits.memory_bytes))
    account = sandbox_account(limits)
    if account is not None:
        argv += ["--user", account.pw_name, "--processes", str(limits.processes)]
        argv += ["--network"] if limits.network else []
    return argv


def kernel_manager(limits: Limits, folder: Path, backend: str = "Agg"):
    """A kernel manager for a sandboxed kernel with these limits, working in ``folder``, with
    matplotlib's ``backend``. Its channels are Unix sockets there: no TCP port for other
    processes to find, and the kernel needs no network."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    specs = KernelSpecManager(kernel_dirs=[str(_kernel_spec_dir(limits, backend))])
    return AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=specs,
        transport="ipc",
        ip=str(folder / ".kernel-ipc"),
    )


def _kernel_spec_dir(limits: Limits, backend: str) -> Path:
    """The kernelspec of a kernel forked by the kernel server for this launcher command and
    backend (started on first use, and again should it have died)."""
    argv = tuple(kernel_argv(limits))
    with _lock:
        server = _servers.get((argv, backend))
        if server is None or server.process.poll() is not None:
            server = _servers[(argv, backend)] = KernelServer.start(argv, backend)
        _prepare(argv)  # while the server imports
        server.wait_until_ready()
        return _write_kernel_spec(server.stub_argv())


@dataclass
class KernelServer:
    """grader.sandbox_kernel's ``--serve``: a warm process that forks the kernels (it saves
    each one about a second of imports). It listens on a Unix socket in a folder of its own,
    mode 0700: only the grader's user can ask it for a kernel."""

    process: subprocess.Popen
    folder: Path
    ready: bool = False

    @classmethod
    def start(cls, argv: tuple[str, ...], backend: str) -> KernelServer:
        folder = _private_dir("server")
        env = sandbox_kernel.kernel_environment(str(folder))
        # glibc reads MALLOC_ARENA_MAX at process start: fewer malloc arenas, less address
        # space used up by threads under the RLIMIT_AS limit.
        env.update(MALLOC_ARENA_MAX="2", MPLBACKEND=backend)
        process = subprocess.Popen(
            [*argv, "--serve", str(folder / "kernels")],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            start_new_session=True,  # a Ctrl-C meant for the grader is not for the server
        )
        server = cls(process, folder)
        atexit.register(server.stop)
        return server

    def wait_until_ready(self) -> None:
        if self.ready:
            return
        if self.process.stdout.readline().strip() != b"ready":
            self.stop()
            raise RuntimeError("the sandbox's kernel server did not start (see above)")
        self.ready = True

    def stub_argv(self) -> tuple[str, ...]:
        stub = Path(sandbox_kernel.__file__).with_name("kernel_stub.py")
        return (sys.executable, "-I", "-S", str(stub), str(self.folder / "kernels"))

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


_servers: dict[tuple[tuple[str, ...], str], KernelServer] = {}


@functools.cache
def _write_kernel_spec(argv: tuple[str, ...]) -> Path:
    root = _private_dir("kernels")
    spec = {
        "argv": [*argv, "-f", "{connection_file}"],
        "display_name": "Python 3 (autograde sandbox)",
        "language": "python",
    }
    (root / KERNEL_NAME).mkdir()
    (root / KERNEL_NAME / "kernel.json").write_text(json.dumps(spec, indent=1))
    return root


@functools.cache
def _prepare(argv: tuple[str, ...]) -> None:
    """Once per process and launcher command: check the sandbox works (a misconfigured
    machine fails here, loudly, not as sixty crashed notebooks), and compile the course."""
    _check_sandbox(argv)
    _compile_course_packages()
    _remove_stale_dirs()


def _private_dir(kind: str) -> Path:
    """A temporary folder (mode 0700) named after this process, removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix=f"autograde-{kind}-{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _remove_stale_dirs() -> None:
    """What graders killed with SIGKILL left behind (their atexit never ran)."""
    for folder in Path(tempfile.gettempdir()).glob("autograde-*-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _compile_course_packages() -> None:
    """The sandbox user cannot write __pycache__ into the repository: without fresh .pyc
    files every kernel would compile autograd_lite again (0.2 s)."""
    for name in COURSE_PACKAGES:
        compileall.compile_dir(Path(REPOSITORY, name), quiet=1)


@functools.cache
def _check_sandbox(argv: tuple[str, ...]) -> dict:
    """Run the launcher's ``--check`` as the kernel would run (from a directory of the
    sandbox user's): it confines itself and loads ipykernel, then reports what it enforced."""
    with tempfile.TemporaryDirectory(prefix="autograde-check-") as folder:
        if "--user" in argv:
            account = pwd.getpwnam(argv[argv.index("--user") + 1])
            os.chown(folder, account.pw_uid, account.pw_gid)
        done = subprocess.run(
            [*argv, "--check"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "MALLOC_ARENA_MAX": "2"},
        )
    if done.returncode != 0:
        raise RuntimeError(f"the sandboxed kernel cannot start: {done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def enforced(limits: Limits | None = None) -> list[str]:
    """What the sandbox enforces on this machine, one line each (for the CLI and README)."""
    limits = limits or Limits()
    account = sandbox_account(limits)
    with _lock:
        report = _check_sandbox(tuple(kernel_argv(limits)))
    lines = [
        f"memory limit: {limits.memory_bytes / GiB:.1f} GiB of address space (RLIMIT_AS)",
        f"cell timeout: {limits.cell_timeout:g} s; notebook timeout: {limits.notebook_timeout:g} s",
        f"file size limit: {FILE_SIZE_LIMIT / GiB:.0f} GiB; core dumps: off",
        "working directory: a fresh copy per notebook (never the submission's own folder)",
    ]
    if account is None:
        why = "not root" if not running_as_root() else "sandbox_user is None"
        return [
            f"unprivileged user: no ({why}); the kernel runs as uid {report['uid']}",
            *lines,
            f"protect() (solutions, references, gradebook): no effect ({why})",
            f"process limit: no ({why})",
            f"namespaces: no ({why})",
        ]
    namespaces = ", ".join(report["namespaces"]) or "no (the kernel refused unshare)"
    masked = f"; private mounts over {', '.join(report['masked'])}" if report["masked"] else ""
    return [
        f"unprivileged user: {account.pw_name} (uid {report['uid']}), no capabilities",
        *lines,
        "protect() (solutions, references, gradebook): 0700 folders, 0600 files, root's",
        f"process limit: {limits.processes} for {account.pw_name} (RLIMIT_NPROC)",
        f"namespaces: {namespaces}{masked}",
    ]


# --------------------------------------------------------------------------- working files


@contextmanager
def working_directory(source: Path, limits: Limits):
    """A fresh directory holding a copy of ``source``'s files (see _copy_files), owned by
    the sandbox user; removed afterwards."""
    account = sandbox_account(limits)
    folder = Path(tempfile.mkdtemp(prefix="run-", dir=_runs_dir()))
    try:
        _copy_files(Path(source), folder, account, [COPY_MAX_FILES, COPY_MAX_BYTES])
        _copy_font_cache(folder)
        if account is not None:
            _give(folder, account)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _runs_dir() -> Path:
    with _lock:
        return _make_runs_dir()


@functools.cache
def _make_runs_dir() -> Path:
    """One parent per process, mode 0711: each kernel can enter its own run directory
    (random name) but cannot list the others'."""
    folder = _private_dir("runs")
    folder.chmod(0o711)
    return folder


def _copy_files(source: Path, target: Path, account, budget: list[int]) -> None:
    """Copy what the kernel may see of ``source``: regular files and folders that the
    sandbox user could read itself (we copy as root: protect() must still hold), except
    notebooks (the graded one arrives as messages; another, the solution say, must not
    arrive at all), dot-files, symlinks and special files (a FIFO would block the copy).
    ``budget`` is [files, bytes] left; what exceeds it is not copied."""
    if account is None or _readable_tree(source, account):
        _copy_entries(source, target, account, budget)


def _copy_entries(source: Path, target: Path, account, budget: list[int]) -> None:
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        if budget[0] < 1:
            return
        info = entry.stat(follow_symlinks=False)
        if entry.name.startswith(".") or entry.name.endswith(".ipynb"):
            continue
        if account is not None and not _readable(info, account):
            continue
        if stat.S_ISDIR(info.st_mode):
            (target / entry.name).mkdir()
            _copy_entries(Path(entry.path), target / entry.name, account, budget)
        elif stat.S_ISREG(info.st_mode) and budget[0] > 0 and budget[1] >= info.st_size:
            budget[0], budget[1] = budget[0] - 1, budget[1] - info.st_size
            shutil.copyfile(entry.path, target / entry.name, follow_symlinks=False)


def _readable_tree(folder: Path, account: pwd.struct_passwd) -> bool:
    """Can ``account`` reach ``folder`` and list it?"""
    if sandbox_kernel.first_blocked(str(folder.resolve()), account) is not None:
        return False
    return _readable(folder.stat(), account)


def _readable(info: os.stat_result, account: pwd.struct_passwd) -> bool:
    """Read permission (and, for a folder, search permission) for ``account``."""
    wanted = 0o5 if stat.S_ISDIR(info.st_mode) else 0o4
    if info.st_uid == account.pw_uid:
        bits = info.st_mode >> 6
    elif info.st_gid == account.pw_gid:
        bits = info.st_mode >> 3
    else:
        bits = info.st_mode
    return bits & wanted == wanted


def _copy_font_cache(home: Path) -> None:
    """matplotlib rebuilds its font list (a quarter of a second) in a home without one."""
    cache = home / ".cache" / "matplotlib"
    cache.mkdir(parents=True)
    for font_list in _font_lists():
        shutil.copyfile(font_list, cache / font_list.name)


@functools.cache
def _font_lists() -> list[Path]:
    """The grader's own font list (where matplotlib keeps it); built once if missing."""
    if os.environ.get("MPLCONFIGDIR"):
        place = Path(os.environ["MPLCONFIGDIR"])
    else:
        place = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"
    if not any(place.glob("fontlist-v*.json")):
        import matplotlib.font_manager  # noqa: F401 - builds it

    return sorted(place.glob("fontlist-v*.json"))


def _give(folder: Path, account: pwd.struct_passwd) -> None:
    for path, dirs, files in os.walk(folder):
        for name in [".", *dirs, *files]:
            os.chown(os.path.join(path, name), account.pw_uid, account.pw_gid)

"""Where and how a student's notebook runs: limits, the sandbox, its kernel and its files.

A student's kernel is forked by a kernel server (grader.sandbox_kernel ``--serve``, one per
grader process, with numpy, matplotlib, ipykernel and the course already imported) that runs
inside a **bubblewrap** sandbox built here from an allowlist: the system's runtime (/usr and its
links), the interpreter and its packages, ``autograd_lite/`` and the four files of ``grader/`` a
kernel imports, all read-only; the folder of this grader's run directories; nothing else of the
host (not the repository's solutions/, not the references, the gradebook, /home or another copy
of anything on the disk). Each forked kernel then confines itself further (namespaces of its own,
one size-limited tmpfs for every place it may write, limits; see grader.sandbox_kernel).
jupyter_client starts a tiny stub (grader.kernel_stub) that asks for the fork and stands for it.

The same with or without root: bubblewrap works unprivileged through user namespaces. As root,
the kernels run as an unprivileged user (``autograde``, created on first use) and each gets a
control group (grader.cgroups): one memory and process budget for its whole tree. Where no
sandbox can be built (no bubblewrap, or no user namespaces), grading refuses to start unless
``Limits(unsafe=True)`` (``--unsafe``), and ``enforced()`` says what holds on this machine.
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
from grader.cgroups import KernelGroup
from grader.kernel_stub import CGROUP_VARIABLE
from grader.sandbox_kernel import (
    COURSE_PACKAGES,
    FILE_SIZE_LIMIT,
    GRADER_FILES,
    REPOSITORY,
    outermost,
    under,
)

GiB, MiB = 2**30, 2**20
KERNEL_NAME = "autograde-sandbox"
# Bounds on the working files copied per run: a caller passing a large folder (the
# repository, say) must cost a bounded copy, not a copy of .venv.
COPY_MAX_FILES = 1000
COPY_MAX_BYTES = 100 * 2**20
# What a kernel needs of /etc (the dynamic linker's cache, time zone); nothing else.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "fonts")
SYSTEM_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

_lock = threading.RLock()  # the pipeline grades in threads: one-time setup happens once


class SandboxUnavailable(RuntimeError):
    """No sandbox can be built on this machine and ``unsafe`` was not asked for."""


@dataclass(frozen=True)
class Limits:
    cell_timeout: float = 30
    notebook_timeout: float = 300
    # Address space of each process; with control groups (root), also the resident memory of
    # the kernel's whole tree, its tmpfs included.
    memory_bytes: int = 2 * GiB
    # The kernel's writable places together (home, /tmp, /var/tmp, /dev/shm, /run): a tmpfs.
    disk_bytes: int = 512 * MiB
    # Processes and threads of one kernel (a kernel itself has about a dozen threads).
    processes: int = 128
    # As root, the kernels run as this user (created if missing).
    sandbox_user: str = "autograde"
    # False: no sandbox at all, the kernel is you (a student's own `check` on their machine).
    confine: bool = True
    # Grade even where no sandbox can be built: limits only, the kernel runs as the grader's
    # user and can read what that user can.
    unsafe: bool = False


def running_as_root() -> bool:
    return os.geteuid() == 0


def sandbox_account(limits: Limits) -> pwd.struct_passwd | None:
    """The user the kernels run as when we are root, else None (they run as us)."""
    if not (running_as_root() and limits.confine):
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
    0700, files 0600. Defence in depth (the sandbox does not show them at all); does nothing
    unless root."""
    if not running_as_root():
        return
    for path in map(Path, paths):
        if path.is_symlink() or not path.exists():
            continue
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
        for folder, dirs, files in os.walk(path):
            for name in dirs + files:
                if not Path(folder, name).is_symlink():
                    os.chmod(Path(folder, name), 0o700 if name in dirs else 0o600)


# --------------------------------------------------------------------------- the mode


def mode(limits: Limits) -> str:
    """ "bubblewrap", "unsafe" or "off" (``confine=False``); raises SandboxUnavailable when
    no sandbox can be built and unsafe grading was not asked for."""
    if not limits.confine:
        return "off"
    problem = sandbox_problem()
    if problem is None:
        return "bubblewrap"
    if limits.unsafe:
        return "unsafe"
    raise SandboxUnavailable(
        f"no sandbox for student code on this machine: {problem}. Grading would let every "
        "notebook read your files (solutions, references, gradebook) and each other's; "
        "give --unsafe to grade anyway."
    )


@functools.cache
def sandbox_problem() -> str | None:
    """Why bubblewrap cannot sandbox here, or None."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux (this is {sys.platform})"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    probe = ["bwrap", "--unshare-user", "--unshare-pid", "--ro-bind", "/", "/", "true"]
    if running_as_root():  # root needs no user namespace for bubblewrap itself
        probe = ["bwrap", "--unshare-pid", "--ro-bind", "/", "/", "true"]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        return f"bubblewrap cannot create namespaces here ({done.stderr.strip()})"
    return None


# --------------------------------------------------------------------------- the kernel


def kernel_manager(limits: Limits, run: Path, backend: str = "Agg"):
    """A kernel manager for a sandboxed kernel with these limits, for the run directory
    ``run`` (see ``working_directory``), with matplotlib's ``backend``. Its channels are Unix
    sockets in ``run/ipc``: no TCP port for other processes to find, and no network needed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    specs = KernelSpecManager(kernel_dirs=[str(_kernel_spec_dir(limits, backend))])
    return AsyncKernelManager(
        kernel_name=KERNEL_NAME,
        kernel_spec_manager=specs,
        transport="ipc",
        ip=str(run / "ipc" / "kernel"),
    )


def _kernel_spec_dir(limits: Limits, backend: str) -> Path:
    """The kernelspec of a kernel forked by the kernel server for these limits and backend
    (started on first use, and again should it have died)."""
    argv = tuple(server_argv(limits))
    with _lock:
        server = _servers.get((argv, backend))
        if server is None or server.process.poll() is not None:
            server = _servers[(argv, backend)] = KernelServer.start(argv, limits, backend)
        _prepare(argv, limits)  # while the server imports
        server.wait_until_ready()
        return _write_kernel_spec(server.stub_argv())


def server_argv(limits: Limits, check: str | None = None) -> list[str]:
    """The kernel server's command (``check``: the one-off ``--check`` in that run folder)."""
    how = mode(limits)
    account = sandbox_account(limits)
    python = [sys.executable, "-I", "-m", "grader.sandbox_kernel"]
    python += ["--memory", str(limits.memory_bytes), "--processes", str(limits.processes)]
    python += ["--disk", str(limits.disk_bytes), "--runs", str(_runs_dir())]
    if how != "bubblewrap":  # unsafe: the grader's own user (root's Python may be private)
        return python + ["--unsafe"]
    if account is not None:
        python += ["--uid", str(account.pw_uid), "--gid", str(account.pw_gid)]
    return bubblewrap_argv(account) + python


def with_environment(argv: list[str] | tuple[str, ...], env: dict[str, str]) -> list[str]:
    """bubblewrap's --clearenv empties the environment: set ``env`` inside the sandbox."""
    argv = list(argv)
    if argv[0] != "bwrap":
        return argv
    index = argv.index("--chdir")
    return argv[:index] + [a for k, v in env.items() for a in ("--setenv", k, v)] + argv[index:]


def bubblewrap_argv(account: pwd.struct_passwd | None) -> list[str]:
    """The allowlist: what the server and its kernels see of the host, read-only but for
    the run directories and the server's socket folder."""
    argv = ["bwrap", "--die-with-parent", "--new-session", "--clearenv"]
    argv += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    argv += ["--unshare-cgroup-try"]
    if account is None:
        argv += ["--unshare-user"]  # unprivileged: bubblewrap needs a user namespace
    else:  # root: the server becomes the sandbox user itself, at once (become_sandbox_user)
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    argv += ["--dev", "/dev", "--bind", "/proc", "/proc"]  # each kernel mounts its own /proc
    argv += _system_runtime()
    for path in _interpreter_paths():
        argv += _parents(path) + ["--ro-bind", path, path]
    argv += _course_code()
    argv += _identity(account)
    for path in (str(_runs_dir()), str(_server_dir())):
        argv += _parents(path) + ["--bind", path, path]
    for mount_point in (sandbox_kernel.SCRATCH, *sandbox_kernel.WRITABLE):
        argv += ["--perms", "0755", "--dir", mount_point]
    # The server's own home (matplotlib wants a writable one at import); each kernel mounts
    # its own over /home.
    argv += ["--perms", "0777", "--dir", sandbox_kernel.HOME]
    return argv + ["--chdir", "/"]


def _system_runtime() -> list[str]:
    argv = ["--ro-bind", "/usr", "/usr"]
    for path in SYSTEM_LINKS:
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    # /etc made first, world-readable: bubblewrap would create it 0700 for the binds below,
    # and the kernel's user could not reach the font configuration ("Fontconfig error" from
    # Graphviz under every graph of the feedback page, and boxes too narrow for their labels).
    argv += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC_FILES:
        argv += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return argv


def _interpreter_paths() -> list[str]:
    """The Python installation, the venv and any other folder of packages on sys.path (a
    .pth file can add one), outside what /usr already shows; never a folder that holds the
    repository (its solutions/)."""
    paths = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix)}
    paths |= {os.path.dirname(os.path.dirname(os.path.realpath(sys.executable)))}
    paths |= {
        os.path.realpath(p)
        for p in sys.path
        if os.path.basename(p) in {"site-packages", "dist-packages"} and os.path.isdir(p)
    }
    return [
        p for p in outermost(sorted(paths)) if not under(p, "/usr") and not under(REPOSITORY, p)
    ]


def _course_code() -> list[str]:
    """autograd_lite/ whole; of grader/ only what a kernel imports. (Where the packages live
    inside the interpreter's folders, an installed course, they are shown already.)"""
    argv: list[str] = []
    shown = _interpreter_paths() + ["/usr"]
    for name in COURSE_PACKAGES:
        folder = os.path.join(REPOSITORY, name)
        if any(under(folder, p) for p in shown):
            continue
        if name != "grader":
            argv += _parents(folder) + ["--ro-bind", folder, folder]
            continue
        argv += _parents(folder) + ["--perms", "0755", "--tmpfs", folder]
        for file in GRADER_FILES:
            argv += ["--ro-bind", os.path.join(folder, file), os.path.join(folder, file)]
    return argv


def _identity(account: pwd.struct_passwd | None) -> list[str]:
    """/etc/passwd and /etc/group naming only the kernel's user (``student``)."""
    uid, gid = (account.pw_uid, account.pw_gid) if account else (os.getuid(), os.getgid())
    folder = _etc_dir()
    (folder / "passwd").write_text(
        f"student:x:{uid}:{gid}:student:{sandbox_kernel.HOME}:/usr/sbin/nologin\n"
    )
    (folder / "group").write_text(f"student:x:{gid}:\n")
    for name in ("passwd", "group"):
        (folder / name).chmod(0o644)
    return ["--ro-bind", str(folder / "passwd"), "/etc/passwd"] + [
        "--ro-bind",
        str(folder / "group"),
        "/etc/group",
    ]


def _parents(path: str) -> list[str]:
    """bubblewrap makes missing parents of a mount point with the host's modes (/root is
    0700): make them 0755, or the sandbox user could not reach what is bound below."""
    argv = []
    parts = Path(path).parts[1:-1]
    for i in range(len(parts)):
        argv += ["--perms", "0755", "--dir", "/" + "/".join(parts[: i + 1])]
    return argv


@dataclass
class KernelServer:
    """grader.sandbox_kernel's ``--serve``: a warm process that forks the kernels (it saves
    each one about a second of imports). It listens on a Unix socket in a folder of its own,
    mode 0700: only the grader's user (and, as root, the sandbox user) can ask it for a
    kernel."""

    process: subprocess.Popen
    socket: Path
    ready: bool = False

    @classmethod
    def start(cls, argv: tuple[str, ...], limits: Limits, backend: str) -> KernelServer:
        folder = _server_dir()
        socket = Path(tempfile.mktemp(prefix="kernels-", dir=folder))  # bound by the server
        env = sandbox_kernel.kernel_environment(sandbox_kernel.HOME)
        # glibc reads MALLOC_ARENA_MAX at process start: fewer malloc arenas, less address
        # space used up by threads under the RLIMIT_AS limit.
        env.update(MALLOC_ARENA_MAX="2", MPLBACKEND=backend)
        log = open(socket.with_suffix(".log"), "wb")  # noqa: SIM115 - the server's now
        process = subprocess.Popen(
            [*with_environment(argv, env), "--serve", str(socket)],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            start_new_session=True,  # a Ctrl-C meant for the grader is not for the server
        )
        log.close()
        server = cls(process, socket)
        atexit.register(server.stop)
        return server

    def wait_until_ready(self) -> None:
        if self.ready:
            return
        if self.process.stdout.readline().strip() != b"ready":
            self.stop()
            log = self.socket.with_suffix(".log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"the sandbox's kernel server did not start: {log.strip()}")
        self.ready = True

    def stub_argv(self) -> tuple[str, ...]:
        stub = Path(sandbox_kernel.__file__).with_name("kernel_stub.py")
        return (sys.executable, "-I", "-S", str(stub), str(self.socket))

    def stop(self) -> None:
        self.process.kill()
        self.process.wait()


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


def _prepare(argv: tuple[str, ...], limits: Limits) -> None:
    """Once per process and server command (timeouts do not change it): check the sandbox
    works (a misconfigured machine fails here, loudly, not as sixty crashed notebooks), and
    compile the course. Called under _lock."""
    if argv in _prepared:
        return
    _compile_course_packages()
    _check_sandbox(limits)
    _remove_stale_dirs()
    _prepared.add(argv)


_prepared: set[tuple[str, ...]] = set()


def _private_dir(kind: str) -> Path:
    """A temporary folder (mode 0700) named after this process, removed when it exits."""
    folder = Path(tempfile.mkdtemp(prefix=f"autograde-{kind}-{os.getpid()}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def _server_dir() -> Path:
    """The kernel server's folder (its socket and log), mode 0700, the sandbox user's when
    root: the server binds its socket there as that user."""
    folder = _private_dir("server")
    account = sandbox_account(Limits())
    if account is not None:
        os.chown(folder, account.pw_uid, account.pw_gid)
    return folder


@functools.cache
def _etc_dir() -> Path:
    return _private_dir("etc")


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
    """The sandbox cannot write __pycache__ into the repository: without fresh .pyc files
    every server start would compile autograd_lite again."""
    for name in COURSE_PACKAGES:
        compileall.compile_dir(Path(REPOSITORY, name), quiet=1)


def _check_sandbox(limits: Limits) -> dict:
    """Run ``--check``: it confines itself exactly as a kernel does and loads ipykernel,
    then reports what holds (uid, namespaces, whether solutions/ is visible)."""
    if mode(limits) == "off":
        return {"namespaces": [], "uid": os.getuid(), "visible_secrets": []}
    argv = tuple(server_argv(limits))
    if argv not in _checks:  # once per server command: timeouts do not change what holds
        _checks[argv] = _run_check(argv, limits)
    return _checks[argv]


_checks: dict[tuple[str, ...], dict] = {}


def _run_check(argv: tuple[str, ...], limits: Limits) -> dict:
    env = {**sandbox_kernel.kernel_environment(sandbox_kernel.HOME), "MALLOC_ARENA_MAX": "2"}
    with working_directory(Path(tempfile.gettempdir()) / "-", limits) as run:
        done = subprocess.run(
            [*with_environment(argv, env), "--check", str(run)],
            cwd=run,
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"the sandboxed kernel cannot start: {done.stderr.strip()[-2000:]}")
    report = json.loads(done.stdout.strip().splitlines()[-1])
    if mode(limits) == "bubblewrap" and (report["visible_secrets"] or report["uid"] == 0):
        raise RuntimeError(f"the sandbox does not hold on this machine: {report}")
    return report


def enforced(limits: Limits | None = None) -> list[str]:
    """What the sandbox enforces on this machine, one line each (for the CLI and README)."""
    limits = limits or Limits()
    try:
        how = mode(limits)
    except SandboxUnavailable as refusal:
        return [f"sandbox: NONE. {refusal}"]
    with _lock:
        report = _check_sandbox(limits)
    account = sandbox_account(limits)
    group = "one control group per kernel (memory and processes of its whole tree)"
    lines = [
        f"cell timeout: {limits.cell_timeout:g} s; notebook timeout: {limits.notebook_timeout:g} s",
        f"memory: {limits.memory_bytes / GiB:.1f} GiB of address space per process (RLIMIT_AS)"
        + (f"; {group}" if _cgroups(limits) else "; no control groups (not root)"),
        f"files: at most {FILE_SIZE_LIMIT / GiB:.0f} GiB each; core dumps: off",
    ]
    if how == "unsafe":
        return [
            f"sandbox: NONE (--unsafe): the kernel runs as you (uid {os.getuid()}), sees every "
            "file you can read, shares /tmp, IPC and the network with everything else",
            *lines,
        ]
    who = f"{account.pw_name} (uid {report['uid']})" if account else f"you (uid {report['uid']})"
    return [
        f"sandbox: bubblewrap allowlist; kernels run as {who}, no capabilities, no_new_privs",
        "sees: the system's runtime, the interpreter and its packages, autograd_lite/, "
        "grader/answers.py (read-only) and its own working copy; no other host path",
        f"writable: home, /tmp, /var/tmp, /dev/shm, /run: one private tmpfs of "
        f"{limits.disk_bytes / MiB:.0f} MiB per kernel (the disk limit)",
        "namespaces per kernel: " + ", ".join(report["namespaces"]) + " (no network at all)",
        f"processes: {limits.processes} per kernel (its own user namespace"
        + ("; and its control group)" if _cgroups(limits) else ")"),
        *lines,
        "stdout/stderr of the kernel: /dev/null (output travels as Jupyter messages)",
    ]


def _cgroups(limits: Limits) -> bool:
    from grader.cgroups import layout

    return limits.confine and layout() is not None


# --------------------------------------------------------------------------- run folders


@contextmanager
def working_directory(source: Path, limits: Limits):
    """A fresh run directory: ``files/`` a copy of ``source``'s files (see _copy_files),
    ``ipc/`` for the kernel's sockets; owned by the sandbox user; removed afterwards."""
    account = sandbox_account(limits)
    run = Path(tempfile.mkdtemp(prefix="run-", dir=_runs_dir()))
    try:
        (run / "files").mkdir()
        (run / "ipc").mkdir()
        if Path(source).is_dir():
            _copy_entries(Path(source), run / "files", [COPY_MAX_FILES, COPY_MAX_BYTES])
        _copy_font_cache(run / "files")
        if account is not None:
            _give(run, account)
        yield run
    finally:
        shutil.rmtree(run, ignore_errors=True)


@contextmanager
def kernel_group(limits: Limits):
    """The control group of one kernel (root, where the machine has them), else None; the
    environment the kernel stub needs to join it."""
    group = KernelGroup.create(limits.memory_bytes, limits.processes) if _cgroups(limits) else None
    try:
        yield group, ({CGROUP_VARIABLE: os.pathsep.join(group.procs_files)} if group else {})
    finally:
        if group is not None:
            group.remove()


def _runs_dir() -> Path:
    with _lock:
        return _make_runs_dir()


@functools.cache
def _make_runs_dir() -> Path:
    """One parent per process, mode 0711: each kernel could enter its own run directory
    (random name) but cannot list the others' (and in the sandbox sees none of them)."""
    folder = _private_dir("runs")
    folder.chmod(0o711)
    return folder


def _copy_entries(source: Path, target: Path, budget: list[int], depth: int = 0) -> None:
    """Copy what the kernel may see of ``source``: regular files and folders, except
    notebooks (the graded one arrives as messages; another, the solution say, must not
    arrive at all), dot-files, symlinks and special files (a FIFO would block the copy), and
    the run directories themselves (``source`` may hold them: /tmp). ``budget`` is [entries,
    bytes] left, folders counted as entries; what exceeds it, or lies deeper than 16 folders,
    is not copied."""
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        if budget[0] < 1:
            return
        info = entry.stat(follow_symlinks=False)
        if entry.name.startswith(".") or entry.name.endswith(".ipynb"):
            continue
        if stat.S_ISDIR(info.st_mode):
            if depth >= 16 or Path(entry.path) == _runs_dir():
                continue
            budget[0] -= 1
            (target / entry.name).mkdir()
            _copy_entries(Path(entry.path), target / entry.name, budget, depth + 1)
        elif stat.S_ISREG(info.st_mode) and budget[1] >= info.st_size:
            budget[0], budget[1] = budget[0] - 1, budget[1] - info.st_size
            shutil.copyfile(entry.path, target / entry.name, follow_symlinks=False)


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

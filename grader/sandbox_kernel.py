"""The sandboxed kernel: the kernel server and what each kernel does to itself (see
grader.sandbox for the grader's side).

    python -I -m grader.sandbox_kernel --serve SOCKET --runs DIR [limits] [--uid N --gid N]
    python -I -m grader.sandbox_kernel --check --runs DIR [limits] [--uid N --gid N]

The server runs inside a bubblewrap sandbox that grader.sandbox builds from an allowlist: the
system's runtime, the interpreter and its packages, ``autograd_lite/`` and the few files of
``grader/`` a kernel imports, read-only, and nothing else of the host but the folder of the
kernels' run directories. It has no network. It imports numpy, matplotlib, ipykernel and the
course once, then forks a kernel for each request of grader.kernel_stub. (As root, bubblewrap
starts it as root with only CAP_SETUID/CAP_SETGID, and it becomes the sandbox user at once.)

Each forked kernel, before it runs anything of the student's:

1. joins its own control groups when the grader passed them (root: one memory and process
   budget for its whole tree, grader.cgroups);
2. enters new user, mount, PID, IPC, network and UTS namespaces: its own count of processes
   (RLIMIT_NPROC is counted per user namespace), no System V IPC or sockets shared with
   another kernel, no network at all;
3. mounts one size-limited tmpfs (the disk limit) and makes its home and working directory,
   /tmp, /var/tmp, /dev/shm and /run of it, copies its working files in, and hides every other
   kernel's run directory and the server's socket; becomes PID 1 of its namespace, with a
   /proc of its own, and a supervisor process stays behind, tied to the stub;
4. sets its resource limits, scrubs its environment, sends stdout/stderr to /dev/null (what
   the student prints travels as Jupyter messages, never to the grader's terminal);
5. binds the kernel's sockets, makes their folder read-only, drops every capability, sets
   no_new_privs, and only then starts executing cells.

``--unsafe``: no bubblewrap, no namespaces (a machine without user namespaces, on the
instructor's explicit request): only the resource limits and the scrubbed environment.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import select
import shutil
import signal
import socket
import stat
import sys
import traceback
from functools import partial

from grader.kernel_stub import KEPT_ENVIRONMENT

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
NO_DEVICES = MS_NOSUID | MS_NODEV
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
# statvfs flag -> mount flag, for the flags a read-only remount must keep (locked ones).
KEPT_MOUNT_FLAGS = {1: MS_RDONLY, 2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: 1024, 2048: 2048}

FILE_SIZE_LIMIT = 1 << 30  # one runaway file.write loop must not fill the disk
HOME = "/home/student"  # the kernel's home and working directory
SCRATCH = "/home"  # where its one tmpfs is mounted
WRITABLE = {"/tmp": "tmp", "/var/tmp": "var-tmp", "/dev/shm": "shm", "/run": "run"}
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# No history database, and no "running over TCP without encryption" warning per kernel.
# Session.copy_threshold: every message is copied into ZMQ, none sent zero-copy. A zero-copy
# send starts pyzmq's garbage-collector thread on first use; after a fork bomb has spent the
# kernel's process budget (threads count too) that start fails halfway through a multipart
# send, and the grader then reads a message with an invalid signature and stops the run. Our
# messages are at most 8 MiB (the grader's limit), so copying costs nothing that matters.
KERNEL_OPTIONS = [
    "--HistoryManager.enabled=False",
    "--IPKernelApp.log_level=ERROR",
    f"--Session.copy_threshold={2**31 - 1}",
]
# What the kernel imports from the course repository (grader.sandbox binds just these).
COURSE_PACKAGES = ("autograd_lite", "grader")
GRADER_FILES = ("__init__.py", "answers.py", "kernel_stub.py", "sandbox_kernel.py")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_libc = ctypes.CDLL(None, use_errno=True)
_state = {"namespaces": False}  # this process entered its own namespaces (see seal())


def _call(name: str, *args) -> int:
    result = getattr(_libc, name)(*args)
    if result == -1 or (name != "syscall" and result != 0):
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")
    return result


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data=None) -> None:
    encode = lambda s: None if s is None else s.encode()
    _call(
        "mount",
        encode(source),
        encode(target),
        encode(fstype),
        ctypes.c_ulong(flags),
        encode(data),
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -I -m grader.sandbox_kernel")
    parser.add_argument("--memory", type=int, required=True, help="address space per process")
    parser.add_argument("--processes", type=int, default=128, help="processes per kernel")
    parser.add_argument("--disk", type=int, default=512 << 20, help="bytes of writable space")
    parser.add_argument("--runs", default=None, help="the folder of all run directories")
    parser.add_argument("--uid", type=int, default=None, help="become this user (as root)")
    parser.add_argument("--gid", type=int, default=None)
    parser.add_argument("--unsafe", action="store_true", help="no namespaces (see above)")
    parser.add_argument("--check", metavar="RUN", help="confine as a kernel in RUN, report")
    parser.add_argument("--serve", metavar="SOCKET", help="be the kernel server listening there")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    become_sandbox_user(args)
    if args.serve:
        serve(args)
    elif args.check:
        check(args)


def become_sandbox_user(args: argparse.Namespace) -> None:
    """As root (bubblewrap kept CAP_SETUID/CAP_SETGID for this): the sandbox user, for good."""
    if args.uid is None or os.geteuid() != 0:
        return
    os.setgroups([])
    os.setgid(args.gid)
    os.setuid(args.uid)  # from root to a user: every capability is gone
    # A change of user makes a process non-dumpable, and /proc/self/uid_map root's: the
    # kernels could not map their user namespace.
    _call("prctl", PR_SET_DUMPABLE, 1, 0, 0, 0)


# --------------------------------------------------------------------------- the server


def serve(args: argparse.Namespace) -> None:
    """Import what every kernel imports once, then fork a kernel for each request on the
    socket (see grader.kernel_stub). Each kernel is a fresh copy of this untouched process,
    so nothing one student's code does reaches another's. Stops when the grader is gone
    (bubblewrap's --die-with-parent, and the check of our parent below)."""
    preload()
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(args.serve)
    listener.listen(64)
    listener.settimeout(1.0)
    print("ready", flush=True)  # the grader waits for this line
    while os.getppid() == parent:
        _reap_children()
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            try:
                message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 8)
            except OSError:
                continue
            if len(fds) >= 3 and os.fork() == 0:
                listener.close()
                fork_kernel(args, message, fds, connection)
            for fd in fds:
                os.close(fd)


def preload() -> None:
    """Set up the environment a kernel reads at import time, then import."""
    os.environ.update(dict.fromkeys(ONE_THREAD, "1"))
    sys.modules["debugpy"] = None  # see launch()
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import numpy  # noqa: F401

    import autograd_lite  # noqa: F401
    import grader.answers  # noqa: F401

    if os.environ.get("MPLBACKEND") == "Agg":  # the inline backend must meet a live kernel
        import matplotlib.pyplot  # noqa: F401


def _reap_children() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def fork_kernel(args, message: bytes, fds: list[int], stub: socket.socket) -> None:
    """In the forked child: join the control groups, take the stub's standard streams and
    environment, confine, become the kernel. Never returns."""
    code = 1
    try:
        request = json.loads(message)
        streams, groups = fds[:3], fds[3:]
        for group in groups:  # first: everything started from now on counts
            os.write(group, b"0")
            os.close(group)
        os.setsid()
        for target, fd in enumerate(streams):
            os.dup2(fd, target)
            os.close(fd)
        os.environ.clear()
        os.environ.update({k: v for k, v in request["env"].items() if k in KEPT_ENVIRONMENT})
        _reseed()
        run = request["run"]
        confine(args, run, stub)
        launch(connection_file(request["connection"], run, args.unsafe))
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - a child of the server must never return into it
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _reseed() -> None:
    """NumPy's global generator was seeded once, when the server imported it: every kernel
    would draw the same 'random' numbers."""
    random = sys.modules.get("numpy.random")
    if random is not None:
        random.seed()


def check(args: argparse.Namespace) -> None:
    """Confine exactly as a kernel does, then report what holds, as one line of JSON."""
    report = confine(args, args.check, None)
    import ipykernel.kernelapp  # noqa: F401 - proves the kernel's code loads in here

    hidden = [os.path.join(REPOSITORY, "solutions"), os.path.join(REPOSITORY, ".git")]
    report.update(
        uid=os.getuid(),
        pid=os.getpid(),
        visible_secrets=[p for p in hidden if os.path.exists(p)],
        cwd=os.getcwd(),
    )
    print(json.dumps(report), flush=True)


# --------------------------------------------------------------------------- confinement


def confine(args: argparse.Namespace, run: str, stub: socket.socket | None) -> dict:
    """Everything but the kernel itself. Returns what was enforced (for ``--check``)."""
    report: dict = {"namespaces": []}
    if args.unsafe:
        become_supervised(stub)
        os.chdir(os.path.join(run, "files"))
        home = os.getcwd()
    else:
        enter_namespaces(report)
        server = os.path.dirname(args.serve) if args.serve else None
        make_scratch(args.disk, run, [args.runs, server])
        become_supervised(stub)  # from here on we are PID 1 of the new namespace
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        home = HOME
    # Die with the supervisor, which dies with the stub (after the mounts: they are ours).
    _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    limit_resources(args.memory, args.processes, per_kernel_count=not args.unsafe)
    environment = kernel_environment(home)
    os.environ.clear()
    os.environ.update(environment)
    return report


def enter_namespaces(report: dict) -> None:
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS
    _call("unshare", flags)
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    with open("/proc/self/uid_map", "w") as f:
        f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f:
        f.write(f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount reaches the server
    _call("sethostname", b"sandbox", 7)
    report["namespaces"] = ["user", "mount", "pid", "ipc", "network", "uts"]
    _state["namespaces"] = True


def make_scratch(size: int, run: str, hidden: list[str | None]) -> None:
    """One tmpfs of ``size`` bytes holds every place the kernel may write: its home (a copy
    of the run's working files), /tmp, /var/tmp, /dev/shm and /run. What the allowlist shows
    beneath those places (the course and its venv when the repository lives under /tmp or
    /home) stays; the ``hidden`` folders (every kernel's run directory, the server's socket)
    do not; this run's socket folder is bound back in place."""
    hidden = [h for h in hidden if h]
    sockets = os.open(os.path.join(run, "ipc"), os.O_PATH | os.O_DIRECTORY)
    files = os.open(os.path.join(run, "files"), os.O_PATH | os.O_DIRECTORY)
    tmpfs = partial(_mount, "tmpfs")
    cover(SCRATCH, partial(tmpfs, SCRATCH, "tmpfs", NO_DEVICES, f"size={size},mode=0755"), hidden)
    os.makedirs(HOME, mode=0o700)
    copy_tree(f"/proc/self/fd/{files}", HOME)
    os.close(files)
    places = os.path.join(SCRATCH, ".sandbox")
    for target, name in WRITABLE.items():
        place = os.path.join(places, name)
        os.makedirs(place)
        os.chmod(place, 0o1777)
        cover(target, partial(_mount, place, target, None, MS_BIND), hidden)
    for folder in hidden:
        if os.path.isdir(folder):  # still the host's: it was under none of the places above
            cover(folder, partial(tmpfs, folder, "tmpfs", NO_DEVICES, "size=64k,mode=0755"), hidden)
    socket_folder = os.path.join(run, "ipc")
    os.makedirs(socket_folder, exist_ok=True)
    _mount(f"/proc/self/fd/{sockets}", socket_folder, None, MS_BIND)
    os.close(sockets)
    os.chdir(HOME)


def cover(target: str, mount, hidden: list[str]) -> None:
    """Run ``mount`` (which mounts something over ``target``), then bind back in place the
    mounts that were beneath ``target``, except the ``hidden`` ones: a new mount over a
    folder hides everything mounted below it."""
    keep = [p for p in mount_pointsunder(target) if not any(under(p, h) for h in hidden)]
    handles = [os.open(p, os.O_PATH) for p in keep]  # reach them once they are hidden
    mount()
    for path, handle in zip(keep, handles):
        if os.path.isdir(f"/proc/self/fd/{handle}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "a").close()
        _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
        os.close(handle)


def mount_pointsunder(folder: str) -> list[str]:
    """The outermost mount points strictly below ``folder`` (from /proc/self/mountinfo)."""
    points = []
    with open("/proc/self/mountinfo") as table:
        for line in table:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4])
            if point != folder and under(point, folder):
                points.append(point)
    return outermost(points)


def outermost(paths: list[str]) -> list[str]:
    """``paths`` without those that lie inside another one of them."""
    kept: list[str] = []
    for path in sorted(paths):
        if not any(under(path, k) for k in kept):
            kept.append(path)
    return kept


def under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def copy_tree(source: str, target: str) -> None:
    """The working files (the grader prepared them): regular files and folders only."""
    for entry in os.scandir(source):
        info = entry.stat(follow_symlinks=False)
        destination = os.path.join(target, entry.name)
        if stat.S_ISDIR(info.st_mode):
            os.mkdir(destination, 0o755)
            copy_tree(entry.path, destination)
        elif stat.S_ISREG(info.st_mode):
            shutil.copyfile(entry.path, destination, follow_symlinks=False)


def become_supervised(stub: socket.socket | None) -> None:
    """Fork: the child goes on to become the kernel, the parent stays as its supervisor."""
    child = os.fork()
    if child:
        supervise(child, stub)
    if stub is not None:
        stub.close()  # the kernel has no business with the grader's side


def supervise(child: int, stub: socket.socket | None) -> None:
    """Stay as the process that stands for the kernel; exit with the kernel's status. The
    stub's socket brings interrupts ("i"); its closing (the stub was killed, or the grader
    died) kills the kernel, PID 1 of its namespace, so everything it started goes with it."""
    parent = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _kill(child))
    exited = os.pidfd_open(child)  # readable once the kernel has exited
    watched = [exited] if stub is None else [exited, stub]
    while exited not in (ready := select.select(watched, [], [], 1.0)[0]):
        if stub is None and os.getppid() != parent:
            _kill(child)
        if stub in ready:
            if stub.recv(16) == b"i":
                os.kill(child, signal.SIGINT)
            else:  # closed: the stub is gone
                _kill(child)
                watched.remove(stub)
    _, status = os.waitpid(child, 0)
    code = os.waitstatus_to_exitcode(status)
    code = code if code >= 0 else 128 - code
    if stub is not None:
        try:
            stub.send(str(code).encode())
        except OSError:
            pass
    os._exit(code)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def limit_resources(memory: int, processes: int, *, per_kernel_count: bool) -> None:
    """Soft and hard limits alike, so the student's code cannot raise them again. The
    process limit counts per user *namespace*: only where the kernel has one of its own is
    it this kernel's budget rather than every process of the user's."""
    limits = [
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT),
    ]
    if per_kernel_count:
        limits.append((resource.RLIMIT_NPROC, processes))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))


def kernel_environment(home: str) -> dict[str, str]:
    """Nothing of the grader's environment but locale and PATH: it may hold secrets."""
    env = {key: os.environ[key] for key in KEPT_ENVIRONMENT if key in os.environ}
    env.update(dict.fromkeys(ONE_THREAD, "1"))
    env.setdefault("MPLBACKEND", "Agg")
    env["HOME"] = home
    return env


# --------------------------------------------------------------------------- the kernel


def connection_file(connection: dict, run: str, unsafe: bool) -> str:
    """Write the stub's connection info (ports, key, socket paths) where only we read it."""
    folder = "/run" if not unsafe else os.path.join(run, "files")
    path = os.path.join(folder, ".kernel.json")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(connection, f)
    return path


def launch(connection: str) -> None:
    import grader.answers  # noqa: F401 - imported now, a grader/ folder of the student's cannot shadow it

    # ipykernel's debugger: 70 ms of imports per kernel, and a debug port nobody will use.
    sys.modules["debugpy"] = None
    from ipykernel.kernelapp import IPKernelApp

    log = silence_standard_streams()
    send_output_in_pieces()
    add_working_directory_to_path()
    # Its default is read at import, which for a forked kernel was in the server: without
    # it, the kernel would think it runs in a terminal and print instructions to one.
    parent = f"--IPKernelApp.parent_handle={os.environ.get('JPY_PARENT_PID') or 0}"
    app = IPKernelApp.instance()
    try:
        app.initialize(["-f", connection, *KERNEL_OPTIONS, parent])
        seal(connection)
    except BaseException:
        traceback.print_exc(file=os.fdopen(log, "w", closefd=False))
        raise
    os.close(log)
    app.start()


def silence_standard_streams() -> int:
    """fds 1 and 2 become /dev/null before ipykernel captures them (what the student's code
    or its children write there arrives as Jupyter messages, never on the grader's terminal).
    Returns a copy of the old stderr, for a start-up failure only."""
    log = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    return log


def send_output_in_pieces(limit: int = 1 << 18) -> None:
    """ipykernel sends what was printed during its flush interval (0.2 s) as one message, so
    a print loop makes messages of any size; the grader refuses messages over 8 MiB (its
    memory must stay bounded), which would cost a loud but honest notebook its later output.
    Each stream message is cut into pieces of at most ``limit`` characters (1 MiB of UTF-8
    at most) instead."""
    from ipykernel.iostream import OutStream

    whole = OutStream._flush_buffers

    def in_pieces(self):
        for parent, data in whole(self):
            for start in range(0, len(data), limit):
                yield parent, data[start : start + limit]

    OutStream._flush_buffers = in_pieces


def seal(connection: str) -> None:
    """After the kernel has bound its sockets: their folder becomes read-only (it is on the
    host's disk), and the kernel gives up every capability it had in its namespaces."""
    with open(connection) as f:
        info = json.load(f)
    if _state["namespaces"]:
        if info.get("transport") == "ipc":
            folder = os.path.dirname(info["ip"])
            kept = os.statvfs(folder).f_flag
            flags = sum(m for s, m in KEPT_MOUNT_FLAGS.items() if kept & s)
            _mount(None, folder, None, MS_BIND | MS_REMOUNT | MS_RDONLY | flags)
        drop_capabilities()
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


def drop_capabilities() -> None:
    """The bounding set, then the effective, permitted and inheritable sets (capset v3)."""
    for capability in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)
    data = (ctypes.c_uint32 * 6)()
    _call("capset", header, data)


def add_working_directory_to_path() -> None:
    """As IPython does (``-I`` stops it): the student's own modules import, after the
    standard library and before site-packages."""
    for index, path in enumerate(sys.path):
        if os.path.basename(path) in {"site-packages", "dist-packages"}:
            sys.path.insert(index, "")
            return
    sys.path.insert(0, "")


if __name__ == "__main__":
    main()

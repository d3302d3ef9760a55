"""The sandboxed kernel: launcher and kernel server (see grader.sandbox).

    python -I -m grader.sandbox_kernel --memory BYTES [--user NAME --processes N] -f CONNECTION
    python -I -m grader.sandbox_kernel --memory BYTES [--user NAME ...] --serve SOCKET

It starts as the grader's user, confines itself, then becomes the IPython kernel in the same
process. As root with ``--user``:

1. copies the connection file (in root's private runtime dir) into the working directory, for
   the sandbox user;
2. when the kernel allows it, enters new mount, PID and network namespaces: every process the
   student starts dies with the kernel; there is no network (the grader talks to the kernel
   over Unix sockets); /tmp and /dev/shm are private and small; of the course repository only
   the packages the kernel imports are visible (not solutions/, not .git); and a Python
   installed under an unreadable directory (here /root/.pyenv) is made reachable by a private
   bind mount instead of by loosening its modes;
3. drops to the sandbox user for good (no groups, no capabilities, no new privileges).

Always: address-space, core, file-size (and for the sandbox user, process) limits, one BLAS
thread, matplotlib on Agg, and an environment scrubbed of the grader's variables.

``-I`` (isolated mode) matters: the working directory is the student's, and nothing in it may
be imported while this code still runs as root. ``--check`` does everything but start the
kernel and prints what it enforced, as JSON (grader.sandbox runs it once per process).

``--serve SOCKET`` is how the grader uses it: a server that imports the kernel's modules once
and then, per request of grader.kernel_stub, forks a child that does all of the above (in its
own session, with the stub's working directory, streams and environment) and becomes the kernel.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import pwd
import resource
import select
import signal
import socket
import stat
import sys
import traceback

from grader.kernel_stub import KEPT_ENVIRONMENT

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38

FILE_SIZE_LIMIT = 1 << 30  # one runaway file.write loop must not fill the disk
SCRATCH = "mode=1777,size=128m"  # the private /tmp and /dev/shm: they are made of memory
ONE_THREAD = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# No history database, and no "running over TCP without encryption" warning per kernel.
KERNEL_OPTIONS = ["--HistoryManager.enabled=False", "--IPKernelApp.log_level=ERROR"]
# What the kernel imports from the course repository; the rest of it (solutions/, .git, the
# grader's build/) is hidden from the kernel where mount namespaces are available.
COURSE_PACKAGES = ("autograd_lite", "grader")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_libc = ctypes.CDLL(None, use_errno=True)


def _call(name: str, *args) -> None:
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


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
    parser.add_argument("--memory", type=int, required=True, help="address-space limit, bytes")
    parser.add_argument("--user", default=None, help="run as this user (only when root)")
    parser.add_argument("--processes", type=int, default=0, help="RLIMIT_NPROC for --user")
    parser.add_argument("--network", action="store_true", help="keep the network (--user)")
    parser.add_argument("-f", dest="connection_file", default=None)
    parser.add_argument("--check", action="store_true", help="confine, report, do not start")
    parser.add_argument("--serve", metavar="SOCKET", help="be the kernel server listening there")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.serve:
        serve(args)
        return
    report = confine(args)
    if args.check:
        import ipykernel.kernelapp  # noqa: F401 - proves the user can load the kernel's code

        print(json.dumps(report))
        return
    launch(args.connection_file)


def confine(args: argparse.Namespace, stub: socket.socket | None = None) -> dict:
    """Everything but the kernel itself: user, namespaces, limits, environment. With ``stub``
    (a kernel forked by the server), a supervisor process stays behind, tied to that stub."""
    report = {"namespaces": [], "masked": []}
    user = pwd.getpwnam(args.user) if args.user and os.geteuid() == 0 else None
    if user is not None:
        if args.connection_file:
            args.connection_file = hand_over(args.connection_file, user)
        isolate(user, report, keep_network=args.network, stub=stub)
    if stub is not None and not report["namespaces"]:
        become_supervised(stub)  # isolate() did not (it forks for the PID namespace)
    if user is not None:
        drop_privileges(user)
    if stub is not None or report["namespaces"]:
        # After setuid, which clears it: die (with our namespace) with supervise().
        _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    limit_resources(args.memory, args.processes if user else 0)
    environment = kernel_environment(os.getcwd())
    os.environ.clear()
    os.environ.update(environment)
    report.update(uid=os.getuid(), gid=os.getgid(), memory=args.memory)
    return report


# --------------------------------------------------------------------------- the server


def serve(args: argparse.Namespace) -> None:
    """Import what every kernel imports once, then fork a kernel for each request on the
    socket (see grader.kernel_stub). A forked kernel starts with numpy, matplotlib, the
    course's packages and ipykernel already loaded: about a second of CPU saved per
    notebook. Each kernel is a fresh copy of this untouched process, so nothing one
    student's code does reaches another's. Runs as the grader's user; the socket is in a
    folder only that user can enter. Stops when the grader that started it is gone."""
    preload()
    grader = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(args.serve)
    listener.listen(64)
    listener.settimeout(1.0)
    print("ready", flush=True)  # the grader waits for this line
    while os.getppid() == grader:
        _reap_children()
        try:
            connection, _ = listener.accept()
        except TimeoutError:
            continue
        with connection:
            message, fds, _, _ = socket.recv_fds(connection, 1 << 16, 3)
            if len(fds) == 3 and os.fork() == 0:
                listener.close()
                fork_kernel(args, json.loads(message), fds, connection)
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


def fork_kernel(args, request: dict, fds: list[int], stub: socket.socket) -> None:
    """In the forked child: the stub's standard streams, working directory and environment,
    then confine() and the kernel, as a launched kernel does. Never returns."""
    code = 1
    try:
        os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _reseed()
        args = argparse.Namespace(**{**vars(args), "serve": None})
        args.connection_file = request["connection_file"]
        confine(args, stub)
        launch(args.connection_file)
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


# --------------------------------------------------------------------------- as root


def hand_over(connection_file: str, user: pwd.struct_passwd) -> str:
    """A copy of the connection file in the working directory, readable by ``user`` only.
    O_EXCL|O_NOFOLLOW: the directory holds the student's files, which could be symlinks."""
    with open(connection_file, "rb") as source:
        data = source.read()
    target = os.path.join(os.getcwd(), ".kernel-" + os.path.basename(connection_file))
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
        os.fchown(fd, user.pw_uid, user.pw_gid)
    finally:
        os.close(fd)
    return target


def isolate(
    user: pwd.struct_passwd, report: dict, keep_network: bool, stub: socket.socket | None
) -> None:
    """New mount, PID and (unless kept) network namespaces, where the kernel allows them (a
    container without CAP_SYS_ADMIN does not): else only the user and the limits apply.
    Without a network the kernel still talks to the grader, over Unix sockets (ipc)."""
    try:
        _call("unshare", CLONE_NEWNS | CLONE_NEWPID | (0 if keep_network else CLONE_NEWNET))
    except OSError:
        if blocked_paths(user):
            sys.exit(f"the sandbox user cannot read {blocked_paths(user)} and namespaces are off")
        return
    report["namespaces"] = ["mount", "pid"] + ([] if keep_network else ["network"])
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the host
    report["masked"] = reveal_python(user) + hide_repository() + private_scratch()
    become_supervised(stub)  # the kernel is PID 1 of the new namespace
    try:  # a /proc that shows only this namespace's processes
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass


def become_supervised(stub: socket.socket | None) -> None:
    """Fork: the child goes on to become the kernel, the parent stays as its supervisor."""
    child = os.fork()
    if child:
        supervise(child, stub)
    if stub is not None:
        stub.close()  # the kernel has no business with the grader's side


def supervise(child: int, stub: socket.socket | None) -> None:
    """Stay as the process that stands for the kernel; exit with the kernel's status. If what
    jupyter_client watches goes away without killing the kernel, we kill it (it is PID 1 of
    its namespace, so everything the student started goes with it).

    Launched directly, we are what jupyter_client watches: SIGINT reaches the kernel through
    the process group; SIGTERM is passed on as SIGKILL; the grader dying is noticed by polling.
    Forked by the server, the stub is what it watches: its socket brings interrupts ("i"), its
    closing (killed, or the grader died) kills the kernel, and the kernel's status goes back.
    """
    grader = os.getppid()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: _kill(child))
    exited = os.pidfd_open(child)  # readable once the kernel has exited
    watched = [exited] if stub is None else [exited, stub]
    while exited not in (ready := select.select(watched, [], [], 1.0)[0]):
        if stub is None and os.getppid() != grader:
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


def needed_paths() -> list[str]:
    """What the kernel reads: the Python installation, the venv, the course's packages."""
    packages = [os.path.join(REPOSITORY, name) for name in COURSE_PACKAGES]
    paths = [sys.base_prefix, sys.prefix, *packages, *sys.path]
    return sorted({os.path.realpath(p) for p in paths if p and os.path.isdir(p)})


def searchable(path: str, user: pwd.struct_passwd) -> bool:
    info = os.stat(path)
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid == user.pw_gid:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def first_blocked(path: str, user: pwd.struct_passwd) -> str | None:
    """The outermost directory on the way to ``path`` that ``user`` may not enter."""
    current = "/"
    for part in path.strip("/").split("/"):
        current = os.path.join(current, part)
        if not searchable(current, user):
            return current
    return None


def blocked_paths(user: pwd.struct_passwd) -> list[str]:
    return sorted({b for p in needed_paths() if (b := first_blocked(p, user))})


def reveal_python(user: pwd.struct_passwd) -> list[str]:
    """Cover each blocking directory (e.g. /root, mode 0700) with an empty tmpfs in our
    private mount namespace, and bind back only the needed directories beneath it."""
    masked = []
    while blocked := blocked_paths(user):
        top = blocked[0]
        keep = [p for p in needed_paths() if p.startswith(top + "/")]
        if not keep or top in masked:
            sys.exit(f"the sandbox user cannot read {top}")
        mask(top, outermost(keep))
        masked.append(top)
    return masked


def hide_repository() -> list[str]:
    """Show the kernel only what it needs of the course repository (its packages and the
    venv, if inside): not the solutions, their git history, references or gradebook."""
    if not os.path.isdir(os.path.join(REPOSITORY, "solutions")):
        return []  # not the course repository (an installed grader): nothing to hide
    needed = needed_paths()
    if REPOSITORY in needed:
        return []  # on sys.path itself: the kernel may import anything from it
    mask(REPOSITORY, outermost([p for p in needed if p.startswith(REPOSITORY + "/")]))
    return [REPOSITORY]


def private_scratch() -> list[str]:
    """Empty /tmp and /dev/shm of our own (a student filling them fills 128 MiB of memory,
    not the machine's), with what lives under /tmp and is needed bound back: the working
    directory, and the venv and course packages when the repository itself is under /tmp
    (a CI checkout, say)."""
    cwd = os.getcwd()
    keep = [p for p in [cwd, *needed_paths()] if p.startswith("/tmp/")]
    mask("/tmp", outermost(keep), SCRATCH)
    os.chdir(cwd)  # into the bound copy of itself, on the new mount
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, SCRATCH)
    return ["/tmp", "/dev/shm"]


def outermost(paths: list[str]) -> list[str]:
    kept: list[str] = []
    for path in sorted(paths):
        if not any(path.startswith(k + "/") for k in kept):
            kept.append(path)
    return kept


def mask(top: str, keep: list[str], options: str = "mode=755,size=64k") -> None:
    """Cover ``top`` with an empty tmpfs, then bind the ``keep`` directories back in place."""
    # O_PATH handles reach the directories after the tmpfs has hidden their paths.
    handles = [os.open(p, os.O_PATH | os.O_DIRECTORY) for p in keep]
    _mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, options)
    for path, handle in zip(keep, handles):
        os.makedirs(path, mode=0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{handle}", path, None, MS_BIND | MS_REC)
        os.close(handle)


def drop_privileges(user: pwd.struct_passwd) -> None:
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)  # from root to a user: every capability is gone
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no way back through setuid binaries


# --------------------------------------------------------------------------- always


def limit_resources(memory: int, processes: int) -> None:
    """Soft and hard limits alike, so the student's code cannot raise them again."""
    limits = [
        (resource.RLIMIT_AS, memory),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, FILE_SIZE_LIMIT),
    ]
    if processes:  # counted per user: as the grader's own user it would count its processes
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


def launch(connection_file: str) -> None:
    import grader.answers  # noqa: F401 - imported now, a grader/ folder of the student's cannot shadow it

    # ipykernel's debugger: 70 ms of imports per kernel, and a debug port nobody will use.
    sys.modules["debugpy"] = None
    from ipykernel import kernelapp

    add_working_directory_to_path()
    # Its default is read at import, which for a forked kernel was in the server: without
    # it, the kernel would think it runs in a terminal and print instructions to one.
    parent = f"--IPKernelApp.parent_handle={os.environ.get('JPY_PARENT_PID') or 0}"
    kernelapp.launch_new_instance(["-f", connection_file, *KERNEL_OPTIONS, parent])


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

"""What jupyter_client starts for a sandboxed kernel when a kernel server runs (the argv of
the kernelspec, see grader.sandbox):

    python -I -S grader/kernel_stub.py SOCKET -f CONNECTION_FILE

It asks the server (grader.sandbox_kernel.serve) to fork a kernel for it, handing over its
standard streams, its working directory (the run directory grader.sandbox prepared), the
connection info, a few environment variables and, when the grader made control groups for
this kernel (root), their ``cgroup.procs`` files opened for writing; then it stands for that
kernel: the two ends of one socket tie them together. A SIGINT from jupyter_client goes on as
an "i"; the kernel's exit status comes back and becomes ours; if we are killed (jupyter_client
shutting the kernel down) or the grader dies, our end closes and the kernel's supervisor kills
the kernel. Standard library only and no ``site``: it starts in a few milliseconds.
"""

import json
import os
import select
import signal
import socket
import sys

# What the kernel may see of the grader's environment (it may hold secrets); the rest is
# never sent, so it cannot linger in the server's memory either.
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "JPY_PARENT_PID", "MPLBACKEND")
# os.pathsep-separated cgroup.procs files the kernel joins (set by grader.sandbox).
CGROUP_VARIABLE = "AUTOGRADE_CGROUP_PROCS"


def main(argv: list[str]) -> int:
    address, connection_file = argv[0], argv[argv.index("-f") + 1]
    grader = os.getppid()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    server.connect(address)
    with open(connection_file) as f:
        connection = json.load(f)
    request = {
        "run": os.getcwd(),
        "connection": connection,
        "env": {key: os.environ[key] for key in KEPT_ENVIRONMENT if key in os.environ},
    }
    groups = [p for p in os.environ.get(CGROUP_VARIABLE, "").split(os.pathsep) if p]
    fds = [0, 1, 2] + [os.open(path, os.O_WRONLY) for path in groups]
    socket.send_fds(server, [json.dumps(request).encode()], fds)
    signal.signal(signal.SIGINT, lambda *_: server.send(b"i"))
    while True:
        if select.select([server], [], [], 1.0)[0]:
            status = server.recv(16)  # empty: the server or the supervisor failed
            return int(status) if status.isdigit() else 1
        if os.getppid() != grader:
            return 1  # the grader is gone: exiting closes our end, which kills the kernel


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

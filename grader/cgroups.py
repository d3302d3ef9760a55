"""A control group per student kernel: one memory and one process budget for the kernel and
everything it starts, and a sure way to stop them all (grader.sandbox uses it when root).

Linux has two layouts; both are handled:

* cgroup v2 (one unified tree, ``/sys/fs/cgroup/cgroup.controllers`` lists ``memory pids``):
  ``memory.max``, ``pids.max``, ``memory.events`` (oom_kill), ``cgroup.kill``;
* cgroup v1 (a tree per controller, ``/sys/fs/cgroup/memory`` and ``/sys/fs/cgroup/pids``):
  ``memory.limit_in_bytes`` (and ``memory.memsw.limit_in_bytes``: no escape into swap),
  ``pids.max``, ``memory.oom_control`` (oom_kill).

The kernel joins its group itself, before it starts anything: the grader (root) opens each
group's ``cgroup.procs`` for writing, the kernel stub passes the open files to the forked
kernel, which writes "0" (itself) into them. The kernel never sees /sys/fs/cgroup; the kernel
checks permission against the credentials of whoever *opened* the file (Linux >= 5.16).
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "autograde"  # every kernel's group lives under this one


def layout() -> str | None:
    """ "v2", "v1" or None (no usable memory and pids controllers, or not root)."""
    if os.geteuid() != 0:
        return None
    controllers = ROOT / "cgroup.controllers"
    if controllers.is_file() and {"memory", "pids"} <= set(controllers.read_text().split()):
        return "v2" if _writable(ROOT) else None
    if all(_writable(ROOT / name) for name in ("memory", "pids")):
        return "v1"
    return None


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


@dataclass
class KernelGroup:
    """The control group(s) of one kernel run."""

    folders: list[Path]  # one (v2) or one per controller (v1)
    version: str

    @classmethod
    def create(cls, memory_bytes: int, processes: int) -> KernelGroup | None:
        version = layout()
        if version is None:
            return None
        name = f"run-{os.getpid()}-{uuid.uuid4().hex[:12]}"
        if version == "v2":
            parent = ROOT / PARENT
            parent.mkdir(exist_ok=True)
            (parent / "cgroup.subtree_control").write_text("+memory +pids")
            folders = [parent / name]
        else:
            folders = [ROOT / "memory" / PARENT / name, ROOT / "pids" / PARENT / name]
        for folder in folders:
            folder.mkdir(parents=True)
        group = cls(folders, version)
        group._limit(memory_bytes, processes)
        return group

    def _limit(self, memory_bytes: int, processes: int) -> None:
        if self.version == "v2":
            (folder,) = self.folders
            _write(folder / "memory.max", memory_bytes)
            _write(folder / "memory.swap.max", 0, missing_ok=True)
            _write(folder / "pids.max", processes)
            return
        memory, pids = self.folders
        _write(memory / "memory.limit_in_bytes", memory_bytes)
        _write(memory / "memory.memsw.limit_in_bytes", memory_bytes, missing_ok=True)
        _write(pids / "pids.max", processes)

    @property
    def procs_files(self) -> list[str]:
        """What the kernel writes itself into (see the module's docstring)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def out_of_memory(self) -> bool:
        """Did the kernel's tree hit the memory limit and lose a process to it?"""
        name = "memory.events" if self.version == "v2" else "memory.oom_control"
        try:
            lines = (self.folders[0] / name).read_text().splitlines()
        except OSError:
            return False
        counts = dict(line.split() for line in lines if len(line.split()) == 2)
        return int(counts.get("oom_kill", 0)) > 0

    def remove(self) -> None:
        """Kill whatever is left in the group, then remove it."""
        if self.version == "v2":
            _write(self.folders[0] / "cgroup.kill", 1, missing_ok=True)
        for folder in self.folders:
            _kill_members(folder)
            for _ in range(50):  # rmdir fails while a killed process is still exiting
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _kill_members(folder: Path) -> None:
    for _ in range(100):
        try:
            pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.01)


def _write(path: Path, value: int, *, missing_ok: bool = False) -> None:
    try:
        path.write_text(str(value))
    except OSError:  # optional knobs: absent (no swap accounting) or refused
        if not missing_ok:
            raise

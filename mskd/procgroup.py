"""Process groups read from ``/proc`` (Linux): who is in one, who is alive, how one died.

Used to stop a child process group as a whole (Lava's workers) and to check that nothing of
it is left: a zombie (state ``Z``) has exited and holds no resources, so it counts as gone.

>>> import os
>>> os.getpid() in members(os.getpgid(0))
True
>>> alive(os.getpid()), alive(2**22 + 1)
(True, False)
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def _stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name, or None if the pid is gone."""
    try:
        raw = (PROC / str(pid) / "stat").read_bytes().decode("ascii", "replace")
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()  # the name may hold spaces and parentheses


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (exists and is not a zombie)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def members(pgid: int) -> list[int]:
    """Live process ids whose process group is ``pgid``."""
    out = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                out.append(int(entry.name))
    return out


def descendants(pid: int) -> list[int]:
    """Live processes below ``pid`` (children, their children, ...), whatever their group."""
    parent_of = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields and fields[0] not in ("Z", "X"):
                parent_of[int(entry.name)] = int(fields[1])
    out, frontier = [], {pid}
    while frontier:
        frontier = {p for p, pp in parent_of.items() if pp in frontier}
        out += sorted(frontier)
    return out


def how_it_ended(pid: int) -> str:
    """'killed by SIGKILL', 'exit code 1' (from a zombie's wait status) or 'exited'."""
    fields = _stat(pid)
    if fields is None or len(fields) < 50 or fields[0] != "Z":
        return "exited"
    status = int(fields[49])  # exit_code: the wait status, as waitpid() would return it
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def kill_group(pgid: int, wait_s: float = 5.0) -> list[int]:
    """SIGKILL every live member of ``pgid`` and wait until none runs; return survivors."""
    deadline = time.monotonic() + wait_s
    while True:
        left = members(pgid)
        if not left or time.monotonic() > deadline:
            return left
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return []
        time.sleep(0.02)

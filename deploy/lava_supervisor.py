"""Lava in a process group of its own: any exit stops all of it and removes what it made.

Lava 0.10 runs each process model and runtime service as a forked OS process
(``multiprocessing``), plus a ``SharedMemoryManager`` server; they talk through POSIX shared
memory (``/dev/shm/psm_*``) and block on it without timeouts. Run in mskd's own process,
a Ctrl-C reached every worker (hundreds of traceback lines, sometimes a segfault), a
SIGTERM left them running, and a dead worker made the runtime wait forever.
:func:`run_isolated` therefore runs a job (build, compile, run, read back) in a forked
child that leads a new process group::

    mskd (parent)                              child: pgid = its pid, stdout/stderr -> log
      waits on a pipe: messages, child           names its shared memory psm_mskd<ppid>x<n>_*
      alive, listed workers alive, timeout       runs job(report, *args): Lava forks here
      finally: SIGKILL the group, wait,          a thread: parent gone (pipe EOF) ->
      unlink psm_mskd<ppid>x<n>_*                  remove own shm and temp, SIGKILL own group

The terminal's Ctrl-C goes to mskd's group only, so Lava never sees it; mskd's ``finally``
kills the whole child group at once (Lava's own ``stop`` needs every worker alive to
return). A worker that dies (killed, or SIGBUS when ``/dev/shm`` is full) is an error
naming it within :data:`POLL_S`; no message for ``timeout`` seconds is an error as well.
Leftovers of an mskd that was SIGKILLed together with its child (shared memory, temp
folders, both tagged with the dead parent's pid) are removed by the next run.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from mskd import procgroup
from mskd.errors import BackendError, MskdError
from mskd.fsio import pid_alive
from mskd.interrupts import shielded

SHM_DIR = Path("/dev/shm")
TMP_PREFIX = "mskd-lava-"
SHM_PREFIX = "psm_mskd"  # multiprocessing's own prefix is psm_; ours adds the owner
DEFAULT_TIMEOUT_S = 300.0  # longest wait for any sign of progress (compile included)
POLL_S = 0.2
_OWNED = re.compile(rf"^(?:{TMP_PREFIX}|{SHM_PREFIX})(\d+)[-x]")
_runs = itertools.count()


def clean_stale() -> list[str]:
    """Remove temp folders and shared memory left by mskd processes that no longer exist."""
    removed = []
    for folder, is_dir in ((Path(tempfile.gettempdir()), True), (SHM_DIR, False)):
        with contextlib.suppress(OSError):
            for entry in folder.iterdir():
                m = _OWNED.match(entry.name)
                if m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
                    if is_dir and entry.is_dir():
                        shutil.rmtree(entry, ignore_errors=True)
                    else:
                        with contextlib.suppress(OSError):
                            entry.unlink()
                    removed.append(str(entry))
    return removed


@contextlib.contextmanager
def lava_tempdir() -> Iterator[Path]:
    """``/tmp/mskd-lava-<pid>-*``, removed at the end (stale ones of dead pids first)."""
    clean_stale()
    tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _remove_shm(tag: str) -> None:
    with contextlib.suppress(OSError):
        for entry in SHM_DIR.glob(f"psm_{tag}_*"):
            with contextlib.suppress(OSError):
                entry.unlink()


def _tag_shared_memory(tag: str) -> None:
    """Name every segment this process tree creates ``psm_<tag>_<hex>`` (Linux allows long
    names; the 14-character limit of ``_make_filename`` is macOS's)."""
    import secrets
    from multiprocessing import shared_memory

    shared_memory._make_filename = lambda: f"/psm_{tag}_{secrets.token_hex(6)}"


def _watch_parent(life_r: int, tag: str, tmp: Path) -> None:
    """Child thread: when mskd is gone (the pipe's write end closed), clean up and die."""
    with contextlib.suppress(OSError):
        while os.read(life_r, 1):
            pass
    _remove_shm(tag)
    shutil.rmtree(tmp, ignore_errors=True)
    os.killpg(0, signal.SIGKILL)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _child_main(conn, life_r: int, life_w: int, tag: str, tmp: Path, job, args) -> None:
    os.setpgid(0, 0)
    os.close(life_w)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only mskd answers a Ctrl-C
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    log = os.open(tmp / "lava.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdout = sys.stderr = open(log, "w", buffering=1, closefd=False)  # noqa: SIM115
    _tag_shared_memory(tag)
    threading.Thread(target=_watch_parent, args=(life_r, tag, tmp), daemon=True).start()
    lock = threading.Lock()

    def report(kind: str, *payload) -> None:
        with lock:
            conn.send((kind, *payload))

    try:
        report("result", job(report, *args))
    except BaseException as exc:  # noqa: BLE001 - everything goes back as one line
        kind = type(exc).__name__ if isinstance(exc, MskdError) else ""
        report("error", kind, _one_line(exc), f"{type(exc).__name__}: {_one_line(exc)}")
    conn.close()


class _Watch:
    """The parent's view of the child: listed workers, last sign of life, the verdict."""

    def __init__(self, pid: int, timeout: float, progress, log: Path) -> None:
        self.pid, self.timeout, self.progress, self.log = pid, timeout, progress, log
        self.workers: dict[int, str] = {}
        self.checking = True
        self.last = time.monotonic()

    def handle(self, msg: tuple):
        """Act on one message; return ``(True, result)`` once the job is over."""
        kind, *payload = msg
        self.last = time.monotonic()
        if kind == "worker":
            self.workers[payload[0]] = payload[1]
        elif kind == "stopping":
            self.checking = False
        elif kind == "progress" and self.progress is not None:
            self.progress(payload[0])
        elif kind == "result":
            return True, payload[0]
        elif kind == "error":
            raise _rebuild(*payload)
        return False, None

    def check(self, proc) -> None:
        """Raise BackendError if the child or a listed worker died, or nothing moved."""
        if proc.exitcode is not None:
            how = (f"killed by {signal.Signals(-proc.exitcode).name}" if proc.exitcode < 0
                   else f"exit code {proc.exitcode}")
            hint = " (is /dev/shm full?)" if proc.exitcode == -signal.SIGBUS else ""
            raise BackendError(f"Lava's runtime process (pid {proc.pid}) died ({how}){hint}"
                               f"{_last_error(self.log)}")
        if self.checking:
            for pid, what in self.workers.items():
                if not procgroup.alive(pid):
                    hint = " (is /dev/shm full?)" if "SIGBUS" in procgroup.how_it_ended(pid) \
                        else ""
                    raise BackendError(f"Lava worker {what} (pid {pid}) died "
                                       f"({procgroup.how_it_ended(pid)}){hint}; run stopped"
                                       f"{_last_error(self.log)}")
        if time.monotonic() - self.last > self.timeout:
            raise BackendError(f"Lava made no progress for {self.timeout:g} s: stopped it "
                               "(a worker may be stuck; --timeout sets the limit)")


def _last_error(log: Path) -> str:
    """' (last error in its log: SomethingError: ...)' from Lava's log, or ''."""
    try:
        lines = log.read_text(errors="replace").splitlines()[-200:]
    except OSError:
        return ""
    found = [ln.strip() for ln in lines if re.match(r"^\w*(Error|Exception)\b.*:", ln.strip())]
    return f" (last error in its log: {found[-1][:200]})" if found else ""


def _rebuild(kind: str, message: str, described: str) -> MskdError:
    from mskd import errors

    cls = getattr(errors, kind, None) if kind else None
    if isinstance(cls, type) and issubclass(cls, MskdError):
        return cls(message)
    return BackendError(f"Lava failed: {described}")


def run_isolated(job: Callable, args: tuple, *, tmp: Path, progress=None,
                 timeout: float = DEFAULT_TIMEOUT_S):
    """``job(report, *args)`` in a forked child leading its own process group.

    ``report(kind, ...)`` sends to the parent: ``("worker", pid, description)`` (watched
    until ``("stopping",)``), ``("progress", n)`` (passed to ``progress``) or anything else
    as a sign of life. Returns the job's result (picklable), or raises the job's error or a
    :class:`BackendError`; in every case, interrupts included, the group is dead and its
    shared memory removed on return.
    """
    if not timeout > 0:
        raise BackendError(f"timeout {timeout!r} s must be > 0")
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    life_r, life_w = os.pipe()
    tag = f"mskd{os.getpid()}x{next(_runs)}"
    proc = ctx.Process(target=_child_main, name="mskd-lava",
                       args=(send, life_r, life_w, tag, tmp, job, args))
    try:
        proc.start()
    finally:
        os.close(life_r)
        send.close()
    with contextlib.suppress(OSError):
        os.setpgid(proc.pid, proc.pid)  # also here: no window where it is in our group
    watch = _Watch(proc.pid, timeout, progress, tmp / "lava.log")
    done = False
    try:
        while True:
            if recv.poll(POLL_S):
                try:
                    msg = recv.recv()
                except EOFError:
                    msg = None
                if msg is not None:
                    done, result = watch.handle(msg)
                    if done:
                        return result
                    continue
                proc.join(1.0)  # the pipe closed: the child is exiting or dead
            watch.check(proc)
    finally:
        with shielded():
            _stop(proc, tag, life_w, grace=0.5 if done else 0.0)
            recv.close()


def _stop(proc, tag: str, life_w: int, grace: float) -> None:
    """Kill what is left of the child's group (after ``grace`` s for a child that finished),
    reap the child, remove the group's shared memory."""
    if grace:
        proc.join(grace)
    procgroup.kill_group(proc.pid)
    if proc.exitcode is None:
        proc.kill()
    proc.join(2.0)
    os.close(life_w)
    _remove_shm(tag)


def report_lava_workers(report, labels: dict[int, str]) -> None:
    """Tell the parent each Lava OS process as it starts (patched in the child only)."""
    from lava.magma.runtime.message_infrastructure.multiprocessing import MultiProcessing
    from lava.magma.runtime.message_infrastructure.shared_memory_manager import (
        SharedMemoryManager,
    )

    build, start = MultiProcessing.build_actor, SharedMemoryManager.start

    def build_actor(self, target_fn, builder, exception_q=None):
        actor = build(self, target_fn, builder, exception_q)
        report("worker", actor.pid, _describe(builder, labels))
        return actor

    def smm_start(self):
        start(self)
        report("worker", self._manager._process.pid, "shared-memory manager")

    MultiProcessing.build_actor, SharedMemoryManager.start = build_actor, smm_start


def _describe(builder, labels: dict[int, str]) -> str:
    """'PyLifModelBitAcc (layer 2 neuron)', or the runtime service's class."""
    model = getattr(builder, "proc_model", None)
    if model is not None:
        label = labels.get(getattr(builder, "_model_id", None))
        return f"{model.__name__} ({label})" if label else model.__name__
    rs = getattr(builder, "rs_class", None)
    return f"{rs.__name__} (runtime service)" if rs is not None else type(builder).__name__

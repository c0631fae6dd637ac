"""Atomic writes: a reader sees the old file or the complete new one, never half of one.

Everything the toolchain writes (datasets, checkpoints, networks, reports) goes through
these helpers: write beside the target under a temporary name, flush, then ``os.replace``.

* Temporary names carry the writer's pid: ``.<name>.<pid>-<random>.tmp`` for a file,
  ``.<name>.partial-<pid>-<random>`` for a folder. A writer killed with SIGKILL leaves
  one behind; the next write of the same target removes those whose pid is gone (and
  pid-less ones of older mskd versions after :data:`LEGACY_STALE_S`), never the live temp
  file of a concurrent writer.
* :func:`output_lock` makes a second writer of the same output fail at once, in one line
  naming the holder's pid; :func:`atomic_dir` takes it. The lock is an ``flock`` on
  ``.<name>.lock`` beside the target holding the pid: the kernel drops it when the holder
  dies, so a stale lock of a killed process is simply taken over.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mskd.errors import ConfigError, MskdError

LEGACY_STALE_S = 3600.0  # a pid-less temp name (older mskd) counts as stale after an hour


class OutputLocked(MskdError):
    """Another process is writing the same output."""


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stale(entry: Path, pid: str | None) -> bool:
    """A leftover whose writer is gone: its pid dead, or pid-less and old."""
    if pid is not None:
        return int(pid) != os.getpid() and not pid_alive(int(pid))
    try:
        return time.time() - entry.lstat().st_mtime > LEGACY_STALE_S
    except OSError:
        return False


def clean_leftovers(target: str | os.PathLike) -> list[Path]:
    """Remove the temp files and ``.partial-*`` folders that earlier, dead writers of
    ``target`` left beside it; return what was removed.

    >>> import tempfile, pathlib, subprocess
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> gone = subprocess.Popen(["true"]); _ = gone.wait()
    >>> _ = (d / f".ckpt.{gone.pid}-abcd1234.tmp").write_bytes(b"")
    >>> (d / f".ckpt.partial-{gone.pid}-abcd1234").mkdir()
    >>> _ = (d / f".ckpt.{os.getpid()}-abcd1234.tmp").write_bytes(b"")  # a live writer's
    >>> len(clean_leftovers(d / "ckpt"))
    2
    >>> sorted(p.name for p in d.iterdir()) == [f".ckpt.{os.getpid()}-abcd1234.tmp"]
    True
    """
    target = Path(target)
    name = re.escape(target.name)
    files = re.compile(rf"^\.{name}\.(?:(\d+)-)?[a-z0-9_]{{6,}}\.tmp$")
    folders = re.compile(rf"^\.{name}\.partial-(?:(\d+)-)?[a-z0-9_]{{6,}}$")
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        m_file, m_dir = files.match(entry.name), folders.match(entry.name)
        m = m_file or m_dir
        if m is None or not _stale(entry, m.group(1)):
            continue
        if m_dir and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                entry.unlink()
        removed.append(entry)
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    On an exception the temporary file is removed and ``target`` is left untouched.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "x.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (d / "x.txt").read_text()
    'hello'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}-", suffix=".tmp",
                                dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_bytes(target: str | os.PathLike, data: bytes) -> Path:
    """Atomically write ``data`` to ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Atomically write ``text`` (UTF-8) to ``target``."""
    return write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike, obj: Any) -> Path:
    """Atomically write ``obj`` as indented JSON."""
    return write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def pid_tempdir(prefix: str) -> Iterator[Path]:
    """A folder ``<tmp>/<prefix><pid>-*`` removed at the end; first removes the ones of
    ``prefix`` whose pid is gone (left by a SIGKILLed mskd)."""
    root = Path(tempfile.gettempdir())
    owned = re.compile(rf"^{re.escape(prefix)}(\d+)-")
    with contextlib.suppress(OSError):
        for entry in root.iterdir():
            m = owned.match(entry.name)
            if m and entry.is_dir() and _stale(entry, m.group(1)):
                shutil.rmtree(entry, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-"))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; rename it onto ``target`` on success.

    An interrupted run leaves only a hidden ``.<name>.partial-<pid>-*`` folder, never a
    half-written ``target`` that looks complete (the next write removes it). With
    ``overwrite`` an existing target is replaced (removed just before the rename);
    otherwise it is an error, checked again at the end. The target is locked
    (:func:`output_lock`) throughout, so a second writer fails at once.
    """
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists (pass --overwrite to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(target):
        if target.exists() and not overwrite:  # finished by another writer meanwhile
            raise FileExistsError(f"{target}: already exists (pass --overwrite to replace it)")
        clean_leftovers(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-{os.getpid()}-",
                                    dir=target.parent))
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700
        try:
            yield tmp
            if target.exists() and not overwrite:
                raise FileExistsError(f"{target}: appeared while it was written (not by "
                                      "mskd); left as it is")
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)


_held: dict[str, list] = {}  # lock path -> [fd, depth]: re-entrant within one process


def _lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii", errors="replace").split()[0]
    except (OSError, IndexError):
        return "another process"
    return f"pid {pid}" if pid.isdigit() else "another process"


@contextlib.contextmanager
def output_lock(target: str | os.PathLike) -> Iterator[None]:
    """Hold the write lock of output ``target`` (a file or folder) for the block.

    Raises :class:`OutputLocked` at once, naming the holder's pid, if another process (or
    another open of this lock in this process) holds it.
    """
    target = Path(target)
    path = _lock_path(target)
    key = str(path.resolve())
    if key in _held:
        _held[key][1] += 1
        try:
            yield
        finally:
            _held[key][1] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _acquire(path, target)
    _held[key] = [fd, 1]
    try:
        yield
    finally:
        del _held[key]
        with contextlib.suppress(OSError):
            path.unlink()  # before unlocking: a waiter then finds the file gone and retries
        os.close(fd)


def _acquire(path: Path, target: Path) -> int:
    """Open and flock ``path``; retry if it was removed (released) between open and lock."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise OutputLocked(f"{target}: {_holder(path)} is writing it now (lock "
                               f"{path.name}); wait for it to finish or choose another "
                               "output") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the holder released and removed it: lock the new file


def check_writable(out: Path) -> None:
    """Create the folder ``out`` and prove it takes a file; ConfigError naming it if not."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"{out}: output folder is not writable ({exc.strerror})") from exc

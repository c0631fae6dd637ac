"""Seeded generators of hostile files and the contract every reader must keep with them.

A :class:`Case` is one ``mskd`` command line whose input was damaged on purpose. Two kinds:

* ``must_fail``: damaged by construction (a wrong type, a huge declared shape, a truncated
  file, a non-finite value, a stored field inconsistent with the rest): the command must
  exit non-zero with exactly one line on stderr, starting ``error:``, naming the file, no
  traceback, no "internal error", and must write nothing;
* robust (random bit flips and truncations): the damaged file may still be valid, so the
  command may succeed; if it fails, the same one-line contract holds.

Cases run in-process through :func:`mskd.cli.main` (stderr captured at the file-descriptor
level, so HDF5's own diagnostics would count as extra lines) under a wall-clock alarm;
:func:`run_capped` runs one as a real subprocess under an address-space limit and reports
its peak memory. Everything is seeded: the same seed gives the same bytes.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np


@dataclass
class Case:
    """One damaged input and the command that reads it."""

    name: str
    argv: list[str]
    names: str  # the file (or folder) the error line must name
    outputs: list[Path] = field(default_factory=list)  # must not exist afterwards
    must_fail: bool = True
    unchanged: list[Path] = field(default_factory=list)  # must keep their bytes

    def __post_init__(self) -> None:
        self.argv = [str(a) for a in self.argv]
        self._before = {p: _snapshot(p) for p in self.unchanged}

    def changed(self) -> list[Path]:
        return [p for p, b in self._before.items() if _snapshot(p) != b]


def _snapshot(p: Path):
    if p.is_dir():
        return sorted((q.name, q.read_bytes() if q.is_file() else None) for q in p.iterdir())
    return p.read_bytes() if p.exists() else None


class CaseTimeout(BaseException):
    """The case ran past its time limit (not an Exception: mskd's handlers let it pass)."""


def _alarm(_signum, _frame):
    raise CaseTimeout()


def run_inprocess(case: Case, capfd, timeout: float = 60.0) -> tuple[int, str, float]:
    """``(exit code, stderr, seconds)`` of ``mskd ARGV`` run by :func:`mskd.cli.main`."""
    from mskd.cli import main

    capfd.readouterr()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    start = time.monotonic()
    try:
        main(case.argv)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return code, capfd.readouterr().err, time.monotonic() - start


def check(case: Case, code: int, err: str) -> str | None:
    """What is wrong with the outcome (None: the contract held)."""
    if code == 0:
        if case.must_fail:
            return f"accepted (exit 0): {case.name}"
        return None
    lines = [ln for ln in err.splitlines() if ln.strip()]
    problems = []
    if len(lines) != 1:
        problems.append(f"{len(lines)} lines on stderr")
    elif not lines[0].startswith("error: "):
        problems.append("line does not start with 'error: '")
    if "Traceback" in err or "internal error" in err:
        problems.append("traceback / internal error")
    named = [case.names] if case.must_fail else \
        [case.names, *(a for a in case.argv if os.path.exists(a))]  # the damage may move
    if lines and not any(n in lines[0] for n in named):
        problems.append(f"does not name {case.names}")
    if code in (130, 143) or code < 0:
        problems.append(f"exit {code}")
    written = [str(p) for p in case.outputs if p.exists()]
    if written:
        problems.append(f"wrote {written}")
    if case.changed():
        problems.append(f"changed {[str(p) for p in case.changed()]}")
    return f"{case.name}: {'; '.join(problems)}: {err.strip()[:300]}" if problems else None


def run_capped(case: Case, limit_bytes: int, timeout: float = 120.0) -> tuple[int, str, int]:
    """Run ``case`` as a subprocess with RLIMIT_AS = ``limit_bytes``; return
    ``(exit code, stderr, peak RSS in bytes)``."""
    import threading

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    p = subprocess.Popen([sys.executable, "-m", "mskd", *case.argv], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, preexec_fn=cap,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
    finally:
        timer.cancel()
        p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, err, usage.ru_maxrss * 1024


# -- byte-level damage ---------------------------------------------------------------------

def flip_bits(data: bytes, rng: np.random.Generator, n: int) -> bytes:
    """``data`` with ``n`` random bits flipped."""
    b = bytearray(data)
    for pos in rng.integers(0, len(b) * 8, size=n):
        b[pos // 8] ^= 1 << (pos % 8)
    return bytes(b)


def truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[:int(rng.integers(0, len(data)))]


# -- HDF5 edits ----------------------------------------------------------------------------

def h5_edit(src: Path, dst: Path, fn: Callable[[h5py.File], None]) -> Path:
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        fn(f)
    return dst


def h5_set(path: str, value, **kw) -> Callable[[h5py.File], None]:
    """Replace (or create) dataset ``path`` with ``value``."""
    def edit(f: h5py.File) -> None:
        if path in f:
            del f[path]
        f.create_dataset(path, data=value, **kw)
    return edit


def h5_declare(path: str, shape: tuple[int, ...], dtype="i8") -> Callable[[h5py.File], None]:
    """Replace dataset ``path`` with an empty chunked, compressed one declaring ``shape``:
    a few KiB on disk, terabytes if believed."""
    def edit(f: h5py.File) -> None:
        del f[path]
        chunks = tuple(min(s, 64) for s in shape)
        f.create_dataset(path, shape=shape, dtype=dtype, chunks=chunks, compression="gzip")
    return edit


def h5_del(path: str) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        del f[path]
    return edit


def h5_attr(name: str, value) -> Callable[[h5py.File], None]:
    def edit(f: h5py.File) -> None:
        f.attrs[name] = value
    return edit


# -- safetensors edits ---------------------------------------------------------------------

def st_split(raw: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def st_join(header: dict, data: bytes) -> bytes:
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    return len(h).to_bytes(8, "little") + h + data


class RawText(str):
    """Metadata text stored as it is (not JSON-encoded): for invalid JSON."""


def st_meta_edit(raw: bytes, fn: Callable[[dict], object]) -> bytes:
    """Checkpoint bytes with the ``mskd`` metadata replaced by ``fn(meta)``: ``fn`` edits
    ``meta`` in place (returns None) or returns any JSON value, or :class:`RawText`."""
    header, data = st_split(raw)
    meta = json.loads(header["__metadata__"]["mskd"])
    out = fn(meta)
    value = meta if out is None else out
    header["__metadata__"]["mskd"] = str(value) if isinstance(value, RawText) \
        else json.dumps(value)
    return st_join(header, data)


def st_header_edit(raw: bytes, fn: Callable[[dict], None]) -> bytes:
    header, data = st_split(raw)
    fn(header)
    return st_join(header, data)


def st_poke(raw: bytes, tensor: str, value: bytes) -> bytes:
    """Overwrite the first bytes of ``tensor``'s data with ``value``."""
    header, data = st_split(raw)
    start = header[tensor]["data_offsets"][0]
    data = data[:start] + value + data[start + len(value):]
    return st_join(header, data)


# -- .npy headers --------------------------------------------------------------------------

def npy_with_header(descr: str, shape: str, body: bytes, fortran: bool = False) -> bytes:
    """A version-1 ``.npy`` whose header says anything at all."""
    head = (f"{{'descr': {descr!r}, 'fortran_order': {fortran}, 'shape': {shape}, }}")
    head = head.encode("latin1")
    pad = 64 - (10 + len(head) + 1) % 64
    head += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(head).to_bytes(2, "little") + head + body


def npy_bytes(a: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=True)
    return buf.getvalue()


# -- JPEG ----------------------------------------------------------------------------------

def jpeg_bomb(width: int, height: int) -> bytes:
    """A tiny baseline JPEG whose frame header declares ``width`` x ``height``."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (8, 8)).save(buf, format="JPEG")
    b = bytearray(buf.getvalue())
    i = b.index(b"\xff\xc0")  # SOF0: length(2) precision(1) height(2) width(2)
    b[i + 5:i + 7] = height.to_bytes(2, "big")
    b[i + 7:i + 9] = width.to_bytes(2, "big")
    return bytes(b)


def deep_toml(depth: int) -> bytes:
    return ("a = " + "[" * depth + "]" * depth + "\n").encode()


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth

"""Resumable stages: skip work whose inputs and settings are unchanged.

A stage writes into ``OUT/<name>/`` through a temporary folder renamed at the end, then
records ``stage.json``: its key (the settings that reach it and the content hashes of the
stage outputs it reads), the hash of that key, the hash of its own output
(``output_sha256``: every file it wrote, names and bytes), the toolchain versions and the
wall time it took. Downstream stages key on ``output_sha256``, never on a path: a stage
re-runs exactly when a setting that reaches it, or the content of something it reads,
changed. Re-running skips a stage whose key is unchanged unless forced (``stage.json``,
with the wall time of the run that produced the output, is then left as it is); an
interrupted run resumes at the first stage without a complete result; a failing stage
leaves earlier stages' results in place.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mskd.errors import MskdError
from mskd.fsio import atomic_dir, write_json

STAGE_FILE = "stage.json"


def file_digest(path: str | Path, skip: tuple[str, ...] = ()) -> str:
    """SHA-256 of a file, or of every file below a folder (names and bytes, sorted), leaving
    out top-level files named in ``skip``."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        rel = f.relative_to(path) if path.is_dir() else Path(f.name)
        if str(rel) in skip:
            continue
        h.update(str(rel).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def key_digest(key: dict[str, Any]) -> str:
    """Stable hash of a JSON-serialisable stage key.

    >>> key_digest({"b": 1, "a": [1, 2]}) == key_digest({"a": [1, 2], "b": 1})
    True
    """
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()


def versioned(key: dict[str, Any]) -> dict[str, Any]:
    """A stage key plus the toolchain version, so an upgrade re-runs the stages."""
    from mskd import __version__

    return {**key, "mskd_version": __version__}


class StageError(MskdError):
    """A stage failed; the message names it. Earlier stages' results are kept."""


def read_stage(folder: str | Path) -> dict:
    """The ``stage.json`` of a stage folder (StageError naming it when absent or bad)."""
    meta = Path(folder) / STAGE_FILE
    try:
        return json.loads(meta.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise StageError(f"{meta}: no complete stage record ({exc})") from None


@dataclass
class StageRunner:
    """Runs named stages under ``out``; ``force`` re-runs all of them.

    ``ran`` and ``skipped`` list the stage names of this runner, in order.
    """

    out: Path
    force: bool = False
    on_event: Callable[[str, str], None] | None = None

    def __post_init__(self) -> None:
        self.out = Path(self.out)
        self.ran: list[str] = []
        self.skipped: list[str] = []

    def done(self, name: str, key: dict[str, Any]) -> bool:
        key = versioned(key)
        meta = self.out / name / STAGE_FILE
        if self.force or not meta.is_file():
            return False
        try:
            record = json.loads(meta.read_text())
        except (OSError, json.JSONDecodeError):
            return False
        return record.get("key_sha256") == key_digest(key) and "output_sha256" in record

    def output_digest(self, name: str) -> str:
        """Content hash of stage ``name``'s output (what a downstream key records)."""
        return read_stage(self.out / name)["output_sha256"]

    def run(self, name: str, key: dict[str, Any], fn: Callable[[Path], Any]) -> Path:
        """Run ``fn(tmp_dir)`` unless ``name`` is complete for ``key``; return its folder."""
        from mskd.provenance import versions

        target = self.out / name
        if self.done(name, key):
            self.skipped.append(name)
            self._emit(name, "skipped (unchanged)")
            return target
        self._emit(name, "running")
        start = time.perf_counter()
        try:
            with atomic_dir(target, overwrite=True) as tmp:
                fn(tmp)
                full = versioned(key)
                write_json(tmp / STAGE_FILE, {
                    "stage": name, "key": full, "key_sha256": key_digest(full),
                    "output_sha256": file_digest(tmp, skip=(STAGE_FILE,)),
                    "seconds": round(time.perf_counter() - start, 2),
                    "finished_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                    "versions": versions()})
        except MskdError as exc:
            raise StageError(f"stage '{name}' failed: {exc}") from exc
        self.ran.append(name)
        self._emit(name, f"done in {time.perf_counter() - start:.1f} s")
        return target

    def _emit(self, name: str, what: str) -> None:
        if self.on_event is not None:
            self.on_event(name, what)

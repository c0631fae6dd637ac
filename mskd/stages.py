"""Resumable stages: skip work whose inputs and settings are unchanged.

A stage writes into ``OUT/<name>/`` through a temporary folder renamed at the end, then
records ``stage.json`` with the hash of its key (settings plus the hashes of the files it
reads). Re-running skips a stage whose key is unchanged unless forced; an interrupted run
resumes at the first stage without a complete result; a failing stage leaves earlier
stages' results in place.
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


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file, or of every file below a folder (names and bytes, sorted)."""
    path = Path(path)
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else f.name).encode())
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


@dataclass
class StageRunner:
    """Runs named stages under ``out``; ``force`` re-runs all of them."""

    out: Path
    force: bool = False
    on_event: Callable[[str, str], None] | None = None

    def done(self, name: str, key: dict[str, Any]) -> bool:
        key = versioned(key)
        meta = self.out / name / "stage.json"
        if self.force or not meta.is_file():
            return False
        try:
            return json.loads(meta.read_text()).get("key_sha256") == key_digest(key)
        except (OSError, json.JSONDecodeError):
            return False

    def run(self, name: str, key: dict[str, Any], fn: Callable[[Path], Any]) -> Path:
        """Run ``fn(tmp_dir)`` unless ``name`` is complete for ``key``; return its folder."""
        target = self.out / name
        if self.done(name, key):
            self._emit(name, "skipped (unchanged)")
            return target
        self._emit(name, "running")
        start = time.perf_counter()
        try:
            with atomic_dir(target, overwrite=True) as tmp:
                fn(tmp)
                full = versioned(key)
                write_json(tmp / "stage.json", {"stage": name, "key": full,
                                                "key_sha256": key_digest(full),
                                                "seconds": round(time.perf_counter() - start, 2)})
        except MskdError as exc:
            raise StageError(f"stage '{name}' failed: {exc}") from exc
        self._emit(name, f"done in {time.perf_counter() - start:.1f} s")
        return target

    def _emit(self, name: str, what: str) -> None:
        if self.on_event is not None:
            self.on_event(name, what)

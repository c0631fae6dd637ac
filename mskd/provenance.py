"""What produced an artifact: toolchain versions, when, and the wall time it took.

Every artifact a reader may want to reproduce carries this: the demo's ``summary.md`` and
each ``stage.json``, a profile's ``report.json``, the convert report, a checkpoint's
metadata and a ``.net`` file's root attribute ``mskd_provenance``. Versions come from the
installed distributions' metadata (:mod:`importlib.metadata`), so asking costs no import
of torch or Lava; a package that is not installed reads ``"not installed"``.

>>> v = versions()
>>> sorted(v) == sorted(("mskd", "torch", "lava-nc", "lava-dl", "norse", "python"))
True
>>> p = provenance(12.345)
>>> p["wall_seconds"], sorted(p)
(12.35, ['created_utc', 'versions', 'wall_seconds'])
"""

from __future__ import annotations

import platform
import time
from importlib import metadata

PACKAGES = ("mskd", "torch", "lava-nc", "lava-dl", "norse")
NOT_INSTALLED = "not installed"


def versions() -> dict[str, str]:
    """``{package: version}`` of the toolchain and Python."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = NOT_INSTALLED
    out["python"] = platform.python_version()
    return out


def provenance(wall_seconds: float | None = None) -> dict:
    """Versions, the UTC time now, and the wall time of the work that made the artifact."""
    return {"versions": versions(),
            "created_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
            "wall_seconds": None if wall_seconds is None else round(float(wall_seconds), 2)}


def versions_line(v: dict[str, str]) -> str:
    """``mskd 0.1.0, torch 2.3.1, ...`` for a report.

    >>> versions_line({"mskd": "0.1.0", "python": "3.10.13"})
    'mskd 0.1.0, python 3.10.13'
    """
    return ", ".join(f"{k} {v[k]}" for k in v)

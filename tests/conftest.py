"""Fixtures shared by every test module.

The folders mirror the packages: ``core/`` (the shared core: arithmetic, network model,
simulator, chip mapping, CLI shell, file safety), ``data/``, ``train/``, ``convert/``,
``deploy/``, ``profiling/``, ``workflow/`` (demo and bench) and ``docs/`` (README and the
documentation site). Shared helpers live in ``tests/helpers.py`` (this folder is on
``sys.path``, so a module imports them with ``from helpers import ...``).

Markers (``pyproject.toml``): ``slow`` (left out of ``make test``), ``lava`` (runs Lava),
``unit`` (fast tests of one module's logic: ``make test-unit`` runs them alone).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import call_mskd, run_mskd  # noqa: E402 - needs the path above


@pytest.fixture()
def mskd_run():
    """``mskd_run(*args, timeout=..., env=..., cwd=...)``: the ``mskd`` executable in a
    subprocess, as a user runs it (a ``CompletedProcess`` with text output)."""
    return run_mskd


@pytest.fixture()
def mskd_call(capsys):
    """``mskd_call(*args) -> (exit code, stderr line)``: ``mskd`` in-process, as the
    executable runs it (errors must be one line)."""
    return lambda *args: call_mskd(capsys, *args)

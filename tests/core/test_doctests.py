"""Run every docstring example in the installed package, so examples cannot drift.

Modules are imported by their installed names (``mskd.train...``), never as top-level
``train`` or ``deploy``, which is why this replaces ``pytest --doctest-modules``.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

pytestmark = pytest.mark.unit

PACKAGES = ["mskd", "mskd.data", "mskd.train", "mskd.convert", "mskd.deploy", "mskd.hw_profiles"]


def _modules() -> list[str]:
    names: set[str] = set()
    for pkg_name in PACKAGES:
        pkg = importlib.import_module(pkg_name)
        names.add(pkg_name)
        for info in pkgutil.iter_modules(pkg.__path__, prefix=pkg_name + "."):
            if not info.ispkg and not info.name.endswith("__main__"):
                names.add(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"

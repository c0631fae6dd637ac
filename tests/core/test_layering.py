"""The layout's rules, checked on the source: imports follow the pipeline (data -> train ->
convert -> deploy -> profiling, the workflow and the CLI shell above them; the shared core
below all), and no module imports another module's private name."""

from __future__ import annotations

import ast

import pytest
from helpers import REPO

pytestmark = pytest.mark.unit

PACKAGES = {"mskd": "mskd", "train": "mskd.train", "convert": "mskd.convert",
            "deploy": "mskd.deploy", "profiling": "mskd.profiling",
            "hw_profiles": "mskd.hw_profiles"}
# rank of each stage; the shared core (mskd.loihi, net, sim, chip, the I/O helpers) and
# hw_profiles are 0: every stage may import them, they import no stage
STAGES = (("mskd.data", 1), ("mskd.train", 2), ("mskd.convert", 3), ("mskd.deploy", 4),
          ("mskd.profiling", 5), ("mskd.workflow", 6), ("mskd.cli", 6), ("mskd.entry", 6),
          ("mskd.__main__", 6))


def _rank(module: str) -> int:
    for prefix, rank in STAGES:
        if module == prefix or module.startswith(prefix + "."):
            return rank
    return 0


def _modules():
    for folder, package in PACKAGES.items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = [p for p in path.relative_to(REPO / folder).with_suffix("").parts
                     if p != "__init__"]
            yield ".".join([package, *parts]), path


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("mskd"):
            yield node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("mskd"):
                    yield a.name, []


def test_no_import_runs_backwards():
    wrong = [f"{name} -> {target}" for name, path in _modules()
             for target, _ in _imports(path) if _rank(target) > _rank(name)]
    assert not wrong, wrong


def test_no_private_name_crosses_modules():
    wrong = [f"{name} imports {target}.{n}" for name, path in _modules()
             for target, names in _imports(path) for n in names
             if n.startswith("_") and not n.startswith("__")]
    assert not wrong, wrong


def test_the_rule_would_see_a_backward_import():
    assert _rank("mskd.convert.cli") > _rank("mskd.train.loop") > _rank("mskd.sim.simulator")

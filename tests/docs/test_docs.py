"""The README and the docs pages name only files and modules that exist.

A page that still says `convert/nir_pool.py` or `mskd.deploy.sim.run` after the code moved
sends the reader to nothing; these tests fail on such a name. They read text and look
modules up with importlib.util.find_spec, importing no more than the packages on the way
(no stage module runs), so they take well under a second. Links between docs pages (and
their anchors) are checked by `mkdocs build --strict` (`make docs`, part of `make test`);
the README is not part of the site, so its links are checked here.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest
from helpers import REPO

pytestmark = pytest.mark.unit

ROOT = REPO
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]

# A file path is a name under one of the repository's folders (those of the target layout
# too, so a page may not name a file there before it exists) with a source-like extension.
# Folders the commands write at run time (`runs/demo/convert/student.net`, `profile/`) have
# other extensions or none, and are not taken for repository files.
REPO_DIRS = ("mskd", "train", "convert", "deploy", "profiling", "hw_profiles", "scripts",
             "tests", "docs")
DIRS = "|".join(REPO_DIRS)
PATH = re.compile(rf"(?<![\w./-])((?:{DIRS})/[\w./-]*\.(?:py|toml|png|svg|md|yml|yaml))(?![\w/-])")
MODULE = re.compile(r"(?<![\w./-])(mskd(?:\.[A-Za-z_]\w*)+)")
LINK = re.compile(r"\]\(([^)\s]+)\)")
# wording about how the project was built, not what the thing is
HISTORY = re.compile(r"\b(this|first|the first|previous|next|second) wave\b", re.IGNORECASE)


def references(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    """(page relative to the repository, name) for every match on every page."""
    return sorted({(str(p.relative_to(ROOT)), m.group(1))
                   for p in PAGES for m in pattern.finditer(p.read_text(encoding="utf-8"))})


def test_pages_are_found() -> None:
    assert README.exists() and len(PAGES) > 10
    # the patterns see what they are meant to see, and leave run-time paths alone
    text = ("`convert/cli.py`, hw_profiles/loihi2.toml and (`scripts/bench_kd.py`); "
            "runs/demo/convert/student.net, --out profile/, lava/proc/sdn/models.py")
    assert PATH.findall(text) == ["convert/cli.py", "hw_profiles/loihi2.toml",
                                  "scripts/bench_kd.py"]
    assert MODULE.findall("`mskd.deploy.sim.run(net)`, mskd_encoding, `mskd.<stage>`.") == [
        "mskd.deploy.sim.run"]


@pytest.mark.parametrize(("page", "path"), references(PATH))
def test_named_file_exists(page: str, path: str) -> None:
    assert (ROOT / path).exists(), f"{page} names {path}, which is not in the repository"


@cache
def top_level_names(origin: str) -> frozenset[str]:
    """Names a module defines or imports at its top level, read from its source."""
    tree = ast.parse(Path(origin).read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                names.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return frozenset(names)


def unresolved(dotted: str) -> str | None:
    """Why `dotted` names nothing, or None. The longest prefix must be a module (found by
    importlib.util.find_spec, descending only into packages, so no module body runs); what
    follows it may be one name the module defines (a function, class or constant)."""
    parts = dotted.split(".")
    spec = None
    k = 0
    for k in range(1, len(parts) + 1):
        if spec is not None and spec.submodule_search_locations is None:
            k -= 1  # a plain module: the rest are names inside it
            break
        try:
            found = importlib.util.find_spec(".".join(parts[:k]))
        except (ImportError, ValueError):
            found = None
        if found is None:
            k -= 1
            break
        where = Path(found.origin or next(iter(found.submodule_search_locations or []), ROOT))
        if not where.resolve().is_relative_to(ROOT):
            pytest.skip(f"{found.name} is imported from {where}, not from this checkout "
                        f"({ROOT}): install it from here (`pip install -e .`) to check its names")
        spec = found
    if spec is None:
        return f"no module {parts[0]}"
    rest = parts[k:]
    if not rest:
        return None
    if spec.origin is None or not spec.origin.endswith(".py"):
        return f"{'.'.join(parts[:k])} has no Python source to look {rest[0]} up in"
    if rest[0] not in top_level_names(spec.origin):
        return (f"{'.'.join(parts[:k])} ({spec.origin}) neither defines {rest[0]} "
                "nor has such a submodule")
    return None


@pytest.mark.parametrize(("page", "dotted"), references(MODULE))
def test_named_module_exists(page: str, dotted: str) -> None:
    why = unresolved(dotted)
    assert why is None, f"{page} names {dotted}: {why}"


def slug(heading: str) -> str:
    """Python-Markdown's toc slug (what mkdocs makes a heading's anchor)."""
    text = re.sub(r"`|\*\*|\[|\]\([^)]*\)", "", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.MULTILINE)}


@pytest.mark.parametrize("target", sorted({m.group(1) for m in LINK.finditer(README.read_text())
                                           if not re.match(r"[a-z]+:|#", m.group(1))}))
def test_readme_link_resolves(target: str) -> None:
    path, _, anchor = target.partition("#")
    assert (ROOT / path).exists(), f"README links to {path}, which does not exist"
    if anchor:
        assert anchor in anchors(ROOT / path), f"README links to {target}: no such heading"


def test_readme_is_a_front_door() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= 250, f"README.md has {lines} lines; move the detail into docs/"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_words_about_how_the_project_was_built(page: Path) -> None:
    found = HISTORY.findall(page.read_text(encoding="utf-8"))
    assert not found, f"{page.relative_to(ROOT)} says {found}: say what the thing is instead"

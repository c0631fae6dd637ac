"""The README's pipeline runs as written (with tiny sizes and epochs substituted)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from helpers import REPO, run_mskd

pytestmark = pytest.mark.unit

README = REPO / "README.md"
SKIP = ("mskd demo", "mskd bench")  # each its own test (test_pipeline, test_bench)
TINY = [("--subjects 24", "--subjects 3 --size 16"), ("--samples 4", "--samples 1"),
        ("--views 5", "--views 1")]
TRAIN = ["--epochs", "1", "--size", "16", "--no-progress"]


def pipeline_commands() -> list[str]:
    text = README.read_text()
    block = text[text.index("## The pipeline in commands"):]
    block = block[block.index("```sh") + 5:block.index("```", block.index("```sh") + 5)]
    lines = [re.sub(r"\s+#.*$", "", ln).strip() for ln in block.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith(SKIP)]


def tiny(command: str) -> list[str]:
    for old, new in TINY:
        command = command.replace(old, new)
    args = shlex.split(command)[1:]
    return args + TRAIN if args[0] == "train" else args


def test_the_block_is_there() -> None:
    cmds = pipeline_commands()
    assert cmds[0].startswith("mskd data synth") and len(cmds) >= 14
    assert any(c.startswith("mskd data encode") for c in cmds)
    assert any("--input x.npy" in c for c in cmds)


@pytest.mark.slow
@pytest.mark.lava
def test_readme_pipeline_runs_as_written(tmp_path: Path) -> None:
    for command in pipeline_commands():
        run = run_mskd(*tiny(command), cwd=tmp_path)
        assert run.returncode == 0, f"{command}\n{run.stderr[-2000:]}"
    assert (tmp_path / "out.npz").exists() and (tmp_path / "profile" / "report.md").exists()
    from mskd.net.encoding import read_encoding
    from mskd.net.netx_io import read_netx
    from mskd.net.spec import specs_equal

    a, b = tmp_path / "student.net", tmp_path / "student-from-nir.net"
    assert specs_equal(read_netx(a), read_netx(b)) and read_encoding(a) == read_encoding(b)

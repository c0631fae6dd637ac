"""The CLI: sub-commands exist, errors are one line with a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mskd", *args], capture_output=True, text=True,
                          timeout=300)


def test_help_lists_every_stage() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ["data", "train", "convert", "deploy", "profile", "bench"]:
        assert command in out.stdout


@pytest.mark.parametrize("args", [
    ["data", "info", "/nonexistent/dir"],
    ["deploy", "run", "/no/such.net", "--input", "/no/x.npy", "--out", "/tmp/o.npz"],
    ["profile", "/no/such.net", "--input", "/no/x.npy", "--out", "/tmp/p"],
])
def test_errors_are_one_line_naming_the_path(args: list[str]) -> None:
    out = run_cli(*args)
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("error: ") and "/no" in lines[0]


def test_every_command_takes_config() -> None:
    """Each leaf command has ``--config`` (keys = its options), as the pipeline issue asks."""
    import click
    import typer

    from mskd.cli import app

    def leaves(cmd: click.Command, path: str):
        if isinstance(cmd, click.Group):
            for name, sub in cmd.commands.items():
                yield from leaves(sub, f"{path} {name}")
        else:
            yield path, cmd

    found = dict(leaves(typer.main.get_command(app), "mskd"))
    assert len(found) >= 12
    missing = [p for p, c in found.items() if "config" not in {x.name for x in c.params}]
    assert not missing, f"commands without --config: {missing}"

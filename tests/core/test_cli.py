"""The CLI: sub-commands exist, errors are one line with a non-zero exit."""

from __future__ import annotations

import pytest
from helpers import run_mskd


def test_help_lists_every_stage() -> None:
    out = run_mskd("--help")
    assert out.returncode == 0
    for command in ["data", "train", "convert", "deploy", "profile", "bench"]:
        assert command in out.stdout


@pytest.mark.parametrize("args", [
    ["data", "info", "/nonexistent/dir"],
    ["deploy", "run", "/no/such.net", "--input", "/no/x.npy", "--out", "/tmp/o.npz"],
    ["profile", "/no/such.net", "--input", "/no/x.npy", "--out", "/tmp/p"],
])
def test_errors_are_one_line_naming_the_path(args: list[str]) -> None:
    out = run_mskd(*args)
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


def _main_with(monkeypatch, capsys, body, *argv: str) -> tuple[int, str]:
    """Run ``mskd.cli.main`` on a one-command app whose command runs ``body``."""
    import typer

    from mskd import cli
    from mskd.config import config_option

    app = typer.Typer()

    @app.command("boom")
    def boom(config: str = config_option()) -> None:
        body()

    app.command("other")(lambda: None)
    monkeypatch.setattr(cli, "app", app)
    with pytest.raises(SystemExit) as exc:
        cli.main(["boom", *argv])
    return exc.value.code, capsys.readouterr().err


def _raise(exc):
    def body():
        raise exc
    return body


@pytest.mark.parametrize("exc, code, line", [
    (KeyboardInterrupt(), 130, "error: interrupted\n"),
    (__import__("mskd.interrupts").interrupts.Terminated(15), 143,
     "error: terminated (SIGTERM)\n"),
    (__import__("typer").Exit(3), 3, ""),
    (EOFError("No data left in file"), 1,
     "error: No data left in file (internal error: rerun with --debug for the traceback)\n"),
])
def test_exit_codes_of_main(monkeypatch, capsys, exc, code, line) -> None:
    """Issue 13: Ctrl-C is 130 (typer turned it into a dropped return value: exit 0), an
    EOFError is not 'aborted' with 130, typer.Exit(n) (verify's divergence) exits n."""
    assert _main_with(monkeypatch, capsys, _raise(exc)) == (code, line)


def test_option_error_names_the_config_it_may_come_from(monkeypatch, capsys, tmp_path) -> None:
    from mskd.errors import ConfigError

    cfg = tmp_path / "run.toml"
    cfg.write_text("")
    code, err = _main_with(monkeypatch, capsys, _raise(ConfigError("--frame-ms 0: bad")),
                           "--config", str(cfg))
    assert code == 1 and err == f"error: --frame-ms 0: bad (options from {cfg} included)\n"

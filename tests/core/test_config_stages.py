"""--config files and resumable stages."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mskd.config import config_option
from mskd.errors import MskdError
from mskd.workflow.cache import StageError, StageRunner

pytestmark = pytest.mark.unit

def _app() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def cmd(config: str = config_option(), epochs: int = 3, batch_size: int = 8) -> None:
        print(f"epochs={epochs} batch_size={batch_size}")

    return app


def test_config_sets_defaults_and_flags_win(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text("epochs = 7\nbatch-size = 2\n")
    runner = CliRunner()
    out = runner.invoke(_app(), ["--config", str(cfg)])
    assert out.exit_code == 0, out.output
    assert "epochs=7 batch_size=2" in out.output
    out = runner.invoke(_app(), ["--config", str(cfg), "--epochs", "1"])
    assert "epochs=1 batch_size=2" in out.output


def test_config_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text("epochz = 7\n")
    out = CliRunner().invoke(_app(), ["--config", str(cfg)])
    assert out.exit_code != 0
    assert isinstance(out.exception, MskdError)
    assert "epochz" in str(out.exception) and "run.toml" in str(out.exception)


def test_stage_skips_when_key_unchanged_and_reruns_when_changed(tmp_path: Path) -> None:
    calls: list[int] = []

    def work(d: Path) -> None:
        calls.append(1)
        (d / "result.txt").write_text(str(len(calls)))

    runner = StageRunner(tmp_path)
    runner.run("a", {"x": 1}, work)
    runner.run("a", {"x": 1}, work)
    assert len(calls) == 1
    runner.run("a", {"x": 2}, work)
    assert len(calls) == 2
    StageRunner(tmp_path, force=True).run("a", {"x": 2}, work)
    assert len(calls) == 3
    assert (tmp_path / "a" / "result.txt").read_text() == "3"


def test_failing_stage_keeps_earlier_results_and_no_partial(tmp_path: Path) -> None:
    runner = StageRunner(tmp_path)
    runner.run("first", {}, lambda d: (d / "ok").write_text("1"))

    def broken(d: Path) -> None:
        (d / "half").write_text("x")
        raise MskdError("boom")

    with pytest.raises(StageError, match="stage 'second' failed: boom"):
        runner.run("second", {}, broken)
    assert (tmp_path / "first" / "ok").exists()
    assert not (tmp_path / "second").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_atomic_writes_get_the_usual_mode(tmp_path: Path) -> None:
    import os

    from mskd.fsio import atomic_dir, write_text

    mask = os.umask(0o022)
    try:
        f = write_text(tmp_path / "a.txt", "x")
        with atomic_dir(tmp_path / "d") as d:
            (d / "f").write_text("y")
    finally:
        os.umask(mask)
    assert oct(f.stat().st_mode & 0o777) == oct(0o644)
    assert oct((tmp_path / "d").stat().st_mode & 0o777) == oct(0o755)


def test_config_can_supply_required_arguments_and_options(tmp_path: Path) -> None:
    app = typer.Typer()

    @app.command()
    def cmd(config: str = config_option(), data: str = typer.Argument(...),
            out: str = typer.Option(..., "--out")) -> None:
        print(f"data={data} out={out}")

    cfg = tmp_path / "run.toml"
    cfg.write_text('data = "d1"\nout = "o1"\n')
    result = CliRunner().invoke(app, ["--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "data=d1 out=o1" in result.output


def _leaves(cmd, path="mskd"):
    import click

    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _leaves(sub, f"{path} {name}")
    else:
        yield path, cmd


def test_config_keys_are_exactly_the_option_names() -> None:
    """Issue 13: every command's --config keys are its option names as typed on the command
    line (profile, ann-profile, input, skip-zero-weights, eval, json, split), never the
    Python parameter names (hw, ann, inputs, skip_zero, eval_data, as_json, split_file)."""
    import click

    from mskd.cli import app
    from mskd.config import _names

    for path, cmd in _leaves(typer.main.get_command(app)):
        keys = _names(cmd)
        for p in cmd.params:
            if p.name == "config":
                continue
            if isinstance(p, click.Argument):
                assert keys[p.name] is p
                continue
            longs = [o[2:] for o in p.opts if o.startswith("--")]
            assert longs and all(keys[k] is p for k in longs), (path, p.name)
            if p.name.replace("_", "-") not in longs:
                assert p.name not in keys, f"{path}: Python name {p.name!r} accepted as a key"
    profile = dict(_leaves(typer.main.get_command(app)))["mskd profile"]
    assert {"profile", "ann-profile", "input", "skip-zero-weights"} <= set(_names(profile))
    assert not {"hw", "ann", "inputs", "skip_zero"} & set(_names(profile))


def test_config_values_are_type_and_range_checked(tmp_path: Path) -> None:
    for text, says in (("epochs = true\n", "expected an integer"),
                       ('epochs = "7"\n', "expected an integer"),
                       ("epochs = [1]\n", "takes one value"),
                       ("batch-size = nan\n", "expected an integer"),
                       ("epochs = 1\nepochs = 2\n", "not valid TOML")):
        cfg = tmp_path / "run.toml"
        cfg.write_text(text)
        out = CliRunner().invoke(_app(), ["--config", str(cfg)])
        assert out.exit_code != 0 and isinstance(out.exception, MskdError)
        assert says in str(out.exception) and "run.toml" in str(out.exception), text

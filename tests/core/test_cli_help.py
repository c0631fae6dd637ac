"""A newcomer's CLI: help and choices everywhere, --version, --debug anywhere, a fast
start, outputs not overwritten by accident, inputs checked before long work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
import typer
from helpers import run_mskd

from mskd.cli import app, hoist_debug
from mskd.errors import CheckpointError, ConfigError


def _leaves(cmd: click.Command, path: str = "mskd"):
    if isinstance(cmd, click.Group):
        for name, sub in cmd.commands.items():
            yield from _leaves(sub, f"{path} {name}")
    else:
        yield path, cmd


COMMANDS = dict(_leaves(typer.main.get_command(app)))


def test_every_argument_and_option_has_help() -> None:
    missing = {p: [x.name for x in c.params if not (getattr(x, "help", None) or "").strip()]
               for p, c in COMMANDS.items()}
    assert not {p: m for p, m in missing.items() if m}
    assert all(c.help for c in COMMANDS.values())


@pytest.mark.parametrize("command, option, values", [
    ("mskd deploy run", "backend", {"sim", "lava", "loihi2"}),
    ("mskd deploy run", "device", {"cpu", "cuda"}),
    ("mskd deploy run", "split", {"train", "test"}),
    ("mskd eval", "split", {"train", "test"}),
    ("mskd data encode", "split", {"train", "test"}),
])
def test_enumerated_options_are_choices(command, option, values) -> None:
    param = next(p for p in COMMANDS[command].params if p.name == option)
    assert isinstance(param.type, click.Choice) and set(param.type.choices) == values


@pytest.mark.parametrize("command, option, shown", [
    ("mskd deploy run", "record", "u,v"), ("mskd profile", "hw", "loihi1|loihi2"),
    ("mskd convert", "profile", "loihi1|loihi2"), ("mskd summary", "profile", "loihi2"),
])
def test_open_ended_options_show_their_values(command, option, shown) -> None:
    param = next(p for p in COMMANDS[command].params if p.name == option)
    assert shown in param.metavar


def test_version_and_help_start_without_heavy_imports() -> None:
    out = run_mskd("--version")
    assert out.returncode == 0 and out.stdout.startswith("mskd ")
    code = ("import sys, mskd.cli; print(sorted(m for m in ('torch', 'numpy', 'h5py', "
            "'matplotlib', 'lava', 'nir', 'norse') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr


def test_debug_is_accepted_after_the_sub_command() -> None:
    assert hoist_debug(["data", "info", "x", "--debug"]) == ["--debug", "data", "info", "x"]
    plain = run_mskd("data", "info", "/nonexistent/dir")
    debug = run_mskd("data", "info", "/nonexistent/dir", "--debug")
    assert plain.returncode != 0 and "Traceback" not in plain.stderr
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert "No such option" not in debug.stderr


def test_convert_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    import nir

    w = np.array([[0.5, -1.0, 0.25, 2.0], [1.0, 0.5, -0.5, 0.1]])
    lif = nir.LIF(tau=np.ones(2) * 0.01, r=np.ones(2), v_leak=np.zeros(2),
                  v_threshold=np.ones(2))
    g = nir.NIRGraph(nodes={"input": nir.Input(np.array([4])), "fc": nir.Linear(w), "lif": lif,
                            "output": nir.Output(np.array([2]))},
                     edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])
    nir.write(str(tmp_path / "g.nir"), g)
    out = tmp_path / "g.net"
    out.write_bytes(b"mine")
    refused = run_mskd("convert", str(tmp_path / "g.nir"), "--out", str(out))
    assert refused.returncode != 0 and "pass --force" in refused.stderr
    assert out.read_bytes() == b"mine"
    forced = run_mskd("convert", str(tmp_path / "g.nir"), "--out", str(out), "--force",
                     "--dt", "1e-3")
    assert forced.returncode == 0, forced.stderr
    assert out.read_bytes()[:4] == b"\x89HDF"


def test_student_training_checks_the_teacher_before_the_data(tmp_path: Path) -> None:
    """A missing teacher is named at once, before the (here also missing) dataset is read."""
    from mskd.train.loop import train
    from mskd.train.options import TrainOptions

    opts = TrainOptions(kind="student", data=str(tmp_path / "no-data"), out=str(tmp_path / "s"),
                        teacher=str(tmp_path / "no-teacher.safetensors"), epochs=1)
    with pytest.raises(CheckpointError, match="no-teacher.safetensors: no such checkpoint"):
        train(opts, progress=False)


def test_a_clip_longer_than_every_sequence_is_refused(tmp_path: Path) -> None:
    from mskd.train.loop import train
    from mskd.train.options import TrainOptions

    from mskd.data.synth import synthesize

    data = synthesize(tmp_path / "see", subjects=3, seed=0, size=8, min_length=14,
                      max_length=16)
    opts = TrainOptions(kind="student", data=str(data), out=str(tmp_path / "s"), alpha=0.0,
                        clip="E5-S3", size=8, epochs=1)  # spans 17 frames > 16
    with pytest.raises(ConfigError, match="--clip E5-S3 spans 17 frames but the longest"):
        train(opts, progress=False)
    assert not (tmp_path / "s").exists()


def test_unknown_augment_keys_list_the_valid_ones() -> None:
    out = run_mskd("train", "teacher", "d", "--out", "o", "--augment", "shfit=0.1")
    assert out.returncode != 0
    assert "'shfit'" in out.stderr and "valid: shift, scale, rotate, gamma" in out.stderr


def test_eval_confusion_names_the_emotions() -> None:
    from mskd.train.report import print_eval
    from rich.console import Console

    conf = np.eye(7, dtype=int).tolist()
    result = {"kind": "student", "split": "test", "views": 1, "war": 1.0, "uar": 1.0,
              "per_lighting": {"normal": {"n": 7, "war": 1.0, "uar": 1.0}}, "confusion": conf}
    console = Console(record=True, width=200)
    print_eval(result, console)
    text = console.export_text()
    assert "happiness" in text and "neutral" in text and "true \\ predicted" in text


def test_demo_refuses_a_clip_longer_than_the_data_before_any_work(tmp_path: Path) -> None:
    out = run_mskd("demo", "--out", str(tmp_path / "d"), "--clip", "E12-S3")
    assert out.returncode != 0 and "spans 45 frames" in out.stderr
    assert not (tmp_path / "d").exists()

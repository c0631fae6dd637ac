"""``mskd train`` / ``mskd eval`` end to end, and two-process DDP under torchrun."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_mskd

from mskd.data.synth import synthesize

TINY_T = ["--size", "16", "--channels", "4,8", "--hidden", "8", "--batch-size", "16",
          "--no-progress"]
TINY_S = ["--size", "16", "--channels", "4", "--hidden", "8", "--steps-per-frame", "2",
          "--batch-size", "16", "--no-progress"]


def _env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def mskd(*args: str) -> subprocess.CompletedProcess:
    return run_mskd(*args, env=_env())


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return str(synthesize(tmp_path_factory.mktemp("see") / "synth", subjects=3, seed=1,
                          size=16, min_length=14, max_length=18))


def test_teacher_student_eval_from_the_command_line(data, tmp_path) -> None:
    t = mskd("train", "teacher", data, "--out", str(tmp_path / "t"), "--epochs", "1", *TINY_T)
    assert t.returncode == 0, t.stderr
    ckpt = tmp_path / "t" / "checkpoint.safetensors"
    s = mskd("train", "student", data, "--out", str(tmp_path / "s"), "--teacher", str(ckpt),
             "--epochs", "1", "--alpha", "0.5", *TINY_S)
    assert s.returncode == 0, s.stderr
    log = json.loads((tmp_path / "s" / "log.json").read_text())
    assert len(log) == 1 and log[0]["teacher_seconds"] > 0
    e = mskd("eval", str(tmp_path / "s" / "checkpoint.safetensors"), data, "--views", "2",
             "--json")
    assert e.returncode == 0, e.stderr
    res = json.loads(e.stdout)
    assert res["kind"] == "student" and res["views"] == 2 and 0 <= res["uar"] <= 1
    table = mskd("eval", str(ckpt), data, "--views", "1")
    assert table.returncode == 0 and "WAR" in table.stdout and "low-light" in table.stdout


@pytest.mark.parametrize("args, needle", [
    (["train", "student", "DATA", "--out", "OUT", "--alpha", "1.5"], "--alpha 1.5"),
    (["train", "student", "DATA", "--out", "OUT"], "--teacher"),
    (["eval", "/no/such.safetensors", "DATA"], "no such checkpoint"),
    (["train", "teacher", "DATA", "--out", "OUT", "--augment", "shift=2"], "shift=2"),
    (["train", "student", "DATA", "--out", "OUT", "--alpha", "0", "--augment", "blur=1"],
     "'blur'"),
])
def test_errors_are_one_line(data, tmp_path, args: list[str], needle: str) -> None:
    args = [a.replace("DATA", data).replace("OUT", str(tmp_path)) for a in args]
    out = mskd(*args)
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode != 0 and len(lines) == 1 and needle in lines[0], out.stderr


def test_augment_option_is_stored_with_the_checkpoint(data, tmp_path) -> None:
    from mskd.train.augment import DEFAULT_AUGMENT
    from mskd.train.checkpoint import load_checkpoint

    runs = {"default": DEFAULT_AUGMENT.to_dict(), "none": {k: 0.0 for k in DEFAULT_AUGMENT
                                                           .to_dict()},
            "shift=0.2,gamma=0.1": {"shift": 0.2, "scale": 0.0, "rotate": 0.0, "gamma": 0.1}}
    for i, (text, want) in enumerate(runs.items()):
        out = tmp_path / str(i)
        r = mskd("train", "teacher", data, "--out", str(out), "--epochs", "1", "--augment",
                 text, *TINY_T)
        assert r.returncode == 0, r.stderr
        assert load_checkpoint(out / "checkpoint.safetensors").options["augment"] == want


def test_summary_table(data, tmp_path) -> None:
    out = mskd("train", "student", data, "--out", str(tmp_path), "--alpha", "0", "--summary",
               *TINY_S)
    assert out.returncode == 0 and "synops" in out.stdout and "student" in out.stdout
    assert not (tmp_path / "checkpoint.safetensors").exists()


def test_torchrun_two_processes_end_with_identical_weights(data, tmp_path) -> None:
    torchrun = Path(sys.executable).parent / "torchrun"
    if not torchrun.exists():
        pytest.skip("torchrun not installed next to the interpreter")
    out = subprocess.run(
        [str(torchrun), "--nproc_per_node", "2", "--master_port", "29517", "-m", "mskd",
         "train", "teacher", data, "--out", str(tmp_path), "--epochs", "1", *TINY_T],
        capture_output=True, text=True, timeout=300, env=_env())
    assert out.returncode == 0, out.stderr[-2000:]
    digests = [(tmp_path / f"weights.rank{r}.sha256").read_text() for r in (0, 1)]
    assert digests[0] == digests[1] and len(digests[0].strip()) == 64
    log = json.loads((tmp_path / "log.json").read_text())
    assert len(log) == 1  # rank 0 alone wrote the log

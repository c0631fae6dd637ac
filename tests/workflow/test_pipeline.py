"""``mskd demo`` end to end on a tiny setting: every stage, caching, config and bad output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import run_mskd

TINY = ["--subjects", "3", "--teacher-epochs", "1", "--student-epochs", "1",
        "--profile-clips", "2", "--verify-samples", "1", "--size", "24"]
LIF = ["--neuron", "lif"]


@pytest.mark.lava
def test_demo_end_to_end_then_cached(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    first = run_mskd("demo", "--out", str(out), *TINY, *LIF)
    assert first.returncode == 0, first.stderr[-2000:]
    summary = (out / "summary.md").read_text()
    assert "bit-exact" in summary and "Versions: mskd" in summary and "lava-dl" in summary
    for section in ("Accuracy on the test split", "Cost on the chip", "loihi1", "loihi2"):
        assert section in summary
    # the closing lines: accuracy, exactness, cost per profile, the summary path once
    lines = first.stdout.splitlines()
    assert lines[0].startswith("deployed MSKD student: WAR") and "bit-exact" in lines[1]
    assert [ln.split(":")[0] for ln in lines[2:4]] == ["loihi1", "loihi2"]
    assert all("uJ per inference" in ln and "cores" in ln for ln in lines[2:4])
    assert (first.stdout + first.stderr).count(str(out / "summary.md")) == 1
    assert (out / "activity.png").exists() and (out / "loihi1-energy.png").exists()
    assert (out / "confusion.png").exists() and not (out / "loihi2-activity.png").exists()
    assert json.loads((out / "verify" / "verify.json").read_text())["bit_exact"] is True
    written = [p for p in out.rglob("*") if p.suffix in (".json", ".md")]
    assert not [p for p in written if ".partial-" in p.read_text()], "temporary paths"
    stamps = {p: p.stat().st_mtime for p in out.glob("*/stage.json")}
    assert {p.parent.name for p in stamps} >= {"data", "teacher", "student", "eval",
                                              "convert", "verify", "profile"}
    stage_table = summary[summary.index("## Stages"):summary.index("## Settings")]
    again = run_mskd("demo", "--out", str(out), *TINY, *LIF)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stderr.count("skipped (unchanged)") == 7
    assert all(p.stat().st_mtime == t for p, t in stamps.items())
    resummary = (out / "summary.md").read_text()  # each stage's own wall time, not "2 s"
    assert resummary[resummary.index("## Stages"):resummary.index("## Settings")] == \
        stage_table.replace("| ran |", "| reused |")
    # a changed setting re-runs exactly the stages it reaches
    changed = run_mskd("demo", "--out", str(out), *TINY[:-2], "--size", "24", "--tau", "3", *LIF)
    assert changed.returncode == 0, changed.stderr[-2000:]
    text = " ".join(changed.stderr.split())
    ran = {s for s in ("data", "teacher", "student", "eval", "convert", "verify", "profile")
           if f"{s} running" in text}
    assert ran == {"student", "eval", "convert", "verify", "profile"}
    assert (out / "student" / "stage.json").stat().st_mtime > stamps[out / "student" / "stage.json"]


@pytest.mark.lava
def test_demo_with_the_sigma_delta_student(tmp_path: Path) -> None:
    """The default student (``--neuron sdnn``): trained, converted to netx SDNN, bit-exact
    with Lava in every register, profiled on Loihi 2 only (Loihi 1 has no graded spikes)."""
    out = tmp_path / "demo"
    run = run_mskd("demo", "--out", str(out), *TINY)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert "bit-exact" in lines[1] and lines[2].startswith("loihi2: ")
    assert not any(ln.startswith("loihi1") for ln in lines)
    summary = (out / "summary.md").read_text()
    assert "as Delta input values" in summary and "sigma, act and residue" in summary
    assert (out / "loihi2-energy.png").exists() and not (out / "profile" / "loihi1").exists()
    assert not (out / "convert" / "student.nir").exists()  # NIR has no sigma-delta neuron
    from mskd.net.netx_io import read_netx

    assert read_netx(out / "convert" / "student.net").input_kind == "delta"


def test_demo_refuses_an_unknown_neuron(tmp_path: Path) -> None:
    run = run_mskd("demo", "--out", str(tmp_path / "d"), "--neuron", "izhikevich")
    assert run.returncode != 0 and "--neuron 'izhikevich'" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_demo_config_with_unknown_key_fails_in_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text("subjects = 3\nepochz = 2\n")
    out = run_mskd("demo", "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert out.returncode != 0
    assert "epochz" in out.stderr and "run.toml" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_demo_unwritable_output_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    out = run_mskd("demo", "--out", str(ro / "demo"), *TINY)
    assert out.returncode != 0 and "not writable" in out.stderr


def test_demo_refuses_a_file_as_output_folder(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    out = run_mskd("demo", "--out", str(f), *TINY)
    assert out.returncode != 0
    assert "not writable" in out.stderr and "Traceback" not in out.stderr


def test_training_stage_resumes_from_its_work_folder(tmp_path: Path, monkeypatch) -> None:
    """A killed training leaves its checkpoint in .work/; the next run resumes it, --force
    starts over."""
    import mskd.train.loop as loop

    from mskd.workflow.cache import StageRunner
    from mskd.workflow.demo import DemoOptions
    from mskd.workflow.stages import StageContext, train_into

    calls: list[bool] = []

    def fake_train(opts, progress=True):
        calls.append(opts.resume)
        Path(opts.out).mkdir(parents=True, exist_ok=True)
        Path(opts.out, "checkpoint.safetensors").write_bytes(b"x")
        if len(calls) == 1:
            raise KeyboardInterrupt  # killed after the first epoch's checkpoint
        return Path(opts.out, "checkpoint.safetensors")

    monkeypatch.setattr(loop, "train", fake_train)
    o = DemoOptions(out=str(tmp_path), teacher_epochs=2)

    def stage(force: bool = False) -> Path:
        runner = StageRunner(tmp_path, force=force)
        ctx = StageContext(o, runner, "teacher", "0123456789abcdef", {"data": tmp_path})
        return runner.run("teacher", {"k": 1}, lambda tmp: train_into(tmp, ctx, "teacher",
                                                                      epochs=2))

    stale, other = tmp_path / ".work" / "teacher-aaaaaaaaaaaa", tmp_path / ".work" / "teacher-s1-x"
    stale.mkdir(parents=True)
    other.mkdir()
    with pytest.raises(KeyboardInterrupt):
        stage()
    assert not (tmp_path / "teacher").exists()
    assert not stale.exists() and other.exists()  # an old key's work folder, not another stage's
    stage()
    assert calls == [False, True]
    assert (tmp_path / "teacher" / "checkpoint.safetensors").exists()
    stage(force=True)
    assert calls == [False, True, False]

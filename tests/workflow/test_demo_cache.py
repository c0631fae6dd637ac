"""The demo's stage cache re-runs exactly the stages an option reaches (issue 14: after
``--subjects 5`` every stage but the data said "skipped (unchanged)")."""

from __future__ import annotations

import json
import shutil
from dataclasses import fields, replace
from pathlib import Path

import pytest
from helpers import run_mskd

from mskd.workflow.cache import StageRunner
from mskd.workflow.demo import DemoOptions, run_stages
from mskd.workflow.stages import DEMO_STAGES, downstream_of

pytestmark = pytest.mark.unit

ALL = {s.name for s in DEMO_STAGES}
AFTER_DATA = ALL - {"data"}
AFTER_STUDENT = {"student", "eval", "convert", "verify", "profile"}
#: Each option, a changed value, and the stages that must re-run, written out by hand.
CHANGES = {
    "subjects": (5, ALL),
    "seed": (1, ALL),
    "synth_size": (40, ALL),
    "size": (24, AFTER_DATA),
    "clip": ("E3-S2", AFTER_DATA),
    "augment": ("none", AFTER_DATA),
    "teacher_epochs": (2, AFTER_DATA),
    "student_epochs": (2, AFTER_STUDENT),
    "alpha": (0.25, AFTER_STUDENT),
    "neuron": ("lif", AFTER_STUDENT),
    "task": ("dimensional", AFTER_DATA),
    "tau": (3.0, AFTER_STUDENT),
    "eval_views": (2, {"eval", "convert", "verify", "profile"}),
    "verify_samples": (2, {"verify"}),
    "profile_clips": (3, {"profile"}),
}
BASE = dict(subjects=4, seed=0, synth_size=32, size=16, clip="E4-S3", teacher_epochs=1,
            student_epochs=1, augment="default", neuron="sdnn", task="categorical", alpha=0.5,
            tau=2.0, eval_views=1, verify_samples=1, profile_clips=2)


def _stub(tmp: Path, ctx) -> None:
    """Stands in for a stage's work: its output is a function of its key (and so of the
    options and upstream contents that reach it), like a real stage's."""
    (tmp / "out.txt").write_text(ctx.digest)


STUBS = tuple(replace(s, work=_stub) for s in DEMO_STAGES)


def _ran(folder: Path, o: DemoOptions) -> set[str]:
    runner = StageRunner(folder)
    run_stages(runner, o, STUBS)
    assert set(runner.ran) | set(runner.skipped) == ALL
    return set(runner.ran)


def test_every_option_has_an_expected_change() -> None:
    assert set(CHANGES) == {f.name for f in fields(DemoOptions)} - {"out"}


@pytest.mark.parametrize("option", sorted(CHANGES))
def test_changing_an_option_reruns_exactly_its_downstream_stages(tmp_path, option) -> None:
    base = DemoOptions(out=str(tmp_path), **BASE)
    assert _ran(tmp_path, base) == ALL
    assert _ran(tmp_path, base) == set()
    value, expected = CHANGES[option]
    changed = replace(base, **{option: value})
    assert _ran(tmp_path, changed) == expected
    assert downstream_of(option, DEMO_STAGES, changed) == expected
    assert _ran(tmp_path, changed) == set()
    assert _ran(tmp_path, base) == expected  # and back


def test_teacher_epochs_do_not_reach_an_undistilled_student(tmp_path) -> None:
    base = DemoOptions(out=str(tmp_path), **{**BASE, "alpha": 0.0})
    _ran(tmp_path, base)
    assert _ran(tmp_path, replace(base, teacher_epochs=3)) == {"teacher", "eval", "profile"}


def test_keys_hold_content_not_paths(tmp_path) -> None:
    """A stage re-run that writes the same bytes leaves its downstream stages alone; one
    whose output changed re-runs them, though every path stayed the same."""
    o = DemoOptions(out=str(tmp_path), **BASE)
    _ran(tmp_path, o)
    (tmp_path / "data" / "stage.json").unlink()  # as if the data stage had been lost
    assert _ran(tmp_path, o) == {"data"}
    # the data stage re-made under the same key and path, with other bytes (e.g. another
    # renderer version): everything that reads it re-runs
    key = json.loads((tmp_path / "data" / "stage.json").read_text())["key"]
    key.pop("mskd_version")
    StageRunner(tmp_path, force=True).run("data", key, lambda t: (t / "out.txt").write_text("x"))
    assert _ran(tmp_path, o) == AFTER_DATA


TINY = ["--subjects", "3", "--teacher-epochs", "1", "--student-epochs", "1",
        "--profile-clips", "2", "--verify-samples", "1", "--size", "16", "--synth-size", "32",
        "--eval-views", "1"]


def _demo(out: Path, *args: str) -> set[str]:
    run = run_mskd("demo", "--out", out, *TINY, *args)
    assert run.returncode == 0, run.stderr[-2000:]
    text = " ".join(run.stderr.split())
    return {s for s in ALL if f"{s} running" in text}


REAL = {"subjects": ("4", ALL), "size": ("20", AFTER_DATA), "clip": ("E3-S3", AFTER_DATA),
        "augment": ("none", AFTER_DATA), "teacher-epochs": ("2", AFTER_DATA),
        "student-epochs": ("2", AFTER_STUDENT), "neuron": ("lif", AFTER_STUDENT),
        "task": ("dimensional", AFTER_DATA), "alpha": ("0.25", AFTER_STUDENT),
        "tau": ("3", AFTER_STUDENT), "eval-views": ("2", {"eval", "convert", "verify",
                                                           "profile"}),
        "verify-samples": ("2", {"verify"}), "profile-clips": ("3", {"profile"}),
        "seed": ("1", ALL), "synth-size": ("36", ALL)}


@pytest.mark.slow
@pytest.mark.lava
def test_real_demo_reruns_exactly_the_stages_an_option_reaches(tmp_path) -> None:
    """The way it failed: the real demo, one option changed at a time (tiny settings)."""
    base = tmp_path / "base"
    assert _demo(base) == ALL
    for option, (value, expected) in REAL.items():
        out = tmp_path / option
        shutil.copytree(base, out)
        assert _demo(out, f"--{option}", value) == expected, option

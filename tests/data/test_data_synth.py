"""Synthetic dataset: deterministic bytes, SEE layout the loader reads, subject-disjoint split."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mskd.data import synth
from mskd.data.expressions import PATTERNS, expression
from mskd.data.eye import Lighting, Subject, light, render
from mskd.data.naming import EMOTIONS, LIGHTINGS, SequenceName
from mskd.data.see import SEEDataset
from mskd.errors import ConfigError, DataError

pytestmark = pytest.mark.unit

TINY = dict(subjects=2, size=16, min_length=4, max_length=6)


def _files(root: Path) -> dict[str, bytes]:
    files = sorted(p for p in root.rglob("*") if p.is_file())
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return synth.synthesize(tmp_path_factory.mktemp("s") / "tiny", seed=4, **TINY)


def test_same_seed_gives_identical_bytes_whatever_the_workers(tiny: Path, tmp_path: Path) -> None:
    again = synth.synthesize(tmp_path / "again", seed=4, workers=2, **TINY)
    assert _files(tiny) == _files(again)
    other = synth.synthesize(tmp_path / "other", seed=5, **TINY)
    assert _files(other) != _files(tiny)


def test_layout_split_and_manifest(tiny: Path) -> None:
    split = json.loads((tiny / "split.json").read_text())
    subjects = {s: {SequenceName.parse(k.split("/")[1]).subject for k in split[s]} for s in split}
    assert subjects["train"] and subjects["test"] and not subjects["train"] & subjects["test"]
    assert len(split["train"]) + len(split["test"]) == 2 * len(EMOTIONS) * len(LIGHTINGS)
    manifest = json.loads((tiny / "dataset.json").read_text())
    assert manifest["version"] == synth.SYNTH_VERSION and manifest["settings"]["seed"] == 4
    for key in split["train"][:3]:
        frames = sorted((tiny / "frame" / key).iterdir())
        events = sorted((tiny / "event" / key).iterdir())
        assert [p.name for p in frames] == [p.name for p in events]
        assert SequenceName.parse(key.split("/")[1]).length == len(frames)


def test_loader_reads_a_synthesized_set(tiny: Path) -> None:
    ds = SEEDataset(tiny, "test", "E2-S1", size=12, train=False)
    frames, events, label, meta = ds[0]
    assert frames.shape == (2, 1, 12, 12) and events.shape == (2, 2, 12, 12)
    assert sorted(set(ds.labels)) == list(range(len(EMOTIONS)))
    assert set(ds.lightings) == set(LIGHTINGS)
    assert float(events.sum()) > 0  # the eye moves, so there are events
    assert meta["emotion"] == EMOTIONS[label]


def test_existing_output_is_refused_and_failed_runs_leave_nothing(tiny: Path, tmp_path: Path,
                                                                  monkeypatch) -> None:
    with pytest.raises(DataError, match="already exists"):
        synth.synthesize(tiny, seed=4, **TINY)

    def boom(*_args):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(synth, "_subject_sequences", boom)
    with pytest.raises(RuntimeError):
        synth.synthesize(tmp_path / "broken", seed=4, **TINY)
    assert list(tmp_path.iterdir()) == []


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="subjects"):
        synth.SynthSettings(subjects=1)
    with pytest.raises(ConfigError, match="lengths"):
        synth.SynthSettings(min_length=10, max_length=5)


def test_classes_differ_in_motion_not_in_static_offsets() -> None:
    """Slow components move lid/brow; fast ones add brief pulses; neutral has neither."""
    def motion(emotion: str, key: str) -> float:
        values = []
        for seed in range(20):
            traj = expression(emotion, 240, 240.0, np.random.default_rng(seed))
            values.append(float(np.abs(np.diff(traj[key])).sum()))
        return float(np.median(values))

    assert motion("surprise", "brow") > 5 * motion("neutral", "brow")
    assert motion("fear", "gaze_x") > 2 * motion("surprise", "gaze_x")  # saccade pairs
    assert motion("happiness", "lid") > motion("disgust", "lid")  # twitches
    assert set(PATTERNS) == set(EMOTIONS)


def test_lightings_change_brightness_as_named() -> None:
    rng = np.random.default_rng(0)
    traj = {k: np.zeros(1) for k in ("cheek", "brow", "tilt", "gaze_x", "gaze_y")}
    traj["lid"] = np.ones(1)
    video = render(Subject.sample(rng), traj, size=24)
    mean = {name: float(light(video, Lighting.sample(name, rng), rng).mean()) for name in LIGHTINGS}
    assert mean["low-light"] < 0.5 * mean["normal"] < mean["overexposure"]
    hdr = light(video, Lighting.sample("HDR", rng), rng)
    assert hdr.std() > video.std()



def test_event_frame_k_covers_the_exposure_of_frame_k(monkeypatch) -> None:
    """A lid closing at a known instant shows in event frame k and intensity frame k alike.

    Frame k averages sub-frames ``SUB (k + 1) + 1 .. SUB (k + 2)`` (two frames of pre-roll);
    closing at sub-frame ``SUB * 3 + 4`` falls inside the exposure of frame 2 (normal lighting,
    where sensor noise is smallest).
    """
    def closing(_emotion, n, _rate, _rng, parts=None):
        if parts is not None:
            parts.update(slow=np.zeros(n), fast=np.zeros(n))
        traj = {k: np.zeros(n) for k in ("cheek", "brow", "tilt", "gaze_x", "gaze_y")}
        traj["lid"] = np.where(np.arange(n) >= synth.SUB * 3 + 4, 0.0, 1.0)
        return traj

    monkeypatch.setattr(synth, "expression", closing)
    settings = synth.SynthSettings(subjects=2, size=16, min_length=6, max_length=6)
    sequences = synth._subject_sequences(settings, 0)
    for _emotion, _name, frames, events, _va in [s for s in sequences if "_normal_" in s[1]]:
        f = np.stack([np.asarray(Image.open(io.BytesIO(b)), float) for b in frames])
        e = np.stack([np.asarray(Image.open(io.BytesIO(b)), float) for b in events])
        activity = e[..., [0, 2]].mean(axis=(1, 2, 3))
        assert int(activity.argmax()) == 2, activity
        change = np.abs(np.diff(f, axis=0)).mean(axis=(1, 2))  # change into frames 1..5
        # 5/8 of frame 2's exposure and 3/8 of frame 3's see the lid move; frames 1, 4, 5 none
        assert change[1] > change[2] > max(change[0], change[3], change[4]), change

"""``scripts/dsee_copy.py``: frames kept byte for byte, events re-made from the frames only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import REPO

from mskd.data import synth
from mskd.data.imageio import read_event_frame
from mskd.data.see import SEEDataset

SCRIPT = REPO / "scripts" / "dsee_copy.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("dsee")
    src = synth.synthesize(root / "src", subjects=2, size=16, min_length=4, max_length=6, seed=3)
    run = _run(str(src), str(root / "dst"), "--workers", "2")
    assert run.returncode == 0, run.stderr
    return src, root / "dst"


def test_frames_and_split_are_copied_and_events_remade(pair) -> None:
    src, dst = pair
    assert _files(src / "frame") == _files(dst / "frame")
    assert _files(src / "annotation") == _files(dst / "annotation")  # valence/arousal too
    assert (src / "split.json").read_bytes() == (dst / "split.json").read_bytes()
    src_events, dst_events = _files(src / "event"), _files(dst / "event")
    assert sorted(src_events) == sorted(dst_events)  # one event frame per intensity frame
    assert src_events != dst_events
    manifest = json.loads((dst / "dataset.json").read_text())
    assert manifest["events"]["from"].startswith("frames")
    first = [p for p in (dst / "event").rglob("00000.jpg")]
    assert first and all(read_event_frame(p).sum() == 0 for p in first)  # nothing before frame 0
    later = [read_event_frame(p).sum() for p in (dst / "event").rglob("00003.jpg")]
    assert sum(later) > 0
    assert len(SEEDataset(dst, split="test")) == len(SEEDataset(src, split="test"))


def test_same_seed_same_bytes_and_refusals(pair, tmp_path: Path) -> None:
    src, dst = pair
    assert _run(str(src), str(tmp_path / "again"), "--workers", "1").returncode == 0
    assert _files(tmp_path / "again") == _files(dst)
    again = _run(str(src), str(dst))
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = _run(str(tmp_path), str(tmp_path / "x"))
    assert bad.returncode == 1 and "not a SEE-layout dataset" in bad.stderr
    assert not (tmp_path / "x").exists()

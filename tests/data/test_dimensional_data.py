"""Per-frame valence and arousal: what the synthetic generator derives, how annotation CSVs
are read (and refused), and what the loader hands to training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import run_mskd

from mskd.data import affect, synth
from mskd.data.expressions import expression
from mskd.data.naming import EMOTIONS
from mskd.data.see import SEEDataset
from mskd.errors import DataError

TINY = dict(subjects=3, size=8, min_length=14, max_length=18)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return synth.synthesize(tmp_path_factory.mktemp("va") / "tiny", seed=2, **TINY)


def _annotations(root: Path) -> dict[str, np.ndarray]:
    out = {}
    for path in sorted((root / affect.ANNOTATION_DIR).glob("*/*.csv")):
        length = int(path.stem.split("_")[-2])
        out[f"{path.parent.name}/{path.stem}"] = affect.read_annotation(path, length)
    return out


def test_every_sequence_has_one_valid_row_per_frame(tiny: Path) -> None:
    import json

    split = json.loads((tiny / "split.json").read_text())
    va = _annotations(tiny)
    assert sorted(va) == sorted(split["train"] + split["test"])
    for key, rows in va.items():
        frames = list((tiny / "frame" / key).glob("*.jpg"))
        assert rows.shape == (len(frames), 2) and np.all(np.abs(rows) <= 1.0), key


def test_labels_follow_the_class_region_and_move_within_sequences(tiny: Path) -> None:
    va = _annotations(tiny)
    means = {e: np.mean([v.mean(0) for k, v in va.items() if k.startswith(e + "/")], 0)
             for e in EMOTIONS}
    # the plane's regions: pleasant classes above unpleasant ones, aroused above calm
    assert means["happiness"][0] > max(means[e][0] for e in ("sadness", "anger", "disgust",
                                                              "fear"))
    assert min(means[e][1] for e in ("anger", "fear", "surprise")) > means["sadness"][1]
    # not a function of the class alone: sequences of one class differ, frames within one
    per_class = [np.std([v.mean(0) for k, v in va.items() if k.startswith(e + "/")], 0)
                 for e in EMOTIONS]
    assert min(float(s.max()) for s in per_class) > 0.01
    moving = [v for k, v in va.items() if not k.startswith("neutral/")]
    assert np.mean([v[:, 1].std() for v in moving]) > 0.03


def test_deriving_labels_leaves_the_rendered_motion_unchanged() -> None:
    for emotion in EMOTIONS:
        a = expression(emotion, 200, 240.0, np.random.default_rng(7))
        parts: dict = {}
        b = expression(emotion, 200, 240.0, np.random.default_rng(7), parts)
        assert all(np.array_equal(a[k], b[k]) for k in a)
        assert set(parts) == {"slow", "fast"} and parts["slow"].shape == (200,)
        if emotion == "neutral":
            assert not parts["slow"].any() and not parts["fast"].any()
        else:
            assert parts["slow"].max() > 0 and parts["fast"].max() > 0


@pytest.mark.parametrize("text,needle", [
    ("", "empty annotation"),
    ("frame,valence\n0,0.1\n", "lacks column(s) arousal"),
    ("frame,valence,arousal\n0,0.1\n1,0.2,0.3\n", "row 2 has 2 fields"),
    ("frame,valence,arousal\nzero,0.1,0.2\n1,0.2,0.3\n", "frame 'zero' is not an integer"),
    ("frame,valence,arousal\n0,high,0.2\n1,0.2,0.3\n", "valence 'high' is not a number"),
    ("frame,valence,arousal\n0,0.1,1.5\n1,0.2,0.3\n", "arousal 1.5 outside [-1, 1]"),
    ("frame,valence,arousal\n0,nan,0.1\n1,0.2,0.3\n", "valence nan outside [-1, 1]"),
    ("frame,valence,arousal\n0,0.1,0.2\n0,0.2,0.3\n", "frame 0 annotated twice"),
    ("frame,valence,arousal\n0,0.1,0.2\n", "1 of 2 frames not annotated (frame 1)"),
    ("frame,valence,arousal\n0,0.1,0.2\n2,0.2,0.3\n", "frame 2 outside 0..1"),
])
def test_bad_annotations_are_refused_naming_file_and_row(text: str, needle: str) -> None:
    with pytest.raises(DataError) as err:
        affect.parse_csv(text, 2, "seq.csv")
    assert str(err.value).startswith("seq.csv: ") and needle in str(err.value), err.value


def test_columns_in_any_order_and_rows_in_any_order() -> None:
    rows = affect.parse_csv("Arousal,frame,Valence\n0.5,1,-0.25\n0.1,0,0.2\n", 2, "x")
    np.testing.assert_allclose(rows, [[0.2, 0.1], [-0.25, 0.5]], rtol=1e-6)


def test_loader_gives_the_clip_frames_annotations(tiny: Path) -> None:
    va = _annotations(tiny)
    for dense in (False, True):
        ds = SEEDataset(tiny, "train", clip="E3-S2", size=8, train=False, dense=dense,
                        targets="va")
        for i in range(3):
            frames, _, _, meta = ds[i]
            idx = ds.clip.indices(meta["start"], meta["length"], dense)
            assert meta["va"].shape == (len(frames), 2)
            assert torch.equal(meta["va"], torch.from_numpy(va[meta["sequence"]][idx]))


def test_missing_annotation_is_a_one_line_error_naming_the_file(tiny: Path, tmp_path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tiny, copy)
    import json

    first_train = json.loads((copy / "split.json").read_text())["train"][0]
    victim = affect.annotation_path(copy, first_train)
    victim.unlink()
    out = run_mskd("train", "teacher", copy, "--out", tmp_path / "t", "--task", "dimensional",
                   "--epochs", "1", "--size", "8", "--channels", "2", "--hidden", "4",
                   "--clip", "E3-S2")
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode != 0 and len(lines) == 1, out.stderr
    assert victim.name in lines[0] and "annotation missing" in lines[0]
    assert not (tmp_path / "t" / "checkpoint.safetensors").exists()

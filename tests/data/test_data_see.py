"""SEE loader on a small tree of real JPGs: shapes, clip sampling, every bad-input case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import SIZE, make_tree

from mskd.data.see import EMOTIONS, LIGHTINGS, ClipSpec, SEEDataset, scan_dataset
from mskd.errors import DataError

pytestmark = pytest.mark.unit

def decoded_indices(frames) -> list[int]:
    values = frames[:, 0].mean(dim=(1, 2)).numpy() * 255.0
    return [int(round((v - 20) / 9)) for v in values]


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "see", {"neutral": 7})


def test_items_have_the_documented_shapes_and_meta(tree: Path) -> None:
    ds = SEEDataset(tree, "train", ClipSpec.parse("E4-S3"), size=(12, 10), train=True, seed=0)
    frames, events, label, meta = ds[0]
    assert frames.shape == (4, 1, 12, 10) and events.shape == (4, 2, 12, 10)
    assert str(frames.dtype) == "torch.float32" and float(frames.max()) <= 1.0
    assert abs(float(events[:, 0].mean()) - 200 / 255) < 0.03  # red -> ON
    assert abs(float(events[:, 1].mean()) - 60 / 255) < 0.03  # blue -> OFF
    assert EMOTIONS[label] == meta["emotion"] == "happiness"
    assert meta["subject"] == "S01" and meta["lighting"] == "normal" and meta["length"] == 20
    assert len(ds) == 3 and ds.labels == [0, 2, 6]
    test = SEEDataset(tree, "test", "E4-S3", size=SIZE, cache=False)
    assert set(test.lightings) == {"low-light"} and set(test.lightings) <= set(LIGHTINGS)


def test_clip_frames_are_start_plus_k_times_s_plus_one(tree: Path) -> None:
    ds = SEEDataset(tree, "train", "E4-S3", size=SIZE, train=False, seed=3)
    _, _, _, meta = ds[0]
    frames = ds[0][0]
    assert decoded_indices(frames) == [meta["start"] + 4 * k for k in range(4)]
    assert 0 <= meta["start"] <= 20 - 13


def test_eval_views_are_repeatable_and_differ_between_views(tree: Path) -> None:
    starts = []
    for _ in range(2):
        ds = SEEDataset(tree, "train", "E2-S1", size=SIZE, train=False, seed=1, cache=False)
        per_view = []
        for view in range(8):
            ds.set_view(view)
            per_view.append(ds[0][3]["start"])
        starts.append(per_view)
    assert starts[0] == starts[1]
    assert len(set(starts[0])) > 1
    assert ds[0][3]["start"] == ds[0][3]["start"]  # no hidden state between calls


def test_train_starts_depend_on_seed_epoch_and_index_only(tree: Path) -> None:
    ds = SEEDataset(tree, "train", "E2-S0", size=SIZE, train=True, seed=5)
    twin = SEEDataset(tree, "train", "E2-S0", size=SIZE, train=True, seed=5)
    by_epoch = []
    for epoch in range(10):
        ds.set_epoch(epoch)
        twin.set_epoch(epoch)
        assert ds[1][3]["start"] == twin[1][3]["start"]
        by_epoch.append(ds[1][3]["start"])
    assert len(set(by_epoch)) > 3  # fresh starts across epochs


def test_item_at_gives_any_start_and_rejects_out_of_range(tree: Path) -> None:
    ds = SEEDataset(tree, "train", "E2-S2", size=SIZE, train=True)
    frames, _, _, meta = ds.item_at(0, 5)
    assert meta["start"] == 5 and decoded_indices(frames) == [5, 8]
    with pytest.raises(IndexError):
        ds.item_at(0, 20)


def test_short_sequence_is_padded_with_its_last_frame(tree: Path) -> None:
    ds = SEEDataset(tree, "train", "E4-S3", size=SIZE, train=True)
    frames, events, _, meta = ds[2]  # neutral has 7 frames < span 13
    assert meta["start"] == 0 and meta["length"] == 7
    assert decoded_indices(frames) == [0, 4, 6, 6]
    assert events.shape[0] == 4


# -- bad input: DataError naming the path -----------------------------------------------------
def _first_sequence(root: Path, modality: str = "frame") -> Path:
    return sorted((root / modality / "happiness").iterdir())[0]


def _break_missing_event_folder(root: Path) -> Path:
    import shutil

    shutil.rmtree(root / "event")
    return root / "event"


def _break_truncated_jpg(root: Path) -> Path:
    path = _first_sequence(root) / "00003.jpg"
    path.write_bytes(path.read_bytes()[:200])
    return path


def _break_unknown_emotion(root: Path) -> Path:
    (root / "frame" / "boredom").mkdir()
    return root / "frame" / "boredom"


def _break_duplicate_emotion_folder(root: Path) -> Path:
    (root / "frame" / "Happy").mkdir()
    return root / "frame" / "happiness"  # named as the first of the two (sorted order)


def _break_empty_sequence(root: Path) -> Path:
    seq = _first_sequence(root)
    for f in seq.iterdir():
        f.unlink()
    return seq


def _break_split_names_absent(root: Path) -> Path:
    split = json.loads((root / "split.json").read_text())
    split["test"].append("fear/0099_S09_M_20_1_normal_fear_20_1")
    (root / "split.json").write_text(json.dumps(split))
    return root / "split.json"


def _break_count_mismatch(root: Path) -> Path:
    seq = _first_sequence(root, "event")
    (seq / "00019.jpg").unlink()
    return seq


def _break_sequence_name(root: Path) -> Path:
    bad = root / "frame" / "anger" / "not_a_see_name"
    (root / "event" / "anger" / "not_a_see_name").mkdir()
    bad.mkdir()
    return bad


BREAKERS = [_break_missing_event_folder, _break_truncated_jpg, _break_unknown_emotion,
            _break_duplicate_emotion_folder, _break_empty_sequence, _break_split_names_absent,
            _break_count_mismatch, _break_sequence_name]


@pytest.mark.parametrize("breaker", BREAKERS, ids=lambda f: f.__name__[len("_break_"):])
def test_bad_input_raises_data_error_naming_the_path(tmp_path: Path, breaker) -> None:
    root = make_tree(tmp_path / "see")
    path = breaker(root)
    with pytest.raises(DataError) as info:
        SEEDataset(root, "train", "E4-S3", size=SIZE, cache=True)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_truncated_jpg_without_cache_fails_when_read(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "see")
    path = _break_truncated_jpg(root)  # frame 3 of the first happiness sequence
    ds = SEEDataset(root, "train", "E1-S0", size=SIZE, train=False, cache=False)
    with pytest.raises(DataError, match=str(path)):  # names and counts passed; decoding fails
        ds.item_at(0, 3)


@pytest.mark.parametrize("breaker", [_break_truncated_jpg, _break_empty_sequence,
                                     _break_count_mismatch, _break_sequence_name])
def test_skip_bad_records_what_it_skipped(tmp_path: Path, breaker) -> None:
    root = make_tree(tmp_path / "see")
    path = breaker(root)
    ds = SEEDataset(root, "train", "E4-S3", size=SIZE, skip_bad=True, cache=True)
    assert any(str(path) in f"{p} {reason}" for p, reason in ds.skipped)
    assert len(ds) == (3 if breaker is _break_sequence_name else 2)


def test_split_file_argument_and_bad_split(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "see")
    other = tmp_path / "other_split.json"
    other.write_text(json.dumps({"train": [], "test": ["Happy/" + _first_sequence(root).name]}))
    scan = scan_dataset(root, other)
    assert scan.splits["test"] == ["happiness/" + _first_sequence(root).name]
    other.write_text("{not json")
    with pytest.raises(DataError, match="other_split.json"):
        scan_dataset(root, other)

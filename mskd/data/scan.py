"""Check a SEE tree and its split file by names and counts, without decoding images.

Layout: ``ROOT/{event,frame}/<emotion>/<sequence>/00000.jpg ...`` and a split file
``ROOT/split.json`` = ``{"train": ["<emotion>/<sequence>", ...], "test": [...]}``.
Every problem raises :class:`~mskd.errors.DataError` naming the path, unless
``skip_bad=True``: then a bad sequence is left out and listed in ``DatasetScan.skipped``
as ``(path, reason)``. Nothing is skipped silently.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from mskd.data.naming import EMOTIONS, SequenceName, canonical_emotion
from mskd.errors import DataError

SPLITS = ("train", "test")
_IMAGE_SUFFIXES = (".jpg", ".jpeg")


@dataclass(frozen=True)
class SequenceRecord:
    """One sequence found on disk: where its frames are and what its name says."""

    key: str  # "<emotion>/<sequence>", the form used by split.json
    name: SequenceName
    frame_dir: Path
    event_dir: Path
    files: tuple[str, ...]  # image file names, shared by frame_dir and event_dir

    @property
    def label(self) -> int:
        return EMOTIONS.index(self.name.emotion)

    @property
    def length(self) -> int:
        return len(self.files)


@dataclass
class DatasetScan:
    """Result of :func:`scan_dataset`: sequences by key, split lists, skipped sequences."""

    root: Path
    sequences: dict[str, SequenceRecord]
    splits: dict[str, list[str]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _image_files(folder: Path) -> list[str]:
    names = [p.name for p in folder.iterdir()
             if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in _IMAGE_SUFFIXES]
    return sorted(names)


def _emotion_folders(modality_dir: Path, skip_bad: bool, skipped: list) -> dict[str, Path]:
    folders: dict[str, Path] = {}
    subdirs = [p for p in modality_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    for path in sorted(subdirs):
        try:
            emotion = canonical_emotion(path.name)
        except ValueError as exc:
            error = DataError(f"{path}: unknown emotion folder name ({exc})")
            if not skip_bad:
                raise error from exc
            skipped.append((str(path), str(error)))
            continue
        if emotion in folders:
            raise DataError(f"{path}: second folder for {emotion!r} (first: {folders[emotion]})")
        folders[emotion] = path
    return folders


def _check_sequence(emotion: str, frame_dir: Path, event_dir: Path) -> SequenceRecord:
    """Build the record of one sequence or raise DataError naming the offending path."""
    try:
        name = SequenceName.parse(frame_dir.name)
    except ValueError as exc:
        raise DataError(f"{frame_dir}: {exc}") from exc
    if name.emotion != emotion:
        raise DataError(f"{frame_dir}: sequence name says {name.emotion!r} "
                        f"but it is in the {emotion!r} folder")
    for folder, other in ((frame_dir, event_dir), (event_dir, frame_dir)):
        if not folder.is_dir():
            raise DataError(f"{folder}: missing (its counterpart {other} exists)")
    frames, events = _image_files(frame_dir), _image_files(event_dir)
    if not frames:
        raise DataError(f"{frame_dir}: empty sequence (no .jpg files)")
    if len(frames) != len(events):
        raise DataError(f"{event_dir}: {len(events)} event frames but {len(frames)} "
                        f"intensity frames in {frame_dir}")
    if frames != events:
        raise DataError(f"{event_dir}: event frame names differ from those in {frame_dir}")
    return SequenceRecord(f"{emotion}/{frame_dir.name}", name, frame_dir, event_dir, tuple(frames))


def _scan_tree(root: Path, skip_bad: bool) -> tuple[dict[str, SequenceRecord], list, set]:
    frame_root, event_root = root / "frame", root / "event"
    for folder in (frame_root, event_root):
        if not folder.is_dir():
            raise DataError(f"{folder}: missing folder (a SEE tree has event/ and frame/)")
    sequences: dict[str, SequenceRecord] = {}
    skipped: list[tuple[str, str]] = []
    skipped_keys: set[str] = set()
    frame_emotions = _emotion_folders(frame_root, skip_bad, skipped)
    event_emotions = _emotion_folders(event_root, skip_bad, skipped)
    for emotion in sorted(set(frame_emotions) | set(event_emotions), key=EMOTIONS.index):
        f_dir = frame_emotions.get(emotion, frame_root / emotion)
        e_dir = event_emotions.get(emotion, event_root / emotion)
        names = {p.name for d in (f_dir, e_dir) if d.is_dir() for p in d.iterdir()
                 if p.is_dir() and not p.name.startswith(".")}
        for seq in sorted(names):
            try:
                record = _check_sequence(emotion, f_dir / seq, e_dir / seq)
            except DataError as exc:
                if not skip_bad:
                    raise
                skipped.append((str(f_dir / seq), str(exc)))
                skipped_keys.add(f"{emotion}/{seq}")
                continue
            sequences[record.key] = record
    return sequences, skipped, skipped_keys


def _split_key(entry: object, path: Path) -> str:
    if not isinstance(entry, str) or entry.count("/") != 1:
        raise DataError(f"{path}: split entry {entry!r} is not '<emotion>/<sequence>'")
    emotion, seq = entry.split("/")
    try:
        return f"{canonical_emotion(emotion)}/{seq}"
    except ValueError as exc:
        raise DataError(f"{path}: split entry {entry!r}: {exc}") from exc


def load_split(path: Path) -> dict[str, list[str]]:
    """Read a split JSON into canonical keys; DataError on a missing file or a bad shape."""
    if not path.is_file():
        raise DataError(f"{path}: split file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not a readable JSON split file ({exc})") from exc
    except RecursionError:
        raise DataError(f"{path}: not a split file (nested too deeply)") from None
    if not isinstance(data, dict) or any(not isinstance(data.get(s), list) for s in SPLITS):
        raise DataError(f"{path}: split file needs lists 'train' and 'test'")
    splits = {s: [_split_key(e, path) for e in data[s]] for s in SPLITS}
    both = sorted(set(splits["train"]) & set(splits["test"]))
    if both:
        raise DataError(f"{path}: {len(both)} sequence(s) in both train and test, e.g. {both[0]}")
    return splits


def scan_dataset(root: str | Path, split_file: str | Path | None = None, *,
                 skip_bad: bool = False, require_split: bool = True) -> DatasetScan:
    """Check the tree under ``root`` and the split file (default ``root/split.json``).

    A split entry naming a sequence that is absent raises; one naming a sequence skipped
    as bad (``skip_bad=True``) is dropped, the skip being already recorded.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: dataset folder not found")
    sequences, skipped, skipped_keys = _scan_tree(root, skip_bad)
    split_path = Path(split_file) if split_file is not None else root / "split.json"
    if split_file is None and not require_split and not split_path.exists():
        return DatasetScan(root, sequences, {}, skipped)
    splits = load_split(split_path)
    for split, keys in splits.items():
        absent = [k for k in keys if k not in sequences and k not in skipped_keys]
        if absent:
            raise DataError(f"{split_path}: {split} names {len(absent)} absent sequence(s), "
                            f"e.g. {absent[0]}")
        splits[split] = [k for k in keys if k in sequences]
    return DatasetScan(root, sequences, splits, skipped)


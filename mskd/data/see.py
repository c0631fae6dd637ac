"""SEE loader: clips of intensity frames and event frames with their emotion label.

Layout (the public SEE dataset and ``mskd data synth`` both write it)::

    ROOT/frame/<emotion>/<sequence>/00000.jpg ...   8-bit grayscale intensity frames, 30 FPS
    ROOT/event/<emotion>/<sequence>/00000.jpg ...   event frames, one per intensity frame
    ROOT/split.json                                 {"train": ["<emotion>/<sequence>", ...],
                                                     "test": [...]}

Event frame ``k`` holds the events of the 33 ms window ending at intensity frame ``k``, as
an RGB JPG with R = ON count, B = OFF count, G = 0, counts scaled by
``255 / EVENT_FULL_SCALE`` and saturated (see :mod:`mskd.data.imageio`). Sequence names
follow ``[seq]_[ID]_[sex]_[age]_[degree]_[lighting]_[emotion]_[length]_[take]``
(:mod:`mskd.data.naming`).

Clip sampling (:mod:`mskd.clips`): ``E{n}-S{s}`` takes frames ``start + k (s + 1)``.

* ``train=True``: the start is drawn uniformly from ``[0, length - span]`` by a torch
  Generator seeded with ``(seed, epoch, index)``; call :meth:`SEEDataset.set_epoch` each
  epoch. The draw depends only on those three numbers, so it is the same in any DataLoader
  worker or DDP rank and a run is reproducible.
* ``train=False``: the start of ``(sequence, view)`` comes from a generator seeded with
  ``(seed, view, index)``: evaluating views ``0..K-1`` gives the same K clips every time.
* A sequence shorter than the span is padded by repeating its last frame (start 0).

Each item is ``(frames [n,1,H,W], events [n,2,H,W], label, meta)``, float32 in [0, 1];
events channel 0 = ON, channel 1 = OFF. With ``targets="va"`` (dimensional affect),
``meta["va"]`` holds the clip frames' valence and arousal ``[n, 2]`` from
``ROOT/annotation/<emotion>/<sequence>.csv`` (:mod:`mskd.data.affect`; every sequence of
the split must have one, checked when the dataset is built).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from mskd.clips import ClipSpec
from mskd.data.imageio import read_event_frame, read_frame
from mskd.data.naming import EMOTIONS, LIGHTINGS
from mskd.data.scan import DatasetScan, SequenceRecord, scan_dataset
from mskd.errors import DataError

__all__ = ["SEEDataset", "ClipSpec", "EMOTIONS", "LIGHTINGS", "scan_dataset", "DatasetScan"]


def _size_hw(size: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    hw = (size, size) if isinstance(size, int) else tuple(size)
    if len(hw) != 2 or any(not isinstance(v, int) or v < 1 for v in hw):
        raise ValueError(f"size must be a positive int or (H, W), got {size!r}")
    return hw  # type: ignore[return-value]


class SEEDataset(Dataset):
    """Clips of one split of a SEE tree; see the module docstring for sampling rules."""

    def __init__(self, root: str | Path, split: str = "train", clip: ClipSpec | str = "E4-S3",
                 size: int | tuple[int, int] | None = 32, train: bool = True, seed: int = 0,
                 view: int = 0, skip_bad: bool = False, cache: bool = True,
                 split_file: str | Path | None = None, dense: bool = False,
                 targets: str = "class") -> None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train' or 'test', got {split!r}")
        self.clip = ClipSpec.parse(clip) if isinstance(clip, str) else clip
        self.size = _size_hw(size)
        self.train, self.seed, self.view, self.epoch = train, int(seed), int(view), 0
        self.dense = bool(dense)  # items hold every frame of the clip's span
        self.scan: DatasetScan = scan_dataset(root, split_file, skip_bad=skip_bad)
        self.skipped: list[tuple[str, str]] = list(self.scan.skipped)
        self.records: list[SequenceRecord] = [self.scan.sequences[k]
                                              for k in self.scan.splits[split]]
        if not self.records:
            where = split_file if split_file is not None else Path(root) / "split.json"
            raise DataError(f"{where}: split '{split}' lists no sequences (nothing to "
                            f"{'train on' if train else 'evaluate'})")
        self._cache: dict[int, tuple[np.ndarray, np.ndarray]] | None = None
        if cache:
            self._fill_cache(skip_bad)
        if targets not in ("class", "va"):
            raise ValueError(f"targets must be 'class' or 'va', got {targets!r}")
        self.targets = targets
        self._va: dict[str, np.ndarray] = {}
        if targets == "va":
            from mskd.data.affect import annotation_path, read_annotation

            root = self.scan.root
            self._va = {r.key: read_annotation(annotation_path(root, r.key), r.length)
                        for r in self.records}

    def _fill_cache(self, skip_bad: bool) -> None:
        """Decode every sequence now (this also verifies every JPG)."""
        kept, cache = [], {}
        for record in self.records:
            try:
                arrays = self._decode(record)
            except DataError as exc:
                if not skip_bad:
                    raise
                self.skipped.append((str(record.frame_dir), str(exc)))
                continue
            cache[len(kept)] = arrays
            kept.append(record)
        self.records, self._cache = kept, cache

    def _decode(self, record: SequenceRecord, indices: list[int] | None = None):
        """uint8 frames ``[L, H, W]`` and events ``[L, 2, H, W]`` of the chosen indices."""
        chosen = indices if indices is not None else range(record.length)
        names = [record.files[i] for i in chosen]
        frames = np.stack([read_frame(record.frame_dir / n, self.size) for n in names])
        events = np.stack([read_event_frame(record.event_dir / n, self.size) for n in names])
        if frames.shape[1:] != events.shape[2:]:
            raise DataError(f"{record.event_dir}: event frames are {events.shape[2:]} but "
                            f"intensity frames are {frames.shape[1:]} (pass size=)")
        return frames, events

    def keep_subjects(self, fraction: float, seed: int = 0) -> list[str]:
        """Keep the sequences of the first ``ceil(fraction * subjects)`` subjects of a
        ``seed``-shuffled subject list (the same subset for every training seed); returns
        the kept subjects. For label-scarce training (``--subject-fraction``)."""
        subjects = sorted({r.name.subject for r in self.records})
        order = torch.randperm(len(subjects), generator=torch.Generator().manual_seed(seed))
        n_keep = max(1, math.ceil(round(fraction * len(subjects), 6)))
        keep = sorted(subjects[i] for i in order[:n_keep])
        idx = [i for i, r in enumerate(self.records) if r.name.subject in keep]
        self.records = [self.records[i] for i in idx]
        if self._cache is not None:
            self._cache = {new: self._cache[old] for new, old in enumerate(idx)}
        return keep

    # -- sampling --------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the training clip starts of ``epoch`` (call before each epoch)."""
        self.epoch = int(epoch)

    def set_view(self, view: int) -> None:
        """Select evaluation view ``view`` (a fixed start per sequence)."""
        self.view = int(view)

    def start_of(self, index: int) -> int:
        """First frame of the clip that ``self[index]`` returns now."""
        length = self.records[index].length
        if self.train:
            return self.clip.draw_start(length, self.seed, self.epoch, index)
        return self.clip.draw_start(length, self.seed, self.view, index)

    # -- Dataset protocol ------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int):
        return self.item_at(index, self.start_of(index))

    def item_at(self, index: int, start: int):
        """The clip of sequence ``index`` whose first frame is ``start`` (any sampling aside).

        Useful to enumerate every clip of a sequence, e.g. ``range(clip.max_start(length) + 1)``.
        """
        record = self.records[index]
        if not 0 <= start < record.length:
            raise IndexError(f"start {start} outside 0..{record.length - 1} of {record.key}")
        indices = self.clip.indices(start, record.length, self.dense)
        if self._cache is not None:
            frames_all, events_all = self._cache[index]
            frames, events = frames_all[indices], events_all[indices]
        else:
            frames, events = self._decode(record, indices)
        frames_t = torch.from_numpy(frames.astype(np.float32) / 255.0).unsqueeze(1)
        events_t = torch.from_numpy(events.astype(np.float32) / 255.0)
        meta = {"sequence": record.key, "subject": record.name.subject,
                "lighting": record.name.lighting, "emotion": record.name.emotion,
                "start": start, "length": record.length}
        if self.targets == "va":
            meta["va"] = torch.from_numpy(self._va[record.key][indices])
        return frames_t, events_t, record.label, meta

    @property
    def labels(self) -> list[int]:
        return [r.label for r in self.records]

    @property
    def lightings(self) -> list[str]:
        return [r.name.lighting for r in self.records]

"""Datasets and loaders for training and evaluation, identical under one or N processes.

Every rank sees a DistributedSampler shard (one replica when not distributed); the shuffle
depends only on ``(seed, epoch)`` and the dataset's clip starts only on
``(seed, epoch, index)``, so a resumed run replays the same batches.

>>> batch = collate([(torch.zeros(2, 1, 4, 4), torch.zeros(2, 2, 4, 4), 3, {"start": 0})] * 2)
>>> batch.frames.shape, batch.labels.tolist(), len(batch.meta)
(torch.Size([2, 2, 1, 4, 4]), [3, 3], 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.data.distributed import DistributedSampler


class Batch(NamedTuple):
    frames: torch.Tensor  # [B, n, 1, H, W]
    events: torch.Tensor  # [B, n, 2, H, W]
    labels: torch.Tensor  # [B]
    meta: list[dict]
    va: torch.Tensor | None = None  # [n, B, 2] valence, arousal per clip frame (dimensional)


def collate(items: list) -> Batch:
    frames, events, labels, meta = zip(*items, strict=True)
    va = torch.stack([m["va"] for m in meta], dim=1) if "va" in meta[0] else None
    return Batch(torch.stack(frames), torch.stack(events), torch.tensor(labels), list(meta), va)


DatasetFactory = Callable[..., Dataset]


def see_dataset(data: str, split: str, clip: str, size: int, train: bool, seed: int,
                view: int = 0, dense: bool = False, task: str = "categorical") -> Dataset:
    """The SEE loader with the toolchain's options (imported lazily); ``dense`` items hold
    every frame of the clip's span (the sigma-delta student reads them all);
    ``task="dimensional"`` adds per-frame valence and arousal (``Batch.va``)."""
    from mskd.data.see import SEEDataset

    return SEEDataset(data, split=split, clip=clip, size=size, train=train, seed=seed,
                      view=view, dense=dense, targets="va" if task == "dimensional" else "class")


def train_loader(ds: Dataset, batch_size: int, seed: int, epoch: int, rank: int = 0,
                 world: int = 1) -> DataLoader:
    """The shuffled shard of epoch ``epoch`` for this rank (main-process loading)."""
    if hasattr(ds, "set_epoch"):
        ds.set_epoch(epoch)
    sampler = DistributedSampler(ds, num_replicas=world, rank=rank, shuffle=True, seed=seed)
    sampler.set_epoch(epoch)
    return DataLoader(ds, batch_size=batch_size, sampler=sampler, collate_fn=collate)


def eval_loader(ds: Dataset, batch_size: int) -> DataLoader:
    return DataLoader(ds, batch_size=batch_size, shuffle=False, collate_fn=collate)

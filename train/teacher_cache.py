"""Teacher outputs computed once per clip and reused by every distillation epoch.

Design: a clip is fully determined by ``(sequence, start)`` (the loader has no other
augmentation), so the frozen teacher's per-step logits are cached in memory under that key.
Training starts are random per epoch, but a sequence of length L has only
``L - span + 1`` possible starts, so after a few epochs nearly every clip is a hit; the
cache is at most sequences x starts x n x classes floats (about 30 MB for all of SEE).
Misses are computed one clip at a time, so a cached value never depends on which other
clips shared its batch: a resumed run gets bit-identical teacher targets.

>>> from mskd.train.teacher import Teacher, TeacherConfig
>>> from mskd.train.batching import collate
>>> cache = TeacherCache(Teacher(TeacherConfig(size=8, channels=(2,), hidden=4)))
>>> item = (torch.rand(3, 1, 8, 8), torch.rand(3, 2, 8, 8), 0, {"sequence": "a", "start": 1})
>>> cache(collate([item, item])).shape, cache.misses, cache.hits
(torch.Size([3, 2, 7]), 1, 1)
"""

from __future__ import annotations

import time

import torch


class TeacherCache:
    """Callable ``batch -> teacher per-step logits [n, B, C]`` with a (sequence, start) cache."""

    def __init__(self, teacher: torch.nn.Module) -> None:
        self.teacher = teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.store: dict[tuple[str, int], torch.Tensor] = {}
        self.hits = self.misses = 0
        self.seconds = 0.0

    @torch.no_grad()
    def __call__(self, batch) -> torch.Tensor:
        tic = time.perf_counter()
        out = []
        for i, meta in enumerate(batch.meta):
            key = (str(meta["sequence"]), int(meta["start"]))
            if key not in self.store:
                self.misses += 1
                z = self.teacher(batch.frames[i:i + 1], batch.events[i:i + 1])
                self.store[key] = z[:, 0].clone()
            else:
                self.hits += 1
            out.append(self.store[key])
        self.seconds += time.perf_counter() - tic
        return torch.stack(out, dim=1)

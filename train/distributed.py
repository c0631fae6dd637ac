"""Process-group set-up for ``torchrun``: gloo on CPU, nccl on GPU, rank 0 writes.

Without torchrun's environment (``WORLD_SIZE`` unset or 1) everything is a no-op.

>>> ctx = DistContext.from_env({})
>>> ctx.world, ctx.rank, ctx.is_main
(1, 0, True)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1

    @classmethod
    def from_env(cls, env: dict | None = None) -> DistContext:
        env = os.environ if env is None else env
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def init(ctx: DistContext) -> None:
    if ctx.active and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")


def shutdown(ctx: DistContext) -> None:
    if ctx.active and dist.is_initialized():
        dist.destroy_process_group()


def all_sum(ctx: DistContext, values: list[float]) -> list[float]:
    """Sum ``values`` over ranks (float64)."""
    if not ctx.active:
        return values
    t = torch.tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.tolist()


def barrier(ctx: DistContext) -> None:
    if ctx.active:
        dist.barrier()


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of every state tensor's bytes, in name order (equal weights, equal digest)."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()

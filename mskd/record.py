"""What a backend run recorded: per-layer spikes and, on request, the u and v registers.

Every backend has one call shape::

    outputs, record = run(net, inputs, record=("u", "v"))

Layouts (``T`` steps, ``B`` samples, per-sample shape in torch order (C, H, W) or (N,)):

* ``spikes[name]``: ``torch.uint8`` tensor ``[T, B, *shape]``, 1 where the neuron spiked
  at that step (Lava time step ``t + 1``).
* ``u[name]``, ``v[name]``: ``torch.int32`` tensors ``[T, B, *shape]``, the register
  values at the end of each step (after the spike reset of v); present only when asked.
* ``layers``: one :class:`LayerInfo` per neuron layer, in network order; ``name`` is
  ``"<file index>:<type>"`` (e.g. ``"1:conv"``) so it names the HDF5 layer.
* ``outputs`` returned next to the record is the last layer's spikes ``[T, B, *shape]``.

>>> import torch
>>> r = Record((LayerInfo("1:dense", "dense", (3,)),),
...            {"1:dense": torch.tensor([[[1, 0, 1]], [[0, 0, 1]]], dtype=torch.uint8)})
>>> r.spike_counts()["1:dense"].tolist()
[[1, 0, 2]]
>>> r.total_spikes()
3
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

REGISTERS = ("u", "v")


@dataclass(frozen=True)
class LayerInfo:
    """A neuron layer: ``name`` (``"<index>:<type>"``), netx ``kind``, per-sample shape."""

    name: str
    kind: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Record:
    """Per-layer spikes (and optionally u, v); see the module docstring for layouts."""

    layers: tuple[LayerInfo, ...]
    spikes: dict[str, torch.Tensor]
    u: dict[str, torch.Tensor] | None = None
    v: dict[str, torch.Tensor] | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [info.name for info in self.layers]
        if sorted(names) != sorted(self.spikes):
            raise ValueError(f"spikes keys {sorted(self.spikes)} do not match layers {names}")
        for info in self.layers:
            for reg, table in (("spikes", self.spikes), ("u", self.u), ("v", self.v)):
                if table is None:
                    continue
                t = table[info.name]
                if t.dim() < 2 or tuple(t.shape[2:]) != tuple(info.shape):
                    raise ValueError(f"{reg}[{info.name}] shape {tuple(t.shape)} is not "
                                     f"[T, B, *{info.shape}]")

    @property
    def names(self) -> list[str]:
        return [info.name for info in self.layers]

    @property
    def steps(self) -> int:
        return int(next(iter(self.spikes.values())).shape[0])

    @property
    def batch(self) -> int:
        return int(next(iter(self.spikes.values())).shape[1])

    def spike_counts(self) -> dict[str, torch.Tensor]:
        """Spikes per neuron summed over time: ``[B, *shape]`` int64 per layer."""
        return {k: s.to(torch.int64).sum(0) for k, s in self.spikes.items()}

    def layer_rates(self) -> dict[str, float]:
        """Mean spikes per neuron per step, per layer."""
        return {k: float(s.float().mean()) for k, s in self.spikes.items()}

    def total_spikes(self) -> int:
        return int(sum(int(s.to(torch.int64).sum()) for s in self.spikes.values()))

    def to_npz_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Flat ``{"spikes/<name>": array, "u/<name>": ..., "v/<name>": ...}`` for ``np.savez``."""
        out: dict[str, np.ndarray] = {}
        for reg, table in (("spikes", self.spikes), ("u", self.u), ("v", self.v)):
            for k, t in (table or {}).items():
                out[f"{prefix}{reg}/{k}"] = t.cpu().numpy()
        return out

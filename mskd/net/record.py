"""What a backend run recorded: per-layer messages and, on request, the neuron registers.

Every backend has one call shape::

    outputs, record = run(net, inputs, record=("u", "v"))

Layouts (``T`` steps, ``B`` samples, per-sample shape in torch order (C, H, W) or (N,)):

* ``spikes[name]``: ``[T, B, *shape]``, what each neuron sent at that step (Lava time step
  ``t + 1``): ``torch.uint8`` 0/1 spikes for a CUBA-LIF layer; ``torch.int32`` graded
  payloads for a sigma-delta layer (0 = no message; a Sigma output layer sends its sigma
  every step).
* ``registers[reg][name]``: ``torch.int32`` ``[T, B, *shape]``, a register at the end of
  each step, for the registers asked for and held by the layer's model (:data:`MODEL_REGS`:
  ``u``, ``v`` for CUBA-LIF; ``sigma``, ``act``, ``residue``, ``error`` for sigma-delta).
  ``record.u`` and ``record.v`` are shortcuts.
* ``layers``: one :class:`LayerInfo` per neuron layer, in network order; ``name`` is
  ``"<file index>:<type>"`` (e.g. ``"1:conv"``) so it names the HDF5 layer.
* ``outputs`` returned next to the record is the last layer's messages ``[T, B, *shape]``.

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

from mskd.loihi.sdn import REGISTERS as SDN_REGS

MODEL_REGS: dict[str, tuple[str, ...]] = {"lif": ("u", "v"), **SDN_REGS}
REGISTERS = ("u", "v", "sigma", "act", "residue", "error")


@dataclass(frozen=True)
class LayerInfo:
    """A neuron layer: ``name`` (``"<index>:<type>"``), netx ``kind``, per-sample shape and
    Lava neuron ``model`` (``lif``, ``delta``, ``sigma_delta`` or ``sigma``)."""

    name: str
    kind: str
    shape: tuple[int, ...]
    model: str = "lif"

    @property
    def graded(self) -> bool:
        """True when the layer's messages carry integer payloads (sigma-delta)."""
        return self.model != "lif"

    @property
    def registers(self) -> tuple[str, ...]:
        return MODEL_REGS[self.model]


def check_registers(names) -> tuple[str, ...]:
    """The registers asked for, or ValueError naming the unknown one."""
    names = tuple(names)
    for reg in names:
        if reg not in REGISTERS:
            raise ValueError(f"cannot record '{reg}': choose from {', '.join(REGISTERS)}")
    return names


@dataclass(frozen=True)
class Record:
    """Per-layer messages (and optionally registers); see the module docstring for layouts."""

    layers: tuple[LayerInfo, ...]
    spikes: dict[str, torch.Tensor]
    registers: dict[str, dict[str, torch.Tensor]] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [info.name for info in self.layers]
        if sorted(names) != sorted(self.spikes):
            raise ValueError(f"spikes keys {sorted(self.spikes)} do not match layers {names}")
        by_name = {info.name: info for info in self.layers}
        for reg, table in self.registers.items():
            for name in table:
                if name not in by_name or reg not in by_name[name].registers:
                    raise ValueError(f"register {reg} of layer {name}: no such layer register")
        for info in self.layers:
            for reg, table in (("spikes", self.spikes), *self.registers.items()):
                if info.name not in table:
                    continue
                t = table[info.name]
                if t.dim() < 2 or tuple(t.shape[2:]) != tuple(info.shape):
                    raise ValueError(f"{reg}[{info.name}] shape {tuple(t.shape)} is not "
                                     f"[T, B, *{info.shape}]")

    @property
    def u(self) -> dict[str, torch.Tensor] | None:
        return self.registers.get("u")

    @property
    def v(self) -> dict[str, torch.Tensor] | None:
        return self.registers.get("v")

    @property
    def names(self) -> list[str]:
        return [info.name for info in self.layers]

    @property
    def steps(self) -> int:
        return int(next(iter(self.spikes.values())).shape[0])

    @property
    def batch(self) -> int:
        return int(next(iter(self.spikes.values())).shape[1])

    def info(self, name: str) -> LayerInfo:
        return next(i for i in self.layers if i.name == name)

    def spike_counts(self) -> dict[str, torch.Tensor]:
        """Messages (spikes, or non-zero payloads) per neuron over time: ``[B, *shape]``."""
        return {k: (s != 0).to(torch.int64).sum(0) for k, s in self.spikes.items()}

    def layer_rates(self) -> dict[str, float]:
        """Mean messages per neuron per step, per layer."""
        return {k: float((s != 0).float().mean()) for k, s in self.spikes.items()}

    def total_spikes(self) -> int:
        """Messages sent by every layer (spikes, or non-zero graded payloads)."""
        return int(sum(int((s != 0).sum()) for s in self.spikes.values()))

    def to_npz_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Flat ``{"spikes/<name>": array, "<register>/<name>": ...}`` for ``np.savez``."""
        out: dict[str, np.ndarray] = {}
        for reg, table in (("spikes", self.spikes), *self.registers.items()):
            for k, t in table.items():
                out[f"{prefix}{reg}/{k}"] = t.cpu().numpy()
        return out

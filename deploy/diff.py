"""Compare two run records bit for bit; report the first divergence.

"First" means the earliest sample, then the earliest step, then the earliest layer in
network order, then messages ("spikes": spikes or graded payloads) before the registers
(u, v, sigma, act, residue, error, in that order), then the lowest neuron index (C, H, W).

>>> import torch
>>> from mskd.net.record import LayerInfo, Record
>>> info = (LayerInfo("1:dense", "dense", (2,)),)
>>> a = Record(info, {"1:dense": torch.tensor([[[0, 1]], [[1, 0]]], dtype=torch.uint8)})
>>> b = Record(info, {"1:dense": torch.tensor([[[0, 1]], [[1, 1]]], dtype=torch.uint8)})
>>> print(first_divergence(a, a))
None
>>> print(first_divergence(a, b).describe("sim", "lava"))
sample 0, step 1, layer 1:dense, spikes at neuron (1,): sim=0 lava=1
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mskd.net.record import REGISTERS, Record


@dataclass(frozen=True)
class Divergence:
    """Where two records first differ, with both values."""

    sample: int
    step: int
    layer: str
    field: str  # "spikes" or a register name
    neuron: tuple[int, ...]
    a: int
    b: int

    def describe(self, name_a: str = "a", name_b: str = "b") -> str:
        return (f"sample {self.sample}, step {self.step}, layer {self.layer}, {self.field} "
                f"at neuron {self.neuron}: {name_a}={self.a} {name_b}={self.b}")


def _table(rec: Record, fld: str) -> dict:
    return rec.spikes if fld == "spikes" else rec.registers.get(fld, {})


def _fields(a: Record, b: Record, name: str) -> list[str]:
    """Messages, then every register both records hold for layer ``name``."""
    return ["spikes"] + [r for r in REGISTERS
                         if name in a.registers.get(r, {}) and name in b.registers.get(r, {})]


def first_divergence(a: Record, b: Record) -> Divergence | None:
    """None when ``a`` and ``b`` agree on every compared field, layer, step and sample."""
    if a.names != b.names:
        raise ValueError(f"records cover different layers: {a.names} vs {b.names}")
    best = None
    for li, name in enumerate(a.names):
        for fi, fld in enumerate(_fields(a, b, name)):
            x = _table(a, fld)[name].to(torch.int64).cpu()
            y = _table(b, fld)[name].to(torch.int64).cpu()
            if x.shape != y.shape:
                raise ValueError(f"{fld}[{name}] shapes differ: {tuple(x.shape)} vs "
                                 f"{tuple(y.shape)}")
            bad = (x != y).nonzero()
            if not len(bad):
                continue
            bad = bad[bad[:, 1] == bad[:, 1].min()]  # earliest sample, then earliest step
            bad = bad[bad[:, 0] == bad[:, 0].min()]  # nonzero() is row-major: first = lowest
            i = bad[0]
            k = (int(i[1]), int(i[0]), li, fi, tuple(int(j) for j in i[2:]))
            if best is None or k < best[0]:
                idx = (k[1], k[0], *k[4])
                best = (k, Divergence(k[0], k[1], name, fld, k[4], int(x[idx]), int(y[idx])))
    return None if best is None else best[1]

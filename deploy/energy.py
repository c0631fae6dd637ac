"""Energy per inference = sum of counts x per-operation energy, by op kind and by layer.

Op kinds and the profile figure each one uses (``[energy.<key>]``, in pJ)::

    synop                   synops   x synop
    neuron_update_active    active   x neuron_update_active
    neuron_update_inactive  inactive x neuron_update_inactive
    spike                   messages x spike_in_tile

Learning is off in inference, so ``synaptic_update`` never counts; tile hops are left out
because core placement on the mesh is unknown (so spike energy is a lower bound).
The ANN side: :func:`ann_energy` costs MACs at the fp32 MAC figure of an ``ann`` profile;
:func:`ac_energy` costs synops as fp32 accumulates, as SNN papers usually do.

>>> from mskd.hw_profiles import load_profile
>>> round(ann_energy(1_000_000, load_profile("ann-45nm")) / 1e6, 2)  # pJ -> uJ
4.6
"""

from __future__ import annotations

from dataclasses import dataclass

from mskd.deploy.counts import Counts

OP_KINDS: dict[str, tuple[str, str]] = {
    "synop": ("synops", "synop"),
    "neuron_update_active": ("active", "neuron_update_active"),
    "neuron_update_inactive": ("inactive", "neuron_update_inactive"),
    "spike": ("messages", "spike_in_tile"),
}


@dataclass(frozen=True)
class EnergyBreakdown:
    """Energy per inference in pJ: ``per_layer[layer][op_kind]``."""

    profile: str
    per_layer: dict[str, dict[str, float]]
    assumed: tuple[str, ...]

    def by_kind(self) -> dict[str, float]:
        return {k: sum(row[k] for row in self.per_layer.values()) for k in OP_KINDS}

    def by_layer(self) -> dict[str, float]:
        return {name: sum(row.values()) for name, row in self.per_layer.items()}

    @property
    def total_pj(self) -> float:
        return sum(self.by_kind().values())

    def to_json(self) -> dict:
        return {"profile": self.profile, "unit": "pJ per inference",
                "total": self.total_pj, "by_kind": self.by_kind(),
                "by_layer": self.by_layer(), "per_layer": self.per_layer,
                "assumed_figures": list(self.assumed)}


def _assumed_used(profile) -> tuple[str, ...]:
    used = {f"energy.{key}" for _, key in OP_KINDS.values()}
    return tuple(k for k in profile.assumed_keys() if k in used)


def energy(counts: Counts, profile) -> EnergyBreakdown:
    """Energy per inference of ``counts`` on a neuromorphic ``profile``."""
    per_layer = {}
    for name in (lc.name for lc in counts.layers):
        per_layer[name] = {}
    for kind, (count, key) in OP_KINDS.items():
        pj = profile.energy[key].value
        for name, n in counts.per_inference(count).items():
            per_layer[name][kind] = n * pj
    return EnergyBreakdown(profile.name, per_layer, _assumed_used(profile))


def ann_energy(macs: float, profile) -> float:
    """pJ of ``macs`` fp32 multiply-accumulates on an ``ann`` profile."""
    return float(macs) * profile.energy["mac_fp32"].value


def ac_energy(synops: float, profile) -> float:
    """pJ of ``synops`` fp32 accumulates on an ``ann`` profile (the SNN-paper AC figure)."""
    return float(synops) * profile.energy["add_fp32"].value

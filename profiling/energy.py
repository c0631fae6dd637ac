"""Energy per inference = sum of counts x per-operation energy, by op kind and by layer.

Op kinds and the profile figure each one uses (``[energy.<key>]``, in pJ)::

    synop                   synops into binary synapses    x synop          (accumulates)
    synop_graded            synops into graded synapses    x synop_graded   (multiply-acc.)
    neuron_update_active    active   x neuron_update_active
    neuron_update_inactive  inactive x neuron_update_inactive
    spike                   binary messages routed         x spike_in_tile
    graded_spike            graded messages routed         x graded_spike_in_tile

Learning is off in inference, so ``synaptic_update`` never counts; tile hops are left out
because core placement on the mesh is unknown (so message energy is a lower bound). A
network with graded messages needs a profile with graded figures (Loihi 2; Loihi 1 has no
graded spikes). :func:`sensitivity` recosts the counts with the assumed figures scaled.
The ANN side: :func:`ann_energy` costs MACs at the fp32 MAC figure of an ``ann`` profile;
:func:`ac_energy` costs synops as fp32 accumulates, as SNN papers usually do.

>>> from mskd.hw_profiles import load_profile
>>> round(ann_energy(1_000_000, load_profile("ann-45nm")) / 1e6, 2)  # pJ -> uJ
4.6
"""

from __future__ import annotations

from dataclasses import dataclass

from mskd.profiling.counts import Counts

from mskd.errors import ConfigError

OP_KINDS: dict[str, tuple[str, str]] = {
    "synop": ("synops_ac", "synop"),
    "synop_graded": ("synops_mac", "synop_graded"),
    "neuron_update_active": ("active", "neuron_update_active"),
    "neuron_update_inactive": ("inactive", "neuron_update_inactive"),
    "spike": ("messages_binary", "spike_in_tile"),
    "graded_spike": ("messages_graded", "graded_spike_in_tile"),
}
GRADED_KINDS = ("synop_graded", "graded_spike")


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


def _figure(profile, key: str, needed: bool) -> float:
    q = profile.energy.get(key)
    if q is None:
        if needed:
            raise ConfigError(f"profile {profile.name} has no [energy.{key}]: it cannot cost "
                              "graded spikes (a sigma-delta network needs e.g. loihi2)")
        return 0.0
    return q.value


def energy(counts: Counts, profile, scale: dict[str, float] | None = None) -> EnergyBreakdown:
    """Energy per inference of ``counts`` on a neuromorphic ``profile``; ``scale`` multiplies
    the figure of some op kinds (what-if analysis)."""
    per_layer = {lc.name: {} for lc in counts.layers}
    used = set()
    for kind, (count, key) in OP_KINDS.items():
        per = counts.per_inference(count)
        needed = any(v > 0 for v in per.values())
        pj = _figure(profile, key, needed) * (scale or {}).get(kind, 1.0)
        if needed:
            used.add(f"energy.{key}")
        for name, n in per.items():
            per_layer[name][kind] = n * pj
    assumed = tuple(k for k in profile.assumed_keys() if k in used)
    return EnergyBreakdown(profile.name, per_layer, assumed)


def sensitivity(counts: Counts, profile, factor: float = 2.0) -> list[dict]:
    """Total energy with each assumed graded figure (and both together) at ``1/factor`` and
    ``factor`` times its value: how far the estimate moves if an assumption is off."""
    base = energy(counts, profile).total_pj
    assumed = {k for k in GRADED_KINDS
               if f"energy.{OP_KINDS[k][1]}" in profile.assumed_keys()}
    rows = []
    for kinds in [[k] for k in GRADED_KINDS if k in assumed] + \
            ([sorted(assumed)] if len(assumed) > 1 else []):
        low = energy(counts, profile, {k: 1 / factor for k in kinds}).total_pj
        high = energy(counts, profile, {k: factor for k in kinds}).total_pj
        rows.append({"figures": [f"energy.{OP_KINDS[k][1]}" for k in kinds],
                     "factor": factor, "total_pj": base, "low_pj": low, "high_pj": high})
    return rows


def ann_energy(macs: float, profile) -> float:
    """pJ of ``macs`` fp32 multiply-accumulates on an ``ann`` profile."""
    return float(macs) * profile.energy["mac_fp32"].value


def ac_energy(synops: float, profile) -> float:
    """pJ of ``synops`` fp32 accumulates on an ``ann`` profile (the SNN-paper AC figure)."""
    return float(synops) * profile.energy["add_fp32"].value


def static_and_total(dynamic_pj: float, inference_ns: float, cores: int, profile,
                     rate_per_s: float | None = None) -> dict | None:
    """Static power and total energy per inference (None: the profile has no static power).

    A chip draws ``power.static_per_chip`` whatever it runs, so an inference costs its
    dynamic energy plus the static power of the chips it occupies for as long as one
    inference lasts: at the maximum throughput (one inference after another) that is the
    inference's own latency, at a slower input rate ``r`` it is ``1 / r`` (the chips idle
    between inferences still leak). ``share_of_cores_w`` charges only the cores used
    (``cores / cores_per_chip`` of a chip), as a network sharing its chip would pay.

    >>> from mskd.hw_profiles import load_profile
    >>> out = static_and_total(1e9, 2e6, 60, load_profile("loihi2"), rate_per_s=100)
    >>> round(out["static_w"], 6), out["chips"], round(out["share_of_cores_w"], 6)
    (0.232078, 1, 0.116039)
    >>> round(out["total_at_max_pj"] / 1e6, 1), round(out["total_at_rate_pj"] / 1e6, 1)
    (1464.2, 3320.8)
    """
    q = profile.power.get("static_per_chip")
    if q is None:
        return None
    per_chip = int(profile.limits["cores_per_chip"].value)
    chips = -(-cores // per_chip)
    static_w = chips * q.value
    out = {"static_per_chip_w": q.value, "chips": chips, "static_w": static_w,
           "share_of_cores_w": q.value * cores / per_chip, "dynamic_pj": dynamic_pj,
           "max_rate_per_s": 1e9 / inference_ns,
           "total_at_max_pj": dynamic_pj + static_w * inference_ns * 1e3,
           "rate_per_s": rate_per_s, "total_at_rate_pj": None}
    if rate_per_s is not None:
        rate = min(rate_per_s, out["max_rate_per_s"])  # a faster input cannot be kept up with
        out["rate_per_s"] = rate
        out["total_at_rate_pj"] = dynamic_pj + static_w / rate * 1e12
    return out

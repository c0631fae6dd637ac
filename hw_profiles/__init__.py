"""Hardware profiles (TOML, with a source for every number).

Shipped profiles: ``loihi1``, ``loihi2`` (neuromorphic) and ``ann-45nm`` (ANN reference
energies). :func:`load_profile` takes one of those names or the path of a user's own TOML,
checked against the same schema (:mod:`mskd.hw_profiles.schema`).

>>> p = load_profile("loihi1")
>>> p.energy["synop"].value, p.energy["synop"].unit
(23.6, 'pJ')
>>> p.limit("neurons_per_core")
1024
>>> load_profile("loihi2").assumed_keys()[:2]
['energy.graded_spike_in_tile', 'energy.spike_in_tile']
"""

from __future__ import annotations

import importlib.resources
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mskd.hw_profiles.schema import SCHEMA_VERSION, Quantity, validate

from mskd.config import parse_toml, read_toml
from mskd.errors import ConfigError

SHIPPED = ("loihi1", "loihi2", "ann-45nm", "gap9", "ndp9120", "stm32u385", "efr32mg24",
           "jetson-agx-orin")
KIB_BITS = 1024 * 8  # bits in one KiB (unit conversion, not a hardware figure)

__all__ = ["HwProfile", "Quantity", "SCHEMA_VERSION", "SHIPPED", "load_profile"]


@dataclass(frozen=True)
class HwProfile:
    """A validated hardware profile. Energies in pJ, times in ns, limits as counted."""

    name: str
    kind: str
    description: str
    source_path: str
    energy: dict[str, Quantity]
    time: dict[str, Quantity] = field(default_factory=dict)
    limits: dict[str, Quantity] = field(default_factory=dict)
    power: dict[str, Quantity] = field(default_factory=dict)
    macs: dict[str, Quantity] = field(default_factory=dict)  # edge: reference models' MACs
    mapper: str = "greedy"  # how layers are split onto cores (mskd.chip.mapping)

    def limit(self, key: str) -> int | None:
        """An integer limit, or None where the profile does not set it."""
        q = self.limits.get(key)
        return None if q is None else int(q.value)

    def synapse_memory_bits(self) -> int | None:
        """Synaptic memory per core in bits (from the KiB figure), or None."""
        q = self.limits.get("synapse_memory_per_core")
        return None if q is None else int(q.value * KIB_BITS)

    def assumed_keys(self) -> list[str]:
        """``section.key`` of every figure marked ``assumed = true``, sorted."""
        out = []
        for sec in ("energy", "time", "limits", "power", "macs"):
            for key, q in getattr(self, sec).items():
                if q.assumed:
                    out.append(f"{sec}.{key}")
        return sorted(out)

    def to_json(self) -> dict:
        """JSON-ready dict with every quantity's value, unit, source, note and flag."""
        return asdict(self)




def load_profile(name_or_path: str | Path) -> HwProfile:
    """Load a shipped profile by name or a user's TOML by path; validate it."""
    key = str(name_or_path)
    if key in SHIPPED:
        res = importlib.resources.files("mskd.hw_profiles").joinpath(f"{key}.toml")
        raw, path = res.read_bytes(), f"{key}.toml"
        table = parse_toml(raw, path)
    else:
        p = Path(key)
        if not p.is_file():
            raise ConfigError(
                f"{key}: no such profile file (shipped profiles: {', '.join(SHIPPED)})"
            )
        table, path = read_toml(p), str(p)
    parts = validate(table, path)
    limits = parts.get("limits", {})
    if parts["kind"] == "neuromorphic" and parts["mapper"] == "greedy" and not (
        "synapse_memory_per_core" in limits or "synapses_per_core" in limits
    ):
        raise ConfigError(
            f"{path}: [limits] needs synapse_memory_per_core or synapses_per_core"
        )
    if parts["kind"] == "edge" and not any(
            k in parts["energy"] and k in parts["time"] for k in parts["macs"]):
        raise ConfigError(f"{path}: an edge profile needs a reference model with [energy], "
                          "[time] and [macs] entries of the same name")
    words = ("synapse_words_per_core", "synapse_word_bits", "synapse_entry_bits")
    if parts["mapper"] == "loihi2" and not all(k in limits for k in words):
        raise ConfigError(f"{path}: mapper = \"loihi2\" needs [limits] {', '.join(words)}")
    if limits and limits["weight_bits_min"].value > limits["weight_bits_max"].value:
        raise ConfigError(f"{path}: [limits.weight_bits_min] exceeds weight_bits_max")
    return HwProfile(source_path=path, **parts)  # type: ignore[arg-type]


def dump_profile(p: HwProfile) -> str:
    """The TOML text of ``p`` (what :func:`load_profile` reads back as the same profile)."""
    import json

    lines = [f"schema_version = {SCHEMA_VERSION}", f"name = {json.dumps(p.name)}",
             f"kind = {json.dumps(p.kind)}", f"description = {json.dumps(p.description)}"]
    if p.kind == "neuromorphic":
        lines.append(f"mapper = {json.dumps(p.mapper)}")
    for sec in ("energy", "time", "limits", "power", "macs"):
        for key, q in getattr(p, sec).items():
            value = int(q.value) if sec == "limits" else q.value
            lines += ["", f"[{sec}.{key}]", f"value = {json.dumps(value)}",
                      f"unit = {json.dumps(q.unit)}", f"source = {json.dumps(q.source)}",
                      f"note = {json.dumps(q.note)}"]
            if q.assumed:
                lines.append("assumed = true")
    return "\n".join(lines) + "\n"

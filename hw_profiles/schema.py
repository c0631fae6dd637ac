"""The hardware-profile schema: every number a sourced, unit-checked quantity.

A profile is a TOML file::

    schema_version = 1
    name = "loihi1"
    kind = "neuromorphic"          # or "ann"
    description = "..."

    [energy.synop]
    value = 23.6
    unit = "pJ"
    source = "Davies et al., IEEE Micro 2018, Table 2"
    note = "pre-silicon figure"
    assumed = false                # optional; true marks a figure not measured for this chip

Sections and keys are fixed per ``kind`` (:data:`SCHEMA`); a missing or unknown key, a
wrong unit, a negative, infinite or non-numeric value, a limit that is not a whole number
>= 1 (zero cores per chip), or an empty source raises
:class:`~mskd.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mskd.errors import ConfigError

SCHEMA_VERSION = 1

# kind -> section -> key -> (unit, required)
_NEURO_ENERGY = {
    "synop": ("pJ", True),
    "synop_graded": ("pJ", False),  # graded spikes: absent = the chip has none (Loihi 1)
    "graded_spike_in_tile": ("pJ", False),
    "synaptic_update": ("pJ", True),
    "neuron_update_active": ("pJ", True),
    "neuron_update_inactive": ("pJ", True),
    "spike_in_tile": ("pJ", True),
    "tile_hop_ew": ("pJ", False),
    "tile_hop_ns": ("pJ", False),
}
_NEURO_TIME = {
    "synop": ("ns", True),
    "synop_graded": ("ns", False),
    "synaptic_update": ("ns", True),
    "neuron_update_active": ("ns", True),
    "neuron_update_inactive": ("ns", True),
    "spike_in_tile": ("ns", True),
    "barrier_sync": ("ns", True),
}
_NEURO_LIMITS = {
    "neurons_per_core": ("neurons", True),
    "synapse_memory_per_core": ("KiB", False),
    "synapses_per_core": ("synapses", False),
    "fan_in_axons_per_core": ("axons", True),
    "fan_out_axons_per_core": ("axons", True),
    "cores_per_chip": ("cores", True),
    "weight_bits_min": ("bit", True),
    "weight_bits_max": ("bit", True),
    "graded_spike_bits_max": ("bit", False),  # absent: no graded spikes
    # the Loihi 2 compiler's synaptic memory (mapper = "loihi2", mskd.chip.loihi2_partition)
    "synapse_words_per_core": ("words", False),
    "synapse_word_bits": ("bit", False),
    "synapse_entry_bits": ("bit", False),
}
_NEURO_POWER = {
    "static_per_chip": ("W", True),  # leakage and clocks of one chip, whatever it runs
}
_ANN_ENERGY = {
    "mac_fp32": ("pJ", True),
    "mul_fp32": ("pJ", True),
    "add_fp32": ("pJ", True),
    "mul_int32": ("pJ", True),
    "add_int32": ("pJ", True),
    "mul_int8": ("pJ", False),
    "add_int8": ("pJ", False),
    "sram_read_64b_8kb": ("pJ", False),
    "sram_read_64b_32kb": ("pJ", False),
    "sram_read_64b_1mb": ("pJ", False),
}
# an edge platform: what it measured per reference model (MLPerf's benchmarks)
_EDGE_MODELS = ("kws", "vww", "ic", "ad", "resnet50")
_EDGE = {
    "energy": {k: ("uJ", False) for k in _EDGE_MODELS},  # energy per inference
    "time": {k: ("ms", False) for k in _EDGE_MODELS},  # latency per inference
    "macs": {k: ("MMAC", False) for k in _EDGE_MODELS},  # the reference model's MACs
    "power": {"idle": ("W", False)},  # drawn between inferences, where published
}
SCHEMA: dict[str, dict[str, dict[str, tuple[str, bool]]]] = {
    "neuromorphic": {"energy": _NEURO_ENERGY, "time": _NEURO_TIME, "limits": _NEURO_LIMITS,
                     "power": _NEURO_POWER},
    "ann": {"energy": _ANN_ENERGY},
    "edge": _EDGE,
}
OPTIONAL_SECTIONS = {"power"}  # absent: static (or idle) power unknown, not reported
SECTIONS = ("energy", "time", "limits", "power", "macs")
MAPPERS = ("greedy", "loihi2")  # how layers are split onto cores (mskd.chip.mapping)
_TOP_KEYS = {"schema_version", "name", "kind", "description", "mapper"}
_QUANTITY_KEYS = {"value", "unit", "source", "note", "assumed"}


@dataclass(frozen=True)
class Quantity:
    """One sourced number.

    >>> Quantity(23.6, "pJ", "Davies 2018", "Table 2").value
    23.6
    """

    value: float
    unit: str
    source: str
    note: str
    assumed: bool = False

    def __post_init__(self) -> None:
        if not 0 <= self.value < math.inf:
            raise ValueError(f"value {self.value!r} must be a finite number >= 0")
        if not self.source.strip():
            raise ValueError("source must not be empty")


def _where(path: str, key: str) -> str:
    return f"{path}: [{key}]"


def _quantity(raw: object, unit: str, path: str, key: str) -> Quantity:
    if not isinstance(raw, dict):
        raise ConfigError(f"{_where(path, key)} must be a table {{value, unit, source, note}}")
    unknown = set(raw) - _QUANTITY_KEYS
    if unknown:
        raise ConfigError(f"{_where(path, key)} has unknown field(s) {sorted(unknown)}")
    for field in ("value", "unit", "source", "note"):
        if field not in raw:
            raise ConfigError(f"{_where(path, key)} is missing '{field}'")
    value = raw["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{_where(path, key)} value {value!r} is not a number")
    if not 0 <= value < math.inf:
        raise ConfigError(f"{_where(path, key)} value {value!r} is not a finite number >= 0")
    if key.startswith("limits.") and not (value >= 1 and float(value).is_integer()):
        raise ConfigError(f"{_where(path, key)} value {value!r} must be a whole number >= 1 "
                          "(a count or a bit width)")
    for field in ("unit", "source", "note"):
        if not isinstance(raw[field], str):
            raise ConfigError(f"{_where(path, key)} '{field}' must be text")
    if raw["unit"] != unit:
        raise ConfigError(f"{_where(path, key)} unit {raw['unit']!r} is wrong: expected {unit!r}")
    assumed = raw.get("assumed", False)
    if not isinstance(assumed, bool):
        raise ConfigError(f"{_where(path, key)} 'assumed' must be true or false")
    if not str(raw["source"]).strip():
        raise ConfigError(f"{_where(path, key)} has an empty source")
    return Quantity(float(value), unit, str(raw["source"]), str(raw["note"]), assumed)


def _section(raw: object, spec: dict[str, tuple[str, bool]], path: str, name: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{_where(path, name)} must be a table")
    unknown = set(raw) - set(spec)
    if unknown:
        raise ConfigError(f"{_where(path, name + '.' + sorted(unknown)[0])} is an unknown key")
    out: dict[str, Quantity] = {}
    for key, (unit, required) in spec.items():
        if key in raw:
            out[key] = _quantity(raw[key], unit, path, f"{name}.{key}")
        elif required:
            raise ConfigError(f"{_where(path, name + '.' + key)} is missing")
    return out


def validate(raw: dict, path: str) -> dict[str, object]:
    """Check a parsed TOML table against :data:`SCHEMA`; return the typed pieces.

    >>> validate({"schema_version": 1, "name": "x", "kind": "ann"}, "x.toml")
    Traceback (most recent call last):
    ...
    mskd.errors.ConfigError: x.toml: [energy] is missing
    """
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: not a TOML table")
    unknown = set(raw) - _TOP_KEYS - set(SECTIONS)
    if unknown:
        raise ConfigError(f"{_where(path, sorted(unknown)[0])} is an unknown key")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ConfigError(
            f"{_where(path, 'schema_version')} is {raw.get('schema_version')!r}; "
            f"this mskd reads version {SCHEMA_VERSION}"
        )
    kind = raw.get("kind")
    if kind not in SCHEMA:
        raise ConfigError(f"{_where(path, 'kind')} is {kind!r}; expected one of {sorted(SCHEMA)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{_where(path, 'name')} must be a non-empty string")
    sections: dict[str, object] = {"name": name, "kind": kind}
    sections["description"] = str(raw.get("description", ""))
    mapper = raw.get("mapper", "greedy")
    if mapper not in MAPPERS or (mapper != "greedy" and kind != "neuromorphic"):
        raise ConfigError(f"{_where(path, 'mapper')} is {mapper!r}; expected one of "
                          f"{list(MAPPERS)} (neuromorphic profiles only)")
    sections["mapper"] = mapper
    for extra in set(raw) & set(SECTIONS) - set(SCHEMA[kind]):
        raise ConfigError(f"{_where(path, extra)} is not part of a '{kind}' profile")
    for sec, spec in SCHEMA[kind].items():
        if sec not in raw:
            if sec in OPTIONAL_SECTIONS:
                continue
            raise ConfigError(f"{_where(path, sec)} is missing")
        sections[sec] = _section(raw[sec], spec, path, sec)
    return sections

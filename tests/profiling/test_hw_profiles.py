"""Hardware profiles: shipped files load, every number is sourced, bad files fail by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli
from helpers import REPO
from mskd.hw_profiles import SHIPPED, load_profile

from mskd.errors import ConfigError

pytestmark = pytest.mark.unit

PROFILES = REPO / "hw_profiles"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_load_and_every_number_is_sourced(name: str) -> None:
    p = load_profile(name)
    for sec in ("energy", "time", "limits", "power"):
        for key, q in getattr(p, sec).items():
            assert q.source.strip() and q.note.strip(), f"{name}: {sec}.{key}"


def test_loihi1_figures_match_davies_2018() -> None:
    p = load_profile("loihi1")
    assert p.energy["synop"].value == 23.6 and p.time["synop"].value == 3.5
    assert p.energy["neuron_update_active"].value == 81.0
    assert p.energy["neuron_update_inactive"].value == 52.0
    assert p.limit("neurons_per_core") == 1024
    assert p.synapse_memory_bits() == 128 * 1024 * 8
    assert p.assumed_keys() == []


def test_loihi2_is_built_from_loihi2_sources() -> None:
    """Every Loihi 2 figure that enters an inference estimate is measured or derived from a
    Loihi 2 source; what is still assumed (learning, message energy, axon limits) says so."""
    p = load_profile("loihi2")
    assert p.mapper == "loihi2" and p.power["static_per_chip"].value == 0.232078
    used = {"energy.synop", "energy.neuron_update_active", "energy.neuron_update_inactive",
            "time.synop", "time.synop_graded", "time.neuron_update_active",
            "time.neuron_update_inactive", "time.barrier_sync", "limits.neurons_per_core",
            "limits.synapse_words_per_core", "limits.cores_per_chip"}
    assert not used & set(p.assumed_keys())
    assert "Loihi 1" not in " ".join(getattr(p, s)[k].source for s, k in
                                     (key.split(".") for key in used))
    assert p.energy["neuron_update_active"].value == pytest.approx(10 * p.energy["synop"].value)
    assert p.limit("neurons_per_core") == 4095 and p.limit("synapse_words_per_core") == 12000


def _toml(v) -> str:
    return json.dumps(v)  # JSON scalars (strings, numbers, booleans) are valid TOML


def _write(tmp_path: Path, mutate) -> Path:
    raw = tomli.loads((PROFILES / "loihi1.toml").read_text())
    mutate(raw)
    lines = [f"schema_version = {raw.pop('schema_version')}"]
    lines += [f"{k} = {_toml(v)}" for k, v in raw.items() if isinstance(v, str)]
    for sec in ("energy", "time", "limits", "power"):
        for key, q in raw.get(sec, {}).items():
            lines.append(f"[{sec}.{key}]")
            for f, v in q.items():
                lines.append(f"{f} = {_toml(v)}")
    path = tmp_path / "mine.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_user_profile_round_trips(tmp_path: Path) -> None:
    p = load_profile(_write(tmp_path, lambda raw: None))
    assert p.energy == load_profile("loihi1").energy


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda r: r["energy"]["synop"].update(value=-1.0), "energy.synop"),
        (lambda r: r["energy"]["synop"].update(unit="nJ"), "energy.synop"),
        (lambda r: r["energy"].pop("synop"), "energy.synop"),
        (lambda r: r["energy"]["synop"].pop("source"), "energy.synop"),
        (lambda r: r["time"].update(warp={"value": 1.0, "unit": "ns", "source": "x", "note": "y"}),
         "time.warp"),
        (lambda r: r["limits"]["cores_per_chip"].update(value="lots"), "limits.cores_per_chip"),
        (lambda r: r.update(schema_version=99), "schema_version"),
        (lambda r: r.update(kind="gpu"), "kind"),
        (lambda r: r.update(mapper="fastest"), "mapper"),
        (lambda r: r.update(mapper="loihi2"), "synapse_words_per_core"),
        (lambda r: r.update(power={"static_per_chip": {"value": -0.2, "unit": "W",
                                                       "source": "x", "note": "y"}}),
         "power.static_per_chip"),
        (lambda r: r.update(power={"static_per_chip": {"value": 0.2, "unit": "mW",
                                                       "source": "x", "note": "y"}}),
         "power.static_per_chip"),
    ],
)
def test_bad_profiles_name_the_file_and_key(tmp_path: Path, mutate, needle: str) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError, match=needle) as info:
        load_profile(path)
    assert "mine.toml" in str(info.value)


def test_unknown_profile_name_lists_shipped() -> None:
    with pytest.raises(ConfigError, match="loihi1"):
        load_profile("loihi9")

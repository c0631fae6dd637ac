"""Hardware profiles: shipped files load, every number is sourced, bad files fail by key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tomli
from helpers import REPO
from mskd.hw_profiles import SHIPPED, load_profile

from mskd.errors import ConfigError

PROFILES = REPO / "hw_profiles"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_profiles_load_and_every_number_is_sourced(name: str) -> None:
    p = load_profile(name)
    for sec in ("energy", "time", "limits"):
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


def test_loihi2_marks_loihi1_figures_as_assumed_and_derives_per_core_limits() -> None:
    p = load_profile("loihi2")
    assert p.energy["synop"].assumed and "Loihi 1" in p.energy["synop"].source
    assert not p.limits["cores_per_chip"].assumed
    assert p.limit("neurons_per_core") == 2**20 // 128
    assert p.limit("synapses_per_core") == 120_000_000 // 128
    assert "128" in p.limits["synapses_per_core"].note


def _toml(v) -> str:
    return json.dumps(v)  # JSON scalars (strings, numbers, booleans) are valid TOML


def _write(tmp_path: Path, mutate) -> Path:
    raw = tomli.loads((PROFILES / "loihi1.toml").read_text())
    mutate(raw)
    lines = [f"schema_version = {raw.pop('schema_version')}"]
    lines += [f"{k} = {_toml(v)}" for k, v in raw.items() if isinstance(v, str)]
    for sec in ("energy", "time", "limits"):
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

"""A run measured on the chip (the JSON ``mskd deploy script`` writes) against the estimate,
and the profile refitted to it.

``read_measured`` checks the file: its schema, the steps, and for a hardware run
(``Loihi2HwCfg``) every measured figure finite and above zero (static power may be zero);
anything else is one line naming the file and the field. ``compare`` sets each quantity
the run measured beside the report's estimate. ``refit`` writes a new profile TOML from
the one used: ``energy.synop`` (and the neuron-update figures, which the Loihi 2 profile
ties to it) scaled so the estimated dynamic energy equals the measured one, the per-op
times scaled so the estimated time per step (less the barrier) equals the measured one,
and ``power.static_per_chip`` set to the measured static power; each refitted figure says
it was fitted on that file. Pass it back with ``mskd profile --profile new.toml``.

>>> rep = {"energy": {"by_kind": {"synop": 1.5e6, "neuron_update_active": 0.4e6,
...                                "spike": 0.1e6}}, "latency": {"step_ns_mean": 30e3}}
>>> refit_ratios(rep, {"dynamic_energy_per_inference_uj": 3.0, "time_per_step_us": 50.0},
...              barrier_ns=10e3)
{'energy': 1.5263157894736843, 'time': 2.0}
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from mskd.errors import ConfigError

SCHEMA = "mskd-lava-run/1"
HARDWARE_FIELDS = ("time_per_step_us", "throughput_per_s", "total_power_w", "static_power_w",
                   "dynamic_energy_per_inference_uj", "total_energy_per_inference_uj")
MAX_BYTES = 1 << 20


def read_measured(path: str | Path) -> dict:
    """The measured run in ``path``, checked; ConfigError naming the file and field."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_BYTES:
            raise ConfigError(f"{p}: larger than {MAX_BYTES} bytes: not a measured run")
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{p}: measured run not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{p}: not a JSON measured run ({' '.join(str(exc).split())})") \
            from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise ConfigError(f"{p}: field 'schema' must be '{SCHEMA}' (written by the script "
                          "of `mskd deploy script`)")
    for key in ("steps_per_inference", "num_steps"):
        v = data.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ConfigError(f"{p}: field '{key}' must be a whole number >= 1, got {v!r}")
    if data.get("backend") not in ("Loihi2HwCfg", "Loihi2SimCfg"):
        raise ConfigError(f"{p}: field 'backend' must be Loihi2HwCfg or Loihi2SimCfg")
    if data["backend"] == "Loihi2HwCfg":
        for key in HARDWARE_FIELDS:
            v = data.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"{p}: field '{key}' is missing or not a finite number")
            if v < 0 or (v == 0 and key != "static_power_w"):
                raise ConfigError(f"{p}: field '{key}' is {v}: a measured figure must be > 0")
    return data


def compare(rep: dict, measured: dict) -> list[dict]:
    """Estimate against measurement, per quantity the run measured (empty for a CPU run)."""
    if measured["backend"] != "Loihi2HwCfg":
        return []
    lat, tot = rep["latency"], rep.get("energy_with_static") or {}
    est = {"time_per_step_us": lat["step_ns_mean"] / 1e3,
           "throughput_per_s": 1e9 / (lat["step_ns_mean"] * measured["steps_per_inference"]),
           "dynamic_energy_per_inference_uj": rep["energy"]["total"] / 1e6,
           "static_power_w": tot.get("static_per_chip_w")}
    rows = []
    for key, value in est.items():
        m = measured[key]
        rows.append({"quantity": key, "measured": m, "estimated": value,
                     "error": None if value is None or not m else (value - m) / m})
    return rows


FITTED = ("synop", "synop_graded", "neuron_update_active", "neuron_update_inactive")


def refit_ratios(rep: dict, measured: dict, barrier_ns: float) -> dict[str, float]:
    """Factors on the energy and time per-op figures that make the estimate the measurement
    (message energy, not refitted, is kept as it is)."""
    kinds = rep["energy"]["by_kind"]
    fitted = sum(kinds.get(k, 0.0) for k in FITTED)
    rest = sum(v for k, v in kinds.items() if k not in FITTED)
    measured_pj = measured["dynamic_energy_per_inference_uj"] * 1e6
    if fitted <= 0 or measured_pj <= rest:
        raise ConfigError("the measured dynamic energy is below what the messages alone cost "
                          "on this profile: nothing to refit")
    energy = (measured_pj - rest) / fitted
    work = rep["latency"]["step_ns_mean"] - barrier_ns
    time = (measured["time_per_step_us"] * 1e3 - barrier_ns) / work if work > 0 else 1.0
    return {"energy": energy, "time": time}


def refit(profile, rep: dict, measured: dict, source: str) -> str:
    """The TOML text of ``profile`` refitted to ``measured`` (see the module docstring)."""
    from dataclasses import replace

    from mskd.hw_profiles import dump_profile

    if measured["backend"] != "Loihi2HwCfg":
        raise ConfigError(f"{source}: a {measured['backend']} run measured no chip figures; "
                          "refit needs a Loihi2HwCfg run")
    ratios = refit_ratios(rep, measured, profile.time["barrier_sync"].value)
    note = f"derived (fitted): {source}, measured on {measured['network']}"
    energy = dict(profile.energy)
    for key in FITTED:
        if key in energy:
            q = energy[key]
            energy[key] = replace(q, value=q.value * ratios["energy"], source=note,
                                  note=f"x{ratios['energy']:.4g} of: {q.source}",
                                  assumed=False)
    time = dict(profile.time)
    for key in FITTED:
        if key in time:
            q = time[key]
            time[key] = replace(q, value=q.value * ratios["time"], source=note,
                                note=f"x{ratios['time']:.4g} of: {q.source}", assumed=False)
    power = dict(profile.power)
    if "static_per_chip" in power:
        power["static_per_chip"] = replace(power["static_per_chip"],
                                           value=measured["static_power_w"], source=note,
                                           note="static power per chip as measured",
                                           assumed=False)
    fitted = replace(profile, name=f"{profile.name}-refit", energy=energy, time=time,
                     power=power, description=f"{profile.description}; refitted to {source}")
    return dump_profile(fitted)

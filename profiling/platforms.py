"""The same network on the chips a user would buy instead, from their measured results.

An edge profile (``kind = "edge"``: MLPerf Tiny's accelerators and MCUs, a Jetson module)
holds what the platform measured on reference models: energy and latency per inference and
the model's multiply-accumulates. The network is placed on it by its own MACs (every
synapse once per frame, as a dense ANN of the same layers runs): per reference model,
``energy = network MACs x (measured energy / reference MACs)``, and the same for latency.
The spread across reference models is reported, not one number: per-MAC cost moves about
3x with layer types on one chip (depthwise against dense convolutions, small against large
layers), so the median is a guide and the range what to expect.

At an application's frame rate an edge chip also draws between inferences: MLPerf Tiny
measures active inference only (sleep is the user's design), so only a profile's
``power.idle`` (the Jetson module) adds to the energy per inference at that rate.

The break-even point: the fraction of today's synaptic operations at which the spiking
network's dynamic energy on the neuromorphic profile equals the platform's median,
``f = (E_platform - E_not_synops) / E_synops`` (the neuron updates and messages kept as
they are): below 1 the network must become that much sparser to match; above 1 it already
costs less; ``None`` where no sparsity can close the gap (the neuron updates alone cost
more than the platform).

>>> from mskd.hw_profiles import load_profile
>>> est = on_platform(1e6, load_profile("gap9"))
>>> est["benchmarks"][0]["benchmark"], round(est["energy_uj"]["median"], 3)
('kws', 6.217)
>>> break_even({"synop": 30.0, "neuron_update_active": 10.0}, 20.0)
0.3333333333333333
>>> break_even({"synop": 30.0, "neuron_update_active": 10.0}, 5.0) is None
True
"""

from __future__ import annotations

import statistics

from mskd.profiling.energy import OP_KINDS

SYNOP_KINDS = ("synop", "synop_graded")
EDGE_PROFILES = ("gap9", "ndp9120", "stm32u385", "efr32mg24", "jetson-agx-orin")


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def on_platform(macs: float, profile, rate_per_s: float | None = None) -> dict:
    """``macs`` multiply-accumulates per inference on an edge ``profile``: energy (uJ) and
    latency (ms) per reference model, their spread, and at ``rate_per_s`` with idle power."""
    rows = []
    for bench, ref in profile.macs.items():
        if bench not in profile.energy or bench not in profile.time:
            continue
        scale = macs / (ref.value * 1e6)
        rows.append({"benchmark": bench, "reference_mmacs": ref.value,
                     "reference_model": ref.note,
                     "reference_uj": profile.energy[bench].value,
                     "reference_ms": profile.time[bench].value,
                     "energy_uj": profile.energy[bench].value * scale,
                     "latency_ms": profile.time[bench].value * scale})
    energy = _spread([r["energy_uj"] for r in rows])
    latency = _spread([r["latency_ms"] for r in rows])
    idle = profile.power.get("idle")
    at_rate = None
    if rate_per_s is not None and idle is not None:
        wait_s = max(1.0 / rate_per_s - latency["median"] / 1e3, 0.0)
        at_rate = energy["median"] + idle.value * wait_s * 1e6
    return {"platform": profile.name, "description": profile.description, "macs": macs,
            "benchmarks": rows, "energy_uj": energy, "latency_ms": latency,
            "idle_w": None if idle is None else idle.value, "rate_per_s": rate_per_s,
            "energy_at_rate_uj": at_rate}


def break_even(by_kind: dict[str, float], target: float) -> float | None:
    """Fraction of today's synops at which ``by_kind`` (energy per op kind, any unit)
    totals ``target`` (same unit); None when even zero synops cost more."""
    synops = sum(by_kind.get(k, 0.0) for k in SYNOP_KINDS)
    rest = sum(v for k, v in by_kind.items() if k not in SYNOP_KINDS and k in OP_KINDS)
    if synops <= 0 or target <= rest:
        return None
    return (target - rest) / synops

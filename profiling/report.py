"""The profile report: one JSON document (``schema_version``) and its Markdown rendering.

Energies are stored in pJ (as the profiles give them) and shown in uJ; times in ns and
shown in us/ms; the Markdown rendering is :mod:`mskd.profiling.report_md`. Every figure
marked ``assumed`` in the hardware profile is listed under ``assumptions`` and printed at
the top of the Markdown, so a Loihi 2 estimate can never be read as a measurement.
"""

from __future__ import annotations

from mskd.profiling.counts import COUNT_KINDS
from mskd.profiling.energy import ac_energy, ann_energy
from mskd.profiling.report_md import render_markdown  # noqa: F401 - the report's other half

SCHEMA_VERSION = 1
PJ_PER_UJ = 1e6  # unit conversions
NS_PER_MS = 1e6


def _per_second(result, per_inference: dict[str, float]) -> dict[str, float] | None:
    if result.input_step_s is None:
        return None
    seconds = result.counts.steps * result.input_step_s
    return {k: v / seconds for k, v in per_inference.items()}


def _counts_json(result) -> dict:
    c = result.counts
    per_inf = {k: c.per_inference(k) for k in COUNT_KINDS}
    return {
        "active_definition": c.active_definition,
        "per_inference": per_inf,
        "per_second_of_input": {k: _per_second(result, v) for k, v in per_inf.items()},
        "per_step_mean": {k: {n: a.tolist() for n, a in c.per_step(k).items()}
                          for k in ("spikes", "synops", "active")},
    }


def _comparison(result, ann_profile, macs: dict[str, float]) -> dict | None:
    if ann_profile is None:
        return None
    acs, mac = result.counts.total("synops_ac"), result.counts.total("synops_mac")
    rows = [{"model": name, "macs": float(n), "ann_energy_pj": ann_energy(n, ann_profile)}
            for name, n in macs.items()]
    return {"ann_profile": ann_profile.name, "ann_models": rows,
            "snn_synops": acs + mac, "snn_synops_ac": acs, "snn_synops_mac": mac,
            "snn_as_fp32_ops_pj": ac_energy(acs, ann_profile) + ann_energy(mac, ann_profile),
            "snn_on_profile_pj": result.energy.total_pj, "snn_profile": result.hw.name}


def _platforms(result, platforms, network_macs: float | None, rate: float | None,
               bound: dict | None) -> dict | None:
    """The network on each edge platform, the 45 nm bound, and the break-even points."""
    if network_macs is None or not platforms:
        return None
    from mskd.profiling.platforms import break_even, on_platform

    by_kind = result.energy.by_kind()
    rows = []
    for p in platforms:
        est = on_platform(network_macs, p, rate)
        est["break_even_synops"] = break_even(by_kind, est["energy_uj"]["median"] * 1e6)
        rows.append(est)
    out = {"network_macs": network_macs, "rate_per_s": rate, "platforms": rows,
           "bound_45nm": None}
    if bound is not None:
        out["bound_45nm"] = {**bound, "break_even_synops": break_even(by_kind,
                                                                      bound["total_pj"])}
    return out


def build_report(result, *, network: str, ann_profile=None, macs: dict[str, float] | None = None,
                 inputs: str = "", step_budget: int | None = None,
                 wall_seconds: float | None = None, sample: dict | None = None,
                 platforms=(), network_macs: float | None = None,
                 bound_45nm: dict | None = None) -> dict:
    """The JSON-ready report of a :class:`~mskd.profiling.estimate.ProfileResult`.

    ``step_budget``: steps per inference for the throughput figure (default: as run);
    ``wall_seconds``: how long producing it took (recorded under ``provenance``);
    ``sample``: what sample 0 of the raster is (``true``/``predicted`` class names);
    ``platforms``: edge profiles to set the network on by its ``network_macs`` (dense
    multiply-accumulates per inference), beside ``bound_45nm``
    (:func:`mskd.profiling.ann_energy.ann_energy_with_memory` of the same network).
    """
    from mskd.profiling.energy import static_and_total
    from mskd.profiling.latency import critical_layers

    from mskd.provenance import provenance

    hw = result.hw
    lat = result.latency
    budget = step_budget or lat.steps
    return {
        "schema_version": SCHEMA_VERSION,
        "network": network,
        "inputs": inputs,
        "samples": result.counts.batch,
        "steps": result.counts.steps,
        "input_step_s": result.input_step_s,
        "profile": {"name": hw.name, "description": hw.description, "file": hw.source_path},
        "assumptions": [{"figure": k, "source": _q(hw, k).source, "note": _q(hw, k).note}
                        for k in hw.assumed_keys()],
        "mapping": result.mapping.to_json(),
        "counts": _counts_json(result),
        "energy": result.energy.to_json(),
        "energy_per_second_of_input_pj": (None if result.input_step_s is None else
                                          result.energy.total_pj
                                          / (result.counts.steps * result.input_step_s)),
        "latency": {**lat.to_json(), "step_budget": budget,
                    "throughput_at_step_budget": lat.throughput_at(budget)},
        "energy_with_static": static_and_total(
            result.energy.total_pj, lat.inference_ns_mean, result.mapping.total_cores, hw,
            None if result.input_step_s is None else
            1.0 / (result.counts.steps * result.input_step_s)),
        "comparison": _comparison(result, ann_profile, macs or {}),
        "platforms": _platforms(result, platforms, network_macs,
                                None if result.input_step_s is None else
                                1.0 / (result.counts.steps * result.input_step_s), bound_45nm),
        "critical_layers": critical_layers(result.counts, hw),
        "neurobench": result.neurobench,
        "energy_sensitivity": result.sensitivity or [],
        "widths_beyond_chip": result.widths or [],
        "raster_sample": sample,
        "provenance": provenance(wall_seconds),
    }


def _q(hw, key: str):
    sec, name = key.split(".", 1)
    return getattr(hw, sec)[name]



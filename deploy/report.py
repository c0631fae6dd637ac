"""The profile report: one JSON document (``schema_version``) and its Markdown rendering.

Energies are stored in pJ (as the profiles give them) and shown in uJ; times in ns and
shown in us/ms. Every figure marked ``assumed`` in the hardware profile is listed under
``assumptions`` and printed at the top of the Markdown, so a Loihi 2 estimate can never
be read as a measurement.
"""

from __future__ import annotations

from mskd.deploy.counts import COUNT_KINDS
from mskd.deploy.energy import ac_energy, ann_energy

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


def build_report(result, *, network: str, ann_profile=None, macs: dict[str, float] | None = None,
                 inputs: str = "", step_budget: int | None = None) -> dict:
    """The JSON-ready report of a :class:`~mskd.deploy.profile.ProfileResult`.

    ``step_budget``: steps per inference for the throughput figure (default: as run).
    """
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
        "comparison": _comparison(result, ann_profile, macs or {}),
        "neurobench": result.neurobench,
        "energy_sensitivity": result.sensitivity or [],
        "widths_beyond_chip": result.widths or [],
    }


def _q(hw, key: str):
    sec, name = key.split(".", 1)
    return getattr(hw, sec)[name]


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _summary_md(rep: dict) -> list[str]:
    lat, m = rep["latency"], rep["mapping"]
    rows = [["samples x steps", f"{rep['samples']} x {rep['steps']}"],
            ["cores / chips", f"{m['total_cores']} / {m['chips']}"],
            ["energy per inference", f"{rep['energy']['total'] / PJ_PER_UJ:.4g} uJ"],
            ["latency per step (mean / max)",
             f"{lat['step_ns_mean'] / 1e3:.4g} / {lat['step_ns_max'] / 1e3:.4g} us"],
            ["latency per inference", f"{lat['inference_ns_mean'] / NS_PER_MS:.4g} ms"],
            ["throughput (as run)", f"{lat['throughput_per_s']:,.1f} inferences/s"],
            [f"throughput at {lat['step_budget']} steps (mean step time)",
             f"{lat['throughput_at_step_budget']:,.1f} inferences/s"]]
    if rep["input_step_s"] is not None:
        rows += [["input time per step", f"{rep['input_step_s'] * 1e3:.4g} ms"],
                 ["real-time factor", f"{lat['realtime_factor']:.4g}x"],
                 ["power at real time", f"{rep['energy_per_second_of_input_pj'] / 1e9:.4g} mW"]]
    return _table(["quantity", "value"], rows)


def _layers_md(rep: dict) -> list[str]:
    per, energy = rep["counts"]["per_inference"], rep["energy"]["by_layer"]
    cores = {la["index"]: la for la in rep["mapping"]["layers"]}
    rows = []
    for name in per["spikes"]:
        la = cores[int(name.split(":")[0])]
        graded = per["messages_graded"][name] > 0 or la.get("graded", False)
        mac = per["synops_mac"][name] > 0
        rows.append([name, la["neurons"], la["n_cores"], _fmt(la["synapses"]),
                     _fmt(per["spikes"][name]) + (" graded" if graded else ""),
                     _fmt(per["payload_bits"][name]) if graded else "-",
                     _fmt(per["synops"][name]) + (" MAC" if mac else " AC"),
                     _fmt(per["active"][name]), f"{energy[name] / PJ_PER_UJ:.4g}"])
    return _table(["layer", "neurons", "cores", "synapses", "messages/inf", "payload bits/inf",
                   "synops/inf", "active updates/inf", "energy uJ/inf"], rows)


def _neurobench_md(nb: dict | None) -> list[str]:
    if not nb:
        return []
    rows = [["effective ACs per inference", _fmt(nb["effective_acs"])],
            ["effective MACs per inference", _fmt(nb["effective_macs"])],
            ["dense operations per inference", _fmt(nb["dense_ops"])],
            ["activation sparsity", f"{nb['activation_sparsity']:.1%}"],
            ["connection sparsity", f"{nb['connection_sparsity']:.1%}"],
            ["footprint", f"{nb['footprint_bytes'] / 1024:,.1f} KiB (weights "
                          f"{nb['footprint_parts']['weights'] / 1024:,.1f}, neuron state "
                          f"{nb['footprint_parts']['neuron_state'] / 1024:,.1f})"]]
    return ["## NeuroBench metrics", ""] + _table(["metric", "value"], rows) + [
        "", "Counted as NeuroBench defines them (Yik et al. 2025): effective operations skip "
        "zero weights, an AC for a binary spike and a MAC for a graded payload; dense "
        "operations run every synapse every step; activation sparsity is the share of zero "
        "outputs over all neurons and steps; footprint holds each weight at its layer's bits, "
        "2-byte biases and 24-bit neuron registers (mskd.deploy.neurobench).", ""]


def _widths_md(rep: dict) -> list[str]:
    rows = rep.get("widths_beyond_chip") or []
    if not rows:
        return []
    return ["## Values wider than the chip", "",
            "Lava computes sigma-delta registers and payloads in int32 and the simulator "
            "follows it bit for bit, but Loihi 2 holds registers in 24 bits and netx's SDNN "
            "messages carry 16: where these values occur the chip would differ.", ""] + \
        _table(["layer", "value", "largest |value|", "bits needed", "chip bits",
                "share of entries beyond"],
               [[r["layer"], r["what"], f"{r['max_abs']:,}", r["bits_needed"],
                 r["limit_bits"], f"{r['share']:.2%}"] for r in rows]) + [""]


def _sensitivity_md(rep: dict) -> list[str]:
    rows = rep.get("energy_sensitivity") or []
    if not rows:
        return []
    out = [f"## If the assumed graded figures are off by {rows[0]['factor']:g}x", ""]
    table = [[", ".join(f"`{f}`" for f in r["figures"]),
              f"{r['low_pj'] / PJ_PER_UJ:.4g}", f"{r['total_pj'] / PJ_PER_UJ:.4g}",
              f"{r['high_pj'] / PJ_PER_UJ:.4g}"] for r in rows]
    return out + _table(["assumed figure(s) scaled", f"x1/{rows[0]['factor']:g} uJ",
                         "as assumed uJ", f"x{rows[0]['factor']:g} uJ"], table) + [""]


def _mapping_md(rep: dict) -> list[str]:
    m = rep["mapping"]
    rows = []
    for la in m["layers"]:
        cores = la["cores"]
        rows.append([f"{la['index']}:{la['kind']}", la["n_cores"],
                     max(c["stop"] - c["start"] for c in cores),
                     _fmt(max(c["synapses"] for c in cores)),
                     max(c["fan_in_axons"] for c in cores),
                     max(c["fan_out_axons"] for c in cores), la["weight_bits"]])
    lim = m["limits"]
    rows.append(["limit per core", "", lim["neurons"],
                 _fmt(lim["synapses"]) if lim["synapses"] else
                 f"{lim['synapse_memory_bits']:,} bits",
                 lim["fan_in_axons"], lim["fan_out_axons"], lim["weight_bits_max"]])
    util = ", ".join(f"{k} {v:.1%}" for k, v in m["utilisation"].items())
    return _table(["layer", "cores", "max neurons/core", "max synapses/core",
                   "max fan-in axons", "max fan-out axons", "weight bits"], rows) + [
        "", f"Mean utilisation per core: {util}."]


def _comparison_md(cmp: dict | None) -> list[str]:
    if cmp is None:
        return ["No ANN comparison (pass MAC counts and an ANN profile)."]
    rows = [[f"{r['model']} as ANN ({cmp['ann_profile']})", _fmt(r["macs"]) + " MACs",
             f"{r['ann_energy_pj'] / PJ_PER_UJ:.4g}"] for r in cmp["ann_models"]]
    rows.append([f"SNN, its synops as fp32 adds (AC) and MACs ({cmp['ann_profile']})",
                 f"{_fmt(cmp['snn_synops_ac'])} AC + {_fmt(cmp['snn_synops_mac'])} MAC",
                 f"{cmp['snn_as_fp32_ops_pj'] / PJ_PER_UJ:.4g}"])
    rows.append([f"SNN on {cmp['snn_profile']}", "all ops",
                 f"{cmp['snn_on_profile_pj'] / PJ_PER_UJ:.4g}"])
    return _table(["model", "work per inference", "energy uJ/inf"], rows)


def render_markdown(rep: dict) -> str:
    """Markdown tables of a report built by :func:`build_report`."""
    lines = [f"# Profile of `{rep['network']}` on {rep['profile']['name']}", "",
             rep["profile"]["description"], ""]
    if rep["assumptions"]:
        lines += ["**Assumed figures** (not published for this chip; see the profile file):",
                  ""] + [f"- `{a['figure']}`: {a['source']}" for a in rep["assumptions"]] + [""]
    lines += ["## Summary", ""] + _summary_md(rep) + ["", "## Per layer (per inference)", ""]
    lines += _layers_md(rep) + ["", "## Core mapping", ""] + _mapping_md(rep)
    lines += ["", "## Energy by operation (per inference)", ""]
    kinds = rep["energy"]["by_kind"]
    lines += _table(["operation", "energy uJ", "share"],
                    [[k, f"{v / PJ_PER_UJ:.4g}", f"{v / max(rep['energy']['total'], 1e-30):.1%}"]
                     for k, v in kinds.items()])
    lines += [""] + _sensitivity_md(rep) + _widths_md(rep)
    lines += ["## Comparison with ANNs", ""] + _comparison_md(rep["comparison"])
    lines += [""] + _neurobench_md(rep.get("neurobench"))
    lines += ["## Definitions", "",
              f"- active neuron: {rep['counts']['active_definition']}",
              "- synop: one message reaching one synapse (conv geometry, padding and stride "
              "honoured). A graded synop (MAC) multiplies the weight by the payload: a "
              "multiply-accumulate; a binary one (AC) only accumulates the weight",
              "- messages: spikes, or non-zero graded payloads (16 bits each, netx's SDNN "
              "width); message energy counts one message per destination core, no tile hops",
              "- latency: slowest core per step (synops, neuron updates) + barrier sync; "
              "inferences run one after another", ""]
    return "\n".join(lines)

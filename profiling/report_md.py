"""The profile report as Markdown: the tables of ``report.json`` and what a reader asks.

Besides the numbers it says why: where a step's time goes (the slowest core, and why a
profile that packs more neurons per core can be slower with the same per-op times), what
the mapping table counts (synapses as counts, synapse memory as bits, and the share of
each per-core limit the fullest core uses), and what each figure means (Definitions).

>>> _pct(0.25), _pct(None), _cell(4096, 4096)
('25.0 %', 'n/a', '4,096 (100.0 %)')
"""

from __future__ import annotations

PJ_PER_UJ = 1e6  # unit conversions
NS_PER_US = 1e3
NS_PER_MS = 1e6


def _table(header: list[str], rows: list[list]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f} %"


def _cell(value: float, limit: float | None) -> str:
    """``value (share of limit)``, or the value alone without a limit."""
    if not limit:
        return _fmt(value)
    return f"{_fmt(value)} ({_pct(value / limit)})"


def _summary_md(rep: dict) -> list[str]:
    lat, m = rep["latency"], rep["mapping"]
    rows = [["samples x steps", f"{rep['samples']} x {rep['steps']}"],
            ["cores / chips", f"{m['total_cores']} / {m['chips']}"],
            ["dynamic energy per inference", f"{rep['energy']['total'] / PJ_PER_UJ:.4g} uJ"],
            ["latency per step (mean / max)",
             f"{lat['step_ns_mean'] / NS_PER_US:.4g} / {lat['step_ns_max'] / NS_PER_US:.4g} us"],
            ["latency per inference", f"{lat['inference_ns_mean'] / NS_PER_MS:.4g} ms"],
            ["throughput (as run)", f"{lat['throughput_per_s']:,.1f} inferences/s"],
            [f"throughput at {lat['step_budget']} steps (mean step time)",
             f"{lat['throughput_at_step_budget']:,.1f} inferences/s"]]
    tot = rep.get("energy_with_static")
    if tot:
        rows += [["static power", f"{tot['static_w']:.4g} W ({tot['chips']} chip(s)); "
                  f"{tot['share_of_cores_w']:.4g} W as a share of the cores used"],
                 ["total energy per inference at the maximum rate "
                  f"({tot['max_rate_per_s']:,.1f}/s)",
                  f"{tot['total_at_max_pj'] / PJ_PER_UJ:.4g} uJ (dynamic + static)"]]
        if tot["total_at_rate_pj"] is not None:
            rows += [[f"total energy per inference at the input rate "
                      f"({tot['rate_per_s']:,.1f}/s)",
                      f"{tot['total_at_rate_pj'] / PJ_PER_UJ:.4g} uJ (the chip idles between "
                      "inferences)"]]
    if rep["input_step_s"] is not None:
        rows += [["input time per step", f"{rep['input_step_s'] * 1e3:.4g} ms"],
                 ["real-time factor", f"{lat['realtime_factor']:.4g}x"],
                 ["power at real time", f"{rep['energy_per_second_of_input_pj'] / 1e9:.4g} mW"]]
    return _table(["quantity", "value"], rows)


def _layers_md(rep: dict) -> list[str]:
    per, energy = rep["counts"]["per_inference"], rep["energy"]["by_layer"]
    cores = {la["index"]: la for la in rep["mapping"]["layers"]}
    total = max(rep["energy"]["total"], 1e-30)
    rows = []
    for name in per["spikes"]:
        la = cores[int(name.split(":")[0])]
        graded = per["messages_graded"][name] > 0 or la.get("graded", False)
        mac = per["synops_mac"][name] > 0
        rows.append([name, f"{la['neurons']:,}", la["n_cores"], _fmt(la["synapses"]),
                     _fmt(per["spikes"][name]) + (" graded" if graded else ""),
                     _fmt(per["payload_bits"][name]) if graded else "-",
                     _fmt(per["synops"][name]) + (" MAC" if mac else " AC"),
                     _cell(per["active"][name], la["neurons"] * rep["steps"]),
                     f"{energy[name] / PJ_PER_UJ:.4g} ({_pct(energy[name] / total)})"])
    return _table(["layer", "neurons", "cores", "synapses", "messages/inf", "payload bits/inf",
                   "synops/inf", "active updates/inf (% of all)", "energy uJ/inf (% of total)"],
                  rows)


def _time_md(rep: dict) -> list[str]:
    """Where a step's time goes: the slowest core sets it (see profile_latency)."""
    crit = rep.get("critical_layers") or []
    if not crit:
        return []
    lat, lim = rep["latency"], rep["mapping"]["limits"]
    rows = [[c["layer"], c["cores"], f"{c['max_core_neurons']:,}",
             f"{c['slowest_core_ns_mean'] / NS_PER_US:.3g}", _pct(c["critical_share"])]
            for c in crit]
    top = max(crit, key=lambda c: c["critical_share"])
    barrier = lat["step_ns_mean"] - max(c["slowest_core_ns_mean"] for c in crit)
    return ["## Where the time goes", "",
            f"Cores run in parallel and meet at a barrier every step, so a step lasts as long "
            f"as the busiest core plus the barrier; inside a core, neurons and synaptic ops "
            f"are processed one after another. Here the slowest core is most often layer "
            f"{top['layer']}'s ({_pct(top['critical_share'])} of steps), which holds up to "
            f"{top['max_core_neurons']:,} neurons (this profile allows {lim['neurons']:,} per "
            f"core). Mean step: {lat['step_ns_mean'] / NS_PER_US:.3g} us, of which about "
            f"{max(barrier, 0) / NS_PER_US:.3g} us barrier.", "",
            "A profile that packs more neurons per core needs fewer cores but makes its "
            "fullest core work longer every step. Not modelled: input streamed from the host "
            "(a network fed frame by frame from the host runs at the host's rate) and routing "
            "between chips; the model and its check against Intel's measurements are in the "
            "documentation (Loihi 2 figures and their sources, Loihi 2 validation).",
            ""] + _table(["layer", "cores", "most neurons on one core",
                          "slowest core us/step (mean)", "steps it sets the time"], rows) + [""]


def _neurobench_md(nb: dict | None) -> list[str]:
    if not nb:
        return []
    rows = [["effective ACs per inference", _fmt(nb["effective_acs"])],
            ["effective MACs per inference", _fmt(nb["effective_macs"])],
            ["dense operations per inference", _fmt(nb["dense_ops"])],
            ["activation sparsity", _pct(nb["activation_sparsity"])],
            ["connection sparsity", _pct(nb["connection_sparsity"])],
            ["footprint", f"{nb['footprint_bytes'] / 1024:,.1f} KiB (weights "
                          f"{nb['footprint_parts']['weights'] / 1024:,.1f}, neuron state "
                          f"{nb['footprint_parts']['neuron_state'] / 1024:,.1f})"]]
    dns = nb.get("dns_power_proxy")
    if dns:
        rate = dns["effective_synops_per_s"]
        rows.append(["Intel N-DNS power proxy (SynOPS + 10 NeuronOPS per second of input)",
                     "-" if rate is None else f"{rate / 1e6:,.4g} M-ops/s (SynOPS "
                     f"{_fmt(dns['synops_per_step'])}, NeuronOPS "
                     f"{_fmt(dns['neuronops_per_step'])} per step)"])
    return ["## NeuroBench metrics", ""] + _table(["metric", "value"], rows) + [
        "", "Counted as NeuroBench defines them (Yik et al. 2025): effective operations skip "
        "zero weights, an AC for a binary spike and a MAC for a graded payload; dense "
        "operations run every synapse every step; activation sparsity is the share of zero "
        "outputs over all neurons and steps; footprint holds each weight at its layer's bits, "
        "2-byte biases and 24-bit neuron registers (mskd.profiling.neurobench).", ""]


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
    lim = m["limits"]
    rows = []
    for la in m["layers"]:
        cores = la["cores"]
        rows.append([f"{la['index']}:{la['kind']}", la["n_cores"],
                     _cell(max(c["stop"] - c["start"] for c in cores), lim["neurons"]),
                     _cell(max(c["synapses"] for c in cores), lim["synapses"]),
                     _cell(max(c["synapse_bits"] for c in cores), lim["synapse_memory_bits"]),
                     _cell(max(c["fan_in_axons"] for c in cores), lim["fan_in_axons"]),
                     _cell(max(c["fan_out_axons"] for c in cores), lim["fan_out_axons"]),
                     la["weight_bits"] or "-"])
    rows.append(["limit per core", "", f"{lim['neurons']:,}",
                 f"{lim['synapses']:,}" if lim["synapses"] else "none (memory limit)",
                 f"{lim['synapse_memory_bits']:,}" if lim["synapse_memory_bits"] else
                 "none (count limit)", f"{lim['fan_in_axons']:,}", f"{lim['fan_out_axons']:,}",
                 lim["weight_bits_max"]])
    util = ", ".join(f"{k.replace('_', ' ')} {_pct(v)}" for k, v in m["utilisation"].items())
    return _table(["layer", "cores", "max neurons/core", "max synapses/core (count)",
                   "max synapse memory/core (bits)", "max fan-in axons", "max fan-out axons",
                   "weight bits"], rows) + [
        "", "Each cell is the fullest core of the layer, with the share of the per-core limit "
        "it uses; 100 % means the layer sits at that limit. Units: synapses are a count "
        "(every input-output pair under a conv kernel, dense-expanded); synapse memory is "
        "bits (each synapse at its layer's weight bits; index and delay bits not counted). "
        "A profile limits one or the other: Loihi 1 its synaptic memory (128 KiB = "
        "1,048,576 bits per core), the Loihi 2 profile the synapse count (937,500 per core, "
        "derived from 120 M per chip; its bits per synapse are unpublished).", "",
        f"Mean utilisation per core: {util}."]


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


def _provenance_md(rep: dict) -> list[str]:
    p = rep.get("provenance")
    if not p:
        return []
    from mskd.provenance import versions_line

    wall = "" if p["wall_seconds"] is None else f" in {p['wall_seconds']:.1f} s"
    return [f"Written {p['created_utc']} UTC{wall} by {versions_line(p['versions'])}.", ""]


DEFINITIONS = [
    "- synop: one message reaching one synapse (conv geometry, padding and stride honoured). "
    "A graded synop (MAC) multiplies the weight by the payload: a multiply-accumulate; a "
    "binary one (AC) only accumulates the weight",
    "- messages: spikes, or non-zero graded payloads (16 bits each, netx's SDNN width); "
    "message energy counts one message per destination core, no tile hops",
    "- latency: slowest core per step (synops, neuron updates) + barrier sync; inferences "
    "run one after another",
    "- raster.png: what each neuron sent, one panel per layer (for a sigma-delta layer a "
    "dot is a graded message event, a non-zero payload); a layer that never spikes, such "
    "as the output layer read as its mean voltage, is drawn as its voltage traces instead"]


def _platforms_md(rep: dict) -> list[str]:
    """The network on the chips a user would buy instead, and the break-even points."""
    plat = rep.get("platforms")
    if not plat:
        return []
    dyn = rep["energy"]["total"] / PJ_PER_UJ
    tot = rep.get("energy_with_static") or {}

    def be(x):
        return "never (neuron updates alone cost more)" if x is None else (
            f"{x:.3g}x today's synops" if x < 1 else "already below")

    rows = []
    for p in plat["platforms"]:
        e, t = p["energy_uj"], p["latency_ms"]
        rows.append([p["platform"], f"{e['median']:.3g} ({e['min']:.3g} .. {e['max']:.3g})",
                     f"{t['median']:.3g} ({t['min']:.3g} .. {t['max']:.3g})",
                     "-" if p["energy_at_rate_uj"] is None else f"{p['energy_at_rate_uj']:.4g}",
                     be(p["break_even_synops"])])
    b = plat.get("bound_45nm")
    if b:
        rows.append(["45 nm bound (8-bit MACs + SRAM; a bound, not a chip)",
                     f"{b['total_pj'] / PJ_PER_UJ:.3g}", "-", "-", be(b["break_even_synops"])])
    lines = ["## The same network on the chips a user would buy instead", "",
             f"The network as a dense ANN: {plat['network_macs']:,.0f} MACs per inference, "
             "placed on each platform by the energy and latency per MAC it measured on "
             "MLPerf's reference models (median, and the range across them: per-MAC cost "
             "moves about 3x with layer types). This network on this profile: "
             f"{dyn:.4g} uJ dynamic per inference"
             + (f", {tot['total_at_max_pj'] / PJ_PER_UJ:.4g} uJ with static power at its "
                f"maximum rate" if tot else "")
             + (f", {tot['total_at_rate_pj'] / PJ_PER_UJ:.4g} uJ at the input rate "
                f"({tot['rate_per_s']:.3g}/s; {tot['share_of_cores_w'] * 1e3:.3g} mW if only "
                "its share of the chip's cores leaked)" if tot.get("total_at_rate_pj") else "")
             + ". Break-even: the fraction of today's synaptic ops at which its dynamic "
               "energy matches the platform.", ""]
    lines += _table(["platform", "energy uJ/inference", "latency ms",
                     "uJ/inference at the input rate (idle power in)", "break-even"], rows)
    return lines + ["", "MLPerf Tiny energies cover active inference only (sleep between "
                    "frames is left out); the Jetson figure is the whole developer kit at the "
                    "wall. Sources: each platform's profile file.", ""]


def _measured_md(rep: dict) -> list[str]:
    """Estimate beside what a run on the chip measured (``--measured``)."""
    m = rep.get("measured")
    if not m:
        return []
    run = m["run"]
    lines = ["## Estimate against the measured run", "",
             f"{run['backend']} run of {run['network']}: {run['num_steps']} steps, "
             f"{run['steps_per_inference']} per inference, {run['wall_s']:.3g} s wall.", ""]
    if not m["comparison"]:
        return lines + ["A CPU run measures no chip figures (time, power): only that Lava "
                        "ran the network.", ""]
    rows = [[r["quantity"], f"{r['measured']:.4g}",
             "-" if r["estimated"] is None else f"{r['estimated']:.4g}",
             "-" if r["error"] is None else f"{100 * r['error']:+.1f} %"]
            for r in m["comparison"]]
    return lines + _table(["quantity", "measured", "estimated", "error"], rows) + [""]


def render_markdown(rep: dict) -> str:
    """Markdown tables of a report built by :func:`mskd.profiling.report.build_report`."""
    lines = [f"# Profile of `{rep['network']}` on {rep['profile']['name']}", "",
             rep["profile"]["description"], ""] + _provenance_md(rep)
    if rep["assumptions"]:
        lines += ["**Assumed figures** (not published for this chip; see the profile file):",
                  ""] + [f"- `{a['figure']}`: {a['source']}" for a in rep["assumptions"]] + [""]
    lines += ["## Summary", ""] + _summary_md(rep) + ["", "## Per layer (per inference)", ""]
    lines += _layers_md(rep) + [""] + _time_md(rep) + ["## Core mapping", ""]
    lines += _mapping_md(rep) + ["", "## Energy by operation (per inference)", ""]
    kinds = rep["energy"]["by_kind"]
    total = max(rep["energy"]["total"], 1e-30)
    lines += _table(["operation", "energy uJ", "share"],
                    [[k, f"{v / PJ_PER_UJ:.4g}", _pct(v / total)] for k, v in kinds.items()]
                    + [["**total**", f"**{rep['energy']['total'] / PJ_PER_UJ:.4g}**", "100 %"]])
    lines += [""] + _sensitivity_md(rep) + _widths_md(rep)
    lines += ["## Comparison with ANNs", ""] + _comparison_md(rep["comparison"])
    lines += [""] + _platforms_md(rep) + _measured_md(rep)
    lines += [""] + _neurobench_md(rep.get("neurobench"))
    lines += ["## Definitions", "", f"- active neuron: {rep['counts']['active_definition']}",
              *DEFINITIONS, ""]
    return "\n".join(lines)

"""``mskd summary NET``: a deployed network's layer table and its design-rule margins.

Like netx's layer table or ``akida summary``: one row per layer of the file (type, Lava
neuron model, shape, neurons, synapses, weight bits and exponent, decays, threshold,
whether it sends graded messages), the cores each hardware profile needs, and for every
design rule of :mod:`mskd.chip.rules` the fullest core's value against the limit. A
layer at 100 % of a limit is warned about (no headroom: that limit decides how the layer
is split onto cores), and one within 5 % of it; a broken rule is a row, not a crash
(Loihi 1 refuses every graded layer by rule ``graded_spikes``).

Weight exponent: what Lava applies after accumulating (netx's ``optimize_weight_bits``
for dense layers, :func:`mskd.loihi.lif.netx_optimize`); conv weights run raw (exponent 0).

>>> import numpy as np
>>> from mskd.net.spec import DenseLayer, InputLayer, NetSpec
>>> from mskd.loihi.neurons import LifNeuron
>>> lif = LifNeuron(4096, 128, 100)
>>> spec = NetSpec((InputLayer((20,), lif), DenseLayer(20, 3, np.ones((3, 20), np.int64), lif)))
>>> s = summarize_net(spec, ("loihi1",))
>>> [(r["index"], r["type"], r["neurons"], r["synapses"]) for r in s["layers"]]
[(0, 'input', 20, 0), (1, 'dense', 3, 60)]
>>> s["layers"][1]["weight_bits"], s["layers"][1]["weight_exp"]
(2, -7)
>>> s["profiles"]["loihi1"]["rules"][0]
{'layer': 0, 'rule': 'neurons_per_core', 'value': 20, 'limit': 1024, 'share': 0.01953125}
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from mskd.net.spec import ConvLayer, DenseLayer, InputLayer, NetSpec, kind

#: The fullest core's value and the limit behind each per-layer design rule, by rule name
#: (the same names as :data:`mskd.chip.rules.DESIGN_RULES`; a test keeps them in step).
RULE_VALUES: dict[str, tuple[Callable, Callable]] = {
    "neurons_per_core": (lambda lm: max(c.neurons for c in lm.cores), lambda lim: lim.neurons),
    "synapse_memory_per_core": (lambda lm: max(c.synapse_bits for c in lm.cores),
                                lambda lim: lim.synapse_memory_bits),
    "synapses_per_core": (lambda lm: max(c.synapses for c in lm.cores),
                          lambda lim: lim.synapses),
    "synapse_words_per_core": (lambda lm: max((c.words or 0) for c in lm.cores) or None,
                               lambda lim: lim.synapse_words),
    "fan_in_axons": (lambda lm: max(c.fan_in_axons for c in lm.cores),
                     lambda lim: lim.fan_in_axons),
    "fan_out_axons": (lambda lm: max(c.fan_out_axons for c in lm.cores),
                      lambda lim: lim.fan_out_axons),
    "weight_bits": (lambda lm: lm.weight_bits or None, lambda lim: lim.weight_bits_max),
    "graded_spikes": (lambda lm: _message_bits() if lm.graded else None,
                      lambda lim: lim.graded_spike_bits_max or 0),
}
NETWORK_RULES = ("chips",)
NEAR_LIMIT = 0.95  # a share of a limit from which a layer is said to be near it


def _message_bits() -> int:
    from mskd.loihi.sdn import MESSAGE_BITS

    return MESSAGE_BITS


def _weight_exp(layer) -> int | None:
    if isinstance(layer, ConvLayer):
        return 0  # netx runs conv weights raw
    if isinstance(layer, DenseLayer):
        from mskd.loihi.lif import netx_optimize

        w = layer.weight if layer.weight_rec is None else np.concatenate(
            [layer.weight, layer.weight_rec], axis=1)
        return int(netx_optimize(w)[2])
    return None


def _neuron_fields(layer, model: str) -> dict:
    n = getattr(layer, "neuron", None)
    if n is None:
        return {"model": "none (input spikes)" if isinstance(layer, InputLayer) else "-"}
    out = {"model": model, "neuron_type": n.kind, "vth_mant": n.vth_mant,
           "graded_out": bool(n.graded_out)}
    if n.kind == "CUBA":
        from mskd.loihi.neurons import LIF_VTH_MAX

        out.update(i_decay=n.i_decay, v_decay=n.v_decay, default_neuron=n.default,
                   never_spikes=n.vth_mant >= LIF_VTH_MAX - 1)
    return out


def layer_rows(spec: NetSpec, mappings: dict) -> list[dict]:
    """One dict per layer of the file (see the module docstring)."""
    from mskd.chip.synapses import weight_bits

    rows, prev = [], None
    for i, layer in enumerate(spec.layers):
        in_shape = tuple(getattr(layer, "in_shape", ())) or prev
        model = spec.model(i) if getattr(layer, "neuron", None) is not None else "-"
        lm = next((m.layer(i) for m in mappings.values()
                   if any(x.index == i for x in m.layers)), None)
        row = {"index": i, "type": kind(layer), "in_shape": list(in_shape or ()),
               "out_shape": list(layer.out_shape),
               "neurons": lm.neurons if lm is not None else 0,
               "synapses": lm.synapses if lm is not None else 0,
               **_neuron_fields(layer, model)}
        if isinstance(layer, (ConvLayer, DenseLayer)):
            w = layer.weight
            row.update(weight_bits=weight_bits(layer), weight_min=int(w.min()),
                       weight_max=int(w.max()), weight_exp=_weight_exp(layer),
                       bias=layer.bias is not None, graded_in=spec.graded_input(i))
            if isinstance(layer, DenseLayer):
                row.update(recurrent=layer.weight_rec is not None,
                           delays=layer.delay is not None and bool(np.any(layer.delay)))
            else:
                row.update(stride=list(layer.stride), padding=list(layer.padding),
                           groups=layer.groups)
        rows.append(row)
        prev = layer.out_shape
    return rows


def rule_margins(mapping) -> list[dict]:
    """Per layer and rule: the fullest core's value, the limit and the share used; a
    network row per chip rule."""
    lim = mapping.limits
    out = []
    for lm in mapping.layers:
        for rule, (value, limit) in RULE_VALUES.items():
            v, top = value(lm), limit(lim)
            if v is None or top is None:
                continue
            share = v / top if top else None  # None: the chip has none (graded spikes)
            out.append({"layer": lm.index, "rule": rule, "value": int(v), "limit": int(top),
                        "share": share})
    if lim.max_chips is not None:
        out.append({"layer": None, "rule": "chips", "value": mapping.chips,
                    "limit": lim.max_chips, "share": mapping.chips / lim.max_chips})
    return out


def _profile(spec: NetSpec, name: str) -> tuple[dict, object]:
    from mskd.hw_profiles import load_profile

    from mskd.chip.mapping import map_network
    from mskd.chip.rules import check_rules

    mapping = map_network(spec, load_profile(name), check=False)
    violations = check_rules(mapping)
    margins = rule_margins(mapping)
    return {"total_cores": mapping.total_cores, "chips": mapping.chips,
            "cores": {lm.index: lm.n_cores for lm in mapping.layers},
            "rules": margins,
            "at_limit": [m for m in margins if m["share"] == 1.0 and m["layer"] is not None],
            "near_limit": [m for m in margins if m["share"] is not None and m["layer"] is not None
                           and NEAR_LIMIT <= m["share"] < 1.0],
            "violations": [{"rule": v.rule, "layer": v.layer, "core": v.core,
                            "value": v.value, "limit": v.limit, "message": v.message()}
                           for v in violations]}, mapping


def summarize_net(spec: NetSpec, profiles: Sequence[str] = ("loihi1", "loihi2"),
                  encoding=None) -> dict:
    """The JSON-ready summary of ``spec`` on each profile (nothing raised for a broken
    rule: it is listed under ``violations``)."""
    results, mappings = {}, {}
    for name in profiles:
        results[name], mappings[name] = _profile(spec, name)
    return {"input": {"kind": spec.input_kind, "shape": list(spec.input_shape),
                      "message_bits": spec.input_message_bits},
            "encoding": None if encoding is None else encoding.to_json(),
            "layers": layer_rows(spec, mappings), "profiles": results,
            "warnings": warnings(results)}


def warnings(results: dict) -> list[str]:
    """One line per layer that sits at a limit, and per broken rule."""
    lines = []
    for name, r in results.items():
        for m in r["at_limit"]:
            where = "the network" if m["layer"] is None else f"layer {m['layer']}"
            lines.append(f"{name}: {where} sits at the {m['rule']} limit ({m['value']:,} of "
                         f"{m['limit']:,} on its fullest core): no headroom; this limit "
                         "decides how the layer is split onto cores")
        for m in r.get("near_limit", []):
            lines.append(f"{name}: layer {m['layer']} is within {100 * (1 - NEAR_LIMIT):.0f} % "
                         f"of the {m['rule']} limit ({m['value']:,} of {m['limit']:,}, "
                         f"{100 * m['share']:.1f} %, on its fullest core)")
        lines += [f"{name}: {v['message']}" for v in r["violations"]]
    return lines

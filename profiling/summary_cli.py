"""``mskd summary NET [--json]``: a thin command over
:func:`mskd.profiling.net_summary.summarize_net`.

Prints the layer table, the cores per profile, the design-rule margins (the fullest core's
share of each per-core limit) and the warnings; ``--json`` prints the same as JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from mskd.config import config_option


def _shape(s) -> str:
    return "x".join(str(v) for v in s) if s else "-"


def _weights(r: dict) -> str:
    if "weight_bits" not in r:
        return "-"
    return f"{r['weight_bits']} b [{r['weight_min']}, {r['weight_max']}]"


def _neuron(r: dict) -> str:
    if "i_decay" in r:
        text = f"iDecay {r['i_decay']} vDecay {r['v_decay']}"
        return text + (" (netx default)" if r.get("default_neuron") else "")
    return r["model"]


def _threshold(r: dict) -> str:
    if "vth_mant" not in r:
        return "-"
    if r.get("never_spikes"):
        return f"{r['vth_mant']:,} (never spikes)"
    return f"{r['vth_mant']:,}"


def _rule_cell(m: dict) -> str:
    if m["share"] is None:
        return f"{m['value']} / none: BROKEN"
    mark = " BROKEN" if m["share"] > 1 else (" AT LIMIT" if m["share"] == 1 else "")
    # rounded down, so a share below a limit never reads as the limit (99.9 %, not 100 %)
    pct = f"{int(100 * m['share'])}" if m["share"] < 0.95 or m["share"] >= 1 else \
        f"{int(1000 * m['share']) / 10:.1f}"
    return f"{m['value']:,}/{m['limit']:,} ({pct} %){mark}"


def render(summary: dict, title: str) -> list:
    """Rich tables (layers; one margin table per profile) for ``summary``."""
    from rich.table import Table

    profiles = summary["profiles"]
    layers = Table(title=f"{title} (input: {summary['input']['kind']}, "
                         f"{_shape(summary['input']['shape'])})")
    for col in ("#", "type", "model", "in -> out", "neurons", "synapses", "weights (bits, "
                "range)", "exp", "neuron", "vThMant", *[f"cores {p}" for p in profiles]):
        layers.add_column(col, justify="right" if col in ("#", "neurons", "synapses", "exp")
                          else "left")
    for r in summary["layers"]:
        graded = " graded" if r.get("graded_out") else ""
        cores = [str(p["cores"].get(r["index"], "-")) for p in profiles.values()]
        layers.add_row(str(r["index"]), r["type"], r["model"] + graded,
                       f"{_shape(r['in_shape'])} -> {_shape(r['out_shape'])}",
                       f"{r['neurons']:,}", f"{r['synapses']:,}", _weights(r),
                       "-" if r.get("weight_exp") is None else str(r["weight_exp"]),
                       _neuron(r), _threshold(r), *cores)
    layers.add_row("", "total", "", "", f"{sum(r['neurons'] for r in summary['layers']):,}",
                   f"{sum(r['synapses'] for r in summary['layers']):,}", "", "", "", "",
                   *[f"{p['total_cores']} ({p['chips']} chip)" for p in profiles.values()])
    out = [layers]
    for name, p in profiles.items():
        rules = list(dict.fromkeys(m["rule"] for m in p["rules"]))
        t = Table(title=f"{name}: design rules, fullest core / limit")
        t.add_column("layer")
        for rule in rules:
            t.add_column(rule)
        by_layer: dict = {}
        for m in p["rules"]:
            by_layer.setdefault(m["layer"], {})[m["rule"]] = _rule_cell(m)
        for layer, cells in by_layer.items():
            t.add_row("network" if layer is None else str(layer),
                      *[cells.get(rule, "-") for rule in rules])
        out.append(t)
    return out


def register(app: typer.Typer) -> None:
    """Add ``mskd summary`` to ``app``."""

    @app.command("summary", help="Per-layer table of a netx network (type, shape, neurons, "
                                 "synapses, weights, decays, threshold), its cores on each "
                                 "profile and every design rule's margin, with warnings.")
    def summary(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network (.net)."),
        profile: list[str] = typer.Option(
            None, "--profile", metavar="[loihi1|loihi2|PATH.toml]",
            help="Hardware profile(s) to map onto (repeat; default: loihi1 and loihi2)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
        input_shape: str = typer.Option(None, "--input-shape", help="Input shape C,H,W (or "
                                        "N) of a file without an input layer."),
        input_message_bits: int = typer.Option(None, "--input-message-bits", min=0,
                                               help="Payload bits of a graded network input "
                                                    "(0: binary spikes; default: the width "
                                                    "the file records, else 0)."),
    ) -> None:
        from mskd.profiling.net_summary import summarize_net

        from mskd.config import read_options
        from mskd.errors import NetError
        from mskd.net.encoding import read_encoding
        from mskd.net.netx_io import read_netx

        spec = read_netx(net, **read_options(input_shape, input_message_bits))
        try:
            enc = read_encoding(net)
        except NetError:
            enc = None
        result = summarize_net(spec, tuple(profile) if profile else ("loihi1", "loihi2"), enc)
        if as_json:
            typer.echo(json.dumps({"network": str(net), **result}, indent=2))
            return
        from rich.console import Console

        console = Console(width=max(Console().width, 150))
        for table in render(result, str(net)):
            console.print(table)
        for line in result["warnings"]:
            console.print(f"[yellow]warning[/]: {line}", highlight=False)

"""The convert report: one JSON document and the same facts as Markdown tables.

``report`` dict keys (all optional except ``network``): ``network`` (layer rows),
``encoding``, ``weights`` (:func:`mskd.convert.quant_report.weight_report`), ``calibration``
and ``evaluation`` (:func:`mskd.convert.quant_report.compare_on_data`), ``mapping``
(:func:`mskd.convert.fit_check.map_profiles`), ``checks`` (e.g. ONNX results),
``fidelity`` (a NIR import: :func:`mskd.convert.nir.fidelity.fidelity`), ``graded_input``
(a NIR import with analog input: :mod:`mskd.loihi.graded`).
Both files are written atomically (:mod:`mskd.fsio`).

>>> md = to_markdown({"network": [{"index": 0, "kind": "input", "shape": [1, 2, 2],
...                                "neurons": 4}]})
>>> print(md.splitlines()[6])
| 0 | input | [1, 2, 2] | 4 |
"""

from __future__ import annotations

import math
from pathlib import Path

from mskd.fsio import write_json, write_text
from mskd.net.spec import NetSpec, kind

JSON_NAME, MD_NAME = "convert_report.json", "convert_report.md"


def network_rows(spec: NetSpec) -> list[dict]:
    """One row per layer: index, netx kind, output shape, neurons (0 for flatten)."""
    rows = []
    for i, layer in enumerate(spec.layers):
        neurons = 0 if kind(layer) == "flatten" else math.prod(layer.out_shape)
        rows.append({"index": i, "kind": kind(layer), "shape": list(layer.out_shape),
                     "neurons": neurons})
    return rows


def _fmt(v) -> str:
    if isinstance(v, float):
        return "inf" if math.isinf(v) else f"{v:.4g}"
    return str(v)


def _table(rows: list[dict], cols: list[str]) -> list[str]:
    if not rows:
        return ["(none)"]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_fmt(r.get(c, "")) for c in cols) + " |" for r in rows]
    return out


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


DIVERGENCE_NOTE = (
    "Spike agreement: the share of (clip, step, neuron) where the float student (float "
    "weights and neuron arithmetic, `convert/float_ref.py`) and the deployed integer network "
    "send the same spike. It measures what quantization changes, layer by layer; the first "
    "divergence is the first layer whose agreement drops below {tol}, where the two start to "
    "part. It is not a bug report: `mskd deploy verify` is the exactness check (simulator vs "
    "Lava on the same integer network, which must be bit-exact).")


def _accuracy(name: str, cmp: dict) -> list[str]:
    tol = _pct(1 - cmp["divergence_tol"])
    lines = [f"## {name}", "", f"{cmp['clips']} clips; first divergence (spike agreement "
             f"float vs deployed < {tol}): {cmp['first_divergence'] or 'none'}", ""]
    if "ccc_drop" in cmp:  # dimensional: per-frame valence and arousal
        acc = [{"network": k, "CCC": f"{cmp[k]['ccc']:.3f}",
                **{f"{d} {m}": f"{cmp[k][d][m]:.3f}" for d in ("valence", "arousal")
                   for m in ("ccc", "pcc", "rmse")}}
               for k in ("float", "fixed", "deployed") if k in cmp]
        cols = ["network", "CCC"] + [f"{d} {m}" for d in ("valence", "arousal")
                                     for m in ("ccc", "pcc", "rmse")]
        lines += _table(acc, cols)
        lines += ["", f"CCC drop float -> deployed: {cmp['ccc_drop']:.3f}", ""]
    else:
        acc = [{"network": k, "WAR": _pct(cmp[k]["war"]), "UAR": _pct(cmp[k]["uar"])}
               for k in ("float", "fixed", "deployed") if k in cmp]
        lines += _table(acc, ["network", "WAR", "UAR"])
        lines += ["", f"WAR drop float -> deployed: {cmp['war_drop_points']:.2f} points; "
                  f"UAR drop: {cmp['uar_drop_points']:.2f} points", ""]
    rows = [{"layer": r["layer"], "spike agreement": _pct(r["spike_agreement"]),
             "float spike rate": _pct(r["float_rate"]),
             "deployed spike rate": _pct(r["deployed_rate"])} for r in cmp["layers"]]
    return lines + _table(rows, ["layer", "spike agreement", "float spike rate",
                                 "deployed spike rate"]) + [
        "", DIVERGENCE_NOTE.format(tol=tol), ""]


def _fidelity(fid: dict) -> list[str]:
    from mskd.convert.nir.fidelity import GOOD, POOR

    lines = ["## Fidelity", "", f"**{fid['line']}**", "",
             f"Reference: {fid['reference']}; deployed: the written network in the "
             f"simulator. Inputs: {fid['inputs']}. Output class: {fid['class_by']}. "
             "Deployed layer k answers k steps after the input (one step per synapse): "
             "compared with that lag removed.", ""]
    rows = [{"layer": r["layer"], "synapse": r["synapse"],
             "float spikes": r["float_spikes"] if r["threshold"] is not None else "readout",
             "deployed spikes": r["deployed_spikes"] if r["threshold"] is not None else "",
             "ratio": "" if r["spike_ratio"] is None else f"{r['spike_ratio']:.4f}",
             "same step": "" if r["same_step"] is None else _pct(r["same_step"]),
             "exponent": r["weight_exp"], "weights": r["weights"], "zeroed": r["zeroed"],
             "clipped": r["clipped"]} for r in fid["layers"]]
    lines += _table(rows, ["layer", "synapse", "float spikes", "deployed spikes", "ratio",
                           "same step", "exponent", "weights", "zeroed", "clipped"])
    return lines + ["", f"Verdict: GOOD when every spike ratio is within "
                    f"{GOOD['ratio'][0]}-{GOOD['ratio'][1]}, class agreement >= "
                    f"{_pct(GOOD['agreement'])} and every spiking layer sends at least one "
                    f"float spike per input; POOR when a layer is silent, a ratio is outside "
                    f"{POOR['ratio'][0]}-{POOR['ratio'][1]} or class agreement < "
                    f"{_pct(POOR['agreement'])}; FAIR otherwise. Zeroed: non-zero weights "
                    "that rounded to 0 at the layer's exponent (weights are `round(w 2**e)`).",
                    ""]


def _mapping(mapping: dict) -> list[str]:
    lines = ["## Core mapping", ""]
    for prof, m in mapping.items():
        lines += [f"### {prof}: {m['total_cores']} cores on {m['chips']} chip(s)", ""]
        rows = [{k: lm[k] for k in ("index", "kind", "neurons", "synapses", "weight_bits",
                                    "n_cores")} for lm in m["layers"]]
        lines += _table(rows, ["index", "kind", "neurons", "synapses", "weight_bits",
                               "n_cores"]) + [""]
    return lines + ["Synapses are counts (every input-output pair under a conv kernel); "
                    "`mskd summary NET` shows each design rule's margin per layer.", ""]


def to_markdown(report: dict) -> str:
    """The report as Markdown (sections only for the keys present)."""
    lines = ["# Convert report", "", "## Network", ""]
    lines += _table(report["network"], ["index", "kind", "shape", "neurons"]) + [""]
    if "encoding" in report:
        lines += ["## Input encoding", "", "```json", str(report["encoding"]), "```", ""]
    if "conventions" in report:  # a NIR import: how the graph was read
        c = report["conventions"]
        lines += ["## Source conventions", "",
                  f"Read as `{c['from']}` (checked against {c['checked_against']}); time step "
                  f"{c['dt']:g}{' (steps)' if c['from'] == 'sinabs' else ' s'}, chosen by "
                  f"{c['chosen_by']}; source neurons: {c['reset']} "
                  f"reset, {c['spikes']} spike(s) per step.", ""]
        if report.get("approximations"):
            lines += ["## Approximations (`--approximate`)", ""]
            lines += _table(report["approximations"], ["node", "semantic", "how"]) + [""]
        else:
            lines += ["Nothing was approximated.", ""]
    if "graded_input" in report:  # a NIR import with analog input (mskd.loihi.graded)
        lines += ["## Graded input", "", f"Input {report['graded_input']['payload']} into "
                  "the first synapse (recorded in the file as `mskd_graded_input`).", ""]
    if "fidelity" in report:
        lines += _fidelity(report["fidelity"])
    if "weights" in report:
        lines += ["## Weight quantization", ""]
        rows = [{**w, "clipped": _pct(w["clipped_fraction"])} for w in report["weights"]]
        lines += _table(rows, ["layer", "exponent", "float_min", "float_max", "int_min",
                               "int_max", "clipped", "sqnr_db"]) + [""]
    for key, title in (("calibration", "Calibration data"), ("evaluation", "Evaluation data")):
        if key in report:
            lines += _accuracy(title, report[key])
    if "mapping" in report:
        lines += _mapping(report["mapping"])
    if "checks" in report:
        lines += ["## Checks", ""] + _table(report["checks"], ["check", "result"]) + [""]
    if "provenance" in report:
        from mskd.provenance import versions_line

        p = report["provenance"]
        lines += [f"Written {p['created_utc']} UTC in {p['wall_seconds']:.1f} s by "
                  f"{versions_line(p['versions'])}.", ""]
    return "\n".join(lines)


def _json_safe(x):
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_safe(v) for v in x]
    return x


def write_reports(report_dir: str | Path, report: dict) -> tuple[Path, Path]:
    """Write ``convert_report.json`` and ``convert_report.md`` into ``report_dir``."""
    d = Path(report_dir)
    return (write_json(d / JSON_NAME, _json_safe(report)),
            write_text(d / MD_NAME, to_markdown(report) + "\n"))

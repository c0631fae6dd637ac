"""``summary.md`` of a demo run, and the few lines the demo ends with in the terminal.

Everything here is read from the stages' own records (``stage.json``, ``eval.json``,
``verify.json``, the convert and profile reports), so a re-run that skips every stage
writes the same facts, with each stage's wall time as it was when it ran.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

from mskd.fsio import write_text

PJ_PER_UJ = 1e6
NS_PER_MS = 1e6
PLOT_NAMES = ("activity", "energy", "raster", "steps")


def _load(path: Path) -> dict:
    return json.loads(path.read_text())


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def machine() -> str:
    """A one-line description of this machine (CPU model, cores, Python)."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def _rel(path: Path, out: Path) -> str:
    try:
        return str(Path(path).relative_to(out))
    except ValueError:
        return str(path)


def _accuracy_rows(evals: dict, conversion: dict) -> list[str]:
    ev = conversion.get("evaluation", {})
    rows = [("teacher (events + frames, float)", evals["teacher"]),
            ("MSKD student, fixed-point forward in PyTorch", evals["student"]),
            ("MSKD student, float weights and neurons", ev.get("float")),
            ("MSKD student deployed (netx HDF5 on the simulator)", ev.get("deployed"))]
    if evals["teacher"].get("task") == "dimensional":  # valence and arousal per frame
        lines = ["| model | CCC mean | CCC valence | CCC arousal |", "|---|---|---|---|"]
        for name, m in rows:
            cells = [f"{m['ccc']:.3f}", f"{m['valence']['ccc']:.3f}",
                     f"{m['arousal']['ccc']:.3f}"] if m else ["-"] * 3
            lines.append(f"| {name.replace('MSKD', 'distilled')} | " + " | ".join(cells) + " |")
        return lines
    lines = ["| model | WAR % | UAR % |", "|---|---|---|"]
    for name, m in rows:
        lines.append(f"| {name} | {_pct(m and m['war'])} | {_pct(m and m['uar'])} |")
    return lines


def _verify_lines(verify: dict) -> list[str]:
    inputs = verify.get("inputs") or f"{verify['samples']} test clips"
    if verify.get("bit_exact"):
        what = ("graded messages and sigma, act and residue registers" if "residue" in
                verify.get("verdict", "") else "spikes, u and v")
        return [f"Simulator vs Lava (`Loihi2SimCfg(select_tag='fixed_pt')`) on {inputs}, "
                f"{verify['steps']} steps each: **bit-exact** in {what} of every "
                "layer. (This is `mskd deploy verify`; the convert report's 'first divergence' "
                "is another measure: where the float student and the deployed integer network "
                "stop spiking alike.)"]
    return [f"Simulator vs Lava: **diverged**: {verify.get('verdict')}"]


def _profile_rows(reports: dict[str, dict]) -> list[str]:
    lines = ["| profile | cores / chips | dynamic energy per inference (uJ) | with static power "
             "(uJ) | latency per inference (ms) | throughput (inf/s) | assumed figures |",
             "|---|---|---|---|---|---|---|"]
    for name, rep in reports.items():
        lat, m = rep["latency"], rep["mapping"]
        tot = rep.get("energy_with_static")
        lines.append(f"| {name} | {m['total_cores']} / {m['chips']} | "
                     f"{rep['energy']['total'] / PJ_PER_UJ:.4g} | "
                     f"{'-' if not tot else format(tot['total_at_max_pj'] / PJ_PER_UJ, '.4g')} | "
                     f"{lat['inference_ns_mean'] / NS_PER_MS:.4g} | "
                     f"{lat['throughput_per_s']:,.0f} | {len(rep['assumptions'])} |")
    return lines


def platform_verdicts(reports: dict[str, dict]) -> list[str]:
    """The student against the chips a user would buy instead, one verdict per platform
    (the same table and wording as the profile report)."""
    name, rep = next(((n, r) for n, r in reports.items() if r.get("platforms")), (None, None))
    if rep is None:
        return []
    snn = rep["energy"]["total"] / PJ_PER_UJ
    plat = rep["platforms"]
    rows = ["| platform | energy per inference (uJ): median (range over reference models) | "
            "verdict |", "|---|---|---|"]
    entries = [(p["platform"], p["energy_uj"], p["break_even_synops"])
               for p in plat["platforms"]]
    if plat.get("bound_45nm"):
        b = plat["bound_45nm"]
        e = b["total_pj"] / PJ_PER_UJ
        entries.append(("45 nm bound (a bound, not a chip)", {"median": e, "min": e, "max": e},
                        b["break_even_synops"]))
    for label, e, be in entries:
        ratio = e["median"] / snn
        if ratio >= 1:
            verdict = f"the student costs {ratio:.3g}x less"
        elif be is None:
            verdict = (f"the student costs {1 / ratio:.3g}x more and cannot match it (its "
                       "neuron updates alone cost more)")
        else:
            verdict = (f"the student costs {1 / ratio:.3g}x more; it matches at {be:.2g}x "
                       "today's synaptic ops")
        rows.append(f"| {label} | {e['median']:.3g} ({e['min']:.3g} .. {e['max']:.3g}) | "
                    f"{verdict} |")
    return [f"The same network as a dense ANN ({plat['network_macs']:,.0f} MACs per "
            f"inference) on the chips a user would buy instead, against its {snn:.4g} uJ "
            f"dynamic on {name} (MLPerf measurements scaled by MACs; see the profile's "
            "report.md):", "", *rows, ""]


def latency_note(reports: dict[str, dict]) -> list[str]:
    """Why one profile is slower than another on the same network, from the reports."""
    if not {"loihi1", "loihi2"} <= set(reports):
        return []
    a, b = reports["loihi1"], reports["loihi2"]
    ta, tb = (r["latency"]["inference_ns_mean"] / NS_PER_MS for r in (a, b))
    crit = {n: max(r["critical_layers"], key=lambda c: c["critical_share"])
            for n, r in (("loihi1", a), ("loihi2", b)) if r.get("critical_layers")}
    where = ""
    if len(crit) == 2:
        c1, c2 = crit["loihi1"], crit["loihi2"]
        where = (f" The step time is the slowest core's: on Loihi 2 that is layer "
                 f"{c2['layer']}'s core with {c2['max_core_neurons']:,} neurons, on Loihi 1 "
                 f"layer {c1['layer']}'s with {c1['max_core_neurons']:,}.")
    faster = "faster" if tb < ta else "slower"
    return [f"Loihi 2 is {faster} here ({tb:.3g} vs {ta:.3g} ms per inference): its profile "
            f"uses Intel's Loihi 2 time constants and packs up to "
            f"{b['mapping']['limits']['neurons']:,} neurons per core (Loihi 1: "
            f"{a['mapping']['limits']['neurons']:,}, pre-silicon per-op times), so the "
            f"network needs {b['mapping']['total_cores']} cores instead of "
            f"{a['mapping']['total_cores']}.{where}", ""]


def _copy_plots(out: Path, profile: Path, names: tuple[str, ...]) -> list[tuple[str, str]]:
    """Copy the profile PNGs beside the summary; a plot whose PNG is byte-identical for
    every profile is copied once. Returns ``(file, caption)`` pairs."""
    for old in out.glob("*.png"):  # plots of earlier runs (other names, profiles)
        if old.stem in PLOT_NAMES or old.stem.split("-", 1)[-1] in PLOT_NAMES:
            old.unlink()
    found = []
    for plot in PLOT_NAMES:
        pngs = {n: profile / n / f"{plot}.png" for n in names
                if (profile / n / f"{plot}.png").is_file()}
        blobs = {n: p.read_bytes() for n, p in pngs.items()}
        if len(set(blobs.values())) == 1 and len(blobs) > 1:
            target = out / f"{plot}.png"
            target.write_bytes(next(iter(blobs.values())))
            found.append((target.name, f"{plot} ({' and '.join(blobs)}: identical)"))
            continue
        for n, blob in blobs.items():
            target = out / f"{n}-{plot}.png"
            target.write_bytes(blob)
            found.append((target.name, f"{plot} on {n}"))
    return found


def _stage_rows(out: Path, folders: dict[str, Path], skipped: list[str]) -> list[str]:
    lines = ["| stage | wall time s | finished (UTC) | this invocation |", "|---|---|---|---|"]
    for name, folder in folders.items():
        meta = _load(folder / "stage.json")
        lines.append(f"| {name} | {meta.get('seconds', 0):.1f} | {meta.get('finished_utc', '?')} "
                     f"| {'reused' if name in skipped else 'ran'} |")
    return lines


def _confusion(out: Path, evals: dict, classes) -> list[str]:
    """The student's confusion plot; for a dimensional student its CCC per lighting."""
    from mskd.profiling.plots import plot_confusion

    if evals["student"].get("task") == "dimensional":
        per = evals["student"]["per_lighting"]
        return ["| lighting | frames | CCC valence | CCC arousal | RMSE valence | RMSE arousal |",
                "|---|---|---|---|---|---|",
                *[f"| {k} | {m['frames']} | {m['valence']['ccc']:.3f} | "
                  f"{m['arousal']['ccc']:.3f} | {m['valence']['rmse']:.3f} | "
                  f"{m['arousal']['rmse']:.3f} |" for k, m in per.items()], "",
                "Per lighting: the student's fixed-point forward (which the deployed network "
                "equals bit for bit), per-frame valence and arousal."]

    conf = evals["student"]["confusion"]
    views = evals["student"]["views"]
    path = plot_confusion(conf, classes, out / "confusion.png",
                          f"MSKD student, {views} view{'s' * (views != 1)} of the test split")
    return [f"![confusion]({path.name})", "",
            "Rows are the true emotion, columns the predicted one (count and share of the "
            "row); the student's fixed-point forward, which the deployed network equals bit "
            "for bit."]


def write_summary(out: Path, settings: dict, folders: dict[str, Path], *,
                  invocation_seconds: float, skipped: list[str],
                  profiles: tuple[str, ...] = ("loihi1", "loihi2")) -> Path:
    """Write ``out/summary.md`` (and the plots beside it) from the stage folders."""
    from mskd.net.encoding import read_encoding
    from mskd.provenance import versions, versions_line

    out = Path(out)
    net = folders["convert"] / "student.net"
    conversion = _load(folders["convert"] / "report" / "convert_report.json")
    evals = _load(folders["eval"] / "eval.json")
    reports = {n: _load(folders["profile"] / n / "report.json") for n in profiles}
    plots = _copy_plots(out, folders["profile"], profiles)
    compute = sum(_load(f / "stage.json").get("seconds", 0) for f in folders.values())
    lines = [f"# mskd demo ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC)", "",
             f"Machine: {machine()}. Versions: {versions_line(versions())}.", "",
             f"Compute time of the stages behind these results: {compute:.0f} s (each stage's "
             f"wall time when it ran, below). This invocation: {invocation_seconds:.0f} s, "
             f"{len(skipped)} of {len(folders)} stages reused unchanged.", "",
             f"Files (under `{out}`): data `{_rel(folders['data'] / 'see', out)}`; teacher "
             f"`{_rel(folders['teacher'] / 'checkpoint.safetensors', out)}`; student "
             f"`{_rel(folders['student'] / 'checkpoint.safetensors', out)}`; deployed "
             f"`{_rel(net, out)}`.", "",
             "## Accuracy on the test split", "", *_accuracy_rows(evals, conversion), "",
             *_confusion(out, evals, read_encoding(net).classes), "",
             "## Exactness", "", *_verify_lines(_load(folders["verify"] / "verify.json")), "",
             "## Cost on the chip (estimates from hw_profiles; Loihi 2's built from Intel's "
             "measurements and checked against them in the docs' Loihi 2 validation)", "",
             *_profile_rows(reports), "", *latency_note(reports), *platform_verdicts(reports),
             "Each profile's `report.md` (under `profile/`) has the per-layer tables, where "
             "the time goes, and the core mapping with the share of every per-core limit.", "",
             "## Plots", "", *[f"![{cap}]({f})" for f, cap in plots], "",
             "## Stages", "", *_stage_rows(out, folders, skipped), "",
             "## Settings", "", "```json", json.dumps(settings, indent=2), "```", ""]
    return write_text(out / "summary.md", "\n".join(lines))


def closing_lines(folders: dict[str, Path], summary: Path, seconds: float,
                  skipped: list[str], profiles: tuple[str, ...] = ("loihi1", "loihi2"),
                  ) -> list[str]:
    """What the demo prints last: deployed accuracy, exactness, cost per profile, the
    summary path (once)."""
    ev = _load(folders["convert"] / "report" / "convert_report.json")["evaluation"]
    teacher = _load(folders["eval"] / "eval.json")["teacher"]
    verify = _load(folders["verify"] / "verify.json")
    dep = ev["deployed"]
    if "ccc_drop" in ev:  # dimensional
        first = (f"deployed distilled student: CCC valence {dep['valence']['ccc']:.3f}, arousal "
                 f"{dep['arousal']['ccc']:.3f} (mean {dep['ccc']:.3f}) over the frames of "
                 f"{ev['clips']} test clips (float student {ev['float']['ccc']:.3f}, teacher "
                 f"{teacher['ccc']:.3f})")
    else:
        first = (f"deployed MSKD student: WAR {_pct(dep['war'])} %, UAR {_pct(dep['uar'])} % "
                 f"on {ev['clips']} test clips (float student {_pct(ev['float']['war'])} %, "
                 f"teacher {_pct(teacher['war'])} %)")
    lines = [first,
             f"simulator vs Lava: {'bit-exact' if verify['bit_exact'] else 'DIVERGED'} on "
             f"{verify['samples']} test clip{'s' * (verify['samples'] != 1)} x "
             f"{verify['steps']} steps"]
    for name in profiles:
        rep = _load(folders["profile"] / name / "report.json")
        tot = rep.get("energy_with_static")
        static = "" if not tot else (f" ({tot['total_at_max_pj'] / PJ_PER_UJ:.4g} uJ with the "
                                     "chip's static power)")
        note = (f"; {len(rep['assumptions'])} assumed figures, see its report"
                if rep["assumptions"] else "")
        lines.append(f"{name}: {rep['energy']['total'] / PJ_PER_UJ:.4g} uJ per inference "
                     f"dynamic{static}, {rep['mapping']['total_cores']} cores, "
                     f"{rep['latency']['inference_ns_mean'] / NS_PER_MS:.3g} ms{note}")
    lines.append(f"summary: {summary} ({seconds:.0f} s; {len(skipped)} of {len(folders)} "
                 "stages reused)")
    return lines

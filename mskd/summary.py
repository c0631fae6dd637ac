"""``summary.md`` of a demo run: accuracy, exactness, mapping and energy in one page."""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from pathlib import Path

from mskd.fsio import write_text

PJ_PER_UJ = 1e6


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


def _accuracy_rows(evals: dict, conversion: dict) -> list[str]:
    ev = conversion.get("evaluation", {})
    rows = [("teacher (events + frames, float)", evals["teacher"]),
            ("MSKD student, fixed-point forward in PyTorch", evals["student"]),
            ("MSKD student, float weights and neurons", ev.get("float")),
            ("MSKD student deployed (netx HDF5 on the simulator)", ev.get("deployed"))]
    lines = ["| model | WAR % | UAR % |", "|---|---|---|"]
    for name, m in rows:
        lines.append(f"| {name} | {_pct(m and m['war'])} | {_pct(m and m['uar'])} |")
    return lines


def _verify_lines(verify: dict) -> list[str]:
    if verify.get("bit_exact"):
        return [f"Simulator vs Lava (`Loihi2SimCfg(select_tag='fixed_pt')`) on "
                f"{verify['samples']} test clips x {verify['steps']} steps: **bit-exact** in "
                "spikes, u and v of every layer."]
    return [f"Simulator vs Lava: **diverged**: {verify.get('first_divergence')}"]


def _profile_rows(profile_dir: Path, names: tuple[str, ...]) -> list[str]:
    lines = ["| profile | cores / chips | energy per inference (uJ) | latency per inference (ms)"
             " | throughput (inf/s) | assumed figures |", "|---|---|---|---|---|---|"]
    for name in names:
        rep = _load(profile_dir / name / "report.json")
        lat, m = rep["latency"], rep["mapping"]
        lines.append(f"| {name} | {m['total_cores']} / {m['chips']} | "
                     f"{rep['energy']['total'] / PJ_PER_UJ:.4g} | "
                     f"{lat['inference_ns_mean'] / 1e6:.4g} | {lat['throughput_per_s']:,.0f} | "
                     f"{len(rep['assumptions'])} |")
    cmp = rep.get("comparison") or {}
    for row in cmp.get("ann_models", []):
        lines.append(f"| {row['model']} on {cmp['ann_profile']} ({row['macs']:,.0f} MACs) | | "
                     f"{row['ann_energy_pj'] / PJ_PER_UJ:.4g} | | | |")
    return lines


def _stage_rows(out: Path) -> list[str]:
    lines = ["| stage | seconds (when last run) |", "|---|---|"]
    for meta in sorted(out.glob("*/stage.json"), key=lambda p: p.stat().st_mtime):
        lines.append(f"| {meta.parent.name} | {_load(meta).get('seconds', 0):.1f} |")
    return lines


def write_summary(out: Path, settings: dict, *, teacher: Path, student: Path, net: Path,
                  verify: Path, profile: Path, data: Path, evals: dict,
                  seconds: float, profiles: tuple[str, ...] = ("loihi1", "loihi2")) -> Path:
    """Write ``out/summary.md`` and copy the profile plots beside it."""
    conversion = _load(net.parent / "report" / "convert_report.json")
    plots = []
    for name in profiles:
        for png in sorted((profile / name).glob("*.png")):
            target = out / f"{name}-{png.name}"
            shutil.copy2(png, target)
            plots.append(target.name)
    lines = [f"# mskd demo ({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC)", "",
             f"Machine: {machine()}. Wall time of this invocation: {seconds:.0f} s "
             "(stages whose inputs were unchanged were skipped).", "",
             f"Data: `{data}`; teacher `{teacher}`; student `{student}`; deployed `{net}`.", "",
             "## Accuracy on the test split", "", *_accuracy_rows(evals, conversion), "",
             "## Exactness", "", *_verify_lines(_load(verify)), "",
             "## Cost on the chip (estimates from hw_profiles; Loihi 2 per-op figures are "
             "Loihi 1's, assumed)", "", *_profile_rows(profile, profiles), "",
             "## Plots", "", *[f"![{p}]({p})" for p in plots], "",
             "## Stages", "", *_stage_rows(out), "",
             "## Settings", "", "```json", json.dumps(settings, indent=2), "```", ""]
    return write_text(out / "summary.md", "\n".join(lines))

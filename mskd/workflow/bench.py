"""``mskd bench``: one run that measures the toolchain side by side.

Writes ``bench.json`` and ``bench.md`` into ``--out``:

* simulator vs Lava: samples/s on the converted MSKD student and the same test clips,
  and bit-exactness of the two on those clips;
* simulator vs lava-dl slayer's float forward on a network of the same shapes: speed;
* float student vs the deployed fixed-point student: WAR/UAR on the test split;
* teacher vs student alpha=0 vs MSKD student: WAR/UAR, mean and spread over seeds, and
  student epoch time plain vs distillation;
* energy per inference: the student on the Loihi profiles vs the teacher and the student
  as ANNs on the 45 nm profile.

Stages are cached under ``--out`` like ``mskd demo`` (the same stage definitions,
:mod:`mskd.workflow.stages`, keyed by the options that reach them and the content of what they
read; resumable).
"""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path

from mskd.fsio import check_writable, write_json, write_text
from mskd.workflow.cache import StageRunner
from mskd.workflow.demo import DemoOptions
from mskd.workflow.stages import (
    CONVERT,
    DATA,
    NET_NAME,
    PROFILE,
    PROFILES,
    STUDENT,
    TEACHER,
    StageContext,
    StageDef,
    run_stage,
)

PJ_PER_UJ = 1e6


def _eval_model(tmp: Path, ctx: StageContext) -> None:
    from mskd.train.evaluate import evaluate

    ckpt = ctx.ckpt("model")
    res = evaluate(ckpt, str(ctx.data), views=ctx.o.eval_views)
    log = json.loads((ckpt.parent / "log.json").read_text())
    res["epoch_seconds"] = statistics.fmean(h["seconds"] for h in log)
    write_json(tmp / "eval.json", res)


#: One model's evaluation (WAR/UAR and its mean epoch time).
EVAL_MODEL = StageDef("eval-model", ("eval_views",), ("data", "model"), _eval_model)


def _evaluate(runner: StageRunner, o, name: str, model_stage: str) -> dict:
    folder = run_stage(runner, EVAL_MODEL, o, {"model": model_stage}, name=name)
    return json.loads((folder / "eval.json").read_text())


def _models(runner: StageRunner, o, seed: int) -> tuple[str, str, str]:
    """Teacher, alpha=0 student and MSKD student of one training seed: their stage names."""
    so = replace(o, seed=seed)
    names = (f"teacher-s{seed}", f"student-a0-s{seed}", f"student-a{o.alpha:g}-s{seed}")
    run_stage(runner, TEACHER, so, name=names[0])
    run_stage(runner, STUDENT, replace(so, alpha=0.0), name=names[1])
    run_stage(runner, STUDENT, so, {"teacher": names[0]}, name=names[2])
    return names


def _spread(xs: list[float], scale: float = 100.0) -> dict:
    return {"mean": statistics.fmean(xs) * scale,
            "std": statistics.pstdev(xs) * scale if len(xs) > 1 else 0.0, "n": len(xs)}


def _accuracy(runner: StageRunner, o: DemoOptions, seeds: list[int]):
    rows: dict[str, list[dict]] = {"teacher": [], "student alpha=0": [],
                                   f"student MSKD alpha={o.alpha:g}": []}
    first = None
    for seed in seeds:
        stages = _models(runner, o, seed)
        first = first or (stages[0], stages[2])
        runs = zip(rows, ("teacher", "plain", "mskd"), stages, strict=True)
        for name, tag, stage in runs:
            rows[name].append(_evaluate(runner, o, f"eval-{tag}-s{seed}", stage))
    table = {name: {"war": _spread([r["war"] for r in rs]), "uar": _spread([r["uar"] for r in rs]),
                    "epoch_seconds": _spread([r["epoch_seconds"] for r in rs], 1.0),
                    "war_per_seed": [100 * r["war"] for r in rs]}
             for name, rs in rows.items()}
    return table, first


def paired(accuracy: dict, seeds: list[int]) -> dict:
    """MSKD minus alpha=0 WAR per seed (same seed = same initialisation, data order and
    augmentation draws, so the difference removes most of the seed-to-seed spread).

    >>> acc = {"teacher": {}, "a0": {"war_per_seed": [40.0, 45.0]},
    ...        "kd": {"war_per_seed": [41.0, 44.0]}}
    >>> paired(acc, [0, 1])
    {'seeds': [0, 1], 'diff': [1.0, -1.0], 'mean': 0.0, 'std': 1.0, 'ahead': 1}
    """
    plain, kd = (accuracy[k]["war_per_seed"] for k in list(accuracy)[1:3])
    diff = [b - a for a, b in zip(plain, kd, strict=True)]
    return {"seeds": list(seeds), "diff": diff, "mean": statistics.fmean(diff),
            "std": statistics.pstdev(diff) if len(diff) > 1 else 0.0,
            "ahead": sum(d > 0 for d in diff)}


def run_bench(o: DemoOptions, seeds: list[int], batch: int = 64, lava_samples: int = 2,
              console=None) -> Path:
    """Run the benchmark into ``o.out``; returns the path of ``bench.md``."""
    from rich.console import Console

    from mskd.data.encode import encode_clips
    from mskd.deploy.speed import measure
    from mskd.workflow.summary_page import machine

    console = console or Console(stderr=True)
    out = Path(o.out)
    check_writable(out)
    start = time.perf_counter()
    runner = StageRunner(out, on_event=lambda n, w: console.print(
        f"[bold cyan]{n:>16}[/] {w} ({time.perf_counter() - start:.0f} s)"))
    data = run_stage(runner, DATA, replace(o, seed=0)) / "see"
    accuracy, (teacher, student) = _accuracy(runner, o, seeds)
    net = run_stage(runner, CONVERT, o, {"student": student}) / NET_NAME
    report = net.parent / "report" / "convert_report.json"
    conversion = json.loads(report.read_text())["evaluation"]
    console.print("[bold cyan]           speed[/] simulator vs slayer vs Lava")
    speed = measure(net, encode_clips(net, data, "test", limit=batch).x,
                    lava_samples=lava_samples)
    profile = run_stage(runner, PROFILE, o, {"teacher": teacher, "student": student})
    energy = {name: json.loads((profile / name / "report.json").read_text())
              for name in PROFILES}
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine(),
              "settings": {**asdict(o), "seeds": seeds, "batch": batch,
                           "lava_samples": lava_samples},
              "speed": speed.to_json(), "accuracy": accuracy,
              "mskd_minus_alpha0": paired(accuracy, seeds),
              "deployment": {k: conversion[k] for k in ("float", "deployed", "war_drop_points",
                                                        "uar_drop_points", "clips")},
              "energy": {name: {"snn_uj": rep["energy"]["total"] / PJ_PER_UJ,
                                "comparison": rep.get("comparison"),
                                "assumed_figures": len(rep["assumptions"])}
                         for name, rep in energy.items()},
              "seconds": round(time.perf_counter() - start, 1)}
    write_json(out / "bench.json", result)
    md = write_text(out / "bench.md", render(result, speed))
    console.print(f"[bold green]done[/] in {result['seconds']:.0f} s: {md}")
    return md


def _pm(d: dict) -> str:
    return f"{d['mean']:.1f} ± {d['std']:.1f}"


def render(r: dict, speed) -> str:
    """``bench.md`` from the result dict."""
    from mskd.deploy.speed import markdown

    dep = r["deployment"]
    lines = [f"# mskd bench ({r['date']})", "", f"Machine: {r['machine']}.", "",
             "## Simulator speed", "",
             f"Converted MSKD student, {speed.steps} steps per clip, test clips as input. "
             f"Simulator == Lava on the Lava clips: "
             f"**{'bit-exact' if speed.bit_exact else 'DIVERGED'}**.", "", *markdown(speed), "",
             "## Float vs deployed student (test split, simulator)", "",
             "| student | WAR % | UAR % |", "|---|---|---|",
             f"| float weights and neurons | {100 * dep['float']['war']:.1f} | "
             f"{100 * dep['float']['uar']:.1f} |",
             f"| deployed netx HDF5 (simulator) | {100 * dep['deployed']['war']:.1f} | "
             f"{100 * dep['deployed']['uar']:.1f} |", "",
             f"Drop: {dep['war_drop_points']:.2f} WAR points over {dep['clips']} clips.", "",
             f"## Distillation over seeds {r['settings']['seeds']}", "",
             "| model | WAR % | UAR % | epoch s |", "|---|---|---|---|"]
    for name, row in r["accuracy"].items():
        lines.append(f"| {name} | {_pm(row['war'])} | {_pm(row['uar'])} | "
                     f"{row['epoch_seconds']['mean']:.2f} |")
    plain, kd = (r["accuracy"][k]["epoch_seconds"]["mean"] for k in list(r["accuracy"])[1:])
    augmented = r["settings"].get("augment", "default") != "none"
    how = ("the teacher scores every augmented training batch" if augmented else
           "the teacher's outputs are cached once per clip view before the first epoch")
    lines += ["", f"Distillation epoch / plain epoch: {kd / max(plain, 1e-9):.2f}x ({how})."]
    if "mskd_minus_alpha0" in r:
        p = r["mskd_minus_alpha0"]
        per_seed = ", ".join(f"{d:+.1f}" for d in p["diff"])
        lines += ["", f"MSKD minus alpha=0, WAR points per seed (paired): {per_seed}; mean "
                      f"{p['mean']:+.1f} ± {p['std']:.1f}; MSKD ahead on {p['ahead']} of "
                      f"{len(p['diff'])} seeds."]
    lines += ["", "## Energy per inference", "", "| model | where | uJ |", "|---|---|---|"]
    for name, e in r["energy"].items():
        note = " (per-op figures assumed = Loihi 1)" if e["assumed_figures"] else ""
        lines.append(f"| MSKD student SNN | {name}{note} | {e['snn_uj']:.4g} |")
    cmp = next(iter(r["energy"].values()))["comparison"] or {}
    for row in cmp.get("ann_models", []):
        lines.append(f"| {row['model']} ({row['macs']:,.0f} MACs) | {cmp['ann_profile']} | "
                     f"{row['ann_energy_pj'] / PJ_PER_UJ:.4g} |")
    return "\n".join(lines) + "\n"


def register(app) -> None:
    """Add ``mskd bench`` to the CLI."""
    import typer

    from mskd.config import config_option
    from mskd.workflow.demo import DEFAULTS

    d = {**DEFAULTS, "out": "runs/bench"}

    @app.command("bench", help="Side-by-side benchmark: sim vs Lava vs slayer speed, float vs "
                               "deployed, alpha=0 vs MSKD vs teacher, energy; bench.md/json.")
    def bench(
        config: str = config_option(),
        out: str = typer.Option(d["out"], help="Output folder (stages resume here)."),
        seeds: str = typer.Option("0,1,2", help="Training seeds, comma-separated."),
        subjects: int = typer.Option(d["subjects"], min=1, help="Synthetic subjects."),
        size: int = typer.Option(d["size"], min=1, help="Training input side, pixels."),
        teacher_epochs: int = typer.Option(d["teacher_epochs"], min=1,
                                           help="Teacher training epochs."),
        student_epochs: int = typer.Option(d["student_epochs"], min=1,
                                           help="Student training epochs."),
        alpha: float = typer.Option(d["alpha"], help="MSKD weight of the distilled student."),
        tau: float = typer.Option(d["tau"], help="HCKD softmax temperature."),
        eval_views: int = typer.Option(d["eval_views"], min=1,
                                       help="Seeded clip views per test sequence."),
        batch: int = typer.Option(64, min=1, help="Simulator/slayer batch for the speed test."),
        lava_samples: int = typer.Option(2, min=0, help="Clips run through Lava."),
        profile_clips: int = typer.Option(d["profile_clips"], min=1,
                                          help="Test clips profiled."),
    ) -> None:
        from mskd.errors import ConfigError

        try:
            seed_list = [int(s) for s in seeds.split(",") if s.strip()]
        except ValueError as exc:
            raise ConfigError(f"--seeds {seeds!r}: expected comma-separated integers") from exc
        opts = DemoOptions(out=out, subjects=subjects, size=size, teacher_epochs=teacher_epochs,
                           student_epochs=student_epochs, alpha=alpha, tau=tau, neuron="lif",
                           eval_views=eval_views, profile_clips=profile_clips)
        print(run_bench(opts, seed_list, batch=batch, lava_samples=lava_samples))

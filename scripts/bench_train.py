"""Benchmark: teacher, no-distillation student (alpha 0) and MSKD student over several seeds.

Generates the synthetic default dataset if it is absent, trains everything with the
library API, evaluates WAR/UAR over K seeded views, and prints a Markdown table with the
mean and spread (population std) over seeds, plus the epoch time of plain vs distillation
student training (mean over epochs and seeds, wall clock; other load on the machine shows
up in these numbers).

    .venv/bin/python scripts/bench_train.py --out /tmp/bench [--seeds 0,1,2]

Results: the README's "Distillation over seeds" table (from `mskd bench`, same recipe).
How the recipe was chosen, and distillation compared paired by seed, is in the README's
"Choosing the training recipe, and does distillation help?": on a separate synthetic set
(seed 1), never on the benchmark set.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from mskd.train.evaluate import evaluate
from mskd.train.loop import train
from mskd.train.options import TrainOptions

from mskd.data.synth import synthesize


def _ms(xs: list[float], scale: float = 100.0) -> str:
    mean = statistics.fmean(xs) * scale
    spread = statistics.pstdev(xs) * scale if len(xs) > 1 else 0.0
    return f"{mean:.1f} ± {spread:.1f}"


def _run(opts: TrainOptions, data: str, views: int) -> dict:
    out = Path(opts.out)
    ckpt = out / "checkpoint.safetensors"
    if not ckpt.exists():
        train(opts, progress=False)
    log = json.loads((out / "log.json").read_text())
    res = evaluate(ckpt, data, views=views)
    return {"war": res["war"], "uar": res["uar"], "ckpt": str(ckpt),
            "epoch_s": statistics.fmean(h["seconds"] for h in log),
            "teacher_s": statistics.fmean(h["teacher_seconds"] for h in log),
            "warm_s": sum(h.get("teacher_warm_seconds", 0.0) for h in log)}


def bench(data: str, out: Path, seeds: list[int], views: int, t_epochs: int,
          s_epochs: int, alpha: float, tau: float = 2.0,
          kd_terms: tuple[str, ...] = ("hckd", "tckd")) -> dict[str, list[dict]]:
    kd_name = f"student MSKD alpha={alpha} tau={tau} ({'+'.join(kd_terms)})"
    rows: dict[str, list[dict]] = {"teacher": [], "student alpha=0": [], kd_name: []}
    for seed in seeds:
        common = dict(data=data, seed=seed)
        t = _run(TrainOptions(kind="teacher", out=str(out / f"t{seed}"), epochs=t_epochs,
                              **common), data, views)
        rows["teacher"].append(t)
        rows["student alpha=0"].append(_run(TrainOptions(
            kind="student", out=str(out / f"s0_{seed}"), epochs=s_epochs, alpha=0.0,
            **common), data, views))
        rows[kd_name].append(_run(TrainOptions(
            kind="student", out=str(out / f"skd_{seed}"), epochs=s_epochs, alpha=alpha,
            tau=tau, kd_terms=kd_terms, teacher=t["ckpt"], **common), data, views))
        print(f"seed {seed} done", flush=True)
    return rows


def table(rows: dict[str, list[dict]], views: int, seeds: list[int]) -> str:
    lines = [f"| model | WAR % ({views} views) | UAR % | s/epoch | teacher s/epoch | "
             "cache warm s (once) |", "|---|---|---|---|---|---|"]
    for name, runs in rows.items():
        lines.append(f"| {name} | {_ms([r['war'] for r in runs])} | "
                     f"{_ms([r['uar'] for r in runs])} | {_ms([r['epoch_s'] for r in runs], 1)}"
                     f" | {_ms([r['teacher_s'] for r in runs], 1)} | "
                     f"{_ms([r['warm_s'] for r in runs], 1)} |")
    names = list(rows)
    plain = statistics.fmean(r["epoch_s"] for r in rows[names[1]])
    kd = statistics.fmean(r["epoch_s"] for r in rows[names[2]])
    lines.append("")
    lines.append(f"Seeds {seeds}. Distillation / plain student epoch time: {kd / plain:.2f}x.")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=None, help="dataset (default: OUT/synth, generated)")
    ap.add_argument("--out", default="/tmp/mskd_bench_train")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--teacher-epochs", type=int, default=8)
    ap.add_argument("--student-epochs", type=int, default=30)
    ap.add_argument("--alpha", type=float, default=0.5)
    ap.add_argument("--tau", type=float, default=2.0)
    ap.add_argument("--kd", default="hckd,tckd", help="distillation terms")
    args = ap.parse_args()
    out = Path(args.out)
    data = args.data or str(out / "synth")
    if not Path(data).exists():
        synthesize(data, subjects=24, seed=0, size=48)
    seeds = [int(s) for s in args.seeds.split(",")]
    tic = time.perf_counter()
    rows = bench(data, out, seeds, args.views, args.teacher_epochs, args.student_epochs,
                 args.alpha, args.tau, tuple(k for k in args.kd.split(",") if k))
    print(table(rows, args.views, seeds))
    print(f"\nTotal wall time {time.perf_counter() - tic:.0f} s.")


if __name__ == "__main__":
    main()

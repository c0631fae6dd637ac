"""Does privileged distillation help a frames-only student estimate valence and arousal?

M2PKD-style benchmark on the dimensional task (``--task dimensional``): per dataset one
multimodal teacher (frames + events, seed 0) and, per training seed and student kind, one
student per method (``a0``: no distillation; ``out``: output-level PKD, the teacher's
per-frame valence/arousal; ``feat``: feature-level PKD, the student's last hidden layer
projected onto the teacher's fused features; ``both``; more with ``--method
NAME=ALPHA:TERM+TERM``). Every model is evaluated over K clip views (CCC, PCC, RMSE of
valence and arousal over all test frames); students are paired by training seed (same
initialisation, data order and augmentation draws) and the paired CCC difference to
``a0`` is reported per seed with its mean and 95 % t interval. With ``--deploy`` every
student is also converted and run on the bit-exact simulator (deployed vs float twin).

Stages are cached under ``--out`` as in ``bench_kd.py``. Writes ``bench_va.json`` and
``bench_va.md``.

    .venv/bin/python scripts/bench_va.py --data VA0=/path/va0 --students sdnn --seeds 0-2 \\
        --deploy --out runs/bench_va
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import bench_kd
from bench_kd import Method, _digest, _eval, _seeds, _train, interval, parse_method

from mskd.fsio import write_json, write_text
from mskd.workflow.cache import StageRunner
from mskd.workflow.summary_page import machine

DIMS = ("valence", "arousal")


def default_methods() -> list[Method]:
    return [Method("a0", 0.0), Method("out", 0.5, ("out",)), Method("feat", 0.5, ("feat",)),
            Method("both", 0.5, ("out", "feat"))]


def _deploy(runner: StageRunner, name: str, ckpt: Path, data: str, views: int) -> dict:
    return bench_kd._deploy(runner, name, ckpt, data, views,
                            ("float", "deployed", "ccc_drop", "clips"))


def run(args) -> dict:
    runner = StageRunner(Path(args.out), on_event=lambda n, w: print(
        f"{time.strftime('%H:%M:%S')} {n:>36} {w}", flush=True))
    results: dict = {}
    common = {"epochs": args.epochs, "clip": args.clip, "size": args.size,
              "task": "dimensional"}
    for dname, data in args.data:
        t_name = f"{dname}-teacher"
        teacher = _train(runner, t_name, {"data": data, "epochs": args.teacher_epochs,
                                          "task": "dimensional"},
                         kind="teacher", data=data, seed=0, epochs=args.teacher_epochs,
                         clip=args.clip, size=args.size, task="dimensional")
        results[t_name] = _eval(runner, f"{t_name}-eval", teacher, data, args.views)
        if args.only == "teachers":
            continue
        for kind in args.students:
            for m in args.methods:
                for seed in args.seeds:
                    name = f"{dname}-{kind}-{m.name}-s{seed}"
                    kd = {"alpha": m.alpha, "kd_terms": m.kd_terms or ("out",)}
                    if m.alpha > 0:
                        kd["teacher"] = str(teacher)
                    key = {"data": data, "kind": kind, "seed": seed, "name": m.name,
                           "alpha": m.alpha, "kd_terms": list(m.kd_terms),
                           "teacher": _digest(teacher) if m.alpha > 0 else None, **common}
                    ckpt = _train(runner, name, key, kind="student", data=data, seed=seed,
                                  neuron=kind, **kd, **common)
                    results[name] = _eval(runner, f"{name}-eval", ckpt, data, args.views)
                    if args.deploy:
                        results[name]["deploy"] = _deploy(runner, f"{name}-deploy", ckpt,
                                                          data, args.views)
    return results


def summarise(args, results: dict) -> dict:
    table = {}
    for dname, _ in args.data:
        for kind in args.students:
            setting, rows = f"{dname}-{kind}", {}
            for m in args.methods:
                runs = [results.get(f"{setting}-{m.name}-s{s}") for s in args.seeds]
                runs = [r for r in runs if r]
                if not runs:
                    continue
                row = {"ccc": [r["ccc"] for r in runs]}
                for d in DIMS:
                    for k in ("ccc", "pcc", "rmse"):
                        row[f"{d}_{k}"] = [r[d][k] for r in runs]
                dep = [r["deploy"] for r in runs if "deploy" in r]
                if dep:
                    row["deployed_ccc"] = [d["deployed"]["ccc"] for d in dep]
                    row["float_ccc"] = [d["float"]["ccc"] for d in dep]
                rows[m.name] = row
            base = rows.get("a0")
            for name, row in rows.items():
                if base and name != "a0" and len(row["ccc"]) == len(base["ccc"]):
                    for key in ("ccc", "valence_ccc", "arousal_ccc"):
                        row[f"minus_a0_{key}"] = interval([b - a for a, b in zip(
                            base[key], row[key], strict=True)])
            table[setting] = rows
    return table


def _ms(xs: list[float]) -> str:
    return bench_kd._ms(xs, 3)


def _iv(d: dict) -> str:
    return bench_kd._iv(d, 3)


def render(args, results: dict, table: dict) -> str:
    lines = [f"# Dimensional (valence/arousal) benchmark "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
             f"Machine: {machine()}. Seeds {args.seeds}, {args.epochs} student epochs, "
             f"{args.teacher_epochs} teacher epochs, {args.views} test views, clip {args.clip}.",
             ""]
    for dname, _ in args.data:
        t = results.get(f"{dname}-teacher")
        if t:
            lines.append(f"Teacher on {dname}: CCC valence {t['valence']['ccc']:.3f}, arousal "
                         f"{t['arousal']['ccc']:.3f} (mean {t['ccc']:.3f}); RMSE "
                         f"{t['valence']['rmse']:.3f} / {t['arousal']['rmse']:.3f}.")
    lines.append("")
    for setting, rows in table.items():
        lines += [f"## {setting}", "", "| method | CCC mean | CCC valence | CCC arousal | "
                  "PCC V / A | RMSE V / A | minus alpha=0, CCC mean (paired): mean [95 % CI] | "
                  "deployed / float CCC |", "|---|---|---|---|---|---|---|---|"]
        for name, row in rows.items():
            dep = (f"{_ms(row['deployed_ccc'])} / {_ms(row['float_ccc'])}"
                   if "deployed_ccc" in row else "")
            pcc = f"{statistics.fmean(row['valence_pcc']):.3f} / " \
                  f"{statistics.fmean(row['arousal_pcc']):.3f}"
            rmse = f"{statistics.fmean(row['valence_rmse']):.3f} / " \
                   f"{statistics.fmean(row['arousal_rmse']):.3f}"
            iv = _iv(row["minus_a0_ccc"]) if "minus_a0_ccc" in row else ""
            lines.append(f"| {name} | {_ms(row['ccc'])} | {_ms(row['valence_ccc'])} | "
                         f"{_ms(row['arousal_ccc'])} | {pcc} | {rmse} | {iv} | {dep} |")
        for name, row in rows.items():
            if "minus_a0_valence_ccc" in row:
                lines.append(f"\n{name} minus alpha=0: valence "
                             f"{_iv(row['minus_a0_valence_ccc'])}; arousal "
                             f"{_iv(row['minus_a0_arousal_ccc'])}.")
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True, help="NAME=PATH (repeat)")
    ap.add_argument("--students", default="sdnn")
    ap.add_argument("--seeds", default="0-2")
    ap.add_argument("--method", action="append", default=[], help="NAME=ALPHA:TERM+TERM")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--teacher-epochs", type=int, default=8)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--clip", default="E4-S3")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--deploy", action="store_true")
    ap.add_argument("--only", choices=["teachers"], default=None)
    ap.add_argument("--out", default="runs/bench_va")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    args.data = [tuple(d.split("=", 1)) for d in args.data]
    args.students = [s for s in args.students.split(",") if s]
    args.seeds = _seeds(args.seeds)
    args.methods = [parse_method(m) for m in args.method] or default_methods()
    results = run(args)
    table = summarise(args, results)
    out = Path(args.out)
    write_json(out / "bench_va.json", {"results": results, "table": table})
    text = render(args, results, table)
    write_text(out / "bench_va.md", text)
    print(text)


if __name__ == "__main__":
    main()

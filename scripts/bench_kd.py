"""Does distillation transfer? LIF and sigma-delta students, paired by training seed.

For every dataset (e.g. the benchmark set and its DSEE-style copy), label fraction (all
training subjects, or 25 % of them) and student kind (``lif``, ``sdnn``), trains one teacher
(seed 0) and, per training seed, one student per method (``a0``: no distillation, ``kd``:
plain logit KD, ``mskd``: the shipped MSKD losses; more with ``--method NAME=ALPHA:TERMS``),
evaluates them over K clip views, and reports WAR/UAR mean and spread, the paired
difference to ``a0`` per seed with its mean and 95 % interval (t distribution), and the
class-pair and within-pair accuracy. With ``--deploy`` every student is also converted and
run on the simulator (deployed vs float twin), and one student per kind is profiled on
Loihi 2 (messages, synaptic ops, energy) beside the same network as a dense 8-bit ANN on
45 nm with its weight and activation memory traffic (:mod:`mskd.profiling.ann_energy`).

Every run is a cached stage under ``--out`` (re-running skips finished ones), so the work
can be split over processes by seed (``--seeds 0,2,4`` and ``--seeds 1,3``, after one
``--only teachers`` run). Writes ``bench_kd.json`` and ``bench_kd.md``.

    .venv/bin/python scripts/bench_kd.py --data D0=/path/see0 --data DSEE=/path/dsee0 \\
        --students lif,sdnn --seeds 0-4 --fractions 1,0.25 --deploy --out runs/bench_kd
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from mskd.fsio import write_json, write_text
from mskd.workflow.cache import StageRunner
from mskd.workflow.summary_page import machine

T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 14: 2.145, 19: 2.093}  # two-sided 95 % t quantiles by dof


@dataclass(frozen=True)
class Method:
    name: str
    alpha: float
    kd_terms: tuple[str, ...] = ()


def default_methods() -> list[Method]:
    from mskd.train.options import DEFAULT_KD_TERMS

    return [Method("a0", 0.0), Method("kd", 0.5, ("kd",)), Method("mskd", 0.5, DEFAULT_KD_TERMS)]


def parse_method(text: str) -> Method:
    """``NAME=ALPHA:TERM+TERM``, e.g. ``old=0.5:hckd+tckd``."""
    name, _, rest = text.partition("=")
    alpha, _, terms = rest.partition(":")
    return Method(name, float(alpha), tuple(t for t in terms.split("+") if t))


def interval(diffs: list[float]) -> dict:
    """Mean, sample std and two-sided 95 % t interval of paired differences."""
    n = len(diffs)
    mean = statistics.fmean(diffs)
    sd = statistics.stdev(diffs) if n > 1 else 0.0
    t = T975.get(n - 1, 1.96) if n > 1 else math.inf
    half = t * sd / math.sqrt(n) if n > 1 else math.inf
    return {"diff": diffs, "mean": mean, "std": sd, "low": mean - half, "high": mean + half,
            "ahead": sum(d > 0 for d in diffs), "n": n}


def pair_accuracy(confusion: list[list[int]], classes: list[str]) -> dict:
    """Share of clips whose predicted class is in the true class's pair, and among the
    pair-correct non-neutral clips, the share predicted exactly."""
    from mskd.data.expressions import PATTERNS

    conf = torch.tensor(confusion)
    group = [PATTERNS[c][0] or c for c in classes]  # the slow motion a pair shares
    total = pair_ok = within_n = within_ok = 0
    for i, gi in enumerate(group):
        for j, gj in enumerate(group):
            n = int(conf[i, j])
            total += n
            if gi == gj:
                pair_ok += n
                if PATTERNS[classes[i]][0] is not None:
                    within_n += n
                    within_ok += n if i == j else 0
    return {"pair": pair_ok / max(total, 1), "within_pair": within_ok / max(within_n, 1)}


def _train(runner: StageRunner, name: str, key: dict, **opts) -> Path:
    from mskd.train.loop import CKPT_NAME, train
    from mskd.train.options import TrainOptions

    def fn(tmp: Path) -> None:
        train(TrainOptions(out=str(tmp), **opts), progress=False)

    return runner.run(name, key, fn) / CKPT_NAME


def _eval(runner: StageRunner, name: str, ckpt: Path, data: str, views: int) -> dict:
    from mskd.train.evaluate import evaluate

    from mskd.data.naming import EMOTIONS

    def fn(tmp: Path) -> None:
        res = evaluate(ckpt, data, views=views)
        if "confusion" in res:  # categorical: the class-pair view of it
            res.update(pair_accuracy(res["confusion"], list(EMOTIONS)))
        write_json(tmp / "eval.json", res)

    key = {"ckpt": _digest(ckpt), "views": views}
    return json.loads((runner.run(name, key, fn) / "eval.json").read_text())


DEPLOY_KEYS = ("float", "deployed", "war_drop_points", "clips")


def _deploy(runner: StageRunner, name: str, ckpt: Path, data: str, views: int,
            keys: tuple[str, ...] = DEPLOY_KEYS) -> dict:
    """Convert ``ckpt`` and keep ``keys`` of its float-vs-deployed evaluation."""
    from mskd.convert.pipeline import ConvertOptions, convert_checkpoint

    def fn(tmp: Path) -> None:
        rep = convert_checkpoint(ckpt, tmp / "student.net", ConvertOptions(eval=data,
                                                                           views=views))
        write_json(tmp / "deploy.json", {k: rep["evaluation"][k] for k in keys})

    key = {"ckpt": _digest(ckpt), "views": views}
    stage = runner.run(name, key, fn)
    return {**json.loads((stage / "deploy.json").read_text()), "net": str(stage / "student.net")}


def _energy(runner: StageRunner, name: str, net: Path, data: str, clips: int) -> dict:
    from mskd.hw_profiles import load_profile
    from mskd.profiling.ann_energy import ann_energy_with_memory
    from mskd.profiling.estimate import dataset_inputs, profile_run

    from mskd.net.netx_io import read_netx

    def fn(tmp: Path) -> None:
        spec, hw = read_netx(net), load_profile("loihi2")
        batches, n, enc = dataset_inputs(net, data, 16, clips)
        res = profile_run(spec, batches, hw)
        ann = ann_energy_with_memory(spec, enc.n_frames, load_profile("ann-45nm"))
        c = res.counts
        write_json(tmp / "energy.json", {
            "clips": n, "messages": c.total("spikes"), "synops": c.total("synops"),
            "synops_mac": c.total("synops_mac"), "synops_ac": c.total("synops_ac"),
            "snn_pj": res.energy.total_pj, "snn_by_kind": res.energy.by_kind(),
            "sensitivity": res.sensitivity, "neurobench": res.neurobench, "ann": ann})

    stage = runner.run(name, {"net": _digest(net), "clips": clips}, fn)
    return json.loads((stage / "energy.json").read_text())


def _digest(path: Path) -> str:
    from mskd.workflow.cache import file_digest

    return file_digest(path)


def run(args) -> dict:
    runner = StageRunner(Path(args.out), on_event=lambda n, w: print(
        f"{time.strftime('%H:%M:%S')} {n:>42} {w}", flush=True))
    results: dict = {}
    common = {"epochs": args.epochs, "clip": args.clip, "size": args.size}
    for dname, data in args.data:
        for frac in args.fractions:
            t_name = f"{dname}-f{frac:g}-teacher"
            t_key = {"data": data, "fraction": frac, "epochs": args.teacher_epochs}
            teacher = _train(runner, t_name, t_key, kind="teacher", data=data, seed=0,
                             epochs=args.teacher_epochs, clip=args.clip, size=args.size,
                             subject_fraction=frac)
            results[t_name] = _eval(runner, f"{t_name}-eval", teacher, data, args.views)
            if args.only == "teachers":
                continue
            for kind in args.students:
                for m in args.methods:
                    for seed in args.seeds:
                        name = f"{dname}-f{frac:g}-{kind}-{m.name}-s{seed}"
                        kd = {"alpha": m.alpha, "kd_terms": m.kd_terms or ("hckd", "tckd")}
                        if m.alpha > 0:
                            kd["teacher"] = str(teacher)
                        key = {"data": data, "fraction": frac, "kind": kind, "seed": seed,
                               "teacher": _digest(teacher) if m.alpha > 0 else None,
                               **asdict(m), **common}
                        ckpt = _train(runner, name, key, kind="student", data=data,
                                      seed=seed, neuron=kind, subject_fraction=frac,
                                      **kd, **common)
                        results[name] = _eval(runner, f"{name}-eval", ckpt, data, args.views)
                        if args.deploy and frac == 1.0:
                            results[name]["deploy"] = _deploy(runner, f"{name}-deploy",
                                                              ckpt, data, args.views)
                if args.deploy and frac == 1.0:
                    m, seed = args.methods[-1], args.seeds[0]
                    rep = results[f"{dname}-f{frac:g}-{kind}-{m.name}-s{seed}"]["deploy"]
                    results[f"{dname}-{kind}-energy"] = _energy(
                        runner, f"{dname}-{kind}-energy", Path(rep["net"]), data,
                        args.profile_clips)
    return results


def sweep(args) -> dict:
    """``--sweep-sparsity W1,W2,..``: sigma-delta students (first method, each seed) at each
    activity-loss weight, deployed and profiled: the accuracy-energy curve."""
    runner = StageRunner(Path(args.out), on_event=lambda n, w: print(
        f"{time.strftime('%H:%M:%S')} {n:>42} {w}", flush=True))
    (dname, data), m = args.data[0], args.methods[0]
    common = {"epochs": args.epochs, "clip": args.clip, "size": args.size}
    teacher = None
    if m.alpha > 0:
        teacher = _train(runner, f"{dname}-f1-teacher", {"data": data, "fraction": 1.0,
                                                          "epochs": args.teacher_epochs},
                         kind="teacher", data=data, seed=0, epochs=args.teacher_epochs,
                         clip=args.clip, size=args.size, subject_fraction=1.0)
    points = []
    for w in args.sweep_sparsity:
        for seed in args.seeds:
            name = f"{dname}-sweep-{m.name}-w{w:g}-s{seed}"
            kd = {"alpha": m.alpha, "kd_terms": m.kd_terms or ("hckd", "tckd")}
            if teacher is not None:
                kd["teacher"] = str(teacher)
            key = {"data": data, "seed": seed, "sparsity": w, **asdict(m), **common,
                   "teacher": _digest(teacher) if teacher else None}
            if w == 0:  # the benchmark's own student (same options, same stage)
                name = f"{dname}-f1-sdnn-{m.name}-s{seed}"
                key = {"data": data, "fraction": 1.0, "kind": "sdnn", "seed": seed,
                       "teacher": key["teacher"], **asdict(m), **common}
            ckpt = _train(runner, name, key, kind="student", data=data, seed=seed,
                          neuron="sdnn", sparsity=w, **kd, **common)
            dep = _deploy(runner, f"{name}-deploy", ckpt, data, args.views)
            e = _energy(runner, f"{name}-energy", Path(dep["net"]), data, args.profile_clips)
            points.append({"sparsity": w, "seed": seed, "deployed_war": dep["deployed"]["war"],
                           "float_war": dep["float"]["war"], "messages": e["messages"],
                           "synops": e["synops"], "snn_uj": e["snn_pj"] / 1e6,
                           "ann_uj": e["ann"]["total_pj"] / 1e6})
    return {"data": dname, "method": asdict(m), "points": points}


def plot_sweep(result: dict, path: Path) -> None:
    """Deployed WAR against Loihi 2 energy per inference, one point per (W, seed), the
    mean per W joined; the dense-ANN baseline as a vertical line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    pts = result["points"]
    seeds = sorted({p["seed"] for p in pts})
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    ws = sorted({p["sparsity"] for p in pts})
    mean = [(statistics.fmean(p["snn_uj"] for p in pts if p["sparsity"] == w),
             100 * statistics.fmean(p["deployed_war"] for p in pts if p["sparsity"] == w))
            for w in ws]
    if len(seeds) > 1:
        ax.scatter([p["snn_uj"] for p in pts], [100 * p["deployed_war"] for p in pts],
                   color="tab:blue", alpha=0.35, s=18, label="one training seed")
    ax.plot(*zip(*mean, strict=True), "o-", color="tab:blue",
            label="mean over seeds" if len(seeds) > 1 else f"training seed {seeds[0]}")
    for w, (x, y) in zip(ws, mean, strict=True):
        ax.annotate(f"W={w:g}", (x, y), textcoords="offset points", xytext=(-8, 7),
                    ha="right", fontsize=8)
    ann = statistics.fmean(p["ann_uj"] for p in pts)
    ax.axvline(ann, color="tab:gray", ls="--",
               label=f"same net as 8-bit ANN, 45 nm ({ann:.3g} uJ)")
    ax.axhline(100 / 7, color="tab:red", ls=":", lw=1, label="chance (7 classes)")
    ax.set_xlabel("energy per inference on the Loihi 2 profile (uJ, log scale)")
    ax.set_xscale("log")
    ax.set_xlim(ann / 1.5, max(x for x, _ in mean) * 1.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(FuncFormatter(
        lambda v, _: f"{v:g}" if f"{v:g}"[0] in "25" else ""))
    ax.set_ylabel("deployed WAR (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Sigma-delta student: accuracy vs energy ({result['data']}, "
                 f"activity-loss weight W)", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def summarise(args, results: dict) -> dict:
    table = {}
    for dname, _ in args.data:
        for frac in args.fractions:
            for kind in args.students:
                setting = f"{dname}-f{frac:g}-{kind}"
                rows = {}
                for m in args.methods:
                    runs = [results.get(f"{setting}-{m.name}-s{s}") for s in args.seeds]
                    runs = [r for r in runs if r]
                    if not runs:
                        continue
                    row = {k: [100 * r[k] for r in runs] for k in ("war", "uar", "pair",
                                                                     "within_pair")}
                    dep = [r["deploy"] for r in runs if "deploy" in r]
                    if dep:
                        row["deployed_war"] = [100 * d["deployed"]["war"] for d in dep]
                        row["float_war"] = [100 * d["float"]["war"] for d in dep]
                    rows[m.name] = row
                base = rows.get("a0")
                for name, row in rows.items():
                    if base and name != "a0" and len(row["war"]) == len(base["war"]):
                        row["minus_a0"] = interval([b - a for a, b in zip(
                            base["war"], row["war"], strict=True)])
                if "kd" in rows and "mskd" in rows and len(rows["kd"]["war"]) == len(
                        rows["mskd"]["war"]):
                    rows["mskd"]["minus_kd"] = interval([b - a for a, b in zip(
                        rows["kd"]["war"], rows["mskd"]["war"], strict=True)])
                table[setting] = rows
    return table


def _ms(xs: list[float], digits: int = 1) -> str:
    """``mean ± sample std``."""
    sd = statistics.stdev(xs) if len(xs) > 1 else 0
    return f"{statistics.fmean(xs):.{digits}f} ± {sd:.{digits}f}"


def _iv(d: dict, digits: int = 1) -> str:
    """A paired difference: ``mean [95 % CI] (k of n up; per seed)``."""
    f = f"+.{digits}f"
    return (f"{d['mean']:{f}} [{d['low']:{f}}, {d['high']:{f}}] ({d['ahead']} of {d['n']} up; "
            + ", ".join(f"{x:{f}}" for x in d["diff"]) + ")")


def render(args, results: dict, table: dict) -> str:
    lines = [f"# Distillation benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
             "", f"Machine: {machine()}. Seeds {args.seeds}, {args.epochs} student epochs, "
             f"{args.teacher_epochs} teacher epochs, {args.views} test views, clip {args.clip}.",
             ""]
    for dname, _ in args.data:
        for frac in args.fractions:
            t = results.get(f"{dname}-f{frac:g}-teacher")
            if t:
                lines.append(f"Teacher on {dname}, {frac:.0%} of the training subjects: WAR "
                             f"{100 * t['war']:.1f} %, pair {100 * t['pair']:.1f} %, within "
                             f"pair {100 * t['within_pair']:.1f} %.")
    lines.append("")
    for setting, rows in table.items():
        lines += [f"## {setting}", "", "| method | WAR % | UAR % | pair % | within pair % | "
                  "minus alpha=0 (WAR points, paired): mean [95 % CI] | deployed / float WAR % |",
                  "|---|---|---|---|---|---|---|"]
        for name, row in rows.items():
            dep = (f"{_ms(row['deployed_war'])} / {_ms(row['float_war'])}"
                   if "deployed_war" in row else "")
            lines.append(f"| {name} | {_ms(row['war'])} | {_ms(row['uar'])} | "
                         f"{_ms(row['pair'])} | {_ms(row['within_pair'])} | "
                         f"{_iv(row['minus_a0']) if 'minus_a0' in row else ''} | {dep} |")
        if "mskd" in rows and "minus_kd" in rows["mskd"]:
            lines.append(f"\nMSKD minus plain KD (paired): {_iv(rows['mskd']['minus_kd'])}.")
        lines.append("")
    energies = {k: v for k, v in results.items() if k.endswith("-energy")}
    if energies:
        lines += ["## Energy per inference (Loihi 2 profile vs the same network as a dense "
                  "8-bit ANN at 45 nm)", "", "| student | messages / clip | synops / clip "
                  "(MAC + AC) | Loihi 2 uJ (graded figures /2 .. x2) | ANN uJ: total "
                  "(MACs + weights + activations) | ANN fp32 MACs only uJ |",
                  "|---|---|---|---|---|---|"]
        for name, e in energies.items():
            sens = e["sensitivity"][-1] if e["sensitivity"] else None
            rng = (f" ({sens['low_pj'] / 1e6:.3g} .. {sens['high_pj'] / 1e6:.3g})"
                   if sens else "")
            a = e["ann"]
            lines.append(f"| {name} | {e['messages']:,.0f} | {e['synops']:,.0f} "
                         f"({e['synops_mac']:,.0f} + {e['synops_ac']:,.0f}) | "
                         f"{e['snn_pj'] / 1e6:.3g}{rng} | {a['total_pj'] / 1e6:.3g} "
                         f"({a['arithmetic_pj'] / 1e6:.3g} + {a['weights_pj'] / 1e6:.3g} + "
                         f"{a['activations_pj'] / 1e6:.3g}) | {a['mac_only_fp32_pj'] / 1e6:.3g} |")
    return "\n".join(lines) + "\n"


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",") if s.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", action="append", required=True, help="NAME=PATH (repeat)")
    ap.add_argument("--students", default="lif,sdnn")
    ap.add_argument("--seeds", default="0-4")
    ap.add_argument("--fractions", default="1")
    ap.add_argument("--method", action="append", default=[], help="NAME=ALPHA:TERM+TERM")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--teacher-epochs", type=int, default=8)
    ap.add_argument("--views", type=int, default=5)
    ap.add_argument("--clip", default="E4-S3")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--deploy", action="store_true")
    ap.add_argument("--profile-clips", type=int, default=64)
    ap.add_argument("--only", choices=["teachers"], default=None)
    ap.add_argument("--sweep-sparsity", default="", help="W1,W2,...: the accuracy-energy "
                                                          "sweep instead of the benchmark")
    ap.add_argument("--out", default="runs/bench_kd")
    args = ap.parse_args()
    args.data = [tuple(d.split("=", 1)) for d in args.data]
    args.students = [s for s in args.students.split(",") if s]
    args.seeds = _seeds(args.seeds)
    args.fractions = [float(f) for f in args.fractions.split(",")]
    args.methods = [parse_method(m) for m in args.method] or default_methods()
    args.sweep_sparsity = [float(w) for w in args.sweep_sparsity.split(",") if w.strip()]
    torch.set_num_threads(1)
    out = Path(args.out)
    if args.sweep_sparsity:
        result = sweep(args)
        write_json(out / "sweep.json", {"machine": machine(), **result})
        plot_sweep(result, out / "sweep.png")
        for p in result["points"]:
            print(f"W={p['sparsity']:g} seed {p['seed']}: deployed WAR "
                  f"{100 * p['deployed_war']:.1f} %, {p['messages']:,.0f} messages, "
                  f"{p['synops']:,.0f} synops, {p['snn_uj']:.3g} uJ (ANN {p['ann_uj']:.3g})")
        return
    results = run(args)
    table = summarise(args, results)
    write_json(out / "bench_kd.json", {"machine": machine(), "results": results,
                                       "table": table, "args": {k: str(v) for k, v in
                                                                vars(args).items()}})
    md = write_text(out / "bench_kd.md", render(args, results, table))
    print(md.read_text())


if __name__ == "__main__":
    main()

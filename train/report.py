"""Rich tables for the CLI: model summary, training result, evaluation."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from mskd.clips import ClipSpec


def summary_rows(opts) -> list[dict]:
    """Summaries of the model ``opts`` describes, plus its teacher when one is given."""
    from mskd.train.costs import summarize
    from mskd.train.models import build_model, load_model

    n = ClipSpec.parse(opts.clip).n if opts.kind == "student" else None
    rows = [summarize(build_model(opts.kind, opts.model_config(), n))]
    if opts.kind == "student" and opts.teacher:
        rows.append(summarize(load_model(opts.teacher, kind="teacher")))
    elif opts.kind == "teacher":  # the default student at the same input size, to compare
        rows.append(summarize(build_model("student", {"size": opts.size},
                                          ClipSpec.parse(opts.clip).n)))
    return rows


def print_summary(opts, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(title="model cost (per time step)")
    for col in ("model", "params", "ANN MACs", "synops (all spiking)", "notes"):
        table.add_column(col, justify="right" if col != "notes" else "left")
    for row in summary_rows(opts):
        note = (f"{row['steps_per_clip']} steps/clip" if row["kind"] == "student"
                else f"+{row['spatial_macs_per_clip']:,} spatial MACs/clip")
        table.add_row(row["kind"], f"{row['params']:,}", f"{row['macs']:,}",
                      f"{row['synops_max']:,}", note)
    console.print(table)


def print_train_result(path: Path, console: Console | None = None) -> None:
    from mskd.train.checkpoint import load_checkpoint

    console = console or Console()
    ckpt = load_checkpoint(path)
    last = ckpt.state["history"][-1]
    score = "train CCC" if ckpt.options.get("task") == "dimensional" else "train acc"
    console.print(f"[bold]{path}[/]: epoch {last['epoch'] + 1} loss {last['loss']:.4f} "
                  f"{score} {last['acc']:.3f} ({last['seconds']:.1f} s/epoch)")


def print_eval_va(result: dict, console: Console) -> None:
    """The dimensional table: CCC, PCC and RMSE of valence and arousal per lighting."""
    table = Table(title=f"{result['kind']} on {result['split']} ({result['views']} views, "
                        "per-frame valence / arousal)")
    for col in ("lighting", "frames", "CCC V", "CCC A", "PCC V", "PCC A", "RMSE V",
                "RMSE A"):
        table.add_column(col, justify="right")

    def row(name: str, m: dict, bold: bool = False) -> None:
        f = (lambda x: f"[bold]{x}[/]") if bold else (lambda x: x)
        table.add_row(f(name), str(m["frames"]),
                      *[f(f"{m[d][k]:.3f}") for k in ("ccc", "pcc", "rmse")
                        for d in ("valence", "arousal")])

    for light, m in result["per_lighting"].items():
        row(light, m)
    row("all", result, bold=True)
    console.print(table)
    console.print(f"mean CCC {result['ccc']:.3f} (+- {result['ccc_std']:.3f} over views)")


def print_eval(result: dict, console: Console | None = None) -> None:
    console = console or Console()
    if result.get("task") == "dimensional":
        print_eval_va(result, console)
        return
    table = Table(title=f"{result['kind']} on {result['split']} ({result['views']} views)")
    for col in ("lighting", "clips", "WAR %", "UAR %"):
        table.add_column(col, justify="right")
    for light, m in result["per_lighting"].items():
        table.add_row(light, str(m["n"]), f"{100 * m['war']:.1f}", f"{100 * m['uar']:.1f}")
    table.add_row("[bold]all[/]", "", f"[bold]{100 * result['war']:.1f}[/]",
                  f"[bold]{100 * result['uar']:.1f}[/]")
    console.print(table)
    from mskd.labels import class_names

    conf = Table(title="confusion (rows: true class, columns: predicted, summed over views)")
    conf.add_column("true \\ predicted")
    names = class_names(len(result["confusion"]))
    for name in names:
        conf.add_column(name, justify="right")
    for name, row in zip(names, result["confusion"], strict=True):
        conf.add_row(name, *[str(v) for v in row])
    console.print(conf)

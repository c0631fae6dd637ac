"""``mskd train teacher|student`` and ``mskd eval``: thin wrappers over the library.

``--summary`` prints the cost table of the model the options describe and exits without
training. Multi-process: run the same command under ``torchrun --nproc_per_node N``.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import typer
from mskd.train.options import DEFAULT_KD_TERMS

from mskd.config import config_option
from mskd.errors import ConfigError

_DATA = typer.Argument(..., help="SEE-layout dataset folder.")
_OUT = typer.Option(..., "--out", help="Output folder (checkpoint, logs).")


def _ints(text: str | None, name: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise ConfigError(f"{name} {text!r}: expected comma-separated integers") from exc


def _augment(text: str) -> dict:
    from mskd.train.augment import augment_options

    return augment_options(text)


_TASK = typer.Option("categorical", click_type=click.Choice(("categorical", "dimensional")),
                     help="categorical: the 7 emotion classes (WAR/UAR); dimensional: "
                          "valence and arousal per frame (CCC), from the dataset's "
                          "annotation/ CSVs.")
_VA_LOSS = typer.Option("ccc", click_type=click.Choice(("ccc", "mse")),
                        help="Dimensional task loss: 1 - CCC (default) or MSE.")

_AUGMENT_HELP = ("Per-clip training augmentation: 'default', 'none' or key=value pairs of "
                 "shift, scale, rotate (degrees), gamma (missing keys are 0).")


def _run(kind: str, data: str, out: str, summary: bool, progress: bool, **kw) -> None:
    from mskd.train.distributed import DistContext
    from mskd.train.loop import train
    from mskd.train.options import TrainOptions
    from mskd.train.report import print_summary, print_train_result

    opts = TrainOptions(kind=kind, data=data, out=out, **kw)
    if summary:
        print_summary(opts)
        return
    path = train(opts, progress=progress)
    if DistContext.from_env().is_main:
        print_train_result(path)


def register(app: typer.Typer) -> None:
    train_app = typer.Typer(no_args_is_help=True, help="Train the teacher and MSKD students.")

    @train_app.command("teacher", help="Train the multimodal (frames + events) teacher.")
    def teacher(
        config: str = config_option(),
        data: str = _DATA, out: str = _OUT,
        epochs: int = typer.Option(8, min=1, help="Epochs."),
        batch_size: int = typer.Option(16, min=1, help="Clips per batch (per process)."),
        lr: float = typer.Option(3e-3, help="Adam learning rate (x0.94 per epoch)."),
        seed: int = typer.Option(0, min=0, help="Seed of initialisation, data order and "
                                 "augmentation."),
        clip: str = typer.Option("E4-S3", help="Clip sampling E<n>-S<s>: n frames, s skipped "
                                 "between them."),
        size: int = typer.Option(32, min=1, help="Input side in pixels."),
        channels: str = typer.Option(None, help="Conv widths, e.g. 16,32."),
        hidden: int = typer.Option(None, min=1, help="Hidden spiking FC width."),
        resume: bool = typer.Option(False, help="Continue the checkpoint in --out."),
        summary: bool = typer.Option(False, help="Print parameters/MACs/synops and exit."),
        progress: bool = typer.Option(True, help="Show progress bars."),
        threads: int = typer.Option(1, min=0,
                                    help="torch threads per process (0: cores/processes)."),
        augment: str = typer.Option("default", help=_AUGMENT_HELP),
        task: str = _TASK, va_loss: str = _VA_LOSS,
    ) -> None:
        model = {k: v for k, v in {"channels": _ints(channels, "--channels"),
                                   "hidden": hidden}.items() if v is not None}
        _run("teacher", data, out, summary, progress, epochs=epochs, batch_size=batch_size,
             lr=lr, seed=seed, clip=clip, size=size, resume=resume, model=model,
             threads=threads, augment=_augment(augment), task=task, va_loss=va_loss)

    @train_app.command("student", help="Train a frames-only spiking student (MSKD).")
    def student(
        config: str = config_option(),
        data: str = _DATA, out: str = _OUT,
        teacher: str = typer.Option(None, "--teacher", help="Teacher checkpoint."),
        alpha: float = typer.Option(0.5, help="Distillation weight in [0,1]; 0 = no teacher."),
        tau: float = typer.Option(2.0, help="Softmax temperature of HCKD."),
        kd: str = typer.Option(None, help="Distillation terms, comma separated. Categorical: "
                               f"{', '.join(DEFAULT_KD_TERMS)} (the default), hckd, hckd_clip, "
                               "hckd_pair, kd, kd_ls; dimensional: out,feat (the default), "
                               "out, feat (formulas: docs/train.md)."),
        epochs: int = typer.Option(30, min=1, help="Epochs."),
        batch_size: int = typer.Option(16, min=1, help="Clips per batch (per process)."),
        lr: float = typer.Option(3e-3, help="AdamW learning rate (x0.94 per epoch)."),
        seed: int = typer.Option(0, min=0, help="Seed of initialisation, data order and "
                                 "augmentation."),
        clip: str = typer.Option("E4-S3", help="Clip sampling E<n>-S<s>: n frames, s skipped "
                                 "between them."),
        size: int = typer.Option(32, min=1, help="Input side in pixels."),
        channels: str = typer.Option(None, help="Conv widths, e.g. 8,16."),
        hidden: str = typer.Option(None, help="Hidden dense widths, e.g. 64."),
        steps_per_frame: int = typer.Option(4, min=1, max=1024, help="Steps each frame is "
                                            "held as input (LIF student)."),
        resume: bool = typer.Option(False, help="Continue the checkpoint in --out."),
        summary: bool = typer.Option(False, help="Print parameters/MACs/synops and exit."),
        progress: bool = typer.Option(True, help="Show progress bars."),
        threads: int = typer.Option(1, min=0, help="torch threads per process "
                                    "(0: cores/processes)."),
        augment: str = typer.Option("default", help=_AUGMENT_HELP),
        neuron: str = typer.Option("lif", help="lif: CUBA-LIF student on the sampled frames; "
                                               "sdnn: Loihi 2 sigma-delta student reading "
                                               "every camera frame of the clip."),
        sparsity: float = typer.Option(0.0, help="sdnn: weight of the activity (message "
                                                 "count) loss; trades accuracy for energy."),
        delta_threshold: float = typer.Option(None, "--delta-threshold",
                                              help="sdnn: hidden delta thresholds as a "
                                                   "fraction of each layer's mean activation "
                                                   "(default 0.05)."),
        subject_fraction: float = typer.Option(1.0, help="Train on this fraction of the "
                                                         "training subjects (label-scarce "
                                                         "runs)."),
        task: str = _TASK, va_loss: str = _VA_LOSS,
    ) -> None:
        model = {"channels": _ints(channels, "--channels"), "hidden": _ints(hidden, "--hidden")}
        if neuron == "sdnn":
            model["delta_rho"] = delta_threshold
        else:
            model["steps_per_frame"] = steps_per_frame
            if delta_threshold is not None:
                raise ConfigError("--delta-threshold applies to --neuron sdnn")
        model = {k: v for k, v in model.items() if v is not None}
        if kd is None:
            from mskd.train.losses_va import DEFAULT_VA_TERMS

            kd = ",".join(DEFAULT_VA_TERMS if task == "dimensional" else DEFAULT_KD_TERMS)
        kd_terms = tuple(k.strip() for k in kd.split(",") if k.strip())
        _run("student", data, out, summary, progress, teacher=teacher, alpha=alpha, tau=tau,
             kd_terms=kd_terms,
             epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, clip=clip, size=size,
             resume=resume, model=model, threads=threads, augment=_augment(augment),
             neuron=neuron, sparsity=sparsity, subject_fraction=subject_fraction, task=task,
             va_loss=va_loss)

    app.add_typer(train_app, name="train")

    @app.command("eval", help="WAR/UAR per lighting and confusion over K clip views.")
    def eval_cmd(
        config: str = config_option(),
        ckpt: str = typer.Argument(..., help="Teacher or student checkpoint."),
        data: str = _DATA,
        views: int = typer.Option(5, min=1, max=1000, help="Seeded clip views to average "
                                  "(SEEN: 20)."),
        split: str = typer.Option("test", click_type=click.Choice(("train", "test")),
                                  help="Split to evaluate."),
        seed: int = typer.Option(0, min=0, help="Seed of the view starts."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
        threads: int = typer.Option(1, min=0, help="torch threads (0: all cores)."),
    ) -> None:
        import os

        import torch
        from mskd.train.evaluate import evaluate

        if split not in ("train", "test"):
            raise ConfigError(f"--split {split!r}: choose train or test")
        torch.set_num_threads(threads or os.cpu_count() or 1)
        from mskd.train.report import print_eval

        if views < 1:
            raise ConfigError(f"--views {views} must be >= 1")
        result = evaluate(Path(ckpt), data, views=views, split=split, seed=seed)
        if as_json:
            typer.echo(json.dumps(result, indent=2))
        else:
            print_eval(result)

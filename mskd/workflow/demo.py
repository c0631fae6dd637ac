"""``mskd demo``: from nothing to a deployed, verified, profiled student in one command.

Stages (:data:`mskd.workflow.stages.DEMO_STAGES`), each a folder under ``--out`` written
atomically and keyed by the options that reach it and the content of what it reads:
``data`` (synthetic SEE-layout set) -> ``teacher`` -> ``student`` (MSKD) -> ``eval`` ->
``convert`` (netx HDF5 + quantization/mapping report, float vs deployed accuracy on the
test split with the simulator) -> ``verify`` (simulator vs Lava on test clips) ->
``profile`` (Loihi 1 and Loihi 2) -> ``summary.md`` with the plots, and a few lines in the
terminal. Re-running skips unchanged stages (``--force`` re-runs them); training resumes
from its last epoch checkpoint after an interruption; a failing stage keeps earlier results.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from mskd.errors import ConfigError
from mskd.fsio import check_writable, output_lock

PROFILES = ("loihi1", "loihi2")
NEURONS = ("lif", "sdnn")


@dataclass(frozen=True)
class DemoOptions:
    """Settings of ``mskd demo`` (each is also a ``--config`` key)."""

    out: str = "runs/demo"
    subjects: int = 24
    seed: int = 0
    synth_size: int = 48
    size: int = 32
    clip: str = "E4-S3"
    teacher_epochs: int = 8  # as `mskd train teacher`
    student_epochs: int = 30  # as `mskd train student`
    augment: str = "default"  # training augmentation of both models: "default", "none", k=v,..
    neuron: str = "sdnn"  # the student: "sdnn" (sigma-delta, Loihi 2) or "lif" (CUBA-LIF)
    # "categorical" (7 emotions) or "dimensional" (valence/arousal per frame, M2PKD-style
    # privileged distillation at the output)
    task: str = "categorical"
    alpha: float = 0.5
    tau: float = 2.0
    eval_views: int = 5  # seeded clip views per test sequence (SEEN averages 20)
    verify_samples: int = 2
    profile_clips: int = 64

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"--alpha {self.alpha} must be in [0, 1]")
        if self.neuron not in NEURONS:
            raise ConfigError(f"--neuron {self.neuron!r}: expected one of {', '.join(NEURONS)}")
        if self.tau <= 0:
            raise ConfigError(f"--tau {self.tau} must be > 0")
        if self.task not in ("categorical", "dimensional"):
            raise ConfigError(f"--task {self.task!r}: expected categorical or dimensional")
        for name in ("subjects", "teacher_epochs", "student_epochs", "eval_views",
                     "verify_samples", "profile_clips", "size", "synth_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        from mskd.clips import ClipSpec
        from mskd.data.synth import SynthSettings

        try:
            span, longest = ClipSpec.parse(self.clip).span, SynthSettings.max_length
        except ValueError as exc:
            raise ConfigError(f"--clip: {exc}") from None
        if span > longest:  # refused now, not after the data stage
            raise ConfigError(f"--clip {self.clip} spans {span} frames but the synthetic "
                              f"sequences have at most {longest}")
        self.augment_dict()  # validates

    def augment_dict(self) -> dict:
        from mskd.train.augment import augment_options

        return augment_options(self.augment)


#: Defaults without building the dataclass (its validation imports torch; --help must not).
DEFAULTS = {f.name: f.default for f in fields(DemoOptions)}


def run_stages(runner, o: DemoOptions, stages=None) -> dict[str, Path]:
    """Run (or skip) every demo stage in order; returns ``{stage: folder}``."""
    from mskd.workflow.stages import DEMO_STAGES, run_stage

    return {s.name: run_stage(runner, s, o) for s in (stages or DEMO_STAGES)}


def run_demo(o: DemoOptions, force: bool = False, console=None, echo=print) -> Path:
    """Run every stage under ``o.out`` (progress on ``console``, stderr by default), write
    ``summary.md``, and ``echo`` the closing lines (accuracy, exactness, cost, the summary
    path); returns the summary path."""
    from rich.console import Console

    console = console or Console(stderr=True)
    out = Path(o.out)
    check_writable(out)
    start = time.perf_counter()

    def event(name: str, what: str) -> None:
        console.print(f"[bold cyan]{name:>8}[/] {what} ({time.perf_counter() - start:.0f} s)")

    with output_lock(out):  # a second demo on this folder fails at once, in one line
        return _run_stages(o, out, force, event, start, echo)


def _run_stages(o: DemoOptions, out: Path, force: bool, event, start: float, echo) -> Path:
    from mskd.workflow.cache import StageRunner
    from mskd.workflow.stages import profiles_for
    from mskd.workflow.summary_page import closing_lines, write_summary

    runner = StageRunner(out, force=force, on_event=event)
    folders = run_stages(runner, o)
    chips = profiles_for(o)
    summary = write_summary(out, asdict(o), folders, invocation_seconds=time.perf_counter()
                            - start, skipped=runner.skipped, profiles=chips)
    for line in closing_lines(folders, summary, time.perf_counter() - start, runner.skipped,
                              profiles=chips):
        echo(line)
    return summary


def register(app) -> None:
    """Add ``mskd demo`` to the CLI (``mskd.cli`` mounts it, and ``mskd bench`` beside it)."""
    import typer

    from mskd.config import config_option

    d = DEFAULTS

    @app.command("demo", help="Synthetic data -> teacher -> MSKD student -> netx HDF5 -> "
                              "simulator accuracy -> Lava check -> Loihi profiles -> "
                              "summary.md (about 5 minutes on 2 cores; cached per stage).")
    def demo(
        config: str = config_option(),
        out: str = typer.Option(d["out"], help="Output folder (stages resume here)."),
        subjects: int = typer.Option(d["subjects"], min=1, help="Synthetic subjects."),
        seed: int = typer.Option(d["seed"], help="Seed of the data, training and clip views."),
        synth_size: int = typer.Option(d["synth_size"], min=1,
                                       help="Synthetic image side on disk, pixels."),
        size: int = typer.Option(d["size"], min=1, help="Training input side, pixels."),
        clip: str = typer.Option(d["clip"], help="Clip sampling E<n>-S<s>: n frames, s "
                                                 "skipped between them."),
        teacher_epochs: int = typer.Option(d["teacher_epochs"], min=1,
                                           help="Teacher training epochs."),
        student_epochs: int = typer.Option(d["student_epochs"], min=1,
                                           help="Student training epochs."),
        augment: str = typer.Option(d["augment"], help="Training augmentation: default, none "
                                    "or key=value pairs of shift, scale, rotate, gamma."),
        neuron: str = typer.Option(d["neuron"], help="Student: sdnn (sigma-delta, graded spikes, "
                                   "Loihi 2 only) or lif (CUBA-LIF, Loihi 1 and 2)."),
        task: str = typer.Option(d["task"], help="categorical (7 emotions, WAR/UAR) or "
                                 "dimensional (valence and arousal per frame, CCC; the "
                                 "student distilled at the output and a feature layer, "
                                 "M2PKD-style)."),
        alpha: float = typer.Option(d["alpha"], help="MSKD weight in [0, 1] (0: no teacher)."),
        tau: float = typer.Option(d["tau"], help="HCKD softmax temperature."),
        eval_views: int = typer.Option(d["eval_views"], min=1,
                                       help="Seeded clip views per test sequence."),
        verify_samples: int = typer.Option(d["verify_samples"], min=1,
                                           help="Test clips checked against Lava."),
        profile_clips: int = typer.Option(d["profile_clips"], min=1,
                                          help="Test clips profiled."),
        force: bool = typer.Option(False, help="Re-run every stage."),
    ) -> None:
        opts = DemoOptions(out=out, subjects=subjects, seed=seed, synth_size=synth_size,
                           size=size, clip=clip, teacher_epochs=teacher_epochs,
                           student_epochs=student_epochs, augment=augment, neuron=neuron,
                           task=task, alpha=alpha, tau=tau,
                           eval_views=eval_views, verify_samples=verify_samples,
                           profile_clips=profile_clips)
        run_demo(opts, force=force)

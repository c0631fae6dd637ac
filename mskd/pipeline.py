"""``mskd demo``: from nothing to a deployed, verified, profiled student in one command.

Stages, each a folder under ``--out`` written atomically and keyed by a hash of its inputs
and settings (:mod:`mskd.stages`): ``data`` (synthetic SEE-layout set) -> ``teacher`` ->
``student`` (MSKD) -> ``convert`` (netx HDF5 + quantization/mapping report, float vs
deployed accuracy on the test split with the simulator) -> ``verify`` (simulator vs Lava on
a few samples) -> ``profile`` (Loihi 1 and Loihi 2) -> ``summary.md`` with the plots.
Re-running skips unchanged stages (``--force`` re-runs them); training resumes from its
last epoch checkpoint after an interruption; a failing stage keeps earlier results.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from rich.console import Console

from mskd.errors import ConfigError
from mskd.fsio import output_lock
from mskd.stages import StageRunner

PROFILES = ("loihi1", "loihi2")


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
    alpha: float = 0.5
    tau: float = 2.0
    eval_views: int = 5  # seeded clip views per test sequence (SEEN averages 20)
    verify_samples: int = 2
    profile_clips: int = 64

    def __post_init__(self) -> None:
        if not 0.0 <= self.alpha <= 1.0:
            raise ConfigError(f"--alpha {self.alpha} must be in [0, 1]")
        for name in ("subjects", "teacher_epochs", "student_epochs", "eval_views",
                     "verify_samples", "profile_clips"):
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be >= 1")
        self.augment_dict()  # validates

    def augment_dict(self) -> dict:
        from mskd.train.augment import augment_options

        return augment_options(self.augment)


def _key_of(stage_dir: Path) -> str:
    return json.loads((stage_dir / "stage.json").read_text())["key_sha256"]


def _copy_tree(src: Path, dst: Path) -> None:
    for item in src.iterdir():
        target = dst / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            shutil.copy2(item, target)


def _train_stage(runner: StageRunner, name: str, key: dict, **train_kw) -> Path:
    """Train into a stable work folder (so a killed run resumes), then publish the stage."""
    from mskd.stages import key_digest, versioned
    from mskd.train.loop import train
    from mskd.train.options import TrainOptions

    # the work folder outlives an interrupted run; keyed like the stage (version included)
    work = runner.out / ".work" / f"{name}-{key_digest(versioned(key))[:12]}"

    if runner.force and work.exists():
        shutil.rmtree(work)  # --force retrains from scratch

    def fn(tmp: Path) -> None:
        ckpt_exists = any(work.glob("*.safetensors")) if work.exists() else False
        opts = TrainOptions(out=str(work), resume=ckpt_exists, **train_kw)
        train(opts, progress=True)
        _copy_tree(work, tmp)

    return runner.run(name, key, fn)


def _data_stage(runner: StageRunner, o: DemoOptions) -> Path:
    from mskd.data.synth import synthesize

    key = {"subjects": o.subjects, "seed": o.seed, "size": o.synth_size}
    return runner.run("data", key, lambda tmp: synthesize(
        tmp / "see", subjects=o.subjects, seed=o.seed, size=o.synth_size, workers=2,
        progress=True)) / "see"


def _models(runner: StageRunner, o: DemoOptions, data: Path, tag: str = "",
            alphas: tuple[float, ...] | None = None) -> tuple[Path, list[Path]]:
    """Train the teacher and one student per alpha (default: ``o.alpha``); stage names end
    in ``tag``. Returns the checkpoint paths."""
    from mskd.train.loop import CKPT_NAME

    common = {"data": str(data), "seed": o.seed, "clip": o.clip, "size": o.size,
              "augment": o.augment_dict()}
    t_key = {"data": _key_of(data.parent), "epochs": o.teacher_epochs, **common}
    teacher = _train_stage(runner, f"teacher{tag}", t_key, kind="teacher",
                           epochs=o.teacher_epochs, **common) / CKPT_NAME
    students = []
    for alpha in alphas or (o.alpha,):
        kd = {"alpha": alpha, "tau": o.tau, **({"teacher": str(teacher)} if alpha > 0 else {})}
        s_key = {"teacher": _key_of(teacher.parent) if alpha > 0 else None,
                 "epochs": o.student_epochs, **kd, **common}
        name = f"student{tag}" if alphas is None else f"student-a{alpha:g}{tag}"
        students.append(_train_stage(runner, name, s_key, kind="student",
                                     epochs=o.student_epochs, **kd, **common) / CKPT_NAME)
    return teacher, students


def _eval_stage(runner: StageRunner, o: DemoOptions, teacher: Path, student: Path,
                data: Path) -> dict:
    from mskd.fsio import write_json
    from mskd.train.evaluate import evaluate

    key = {"teacher": _key_of(teacher.parent), "student": _key_of(student.parent),
           "views": o.eval_views}

    def fn(tmp: Path) -> None:
        write_json(tmp / "eval.json", {
            name: evaluate(ckpt, str(data), views=o.eval_views, seed=o.seed)
            for name, ckpt in (("teacher", teacher), ("student", student))})

    return json.loads((runner.run("eval", key, fn) / "eval.json").read_text())


def _convert_stage(runner: StageRunner, o: DemoOptions, student: Path, data: Path) -> Path:
    from mskd.convert.pipeline import ConvertOptions, convert_checkpoint

    key = {"student": _key_of(student.parent), "views": o.eval_views}

    def fn(tmp: Path) -> None:
        opts = ConvertOptions(eval=str(data), views=o.eval_views, report=str(tmp / "report"),
                              onnx=str(tmp / "onnx"), nir=str(tmp / "student.nir"))
        convert_checkpoint(student, tmp / "student.net", opts)

    return runner.run("convert", key, fn) / "student.net"


def _verify_stage(runner: StageRunner, o: DemoOptions, net: Path, data: Path) -> Path:
    key = {"net": _key_of(net.parent), "samples": o.verify_samples}

    def fn(tmp: Path) -> None:
        from mskd.deploy.verify import verify_net
        from mskd.fsio import write_json

        x = encoded_test_clips(net, data, o.verify_samples, o.seed)
        verdict, exact = verify_net(net, input=x)
        write_json(tmp / "verify.json", {"bit_exact": exact, "verdict": verdict,
                                         "samples": int(x.shape[0]), "steps": int(x.shape[1])})

    return runner.run("verify", key, fn) / "verify.json"


def encoded_test_clips(net: Path, data: Path, samples: int, seed: int = 0):
    """The first ``samples`` test clips of ``data`` encoded as ``net``'s input (numpy)."""
    import torch

    from mskd.data.see import SEEDataset
    from mskd.encoding import encode_frames, read_encoding

    enc = read_encoding(net)
    ds = SEEDataset(data, "test", clip=enc.clip, size=enc.size, train=False, seed=seed)
    frames = torch.stack([ds[i][0] for i in range(min(samples, len(ds)))])
    return encode_frames(frames, enc).numpy()


def _profile_stage(runner: StageRunner, o: DemoOptions, net: Path, data: Path,
                   teacher: Path, student: Path) -> Path:
    from mskd.deploy.profile_cli import profile_command

    key = {"net": _key_of(net.parent), "clips": o.profile_clips, "profiles": PROFILES}
    macs = _ann_macs(teacher, student, o.clip)

    def fn(tmp: Path) -> None:
        for name in PROFILES:
            profile_command(net, data=data, profile=name, out=tmp / name,
                            limit=o.profile_clips, macs=[f"{k}={v}" for k, v in macs.items()],
                            verbose=False)

    return runner.run("profile", key, fn)


def _ann_macs(teacher: Path, student: Path, clip: str) -> dict[str, int]:
    """MACs per clip of the teacher and the student run as ANNs: one pass per clip frame
    (the summary's MACs are per time step), plus the teacher's spatial branch once."""
    from mskd.data.clips import ClipSpec
    from mskd.train.models import load_model
    from mskd.train.summary import summarize

    n = ClipSpec.parse(clip).n
    t, s = summarize(load_model(teacher)), summarize(load_model(student))
    return {"teacher-ann": int(t["macs"] * n + t.get("spatial_macs_per_clip", 0)),
            "student-ann": int(s["macs"] * n)}


def run_demo(o: DemoOptions, force: bool = False, console: Console | None = None) -> Path:
    """Run every stage under ``o.out`` and write ``summary.md``; returns the summary path."""
    console = console or Console(stderr=True)
    out = Path(o.out)
    _check_writable(out)
    start = time.perf_counter()

    def event(name: str, what: str) -> None:
        console.print(f"[bold cyan]{name:>8}[/] {what} ({time.perf_counter() - start:.0f} s)")

    with output_lock(out):  # a second demo on this folder fails at once, in one line
        return _run_stages(o, out, force, console, event, start)


def _run_stages(o: DemoOptions, out: Path, force: bool, console: Console, event,
                start: float) -> Path:
    from mskd.summary import write_summary

    runner = StageRunner(out, force=force, on_event=event)
    data = _data_stage(runner, o)
    teacher, (student,) = _models(runner, o, data)
    evals = _eval_stage(runner, o, teacher, student, data)
    net = _convert_stage(runner, o, student, data)
    verify = _verify_stage(runner, o, net, data)
    profile = _profile_stage(runner, o, net, data, teacher, student)
    summary = write_summary(out, asdict(o), teacher=teacher, student=student, net=net,
                            verify=verify, profile=profile, data=data,
                            evals=evals, seconds=time.perf_counter() - start)
    console.print(f"[bold green]done[/] in {time.perf_counter() - start:.0f} s: {summary}")
    return summary


def _check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"{out}: output folder is not writable ({exc.strerror})") from exc


def register(app) -> None:
    """Add ``mskd demo`` and ``mskd bench`` to the CLI."""
    import typer

    from mskd.config import config_option

    d = DemoOptions()

    @app.command("demo", help="Synthetic data -> teacher -> MSKD student -> netx HDF5 -> "
                              "simulator accuracy -> Lava check -> Loihi profiles -> summary.md.")
    def demo(
        config: str = config_option(),
        out: str = typer.Option(d.out, help="Output folder (stages resume here)."),
        subjects: int = typer.Option(d.subjects, help="Synthetic subjects."),
        seed: int = typer.Option(d.seed),
        synth_size: int = typer.Option(d.synth_size, help="Synthetic image side on disk."),
        size: int = typer.Option(d.size, help="Training input side."),
        clip: str = typer.Option(d.clip, help="E<n>-S<s> clip sampling."),
        teacher_epochs: int = typer.Option(d.teacher_epochs),
        student_epochs: int = typer.Option(d.student_epochs),
        augment: str = typer.Option(d.augment, help="Training augmentation: default, none or "
                                                    "key=value pairs (see mskd train)."),
        alpha: float = typer.Option(d.alpha, help="MSKD weight in [0, 1]."),
        tau: float = typer.Option(d.tau, help="HCKD temperature."),
        eval_views: int = typer.Option(d.eval_views, help="Seeded clip views per test sequence."),
        verify_samples: int = typer.Option(d.verify_samples, help="Clips checked against Lava."),
        profile_clips: int = typer.Option(d.profile_clips, help="Test clips profiled."),
        force: bool = typer.Option(False, help="Re-run every stage."),
    ) -> None:
        opts = DemoOptions(out=out, subjects=subjects, seed=seed, synth_size=synth_size,
                           size=size, clip=clip, teacher_epochs=teacher_epochs,
                           student_epochs=student_epochs, augment=augment, alpha=alpha, tau=tau,
                           eval_views=eval_views, verify_samples=verify_samples,
                           profile_clips=profile_clips)
        print(run_demo(opts, force=force))

    from mskd.bench import register as register_bench

    register_bench(app)

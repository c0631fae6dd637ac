"""The stages of ``mskd demo`` (and ``mskd bench``) as data: what each reads, and its work.

A :class:`StageDef` names the options (fields of :class:`mskd.workflow.demo.DemoOptions`) that
reach the stage and the upstream stages whose output it reads. Its key
(:func:`stage_key`) is made of exactly those: the option values, and the upstream outputs
as content hashes (``output_sha256`` of their ``stage.json``), never as paths. So a stage
re-runs exactly when an option that reaches it, or the content of what it reads, changed;
:func:`downstream_of` gives, for one option, the stages that must re-run, and the tests
hold the runner to it option by option.

>>> sorted(downstream_of("tau", DEMO_STAGES))
['convert', 'eval', 'profile', 'student', 'verify']
>>> sorted(downstream_of("verify_samples", DEMO_STAGES))
['verify']
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mskd.workflow.cache import StageRunner, key_digest, versioned

PROFILES = ("loihi1", "loihi2")
CKPT_NAME = "checkpoint.safetensors"  # as mskd.train.loop.CKPT_NAME (not imported: torch)
NET_NAME = "student.net"


@dataclass(frozen=True)
class StageContext:
    """What a stage's work sees: the options, its own name and key digest, and the folder
    of each upstream stage it reads (by role)."""

    o: Any
    runner: StageRunner
    name: str
    digest: str
    inputs: dict[str, Path]

    @property
    def data(self) -> Path:
        return self.inputs["data"] / "see"

    def ckpt(self, role: str) -> Path:
        return self.inputs[role] / CKPT_NAME

    @property
    def net(self) -> Path:
        return self.inputs["convert"] / NET_NAME


@dataclass(frozen=True)
class StageDef:
    """A stage: the options that reach it, the upstream stages it reads (by role), and
    ``work(tmp_folder, ctx)``. ``only_if[role]`` drops an input the options do not use."""

    name: str
    settings: tuple[str, ...]
    inputs: tuple[str, ...]
    work: Callable[[Path, StageContext], None]
    only_if: dict[str, Callable[[Any], bool]] = field(default_factory=dict)

    def inputs_of(self, o) -> tuple[str, ...]:
        return tuple(r for r in self.inputs if self.only_if.get(r, lambda _: True)(o))


def setting_value(o, name: str):
    """An option as it enters a key: ``augment`` as its parsed ranges, so ``default`` and
    the same ranges spelled out are one key."""
    return o.augment_dict() if name == "augment" else getattr(o, name)


def stage_key(runner: StageRunner, sdef: StageDef, o, upstream: dict[str, str]) -> dict:
    """The settings that reach ``sdef`` and the content hash of each stage it reads."""
    return {"settings": {s: setting_value(o, s) for s in sdef.settings},
            "inputs": {role: runner.output_digest(stage) for role, stage in upstream.items()}}


def run_stage(runner: StageRunner, sdef: StageDef, o, upstream: dict[str, str] | None = None,
              name: str | None = None) -> Path:
    """Run (or skip) ``sdef`` as stage folder ``name``; ``upstream`` maps an input role to
    the stage folder that fills it (default: the folder named like the role)."""
    name = name or sdef.name
    roles = {r: (upstream or {}).get(r, r) for r in sdef.inputs_of(o)}
    key = stage_key(runner, sdef, o, roles)
    ctx = StageContext(o, runner, name, key_digest(versioned(key)),
                       {r: runner.out / s for r, s in roles.items()})
    return runner.run(name, key, lambda tmp: sdef.work(tmp, ctx))


def downstream_of(option: str, stages: tuple[StageDef, ...], o=None) -> set[str]:
    """Stages that read ``option``, and every stage that reads one of theirs."""
    hit: set[str] = set()
    for s in stages:  # stages are in dependency order
        ins = s.inputs if o is None else s.inputs_of(o)
        if option in s.settings or hit.intersection(ins):
            hit.add(s.name)
    return hit


# -- the work of each stage ---------------------------------------------------------------

def _data(tmp: Path, ctx: StageContext) -> None:
    from mskd.data.synth import synthesize

    o = ctx.o
    synthesize(tmp / "see", subjects=o.subjects, seed=o.seed, size=o.synth_size, workers=2,
               progress=True)


def _copy_tree(src: Path, dst: Path) -> None:
    for item in src.iterdir():
        target = dst / item.name
        if item.is_dir():
            shutil.copytree(item, target)
        else:
            shutil.copy2(item, target)


def train_into(tmp: Path, ctx: StageContext, kind: str, **train_kw) -> None:
    """Train in ``OUT/.work/<stage>-<key>`` (so a killed run resumes there), then copy the
    result into the stage's folder. Work folders of the same stage under other keys are
    stale and removed; ``--force`` retrains from scratch."""
    from mskd.train.loop import train
    from mskd.train.options import TrainOptions

    root = ctx.runner.out / ".work"
    work = root / f"{ctx.name}-{ctx.digest[:12]}"
    for old in root.glob(f"{ctx.name}-*") if root.is_dir() else ():
        if old != work and re.fullmatch(r"[0-9a-f]{12}", old.name[len(ctx.name) + 1:]):
            shutil.rmtree(old, ignore_errors=True)
    if ctx.runner.force and work.exists():
        shutil.rmtree(work)
    resume = work.exists() and any(work.glob("*.safetensors"))
    o = ctx.o
    opts = TrainOptions(kind=kind, data=str(ctx.data), out=str(work), resume=resume,
                        seed=o.seed, clip=o.clip, size=o.size, augment=o.augment_dict(),
                        **train_kw)
    train(opts, progress=True)
    _copy_tree(work, tmp)


def _teacher(tmp: Path, ctx: StageContext) -> None:
    train_into(tmp, ctx, "teacher", epochs=ctx.o.teacher_epochs, task=ctx.o.task)


def _student(tmp: Path, ctx: StageContext) -> None:
    o = ctx.o
    kd = {"alpha": o.alpha, "tau": o.tau}
    if "teacher" in ctx.inputs:
        kd["teacher"] = str(ctx.ckpt("teacher"))
    train_into(tmp, ctx, "student", epochs=o.student_epochs, neuron=o.neuron, task=o.task,
               **kd)


def _eval(tmp: Path, ctx: StageContext) -> None:
    from mskd.fsio import write_json
    from mskd.train.evaluate import evaluate

    o = ctx.o
    write_json(tmp / "eval.json", {
        role: evaluate(ctx.ckpt(role), str(ctx.data), views=o.eval_views, seed=o.seed)
        for role in ("teacher", "student")})


def _convert(tmp: Path, ctx: StageContext) -> None:
    from mskd.convert.pipeline import ConvertOptions, convert_checkpoint

    # NIR has no sigma-delta neuron: a sigma-delta student gets netx and ONNX only
    nir = str(tmp / "student.nir") if ctx.o.neuron == "lif" else None
    opts = ConvertOptions(eval=str(ctx.data), views=ctx.o.eval_views,
                          report=str(tmp / "report"), onnx=str(tmp / "onnx"), nir=nir)
    convert_checkpoint(ctx.ckpt("student"), tmp / NET_NAME, opts)


def _verify(tmp: Path, ctx: StageContext) -> None:
    from mskd.data.encode import encode_clips
    from mskd.deploy.verify import verify_net
    from mskd.fsio import write_json

    clips = encode_clips(ctx.net, ctx.data, "test", limit=ctx.o.verify_samples, seed=ctx.o.seed)
    verdict, exact = verify_net(ctx.net, input=clips.x, described=clips.describe())
    write_json(tmp / "verify.json", {"bit_exact": exact, "verdict": verdict,
                                     "samples": int(clips.x.shape[0]),
                                     "steps": int(clips.x.shape[1]), "inputs": clips.describe()})


def ann_macs(teacher: Path, student: Path, clip: str) -> dict[str, int]:
    """MACs per clip of the teacher and the student run as ANNs: one pass per frame read
    (the summary's MACs are per time step; a sigma-delta student reads every frame of the
    clip's span), plus the teacher's spatial branch once."""
    from mskd.clips import ClipSpec
    from mskd.train.costs import summarize
    from mskd.train.models import load_model

    spec = ClipSpec.parse(clip)
    student_model = load_model(student)
    t, s = summarize(load_model(teacher)), summarize(student_model)
    frames = spec.span if getattr(student_model, "dense", False) else spec.n
    return {"teacher-ann": int(t["macs"] * spec.n + t.get("spatial_macs_per_clip", 0)),
            "student-ann": int(s["macs"] * frames)}


def profiles_for(o) -> tuple[str, ...]:
    """The chips a student is profiled on: a sigma-delta student needs graded spikes,
    which Loihi 1 does not have (its design rule refuses the network)."""
    return PROFILES if o.neuron == "lif" else ("loihi2",)


def _profile(tmp: Path, ctx: StageContext) -> None:
    from mskd.profiling.cli import profile_command

    o = ctx.o
    macs = ann_macs(ctx.ckpt("teacher"), ctx.ckpt("student"), o.clip)
    for name in profiles_for(o):
        profile_command(ctx.net, data=ctx.data, profile=name, out=tmp / name,
                        limit=o.profile_clips, macs=[f"{k}={v}" for k, v in macs.items()],
                        verbose=False)


DATA = StageDef("data", ("subjects", "seed", "synth_size"), (), _data)
TEACHER = StageDef("teacher", ("seed", "clip", "size", "augment", "teacher_epochs", "task"),
                   ("data",), _teacher)
STUDENT = StageDef("student", ("seed", "clip", "size", "augment", "student_epochs", "neuron",
                               "task", "alpha", "tau"), ("data", "teacher"), _student,
                   only_if={"teacher": lambda o: o.alpha > 0})
EVAL = StageDef("eval", ("eval_views", "seed"), ("data", "teacher", "student"), _eval)
CONVERT = StageDef("convert", ("eval_views",), ("data", "student"), _convert)
VERIFY = StageDef("verify", ("verify_samples", "seed"), ("data", "convert"), _verify)
PROFILE = StageDef("profile", ("profile_clips", "clip", "neuron"),
                   ("data", "convert", "teacher", "student"), _profile)

#: The demo, in dependency order.
DEMO_STAGES = (DATA, TEACHER, STUDENT, EVAL, CONVERT, VERIFY, PROFILE)

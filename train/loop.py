"""The training loop for teacher and students: epochs, checkpoints, resume, DDP, logs.

Reproducibility: the model is initialised from ``seed``, batches depend only on
``(seed, epoch)``, the learning rate is ``lr * gamma**epoch`` (no scheduler state), and the
checkpoint written after every epoch holds weights, optimizer state and the torch RNG
state. A run resumed from epoch k's checkpoint therefore ends with exactly the weights of an
uninterrupted run. A non-finite loss stops training with a clear error; the last written
checkpoint (the last good epoch) stays as it was.
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path

import torch
from mskd.train import distributed as D
from mskd.train.augment import AugmentedClips, ClipAugment
from mskd.train.batching import collate, see_dataset, train_loader
from mskd.train.calibrate_lif import calibrate_thresholds
from mskd.train.checkpoint import load_checkpoint, restore_model, restore_optimizer, save_checkpoint
from mskd.train.losses import cls_loss, mskd_loss
from mskd.train.models import build_model, load_model, model_for
from mskd.train.options import RESUME_KEYS, TrainOptions
from mskd.train.progress import EpochBar
from mskd.train.teacher_cache import TeacherCache
from torch.nn.parallel import DistributedDataParallel

from mskd.clips import ClipSpec
from mskd.errors import CheckpointError, ConfigError, MskdError
from mskd.fsio import output_lock, write_text

CKPT_NAME = "checkpoint.safetensors"


class NonFiniteLoss(MskdError):
    """The loss became NaN or infinite."""


def _threads(opts: TrainOptions, ctx: D.DistContext) -> None:
    """``threads`` per process; 0 shares the cores among the processes."""
    import os

    torch.set_num_threads(opts.threads or max(1, (os.cpu_count() or 1) // ctx.world))


def _resume(opts: TrainOptions, path: Path, model, optimizer) -> tuple[int, list, object]:
    ckpt = load_checkpoint(path, opts.kind)
    now = json.loads(json.dumps(opts.to_dict()))  # tuples -> lists, as stored
    for key in RESUME_KEYS:
        if ckpt.options.get(key) != now[key]:
            raise ConfigError(f"{path}: cannot resume, option {key!r} was "
                              f"{str(ckpt.options.get(key))[:80]!r}, now {now[key]!r}")
    epoch, history = _resume_state(ckpt.state, path)
    restore_model(ckpt, model)
    restore_optimizer(ckpt, optimizer)
    if ckpt.rng is None:
        raise CheckpointError(f"{path}: tensor 'rng.torch' is missing (needed to resume)")
    return epoch + 1, history, ckpt.rng


def _resume_state(state: dict, path: Path) -> tuple[int, list]:
    """The last finished epoch and the history, consistent with each other: one history
    entry (a table) per finished epoch."""
    epoch, history = state.get("epoch"), state.get("history")
    if not isinstance(epoch, int) or isinstance(epoch, bool) or epoch < 0:
        raise CheckpointError(f"{path}: field 'state.epoch' is {str(epoch)[:40]!r}, expected "
                              "the last finished epoch (an integer >= 0)")
    if not isinstance(history, list) or len(history) != epoch + 1 or \
            not all(isinstance(h, dict) for h in history):
        raise CheckpointError(f"{path}: field 'state.history' must list one table per "
                              f"finished epoch ({epoch + 1}), got "
                              f"{len(history) if isinstance(history, list) else history!r}")
    return epoch, list(history)


def _initial_model(opts: TrainOptions, path: Path, teacher=None) -> torch.nn.Module:
    """A fresh model, or one with the stored config when resuming (same weight exponents)."""
    if opts.resume and path.exists():
        return model_for(load_checkpoint(path, opts.kind))
    cfg = opts.model_config()
    if feature_kd(opts) and teacher is not None:  # projection onto the teacher's features
        cfg["kd_projection"] = teacher.config.hidden
    if opts.kind == "student":  # trained with standardised weights unless the options say no
        cfg = {"weight_standardize": True, **cfg}
    n_frames = None
    if opts.kind == "student":
        clip = ClipSpec.parse(opts.clip)
        n_frames = clip.span if opts.neuron == "sdnn" else clip.n
    if opts.neuron == "sdnn":
        cfg["neuron"] = "sdnn"
    return build_model(opts.kind, cfg, n_frames)


def _calibrated(model, ds, opts: TrainOptions):
    """A fresh student's thresholds set on the first 32 clips of epoch 0 (deterministic)."""
    if model.kind != "student":
        return model
    sdnn = getattr(model, "dense", False)
    if not sdnn and model.config.target_rate <= 0:
        return model
    if hasattr(ds, "set_epoch"):
        ds.set_epoch(0)
    frames = collate([ds[i] for i in range(min(32, len(ds)))]).frames
    if sdnn:
        from mskd.train.calibrate_sdnn import calibrate_delta_thresholds

        return calibrate_delta_thresholds(model, frames)
    return calibrate_thresholds(model, frames, model.config.target_rate)


def kd_positions(opts: TrainOptions) -> list[int] | None:
    """Where the teacher's steps sit among the student's frames: the sampled frames of the
    clip for a sigma-delta student (it reads every frame), all of them otherwise."""
    return ClipSpec.parse(opts.clip).sampled_positions() if opts.neuron == "sdnn" else None


def feature_kd(opts: TrainOptions) -> bool:
    """Whether training matches features (dimensional ``feat`` term): the teacher cache then
    holds the teacher's features beside its outputs, and the student a projection."""
    return opts.task == "dimensional" and opts.alpha > 0 and "feat" in opts.kd_terms


def _step_va(opts, net, batch, teacher) -> tuple[torch.Tensor, torch.Tensor, dict]:
    """Dimensional task: valence/arousal per frame against ``batch.va``, plus privileged
    distillation (:func:`mskd.train.losses_va.pkd_loss`)."""
    from mskd.train.losses_va import VA_OUTPUTS, pkd_loss

    if batch.va is None:
        raise ConfigError("--task dimensional needs per-frame valence/arousal annotations "
                          "(the dataset gave none)")
    if opts.kind == "teacher":
        z = net(batch.frames, batch.events)
        return pkd_loss(z, batch.va, 0.0, (), opts.va_loss)[0], z, {}
    z = net(batch.frames)
    z_t = f_s = f_t = None
    if teacher is not None:
        both = teacher(batch)
        z_t, f_t = both[..., :VA_OUTPUTS], both[..., VA_OUTPUTS:]
        if feature_kd(opts):
            model = net.module if hasattr(net, "module") else net
            f_s = model.kd_features()
    loss, parts = pkd_loss(z, batch.va, opts.alpha, opts.kd_terms, opts.va_loss, z_t, f_s,
                           f_t, kd_positions(opts))
    return loss, z, parts


def _step(opts, net, batch, teacher) -> tuple[torch.Tensor, torch.Tensor, dict]:
    if opts.task == "dimensional":
        loss, z, parts = _step_va(opts, net, batch, teacher)
        return _with_activity(opts, net, loss, parts), z, parts
    if opts.kind == "teacher":
        z = net(batch.frames, batch.events)
        return cls_loss(z, None, batch.labels), z, {}
    z_t = teacher(batch) if teacher is not None else None
    z = net(batch.frames)
    loss, parts = mskd_loss(z, z_t, batch.labels, opts.alpha, opts.tau, opts.kd_terms,
                            label_smoothing=opts.label_smoothing, kd_steps=kd_positions(opts))
    return _with_activity(opts, net, loss, parts), z, parts


def _with_activity(opts, net, loss: torch.Tensor, parts: dict) -> torch.Tensor:
    """The sigma-delta activity loss added when ``--sparsity`` is set."""
    if opts.sparsity > 0:
        model = net.module if hasattr(net, "module") else net
        act = model.activity_loss()
        parts["activity"] = float(act.detach())
        loss = loss + opts.sparsity * act
    return loss


def _score(opts, z: torch.Tensor, batch) -> float:
    """The batch's training score: accuracy, or the mean CCC of valence and arousal (the
    ``acc`` column of the log holds it for a dimensional run)."""
    if opts.task == "dimensional":
        from mskd.train.losses_va import ccc

        return float(ccc(z.detach(), batch.va).mean())
    return float((z.mean(0).argmax(-1) == batch.labels).double().mean())


def run_epoch(opts, net, optimizer, loader, teacher, ctx, epoch, bar) -> dict:
    """One pass over this rank's shard; returns stats summed over all ranks."""
    net.train()
    tic = time.perf_counter()
    t_teacher = teacher.seconds if teacher is not None else 0.0
    sums = [0.0, 0.0, 0.0]  # loss x n, correct, n
    for i, batch in enumerate(loader):
        loss, z, _ = _step(opts, net, batch, teacher)
        if not torch.isfinite(loss):
            raise NonFiniteLoss(f"loss is {float(loss)} at epoch {epoch} batch {i}: stopped; "
                                f"the last good checkpoint is kept in {opts.out}")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # spikes stop a NaN in the forward pass, so NaN gradients are checked as well
        norm = torch.nn.utils.clip_grad_norm_(net.parameters(), opts.grad_clip or float("inf"))
        if not torch.isfinite(norm):
            raise NonFiniteLoss(f"gradient norm is {float(norm)} at epoch {epoch} batch {i}: "
                                f"stopped; the last good checkpoint is kept in {opts.out}")
        optimizer.step()
        n = len(batch.labels)
        sums = [sums[0] + float(loss) * n, sums[1] + _score(opts, z, batch) * n, sums[2] + n]
        bar.advance(loss=sums[0] / sums[2], acc=sums[1] / sums[2])
    loss_sum, correct, count = D.all_sum(ctx, sums)
    return {"epoch": epoch, "loss": loss_sum / max(count, 1), "acc": correct / max(count, 1),
            "lr": optimizer.param_groups[0]["lr"], "seconds": time.perf_counter() - tic,
            "teacher_seconds": (teacher.seconds - t_teacher) if teacher is not None else 0.0}


def _write_logs(out: Path, history: list[dict]) -> None:
    from mskd.fsio import write_json

    write_json(out / "log.json", history)
    keys = list(history[0]) if history else []
    rows = [",".join(keys)] + [",".join(str(h[k]) for k in keys) for h in history]
    write_text(out / "log.csv", "\n".join(rows) + "\n")


def train(opts: TrainOptions, dataset=None, progress: bool = True) -> Path:
    """Train per ``opts``; returns the checkpoint path. ``dataset`` overrides the SEE loader."""
    ctx = D.DistContext.from_env()
    D.init(ctx)
    try:
        lock = output_lock(opts.out) if ctx.is_main else contextlib.nullcontext()
        with lock:  # a second training into the same --out fails at once
            return _train(opts, dataset, progress, ctx)
    finally:
        D.shutdown(ctx)


def _load_teacher(opts: TrainOptions):
    """The distillation teacher, checked before any data is read (a wrong path or kind is
    a one-line error at once, not after the dataset has been decoded)."""
    if opts.kind != "student" or opts.alpha == 0:
        return None
    teacher = load_model(opts.teacher, kind="teacher")
    if teacher.config.task != opts.task:
        raise ConfigError(f"{opts.teacher}: the teacher was trained for the {teacher.config.task}"
                          f" task, the student for {opts.task} (--task)")
    if teacher.config.size != opts.size:
        raise ConfigError(f"{opts.teacher}: the teacher takes {teacher.config.size} px inputs "
                          f"but --size is {opts.size}")
    return teacher


def check_clip_span(ds, clip: str, data: str) -> None:
    """Refuse a clip that spans more frames than every sequence holds (each clip would be
    the last frame repeated: training would run, silently, on padding)."""
    records = getattr(ds, "records", None)
    if not records:
        return
    spec, longest = ClipSpec.parse(clip), max(r.length for r in records)
    if spec.span > longest:
        raise ConfigError(f"--clip {clip} spans {spec.span} frames but the longest training "
                          f"sequence of {data} has {longest}: choose fewer frames or a "
                          "smaller skip")


def _train(opts: TrainOptions, dataset, progress: bool, ctx: D.DistContext) -> Path:
    _threads(opts, ctx)
    out = Path(opts.out)
    path = out / CKPT_NAME
    if path.exists() and not opts.resume:
        raise ConfigError(f"{path} exists: pass --resume to continue it or choose another --out")
    wall_start = time.perf_counter()
    teacher_model = _load_teacher(opts)
    torch.manual_seed(opts.seed)
    ds = dataset if dataset is not None else see_dataset(
        opts.data, "train", opts.clip, opts.size, train=True, seed=opts.seed,
        dense=opts.neuron == "sdnn", task=opts.task)
    if opts.subject_fraction < 1.0:
        if not hasattr(ds, "keep_subjects"):
            raise ConfigError("--subject-fraction needs a SEE-layout dataset")
        ds.keep_subjects(opts.subject_fraction)
    check_clip_span(ds, opts.clip, opts.data)
    augment = ClipAugment.from_dict(opts.augment)
    if augment.active:
        ds = AugmentedClips(ds, augment, opts.seed)
    model = _initial_model(opts, path, teacher_model)
    if not (opts.resume and path.exists()):
        model = _calibrated(model, ds, opts)
    optimizer = torch.optim.AdamW(model.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    start, history, rng = (_resume(opts, path, model, optimizer)
                           if opts.resume and path.exists() else (0, [], None))
    wall_before = float(load_checkpoint(path, opts.kind).state.get("wall_seconds", 0.0)) \
        if start else 0.0  # wall time of the runs this one resumes
    teacher = None
    if teacher_model is not None:
        teacher = TeacherCache(teacher_model, kd_positions(opts), features=feature_kd(opts))
        teacher.warm(ds)
    if rng is not None:  # last, after everything that draws from the RNG while building
        torch.set_rng_state(rng)
    net = DistributedDataParallel(model) if ctx.active else model
    bar = EpochBar(enabled=progress and ctx.is_main)
    for epoch in range(start, opts.epochs):
        for group in optimizer.param_groups:
            group["lr"] = opts.lr_at(epoch)
        loader = train_loader(ds, opts.batch_size, opts.seed, epoch, ctx.rank, ctx.world)
        bar.start(epoch, opts.epochs, len(loader))
        stats = run_epoch(opts, net, optimizer, loader, teacher, ctx, epoch, bar)
        # one-time cost of warming the teacher cache, booked on this process's first epoch
        stats["teacher_warm_seconds"] = teacher.warm_seconds if teacher and epoch == start else 0.0
        bar.finish(stats)
        history.append(stats)
        if ctx.is_main:
            state = {"epoch": epoch, "history": history,
                     "wall_seconds": round(wall_before + time.perf_counter() - wall_start, 2)}
            save_checkpoint(path, model, optimizer, state, opts.to_dict())
            _write_logs(out, history)
        D.barrier(ctx)
    out.mkdir(parents=True, exist_ok=True)
    write_text(out / f"weights.rank{ctx.rank}.sha256", D.weights_digest(model) + "\n")
    return path

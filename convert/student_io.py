"""Load a trained student checkpoint and describe how its network is fed and read.

A checkpoint of any other kind (e.g. the teacher) is a :class:`~mskd.errors.CheckpointError`
naming the field; a non-finite float weight is a :class:`~mskd.errors.NetError` naming the
layer, raised before anything is quantized or written.

>>> import torch
>>> from mskd.train.student_lif import Student
>>> from mskd.train.lif_config import StudentConfig
>>> torch.manual_seed(0) and None
>>> s = Student(StudentConfig(size=8, channels=(2,), hidden=(4,), steps_per_frame=2,
...                           n_frames=2))
>>> enc = student_encoding(s, clip="E2-S3")
>>> enc.steps, enc.latency, enc.readout_layer, enc.classes[0]
(7, 3, '4:dense', 'happiness')
>>> student_encoding(s, clip="E4-S3")
Traceback (most recent call last):
...
mskd.errors.CheckpointError: student: clip E4-S3 has 4 frames but the student was built for 2
"""

from __future__ import annotations

from pathlib import Path

import torch

from mskd.errors import CheckpointError, NetError
from mskd.net.encoding import InputEncoding

DEFAULT_CLIP_SKIP = 3  # E<n>-S3, the SEE protocol, when the checkpoint records no clip


def load_student(path: str | Path):
    """The :class:`mskd.train.student_lif.Student` in ``path`` (eval mode), weights checked."""
    from mskd.train.models import load_model

    model = load_model(path, kind="student")
    check_finite(model)
    return model


def checkpoint_clip(path: str | Path) -> str | None:
    """The clip spec the student was trained with, if the checkpoint records it."""
    from mskd.train.checkpoint import load_checkpoint

    return load_checkpoint(path).options.get("clip")


def check_finite(student) -> None:
    """NetError naming the first synaptic layer whose float weights hold NaN or inf."""
    kinds = ["conv"] * len(student.config.channels) + ["dense"] * (
        len(student.config.hidden) + 1)
    for i, (w, k) in enumerate(zip(student.weights, kinds, strict=True)):
        if not torch.isfinite(w).all():
            raise NetError(f"student synaptic layer {i} ({k}): field 'weight' contains "
                           f"{int((~torch.isfinite(w)).sum())} NaN/inf value(s)")


def output_names(config) -> tuple[str, ...]:
    """What the readout's neurons mean: class names, or valence and arousal."""
    if getattr(config, "task", "categorical") == "dimensional":
        from mskd.net.encoding import DIMENSIONAL_OUTPUTS

        return DIMENSIONAL_OUTPUTS
    from mskd.labels import class_names

    return class_names(config.classes)


def student_encoding(student, clip: str | None = None) -> InputEncoding:
    """The :class:`InputEncoding` of ``student``'s fixed-point network."""
    c = student.config
    clip = clip or (f"E{c.n_frames}-S{DEFAULT_CLIP_SKIP}" if getattr(c, "neuron", "lif") == "lif"
                    else f"E{c.n_frames}-S0")
    from mskd.clips import ClipSpec

    spec = ClipSpec.parse(clip)
    frames = spec.span if getattr(c, "neuron", "lif") == "sdnn" else spec.n
    if frames != c.n_frames:
        raise CheckpointError(f"student: clip {clip} has {frames} frames but "
                              f"the student was built for {c.n_frames}")
    n_layers = 1 + len(c.channels) + 1 + len(c.hidden) + 1  # input, convs, flatten, denses
    sdnn = getattr(c, "neuron", "lif") == "sdnn"
    return InputEncoding(input_gain=c.input_gain,
                         steps_per_frame=1 if sdnn else c.steps_per_frame, clip=clip,
                         size=(c.size, c.size), latency=c.n_synaptic,
                         readout_layer=f"{n_layers - 1}:dense",
                         readout_scale=float(student.readout_scale),
                         classes=output_names(c), input_norm=c.input_norm,
                         input_history=c.input_history, kind="delta" if sdnn else "bias",
                         readout="sigma" if sdnn else "mean_v", dense=sdnn,
                         task=getattr(c, "task", "categorical"))

"""Build a teacher or student from options or from a checkpoint's stored config.

>>> net = build_model("student", {"size": 8, "channels": [2], "hidden": [4]}, n_frames=2)
>>> net.kind, net.config.n_frames
('student', 2)
"""

from __future__ import annotations

from pathlib import Path

import torch
from mskd.train.checkpoint import load_checkpoint, restore_model
from mskd.train.student import Student
from mskd.train.student_config import StudentConfig
from mskd.train.teacher import Teacher, TeacherConfig

from mskd.errors import CheckpointError, ConfigError


def build_model(kind: str, config: dict, n_frames: int | None = None) -> torch.nn.Module:
    """A fresh model of ``kind``; ``config`` overrides the defaults (JSON-style values)."""
    try:
        if kind == "teacher":
            return Teacher(TeacherConfig.from_dict(config))
        if kind == "student":
            cfg = dict(config)
            if n_frames is not None:
                cfg.setdefault("n_frames", n_frames)
            if cfg.get("neuron", "lif") == "sdnn":
                from mskd.train.sdnn_config import SdnnConfig
                from mskd.train.student_sdnn import SdnnStudent

                return SdnnStudent(SdnnConfig.from_dict(cfg))
            cfg.pop("neuron", None)
            return Student(StudentConfig.from_dict(cfg))
    except TypeError as exc:
        raise ConfigError(f"{kind} config: {exc}") from exc
    raise ConfigError(f"unknown model kind {kind!r}")


def load_model(path: str | Path, kind: str | None = None) -> torch.nn.Module:
    """The model stored in checkpoint ``path`` (its kind checked if given), in eval mode.

    A student trained with weight standardisation comes back folded
    (:meth:`mskd.train.student.Student.folded`): ``weights`` are the float weights the
    integer mantissas are rounded from, as the converter's float reference expects.
    """
    ckpt = load_checkpoint(path, kind)
    try:
        model = build_model(ckpt.kind, ckpt.model_config)
    except ConfigError as exc:
        raise CheckpointError(f"{path}: field 'model_config': {exc}") from exc
    restore_model(ckpt, model)
    if getattr(model, "kind", None) == "student":
        model = model.folded()  # plain float weights, the same integer network
    return model.eval()

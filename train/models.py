"""Build a teacher or student from options or from a checkpoint's stored config.

>>> net = build_model("student", {"size": 8, "channels": [2], "hidden": [4]}, n_frames=2)
>>> net.kind, net.config.n_frames
('student', 2)
"""

from __future__ import annotations

from pathlib import Path

import torch
from mskd.train.checkpoint import Checkpoint, load_checkpoint, restore_model
from mskd.train.lif_config import StudentConfig
from mskd.train.student_geometry import feature_dim
from mskd.train.student_lif import Student
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


def model_for(ckpt: Checkpoint) -> torch.nn.Module:
    """A fresh model of the checkpoint's kind and config, built only after the config was
    validated and found to describe exactly the tensors the file stores (so a config
    saying ``hidden=[10**7]`` is refused with the numbers, not built)."""
    try:
        sdnn = ckpt.kind == "student" and isinstance(ckpt.model_config, dict) and \
            ckpt.model_config.get("neuron", "lif") == "sdnn"
        if sdnn:
            from mskd.train.sdnn_config import SdnnConfig

            cfg = SdnnConfig.from_dict(ckpt.model_config)
            expected = cfg.param_shapes()
        elif ckpt.kind == "student":
            cfg = StudentConfig.from_dict(ckpt.model_config)
            expected = {f"weights.{i}": s for i, s in enumerate(cfg.weight_shapes())}
            if cfg.kd_projection:
                expected["kd_proj.weight"] = (cfg.kd_projection, feature_dim(cfg))
        else:
            cfg = TeacherConfig.from_dict(ckpt.model_config)
            expected = cfg.param_shapes()
    except (ConfigError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{ckpt.path}: field 'model_config': {exc}") from None
    for name in sorted(expected.keys() - ckpt.model.keys()):
        raise CheckpointError(f"{ckpt.path}: tensor 'model.{name}' is missing")
    for name in sorted(ckpt.model.keys() - expected.keys()):
        raise CheckpointError(f"{ckpt.path}: unexpected tensor 'model.{name}'")
    for name, shape in sorted(expected.items()):
        if tuple(ckpt.model[name].shape) != shape:
            raise CheckpointError(f"{ckpt.path}: tensor 'model.{name}' has shape "
                                  f"{tuple(ckpt.model[name].shape)}, field 'model_config' "
                                  f"describes {shape}")
    if sdnn:
        from mskd.train.student_sdnn import SdnnStudent

        return SdnnStudent(cfg)
    return Student(cfg) if ckpt.kind == "student" else Teacher(cfg)


def load_model(path: str | Path, kind: str | None = None) -> torch.nn.Module:
    """The model stored in checkpoint ``path`` (its kind checked if given), in eval mode.

    A student trained with weight standardisation comes back folded
    (:meth:`mskd.train.student_lif.Student.folded`): ``weights`` are the float weights the
    integer mantissas are rounded from, as the converter's float reference expects.
    """
    ckpt = load_checkpoint(path, kind)
    model = model_for(ckpt)
    restore_model(ckpt, model)
    if getattr(model, "kind", None) == "student":
        model = model.folded()  # plain float weights, the same integer network
    return model.eval()

"""Checkpoints: one safetensors file, written atomically, never unpickled.

Tensors: ``model.<name>`` (weights), ``optim.<param index>.<key>`` (optimizer state) and
``rng.torch`` (the CPU generator state, uint8). The safetensors metadata entry ``mskd``
holds JSON: format version, model kind and config, the training options, the training
state (last finished epoch, history, ``wall_seconds`` of training so far, resumed runs
included), the optimizer's param-group settings and the toolchain ``versions``
(:mod:`mskd.provenance`). Loading
parses JSON and raw tensors only, so it never executes code.

>>> import tempfile, pathlib
>>> from mskd.train.teacher import Teacher, TeacherConfig
>>> net = Teacher(TeacherConfig(size=8, channels=(2,), hidden=4))
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.safetensors"
>>> _ = save_checkpoint(path, net, None, {"epoch": 0})
>>> ckpt = load_checkpoint(path, kind="teacher")
>>> ckpt.kind, ckpt.state["epoch"]
('teacher', 0)
>>> load_checkpoint(path, kind="student")
Traceback (most recent call last):
...
mskd.errors.CheckpointError: ...t.safetensors: field 'kind' is 'teacher', expected 'student'
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from mskd.errors import CheckpointError
from mskd.fsio import write_bytes

FORMAT = 1


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint file holds, tensors split by prefix."""

    path: Path
    kind: str
    model_config: dict
    options: dict
    state: dict
    model: dict[str, torch.Tensor]
    optim: dict[str, torch.Tensor]
    optim_groups: list
    rng: torch.Tensor | None


def save_checkpoint(path: str | Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer
                    | None, state: dict, options: dict | None = None) -> Path:
    """Write model, optimizer and RNG state plus JSON metadata atomically to ``path``."""
    tensors = {f"model.{k}": v.detach().contiguous().clone() for k, v in model.state_dict().items()}
    groups: list = []
    if optimizer is not None:
        osd = optimizer.state_dict()
        for idx, pstate in osd["state"].items():
            for key, val in pstate.items():
                tensors[f"optim.{idx}.{key}"] = torch.as_tensor(val).detach().contiguous().clone()
        groups = osd["param_groups"]
    tensors["rng.torch"] = torch.get_rng_state()
    from mskd.provenance import versions

    meta = {"format": FORMAT, "kind": model.kind, "model_config": model.config.to_dict(),
            "options": options or {}, "state": state, "optim_groups": groups,
            "versions": versions()}
    data = st_save(tensors, metadata={"mskd": json.dumps(meta)})
    return write_bytes(path, data)


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """Read a checkpoint; a missing file, bad header or wrong kind is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    raw = path.read_bytes()
    try:
        tensors = st_load(raw)
        header_len = int.from_bytes(raw[:8], "little")
        meta = json.loads(json.loads(raw[8:8 + header_len])["__metadata__"]["mskd"])
    except (SafetensorError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: not an mskd safetensors checkpoint ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{path}: field 'format' is {meta.get('format')!r}, "
                              f"expected {FORMAT}")
    if kind is not None and meta.get("kind") != kind:
        raise CheckpointError(f"{path}: field 'kind' is {meta.get('kind')!r}, expected {kind!r}")
    split: dict[str, dict] = {"model": {}, "optim": {}}
    for name, t in tensors.items():
        head, _, rest = name.partition(".")
        if head in split:
            split[head][rest] = t
    return Checkpoint(path, meta["kind"], meta["model_config"], meta.get("options", {}),
                      meta.get("state", {}), split["model"], split["optim"],
                      meta.get("optim_groups", []), tensors.get("rng.torch"))


def restore_model(ckpt: Checkpoint, model: torch.nn.Module) -> None:
    """Copy weights into ``model``; a missing, extra or misshapen tensor names itself."""
    own = model.state_dict()
    for name in own.keys() - ckpt.model.keys():
        raise CheckpointError(f"{ckpt.path}: tensor 'model.{name}' is missing")
    for name in ckpt.model.keys() - own.keys():
        raise CheckpointError(f"{ckpt.path}: unexpected tensor 'model.{name}'")
    for name, t in ckpt.model.items():
        if tuple(t.shape) != tuple(own[name].shape):
            raise CheckpointError(f"{ckpt.path}: tensor 'model.{name}' has shape "
                                  f"{tuple(t.shape)}, the model expects {tuple(own[name].shape)}")
    model.load_state_dict(ckpt.model)


def restore_optimizer(ckpt: Checkpoint, optimizer: torch.optim.Optimizer) -> None:
    """Rebuild the optimizer state dict from the flat tensors and JSON groups."""
    state: dict[int, dict] = {}
    for name, t in ckpt.optim.items():
        idx, _, key = name.partition(".")
        state.setdefault(int(idx), {})[key] = t
    try:
        optimizer.load_state_dict({"state": state, "param_groups": ckpt.optim_groups})
    except (ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{ckpt.path}: optimizer state does not fit ({exc})") from exc

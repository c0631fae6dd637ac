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
import math
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from mskd.errors import CheckpointError
from mskd.fsio import write_bytes

FORMAT = 1
KINDS = ("teacher", "student")
MAX_HEADER_BYTES = 1 << 24  # the JSON header: tensor offsets plus config and history
OPTIM_KEYS = ("step", "exp_avg", "exp_avg_sq")  # AdamW (no amsgrad), the loop's optimizer


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


def _header(raw: bytes, path: Path) -> dict:
    """The safetensors JSON header, its size checked against the file before parsing."""
    if len(raw) < 8:
        raise CheckpointError(f"{path}: {len(raw)} bytes, too short for a safetensors file")
    n = int.from_bytes(raw[:8], "little")
    if n > min(len(raw) - 8, MAX_HEADER_BYTES):
        raise CheckpointError(f"{path}: header declares {n} bytes, the file has "
                              f"{len(raw) - 8} after the length (truncated or not safetensors)")
    try:
        header = json.loads(raw[8:8 + n])
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: header is not JSON ({_short(exc)})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: header is a {type(header).__name__}, not a table")
    return header


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _metadata(header: dict, path: Path) -> dict:
    """The ``mskd`` metadata entry, every field's type checked."""
    meta = header.get("__metadata__")
    if not isinstance(meta, dict) or not isinstance(meta.get("mskd"), str):
        raise CheckpointError(f"{path}: no 'mskd' metadata (not an mskd checkpoint)")
    try:
        meta = json.loads(meta["mskd"])
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: metadata 'mskd' is not JSON ({_short(exc)})") from None
    if not isinstance(meta, dict):
        raise CheckpointError(f"{path}: metadata 'mskd' is a {type(meta).__name__}, not a table")
    if meta.get("format") != FORMAT or isinstance(meta.get("format"), bool):
        raise CheckpointError(f"{path}: field 'format' is {meta.get('format')!r}, "
                              f"expected {FORMAT}")
    for name, kind, default in (("kind", str, None), ("model_config", dict, None),
                                ("options", dict, {}), ("state", dict, {}),
                                ("optim_groups", list, [])):
        value = meta.get(name, default)
        if not isinstance(value, kind):
            raise CheckpointError(f"{path}: field '{name}' is "
                                  f"{'missing' if name not in meta else repr(value)[:80]}, "
                                  f"expected {'a table' if kind is dict else kind.__name__}")
    if meta["kind"] not in KINDS:
        raise CheckpointError(f"{path}: field 'kind' is {meta['kind']!r}, expected one of "
                              f"{', '.join(KINDS)}")
    return meta


def load_checkpoint(path: str | Path, kind: str | None = None) -> Checkpoint:
    """Read a checkpoint; a missing file, bad header or wrong kind is a CheckpointError.

    The header and metadata are checked (types, sizes) before the tensors are decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from None
    meta = _metadata(_header(raw, path), path)
    if kind is not None and meta["kind"] != kind:
        raise CheckpointError(f"{path}: field 'kind' is {meta['kind']!r}, expected {kind!r}")
    try:
        tensors = st_load(raw)
    except (SafetensorError, ValueError, TypeError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"{path}: tensors unreadable ({_short(exc)})") from None
    split: dict[str, dict] = {"model": {}, "optim": {}}
    for name, t in tensors.items():
        head, _, rest = name.partition(".")
        if head in split and rest:
            split[head][rest] = t
        elif name != "rng.torch":
            raise CheckpointError(f"{path}: unexpected tensor '{name}'")
    rng = tensors.get("rng.torch")
    if rng is not None and (rng.dtype != torch.uint8 or rng.dim() != 1):
        raise CheckpointError(f"{path}: tensor 'rng.torch' is {rng.dtype} {tuple(rng.shape)}, "
                              "expected a uint8 vector (torch's RNG state)")
    return Checkpoint(path, meta["kind"], meta["model_config"], meta.get("options", {}),
                      meta.get("state", {}), split["model"], split["optim"],
                      meta.get("optim_groups", []), rng)


def restore_model(ckpt: Checkpoint, model: torch.nn.Module) -> None:
    """Copy weights into ``model``; a missing, extra, misshapen, mistyped or non-finite
    tensor names itself."""
    own = model.state_dict()
    for name in sorted(own.keys() - ckpt.model.keys()):
        raise CheckpointError(f"{ckpt.path}: tensor 'model.{name}' is missing")
    for name in sorted(ckpt.model.keys() - own.keys()):
        raise CheckpointError(f"{ckpt.path}: unexpected tensor 'model.{name}'")
    for name, t in sorted(ckpt.model.items()):
        _check_like(t, own[name], f"{ckpt.path}: tensor 'model.{name}'")
    model.load_state_dict(ckpt.model)


def _check_like(t: torch.Tensor, ref: torch.Tensor, what: str) -> None:
    if tuple(t.shape) != tuple(ref.shape):
        raise CheckpointError(f"{what} has shape {tuple(t.shape)}, the model expects "
                              f"{tuple(ref.shape)}")
    if t.dtype != ref.dtype:
        raise CheckpointError(f"{what} is {t.dtype}, the model expects {ref.dtype}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise CheckpointError(f"{what} holds {int((~torch.isfinite(t)).sum())} NaN/inf "
                              "value(s)")


def restore_optimizer(ckpt: Checkpoint, optimizer: torch.optim.Optimizer) -> None:
    """Rebuild the optimizer state from the flat tensors and JSON groups, each checked
    against the optimizer's own parameters and settings (found now, not at the first step)."""
    own = optimizer.state_dict()["param_groups"]
    _check_groups(ckpt.optim_groups, own, ckpt.path)
    params = [p for g in optimizer.param_groups for p in g["params"]]
    state: dict[int, dict] = {}
    for name, t in ckpt.optim.items():
        idx, _, key = name.partition(".")
        what = f"{ckpt.path}: tensor 'optim.{name}'"
        if not idx.isdigit() or int(idx) >= len(params) or key not in OPTIM_KEYS:
            raise CheckpointError(f"{what} is not optimizer state of this model "
                                  f"({len(params)} parameters; keys {', '.join(OPTIM_KEYS)})")
        if key == "step":
            if t.numel() != 1 or not t.is_floating_point() or not 0 <= float(t) < 2**53:
                raise CheckpointError(f"{what} must be one step count, got {t.dtype} "
                                      f"{tuple(t.shape)}")
        else:
            _check_like(t, params[int(idx)].detach(), what)
        state.setdefault(int(idx), {})[key] = t
    for idx, keys in state.items():
        if set(keys) != set(OPTIM_KEYS):
            raise CheckpointError(f"{ckpt.path}: optimizer state of parameter {idx} has "
                                  f"{sorted(keys)}, expected {list(OPTIM_KEYS)}")
    try:
        optimizer.load_state_dict({"state": state, "param_groups": ckpt.optim_groups})
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise CheckpointError(f"{ckpt.path}: optimizer state does not fit ({_short(exc)})") \
            from None


def _check_groups(groups: list, own: list, path: Path) -> None:
    """Same number of groups, same parameters and keys, values of the same JSON type."""
    if len(groups) != len(own):
        raise CheckpointError(f"{path}: field 'optim_groups' has {len(groups)} groups, the "
                              f"optimizer {len(own)}")
    for i, (g, ref) in enumerate(zip(groups, own, strict=True)):
        where = f"{path}: field 'optim_groups' group {i}"
        if not isinstance(g, dict) or set(g) != set(ref):
            raise CheckpointError(f"{where} must hold the keys {sorted(ref)}")
        if g["params"] != list(ref["params"]):
            raise CheckpointError(f"{where}: 'params' {str(g['params'])[:80]} differs from "
                                  f"the model's {len(ref['params'])} parameters")
        for key, value in g.items():
            expect = ref[key]
            if key == "params" or value == expect:
                continue
            ok = (isinstance(value, (list, tuple)) and isinstance(expect, (list, tuple))
                  and len(value) == len(expect)
                  and all(_same_kind(v, e) for v, e in zip(value, expect, strict=True))) \
                or _same_kind(value, expect)
            if not ok:
                raise CheckpointError(f"{where}: '{key}' is {value!r}, expected a value like "
                                      f"{expect!r}")


def _same_kind(value, expect) -> bool:
    if expect is None or isinstance(expect, bool):
        return type(value) is type(expect)
    if isinstance(expect, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value)
    return isinstance(value, type(expect))

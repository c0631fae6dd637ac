"""Geometry shared by both students (CUBA-LIF and sigma-delta): the conv stack, the weight
shapes it implies, and the size checks made before anything is built.

Both configs have ``size``, ``input_history``, ``channels``, ``kernel``, ``stride``,
``padding``, ``hidden`` and ``classes``; these functions read only those.

>>> from types import SimpleNamespace as NS
>>> cfg = NS(size=16, input_history=2, channels=(4,), kernel=3, stride=2, padding=1,
...          hidden=(8,), classes=7)
>>> geometry(cfg)
[(2, 16, 16), (4, 8, 8), (256,), (8,), (7,)]
>>> weight_shapes(cfg)
[(4, 2, 3, 3), (8, 256), (7, 8)]
"""

from __future__ import annotations

import math

from mskd.errors import ConfigError
from mskd.limits import MAX_LAYERS, MAX_MODEL_PARAMS, MAX_SIDE


def check_shape_fields(cfg, what: str = "student") -> None:
    """ConfigError for a side, layer count, width, kernel, stride or padding out of range."""
    if not 4 <= cfg.size <= MAX_SIDE or len(cfg.channels) + len(cfg.hidden) > MAX_LAYERS:
        raise ConfigError(f"{what}: size {cfg.size} outside 4..{MAX_SIDE} or more than "
                          f"{MAX_LAYERS} layers")
    if min((*cfg.channels, *cfg.hidden, cfg.kernel, cfg.stride), default=1) < 1 or \
            cfg.padding < 0:
        raise ConfigError(f"{what}: channels {cfg.channels}, hidden {cfg.hidden}, kernel "
                          f"{cfg.kernel} and stride {cfg.stride} must be >= 1, padding "
                          f"{cfg.padding} >= 0")


def geometry(cfg) -> list[tuple[int, ...]]:
    """Neuron-layer shapes, input first, flatten shown as its own entry."""
    shapes: list[tuple[int, ...]] = [(cfg.input_history, cfg.size, cfg.size)]
    h = cfg.size
    for c in cfg.channels:
        h = (h + 2 * cfg.padding - cfg.kernel) // cfg.stride + 1
        if h < 1:
            raise ConfigError(f"student: size {cfg.size} too small for {cfg.channels}")
        shapes.append((c, h, h))
    c, h, w = shapes[-1]
    shapes.append((c * h * w,))
    return shapes + [(n,) for n in cfg.hidden] + [(cfg.classes,)]


def weight_shapes(cfg) -> list[tuple[int, ...]]:
    """Shapes of the synaptic weights (``weights.i``), computed, not allocated."""
    shapes, in_c = [], cfg.input_history
    for c in cfg.channels:
        shapes.append((c, in_c, cfg.kernel, cfg.kernel))
        in_c = c
    dims = [math.prod(geometry(cfg)[len(cfg.channels) + 1]), *cfg.hidden, cfg.classes]
    return shapes + [(b, a) for a, b in zip(dims[:-1], dims[1:], strict=True)]


def check_size(cfg, extra: int = 0, what: str = "student") -> None:
    """ConfigError above :data:`~mskd.limits.MAX_MODEL_PARAMS` weights (before building)."""
    n = sum(math.prod(s) for s in weight_shapes(cfg)) + extra
    if n > MAX_MODEL_PARAMS:
        raise ConfigError(f"{what}: {n} weights (size {cfg.size}, channels {cfg.channels}, "
                          f"hidden {cfg.hidden}, classes {cfg.classes}) exceed the limit of "
                          f"{MAX_MODEL_PARAMS}")


TASKS = ("categorical", "dimensional")
VA_OUTPUTS = 2  # a dimensional model's outputs: valence, arousal


def check_task(cfg, what: str = "student") -> None:
    """ConfigError for an unknown task, a dimensional model without exactly 2 outputs
    (valence, arousal), or a negative feature-projection width."""
    if cfg.task not in TASKS:
        raise ConfigError(f"{what}: task {cfg.task!r}: expected one of {', '.join(TASKS)}")
    if cfg.task == "dimensional" and cfg.classes != VA_OUTPUTS:
        raise ConfigError(f"{what}: a dimensional model has {VA_OUTPUTS} outputs (valence, "
                          f"arousal), got classes={cfg.classes}")
    if getattr(cfg, "kd_projection", 0) < 0:
        raise ConfigError(f"{what}: kd_projection={cfg.kd_projection} must be >= 0")


def feature_dim(cfg) -> int:
    """Width of the readout's input (the last hidden layer): the student's feature layer
    for feature-level distillation."""
    return weight_shapes(cfg)[-1][1]

"""Clip augmentation for training: one random affine warp and gamma per clip.

Every frame and event frame of a clip gets the same transform (so motion between frames is
untouched), drawn from a generator seeded by ``(seed, epoch, index)``: a resumed run and
every DDP rank see exactly the clips an uninterrupted single-process run sees.

* warp: scale ``s`` in ``[1 - scale, 1 + scale]``, rotation in ``+-rotate`` degrees,
  translation in ``+-shift`` (a fraction of the half-width, ``affine_grid`` units); frames
  are resampled bilinearly with border padding, event counts with zero padding;
* gamma: frames become ``x ** exp(g)``, ``g`` in ``+-gamma`` (after the per-clip min-max
  normalisation of the student an affine brightness change would vanish, gamma does not).

Why: without it the spiking student memorises the 16 training subjects' static appearance
(75-90 % training WAR against about 33 % on unseen subjects); with it the student has to
use the motion, and the distillation targets differ from the labels on every view (the
teacher scores the same augmented clip, see :class:`mskd.train.teacher_cache.TeacherCache`).
Evaluation never augments.

>>> aug = ClipAugment(shift=0.1, gamma=0.2)
>>> f, e = torch.rand(4, 1, 8, 8), torch.rand(4, 2, 8, 8)
>>> f2, e2 = aug.apply(f, e, seed=0, epoch=1, index=5)
>>> f2.shape == f.shape and e2.shape == e.shape, bool((f2 == aug.apply(f, e, 0, 1, 5)[0]).all())
(True, True)
>>> ClipAugment.parse("none").active, ClipAugment.parse("shift=0.1,gamma=0.2") == aug
(False, True)
>>> ClipAugment.parse("shfit=0.1")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mskd.errors.ConfigError: --augment 'shfit=0.1': unknown key(s) 'shfit' (valid: shift, ...)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from mskd.clips import mix_seed
from mskd.errors import ConfigError, refuse_unknown_fields

_STREAM = 0xA06  # separates the augmentation generator from the clip-start draws


@dataclass(frozen=True)
class ClipAugment:
    """Ranges of the per-clip transform; all zero = no augmentation."""

    shift: float = 0.0
    scale: float = 0.0
    rotate: float = 0.0  # degrees
    gamma: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ConfigError(f"augment {f.name}={value!r} must be a finite number >= 0")
        if self.scale >= 1 or self.shift > 1 or self.rotate > 180:
            raise ConfigError(f"augment ranges too large: scale < 1, shift <= 1, rotate <= 180 "
                              f"(got scale={self.scale}, shift={self.shift}, "
                              f"rotate={self.rotate})")

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ClipAugment:
        refuse_unknown_fields(cls, data, "augment")
        return cls(**data)

    @classmethod
    def parse(cls, text: str) -> ClipAugment:
        """``"default"`` (:data:`DEFAULT_AUGMENT`), ``"none"``, or key=value pairs such as
        ``"shift=0.06,scale=0.05,rotate=4,gamma=0.2"`` (missing keys are 0)."""
        text = text.strip()
        if text == "default":
            return DEFAULT_AUGMENT
        if text in ("", "none"):
            return cls()
        out = {}
        for part in text.split(","):
            key, sep, value = part.partition("=")
            try:
                if not sep:
                    raise ValueError
                out[key.strip()] = float(value)
            except ValueError as exc:
                raise ConfigError(f"--augment {text!r}: expected 'default', 'none' or "
                                  f"key=value pairs such as shift=0.06,gamma=0.2") from exc
        valid = [f.name for f in fields(cls)]
        unknown = [k for k in out if k not in valid]
        if unknown:
            names = ", ".join(map(repr, unknown))
            raise ConfigError(f"--augment {text!r}: unknown key(s) {names} (valid: "
                              f"{', '.join(valid)})")
        return cls.from_dict(out)

    def _draw(self, seed: int, epoch: int, index: int) -> tuple[torch.Tensor, float]:
        gen = torch.Generator().manual_seed(mix_seed(seed, epoch, index, _STREAM))
        u = torch.rand(5, generator=gen, dtype=torch.float64).tolist()
        s = 1.0 + self.scale * (2 * u[0] - 1)
        r = math.radians(self.rotate * (2 * u[1] - 1))
        tx, ty = self.shift * (2 * u[2] - 1), self.shift * (2 * u[3] - 1)
        c, n = math.cos(r) / s, math.sin(r) / s
        theta = torch.tensor([[c, -n, tx], [n, c, ty]], dtype=torch.float32)
        return theta, math.exp(self.gamma * (2 * u[4] - 1))

    def apply(self, frames: torch.Tensor, events: torch.Tensor, seed: int, epoch: int,
              index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Transform one clip (``frames [n, 1, H, W]``, ``events [n, 2, H, W]``)."""
        theta, gamma = self._draw(seed, epoch, index)

        def warp(x: torch.Tensor, padding: str) -> torch.Tensor:
            grid = F.affine_grid(theta.expand(x.shape[0], 2, 3), list(x.shape),
                                 align_corners=False)
            return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding,
                                 align_corners=False)

        frames = warp(frames, "border").clamp(0.0, 1.0) ** gamma
        return frames, warp(events, "zeros").clamp(min=0.0)


#: The training default (CLI and library), chosen on the selection set (synthetic seed 1);
#: the measurements are in docs/benchmarks/recipe-lif.md.
DEFAULT_AUGMENT = ClipAugment(shift=0.06, scale=0.05, rotate=4.0, gamma=0.2)


def augment_options(text: str) -> dict:
    """``--augment`` text -> the ``TrainOptions.augment`` dict (validated).

    >>> augment_options("gamma=0.1")
    {'shift': 0.0, 'scale': 0.0, 'rotate': 0.0, 'gamma': 0.1}
    """
    return ClipAugment.parse(text).to_dict()


class AugmentedClips(Dataset):
    """A training dataset whose items are augmented per ``(seed, epoch, index)``.

    Items carry ``meta["augment"] = [seed, epoch, index]`` so the teacher cache knows the
    clip is a fresh view. It deliberately does not expose ``records``/``item_at``: the
    cache's warm-up over every (sequence, start) would not match augmented clips.
    """

    def __init__(self, base: Dataset, augment: ClipAugment, seed: int) -> None:
        self.base, self.augment, self.seed, self.epoch = base, augment, seed, 0

    def __len__(self) -> int:
        return len(self.base)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        if hasattr(self.base, "set_epoch"):
            self.base.set_epoch(epoch)

    def __getitem__(self, index: int):
        frames, events, label, meta = self.base[index]
        frames, events = self.augment.apply(frames, events, self.seed, self.epoch, index)
        return frames, events, label, {**meta, "augment": [self.seed, self.epoch, index]}

"""The multimodal SEEN-style teacher: an ANN on intensity frames, an SNN on event frames.

- Spatial extractor (ANN): a small ReLU CNN on the first and last intensity frames of the
  clip, stacked as two channels; it runs once per clip.
- Temporal extractor (SNN): convolutions over the event frames ``[ON, OFF]``, one step per
  event frame, with norse LIF box cells set to SEEN's neuron
  ``V_t = a V_{t-1} (1 - P_{t-1}) + X_t`` (a = 0.2, threshold 0.3): norse's box cell computes
  ``v' = v + dt tau_inv (-v + x)``, so ``dt tau_inv = 1 - a = 0.8`` gives ``a v + 0.8 x``;
  the 0.8 input gain is absorbed by the learned weights. Surrogate: norse's SuperSpike.
- Fusion: the spatial feature map is added to the temporal stream's last conv output at
  every step before its LIF (SEEN's spiking addition).
- Spiking FC layer, then a non-spiking leaky-integrator readout (norse ``LIBoxCell``);
  per-step logits = readout membrane, prediction = their mean over steps.

>>> torch.manual_seed(0) and None
>>> net = Teacher(TeacherConfig(size=16, channels=(4, 8), hidden=16))
>>> frames, events = torch.rand(2, 3, 1, 16, 16), torch.rand(2, 3, 2, 16, 16)
>>> net(frames, events).shape        # [steps = event frames, batch, classes]
torch.Size([3, 2, 7])
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import norse.torch as snn
import torch
from torch import nn

from mskd.errors import ConfigError, refuse_unknown_fields, refuse_wrong_types
from mskd.limits import MAX_LAYERS, MAX_MODEL_PARAMS, MAX_SIDE


@dataclass(frozen=True)
class TeacherConfig:
    """Widths and SEEN's neuron constants (``a`` leak, ``threshold``)."""

    size: int = 32
    classes: int = 7
    channels: tuple[int, ...] = (16, 32)
    hidden: int = 128
    a: float = 0.2
    threshold: float = 0.3
    task: str = "categorical"  # or "dimensional": 2 outputs, valence and arousal per step

    def __post_init__(self) -> None:
        refuse_wrong_types(self, "teacher config")
        from mskd.train.student_geometry import check_task

        check_task(self, "teacher")
        if not 4 <= self.size <= MAX_SIDE or len(self.channels) > MAX_LAYERS or \
                min(self.channels, default=0) < 1 or self.classes < 2:
            raise ConfigError(f"teacher: size {self.size} outside 4..{MAX_SIDE}, channels "
                              f"{self.channels} not 1..{MAX_LAYERS} widths >= 1, or classes "
                              f"{self.classes} < 2")
        if not self.channels or self.hidden < 1 or self.size < 4:
            raise ConfigError(f"teacher: bad widths {self.channels}/{self.hidden}/{self.size}")
        if not 0.0 <= self.a < 1.0 or self.threshold <= 0:
            raise ConfigError(f"teacher: a={self.a} must be in [0,1), threshold > 0")

        n = self.param_count()
        if n > MAX_MODEL_PARAMS:
            raise ConfigError(f"teacher: {n} parameters (size {self.size}, channels "
                              f"{self.channels}, hidden {self.hidden}, classes {self.classes}) "
                              f"exceed the limit of {MAX_MODEL_PARAMS}")

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """``state_dict`` names and shapes of :class:`Teacher`, computed, not allocated."""
        out: dict[str, tuple[int, ...]] = {}
        for stack in ("spatial", "temporal"):
            c = 2
            for i, width in enumerate(self.channels):
                out[f"{stack}.{i}.weight"], out[f"{stack}.{i}.bias"] = (width, c, 3, 3), (width,)
                c = width
        out["fc.weight"], out["fc.bias"] = (self.hidden, self.feature_size()), (self.hidden,)
        out["readout.weight"] = (self.classes, self.hidden)
        out["readout.bias"] = (self.classes,)
        return out

    def param_count(self) -> int:
        """Parameters of the two conv stacks, the FC layer and the readout (not allocated)."""
        return sum(math.prod(s) for s in self.param_shapes().values())

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TeacherConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"teacher config is a {type(data).__name__}, not a table")
        refuse_unknown_fields(cls, data, "teacher config")
        return cls(**{k: tuple(v) if k == "channels" and isinstance(v, (list, tuple)) else v
                      for k, v in data.items()})

    def feature_size(self) -> int:
        h = self.size
        for _ in self.channels:
            h = (h + 2 - 3) // 2 + 1
        return self.channels[-1] * h * h


def _convs(in_c: int, channels: tuple[int, ...]) -> nn.ModuleList:
    layers, c = nn.ModuleList(), in_c
    for out in channels:
        layers.append(nn.Conv2d(c, out, 3, stride=2, padding=1))
        c = out
    return layers


class Teacher(nn.Module):
    """``forward(frames [B,n,1,H,W], events [B,n,2,H,W]) -> per-step logits [n, B, C]``."""

    kind = "teacher"

    def __init__(self, config: TeacherConfig) -> None:
        super().__init__()
        self.config = config
        self.spatial = _convs(2, config.channels)
        self.temporal = _convs(2, config.channels)
        self.fc = nn.Linear(config.feature_size(), config.hidden)
        self.readout = nn.Linear(config.hidden, config.classes)
        lif = snn.LIFBoxParameters(tau_mem_inv=torch.tensor((1 - config.a) * 1000.0),
                                   v_th=torch.tensor(config.threshold), method="super")
        self.lif_conv = nn.ModuleList(snn.LIFBoxCell(lif) for _ in config.channels)
        self.lif_fc = snn.LIFBoxCell(lif)
        self.li = snn.LIBoxCell(snn.LIBoxParameters(tau_mem_inv=torch.tensor(
            (1 - config.a) * 1000.0)))

    def spatial_features(self, frames: torch.Tensor) -> torch.Tensor:
        x = torch.cat([frames[:, 0], frames[:, -1]], dim=1)  # first and last frame
        for conv in self.spatial:
            x = torch.relu(conv(x))
        return x

    def forward(self, frames: torch.Tensor, events: torch.Tensor) -> torch.Tensor:
        feat = self.spatial_features(frames)
        states = [None] * (len(self.temporal) + 2)
        out = []
        hidden = []
        for t in range(events.shape[1]):
            x = events[:, t]
            for i, (conv, cell) in enumerate(zip(self.temporal, self.lif_conv, strict=True)):
                x = conv(x)
                if i == len(self.temporal) - 1:
                    x = x + feat  # fusion: spatial features join the spiking stream
                x, states[i] = cell(x, states[i])
            current = self.fc(x.flatten(1))
            hidden.append(current)
            x, states[-2] = self.lif_fc(current, states[-2])
            v, states[-1] = self.li(self.readout(x), states[-1])
            out.append(v)
        # the fused multimodal features (the spiking FC layer's input current per step),
        # what feature-level privileged distillation matches
        self.last_features = torch.stack(hidden)
        return torch.stack(out)

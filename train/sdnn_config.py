"""Configuration of the sigma-delta student (JSON-serialisable, validated).

Scales: the student computes in Loihi 2 integer units; a float "twin" reads the same
weights as a ReLU network on frames in [0, 1]. Layer ``l``'s integer activation (``act``,
12 fractional bits) is ``a_l * 2**12 * S_l`` for the twin's activation ``a_l``, with
``S_0 = input_gain`` (the Delta input is ``round(pixel * input_gain)``) and ``S_{l+1} =
S_l * 2**(e_l - 6)`` for the 8-bit weight mantissas ``round(w * 2**e_l)`` (a payload is
``act >> 6``). So a float threshold or bias ``v`` of layer ``l`` is the mantissa
``round(v * S_l)`` and the Sigma readout divided by ``2**(e_L + 6) S_{L-1}`` is the logit.

The student uses ``e_l = 6`` everywhere (slayer's sigma-delta convention: weights in steps
of 1/64, |w| < 2), so every ``S_l = input_gain``: a larger ``e_l`` would buy weight
resolution at the price of a scale that grows layer by layer, and with it activations that
leave the chip's 24-bit registers (``act = a 2**12 S``: with ``S = 128`` a float activation
up to 16 fits).

>>> cfg = SdnnConfig(size=16, channels=(4,), hidden=(8,), weight_exps=(6, 7, 8))
>>> [round(s, 3) for s in cfg.scales()]
[128.0, 128.0, 256.0, 1024.0]
>>> cfg.geometry()
[(2, 16, 16), (4, 8, 8), (256,), (8,), (7,)]
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mskd.train import student_geometry

from mskd.errors import ConfigError, refuse_unknown_fields, refuse_wrong_types
from mskd.limits import MAX_STEPS
from mskd.loihi.sdn import SPIKE_EXP

INPUT_GAIN_MAX = 4095  # keeps the Delta's x << 12 far inside int32


@dataclass(frozen=True)
class SdnnConfig:
    """Widths, geometry and fixed-point constants of the sigma-delta student.

    ``weight_exps`` (one per synaptic layer) and ``vth_mants`` (one per SigmaDelta layer:
    every synaptic layer but the Sigma readout) are filled when the model is first built
    and calibrated, then stored so a checkpoint reloads the same integer network.
    """

    neuron: str = "sdnn"
    size: int = 32
    n_frames: int = 13  # camera frames per clip: every frame of the clip's span
    classes: int = 7
    channels: tuple[int, ...] = (16, 32, 32)
    kernel: int = 3
    stride: int = 2
    padding: int = 1
    hidden: tuple[int, ...] = (64,)
    input_gain: int = 128  # Delta input value = round(pixel * input_gain)
    input_norm: str = "minmax"  # "none" or "minmax" (per clip, on the host)
    input_history: int = 2  # channels: camera frame k, k-1 (adjacent frames at 30 FPS)
    input_vth: int = 2  # the Delta input's threshold, in input units (pixel levels)
    delta_rho: float = 0.05  # hidden thresholds: rho x the layer's mean positive activation
    weight_standardize: bool = False
    weight_exps: tuple[int, ...] = ()
    vth_mants: tuple[int, ...] = ()
    task: str = "categorical"  # or "dimensional" (2 outputs: valence, arousal)
    kd_projection: int = 0  # training only, as in StudentConfig

    def __post_init__(self) -> None:
        refuse_wrong_types(self, "sigma-delta student config")
        student_geometry.check_shape_fields(self, "sigma-delta student")
        student_geometry.check_task(self, "sigma-delta student")
        if self.n_frames > MAX_STEPS:
            raise ConfigError(f"sigma-delta student: n_frames {self.n_frames} > {MAX_STEPS}")
        if self.neuron != "sdnn":
            raise ConfigError(f"sigma-delta student: neuron={self.neuron!r} must be 'sdnn'")
        if self.size < 4 or self.n_frames < 1 or self.classes < 2:
            raise ConfigError(f"student: bad size/n_frames/classes {self.size}/{self.n_frames}")
        if self.input_history < 1:
            raise ConfigError(f"input_history={self.input_history} must be >= 1")
        if not 0 < self.input_gain <= INPUT_GAIN_MAX:
            raise ConfigError(f"input_gain={self.input_gain} outside 1..{INPUT_GAIN_MAX}")
        if self.input_norm not in ("none", "minmax"):
            raise ConfigError(f"input_norm={self.input_norm!r}: expected 'none' or 'minmax'")
        if not 0 <= self.input_vth < 1 << 19:
            raise ConfigError(f"input_vth={self.input_vth} outside 0..{(1 << 19) - 1}")
        if not self.delta_rho >= 0:
            raise ConfigError(f"delta_rho={self.delta_rho} must be >= 0")
        n_syn = self.n_synaptic
        if self.weight_exps and len(self.weight_exps) != n_syn:
            raise ConfigError(f"weight_exps needs {n_syn} entries, got {len(self.weight_exps)}")
        if self.vth_mants and len(self.vth_mants) != n_syn - 1:
            raise ConfigError(f"vth_mants needs {n_syn - 1} entries, got {len(self.vth_mants)}")
        if any(not 0 <= v < 1 << 19 for v in self.vth_mants):
            raise ConfigError(f"vth_mants {self.vth_mants} outside 0..{(1 << 19) - 1}")
        if any(not 0 <= e <= 15 for e in self.weight_exps):
            raise ConfigError(f"weight_exps {self.weight_exps} outside 0..15")
        student_geometry.check_size(self, sum(self.bias_sizes()), "sigma-delta student")

    @property
    def n_synaptic(self) -> int:
        """Synaptic layers (convs + denses + readout): also the pipeline latency in steps."""
        return len(self.channels) + len(self.hidden) + 1

    @property
    def steps(self) -> int:
        """One step per camera frame, plus the pipeline latency."""
        return self.n_frames + self.n_synaptic

    def geometry(self) -> list[tuple[int, ...]]:
        """Neuron-layer shapes, input first, flatten shown as its own entry."""
        return student_geometry.geometry(self)

    def bias_sizes(self) -> list[int]:
        """Bias lengths of the hidden SigmaDelta layers (the Sigma readout has none)."""
        return [*self.channels, *self.hidden]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """``weights.i`` and ``biases.i`` shapes of :class:`SdnnStudent`, not allocated."""
        out = {f"weights.{i}": s for i, s in enumerate(student_geometry.weight_shapes(self))}
        out.update({f"biases.{i}": (n,) for i, n in enumerate(self.bias_sizes())})
        if self.kd_projection:
            out["kd_proj.weight"] = (self.kd_projection, student_geometry.feature_dim(self))
        return out

    def scales(self) -> list[float]:
        """``S_l`` of the input and of every synaptic layer (see the module docstring)."""
        out = [float(self.input_gain)]
        for e in self.weight_exps:
            out.append(out[-1] * 2.0 ** (e - SPIKE_EXP))
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SdnnConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"sigma-delta student config is a {type(data).__name__}, "
                              "not a table")
        refuse_unknown_fields(cls, data, "sigma-delta student config")
        tuples = {"channels", "hidden", "weight_exps", "vth_mants"}
        return cls(**{k: tuple(v) if k in tuples and isinstance(v, (list, tuple)) else v
                      for k, v in data.items()})

"""Configuration of the frames-only spiking student (JSON-serialisable, validated).

>>> cfg = StudentConfig(size=16, channels=(4,), hidden=(8,))
>>> cfg.geometry()
[(2, 16, 16), (4, 8, 8), (256,), (8,), (7,)]
>>> StudentConfig.from_dict(cfg.to_dict()) == cfg
True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from mskd.train import student_geometry

from mskd.errors import ConfigError, refuse_unknown_fields, refuse_wrong_types
from mskd.limits import MAX_STEPS
from mskd.loihi.lif import DECAY_MAX, VTH_MAX

MAX_STEPS_PER_FRAME = 1024  # the CLI's --steps-per-frame bound too
OUT_VTH_MANT = VTH_MAX  # the readout layer's threshold: as high as Loihi allows


@dataclass(frozen=True)
class StudentConfig:
    """Widths, geometry, neuron constants and timing of the student.

    ``weight_exps`` and ``vth_mants`` (one per synaptic layer) are filled when the model is
    first built from the initial weight range, then stored so a checkpoint reloads the
    same integer network.
    """

    size: int = 32
    n_frames: int = 4
    classes: int = 7
    channels: tuple[int, ...] = (16, 32, 32)
    kernel: int = 3
    stride: int = 2
    padding: int = 1
    hidden: tuple[int, ...] = (64,)
    steps_per_frame: int = 4
    input_gain: int = 160
    input_norm: str = "minmax"  # "none" or "minmax" (per clip, on the host)
    input_history: int = 2  # input channels: frame k, k-1, ... (clamped at frame 0)
    input_vth_mant: int = 128
    input_v_decay: int = 0
    i_decay: int = 4096
    v_decay: int = 1024
    out_v_decay: int = 2048
    theta: float = 1.0
    target_rate: float = 0.1  # hidden spike rate the thresholds are calibrated to; 0 = off
    # hidden synaptic layers use standardised weights (zero mean, fixed norm per output
    # neuron; see Student.float_weights). Training turns it on (mskd.train.loop); a loaded
    # checkpoint has it folded into plain weights (Student.folded), so it is off there.
    weight_standardize: bool = False
    surrogate_k: float = 2.0  # steepness of the fast-sigmoid surrogate (x in threshold units)
    spike_dropout: float = 0.0  # training only: drop hidden neurons' spikes (mask fixed per clip)
    weight_exps: tuple[int, ...] = ()
    vth_mants: tuple[int, ...] = ()
    # "categorical" (classes logits) or "dimensional" (2 outputs: valence, arousal)
    task: str = "categorical"
    # training only: width of the projection of the feature layer onto the teacher's
    # (feature-level distillation); 0 = none. Dropped when a checkpoint is loaded.
    kd_projection: int = 0

    def __post_init__(self) -> None:
        refuse_wrong_types(self, "student config")
        student_geometry.check_shape_fields(self)
        student_geometry.check_task(self)
        if self.n_frames > MAX_STEPS or not 1 <= self.steps_per_frame <= MAX_STEPS_PER_FRAME:
            raise ConfigError(f"student: n_frames {self.n_frames} <= {MAX_STEPS} and "
                              f"steps_per_frame={self.steps_per_frame} in "
                              f"1..{MAX_STEPS_PER_FRAME} needed")
        if self.size < 4 or self.n_frames < 1 or self.classes < 2:
            raise ConfigError(f"student: bad size/n_frames/classes {self.size}/{self.n_frames}")
        if self.input_history < 1:
            raise ConfigError(f"input_history={self.input_history} must be >= 1")
        if self.steps_per_frame < 1:
            raise ConfigError(f"steps_per_frame={self.steps_per_frame} must be >= 1")
        if not 0.0 <= self.spike_dropout < 1.0:
            raise ConfigError(f"spike_dropout={self.spike_dropout} must be in [0, 1)")
        if not 0 < self.input_gain <= 4095:
            raise ConfigError(f"input_gain={self.input_gain} outside 1..4095 (13-bit bias)")
        if self.input_norm not in ("none", "minmax"):
            raise ConfigError(f"input_norm={self.input_norm!r}: expected 'none' or 'minmax'")
        if not 0 <= self.i_decay <= DECAY_MAX + 1:
            raise ConfigError(f"i_decay={self.i_decay} outside 0..4096")
        for name in ("v_decay", "out_v_decay", "input_v_decay"):
            if not 0 <= getattr(self, name) <= DECAY_MAX:
                raise ConfigError(f"{name}={getattr(self, name)} outside 0..{DECAY_MAX}")
        n_syn = len(self.channels) + len(self.hidden) + 1
        for name in ("weight_exps", "vth_mants"):
            if getattr(self, name) and len(getattr(self, name)) != n_syn:
                raise ConfigError(f"{name} needs {n_syn} entries, got {len(getattr(self, name))}")
        if any(not 0 <= v <= VTH_MAX for v in self.vth_mants):
            raise ConfigError(f"vth_mants {self.vth_mants} outside 0..{VTH_MAX}")
        if any(not -64 <= e <= 64 for e in self.weight_exps):
            raise ConfigError(f"weight_exps {self.weight_exps} outside -64..64")
        self.check_size()

    def weight_shapes(self) -> list[tuple[int, ...]]:
        """Shapes of the synaptic weights (``Student.weights``), computed, not allocated."""
        return student_geometry.weight_shapes(self)

    def check_size(self) -> None:
        """ConfigError above :data:`~mskd.limits.MAX_MODEL_PARAMS` (before building)."""
        student_geometry.check_size(self)

    @property
    def n_synaptic(self) -> int:
        """Synaptic layers (convs + denses): also the pipeline latency in steps."""
        return len(self.channels) + len(self.hidden) + 1

    def geometry(self) -> list[tuple[int, ...]]:
        """Neuron-layer shapes, input first, flatten shown as its own entry."""
        return student_geometry.geometry(self)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> StudentConfig:
        if not isinstance(data, dict):
            raise ConfigError(f"student config is a {type(data).__name__}, not a table")
        refuse_unknown_fields(cls, data, "student config")
        tuples = {"channels", "hidden", "weight_exps", "vth_mants"}
        return cls(**{k: tuple(v) if k in tuples and isinstance(v, (list, tuple)) else v
                      for k, v in data.items()})

"""The typed description of a trained student that the Loihi converter reads.

:meth:`mskd.train.student_lif.Student.quantized` returns a :class:`QuantizedStudent`: every
number in it is an integer in Loihi units, so the converter never sees a float weight.

Layer kinds and fields:

- ``input``: CUBA-LIF neurons with no synapses, driven by ``bias_mant = round(pixel *
  input_gain)`` (torch.round of the float64 product, half to even; <= 4095), which Lava
  applies as ``bias_mant << 6``; ``pixel`` is first scaled on the host by
  :func:`mskd.frames.normalize_frames` with ``input_norm``. ``weight`` and
  ``bias`` are None (the bias is the frame).
- ``conv``: ``weight`` int64 ``[out, in, kh, kw]``, ``stride``/``padding`` as (h, w), no
  dilation, one group.
- ``flatten``: no neurons; reshapes ``[C, H, W]`` to ``C*H*W`` in C, H, W (row-major) order.
- ``dense``: ``weight`` int64 ``[out, in]``.

Every neuron layer carries ``i_decay``/``v_decay``/``vth_mant`` (the netx HDF5 fields) and
an int64 ``bias`` (bias mantissa per neuron, zero here). Shapes are ``(C, H, W)`` or
``(N,)``, without batch.

A sigma-delta student (:mod:`mskd.train.student_sdnn`) uses ``neuron="sdnn"`` layers: only
``vth_mant`` (the SDNN ``vThMant``; the input layer is a Delta encoder), ``sigma_output``
on the readout, per-channel bias mantissas; its encoding kind is ``delta`` with a ``sigma``
readout over every camera frame (``dense``).

Timing: each frame is held as the input bias for ``steps_per_frame`` steps, then the last
frame is held for ``latency`` more steps (``latency`` = number of synaptic layers, because
each synaptic layer delivers spikes one step later). Run ``n_frames * steps_per_frame +
latency`` steps; the prediction is the mean of the output layer's ``v`` over steps
``latency .. latency + n_frames * steps_per_frame - 1``, divided by ``readout_scale``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

KINDS = ("input", "conv", "flatten", "dense")


@dataclass(frozen=True)
class QuantLayer:
    """One layer in Loihi integer units (see the module docstring for the layout)."""

    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    weight: torch.Tensor | None = None
    bias: torch.Tensor | None = None
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    i_decay: int | None = None
    v_decay: int | None = None
    vth_mant: int | None = None
    neuron: str = "lif"  # "lif" (CUBA) or "sdnn" (sigma-delta)
    sigma_output: bool = False  # sdnn readout: a Sigma layer

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"layer kind {self.kind!r} not one of {KINDS}")
        if self.weight is not None and self.weight.dtype != torch.int64:
            raise ValueError(f"{self.kind} weight must be int64, got {self.weight.dtype}")
        if self.weight is not None and int(self.weight.abs().max()) > 128:
            raise ValueError(f"{self.kind} weight outside the 8-bit mantissa range")
        if self.kind in ("conv", "dense") and self.weight is None:
            raise ValueError(f"{self.kind} layer needs a weight")
        if self.neuron not in ("lif", "sdnn"):
            raise ValueError(f"{self.kind} layer neuron {self.neuron!r} not lif or sdnn")
        if self.kind != "flatten" and self.neuron == "lif" and \
                None in (self.i_decay, self.v_decay, self.vth_mant):
            raise ValueError(f"{self.kind} layer needs i_decay, v_decay and vth_mant")
        if self.kind != "flatten" and self.neuron == "sdnn" and self.vth_mant is None:
            raise ValueError(f"{self.kind} layer needs vth_mant")

    @property
    def has_neurons(self) -> bool:
        return self.kind != "flatten"


@dataclass(frozen=True)
class QuantizedStudent:
    """All layers in order plus the timing and readout conventions."""

    layers: tuple[QuantLayer, ...]
    input_gain: int
    steps_per_frame: int
    n_frames: int
    latency: int
    readout_scale: float
    classes: int
    input_norm: str = "none"  # host-side frame scaling, see mskd.frames.normalize_frames
    input_history: int = 1  # channel j of frame slot k = frame k - j (mskd.frames.stack_history)
    notes: dict = field(default_factory=dict)
    encoding: str = "bias"  # "bias" (CUBA input) or "delta" (sigma-delta input)
    dense: bool = False  # one frame per camera frame of the clip's span

    def __post_init__(self) -> None:
        if not self.layers or self.layers[0].kind != "input":
            raise ValueError("the first layer must be the input layer")
        if not 0 < self.input_gain <= 4095:
            raise ValueError(f"input_gain={self.input_gain} outside 1..4095")

    @property
    def steps(self) -> int:
        """Total steps to run one clip: frames x steps per frame + pipeline latency."""
        return self.n_frames * self.steps_per_frame + self.latency

"""How frames become input and readout becomes logits: metadata stored with a netx network.

A converted ``.net`` file carries an :class:`InputEncoding` as the root HDF5 attribute
``mskd_encoding`` (a JSON string); lava-dl's ``netx.hdf5.Network`` ignores root attributes,
so the file still loads in Lava. The encoding is what a backend needs to run a clip:

* ``kind="bias"``: the input layer's neurons are driven by ``bias_mant = round(x *
  input_gain)`` (``torch.round`` of the float64 product: half to even), which Lava applies as
  ``bias_mant << 6`` (:func:`bias_mantissa`). ``x`` is the frame after the student's own
  host-side steps, defined once in :mod:`mskd.frames` and used by the student too:
  ``normalize_frames(frames, input_norm)`` then ``stack_history(x, input_history)``
  (channel j of frame slot k is frame k - j). ``tests/test_convert_exact.py`` checks that
  this equals what the student's fixed-point forward feeds its input layer.
* Frame ``k`` is held for ``steps_per_frame`` steps; the last frame is held for ``latency``
  more steps (one step per synaptic layer): ``steps = n_frames * steps_per_frame + latency``.
* ``readout="mean_v"``: logits = mean of ``readout_layer``'s ``v`` over steps ``latency ..
  steps - 1``, divided by ``readout_scale``.
* ``kind="delta"`` (sigma-delta networks): the input layer is a Delta encoder fed the values
  ``round(x * input_gain)`` (the same :func:`mskd.frames.input_mantissa`), one step per
  frame (``steps_per_frame = 1``); with ``dense`` the clip is every camera frame of its
  span (E4-S3: 13 frames), not only the sampled ones. ``readout="sigma"``: the readout
  layer is a Sigma whose value at step ``k + latency`` is frame k's logits times
  ``readout_scale``; the clip's logits are their mean over the frames.
* ``task="dimensional"``: the two outputs are valence and arousal, per frame
  (:func:`frame_readout`); the readout is the same.

>>> enc = InputEncoding(input_gain=160, steps_per_frame=2, clip="E2-S1", size=(2, 2),
...                     latency=1, readout_layer="2:dense", readout_scale=64.0,
...                     classes=("a", "b"))
>>> enc.n_frames, enc.steps
(2, 5)
>>> x = encode_frames(torch.tensor([[[[[0.0, 1.0], [0.5, 0.25]]], [[[1.0] * 2] * 2]]]), enc)
>>> x.shape, x.dtype                  # [B, T, C, H, W]
(torch.Size([1, 5, 1, 2, 2]), torch.int64)
>>> x[0, :, 0, 0, 1].tolist()
[160, 160, 160, 160, 160]
>>> x[0, :, 0, 1, 1].tolist()         # 0.25 * 160 = 40 for two steps, then frame 2
[40, 40, 160, 160, 160]
>>> InputEncoding.from_json(enc.to_json()) == enc
True
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from mskd.errors import NetError, refuse_unknown_fields, refuse_wrong_types
from mskd.labels import DIMENSIONS
from mskd.limits import MAX_INPUT_ENTRIES, MAX_LAYERS, MAX_SIDE, MAX_STEPS, check_entries
from mskd.loihi.lif import BIAS_MANT_MAX
from mskd.net.attrs import ENCODING, read_attr, write_attr

ATTR = ENCODING


class MissingEncoding(NetError):
    """The network file has no ``mskd_encoding`` attribute (not written by mskd convert)."""


KINDS = ("bias", "delta")
MAX_CLASSES = 1 << 16
READOUTS = ("mean_v", "sigma")
TASKS = ("categorical", "dimensional")
DIMENSIONAL_OUTPUTS = DIMENSIONS


@dataclass(frozen=True)
class InputEncoding:
    """Input encoding and readout of a converted network (validated; JSON round trip)."""

    input_gain: int
    steps_per_frame: int
    clip: str
    size: tuple[int, int]
    latency: int
    readout_layer: str
    readout_scale: float
    classes: tuple[str, ...]
    kind: str = "bias"
    readout: str = "mean_v"
    input_norm: str = "none"
    input_history: int = 1
    dense: bool = False  # every camera frame of the clip's span (sigma-delta students)
    # "categorical": the outputs are class logits; "dimensional": valence and arousal per
    # frame (classes = ("valence", "arousal")), read out the same way
    task: str = "categorical"

    def __post_init__(self) -> None:
        for name in ("size", "classes"):
            if isinstance(getattr(self, name), list):
                object.__setattr__(self, name, tuple(getattr(self, name)))
        refuse_wrong_types(self, "encoding", ValueError)
        if self.steps_per_frame > MAX_STEPS or self.latency > MAX_LAYERS or \
                len(self.classes) > MAX_CLASSES or max(self.size, default=0) > MAX_SIDE:
            raise ValueError(f"steps_per_frame={self.steps_per_frame} (max {MAX_STEPS}), "
                             f"latency={self.latency} (max {MAX_LAYERS}), "
                             f"{len(self.classes)} classes (max {MAX_CLASSES}) or size "
                             f"{self.size} (max {MAX_SIDE}) out of range")
        if self.kind not in KINDS or self.readout not in READOUTS:
            raise ValueError(f"encoding kind/readout {self.kind}/{self.readout} not in "
                             f"{KINDS}/{READOUTS}")
        if (self.kind == "delta") != (self.readout == "sigma"):
            raise ValueError(f"encoding kind {self.kind!r} goes with readout "
                             f"{'sigma' if self.kind == 'delta' else 'mean_v'!r}")
        if not 0 < int(self.input_gain) <= BIAS_MANT_MAX:
            raise ValueError(f"input_gain={self.input_gain} outside 1..{BIAS_MANT_MAX}")
        if self.input_norm not in ("none", "minmax") or self.input_history < 1:
            raise ValueError(f"input_norm={self.input_norm!r} must be none/minmax and "
                             f"input_history={self.input_history} >= 1")
        if self.steps_per_frame < 1 or self.latency < 0:
            raise ValueError(f"steps_per_frame={self.steps_per_frame} must be >= 1 and "
                             f"latency={self.latency} >= 0")
        if len(self.size) != 2 or min(self.size) < 1:
            raise ValueError(f"size {self.size} must be (H, W) >= 1")
        if not (self.readout_scale > 0 and np.isfinite(self.readout_scale)):
            raise ValueError(f"readout_scale={self.readout_scale} must be finite and > 0")
        if len(self.classes) < 2 or ":" not in self.readout_layer:
            raise ValueError(f"need >= 2 classes and a '<index>:<type>' readout layer, got "
                             f"{len(self.classes)} / {self.readout_layer!r}")
        if self.task not in TASKS or (self.task == "dimensional" and
                                      self.classes != DIMENSIONAL_OUTPUTS):
            raise ValueError(f"task {self.task!r} must be categorical, or dimensional with "
                             f"outputs {DIMENSIONAL_OUTPUTS}, got {self.classes}")
        from mskd.clips import ClipSpec

        object.__setattr__(self, "clip", str(ClipSpec.parse(self.clip)))
        if self.steps > MAX_STEPS:
            raise ValueError(f"{self.steps} steps per clip (clip {self.clip} x "
                             f"steps_per_frame {self.steps_per_frame}) exceed {MAX_STEPS}")

    @property
    def n_frames(self) -> int:
        """Frames per clip: the ``n`` of ``E<n>-S<s>``, or its whole span when ``dense``."""
        from mskd.clips import ClipSpec

        spec = ClipSpec.parse(self.clip)
        return spec.span if self.dense else spec.n

    @property
    def steps(self) -> int:
        """Steps to run one clip: frames x steps per frame + pipeline latency."""
        return self.n_frames * self.steps_per_frame + self.latency

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> InputEncoding:
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError(f"is a JSON {type(data).__name__}, not a table")
        refuse_unknown_fields(cls, data, "encoding", ValueError)
        return cls(**data)

    @property
    def input_name(self) -> str:
        """What the encoded integers are: a CUBA input's bias mantissas, or the values a
        Delta input layer sends the changes of."""
        return "bias mantissas" if self.kind == "bias" else "Delta input values"

    def check_network(self, spec) -> None:
        """ValueError unless the network is the one this encoding feeds and reads: an input
        of this encoding's kind (bias-driven CUBA or sigma-delta Delta) and shape
        (input_history, H, W), ``latency`` synaptic layers, a readout layer
        ``<index>:<type>`` with one neuron per class."""
        from mskd.net.spec import ConvLayer, DenseLayer, kind

        shape = (self.input_history, *self.size)
        if spec.input_kind != self.kind or tuple(spec.input_shape) != shape:
            raise ValueError(f"input ({self.input_history} frames x {self.size}) does not fit "
                             f"the network's {spec.input_kind} input {tuple(spec.input_shape)}")
        synaptic = sum(1 for la in spec.layers if isinstance(la, (ConvLayer, DenseLayer)))
        if self.latency != synaptic:
            raise ValueError(f"latency={self.latency}, but the network has {synaptic} "
                             "synaptic layers")
        index, _, name = self.readout_layer.partition(":")
        layer = spec.layers[int(index)] if index.isdigit() and \
            int(index) < len(spec.layers) else None
        if layer is None or kind(layer) != name or getattr(layer, "neuron", None) is None:
            raise ValueError(f"readout_layer={self.readout_layer!r} is not a neuron layer "
                             f"of the network ({len(spec.layers)} layers)")
        if math.prod(layer.out_shape) != len(self.classes):
            raise ValueError(f"{len(self.classes)} classes, but readout layer "
                             f"{self.readout_layer} has {math.prod(layer.out_shape)} neurons")


def bias_mantissa(frames: torch.Tensor, enc: InputEncoding) -> torch.Tensor:
    """``round(x * input_gain)`` int64 ``[B, n, history, H, W]`` (see the module docstring)."""
    from mskd.frames import input_mantissa

    if not torch.isfinite(frames).all():
        raise ValueError("input frames contain NaN or inf")
    if frames.numel() and (frames.min() < 0 or frames.max() > 1):
        raise ValueError("input frames must be in [0, 1]")
    mant = input_mantissa(frames, enc.input_gain, enc.input_norm, enc.input_history)
    return mant.to(torch.int64)


def encode_frames(frames: torch.Tensor, enc: InputEncoding) -> torch.Tensor:
    """Frames ``[B, n, 1, H, W]`` in [0, 1] -> bias mantissas ``[B, T, history, H, W]``."""
    if frames.dim() != 5 or tuple(frames.shape[1:2]) != (enc.n_frames,) or \
            tuple(frames.shape[3:]) != enc.size:
        raise ValueError(f"frames shape {tuple(frames.shape)} is not [B, {enc.n_frames}, C, "
                         f"{enc.size[0]}, {enc.size[1]}]")
    from mskd.frames import frame_schedule

    check_entries((frames.shape[0], enc.steps, enc.input_history, *enc.size),
                  MAX_INPUT_ENTRIES, "encoded input", ValueError)
    mant = bias_mantissa(frames, enc)
    return mant[:, frame_schedule(enc.n_frames, enc.steps_per_frame, enc.latency)]


def readout_window(v: torch.Tensor, enc: InputEncoding) -> torch.Tensor:
    """The readout steps ``latency .. steps - 1`` of a ``[T, B, C]`` voltage trace."""
    if v.shape[0] != enc.steps:
        raise ValueError(f"readout has {v.shape[0]} steps, the encoding runs {enc.steps}")
    return v[enc.latency:]


def readout_trace(record, enc: InputEncoding) -> torch.Tensor:
    """The readout layer's trace ``[T, B, C]``: its ``v`` (``mean_v``) or the value its
    Sigma neurons send every step (``sigma``)."""
    if enc.readout == "sigma":
        if enc.readout_layer not in record.spikes:
            raise ValueError(f"record has no layer {enc.readout_layer}")
        return record.spikes[enc.readout_layer]
    if record.v is None or enc.readout_layer not in record.v:
        raise ValueError(f"record has no v of readout layer {enc.readout_layer} "
                         "(run with record=('v',))")
    return record.v[enc.readout_layer]


def frame_readout(record_or_v, enc: InputEncoding) -> torch.Tensor:
    """Per-frame outputs ``[n_frames, B, classes]`` (float64): frame k's readout steps
    (``mean_v``: its ``steps_per_frame`` window of ``v``, averaged; ``sigma``: the value at
    step ``k + latency``) divided by ``readout_scale``. A dimensional network's valence and
    arousal of every frame."""
    v = record_or_v if isinstance(record_or_v, torch.Tensor) else readout_trace(record_or_v, enc)
    w = readout_window(v, enc).double()
    w = w.reshape(enc.n_frames, enc.steps_per_frame, *w.shape[1:]).mean(1)
    return w / enc.readout_scale


def decode_readout(record_or_v, enc: InputEncoding) -> torch.Tensor:
    """Logits ``[B, classes]`` (float64) from a Record or a ``[T, B, C]`` readout trace: the
    mean over the frames of :func:`frame_readout` (for a dimensional network, the clip's
    mean valence and arousal)."""
    return frame_readout(record_or_v, enc).mean(0)


def write_encoding(path: str | Path, enc: InputEncoding) -> None:
    """Set the root attribute on an existing HDF5 file (use inside ``atomic_path``)."""
    write_attr(path, ATTR, enc.to_json())


def read_encoding(path: str | Path, spec=None) -> InputEncoding:
    """The :class:`InputEncoding` stored in a ``.net`` file, checked against the network in
    that file (or ``spec``, the network read from it); NetError if absent, bad or
    inconsistent."""
    try:
        raw = read_attr(path, ATTR)
    except ValueError as exc:
        raise NetError(str(exc)) from None
    if raw is None:
        raise MissingEncoding(f"{path}: no '{ATTR}' attribute (not written by mskd convert)")
    try:
        enc = InputEncoding.from_json(raw)
    except (ValueError, TypeError) as exc:
        raise NetError(f"{path}: attribute '{ATTR}': {' '.join(str(exc).split())}") from None
    if spec is None:
        from mskd.net.netx_io import read_netx

        spec = read_netx(path)
    try:
        enc.check_network(spec)
    except ValueError as exc:
        raise NetError(f"{path}: attribute '{ATTR}' does not fit the network: {exc}") from None
    return enc

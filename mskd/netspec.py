"""Typed, validated description of a netx HDF5 network (lava-dl 0.6.0 ``netx.hdf5``).

A :class:`NetSpec` is a list of layers, each a frozen dataclass checked in
``__post_init__``. Shapes are in torch order: ``(C, H, W)`` for maps, ``(N,)`` for
vectors. Weights and biases are ``int64`` numpy arrays. Read and write files with
:func:`read_netx` / :func:`write_netx` (h5py, atomic).

File-boundary conventions (verified against Lava by ``tests/test_deploy_lava.py``):

* netx stores ``shape`` in (C, H, W) order and reverses it to Lava's (x, y, z) = (W, H, C).
* ``stride``, ``padding``, ``dilation`` are stored (H, W); netx reverses them to (x, y).
* A conv ``weight`` is stored in torch layout ``[out, in/groups, kH, kW]`` (slayer adds a
  trailing singleton, which netx drops). netx flips it spatially and transposes it to
  Lava's ``(C_out, W, H, C_in)``; Lava's conv flips it back and calls torch ``conv2d``,
  so the stored array is exactly torch's cross-correlation kernel: we keep it as is.
* A Dense after a Flatten receives ``out.transpose([2, 1, 0]).flatten()`` of the
  (W, H, C) map, i.e. index ``c*H*W + h*W + w``: torch's ``x.flatten()`` of (C, H, W).
* The Input layer's ``bias`` (and ``weight``) fields are read but netx does not pass them
  to the neurons: input neurons are driven by setting ``bias_mant`` every step.

>>> n = LifNeuron(i_decay=1024, v_decay=128, vth_mant=80)
>>> n.params
LifParams(du=1023, dv=128, vth=80, bias_exp=6)
>>> LifNeuron(i_decay=5000, v_decay=0, vth_mant=1)
Traceback (most recent call last):
...
ValueError: iDecay=5000 outside 0..4096
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mskd.loihi import BIAS_MANT_MAX, BIAS_MANT_MIN, DECAY_MAX, DECAY_UNITY, VTH_MAX, LifParams

MAX_DELAY = 62  # netx DelayDense is built with max_delay=62 (hdf5.py create_dense)
WEIGHT_MIN, WEIGHT_MAX = -256, 255  # what optimize_weight_bits can map without a negative shift


def _check_range(name: str, value: int, lo: int, hi: int) -> None:
    if not lo <= value <= hi:
        raise ValueError(f"{name}={value} outside {lo}..{hi}")


def _int_array(name: str, a, ndim: int | None = None) -> np.ndarray:
    if not isinstance(a, np.ndarray) or a.dtype != np.int64:
        raise ValueError(f"{name} must be an int64 numpy array, got {type(a).__name__}"
                         f"{'' if not isinstance(a, np.ndarray) else ' of ' + str(a.dtype)}")
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    a.setflags(write=False)  # frozen dataclass: freeze the payload too
    return a


def _pair(name: str, v) -> tuple[int, int]:
    t = tuple(int(x) for x in v)
    if len(t) != 2:
        raise ValueError(f"{name} must be (h, w), got {v}")
    return t


@dataclass(frozen=True)
class LifNeuron:
    """netx CUBA neuron fields: ``iDecay``, ``vDecay``, ``vThMant``, ``gradedSpike``."""

    i_decay: int
    v_decay: int
    vth_mant: int
    graded: bool = False

    def __post_init__(self) -> None:
        _check_range("iDecay", self.i_decay, 0, DECAY_UNITY)
        _check_range("vDecay", self.v_decay, 0, DECAY_MAX)
        _check_range("vThMant", self.vth_mant, 0, VTH_MAX)

    @property
    def params(self) -> LifParams:
        """The Lava LIF parameters netx derives (``du = iDecay - 1``, ``bias_exp = 6``)."""
        return LifParams.from_netx(self.i_decay, self.v_decay, self.vth_mant)


def _check_bias(bias: np.ndarray | None, n: int) -> None:
    if bias is None:
        return
    _int_array("bias", bias, 1)
    if bias.shape != (n,):
        raise ValueError(f"bias shape {bias.shape} does not match {n} channels/neurons")
    if bias.size and (bias.min() < BIAS_MANT_MIN or bias.max() > BIAS_MANT_MAX):
        raise ValueError(f"bias outside the 13-bit range {BIAS_MANT_MIN}..{BIAS_MANT_MAX}")


def _check_weight(w: np.ndarray) -> None:
    if w.size == 0 or (w.min() < WEIGHT_MIN or w.max() > WEIGHT_MAX):
        raise ValueError(f"weight outside {WEIGHT_MIN}..{WEIGHT_MAX} (netx 8-bit synapses)")
    if not w.any():
        raise ValueError("weight is all zero (netx's optimize_weight_bits cannot map it)")


@dataclass(frozen=True)
class InputLayer:
    """netx ``input``: with a neuron, bias-driven input neurons; without, only a shape.

    ``bias`` is kept for round trips; netx ignores it (see the module docstring).
    """

    shape: tuple[int, ...]
    neuron: LifNeuron | None = None
    bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        if len(self.shape) not in (1, 3) or min(self.shape) < 1:
            raise ValueError(f"input shape {self.shape} must be (N,) or (C, H, W)")
        if self.bias is not None:
            _int_array("bias", self.bias)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.shape


def conv_out_hw(in_hw, kernel, stride, padding, dilation) -> tuple[int, int]:
    """Output (H, W) exactly as ``lava.proc.conv.utils.output_shape`` computes it."""
    return tuple(
        (in_hw[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1
        for i in range(2))


@dataclass(frozen=True)
class ConvLayer:
    """netx ``conv``: Lava Conv synapse (fixed_pt) + CUBA-LIF neurons, shapes (C, H, W).

    ``weight`` is ``[out, in/groups, kH, kW]`` as stored in the file; ``bias`` per channel.
    """

    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    weight: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    neuron: LifNeuron
    bias: np.ndarray | None = None
    delay: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("in_shape", "out_shape"):
            object.__setattr__(self, name, tuple(int(s) for s in getattr(self, name)))
        for name in ("stride", "padding", "dilation"):
            object.__setattr__(self, name, _pair(name, getattr(self, name)))
        w = _int_array("weight", self.weight, 4)
        cin, cout = self.in_shape[0], self.out_shape[0]
        if len(self.in_shape) != 3 or len(self.out_shape) != 3:
            raise ValueError("conv shapes must be (C, H, W)")
        if self.groups < 1 or cin % self.groups or cout % self.groups:
            raise ValueError(f"groups={self.groups} does not divide channels {cin}->{cout}")
        if w.shape[:2] != (cout, cin // self.groups):
            raise ValueError(f"weight shape {w.shape} does not match channels {cin}->{cout}")
        if min(self.stride) < 1 or min(self.dilation) < 1 or min(self.padding) < 0:
            raise ValueError("stride/dilation must be >= 1 and padding >= 0")
        hw = conv_out_hw(self.in_shape[1:], w.shape[2:], self.stride, self.padding,
                         self.dilation)
        if hw != self.out_shape[1:] or min(hw) < 1:
            raise ValueError(f"out_shape {self.out_shape} does not match conv output {hw}")
        _check_weight(w)
        _check_bias(self.bias, cout)
        if self.delay is not None and np.any(_int_array("delay", self.delay)):
            raise ValueError("conv delay is not supported (netx ignores conv delays)")


@dataclass(frozen=True)
class DenseLayer:
    """netx ``dense``: Lava Dense (or DelayDense when ``delay`` is present) + CUBA-LIF.

    ``weight`` is ``[out, in]``. ``delay`` is kept as stored: a scalar, one value per
    output (axonal, checked first by netx), one per input, or a full ``[out, in]`` array.
    """

    in_features: int
    out_features: int
    weight: np.ndarray
    neuron: LifNeuron
    bias: np.ndarray | None = None
    delay: np.ndarray | None = None

    def __post_init__(self) -> None:
        w = _int_array("weight", self.weight, 2)
        if w.shape != (self.out_features, self.in_features):
            raise ValueError(f"weight shape {w.shape} is not "
                             f"({self.out_features}, {self.in_features})")
        _check_weight(w)
        _check_bias(self.bias, self.out_features)
        if self.delay is not None:
            d = _int_array("delay", self.delay)
            if d.size and (d.min() < 0 or d.max() > MAX_DELAY):
                raise ValueError(f"delay outside 0..{MAX_DELAY}")
            self.delay_matrix()  # shape check

    @property
    def in_shape(self) -> tuple[int]:
        return (self.in_features,)

    @property
    def out_shape(self) -> tuple[int]:
        return (self.out_features,)

    def delay_matrix(self) -> np.ndarray:
        """Per-synapse delays ``[out, in]``, broadcast exactly as netx ``create_dense`` does."""
        out, inp = self.weight.shape
        d = np.zeros((out, inp), np.int64) if self.delay is None else self.delay
        if d.ndim == 0:
            return np.full((out, inp), int(d), np.int64)
        if d.ndim == 1 and d.size == out:  # netx checks "axonal" (per output) first
            return np.repeat(d.reshape(-1, 1), inp, axis=1)
        if d.ndim == 1 and d.size == inp:
            return np.repeat(d.reshape(1, -1), out, axis=0)
        if d.shape == (out, inp):
            return d
        raise ValueError(f"delay shape {d.shape} incompatible with weight {self.weight.shape}")


@dataclass(frozen=True)
class FlattenLayer:
    """netx ``flatten``: torch-order flatten of (C, H, W) (see the module docstring)."""

    in_shape: tuple[int, ...]
    out_shape: tuple[int]

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_shape", tuple(int(s) for s in self.in_shape))
        object.__setattr__(self, "out_shape", tuple(int(s) for s in self.out_shape))
        if self.out_shape != (int(np.prod(self.in_shape)),):
            raise ValueError(f"flatten {self.in_shape} -> {self.out_shape} loses neurons")


Layer = InputLayer | ConvLayer | DenseLayer | FlattenLayer
SYNAPSE_LAYERS = (ConvLayer, DenseLayer)


@dataclass(frozen=True)
class NetSpec:
    """A feed-forward netx network: layers in order; each layer's input is the previous output.

    A first :class:`InputLayer` with a neuron makes the network bias-driven; one without a
    neuron (or none at all) makes the first synapse layer receive binary spikes.
    """

    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        from mskd.errors import NetError

        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise NetError("network has no layers")
        prev = None
        for i, layer in enumerate(self.layers):
            if not isinstance(layer, (InputLayer, ConvLayer, DenseLayer, FlattenLayer)):
                raise NetError(f"layer {i}: unsupported type {type(layer).__name__}")
            if isinstance(layer, InputLayer) and i != 0:
                raise NetError(f"layer {i} (input): input must be the first layer")
            if isinstance(layer, DenseLayer) and prev is not None and len(prev) != 1:
                raise NetError(f"layer {i} (dense): needs a flatten after shape {prev}")
            if prev is not None and not isinstance(layer, InputLayer):
                got = layer.in_shape if not isinstance(layer, FlattenLayer) else layer.in_shape
                if tuple(got) != tuple(prev):
                    raise NetError(f"layer {i} ({kind(layer)}): in_shape {tuple(got)} "
                                   f"does not match the previous output {tuple(prev)}")
            prev = layer.out_shape
        if not any(isinstance(la, SYNAPSE_LAYERS) for la in self.layers) and not (
                isinstance(self.layers[0], InputLayer) and self.layers[0].neuron):
            raise NetError("network has no neurons")

    @property
    def bias_driven(self) -> bool:
        """True when the first layer is an Input layer with neurons (driven by bias_mant)."""
        first = self.layers[0]
        return isinstance(first, InputLayer) and first.neuron is not None

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Per-sample input shape in torch order (bias mantissas or spikes)."""
        first = self.layers[0]
        return first.shape if isinstance(first, InputLayer) else first.in_shape

    def neuron_layers(self) -> list[tuple[int, Layer]]:
        """(file index, layer) of every layer that has neurons: netx's process list."""
        return [(i, la) for i, la in enumerate(self.layers)
                if isinstance(la, SYNAPSE_LAYERS) or
                (isinstance(la, InputLayer) and la.neuron is not None)]


def layers_equal(a: Layer, b: Layer) -> bool:
    """Field-by-field equality (arrays compared by shape and value)."""
    if type(a) is not type(b):
        return False
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None or x.shape != y.shape or not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def specs_equal(a: NetSpec, b: NetSpec) -> bool:
    """True when two specs describe the same network exactly."""
    return len(a.layers) == len(b.layers) and all(
        layers_equal(x, y) for x, y in zip(a.layers, b.layers, strict=True))


def kind(layer: Layer) -> str:
    """The netx ``type`` string of a layer."""
    return {InputLayer: "input", ConvLayer: "conv", DenseLayer: "dense",
            FlattenLayer: "flatten"}[type(layer)]


# The file boundary lives in mskd.netx_io; re-exported here for callers.
from mskd.netx_io import read_netx, write_netx  # noqa: E402,F401

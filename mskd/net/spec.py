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

Neuron groups (CUBA-LIF, sigma-delta, netx's default) are in :mod:`mskd.loihi.neurons`.

>>> n = LifNeuron(i_decay=1024, v_decay=128, vth_mant=80)
>>> spec = NetSpec((InputLayer((2,), SdnNeuron(vth_mant=1)),
...                 DenseLayer(2, 3, np.ones((3, 2), np.int64), n)))
>>> spec.input_kind, [spec.model(i) for i, _ in spec.neuron_layers()]
('delta', ['delta', 'lif'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mskd.loihi.lif import BIAS_MANT_MAX, BIAS_MANT_MIN
from mskd.loihi.neurons import DEFAULT_NEURON, LifNeuron, Neuron, SdnNeuron  # noqa: F401
from mskd.loihi.sdn import EXP_MAX, SPIKE_EXP

MAX_MESSAGE_BITS = 24  # Loihi 2 graded spikes carry up to 24 bits
MAX_DELAY = 62  # netx DelayDense is built with max_delay=62 (hdf5.py create_dense)
WEIGHT_MIN, WEIGHT_MAX = -256, 255  # what optimize_weight_bits can map without a negative shift


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


SDNN_BIAS_LIMIT = 1 << 19  # Lava scales an SDNN bias by 2**12 into an int32 register


def _check_bias(bias: np.ndarray | None, n: int, neuron=None) -> None:
    if bias is None:
        return
    _int_array("bias", bias, 1)
    if bias.shape != (n,):
        raise ValueError(f"bias shape {bias.shape} does not match {n} channels/neurons")
    if isinstance(neuron, SdnNeuron):
        if neuron.sigma_output:  # netx passes bias= to Lava's Sigma, which takes none
            raise ValueError("a sigma_output layer cannot have a bias (Lava's Sigma has none)")
        lo, hi = -SDNN_BIAS_LIMIT, SDNN_BIAS_LIMIT - 1
    else:
        lo, hi = BIAS_MANT_MIN, BIAS_MANT_MAX
    if bias.size and (bias.min() < lo or bias.max() > hi):
        why = "13-bit bias_mant" if lo == BIAS_MANT_MIN else "SDNN bias << 12 in int32"
        raise ValueError(f"bias outside {lo}..{hi} ({why})")


def _check_neuron(neuron) -> None:
    if not isinstance(neuron, (LifNeuron, SdnNeuron)):
        raise ValueError(f"neuron must be a LifNeuron or SdnNeuron, got {type(neuron).__name__}")


def _check_weight(w: np.ndarray) -> None:
    if w.size == 0 or (w.min() < WEIGHT_MIN or w.max() > WEIGHT_MAX):
        raise ValueError(f"weight outside {WEIGHT_MIN}..{WEIGHT_MAX} (netx 8-bit synapses)")
    if not w.any():
        raise ValueError("weight is all zero (netx's optimize_weight_bits cannot map it)")


@dataclass(frozen=True)
class InputLayer:
    """netx ``input``: without a neuron only a shape; with a CUBA neuron, input neurons
    driven by ``bias_mant``; with an SDNN neuron, a Delta encoder fed the input values.

    ``bias`` is kept for round trips; netx ignores it (see the module docstring).
    """

    shape: tuple[int, ...]
    neuron: LifNeuron | SdnNeuron | None = None
    bias: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        if len(self.shape) not in (1, 3) or min(self.shape) < 1:
            raise ValueError(f"input shape {self.shape} must be (N,) or (C, H, W)")
        if self.neuron is not None:
            _check_neuron(self.neuron)
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
    """netx ``conv``: Lava Conv synapse (fixed_pt) + CUBA-LIF or sigma-delta neurons.

    Shapes are (C, H, W).

    ``weight`` is ``[out, in/groups, kH, kW]`` as stored in the file; ``bias`` per channel.
    """

    in_shape: tuple[int, int, int]
    out_shape: tuple[int, int, int]
    weight: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    neuron: LifNeuron | SdnNeuron
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
        _check_neuron(self.neuron)
        _check_bias(self.bias, cout, self.neuron)
        if self.delay is not None and np.any(_int_array("delay", self.delay)):
            raise ValueError("conv delay is not supported (netx ignores conv delays)")


@dataclass(frozen=True)
class DenseLayer:
    """netx ``dense`` (Lava Dense, or DelayDense when ``delay`` is present) or ``dense_rec``
    (``weight_rec`` set: netx's RecurrentDense) + CUBA-LIF or sigma-delta neurons.

    ``weight`` is ``[out, in]``, ``weight_rec`` ``[out, out]`` (the layer's own messages of
    step t reach its neurons at t + 1). ``delay`` is kept as stored: a scalar, one value per
    output (axonal, checked first by netx), one per input, or a full ``[out, in]`` array.
    ``neuron`` is netx's :data:`~mskd.loihi.neurons.DEFAULT_NEURON` when the file has no group.
    """

    in_features: int
    out_features: int
    weight: np.ndarray
    neuron: LifNeuron | SdnNeuron = DEFAULT_NEURON
    bias: np.ndarray | None = None
    delay: np.ndarray | None = None
    weight_rec: np.ndarray | None = None

    def __post_init__(self) -> None:
        w = _int_array("weight", self.weight, 2)
        if w.shape != (self.out_features, self.in_features):
            raise ValueError(f"weight shape {w.shape} is not "
                             f"({self.out_features}, {self.in_features})")
        _check_weight(w)
        _check_neuron(self.neuron)
        _check_bias(self.bias, self.out_features, self.neuron)
        if self.weight_rec is not None:
            r = _int_array("weight_rec", self.weight_rec, 2)
            if r.shape != (self.out_features, self.out_features):
                raise ValueError(f"weight_rec shape {r.shape} is not "
                                 f"({self.out_features}, {self.out_features})")
            _check_weight(np.concatenate([w, r], axis=1))  # netx optimises them together
            if self.delay is not None:  # hdf5.py builds both DelayDense without weight_exp
                raise ValueError("dense_rec with delay: netx drops the weight exponent of "
                                 "both synapses (lava-dl 0.6), so it would not run as stored")
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
    """A netx network: layers in order; each layer's input is the previous output (plus,
    for a ``dense_rec`` layer, its own output of the step before).

    How the first layer is driven (:attr:`input_kind`): an :class:`InputLayer` with a CUBA
    neuron by ``bias_mant`` per step (``bias``), with an SDNN neuron by integer values into
    its Delta encoder (``delta``); without input neurons the first synapse receives binary
    spikes (``spikes``) or, with ``input_message_bits > 0`` (netx's
    ``Network(input_message_bits=...)``), signed graded payloads of that width (``graded``).
    ``spike_exp`` is netx's ``Network(spike_exp=...)`` of every sigma-delta layer. Neither is
    stored in a netx file: they are how the file is built, like Lava's ``reset_interval``.
    """

    layers: tuple[Layer, ...]
    input_message_bits: int = 0
    spike_exp: int = SPIKE_EXP

    def __post_init__(self) -> None:
        from mskd.errors import NetError

        object.__setattr__(self, "layers", tuple(self.layers))
        if not self.layers:
            raise NetError("network has no layers")
        if not 0 <= self.input_message_bits <= MAX_MESSAGE_BITS:
            raise NetError(f"input_message_bits={self.input_message_bits} outside "
                           f"0..{MAX_MESSAGE_BITS} (Loihi 2 graded spikes)")
        if not 0 <= self.spike_exp <= EXP_MAX:
            raise NetError(f"spike_exp={self.spike_exp} outside 0..{EXP_MAX}")
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
        for i, layer in self.neuron_layers():
            if isinstance(layer.neuron, SdnNeuron):
                try:
                    layer.neuron.params(self.role(i), self.spike_exp)
                except ValueError as exc:
                    raise NetError(f"layer {i} ({kind(layer)}): neuron {exc}") from None

    @property
    def input_kind(self) -> str:
        """``bias``, ``delta``, ``spikes`` or ``graded`` (see the class docstring)."""
        first = self.layers[0]
        if isinstance(first, InputLayer) and first.neuron is not None:
            return "delta" if isinstance(first.neuron, SdnNeuron) else "bias"
        return "graded" if self.input_message_bits else "spikes"

    @property
    def bias_driven(self) -> bool:
        """True when the first layer is an Input layer with CUBA neurons (bias_mant)."""
        return self.input_kind == "bias"

    def role(self, index: int) -> str:
        """``input`` for an Input layer, ``hidden`` for any other."""
        return "input" if isinstance(self.layers[index], InputLayer) else "hidden"

    def model(self, index: int) -> str:
        """Lava neuron model of layer ``index``: ``lif``, ``delta``, ``sigma_delta``, ``sigma``."""
        return self.layers[index].neuron.model(self.role(index))

    def graded_input(self, index: int) -> bool:
        """Whether the synapse of layer ``index`` receives graded payloads (netx's
        ``input_message_bits > 0``: the previous neuron layer is SDNN, or the network input
        is graded); binary synapses count any non-zero message as a 1."""
        for j in range(index - 1, -1, -1):
            layer = self.layers[j]
            if isinstance(layer, FlattenLayer):
                continue
            if isinstance(layer, InputLayer) and layer.neuron is None:
                break
            return layer.neuron.graded_out
        return self.input_message_bits > 0

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
    return (len(a.layers) == len(b.layers) and a.input_message_bits == b.input_message_bits
            and a.spike_exp == b.spike_exp and all(
                layers_equal(x, y) for x, y in zip(a.layers, b.layers, strict=True)))


def kind(layer: Layer) -> str:
    """The netx ``type`` string of a layer (``dense_rec`` for a recurrent dense)."""
    if isinstance(layer, DenseLayer) and layer.weight_rec is not None:
        return "dense_rec"
    return {InputLayer: "input", ConvLayer: "conv", DenseLayer: "dense",
            FlattenLayer: "flatten"}[type(layer)]

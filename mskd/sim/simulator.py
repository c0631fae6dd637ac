"""Batched bit-exact simulator of a netx network as Lava's fixed-point models run it.

``run(net, inputs, record=("u", "v")) -> (outputs, Record)`` simulates B samples at once
with exactly the integer semantics of lava-nc 0.10's bit-accurate processes as lava-dl
0.6's ``netx.hdf5.Network`` configures them:

* neurons: CUBA-LIF through :func:`mskd.loihi.lif.lif_step` (netx's ``du = iDecay - 1``,
  ``bias_exp = 6``; LIFReset when ``reset_interval`` is given, see below), sigma-delta
  (Delta input, ReLU SigmaDelta, Sigma output) through :func:`mskd.loihi.sdn.sdn_step`: the one
  definition of each;
* synapses: :mod:`mskd.sim.synapses` (weight optimisation, clipping, truncation and
  exponent for Dense/DelayDense; raw weights and a 24-bit wrap for Conv; one step of
  delay per synapse, plus axonal delays; binary or graded messages; the recurrent synapse
  of a ``dense_rec`` layer);
* input: as laid out in :mod:`mskd.net.inputs` (``X`` is ``[B, T, *input_shape]`` in
  (C, H, W) order, or ``[B, *input_shape]`` held for ``steps``): bias mantissas, values for
  a Delta input layer, or binary/graded messages into the first synapse.

Reset (``Network(reset_interval=R, reset_offset=o)``): netx gives the k-th neuron layer
(0-based, Input layer included) offset ``o + 1 + k``; Lava zeroes u and v at the start
of time step ``t`` (``t`` from 1) when ``t % R == (o + 1 + k) % R``. netx ignores the reset
for sigma-delta layers (it warns), and so do we.

Every sample starts from zero state at Lava time step 1, as a fresh Lava network does.

>>> import torch
>>> from mskd.net.spec import InputLayer, NetSpec
>>> from mskd.loihi.neurons import LifNeuron
>>> spec = NetSpec((InputLayer((1,), LifNeuron(4096, 0, 10)),))
>>> out, rec = run(spec, torch.tensor([[[4], [4], [4]]]), record=("v",))
>>> out[:, 0, 0].tolist(), rec.v["0:input"][:, 0, 0].tolist()
([0, 0, 1], [256, 512, 0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mskd.errors import ConfigError, NetError
from mskd.loihi import lif, sdn
from mskd.loihi.neurons import SdnNeuron
from mskd.net.inputs import prepare_inputs
from mskd.net.netx_io import read_netx
from mskd.net.record import LayerInfo, Record, check_registers
from mskd.net.spec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    NetSpec,
    kind,
)
from mskd.sim.synapses import binary, build_kernel, peak_abs, recurrent_kernels


@dataclass
class _NeuronLayer:
    info: LayerInfo
    params: lif.LifParams | sdn.SdnParams
    bias: torch.Tensor | int  # LIF: bias_mant << 6; SDNN: the bias mantissa, or 0
    kernel: Callable | None  # feed-forward synapse; None for an input layer
    recurrent: object | None  # RecurrentKernel of a dense_rec layer
    graded_in: bool  # the synapse multiplies payloads (else any message counts 1)
    flatten: bool  # the previous output is flattened (torch order) before the kernel
    reset_offset: int


class Simulator:
    """A netx network compiled for the batched simulator (kernels built once)."""

    def __init__(self, spec: NetSpec, device: str | torch.device = "cpu",
                 reset_interval: int | None = None, reset_offset: int = 0) -> None:
        if reset_interval is not None and reset_interval < 1:
            raise NetError(f"reset_interval={reset_interval} must be >= 1")
        try:
            self.spec, self.device = spec, torch.device(device)
        except (RuntimeError, TypeError, ValueError):
            raise ConfigError(f"--device {device}: choose cpu or cuda (cuda:N)") from None
        if self.device.type not in ("cpu", "cuda"):
            raise ConfigError(f"--device {device}: choose cpu or cuda (cuda:N)")
        if self.device.type == "cuda" and not torch.cuda.is_available():
            raise ConfigError(f"device {device}: torch sees no CUDA device here (use cpu)")
        self.reset_interval = reset_interval
        self.layers: list[_NeuronLayer] = []
        flatten = False
        offset = reset_offset + 1  # netx: "time starts from 1 in hardware"
        for i, layer in enumerate(spec.layers):
            if isinstance(layer, FlattenLayer):
                flatten = True
                continue
            if isinstance(layer, InputLayer) and layer.neuron is None:
                continue  # shape only: the next synapse reads the network input
            self.layers.append(self._compile(i, layer, flatten, offset))
            flatten, offset = False, offset + 1

    def _compile(self, i: int, layer, flatten: bool, offset: int) -> _NeuronLayer:
        shape = tuple(layer.out_shape)
        model = self.spec.model(i)
        sdnn = isinstance(layer.neuron, SdnNeuron)
        params = layer.neuron.params(self.spec.role(i), self.spec.spike_exp) if sdnn \
            else layer.neuron.params
        bias = torch.zeros(1, dtype=torch.int64)  # netx ignores the Input layer's bias
        if isinstance(layer, (ConvLayer, DenseLayer)) and layer.bias is not None:
            bias = torch.tensor(np.array(layer.bias), dtype=torch.int64)
            if isinstance(layer, ConvLayer):
                bias = bias.reshape(-1, 1, 1)  # netx broadcasts a conv bias per channel
        if not sdnn:
            bias = lif.effective_bias(bias)
        elif not bool(bias.any()):
            bias = 0  # no bias: sdn_step skips the add
        graded = self.spec.graded_input(i)
        kernel = recurrent = None
        if isinstance(layer, DenseLayer) and layer.weight_rec is not None:
            kernel, recurrent = recurrent_kernels(layer, graded, self.device)
        elif not isinstance(layer, InputLayer):
            kernel = build_kernel(layer, i, self.device)
        info = LayerInfo(f"{i}:{kind(layer)}", kind(layer), shape, model)
        bias = bias.to(self.device) if isinstance(bias, torch.Tensor) else bias
        return _NeuronLayer(info, params, bias, kernel, recurrent, graded, flatten, offset)

    def run(self, inputs, record: Sequence[str] = (), steps: int | None = None,
            progress: Callable[[int], None] | None = None):
        """Simulate; see :func:`run`."""
        try:
            record = check_registers(record)
        except ValueError as exc:
            raise NetError(str(exc)) from None
        x = prepare_inputs(self.spec, inputs, steps).to(self.device)  # [T, B, *shape]
        spikes: dict[str, torch.Tensor] = {}
        regs: dict[str, dict[str, torch.Tensor]] = {r: {} for r in record}
        prev = x  # no input neurons: the network input feeds the first synapse
        with _exact_cuda_math():
            for n, layer in enumerate(self.layers):
                s, trace = self._layer(layer, x, prev, record)
                spikes[layer.info.name] = s
                for r, t in trace.items():
                    regs[r][layer.info.name] = t
                prev = s
                if progress:
                    progress(n + 1)
        rec = Record(tuple(la.info for la in self.layers), spikes,
                     {r: t for r, t in regs.items() if t})
        return spikes[self.layers[-1].info.name], rec

    def _layer(self, layer: _NeuronLayer, x: torch.Tensor, prev: torch.Tensor, record):
        """One neuron layer over all steps: its synaptic input, then the neurons."""
        step_bias = None
        if layer.kernel is None and layer.info.model == "lif":  # bias-driven Input layer
            a_in, step_bias = torch.zeros_like(x), lif.effective_bias(x)
        elif layer.kernel is None:  # Delta input layer: the input values are its a_in
            a_in = x
        else:
            src = prev.flatten(2) if layer.flatten else prev
            a_in = layer.kernel(src if layer.graded_in else binary(src))
        return self._neurons(layer, a_in, step_bias, record)

    def _neurons(self, layer: _NeuronLayer, a_in: torch.Tensor, step_bias, record):
        """Loop the layer's neuron step over time; returns messages and register traces."""
        T, shape = a_in.shape[0], tuple(a_in.shape[1:])
        is_lif = layer.info.model == "lif"
        regs = [r for r in record if r in layer.info.registers]
        # Bound argument (sigma-delta): skip the int32 wraps when this run provably cannot
        # overflow (mskd.loihi.sdn.no_overflow_bound; a recurrent layer's input is not known here).
        fits = not is_lif and layer.recurrent is None and sdn.no_overflow_bound(
            layer.params, T, peak_abs(a_in), peak_abs(torch.as_tensor(layer.bias)))
        new_state = (lambda: lif.zero_state(shape, device=self.device)) if is_lif else \
            (lambda: sdn.zero_state(shape, device=self.device))
        state = new_state()
        out = torch.empty(a_in.shape, dtype=torch.uint8 if is_lif else torch.int32,
                          device=self.device)
        trace = {r: torch.empty(a_in.shape, dtype=torch.int32, device=self.device)
                 for r in regs}
        s = None
        for t in range(T):
            a = a_in[t]
            if layer.recurrent is not None and s is not None:
                a = lif.wrap_int32(a + layer.recurrent.step(s))  # both synapses add (int32)
            if is_lif:
                if lif.reset_due(t + 1, self.reset_interval, layer.reset_offset):
                    state = new_state()
                bias = layer.bias if step_bias is None else step_bias[t]
                s, state = lif.lif_step(a.to(torch.int64), state, layer.params, bias)
            else:
                s, state = sdn.sdn_step(a, state, layer.params, layer.bias, no_overflow=fits)
            out[t] = s
            for r in regs:
                trace[r][t] = getattr(state, r)  # registers fit int32 (Lava stores int32)
        return out, trace


class _exact_cuda_math:
    """On CUDA, keep float kernels exact: TF32 off, and cuDNN off (its Winograd and FFT
    convolutions round; the native im2col + GEMM path sums exactly). No-op on CPU."""

    def __enter__(self):
        self.saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
                      torch.backends.cudnn.enabled)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        if torch.cuda.is_available():
            torch.backends.cudnn.enabled = False

    def __exit__(self, *exc):
        (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32,
         torch.backends.cudnn.enabled) = self.saved


def run(net, inputs, record: Sequence[str] = (), *, steps: int | None = None,
        device: str = "cpu", reset_interval: int | None = None, reset_offset: int = 0,
        progress: Callable[[int], None] | None = None, **read):
    """Simulate ``net`` (a path, :class:`NetSpec` or :class:`Simulator`) on ``inputs``.

    Returns ``(outputs, record)``: the last layer's messages ``[T, B, *shape]`` (uint8
    spikes, or int32 payloads for a sigma-delta layer) and a :class:`mskd.net.record.Record`
    with every neuron layer's messages and the requested registers. ``read`` goes to
    :func:`mskd.net.netx_io.read_netx` for a path (``input_shape``, ``input_message_bits``).
    """
    if not isinstance(net, Simulator):
        spec = net if isinstance(net, NetSpec) else read_netx(net, **read)
        net = Simulator(spec, device, reset_interval, reset_offset)
    return net.run(inputs, record, steps, progress)

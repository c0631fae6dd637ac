"""Batched bit-exact simulator of a netx network as Lava's fixed-point models run it.

``run(net, inputs, record=("u", "v")) -> (outputs, Record)`` simulates B samples at once
with exactly the integer semantics of lava-nc 0.10's bit-accurate processes as lava-dl
0.6's ``netx.hdf5.Network`` configures them:

* neurons: :func:`mskd.loihi.lif_step` (the one definition), netx's ``du = iDecay - 1``,
  ``bias_exp = 6``; LIFReset when ``reset_interval`` is given (see below);
* synapses: :mod:`mskd.deploy.synapses` (weight optimisation, clipping, truncation and
  exponent for Dense/DelayDense; raw weights and a 24-bit wrap for Conv; one step of
  delay per synapse, plus axonal delays);
* input: bias mantissas or spikes as laid out in :mod:`mskd.deploy.inputs`
  (``X`` is ``[B, T, *input_shape]`` in (C, H, W) order, or ``[B, *input_shape]`` held
  for ``steps``).

Reset (``Network(reset_interval=R, reset_offset=o)``): netx gives the k-th neuron layer
(0-based, Input layer included) offset ``o + 1 + k``; Lava zeroes u and v at the start
of time step ``t`` (``t`` from 1) when ``t % R == (o + 1 + k) % R``.

Every sample starts from zero state at Lava time step 1, as a fresh Lava network does.

>>> import torch
>>> from mskd.netspec import InputLayer, LifNeuron, NetSpec
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
from mskd.deploy.inputs import prepare_inputs
from mskd.deploy.synapses import build_kernel

from mskd.errors import ConfigError, NetError
from mskd.loihi import LifParams, effective_bias, lif_step, reset_due, zero_state
from mskd.netspec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    NetSpec,
    kind,
    read_netx,
)
from mskd.record import REGISTERS, LayerInfo, Record


@dataclass
class _NeuronLayer:
    info: LayerInfo
    params: LifParams
    bias: torch.Tensor  # bias_mant << 6, broadcastable to [B, *shape] (int64)
    kernel: Callable | None  # synapse kernel; None for the bias-driven Input layer
    flatten: bool  # the previous output is flattened (torch order) before the kernel
    reset_offset: int


class Simulator:
    """A netx network compiled for the batched simulator (kernels built once)."""

    def __init__(self, spec: NetSpec, device: str | torch.device = "cpu",
                 reset_interval: int | None = None, reset_offset: int = 0) -> None:
        if reset_interval is not None and reset_interval < 1:
            raise NetError(f"reset_interval={reset_interval} must be >= 1")
        self.spec, self.device = spec, torch.device(device)
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
                continue  # shape only: the next synapse reads the spikes
            if layer.neuron.graded:
                raise NetError(f"layer {i} ({kind(layer)}): graded spikes are not supported")
            self.layers.append(self._compile(i, layer, flatten, offset))
            flatten, offset = False, offset + 1

    def _compile(self, i: int, layer, flatten: bool, offset: int) -> _NeuronLayer:
        shape = tuple(layer.out_shape)
        bias = torch.zeros(1, dtype=torch.int64)  # netx ignores the Input layer's bias
        if isinstance(layer, (ConvLayer, DenseLayer)) and layer.bias is not None:
            bias = torch.tensor(np.array(layer.bias), dtype=torch.int64)
            if isinstance(layer, ConvLayer):
                bias = bias.reshape(-1, 1, 1)  # netx broadcasts a conv bias per channel
        kernel = None if isinstance(layer, InputLayer) else build_kernel(layer, i, self.device)
        info = LayerInfo(f"{i}:{kind(layer)}", kind(layer), shape)
        return _NeuronLayer(info, layer.neuron.params,
                            effective_bias(bias).to(self.device), kernel, flatten, offset)

    def run(self, inputs, record: Sequence[str] = (), steps: int | None = None,
            progress: Callable[[int], None] | None = None):
        """Simulate; see :func:`run`."""
        for reg in record:
            if reg not in REGISTERS:
                raise NetError(f"cannot record '{reg}': choose from {', '.join(REGISTERS)}")
        x = prepare_inputs(self.spec, inputs, steps).to(self.device)  # [T, B, *shape]
        spikes, regs = {}, {r: {} for r in record}
        prev = x  # spike-driven: the input spikes feed the first synapse
        with _exact_cuda_math():
            for n, layer in enumerate(self.layers):
                if layer.kernel is None:  # bias-driven Input: a_in = 0, bias_mant = X[t]
                    a_in, step_bias = torch.zeros_like(x), effective_bias(x)
                else:
                    src = prev.flatten(2) if layer.flatten else prev
                    a_in, step_bias = layer.kernel(src), None
                s, trace = self._neurons(layer, a_in, step_bias, record)
                spikes[layer.info.name] = s
                for r in record:
                    regs[r][layer.info.name] = trace[r]
                prev = s
                if progress:
                    progress(n + 1)
        rec = Record(tuple(la.info for la in self.layers), spikes,
                     regs.get("u"), regs.get("v"))
        return spikes[self.layers[-1].info.name], rec

    def _neurons(self, layer: _NeuronLayer, a_in: torch.Tensor, step_bias, record):
        """Loop ``lif_step`` over time; returns uint8 spikes and int32 u/v traces."""
        T = a_in.shape[0]
        state = zero_state(tuple(a_in.shape[1:]), device=self.device)
        s_all = torch.empty(a_in.shape, dtype=torch.uint8, device=self.device)
        trace = {r: torch.empty(a_in.shape, dtype=torch.int32, device=self.device)
                 for r in record}
        for t in range(T):
            if reset_due(t + 1, self.reset_interval, layer.reset_offset):
                state = zero_state(tuple(a_in.shape[1:]), device=self.device)
            bias = layer.bias if step_bias is None else step_bias[t]
            s, state = lif_step(a_in[t], state, layer.params, bias)
            s_all[t] = s
            for r in record:
                trace[r][t] = getattr(state, r)  # u, v fit in int32 (Lava stores int32)
        return s_all, trace


class _exact_cuda_math:
    """Disable TF32 on CUDA so float32 conv/matmul stay exact (no-op on CPU)."""

    def __enter__(self):
        self.saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def __exit__(self, *exc):
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = self.saved


def run(net, inputs, record: Sequence[str] = (), *, steps: int | None = None,
        device: str = "cpu", reset_interval: int | None = None, reset_offset: int = 0,
        progress: Callable[[int], None] | None = None):
    """Simulate ``net`` (a path, :class:`NetSpec` or :class:`Simulator`) on ``inputs``.

    Returns ``(outputs, record)``: the last layer's spikes ``[T, B, *shape]`` (uint8) and a
    :class:`mskd.record.Record` with every neuron layer's spikes and the requested u/v.
    """
    if not isinstance(net, Simulator):
        spec = net if isinstance(net, NetSpec) else read_netx(net)
        net = Simulator(spec, device, reset_interval, reset_offset)
    return net.run(inputs, record, steps, progress)

"""Batched, bit-exact synapse kernels: what Lava's fixed-point Dense, DelayDense and Conv send.

Each kernel maps the spikes of the previous layer for all steps ``[T, B, *in]`` (0/1) to
the synaptic input ``a_in`` the neurons receive ``[T, B, *out]`` (int64). Lava's synapse
sends its buffer before reading the step's spikes, so ``a_in[t]`` comes from the spikes of
step ``t - 1`` (``a_in[0] = 0``); a DelayDense synapse of delay ``d`` delivers at
``t + 1 + d``. Computing one layer for all steps at once is exact because a layer only
sees the *previous* step of the layer below.

Exactness of the float kernels: inputs are 0/1 and weights integers, so every partial sum
of a matmul/conv is an integer bounded by ``sum over fan-in of |w_eff|`` (per output). Below
2**24 float32 represents every such partial sum exactly, in any summation order; below
2**53 float64 does. :func:`exact_dtype` checks that bound per layer at load time and picks
float32, float64, or int64 (Dense only; exact at any size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mskd.errors import NetError
from mskd.loihi import clamp_signed, netx_weights, synaptic_input, wrap_int32
from mskd.netspec import ConvLayer, DenseLayer

F32_EXACT = 1 << 24  # float32 integers are exact below 2**24
F64_EXACT = 1 << 53
CONV_ACC_BITS = 24  # PyConvModelFixed.clamp_precision: signed 24-bit wrap of the output


def exact_dtype(bound: int, allow_int: bool = True) -> torch.dtype:
    """Cheapest dtype in which every partial sum bounded by ``bound`` is exact."""
    if bound < F32_EXACT:
        return torch.float32
    if bound < F64_EXACT or not allow_int:
        return torch.float64
    return torch.int64


def _shift_in_time(a: torch.Tensor, d: int) -> torch.Tensor:
    """Deliver ``a[t]`` at ``t + 1 + d``: the synapse's one-step delay plus axonal delay."""
    out = torch.zeros_like(a)
    if d + 1 < a.shape[0]:
        out[d + 1:] = a[: a.shape[0] - d - 1]
    return out


@dataclass
class DenseKernel:
    """netx Dense/DelayDense: ``w_eff`` per delay value, shared ``weight_exp``."""

    weights: list[tuple[int, torch.Tensor]]  # (delay, [out, in] effective weights)
    weight_exp: int
    dtype: torch.dtype

    @classmethod
    def build(cls, layer: DenseLayer, device) -> DenseKernel:
        w_eff, weight_exp = netx_weights(layer.weight)
        delays = layer.delay_matrix()
        bound = int(np.abs(w_eff).sum(axis=1).max())  # max over outputs of sum |w| * 1
        dtype = exact_dtype(bound)
        parts = []
        for d in np.unique(delays):
            w_d = np.where(delays == d, w_eff, 0)  # get_delay_wgts_mat: one matrix per delay
            if w_d.any() or d == 0:
                parts.append((int(d), torch.tensor(w_d, dtype=dtype, device=device)))
        return cls(parts, weight_exp, dtype)

    def __call__(self, s: torch.Tensor) -> torch.Tensor:
        T, B = s.shape[:2]
        x = s.reshape(T * B, -1).to(self.dtype)
        total = None
        for d, w in self.weights:
            acc = torch.round(x @ w.T).to(torch.int64) if self.dtype.is_floating_point \
                else x @ w.T  # exact integer partial sums (see the module docstring)
            # Lava shifts each delay column's sum separately before adding it to a_buff.
            a = synaptic_input(acc, self.weight_exp).reshape(T, B, -1)
            a = _shift_in_time(a, d)
            total = a if total is None else total + a
        # a_buff / the a_out port are int32: Lava's in-place ``a_buff +=`` wraps there.
        return wrap_int32(total)


@dataclass
class ConvKernel:
    """netx Conv: raw integer weights (netx does not optimise conv weights), no exponent."""

    weight: torch.Tensor
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int

    @classmethod
    def build(cls, layer: ConvLayer, index: int, device) -> ConvKernel:
        w = layer.weight
        bound = int(np.abs(w).reshape(w.shape[0], -1).sum(axis=1).max())
        if bound >= F32_EXACT:
            # Lava's conv (lava/proc/conv/utils.py conv) itself runs torch conv2d in
            # float32: beyond 2**24 its result depends on summation order, so no
            # simulator can promise bit-exactness against it.
            raise NetError(f"layer {index} (conv): weight fan-in sum {bound} >= 2**24, "
                           "beyond what Lava's float32 conv computes exactly")
        return cls(torch.tensor(np.array(w), dtype=torch.float32, device=device),
                   layer.stride, layer.padding, layer.dilation, layer.groups)

    def __call__(self, s: torch.Tensor) -> torch.Tensor:
        T, B = s.shape[:2]
        x = s.reshape(T * B, *s.shape[2:]).to(torch.float32)
        y = F.conv2d(x, self.weight, stride=self.stride, padding=self.padding,
                     dilation=self.dilation, groups=self.groups)
        acc = torch.round(y).to(torch.int64)  # exact: partial sums < 2**24 (checked)
        a = clamp_signed(acc, CONV_ACC_BITS).reshape(T, B, *y.shape[1:])
        return _shift_in_time(a, 0)


def build_kernel(layer, index: int, device):
    """The kernel for a Conv or Dense layer."""
    if isinstance(layer, DenseLayer):
        return DenseKernel.build(layer, device)
    return ConvKernel.build(layer, index, device)

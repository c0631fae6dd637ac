"""Batched, bit-exact synapse kernels: what Lava's fixed-point Dense, DelayDense and Conv send.

Each kernel maps the messages of the previous layer for all steps ``[T, B, *in]`` to the
synaptic input ``a_in`` the neurons receive ``[T, B, *out]`` (int64 holding Lava's int32).
Lava's synapse sends its buffer before reading the step's messages, so ``a_in[t]`` comes
from the messages of step ``t - 1`` (``a_in[0] = 0``); a DelayDense synapse of delay ``d``
delivers at ``t + 1 + d``. Computing one layer for all steps at once is exact because a
feed-forward layer only sees the *previous* step of the layer below (a recurrent layer's
own synapse runs step by step: :class:`RecurrentKernel`).

Messages. A synapse built with ``num_message_bits = 0`` casts its input to bool (any
non-zero message counts 1); a graded one (``> 0``: after a sigma-delta layer, or a graded
network input) multiplies the integer payloads. The caller casts (:func:`binary`).

Lava's arithmetic, reproduced:

* Dense (``PyDenseModelBitAcc``): ``a = weights.dot(s_in)`` in numpy int32 (the sum wraps at
  32 bits), then ``<< weight_exp`` (int32) or arithmetic ``>> -weight_exp``; DelayDense adds
  each delay's shifted sum into its int32 buffer (wraps again).
* Conv (``PyConvModelFixed`` with lava 0.10's scipy path, torch disabled in
  ``lava/proc/conv/utils.py``): ``convolve2d`` in float64, exact while every partial sum is
  below 2**53; ``astype(int32)``, which on x86 turns a value outside int32 into -2**31;
  then the signed 24-bit wrap ``signed_clamp``.

Exactness of our float kernels: weights are integers and inputs integers, so every partial
sum of a matmul/conv is an integer bounded by ``max|x| * max over outputs of sum |w|``.
Below 2**24 float32 holds every such sum exactly in any summation order, below 2**53
float64 does; :func:`exact_dtype` picks the cheapest per batch (binary inputs: per layer,
once). Dense falls back to int64 (exact at any size); a conv beyond 2**53 is refused,
because Lava's own float64 conv is no longer exact there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from mskd.errors import NetError
from mskd.loihi.lif import (
    CONV_ACC_BITS,
    conv_output,
    lava_dense_weights,
    netx_optimize,
    netx_weights,
    synaptic_input,
    wrap_int32,
)
from mskd.net.spec import ConvLayer, DenseLayer

F32_EXACT = 1 << 24  # float32 integers are exact below 2**24
F64_EXACT = 1 << 53


def exact_dtype(bound: int, allow_int: bool = True) -> torch.dtype:
    """Cheapest dtype in which every partial sum bounded by ``bound`` is exact."""
    if bound < F32_EXACT:
        return torch.float32
    if bound < F64_EXACT or not allow_int:
        return torch.float64
    return torch.int64


def binary(s: torch.Tensor) -> torch.Tensor:
    """What a binary synapse sees: ``s_in.astype(bool)``, as 0/1 (uint8)."""
    return (s != 0).to(torch.uint8)


def peak_abs(s: torch.Tensor) -> int:
    """``max |s|`` in one pass (no ``abs`` temporary)."""
    if not s.numel():
        return 0
    lo, hi = torch.aminmax(s)
    return max(int(hi), -int(lo))


def _shift_in_time(a: torch.Tensor, d: int) -> torch.Tensor:
    """Deliver ``a[t]`` at ``t + 1 + d``: the synapse's one-step delay plus axonal delay."""
    out = torch.zeros_like(a)
    if d + 1 < a.shape[0]:
        out[d + 1:] = a[: a.shape[0] - d - 1]
    return out


@dataclass
class _Matmul:
    """``x @ w.T`` of integer tensors, exact: float32, float64 or int64 by the sum bound."""

    weight: np.ndarray  # int64 [out, in]
    device: torch.device
    row_sum: int = 0
    _cache: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.row_sum = int(np.abs(self.weight).sum(axis=1).max()) if self.weight.size else 0

    def __call__(self, x: torch.Tensor, max_abs: int) -> torch.Tensor:
        dtype = exact_dtype(self.row_sum * max_abs)
        if dtype not in self._cache:
            self._cache[dtype] = torch.tensor(self.weight, dtype=dtype, device=self.device)
        w = self._cache[dtype]
        acc = x.to(dtype) @ w.T
        return torch.round(acc).to(torch.int64) if dtype.is_floating_point else acc


@dataclass
class DenseKernel:
    """netx Dense/DelayDense: effective weights per delay value, shared ``weight_exp``."""

    parts: list[tuple[int, _Matmul]]  # (delay, [out, in] effective weights)
    weight_exp: int

    @classmethod
    def build(cls, layer: DenseLayer, device, w_eff: np.ndarray | None = None,
              weight_exp: int | None = None) -> DenseKernel:
        if w_eff is None:
            w_eff, weight_exp = netx_weights(layer.weight)
        delays = layer.delay_matrix()
        parts = []
        for d in np.unique(delays):
            w_d = np.where(delays == d, w_eff, 0)  # get_delay_wgts_mat: one matrix per delay
            if w_d.any() or d == 0:
                parts.append((int(d), _Matmul(w_d, torch.device(device))))
        return cls(parts, int(weight_exp))

    def accumulate(self, x: torch.Tensor, max_abs: int) -> list[tuple[int, torch.Tensor]]:
        """``(delay, int32 a_buff contribution)`` of ``x [N, in]`` for each delay value."""
        out = []
        for d, mm in self.parts:
            acc = wrap_int32(mm(x, max_abs))  # weights.dot(s_in): int32, wraps
            # Lava shifts each delay column's sum separately before adding it to a_buff;
            # np.left_shift of int32 drops the bits past 31, >> is arithmetic.
            out.append((d, wrap_int32(synaptic_input(acc, self.weight_exp))))
        return out

    def __call__(self, s: torch.Tensor) -> torch.Tensor:
        T, B = s.shape[:2]
        total = None
        for d, a in self.accumulate(s.reshape(T * B, -1), peak_abs(s)):
            a = _shift_in_time(a.reshape(T, B, -1), d)
            total = a if total is None else total + a
        # a_buff / the a_out port are int32: Lava's in-place ``a_buff +=`` wraps there.
        return wrap_int32(total)


@dataclass
class RecurrentKernel:
    """netx RecurrentDense's second synapse: the layer's own messages of step t, delivered
    at t + 1 (plain Dense; ``weight_exp`` shared with the input synapse)."""

    dense: DenseKernel
    graded: bool

    def step(self, s_prev: torch.Tensor) -> torch.Tensor:
        x = s_prev if self.graded else binary(s_prev)
        ((_, a),) = self.dense.accumulate(x.reshape(x.shape[0], -1), peak_abs(x))
        return a.reshape(s_prev.shape)


def recurrent_kernels(layer: DenseLayer, graded: bool, device):
    """``(input kernel, recurrent kernel)`` of a ``dense_rec`` layer: netx optimises the two
    matrices side by side (one exponent), Lava clips and truncates each on its own."""
    n_in = layer.weight.shape[1]
    scaled, bits, exp = netx_optimize(np.concatenate([layer.weight, layer.weight_rec], 1))
    w_in = lava_dense_weights(scaled[:, :n_in], bits)
    w_rec = lava_dense_weights(scaled[:, n_in:], bits)
    rec_layer = DenseLayer(layer.out_features, layer.out_features, layer.weight_rec,
                           layer.neuron)
    return (DenseKernel.build(layer, device, w_in, exp),
            RecurrentKernel(DenseKernel.build(rec_layer, device, w_rec, exp), graded))


@dataclass
class ConvKernel:
    """netx Conv: raw integer weights (netx does not optimise conv weights), no exponent."""

    weight: np.ndarray
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    index: int
    device: torch.device
    row_sum: int = 0
    _cache: dict = field(default_factory=dict)

    @classmethod
    def build(cls, layer: ConvLayer, index: int, device) -> ConvKernel:
        w = np.asarray(layer.weight)
        k = cls(w, layer.stride, layer.padding, layer.dilation, layer.groups, index,
                torch.device(device))
        k.row_sum = int(np.abs(w).reshape(w.shape[0], -1).sum(axis=1).max())
        return k

    def _w(self, dtype) -> torch.Tensor:
        if dtype not in self._cache:
            self._cache[dtype] = torch.tensor(self.weight, dtype=dtype, device=self.device)
        return self._cache[dtype]

    def _conv(self, x: torch.Tensor, dtype, cast: bool = True) -> torch.Tensor:
        y = F.conv2d(x.to(dtype), self._w(dtype), stride=self.stride, padding=self.padding,
                     dilation=self.dilation, groups=self.groups)
        return y.to(torch.int64) if cast else y  # exact integers (bound checked by the caller)

    def _split_conv(self, x: torch.Tensor, max_abs: int) -> torch.Tensor:
        """The integer conv of ``x`` whose sums may pass 2**24, exact: ``x`` split into
        base-2**k digits (``x = sum d_i 2**(k i)``, each digit's sums below 2**24) convolved
        in float32 and recombined in int64 (float32 convs are ~5x faster than float64 on
        these shapes); float64 when more than four digits would be needed."""
        k = max(1, (F32_EXACT // max(self.row_sum, 1)).bit_length() - 1)  # row_sum*2**k<2**24
        if -(-max_abs.bit_length() // k) > 4 or self.row_sum >= F32_EXACT // 2:
            return self._conv(x, torch.float64)
        out, rest, shift = None, x, 0
        while True:
            low = rest & ((1 << k) - 1)  # 0 .. 2**k - 1, also for negative rest (floor)
            part = self._conv(low, torch.float32) << shift
            out = part if out is None else out + part
            rest, shift = rest >> k, shift + k
            if not bool(((rest != 0) & (rest != -1)).any()):
                break
        if bool(rest.any()):  # what is left is 0 or -1 (the sign of negative values)
            out = out + (self._conv(rest, torch.float32) << shift)
        return out

    def __call__(self, s: torch.Tensor) -> torch.Tensor:
        """``a_in [T, B, *out]`` as int32 (every value fits: Lava's a_out is int32)."""
        T, B = s.shape[0], s.shape[1]
        out = torch.empty((T, B, *self.out_shape(s)), dtype=torch.int32, device=s.device)
        out[0] = 0  # the synapse's one-step delay: step t's messages arrive at t + 1
        if T < 2:
            return out
        s = s[:T - 1]  # the last step's messages are delivered after the run
        lo, hi = torch.aminmax(s.reshape(T - 1, -1), dim=1)
        per_step = torch.maximum(hi.to(torch.int64), -lo.to(torch.int64))
        max_abs = int(per_step.max())
        bound = self.row_sum * max_abs
        if bound >= F64_EXACT:
            raise NetError(f"layer {self.index} (conv): input x weight sums reach {bound} >= "
                           "2**53, beyond what Lava's float64 conv computes exactly")
        flat = out[1:].view(-1, *out.shape[2:])
        if bound < 1 << (CONV_ACC_BITS - 1):  # float32-exact, no wrap can apply: one pass
            flat.copy_(self._conv(s.reshape(-1, *s.shape[2:]), torch.float32, cast=False))
            return out
        small = self.row_sum * per_step < F32_EXACT  # steps one float32 conv sums exactly
        acc = torch.empty((T - 1, B, *out.shape[2:]), dtype=torch.int64, device=s.device)
        for sel, exact in ((small, False), (~small, True)):
            idx = torch.nonzero(sel).flatten()
            if len(idx):  # typically a few steps (a first frame's full values) need the split
                x = s[idx].reshape(-1, *s.shape[2:])
                y = self._split_conv(x, max_abs) if exact else self._conv(x, torch.float32)
                acc[idx] = y.reshape(len(idx), B, *y.shape[1:])
        if peak_abs(acc) >= 1 << (CONV_ACC_BITS - 1):
            acc = conv_output(acc)  # Lava's int32 cast and 24-bit wrap
        out[1:] = acc
        return out

    def out_shape(self, s: torch.Tensor) -> tuple[int, ...]:
        from mskd.net.spec import conv_out_hw

        hw = conv_out_hw(s.shape[3:], self.weight.shape[2:], self.stride, self.padding,
                         self.dilation)
        return (self.weight.shape[0], *hw)


def build_kernel(layer, index: int, device):
    """The feed-forward kernel of a Conv or Dense layer."""
    if isinstance(layer, DenseLayer):
        return DenseKernel.build(layer, device)
    return ConvKernel.build(layer, index, device)

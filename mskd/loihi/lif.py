"""Loihi's fixed-point CUBA-LIF neuron step, defined once for every stage.

The specification is lava-nc 0.10.0's bit-accurate process model
(``lava/proc/lif/models.py``: ``AbstractPyLifModelFixed`` and ``PyLifModelBitAcc``) as
lava-dl 0.6.0's netx configures it (``lava/lib/dl/netx/hdf5.py``,
``Network.get_neuron_params``). Per time step, for every neuron::

    u' = wrap24( rtz(u * (4096 - (du + 1)) / 4096) + (a_in << 6) )
    v' = sat24 ( rtz(v * (4096 - dv) / 4096) + u' + (bias_mant << bias_exp) )
    s  = v' > (vth << 6)            # strictly greater
    v' = 0 where s                  # reset to zero, u is not reset

``rtz`` rounds toward zero, ``wrap24`` is Lava's one-shot 24-bit wrap of the current and
``sat24`` clips the voltage to +-(2**23 - 1). netx maps the HDF5 neuron fields as
``du = iDecay - 1`` (Lava then adds ``ds_offset = 1``, so the effective current decay is
``iDecay``), ``dv = vDecay`` (``dm_offset = 0``), ``vth = vThMant`` and ``bias_exp = 6``.

The same functions run on ``int64`` tensors (exact: simulator, exporters, tests) and on
``float64`` tensors (fixed-point-aware training): every intermediate value is an integer
below 2**53 in magnitude, so float64 holds it exactly, and the rounding steps carry a
straight-through gradient. Do not copy this arithmetic elsewhere; import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from mskd.loihi.quantizers import ste

# Bit widths and alignment shifts, as in AbstractPyLifModelFixed.__init__.
UV_BITS = 24  # u and v are 24-bit registers
UV_MAX = 1 << (UV_BITS - 1)  # 2**23, Lava's ``max_uv_val``
DECAY_SHIFT = 12  # decays are 12-bit fractions of 4096
DECAY_UNITY = 1 << DECAY_SHIFT  # 4096
ACT_SHIFT = 6  # synaptic input is MSB-aligned by << 6 before it enters u
VTH_SHIFT = 6  # the threshold mantissa is MSB-aligned by << 6
DS_OFFSET = 1  # Loihi 1-bit register added to du (lets the current decay reach 4096)
DM_OFFSET = 0  # the same for dv; Lava keeps it at 0
NETX_BIAS_EXP = 6  # netx always sets bias_exp = 6 for CUBA neurons

# Register ranges (Lava's LavaPyType precisions for the LIF variables).
DECAY_MAX = DECAY_UNITY - 1  # du, dv: unsigned 12 bit
VTH_MAX = (1 << 17) - 1  # vth: unsigned 17 bit
BIAS_MANT_MIN, BIAS_MANT_MAX = -(1 << 12), (1 << 12) - 1  # bias_mant: signed 13 bit
INT32_SPAN = 1 << 32


@dataclass(frozen=True)
class LifParams:
    """Parameters of one layer of CUBA-LIF neurons, in Lava process units.

    ``du`` and ``dv`` are the Lava LIF process variables (not the HDF5 fields: use
    :meth:`from_netx`). ``du`` may be -1, which is what netx passes for ``iDecay = 0``.

    >>> LifParams.from_netx(i_decay=1024, v_decay=128, vth_mant=80)
    LifParams(du=1023, dv=128, vth=80, bias_exp=6)
    >>> LifParams(du=0, dv=5000, vth=1)
    Traceback (most recent call last):
    ...
    ValueError: dv=5000 outside 0..4096
    """

    du: int
    dv: int
    vth: int
    bias_exp: int = NETX_BIAS_EXP

    def __post_init__(self) -> None:
        if not -1 <= self.du <= DECAY_MAX:
            raise ValueError(f"du={self.du} outside the 12-bit range 0..{DECAY_MAX} (or -1)")
        # dv = 4096 (the voltage keeps nothing) and vth = 2**17 are one past the 12- and
        # 17-bit registers; Lava runs both (netx's default neuron uses them).
        if not 0 <= self.dv <= DECAY_UNITY:
            raise ValueError(f"dv={self.dv} outside 0..{DECAY_UNITY}")
        if not 0 <= self.vth <= VTH_MAX + 1:
            raise ValueError(f"vth={self.vth} outside 0..{VTH_MAX + 1}")
        if not -8 < self.bias_exp < 8:
            raise ValueError(f"bias_exp={self.bias_exp} outside -7..7")

    @classmethod
    def from_netx(cls, i_decay: int, v_decay: int, vth_mant: int) -> LifParams:
        """Map the HDF5 ``neuron`` fields the way netx does (``du = iDecay - 1``)."""
        return cls(du=int(i_decay) - 1, dv=int(v_decay), vth=int(vth_mant))

    @property
    def i_decay(self) -> int:
        """The HDF5 ``iDecay`` field: the effective current decay ``du + ds_offset``."""
        return self.du + DS_OFFSET

    @property
    def v_decay(self) -> int:
        """The HDF5 ``vDecay`` field."""
        return self.dv + DM_OFFSET

    @property
    def vth_eff(self) -> int:
        """Threshold as compared with v: ``vth << 6``."""
        return self.vth << VTH_SHIFT


class LifState(NamedTuple):
    """Current ``u`` and voltage ``v`` (24-bit registers held in int64 or float64)."""

    u: torch.Tensor
    v: torch.Tensor


def zero_state(shape: tuple[int, ...], dtype=torch.int64, device=None) -> LifState:
    """Both registers at zero, as Lava initialises (and LIFReset resets) them."""
    z = torch.zeros(shape, dtype=dtype, device=device)
    return LifState(z, z.clone())


def decay(x: torch.Tensor, decay_const: int) -> torch.Tensor:
    """``x * (4096 - decay_const) / 4096``, rounded toward zero.

    Lava promotes to int64, multiplies, and right-shifts the magnitude by 12, putting the
    sign back: ``sign(p) * (|p| >> 12)``. With |x| < 2**24 and a 12-bit factor the product
    is below 2**36, exact in int64 and in float64.

    >>> decay(torch.tensor([100, -100, 4095, -1]), 2048)
    tensor([  50,  -50, 2047,    0])
    >>> decay(torch.tensor([7, -7]), 0).tolist(), decay(torch.tensor([7, -7]), 4096).tolist()
    ([7, -7], [0, 0])
    """
    factor = DECAY_UNITY - decay_const
    if x.is_floating_point():
        y = x * (factor / DECAY_UNITY)  # factor/4096 is an exact binary fraction
        return ste(y, torch.trunc(y))
    if factor == DECAY_UNITY:  # no decay (dv = 0, or du = -1 from iDecay = 0): x as is
        return x
    if factor == 0:  # full decay (iDecay = 4096): nothing is kept
        return torch.zeros_like(x)
    prod = x * factor  # int64: |prod| < 2**43 even for a u that escaped 24 bits
    # sign(p) * (|p| >> 12) == p / 4096 truncated toward zero (one kernel instead of four)
    return torch.div(prod, DECAY_UNITY, rounding_mode="trunc")


def wrap_int32(x: torch.Tensor) -> torch.Tensor:
    """Two's-complement wrap to int32, as numpy's int32 arithmetic in Lava overflows."""
    if x.is_floating_point():
        wrapped = x - INT32_SPAN * torch.floor((x + INT32_SPAN / 2) / INT32_SPAN)
        return ste(x, wrapped)
    return x.to(torch.int32).to(x.dtype)  # integer narrowing keeps the low 32 bits


def wrap24(x: torch.Tensor) -> torch.Tensor:
    """Lava's 24-bit current wrap, reproduced exactly, quirks included.

    Lava subtracts 2**24 where ``x > 2**23`` and adds 2**24 where ``x <= -2**23``, once:
    ``x == 2**23`` stays 2**23 and ``x == -2**23`` becomes +2**23.

    >>> wrap24(torch.tensor([2**23 + 5, 2**23, -2**23, -2**23 - 3, 7]))
    tensor([-8388603,  8388608,  8388608,  8388605,        7])
    """
    span = 2 * UV_MAX
    down = torch.where(x > UV_MAX, x - span, x)
    return torch.where(down <= -UV_MAX, x + span, down)


def saturate24(x: torch.Tensor) -> torch.Tensor:
    """Clip the voltage to the signed 24-bit range +-(2**23 - 1)."""
    return torch.clamp(x, -(UV_MAX - 1), UV_MAX - 1)


def effective_bias(bias_mant: torch.Tensor, bias_exp: int = NETX_BIAS_EXP) -> torch.Tensor:
    """``bias_mant << bias_exp`` (arithmetic ``>>`` for a negative exponent), as Lava."""
    if bias_exp >= 0:
        return bias_mant * (1 << bias_exp)
    if bias_mant.is_floating_point():
        return ste(bias_mant / (1 << -bias_exp), torch.floor(bias_mant / (1 << -bias_exp)))
    return bias_mant >> -bias_exp


def heaviside(x: torch.Tensor) -> torch.Tensor:
    """Exact spike: 1 where ``x > 0`` (strictly), in the dtype of ``x``."""
    return (x > 0).to(x.dtype)


SpikeFn = Callable[[torch.Tensor], torch.Tensor]


def lif_step(
    a_in: torch.Tensor,
    state: LifState,
    p: LifParams,
    bias: torch.Tensor | int = 0,
    spike_fn: SpikeFn = heaviside,
) -> tuple[torch.Tensor, LifState]:
    """One time step of Loihi's CUBA-LIF neuron (``PyLifModelBitAcc.run_spk``).

    ``a_in`` is the synaptic input the neuron receives this step (the Dense/Conv output of
    the previous step), ``bias`` the already scaled ``bias_mant << bias_exp``
    (:func:`effective_bias`). Returns the spikes (0/1 in the dtype of ``u``) and the new
    state. ``spike_fn`` receives ``v' - (vth << 6)``; training passes a surrogate-gradient
    Heaviside, everything else the exact one.

    Golden trace (du=0 is an effective current decay of 1/4096 per step):

    >>> p = LifParams(du=4095, dv=0, vth=10)        # u forgets at once, v integrates
    >>> st = zero_state((1,))
    >>> for a in [5, 5, 5]:
    ...     s, st = lif_step(torch.tensor([a]), st, p)
    ...     print(int(s), int(st.u), int(st.v))
    0 320 320
    0 320 640
    1 320 0
    """
    # u: decayed (int32 in Lava) plus the input shifted << 6; both additions happen in
    # int32 in Lava, so they wrap at 32 bits before the 24-bit wrap is applied.
    u = decay(state.u, p.du + DS_OFFSET)
    u = wrap_int32(u + wrap_int32(a_in * (1 << ACT_SHIFT)))
    u = wrap24(u)
    # v: decayed, plus the new current and the bias, then saturated (no wrap).
    v = saturate24(decay(state.v, p.dv + DM_OFFSET) + u + bias)
    s = spike_fn(v - p.vth_eff)  # strictly greater: v > vth << 6
    v = v * (1 - s) if v.is_floating_point() else v.masked_fill(s.bool(), 0)  # reset to 0
    return s, LifState(u, v)


def float_lif_step(
    a_in: torch.Tensor | float,
    state: LifState,
    i_frac: float,
    v_frac: float,
    threshold: float | None,
    bias: torch.Tensor | float = 0.0,
    reset: str = "zero",
    multi: bool = False,
) -> tuple[torch.Tensor | None, LifState]:
    """The float twin of :func:`lif_step`: the same current-based neuron with nothing rounded.

    ``u' = u (1 - i_frac) + a_in``, ``v' = v (1 - v_frac) + u' + bias``, a spike where
    ``v' > threshold`` (``multi``: ``floor(v' / threshold)`` spikes), then ``v' = 0``
    (``reset="zero"``, Loihi's) or ``v' -= s threshold`` (``"subtract"``). No 24-bit wrap or
    saturation. In Loihi units (``a_in << 6`` already applied, ``threshold = vth << 6``,
    ``i_frac = iDecay / 4096``) it is :func:`lif_step` without round-toward-zero; a source
    framework's graph runs through it in its own units. ``threshold=None`` is a readout that
    integrates without spiking (``None`` spikes).

    >>> st = LifState(torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64))
    >>> for a in [320.0, 320.0, 320.0]:
    ...     s, st = float_lif_step(a, st, 1.0, 0.0, 640.0)
    ...     print(float(s), float(st.u), float(st.v))
    0.0 320.0 320.0
    0.0 320.0 640.0
    1.0 320.0 0.0
    """
    u = state.u * (1 - i_frac) + a_in
    v = state.v * (1 - v_frac) + u + bias
    if threshold is None:
        return None, LifState(u, v)
    if multi:
        s = torch.where(v > threshold, torch.floor(v / threshold), torch.zeros_like(v))
    else:
        s = (v > threshold).to(v.dtype)
    v = v - s * threshold if reset == "subtract" else v * (s == 0)
    return s, LifState(u, v)


def float_synapse(x: torch.Tensor, w: torch.Tensor, stride=1, padding=0,
                  dilation=1) -> torch.Tensor:
    """The float twin of a Dense or Conv synapse: ``conv2d`` for a 4-d ``w``, else
    ``x.flatten(1) @ w.T`` (C, H, W flatten order, as netx's Dense after a conv)."""
    import torch.nn.functional as F

    if w.dim() == 4:
        return F.conv2d(x, w, stride=stride, padding=padding, dilation=dilation)
    return x.flatten(1) @ w.T


# --------------------------------------------------------------------------------------
# Synapse side: what netx and Lava's bit-accurate Dense/DelayDense/Conv models do to the
# weights and the accumulated input before it reaches ``lif_step``.
#
# Synaptic delay: every Dense/DelayDense/Conv process sends its buffer *before* it reads
# this step's spikes (``run_spk``: ``a_out.send(a_buff)`` then ``s_in.recv()``), so input
# accumulated from spikes of step t reaches the neurons at step t + 1. A DelayDense synapse
# of delay d delivers at step t + 1 + d.

def netx_weights(weight_int) -> tuple[np.ndarray, int]:
    """Effective integer weights and ``weight_exp`` of a netx Dense layer, as Lava runs them.

    :func:`netx_optimize` (netx's ``optimize_weight_bits``) followed by
    :func:`lava_dense_weights` (what ``PyDenseModelBitAcc`` does to them). Input: an
    integer array in -256..255, not all zero (netx cannot map all-zero weights).

    >>> w, e = netx_weights(np.array([[1, 0], [1, 1]]))
    >>> w.tolist(), e
    ([[128, 0], [128, 128]], -7)
    >>> w, e = netx_weights(np.array([[-3, 100], [255, 0]]))    # mixed, 255 clipped to 254
    >>> w.tolist(), e
    ([[-3, 100], [254, 0]], 0)
    """
    scaled, num_weight_bits, weight_exp = netx_optimize(weight_int)
    return lava_dense_weights(scaled, num_weight_bits), weight_exp


def netx_optimize(weight_int) -> tuple[np.ndarray, int, int]:
    """``lava.lib.dl.netx.utils.optimize_weight_bits``: ``(w << scale_bits, num_weight_bits,
    weight_exp = -scale_bits)``, the weights scaled to use the 8-bit range.

    netx optimises a ``dense_rec`` layer's two matrices side by side (one exponent).
    """
    w = np.asarray(weight_int).astype(np.int64)
    # optimize_weight_bits: clip mixed-sign matrices that cannot be scaled (warns in netx).
    if (w.max() > 254 and w.min() < 0) or (w.min() < -256 and w.max() > 0):
        w = np.clip(w, -256, 254)
    wmax, wmin = int(w.max()), int(w.min())
    is_signed = int(wmin < 0 <= wmax)  # netx's MIXED: includes max == 0 (Lava's does not)
    if wmax < 0:
        scale = -256 / wmin  # INHIBITORY
    elif wmin >= 0:
        scale = 255 / wmax  # EXCITATORY
    else:
        scale = min(127 / wmax if wmax else np.inf, -128 / wmin)
    scale_bits = int(np.floor(np.log2(scale))) + is_signed
    n = 8  # largest n <= 8 with every weight a multiple of 2**n
    while n > 0 and np.any(w % (1 << n)):
        n -= 1
    num_weight_bits = 8 - scale_bits - (n - is_signed)
    return np.left_shift(w.astype(np.int32), scale_bits).astype(np.int64), num_weight_bits, \
        -scale_bits  # int32 shift, as netx


def lava_dense_weights(scaled: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """``PyDenseModelBitAcc``'s first step on netx's scaled weights: ``clip_weights`` (8 bits,
    by sign mode; an inhibitory -256 becomes -255) and ``truncate_weights`` (drop ``8 -
    num_weight_bits + mixed`` low bits; magnitudes for inhibitory, floor for mixed).

    netx passes no sign mode, so Lava determines it from each matrix it receives:
    EXCITATORY if min >= 0, else INHIBITORY if max <= 0, else MIXED.
    """
    w = np.asarray(scaled).astype(np.int32)
    inhibitory = w.min() < 0 and w.max() <= 0
    mixed = int(w.min() < 0 < w.max())
    sign = -1 if inhibitory else 1  # clip and truncate work on magnitudes when inhibitory
    m = np.clip(w * sign, -256 * mixed, 255).astype(np.int32)  # clip_weights(num_bits=8)
    k = 8 - num_weight_bits + mixed  # truncate_weights: low bits dropped
    # int32 numpy shifts as Lava's (k can be -1 for an all-non-positive matrix with -256
    # and odd weights: numpy's shift by a negative count is then reproduced, not guessed).
    m = (m >> k) << k  # arithmetic shift: floor for negative (mixed) weights
    return (m * sign).astype(np.int64)


def synaptic_input(accumulated: torch.Tensor, weight_exp: int) -> torch.Tensor:
    """Scale an accumulated weight sum by ``2**weight_exp`` as Lava's Dense does.

    ``np.left_shift`` for a positive exponent, arithmetic ``np.right_shift`` (floor, also
    for negative sums) otherwise.

    >>> synaptic_input(torch.tensor([256, -129, 127]), -7)
    tensor([ 2, -2,  0])
    """
    if weight_exp > 0:
        return accumulated * (1 << weight_exp)
    if accumulated.is_floating_point():
        y = accumulated / (1 << -weight_exp)
        return ste(y, torch.floor(y))
    return accumulated >> -weight_exp


def clamp_signed(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Two's-complement wrap to ``bits`` (``lava.proc.conv.utils.signed_clamp``).

    Lava's fixed-point Conv wraps its output to 24 bits with this before sending it.

    >>> clamp_signed(torch.tensor([2**23, -2**23 - 1, 5]), 24)
    tensor([-8388608,  8388607,        5])
    """
    base = 1 << bits
    if x.is_floating_point():
        return torch.remainder(x + base // 2, base) - base // 2
    return ((x + base // 2) & (base - 1)) - base // 2  # two's complement: the low bits


CONV_ACC_BITS = 24  # PyConvModelFixed.clamp_precision: signed 24-bit wrap of the output
INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def conv_output(acc: torch.Tensor) -> torch.Tensor:
    """What Lava's fixed-point Conv sends for exact integer sums ``acc``.

    Lava 0.10 sums in float64 (scipy), casts with ``astype(int32)`` -- on x86 a value
    outside int32 becomes -2**31 -- and wraps to signed 24 bits (``signed_clamp``). Float
    tensors (training) get the same values with a straight-through gradient.

    >>> conv_output(torch.tensor([5, 2**23, 2**31, -2**40])).tolist()
    [5, -8388608, 0, 0]
    """
    out = torch.where((acc > INT32_MAX) | (acc < INT32_MIN),
                      torch.full_like(acc, INT32_MIN), acc)
    out = clamp_signed(out, CONV_ACC_BITS)
    return ste(acc, out) if acc.is_floating_point() else out


def dense_output(acc: torch.Tensor, scale_bits: int) -> torch.Tensor:
    """What Lava's bit-accurate Dense sends when netx scaled the file's integer weights by
    ``2**scale_bits`` (:func:`netx_optimize`) and ``acc`` is the exact sum with the file's
    weights: ``weights.dot(s_in)`` wraps at int32, then ``>> scale_bits`` (``weight_exp =
    -scale_bits``). Exact sums of representable weights pass unchanged unless int32 wraps.

    >>> dense_output(torch.tensor([3, -3, 2**28]), 4).tolist()
    [3, -3, 0]
    """
    out = synaptic_input(wrap_int32(acc * (1 << scale_bits)), -scale_bits)
    return ste(acc, out) if acc.is_floating_point() else out


def reset_due(time_step: int, reset_interval: int | None, reset_offset: int) -> bool:
    """True when ``PyLifResetModelBitAcc`` zeroes u and v at the start of ``time_step``.

    Lava time steps start at 1; the check happens after ``a_in`` is received and before the
    state update, so this step's input still integrates into the zeroed state.

    >>> [reset_due(t, 4, 2) for t in range(1, 7)]
    [False, True, False, False, False, True]
    """
    if reset_interval is None:
        return False
    return time_step % reset_interval == reset_offset % reset_interval

"""Loihi 2's fixed-point sigma-delta neurons, defined once for every stage.

The specification is lava-nc 0.10.0's bit-accurate process models
(``lava/proc/sdn/models.py``: ``PyDeltaModelFixed``, ``PySigmaDeltaModelFixed``,
``PySigmaModelFixed``) as lava-dl 0.6.0's netx builds them (``netx/hdf5.py``,
``Network.get_neuron_params``: neuron type ``SDNN``; an input layer becomes a ``Delta``, a
layer with ``sigma_output`` a ``Sigma``, any other a ``SigmaDelta`` with ReLU). Per time
step, for every neuron (``x`` the synaptic input the neuron receives this step)::

    Delta (input)     a      = x << (spike_exp + state_exp)
                      delta  = a - act + residue
    SigmaDelta        sigma  = sigma + x
                      a      = relu(sigma + (bias << (spike_exp + state_exp)))   (or unit)
                      delta  = a - act + residue
    both              send   = |delta| >= vth << (spike_exp + state_exp)
                               (with cum_error: error += delta; send = |error| >= vth..;
                                error = 0 where a non-zero message went out)
                      s      = delta where send else 0
                      residue = delta - s;  act = a
                      out    = s >> state_exp            (the graded payload)
    Sigma (output)    sigma  = sigma + x;  out = sigma   (sent every step)

Widths. Lava declares the registers 24 bits wide (``precision=24``) but computes in numpy
``int32`` and never narrows them, so every addition above wraps at 32 bits (two's
complement), ``<<`` drops the bits shifted past bit 31, ``>>`` is an arithmetic (floor)
shift, and ``|x|`` of ``-2**31`` is ``-2**31`` (numpy's int32 abs), which is below any
threshold. The simulator reproduces exactly that; :func:`over_24_bits` tells where a value
left the 24-bit registers of the chip, where Loihi 2 itself would differ from Lava.

Scale. With netx's ``spike_exp = state_exp = 6`` a payload carries 6 fractional bits, the
state (``sigma``, ``act``, ``residue``, thresholds, bias) 12: a Delta input of value ``x``
sends ``x << 6``; netx-optimised weights restore the 12-bit state scale in the synapse.

The same functions run on ``int64`` tensors (exact: simulator, exporters, tests) and on
``float64`` tensors (fixed-point-aware training): every value is an integer below 2**53,
float64 holds it exactly, and the rounding steps carry a straight-through gradient, as in
:mod:`mskd.loihi.lif`. Do not copy this arithmetic elsewhere; import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

from mskd.loihi.lif import wrap_int32
from mskd.loihi.quantizers import ste

SPIKE_EXP = 6  # netx ``Network(spike_exp=6)``: fractional bits of a graded payload
STATE_EXP = 6  # netx sets ``state_exp=6`` for every Delta and SigmaDelta
MESSAGE_BITS = 16  # netx's default ``num_message_bits`` of an SDNN layer (> 0: graded)
REG_BITS = 24  # declared width of sigma/act/residue/error/vth (Lava never enforces it)
INT32_MIN = -(1 << 31)
EXP_MAX = 7  # spike_exp and state_exp are declared 3-bit (``precision=3``)
KINDS = ("delta", "sigma_delta", "sigma")
ACTIVATIONS = ("relu", "unit")
REGISTERS = {"delta": ("act", "residue", "error"),
             "sigma_delta": ("sigma", "act", "residue", "error"),
             "sigma": ("sigma",)}


@dataclass(frozen=True)
class SdnParams:
    """One layer of sigma-delta neurons, in Lava process units.

    ``vth`` and ``bias`` are the netx/HDF5 mantissas (``vThMant``, ``bias``); Lava scales
    both by ``2**(spike_exp + state_exp)`` when it builds the process.

    >>> SdnParams("sigma_delta", vth=3).vth_eff
    12288
    >>> SdnParams("delta", vth=1, act="unit")
    Traceback (most recent call last):
    ...
    ValueError: act='unit' applies to a sigma_delta layer only
    """

    kind: str
    vth: int = 0
    spike_exp: int = SPIKE_EXP
    state_exp: int = STATE_EXP
    cum_error: bool = False
    act: str = "relu"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r} is not one of {', '.join(KINDS)}")
        if self.act not in ACTIVATIONS:
            raise ValueError(f"act={self.act!r} is not one of {', '.join(ACTIVATIONS)}")
        if self.act != "relu" and self.kind != "sigma_delta":
            raise ValueError(f"act={self.act!r} applies to a sigma_delta layer only")
        for name in ("spike_exp", "state_exp"):
            if not 0 <= getattr(self, name) <= EXP_MAX:
                raise ValueError(f"{name}={getattr(self, name)} outside 0..{EXP_MAX}")
        if self.vth < 0 or self.vth_eff >= 1 << 31:
            raise ValueError(f"vth={self.vth} outside 0..{((1 << 31) - 1) >> self.scale_bits}"
                             f" (vth << {self.scale_bits} must fit Lava's int32 register)")

    @property
    def scale_bits(self) -> int:
        """``spike_exp + state_exp``: the shift Lava applies to vth, bias and Delta input."""
        return self.spike_exp + self.state_exp

    @property
    def vth_eff(self) -> int:
        """Threshold as compared with ``|delta|``: ``vth << (spike_exp + state_exp)``."""
        return self.vth << self.scale_bits

    @property
    def registers(self) -> tuple[str, ...]:
        """The state variables Lava exposes for this kind (what a Record can hold)."""
        return REGISTERS[self.kind]


class SdnState(NamedTuple):
    """Registers of one layer (int64 or float64 tensors; ``act`` is the last activation)."""

    sigma: torch.Tensor
    act: torch.Tensor
    residue: torch.Tensor
    error: torch.Tensor


def zero_state(shape: tuple[int, ...], dtype=torch.int64, device=None) -> SdnState:
    """Every register at zero, as Lava initialises them."""
    z = torch.zeros(shape, dtype=dtype, device=device)
    return SdnState(z, z.clone(), z.clone(), z.clone())


def shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Arithmetic ``>>`` (floor division by ``2**bits``), straight-through for floats.

    >>> shift_right(torch.tensor([100, -100, 63, -1]), 6).tolist()
    [1, -2, 0, -1]
    """
    if x.is_floating_point():
        y = x / (1 << bits)
        return ste(y, torch.floor(y))
    return x >> bits


def abs32(x: torch.Tensor) -> torch.Tensor:
    """numpy's int32 ``abs``: ``|-2**31|`` stays ``-2**31``.

    >>> abs32(torch.tensor([-5, 5, -2**31])).tolist()
    [5, 5, -2147483648]
    """
    return torch.where(x == INT32_MIN, x, x.abs())


def over_24_bits(x: torch.Tensor) -> torch.Tensor:
    """True where a register value does not fit the chip's signed 24-bit registers."""
    return (x >= 1 << (REG_BITS - 1)) | (x < -(1 << (REG_BITS - 1)))


def no_overflow_bound(p: SdnParams, steps: int, a_max: int, bias_max: int = 0) -> bool:
    """True when ``steps`` steps of a layer whose every ``|a_in| <= a_max`` (and ``|bias|
    <= bias_max``) keep every int32 intermediate of :func:`sdn_step` in range, so its wraps
    are identities.

    Bound argument (no ``cum_error``): a Delta's ``|act| <= a_max << scale``; a
    SigmaDelta's ``|sigma| <= steps a_max`` and ``|act| <= |sigma| + |bias| << scale``; the
    residue only keeps an unsent delta, ``|residue| < vth_eff``, so ``|delta| <= 2 |act|_max
    + vth_eff``; a Sigma's ``|sigma| <= steps a_max``. With ``cum_error`` an unsent delta is
    not bounded by the threshold, so no claim is made.

    >>> no_overflow_bound(SdnParams("sigma_delta", vth=1), steps=21, a_max=10**6)
    True
    >>> no_overflow_bound(SdnParams("delta", vth=1), steps=21, a_max=1 << 20)
    False
    """
    if p.cum_error:
        return False
    if p.kind == "delta":
        act = a_max << p.scale_bits
    else:
        act = steps * a_max + (bias_max << p.scale_bits)
    if p.kind == "sigma":
        return act < 1 << 31
    return 2 * act + p.vth_eff < 1 << 31


def relu(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(x, min=0)


def _identity(x: torch.Tensor) -> torch.Tensor:
    return x


def _send(delta: torch.Tensor, error: torch.Tensor, p: SdnParams, no_overflow: bool = False):
    """The delta encoder's spike decision (``AbstractDeltaModel.delta_dynamics``).

    Returns ``(s, residue, error)``: the scaled message ``s`` (delta where sent, else 0),
    what stays behind, and the new cumulative error (unchanged without ``cum_error``).
    """
    absolute = torch.abs if no_overflow else abs32  # -2**31 cannot occur without overflow
    if p.cum_error:
        error = wrap_int32(error + delta)  # self.error += delta (int32, in place)
        gate = absolute(error) >= p.vth_eff
    else:
        gate = absolute(delta) >= p.vth_eff
    s = torch.where(gate, delta, torch.zeros_like(delta)) if not delta.requires_grad else \
        delta * gate.to(delta.dtype)  # (the product keeps the gradient for training)
    if p.cum_error:
        # error *= 1 - (|s| > 0): reset where a non-zero message went out (int32 abs again)
        error = error * (1 - (abs32(s) > 0).to(delta.dtype))
    residue = delta - s  # residue = delta - s_out: 0 where sent, else delta (no overflow)
    return s, residue, error


def _dendrite(a_in: torch.Tensor, sigma: torch.Tensor, bias, p: SdnParams, wrap):
    """``(sigma, act)`` after input ``a_in``: the Delta's shifted input, or the SigmaDelta's
    accumulated sigma and its activation. Works on one step or, with ``sigma`` the running
    sum already taken (:func:`sdn_run`), on a whole sequence."""
    if p.kind == "delta":
        # PyDeltaModelFixed: a_in << (spike_exp + state_exp), int32 (bits past 31 are lost)
        return sigma, wrap(a_in * (1 << p.scale_bits))
    scaled_bias = bias if isinstance(bias, int) and bias == 0 else \
        wrap(torch.as_tensor(bias) * (1 << p.scale_bits))  # Lava scales the bias at build
    act = wrap(sigma + scaled_bias)  # sigma_data + self.bias (int32)
    return sigma, relu(act) if p.act == "relu" else act


def sdn_step(a_in: torch.Tensor, state: SdnState, p: SdnParams,
             bias: torch.Tensor | int = 0, no_overflow: bool = False
             ) -> tuple[torch.Tensor, SdnState]:
    """One time step of a Delta, SigmaDelta or Sigma layer (``run_spk`` of the fixed models).

    ``a_in`` is what the neurons receive this step (the synapse output of the previous
    step; for a Delta input layer, the input value). ``bias`` is the HDF5 bias mantissa;
    it is scaled here as Lava scales it at build time. Returns the payload sent (the graded
    message; for a Sigma layer its sigma) and the new state.

    ``no_overflow``: the caller has shown that no value of this step leaves int32 (see
    :func:`no_overflow_bound`), so every 32-bit wrap is the identity and is skipped.

    Golden trace of a ReLU SigmaDelta, vth = 1 (4096 after the 12-bit scale): the change
    of -2000 stays in the residue, the next one (-4500 with it) is sent, floored by >> 6:

    >>> p = SdnParams("sigma_delta", vth=1)
    >>> st = zero_state((1,))
    >>> for x in [5000, 0, -2000, -2500]:
    ...     s, st = sdn_step(torch.tensor([x]), st, p)
    ...     print(int(s), int(st.sigma), int(st.act), int(st.residue))
    78 5000 5000 0
    0 5000 5000 0
    0 3000 3000 -2000
    -71 500 500 0
    """
    wrap = _identity if no_overflow else wrap_int32
    sigma = state.sigma if p.kind == "delta" else wrap(state.sigma + a_in)  # sigma dendrite
    if p.kind == "sigma":
        return sigma, state._replace(sigma=sigma)  # a_out = sigma
    sigma, act = _dendrite(a_in, sigma, bias, p, wrap)
    delta = wrap(wrap(act - state.act) + state.residue)  # act - act + residue
    s, residue, error = _send(delta, state.error, p, no_overflow)
    out = shift_right(s, p.state_exp)  # s_out >> state_exp: the payload keeps spike_exp
    return out, SdnState(sigma, act, residue, error)

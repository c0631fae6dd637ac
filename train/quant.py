"""Integer weights and the surrogate spike of the fixed-point student.

A synaptic layer keeps one float parameter ``w`` and a power-of-two exponent ``e`` (chosen
once from the initial weight range and stored in the config). Its Loihi weight is the
8-bit signed mantissa, :func:`mskd.loihi.quantizers.quantize_weight`::

    w_int = clamp(round_ste(w * 2**e), -128, 127)

>>> weight_exponent(torch.tensor([0.5, -0.25]))
7
"""

from __future__ import annotations

import math

import torch

from mskd.loihi.quantizers import pow2_exponent

FLOAT32_EXACT = 1 << 24  # integers below this add exactly in float32


def weight_exponent(w: torch.Tensor, target: int = 64) -> int:
    """Largest ``e`` with ``max|w| * 2**e <= target``: half the range left for learning."""
    peak = float(w.detach().abs().max())
    if peak == 0.0:
        return 0
    return pow2_exponent(peak, target)


def standardize_weights(weights) -> list[torch.Tensor]:
    """Weight standardisation of every hidden synaptic layer (not the readout): per output
    neuron ``w' = (w - mean) / std * sqrt(2 / fan_in)`` (zero mean, a fixed norm), shared by
    both students (see :meth:`mskd.train.student_lif.Student.float_weights` for why).

    >>> out = standardize_weights([torch.tensor([[1.0, 3.0]]), torch.tensor([[5.0]])])
    >>> [round(x, 4) for x in out[0][0].tolist()], out[1].tolist()
    ([-0.7071, 0.7071], [[5.0]])
    """
    out = []
    for i, w in enumerate(weights):
        if i == len(weights) - 1:
            out.append(w)
            continue
        flat = w.flatten(1)
        z = (flat - flat.mean(1, keepdim=True)) / (flat.std(1, keepdim=True) + 1e-8)
        out.append((z * math.sqrt(2 / flat.shape[1])).reshape(w.shape))
    return out


def check_exact_sum(fan_in: int, layer: str) -> None:
    """Binary spikes times |w_int| <= 128 summed over ``fan_in`` must stay exact in float32."""
    bound = 128 * fan_in
    if bound >= FLOAT32_EXACT:
        raise ValueError(f"{layer}: fan-in {fan_in} x 128 = {bound} is not exact in float32")


class SurrogateSpike(torch.autograd.Function):
    """Exact Heaviside ``x > 0`` forward; fast-sigmoid derivative backward.

    ``x = v - (vth << 6)`` is in integer voltage units, so the derivative is normalised by
    ``scale = vth << 6``: ``ds/dx = 1 / (scale * (1 + k |x| / scale)**2)``, i.e. the usual
    fast sigmoid of a float network whose threshold is 1.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: float, k: float) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.scale, ctx.k = scale, k
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        xn = x.abs() / ctx.scale
        return grad / (ctx.scale * (1.0 + ctx.k * xn) ** 2), None, None


def surrogate(scale: float, k: float = 5.0):
    """A ``spike_fn`` for :func:`mskd.loihi.lif.lif_step` with threshold scale ``scale``.

    >>> f = surrogate(64.0)
    >>> f(torch.tensor([-1.0, 0.0, 3.0]))
    tensor([0., 0., 1.])
    """
    scale = float(max(scale, 1.0))

    def spike_fn(x: torch.Tensor) -> torch.Tensor:
        return SurrogateSpike.apply(x, scale, k)

    return spike_fn

"""Named quantizers: how float values become Loihi integers, one definition each.

- :func:`ste` / :func:`round_ste` the straight-through estimator: the exact (rounded,
  wrapped, clipped) value forward, the float value's gradient backward;
- :data:`WEIGHT_MANT_MIN`, :data:`WEIGHT_MANT_MAX` the signed 8-bit weight mantissa Lava
  stores (``num_weight_bits = 8``);
- :func:`pow2_exponent` the power-of-two scale rule every stage uses: the largest ``e``
  with ``peak * 2**e <= target`` (training's weight exponents, NIR import's weight,
  threshold and bias exponents, graded input's payload scale);
- :func:`quantize_weight` the 8-bit weight quantizer ``clamp(round_ste(w 2**e), -128, 127)``.

The graded-payload quantizer ``round(x * S)`` is :func:`mskd.loihi.graded.encode`, with
its scale chosen by :func:`pow2_exponent`.

>>> pow2_exponent(0.5, 64), pow2_exponent(3.0, 127), pow2_exponent(200.0, 127)
(7, 5, -1)
>>> quantize_weight(torch.tensor([0.30, -0.51, 3.0]), 7)
tensor([ 38., -65., 127.])
"""

from __future__ import annotations

import math

import torch

WEIGHT_MANT_MIN, WEIGHT_MANT_MAX = -128, 127  # signed 8-bit weight mantissa


def ste(x: torch.Tensor, exact: torch.Tensor) -> torch.Tensor:
    """``exact`` in the forward pass, the gradient of ``x`` in the backward pass."""
    return x + (exact - x).detach()


def round_ste(x: torch.Tensor) -> torch.Tensor:
    """``round(x)`` (half to even) forward, identity gradient backward."""
    return ste(x, torch.round(x))


def pow2_exponent(peak: float, target: float) -> int:
    """The largest integer ``e`` with ``peak * 2**e <= target`` (``peak, target > 0``).

    >>> [pow2_exponent(p, 8) for p in (1, 2, 3, 8, 9)]
    [3, 2, 1, 0, -1]
    """
    if not (peak > 0 and target > 0 and math.isfinite(peak) and math.isfinite(target)):
        raise ValueError(f"pow2_exponent needs finite peak and target > 0 (got {peak}, "
                         f"{target})")
    return int(math.floor(math.log2(target / peak)))


def quantize_weight(w: torch.Tensor, exponent: int) -> torch.Tensor:
    """The integer weight mantissa (held in ``w``'s float dtype) with an STE gradient."""
    return torch.clamp(round_ste(w * (2.0 ** exponent)), WEIGHT_MANT_MIN, WEIGHT_MANT_MAX)

"""MSKD losses on per-step readouts ``z`` of shape ``[T, B, C]`` (steps, batch, classes).

The student's T equals the teacher's: the teacher runs one step per event frame, and the
student's per-frame readout is the mean of its output voltage over that frame's
``steps_per_frame`` steps (see :mod:`mskd.train.student`), so step t of both sees clip frame t.

Losses are looked up by name in :data:`LOSSES`; each takes ``(z_s, z_t, label, tau)``.

>>> z = torch.randn(4, 3, 7)
>>> y = torch.tensor([0, 1, 2])
>>> float(hckd(z, z, y)), float(tckd(z, z, y))
(0.0, 0.0)
>>> sorted(LOSSES)
['cls', 'hckd', 'tckd']
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from mskd.errors import ConfigError


def cls_loss(z_s: torch.Tensor, z_t: torch.Tensor | None, label: torch.Tensor,
             tau: float = 1.0, label_smoothing: float = 0.0) -> torch.Tensor:
    """``L_cls = CE(mean_t z_S^t, y)``: cross-entropy on the time-averaged readout
    (optionally with label smoothing, a training option; 0 by default)."""
    return F.cross_entropy(z_s.mean(0), label, label_smoothing=label_smoothing)


def hckd(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor,
         tau: float = 1.0) -> torch.Tensor:
    """Hit Consistency KD: distil only the steps where the teacher is right.

    ``p_T^t = softmax(z_T^t / tau)``, ``p_S^t = softmax(z_S^t / tau)``,
    ``h_t = [argmax z_T^t == y]``;
    ``L = tau^2 sum_t h_t KL(p_T^t || p_S^t) / max(1, sum_t h_t)`` per sample, batch mean.
    """
    z_t = z_t.detach()
    log_ps = F.log_softmax(z_s / tau, dim=-1)
    log_pt = F.log_softmax(z_t / tau, dim=-1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)  # [T, B]
    hit = (z_t.argmax(-1) == label.unsqueeze(0)).to(kl.dtype)
    per_sample = (hit * kl).sum(0) / hit.sum(0).clamp(min=1.0)
    return tau**2 * per_sample.mean()


TCKD_EPS = 1.0  # logit norm below which cos is damped (z / max(|z|, eps)); see tckd


def _gram(z: torch.Tensor) -> torch.Tensor:
    """Per-sample ``[B, T, T]`` cosine similarities between the per-step readouts."""
    zn = F.normalize(z.transpose(0, 1), dim=-1, eps=TCKD_EPS)
    return zn @ zn.transpose(1, 2)


def tckd(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor | None = None,
         tau: float = 1.0) -> torch.Tensor:
    """Temporal Consistency KD: match the step-to-step similarity structure.

    ``G[i, j] = cos(z^i, z^j)`` over classes; ``L = ||G_S - G_T||_F^2 / T^2``, batch mean.

    The cosine divides by ``max(|z^i|, 1) max(|z^j|, 1)``: with a plain cosine the gradient
    grows as ``1 / |z|`` for the near-zero logits a fresh student produces, dominated Adam's
    update and stalled the classification loss (measured on the synthetic default, one
    seed, 3 views: 17% test WAR with the plain cosine, 22% with the damped one).
    """
    steps = z_s.shape[0]
    diff = _gram(z_s) - _gram(z_t.detach())
    return (diff**2).sum((1, 2)).mean() / steps**2


LossFn = Callable[..., torch.Tensor]
LOSSES: dict[str, LossFn] = {"cls": cls_loss, "hckd": hckd, "tckd": tckd}


def mskd_loss(z_s: torch.Tensor, z_t: torch.Tensor | None, label: torch.Tensor,
              alpha: float, tau: float = 1.0, kd_terms: tuple[str, ...] = ("hckd", "tckd"),
              label_smoothing: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """``L = (1 - alpha) L_cls + alpha sum_k L_k`` over ``kd_terms`` (HCKD + TCKD by default).

    Returns the loss and each term's value. ``alpha = 0`` needs no teacher output.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha={alpha} must be in [0, 1]")
    if tau <= 0:
        raise ConfigError(f"tau={tau} must be > 0")
    total = (1 - alpha) * cls_loss(z_s, None, label, label_smoothing=label_smoothing)
    parts = {"cls": float(total.detach()) / max(1e-12, 1 - alpha) if alpha < 1 else 0.0}
    if alpha > 0:
        if z_t is None:
            raise ConfigError("alpha > 0 needs the teacher's outputs")
        for name in kd_terms:
            if name not in LOSSES:
                raise ConfigError(f"unknown loss {name!r}; known: {sorted(LOSSES)}")
            term = LOSSES[name](z_s, z_t, label, tau)
            parts[name] = float(term.detach())
            total = total + alpha * term
    return total, parts

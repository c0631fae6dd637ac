"""MSKD losses on per-step readouts ``z`` of shape ``[T, B, C]`` (steps, batch, classes).

The student's T equals the teacher's: the teacher runs one step per event frame, and the
student's per-frame readout is the mean of its output voltage over that frame's
``steps_per_frame`` steps (see :mod:`mskd.train.student_lif`), so step t of both sees clip frame t.

Losses are looked up by name in :data:`LOSSES`; each takes ``(z_s, z_t, label, tau)``.

>>> z = torch.randn(4, 3, 7)
>>> y = torch.tensor([0, 1, 2])
>>> float(hckd(z, z, y)), float(tckd(z, z, y)), float(hckd_clip(z, z, y)), float(kd(z, z, y))
(0.0, 0.0, 0.0, 0.0)
>>> sorted(LOSSES)
['cls', 'hckd', 'hckd_clip', 'hckd_ls', 'hckd_pair', 'kd', 'kd_ls', 'tckd']
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from mskd.train.options import DEFAULT_KD_TERMS

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


def standardize(z: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Logits z-scored over the classes (mean 0, std 1 per sample): the logit
    standardisation of Sun et al., "Logit Standardization in Knowledge Distillation",
    CVPR 2024, which lets a student match a teacher's relative logits without its scale.

    >>> [round(x, 4) for x in standardize(torch.tensor([[1.0, 2.0, 3.0]]))[0].tolist()]
    [-1.0, 0.0, 1.0]
    """
    return (z - z.mean(-1, keepdim=True)) / (z.std(-1, keepdim=True) + eps)


def _clip_kl(z_s: torch.Tensor, z_t: torch.Tensor, tau: float,
             std: bool = False) -> torch.Tensor:
    """Per sample ``KL(softmax(mean_t z_T / tau) || softmax(mean_t z_S / tau))``, ``[B]``;
    with ``std`` both clip logits are standardised first (:func:`standardize`)."""
    zs, zt = z_s.mean(0), z_t.detach().mean(0)
    if std:
        zs, zt = standardize(zs), standardize(zt)
    log_ps = F.log_softmax(zs / tau, dim=-1)
    log_pt = F.log_softmax(zt / tau, dim=-1)
    return (log_pt.exp() * (log_pt - log_ps)).sum(-1)


def kd(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor | None = None,
       tau: float = 1.0) -> torch.Tensor:
    """Plain logit distillation (Hinton et al. 2015) on the clip's time-averaged logits:
    ``L = tau^2 KL(softmax(mean_t z_T / tau) || softmax(mean_t z_S / tau))``, batch mean."""
    return tau**2 * _clip_kl(z_s, z_t, tau).mean()


def kd_ls(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor | None = None,
          tau: float = 1.0) -> torch.Tensor:
    """:func:`kd` on standardised clip logits (:func:`standardize`): the spiking teacher's
    leaky-integrator readout is far less confident than the student's logits (on the
    selection set its tau=2 clip softmax peaks at 0.45 where the student's logits reach
    about 12), so plain KD pulls the student's scale down rather than its decision.
    ``L = tau^2 KL(softmax(std(mean_t z_T) / tau) || softmax(std(mean_t z_S) / tau))``."""
    return tau**2 * _clip_kl(z_s, z_t, tau, std=True).mean()


def hckd_ls(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor,
            tau: float = 1.0) -> torch.Tensor:
    """:func:`hckd_clip` on standardised clip logits: distil, on the clips the teacher
    gets right, the shape of its clip-level belief, not its scale.
    ``L = tau^2 sum_b h_b KL(softmax(std(mean_t z_T)/tau) || softmax(std(mean_t z_S)/tau))
    / max(1, sum_b h_b)``, ``h_b = [argmax mean_t z_T == y]``."""
    hit = (z_t.detach().mean(0).argmax(-1) == label).to(z_s.dtype)
    return tau**2 * (hit * _clip_kl(z_s, z_t, tau, std=True)).sum() / hit.sum().clamp(min=1.0)


def hckd_clip(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor,
              tau: float = 1.0) -> torch.Tensor:
    """Hit Consistency KD per clip: distil the clips the teacher gets right, as a whole.

    ``h = [argmax mean_t z_T == y]`` per clip;
    ``L = tau^2 sum_b h_b KL(softmax(mean_t z_T / tau) || softmax(mean_t z_S / tau))
    / max(1, sum_b h_b)``. Unlike :func:`hckd` (per step), a clip the teacher only gets
    right after its brief motion still counts, and the target is the teacher's clip-level
    belief, not a per-step one the frames cannot support.
    """
    hit = (z_t.detach().mean(0).argmax(-1) == label).to(z_s.dtype)
    return tau**2 * (hit * _clip_kl(z_s, z_t, tau)).sum() / hit.sum().clamp(min=1.0)


def _pair_mates(label: torch.Tensor, classes: int) -> torch.Tensor:
    """``[B, C]`` mask of the classes in each label's pair (the classes sharing its slow
    motion, :func:`mskd.data.expressions.class_pairs`), itself included; a class without a
    pair (neutral) gets every class."""
    from mskd.data.expressions import class_pairs

    pairs = class_pairs()
    if classes != len(pairs):
        return torch.ones(len(label), classes, dtype=torch.bool)
    group = torch.tensor(pairs)
    mates = group[label].unsqueeze(1) == group.unsqueeze(0)
    lone = mates.sum(1, keepdim=True) < 2
    return mates | lone


def hckd_pair(z_s: torch.Tensor, z_t: torch.Tensor, label: torch.Tensor,
              tau: float = 1.0) -> torch.Tensor:
    """Hit Consistency KD within the class pair: on the clips the teacher gets right,
    distil its belief between the two classes that share the clip's slow motion.

    With ``m`` the true class's pair (both members; all classes for neutral) and
    ``q^m = softmax(mean_t z / tau)`` restricted and renormalised to ``m``:
    ``L = tau^2 sum_b h_b KL(q_T^m || q_S^m) / max(1, sum_b h_b)``, ``h_b = [argmax
    mean_t z_T == y]``. The pair itself is what the frames show and the labels teach; the
    member of the pair is what the teacher's events add, so that is what is distilled.
    """
    mask = _pair_mates(label, z_s.shape[-1]).to(z_s.device)
    neg = torch.finfo(z_s.dtype).min / 4

    def restricted(z):
        return F.log_softmax((z.mean(0) / tau).masked_fill(~mask, neg), dim=-1)

    log_ps, log_pt = restricted(z_s), restricted(z_t.detach())
    kl = (log_pt.exp() * (log_pt - log_ps)).masked_fill(~mask, 0.0).sum(-1)
    hit = (z_t.detach().mean(0).argmax(-1) == label).to(z_s.dtype)
    return tau**2 * (hit * kl).sum() / hit.sum().clamp(min=1.0)


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
LOSSES: dict[str, LossFn] = {"cls": cls_loss, "hckd": hckd, "tckd": tckd,
                             "hckd_clip": hckd_clip, "hckd_pair": hckd_pair, "kd": kd,
                             "kd_ls": kd_ls, "hckd_ls": hckd_ls}
# Terms on the clip's time-averaged logits: the student's mean over all its frames (a
# sigma-delta student reads every frame); the others pair the student's steps with the
# teacher's one by one.
CLIP_LEVEL = frozenset({"kd", "hckd_clip", "hckd_pair", "kd_ls", "hckd_ls"})


def mskd_loss(z_s: torch.Tensor, z_t: torch.Tensor | None, label: torch.Tensor,
              alpha: float, tau: float = 1.0, kd_terms: tuple[str, ...] = DEFAULT_KD_TERMS,
              label_smoothing: float = 0.0, kd_steps: list[int] | None = None
              ) -> tuple[torch.Tensor, dict[str, float]]:
    """``L = (1 - alpha) L_cls + alpha sum_k L_k`` over ``kd_terms`` (by default
    :data:`~mskd.train.options.DEFAULT_KD_TERMS`, chosen on the selection set).

    Returns the loss and each term's value. ``alpha = 0`` needs no teacher output.
    ``kd_steps``: the student's steps that align with the teacher's (a sigma-delta student
    reads every frame, the teacher the sampled ones), for the per-step terms; the
    classification term and the clip-level terms (:data:`CLIP_LEVEL`) use all of them.
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
            z = z_s if kd_steps is None or name in CLIP_LEVEL else z_s[kd_steps]
            term = LOSSES[name](z, z_t, label, tau)
            parts[name] = float(term.detach())
            total = total + alpha * term
    return total, parts

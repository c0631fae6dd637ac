"""Dimensional affect (valence, arousal) losses and metrics, and M2PKD-style privileged
distillation, on per-frame predictions ``z`` of shape ``[T, B, 2]``.

The concordance correlation coefficient (:func:`mskd.metrics.ccc`, Lin 1989) per
dimension over all frames given. The task loss is ``1 - mean_d CCC_d`` over the
batch's frames (``ccc``, the default, as M2PKD trains) or the mean squared error
(``mse``).

Privileged distillation (M2PKD, Aslam et al., CVPRW 2023: a multimodal teacher, a
unimodal student; here the teacher sees events, the student frames only), terms by name
in :data:`VA_KD`, on the student frames aligned with the teacher's steps:

* ``out`` (output level): ``L = mean_{t,b,d} (z_S - z_T)**2``, the teacher's per-frame
  valence and arousal as soft regression targets;
* ``feat`` (feature level): ``L = mean_{t,b,j} (P h_S - std(h_T))**2``: the student's
  feature layer ``h_S`` (the readout's input) projected by a linear map ``P`` (trained with
  the student, used only in training) onto the teacher's fused features ``h_T`` (its spiking
  FC layer's input current), z-scored over the features of each frame (``std``,
  :func:`mskd.train.losses.standardize`) so the target has a fixed scale.

``L = (1 - alpha) L_task + alpha sum_k L_k`` (:func:`pkd_loss`); the default terms are both
(:data:`DEFAULT_VA_TERMS`, chosen on the selection set).

>>> z = torch.tensor([[[0.1, 0.5]], [[0.3, -0.2]], [[-0.4, 0.0]]])
>>> [round(float(c), 4) for c in ccc(z, z)]
[1.0, 1.0]
>>> float(out(z, z)), round(float(ccc_loss(z, None, z)), 4)
(0.0, 0.0)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from mskd.train.student_geometry import VA_OUTPUTS

from mskd.errors import ConfigError
from mskd.metrics import ccc

__all__ = ["VA_OUTPUTS", "pkd_loss", "VA_KD", "TASK_LOSSES"]

def ccc_loss(z_s: torch.Tensor, z_t: torch.Tensor | None, va: torch.Tensor) -> torch.Tensor:
    """``1 - mean_d CCC_d(z_S, va)`` over the batch's frames."""
    return 1.0 - ccc(z_s, va).mean()


def mse_loss(z_s: torch.Tensor, z_t: torch.Tensor | None, va: torch.Tensor) -> torch.Tensor:
    """Mean squared error to the annotations."""
    return F.mse_loss(z_s, va)


TASK_LOSSES = {"ccc": ccc_loss, "mse": mse_loss}


def out(z_s: torch.Tensor, z_t: torch.Tensor) -> torch.Tensor:
    """Output-level privileged KD: MSE to the teacher's per-frame predictions."""
    return F.mse_loss(z_s, z_t.detach())


def feat(f_s: torch.Tensor, f_t: torch.Tensor) -> torch.Tensor:
    """Feature-level privileged KD: MSE of the projected student features to the teacher's
    features z-scored per frame."""
    from mskd.train.losses import standardize

    return F.mse_loss(f_s, standardize(f_t.detach()))


VA_KD = ("out", "feat")
# chosen on the selection set (synthetic seed 1, sigma-delta student): the measurements are in
# docs/benchmarks/valence-arousal.md
DEFAULT_VA_TERMS: tuple[str, ...] = ("out", "feat")


def pkd_loss(z_s: torch.Tensor, va: torch.Tensor, alpha: float, terms: tuple[str, ...],
             task_loss: str = "ccc", z_t: torch.Tensor | None = None,
             f_s: torch.Tensor | None = None, f_t: torch.Tensor | None = None,
             kd_steps: list[int] | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """``(1 - alpha) L_task(z_S, va) + alpha sum_k L_k``; ``kd_steps``: the student frames
    aligned with the teacher's steps (all when None). Returns the loss and its terms."""
    if task_loss not in TASK_LOSSES:
        raise ConfigError(f"--va-loss {task_loss!r}: expected one of {', '.join(TASK_LOSSES)}")
    task = TASK_LOSSES[task_loss](z_s, None, va)
    total = (1 - alpha) * task
    parts = {task_loss: float(task.detach())}
    if alpha > 0:
        pick = (lambda x: x) if kd_steps is None else (lambda x: x[kd_steps])
        for name in terms:
            if name == "out":
                if z_t is None:
                    raise ConfigError("the 'out' term needs the teacher's predictions")
                term = out(pick(z_s), z_t)
            elif name == "feat":
                if f_s is None or f_t is None:
                    raise ConfigError("the 'feat' term needs student and teacher features")
                term = feat(pick(f_s), f_t)
            else:
                raise ConfigError(f"unknown dimensional distillation term {name!r}; known: "
                                  f"{', '.join(VA_KD)}")
            parts[name] = float(term.detach())
            total = total + alpha * term
    return total, parts

"""Metrics every stage reports, defined once: WAR/UAR for the emotion classes, CCC/PCC/RMSE
for valence and arousal.

WAR = correct / all clips; UAR = mean over classes (present in the labels) of the recall.
CCC is Lin's concordance correlation coefficient per dimension over all frames given::

    CCC(x, y) = 2 cov(x, y) / (var(x) + var(y) + (mean(x) - mean(y))**2)

(population moments): 1 only when predictions equal the targets; unlike Pearson's r it
penalises a shift or a wrong scale.

>>> m = classification_metrics(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]),
...                            ["a", "a", "b", "b"], 3)
>>> m["war"], round(m["uar"], 4), m["per_lighting"]["b"]["war"]
(0.75, 0.8333, 0.5)
>>> z = torch.tensor([[[0.1, 0.5]], [[0.3, -0.2]], [[-0.4, 0.0]]])
>>> [round(float(c), 4) for c in ccc(z, z)]
[1.0, 1.0]
"""

from __future__ import annotations

import torch

from mskd.labels import DIMENSIONS

EPS = 1e-8


def ccc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """CCC per dimension (last axis) over all other axes."""
    x = pred.reshape(-1, pred.shape[-1]).to(torch.float64)
    y = target.reshape(-1, target.shape[-1]).to(torch.float64)
    mx, my = x.mean(0), y.mean(0)
    vx, vy = ((x - mx) ** 2).mean(0), ((y - my) ** 2).mean(0)
    cov = ((x - mx) * (y - my)).mean(0)
    return (2 * cov / (vx + vy + (mx - my) ** 2 + EPS)).to(pred.dtype)


def pcc(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Pearson correlation per dimension (last axis) over all other axes."""
    x = pred.reshape(-1, pred.shape[-1]).to(torch.float64)
    y = target.reshape(-1, target.shape[-1]).to(torch.float64)
    x, y = x - x.mean(0), y - y.mean(0)
    return ((x * y).mean(0) / ((x**2).mean(0).sqrt() * (y**2).mean(0).sqrt() + EPS)).float()


def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Root mean squared error per dimension (last axis)."""
    d = (pred - target).reshape(-1, pred.shape[-1]).to(torch.float64)
    return (d**2).mean(0).sqrt().float()


def _war_uar(pred: torch.Tensor, label: torch.Tensor, classes: int) -> tuple[float, float]:
    war = float((pred == label).double().mean()) if len(label) else 0.0
    recalls = [float((pred[label == c] == c).double().mean()) for c in range(classes)
               if (label == c).any()]
    return war, (sum(recalls) / len(recalls) if recalls else 0.0)


def classification_metrics(pred: torch.Tensor, label: torch.Tensor, lightings: list[str],
                           classes: int) -> dict:
    """WAR, UAR, per-lighting WAR/UAR and the confusion matrix (rows = true class)."""
    war, uar = _war_uar(pred, label, classes)
    conf = torch.zeros(classes, classes, dtype=torch.int64)
    conf.index_put_((label, pred), torch.ones_like(label), accumulate=True)
    per = {}
    for light in sorted(set(lightings)):
        mask = torch.tensor([x == light for x in lightings])
        lw, lu = _war_uar(pred[mask], label[mask], classes)
        per[light] = {"war": lw, "uar": lu, "n": int(mask.sum())}
    return {"war": war, "uar": uar, "per_lighting": per, "confusion": conf.tolist()}


def va_metrics(pred: torch.Tensor, target: torch.Tensor, lightings: list[str]) -> dict:
    """CCC, PCC and RMSE per dimension over all frames of all clips, overall and per
    lighting; ``ccc`` = the mean CCC of the two dimensions.

    >>> t = torch.tensor([[[0.1, 0.2], [0.3, -0.1]], [[-0.2, 0.4], [0.0, 0.0]]])
    >>> m = va_metrics(t, t, ["a", "b"])
    >>> round(m["ccc"], 4), m["valence"]["rmse"], sorted(m["per_lighting"])
    (1.0, 0.0, ['a', 'b'])
    """
    def block(p: torch.Tensor, t: torch.Tensor) -> dict:
        c, r, e = ccc(p, t), pcc(p, t), rmse(p, t)
        out = {name: {"ccc": float(c[d]), "pcc": float(r[d]), "rmse": float(e[d])}
               for d, name in enumerate(DIMENSIONS)}
        return {"ccc": float(c.mean()), **out, "frames": int(p[..., 0].numel())}

    per = {}
    for light in sorted(set(lightings)):
        mask = torch.tensor([x == light for x in lightings])
        per[light] = block(pred[mask], target[mask])
    return {**block(pred, target), "per_lighting": per}

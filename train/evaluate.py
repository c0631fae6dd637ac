"""Evaluation as in SEEN: WAR and UAR averaged over K seeded clip views.

WAR = correct / all clips; UAR = mean over classes (present in the labels) of the recall.
Each view fixes one clip start per sequence (``train=False`` loader, view v); the metrics
are computed per view, then averaged; the confusion matrix sums the views.

>>> m = metrics(torch.tensor([0, 1, 1, 2]), torch.tensor([0, 1, 2, 2]), ["a", "a", "b", "b"], 3)
>>> m["war"], round(m["uar"], 4), m["per_lighting"]["b"]["war"]
(0.75, 0.8333, 0.5)
"""

from __future__ import annotations

from pathlib import Path

import torch
from mskd.train.batching import eval_loader, see_dataset
from mskd.train.models import load_model


def _war_uar(pred: torch.Tensor, label: torch.Tensor, classes: int) -> tuple[float, float]:
    war = float((pred == label).double().mean()) if len(label) else 0.0
    recalls = [float((pred[label == c] == c).double().mean()) for c in range(classes)
               if (label == c).any()]
    return war, (sum(recalls) / len(recalls) if recalls else 0.0)


def metrics(pred: torch.Tensor, label: torch.Tensor, lightings: list[str], classes: int) -> dict:
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


@torch.no_grad()
def predict(model: torch.nn.Module, ds, batch_size: int = 64):
    """Predicted class, label and lighting of every clip of ``ds``."""
    preds, labels, lights = [], [], []
    for batch in eval_loader(ds, batch_size):
        z = model(batch.frames) if model.kind == "student" else model(batch.frames, batch.events)
        preds.append(z.mean(0).argmax(-1))
        labels.append(batch.labels)
        lights += [m.get("lighting", "all") for m in batch.meta]
    return torch.cat(preds), torch.cat(labels), lights


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def evaluate_model(model, view_dataset, views: int, classes: int) -> dict:
    """Average the metrics over ``views`` datasets ``view_dataset(v)``."""
    runs = [metrics(*predict(model, view_dataset(v)), classes) for v in range(views)]
    lights = runs[0]["per_lighting"]
    conf = torch.tensor([r["confusion"] for r in runs]).sum(0)
    wars = [r["war"] for r in runs]
    return {
        "views": views, "war": _mean(wars), "uar": _mean([r["uar"] for r in runs]),
        "war_std": float(torch.tensor(wars).std()) if views > 1 else 0.0,
        "per_lighting": {k: {"war": _mean([r["per_lighting"][k]["war"] for r in runs]),
                             "uar": _mean([r["per_lighting"][k]["uar"] for r in runs]),
                             "n": lights[k]["n"]} for k in lights},
        "confusion": conf.tolist(),
    }


def evaluate(ckpt: str | Path, data: str, views: int = 5, split: str = "test", seed: int = 0,
             clip: str | None = None, size: int | None = None) -> dict:
    """Load ``ckpt`` and evaluate it on ``split`` of ``data`` (clip/size from the checkpoint)."""
    from mskd.train.checkpoint import load_checkpoint

    info = load_checkpoint(ckpt)
    model = load_model(ckpt)
    clip = clip or info.options.get("clip", "E4-S3")
    size = size or model.config.size
    cache: dict = {}

    def view_dataset(v: int):
        if "ds" not in cache:
            cache["ds"] = see_dataset(data, split, clip, size, train=False, seed=seed, view=v,
                                      dense=getattr(model, "dense", False))
        cache["ds"].set_view(v)
        return cache["ds"]

    result = evaluate_model(model, view_dataset, views, model.config.classes)
    return {"checkpoint": str(ckpt), "kind": model.kind, "split": split, **result}

"""Evaluation as in SEEN: WAR and UAR averaged over K seeded clip views.

Each view fixes one clip start per sequence (``train=False`` loader, view v); the metrics
(:func:`mskd.metrics.classification_metrics`, :func:`mskd.metrics.va_metrics`) are
computed per view, then averaged; the confusion matrix sums the views.
"""

from __future__ import annotations

from pathlib import Path

import torch
from mskd.train.batching import eval_loader, see_dataset
from mskd.train.models import load_model

from mskd.metrics import classification_metrics, va_metrics


def _outputs(model: torch.nn.Module, batch) -> torch.Tensor:
    """Per-step outputs ``[n, B, C]``: a student reads the frames, the teacher both."""
    return model(batch.frames) if model.kind == "student" else model(batch.frames, batch.events)


@torch.no_grad()
def predict(model: torch.nn.Module, ds, batch_size: int = 64):
    """Predicted class, label and lighting of every clip of ``ds``."""
    preds, labels, lights = [], [], []
    for batch in eval_loader(ds, batch_size):
        z = _outputs(model, batch)
        preds.append(z.mean(0).argmax(-1))
        labels.append(batch.labels)
        lights += [m.get("lighting", "all") for m in batch.meta]
    return torch.cat(preds), torch.cat(labels), lights


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs)


def evaluate_model(model, view_dataset, views: int, classes: int) -> dict:
    """Average the metrics over ``views`` datasets ``view_dataset(v)``."""
    runs = [classification_metrics(*predict(model, view_dataset(v)), classes) for v in range(views)]
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


@torch.no_grad()
def predict_va(model: torch.nn.Module, ds, batch_size: int = 64):
    """Per-frame valence/arousal predictions and annotations ``[clips, n, 2]`` of ``ds``,
    and each clip's lighting."""
    preds, targets, lights = [], [], []
    for batch in eval_loader(ds, batch_size):
        preds.append(_outputs(model, batch).transpose(0, 1))
        targets.append(batch.va.transpose(0, 1))
        lights += [m.get("lighting", "all") for m in batch.meta]
    return torch.cat(preds), torch.cat(targets), lights


def _mean_tree(runs: list):
    """The element-wise mean of equally shaped nested dicts of numbers."""
    first = runs[0]
    if isinstance(first, dict):
        return {k: _mean_tree([r[k] for r in runs]) for k in first}
    if isinstance(first, int):
        return first
    return _mean(runs)


def evaluate_va_model(model, view_dataset, views: int) -> dict:
    """Dimensional metrics averaged over ``views`` datasets ``view_dataset(v)``."""
    runs = [va_metrics(*predict_va(model, view_dataset(v))) for v in range(views)]
    cccs = [r["ccc"] for r in runs]
    return {"task": "dimensional", "views": views, **_mean_tree(runs),
            "ccc_std": float(torch.tensor(cccs).std()) if views > 1 else 0.0}


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
                                      dense=getattr(model, "dense", False), task=task)
        cache["ds"].set_view(v)
        return cache["ds"]

    task = getattr(model.config, "task", "categorical")
    if task == "dimensional":
        result = evaluate_va_model(model, view_dataset, views)
    else:
        result = evaluate_model(model, view_dataset, views, model.config.classes)
    return {"checkpoint": str(ckpt), "kind": model.kind, "split": split, **result}

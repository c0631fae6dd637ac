"""Baselines that check the synthetic dataset needs time and events (prints a Markdown table).

(a) single frame: small CNN on one frame; evaluated on every test frame.
(b) frames only: the same small CNN on E4-S3 clips, the 4 frames stacked as channels.
(c) events + frames: identical network, input channels = frame + ON + OFF.

WAR = correct / all test clips; UAR = mean per-class recall. Clip models are evaluated on
``--views`` fixed views per test sequence (as SEEN averages random-start test runs).

    .venv/bin/python scripts/data_baselines.py                 # synthesizes the default set
    .venv/bin/python scripts/data_baselines.py --data DIR --epochs 40
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from mskd.data.naming import EMOTIONS
from mskd.data.see import ClipSpec, SEEDataset
from mskd.data.synth import synthesize


class ClipNet(nn.Module):
    """Early fusion: the n clip frames (x C channels) stacked as input channels of a small CNN.

    Three stride-2 conv blocks, coarse 3x3 pooling, a two-layer head. Stacking lets the first
    layer take frame differences, which is what motion needs at this size.
    """

    def __init__(self, in_channels: int, n: int, dim: int = 64) -> None:
        super().__init__()
        blocks, width = [], in_channels * n
        for out in (32, 32, 32):
            blocks += [nn.Conv2d(width, out, 3, 2, 1), nn.BatchNorm2d(out), nn.ReLU()]
            width = out
        self.net = nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(3), nn.Flatten(),
                                 nn.Linear(32 * 9, dim), nn.ReLU(), nn.Dropout(0.3),
                                 nn.Linear(dim, len(EMOTIONS)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x [B, n, C, H, W]
        return self.net(x.flatten(1, 2))


def _inputs(frames, events, modality: str) -> torch.Tensor:
    return torch.cat([frames, events], dim=2) if modality == "events+frames" else frames


def _batches(ds: SEEDataset, batch: int, rng: np.random.Generator | None):
    order = rng.permutation(len(ds)) if rng is not None else np.arange(len(ds))
    for i in range(0, len(order), batch):
        items = [ds[int(j)] for j in order[i:i + batch]]
        yield (torch.stack([it[0] for it in items]), torch.stack([it[1] for it in items]),
               torch.tensor([it[2] for it in items]))


def war_uar(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    war = float((pred == true).mean())
    recalls = [float((pred[true == c] == c).mean()) for c in np.unique(true)]
    return 100 * war, 100 * float(np.mean(recalls))


def train_eval(root: Path, clip: ClipSpec, modality: str, args) -> dict:
    torch.manual_seed(args.seed)
    train = SEEDataset(root, "train", clip, size=args.size, train=True, seed=args.seed)
    test = SEEDataset(root, "test", clip, size=args.size, train=False, seed=args.seed)
    model = ClipNet(3 if modality == "events+frames" else 1, clip.n)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.epochs)
    rng, t0 = np.random.default_rng(args.seed), time.time()
    for epoch in range(args.epochs):
        train.set_epoch(epoch)
        model.train()
        for frames, events, labels in _batches(train, args.batch, rng):
            loss = nn.functional.cross_entropy(model(_inputs(frames, events, modality)), labels)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    preds, trues = _evaluate(model, test, clip, modality, args)
    war, uar = war_uar(preds, trues)
    params = sum(p.numel() for p in model.parameters())
    return {"war": war, "uar": uar, "params": params, "seconds": time.time() - t0}


@torch.no_grad()
def _evaluate(model, test: SEEDataset, clip: ClipSpec, modality: str, args):
    model.eval()
    preds, trues = [], []
    if clip.n == 1:  # single frame: every frame of every test sequence
        for start in range(max(r.length for r in test.records)):
            keep = [i for i, r in enumerate(test.records) if r.length > start]
            for i in range(0, len(keep), 256):
                items = [test.item_at(j, start) for j in keep[i:i + 256]]
                frames = torch.stack([it[0] for it in items])
                events = torch.stack([it[1] for it in items])
                preds += model(_inputs(frames, events, modality)).argmax(1).tolist()
                trues += [it[2] for it in items]
        return np.array(preds), np.array(trues)
    for view in range(args.views):
        test.set_view(view)
        for frames, events, labels in _batches(test, 64, None):
            preds += model(_inputs(frames, events, modality)).argmax(1).tolist()
            trues += labels.tolist()
    return np.array(preds), np.array(trues)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=None, help="dataset (default: synthesize)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=48)
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 is fastest on a shared 2-core box)")
    parser.add_argument("--workers", type=int, default=2, help="processes for synthesis")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t_start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.data
        if root is None:
            root = synthesize(Path(tmp) / "synth", seed=args.seed, workers=args.workers)
            print(f"synthesized the default set in {time.time() - t_start:.1f} s")
        rows = [("(a) single frame", ClipSpec(1, 0), "frames"),
                ("(b) frames only", ClipSpec(4, 3), "frames"),
                ("(c) events + frames", ClipSpec(4, 3), "events+frames")]
        results = [(name, clip, mod, train_eval(root, clip, mod, args)) for name, clip, mod in rows]
    print(f"\nseed {args.seed}, {args.epochs} epochs, size {args.size}, {args.views} test views; "
          f"{platform.machine()}, {os.cpu_count()} CPUs, {args.threads} torch thread(s), "
          f"total {time.time() - t_start:.0f} s\n")
    print("| model | clip | input | WAR % | UAR % | params | train+eval s |")
    print("|---|---|---|---|---|---|---|")
    for name, clip, mod, r in results:
        print(f"| {name} | {clip} | {mod} | {r['war']:.1f} | {r['uar']:.1f} | {r['params']} "
              f"| {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()

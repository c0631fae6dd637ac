"""DSEE-style copy of a SEE-layout dataset: the event frames re-synthesized from the frames.

The MSKD paper also evaluates on DSEE, whose events are synthesized from the intensity
frames. This copies ``frame/``, ``annotation/`` (when present), ``split.json`` and
``dataset.json`` from SRC and writes ``event/`` anew: for every sequence, the event model of
the synthetic set (:data:`mskd.data.synth.EVENT_CAMERA`) runs on its 30 FPS frames
(interpolated to 240 Hz sub-steps, as :func:`mskd.data.eventize.eventize` does), so the
events carry no information the frames lack. Event frame 0 of each sequence is empty
(nothing precedes the first frame). The output is written atomically and is identical for
the same SRC and seed.

    .venv/bin/python scripts/dsee_copy.py SRC DST [--seed 0] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import zlib
from multiprocessing import get_context
from pathlib import Path

from mskd.clips import mix_seed
from mskd.data.eventize import eventize
from mskd.data.synth import EVENT_CAMERA
from mskd.errors import DataError, MskdError
from mskd.fsio import atomic_dir, write_json


def _one(job: tuple[Path, Path, int]) -> None:
    frames, out, seed = job
    eventize(frames, out, fps=30.0, seed=seed, config=EVENT_CAMERA)
    (out / "events.npz").unlink()  # the event frames are the dataset; keep it SEE-sized


def dsee_copy(src: Path, dst: Path, seed: int = 0, workers: int = 2) -> int:
    """Write the DSEE-style copy of ``src`` to ``dst``; returns the number of sequences."""
    if not (src / "frame").is_dir() or not (src / "split.json").is_file():
        raise DataError(f"{src}: not a SEE-layout dataset (needs frame/ and split.json)")
    if dst.exists():
        raise DataError(f"{dst}: already exists")
    sequences = sorted(p for p in (src / "frame").glob("*/*") if p.is_dir())
    with atomic_dir(dst) as tmp:
        shutil.copytree(src / "frame", tmp / "frame")
        shutil.copy(src / "split.json", tmp / "split.json")
        if (src / "annotation").is_dir():  # per-frame valence/arousal belong to the frames
            shutil.copytree(src / "annotation", tmp / "annotation")
        manifest = (json.loads((src / "dataset.json").read_text())
                    if (src / "dataset.json").is_file() else {})
        manifest["events"] = {"from": "frames (DSEE-style, scripts/dsee_copy.py)", "seed": seed,
                              "event_camera": EVENT_CAMERA.to_dict(), "fps": 30.0}
        write_json(tmp / "dataset.json", manifest)
        jobs = []
        for seq in sequences:
            rel = seq.relative_to(src / "frame")
            (tmp / "event" / rel.parent).mkdir(parents=True, exist_ok=True)
            jobs.append((seq, tmp / "event" / rel, mix_seed(seed, zlib.crc32(str(rel).encode()))))
        if workers > 1:
            with get_context("fork").Pool(workers) as pool:
                pool.map(_one, jobs)
        else:
            for job in jobs:
                _one(job)
    return len(sequences)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("src", type=Path)
    parser.add_argument("dst", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        n = dsee_copy(args.src, args.dst, args.seed, args.workers)
    except MskdError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.dst}: {n} sequences, events from frames")
    return 0


if __name__ == "__main__":
    sys.exit(main())

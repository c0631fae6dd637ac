"""Dataset clips encoded as a converted network's input: what ``deploy run --data``,
``deploy verify --data``, ``data encode`` and the demo's Lava check feed a backend.

The encoding is the one the converter stored in the ``.net`` file (root attribute
``mskd_encoding``, :mod:`mskd.net.encoding`): clip sampling, image size, input gain, steps per
frame. Clips are the evaluation views of SEEN (:class:`mskd.data.see.SEEDataset` with
``train=False``): view ``v`` fixes one seeded start per sequence; ``views`` = K gives views
``0..K-1``, view-major (every sequence of view 0, then of view 1, ...), and ``limit`` keeps
the first clips of that order.

>>> order = clip_order(n_sequences=3, views=2, limit=4)
>>> order
[(0, 0), (0, 1), (0, 2), (1, 0)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mskd.errors import ConfigError, NetError

SPLITS = ("train", "test")


def clip_order(n_sequences: int, views: int, limit: int | None) -> list[tuple[int, int]]:
    """``(view, sequence index)`` of each clip, view-major, at most ``limit`` of them."""
    order = [(v, i) for v in range(views) for i in range(n_sequences)]
    return order if limit is None else order[:limit]


@dataclass(frozen=True)
class EncodedClips:
    """Encoded clips ``x`` ``[B, T, *input_shape]`` (int64 bias mantissas), their labels
    ``[B]`` (a dimensional network: per-frame valence/arousal ``[B, n, 2]``, or None without
    annotations), one dict per clip (sequence, view, start, emotion, lighting) and the encoding."""

    x: object  # numpy int64 array
    labels: object  # numpy int64 array
    clips: list[dict]
    encoding: object  # mskd.net.encoding.InputEncoding
    source: str

    def describe(self) -> str:
        """'2 test clips of data/see (view 0, E4-S3) as bias mantissas'."""
        n = len(self.clips)
        text = self.source if n != 1 else self.source.replace(" clips of ", " clip of ", 1)
        return f"{n} {text} as {self.encoding.input_name}"


def _dataset(net: str | Path, root: str | Path, split: str, seed: int):
    from mskd.data.see import SEEDataset
    from mskd.net.encoding import read_encoding

    if split not in SPLITS:
        raise ConfigError(f"--split {split!r}: choose from {', '.join(SPLITS)}")
    try:
        enc = read_encoding(net)
    except NetError as exc:
        raise NetError(f"{exc}; --data needs it to encode clips (give --input X.npy "
                       "encoded yourself instead)") from None
    from mskd.data.affect import ANNOTATION_DIR

    # a dimensional network's clips come with their per-frame annotations when the dataset
    # has them (to score the predictions); without, the network still runs
    va = enc.task == "dimensional" and (Path(root) / ANNOTATION_DIR).is_dir()
    ds = SEEDataset(root, split, clip=enc.clip, size=enc.size, train=False, seed=seed,
                    dense=enc.dense, targets="va" if va else "class")
    if len(ds) == 0:
        raise ConfigError(f"{root}: the {split} split is empty")
    return ds, enc


def _check(views: int, limit: int | None) -> None:
    if views < 1:
        raise ConfigError(f"--views {views} must be >= 1")
    if limit is not None and limit < 1:
        raise ConfigError(f"--limit {limit} must be >= 1")


def iter_encoded(net: str | Path, root: str | Path, split: str = "test", views: int = 1,
                 limit: int | None = None, seed: int = 0, batch_size: int = 32,
                 ) -> tuple[Iterator[tuple], int, object]:
    """``(batches, n, encoding)``: ``batches`` yields ``(x [b, T, ...] int64 tensor,
    labels [b] tensor, clip dicts)`` over the first ``n`` clips, encoded as ``net`` says.
    For a dimensional network the labels are the per-frame valence/arousal ``[b, n, 2]``,
    or None when the dataset has no annotations."""
    import torch

    from mskd.net.encoding import encode_frames

    _check(views, limit)
    ds, enc = _dataset(net, root, split, seed)
    order = clip_order(len(ds), views, limit)

    def batches():
        for k in range(0, len(order), batch_size):
            frames, labels, clips = [], [], []
            for view, i in order[k:k + batch_size]:
                ds.set_view(view)
                f, _, label, meta = ds[i]
                frames.append(f)
                labels.append(meta["va"] if "va" in meta else label)
                clips.append({"sequence": meta["sequence"], "view": view,
                              "start": meta["start"], "emotion": meta["emotion"],
                              "lighting": meta["lighting"], "label": int(label)})
            if enc.task == "dimensional":
                y = torch.stack(labels) if torch.is_tensor(labels[0]) else None
            else:
                y = torch.tensor(labels)
            yield encode_frames(torch.stack(frames), enc), y, clips

    return batches(), len(order), enc


def encode_clips(net: str | Path, root: str | Path, split: str = "test", views: int = 1,
                 limit: int | None = None, seed: int = 0) -> EncodedClips:
    """Every selected clip at once (see the module docstring); a net without a stored
    encoding is a one-line NetError."""
    import numpy as np

    batches, n, enc = iter_encoded(net, root, split, views, limit, seed)
    xs, labels, clips = [], [], []
    for x, y, c in batches:
        xs.append(x.numpy())
        if y is not None:
            labels.append(y.numpy())
        clips += c
    view_text = "view 0" if views == 1 else f"views 0-{views - 1}"
    source = f"{split} clips of {root} ({view_text}, {enc.clip})"
    return EncodedClips(np.concatenate(xs), np.concatenate(labels) if labels else None, clips,
                        enc, source)


def save_encoded(clips: EncodedClips, out: str | Path) -> tuple[Path, Path]:
    """Write ``out`` (``.npy``, int16: bias mantissas fit 13 bits) and beside it
    ``<out stem>.clips.json`` (encoding, classes and one record per clip), atomically."""
    import io
    import json

    import numpy as np

    from mskd.fsio import write_bytes, write_json

    out = Path(out)
    if out.suffix != ".npy":
        raise ConfigError(f"--out {out}: expected a .npy file name")
    buf = io.BytesIO()
    np.save(buf, clips.x.astype(np.int16), allow_pickle=False)
    meta = out.with_name(out.stem + ".clips.json")
    write_bytes(out, buf.getvalue())
    write_json(meta, {"source": clips.source, "shape": list(clips.x.shape),
                      "layout": "[clip, step, channel, height, width] "
                      + clips.encoding.input_name,
                      "encoding": json.loads(clips.encoding.to_json()),
                      "classes": list(clips.encoding.classes), "clips": clips.clips})
    return out, meta

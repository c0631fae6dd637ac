"""Per-frame valence and arousal (dimensional affect): derived for the synthetic set, read
from a user's annotation files for a real one.

Layout (one CSV per sequence, as RECOLA and Aff-Wild2 annotate per frame)::

    ROOT/annotation/<emotion>/<sequence>.csv      frame,valence,arousal
                                                  0,0.12,-0.30
                                                  1,0.15,-0.28 ...

Rules: a header row ``frame,valence,arousal`` (any order, case-insensitive), one row per
frame ``0 .. length - 1`` of the sequence (each exactly once, any order), values finite and
in ``[-1, 1]``. Every violation is a :class:`~mskd.errors.DataError` naming the file and
the row.

Synthetic labels (:func:`synthetic_affect`), derived from what is rendered, per 30 FPS
frame (the same exposure window as the frame):

* each class has a region of the valence-arousal plane, centred at :data:`VA_CENTERS`
  (after Russell's circumplex: happiness pleasant and mildly aroused, sadness unpleasant
  and calm, anger and fear unpleasant and aroused, surprise aroused, neutral near 0);
* ``e(t)`` = the slow expression's envelope (its amplitude x raised-cosine bumps, 0 for
  neutral), visible at 30 FPS; ``f(t)`` = the fast component's activity (twitch or
  saccade magnitude averaged over 150 ms, a train at amplitude 1 averaging 1), mostly
  lost in the exposure and clear in events;
* ``valence = v_c (0.35 + 0.65 e) + o_v`` and
  ``arousal = a_c + g (0.45 e + 0.35 f - 0.3) + o_a``, clipped to [-1, 1], where ``g``
  (0.7 .. 1.3) is the subject's expressiveness and ``o_v``, ``o_a`` are a subject offset
  (+-0.15) plus a sequence offset (+-0.1).

So both dimensions move within a sequence with the expression's intensity and speed, and
they are not a function of the class alone. The draws come from their own generator
(seeded by dataset seed and subject), so the frames and events are unchanged.

>>> import numpy as np
>>> rows = np.array([[0.1, -0.2], [0.3, 0.4]])
>>> print(format_csv(rows), end="")
frame,valence,arousal
0,0.1000,-0.2000
1,0.3000,0.4000
>>> parse_csv(format_csv(rows), 2, "x.csv").astype(float).round(4).tolist()
[[0.1, -0.2], [0.3, 0.4]]
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from mskd.clips import mix_seed
from mskd.errors import DataError
from mskd.labels import DIMENSIONS

ANNOTATION_DIR = "annotation"
#: Centre of each class's region of the valence-arousal plane.
VA_CENTERS: dict[str, tuple[float, float]] = {
    "happiness": (0.70, 0.30), "sadness": (-0.60, -0.45), "anger": (-0.55, 0.50),
    "disgust": (-0.65, 0.15), "surprise": (0.25, 0.70), "fear": (-0.60, 0.50),
    "neutral": (0.00, 0.00),
}
_FAST_WINDOW_S = 0.15
_AFFECT_STREAM = 2**30 + 17  # seed part of the label draws (apart from the render's)


def subject_affect(seed: int, subject: int, sequences: int) -> tuple[float, float, np.ndarray]:
    """``(g, subject offset of valence, [sequences, 2] offsets)`` of one synthetic subject;
    the returned offsets already include the subject's own (valence, arousal) offset."""
    rng = np.random.default_rng(mix_seed(seed, subject, _AFFECT_STREAM))
    gain = float(rng.uniform(0.7, 1.3))
    subj = rng.uniform(-0.15, 0.15, 2)
    return gain, float(subj[0]), subj + rng.uniform(-0.1, 0.1, (sequences, 2))


def synthetic_affect(emotion: str, parts: dict, rate_hz: float, frame_sub: int,
                     length: int, gain: float, offset: np.ndarray) -> np.ndarray:
    """``[length, 2]`` valence and arousal per frame from the rendered components ``parts``
    (:func:`mskd.data.expressions.expression`), frame ``k`` = the mean over sub-frames
    ``1 + frame_sub (k + 1) ..`` (the synthetic set's exposure of frame k)."""
    slow = np.clip(parts["slow"], 0.0, 1.0)
    win = max(1, int(round(_FAST_WINDOW_S * rate_hz)))
    fast = np.convolve(parts["fast"], np.ones(win) / win, mode="same")
    fast = np.clip(fast, 0.0, 1.5)
    v_c, a_c = VA_CENTERS[emotion]
    valence = v_c * (0.35 + 0.65 * slow) + offset[0]
    arousal = a_c + gain * (0.45 * slow + 0.35 * fast - 0.3) + offset[1]
    va = np.stack([valence, arousal], axis=1)
    va = va[1:1 + frame_sub * (length + 1)].reshape(length + 1, frame_sub, 2).mean(1)[1:]
    return np.clip(va, -1.0, 1.0)


def format_csv(va: np.ndarray) -> str:
    """The annotation file of one sequence (4 decimals)."""
    lines = ["frame,valence,arousal"]
    lines += [f"{k},{v:.4f},{a:.4f}" for k, (v, a) in enumerate(np.asarray(va, float))]
    return "\n".join(lines) + "\n"


def annotation_path(root: str | Path, key: str) -> Path:
    """Where the annotation of sequence ``<emotion>/<sequence>`` lives."""
    return Path(root) / ANNOTATION_DIR / f"{key}.csv"


MAX_ANNOTATION_BYTES = 1 << 22


def read_annotation(path: str | Path, length: int) -> np.ndarray:
    """``[length, 2]`` float32 (valence, arousal) per frame of a sequence's CSV."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: annotation missing (dimensional training needs one CSV "
                        "per sequence: frame,valence,arousal)")
    if path.stat().st_size > MAX_ANNOTATION_BYTES:
        raise DataError(f"{path}: {path.stat().st_size} bytes, more than an annotation of "
                        f"{length} frames can hold")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read annotation ({exc.__class__.__name__})") from None
    return parse_csv(text, length, str(path))


def parse_csv(text: str, length: int, where: str) -> np.ndarray:
    """Parse and check one annotation (see the module docstring for the rules)."""
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{where}: empty annotation (expected a header frame,valence,arousal)")
    header = [c.strip().lower() for c in rows[0]]
    missing = [c for c in ("frame", *DIMENSIONS) if c not in header]
    if missing:
        raise DataError(f"{where}: header {rows[0]!r} lacks column(s) {', '.join(missing)} "
                        "(expected frame,valence,arousal)")
    col = {c: header.index(c) for c in ("frame", *DIMENSIONS)}
    out = np.full((length, 2), np.nan, dtype=np.float64)
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise DataError(f"{where}: row {line} has {len(row)} fields, the header {len(header)}")
        try:
            frame = int(row[col["frame"]].strip())
        except ValueError:
            raise DataError(f"{where}: row {line}: frame {row[col['frame']]!r} is not an "
                            "integer") from None
        if not 0 <= frame < length:
            raise DataError(f"{where}: row {line}: frame {frame} outside 0..{length - 1} "
                            f"(the sequence has {length} frames)")
        if not math.isnan(out[frame, 0]):
            raise DataError(f"{where}: row {line}: frame {frame} annotated twice")
        for d, name in enumerate(DIMENSIONS):
            cell = row[col[name]].strip()
            try:
                value = float(cell)
            except ValueError:
                raise DataError(f"{where}: row {line}: {name} {cell!r} is not a number") from None
            if not -1.0 <= value <= 1.0:  # also refuses nan and inf
                raise DataError(f"{where}: row {line}: {name} {cell} outside [-1, 1]")
            out[frame, d] = value
    absent = np.flatnonzero(np.isnan(out[:, 0]))
    if absent.size:
        shown = ", ".join(str(int(k)) for k in absent[:5]) + (" ..." if absent.size > 5 else "")
        raise DataError(f"{where}: {absent.size} of {length} frames not annotated "
                        f"(frame {shown})")
    return out.astype(np.float32)

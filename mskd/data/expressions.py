"""Temporal patterns of the synthetic single-eye expressions (eyelid, brow and gaze motion).

Every class is built from components sampled at the render rate (240 Hz):

* **Slow component** (visible at 30 FPS, shared by a pair of classes): raised-cosine bumps
  ``b(t) = sum_k 0.5 (1 + cos(2 pi (t - c_k) / w))`` for ``|t - c_k| < w / 2``, width
  ``w`` in 0.25-0.40 s, period 0.45-0.75 s, random phase, per-sequence amplitude jitter.
  ``raise``: brow up and upper lid wider; ``squint``: upper lid down and lower lid (cheek)
  up; ``frown``: brow down and tilted inward.
* **Fast component** (brief, mostly averaged out at 30 FPS, clear in events), repeating
  every 80-150 ms: ``twitch``: the upper lid dips by ``A`` for 8-12 ms (triangular);
  ``saccade``: the gaze jumps sideways by ``A`` for 8-12 ms and back (a saccade pair).
  The order of the two moves inside a saccade pair is random, so it carries no class.
* **Distractors** (not tied to the class): slow static offsets of every parameter, a slow
  gaze wander, and full blinks in about half of the sequences.

The 7 classes are pairs of (slow, fast) components::

    happiness squint+twitch   disgust squint+saccade   surprise raise+twitch
    fear      raise+saccade   anger   frown+saccade    sadness  frown+twitch
    neutral   (none)

So a single frame sees only a random phase of the motion, 30 FPS clips see the slow
component (which tells the pair), and events see the fast component (which tells the
member of the pair). Amplitudes and rates jitter per sequence so the task is not saturated.

>>> import numpy as np
>>> traj = expression("surprise", n=96, rate_hz=240.0, rng=np.random.default_rng(0))
>>> sorted(traj), traj["lid"].shape
(['brow', 'cheek', 'gaze_x', 'gaze_y', 'lid', 'tilt'], (96,))
"""

from __future__ import annotations

import numpy as np

from mskd.data.naming import EMOTIONS

#: (slow component, fast component) of each class.
PATTERNS: dict[str, tuple[str | None, str | None]] = {
    "happiness": ("squint", "twitch"), "disgust": ("squint", "saccade"),
    "surprise": ("raise", "twitch"), "fear": ("raise", "saccade"),
    "anger": ("frown", "saccade"), "sadness": ("frown", "twitch"),
    "neutral": (None, None),
}
if set(PATTERNS) != set(EMOTIONS):  # pragma: no cover - a broken edit of PATTERNS
    raise RuntimeError("expressions.PATTERNS must cover every class of EMOTIONS")

PARAMETERS = ("lid", "cheek", "brow", "tilt", "gaze_x", "gaze_y")


def class_pairs() -> list[int]:
    """Pair number of every class in :data:`EMOTIONS` order: classes that share the slow
    motion (what 30 FPS frames show) share a number; a class with none gets its own.

    >>> class_pairs()  # happiness sadness anger disgust surprise fear neutral
    [0, 1, 1, 0, 2, 2, 3]
    """
    slow = [PATTERNS[e][0] or e for e in EMOTIONS]
    first = {}
    for s in slow:
        first.setdefault(s, len(first))
    return [first[s] for s in slow]


def bumps(t: np.ndarray, rng: np.random.Generator, period: tuple[float, float],
          width: tuple[float, float]) -> np.ndarray:
    """Raised-cosine bump train in [0, 1] with jittered period, width and phase."""
    out = np.zeros_like(t)
    center = -rng.uniform(0.0, period[1])
    while center < t[-1] + width[1]:
        w = rng.uniform(*width)
        near = np.abs(t - center) < w / 2
        out[near] += 0.5 * (1.0 + np.cos(2 * np.pi * (t[near] - center) / w))
        center += rng.uniform(*period)
    return np.minimum(out, 1.0)


def pulses(t: np.ndarray, rng: np.random.Generator, interval: tuple[float, float],
           duration: tuple[float, float], signed: bool) -> np.ndarray:
    """Brief pulses: triangles (``signed=False``) or +A/-A box pairs (a saccade and back)."""
    out = np.zeros_like(t)
    center = rng.uniform(0.0, interval[1])
    while center < t[-1] + duration[1]:
        d = rng.uniform(*duration)
        rel = (t - center) / d
        if signed:
            sign = rng.choice([-1.0, 1.0])
            out += sign * ((rel >= -0.5) & (rel < 0.0)) - sign * ((rel >= 0.0) & (rel < 0.5))
        else:
            out += np.clip(1.0 - 2.0 * np.abs(rel), 0.0, None)
        center += rng.uniform(*interval)
    return out


def _distractors(t: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Class-independent parts: static offsets, slow gaze wander and blinks."""
    n = len(t)
    wander = np.cumsum(rng.standard_normal((2, n)), axis=1)
    wander = wander - wander.mean(axis=1, keepdims=True)
    wander *= rng.uniform(0.05, 0.2) / max(1e-6, float(np.abs(wander).max()))
    traj = {
        "lid": np.full(n, rng.uniform(0.6, 0.95)), "cheek": np.full(n, rng.uniform(0.0, 0.25)),
        "brow": np.full(n, rng.uniform(-0.09, 0.09)), "tilt": np.full(n, rng.uniform(-0.08, 0.08)),
        "gaze_x": rng.uniform(-0.35, 0.35) + wander[0],
        "gaze_y": rng.uniform(-0.3, 0.3) + wander[1],
    }
    if rng.random() < 0.5:  # distractor blinks: close in ~50 ms, open in ~100 ms
        blink = np.zeros(n)
        for center in rng.uniform(t[0], t[-1], rng.integers(1, 3)):
            rel = t - center
            blink = np.maximum(blink, np.where(rel < 0, np.clip(1 + rel / 0.05, 0, 1),
                                               np.clip(1 - (rel - 0.03) / 0.1, 0, 1)))
        traj["lid"] = traj["lid"] * (1.0 - np.minimum(blink, 1.0))
    return traj


def _add_slow(traj, kind, t, rng, parts: dict | None = None) -> None:
    b = bumps(t, rng, period=(0.45, 0.75), width=(0.25, 0.40))
    amp = rng.uniform(0.6, 1.2)
    if parts is not None and kind is not None:
        parts["slow"] = amp * b
    if kind == "raise":
        traj["brow"] += 0.16 * amp * b
        traj["lid"] += 0.30 * amp * b
    elif kind == "squint":
        traj["lid"] -= 0.40 * amp * b
        traj["cheek"] += 0.40 * amp * b
    elif kind == "frown":
        traj["brow"] -= 0.14 * amp * b
        traj["tilt"] += 0.20 * amp * b


# mean |pulses| of a fast train: twitch = triangles of 10 ms every 115 ms (0.5 x 10 / 115),
# saccade = a +-A box pair of 20 ms every 115 ms (20 / 115)
_FAST_MEAN = {"twitch": 0.043, "saccade": 0.174}


def _add_fast(traj, kind, t, rng, parts: dict | None = None) -> None:
    amp = rng.uniform(0.35, 1.0)
    p = None
    if kind == "twitch":
        p = pulses(t, rng, (0.08, 0.15), (0.008, 0.012), signed=False)
        traj["lid"] -= 0.30 * amp * p
    elif kind == "saccade":
        p = pulses(t, rng, (0.08, 0.15), (0.016, 0.024), signed=True)
        traj["gaze_x"] += 0.30 * amp * p
    if parts is not None:  # |pulses| / its mean over a train: a train at amp 1 averages 1
        full = _FAST_MEAN[kind] if kind is not None else 1.0
        parts["fast"] = amp * np.abs(p) / full if p is not None else np.zeros_like(t)


def expression(emotion: str, n: int, rate_hz: float, rng: np.random.Generator,
               parts: dict | None = None) -> dict:
    """Parameter trajectories ``{name: [n]}`` of one sequence of class ``emotion``.

    ``parts``, when given, receives the class components as rendered (no extra random
    draws, so the trajectories are the same either way): ``"slow"`` = the slow component's
    envelope ``amp b(t)`` (0 for neutral) and ``"fast"`` = the fast component's magnitude
    ``amp |pulses(t)|`` (what :mod:`mskd.data.affect` derives valence and arousal from)."""
    t = np.arange(n) / rate_hz
    traj = _distractors(t, rng)
    slow, fast = PATTERNS[emotion]
    if parts is not None:
        parts["slow"] = np.zeros_like(t)
    _add_slow(traj, slow, t, rng, parts)
    _add_fast(traj, fast, t, rng, parts)
    traj["lid"] = np.clip(traj["lid"], 0.0, 1.2)
    traj["cheek"] = np.clip(traj["cheek"], 0.0, 0.7)
    return traj

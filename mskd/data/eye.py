"""Procedural right-eye renderer: sclera, iris, pupil, eyelids, lashes, brow and skin.

Image coordinates ``u, v`` run over [-1, 1] (v downwards); the eye centre is at
``(0, CY)``. With ``q(u) = max(0, 1 - (u / a)^2)`` (``a`` = eye half-width):

* lower lid   ``y_low(u) = CY + b_low (1 - cheek) q(u)``
* upper lid   ``y_up(u)  = y_low(u) - (b_up + b_low (1 - cheek)) lid q(u)``
  (``lid = 1`` open, ``lid = 0`` closed on the lower lid);
* iris / pupil: discs of radius ``r_iris`` / ``r_pupil`` at
  ``(0.45 a gaze_x, CY + 0.35 b_up gaze_y)``;
* brow: a band of half-thickness ``t_brow`` around
  ``y_brow(u) = CY - b_up - 0.30 - brow + 0.25 u^2 + tilt u``.

Edges are linear ramps one pixel wide (``ramp(z) = clip(0.5 + z / px, 0, 1)``), so motion
changes pixel values smoothly, as optics would. Everything is vectorised over time and
pixels. :func:`light` then applies one of the four SEE lighting conditions:

* normal: ``g I``, ``g`` in 0.9-1.1; overexposure: ``min(1, g I + 0.1)``, ``g`` in 1.4-1.9;
* low-light: ``g I`` with ``g`` in 0.15-0.25 (dark; sensor noise now matters);
* HDR: ``min(1, I exp(k (u cos(phi) + v sin(phi))))``, ``k`` in 1.3-1.8 (a strong gradient).

Gaussian sensor noise (fresh per rendered sub-frame) is added last, then values are clipped
to [0, 1].

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> subject = Subject.sample(rng)
>>> traj = {k: np.zeros(2) for k in ("cheek", "brow", "tilt", "gaze_x", "gaze_y")}
>>> traj["lid"] = np.array([1.0, 0.0])
>>> video = render(subject, traj, size=24)
>>> video.shape, bool(video.min() >= 0 and video.max() <= 1)
((2, 24, 24), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CY = 0.12  # eye centre height in image coordinates


@dataclass(frozen=True)
class Subject:
    """Per-subject appearance."""

    half_width: float  # a
    b_up: float
    b_low: float
    r_iris: float
    iris_tone: float
    skin_tone: float
    brow_thickness: float
    texture_seed: int

    @classmethod
    def sample(cls, rng: np.random.Generator) -> Subject:
        return cls(half_width=rng.uniform(0.55, 0.72), b_up=rng.uniform(0.26, 0.36),
                   b_low=rng.uniform(0.12, 0.18), r_iris=rng.uniform(0.2, 0.27),
                   iris_tone=rng.uniform(0.12, 0.5), skin_tone=rng.uniform(0.45, 0.8),
                   brow_thickness=rng.uniform(0.05, 0.1), texture_seed=int(rng.integers(2**31)))


def _ramp(z: np.ndarray, px: float) -> np.ndarray:
    return np.clip(0.5 + z / px, 0.0, 1.0)


def _skin(subject: Subject, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Static skin: tone x (low-frequency shading + pores)."""
    rng = np.random.default_rng(subject.texture_seed)
    shade = np.zeros_like(u)
    for _ in range(4):
        fx, fy, ph = rng.uniform(0.5, 3.0), rng.uniform(0.5, 3.0), rng.uniform(0, 2 * np.pi)
        shade += 0.04 * np.sin(np.pi * (fx * u + fy * v) + ph)
    pores = 0.03 * rng.standard_normal(u.shape)
    return subject.skin_tone * (1.0 + shade + pores)


def render(subject: Subject, traj: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Noise-free intensity video ``[T, size, size]`` in [0, 1] for trajectories ``[T]``."""
    axis = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    v, u = np.meshgrid(axis, axis, indexing="ij")
    px = 2.0 / size
    p = {k: np.asarray(traj[k], dtype=np.float64)[:, None, None] for k in traj}
    a = subject.half_width
    q = np.clip(1.0 - (u / a) ** 2, 0.0, None)[None]
    low = CY + subject.b_low * (1.0 - p["cheek"]) * q
    up = low - (subject.b_up + subject.b_low * (1.0 - p["cheek"])) * p["lid"] * q
    opening = _ramp(v - up, px) * _ramp(low - v, px) * _ramp(a - np.abs(u), px)[None]
    ix, iy = 0.45 * a * p["gaze_x"], CY + 0.35 * subject.b_up * p["gaze_y"]
    dist = np.sqrt((u - ix) ** 2 + (v - iy) ** 2)
    iris = _ramp(subject.r_iris - dist, px)
    pupil = _ramp(0.45 * subject.r_iris - dist, px)
    glint = _ramp(0.06 - np.sqrt((u - ix - 0.08) ** 2 + (v - iy + 0.08) ** 2), px)
    eyeball = 0.85 - 0.25 * (u / a) ** 2
    eyeball = eyeball * (1 - iris) + subject.iris_tone * iris * (1 - pupil) + 0.04 * pupil
    eyeball = np.maximum(eyeball, 0.95 * glint)
    skin = _skin(subject, u, v)[None]
    lashes = np.exp(-(((v - up) + 0.02) / 0.035) ** 2) * (q > 0)
    crease = np.exp(-((v - (up - 0.16)) / 0.03) ** 2) * (q > 0)
    skin = skin * (1.0 - 0.75 * lashes - 0.2 * crease)
    y_brow = CY - subject.b_up - 0.30 - p["brow"] + 0.25 * u**2 + p["tilt"] * u
    brow = _ramp(subject.brow_thickness - np.abs(v - y_brow), px) * _ramp(0.85 - np.abs(u), px)
    skin = skin * (1.0 - 0.65 * brow)
    return np.clip(skin * (1.0 - opening) + eyeball * opening, 0.0, 1.0)


@dataclass(frozen=True)
class Lighting:
    """One lighting condition: gain, offset, gradient strength/direction, noise sigma."""

    gain: float
    offset: float
    gradient: float
    angle: float
    noise: float

    @classmethod
    def sample(cls, name: str, rng: np.random.Generator) -> Lighting:
        angle = rng.uniform(0, 2 * np.pi)
        if name == "normal":
            return cls(rng.uniform(0.9, 1.1), 0.0, 0.0, angle, 0.004)
        if name == "overexposure":
            return cls(rng.uniform(1.4, 1.9), 0.1, 0.0, angle, 0.004)
        if name == "low-light":
            return cls(rng.uniform(0.15, 0.25), 0.0, 0.0, angle, 0.0025)
        if name == "HDR":
            return cls(1.0, 0.0, rng.uniform(1.3, 1.8), angle, 0.004)
        raise ValueError(f"unknown lighting {name!r}")


def light(video: np.ndarray, lighting: Lighting, rng: np.random.Generator) -> np.ndarray:
    """Apply a lighting condition and fresh per-sub-frame sensor noise; clip to [0, 1]."""
    size = video.shape[-1]
    axis = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    v, u = np.meshgrid(axis, axis, indexing="ij")
    field = np.exp(lighting.gradient * (u * np.cos(lighting.angle) + v * np.sin(lighting.angle)))
    out = video * lighting.gain * field + lighting.offset
    out = out + lighting.noise * rng.standard_normal(video.shape)
    return np.clip(out, 0.0, 1.0)

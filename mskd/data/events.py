"""Event-camera model (DVS emulator in the style of v2e / ESIM): intensity video -> events.

Model, per pixel ``(x, y)``, with intensity ``I`` in [0, 1] read as ``D = 255 I`` digital
numbers:

1. **Lin-log response** (v2e): ``L = log(D)`` for ``D >= D0`` and ``L = D log(D0) / D0``
   below, ``D0 = linlog_threshold``, so black pixels do not produce infinite contrast.
2. **Temporal up-sampling**: between input frames at ``t_a`` and ``t_b``, ``m =
   ceil((t_b - t_a) upsample_rate_hz)`` sub-steps interpolate ``L`` linearly
   (``L_j = L_a + (L_b - L_a) j / m``).
3. **Contrast thresholds with mismatch**: ``C+_xy = max(C_min, C+ + sigma N(0, 1))``,
   ``C-_xy`` likewise, drawn once per simulation from the seeded generator.
4. **Events**: with the memorised reference ``R_xy``, a sub-step of length ``dt`` with
   ``Delta = L_j - R`` emits ``n = floor(Delta / C+)`` ON events if ``Delta > 0`` (``n =
   floor(-Delta / C-)`` OFF events if negative). Event ``i`` (0-based) is stamped at the
   linear crossing time ``t_prev + dt (i + 1) C / |Delta|`` and ``R`` moves by ``n C``.
5. **Refractory period**: an event closer than ``refractory_us`` to the pixel's previous
   event is dropped (its change is lost, as on a DVS pixel held in reset), so a pixel emits
   at most ``T / refractory + 1`` events in a span ``T``.
6. **Leak events**: ``R`` decays by ``leak_rate_hz C+ dt`` per sub-step, so a static pixel
   emits ON events at about ``leak_rate_hz`` (a random initial phase in ``[0, C+)``
   desynchronises pixels).
7. **Shot noise**: each sub-step a pixel emits a noise event of random polarity with
   probability ``shot_noise_rate_hz dt``; it does not move ``R``.

Events are ``(t [us], x, y, p)`` with ``p = +1`` ON (brighter) and ``p = -1`` OFF (darker).
:func:`accumulate` bins them into one ON/OFF count frame per intensity frame: frame ``k``
collects events with ``t_k - window < t <= t_k`` (the 33 ms ending at frame ``k`` at 30 FPS).

>>> import numpy as np
>>> video = np.full((3, 2, 2), 0.2); video[2] = 0.2 * np.exp(0.5)  # brighter by 0.5 log
>>> cfg = EventCameraConfig(threshold_sigma=0.0, refractory_us=0.0, upsample_rate_hz=100.0)
>>> stream = simulate(video, np.array([0, 33_333, 66_667]), cfg, seed=0)
>>> on, off = accumulate(stream, np.array([0, 33_333, 66_667]), (2, 2), 33_333)
>>> on[2].tolist(), int(off.sum())  # floor(0.5 / 0.2) = 2 ON events per pixel
([[2, 2], [2, 2]], 0)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class EventCameraConfig:
    """DVS parameters; thresholds in log-intensity units, rates per pixel."""

    pos_threshold: float = 0.2  # C+
    neg_threshold: float = 0.2  # C-
    threshold_sigma: float = 0.03  # per-pixel Gaussian mismatch of C+ and C-
    min_threshold: float = 0.01  # C_min: floor after mismatch
    refractory_us: float = 500.0
    leak_rate_hz: float = 0.0
    shot_noise_rate_hz: float = 0.0
    upsample_rate_hz: float = 1000.0  # internal sub-step rate
    linlog_threshold: float = 20.0  # D0 in digital numbers (0..255)

    def __post_init__(self) -> None:
        positive = ("pos_threshold", "neg_threshold", "min_threshold", "upsample_rate_hz",
                    "linlog_threshold")
        for name in positive:
            if not math.isfinite(getattr(self, name)) or getattr(self, name) <= 0:
                raise ValueError(f"EventCameraConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("threshold_sigma", "refractory_us", "leak_rate_hz", "shot_noise_rate_hz"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"EventCameraConfig.{name} must be >= 0, got {value}")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EventStream:
    """Events sorted by time: ``t`` in microseconds (int64), ``x``, ``y``, ``p`` in {+1, -1}."""

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    p: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def linlog(intensity: np.ndarray, d0: float = 20.0) -> np.ndarray:
    """Lin-log response of intensity in [0, 1] (see step 1 of the module docstring)."""
    d = np.asarray(intensity, dtype=np.float64) * 255.0
    return np.where(d >= d0, np.log(np.maximum(d, d0)), d * (math.log(d0) / d0))


class _Pixels:
    """Per-pixel state of the emulator: thresholds, reference level, last event time."""

    def __init__(self, first: np.ndarray, cfg: EventCameraConfig, rng: np.random.Generator):
        shape = first.shape
        self.c_on = np.maximum(cfg.min_threshold, cfg.pos_threshold
                               + cfg.threshold_sigma * rng.standard_normal(shape))
        self.c_off = np.maximum(cfg.min_threshold, cfg.neg_threshold
                                + cfg.threshold_sigma * rng.standard_normal(shape))
        self.ref = first.copy()
        if cfg.leak_rate_hz > 0:
            self.ref -= rng.uniform(0.0, 1.0, shape) * self.c_on
        self.last_t = np.full(shape, -np.inf)


def _crossings(delta, c, t0, dt, last_t, refractory):
    """Events of one polarity in one sub-step: (flat pixel index, time), refractory applied."""
    n = np.floor(np.maximum(delta, 0.0) / c).astype(np.int64)
    pix = np.flatnonzero(n)
    if pix.size == 0:
        return pix, np.empty(0), n
    n_p, spacing = n.flat[pix], (dt * c.flat[pix] / delta.flat[pix])
    first = t0 + spacing  # time of crossing i = 0
    if refractory > 0:
        i0 = np.maximum(0, np.ceil((last_t.flat[pix] + refractory - first) / spacing - 1e-9))
        stride = np.maximum(1, np.ceil(refractory / spacing - 1e-9))
    else:
        i0, stride = np.zeros(pix.size), np.ones(pix.size)
    kept = np.maximum(0, np.ceil((n_p - i0) / stride)).astype(np.int64)
    rep = np.repeat(np.arange(pix.size), kept)
    within = np.arange(rep.size) - np.repeat(np.cumsum(kept) - kept, kept)
    times = first[rep] + spacing[rep] * (i0[rep] + stride[rep] * within)
    return pix[rep], times, n


def _substep(state: _Pixels, level, t0, dt, cfg, rng, out) -> None:
    """Advance every pixel by one sub-step ending at ``t0 + dt`` (us); append events."""
    if cfg.leak_rate_hz > 0:
        state.ref -= cfg.leak_rate_hz * state.c_on * dt * 1e-6
    delta = level - state.ref
    for sign, d, c in ((1, delta, state.c_on), (-1, -delta, state.c_off)):
        pix, times, n = _crossings(d, c, t0, dt, state.last_t, cfg.refractory_us)
        state.ref += sign * n * c
        if pix.size:
            state.last_t.flat[pix] = times  # later events of a pixel overwrite earlier ones
            out.append((times, pix, np.full(pix.size, sign, np.int8)))
    if cfg.shot_noise_rate_hz > 0:
        hit = np.flatnonzero(rng.random(level.shape) < cfg.shot_noise_rate_hz * dt * 1e-6)
        if hit.size:
            out.append((t0 + dt * rng.random(hit.size), hit,
                        rng.choice(np.array([1, -1], np.int8), hit.size)))


def simulate(video: np.ndarray, times_us: np.ndarray, config: EventCameraConfig | None = None,
             seed: int = 0) -> EventStream:
    """Events of a video ``[T, H, W]`` (intensity in [0, 1]) sampled at ``times_us``."""
    cfg = config or EventCameraConfig()
    video, times = np.asarray(video), np.asarray(times_us, dtype=np.float64)
    if video.ndim != 3 or len(times) != len(video) or np.any(np.diff(times) <= 0):
        raise ValueError("simulate needs video [T, H, W] and strictly increasing times [T]")
    rng = np.random.default_rng(seed)
    level_b = linlog(video[0], cfg.linlog_threshold)
    state, out = _Pixels(level_b, cfg, rng), []
    for k in range(len(video) - 1):
        level_a, level_b = level_b, linlog(video[k + 1], cfg.linlog_threshold)
        span = times[k + 1] - times[k]
        m = max(1, math.ceil(span * cfg.upsample_rate_hz * 1e-6 - 1e-9))
        for j in range(1, m + 1):
            level = level_a + (level_b - level_a) * (j / m) if j < m else level_b
            _substep(state, level, times[k] + span * (j - 1) / m, span / m, cfg, rng, out)
    return _to_stream(out, video.shape[2])


def _to_stream(chunks: list, width: int) -> EventStream:
    if not chunks:
        empty = np.empty(0, np.int64)
        coord = empty.astype(np.int16)
        return EventStream(empty, coord, coord.copy(), empty.astype(np.int8))
    t = np.concatenate([c[0] for c in chunks])
    pix = np.concatenate([c[1] for c in chunks])
    p = np.concatenate([c[2] for c in chunks])
    order = np.argsort(t, kind="stable")
    y, x = np.divmod(pix[order], width)
    return EventStream(np.floor(t[order]).astype(np.int64), x.astype(np.int16), y.astype(np.int16),
                       p[order])


def accumulate(stream: EventStream, frame_times_us: np.ndarray, shape: tuple[int, int],
               window_us: float) -> tuple[np.ndarray, np.ndarray]:
    """ON and OFF counts ``[K, H, W]``: frame k holds events with ``t_k - window < t <= t_k``."""
    frame_times = np.asarray(frame_times_us, dtype=np.float64)
    k = np.searchsorted(frame_times, stream.t, side="left")
    valid = k < len(frame_times)
    valid[valid] &= stream.t[valid] > frame_times[k[valid]] - window_us
    h, w = shape
    counts = []
    for sign in (1, -1):
        sel = valid & (stream.p == sign)
        flat = (k[sel] * h + stream.y[sel].astype(np.int64)) * w + stream.x[sel]
        counts.append(np.bincount(flat, minlength=len(frame_times) * h * w).reshape(-1, h, w))
    return counts[0], counts[1]

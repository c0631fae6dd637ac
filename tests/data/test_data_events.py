"""Event-camera model: the properties stated in ``mskd.data.events`` hold."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from mskd.data.events import EventCameraConfig, accumulate, linlog, simulate
from mskd.data.imageio import read_event_frame

pytestmark = pytest.mark.unit

QUIET = dict(threshold_sigma=0.0, leak_rate_hz=0.0, shot_noise_rate_hz=0.0)


def _times(n: int, fps: float = 30.0) -> np.ndarray:
    return np.arange(n) * (1e6 / fps)


@settings(max_examples=25, deadline=None)
@given(level=st.floats(0.0, 1.0), frames=st.integers(2, 6), seed=st.integers(0, 2**16),
       sigma=st.floats(0.0, 0.1))
def test_static_scene_gives_no_events_without_noise(level, frames, seed, sigma) -> None:
    """A constant video emits nothing when leak and shot noise are off, whatever the mismatch."""
    cfg = EventCameraConfig(threshold_sigma=sigma, leak_rate_hz=0.0, shot_noise_rate_hz=0.0)
    video = np.full((frames, 4, 5), level)
    assert len(simulate(video, _times(frames), cfg, seed=seed)) == 0


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 5), brighter=st.booleans(), dark=st.floats(0.1, 0.2),
       threshold=st.floats(0.1, 0.3))
def test_step_of_k_thresholds_gives_k_events_of_the_right_polarity(k, brighter, dark, threshold):
    """A log step of (k + 0.5) C yields exactly k events per pixel, ON if brighter else OFF.

    Both levels stay in the log part of the lin-log response (above 20/255).
    """
    cfg = EventCameraConfig(pos_threshold=threshold, neg_threshold=threshold, refractory_us=0.0,
                            **QUIET)
    bright = dark * math.exp((k + 0.5) * threshold)
    video = np.full((3, 3, 4), dark if brighter else bright)
    video[2] = bright if brighter else dark
    stream = simulate(video, _times(3), cfg, seed=0)
    on, off = accumulate(stream, _times(3), (3, 4), 1e6 / 30)
    same, other = (on, off) if brighter else (off, on)
    assert (same[2] == k).all() and other.sum() == 0 and same[:2].sum() == 0


def test_step_with_mismatch_gives_about_k_events_per_pixel() -> None:
    cfg = EventCameraConfig(threshold_sigma=0.02, refractory_us=0.0, leak_rate_hz=0.0)
    video = np.full((2, 20, 20), 0.2)
    video[1] = 0.2 * math.exp(4 * 0.2)  # four nominal thresholds brighter
    stream = simulate(video, _times(2), cfg, seed=1)
    assert set(np.unique(stream.p)) == {1}
    assert abs(len(stream) / 400 - 4.0) < 0.5


@pytest.mark.parametrize("refractory_us", [5_000.0, 20_000.0])
def test_refractory_period_bounds_the_event_rate(refractory_us: float) -> None:
    """Per pixel, at most T / refractory + 1 events in a span T, however fast the change."""
    cfg = EventCameraConfig(refractory_us=refractory_us, upsample_rate_hz=100.0, **QUIET)
    n = 10
    video = np.full((n, 3, 3), 0.1)
    video[1::2] = 0.9  # flicker: about 11 threshold crossings per frame
    stream = simulate(video, _times(n), cfg, seed=0)
    per_pixel = np.bincount(stream.y * 3 + stream.x, minlength=9)
    assert per_pixel.max() <= _times(n)[-1] / refractory_us + 1
    free = simulate(video, _times(n), EventCameraConfig(refractory_us=0, upsample_rate_hz=100.0,
                                                         **QUIET))
    assert len(free) > len(stream)  # the bound is active in this scene
    for pixel in range(9):
        t = stream.t[stream.y * 3 + stream.x == pixel]
        assert (np.diff(t) >= refractory_us - 1).all()


def test_leak_and_shot_noise_rates_are_about_as_configured() -> None:
    seconds, n = 2.0, 61
    video = np.full((n, 20, 20), 0.5)
    times = np.linspace(0, seconds * 1e6, n)
    leak = simulate(video, times, EventCameraConfig(leak_rate_hz=2.0, threshold_sigma=0.0), seed=0)
    assert set(np.unique(leak.p)) == {1}  # leak events are ON
    assert 2.0 * 0.8 < len(leak) / 400 / seconds < 2.0 * 1.2
    shot = simulate(video, times, EventCameraConfig(shot_noise_rate_hz=5.0), seed=0)
    assert 5.0 * 0.8 < len(shot) / 400 / seconds < 5.0 * 1.2
    assert abs(float(np.mean(shot.p == 1)) - 0.5) < 0.1


def test_simulation_is_seeded() -> None:
    rng = np.random.default_rng(0)
    video = rng.uniform(0.1, 1.0, (4, 6, 6))
    cfg = EventCameraConfig(shot_noise_rate_hz=20.0)
    a, b = simulate(video, _times(4), cfg, seed=7), simulate(video, _times(4), cfg, seed=7)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in "txyp")
    assert len(a) > 0


@pytest.mark.parametrize("field,value", [("pos_threshold", 0.0), ("threshold_sigma", -0.1),
                                         ("refractory_us", float("nan")), ("upsample_rate_hz", -1)])
def test_config_rejects_bad_values(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        EventCameraConfig(**{field: value})


def test_linlog_is_continuous_at_the_threshold() -> None:
    d0 = 20.0 / 255
    assert abs(float(linlog(np.array(d0 - 1e-9))) - float(linlog(np.array(d0)))) < 1e-6
    assert float(linlog(np.array(0.0))) == 0.0


def test_events_cli_writes_event_frames_and_stream(tmp_path: Path) -> None:
    frames = tmp_path / "frames"
    frames.mkdir()
    for k in range(4):  # a bright square moving right by 2 px per frame
        img = np.full((16, 16), 40, np.uint8)
        img[4:10, 2 + 2 * k:8 + 2 * k] = 200
        Image.fromarray(img, "L").save(frames / f"{k:05d}.jpg", quality=95)
    out = tmp_path / "ev"
    cmd = [sys.executable, "-m", "mskd", "data", "events", str(frames), "--out", str(out),
           "--seed", "3"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"{k:05d}.jpg" for k in range(4)] + ["events.npz"]
    data = np.load(out / "events.npz")
    assert json.loads(str(data["config"]))["seed"] == 3
    assert set(np.unique(data["p"])) == {-1, 1} and (np.diff(data["t"]) >= 0).all()
    first, moved = read_event_frame(out / "00000.jpg"), read_event_frame(out / "00002.jpg")
    assert first.max() < 40 and moved[0].max() > 100 and moved[1].max() > 100
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert again.returncode != 0 and "already exists" in again.stderr
    bad = subprocess.run(cmd[:-2] + ["--overwrite", "--threshold", "0"], capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode != 0 and "pos_threshold" in bad.stderr and "Traceback" not in bad.stderr

"""Event frames for one recorded sequence of intensity JPGs (DSEE-style synthesis).

``FRAMES_DIR/00000.jpg ...`` at ``fps`` -> ``OUT/00000.jpg ...`` event frames in the SEE
format (:mod:`mskd.data.imageio`) plus ``OUT/events.npz`` with the stream ``t`` [us],
``x``, ``y``, ``p`` (+1 ON / -1 OFF) and the model settings as JSON in ``config``. Frame
``k`` is at ``t_k = k 1e6 / fps``; event frame ``k`` holds the events in
``(t_k - 1e6 / fps, t_k]``, so event frame 0 is empty (nothing precedes the first frame).
The folder is written atomically.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from mskd.data.events import EventCameraConfig, EventStream, accumulate, simulate
from mskd.data.imageio import FRAME_NAME, encode_event_frame, jpeg_bytes, read_frame
from mskd.errors import ConfigError, DataError
from mskd.fsio import atomic_dir


def read_video(frames_dir: str | Path) -> np.ndarray:
    """Intensity video ``[T, H, W]`` in [0, 1] from ``00000.jpg, 00001.jpg, ...``."""
    folder = Path(frames_dir)
    if not folder.is_dir():
        raise DataError(f"{folder}: frames folder not found")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if len(files) < 2:
        raise DataError(f"{folder}: needs at least 2 .jpg frames, found {len(files)}")
    frames = [read_frame(p) for p in files]
    if len({f.shape for f in frames}) != 1:
        raise DataError(f"{folder}: frames differ in size")
    return np.stack(frames).astype(np.float64) / 255.0


def eventize(frames_dir: str | Path, out: str | Path, fps: float = 30.0, seed: int = 0,
             config: EventCameraConfig | None = None, overwrite: bool = False) -> EventStream:
    """Synthesize events for a frame sequence and write event frames + ``events.npz``."""
    if not fps > 0:
        raise ConfigError(f"--fps must be > 0, got {fps}")
    cfg = config or EventCameraConfig()
    if Path(out).exists() and not overwrite:
        raise DataError(f"{out}: already exists (pass --overwrite to replace it)")
    video = read_video(frames_dir)
    times = np.arange(len(video)) * (1e6 / fps)
    stream = simulate(video, times, cfg, seed=seed)
    on, off = accumulate(stream, times, video.shape[1:], window_us=1e6 / fps)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for k in range(len(video)):
            (tmp / FRAME_NAME.format(k)).write_bytes(jpeg_bytes(encode_event_frame(on[k], off[k])))
        buffer = io.BytesIO()
        np.savez_compressed(buffer, t=stream.t, x=stream.x, y=stream.y, p=stream.p,
                            config=np.array(json.dumps({**cfg.to_dict(), "fps": fps,
                                                        "seed": seed})))
        (tmp / "events.npz").write_bytes(buffer.getvalue())
    return stream

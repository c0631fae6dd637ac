"""The on-disk image formats of the SEE layout: intensity frames and event frames as JPG.

Intensity frame
    8-bit grayscale JPG (RGB files are read too and converted with PIL's ``L`` transform).

Event frame
    RGB JPG with **R = ON count**, **B = OFF count**, **G = 0**, one per intensity frame,
    holding the events of the 33 ms window that ends at that frame. Counts are scaled to
    0..255 with a fixed full scale and saturate there:
    ``R = round(255 * min(n_on, EVENT_FULL_SCALE) / EVENT_FULL_SCALE)`` (same for B), so
    one event is 64 and four or more events are 255. The loader turns a file into a float
    tensor ``[2, H, W]`` in [0, 1]: channel 0 = R / 255 (ON), channel 1 = B / 255 (OFF).

Writes are deterministic: fixed quality, no chroma subsampling (so R and B keep full
resolution), no EXIF or other metadata; the same array gives the same bytes.

>>> import numpy as np
>>> on = np.array([[0, 1], [4, 9]]); off = np.array([[2, 0], [0, 0]])
>>> encode_event_frame(on, off)[..., 0].tolist(), encode_event_frame(on, off)[..., 2].tolist()
([[0, 64], [255, 255]], [[128, 0], [0, 0]])
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from mskd.errors import DataError
from mskd.limits import MAX_IMAGE_PIXELS

#: Event count that maps to 255 in an event-frame channel.
EVENT_FULL_SCALE = 4
#: JPEG quality of every file the toolchain writes.
JPEG_QUALITY = 95
#: File names of frame k: ``00000.jpg``, ``00001.jpg``, ...
FRAME_NAME = "{:05d}.jpg"


def encode_event_frame(on_count: np.ndarray, off_count: np.ndarray) -> np.ndarray:
    """ON/OFF counts ``[H, W]`` -> uint8 RGB ``[H, W, 3]`` in the SEE event-frame format."""
    scale = 255.0 / EVENT_FULL_SCALE
    rgb = np.zeros(on_count.shape + (3,), dtype=np.uint8)
    rgb[..., 0] = np.rint(np.minimum(on_count, EVENT_FULL_SCALE) * scale)
    rgb[..., 2] = np.rint(np.minimum(off_count, EVENT_FULL_SCALE) * scale)
    return rgb


def jpeg_bytes(image: np.ndarray) -> bytes:
    """uint8 ``[H, W]`` (gray) or ``[H, W, 3]`` (RGB) -> deterministic JPG bytes."""
    mode = "L" if image.ndim == 2 else "RGB"
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8), mode).save(
        buffer, format="JPEG", quality=JPEG_QUALITY, subsampling=0, optimize=False)
    return buffer.getvalue()


def write_sequence(folder: Path, images: list[np.ndarray] | np.ndarray) -> None:
    """Write ``00000.jpg, 00001.jpg, ...`` into ``folder`` (inside an atomic dataset dir)."""
    folder.mkdir(parents=True, exist_ok=True)
    for k, image in enumerate(images):
        (folder / FRAME_NAME.format(k)).write_bytes(jpeg_bytes(image))


def _open(path: Path, mode: str, size: tuple[int, int] | None) -> np.ndarray:
    try:
        with Image.open(path) as img:
            w, h = img.size  # from the header: checked before anything is decoded
            if w * h > MAX_IMAGE_PIXELS:
                raise DataError(f"{path}: image declares {w} x {h} = {w * h} pixels; mskd "
                                f"reads at most {MAX_IMAGE_PIXELS} (a decompression bomb?)")
            img.load()  # decode now: truncated or corrupt files fail here, not later
            img = img.convert(mode)
            if size is not None and img.size != (size[1], size[0]):
                img = img.resize((size[1], size[0]), Image.BILINEAR)
            return np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"{path}: unreadable or truncated JPG "
                        f"({' '.join(str(exc).split())[:200]})") from None


def read_frame(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Intensity frame -> uint8 ``[H, W]``, resized (PIL bilinear) to ``size = (H, W)``."""
    return _open(path, "L", size)


def read_event_frame(path: Path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Event frame -> uint8 ``[2, H, W]``: ON = red channel, OFF = blue channel."""
    rgb = _open(path, "RGB", size)
    return np.stack([rgb[..., 0], rgb[..., 2]])

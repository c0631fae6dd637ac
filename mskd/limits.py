"""Size limits every reader checks *before* it allocates: no small file can claim gigabytes.

A file's header or config declares sizes (an HDF5 dataset's shape, a ``.npy`` header, a
checkpoint's layer widths, an image's pixel count, an encoding's steps); the readers compare
them with these limits, and with what the file really stores, before reading or building
anything, and refuse with both numbers. The limits sit far above what a Loihi-class network
and this toolchain's data use, and far below what would exhaust a workstation.

>>> check_entries((1000, 1000), MAX_INPUT_ENTRIES, "x.npy: array")
1000000
>>> check_entries((10**6, 10**6), MAX_INPUT_ENTRIES, "x.npy: array")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
mskd.errors.MskdError: x.npy: array declares shape (1000000, 1000000) = 1000000000000 entries...
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from mskd.errors import MskdError

# One stored array of a network file: 2**24 entries (128 MiB as int64), above any layer of a
# Loihi 2 chip (120 M synapses over 128 cores) that netx stores densely.
MAX_ENTRIES = 1 << 24
# All arrays of one network file together.
MAX_FILE_ENTRIES = 1 << 26
# One input array ([B, T, *shape]): 2**26 entries (512 MiB as int64); the whole default test
# split as bias mantissas (1120 clips x 21 steps x 2 x 32 x 32) is 48 M.
MAX_INPUT_ENTRIES = 1 << 26
# Parameters of a model built from a checkpoint's or the command line's config; the
# default student has 0.15 M, the teacher 0.2 M.
MAX_MODEL_PARAMS = 1 << 26
# Pixels of one image (a dataset frame); SEE frames are 346 x 260, synthetic ones 48 x 48.
MAX_IMAGE_PIXELS = 4096 * 4096
# Input side of a model in pixels (SEEN uses 90, SEE frames are 346 x 260) and its layers.
MAX_SIDE = 1024
MAX_LAYERS = 32
# Time steps of one sample (an encoding's clip, --steps).
MAX_STEPS = 1 << 20


def check_entries(shape: Iterable[int], limit: int, what: str,
                  error: type[Exception] = MskdError) -> int:
    """Entries of ``shape`` (exact, Python ints); ``error`` naming ``what`` above ``limit``."""
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise error(f"{what} declares a negative size in shape {shape}")
    n = math.prod(shape)
    if n > limit:
        raise error(f"{what} declares shape {shape} = {n} entries; mskd reads at most {limit}")
    return n

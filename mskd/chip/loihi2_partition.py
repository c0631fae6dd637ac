"""How Lava's Loihi 2 compiler splits a layer onto neuro cores, as its per-core table shows.

Two rules, read off the compiler's "Per core distribution" table for Intel's PilotNet LIF
network (lava-dl ``tutorials/lava/lib/dl/netx/pilotnet_snn/benchmark.ipynb``, commit
b9e3691; the table is ``tests/profiling/pilotnet_compiler.py``), which they reproduce layer
by layer (74 cores):

* **Maps** (a ``(C, H, W)`` input or conv layer): the compiler tiles along ``W``. A core
  holds ``w`` whole columns (every row and channel), ``w`` the largest power of two with
  ``w H C <= neurons_per_core``; the layer takes ``ceil(W / w)`` cores. (The compiler
  labels the tiles ``Conv(w, H, C)``: ``Conv(16, 66, 3)`` for the 200 x 66 x 3 input,
  ``Conv(4, 32, 24)`` for the 99 x 32 x 24 first conv.) Where one column does not fit
  (``H C > neurons_per_core``) rows, then channels, are halved the same way: an extension
  of the rule that no published table shows.
* **Vectors** (dense layers): a core holding ``n`` of the layer's neurons allocates
  ``A ceil(n (b + e) / W)`` synaptic-memory words (``A`` input axons, ``b`` the layer's
  signed weight bits, ``e`` and ``W`` from the profile: ``synapse_entry_bits`` and
  ``synapse_word_bits``). Starting from one core, while the allocation exceeds
  ``synapse_words_per_core`` the neurons per core are divided by ``ceil(allocation /
  limit)``, as the compiler's ``max_ratio`` iterations print (PilotNet's 2560 -> 100 layer:
  61,440 words on one core, ratio 6, then 17 neurons at 12,800 words, ratio 2, then 9
  neurons at 7,680 words: 12 cores).

>>> tile_columns((3, 66, 200), 4095), tile_columns((24, 32, 99), 4095)
((16, 66, 3), (4, 32, 24))
>>> dense_neurons_per_core(100, 2560, 4, 4095, 12000, 63, 11)
9
"""

from __future__ import annotations

import math

import numpy as np


def _pow2_at_most(x: float) -> int:
    """The largest power of two <= x (x >= 1)."""
    return 1 << (int(x).bit_length() - 1)


def tile_columns(shape: tuple[int, int, int], neurons_per_core: int) -> tuple[int, int, int]:
    """The ``(w, h, c)`` tile one core holds of a ``(C, H, W)`` map (compiler order)."""
    c, h, w = (int(s) for s in shape)
    if h * c <= neurons_per_core:
        return min(_pow2_at_most(neurons_per_core / (h * c)), _pow2_at_most(w)), h, c
    if c <= neurons_per_core:
        return 1, min(_pow2_at_most(neurons_per_core / c), _pow2_at_most(h)), c
    return 1, 1, _pow2_at_most(neurons_per_core)


def map_chunks(shape: tuple[int, int, int], neurons_per_core: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each core in :func:`map_order` positions."""
    c, h, w = (int(s) for s in shape)
    # positions run column-major (map_order): a tile of whole columns, or of a column's
    # rows or channels when one column does not fit, is one contiguous run
    size = math.prod(tile_columns(shape, neurons_per_core))
    n = c * h * w
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def map_order(shape: tuple[int, int, int]) -> np.ndarray:
    """Flat ``(C, H, W)`` index of the neuron at each position: columns outermost, then
    rows, channels innermost, so a tile of whole columns is one run of positions.

    >>> map_order((2, 1, 2)).tolist()   # (c, h, w): (0,0,0) (1,0,0) (0,0,1) (1,0,1)
    [0, 2, 1, 3]
    """
    c, h, w = shape
    return np.arange(c * h * w).reshape(c, h, w).transpose(2, 1, 0).reshape(-1)


def dense_words(n: int, axons: int, bits: int, word_bits: int, entry_bits: int) -> int:
    """Synaptic-memory words of a core holding ``n`` neurons of a dense layer."""
    return axons * math.ceil(n * (bits + entry_bits) / word_bits)


def dense_neurons_per_core(neurons: int, axons: int, bits: int, neurons_per_core: int,
                           words_per_core: int, word_bits: int, entry_bits: int) -> int:
    """Neurons per core of a dense layer after the compiler's ``max_ratio`` iterations."""
    n = min(neurons, neurons_per_core)
    while n > 1:
        words = dense_words(n, axons, bits, word_bits, entry_bits)
        if words <= words_per_core:
            break
        n = math.ceil(n / math.ceil(words / words_per_core))
    return n

"""Clip sampling as in SEEN: ``E{n}-S{s}`` takes n frames with s frames skipped between them.

A clip starting at frame ``start`` uses frames ``start + k (s + 1)`` for ``k = 0 .. n-1``, so
it spans ``n + (n - 1) s`` frames. A sequence shorter than the span is padded by repeating
its last frame (indices are clipped to ``length - 1``).

>>> clip = ClipSpec.parse("E4-S3")
>>> clip, clip.span, str(clip)
(ClipSpec(n=4, s=3), 13, 'E4-S3')
>>> clip.indices(start=2, length=20)
[2, 6, 10, 14]
>>> clip.indices(start=0, length=7)  # padded with the last frame
[0, 4, 6, 6]
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import torch

MAX_CLIP_FRAMES = 4096  # frames per clip and frames skipped; SEEN uses n <= 8


@dataclass(frozen=True)
class ClipSpec:
    """n frames per clip, s frames skipped between consecutive clip frames."""

    n: int
    s: int

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or not 1 <= self.n <= MAX_CLIP_FRAMES:
            raise ValueError(f"clip E{self.n}-S{self.s}: n must be an int in 1..{MAX_CLIP_FRAMES}")
        if not isinstance(self.s, int) or not 0 <= self.s <= MAX_CLIP_FRAMES:
            raise ValueError(f"clip E{self.n}-S{self.s}: s must be an int in 0..{MAX_CLIP_FRAMES}")

    @classmethod
    def parse(cls, text: str) -> ClipSpec:
        """Read ``"E4-S3"`` (case-insensitive, ``-`` or ``_`` between the parts)."""
        if not isinstance(text, str):
            raise ValueError(f"bad clip spec {text!r}: expected text E<n>-S<s>, e.g. E4-S3")
        match = re.fullmatch(r"\s*[eE](\d{1,9})[-_][sS](\d{1,9})\s*", text)
        if match is None:
            raise ValueError(f"bad clip spec {text!r}: expected E<n>-S<s>, e.g. E4-S3")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def span(self) -> int:
        """Frames covered by one clip: ``n + (n - 1) s``."""
        return self.n + (self.n - 1) * self.s

    def __str__(self) -> str:
        return f"E{self.n}-S{self.s}"

    def max_start(self, length: int) -> int:
        """Largest valid first frame; 0 when the sequence is shorter than the span."""
        return max(0, length - self.span)

    def indices(self, start: int, length: int, dense: bool = False) -> list[int]:
        """Frame indices of the clip, clipped to the last frame (padding). ``dense``: every
        camera frame of the span (what a frame camera delivers), not only the sampled ones.

        >>> ClipSpec(3, 1).indices(2, 20, dense=True)
        [2, 3, 4, 5, 6]
        """
        if dense:
            return [min(start + k, length - 1) for k in range(self.span)]
        return [min(start + k * (self.s + 1), length - 1) for k in range(self.n)]

    def sampled_positions(self) -> list[int]:
        """Where the sampled frames sit among the dense frames of a clip.

        >>> ClipSpec(4, 3).sampled_positions()
        [0, 4, 8, 12]
        """
        return [k * (self.s + 1) for k in range(self.n)]

    def draw_start(self, length: int, *seed_parts: int) -> int:
        """A start in ``[0, max_start]`` from a torch Generator seeded by ``seed_parts``.

        The parts are mixed with numpy's SeedSequence, so (0, 1, 2) and (0, 2, 1) differ.

        >>> ClipSpec(4, 3).draw_start(30, 0, 5, 7) == ClipSpec(4, 3).draw_start(30, 0, 5, 7)
        True
        """
        generator = torch.Generator().manual_seed(mix_seed(*seed_parts))
        return int(torch.randint(0, self.max_start(length) + 1, (1,), generator=generator))


def mix_seed(*parts: int) -> int:
    """One 63-bit seed from several non-negative integers (order matters)."""
    state = np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1])) & ((1 << 63) - 1)

"""Graded (analog) input into the first synapse: how real values become integer payloads.

A network without input neurons whose first synapse is built with ``input_message_bits = N``
(netx's ``Network(input_message_bits=N)``) receives signed ``N``-bit integer payloads
``p`` in ``-2**(N-1) .. 2**(N-1) - 1`` (:func:`payload_range`) and multiplies them by its
weights (a binary synapse counts any non-zero message as 1). An analog input ``x`` in the
declared range ``[lo, hi]`` is sent as

    p = round(x * S)            (torch.round of the float64 product: half to even)

with ``S`` a power of two (:func:`choose_scale`: the largest with ``round(hi S)`` and
``round(lo S)`` inside the payload range), so ``x * S`` is exact in float and the host's
encoding is a shift. The importer folds ``1 / S`` into the first synapse's weights
(:mod:`mskd.convert.nir.importer`), so the deployed synapse computes ``W p / S ~= W x``:
what the float graph computes on ``x``, up to ``|x - p / S| <= 1 / (2 S)`` per input.

``mskd convert`` records the choice as the root attribute ``mskd_graded_input`` (JSON) of
the ``.net`` file (lava-dl's netx ignores root attributes); :func:`mskd.net.netx_io.read_netx`
builds the network with the recorded ``input_message_bits``, so ``mskd deploy run/verify``
need no option, and :func:`encode` turns a user's analog values into the payloads to give
``mskd deploy run --input``.

>>> g = GradedInput.choose(8, 0.0, 1.0)
>>> g.input_scale, g.payload_bounds
(64.0, (0, 64))
>>> encode(torch.tensor([0.0, 0.5, 0.3, 1.0]), g).tolist()
[0, 32, 19, 64]
>>> GradedInput.choose(8, -1000.0, 1000.0).input_scale     # 2**-3: payloads -125..125
0.125
>>> GradedInput.choose(1, 0.0, 1.0)
Traceback (most recent call last):
...
ValueError: 1-bit payloads (-1..0) cannot carry inputs in [0, 1]: give more bits
>>> GradedInput.from_json(g.to_json()) == g
True
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from mskd.errors import NetError, refuse_unknown_fields
from mskd.loihi.quantizers import pow2_exponent
from mskd.net.attrs import GRADED_INPUT, attr_text, write_attr

ATTR = GRADED_INPUT
MAX_BITS = 24  # Loihi 2 graded spikes carry up to 24 bits (mskd.net.spec.MAX_MESSAGE_BITS)


def payload_range(bits: int) -> tuple[int, int]:
    """Smallest and largest signed ``bits``-bit payload: ``-2**(bits-1), 2**(bits-1) - 1``."""
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


def _is_power_of_two(s: float) -> bool:
    return s > 0 and math.isfinite(s) and math.frexp(s)[0] == 0.5


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class GradedInput:
    """Payload width, scale ``S`` (power of two) and the declared input range."""

    input_message_bits: int
    input_scale: float
    input_range: tuple[float, float]

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_range", tuple(float(v) for v in self.input_range))
        object.__setattr__(self, "input_scale", float(self.input_scale))
        bits, (lo, hi) = self.input_message_bits, self.input_range
        if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= MAX_BITS:
            raise ValueError(f"input_message_bits={bits!r} outside 1..{MAX_BITS} (Loihi 2 "
                             "graded messages)")
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"input range [{_fmt(lo)}, {_fmt(hi)}] must be finite with "
                             "lo < hi")
        if not _is_power_of_two(self.input_scale):
            raise ValueError(f"input scale {_fmt(self.input_scale)} is not a power of two")
        pmin, pmax = payload_range(bits)
        a, b = self.payload_bounds
        if a < pmin or b > pmax:
            raise ValueError(f"inputs in [{_fmt(lo)}, {_fmt(hi)}] times {_fmt(self.input_scale)}"
                             f" give payloads {a}..{b}, beyond {bits}-bit messages "
                             f"({pmin}..{pmax})")
        if b - a < 1:
            raise ValueError(f"inputs in [{_fmt(lo)}, {_fmt(hi)}] times "
                             f"{_fmt(self.input_scale)} all round to payload {a}: "
                             "give a larger scale or more bits")

    @classmethod
    def choose(cls, bits: int, lo: float, hi: float, scale: float | None = None
               ) -> GradedInput:
        """``scale`` given (checked), or :func:`choose_scale`."""
        return cls(bits, choose_scale(bits, lo, hi) if scale is None else scale, (lo, hi))

    @property
    def payload_bounds(self) -> tuple[int, int]:
        """The payloads of the range's ends, ``round(lo S)`` and ``round(hi S)``."""
        lo, hi = self.input_range
        return int(round(lo * self.input_scale)), int(round(hi * self.input_scale))

    @property
    def peak(self) -> int:
        """The largest payload magnitude an input in range sends."""
        return max(abs(v) for v in self.payload_bounds)

    def describe(self) -> str:
        """'x in [0, 1] sent as round(x * 64) in 8-bit payloads'."""
        lo, hi = self.input_range
        return (f"x in [{_fmt(lo)}, {_fmt(hi)}] sent as round(x * {_fmt(self.input_scale)}) "
                f"in {self.input_message_bits}-bit payloads")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> GradedInput:
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError(f"is a JSON {type(data).__name__}, not a table")
        refuse_unknown_fields(cls, data, "graded input", ValueError)
        return cls(**data)


def choose_scale(bits: int, lo: float, hi: float) -> float:
    """The largest power of two ``S`` with ``hi S <= 2**(bits-1) - 1`` (for ``hi > 0``) and
    ``-lo S <= 2**(bits-1)`` (for ``lo < 0``); ValueError when no payload fits."""
    if not 1 <= bits <= MAX_BITS:
        raise ValueError(f"{bits}-bit payloads: outside 1..{MAX_BITS} (Loihi 2 graded "
                         "messages)")
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"input range [{_fmt(lo)}, {_fmt(hi)}] must be finite with lo < hi")
    pmin, pmax = payload_range(bits)
    room = [pmax / hi] if hi > 0 else []
    room += [-pmin / -lo] if lo < 0 else []
    if min(room) <= 0:
        raise ValueError(f"{bits}-bit payloads ({pmin}..{pmax}) cannot carry inputs in "
                         f"[{_fmt(lo)}, {_fmt(hi)}]: give more bits")
    return 2.0 ** pow2_exponent(1.0, min(room))


def encode(x, g: GradedInput) -> torch.Tensor:
    """Analog inputs ``x`` (any shape) -> int64 payloads ``round(x * S)``; ValueError for a
    value that is not finite or outside the declared range."""
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).double()
    lo, hi = g.input_range
    if not torch.isfinite(x).all():
        raise ValueError("analog inputs contain NaN or inf")
    if x.numel() and (float(x.min()) < lo or float(x.max()) > hi):
        raise ValueError(f"analog inputs {float(x.min()):g}..{float(x.max()):g} outside the "
                         f"declared range [{_fmt(lo)}, {_fmt(hi)}]")
    return torch.round(x * g.input_scale).to(torch.int64)


def write_graded(path: str | Path, g: GradedInput) -> None:
    """Set the root attribute on an existing HDF5 file (use inside ``atomic_path``)."""
    write_attr(path, ATTR, g.to_json())


def stored_graded(attrs, where: str) -> GradedInput | None:
    """The :class:`GradedInput` in an open HDF5 file's root ``attrs``, or None; NetError
    naming ``where`` when it is not a valid record."""
    try:
        raw = attr_text(attrs, ATTR, where)
    except ValueError as exc:
        raise NetError(str(exc)) from None
    if raw is None:
        return None
    try:
        return GradedInput.from_json(raw)
    except (ValueError, TypeError, RecursionError) as exc:
        raise NetError(f"{where}: attribute '{ATTR}': {' '.join(str(exc).split())}") from None


def read_graded(path: str | Path) -> GradedInput | None:
    """The graded-input record of a ``.net`` file, or None."""
    import h5py

    with h5py.File(path, "r") as f:
        return stored_graded(f.attrs, str(path))

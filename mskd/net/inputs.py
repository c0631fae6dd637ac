"""Input layouts shared by every backend, checked once.

* Bias-driven network (the first layer is a netx Input layer with neurons): ``X`` holds
  integer ``bias_mant`` values (signed 13 bit, -4096..4095), one per input neuron and
  step: ``[B, T, *input_shape]`` in (C, H, W) order, or ``[B, *input_shape]`` held
  constant for ``steps`` steps. Step ``t`` of ``X`` is what Lava's Input neurons use at
  time step ``t + 1`` (set with ``bias_mant.set`` before that step).
* Spike-driven network (the first layer is a Conv/Dense synapse): ``X`` holds binary
  spikes ``[B, T, *input_shape]`` (or ``[B, *shape]`` repeated for ``steps`` steps).

:func:`prepare_inputs` returns an ``int64`` tensor ``[T, B, *shape]`` (time first, as the
simulator iterates) or raises a one-line :class:`~mskd.errors.InputError`.

>>> import torch
>>> from mskd.net.spec import InputLayer, LifNeuron, NetSpec
>>> spec = NetSpec((InputLayer((2,), LifNeuron(4096, 0, 10)),))
>>> prepare_inputs(spec, torch.tensor([[3, -4]]), steps=3).shape
torch.Size([3, 1, 2])
>>> prepare_inputs(spec, torch.zeros(1, 3), steps=1)
Traceback (most recent call last):
...
mskd.errors.InputError: input shape (1, 3) does not match [B, T, 2] or [B, 2] (bias mantissas)
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from mskd.errors import InputError
from mskd.limits import MAX_INPUT_ENTRIES, check_entries
from mskd.loihi.lif import BIAS_MANT_MAX, BIAS_MANT_MIN
from mskd.net.spec import NetSpec

INPUT_WHAT = {"bias": "bias mantissas", "delta": "Delta input values",
              "spikes": "spikes", "graded": "graded payloads"}
DELTA_INPUT_BITS = 24  # PyDeltaModelFixed.a_in: int32, precision 24


def input_range(spec: NetSpec) -> tuple[int, int]:
    """Smallest and largest input value the network's first layer accepts.

    >>> from mskd.net.spec import InputLayer, NetSpec
    >>> from mskd.loihi.neurons import SdnNeuron
    >>> input_range(NetSpec((InputLayer((2,), SdnNeuron(1)),)))
    (-8388608, 8388607)
    """
    kind = spec.input_kind
    if kind == "bias":
        return BIAS_MANT_MIN, BIAS_MANT_MAX
    if kind == "spikes":
        return 0, 1
    from mskd.loihi.graded import payload_range

    return payload_range(DELTA_INPUT_BITS if kind == "delta" else spec.input_message_bits)


def _shape_str(shape) -> str:
    return ", ".join(str(s) for s in shape)


def _numeric(x) -> np.ndarray:
    """``x`` as a native-order numeric array torch can take; uint64 checked against int64."""
    from mskd.npyio import check_dtype

    a = np.asarray(x)
    check_dtype(a.dtype, "input")
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype.kind == "u" and a.dtype.itemsize >= 4:
        if a.size and int(a.max()) > np.iinfo(np.int64).max:
            raise InputError(f"input holds uint64 values up to {int(a.max())}, above int64")
        a = a.astype(np.int64)
    return a


def prepare_inputs(spec: NetSpec, x, steps: int | None = None) -> torch.Tensor:
    """Validate ``x`` against ``spec`` and return it as int64 ``[T, B, *shape]``."""
    x = torch.as_tensor(_numeric(x) if not isinstance(x, torch.Tensor) else x)
    if x.is_complex():
        raise InputError(f"input dtype {x.dtype} is complex; expected integer values")
    shape = tuple(spec.input_shape)
    what = INPUT_WHAT[spec.input_kind]
    if x.is_floating_point():
        if not torch.equal(x, torch.round(x)):
            raise InputError(f"input holds non-integer values; expected integer {what}")
    elif x.dtype == torch.bool:
        x = x.to(torch.int64)
    x = x.to(torch.int64)
    if tuple(x.shape[1:]) == shape and x.dim() == len(shape) + 1:
        if steps is None:
            raise InputError(f"input is [B, {_shape_str(shape)}] without a time axis: "
                           "give --steps T")
        check_entries((x.shape[0], steps, *shape), MAX_INPUT_ENTRIES,
                      f"input held for {steps} steps", InputError)
        x = x.unsqueeze(1).expand(x.shape[0], steps, *shape)
    elif x.dim() == len(shape) + 2 and tuple(x.shape[2:]) == shape:
        if steps is not None and steps != x.shape[1]:
            raise InputError(f"input has {x.shape[1]} steps but steps={steps} was given")
    else:
        raise InputError(f"input shape {tuple(x.shape)} does not match [B, T, "
                       f"{_shape_str(shape)}] or [B, {_shape_str(shape)}] ({what})")
    if x.shape[0] < 1 or x.shape[1] < 1:
        raise InputError(f"input shape {tuple(x.shape)} has no samples or no steps")
    lo, hi = input_range(spec)
    if x.numel() and (int(x.min()) < lo or int(x.max()) > hi):
        raise InputError(f"input values {int(x.min())}..{int(x.max())} outside {lo}..{hi} "
                       f"({what})")
    return x.transpose(0, 1).contiguous()


@contextlib.contextmanager
def naming_input(path):
    """Prefix an :class:`InputError` raised inside with the file the input came from."""
    try:
        yield
    except InputError as exc:
        if path is None or str(exc).startswith(str(path)):
            raise
        raise InputError(f"{path}: {exc}") from None

"""Structural synapses of each layer: who reaches whom, counted exactly.

A synapse is one (output neuron, input neuron) pair joined by a weight entry. For a conv
layer the pairs follow the geometry (stride, padding, dilation, groups): an input pixel at
a border reaches fewer outputs than one in the middle, and padding contributes no synapse.
Neurons are numbered in flat torch order, ``(C, H, W)`` row-major, which is also what a
flatten layer does, so a flatten needs no synapses of its own.

By default every weight entry counts, zero or not (netx stores dense weight tensors and
this is the conservative reading of what Loihi stores and processes); ``skip_zero=True``
drops zero weights, as a sparse synapse encoding would.

>>> import numpy as np
>>> syn = dense_synapses(np.array([[1, 0, 2]]), skip_zero=True)
>>> syn.in_idx.tolist(), syn.fan_out().tolist()
([0, 2], [1, 0, 1])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mskd.errors import NetError

NEURON_KINDS = {"InputLayer": "input", "ConvLayer": "conv", "DenseLayer": "dense"}
PASS_KINDS = {"FlattenLayer": "flatten"}


@dataclass(frozen=True)
class Synapses:
    """The synapses of one layer as parallel index arrays (int64)."""

    out_idx: np.ndarray
    in_idx: np.ndarray
    n_in: int
    n_out: int

    @property
    def count(self) -> int:
        return int(self.out_idx.size)

    def fan_out(self) -> np.ndarray:
        """Synapses leaving each input neuron, shape ``[n_in]``."""
        return np.bincount(self.in_idx, minlength=self.n_in)

    def fan_in(self) -> np.ndarray:
        """Synapses arriving at each output neuron, shape ``[n_out]``."""
        return np.bincount(self.out_idx, minlength=self.n_out)

    def fan_out_per_core(self, core_of_out: np.ndarray, n_cores: int) -> np.ndarray:
        """``[n_in, n_cores]``: synapses from each input neuron into each core."""
        flat = self.in_idx * n_cores + core_of_out[self.out_idx]
        return np.bincount(flat, minlength=self.n_in * n_cores).reshape(self.n_in, n_cores)


def kind_of(layer: object) -> str:
    """``input``, ``conv``, ``dense`` or ``flatten``; NetError for anything else."""
    name = type(layer).__name__
    kind = NEURON_KINDS.get(name) or PASS_KINDS.get(name)
    if kind is None:
        raise NetError(f"layer type {name} is not supported by the mapper/profiler")
    return kind


def n_neurons(layer: object) -> int:
    """Neurons the layer puts on cores (0 for a flatten)."""
    kind = kind_of(layer)
    if kind == "flatten" or (kind == "input" and getattr(layer, "neuron", None) is None):
        return 0  # a flatten is wiring; an input without neurons is external spikes
    shape = layer.shape if kind == "input" else _out_shape(layer)
    return int(np.prod(shape))


def _out_shape(layer: object) -> tuple[int, ...]:
    if kind_of(layer) == "dense":
        return (int(layer.out_features),)
    return tuple(int(s) for s in layer.out_shape)


def _pair(x) -> tuple[int, int]:
    if isinstance(x, (int, np.integer)):
        return int(x), int(x)
    a, b = (int(v) for v in x)
    return a, b


def _weight(layer: object) -> np.ndarray:
    w = layer.weight
    return w.detach().cpu().numpy() if isinstance(w, torch.Tensor) else np.asarray(w)


def dense_synapses(weight: np.ndarray, skip_zero: bool = False) -> Synapses:
    """Synapses of a dense layer with weight ``[out, in]``."""
    mask = weight != 0 if skip_zero else np.ones(weight.shape, dtype=bool)
    out_idx, in_idx = np.nonzero(mask)
    return Synapses(out_idx.astype(np.int64), in_idx.astype(np.int64), *weight.shape[::-1])


def conv_synapses(layer: object, skip_zero: bool = False) -> Synapses:
    """Synapses of a conv layer, honouring stride, padding, dilation and groups."""
    weight = _weight(layer)
    c_in, h, w = (int(s) for s in layer.in_shape)
    c_out, kh, kw = weight.shape[0], weight.shape[2], weight.shape[3]
    groups = int(layer.groups)
    # Unfolding a map of (index + 1) gives, per output position, the input index under each
    # kernel tap; padding reads 0, i.e. "no input neuron there".
    index_map = torch.arange(1, c_in * h * w + 1, dtype=torch.float64).reshape(1, c_in, h, w)
    taps = F.unfold(
        index_map, (kh, kw), dilation=_pair(layer.dilation),
        padding=_pair(layer.padding), stride=_pair(layer.stride),
    )[0].long().numpy()  # [c_in * kh * kw, L]
    n_pos = taps.shape[1]
    if c_out * n_pos != n_neurons(layer):
        raise NetError(f"conv out_shape {tuple(layer.out_shape)} disagrees with its geometry")
    per_group = (c_in // groups) * kh * kw
    outs, ins = [], []
    for co in range(c_out):
        g = co // (c_out // groups)
        block = taps[g * per_group:(g + 1) * per_group]
        keep = block > 0
        if skip_zero:
            keep &= (weight[co].reshape(-1) != 0)[:, None]
        tap, pos = np.nonzero(keep)
        outs.append(co * n_pos + pos)
        ins.append(block[tap, pos] - 1)
    n_in = c_in * h * w
    return Synapses(np.concatenate(outs), np.concatenate(ins), n_in, c_out * n_pos)


def layer_synapses(layer: object, skip_zero: bool = False) -> Synapses | None:
    """Synapses feeding ``layer`` (None for input and flatten layers).

    A ``dense_rec`` layer's recurrent synapses join its input synapses, their source index
    shifted past the inputs: ``in_idx >= n_in_ff`` is the layer's own neuron
    ``in_idx - n_in_ff`` (:func:`feedforward_inputs` tells how many come from below).
    """
    kind = kind_of(layer)
    if kind == "dense":
        ff = dense_synapses(_weight(layer), skip_zero)
        rec = getattr(layer, "weight_rec", None)
        if rec is None:
            return ff
        r = dense_synapses(np.asarray(rec), skip_zero)
        return Synapses(np.concatenate([ff.out_idx, r.out_idx]),
                        np.concatenate([ff.in_idx, r.in_idx + ff.n_in]),
                        ff.n_in + r.n_in, ff.n_out)
    if kind == "conv":
        return conv_synapses(layer, skip_zero)
    return None


def feedforward_inputs(layer: object) -> int:
    """Source neurons of ``layer`` in the layer below (its recurrent ones excluded)."""
    w = _weight(layer)
    return int(np.prod(layer.in_shape)) if kind_of(layer) == "conv" else int(w.shape[1])


def weight_bits(layer: object) -> int:
    """Signed bits needed for the layer's largest weight magnitude (0 without weights).

    >>> weight_bits(type("DenseLayer", (), {"weight": np.array([[-128, 5]])})())
    8
    """
    if kind_of(layer) not in ("conv", "dense"):
        return 0
    w = _weight(layer).astype(np.int64)
    if getattr(layer, "weight_rec", None) is not None:
        w = np.concatenate([w, np.asarray(layer.weight_rec)], axis=1)
    peak = int(max(w.max(initial=0), -w.min(initial=0) - 1))
    return peak.bit_length() + 1

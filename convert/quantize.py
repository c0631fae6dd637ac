"""Fold a fixed-point student (:class:`mskd.train.quantized.QuantizedStudent`) into a netx NetSpec.

The student already computes in Loihi units, so folding is a change of container plus the
checks that the numbers survive the trip through netx and Lava unchanged:

* every weight is an int64 mantissa in -128..127 (the 8-bit range Lava stores);
* netx rescales each weight matrix (``optimize_weight_bits``) and Lava clips and truncates
  it again; :func:`check_representable` runs that path (:func:`mskd.loihi.lif.netx_weights`)
  and refuses a layer whose effective weights are not exactly ``w * 2**-weight_exp``
  (e.g. an all-negative matrix whose low bits Lava drops);
* neuron fields fit their registers (``LifNeuron`` checks 12-bit decays, 17-bit vth).

Layers are converted through the :data:`CONVERTERS` table (kind -> function); a kind not
in the table is a :class:`~mskd.errors.NetError` naming the layer.

>>> import torch
>>> from mskd.train.quantized import QuantLayer
>>> q = QuantLayer("dense", (3,), (2,), weight=torch.tensor([[1, -2, 3], [0, 4, -5]]),
...                i_decay=4096, v_decay=1024, vth_mant=64)
>>> layer = fold_layer(q, 1)
>>> type(layer).__name__, layer.weight.tolist(), layer.neuron.vth_mant
('DenseLayer', [[1, -2, 3], [0, 4, -5]], 64)
>>> check_representable(np.array([[-8]]), "layer 1 (dense)")
Traceback (most recent call last):
...
mskd.errors.NetError: layer 1 (dense): field 'weight' cannot be represented by netx/Lava (...)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from mskd.errors import NetError
from mskd.loihi.lif import lava_dense_weights, netx_optimize, netx_weights
from mskd.loihi.neurons import SdnNeuron
from mskd.loihi.quantizers import WEIGHT_MANT_MAX, WEIGHT_MANT_MIN
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec


def _where(q, index: int) -> str:
    return f"layer {index} ({q.kind})"


def _np_int(t, name: str, where: str) -> np.ndarray | None:
    if t is None:
        return None
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise NetError(f"{where}: field '{name}' contains NaN or inf")
    if a.dtype.kind == "f" and np.any(a != np.round(a)):
        raise NetError(f"{where}: field '{name}' is not integer")
    return a.astype(np.int64)


def check_representable(w: np.ndarray, where: str, lo: int = WEIGHT_MANT_MIN,
                        hi: int = WEIGHT_MANT_MAX, w_rec: np.ndarray | None = None) -> None:
    """Raise unless netx + Lava run ``w`` exactly (effective ``w_eff >> -exp == w``).

    With ``w_rec`` (a ``dense_rec`` layer) both matrices are checked as netx maps them:
    optimised side by side (one exponent), clipped and truncated one by one by Lava.
    """
    full = w if w_rec is None else np.concatenate([w, w_rec], axis=1)
    if full.min() < lo or full.max() > hi:
        raise NetError(f"{where}: field 'weight' range {full.min()}..{full.max()} is outside "
                       f"the mantissa range {lo}..{hi}")
    if not full.any():
        raise NetError(f"{where}: field 'weight' is all zero (netx cannot map it)")
    if w_rec is None:
        eff, exp = netx_weights(w)
        parts = [(w, eff)]
    else:
        scaled, bits, exp = netx_optimize(full)
        parts = [(w, lava_dense_weights(scaled[:, :w.shape[1]], bits)),
                 (w_rec, lava_dense_weights(scaled[:, w.shape[1]:], bits))]
    for name, (want, eff) in zip(("weight", "weight_rec"), parts, strict=False):
        back = eff * (1 << exp) if exp >= 0 else eff
        want = want if exp >= 0 else want * (1 << -exp)
        if not np.array_equal(back, want):
            bad = int(np.count_nonzero(back != want))
            raise NetError(f"{where}: field '{name}' cannot be represented by netx/Lava ({bad} "
                           f"weight(s) change when netx rescales and Lava truncates them; "
                           f"range {full.min()}..{full.max()})")


def _neuron(q, where: str) -> LifNeuron | SdnNeuron:
    try:
        if getattr(q, "neuron", "lif") == "sdnn":
            return SdnNeuron(int(q.vth_mant), sigma_output=bool(q.sigma_output))
        return LifNeuron(int(q.i_decay), int(q.v_decay), int(q.vth_mant))
    except (TypeError, ValueError) as exc:
        raise NetError(f"{where}: neuron {exc}") from None


def _input(q, index: int) -> InputLayer:
    return InputLayer(q.in_shape, _neuron(q, _where(q, index)))


def _flatten(q, index: int) -> FlattenLayer:
    return FlattenLayer(q.in_shape, q.out_shape)


def _weights_bias(q, index: int) -> tuple[np.ndarray, np.ndarray | None]:
    where = _where(q, index)
    w = _np_int(q.weight, "weight", where)
    check_representable(w, where)
    return w, _np_int(q.bias, "bias", where)


def _channel_bias(b: np.ndarray | None, channels: int, where: str) -> np.ndarray | None:
    """netx holds one conv bias per channel: a per-neuron bias must be constant per channel."""
    if b is None or b.size == channels:
        return None if b is None else b.reshape(-1)
    per = b.reshape(channels, -1)
    if np.any(per != per[:, :1]):
        raise NetError(f"{where}: field 'bias' varies within a channel (netx stores one bias "
                       "per conv channel)")
    return per[:, 0].copy()


def _conv(q, index: int) -> ConvLayer:
    w, b = _weights_bias(q, index)
    b = _channel_bias(b, int(q.out_shape[0]), _where(q, index))
    return ConvLayer(q.in_shape, q.out_shape, w, q.stride, q.padding, (1, 1), 1,
                     _neuron(q, _where(q, index)), b)


def _dense(q, index: int) -> DenseLayer:
    w, b = _weights_bias(q, index)
    return DenseLayer(int(np.prod(q.in_shape)), int(np.prod(q.out_shape)), w,
                      _neuron(q, _where(q, index)), None if b is None else b.reshape(-1))


CONVERTERS: dict[str, Callable] = {"input": _input, "conv": _conv, "flatten": _flatten,
                                   "dense": _dense}


def fold_layer(q, index: int):
    """One student layer -> one netx layer; NetError naming the layer on anything else."""
    fn = CONVERTERS.get(q.kind)
    if fn is None:
        raise NetError(f"{_where(q, index)}: Loihi cannot run this layer kind "
                       f"(supported: {', '.join(CONVERTERS)})")
    try:
        return fn(q, index)
    except ValueError as exc:
        raise NetError(f"{_where(q, index)}: {exc}") from None


def fold_student(qs) -> NetSpec:
    """A :class:`~mskd.train.quantized.QuantizedStudent` -> validated :class:`NetSpec`."""
    return NetSpec(tuple(fold_layer(q, i) for i, q in enumerate(qs.layers)))

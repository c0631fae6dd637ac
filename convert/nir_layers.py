"""Per-node conversion for the NIR importer: type -> function tables and the quantizer.

See :mod:`mskd.convert.nir_import` for the discretisation and the refused ranges.

>>> import nir, numpy as np
>>> m = neuron_model("n", nir.LIF(tau=np.array(0.01), r=np.array(1.0), v_leak=np.array(0.0),
...                              v_threshold=np.array(1.0)), dt=1e-3)
>>> m.i_decay, m.v_decay, round(m.gain, 3), m.threshold
(4096, 410, 0.1, 1.0)
>>> neuron_model("n", nir.LIF(tau=np.array(1e-4), r=np.array(1.0), v_leak=np.array(0.0),
...                           v_threshold=np.array(1.0)), dt=1e-3)
Traceback (most recent call last):
...
mskd.errors.NetError: NIR node 'n': tau=0.0001 gives dt/tau=10 > 1 (the decay is beyond 12 bits)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from mskd.convert.quantize import check_representable

from mskd.errors import NetError
from mskd.loihi import BIAS_MANT_MAX, BIAS_MANT_MIN, DECAY_UNITY, VTH_MAX
from mskd.netspec import ConvLayer, DenseLayer, LifNeuron, conv_out_hw

W_TARGET = 127  # largest weight magnitude after scaling


class NeuronModel(NamedTuple):
    """Loihi decays, the input gain folded into weights, threshold (None: readout)."""

    i_decay: int
    v_decay: int
    gain: float
    threshold: float | None


def _scalar(node, field: str, name: str) -> float:
    a = np.asarray(getattr(node, field), dtype=np.float64).reshape(-1)
    if a.size == 0 or np.any(np.isnan(a)):
        raise NetError(f"NIR node '{name}': field '{field}' is empty or NaN")
    if np.any(a != a[0]):
        raise NetError(f"NIR node '{name}': field '{field}' differs between neurons (netx "
                       "holds one neuron config per layer)")
    return float(a[0])


def _decay(tau: float, dt: float, field: str, name: str, top: int) -> int:
    frac = dt / tau if tau > 0 else math.inf
    if frac > 1 or round(DECAY_UNITY * frac) > top:
        raise NetError(f"NIR node '{name}': {field}={tau:g} gives dt/{field}={frac:g} > 1 "
                       "(the decay is beyond 12 bits)")
    return int(round(DECAY_UNITY * frac))


def _zero_fields(node, name: str, fields: tuple[str, ...]) -> None:
    for f in fields:
        if getattr(node, f, None) is not None and _scalar(node, f, name) != 0:
            raise NetError(f"NIR node '{name}': field '{f}'={_scalar(node, f, name):g} must "
                           "be 0 (Loihi leaks and resets to 0)")


def _lif(node, name, dt):
    _zero_fields(node, name, ("v_leak", "v_reset"))
    tau = _scalar(node, "tau", name)
    return NeuronModel(DECAY_UNITY, _decay(tau, dt, "tau", name, DECAY_UNITY - 1),
                       _scalar(node, "r", name) * dt / tau, _scalar(node, "v_threshold", name))


def _if(node, name, dt):
    _zero_fields(node, name, ("v_reset",))
    return NeuronModel(DECAY_UNITY, 0, _scalar(node, "r", name) * dt,
                       _scalar(node, "v_threshold", name))


def _cuba(node, name, dt, threshold: bool):
    _zero_fields(node, name, ("v_leak", "v_reset"))
    ts, tm = _scalar(node, "tau_syn", name), _scalar(node, "tau_mem", name)
    gain = _scalar(node, "r", name) * dt / tm * _scalar(node, "w_in", name) * dt / ts
    return NeuronModel(_decay(ts, dt, "tau_syn", name, DECAY_UNITY),
                       _decay(tm, dt, "tau_mem", name, DECAY_UNITY - 1), gain,
                       _scalar(node, "v_threshold", name) if threshold else None)


NEURON_TABLE: dict[str, Callable] = {
    "LIF": _lif, "IF": _if,
    "LI": lambda n, name, dt: _lif_readout(n, name, dt),
    "CubaLIF": lambda n, name, dt: _cuba(n, name, dt, True),
    "CubaLI": lambda n, name, dt: _cuba(n, name, dt, False),
}


def _lif_readout(node, name, dt):
    _zero_fields(node, name, ("v_leak",))
    tau = _scalar(node, "tau", name)
    return NeuronModel(DECAY_UNITY, _decay(tau, dt, "tau", name, DECAY_UNITY - 1),
                       _scalar(node, "r", name) * dt / tau, None)


def neuron_model(name: str, node, dt: float) -> NeuronModel:
    """The Loihi neuron of a NIR neuron node (table dispatch; NetError on others)."""
    fn = NEURON_TABLE.get(type(node).__name__)
    if fn is None:
        raise NetError(f"NIR node '{name}': {type(node).__name__} is not a neuron")
    return fn(node, name, dt)


def fix_norse11_taus(node, dt: float):
    """Undo norse 1.1's ``tau = dt / tau_inv`` export: a copy with every tau divided by dt."""
    taus = [f for f in ("tau", "tau_mem", "tau_syn") if hasattr(node, f)]
    if not taus:
        return node
    return dataclasses.replace(node, **{f: np.asarray(getattr(node, f)) / dt for f in taus})


# -- synapses ----------------------------------------------------------------------------

def _dense(node, name, shape):
    w = np.asarray(node.weight, dtype=np.float64)
    if len(shape) != 1 or w.ndim != 2 or w.shape[1] != shape[0]:
        raise NetError(f"NIR node '{name}': weight {w.shape} does not take input {shape}")
    b = getattr(node, "bias", None)
    return w, None if b is None else np.asarray(b, np.float64).reshape(-1), {}


def _conv(node, name, shape):
    w = np.asarray(node.weight, dtype=np.float64)
    geo = {k: tuple(int(x) for x in np.broadcast_to(getattr(node, k), (2,)))
           for k in ("stride", "padding", "dilation")}
    if len(shape) != 3 or w.ndim != 4 or int(node.groups) != 1 or w.shape[1] != shape[0]:
        raise NetError(f"NIR node '{name}': conv weight {w.shape} (groups {node.groups}) "
                       f"does not take input {shape}")
    if isinstance(node.padding, str):
        raise NetError(f"NIR node '{name}': string padding {node.padding!r} is not supported")
    geo["out_hw"] = conv_out_hw(shape[1:], w.shape[2:], geo["stride"], geo["padding"],
                                geo["dilation"])
    return w, np.asarray(node.bias, np.float64).reshape(-1), geo


SYNAPSES: dict[str, Callable] = {"Affine": _dense, "Linear": _dense, "Conv2d": _conv}


def _exponent(gw: np.ndarray, threshold: float | None, name: str) -> int:
    peak = float(np.abs(gw).max())
    if peak == 0 or not math.isfinite(peak):
        raise NetError(f"NIR node '{name}': weights are all zero or not finite")
    e = math.floor(math.log2(W_TARGET / peak))
    if threshold is not None:
        if threshold <= 0:
            raise NetError(f"NIR node '{name}': v_threshold={threshold:g} must be > 0")
        e = min(e, math.floor(math.log2(VTH_MAX / threshold)))
        if peak * 2.0 ** e < 0.5:
            raise NetError(f"NIR node '{name}': v_threshold={threshold:g} is beyond 17 bits "
                           f"after scaling (every weight rounds to 0 at vThMant <= {VTH_MAX})")
    return e


def _bias(gb, e, model, names) -> np.ndarray | None:
    if gb is None or not np.any(gb):
        return None
    if model.i_decay != DECAY_UNITY:
        raise NetError(f"NIR node '{names[0]}': non-zero bias into a Cuba neuron "
                       f"('{names[1]}'): Loihi's bias enters v, not the current")
    b = np.round(gb * 2.0 ** e).astype(np.int64)
    if b.min() < BIAS_MANT_MIN or b.max() > BIAS_MANT_MAX:
        raise NetError(f"NIR node '{names[0]}': bias {b.min()}..{b.max()} after scaling is "
                       f"beyond 13 bits ({BIAS_MANT_MIN}..{BIAS_MANT_MAX})")
    return b


def stored_exponent(node, name: str) -> int | None:
    """The weight exponent an mskd export stored on a synapse node (metadata
    ``mskd_weight_exp``), or None."""
    e = (getattr(node, "metadata", None) or {}).get("mskd_weight_exp")
    if e is None:
        return None
    try:
        return int(np.asarray(e).reshape(-1)[0])
    except (TypeError, ValueError, IndexError):
        raise NetError(f"NIR node '{name}': metadata 'mskd_weight_exp' is not an integer "
                       f"({e!r})") from None


def quantize_pair(syn: tuple[str, object], neu: tuple[str, object], shape, dt: float):
    """(synapse node, neuron node) -> (netx layer, readout scale ``64 * 2**e``). The
    exponent ``e`` is the one an mskd export stored (so the round trip gives the same
    integers), else the largest that fits (see :mod:`mskd.convert.nir_import`)."""
    (sname, snode), (nname, nnode) = syn, neu
    model = neuron_model(nname, nnode, dt)
    w, b, geo = SYNAPSES[type(snode).__name__](snode, sname, shape)
    e = stored_exponent(snode, sname)
    if e is None:
        e = _exponent(model.gain * w, model.threshold, sname)
    wq = np.round(model.gain * w * 2.0 ** e).astype(np.int64)
    check_representable(wq, f"NIR node '{sname}'")
    vth = VTH_MAX if model.threshold is None else int(round(model.threshold * 2.0 ** e))
    if not 1 <= vth <= VTH_MAX:
        raise NetError(f"NIR node '{nname}': threshold scales to {vth} (outside 1..{VTH_MAX})")
    neuron = LifNeuron(model.i_decay, model.v_decay, vth)
    bias = _bias(None if b is None else model.gain * b, e, model, (sname, nname))
    if bias is None and b is not None and stored_exponent(snode, sname) is not None:
        bias = np.zeros(b.size, np.int64)  # an mskd export: the student's explicit zeros
    if geo:
        out = (w.shape[0], *geo["out_hw"])
        layer = ConvLayer(shape, out, wq, geo["stride"], geo["padding"], geo["dilation"], 1,
                          neuron, bias)
    else:
        layer = DenseLayer(w.shape[1], w.shape[0], wq, neuron, bias)
    return layer, (64.0 * 2.0 ** e if model.threshold is None else None)

"""Per-node conversion for the NIR importer: type -> function tables and the quantizer.

See :mod:`mskd.convert.nir.importer` for the discretisation and the refused ranges.

>>> import nir, numpy as np
>>> from mskd.convert.nir.conventions import Conventions
>>> from mskd.convert.nir.presets import PRESETS
>>> at_1ms = Conventions(PRESETS["nir"], 1e-3, "--dt")
>>> m = neuron_model("n", nir.LIF(tau=np.array(0.01), r=np.array(1.0), v_leak=np.array(0.0),
...                              v_threshold=np.array(1.0)), at_1ms)
>>> m.i_decay, m.v_decay, round(m.gain, 3), m.threshold
(4096, 410, 0.1, 1.0)
>>> neuron_model("n", nir.LIF(tau=np.array(1e-4), r=np.array(1.0), v_leak=np.array(0.0),
...                           v_threshold=np.array(1.0)), at_1ms)
Traceback (most recent call last):
...
mskd.errors.NetError: NIR node 'n': tau=0.0001 gives dt/tau=10 > 1 (the decay is beyond 12 bits)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from mskd.convert.nir.conventions import Conventions
from mskd.convert.nir.presets import SPIKING
from mskd.convert.quantize import check_representable

from mskd.errors import NetError
from mskd.loihi.lif import ACT_SHIFT, BIAS_MANT_MAX, BIAS_MANT_MIN, DECAY_UNITY, UV_MAX, VTH_MAX
from mskd.loihi.quantizers import WEIGHT_MANT_MAX, pow2_exponent
from mskd.net.spec import ConvLayer, DenseLayer, LifNeuron, conv_out_hw

W_TARGET = WEIGHT_MANT_MAX  # largest weight magnitude after scaling
CURRENT_MAX = UV_MAX >> ACT_SHIFT  # |a_in| (4096 / iDecay) <= 2**17: u = a << 6 in 24 bits


class NeuronModel(NamedTuple):
    """Loihi decays, the input gain folded into weights, threshold (None: readout)."""

    i_decay: int
    v_decay: int
    gain: float | np.ndarray  # per neuron where r or w_in differ
    threshold: float | np.ndarray | None
    syn_frac: float = 1.0  # the unrounded fractions lost per step (the float reference's)
    mem_frac: float = 0.0


class FloatLayer(NamedTuple):
    """A synapse + neuron pair before rounding, for the float reference
    (:mod:`mskd.convert.nir.fidelity`), and what rounding did to its weights.

    ``w`` and ``bias`` are in units of the neuron's v (input gain and per-row threshold
    folded in, pooling folded), ``geo`` the conv geometry (empty for dense), ``threshold``
    None for a readout. ``zeroed``: non-zero weights that rounded to 0; ``clipped``: weights
    beyond the 8-bit mantissa (only with an exponent stored by an mskd export).
    """

    synapse: str
    neuron: str
    w: np.ndarray
    bias: np.ndarray | None
    geo: dict
    in_shape: tuple[int, ...]
    syn_frac: float
    mem_frac: float
    threshold: float | None
    exponent: int
    weights: int
    zeroed: int
    clipped: int
    w_rec: np.ndarray | None = None  # a recurrent synapse (dense_rec), in v units
    delay: np.ndarray | None = None  # steps per synapse [out, in] (DelayDense)


TAU_FIELDS = ("tau", "tau_mem", "tau_syn")


def _values(node, field: str, name: str) -> np.ndarray:
    a = np.asarray(getattr(node, field), dtype=np.float64).reshape(-1)
    if a.size == 0 or np.any(np.isnan(a)):
        raise NetError(f"NIR node '{name}': field '{field}' is empty or NaN")
    return a


def _scalar(node, field: str, name: str, conv: Conventions | None = None) -> float:
    """The one value of ``field`` in the layer. Time constants that differ between
    neurons become their median under ``--approximate`` (recorded); otherwise refused."""
    a = _values(node, field, name)
    if np.all(a == a[0]):
        return float(a[0])
    if conv is None or field not in TAU_FIELDS:
        raise NetError(f"NIR node '{name}': field '{field}' differs between neurons "
                       f"({a.min():g} to {a.max():g}) and netx holds one neuron config per "
                       f"layer: give the layer one {field}")
    med = float(np.median(a))
    conv.allow(name, f"per-neuron {field}",
               f"field '{field}' differs between neurons ({a.min():g} to {a.max():g}) and "
               "netx holds one neuron config per layer: train with one time constant per "
               "layer", f"the median {field}={med:g} for every neuron")
    return med


def _per_neuron(node, field: str, name: str) -> float | np.ndarray:
    """One value, or one per neuron: input gains and thresholds that differ between neurons
    are folded into the weight rows (:func:`_row_gains`), exactly."""
    a = _values(node, field, name)
    return float(a[0]) if np.all(a == a[0]) else a


def _tau(node, field: str, name: str, conv: Conventions) -> float:
    tau = _scalar(node, field, name, conv)
    return tau / conv.dt if conv.preset.taus_times_dt else tau  # norse 1.1 writes dt * tau


def _decay(tau: float, conv: Conventions, field: str, name: str, top: int) -> int:
    frac = conv.dt / tau if tau > 0 else math.inf
    lost = conv.preset.decay_fraction(tau, conv.dt) if tau > 0 else math.inf
    if frac > 1 and conv.preset.decay == "euler" or round(DECAY_UNITY * lost) > top:
        raise NetError(f"NIR node '{name}': {field}={tau:g} gives dt/{field}={frac:g} > 1 "
                       "(the decay is beyond 12 bits)")
    return int(round(DECAY_UNITY * lost))


def _zero_fields(node, name: str, fields: tuple[str, ...]) -> None:
    for f in fields:
        if getattr(node, f, None) is not None and _scalar(node, f, name) != 0:
            raise NetError(f"NIR node '{name}': field '{f}'={_scalar(node, f, name):g} must "
                           "be 0 (Loihi leaks and resets to 0)")


def _semantics(kind: str, name: str, conv: Conventions) -> None:
    """Reset and spike rules NIR cannot state: refused or approximated (recorded)."""
    if kind not in SPIKING:
        return
    if conv.reset == "subtract":
        conv.allow(name, "subtract reset", conv.preset.reset_why or (
            "the source neurons reset by subtraction (--reset subtract) and Loihi resets to "
            "zero: retrain with reset to zero"),
            "reset to zero (the charge above threshold is lost at each spike)")
    if conv.spikes == "multi" and kind in conv.preset.spikes_kinds:
        conv.allow(name, "several spikes per step", conv.preset.spikes_why or (
            "the source neurons send several spikes per step (--spikes multi) and Loihi sends "
            "one: retrain with one spike per step"),
            "one spike per step (input beyond twice the threshold in one step is lost)")


_FIELDS = {"LIF": ("tau", "r"), "LI": ("tau", "r"), "IF": ("r",),
           "CubaLIF": ("tau_syn", "tau_mem", "r", "w_in"),
           "CubaLI": ("tau_syn", "tau_mem", "r", "w_in")}


def neuron_model(name: str, node, conv: Conventions) -> NeuronModel:
    """The Loihi neuron of a NIR neuron node under the exporter's conventions ``conv``
    (see :mod:`mskd.convert.nir.presets`); NetError on others and on what Loihi cannot
    keep (unless approximated)."""
    kind = type(node).__name__
    if kind not in _FIELDS:
        raise NetError(f"NIR node '{name}': {kind} is not a neuron")
    _zero_fields(node, name, ("v_reset",) if kind == "IF" else
                 ("v_leak",) if kind == "LI" else ("v_leak", "v_reset"))
    p = {f: _tau(node, f, name, conv) if f in TAU_FIELDS else _per_neuron(node, f, name)
         for f in _FIELDS[kind] if f != "w_in" or getattr(node, "w_in", None) is not None}
    if kind.startswith("Cuba"):
        p.setdefault("w_in", 1.0)  # NIR's default
    _semantics(kind, name, conv)
    frac = conv.preset.decay_fraction
    if kind == "IF":
        i_decay, v_decay, fs, fm = DECAY_UNITY, 0, 1.0, 0.0
    elif kind in ("LIF", "LI"):
        i_decay, v_decay = DECAY_UNITY, _decay(p["tau"], conv, "tau", name, DECAY_UNITY - 1)
        fs, fm = 1.0, frac(p["tau"], conv.dt)
    else:
        i_decay = _decay(p["tau_syn"], conv, "tau_syn", name, DECAY_UNITY)
        v_decay = _decay(p["tau_mem"], conv, "tau_mem", name, DECAY_UNITY - 1)
        fs, fm = frac(p["tau_syn"], conv.dt), frac(p["tau_mem"], conv.dt)
    threshold = _per_neuron(node, "v_threshold", name) if kind in SPIKING else None
    return NeuronModel(i_decay, v_decay, conv.preset.gain(kind, p, conv.dt), threshold,
                       fs, fm)


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


def _one(x) -> int:
    return int(np.asarray(x).reshape(-1)[0])


def _conv1d(node, name, shape):
    """NIR ``Conv1d`` on ``(C, L)`` as a ``(1, k)`` Conv2d on ``(C, 1, L)`` (the importer
    gives the map its unit height): weight ``[O, C, k]`` -> ``[O, C, 1, k]``."""
    w = np.asarray(node.weight, dtype=np.float64)
    if isinstance(node.padding, str):
        raise NetError(f"NIR node '{name}': string padding {node.padding!r} is not supported")
    if len(shape) != 3 or shape[1] != 1 or w.ndim != 3 or _one(node.groups) != 1 or \
            w.shape[1] != shape[0]:
        raise NetError(f"NIR node '{name}': conv1d weight {w.shape} (groups {node.groups}) "
                       f"does not take input {shape}")
    geo = {"stride": (1, _one(node.stride)), "padding": (0, _one(node.padding)),
           "dilation": (1, _one(node.dilation))}
    w = w[:, :, None, :]
    geo["out_hw"] = conv_out_hw(shape[1:], w.shape[2:], geo["stride"], geo["padding"],
                                geo["dilation"])
    return w, np.asarray(node.bias, np.float64).reshape(-1), geo


SYNAPSES: dict[str, Callable] = {"Affine": _dense, "Linear": _dense, "Conv2d": _conv,
                                 "Conv1d": _conv1d}


def _exponent(gw: np.ndarray, threshold: float | None, name: str,
              in_peak: int | None = None) -> int:
    """The largest ``e`` with ``max|gw| 2**e <= 127`` and ``threshold 2**e <= 2**17 - 1``;
    NetError naming the node when no weight survives (``in_peak``: graded payloads up to
    it shrink ``gw`` by the input scale, and the message says so)."""
    try:
        return _largest_exponent(gw, threshold, name)
    except NetError as exc:
        if in_peak is None:
            raise
        raise NetError(f"{exc}, with graded payloads up to {in_peak}: give a smaller "
                       "--input-scale or fewer --input-message-bits") from None


def _largest_exponent(gw: np.ndarray, threshold: float | None, name: str) -> int:
    peak = float(np.abs(gw).max())
    if peak == 0 or not math.isfinite(peak):
        raise NetError(f"NIR node '{name}': weights are all zero or not finite")
    e = pow2_exponent(peak, W_TARGET)
    if threshold is not None:
        if threshold <= 0:
            raise NetError(f"NIR node '{name}': v_threshold={threshold:g} must be > 0")
        e = min(e, pow2_exponent(threshold, VTH_MAX))
        if peak * 2.0 ** e < 0.5:
            raise NetError(f"NIR node '{name}': v_threshold={threshold:g} is beyond 17 bits "
                           f"after scaling (every weight rounds to 0 at vThMant <= {VTH_MAX})")
    return e


def _current_bound(wq: np.ndarray, peak: int, wq_rec, i_decay: int) -> float:
    """The largest current a layer's neurons can reach: ``max_i (sum_j |w_ij| P + sum_k
    |w_rec_ik|) 4096 / iDecay`` (payloads up to ``P``, the layer's own spikes 0/1; the
    current sums a geometric series of its input, ratio ``1 - iDecay / 4096``)."""
    a = np.abs(wq).reshape(wq.shape[0], -1).sum(1) * float(peak)
    if wq_rec is not None:
        a = a + np.abs(wq_rec).sum(1)
    return float(a.max()) * DECAY_UNITY / i_decay


def graded_exponent(gw: np.ndarray, gw_rec, e: int, peak: int, i_decay: int,
                    name: str, gb: np.ndarray | None = None) -> int:
    """The weight exponent of a synapse fed graded payloads up to ``peak``: at most ``e``,
    small enough that no input in range can wrap the 24-bit current
    (:func:`_current_bound` ``<= CURRENT_MAX``; not bounded for ``iDecay = 0``, a current
    that never decays), and that the bias ``gb`` keeps 13 bits (``max|gb| 2**e <= 4095``:
    ``1 / S`` in the weights lifts ``e`` by ``log2 S`` where binary input would not).
    NetError naming the node when the weights then round to 0."""
    if gb is not None and np.any(gb):
        e = min(e, pow2_exponent(float(np.abs(gb).max()), BIAS_MANT_MAX))
        if not np.round(gw * 2.0 ** e).any():
            raise NetError(f"NIR node '{name}': its bias keeps 13 bits only where every "
                           f"weight for payloads up to {peak} rounds to 0: give a smaller "
                           "--input-scale or fewer --input-message-bits")
    while e > -64 and i_decay:
        wq = np.round(gw * 2.0 ** e)
        wr = None if gw_rec is None else np.round(gw_rec * 2.0 ** e)
        if _current_bound(wq, peak, wr, i_decay) <= CURRENT_MAX:
            break
        e -= 1
    if not np.round(gw * 2.0 ** e).any():
        raise NetError(f"NIR node '{name}': graded payloads up to {peak} would wrap its "
                       "24-bit current unless every weight rounds to 0: narrow "
                       "--input-range or give fewer --input-message-bits")
    return e


def _bias(gb, e, model, names, conv: Conventions) -> np.ndarray | None:
    if gb is None or not np.any(gb):
        return None
    if model.i_decay != DECAY_UNITY:
        refusal = (f"non-zero bias into a Cuba neuron ('{names[1]}'): Loihi's bias enters v, "
                   "not the current: train without a bias on this layer")
        if model.i_decay == 0:  # the current never decays: no steady state to move into v
            raise NetError(f"NIR node '{names[0]}': {refusal}")
        factor = DECAY_UNITY / model.i_decay
        conv.allow(names[0], "bias into a current-based layer", refusal,
                   f"the bias added to v at its steady-state value (bias x {factor:.4g}; "
                   "exact once the current has settled, a few tau_syn after the start)")
        gb = gb * factor
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


def _check_sizes(name: str, node, channels: int, n_out: int) -> None:
    """Each neuron parameter holds one value per layer, per channel or per neuron of the
    synapse before it (graphs read without NIR's type check are checked here)."""
    for f in _FIELDS[type(node).__name__] + ("v_threshold",):
        size = np.asarray(getattr(node, f, 1.0)).size
        if size not in (1, channels, n_out):
            raise NetError(f"NIR node '{name}': field '{f}' has {size} values but the "
                           f"synapse before it has {n_out} outputs")


def _fold_pool(pool, w, geo: dict, shape, name: str):
    """Weights and geometry of the synapse on the unpooled map (:mod:`.nir_pool`)."""
    from mskd.convert.nir.pool import fold_conv, fold_dense

    if not geo:
        return fold_dense(pool, w), geo, shape
    w2, stride, padding = fold_conv(pool, w, geo["stride"], geo["padding"], geo["dilation"],
                                    name)
    out_hw = conv_out_hw(pool.in_shape[1:], w2.shape[2:], stride, padding, (1, 1))
    if tuple(out_hw) != tuple(geo["out_hw"]):
        raise NetError(f"NIR node '{name}': folding pooling '{pool.name}' changes the output "
                       f"size {tuple(geo['out_hw'])} -> {tuple(out_hw)}")
    return w2, {**geo, "stride": stride, "padding": padding}, pool.in_shape


def _per_row(x, rows: int, n_out: int, name: str, field: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64).reshape(-1)
    if a.size == 1:
        return np.full(rows, a[0])
    if a.size == n_out and n_out != rows:  # per position of a conv map: per channel only
        a = a.reshape(rows, -1)
        if np.any(a != a[:, :1]):
            raise NetError(f"NIR node '{name}': {field} differs within a conv channel (a conv "
                           f"shares its weights across positions): give each channel one "
                           f"{field}")
        a = a[:, 0]
    return a


def _row_gains(model: NeuronModel, rows: int, n_out: int, name: str):
    """Per output row (neuron, or conv channel): the factor folded into its weights and
    bias, and the layer's one threshold. Thresholds that differ become the largest, each
    row scaled by ``max / own``: v and the threshold scale together, so every spike stays
    where it was (reset to zero, no leak to a non-zero potential)."""
    gain = _per_row(model.gain, rows, n_out, name, "the input gain (r, w_in)")
    if model.threshold is None:
        return gain, None
    thr = _per_row(model.threshold, rows, n_out, name, "v_threshold")
    if np.any(thr <= 0):
        raise NetError(f"NIR node '{name}': v_threshold={thr.min():g} must be > 0")
    return gain * thr.max() / thr, float(thr.max())


def delay_steps(node, name: str, shape, dt: float) -> np.ndarray:
    """A NIR ``Delay`` (seconds, per element of ``shape``) as whole steps of ``dt``."""
    from mskd.net.spec import MAX_DELAY

    d = np.asarray(node.delay, dtype=np.float64)
    n = int(np.prod(shape))
    if d.size not in (1, n) or not np.all(np.isfinite(d)) or np.any(d < 0):
        raise NetError(f"NIR node '{name}': field 'delay' needs 1 or {n} values >= 0 for "
                       f"input {tuple(shape)}, got {d.size}")
    steps = d.reshape(-1) / dt
    k = np.round(steps)
    if np.any(np.abs(steps - k) > 1e-6 * np.maximum(1, steps)) or k.max() > MAX_DELAY:
        raise NetError(f"NIR node '{name}': field 'delay' ({d.min():g} to {d.max():g}) is not "
                       f"a whole number of steps of dt={dt:g} within 0..{MAX_DELAY}")
    return np.broadcast_to(k.astype(np.int64), (n,)).reshape(shape).copy() if d.size == 1 \
        else k.astype(np.int64).reshape(shape)


def _scale_in(w, in_scale, geo: dict, shape, name: str):
    """A Scale on the synapse's input spikes, folded into its columns (:mod:`.nir_scale`)."""
    from mskd.convert.nir.scale import per_channel

    if geo:
        s = per_channel(np.broadcast_to(in_scale, shape), name, "a conv after it")
        return w * s.reshape(1, -1, 1, 1)
    return w * np.broadcast_to(in_scale, shape).reshape(1, -1)


def quantize_pair(syn: tuple[str, object], neu: tuple[str, object], shape,
                  conv: Conventions, pool=None, in_scale=None, out_scale=None, rec=None,
                  delay=None, in_peak: int | None = None):
    """(synapse node, neuron node) -> (netx layer, readout scale ``64 * 2**e``, its
    :class:`FloatLayer`); ``in_scale`` / ``out_scale``: NIR Scales folded into the
    synapse's columns / rows (:mod:`mskd.convert.nir.scale`); ``rec``: (name, node) of a
    recurrent synapse from the neuron's spikes to itself (netx ``dense_rec``: its input
    gain is the neuron's, its bias adds to the layer's, one exponent for both matrices).
    The exponent ``e`` is the one an mskd export stored (so the round trip gives the same
    integers), else the largest that fits (see :mod:`mskd.convert.nir.importer`); ``in_peak``:
    the largest graded payload into the synapse (None: binary spikes), which caps the
    exponent (:func:`graded_exponent`)."""
    (sname, snode), (nname, nnode) = syn, neu
    w, b, geo = SYNAPSES[type(snode).__name__](snode, sname, shape)
    if delay is not None and (geo or rec is not None):
        raise NetError(f"NIR node '{sname}': a Delay before a {'conv' if geo else 'recurrent'}"
                       " layer: netx delays only plain dense synapses (DelayDense)")
    dmat = None if delay is None or not np.any(delay) else \
        np.repeat(np.asarray(delay).reshape(1, -1), w.shape[0], axis=0)
    if in_scale is not None:  # a NIR Scale on the spikes into this synapse
        w = _scale_in(w, in_scale, geo, shape, sname)
    if out_scale is not None:  # a NIR Scale between this synapse and its neuron
        r = _per_row(out_scale, w.shape[0], w.shape[0] * int(np.prod(geo.get("out_hw", (1,)))),
                     sname, "the Scale after it")
        w = r.reshape(-1, *[1] * (w.ndim - 1)) * w
        b = None if b is None else r * b
    if pool is not None:  # a pooling node before the synapse: one synapse on its input
        w, geo, shape = _fold_pool(pool, w, geo, shape, sname)
    n_out = w.shape[0] * int(np.prod(geo.get("out_hw", (1,))))
    _check_sizes(nname, nnode, w.shape[0], n_out)
    model = neuron_model(nname, nnode, conv)
    rows, threshold = _row_gains(model, w.shape[0], n_out, nname)
    gw = rows.reshape(-1, *[1] * (w.ndim - 1)) * w
    gw_rec = wq_rec = None
    if rec is not None:
        w_rec, b_rec, _ = _dense(rec[1], rec[0], (n_out,))
        if geo or w_rec.shape != (n_out, n_out):
            raise NetError(f"NIR node '{rec[0]}': a recurrent synapse {w_rec.shape} on "
                           f"{'a conv' if geo else 'a dense'} layer of {n_out} neurons: netx "
                           "runs recurrence as dense_rec ([n, n] on a dense layer) only")
        gw_rec = rows[:, None] * w_rec
        if b_rec is not None and np.any(b_rec):  # added every step: the layer's bias
            b = b_rec if b is None else b + b_rec
    e = stored_exponent(snode, sname)
    if e is None:
        e = _exponent(gw if gw_rec is None else np.concatenate([gw, gw_rec], 1), threshold,
                      sname, in_peak)
    if in_peak is not None:
        e = graded_exponent(gw, gw_rec, e, in_peak, model.i_decay, sname,
                            None if b is None else rows * b)
    wq = np.round(gw * 2.0 ** e).astype(np.int64)
    if gw_rec is not None:
        wq_rec = np.round(gw_rec * 2.0 ** e).astype(np.int64)
    both = (wq, gw) if wq_rec is None else (np.concatenate([wq, wq_rec], 1),
                                             np.concatenate([gw, gw_rec], 1))
    flt = FloatLayer(sname, nname, gw, None if b is None else rows * b, dict(geo),
                     tuple(shape), model.syn_frac, model.mem_frac, threshold, e,
                     int(both[0].size), int(np.count_nonzero((both[0] == 0) & (both[1] != 0))),
                     int(np.count_nonzero(np.abs(both[0]) > W_TARGET)), gw_rec, dmat)
    check_representable(wq, f"NIR node '{sname}'", w_rec=wq_rec)
    vth = VTH_MAX if threshold is None else int(round(threshold * 2.0 ** e))
    if not 1 <= vth <= VTH_MAX:
        raise NetError(f"NIR node '{nname}': threshold scales to {vth} (outside 1..{VTH_MAX})")
    neuron = LifNeuron(model.i_decay, model.v_decay, vth)
    bias = _bias(None if b is None else rows * b, e, model, (sname, nname), conv)
    if bias is None and b is not None and stored_exponent(snode, sname) is not None:
        bias = np.zeros(b.size, np.int64)  # an mskd export: the student's explicit zeros
    if geo:
        out = (w.shape[0], *geo["out_hw"])
        layer = ConvLayer(shape, out, wq, geo["stride"], geo["padding"], geo["dilation"], 1,
                          neuron, bias)
    else:
        layer = DenseLayer(w.shape[1], w.shape[0], wq, neuron, bias, delay=dmat,
                           weight_rec=wq_rec)
    return layer, (2.0 ** (ACT_SHIFT + e) if model.threshold is None else None), flt

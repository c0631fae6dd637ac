"""Import a NIR graph into Loihi fixed point and write netx HDF5.

Accepted: a chain Input -> ([pool] -> [Flatten] -> synapse -> neuron)* -> Output, where a
synapse is ``Affine``, ``Linear`` or ``Conv2d``, a neuron ``CubaLIF``, ``LIF``, ``IF``, or,
as the last layer only, a never-spiking ``LI``/``CubaLI`` readout, and a pool
``SumPool2d``/``AvgPool2d``, folded exactly into the synapse after it
(:mod:`mskd.convert.nir.pool`); a ``Scale`` is folded into the synapse next to it
(:mod:`mskd.convert.nir.scale`). A ``Conv1d`` runs as a ``(1, k)`` Conv2d: a ``(C, L)``
graph input is deployed as ``(C, 1, L)``, and every Conv1d map gets a unit height. The
graph input is binary spikes (netx Input layer without neurons), or, given ``graded``
(``--input-message-bits N``, :mod:`mskd.loihi.graded`), analog values ``x`` sent as signed
``N``-bit payloads ``round(x S)``: ``1 / S`` is folded into the first synapse's columns
(as a NIR Scale on its input), and its exponent is capped so that no payload in the
declared range can wrap the 24-bit current
(:func:`mskd.convert.nir.layers.graded_exponent`). NIR cannot say whether a graph's
input is spikes or analog values: binary spikes are assumed unless graded input is asked
for.

Discretisation with step ``dt`` (forward Euler, NIR's equations), per layer:
``dv = round(4096 dt / tau_mem)``, ``iDecay = round(4096 dt / tau_syn)`` (4096, i.e. no
current memory, for LIF/IF/LI), ``dv = 0`` for IF. The input gain of the neuron
(``R dt / tau_mem``, times ``w_in dt / tau_syn`` for Cuba, ``R dt`` for IF) is folded into
the weights ``gW``; the layer's power-of-two scale ``2**e`` is the largest with
``max|gW| 2**e <= 127`` and ``threshold 2**e <= 2**17 - 1``; then ``w = round(gW 2**e)``,
``vThMant = round(threshold 2**e)``, ``bias = round(g b 2**e)``. Loihi adds the new current
to v in the same step (``v' = .. + u'``) where Euler uses the old one: a Cuba layer runs
one step earlier than its NIR reference. Readout: ``v / (64 2**e)`` of the last layer.

Refused, each with a NetError naming the node (Loihi/netx cannot hold it):

* ``Threshold``, ``I``, a ``Delay`` anywhere but on the spikes into a dense synapse
  (there: netx DelayDense, one delay per input, ``round(delay / dt)`` steps), nested
  graphs, branches, merges and recurrent edges other than a synapse from a dense layer's
  spikes back to itself (``lif -> Affine/Linear -> lif``, snnTorch's RLeaky: netx
  ``dense_rec``) (netx runs chains of conv/dense); padded pools, and a padded or
  dilated conv after a pool that does not tile its map (not one conv);
* time constants with ``dt / tau > 1`` (decays beyond 12 bits: ``vDecay`` <= 4095,
  ``iDecay`` <= 4096) and time constants that differ within a layer (netx stores one neuron
  config per layer; thresholds and input gains that differ are folded into each row's
  weights and bias, exactly: v and its threshold scale together);
* ``v_leak != 0`` and ``v_reset != 0`` (Loihi leaks to 0 and resets to 0);
* a threshold <= 0 or one that scales below 1 (``vThMant`` is unsigned 17-bit);
* weights that are all zero after scaling, or biases beyond 13 bits after scaling; a
  non-zero bias on a Cuba layer (Loihi's bias enters v, not the current);
* a neuron without a synapse before it, two synapses in a row, a readout (LI) that is not
  last, a Conv2d with dilation or groups other than 1 on a non-(C, H, W) input.

The formulas above are NIR's own equations (``--from nir``). NIR stores no time step, and
each framework's exporter writes its neurons under conventions of its own: ``--from
snntorch|sinabs|norse|rockpool`` reads them as that exporter means them (its step, its
decay rule, its input gains: :mod:`mskd.convert.nir.presets`), and a graph whose time base
is not known is refused (:mod:`mskd.convert.nir.conventions`). What Loihi cannot keep
(subtract reset, several spikes per step, time constants that differ within a layer, a bias
into a current-based layer) is refused naming the node, or with ``--approximate`` converted
the nearest way Loihi can run and listed in the report (``approximations``).

A graph written by ``mskd convert --nir`` (:mod:`mskd.convert.nir.export`) comes back as
the network it was exported from: its first pair (``0_gain``, tagged ``mskd_role =
"bias_input"``: the host-side input gain, then the input neurons) becomes the bias-driven
netx Input layer, each synapse keeps its stored weight exponent (``mskd_weight_exp``), and
the input encoding (graph metadata ``mskd_encoding``) is written into the ``.net`` file.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mskd.convert.nir.conventions import Approximation, Conventions, resolve
from mskd.convert.nir.graph import Recurrent, chain, resolve_none
from mskd.convert.nir.layers import SYNAPSES, delay_steps, quantize_pair
from mskd.convert.nir.pool import POOLS, pool_of
from mskd.convert.nir.presets import PRESETS
from mskd.convert.nir.scale import fold_scale, last_scale, per_channel, scale_map

from mskd.errors import NetError
from mskd.loihi.graded import GradedInput
from mskd.net.spec import FlattenLayer, InputLayer, NetSpec


@dataclass(frozen=True)
class NirImport:
    """The imported network, its readout scale and the NIR node behind each layer."""

    spec: NetSpec
    readout_scale: float
    sources: tuple[str, ...]
    conventions: Conventions
    approximations: tuple[Approximation, ...] = ()
    floats: tuple = ()  # one FloatLayer per synaptic layer (nir_layers), for the fidelity
    bias_input: bool = False  # an mskd export: a bias-driven input layer (frames, not spikes)
    graded: GradedInput | None = None  # analog input sent as payloads (mskd.loihi.graded)


def _input_shape(graph) -> tuple[int, ...]:
    import nir

    node = next(n for n in graph.nodes.values() if isinstance(n, nir.Input))
    shape = tuple(int(s) for s in np.asarray(node.input_type["input"]).reshape(-1))
    return shape[1:] if len(shape) in (2, 4) and shape[0] == 1 else shape


def _bias_input(nodes, shape, conv: Conventions):
    """The mskd-exported input pair as a bias-driven InputLayer (or None), and its gain."""
    from mskd.convert.nir.layers import neuron_model

    from mskd.loihi.neurons import LifNeuron

    if len(nodes) < 2 or nodes[0][1] is None:
        return None, None
    name, gain_node = nodes[0]
    if (getattr(gain_node, "metadata", None) or {}).get("mskd_role") != "bias_input":
        return None, None
    w = np.asarray(gain_node.weight, dtype=np.float64)
    gain = float(w.reshape(w.shape[0], -1).max()) if w.size else 0.0
    if w.ndim != 4 or w.shape[:2] != (shape[0], shape[0]) or not np.array_equal(
            w.reshape(shape[0], shape[0]), np.eye(shape[0]) * gain) or gain <= 0:
        raise NetError(f"NIR node '{name}': tagged 'bias_input' but not a 1x1 diagonal gain")
    model = neuron_model(nodes[1][0], nodes[1][1], conv)
    if model.threshold is None or np.ndim(model.threshold) or \
            model.threshold != round(model.threshold):
        raise NetError(f"NIR node '{nodes[1][0]}': an input layer needs an integer threshold "
                       "(vThMant)")
    neuron = LifNeuron(model.i_decay, model.v_decay, int(model.threshold))
    return InputLayer(tuple(shape), neuron), gain


def _graded_scale(graded, first, nodes, shape) -> np.ndarray | None:
    """``1 / S`` on every input (:mod:`mskd.loihi.graded`): folded into the first synapse's
    columns, as a NIR Scale on its input would be, so ``W round(x S) / S ~= W x``."""
    if graded is None:
        return None
    if first is not None:
        raise NetError(f"NIR node '{nodes[0][0]}': this mskd export's input layer takes "
                       "frames (bias_input), not graded payloads: drop --input-message-bits")
    return np.full(shape, 1.0 / graded.input_scale)


def _layers(nodes, shape, conv: Conventions, graded=None):
    if len(shape) == 2:  # (C, L), the input of a Conv1d: a (C, 1, L) map (see above)
        shape = (shape[0], 1, shape[1])
    first, _ = _bias_input(nodes, shape, conv)
    layers, sources, pending, scale = [first or InputLayer(shape)], ["input"], None, None
    floats = []  # insc: a Scale on the spikes (or graded input's 1 / S), folded into the
    insc = _graded_scale(graded, first, nodes, shape)  # next synapse
    dly = None  # a Delay on the spikes (steps per element), into the next synapse
    pool = None  # a pooling node waiting for the synapse it folds into (nir_pool)
    if first is not None:
        nodes, sources = nodes[2:], [nodes[1][0]]
    for i, (name, node) in enumerate(nodes):
        node = resolve_none(nodes, i, shape) if node is None else node
        kind = type(node).__name__
        if scale is not None:
            raise NetError(f"NIR node '{name}': the readout ({sources[-1]}) must be last")
        if kind == "Delay":  # on the spikes into the next (dense) synapse: netx DelayDense
            if pending is not None or pool is not None or dly is not None:
                raise NetError(f"NIR node '{name}': a Delay must sit on the spikes into a "
                               "dense synapse (after a neuron layer or the input, once)")
            dly = delay_steps(node, name, shape, conv.dt)
            continue
        if kind == "Scale":
            if pending is not None:  # between a synapse and its neuron: scales its rows
                pending = (*pending[:4], fold_scale(pending[4], node, name), *pending[5:])
            else:  # on the spikes into the next synapse: scales its columns
                insc = scale_map(insc, node, name, shape)
            continue
        if kind in POOLS:
            if dly is not None:
                raise NetError(f"NIR node '{name}': pooling after a Delay is not one synapse "
                               "with delays: put the Delay after the pooling")
            if insc is not None:
                insc = per_channel(insc, name, "a pooling after it").reshape(-1, 1, 1)
            if pending is not None or pool is not None:
                raise NetError(f"NIR node '{name}': pooling must sit between a neuron layer "
                               "(or the input) and the next synapse, once")
            pool = pool_of(name, node, shape)
            shape = pool.out_shape
            continue
        if kind == "Flatten":
            if pending is not None:
                raise NetError(f"NIR node '{name}': flatten between a synapse and its neuron")
            unpooled = shape if pool is None else pool.in_shape
            layers.append(FlattenLayer(unpooled, (int(np.prod(unpooled)),)))
            if insc is not None:
                insc = np.broadcast_to(insc, shape).reshape(-1)
            if dly is not None:
                dly = dly.reshape(-1)
            shape = (int(np.prod(shape)),)
            sources.append(name)
            continue
        if kind in SYNAPSES:
            if pending is not None:
                raise NetError(f"NIR node '{name}': two synapses in a row ({pending[0]})")
            pending, pool, insc = (name, node, shape, pool, None, insc, dly), None, None
            dly = None
            continue
        if pending is None:
            raise NetError(f"NIR node '{name}': a {kind} neuron needs a synapse before it")
        rec = None
        if isinstance(node, Recurrent):  # a recurrent synapse on this neuron: dense_rec
            rec, node = (node.rec_name, node.rec), node.neuron
        layer, scale, flt = quantize_pair(pending[:2], (name, node), pending[2], conv,
                                          pending[3], pending[5], pending[4], rec,
                                          pending[6], None if graded is None or floats
                                          else graded.peak)
        layers.append(layer)
        floats.append(flt)
        pending = None
        shape = layers[-1].out_shape
        sources.append(name)
    if dly is not None:
        raise NetError(f"NIR node '{[n for n, x in nodes if type(x).__name__ == 'Delay'][-1]}'"
                       ": a Delay after the last layer has no synapse to delay: export the "
                       "network without it")
    if insc is not None:
        raise NetError(f"NIR node '{last_scale(nodes)}': a Scale after the last layer has no "
                       "synapse to fold into: export the network without it")
    if pending is not None or pool is not None:
        last = pending[0] if pending is not None else pool.name
        raise NetError(f"NIR node '{last}': {'synapse' if pending else 'pooling'} without a "
                       f"{'neuron' if pending else 'synapse'} after it")
    return layers, sources, scale, floats, first is not None


def stored_encoding(graph):
    """The :class:`~mskd.net.encoding.InputEncoding` an mskd export stored, or None."""
    from mskd.net.encoding import InputEncoding

    raw = (getattr(graph, "metadata", None) or {}).get("mskd_encoding")
    if raw is None:
        return None
    try:
        return InputEncoding.from_json(raw.decode() if isinstance(raw, bytes) else str(raw))
    except (ValueError, TypeError) as exc:
        raise NetError(f"NIR graph: metadata 'mskd_encoding' is not a valid encoding "
                       f"({exc})") from None


def nir_to_netspec(graph, conv: Conventions | float,
                   graded: GradedInput | None = None) -> NirImport:
    """Quantize a NIR graph (see the module docstring) into a :class:`NetSpec`, read under
    ``conv`` (:func:`mskd.convert.nir.conventions.resolve`; a number is a step in seconds
    under NIR's own equations); ``graded``: the input is analog, sent as payloads
    ``round(x S)`` of ``input_message_bits`` bits (:mod:`mskd.loihi.graded`)."""
    if not isinstance(conv, Conventions):
        conv = Conventions(PRESETS["nir"], float(conv), "dt argument")
    conv = Conventions(conv.preset, conv.dt, conv.origin, conv.reset, conv.spikes,
                       conv.approximate)  # a fresh list of notes for this import
    nodes = chain(graph)
    layers, sources, scale, floats, bias_input = _layers(nodes, _input_shape(graph), conv,
                                                         graded)
    try:
        spec = NetSpec(tuple(layers), graded.input_message_bits if graded else 0)
    except ValueError as exc:
        raise NetError(f"NIR graph: {exc}") from None
    return NirImport(spec, float(scale or 1.0), tuple(sources), conv, tuple(conv.notes),
                     tuple(floats), bias_input, graded)


def read_graph(src: str | Path):
    """``nir.read``; a graph whose stored types carry a batch dimension (snnTorch, norse and
    rockpool trace with a batched sample) fails NIR's type check, so such a file is read
    again without it: the importer checks every shape itself (synapse against the shape
    flowing in, neuron parameters against the synapse's outputs)."""
    import nir

    try:
        return nir.read(str(src))
    except ValueError as exc:
        if "Type inference error" not in str(exc):
            raise
    return nir.read(str(src), type_check=False)


def convert_nir(src: str | Path, out: str | Path, dt: float | None = None,
                profiles: Sequence[str] | None = None, report: str | None = None,
                source: str | None = None, reset: str | None = None,
                spikes: str | None = None, approximate: bool = False,
                data: str | None = None, samples: int = 128,
                graded: GradedInput | None = None) -> dict:
    """Read ``src`` (``nir.read``), choose its conventions (``source``: ``--from``; ``dt``,
    ``reset``, ``spikes``, ``approximate``: see :func:`~mskd.convert.nir.conventions.resolve`),
    import (``graded``: analog input sent as payloads, :mod:`mskd.loihi.graded`), map, measure
    the fidelity (:mod:`mskd.convert.nir.fidelity`, on ``data``: a ``.npy`` of input spikes,
    or analog values with ``graded``, or ``samples`` random ones; 0: not measured), and
    write ``out`` atomically (with the graded-input record); nothing is written on any
    error."""
    from mskd.convert.fit_check import map_profiles
    from mskd.convert.netx_writer import write_net
    from mskd.convert.nir.fidelity import fidelity, load_inputs
    from mskd.convert.pipeline import check_outputs
    from mskd.convert.report import network_rows, write_reports

    check_outputs(out, report)
    try:
        graph = read_graph(src)
    except Exception as exc:  # noqa: BLE001 - nir/h5py raise many kinds on a bad file
        raise NetError(f"{src}: not a readable NIR file "
                       f"({' '.join(str(exc).split())[:200] or type(exc).__name__})") from None
    try:
        imp = nir_to_netspec(graph, resolve(graph, source, dt, reset, spikes, approximate),
                             graded)
    except NetError as exc:
        raise NetError(f"{src}: {exc}") from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        raise NetError(f"{src}: NIR graph not understood "
                       f"({' '.join(str(exc).split())[:200] or type(exc).__name__})") from None
    enc = stored_encoding(graph)
    mapping = map_profiles(imp.spec, profiles)
    if imp.bias_input:  # frames drive its input layer: mskd convert --eval measures it
        if data is not None:
            raise NetError(f"{src}: --data gives input spikes, but this mskd export's input "
                           "layer takes frames: drop --data")
        fid = None
    elif data is None and samples == 0:
        fid = None
    else:
        x = None if data is None else load_inputs(data, imp.spec.layers[0].out_shape,
                                                  imp.graded)
        fid = fidelity(imp, x, None if data is None else f"{data} ({x.shape[0]} inputs)",
                       samples)
    write_net(imp.spec, enc, out, graded=imp.graded)
    result = {"source": str(src), "out": str(out), "network": network_rows(imp.spec),
              "mapping": mapping, "readout_scale": imp.readout_scale,
              "nir_nodes": list(imp.sources), "conventions": imp.conventions.to_json(),
              "approximations": [a.to_json() for a in imp.approximations]}
    if imp.graded is not None:
        result["graded_input"] = {**json.loads(imp.graded.to_json()),
                                  "payload": imp.graded.describe()}
    if fid is not None:
        result["fidelity"] = fid
    if enc is not None:
        result["encoding"] = enc.to_json()
    if report:
        write_reports(report, result)
    return result

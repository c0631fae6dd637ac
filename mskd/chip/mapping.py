"""Core mapping: split every neuron layer onto cores within a hardware profile's limits.

Each layer is partitioned on its own (cores are never shared between layers), greedily in
flat neuron order: a core takes the next neuron while its neuron count, its synapse count
(memory), its distinct input axons and its output axons stay within the profile's
per-core limits. Layers are split last to first, because a neuron's output axons depend
on how the next layer was split. Then the design rules (:mod:`mskd.chip.rules`) check
every core; they fire when a single neuron alone exceeds a limit, or for the chip count.

Synapse memory assumption (conservative): Loihi 1 has no weight sharing between cores, so
a conv layer is stored *dense-expanded* -- every (output neuron, input neuron) pair under
the kernel is one stored synapse of ``weight_bits`` bits, in the core of its output
neuron. Shared-kernel storage would need far less memory; we do not assume it. Only the
weight bits are counted (Loihi's per-synapse index and delay bits are not published per
format), so this is a lower bound on the bits a real compiler would use.

Placement order: a (C, H, W) layer is split in (H, W, C) order -- a core takes a spatial
patch with all its channels, as conv mappings on Loihi usually do -- so that one source
pixel reaches few cores and fan-out axons stay low; vectors are split in index order.
``CoreLoad.start``/``stop`` are positions in that order (``LayerMapping.neurons_of``).

Fan-in axons of a core = distinct source neurons that reach any of its neurons. Fan-out
axons of a core = for each of its neurons, the number of distinct cores of the next layer
it reaches, summed (one output axon per source neuron and destination core).

>>> from mskd.hw_profiles import load_profile
>>> from mskd.net.spec import DenseLayer, LifNeuron, NetSpec, InputLayer
>>> import numpy as np
>>> lif = LifNeuron(1024, 128, 80)
>>> dense = DenseLayer(3000, 10, np.ones((10, 3000), np.int64), lif)
>>> spec = NetSpec((InputLayer((3000,), lif), dense))
>>> m = map_network(spec, load_profile("loihi1"))
>>> [lm.n_cores for lm in m.layers], m.total_cores, m.chips
([3, 1], 4, 1)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np

from mskd.chip.loihi2_partition import (
    dense_neurons_per_core,
    dense_words,
    map_chunks,
    map_order,
)
from mskd.chip.synapses import (
    feedforward_inputs,
    kind_of,
    layer_synapses,
    n_neurons,
    weight_bits,
)

__all__ = ["CoreLimits", "CoreLoad", "CoreMapping", "LayerMapping", "map_network"]


@dataclass(frozen=True)
class CoreLimits:
    """Per-core and per-chip limits taken from a hardware profile (None: unlimited)."""

    neurons: int
    fan_in_axons: int
    fan_out_axons: int
    cores_per_chip: int
    weight_bits_min: int
    weight_bits_max: int
    synapse_memory_bits: int | None
    synapses: int | None
    max_chips: int | None = None
    assumed: tuple[str, ...] = ()  # profile keys (``limits.<key>``) marked assumed
    graded_spike_bits_max: int | None = None  # None: the chip has no graded spikes
    mapper: str = "greedy"  # or "loihi2": the Loihi 2 compiler's rules (loihi2_partition)
    synapse_words: int | None = None  # synaptic-memory words per core (loihi2 mapper)
    synapse_word_bits: int | None = None
    synapse_entry_bits: int | None = None

    @classmethod
    def from_profile(cls, profile, max_chips: int | None = None) -> CoreLimits:
        if profile.kind != "neuromorphic":
            raise ValueError(f"profile {profile.name} is '{profile.kind}', not neuromorphic")
        lim = profile.limit
        return cls(lim("neurons_per_core"), lim("fan_in_axons_per_core"),
                   lim("fan_out_axons_per_core"), lim("cores_per_chip"),
                   lim("weight_bits_min"), lim("weight_bits_max"),
                   profile.synapse_memory_bits(), lim("synapses_per_core"), max_chips,
                   tuple(k for k in profile.assumed_keys() if k.startswith("limits.")),
                   lim("graded_spike_bits_max"), profile.mapper,
                   lim("synapse_words_per_core"), lim("synapse_word_bits"),
                   lim("synapse_entry_bits"))

    def synapse_capacity(self, bits: int) -> int:
        """Synapses one core holds at ``bits`` per synapse (memory and count limits)."""
        caps = [c for c in (self.synapses,) if c is not None]
        if self.synapse_memory_bits is not None:
            caps.append(self.synapse_memory_bits // max(bits, 1))
        return min(caps)


@dataclass(frozen=True)
class CoreLoad:
    """One core: the neuron range ``[start, stop)`` of one layer and what it holds."""

    core: int
    layer: int
    start: int
    stop: int
    synapses: int
    synapse_bits: int
    fan_in_axons: int
    fan_out_axons: int
    words: int | None = None  # synaptic-memory words (loihi2 mapper, dense layers)

    @property
    def neurons(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class LayerMapping:
    """Cores of one neuron layer (``index`` is the layer's position in the NetSpec)."""

    index: int
    kind: str
    neurons: int
    synapses: int
    weight_bits: int
    shape: tuple[int, ...]
    cores: tuple[CoreLoad, ...]
    graded: bool = False  # sends or receives graded payloads (needs graded spikes)
    map_order: str = "hwc"  # how a (C, H, W) map is laid out: "hwc" or "whc" (loihi2)

    @property
    def n_cores(self) -> int:
        return len(self.cores)

    @property
    def order(self) -> str:
        """``hwc`` for (C, H, W) maps under the greedy mapper (a core takes a spatial patch
        with all its channels, so a source pixel reaches few cores), ``whc`` under the
        Loihi 2 compiler's (whole columns), ``flat`` for vectors."""
        return self.map_order if len(self.shape) == 3 else "flat"

    def placement(self) -> np.ndarray:
        """Flat (C, H, W) index of the neuron at each placement position."""
        return placement(self.shape, self.order)

    def neurons_of(self, core: CoreLoad) -> np.ndarray:
        """Flat indices of the neurons on ``core`` (a core of this layer)."""
        return self.placement()[core.start:core.stop]

    def core_of_neuron(self) -> np.ndarray:
        """Local core number (0..n_cores-1) of every neuron, by flat index."""
        out = np.empty(self.neurons, np.int64)
        out[self.placement()] = np.repeat(np.arange(self.n_cores),
                                          [c.neurons for c in self.cores])
        return out


def placement(shape: tuple[int, ...], order: str = "hwc") -> np.ndarray:
    """Placement order of a layer's neurons as flat indices: channels innermost for maps.

    >>> placement((2, 1, 2)).tolist()   # (c, h, w): (0,0,0) (1,0,0) (0,0,1) (1,0,1)
    [0, 2, 1, 3]
    >>> placement((1, 2, 2), "whc").tolist()  # whole columns first: (h, w) (0,0) (1,0) ...
    [0, 2, 1, 3]
    """
    n = int(np.prod(shape))
    if len(shape) != 3:
        return np.arange(n)
    if order == "whc":
        return map_order(shape)
    return np.arange(n).reshape(shape).transpose(1, 2, 0).reshape(-1)


@dataclass(frozen=True)
class CoreMapping:
    """A whole network on cores. ``to_json()`` gives a JSON-ready dict."""

    profile: str
    limits: CoreLimits
    layers: tuple[LayerMapping, ...]

    @property
    def total_cores(self) -> int:
        return sum(lm.n_cores for lm in self.layers)

    @property
    def chips(self) -> int:
        return -(-self.total_cores // self.limits.cores_per_chip)

    def layer(self, index: int) -> LayerMapping:
        """The mapping of NetSpec layer ``index``."""
        for lm in self.layers:
            if lm.index == index:
                return lm
        raise KeyError(f"layer {index} has no neurons on cores")

    def utilisation(self) -> dict[str, float]:
        """Mean fraction of each per-core budget used, over all cores."""
        cores = [c for lm in self.layers for c in lm.cores]
        lim = self.limits
        out = {"neurons": np.mean([c.neurons / lim.neurons for c in cores]),
               "fan_in_axons": np.mean([c.fan_in_axons / lim.fan_in_axons for c in cores]),
               "fan_out_axons": np.mean([c.fan_out_axons / lim.fan_out_axons for c in cores])}
        if lim.synapse_memory_bits:
            out["synapse_memory"] = np.mean([c.synapse_bits / lim.synapse_memory_bits
                                             for c in cores])
        if lim.synapses:
            out["synapses"] = np.mean([c.synapses / lim.synapses for c in cores])
        return {k: float(v) for k, v in out.items()}

    def to_json(self) -> dict:
        layers = [{**asdict(lm), "n_cores": lm.n_cores} for lm in self.layers]
        return {"profile": self.profile, "limits": asdict(self.limits), "layers": layers,
                "total_cores": self.total_cores, "chips": self.chips,
                "utilisation": self.utilisation()}


def _csr(syn, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(syn.out_idx, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(syn.out_idx, minlength=n_out))])
    return indptr, syn.in_idx[order]


def _partition(syn, n: int, limits: CoreLimits, bits: int,
               dest: np.ndarray | None) -> list[tuple[int, int, int, int, int]]:
    """Greedy split into ``(start, stop, synapses, fan_in_axons, fan_out_axons)``.

    ``dest[o]`` is the number of next-layer cores neuron ``o`` reaches (its output axons).
    A neuron that alone breaks a limit still gets a core, so the design rules report it.
    """
    dest = np.zeros(n, np.int64) if dest is None else dest
    indptr, inputs = _csr(syn, n) if syn is not None else (np.zeros(n + 1, np.int64), None)
    cap = limits.synapse_capacity(bits) if syn is not None else 0
    claimed = np.full(0 if syn is None else syn.n_in, -1, dtype=np.int64)
    no_inputs = np.zeros(0, np.int64)
    chunks, start, n_syn, n_ax, n_fo = [], 0, 0, 0, 0
    for o in range(n):
        src = inputs[indptr[o]:indptr[o + 1]] if syn is not None else no_inputs
        new = src[claimed[src] != len(chunks)]
        if o > start and (o - start >= limits.neurons or n_syn + src.size > cap
                          or n_ax + new.size > limits.fan_in_axons
                          or n_fo + dest[o] > limits.fan_out_axons):
            chunks.append((start, o, n_syn, n_ax, n_fo))
            start, n_syn, n_ax, n_fo, new = o, 0, 0, 0, src
        claimed[new] = len(chunks)
        n_syn, n_ax, n_fo = n_syn + src.size, n_ax + new.size, n_fo + int(dest[o])
    chunks.append((start, n, n_syn, n_ax, n_fo))
    return chunks


def destinations(syn_next, next_layer: LayerMapping | None, n: int,
                 offset: int = 0) -> np.ndarray | None:
    """Distinct cores of the next layer that each of ``n`` neurons reaches (the source
    neurons ``offset .. offset + n`` of ``syn_next``: a recurrent layer's own ones follow
    its inputs)."""
    if syn_next is None or next_layer is None:
        return None
    mine = (syn_next.in_idx >= offset) & (syn_next.in_idx < offset + n)
    dest = next_layer.core_of_neuron()[syn_next.out_idx[mine]]
    pairs = np.unique((syn_next.in_idx[mine] - offset) * next_layer.n_cores + dest)
    return np.bincount(pairs // next_layer.n_cores, minlength=n)


def own_destinations(syn, layer: LayerMapping | None, index_layer) -> np.ndarray | None:
    """A ``dense_rec`` layer's fan-out to its own cores (None for any other layer)."""
    if syn is None or layer is None or getattr(index_layer, "weight_rec", None) is None:
        return None
    n_ff = feedforward_inputs(index_layer)
    return destinations(syn, layer, layer.neurons, offset=n_ff)


def _chunk_loads(syn, n: int, bounds: list[tuple[int, int]],
                 dest: np.ndarray | None) -> list[tuple[int, int, int, int, int]]:
    """``(start, stop, synapses, fan_in_axons, fan_out_axons)`` of given neuron runs."""
    dest = np.zeros(n, np.int64) if dest is None else dest
    indptr, inputs = _csr(syn, n) if syn is not None else (np.zeros(n + 1, np.int64), None)
    out = []
    for a, b in bounds:
        src = inputs[indptr[a]:indptr[b]] if syn is not None else np.zeros(0, np.int64)
        out.append((a, b, int(src.size), int(np.unique(src).size), int(dest[a:b].sum())))
    return out


def _loihi2_bounds(layer, syn, n: int, limits: CoreLimits) -> tuple[list, int | None]:
    """Core runs under the Loihi 2 compiler's rules, and a dense core's words per axon."""
    shape = tuple(layer.out_shape)
    if len(shape) == 3:
        return map_chunks(shape, limits.neurons), None
    if syn is None:
        per = min(n, limits.neurons)
        return [(a, min(a + per, n)) for a in range(0, n, per)], None
    axons = int(syn.n_in)
    per = dense_neurons_per_core(n, axons, weight_bits(layer), limits.neurons,
                                 limits.synapse_words, limits.synapse_word_bits,
                                 limits.synapse_entry_bits)
    return [(a, min(a + per, n)) for a in range(0, n, per)], axons


def _layer(index, layer, syn, limits, dest, graded: bool = False) -> LayerMapping:
    n, bits = n_neurons(layer), max(weight_bits(layer), limits.weight_bits_min)
    shape = tuple(layer.out_shape)
    order = "whc" if limits.mapper == "loihi2" else "hwc"
    perm = placement(shape, order)
    if syn is not None:  # number output neurons by placement position
        position = np.empty(n, np.int64)
        position[perm] = np.arange(n)
        syn = replace(syn, out_idx=position[syn.out_idx])
    dest = None if dest is None else dest[perm]
    if limits.mapper == "loihi2":
        bounds, axons = _loihi2_bounds(layer, syn, n, limits)
        cores = tuple(
            CoreLoad(k, index, a, b, s, s * bits, ax, fo,
                     None if axons is None else dense_words(
                         b - a, axons, weight_bits(layer), limits.synapse_word_bits,
                         limits.synapse_entry_bits))
            for k, (a, b, s, ax, fo) in enumerate(_chunk_loads(syn, n, bounds, dest)))
    else:
        cores = tuple(CoreLoad(k, index, a, b, s, s * bits, ax, fo)
                      for k, (a, b, s, ax, fo) in enumerate(_partition(syn, n, limits, bits,
                                                                       dest)))
    return LayerMapping(index, kind_of(layer), n, 0 if syn is None else syn.count,
                        weight_bits(layer), shape, cores, graded, order)


def _loihi2_axons(layers: list[LayerMapping], syns: list) -> list[LayerMapping]:
    """Axons as the Loihi 2 compiler's table counts them (AxonIn, AxonMap columns).

    Into a conv tile: a conv synapse finds its weights by the sender's position, so a tile
    takes one input axon per source core that reaches it, and a source core one output
    axon per tile. Into a dense layer: one output axon per source neuron, whatever number
    of the layer's cores it reaches (PilotNet's conv layer before its 12-core dense layer
    maps 1,280 axons per core, one per neuron); the dense core's input axons stay its
    distinct source neurons (2,560)."""
    out = list(layers)
    for k in range(1, len(out)):
        dst, syn = out[k], syns[k]
        if syn is None:
            continue
        src = out[k - 1]
        keep = syn.in_idx < src.neurons  # a recurrent layer's own inputs come from itself
        src_core = src.core_of_neuron()
        if len(dst.shape) == 3:
            pairs = np.unique(src_core[syn.in_idx[keep]] * dst.n_cores
                              + dst.core_of_neuron()[syn.out_idx[keep]])
            fan_in = np.bincount(pairs % dst.n_cores, minlength=dst.n_cores)
            fan_out = np.bincount(pairs // dst.n_cores, minlength=src.n_cores)
            out[k] = replace(dst, cores=tuple(replace(c, fan_in_axons=int(fan_in[j]))
                                              for j, c in enumerate(dst.cores)))
        else:
            fan_out = np.bincount(src_core[np.unique(syn.in_idx[keep])], minlength=src.n_cores)
        out[k - 1] = replace(src, cores=tuple(replace(c, fan_out_axons=int(fan_out[j]))
                                              for j, c in enumerate(src.cores)))
    return out


def map_network(spec, profile, *, max_chips: int | None = None, skip_zero: bool = False,
                check: bool = True) -> CoreMapping:
    """Partition ``spec`` onto the cores of ``profile``; with ``check``, raise
    :class:`~mskd.chip.rules.DesignRuleError` for the first broken design rule."""
    limits = CoreLimits.from_profile(profile, max_chips)
    order = [i for i, layer in enumerate(spec.layers) if n_neurons(layer) > 0]
    syns = [layer_synapses(spec.layers[i], skip_zero) for i in order]
    # Last layer first: a layer's fan-out depends only on the next layer's final split, and
    # re-splitting a layer does not change the fan-in axons of the one after it.
    final: list[LayerMapping] = []
    for k in reversed(range(len(order))):
        nxt = final[0] if final else None
        layer = spec.layers[order[k]]
        dest = destinations(syns[k + 1] if nxt else None, nxt, n_neurons(layer))
        graded = getattr(layer.neuron, "graded_out", False) or (
            hasattr(spec, "graded_input") and spec.graded_input(order[k]))
        lm = _layer(order[k], layer, syns[k], limits, dest, graded)
        own = own_destinations(syns[k], lm, layer)
        if own is not None:  # dense_rec: its own fan-out, from the split that ignored it
            lm = _layer(order[k], layer, syns[k], limits, own if dest is None else dest + own,
                        graded)
        final.insert(0, lm)
    first = np.cumsum([0] + [lm.n_cores for lm in final])
    final = [replace(lm, cores=tuple(replace(c, core=int(first[k]) + j)
                                     for j, c in enumerate(lm.cores)))
             for k, lm in enumerate(final)]
    if limits.mapper == "loihi2":
        final = _loihi2_axons(final, syns)
    mapping = CoreMapping(profile.name, limits, tuple(final))
    if check:
        from mskd.chip.rules import raise_on_violation

        raise_on_violation(mapping)
    return mapping

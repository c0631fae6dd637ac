"""Operation counts of one simulated run: spikes, synops, neuron updates, per step and core.

Counted per neuron layer, per time step ``t`` and sample ``b`` (arrays ``[T, B]``):

* ``spikes``: spikes the layer's neurons emitted.
* ``synops``: synaptic operations *into* the layer: every spike of the source layer times
  the synapses it actually reaches (:mod:`mskd.mapping_synapses`: conv geometry, stride,
  padding, groups). Attributed to the step the source spike was emitted.
* ``updates``: neuron updates; Loihi updates every neuron every step, so ``neurons``.
* ``active``: neurons whose ``u`` or ``v`` is non-zero after the step, or that spiked in
  it (v was reset to 0). The rest are *inactive* updates (cheaper on Loihi). Without
  recorded u and v only spiking neurons count as active -- a lower bound, flagged in
  ``Counts.active_definition``.
* ``messages``: spike messages sent: each spike once per destination core it reaches
  (the core mapping), once for the output layer (to the host).
* ``core_synops`` / ``core_active``: ``[T, B, cores]``, the per-core work for latency.

An ``InputLayer`` with neurons is driven by bias (no synops); one without neurons means the
first synapse layer receives the external ``input_spikes`` (``[T, B, *shape]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mskd.mapping import CoreMapping, destinations
from mskd.mapping_synapses import Synapses, layer_synapses

ACTIVE_UV = "u != 0 or v != 0 after the step, or spiked"
ACTIVE_SPIKE_ONLY = "spiked (u, v not recorded: lower bound)"


@dataclass(frozen=True)
class LayerCounts:
    """Counts of one neuron layer; arrays are ``[T, B]`` (``core_*``: ``[T, B, cores]``)."""

    name: str
    index: int
    kind: str
    neurons: int
    synapses: int
    spikes: np.ndarray
    synops: np.ndarray
    active: np.ndarray
    messages: np.ndarray
    core_synops: np.ndarray
    core_active: np.ndarray
    core_neurons: tuple[int, ...]

    @property
    def updates(self) -> np.ndarray:
        return np.full_like(self.spikes, self.neurons)

    @property
    def inactive(self) -> np.ndarray:
        return self.updates - self.active


COUNT_KINDS = ("spikes", "synops", "updates", "active", "inactive", "messages")


@dataclass(frozen=True)
class Counts:
    """All layers' counts for ``batch`` samples of ``steps`` steps."""

    layers: tuple[LayerCounts, ...]
    steps: int
    batch: int
    active_definition: str

    def per_inference(self, what: str) -> dict[str, float]:
        """Mean over samples of the per-sample total of ``what`` (a COUNT_KINDS name)."""
        return {lc.name: float(getattr(lc, what).sum(0).mean()) for lc in self.layers}

    def per_step(self, what: str) -> dict[str, np.ndarray]:
        """Mean over samples, per step: ``{layer: [T]}``."""
        return {lc.name: getattr(lc, what).mean(1) for lc in self.layers}

    def total(self, what: str) -> float:
        """Per-inference total over all layers."""
        return sum(self.per_inference(what).values())


def merge_counts(parts: list[Counts]) -> Counts:
    """Join the counts of several batches of the same network along the sample axis."""
    first = parts[0]
    arrays = ("spikes", "synops", "active", "messages", "core_synops", "core_active")
    layers = []
    for k, lc in enumerate(first.layers):
        joined = {a: np.concatenate([p.layers[k].__dict__[a] for p in parts], axis=1)
                  for a in arrays}
        layers.append(LayerCounts(**{**lc.__dict__, **joined}))
    return Counts(tuple(layers), first.steps, sum(p.batch for p in parts),
                  first.active_definition)


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _flat(t, steps: int, batch: int) -> np.ndarray:
    return _np(t).reshape(steps, batch, -1).astype(np.int64)


def _active(record, name: str, spikes: np.ndarray) -> np.ndarray:
    t, b = spikes.shape[:2]
    act = spikes != 0
    if record.u is not None and record.v is not None:
        act = act | (_flat(record.u[name], t, b) != 0) | (_flat(record.v[name], t, b) != 0)
    return act


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer matmul through float64 BLAS (numpy's int64 matmul has no BLAS); exact
    while every sum stays below 2**53; beyond that it falls back to int64."""
    if a.size and b.size:
        bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).sum(0).max(initial=0))
        if bound >= 2.0**53:
            return a.astype(np.int64) @ b.astype(np.int64)
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


def _layer_counts(name, index, kind, spikes, active, src, syn: Synapses | None,
                  lm, dest) -> LayerCounts:
    t, b, n = spikes.shape
    core_of = lm.core_of_neuron()
    cores = lm.n_cores
    if syn is None:
        core_synops = np.zeros((t, b, cores), np.int64)
    else:  # [T*B, n_in] @ [n_in, cores]: each source spike times its synapses per core
        per_core = syn.fan_out_per_core(core_of, cores)
        core_synops = _exact_matmul(src.reshape(t * b, -1), per_core).reshape(t, b, cores)
    one_hot = np.zeros((n, cores), np.int64)
    one_hot[np.arange(n), core_of] = 1
    core_active = _exact_matmul(active.reshape(t * b, n), one_hot).reshape(t, b, cores)
    messages = (spikes * dest).sum(-1)
    return LayerCounts(name, index, kind, n, 0 if syn is None else syn.count,
                       spikes.sum(-1), core_synops.sum(-1), active.sum(-1), messages,
                       core_synops, core_active, tuple(c.neurons for c in lm.cores))


def count_ops(spec, record, mapping: CoreMapping, input_spikes=None,
              skip_zero: bool = False) -> Counts:
    """Count every operation of ``record`` (a run of ``spec``) on the cores of ``mapping``."""
    t, b = record.steps, record.batch
    names = {int(info.name.split(":")[0]): info for info in record.layers}
    order = [lm.index for lm in mapping.layers]
    syns = {i: layer_synapses(spec.layers[i], skip_zero) for i in order}
    src = None if input_spikes is None else _flat(input_spikes, t, b)
    out = []
    for k, i in enumerate(order):
        info = names[i]
        spikes = _flat(record.spikes[info.name], t, b)
        if syns[i] is not None and src is None:
            raise ValueError(f"layer {info.name} receives external spikes: pass input_spikes")
        nxt = order[k + 1] if k + 1 < len(order) else None
        dest = destinations(syns[nxt] if nxt is not None else None,
                            mapping.layer(nxt) if nxt is not None else None, spikes.shape[2])
        dest = np.ones(spikes.shape[2], np.int64) if dest is None else dest  # output: to host
        out.append(_layer_counts(info.name, i, info.kind, spikes,
                                 _active(record, info.name, spikes), src, syns[i],
                                 mapping.layer(i), dest))
        src = spikes
    defn = ACTIVE_UV if record.u is not None and record.v is not None else ACTIVE_SPIKE_ONLY
    return Counts(tuple(out), t, b, defn)

"""Operation counts of one simulated run: messages, synops, neuron updates, per step and core.

Counted per neuron layer, per time step ``t`` and sample ``b`` (arrays ``[T, B]``):

* ``spikes``: messages the layer's neurons sent: binary spikes, or non-zero graded
  payloads of a sigma-delta layer (``graded``).
* ``payload_bits``: bits those messages carry: ``messages x message_bits`` for a graded
  layer (netx's SDNN width, 16), 0 for binary spikes (the message is the event itself).
* ``synops``: synaptic operations *into* the layer: every message of the source layer
  times the synapses it actually reaches (:mod:`mskd.chip.synapses`: conv geometry,
  stride, padding, groups; zero weights counted unless ``skip_zero``). Attributed to the
  step the source message was sent. A synapse fed graded payloads (``synop_kind = "mac"``)
  multiplies weight by payload: a multiply-accumulate; a binary one only adds the weight:
  an accumulate (``"ac"``).
* ``effective``: the same with zero weights always skipped: NeuroBench's effective ACs or
  MACs (by ``synop_kind``).
* ``updates``: neuron updates; Loihi updates every neuron every step, so ``neurons``.
* ``active``: CUBA-LIF: neurons whose ``u`` or ``v`` is non-zero after the step, or that
  spiked (v was reset to 0); sigma-delta: neurons whose input changed their state (sigma,
  or a Delta's activation) or that sent. The rest are *inactive* updates (cheaper on
  Loihi). Without recorded registers only sending neurons count as active -- a lower
  bound, flagged in ``Counts.active_definition``.
* ``messages``: messages routed: each one once per destination core it reaches (the core
  mapping), once for the output layer (to the host).
* ``core_synops`` / ``core_active``: ``[T, B, cores]``, the per-core work for latency.

An ``InputLayer`` with CUBA neurons is driven by bias, a Delta input layer by its input
values (no synops either way); one without neurons means the first synapse layer receives
the external ``input_spikes`` (``[T, B, *shape]``: spikes, or graded payloads).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mskd.chip.mapping import CoreMapping, destinations, own_destinations
from mskd.chip.synapses import Synapses, layer_synapses
from mskd.loihi.sdn import MESSAGE_BITS

ACTIVE_UV = "LIF: u != 0 or v != 0 after the step, or spiked; sigma-delta: state changed or sent"
ACTIVE_SPIKE_ONLY = "sent a message (registers not recorded: lower bound)"
SYNOP_KINDS = ("ac", "mac")


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
    graded: bool = False
    synop_kind: str = "ac"
    effective: np.ndarray | None = None
    payload_bits: np.ndarray | None = None
    dense_synapses: int = 0

    @property
    def updates(self) -> np.ndarray:
        return np.full_like(self.spikes, self.neurons)

    @property
    def inactive(self) -> np.ndarray:
        return self.updates - self.active

    def _by(self, arr: np.ndarray, graded: bool) -> np.ndarray:
        return arr if graded else np.zeros_like(arr)

    @property
    def synops_ac(self) -> np.ndarray:
        return self._by(self.synops, self.synop_kind == "ac")

    @property
    def synops_mac(self) -> np.ndarray:
        return self._by(self.synops, self.synop_kind == "mac")

    @property
    def messages_binary(self) -> np.ndarray:
        return self._by(self.messages, not self.graded)

    @property
    def messages_graded(self) -> np.ndarray:
        return self._by(self.messages, self.graded)

    @property
    def effective_ac(self) -> np.ndarray:
        return self._by(self.effective, self.synop_kind == "ac")

    @property
    def effective_mac(self) -> np.ndarray:
        return self._by(self.effective, self.synop_kind == "mac")


COUNT_KINDS = ("spikes", "payload_bits", "synops", "synops_ac", "synops_mac", "effective_ac",
               "effective_mac", "updates", "active", "inactive", "messages",
               "messages_binary", "messages_graded")


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

    @property
    def graded(self) -> bool:
        """True when any layer sends graded messages or receives them."""
        return any(lc.graded or lc.synop_kind == "mac" for lc in self.layers)


_ARRAYS = ("spikes", "synops", "active", "messages", "core_synops", "core_active",
           "effective", "payload_bits")


def merge_counts(parts: list[Counts]) -> Counts:
    """Join the counts of several batches of the same network along the sample axis."""
    first = parts[0]
    layers = []
    for k, lc in enumerate(first.layers):
        joined = {a: np.concatenate([p.layers[k].__dict__[a] for p in parts], axis=1)
                  for a in _ARRAYS}
        layers.append(LayerCounts(**{**lc.__dict__, **joined}))
    return Counts(tuple(layers), first.steps, sum(p.batch for p in parts),
                  first.active_definition)


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def _flat(t, steps: int, batch: int) -> np.ndarray:
    return _np(t).reshape(steps, batch, -1).astype(np.int64)


def _changed(reg: np.ndarray) -> np.ndarray:
    """Where a register differs from its value one step before (zero before step 0)."""
    prev = np.concatenate([np.zeros_like(reg[:1]), reg[:-1]])
    return reg != prev


def _active(record, info, sent: np.ndarray) -> tuple[np.ndarray, bool]:
    """``(active [T, B, n], from registers?)``: see the module docstring."""
    t, b = sent.shape[:2]
    act = sent != 0
    regs = record.registers
    if info.model == "lif":
        if info.name in regs.get("u", {}) and info.name in regs.get("v", {}):
            return act | (_flat(regs["u"][info.name], t, b) != 0) | \
                (_flat(regs["v"][info.name], t, b) != 0), True
        return act, False
    state = "act" if info.model == "delta" else "sigma"
    if info.name in regs.get(state, {}):
        return act | _changed(_flat(regs[state][info.name], t, b)), True
    return act, False


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Integer matmul through float64 BLAS (numpy's int64 matmul has no BLAS); exact
    while every sum stays below 2**53; beyond that it falls back to int64."""
    if a.size and b.size:
        bound = float(np.abs(a).max(initial=0)) * float(np.abs(b).sum(0).max(initial=0))
        if bound >= 2.0**53:
            return a.astype(np.int64) @ b.astype(np.int64)
    return np.rint(a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)


@dataclass(frozen=True)
class _Source:
    """What a layer's synapse receives: message indicators ``[T, B, n_in]`` (1 where a
    non-zero message arrived) and whether the synapse multiplies payloads."""

    sent: np.ndarray
    graded: bool


def _layer_counts(info, index, spikes, active, src: _Source | None, syn: Synapses | None,
                  eff: Synapses | None, lm, dest, dense: int) -> LayerCounts:
    t, b, n = spikes.shape
    core_of = lm.core_of_neuron()
    cores = lm.n_cores
    effective = np.zeros((t, b), np.int64)
    if syn is None:
        core_synops = np.zeros((t, b, cores), np.int64)
    else:  # [T*B, n_in] @ [n_in, cores]: each source message times its synapses per core
        per_core = syn.fan_out_per_core(core_of, cores)
        core_synops = _exact_matmul(src.sent.reshape(t * b, -1), per_core).reshape(t, b, cores)
        effective = _exact_matmul(src.sent.reshape(t * b, -1),
                                  eff.fan_out()[:, None]).reshape(t, b)
    one_hot = np.zeros((n, cores), np.int64)
    one_hot[np.arange(n), core_of] = 1
    core_active = _exact_matmul(active.reshape(t * b, n), one_hot).reshape(t, b, cores)
    sent = spikes != 0
    messages = (sent * dest).sum(-1)
    n_sent = sent.sum(-1)
    return LayerCounts(info.name, index, info.kind, n, 0 if syn is None else syn.count,
                       n_sent, core_synops.sum(-1), active.sum(-1), messages,
                       core_synops, core_active, tuple(c.neurons for c in lm.cores),
                       graded=info.graded,
                       synop_kind="mac" if src is not None and src.graded and syn else "ac",
                       effective=effective,
                       payload_bits=n_sent * (MESSAGE_BITS if info.graded else 0),
                       dense_synapses=dense)


def count_ops(spec, record, mapping: CoreMapping, input_spikes=None,
              skip_zero: bool = False) -> Counts:
    """Count every operation of ``record`` (a run of ``spec``) on the cores of ``mapping``."""
    t, b = record.steps, record.batch
    infos = {int(info.name.split(":")[0]): info for info in record.layers}
    order = [lm.index for lm in mapping.layers]
    syns = {i: layer_synapses(spec.layers[i], skip_zero) for i in order}
    src = None if input_spikes is None else \
        _Source((_flat(input_spikes, t, b) != 0).astype(np.int64), spec.input_kind == "graded")
    out, any_regs = [], True
    for k, i in enumerate(order):
        info = infos[i]
        spikes = _flat(record.spikes[info.name], t, b)
        if syns[i] is not None and src is None:
            raise ValueError(f"layer {info.name} receives external spikes: pass input_spikes")
        nxt = order[k + 1] if k + 1 < len(order) else None
        dest = destinations(syns[nxt] if nxt is not None else None,
                            mapping.layer(nxt) if nxt is not None else None, spikes.shape[2])
        dest = np.ones(spikes.shape[2], np.int64) if dest is None else dest  # output: to host
        own = own_destinations(syns[i], mapping.layer(i), spec.layers[i])
        dest = dest if own is None else dest + own  # dense_rec: also to its own cores
        active, from_regs = _active(record, info, spikes)
        any_regs &= from_regs
        if syns[i] is not None:  # NeuroBench: zero weights skipped; dense: every synapse
            eff = syns[i] if skip_zero else layer_synapses(spec.layers[i], True)
            dense = syns[i].count if not skip_zero else layer_synapses(spec.layers[i]).count
        else:
            eff, dense = None, 0
        if src is not None:
            src = _Source(src.sent, spec.graded_input(i))
            if getattr(spec.layers[i], "weight_rec", None) is not None:  # + its own messages
                src = _Source(np.concatenate([src.sent, (spikes != 0).astype(np.int64)], -1),
                              src.graded)
        out.append(_layer_counts(info, i, spikes, active, src, syns[i], eff,
                                 mapping.layer(i), dest, dense))
        src = _Source((spikes != 0).astype(np.int64), info.graded)
    return Counts(tuple(out), t, b, ACTIVE_UV if any_regs else ACTIVE_SPIKE_ONLY)

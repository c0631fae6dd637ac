"""Latency and throughput from the per-core work of each time step.

Cores run in parallel and meet at a barrier every step, so one step takes the slowest
core's time plus the barrier::

    core time = synops_in_core x time.synop (time.synop_graded where the synapse is graded)
              + active x time.neuron_update_active + inactive x time.neuron_update_inactive
    step time = max over all cores (all layers) of core time + time.barrier_sync

Spike routing (``time.spike_in_tile``) is assumed hidden behind the core work. An inference
of ``T`` steps takes the sum of its step times; throughput is one inference after another
(no pipelining of samples). ``input_step_s`` is the input time each step stands for
(e.g. 33 ms per frame / steps per frame), giving a real-time factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from mskd.profiling.counts import Counts

NS_PER_S = 1e9  # unit conversion


@dataclass(frozen=True)
class Latency:
    """Step and inference times in ns; throughput in inferences per second."""

    profile: str
    steps: int
    step_ns_mean: float
    step_ns_max: float
    inference_ns_mean: float
    inference_ns_max: float
    throughput_per_s: float
    input_step_s: float | None
    realtime_factor: float | None
    assumed: tuple[str, ...]

    def throughput_at(self, steps: int) -> float:
        """Inferences per second if each inference ran ``steps`` steps of mean length."""
        return NS_PER_S / (steps * self.step_ns_mean)

    def to_json(self) -> dict:
        return dict(self.__dict__, assumed=list(self.assumed))


def core_times_ns(lc, profile) -> np.ndarray:
    """``[T, B, cores]`` busy time of each core of one layer's counts, in ns."""
    tq = profile.time
    neurons = np.asarray(lc.core_neurons)
    synop = tq["synop_graded" if lc.synop_kind == "mac" else "synop"]
    return (lc.core_synops * synop.value
            + lc.core_active * tq["neuron_update_active"].value
            + (neurons - lc.core_active) * tq["neuron_update_inactive"].value)


def step_times_ns(counts: Counts, profile) -> np.ndarray:
    """``[T, B]`` time of every step of every sample, in ns."""
    worst = np.zeros((counts.steps, counts.batch))
    for lc in counts.layers:
        worst = np.maximum(worst, core_times_ns(lc, profile).max(-1))
    return worst + profile.time["barrier_sync"].value


def critical_layers(counts: Counts, profile) -> list[dict]:
    """Why a step takes as long as it does, per layer: its cores, the most neurons one of
    them holds, its slowest core's mean busy time per step (ns), and the share of steps in
    which that core is the slowest of the chip (the one that sets the step time)."""
    per = np.stack([core_times_ns(lc, profile).max(-1) for lc in counts.layers])  # [L, T, B]
    which = per.argmax(0)
    return [{"layer": lc.name, "cores": len(lc.core_neurons),
             "max_core_neurons": int(max(lc.core_neurons)),
             "slowest_core_ns_mean": float(per[k].mean()),
             "critical_share": float((which == k).mean())}
            for k, lc in enumerate(counts.layers)]


def latency(counts: Counts, profile, input_step_s: float | None = None) -> Latency:
    """Latency per step and inference, throughput, and real-time factor."""
    step = step_times_ns(counts, profile)
    per_inf = step.sum(0)
    used = {f"time.{k}" for k in ("neuron_update_active", "neuron_update_inactive",
                                  "barrier_sync")}
    used |= {"time.synop_graded" if lc.synop_kind == "mac" else "time.synop"
             for lc in counts.layers if lc.synapses}
    mean_inf = float(per_inf.mean())
    rtf = None if input_step_s is None else input_step_s * NS_PER_S / float(step.mean())
    return Latency(profile.name, counts.steps, float(step.mean()), float(step.max()),
                   mean_inf, float(per_inf.max()), NS_PER_S / mean_inf, input_step_s, rtf,
                   tuple(k for k in profile.assumed_keys() if k in used))

"""The latency model on hand-computed counts: the slowest core sets each step, the barrier
is added once per step, an inference sums its steps."""

from __future__ import annotations

import numpy as np
import pytest
from mskd.hw_profiles import load_profile
from mskd.profiling.counts import Counts, LayerCounts
from mskd.profiling.latency import critical_layers, latency, step_times_ns

pytestmark = pytest.mark.unit


def _layer(name, core_synops, core_active, core_neurons, synop_kind="ac"):
    core_synops = np.asarray(core_synops, float)
    T, B, _ = core_synops.shape
    z = np.zeros((T, B))
    return LayerCounts(name, 0, "dense", sum(core_neurons), 10, z, core_synops.sum(-1),
                       np.asarray(core_active, float).sum(-1), z, core_synops,
                       np.asarray(core_active, float), tuple(core_neurons),
                       synop_kind=synop_kind)


def test_step_time_is_the_slowest_core_plus_the_barrier():
    p = load_profile("loihi1")
    t = {k: q.value for k, q in p.time.items()}
    # one sample, two steps; layer a: 2 cores, layer b: 1 core
    a = _layer("a", [[[100, 10]], [[0, 0]]], [[[4, 1]], [[0, 0]]], (5, 5))
    b = _layer("b", [[[20]], [[300]]], [[[2]], [[3]]], (3,))
    counts = Counts((a, b), steps=2, batch=1, active_definition="test")
    core = lambda syn, act, n: (syn * t["synop"] + act * t["neuron_update_active"]  # noqa: E731
                                + (n - act) * t["neuron_update_inactive"])
    step0 = max(core(100, 4, 5), core(10, 1, 5), core(20, 2, 3)) + t["barrier_sync"]
    step1 = max(core(0, 0, 5), core(0, 0, 5), core(300, 3, 3)) + t["barrier_sync"]
    np.testing.assert_allclose(step_times_ns(counts, p)[:, 0], [step0, step1])
    lat = latency(counts, p, input_step_s=1e-3)
    assert lat.inference_ns_mean == pytest.approx(step0 + step1)
    assert lat.throughput_per_s == pytest.approx(1e9 / (step0 + step1))
    assert lat.realtime_factor == pytest.approx(1e6 / ((step0 + step1) / 2))
    crit = {r["layer"]: r for r in critical_layers(counts, p)}
    assert crit["a"]["critical_share"] == 0.5 and crit["b"]["critical_share"] == 0.5
    assert crit["a"]["max_core_neurons"] == 5 and crit["b"]["cores"] == 1


def test_graded_synapses_use_the_graded_synop_time():
    p = load_profile("loihi2")
    g = _layer("g", [[[1000]]], [[[0]]], (1,), synop_kind="mac")
    counts = Counts((g,), steps=1, batch=1, active_definition="test")
    want = (1000 * p.time["synop_graded"].value + p.time["neuron_update_inactive"].value
            + p.time["barrier_sync"].value)
    assert step_times_ns(counts, p)[0, 0] == pytest.approx(want)

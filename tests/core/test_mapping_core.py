"""Core mapping: every core within every limit, layers covered, greedy cores full, rules fire."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mskd.hw_profiles import load_profile

from mskd.chip.mapping import map_network
from mskd.chip.rules import DesignRuleError, check_rules
from mskd.chip.synapses import layer_synapses
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec

pytestmark = pytest.mark.unit

LIF = LifNeuron(1024, 128, 80)
LOIHI1 = load_profile("loihi1")


def tiny_profile(**limits):
    """Loihi 1 with small per-core limits so that small nets need several cores."""
    lim = dict(LOIHI1.limits)
    for key, value in limits.items():
        lim[key] = replace(lim[key], value=value)
    return replace(LOIHI1, name="tiny", limits=lim)


def conv_net(rng, c=2, h=6, w=6, cout=3, k=3, stride=1, pad=1, dense_out=4):
    ho = (h + 2 * pad - k) // stride + 1
    wo = (w + 2 * pad - k) // stride + 1
    cw = rng.integers(-4, 5, (cout, c, k, k)).astype(np.int64)
    cw[0, 0, 0, 0] = 3
    n = cout * ho * wo
    dw = rng.integers(-4, 5, (dense_out, n)).astype(np.int64)
    dw[0, 0] = 3
    return NetSpec((InputLayer((c, h, w), LIF),
                    ConvLayer((c, h, w), (cout, ho, wo), cw, (stride,) * 2, (pad,) * 2, (1, 1),
                              1, LIF),
                    FlattenLayer((cout, ho, wo), (n,)), DenseLayer(n, dense_out, dw, LIF)))


def _dest_cores(spec, m, index):
    """Brute force: for each neuron of layer ``index``, distinct next-layer cores it reaches."""
    nxt = {0: 1, 1: 3}.get(index)
    n = m.layer(index).neurons
    if nxt is None:
        return np.zeros(n, int)
    conn, core = _connectivity(spec, nxt), m.layer(nxt).core_of_neuron()
    return np.array([len(set(core[np.flatnonzero(conn[:, i])])) for i in range(n)])


def _connectivity(spec, index):
    syn = layer_synapses(spec.layers[index])
    m = np.zeros((syn.n_out, syn.n_in), bool)
    m[syn.out_idx, syn.in_idx] = True
    return m


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31), st.integers(4, 40), st.integers(20, 200), st.integers(1, 3),
       st.integers(30, 200))
def test_every_core_respects_limits_and_greedy_fills_cores(seed, neurons, fan_in, bits_kib,
                                                            fan_out):
    spec = conv_net(np.random.default_rng(seed))
    prof = tiny_profile(neurons_per_core=neurons, fan_in_axons_per_core=max(fan_in, 108),
                        synapse_memory_per_core=bits_kib * 0.125, fan_out_axons_per_core=fan_out)
    m = map_network(spec, prof)  # would raise DesignRuleError on any broken rule
    assert check_rules(m) == []
    cap = m.limits.synapse_memory_bits
    for lm in m.layers:
        # cores tile the layer's neurons exactly, in order
        assert lm.cores[0].start == 0 and lm.cores[-1].stop == lm.neurons
        assert all(a.stop == b.start for a, b in zip(lm.cores, lm.cores[1:], strict=False))
        dest = _dest_cores(spec, m, lm.index)
        for c, nxt in zip(lm.cores, lm.cores[1:] + (None,), strict=True):
            here = lm.neurons_of(c)
            grown = lm.placement()[c.start:c.stop + 1]  # plus the next neuron, if any
            assert c.fan_out_axons == dest[here].sum() <= m.limits.fan_out_axons
            if lm.index == 0:
                assert nxt is None or c.neurons == neurons or (
                    c.fan_out_axons + dest[grown[-1]] > m.limits.fan_out_axons)
                continue
            conn = _connectivity(spec, lm.index)
            block = conn[here]
            assert c.synapses == block.sum()
            assert c.fan_in_axons == block.any(0).sum() <= m.limits.fan_in_axons
            assert c.synapse_bits == c.synapses * lm.weight_bits <= cap
            if nxt is not None:  # greedy: one more neuron would break a limit
                more = conn[grown]
                assert (c.neurons + 1 > m.limits.neurons
                        or c.fan_out_axons + dest[grown[-1]] > m.limits.fan_out_axons
                        or more.sum() * lm.weight_bits > cap
                        or more.any(0).sum() > m.limits.fan_in_axons)


def test_fan_out_axons_count_destination_cores_per_neuron() -> None:
    spec = conv_net(np.random.default_rng(1))
    m = map_network(spec, tiny_profile(neurons_per_core=16))
    conn = _connectivity(spec, 1)  # conv outputs x input neurons
    dest = m.layer(1).core_of_neuron()
    for c in m.layer(0).cores:
        expect = sum(len(set(dest[np.flatnonzero(conn[:, i])])) for i in m.layer(0).neurons_of(c))
        assert c.fan_out_axons == expect
    assert all(c.fan_out_axons == 0 for c in m.layer(3).cores)


def test_mapping_is_json_serialisable_and_counts_chips() -> None:
    m = map_network(conv_net(np.random.default_rng(2)), tiny_profile(neurons_per_core=8,
                                                                     cores_per_chip=4))
    doc = json.loads(json.dumps(m.to_json()))
    assert doc["total_cores"] == sum(la["n_cores"] for la in doc["layers"])
    assert doc["chips"] == -(-doc["total_cores"] // 4)
    assert 0 < doc["utilisation"]["neurons"] <= 1


@pytest.mark.parametrize(
    ("limits", "kwargs", "rule"),
    [
        ({"weight_bits_max": 3}, {}, "weight_bits"),
        ({"fan_in_axons_per_core": 10}, {}, "fan_in_axons"),
        ({"synapse_memory_per_core": 0.001}, {}, "synapse_memory_per_core"),
        ({"fan_out_axons_per_core": 1}, {}, "fan_out_axons"),
        ({"neurons_per_core": 2, "cores_per_chip": 2}, {"max_chips": 1}, "chips"),
    ],
)
def test_broken_design_rules_name_rule_layer_and_numbers(limits, kwargs, rule) -> None:
    spec = conv_net(np.random.default_rng(3))
    with pytest.raises(DesignRuleError, match=rf"'{rule}' broken at .*\d+ > limit \d+"):
        map_network(spec, tiny_profile(**limits), **kwargs)


def test_loihi2_splits_dense_layers_by_synaptic_memory_words() -> None:
    rng = np.random.default_rng(4)
    w = rng.integers(-100, 100, (600, 2000)).astype(np.int64)  # 8 signed bits
    spec = NetSpec((InputLayer((2000,), LIF), DenseLayer(2000, 600, w, LIF)))
    m2 = map_network(spec, load_profile("loihi2"))
    # the compiler's iterations: 600 neurons need 2,000 x ceil(600 x 19 / 63) = 362,000
    # words, ratio 31 -> 20 neurons, 14,000 words, ratio 2 -> 10 neurons, 8,000 words
    assert [c.neurons for c in m2.layer(1).cores] == [10] * 60
    assert {c.words for c in m2.layer(1).cores} == {8000}
    m1 = map_network(spec, LOIHI1)  # 1 Mibit / (8 bits x 2,000) = 65 neurons per core
    assert m1.layer(1).cores[0].neurons == 65
    # every input neuron reaches all 10 dense cores: 4,096 output axons / 10 = 409 per core
    assert max(c.neurons for c in m1.layer(0).cores) == 409


def test_failure_on_an_assumed_limit_says_so() -> None:
    w = np.ones((2, 5000), np.int64)
    spec = NetSpec((InputLayer((5000,), LIF), DenseLayer(5000, 2, w, LIF)))
    with pytest.raises(DesignRuleError, match=r"'fan_in_axons' .* 5000 > limit 4096.*assumed"):
        map_network(spec, load_profile("loihi2"))
    with pytest.raises(DesignRuleError, match=r"'fan_in_axons'") as info:
        map_network(spec, LOIHI1)
    assert "assumed" not in str(info.value)

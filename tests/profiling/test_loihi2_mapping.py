"""The Loihi 2 mapper against the Loihi 2 compiler's own allocation of Intel's PilotNet.

The rules were read off the LIF network's table (fitted there: two figures of the synaptic
memory model, mskd.hw_profiles loihi2.toml); the SDNN network's table is held out.
"""

from __future__ import annotations

import numpy as np
import pytest
from mskd.hw_profiles import load_profile
from pilotnet_compiler import CONVS, DENSE, DENSE_WEIGHT_BITS, INPUT, LIF_TABLE, SDNN_TABLE, parse

from mskd.chip.loihi2_partition import dense_neurons_per_core, dense_words, tile_columns
from mskd.chip.mapping import map_network
from mskd.chip.synapses import weight_bits
from mskd.loihi.neurons import SdnNeuron
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec


def _weights(rng, shape, bits):
    """Random signed weights whose largest magnitude needs exactly ``bits`` signed bits."""
    peak = (1 << (bits - 1)) - 1
    w = rng.integers(-peak, peak + 1, shape).astype(np.int64)
    w.flat[0] = peak
    return w


def pilotnet(kind: str) -> NetSpec:
    """A network of PilotNet's shapes, dense weights of the file's widths."""
    rng = np.random.default_rng(0)
    neuron = LifNeuron(4096, 1024, 25) if kind == "lif" else SdnNeuron(6)
    layers = [InputLayer(INPUT, neuron)] if kind == "lif" else [InputLayer(INPUT)]
    shape = INPUT
    for out_c, k, stride, pad, out_shape in CONVS:
        layers.append(ConvLayer(shape, out_shape, _weights(rng, (out_c, shape[0], k, k), 5),
                                stride, pad, (1, 1), 1, neuron))
        shape = out_shape
    n = int(np.prod(shape))
    layers.append(FlattenLayer(shape, (n,)))
    last = SdnNeuron(6, sigma_output=True) if kind == "sdnn" else LifNeuron(4096, 0, 131071)
    for i, (width, bits) in enumerate(zip(DENSE, DENSE_WEIGHT_BITS[kind], strict=True)):
        layers.append(DenseLayer(n, width, _weights(rng, (width, n), bits),
                                 last if i == len(DENSE) - 1 else neuron))
        n = width
    return NetSpec(tuple(layers), input_message_bits=0 if kind == "lif" else 16)


@pytest.mark.parametrize("kind, table", [("lif", LIF_TABLE), ("sdnn", SDNN_TABLE)],
                         ids=["lif-fitted", "sdnn-held-out"])
def test_every_layer_gets_the_compilers_core_count(kind, table):
    want = parse(table)
    m = map_network(pilotnet(kind), load_profile("loihi2"))
    assert [lm.n_cores for lm in m.layers] == [r["cores"] for r in want["rows"]]
    assert m.total_cores == want["total"]
    # the conv tiles are the compiler's Conv(w, H, C) labels
    maps = [lm for lm in m.layers if len(lm.shape) == 3]
    tiles = [r["tile"] for r in want["rows"] if r["tile"]]
    assert [f"Conv{tile_columns(lm.shape, 4095)}" for lm in maps] == tiles


@pytest.mark.parametrize("kind, table", [("lif", LIF_TABLE), ("sdnn", SDNN_TABLE)],
                         ids=["lif-fitted", "sdnn-held-out"])
def test_dense_synaptic_memory_follows_the_compilers_allocations(kind, table):
    want = parse(table)
    spec = pilotnet(kind)
    dense = [la for la in spec.layers if isinstance(la, DenseLayer)]
    p = load_profile("loihi2")
    word, entry = (int(p.limits[k].value) for k in ("synapse_word_bits", "synapse_entry_bits"))
    rows = want["rows"][-len(dense):]
    for layer, row in zip(dense, rows, strict=True):
        if row["cores"] == 1:  # one core: the printed Synapses column is its allocation
            assert dense_words(layer.out_features, layer.in_features, weight_bits(layer),
                               word, entry) == row["synapses"]
    big = dense[0]  # 2560 -> 100: the iterations the compiler printed
    first = dense_words(100, 2560, weight_bits(big), word, entry)
    second = dense_words(-(-100 // -(-first // 12000)), 2560, weight_bits(big), word, entry)
    assert [first, second] == sorted(set(want["allocations"]), reverse=True)
    assert dense_neurons_per_core(100, 2560, weight_bits(big), 4095, 12000, word, entry) == 9


def test_the_greedy_mapper_stays_for_loihi1():
    m = map_network(pilotnet("lif"), load_profile("loihi1"), check=False)
    assert m.limits.mapper == "greedy" and m.layers[0].order == "hwc"

"""Counts of sigma-delta runs against brute-force loops; NeuroBench metrics against hand
computation; energy of graded work and its 2x sensitivity; Loihi 1 refuses graded layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mskd.hw_profiles import load_profile
from mskd.profiling.counts import count_ops
from mskd.profiling.energy import energy, sensitivity
from mskd.profiling.neurobench import neurobench_metrics

from mskd.chip.mapping import map_network
from mskd.chip.rules import DesignRuleError
from mskd.loihi.neurons import LifNeuron, SdnNeuron
from mskd.net.record import REGISTERS
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec
from mskd.sim import simulator as sim

pytestmark = pytest.mark.unit

LOIHI2 = load_profile("loihi2")


def _brute(layer, sent: np.ndarray, skip_zero: bool) -> int:
    """Every message (index where ``sent``) times every weight it reaches, by loops."""
    total = 0
    if isinstance(layer, DenseLayer):
        w = layer.weight
        for j in np.flatnonzero(sent):
            for o in range(w.shape[0]):
                total += int(not skip_zero or w[o, j] != 0)
        return total
    c_in, h, wd = layer.in_shape
    c_out, ho, wo = layer.out_shape
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation
    kh, kw = layer.weight.shape[2:]
    for ci, y, x in zip(*np.nonzero(sent.reshape(c_in, h, wd)), strict=True):
        for co in range(c_out):
            for ky in range(kh):
                for kx in range(kw):
                    if skip_zero and layer.weight[co, ci, ky, kx] == 0:
                        continue
                    ny, nx = y + ph - ky * dh, x + pw - kx * dw
                    if ny % sh == 0 and nx % sw == 0 and 0 <= ny // sh < ho \
                            and 0 <= nx // sw < wo:
                        total += 1
    return total


def _sdnn_net(rng) -> NetSpec:
    w1 = rng.integers(-6, 7, (3, 2, 3, 3))
    w1[0, 0, 0, 0] = 5
    w2 = rng.integers(-3, 4, (4, 3 * 3 * 3))
    w2[0, 0] = 2
    return NetSpec((InputLayer((2, 5, 5), SdnNeuron(1)),
                    ConvLayer((2, 5, 5), (3, 3, 3), w1, (2, 2), (1, 1), (1, 1), 1, SdnNeuron(0)),
                    FlattenLayer((3, 3, 3), (27,)),
                    DenseLayer(27, 4, w2, SdnNeuron(0), None, None, rng.integers(-2, 3, (4, 4))),
                    DenseLayer(4, 2, np.array([[1, 0, -3, 2], [0, 4, 0, 1]]),
                               SdnNeuron(sigma_output=True))))


@pytest.mark.parametrize("seed", range(4))
def test_graded_counts_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    spec = _sdnn_net(rng)
    x = rng.integers(0, 256, (2, 6, 2, 5, 5))
    _, rec = sim.run(spec, x, REGISTERS)
    counts = count_ops(spec, rec, map_network(spec, LOIHI2))
    by = {lc.index: lc for lc in counts.layers}
    msgs = {i: (rec.spikes[n].numpy() != 0) for i, n in zip((0, 1, 3, 4), rec.names, strict=True)}
    for t in range(6):
        for b in range(2):
            src = msgs[0][t, b].reshape(-1)
            assert by[1].synops[t, b] == _brute(spec.layers[1], src, False)
            assert by[1].effective[t, b] == _brute(spec.layers[1], src, True)
            dense = spec.layers[3]
            own = msgs[3][t, b].reshape(-1)
            rec_layer = DenseLayer(4, 4, dense.weight_rec, dense.neuron)
            want = _brute(dense, msgs[1][t, b].reshape(-1), False) + _brute(rec_layer, own, False)
            assert by[3].synops[t, b] == want  # input synapses + its own recurrent ones
            for i in (0, 1, 3, 4):
                assert by[i].spikes[t, b] == msgs[i][t, b].sum()
    assert all(lc.synop_kind == "mac" for lc in counts.layers if lc.synapses)
    assert all(lc.graded for lc in counts.layers)
    np.testing.assert_array_equal(by[1].payload_bits, by[1].spikes * 16)
    assert counts.total("synops_ac") == 0 and counts.total("messages_binary") == 0


def test_neurobench_metrics_by_hand() -> None:
    """Delta input (3) -> dense SDNN (2 of 6 weights zero) -> binary CUBA (2): two steps."""
    spec = NetSpec((InputLayer((3,), SdnNeuron(0)),
                    DenseLayer(3, 2, np.array([[1, 0, 2], [0, 3, 4]]), SdnNeuron(0)),
                    DenseLayer(2, 2, np.array([[100, 0], [0, 100]]), LifNeuron(4096, 4096, 1),
                               np.array([0, 1]))))
    x = np.array([[[4, 0, 0], [4, 5, 0]]])  # step 0: neuron 0 changes; step 1: neuron 1
    _, rec = sim.run(spec, x, REGISTERS)
    sent = {n: (rec.spikes[n] != 0).numpy()[:, 0] for n in rec.names}
    assert sent["0:input"].tolist() == [[True, False, False], [False, True, False]]
    nb = neurobench_metrics(spec, count_ops(spec, rec, map_network(spec, LOIHI2)))
    # effective MACs: step 0 input 0 reaches 1 non-zero weight; step 1 input 1 reaches 1;
    # dense 1 messages at step 0 (its outputs 0 and ...) reach the diagonal weights.
    hand = 1 + 1 + int(sent["1:dense"].sum())  # each dense-1 message reaches 1 weight
    assert nb["effective_macs"] == hand and nb["effective_acs"] == 0
    assert nb["dense_ops"] == 2 * (6 + 4)  # every synapse, both steps
    assert nb["connection_sparsity"] == pytest.approx(4 / 10)
    outputs = 2 * (3 + 2 + 2)
    total_sent = sum(int(v.sum()) for v in sent.values())
    assert nb["activation_sparsity"] == pytest.approx(1 - total_sent / outputs)
    # weights: 6 at 4 bits (max |4| -> 4 signed bits) + 4 at 8 bits (100); bias 2 x 2 bytes;
    # registers: Delta 3 x 3 regs, SigmaDelta 2 x 4, CUBA 2 x 2; 3 bytes each; 8 per layer
    assert nb["footprint_parts"]["weights"] == 6 * 4 / 8 + 4 * 8 / 8
    assert nb["footprint_parts"]["biases"] == 4
    assert nb["footprint_parts"]["neuron_state"] == (9 + 8 + 4) * 3 + 3 * 8


def test_graded_energy_and_sensitivity() -> None:
    rng = np.random.default_rng(0)
    spec = _sdnn_net(rng)
    _, rec = sim.run(spec, rng.integers(0, 256, (2, 5, 2, 5, 5)), REGISTERS)
    counts = count_ops(spec, rec, map_network(spec, LOIHI2))
    e = energy(counts, LOIHI2).by_kind()
    assert e["synop"] == 0 and e["spike"] == 0
    assert e["synop_graded"] == pytest.approx(
        counts.total("synops_mac") * LOIHI2.energy["synop_graded"].value)
    assert e["graded_spike"] == pytest.approx(counts.total("messages_graded") * 2.55)
    rows = sensitivity(counts, LOIHI2)
    total = energy(counts, LOIHI2).total_pj
    both = rows[-1]
    assert both["high_pj"] - total == pytest.approx(e["synop_graded"] + e["graded_spike"])
    assert total - both["low_pj"] == pytest.approx((e["synop_graded"] + e["graded_spike"]) / 2)


def test_loihi1_refuses_graded_layers() -> None:
    spec = _sdnn_net(np.random.default_rng(0))
    with pytest.raises(DesignRuleError, match="graded_spikes.*no graded spikes"):
        map_network(spec, load_profile("loihi1"))
    graded_in = NetSpec((InputLayer((3,)), DenseLayer(3, 2, np.ones((2, 3), np.int64),
                                                      LifNeuron(0, 0, 1))),
                        input_message_bits=8)
    with pytest.raises(DesignRuleError, match="graded_spikes"):
        map_network(graded_in, load_profile("loihi1"))
    assert map_network(graded_in, LOIHI2).layers[0].graded


def test_graded_first_synapse_counts_macs() -> None:
    spec = NetSpec((InputLayer((3,)), DenseLayer(3, 2, np.array([[1, 0, 2], [3, 0, 0]]),
                                                 LifNeuron(0, 0, 100))), input_message_bits=8)
    x = np.array([[[5, -3, 0], [0, 0, 7]]])
    _, rec = sim.run(spec, x, REGISTERS)
    counts = count_ops(spec, rec, map_network(spec, LOIHI2), input_spikes=torch.tensor(x)
                       .transpose(0, 1))
    lc = counts.layers[0]
    assert lc.synop_kind == "mac" and lc.synops.tolist() == [[4], [2]]
    assert lc.effective.tolist() == [[2], [1]]

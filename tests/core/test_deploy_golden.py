"""Hand-computed traces, the synapse-side integer functions, and CPU == CUDA. No Lava runtime."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
import torch

from mskd.loihi.lif import netx_weights, synaptic_input
from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec
from mskd.sim import simulator as sim

pytestmark = pytest.mark.unit

def _one_synapse(w: int) -> NetSpec:
    # iDecay 2048: u halves each step; vDecay 1024: v keeps 3/4; vth 3: spike when v > 192.
    return NetSpec((InputLayer((1,)),
                    DenseLayer(1, 1, np.array([[w]]), LifNeuron(2048, 1024, 3))))


def test_golden_trace_excitatory() -> None:
    """w=3 -> netx scales to 192 with weight_exp -6 -> a_in 3 -> 3 << 6 = 192 into u.

    t: a_in  u                 v                          spike
    0: 0     0                 0                          0   (synapse delay: step 0 is empty)
    1: 3     192               192 (not > 192)            0
    2: 3     96 + 192 = 288    144 + 288 = 432 > 192      1 -> v = 0
    3: 0     144               0 + 144                    0
    4: 0     72                108 + 72 = 180             0
    """
    x = torch.tensor([[[1], [1], [0], [0], [0]]])
    out, rec = sim.run(_one_synapse(3), x, ("u", "v"))
    assert rec.u["1:dense"][:, 0, 0].tolist() == [0, 192, 288, 144, 72]
    assert rec.v["1:dense"][:, 0, 0].tolist() == [0, 192, 0, 144, 180]
    assert out[:, 0, 0].tolist() == [0, 0, 1, 0, 0]


def test_golden_trace_inhibitory_rounds_toward_zero() -> None:
    """w=-3 -> -192, weight_exp -6 -> a_in -3; v decays by rtz(v * 3072 / 4096)."""
    x = torch.tensor([[[1], [1], [0], [0], [0]]])
    _, rec = sim.run(_one_synapse(-3), x, ("u", "v"))
    assert rec.u["1:dense"][:, 0, 0].tolist() == [0, -192, -288, -144, -72]
    assert rec.v["1:dense"][:, 0, 0].tolist() == [0, -192, -432, -468, -423]


def test_netx_weight_quirks() -> None:
    # A lone -1 is scaled to -256, clipped to -255 (inhibitory) and truncated to 0.
    w, e = netx_weights(np.array([[-1]]))
    assert w.tolist() == [[0]] and e == -8
    # Negative sums shift with floor (arithmetic right shift), not toward zero.
    assert synaptic_input(torch.tensor([-1, -128, -129]), -7).tolist() == [-1, -1, -2]


def test_netx_weights_equal_lava_weight_pipeline() -> None:
    """Random matrices: our netx_weights == netx optimize + Lava clip + truncate."""
    pytest.importorskip("lava.lib.dl.netx")
    from lava.lib.dl.netx.utils import optimize_weight_bits
    from lava.utils.weightutils import clip_weights, determine_sign_mode, truncate_weights

    rng = np.random.default_rng(0)
    for _ in range(600):
        a, b = sorted(int(v) for v in rng.integers(-256, 256, size=2))
        r = rng.random()
        if r < 0.2:
            a, b = max(a, 0), max(a, b, 0)
        elif r < 0.4:
            a, b = min(a, b, 0), min(b, 0)
        w = rng.integers(a, b + 1, size=(3, 4))
        if rng.random() < 0.3:
            w = w // 4 * 4
        if not w.any():
            continue
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            lw, nb, le, _ = optimize_weight_bits(w.copy())
            lw = lw.astype(np.int32)
            mode = determine_sign_mode(lw)
            lw = truncate_weights(clip_weights(lw, mode, num_bits=8), mode, nb)
            mw, me = netx_weights(w)
        assert np.array_equal(mw, lw) and me == le, w


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cpu_and_cuda_agree() -> None:
    from mskd.net.spec import ConvLayer, FlattenLayer

    rng = np.random.default_rng(1)
    spec = NetSpec((InputLayer((2, 7, 6)),
                    ConvLayer((2, 7, 6), (3, 4, 3), rng.integers(-256, 256, (3, 2, 3, 3)),
                              (2, 2), (1, 1), (1, 1), 1, LifNeuron(100, 200, 10)),
                    FlattenLayer((3, 4, 3), (36,)),
                    DenseLayer(36, 4, rng.integers(-256, 256, (4, 36)), LifNeuron(0, 5, 20),
                               None, np.arange(4))))
    x = rng.integers(0, 2, size=(4, 6, *spec.input_shape))
    _, a = sim.run(spec, x, ("u", "v"), device="cpu")
    _, b = sim.run(spec, x, ("u", "v"), device="cuda")
    for name in a.names:
        assert torch.equal(a.spikes[name], b.spikes[name].cpu())
        assert torch.equal(a.v[name], b.v[name].cpu())


def test_first_divergence_names_sample_step_layer_and_chw_neuron() -> None:
    from mskd.deploy.diff import first_divergence

    from mskd.net.spec import ConvLayer

    spec = NetSpec((InputLayer((1, 4, 4)),
                    ConvLayer((1, 4, 4), (2, 4, 4), np.full((2, 1, 1, 1), 5), (1, 1), (0, 0),
                              (1, 1), 1, LifNeuron(0, 0, 0))))
    x = np.ones((2, 3, 1, 4, 4), np.int64)
    _, a = sim.run(spec, x, ("u", "v"))
    _, b = sim.run(spec, x, ("u", "v"))
    b.v["1:conv"][2, 1, 1, 3, 2] += 1  # step 2, sample 1, neuron (c=1, h=3, w=2)
    b.u["1:conv"][1, 1, 0, 0, 1] += 1  # earlier step in the same sample: reported first
    div = first_divergence(a, b)
    assert (div.sample, div.step, div.layer, div.field, div.neuron) == (1, 1, "1:conv", "u",
                                                                        (0, 0, 1))
    assert div.b == div.a + 1

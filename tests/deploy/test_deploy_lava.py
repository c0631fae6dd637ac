"""Simulator == Lava, zero tolerance: spikes, u and v of every layer, step and sample.

Random layer stacks come from a seeded generator (input / conv with stride and padding /
flatten / dense / dense with delays / reset_interval; full 8-bit weights; decays 0..4095
with the iDecay 0 and 4096 edges). Each Lava run is tiny; more seeds run under ``slow``.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
import pytest
from mskd.deploy import lava_backend
from mskd.deploy.diff import first_divergence
from mskd.deploy.verify import random_inputs, verify_net

from mskd.errors import MissingExtraError, NetError
from mskd.net.netx_io import read_netx, write_netx
from mskd.net.spec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    LifNeuron,
    NetSpec,
    conv_out_hw,
)
from mskd.sim import simulator as sim

pytest.importorskip("lava.lib.dl.netx")


def _neuron(rng) -> LifNeuron:
    i_decay = int(rng.choice([0, 4096, rng.integers(0, 4097)]))
    v_decay = int(rng.choice([0, 4095, rng.integers(0, 4096)]))
    return LifNeuron(i_decay, v_decay, int(rng.choice([0, rng.integers(1, 400),
                                                       rng.integers(0, 131072)])))


def _weights(rng, shape) -> np.ndarray:
    lo, hi = [(-256, 255), (0, 255), (-256, -1), (-8, 8)][rng.integers(0, 4)]
    w = rng.integers(lo, hi + 1, size=shape)
    if rng.random() < 0.3:
        w = w // 4 * 4  # trailing zero bits: exercises num_weight_bits < 8
    w.flat[0] = w.flat[0] or 1
    return w


def _bias(rng, n):
    return None if rng.random() < 0.3 else rng.integers(-4096, 4096, size=n)


def random_spec(rng) -> NetSpec:
    """A small random feed-forward netx network the simulator and netx both support."""
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 7)), int(rng.integers(3, 7))
    bias_driven = rng.random() < 0.7
    layers = [InputLayer((c, h, w), _neuron(rng) if bias_driven else None)]
    shape = (c, h, w)
    if rng.random() < 0.8:
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride, pad = (int(rng.integers(1, 3)), int(rng.integers(1, 3))), \
            (int(rng.integers(0, 2)), int(rng.integers(0, 2)))
        dil = (int(rng.integers(1, 3)), 1)
        hw = conv_out_hw(shape[1:], k, stride, pad, dil)
        if min(hw) >= 1:
            groups = c if c > 1 and rng.random() < 0.5 else 1
            cout = int(rng.integers(1, 3)) * groups
            layers.append(ConvLayer(shape, (cout, *hw), _weights(rng, (cout, c // groups, *k)),
                                    stride, pad, dil, groups, _neuron(rng), _bias(rng, cout)))
            shape = (cout, *hw)
    n = int(np.prod(shape))
    layers.append(FlattenLayer(shape, (n,)))
    for _ in range(int(rng.integers(1, 3))):
        out = int(rng.integers(2, 6))
        delay = None
        if rng.random() < 0.4:
            delay = rng.integers(0, 4, size=out)
        layers.append(DenseLayer(n, out, _weights(rng, (out, n)), _neuron(rng),
                                 _bias(rng, out), delay))
        n = out
    return NetSpec(tuple(layers))


def _assert_same(spec, x, steps=None, reset_interval=None):
    _, a = sim.run(spec, x, ("u", "v"), steps=steps, reset_interval=reset_interval)
    _, b = lava_backend.run(spec, x, ("u", "v"), steps=steps, reset_interval=reset_interval)
    div = first_divergence(a, b)
    assert div is None, div.describe("sim", "lava")
    return a


def _case(seed: int) -> None:
    rng = np.random.default_rng(seed)
    spec = random_spec(rng)
    reset = int(rng.integers(2, 5)) if rng.random() < 0.4 else None
    x = random_inputs(spec, samples=2, steps=int(rng.integers(4, 8)), seed=seed)
    _assert_same(spec, x, reset_interval=reset)


@pytest.mark.lava
@pytest.mark.parametrize("seed", range(8))
def test_random_networks_bit_exact(seed: int) -> None:
    _case(seed)


@pytest.mark.lava
@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8, 60))
def test_random_networks_bit_exact_more(seed: int) -> None:
    _case(seed)


@pytest.mark.lava
def test_reset_interval_across_samples() -> None:
    """LIFReset phases (offset 1 + layer) survive samples whose length is not a multiple."""
    rng = np.random.default_rng(11)
    spec = NetSpec((InputLayer((3,), LifNeuron(0, 0, 2)),
                    DenseLayer(3, 2, rng.integers(-50, 200, (3, 3))[:2], LifNeuron(0, 0, 50))))
    x = rng.integers(0, 400, size=(3, 5, 3))
    rec = _assert_same(spec, x, reset_interval=3)
    _, free = sim.run(spec, x, ("u", "v"))
    assert first_divergence(rec, free) is not None, "the reset must matter in this case"


@pytest.mark.lava
def test_wrap_and_saturation_bit_exact() -> None:
    """iDecay 0 lets u pass 2**23 (24-bit wrap); dv 0 and a huge vth saturate v."""
    n_in = 40
    spec = NetSpec((InputLayer((n_in,), LifNeuron(4096, 0, 0)),
                    DenseLayer(n_in, 3, np.full((3, n_in), 255), LifNeuron(0, 0, 131071)),
                    DenseLayer(3, 2, np.array([[255, -256, 7], [-3, 0, 0]]),
                               LifNeuron(4096, 4095, 0), np.array([4095, -4096]))))
    x = np.full((1, 16, n_in), 4095)
    rec = _assert_same(spec, x)
    u = rec.u["1:dense"][:, 0, 0]
    assert int(u.max()) > 2**22 and int(u.min()) < 0, "the current must wrap"
    assert int(rec.v["1:dense"].min()) == -(2**23 - 1), "v must saturate"


@pytest.mark.lava
def test_spike_driven_conv_held_input(tmp_path) -> None:
    """First layer a synapse: spikes in; [B, *shape] held for --steps."""
    rng = np.random.default_rng(7)
    spec = NetSpec((InputLayer((2, 5, 4)),
                    ConvLayer((2, 5, 4), (3, 3, 3), rng.integers(-256, 255, (3, 2, 3, 2)),
                              (2, 1), (1, 0), (1, 1), 1, LifNeuron(1000, 300, 20)),
                    FlattenLayer((3, 3, 3), (27,)),
                    DenseLayer(27, 3, rng.integers(-40, 90, (3, 27)), LifNeuron(200, 10, 30))))
    path = tmp_path / "n.h5"
    write_netx(spec, path)
    x = (rng.random((2, 2, 5, 4)) < 0.5).astype(np.int64)
    _, a = sim.run(path, x, ("v",), steps=5)
    _, b = lava_backend.run(path, x, ("v",), steps=5)
    assert first_divergence(a, b) is None


def _slayer_net(path) -> None:
    torch = pytest.importorskip("torch")
    h5py = pytest.importorskip("h5py")
    slayer = pytest.importorskip("lava.lib.dl.slayer")
    torch.manual_seed(0)
    p = {"threshold": 1.0, "current_decay": 0.25, "voltage_decay": 0.03,
         "requires_grad": False}
    blocks = torch.nn.ModuleList([
        slayer.block.cuba.Input(p),
        slayer.block.cuba.Conv(p, 1, 4, 3, stride=2, padding=1, weight_scale=2),
        slayer.block.cuba.Flatten(),
        slayer.block.cuba.Dense(p, 4 * 4 * 4, 5, weight_scale=2, delay=True),
    ])
    with torch.no_grad():  # a forward pass sets the lazy shapes, as in lava-dl's tutorials
        x = (torch.rand(1, 1, 8, 8, 4) > 0.5).float()
        for b in blocks:
            x = b(x)
        blocks[3].delay.delay.data = torch.arange(5.0)
    with h5py.File(path, "w") as f:
        layer = f.create_group("layer")
        for i, b in enumerate(blocks):
            b.export_hdf5(layer.create_group(f"{i}"))


@pytest.mark.lava
def test_slayer_export_reads_and_matches_lava(tmp_path) -> None:
    path = tmp_path / "slayer.h5"
    _slayer_net(path)
    spec = read_netx(path)
    assert [type(la).__name__ for la in spec.layers] == [
        "InputLayer", "ConvLayer", "FlattenLayer", "DenseLayer"]
    assert spec.layers[3].delay.tolist() == [0, 1, 2, 3, 4]
    message, ok = verify_net(path, samples=2, steps=6, seed=3)
    assert ok, message


@pytest.mark.lava
@pytest.mark.parametrize("stop", [RuntimeError, KeyboardInterrupt])
def test_no_child_processes_after_run_or_error(stop) -> None:
    spec = NetSpec((InputLayer((3,), LifNeuron(4096, 0, 3)),
                    DenseLayer(3, 2, np.array([[1, 2, 3], [4, 5, -6]]), LifNeuron(10, 10, 1))))
    x = np.full((2, 3, 3), 100)
    lava_backend.run(spec, x)
    assert multiprocessing.active_children() == []

    def boom(done):
        raise stop("stop here")

    with pytest.raises(stop):
        lava_backend.run(spec, x, progress=boom)
    assert multiprocessing.active_children() == []


@pytest.mark.lava
def test_loihi2_backend_fails_at_once_without_extension() -> None:
    spec = NetSpec((InputLayer((2,), LifNeuron(4096, 0, 3)),))
    with pytest.raises(MissingExtraError, match="lava-loihi"):
        lava_backend.run(spec, np.zeros((1, 2, 2)), backend="loihi2")


def test_bad_record_field_is_refused() -> None:
    spec = NetSpec((InputLayer((2,), LifNeuron(4096, 0, 3)),))
    with pytest.raises(NetError, match="cannot record 'w'"):
        sim.run(spec, np.zeros((1, 2, 2)), ("w",))

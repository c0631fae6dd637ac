"""Sigma-delta and graded networks: simulator == Lava, zero tolerance.

Seeded random netx stacks mix every input kind (bias-driven CUBA input, SDNN Delta input,
binary spikes, graded payloads of 1..24 bits), conv (stride, padding, dilation, groups) and
dense layers with CUBA, SDNN (ReLU SigmaDelta) or netx's default neuron, recurrent dense
(``dense_rec``), Sigma outputs, thresholds from 0 to large, SDNN biases, and inputs that
push the Delta's int32 shift and the registers past 24 bits. Messages (spikes or graded
payloads) and every register (u, v; sigma, act, residue, error) must match in every
layer, step and sample. More seeds run under ``slow``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mskd.deploy import lava_backend
from mskd.deploy.diff import first_divergence
from mskd.deploy.verify import random_inputs

from mskd.loihi.neurons import DEFAULT_NEURON, LifNeuron, SdnNeuron
from mskd.net.record import REGISTERS
from mskd.net.spec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    NetSpec,
    conv_out_hw,
)
from mskd.sim import simulator as sim

pytest.importorskip("lava.lib.dl.netx")


def _lif(rng) -> LifNeuron:
    return LifNeuron(int(rng.choice([0, 4096, rng.integers(0, 4097)])),
                     int(rng.choice([0, 4096, rng.integers(0, 4097)])),
                     int(rng.choice([0, rng.integers(1, 400), rng.integers(0, 131073)])))


def _sdn(rng) -> SdnNeuron:
    return SdnNeuron(int(rng.choice([0, 1, rng.integers(0, 64), rng.integers(0, 1 << 19)])))


def _neuron(rng, allow_default=False):
    r = rng.random()
    if allow_default and r < 0.15:
        return DEFAULT_NEURON
    return _sdn(rng) if r < 0.6 else _lif(rng)


def _weights(rng, shape) -> np.ndarray:
    lo, hi = [(-256, 255), (0, 255), (-256, -1), (-8, 8), (-128, 127)][rng.integers(0, 5)]
    w = rng.integers(lo, hi + 1, size=shape)
    if rng.random() < 0.3:
        w = w // 4 * 4  # trailing zero bits: exercises num_weight_bits < 8
    w.flat[0] = w.flat[0] or 1
    return w


def _bias(rng, n, neuron):
    if rng.random() < 0.4 or (isinstance(neuron, SdnNeuron) and neuron.sigma_output):
        return None
    if isinstance(neuron, SdnNeuron):
        big = rng.random() < 0.3  # SDNN bias << 12 up to the int32 edge
        return rng.integers(-(1 << 19) if big else -64, (1 << 19) if big else 64, size=n)
    return rng.integers(-4096, 4096, size=n)


def _input(rng, shape) -> tuple[InputLayer, int]:
    """(input layer, input_message_bits)."""
    kind = rng.choice(["bias", "delta", "spikes", "graded"], p=[0.2, 0.4, 0.15, 0.25])
    if kind == "bias":
        return InputLayer(shape, _lif(rng)), 0
    if kind == "delta":
        return InputLayer(shape, _sdn(rng)), 0
    return InputLayer(shape), (int(rng.choice([1, 8, 16, 24])) if kind == "graded" else 0)


def random_sdnn_spec(rng) -> NetSpec:
    """A small random netx network mixing CUBA and sigma-delta layers."""
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(3, 7)), int(rng.integers(3, 7))
    shape = (c, h, w)
    first, bits = _input(rng, shape)
    layers = [first]
    if rng.random() < 0.8:
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        pad, dil = (int(rng.integers(0, 2)), int(rng.integers(0, 2))), (int(rng.integers(1, 3)), 1)
        hw = conv_out_hw(shape[1:], k, stride, pad, dil)
        if min(hw) >= 1:
            groups = c if c > 1 and rng.random() < 0.5 else 1
            cout = int(rng.integers(1, 3)) * groups
            n = _neuron(rng)
            layers.append(ConvLayer(shape, (cout, *hw), _weights(rng, (cout, c // groups, *k)),
                                    stride, pad, dil, groups, n, _bias(rng, cout, n)))
            shape = (cout, *hw)
    n_in = int(np.prod(shape))
    layers.append(FlattenLayer(shape, (n_in,)))
    for _ in range(int(rng.integers(1, 3))):
        out = int(rng.integers(2, 6))
        neuron = _neuron(rng, allow_default=True)
        rec = _weights(rng, (out, out)) if rng.random() < 0.25 else None
        delay = rng.integers(0, 4, size=out) if rng.random() < 0.3 and rec is None else None
        layers.append(DenseLayer(n_in, out, _weights(rng, (out, n_in)), neuron,
                                 _bias(rng, out, neuron), delay, rec))
        n_in = out
    if rng.random() < 0.4:
        layers.append(DenseLayer(n_in, 3, _weights(rng, (3, n_in)), SdnNeuron(sigma_output=True)))
    return NetSpec(tuple(layers), input_message_bits=bits)


def _inputs(spec: NetSpec, rng, seed: int):
    x = random_inputs(spec, samples=2, steps=int(rng.integers(4, 8)), seed=seed)
    if spec.input_kind == "delta" and rng.random() < 0.3:
        x = x * int(rng.choice([1 << 11, 1 << 15]))  # << 12 wraps Lava's int32 register
    return x


def assert_bit_exact(spec: NetSpec, x):
    _, a = sim.run(spec, x, REGISTERS)
    _, b = lava_backend.run(spec, x, REGISTERS)
    div = first_divergence(a, b)
    assert div is None, div.describe("sim", "lava")
    assert set(a.registers) == set(b.registers)
    return a


def _case(seed: int):
    rng = np.random.default_rng(1000 + seed)
    spec = random_sdnn_spec(rng)
    return assert_bit_exact(spec, _inputs(spec, rng, seed))


@pytest.mark.lava
@pytest.mark.parametrize("seed", range(10))
def test_random_sdnn_networks_bit_exact(seed: int) -> None:
    _case(seed)


@pytest.mark.lava
@pytest.mark.slow
@pytest.mark.parametrize("seed", range(10, 80))
def test_random_sdnn_networks_bit_exact_more(seed: int) -> None:
    _case(seed)


def _slayer_sdnn(path) -> None:
    """A sigma-delta network built and exported by lava-dl slayer itself (PilotNet style)."""
    h5py = pytest.importorskip("h5py")
    slayer = pytest.importorskip("lava.lib.dl.slayer")
    torch.manual_seed(0)
    p = {"threshold": 0.1, "tau_grad": 0.5, "scale_grad": 1, "requires_grad": False,
         "shared_param": True, "activation": torch.nn.functional.relu}
    blocks = torch.nn.ModuleList([
        slayer.block.sigma_delta.Input(p),
        slayer.block.sigma_delta.Conv(p, 1, 4, 3, stride=2, padding=1, weight_scale=2),
        slayer.block.sigma_delta.Flatten(),
        slayer.block.sigma_delta.Dense(p, 4 * 4 * 4, 6, weight_scale=2),
        slayer.block.sigma_delta.Output(p, 6, 3),
    ])
    with torch.no_grad():  # a forward pass sets the lazy shapes
        x = torch.rand(1, 1, 8, 8, 5)
        for b in blocks:
            x = b(x)
    with h5py.File(path, "w") as f:
        layer = f.create_group("layer")
        for i, b in enumerate(blocks):
            b.export_hdf5(layer.create_group(f"{i}"))


@pytest.mark.lava
def test_slayer_sigma_delta_export_bit_exact(tmp_path) -> None:
    from mskd.deploy.verify import verify_net

    from mskd.net.netx_io import read_netx

    path = tmp_path / "sdnn.net"
    _slayer_sdnn(path)
    spec = read_netx(path)
    assert [spec.model(i) for i, _ in spec.neuron_layers()] == [
        "delta", "sigma_delta", "sigma_delta", "sigma"]
    message, ok = verify_net(path, samples=2, steps=6, seed=1)
    assert ok, message
    _, rec = sim.run(spec, random_inputs(spec, 2, 6, 1))
    assert rec.spikes["1:conv"].dtype.is_signed and int(rec.spikes["1:conv"].abs().max()) > 1


@pytest.mark.lava
def test_netx_default_neuron_integrates_and_never_spikes() -> None:
    """A dense layer without a neuron group: netx's CUBA iDecay 0, vDecay 4096, vThMant
    1 << 17. u keeps every input (no decay), v = u + bias each step, no spike."""
    spec = NetSpec((InputLayer((2,), LifNeuron(4096, 0, 0)),
                    DenseLayer(2, 2, np.array([[255, 0], [-256, 4]]), DEFAULT_NEURON,
                               np.array([5, -7]))))
    x = np.full((1, 6, 2), 1)
    rec = assert_bit_exact(spec, x)
    u, v = rec.u["1:dense"][:, 0].long(), rec.v["1:dense"][:, 0].long()
    assert int(rec.spikes["1:dense"].sum()) == 0
    assert torch.equal(v, u + torch.tensor([5 * 64, -7 * 64]))
    assert (u[2:, 0].diff() > 0).all(), "u integrates without decay"


@pytest.mark.lava
def test_graded_conv_past_int32_wraps_like_lava() -> None:
    """24-bit graded payloads x 8-bit weights exceed int32 in the conv: Lava's float64 ->
    int32 cast gives -2**31 there, then its 24-bit wrap."""
    spec = NetSpec((InputLayer((2, 3, 3)),
                    ConvLayer((2, 3, 3), (1, 3, 3), np.full((1, 2, 3, 3), 255), (1, 1), (1, 1),
                              (1, 1), 1, SdnNeuron(0)),
                    FlattenLayer((1, 3, 3), (9,)),
                    DenseLayer(9, 2, np.ones((2, 9), np.int64), SdnNeuron(sigma_output=True))),
                   input_message_bits=24)
    x = np.full((1, 3, 2, 3, 3), (1 << 23) - 1)
    x[0, 1] = 1 << 12
    assert_bit_exact(spec, x)


@pytest.mark.lava
def test_file_without_input_layer_given_input_shape(tmp_path) -> None:
    """netx's Network(input_shape=...): a conv-first file with no input layer."""
    import h5py

    from mskd.net.netx_io import read_netx, write_netx

    rng = np.random.default_rng(3)
    spec = NetSpec((InputLayer((1, 5, 5)),
                    ConvLayer((1, 5, 5), (2, 3, 3), rng.integers(-50, 50, (2, 1, 3, 3)),
                              (1, 1), (0, 0), (1, 1), 1, SdnNeuron(1)),
                    FlattenLayer((2, 3, 3), (18,)),
                    DenseLayer(18, 3, rng.integers(-50, 50, (3, 18)), LifNeuron(0, 100, 5))),
                   input_message_bits=8)
    path = tmp_path / "noinput.net"
    write_netx(spec, path)
    with h5py.File(path, "a") as f:  # drop the input layer: renumber 1.. -> 0..
        for i in range(1, 4):
            f.move(f"layer/{i}", f"layer/{i - 1}x")
        del f["layer/0"]
        for i in range(3):
            f.move(f"layer/{i}x", f"layer/{i}")
    from mskd.errors import NetError

    with pytest.raises(NetError, match="input shape unknown"):
        read_netx(path)
    back = read_netx(path, input_shape=(1, 5, 5), input_message_bits=8)
    x = random_inputs(back, 2, 5, 0)
    _, a = sim.run(back, x, REGISTERS)
    _, b = lava_backend.run(path, x, REGISTERS, input_shape=(1, 5, 5), input_message_bits=8)
    assert first_divergence(a, b) is None


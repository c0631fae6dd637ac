"""netx HDF5 <-> NetSpec: exact round trip and one-line refusals of what cannot run."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from mskd.errors import NetError
from mskd.net.netx_io import read_netx, write_netx
from mskd.net.spec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    LifNeuron,
    NetSpec,
    specs_equal,
)

pytestmark = pytest.mark.unit

def small_spec() -> NetSpec:
    rng = np.random.default_rng(0)
    return NetSpec((
        InputLayer((2, 6, 5), LifNeuron(4096, 0, 10)),
        ConvLayer((2, 6, 5), (4, 3, 5), rng.integers(-256, 256, (4, 2, 3, 3)), (2, 1),
                  (1, 1), (1, 1), 1, LifNeuron(0, 4095, 131071), np.array([1, -2, 3, 4095])),
        FlattenLayer((4, 3, 5), (60,)),
        DenseLayer(60, 7, rng.integers(-8, 9, (7, 60)), LifNeuron(1, 2, 3), None,
                   np.arange(7)),
        DenseLayer(7, 3, rng.integers(0, 255, (3, 7)), LifNeuron(2048, 100, 0),
                   np.array([-4096, 0, 7]), np.array(5)),
    ))


def test_round_trip_is_exact(tmp_path: Path) -> None:
    spec = small_spec()
    write_netx(spec, tmp_path / "a.net")
    back = read_netx(tmp_path / "a.net")
    assert specs_equal(spec, back)
    write_netx(back, tmp_path / "b.net")
    assert specs_equal(read_netx(tmp_path / "b.net"), spec)


def test_netx_network_loads_our_file(tmp_path: Path) -> None:
    netx = pytest.importorskip("lava.lib.dl.netx")
    write_netx(small_spec(), tmp_path / "a.net")
    net = netx.hdf5.Network(net_config=str(tmp_path / "a.net"))
    assert len(net) == 4 and net.out.shape == (3,)
    assert net.layers[1].shape == (5, 3, 4)  # Lava's (x, y, z) = (W, H, C)


def _edit(path: Path, fn) -> None:
    with h5py.File(path, "a") as f:
        fn(f)


@pytest.mark.parametrize("edit, message", [
    (lambda f: f["layer/3"].__delitem__("weight"), "layer 3 (dense): missing field 'weight'"),
    (lambda f: f["layer/1/neuron"].__delitem__("vThMant"), "layer 1 (conv) neuron: missing"),
    (lambda f: f["layer/2/type"].__setitem__(0, b"pool"), "layer 2 (pool): layer type not"),
    (lambda f: f["layer/2/type"].__setitem__(0, b"average"), "layer 2 (average)"),
    (lambda f: f["layer/3/type"].__setitem__(0, b"dense_rec"),
     "layer 3 (dense_rec): missing field 'weight_rec'"),
    (lambda f: f["layer/1/neuron/type"].__setitem__(0, b"RF"), "unsupported neuron type"),
    (lambda f: f.create_dataset("layer/1/neuron/messageBits", data=8),
     "layer 1 (conv) neuron: field 'messageBits' makes netx 0.6 fail"),
    (lambda f: (f["layer/1/neuron/type"].__setitem__(0, b"SDNN"),
                f.create_dataset("layer/1/neuron/activation", data=b"sigmoid")),
     "field 'activation' is 'sigmoid'"),
    (lambda f: (f["layer/4/neuron/type"].__setitem__(0, b"SDNN"),
                f.create_dataset("layer/4/neuron/sigma_output", data=True)),
     "layer 4 (dense): a sigma_output layer cannot have a bias"),
    (lambda f: f["layer/1/neuron/iDecay"].write_direct(np.array(4097)), "iDecay=4097"),
    (lambda f: f["layer/1/neuron/vDecay"].write_direct(np.array(4097)), "vDecay=4097"),
    (lambda f: f["layer/1/neuron/vThMant"].write_direct(np.array((1 << 17) + 1)), "vThMant"),
    (lambda f: f["layer/1"].__delitem__("neuron"), "layer 1 (conv): missing field 'neuron'"),
    (lambda f: f["layer/1/bias"].write_direct(np.array([0, 0, 0, 4096])), "13-bit"),
    (lambda f: f["layer/3/delay"].write_direct(np.arange(7) - 1), "delay outside 0..62"),
    (lambda f: f["layer/3/weight"].write_direct(np.full((7, 60), 300)), "weight outside"),
    (lambda f: f["layer/4/weight"].write_direct(np.zeros((3, 7), np.int64)), "all zero"),
])
def test_bad_fields_name_layer_and_field(tmp_path: Path, edit, message) -> None:
    path = tmp_path / "a.net"
    write_netx(small_spec(), path)
    _edit(path, edit)
    with pytest.raises(NetError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        read_netx(path)
    assert "\n" not in str(e.value) and str(path) in str(e.value)


def test_delays_beyond_62_are_clamped_as_netx_does_with_a_warning(tmp_path: Path) -> None:
    from mskd.errors import MskdWarning

    path = tmp_path / "a.net"
    write_netx(small_spec(), path)
    _edit(path, lambda f: f["layer/3/delay"].write_direct(np.arange(7) + 58))  # 58..64
    with pytest.warns(MskdWarning, match=r"layer 3 \(dense\): 2 of 7 delays above 62 steps "
                                         r"\(up to 64\) clamped to 62, as netx does"):
        spec = read_netx(path)
    assert spec.layers[3].delay.tolist() == [58, 59, 60, 61, 62, 62, 62]


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_hdf5_is_a_net_error_naming_the_file(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "a.net"
    write_netx(small_spec(), path)
    data = path.read_bytes()
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"not hdf5" * 100,
                      "empty": b""}[damage])
    with pytest.raises(NetError, match="a.net"):
        read_netx(path)


def test_missing_file_is_a_net_error(tmp_path: Path) -> None:
    with pytest.raises(NetError, match="nope.net"):
        read_netx(tmp_path / "nope.net")


def test_dataclasses_validate() -> None:
    with pytest.raises(ValueError, match="int64"):
        DenseLayer(2, 1, np.array([[1.0, 2.0]]), LifNeuron(1, 1, 1))
    with pytest.raises(ValueError, match="weight shape"):
        DenseLayer(3, 1, np.array([[1, 2]]), LifNeuron(1, 1, 1))
    with pytest.raises(ValueError, match="conv delay"):
        ConvLayer((1, 3, 3), (1, 3, 3), np.ones((1, 1, 1, 1), np.int64), (1, 1), (0, 0),
                  (1, 1), 1, LifNeuron(1, 1, 1), None, np.array(2))
    with pytest.raises(NetError, match="layer 1 \\(dense\\): needs a flatten"):
        NetSpec((InputLayer((1, 2, 2)), DenseLayer(4, 1, np.ones((1, 4), np.int64),
                                                   LifNeuron(1, 1, 1))))
    with pytest.raises(NetError, match="does not match the previous output"):
        NetSpec((InputLayer((3,)), DenseLayer(4, 1, np.ones((1, 4), np.int64),
                                              LifNeuron(1, 1, 1))))


def test_dense_delay_broadcast_follows_netx() -> None:
    n = LifNeuron(1, 1, 1)
    w = np.ones((2, 3), np.int64)
    assert DenseLayer(3, 2, w, n, None, np.array([4, 5])).delay_matrix().tolist() == [
        [4, 4, 4], [5, 5, 5]]  # one per output: axonal
    assert DenseLayer(3, 2, w, n, None, np.array([1, 2, 3])).delay_matrix().tolist() == [
        [1, 2, 3], [1, 2, 3]]  # one per input
    assert DenseLayer(3, 2, w, n, None, np.array(6)).delay_matrix().max() == 6

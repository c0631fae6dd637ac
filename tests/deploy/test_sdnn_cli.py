"""The CLI on sigma-delta and graded networks: run, verify, profile, convert, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
from helpers import run_mskd

from mskd.loihi.neurons import LifNeuron, SdnNeuron
from mskd.net.netx_io import read_netx, write_netx
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec


def _one_line_error(out: subprocess.CompletedProcess, text: str) -> None:
    assert out.returncode != 0
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and text in lines[0] and "Traceback" not in out.stderr, out.stderr


def sdnn_spec() -> NetSpec:
    rng = np.random.default_rng(0)
    return NetSpec((InputLayer((1, 6, 6), SdnNeuron(2)),
                    ConvLayer((1, 6, 6), (4, 3, 3), rng.integers(-40, 40, (4, 1, 3, 3)), (2, 2),
                              (1, 1), (1, 1), 1, SdnNeuron(1), rng.integers(-3, 3, 4)),
                    FlattenLayer((4, 3, 3), (36,)),
                    DenseLayer(36, 5, rng.integers(-30, 30, (5, 36)), SdnNeuron(1)),
                    DenseLayer(5, 3, rng.integers(-30, 30, (3, 5)), SdnNeuron(sigma_output=True))))


@pytest.fixture()
def files(tmp_path: Path):
    write_netx(sdnn_spec(), tmp_path / "sdnn.net")
    x = np.clip(np.random.default_rng(1).integers(-8, 9, (3, 7, 1, 6, 6)).cumsum(1) + 120, 0, 255)
    np.save(tmp_path / "x.npy", x)
    return tmp_path / "sdnn.net", tmp_path / "x.npy"


def test_run_writes_graded_payloads_and_registers(files, tmp_path: Path) -> None:
    net, x = files
    out = run_mskd("deploy", "run", net, "--input", x, "--record", "all", "--out",
                   tmp_path / "o.npz")
    assert out.returncode == 0, out.stderr
    data = np.load(tmp_path / "o.npz")
    conv = data["spikes/1:conv"]
    assert conv.dtype == np.int32 and conv.shape == (7, 3, 4, 3, 3)
    assert {"sigma/1:conv", "act/1:conv", "residue/1:conv", "error/1:conv",
            "act/0:input", "sigma/4:dense"} <= set(data.files)
    assert "u/1:conv" not in data.files  # a sigma-delta layer has no u/v
    assert np.abs(data["spikes/1:conv"]).max() > 1  # graded, not 0/1


@pytest.mark.lava
def test_verify_is_bit_exact_and_names_the_inputs(files) -> None:
    net, x = files
    out = run_mskd("deploy", "verify", net, "--input", x)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("bit-exact: 3 samples x 7 steps x 4 layers (messages, sigma, "
                                 "act, residue, error); inputs: 3 samples of Delta input values")
    assert "neuron.a_in" in out.stdout  # how Lava was fed a Delta input layer


def test_profile_on_loihi2_reports_graded_work(files, tmp_path: Path) -> None:
    net, x = files
    out = run_mskd("profile", net, "--input", x, "--out", tmp_path / "p")
    assert out.returncode == 0, out.stderr
    rep = json.loads((tmp_path / "p" / "report.json").read_text())
    assert rep["energy"]["by_kind"]["synop_graded"] > 0 and rep["energy"]["by_kind"]["synop"] == 0
    assert rep["neurobench"]["effective_macs"] > 0 and rep["neurobench"]["effective_acs"] == 0
    assert [r["factor"] for r in rep["energy_sensitivity"]] == [2.0, 2.0, 2.0]
    md = (tmp_path / "p" / "report.md").read_text()
    assert "## If the assumed graded figures are off by 2x" in md and "MAC" in md


def test_loihi1_refuses_graded_layers(files, tmp_path: Path) -> None:
    net, x = files
    _one_line_error(run_mskd("profile", net, "--input", x, "--profile", "loihi1",
                        "--out", tmp_path / "p"), "design rule 'graded_spikes'")
    assert not (tmp_path / "p").exists()


def test_convert_maps_a_graded_network_on_loihi2_only(files, tmp_path: Path) -> None:
    net, _ = files
    out = run_mskd("convert", net, "--out", tmp_path / "c.net")
    assert out.returncode == 0, out.stderr
    assert "loihi2:" in out.stdout and "loihi1:" not in out.stdout
    assert read_netx(tmp_path / "c.net").model(4) == "sigma"


def test_file_without_input_layer_needs_the_input_shape(tmp_path: Path) -> None:
    spec = NetSpec((InputLayer((1, 4, 4)),
                    ConvLayer((1, 4, 4), (2, 2, 2), np.ones((2, 1, 3, 3), np.int64), (1, 1),
                              (0, 0), (1, 1), 1, LifNeuron(0, 0, 3)),
                    FlattenLayer((2, 2, 2), (8,)),
                    DenseLayer(8, 2, np.ones((2, 8), np.int64), SdnNeuron(sigma_output=True))),
                   input_message_bits=8)
    path = tmp_path / "n.net"
    write_netx(spec, path)
    with h5py.File(path, "a") as f:  # drop the input layer
        del f["layer/0"]
        for i in range(1, 4):
            f.move(f"layer/{i}", f"layer/{i - 1}")
    np.save(tmp_path / "x.npy", np.random.default_rng(0).integers(-100, 100, (2, 4, 1, 4, 4)))
    args = ("deploy", "run", path, "--input", tmp_path / "x.npy", "--out", tmp_path / "o.npz")
    _one_line_error(run_mskd(*args), "give the input shape")
    out = run_mskd(*args, "--input-shape", "1,4,4", "--input-message-bits", "8")
    assert out.returncode == 0, out.stderr
    # the file read with the shape given runs as the network written with its input layer
    from mskd.sim.simulator import run

    want, _ = run(spec, torch.from_numpy(np.load(tmp_path / "x.npy")))
    assert np.array_equal(np.load(tmp_path / "o.npz")["output"], want.numpy())
    _one_line_error(run_mskd(*args, "--input-shape", "1,4,4", "--input-message-bits", "30"),
                    "input_message_bits=30 outside 0..24")
    _one_line_error(run_mskd(*args, "--input-shape", "1,4,4", "--input-message-bits", "4"),
                    "outside -8..7 (graded payloads)")


@pytest.mark.parametrize("edit, text", [
    (lambda f: f.create_dataset("layer/1/neuron/messageBits", data=16), "messageBits"),
    (lambda f: f.create_dataset("layer/4/bias", data=np.ones(3, np.int64)),
     "sigma_output layer cannot have a bias"),
    (lambda f: f["layer/1/neuron/vThMant"].write_direct(np.array(1 << 19)),
     "must fit Lava's int32 register"),
])
def test_bad_sdnn_fields_are_one_line_errors(files, tmp_path: Path, edit, text) -> None:
    net, x = files
    with h5py.File(net, "a") as f:
        edit(f)
    _one_line_error(run_mskd("deploy", "run", net, "--input", x, "--out", tmp_path / "o.npz"), text)
    assert not (tmp_path / "o.npz").exists()

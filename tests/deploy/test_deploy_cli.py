"""``mskd deploy run|verify`` through a subprocess: outputs, and one-line errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from helpers import run_mskd

from mskd.net.netx_io import write_netx
from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec


@pytest.fixture()
def net(tmp_path: Path) -> Path:
    spec = NetSpec((InputLayer((4,), LifNeuron(4096, 0, 5)),
                    DenseLayer(4, 3, np.array([[10, -20, 30, 4], [1, 2, 3, 4], [-5, 0, 9, 9]]),
                               LifNeuron(1000, 100, 8), np.array([0, 5, -5]))))
    write_netx(spec, tmp_path / "net.h5")
    return tmp_path / "net.h5"


def _one_line_error(out: subprocess.CompletedProcess, text: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and text in lines[0], out.stderr


def test_run_sim_writes_npz(net: Path, tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.full((2, 4), 900))
    out = run_mskd("deploy", "run", str(net), "--input", str(tmp_path / "x.npy"), "--steps", "5",
              "--record", "u,v", "--out", str(tmp_path / "o.npz"))
    assert out.returncode == 0, out.stderr
    data = np.load(tmp_path / "o.npz")
    assert data["output"].shape == (5, 2, 3)
    assert data["v/1:dense"].dtype == np.int32 and data["spikes/0:input"].shape == (5, 2, 4)


@pytest.mark.parametrize("damage, text", [
    ("shape", "input shape (2, 5)"),
    ("range", "outside -4096..4095"),
    ("truncated", "cannot read HDF5"),
    ("unsupported", "layer 1 (pool): layer type not supported"),
])
def test_bad_inputs_are_one_line(net: Path, tmp_path: Path, damage: str, text: str) -> None:
    import h5py

    x = np.full((2, 5 if damage == "shape" else 4), 9999 if damage == "range" else 1)
    np.save(tmp_path / "x.npy", x)
    if damage == "truncated":
        net.write_bytes(net.read_bytes()[:300])
    if damage == "unsupported":
        with h5py.File(net, "a") as f:
            f["layer/1/type"][0] = b"pool"
    out = run_mskd("deploy", "run", str(net), "--input", str(tmp_path / "x.npy"), "--steps", "3",
              "--out", str(tmp_path / "o.npz"))
    _one_line_error(out, text)
    assert not (tmp_path / "o.npz").exists()


@pytest.mark.lava
def test_verify_reports_bit_exact(net: Path) -> None:
    out = run_mskd("deploy", "verify", str(net), "--samples", "2", "--steps", "4")
    assert out.returncode == 0, out.stderr
    assert "bit-exact" in out.stdout


@pytest.mark.lava
def test_delays_beyond_netx_range_run_clamped_and_bit_exact(tmp_path: Path) -> None:
    """A file with axonal delays up to 64 (Intel's N-DNS baseline holds such): netx clamps
    them to 62 and runs it; mskd does the same, says so in one line, and matches Lava."""
    import h5py

    rng = np.random.default_rng(3)
    spec = NetSpec((InputLayer((6,), LifNeuron(4096, 0, 5)),
                    DenseLayer(6, 5, rng.integers(-60, 60, (5, 6)), LifNeuron(512, 64, 8),
                               np.array([40, 80, 0, 60, 20]), np.array([0, 61, 62, 62, 62]))))
    path = tmp_path / "d.net"
    write_netx(spec, path)
    with h5py.File(path, "a") as f:
        f["layer/1/delay"][...] = np.array([0, 61, 62, 63, 64])
    out = run_mskd("deploy", "verify", path, "--samples", "2", "--steps", "70")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("bit-exact"), out.stdout
    warn = [ln for ln in out.stderr.splitlines() if ln.startswith("warning:")]
    assert len(warn) == 1 and "layer 1 (dense): 2 of 5 delays above 62" in warn[0]


def test_loihi2_without_extension_is_one_line(net: Path, tmp_path: Path) -> None:
    pytest.importorskip("lava.lib.dl.netx")
    np.save(tmp_path / "x.npy", np.ones((1, 4)))
    out = run_mskd("deploy", "run", str(net), "--input", str(tmp_path / "x.npy"), "--steps", "2",
              "--backend", "loihi2", "--out", str(tmp_path / "o.npz"))
    _one_line_error(out, "lava-loihi")

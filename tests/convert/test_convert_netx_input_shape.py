"""``mskd convert FILE.net --input-shape C,H,W``: a lava-dl export without an input layer.

slayer writes an ``Input`` block only when the network has one; a network that starts with
a conv block is exported without, and netx needs ``Network(input_shape=...)`` to build it.
convert takes the shape once and writes it into the file as an input layer, so the
converted network deploys (simulator, Lava) without it.
"""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
from helpers import call_mskd

from mskd.net.netx_io import read_netx
from mskd.net.spec import InputLayer, specs_equal
from mskd.sim.simulator import run

pytestmark = pytest.mark.unit

def _slayer_export(path):
    """A conv -> flatten -> dense slayer network, exported by slayer, no Input block."""
    slayer = pytest.importorskip("lava.lib.dl.slayer")
    torch.manual_seed(0)
    params = {"threshold": 0.5, "current_decay": 0.25, "voltage_decay": 0.03,
              "requires_grad": False}
    blocks = torch.nn.ModuleList([
        slayer.block.cuba.Conv(params, 1, 2, 3, stride=2, padding=1, weight_scale=2),
        slayer.block.cuba.Flatten(),
        slayer.block.cuba.Dense(params, 2 * 3 * 3, 4, weight_scale=2)])
    x = (torch.rand(1, 1, 6, 6, 4) < 0.5).float()
    for b in blocks:
        x = b(x)
    with h5py.File(path, "w") as f:
        g = f.create_group("layer")
        for i, b in enumerate(blocks):
            b.export_hdf5(g.create_group(str(i)))


def test_an_export_without_input_layer_converts_with_input_shape(tmp_path, capsys):
    src, out = tmp_path / "slayer.net", tmp_path / "out.net"
    _slayer_export(src)
    capsys.readouterr()  # lava-dl's import notes (no CUDA) on stderr
    code, line = call_mskd(capsys, "convert", src, "--out", out)
    assert code == 1 and not out.exists()
    assert line == (f"error: {src}: layer 0 (conv): input shape unknown: the file has no "
                    "input layer; give the input shape (C,H,W), as netx's Network("
                    "input_shape=...) (mskd: --input-shape C,H,W)")
    assert call_mskd(capsys, "convert", src, "--out", out, "--input-shape", "1,6,6") == (0, "")
    written = read_netx(out)
    assert isinstance(written.layers[0], InputLayer) and written.layers[0].shape == (1, 6, 6)
    assert specs_equal(written, read_netx(src, input_shape=(1, 6, 6)))
    x = (torch.rand(8, 20, 1, 6, 6, generator=torch.Generator().manual_seed(1)) < 0.3).long()
    a, rec = run(out, x)
    b, _ = run(src, x, input_shape=(1, 6, 6))
    assert torch.equal(a, b) and int(rec.total_spikes()) > 0


@pytest.mark.parametrize("args, line", [
    (("--input-shape", "1,6"), "error: --input-shape '1,6': expected 1 or 3 positive sizes"),
    (("--input-shape", "1,7,7"), "input shape (1, 6, 6) differs from the given (1, 7, 7)"),
], ids=["two-sizes", "disagrees-with-the-file"])
def test_bad_input_shapes_are_refused(tmp_path, capsys, args, line):
    from mskd.net.netx_io import write_netx
    from mskd.net.spec import NetSpec

    src, out = tmp_path / "in.net", tmp_path / "out.net"
    _slayer_export(tmp_path / "slayer.net")
    spec = read_netx(tmp_path / "slayer.net", input_shape=(1, 6, 6))
    write_netx(NetSpec(spec.layers), src)  # now with an input layer of (1, 6, 6)
    capsys.readouterr()  # lava-dl's import notes (no CUDA) on stderr
    code, err = call_mskd(capsys, "convert", src, "--out", out, *args)
    assert code == 1 and line in err and not out.exists()


def test_input_shape_on_a_nir_graph_is_refused(tmp_path, capsys):
    (tmp_path / "g.nir").write_bytes(b"")
    code, err = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net",
                     "--input-shape", "1,6,6")
    assert (code, err) == (1, f"error: --input-shape applies to netx files only "
                              f"({tmp_path / 'g.nir'} is not a .net/.h5/.hdf5 file)")
    assert not np.any([p.suffix == ".net" for p in tmp_path.iterdir()])

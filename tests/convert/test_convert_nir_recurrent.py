"""Recurrent connections: snnTorch's ``RLeaky`` (its exporter writes ``lif -> w_rec ->
lif``) becomes a netx ``dense_rec`` layer, and runs with snnTorch's own dynamics.

snnTorch's RLeaky adds ``recurrent(spk)`` of the step before (``mem = beta mem + x +
W_rec spk + b_rec``); netx's ``dense_rec`` delivers the layer's own spikes of step t at t +
1: the same. RLeaky's default ``reset_delay=True`` also zeroes the membrane on the step
after a spike (a refractory step Leaky does not have), which its exporter does not record:
these nets use ``reset_delay=False`` (with the default, snnTorch fires 28 % less than the
graph says). Spike counts keep the byom bound (ratio within 5 %; measured 0.999-1.011),
output classes agree on 85 % or more (measured 100 % all-to-all, 89.8 % with the diagonal
V: the report says FAIR); exact timing less than in a feed-forward net (measured 67 % of the
all-to-all layer's spikes on the same step, 42 % in the output): a moved spike comes back
through the recurrence.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
from helpers import (
    call_mskd,
    class_agreement,
    deployed_spikes,
    random_spikes,
    snntorch_float,
    spike_fidelity,
)
from mskd.convert.nir.importer import convert_nir

from mskd.net.netx_io import read_netx

pytestmark = pytest.mark.unit

def _rleaky_net(all_to_all: bool = True):
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 6)
    kw = {"linear_features": 32} if all_to_all else {"all_to_all": False,
                                                     "V": torch.full((32,), 0.3)}
    rl = snn.RLeaky(beta=torch.full((32,), 0.95), threshold=torch.ones(32), init_hidden=True,
                    reset_mechanism="zero", reset_delay=False, **kw)
    out = snn.Leaky(beta=torch.full((6,), 0.9), threshold=torch.ones(6), init_hidden=True,
                    output=True, reset_mechanism="zero")
    with torch.no_grad():
        fc1.weight.mul_(2.0)
        fc2.weight.mul_(3.0)
        if all_to_all:
            rl.recurrent.weight.mul_(2.0)
    net = torch.nn.Sequential(fc1, rl, fc2, out)
    return net, export_to_nir(net, torch.rand(20))


@pytest.mark.parametrize("all_to_all", [True, False], ids=["all-to-all", "diagonal-V"])
def test_rleaky_deploys_as_dense_rec_with_snntorch_dynamics(tmp_path, all_to_all):
    net, graph = _rleaky_net(all_to_all)
    nir.write(str(tmp_path / "m.nir"), graph)
    rep = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch",
                      reset="zero")
    assert [r["kind"] for r in rep["network"]] == ["input", "dense_rec", "dense"]
    rec_layer = read_netx(tmp_path / "m.net").layers[1]
    # by hand: gain 1 (snnTorch), one exponent for both matrices: w = round(W 2**e)
    scale = rec_layer.neuron.vth_mant
    w_rec = net[1].recurrent.weight.detach().double().numpy() if all_to_all else \
        np.diag(np.full(32, 0.3))
    assert np.abs(rec_layer.weight_rec - w_rec * scale).max() <= 0.5
    x = random_spikes((20,))
    fl = snntorch_float(net, x)
    dep, _ = deployed_spikes(tmp_path / "m.net", x)
    measured = spike_fidelity(fl, dep)
    agreement = class_agreement(fl[-1].sum(0), dep[-1].sum(0))
    for k, (ratio, same_step) in enumerate(measured):
        assert 0.95 <= ratio <= 1.05 and same_step >= 0.35, (k, ratio, same_step)
    assert agreement >= 0.85
    np.save(tmp_path / "x.npy", x.numpy().astype(np.uint8))
    fid = convert_nir(tmp_path / "m.nir", tmp_path / "n.net", source="snntorch",
                      reset="zero", data=str(tmp_path / "x.npy"))["fidelity"]
    for row, (ratio, same_step) in zip(fid["layers"], measured, strict=True):
        assert row["spike_ratio"] == pytest.approx(ratio, abs=1e-3)  # its reference is
        assert row["same_step"] == pytest.approx(same_step, abs=1e-3)  # snnTorch's run
    assert fid["class_agreement"] == pytest.approx(agreement, abs=1e-9)
    assert fid["verdict"] == ("GOOD" if all_to_all else "FAIR"), fid["line"]


def test_the_recurrent_edge_matters(tmp_path):
    """Control: the same net without its recurrent synapse spikes measurably differently
    from snnTorch's (so the test above sees the recurrence)."""
    net, graph = _rleaky_net()
    graph.edges = [e for e in graph.edges if "w_rec" not in e[0] and "w_rec" not in e[1]]
    del graph.nodes["1.w_rec"]
    nir.write(str(tmp_path / "m.nir"), graph)
    convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch", reset="zero")
    x = random_spikes((20,))
    fl, (dep, _) = snntorch_float(net, x), deployed_spikes(tmp_path / "m.net", x)
    assert abs(spike_fidelity(fl, dep)[0][0] - 1) > 0.1


def test_a_recurrent_synapse_on_a_conv_layer_is_refused(tmp_path, capsys):
    n = 2 * 2 * 2
    conv = nir.Conv2d(input_shape=np.array([4, 4]), weight=np.ones((2, 1, 3, 3)),
                      stride=np.array([2, 2]), padding=np.array([1, 1]),
                      dilation=np.array([1, 1]), groups=1, bias=np.zeros(2))
    lif = nir.LIF(tau=np.full(n, 0.01), r=np.full(n, 10.0), v_leak=np.zeros(n),
                  v_threshold=np.ones(n))
    g = nir.NIRGraph(nodes={"input": nir.Input(np.array([1, 4, 4])), "c": conv, "lif": lif,
                            "rec": nir.Linear(np.ones((n, n))),
                            "output": nir.Output(np.array([2, 2, 2]))},
                     edges=[("input", "c"), ("c", "lif"), ("lif", "rec"), ("rec", "lif"),
                            ("lif", "output")], type_check=False)
    nir.write(str(tmp_path / "g.nir"), g)
    code, line = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net",
                      "--dt", "1e-3")
    assert (code, line) == (1, f"error: {tmp_path / 'g.nir'}: NIR node 'rec': a recurrent "
                               "synapse (8, 8) on a conv layer of 8 neurons: netx runs "
                               "recurrence as dense_rec ([n, n] on a dense layer) only")
    assert not (tmp_path / "g.net").exists()

"""Bring your own model: a framework's own exporter writes the NIR, ``mskd convert --from``
imports it, and the deployed network (the bit-exact simulator) is held against the
framework's own float run on the same random input spikes.

Thresholds, and why: with the right preset the deployed network differs from the float one
only by Loihi's fixed point (8-bit weight mantissas, 12-bit decays, rounding toward zero of
u and v), which moves a spike near threshold by a step now and then. Per layer the spike
count ratio stays within 5 % of 1 (measured 0.999-1.022 over the five nets below). At least
85 % of the first layer's float spikes fall on the very same step (measured 0.86-0.98), 45 %
in deeper layers (measured 0.49-0.78, the lowest where the output fires least): a spike
moved in one layer moves the input of the next, so exact timing compounds with depth while
counts do not. The output class (most spikes, or highest mean readout) agrees on at least
90 % of samples (measured 0.96-1.00): a
class flips only where the float network's top two outputs are within a spike of each
other. The same network read with a wrong time base or gain misses these bounds by far (the
control cases: spike ratio 3.0 for snnTorch at 5x its step, below 0.5 for norse's w_in read
as NIR's), and the approximated subtract reset shows what it costs.

Under nir 1.0.8, snnTorch 1.0's exporter fails on a scalar ``beta`` (its LIF node gets an
empty type) and on a batched sample (its own type check), and ``nir.write`` cannot store
norse 1.1's scalar parameters; so the networks below hold per-neuron parameter tensors and
are traced with an unbatched sample, which changes nothing in their dynamics.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
from helpers import (
    call_mskd,
    check_fidelity,
    class_agreement,
    deployed_spikes,
    norse_float,
    norse_net,
    random_spikes,
    snntorch_float,
    snntorch_net,
    spike_fidelity,
)
from mskd.convert.nir.importer import convert_nir

# -- snnTorch ----------------------------------------------------------------------------

@pytest.mark.parametrize("conv", [False, True, "pool"], ids=["mlp", "conv", "conv-avgpool"])
def test_snntorch_export_deploys_with_snntorch_dynamics(tmp_path, conv):
    net, graph, shape = snntorch_net(conv)
    nir.write(str(tmp_path / "m.nir"), graph)
    report = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch",
                         reset="zero")
    assert report["conventions"]["dt"] == 1e-4 and report["approximations"] == []
    from mskd.net.netx_io import read_netx

    layers = [la for la in read_netx(tmp_path / "m.net").layers if hasattr(la, "weight")]
    # (a) by hand: Leaky(beta) is U' = beta U + I, so vDecay = round(4096 (1 - beta)) and
    # the input gain is 1: w = round(W 2**e) with 2**e = vThMant / threshold
    assert [la.neuron.v_decay for la in layers] == [round(4096 * 0.05), round(4096 * 0.1)]
    assert [la.neuron.v_decay for la in layers] == [205, 410]
    assert all(la.neuron.i_decay == 4096 for la in layers)
    torch_w = [m.weight.detach().double().numpy() for m in net if hasattr(m, "weight")]
    if conv == "pool":  # the 2x2 average folded into the dense synapse: W[o, c, h//2, w//2]/4
        w = torch_w[1].reshape(6, 4, 4, 4)
        torch_w[1] = np.repeat(np.repeat(w, 2, axis=2), 2, axis=3).reshape(6, -1) / 4
    for la, w in zip(layers, torch_w, strict=True):
        scale = la.neuron.vth_mant / 1.0
        assert np.abs(la.weight.reshape(w.shape) - w * scale).max() <= 0.5
    # (b) against snnTorch's own float run
    x = random_spikes(shape)
    fl = snntorch_float(net, x)
    dep, _ = deployed_spikes(tmp_path / "m.net", x)
    check_fidelity(spike_fidelity(fl, dep), class_agreement(fl[-1].sum(0), dep[-1].sum(0)))


def test_snntorch_read_at_a_wrong_step_misses_the_bounds(tmp_path):
    """Control: the same export read as NIR at 5x snnTorch's step (vDecay 1024, not 205)."""
    net, graph, shape = snntorch_net(False)
    nir.write(str(tmp_path / "m.nir"), graph)
    convert_nir(tmp_path / "m.nir", tmp_path / "m.net", dt=5e-4, source="nir")
    x = random_spikes(shape)
    fl, (dep, _) = snntorch_float(net, x), deployed_spikes(tmp_path / "m.net", x)
    assert spike_fidelity(fl, dep)[0][0] > 2  # r = tau / 1e-4 makes the gain 5, not 1


def test_snntorch_subtract_reset_is_refused_or_approximated(tmp_path, capsys):
    """The default reset_mechanism='subtract' is not in the NIR file: refused, and with
    --approximate converted with reset to zero, listed in the report, and measurably so."""
    net, graph, shape = snntorch_net(False, reset="subtract")
    nir.write(str(tmp_path / "m.nir"), graph)
    code, line = call_mskd(capsys, "convert", tmp_path / "m.nir", "--out", tmp_path / "m.net")
    assert (code, line) == (1, f"error: {tmp_path / 'm.nir'}: NIR stores no time step; pass "
                               "--from snntorch|sinabs|norse|rockpool|nir or --dt SECONDS "
                               "(its r = tau / 1e-4 is the mark of snnTorch's exporter: "
                               "--from snntorch)")
    code, line = call_mskd(capsys, "convert", tmp_path / "m.nir", "--out", tmp_path / "m.net",
                      "--from", "snntorch")
    assert code == 1 and not (tmp_path / "m.net").exists()
    assert line == (f"error: {tmp_path / 'm.nir'}: NIR node '1': snnTorch neurons reset by "
                    "subtraction by default (reset_mechanism='subtract', which its exporter "
                    "does not record) and Loihi resets to zero: pass --reset zero if the "
                    "network was trained with reset_mechanism='zero', or --approximate to "
                    "convert it with reset to zero (the charge above threshold is lost at "
                    "each spike)")
    report = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch",
                         approximate=True)
    assert [(a["node"], a["semantic"]) for a in report["approximations"]] == [
        ("1", "subtract reset"), ("3", "subtract reset")]
    x = random_spikes(shape)
    fl, (dep, _) = snntorch_float(net, x), deployed_spikes(tmp_path / "m.net", x)
    assert spike_fidelity(fl, dep)[-1][0] < 0.9  # the approximation costs spikes: it is reported


# -- norse -------------------------------------------------------------------------------

@pytest.mark.parametrize("conv", [False, True], ids=["mlp", "conv"])
def test_norse_export_deploys_with_norse_dynamics(tmp_path, conv):
    from mskd.convert.netx_writer import write_net
    from mskd.convert.nir.conventions import resolve
    from mskd.convert.nir.importer import nir_to_netspec

    net, graph, shape = norse_net(conv)
    if conv:  # norse 1.1 writes Flatten as an empty node, which nir.write cannot store
        imp = nir_to_netspec(graph, resolve(graph, "norse", None))
        write_net(imp.spec, None, tmp_path / "m.net")
        scale = imp.readout_scale
    else:
        nir.write(str(tmp_path / "m.nir"), graph)
        scale = convert_nir(tmp_path / "m.nir", tmp_path / "m.net",
                            source="norse")["readout_scale"]
    from mskd.net.netx_io import read_netx

    layers = [la for la in read_netx(tmp_path / "m.net").layers if hasattr(la, "weight")]
    # (a) by hand: tau_syn_inv 200, tau_mem_inv 100 at dt 1e-3 -> iDecay round(4096 * 0.2),
    # vDecay round(4096 * 0.1); the readout's tau_mem_inv 50 -> vDecay 205; the input gain
    # is dt * tau_mem_inv = 0.1 (norse's current jumps by the input: NIR's w_in dt/tau_syn
    # does not apply)
    assert [(la.neuron.i_decay, la.neuron.v_decay) for la in layers] == [
        (819, 410), (4096, 410), (4096, 205)]
    w0 = next(m for m in net if hasattr(m, "weight")).weight.detach().double().numpy()
    e_scale = layers[0].neuron.vth_mant / 1.0
    assert np.abs(layers[0].weight.reshape(w0.shape) - 0.1 * w0 * e_scale).max() <= 0.5
    # (b) against norse's own float run
    x = random_spikes(shape)
    fl, f_v = norse_float(net, x)
    dep, d_v = deployed_spikes(tmp_path / "m.net", x)
    check_fidelity(spike_fidelity(fl, dep[:-1]),
                   class_agreement(f_v.mean(0), (d_v / scale).mean(0)))


def test_a_graph_traced_with_a_batch_is_read(tmp_path):
    """norse traced with a batched sample stores Input type [1, 20], which fails
    ``nir.read``'s type check: the importer reads it without and checks shapes itself."""
    snn = pytest.importorskip("norse.torch")
    p = snn.LIFBoxParameters(tau_mem_inv=torch.full((3,), 100.0), v_th=torch.ones(3),
                             v_leak=torch.zeros(3), v_reset=torch.zeros(3))
    net = snn.SequentialState(torch.nn.Linear(20, 3, bias=False), snn.LIFBoxCell(p))
    nir.write(str(tmp_path / "m.nir"), snn.to_nir(net, torch.rand(1, 20)))
    with pytest.raises(ValueError, match="Type inference error"):
        nir.read(str(tmp_path / "m.nir"))
    with pytest.raises(Exception, match="mark of norse 1.1's exporter: --from norse"):
        convert_nir(tmp_path / "m.nir", tmp_path / "m.net")  # no time base: a hint only
    report = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="norse")
    assert [r["neurons"] for r in report["network"]] == [20, 3]


def test_norse_read_as_plain_nir_misses_the_bounds(tmp_path):
    """Control: norse's w_in = 1 read as NIR means it (x dt/tau_syn = 0.2) and its taus as
    written (x dt): the first layer's weights shrink 5x and it falls nearly silent."""
    net, graph, shape = norse_net(False)
    from mskd.convert.nir.graph import chain

    for _, node in chain(graph):  # only the tau fix, as --norse11-taus did before
        for f in ("tau", "tau_mem", "tau_syn"):
            if hasattr(node, f):
                setattr(node, f, np.asarray(getattr(node, f)) / 1e-3)
    nir.write(str(tmp_path / "m.nir"), graph)
    convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="nir", dt=1e-3)
    x = random_spikes(shape)
    (fl, _), (dep, _) = norse_float(net, x), deployed_spikes(tmp_path / "m.net", x)
    assert spike_fidelity(fl, dep[:-1])[0][0] < 0.5


# -- rockpool ----------------------------------------------------------------------------

def test_rockpool_export_is_refused_then_approximated_with_its_gain_and_step(tmp_path):
    """rockpool's LIFTorch always resets by subtraction, so its nets only convert with
    --approximate. Its own exporter's graph: the step is read back from r (1 ms), the input
    gain is beta = exp(-dt/tau_syn) (read as NIR's equations it is 10x smaller). Under low
    drive (a fraction of the threshold per input spike, where subtract and zero reset differ
    least) the hidden layer keeps its spike count within 10 % (measured 0.96); the output
    class agrees on only 66 % of samples: the price of the approximation, which the report
    lists."""
    pytest.importorskip("rockpool")
    from rockpool.nn.combinators import Sequential
    from rockpool.nn.modules import LIFTorch, LinearTorch
    from rockpool.nn.modules.torch.nir import to_nir

    torch.manual_seed(0)
    fc1, fc2 = LinearTorch((20, 32)), LinearTorch((32, 6))
    fc1.weight.data = torch.rand(20, 32) * 0.03 - 0.0075
    fc2.weight.data = torch.rand(32, 6) * 0.03 - 0.0075
    lif = {"tau_mem": 0.02, "tau_syn": 0.005, "dt": 1e-3, "max_spikes_per_dt": 1}
    net = Sequential(fc1, LIFTorch(32, **lif), fc2, LIFTorch(6, **lif))
    nir.write(str(tmp_path / "m.nir"), to_nir(net, torch.rand(1, 20)))
    with pytest.raises(Exception, match="rockpool's LIFTorch resets by subtraction"):
        convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="rockpool")
    report = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="rockpool",
                         spikes="single", approximate=True)
    assert report["conventions"]["dt"] == pytest.approx(1e-3)
    assert {a["semantic"] for a in report["approximations"]} == {"subtract reset"}
    from mskd.net.netx_io import read_netx

    layers = [la for la in read_netx(tmp_path / "m.net").layers if hasattr(la, "weight")]
    # by hand: iDecay = 4096 (1 - exp(-1/5)), vDecay = 4096 (1 - exp(-1/20)), w = beta W 2**e
    want = (round(4096 * (1 - np.exp(-0.2))), round(4096 * (1 - np.exp(-0.05))))
    assert {(la.neuron.i_decay, la.neuron.v_decay) for la in layers} == {want} == {(742, 200)}
    w = fc1.weight.detach().double().numpy().T
    scale = layers[0].neuron.vth_mant
    assert np.abs(layers[0].weight - np.exp(-0.2) * w * scale).max() <= 0.5
    x = random_spikes((20,))
    net = net.reset_state()  # rockpool modules keep the state to_nir's trace left
    with torch.no_grad():
        out, _, rec = net(x, record=True)
    fl = [rec["1_LIFTorch"]["spikes"].transpose(0, 1), out.transpose(0, 1)]
    dep, _ = deployed_spikes(tmp_path / "m.net", x)
    assert 0.9 <= spike_fidelity(fl, dep)[0][0] <= 1.05
    convert_nir(tmp_path / "m.nir", tmp_path / "nir.net", source="nir", dt=1e-3,
                approximate=True)
    dep, _ = deployed_spikes(tmp_path / "nir.net", x)
    assert spike_fidelity(fl, dep)[0][0] < 0.1


# -- the CLI, in-process ------------------------------------------------------------


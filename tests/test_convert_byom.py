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
from mskd.convert.nir.importer import convert_nir

from mskd.sim.simulator import run

T, B, P_IN = 60, 128, 0.2  # steps, samples, input spike probability
PAD = 8  # zero steps after the input: more than the deepest network's lag


def _spikes(shape, seed: int = 1) -> torch.Tensor:
    """Random input spikes ``[B, T, *shape]``."""
    return (torch.rand(B, T, *shape, generator=torch.Generator().manual_seed(seed))
            < P_IN).float()


def _deployed(net, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each neuron layer's spikes ``[T, B, ...]`` and the last layer's v, aligned with the
    float run: the k-th layer of the deployed network answers k steps later (one step per
    synapse), so the input is followed by zeros and layer k is read from step k on."""
    _, rec = run(net, torch.cat([x, torch.zeros(B, PAD, *x.shape[2:])], 1).to(torch.int64),
                 record=("v",))
    names = [la.name for la in rec.layers]  # neuron layers; the input layer has none
    spikes = [rec.spikes[n][k + 1:k + 1 + T].float() for k, n in enumerate(names)]
    return spikes, rec.v[names[-1]][len(names):len(names) + T].double()


def _fidelity(float_spikes, deployed_spikes) -> list[tuple[float, float]]:
    """Per layer: (deployed / float spike count, float spikes on the very same step)."""
    return [(float(d.sum() / f.sum()), float((d * f).sum() / f.sum()))
            for f, d in zip(float_spikes, deployed_spikes, strict=True)]


def _agreement(f_score: torch.Tensor, d_score: torch.Tensor) -> float:
    return float((f_score.argmax(1) == d_score.argmax(1)).double().mean())


def _check_fidelity(layers: list[tuple[float, float]], agreement: float) -> None:
    """The bounds of the module docstring."""
    for k, (ratio, same_step) in enumerate(layers):
        assert 0.95 <= ratio <= 1.05, (k, ratio)
        assert same_step >= (0.85 if k == 0 else 0.45), (k, same_step)
    assert agreement >= 0.9, agreement


# -- snnTorch ----------------------------------------------------------------------------

def _snntorch_net(conv: bool | str, reset: str = "zero"):
    """An MLP, a conv net, or (``conv="pool"``) a conv net with 2x2 average pooling."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    def leaky(shape, beta, output=False):
        return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.ones(shape),
                         init_hidden=True, output=output, reset_mechanism=reset)

    torch.manual_seed(0)
    if conv:
        pool = [torch.nn.AvgPool2d(2)] if conv == "pool" else []
        c = torch.nn.Conv2d(1, 4, 3, stride=1 if pool else 2, padding=1)
        fc = torch.nn.Linear(64, 6)
        with torch.no_grad():
            c.weight.mul_(2.0)
            fc.weight.mul_(3.0)
        hidden, out = leaky((4, 8, 8) if pool else (4, 4, 4), 0.95), leaky((6,), 0.9, True)
        run_net = torch.nn.Sequential(c, hidden, *pool, torch.nn.Flatten(), fc, out)
        export_net = torch.nn.Sequential(c, hidden, *pool, torch.nn.Flatten(start_dim=0), fc,
                                         out)
        shape = (1, 8, 8)
    else:
        fc1, fc2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 6)
        with torch.no_grad():
            fc1.weight.mul_(2.0)
            fc2.weight.mul_(3.0)
        run_net = export_net = torch.nn.Sequential(fc1, leaky((32,), 0.95), fc2,
                                                   leaky((6,), 0.9, True))
        shape = (20,)
    return run_net, export_to_nir(export_net, torch.rand(*shape)), shape


def _snntorch_float(net, x) -> list[torch.Tensor]:
    """snnTorch's own run: each Leaky (or RLeaky, which with init_hidden returns its spikes
    the same way) layer's spikes ``[T, B, ...]``."""
    import snntorch as snn

    layers = [m for m in net if isinstance(m, (snn.Leaky, snn.RLeaky))]
    seen: dict[int, list] = {id(m): [] for m in layers}
    hooks = [m.register_forward_hook(lambda m, i, o: seen[id(m)].append(
        (o[0] if isinstance(o, tuple) else o).detach())) for m in layers]
    for m in layers:
        m.reset_hidden()
    with torch.no_grad():
        for t in range(x.shape[1]):
            net(x[:, t])
    for h in hooks:
        h.remove()
    return [torch.stack(seen[id(m)]) for m in layers]


@pytest.mark.parametrize("conv", [False, True, "pool"], ids=["mlp", "conv", "conv-avgpool"])
def test_snntorch_export_deploys_with_snntorch_dynamics(tmp_path, conv):
    net, graph, shape = _snntorch_net(conv)
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
    x = _spikes(shape)
    fl = _snntorch_float(net, x)
    dep, _ = _deployed(tmp_path / "m.net", x)
    _check_fidelity(_fidelity(fl, dep), _agreement(fl[-1].sum(0), dep[-1].sum(0)))


def test_snntorch_read_at_a_wrong_step_misses_the_bounds(tmp_path):
    """Control: the same export read as NIR at 5x snnTorch's step (vDecay 1024, not 205)."""
    net, graph, shape = _snntorch_net(False)
    nir.write(str(tmp_path / "m.nir"), graph)
    convert_nir(tmp_path / "m.nir", tmp_path / "m.net", dt=5e-4, source="nir")
    x = _spikes(shape)
    fl, (dep, _) = _snntorch_float(net, x), _deployed(tmp_path / "m.net", x)
    assert _fidelity(fl, dep)[0][0] > 2  # r = tau / 1e-4 makes the gain 5, not 1


def test_snntorch_subtract_reset_is_refused_or_approximated(tmp_path, capsys):
    """The default reset_mechanism='subtract' is not in the NIR file: refused, and with
    --approximate converted with reset to zero, listed in the report, and measurably so."""
    net, graph, shape = _snntorch_net(False, reset="subtract")
    nir.write(str(tmp_path / "m.nir"), graph)
    code, line = _cli(capsys, "convert", tmp_path / "m.nir", "--out", tmp_path / "m.net")
    assert (code, line) == (1, f"error: {tmp_path / 'm.nir'}: NIR stores no time step; pass "
                               "--from snntorch|sinabs|norse|rockpool|nir or --dt SECONDS "
                               "(its r = tau / 1e-4 is the mark of snnTorch's exporter: "
                               "--from snntorch)")
    code, line = _cli(capsys, "convert", tmp_path / "m.nir", "--out", tmp_path / "m.net",
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
    x = _spikes(shape)
    fl, (dep, _) = _snntorch_float(net, x), _deployed(tmp_path / "m.net", x)
    assert _fidelity(fl, dep)[-1][0] < 0.9  # the approximation costs spikes: it is reported


# -- norse -------------------------------------------------------------------------------

def _norse_net(conv: bool):
    snn = pytest.importorskip("norse.torch")

    def cuba(shape):
        return snn.LIFCell(snn.LIFParameters(
            tau_syn_inv=torch.full(shape, 200.0), tau_mem_inv=torch.full(shape, 100.0),
            v_th=torch.ones(shape), v_leak=torch.zeros(shape), v_reset=torch.zeros(shape)))

    def box(n):
        return snn.LIFBoxCell(snn.LIFBoxParameters(
            tau_mem_inv=torch.full((n,), 100.0), v_th=torch.ones(n), v_leak=torch.zeros(n),
            v_reset=torch.zeros(n)))

    readout = snn.LIBoxCell(snn.LIBoxParameters(tau_mem_inv=torch.full((4,), 50.0),
                                                v_leak=torch.zeros(4)))
    torch.manual_seed(0)
    if conv:
        head = [torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), cuba((4, 4, 4))]
        torch.nn.init.zeros_(head[0].bias)  # norse 1.1's exporter needs a bias tensor
        tail = [torch.nn.Linear(64, 16, bias=False), box(16)]
        shape = (1, 8, 8)
    else:
        head = [torch.nn.Linear(20, 16, bias=False), cuba((16,))]
        tail = [torch.nn.Linear(16, 12, bias=False), box(12)]
        shape = (20,)
    tail += [torch.nn.Linear(tail[0].out_features, 4, bias=False), readout]
    with torch.no_grad():
        for m in head + tail:
            if hasattr(m, "weight"):
                m.weight.mul_(12.0)  # norse's gain is dt/tau_mem = 0.1: drive it to spike
    flat = [torch.nn.Flatten()] if conv else []
    export = snn.SequentialState(*head, *[torch.nn.Flatten(0)] * conv, *tail)
    return (snn.SequentialState(*head, *flat, *tail), snn.to_nir(export, torch.rand(*shape),
                                                                   dt=1e-3), shape)


def _norse_float(net, x) -> tuple[list[torch.Tensor], torch.Tensor]:
    """norse's own run: each spiking layer's spikes ``[T, B, ...]`` and the readout's v
    ``[T, B, 4]``."""
    import norse.torch as snn

    cells = [m for m in net if isinstance(m, (snn.LIFCell, snn.LIFBoxCell))]
    seen: dict[int, list] = {id(m): [] for m in cells}
    hooks = [m.register_forward_hook(lambda m, i, o: seen[id(m)].append(o[0].detach()))
             for m in cells]
    state, vs = None, []
    with torch.no_grad():
        for t in range(T):
            v, state = net(x[:, t], state)
            vs.append(v)
    for h in hooks:
        h.remove()
    return [torch.stack(seen[id(m)]) for m in cells], torch.stack(vs).double()


@pytest.mark.parametrize("conv", [False, True], ids=["mlp", "conv"])
def test_norse_export_deploys_with_norse_dynamics(tmp_path, conv):
    from mskd.convert.netx_writer import write_net
    from mskd.convert.nir.conventions import resolve
    from mskd.convert.nir.importer import nir_to_netspec

    net, graph, shape = _norse_net(conv)
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
    x = _spikes(shape)
    fl, f_v = _norse_float(net, x)
    dep, d_v = _deployed(tmp_path / "m.net", x)
    _check_fidelity(_fidelity(fl, dep[:-1]), _agreement(f_v.mean(0), (d_v / scale).mean(0)))


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
    net, graph, shape = _norse_net(False)
    from mskd.convert.nir.graph import chain

    for _, node in chain(graph):  # only the tau fix, as --norse11-taus did before
        for f in ("tau", "tau_mem", "tau_syn"):
            if hasattr(node, f):
                setattr(node, f, np.asarray(getattr(node, f)) / 1e-3)
    nir.write(str(tmp_path / "m.nir"), graph)
    convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="nir", dt=1e-3)
    x = _spikes(shape)
    (fl, _), (dep, _) = _norse_float(net, x), _deployed(tmp_path / "m.net", x)
    assert _fidelity(fl, dep[:-1])[0][0] < 0.5


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
    x = _spikes((20,))
    net = net.reset_state()  # rockpool modules keep the state to_nir's trace left
    with torch.no_grad():
        out, _, rec = net(x, record=True)
    fl = [rec["1_LIFTorch"]["spikes"].transpose(0, 1), out.transpose(0, 1)]
    dep, _ = _deployed(tmp_path / "m.net", x)
    assert 0.9 <= _fidelity(fl, dep)[0][0] <= 1.05
    convert_nir(tmp_path / "m.nir", tmp_path / "nir.net", source="nir", dt=1e-3,
                approximate=True)
    dep, _ = _deployed(tmp_path / "nir.net", x)
    assert _fidelity(fl, dep)[0][0] < 0.1


# -- the CLI, in-process ------------------------------------------------------------

def _cli(capsys, *args) -> tuple[int, str]:
    """``mskd`` in-process, as the executable runs it: (exit code, the stderr line)."""
    from mskd.cli import main

    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, "errors must be one line"
    return code, err

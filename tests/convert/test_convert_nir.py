"""NIR: import norse's own export, refuse what Loihi cannot hold, export a student."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
from mskd.convert.nir.conventions import resolve
from mskd.convert.nir.export import export_student_nir
from mskd.convert.nir.importer import convert_nir, nir_to_netspec
from mskd.convert.quantize import fold_student

from mskd.errors import NetError
from mskd.net.netx_io import read_netx

pytestmark = pytest.mark.unit

DT = 1e-3


def _norse_graph():
    snn = pytest.importorskip("norse.torch")
    torch.manual_seed(0)
    model = snn.SequentialState(
        torch.nn.Conv2d(1, 2, 3, stride=2, padding=1), snn.LIFCell(), torch.nn.Flatten(),
        torch.nn.Linear(32, 5, bias=False), snn.LIFBoxCell(),
        torch.nn.Linear(5, 3, bias=False), snn.LIBoxCell())
    with torch.no_grad():
        model[0].bias.zero_()
    return model, snn.to_nir(model, torch.rand(1, 1, 8, 8), dt=DT)


def test_norse_export_imports_with_loihi_decays(tmp_path):
    model, graph = _norse_graph()
    imp = nir_to_netspec(graph, resolve(graph, "norse", DT))
    kinds = [type(la).__name__ for la in imp.spec.layers]
    assert kinds == ["InputLayer", "ConvLayer", "FlattenLayer", "DenseLayer", "DenseLayer"]
    conv, dense, out = imp.spec.layers[1], imp.spec.layers[3], imp.spec.layers[4]
    # LIFCell defaults: tau_syn_inv 200, tau_mem_inv 100 -> dt/tau 0.2 and 0.1 of 4096
    assert (conv.neuron.i_decay, conv.neuron.v_decay) == (819, 410)
    assert (dense.neuron.i_decay, dense.neuron.v_decay) == (4096, 410)
    assert out.neuron.vth_mant == 2**17 - 1  # LI readout never spikes
    # weights: gain-folded, scaled by a power of two, rounded; norse's current jumps by
    # the input (i += x), so the gain is dt/tau_mem alone, not NIR's w_in dt/tau_syn more
    g = 0.1
    w = model[0].weight.detach().double().numpy()
    scale = conv.neuron.vth_mant  # threshold 1.0 -> vth = 2**e
    assert np.abs(conv.weight - g * w * scale).max() <= 0.5
    assert np.abs(conv.weight).max() <= 127 and np.abs(conv.weight).max() > 63
    from mskd.convert.netx_writer import write_net

    write_net(imp.spec, None, tmp_path / "g.net")  # (norse 1.1's graph is not nir.write-able)
    assert imp.sources == ("input", "1", "2", "4", "6")
    assert len(read_netx(tmp_path / "g.net").layers) == 5


def test_norse_taus_without_the_fix_are_refused():
    _, graph = _norse_graph()
    with pytest.raises(NetError, match="NIR node '1': tau_syn=.* > 1"):
        nir_to_netspec(graph, DT)


def _chain(*mid, shape=(4,)):
    nodes = {"input": nir.Input(np.array(shape))}
    names = ["input"]
    for i, n in enumerate(mid):
        nodes[f"n{i}"] = n
        names.append(f"n{i}")
    nodes["output"] = nir.Output(np.array([2]))
    names.append("output")
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:], strict=True)),
                        type_check=False)


def _lif(**kw):
    p = dict(tau=np.ones(2) * 0.01, r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2))
    return nir.LIF(**{**p, **kw})


W = np.array([[0.5, -1.0, 0.25, 2.0], [1.0, 0.5, -0.5, 0.1]])


@pytest.mark.parametrize("graph, match", [
    (_chain(nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([0, 0])),
            shape=(1, 4, 4)), "NIR node 'n0': pooling without a synapse after it"),
    (_chain(nir.Linear(W), _lif(v_reset=np.ones(2) * 0.5)), "'v_reset'=0.5 must be 0"),
    (_chain(nir.Linear(W), _lif(v_leak=np.ones(2))), "'v_leak'=1 must be 0"),
    (_chain(nir.Linear(W), _lif(tau=np.ones(2) * 1e-4)), "n1.*dt/tau=10 > 1"),
    (_chain(nir.Linear(W), _lif(tau=np.array([0.01, 0.02]))), "differs between neurons"),
    (_chain(nir.Linear(W), _lif(v_threshold=np.ones(2) * 1e9)), "beyond 17 bits after scaling"),
    (_chain(_lif()), "'n0': a LIF neuron needs a synapse"),
    (_chain(nir.Linear(W), nir.Linear(W)), "two synapses in a row"),
    (_chain(nir.Threshold(np.ones(4))), "type Threshold cannot run"),
    (_chain(nir.Delay(np.ones(4))), "'n0': field 'delay' .* within 0..62"),
])
def test_refused_nodes_are_named(graph, match):
    with pytest.raises(NetError, match=match):
        nir_to_netspec(graph, DT)


def test_recurrent_edge_is_refused():
    g = _chain(nir.Linear(W), _lif())
    g.edges.append(("n1", "n0"))
    with pytest.raises(NetError, match="recurrent edge n1 -> n0"):
        nir_to_netspec(g, DT)


def test_refused_graph_leaves_no_file(tmp_path):
    nir.write(str(tmp_path / "bad.nir"), _chain(nir.Linear(W), _lif(v_leak=np.ones(2))))
    with pytest.raises(NetError):
        convert_nir(tmp_path / "bad.nir", tmp_path / "bad.net")
    assert not (tmp_path / "bad.net").exists()


def test_student_nir_round_trip_returns_the_same_network(tmp_path):
    """Export a student, import the file: the same netx layers (the input pair is the
    bias-driven Input layer again, not an extra 1x1 conv), integers and input encoding."""
    from mskd.convert.student_io import student_encoding
    from mskd.train.lif_config import StudentConfig
    from mskd.train.student_lif import Student

    from mskd.net.encoding import read_encoding
    from mskd.net.spec import specs_equal

    torch.manual_seed(0)
    s = Student(StudentConfig(size=8, channels=(3, 4), hidden=(6,), n_frames=2))
    path = export_student_nir(s, tmp_path / "s.nir")
    want = fold_student(s.quantized())
    back = nir_to_netspec(nir.read(str(path)), DT).spec
    assert [type(la) for la in back.layers] == [type(la) for la in want.layers]
    assert specs_equal(back, want)
    report = convert_nir(path, tmp_path / "s.net")
    assert len(report["network"]) == len(want.layers) == 6
    assert specs_equal(read_netx(tmp_path / "s.net"), want)
    assert read_encoding(tmp_path / "s.net") == student_encoding(s)


def test_a_tagged_input_pair_that_is_not_a_gain_is_refused(tmp_path):
    from mskd.convert.nir.export import student_graph
    from mskd.train.lif_config import StudentConfig
    from mskd.train.student_lif import Student

    torch.manual_seed(0)
    g = student_graph(Student(StudentConfig(size=8, channels=(3,), hidden=(6,), n_frames=2)))
    g.nodes["0_gain"].weight[0, 1] = 5.0  # no longer diagonal
    with pytest.raises(NetError, match="'0_gain': tagged 'bias_input' but not a 1x1"):
        nir_to_netspec(g, DT)


def test_cli_imports_a_nir_file(tmp_path, capsys):
    import typer
    from mskd.convert.cli import register

    g = _chain(nir.Linear(W), _lif())
    nir.write(str(tmp_path / "g.nir"), g)
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    typer.main.get_command(app).main(args=["convert", str(tmp_path / "g.nir"), "--out",
                                           str(tmp_path / "g.net"), "--dt", "1e-3"],
                                     standalone_mode=False)
    spec = read_netx(tmp_path / "g.net")
    assert spec.layers[1].neuron.v_decay == 410 and "wrote" in capsys.readouterr().out


def test_norse_batch_norm_is_refused_by_name():
    """norse 1.1 exports BatchNorm2d as an empty node; it is not a flatten, so it is refused."""
    snn = pytest.importorskip("norse.torch")
    model = snn.SequentialState(torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.BatchNorm2d(2),
                                snn.LIFCell())
    graph = snn.to_nir(model, torch.rand(1, 1, 4, 4), dt=DT)
    with pytest.raises(NetError, match="NIR node '1': empty \\(None\\) node"):
        nir_to_netspec(graph, resolve(graph, "norse", DT))

"""``mskd convert model.nir``: the time base and conventions it reads a graph under, and
the one-line refusals (exit 1, the exact line, nothing written) of what Loihi cannot keep,
or its listed approximations; sinabs's and rockpool's presets checked by hand against
graphs written as their exporters write them (sinabs does not install beside our nir pin).
The frameworks' own exporters are in ``test_convert_byom.py``."""

from __future__ import annotations

import nir
import numpy as np
import pytest
from helpers import call_mskd

pytestmark = pytest.mark.unit

def _graph(neuron, syn=None, n_in: int = 4):
    """Input -> synapse -> neuron -> Output, as an exporter would write it."""
    n = np.asarray(neuron.v_threshold if hasattr(neuron, "v_threshold") else neuron.r).size
    syn = syn if syn is not None else nir.Linear(np.linspace(-1, 1, n * n_in).reshape(n, n_in))
    return nir.NIRGraph(nodes={"input": nir.Input(np.array([n_in])), "fc": syn, "lif": neuron,
                               "output": nir.Output(np.array([n]))},
                        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")],
                        type_check=False)


def _lif(n=3, **kw):
    p = dict(tau=np.full(n, 0.01), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))
    return nir.LIF(**{**p, **kw})


def _cuba(n=3, **kw):
    p = dict(tau_syn=np.full(n, 5e-3), tau_mem=np.full(n, 0.01), r=np.ones(n),
             v_leak=np.zeros(n), v_threshold=np.ones(n))
    return nir.CubaLIF(**{**p, **kw})


def _convert(capsys, tmp_path, graph, *args) -> tuple[int, str]:
    nir.write(str(tmp_path / "g.nir"), graph)
    code, line = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net",
                      *args)
    if code:
        assert not (tmp_path / "g.net").exists(), "a refused graph must write nothing"
    return code, line.replace(f"{tmp_path / 'g.nir'}: ", "")


@pytest.mark.parametrize("graph, args, line", [
    (_graph(_lif()), (), "error: NIR stores no time step; pass --from "
     "snntorch|sinabs|norse|rockpool|nir or --dt SECONDS"),
    (_graph(_lif()), ("--from", "nir"), "error: --from nir: NIR stores no time step; pass "
     "--dt SECONDS"),
    (_graph(nir.IF(r=np.ones(3), v_threshold=np.ones(3))), ("--from", "sinabs"),
     "error: NIR node 'lif': sinabs neurons reset by subtraction by default (reset_fn="
     "MembraneSubtract(), which its exporter does not record) and Loihi resets to zero: pass "
     "--reset zero if the network was trained with reset_fn=MembraneReset(), or --approximate "
     "to convert it with reset to zero (the charge above threshold is lost at each spike)"),
    (_graph(nir.IF(r=np.ones(3), v_threshold=np.ones(3))), ("--from", "sinabs", "--reset",
                                                          "zero"),
     "error: NIR node 'lif': sinabs's LIF and IAF send several spikes per step by default "
     "(spike_fn=MultiSpike, not recorded by its exporter) and Loihi sends one: pass --spikes "
     "single if the network was trained with spike_fn=SingleSpike, or --approximate to "
     "convert it with one spike per step (input beyond twice the threshold in one step is "
     "lost)"),
    (_graph(_lif(tau=np.array([0.01, 0.02, 0.04]))), ("--dt", "1e-3"),
     "error: NIR node 'lif': field 'tau' differs between neurons (0.01 to 0.04) and netx holds "
     "one neuron config per layer: train with one time constant per layer, or --approximate "
     "to convert it with the median tau=0.02 for every neuron"),
    (_graph(_cuba(), nir.Affine(np.ones((3, 4)), np.full(3, 0.5))), ("--dt", "1e-3"),
     "error: NIR node 'fc': non-zero bias into a Cuba neuron ('lif'): Loihi's bias enters v, "
     "not the current: train without a bias on this layer, or --approximate to convert it "
     "with the bias added to v at its steady-state value (bias x 5.001; exact once the current "
     "has settled, a few tau_syn after the start)"),
    (_graph(_lif(n=4), nir.Threshold(np.full(4, 2.0))), ("--dt", "1e-3"),
     "error: NIR node 'fc': type Threshold cannot run on Loihi via netx (supported: Affine, "
     "Linear, Conv2d, Conv1d, Flatten, SumPool2d, AvgPool2d, Scale, Delay, CubaLIF, LIF, IF, "
     "LI, CubaLI): export the network without it"),
    (_graph(_cuba(r=np.full(3, 0.02 * np.exp(-0.05) / 1e-3), tau_mem=np.full(3, 0.02))),
     ("--from", "rockpool", "--dt", "1e-4"), "error: NIR graph: --dt 0.0001 disagrees with "
     "the step rockpool's exporter encoded in r (0.001 s); drop --dt or pass --from nir"),
    (_graph(_lif()), ("--from", "keras"), "error: --from keras: expected one of "
     "snntorch|sinabs|norse|rockpool|nir"),
], ids=["no-time-base", "nir-without-dt", "sinabs-subtract", "sinabs-multi-spike",
        "per-neuron-tau", "bias-into-cuba", "threshold", "rockpool-dt", "unknown-exporter"])
def test_refusals_are_one_line_naming_the_node(tmp_path, capsys, graph, args, line):
    assert _convert(capsys, tmp_path, graph, *args) == (1, line)


def test_a_file_that_is_not_nir_is_refused(tmp_path, capsys):
    (tmp_path / "g.nir").write_bytes(b"not a NIR file")
    code, line = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net",
                      "--from", "snntorch")
    assert code == 1 and line.startswith(f"error: {tmp_path / 'g.nir'}: not a readable NIR "
                                         "file (")
    assert not (tmp_path / "g.net").exists()


def test_nir_options_on_a_checkpoint_are_refused(tmp_path, capsys):
    code, line = call_mskd(capsys, "convert", tmp_path / "s.safetensors", "--out",
                      tmp_path / "s.net", "--from", "snntorch")
    assert (code, line) == (1, f"error: --from applies to NIR graphs only "
                               f"({tmp_path / 's.safetensors'} is not a .nir file)")


def test_approximations_are_listed_in_the_report(tmp_path, capsys):
    import json

    g = _graph(_cuba(tau_mem=np.array([0.01, 0.02, 0.04])),
               nir.Affine(np.ones((3, 4)), np.full(3, 0.5)))
    code, _ = _convert(capsys, tmp_path, g, "--dt", "1e-3", "--approximate", "--report",
                       tmp_path / "rep")
    assert code == 0
    report = json.loads((tmp_path / "rep" / "convert_report.json").read_text())
    assert [(a["node"], a["semantic"]) for a in report["approximations"]] == [
        ("lif", "per-neuron tau_mem"), ("fc", "bias into a current-based layer")]
    md = (tmp_path / "rep" / "convert_report.md").read_text()
    assert "| lif | per-neuron tau_mem | the median tau_mem=0.02 for every neuron |" in md
    from mskd.net.netx_io import read_netx

    layer = read_netx(tmp_path / "g.net").layers[1]
    assert layer.neuron.v_decay == round(4096 * 1e-3 / 0.02)  # the median tau_mem
    # bias 0.5 x gain (dt/tau_mem w_in dt/tau_syn = 0.05 x 0.2, at the median tau_mem) x
    # 4096/iDecay (the current's steady state, iDecay = 819) x 2**e (= vThMant)
    want = 0.5 * 0.05 * 0.2 * 4096 / 819 * layer.neuron.vth_mant
    assert np.all(layer.bias == round(want)) and round(want) == 205


def test_sinabs_and_rockpool_presets_by_hand():
    """Graphs as those exporters write them (their sources, see nir_presets): decays and
    gains computed by hand from the framework's own update rule."""
    from mskd.convert.nir.conventions import resolve
    from mskd.convert.nir.layers import neuron_model

    # sinabs LIF(tau_mem=10 steps), norm_input: v = a v + (1 - a) x, a = exp(-1/10)
    g = _graph(_lif(tau=np.full(3, 10.0)))
    conv = resolve(g, "sinabs", None, reset="zero", spikes="single")
    m = neuron_model("lif", g.nodes["lif"], conv)
    a = np.exp(-0.1)
    assert (conv.dt, m.v_decay, m.i_decay) == (1.0, round(4096 * (1 - a)), 4096) == (1, 390,
                                                                                     4096)
    assert m.gain == pytest.approx(1 - a)
    # sinabs IAF: v += x
    m = neuron_model("if", nir.IF(r=np.ones(3), v_threshold=np.ones(3)), conv)
    assert (m.v_decay, m.gain) == (0, 1.0)
    # rockpool LIFTorch(tau_mem=20 ms, tau_syn=10 ms, dt=1 ms): i = b (i + x), v = a v + i
    node = _cuba(tau_mem=np.full(3, 0.02), tau_syn=np.full(3, 0.01),
                 r=np.full(3, 0.02 * np.exp(-0.05) / 1e-3))
    g = _graph(node)
    conv = resolve(g, "rockpool", None, reset="zero", spikes="single")
    m = neuron_model("lif", node, conv)
    assert conv.dt == pytest.approx(1e-3)
    assert (m.i_decay, m.v_decay) == (round(4096 * (1 - np.exp(-0.1))),
                                      round(4096 * (1 - np.exp(-0.05)))) == (390, 200)
    assert m.gain == pytest.approx(np.exp(-0.1))


def test_per_neuron_thresholds_and_gains_fold_into_the_rows_exactly():
    """v_j and its threshold scale together, so per-neuron thresholds (and r) are folded into
    each row's weights and bias: the same integers as the network written with one
    threshold and the rows scaled by hand."""
    from mskd.convert.nir.importer import nir_to_netspec

    from mskd.net.spec import specs_equal

    w, b = np.array([[0.5, -1.0], [1.0, 0.25], [0.3, 0.3]]), np.array([0.1, -0.2, 0.05])
    thr, r = np.array([1.0, 2.0, 4.0]), np.array([1.0, 1.0, 2.0])
    lif = dict(tau=np.full(3, 0.01), v_leak=np.zeros(3))
    per_neuron = _graph(nir.LIF(r=r, v_threshold=thr, **lif), nir.Affine(w, b), n_in=2)
    rows = r * 4.0 / thr  # the largest threshold, 4, for all
    by_hand = _graph(nir.LIF(r=np.ones(3), v_threshold=np.full(3, 4.0), **lif),
                     nir.Affine(w * rows[:, None], b * rows), n_in=2)
    a, h = nir_to_netspec(per_neuron, 1e-3).spec, nir_to_netspec(by_hand, 1e-3).spec
    assert specs_equal(a, h) and a.layers[1].neuron.vth_mant > 0


def test_the_old_norse_flag_means_from_norse(tmp_path, capsys):
    """``--norse11-taus`` (hidden) is the old name of ``--from norse``: taus written as
    ``dt * tau`` and the current's jump gain, both undone."""
    g = _graph(_cuba(tau_syn=np.full(3, 5e-6), tau_mem=np.full(3, 1e-5)))
    assert _convert(capsys, tmp_path, g, "--norse11-taus")[0] == 0
    from mskd.net.netx_io import read_netx

    neuron = read_netx(tmp_path / "g.net").layers[1].neuron
    assert (neuron.i_decay, neuron.v_decay) == (819, 410)

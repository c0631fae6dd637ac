"""Graded (analog) input into the first synapse: ``mskd convert model.nir
--input-message-bits N``.

An snnTorch MLP fed pixel-like intensities (a static ``x`` in [0, 1] per input, held for 60
steps, as an image is fed to a rate-free snnTorch net) is exported by snnTorch's own
``export_to_nir``, converted with 8-bit graded input (``x`` sent as ``round(64 x)``, ``1 /
64`` folded into the first synapse) and held against snnTorch's own float run on the very
same ``x``: per-layer spike-count ratio within 5 % of 1 (measured 1.003 and 1.002; 82 %
and 55 % of the float spikes on the very same step) and output class agreement >= 75 %
(measured 81.2 %; 90.8 % leaving out the 30 of 128 samples whose float top two outputs are
within one spike, where 15 of the 24 flips fall: a static input makes every output fire
regularly, and one moved spike flips a near tie). The report's fidelity (``--data`` with
the same ``x``) gives the same numbers: its float reference runs what snnTorch runs.
Control: the same graph converted as binary input (the default), fed the usual rate code
of ``x`` (Bernoulli(x) spikes per step), misses the spike counts by 11-12 % (measured 0.893
and 0.878) and agrees on 64.8 % of the classes; 4-bit payloads sit in between (69.5 %).
"""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest
import torch
from helpers import (
    B,
    T,
    call_mskd,
    class_agreement,
    deployed_spikes,
    snntorch_float,
    spike_fidelity,
)

from mskd.loihi.graded import GradedInput, encode, read_graded
from mskd.net.netx_io import read_netx

pytestmark = pytest.mark.unit

def _analog_mlp(tmp_path):
    """snnTorch MLP 20 -> 32 -> 6 (zero reset), exported by snnTorch; its static analog
    inputs ``[B, T, 20]`` in [0, 1], saved as ``x.npy``."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    def leaky(n, beta, output=False):
        return snn.Leaky(beta=torch.full((n,), beta), threshold=torch.ones(n),
                         init_hidden=True, output=output, reset_mechanism="zero")

    torch.manual_seed(0)
    fc1, fc2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 6)
    with torch.no_grad():
        fc1.weight.mul_(2.0)
        fc2.weight.mul_(3.0)
    net = torch.nn.Sequential(fc1, leaky(32, 0.95), fc2, leaky(6, 0.9, True))
    nir.write(str(tmp_path / "m.nir"), export_to_nir(net, torch.rand(20)))
    g = torch.Generator().manual_seed(1)
    x = torch.rand(B, 1, 20, generator=g, dtype=torch.float64).expand(B, T, 20).contiguous()
    np.save(tmp_path / "x.npy", x.numpy())
    return net, x


def _convert(capsys, tmp_path, out: str, *args) -> tuple[int, str]:
    return call_mskd(capsys, "convert", tmp_path / "m.nir", "--out", tmp_path / out, "--from",
                "snntorch", "--reset", "zero", *args)


def test_analog_snntorch_mlp_deploys_with_graded_input(tmp_path, capsys):
    net, x = _analog_mlp(tmp_path)
    code, _ = _convert(capsys, tmp_path, "g.net", "--input-message-bits", "8", "--data",
                       tmp_path / "x.npy", "--report", tmp_path / "rep")
    assert code == 0
    g = read_graded(tmp_path / "g.net")
    assert g == GradedInput(8, 64.0, (0.0, 1.0))
    spec = read_netx(tmp_path / "g.net")  # the recorded width, no option needed
    assert spec.input_message_bits == 8 and spec.input_kind == "graded"
    # by hand: snnTorch's input gain is 1, so w = round(W 2**e / 64) with 2**e = vThMant
    first = spec.layers[1]
    w = net[0].weight.detach().double().numpy()
    assert np.abs(first.weight - w * first.neuron.vth_mant / 64).max() <= 0.5
    # against snnTorch's own float run on the same analog x; deployed: round(64 x)
    fl = snntorch_float(net, x.float())
    dep, _ = deployed_spikes(tmp_path / "g.net", encode(x, g).double())
    measured, agreement = spike_fidelity(fl, dep), class_agreement(fl[-1].sum(0), dep[-1].sum(0))
    assert all(0.95 <= ratio <= 1.05 for ratio, _ in measured), measured
    assert agreement >= 0.75, agreement
    top2 = fl[-1].sum(0).topk(2, 1).values
    clear = top2[:, 0] - top2[:, 1] > 1  # the float net's top output leads by 2+ spikes
    same = fl[-1].sum(0).argmax(1) == dep[-1].sum(0).argmax(1)
    assert float(same[clear].double().mean()) >= 0.88
    fid = json.loads((tmp_path / "rep" / "convert_report.json").read_text())["fidelity"]
    for row, (ratio, same_step) in zip(fid["layers"], measured, strict=True):
        assert row["spike_ratio"] == pytest.approx(ratio, abs=1e-3)
        assert row["same_step"] == pytest.approx(same_step, abs=1e-3)
    assert fid["class_agreement"] == pytest.approx(agreement, abs=1e-9)
    assert "deployed as x in [0, 1] sent as round(x * 64) in 8-bit payloads" in fid["inputs"]
    md = (tmp_path / "rep" / "convert_report.md").read_text()
    assert "## Graded input\n\nInput x in [0, 1] sent as round(x * 64) in 8-bit" in md
    # control: converted as binary input, fed the rate code of x, it does measurably worse
    assert _convert(capsys, tmp_path, "b.net", "--fidelity-samples", "0")[0] == 0
    rate = (torch.rand(B, T, 20, generator=torch.Generator().manual_seed(2)) < x).double()
    dep_b, _ = deployed_spikes(tmp_path / "b.net", rate)
    binary = spike_fidelity(fl, dep_b)
    assert max(abs(r - 1) for r, _ in binary) > 0.08, binary
    assert class_agreement(fl[-1].sum(0), dep_b[-1].sum(0)) < agreement - 0.1


@pytest.mark.parametrize("conv", [True, "pool"], ids=["conv", "conv-avgpool"])
def test_analog_snntorch_conv_deploys_with_graded_input(tmp_path, conv):
    """The byom conv nets (stride-2 conv, or conv + 2x2 average pooling folded into the
    dense after it) on static analog 8x8 maps: measured ratios 0.992/1.029 and
    0.994/1.019, class agreement 84.4 % and 87.5 %; as binary input fed the rate code,
    0.928/0.949 (73.4 %) and 0.930/0.961 (80.5 %)."""
    from helpers import snntorch_net
    from mskd.convert.nir.importer import convert_nir

    net, graph, shape = snntorch_net(conv)
    nir.write(str(tmp_path / "m.nir"), graph)
    x = torch.rand(B, 1, *shape, generator=torch.Generator().manual_seed(1),
                   dtype=torch.float64).expand(B, T, *shape).contiguous()
    fl = snntorch_float(net, x.float())
    g = GradedInput.choose(8, 0.0, 1.0)
    convert_nir(tmp_path / "m.nir", tmp_path / "g.net", source="snntorch", reset="zero",
                graded=g, samples=0)
    dep, _ = deployed_spikes(tmp_path / "g.net", encode(x, g).double())
    measured, agreement = spike_fidelity(fl, dep), class_agreement(fl[-1].sum(0), dep[-1].sum(0))
    assert all(0.95 <= ratio <= 1.05 for ratio, _ in measured) and agreement >= 0.8
    convert_nir(tmp_path / "m.nir", tmp_path / "b.net", source="snntorch", reset="zero",
                samples=0)
    rate = (torch.rand(B, T, *shape, generator=torch.Generator().manual_seed(2)) < x).double()
    dep_b, _ = deployed_spikes(tmp_path / "b.net", rate)
    assert max(abs(r - 1) for r, _ in spike_fidelity(fl, dep_b)) > 0.05
    assert class_agreement(fl[-1].sum(0), dep_b[-1].sum(0)) < agreement - 0.05


def test_random_analog_fidelity_and_deploy_run(tmp_path, capsys):
    """Without --data the report drives both with seeded uniform inputs in --input-range;
    ``mskd deploy run`` takes the payloads with the recorded width (or, ``--analog``, the
    values, encoded as recorded), and a width that differs from the record is refused."""
    _analog_mlp(tmp_path)
    code, out = _convert(capsys, tmp_path, "g.net", "--input-message-bits", "6",
                         "--input-range", "-0.5,1", "--fidelity-samples", "16")
    assert code == 0
    g = read_graded(tmp_path / "g.net")
    assert (g.input_scale, g.payload_bounds) == (16.0, (-8, 16))  # 6 bits: -32..31
    x = np.random.default_rng(0).uniform(-0.5, 1, (2, 10, 20))
    np.save(tmp_path / "p.npy", encode(x, g).numpy())
    code, _ = call_mskd(capsys, "deploy", "run", tmp_path / "g.net", "--input", tmp_path / "p.npy",
                   "--out", tmp_path / "o.npz")
    assert code == 0 and (tmp_path / "o.npz").exists()
    np.save(tmp_path / "a.npy", x)  # --analog: the values themselves, encoded as recorded
    code, _ = call_mskd(capsys, "deploy", "run", tmp_path / "g.net", "--input", tmp_path / "a.npy",
                   "--analog", "--out", tmp_path / "a.npz")
    assert code == 0
    with np.load(tmp_path / "o.npz") as o, np.load(tmp_path / "a.npz") as a:
        assert sorted(o) == sorted(a) and all(np.array_equal(o[k], a[k]) for k in o)
    np.save(tmp_path / "big.npy", x + 1)
    code, line = call_mskd(capsys, "deploy", "run", tmp_path / "g.net", "--input",
                      tmp_path / "big.npy", "--analog")
    assert (code, line) == (1, f"error: {tmp_path / 'big.npy'}: analog inputs "
                               f"{x.min() + 1:g}..{x.max() + 1:g} outside the declared range "
                               f"[-0.5, 1] (recorded in {tmp_path / 'g.net'})")
    code, line = call_mskd(capsys, "deploy", "run", tmp_path / "g.net", "--input",
                      tmp_path / "p.npy", "--input-message-bits", "8")
    assert code == 1 and "input_message_bits=8 differs from the 6 its attribute " \
                          "'mskd_graded_input' records" in line
    code, _ = call_mskd(capsys, "convert", tmp_path / "g.net", "--out", tmp_path / "h.net")
    assert code == 0 and read_graded(tmp_path / "h.net") == g  # a netx re-convert keeps it


@pytest.mark.parametrize("args, line", [
    (("--input-message-bits", "30"), "--input-message-bits 30: outside 0..24 (Loihi 2 graded "
                                     "messages; 0: binary spikes)"),
    (("--input-message-bits", "1"), "--input-message-bits 1: 1-bit payloads (-1..0) cannot "
                                    "carry inputs in [0, 1]: give more bits"),
    (("--input-message-bits", "8", "--input-scale", "3"),
     "--input-scale 3: input scale 3 is not a power of two"),
    (("--input-message-bits", "8", "--input-scale", "256"),
     "--input-scale 256: inputs in [0, 1] times 256 give payloads 0..256, beyond 8-bit "
     "messages (-128..127)"),
    (("--input-scale", "4"), "--input-scale applies to graded input: give "
                             "--input-message-bits 1..24 too"),
    (("--input-message-bits", "8", "--input-range", "1,0"),
     "--input-range '1,0': expected finite LO < HI"),
], ids=["bits", "one-bit", "scale-not-pow2", "scale-too-big", "scale-alone", "range"])
def test_bad_graded_options_are_refused(tmp_path, capsys, args, line):
    _analog_mlp(tmp_path)
    code, err = _convert(capsys, tmp_path, "g.net", *args)
    assert (code, err) == (1, f"error: {line}")
    assert not (tmp_path / "g.net").exists()


def test_data_outside_the_range_and_an_mskd_export_are_refused(tmp_path, capsys):
    _analog_mlp(tmp_path)
    np.save(tmp_path / "big.npy", np.full((2, 5, 20), 2.0))
    code, err = _convert(capsys, tmp_path, "g.net", "--input-message-bits", "8", "--data",
                         tmp_path / "big.npy")
    assert (code, err) == (1, f"error: {tmp_path / 'big.npy'}: analog inputs 2..2 outside the "
                              "declared range [0, 1] (--input-range)")
    from mskd.convert.nir.export import export_student_nir
    from mskd.train.lif_config import StudentConfig
    from mskd.train.student_lif import Student

    torch.manual_seed(0)
    path = export_student_nir(Student(StudentConfig(size=8, channels=(3,), hidden=(6,),
                                                    n_frames=2)), tmp_path / "s.nir")
    code, err = call_mskd(capsys, "convert", path, "--out", tmp_path / "s.net",
                     "--input-message-bits", "8")
    assert (code, err) == (1, f"error: {path}: NIR node '0_gain': this mskd export's input "
                              "layer takes frames (bias_input), not graded payloads: drop "
                              "--input-message-bits")
    assert not (tmp_path / "g.net").exists() and not (tmp_path / "s.net").exists()
    (tmp_path / "in.net").write_bytes(b"")
    code, err = call_mskd(capsys, "convert", tmp_path / "in.net", "--out", tmp_path / "o.net",
                     "--input-message-bits", "8")
    assert (code, err) == (1, f"error: --input-message-bits applies to NIR graphs only "
                              f"({tmp_path / 'in.net'} is not a .nir file)")


@pytest.mark.lava
def test_graded_nir_import_is_bit_exact_in_lava(tmp_path, capsys):
    """``mskd deploy verify`` on the converted file: simulator == Lava with the recorded
    8-bit payloads (random ones across the whole width)."""
    _analog_mlp(tmp_path)
    assert _convert(capsys, tmp_path, "g.net", "--input-message-bits", "8",
                    "--fidelity-samples", "0")[0] == 0
    code, _ = call_mskd(capsys, "deploy", "verify", tmp_path / "g.net", "--samples", "2",
                   "--steps", "6")
    assert code == 0


def _wide_graph(n: int = 1000):
    """input (n) -> Linear(ones) -> LIF (gain 1, threshold 1): n thresholds of current per
    step at full input."""
    lif = nir.LIF(tau=np.full(2, 0.01), r=np.full(2, 10.0), v_leak=np.zeros(2),
                  v_threshold=np.ones(2))
    return nir.NIRGraph(nodes={"input": nir.Input(np.array([n])),
                               "fc": nir.Linear(np.ones((2, n))), "lif": lif,
                               "output": nir.Output(np.array([2]))},
                        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])


def test_the_exponent_keeps_the_current_within_24_bits():
    """1000 inputs at full scale: without the cap the exponent would be 13 (weights 127,
    1000 x 127 x 64 payload units of current, far beyond u's 2**23 / 64); with it, 7
    (weights 2): the current at full input is 1000 x 2 x 64 = 128000 <= 2**17, u never
    wraps and the layer fires every step. 16-bit payloads leave no exponent: refused."""
    from mskd.convert.nir.importer import nir_to_netspec

    from mskd.errors import NetError
    from mskd.sim.simulator import run

    g = GradedInput.choose(8, 0.0, 1.0)
    spec = nir_to_netspec(_wide_graph(), 1e-3, g).spec
    assert int(spec.layers[1].weight.max()) == 2 and spec.layers[1].neuron.vth_mant == 128
    _, rec = run(spec, encode(torch.ones(1, 5, 1000), g), record=("u",))
    u = rec.u["1:dense"][1:]
    assert int(u.min()) == 1000 * 2 * 64 * 64 and bool(rec.spikes["1:dense"][1:].all())
    with pytest.raises(NetError, match="NIR node 'fc': graded payloads up to 16384 would "
                                       "wrap its 24-bit current"):
        nir_to_netspec(_wide_graph(), 1e-3, GradedInput.choose(16, 0.0, 1.0))
    biased = _wide_graph(4)
    biased.nodes["fc"] = nir.Affine(np.ones((2, 4)), np.full(2, 0.5))
    with pytest.raises(NetError, match="NIR node 'fc': its bias keeps 13 bits only where "
                                       "every weight for payloads up to 16384 rounds to 0"):
        nir_to_netspec(biased, 1e-3, GradedInput.choose(16, 0.0, 1.0))
    with pytest.raises(NetError, match="v_threshold=1 is beyond 17 bits after scaling .*, "
                                       "with graded payloads up to 4194304: give a smaller"):
        nir_to_netspec(_wide_graph(4), 1e-3, GradedInput.choose(24, 0.0, 1.0))

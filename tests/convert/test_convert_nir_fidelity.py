"""The fidelity report of a NIR import (:mod:`mskd.convert.nir.fidelity`).

Held against what ``tests/test_convert_byom.py`` measures with the framework's own float
run: on the same inputs (``--data``), the report's float reference (the graph as read,
nothing rounded) sends the framework's spikes, so its spike ratios and class agreement are
the byom test's, to within a few spikes; its verdict is GOOD where those tests pass, POOR
for the controls (a step 100x too small: the network falls silent; subtract reset
approximated: it loses a quarter of its spikes), and it counts the weights that rounded to
zero exactly.
"""

from __future__ import annotations

import json

import nir
import numpy as np
import pytest
import torch
from helpers import (
    call_mskd,
    class_agreement,
    deployed_spikes,
    norse_float,
    norse_net,
    random_spikes,
    snntorch_float,
    snntorch_net,
    spike_fidelity,
)
from mskd.convert.nir.conventions import resolve
from mskd.convert.nir.fidelity import float_reference, random_inputs
from mskd.convert.nir.importer import convert_nir, nir_to_netspec

pytestmark = pytest.mark.unit

def _save(path, x: torch.Tensor) -> str:
    np.save(path, x.numpy().astype(np.uint8))
    return str(path)


def _close_to_byom(fid: dict, byom: list[tuple[float, float]], agreement: float) -> None:
    rows = [r for r in fid["layers"] if r["threshold"] is not None]
    assert len(rows) == len(byom)
    for r, (ratio, same_step) in zip(rows, byom, strict=True):
        assert 0.95 <= r["spike_ratio"] <= 1.05
        assert r["spike_ratio"] == pytest.approx(ratio, abs=0.01)
        assert r["same_step"] == pytest.approx(same_step, abs=0.03)
    assert fid["class_agreement"] >= 0.9
    assert fid["class_agreement"] == pytest.approx(agreement, abs=0.03)
    assert fid["verdict"] == "GOOD", fid["line"]


@pytest.mark.parametrize("conv", [False, True, "pool"], ids=["mlp", "conv", "conv-avgpool"])
def test_snntorch_report_agrees_with_snntorch(tmp_path, conv):
    net, graph, shape = snntorch_net(conv)
    nir.write(str(tmp_path / "m.nir"), graph)
    x = random_spikes(shape)
    rep = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch", reset="zero",
                      data=_save(tmp_path / "x.npy", x), report=str(tmp_path / "rep"))
    fl = snntorch_float(net, x)
    dep, _ = deployed_spikes(tmp_path / "m.net", x)
    _close_to_byom(rep["fidelity"], spike_fidelity(fl, dep), class_agreement(fl[-1].sum(0),
                                                                    dep[-1].sum(0)))
    # the float reference is snnTorch's own run (float32 there: a spike now and then moves)
    imp = nir_to_netspec(graph, resolve(graph, "snntorch", None, reset="zero"))
    ref, _ = float_reference(imp.floats, x.double(), "zero", "single")
    for mine, theirs in zip(ref, fl, strict=True):
        assert float((mine != theirs.double()).double().mean()) < 1e-3
    saved = json.loads((tmp_path / "rep" / "convert_report.json").read_text())
    assert saved["fidelity"]["verdict"] == "GOOD"
    assert "## Fidelity" in (tmp_path / "rep" / "convert_report.md").read_text()


@pytest.mark.parametrize("conv", [False, True], ids=["mlp", "conv"])
def test_norse_report_agrees_with_norse(tmp_path, conv):
    from mskd.convert.netx_writer import write_net
    from mskd.convert.nir.fidelity import fidelity

    net, graph, shape = norse_net(conv)
    x = random_spikes(shape)
    if conv:  # norse 1.1 writes Flatten as an empty node, which nir.write cannot store
        imp = nir_to_netspec(graph, resolve(graph, "norse", None))
        write_net(imp.spec, None, tmp_path / "m.net")
        fid, scale = fidelity(imp, x.double(), "byom inputs"), imp.readout_scale
    else:
        nir.write(str(tmp_path / "m.nir"), graph)
        rep = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="norse",
                          data=_save(tmp_path / "x.npy", x))
        fid, scale = rep["fidelity"], rep["readout_scale"]
    fl, f_v = norse_float(net, x)
    dep, d_v = deployed_spikes(tmp_path / "m.net", x)
    assert fid["class_by"] == "highest mean readout v"
    _close_to_byom(fid, spike_fidelity(fl, dep[:-1]),
                   class_agreement(f_v.mean(0), (d_v / scale).mean(0)))


def test_a_step_100x_too_small_is_poor(tmp_path):
    """Control: snnTorch's export read at 1e-6 s (its step is 1e-4): the input gain r dt /
    tau drops 100x, nothing reaches threshold, and the verdict names the silent layers."""
    _, graph, _ = snntorch_net(False)
    nir.write(str(tmp_path / "m.nir"), graph)
    fid = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch",
                      reset="zero", dt=1e-6)["fidelity"]
    assert fid["verdict"] == "POOR" and [r["float_spikes"] for r in fid["layers"]] == [0, 0]
    assert fid["line"].startswith("fidelity: POOR (layer(s) '1', '3' (nearly) silent on "
                                  "these inputs: check --from/--dt")


def test_the_cli_prints_the_verdict(tmp_path, capsys):
    from mskd.cli import main

    _, graph, _ = snntorch_net(False)
    nir.write(str(tmp_path / "m.nir"), graph)
    with pytest.raises(SystemExit, match="0"):
        main(["convert", str(tmp_path / "m.nir"), "--out", str(tmp_path / "m.net"), "--from",
              "snntorch", "--reset", "zero", "--dt", "1e-6"])
    out = capsys.readouterr().out.splitlines()
    assert out[2:5] == [
        "  layer '1': no float spikes (0 deployed); weights 2**14, 4 of 640 rounded to 0",
        "  layer '3': no float spikes (0 deployed); weights 2**14, 3 of 192 rounded to 0",
        "fidelity: POOR (layer(s) '1', '3' (nearly) silent on these inputs: check "
        "--from/--dt); 128 inputs x 60 steps"]


def test_an_approximated_subtract_reset_is_poor(tmp_path):
    """The reference keeps the source's subtract reset; the deployed network resets to zero
    (--approximate) and loses a quarter of its spikes: what the approximation costs."""
    _, graph, _ = snntorch_net(False, reset="subtract")
    nir.write(str(tmp_path / "m.nir"), graph)
    fid = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", source="snntorch",
                      approximate=True)["fidelity"]
    assert fid["verdict"] == "POOR"
    assert all(r["spike_ratio"] < 0.85 for r in fid["layers"])
    assert fid["class_agreement"] < 0.75


def _tiny_weights_graph(w: np.ndarray):
    n_out, n_in = w.shape
    lif = nir.LIF(tau=np.full(n_out, 1e-2), r=np.full(n_out, 10.0), v_leak=np.zeros(n_out),
                  v_threshold=np.ones(n_out))
    return nir.NIRGraph(nodes={"input": nir.Input(np.array([n_in])), "fc": nir.Linear(w),
                               "lif": lif, "output": nir.Output(np.array([n_out]))},
                        edges=[("input", "fc"), ("fc", "lif"), ("lif", "output")])


def test_weights_rounded_to_zero_are_counted_exactly(tmp_path, capsys):
    """By hand: at dt 1e-3 the LIF's gain is r dt / tau = 1, the largest weight 1.0 gives
    the exponent floor(log2(127 / 1)) = 6, so a weight w rounds to round(64 w): the 27
    weights of 0.005 (0.32) become 0, the 0.5s (32) and the 0.01s (0.64 -> 1) stay."""
    w = np.full((4, 16), 0.5)
    w[0, 0] = 1.0
    rng = np.random.default_rng(0)
    tiny = rng.choice(np.arange(1, w.size), 27, replace=False)
    w.flat[tiny] = 0.005
    w.flat[rng.choice(np.setdiff1d(np.arange(1, w.size), tiny), 5, replace=False)] = 0.01
    by_hand = int(np.count_nonzero((np.round(w * 2.0 ** 6) == 0) & (w != 0)))
    assert by_hand == 27
    nir.write(str(tmp_path / "m.nir"), _tiny_weights_graph(w))
    from mskd.cli import main

    with pytest.raises(SystemExit, match="0"):
        main(["convert", str(tmp_path / "m.nir"), "--out", str(tmp_path / "m.net"), "--dt",
              "1e-3", "--report", str(tmp_path / "rep")])
    out = capsys.readouterr().out
    assert "  layer 'lif': spike ratio " in out
    assert "weights 2**6, 27 of 64 rounded to 0" in out
    rows = json.loads((tmp_path / "rep" / "convert_report.json").read_text())[
        "fidelity"]["layers"]
    assert [(r["weight_exp"], r["weights"], r["zeroed"], r["clipped"]) for r in rows] == [
        (6, 64, 27, 0)]


def test_data_of_the_wrong_shape_is_refused_and_nothing_written(tmp_path, capsys):
    _, graph, _ = snntorch_net(False)
    nir.write(str(tmp_path / "m.nir"), graph)
    np.save(tmp_path / "x.npy", np.zeros((4, 10, 21), np.uint8))
    np.save(tmp_path / "y.npy", np.full((4, 10, 20), 2, np.uint8))
    base = ["convert", tmp_path / "m.nir", "--out", tmp_path / "m.net", "--from", "snntorch",
            "--reset", "zero", "--report", tmp_path / "rep", "--data"]
    assert call_mskd(capsys, *base, tmp_path / "x.npy") == (
        1, f"error: {tmp_path / 'x.npy'}: shape (4, 10, 21) is not [samples, steps, 20] (the "
           "graph's input)")
    assert call_mskd(capsys, *base, tmp_path / "y.npy") == (
        1, f"error: {tmp_path / 'y.npy'}: values must be 0 or 1 (input spikes)")
    assert not (tmp_path / "m.net").exists() and not (tmp_path / "rep").exists()


def test_random_inputs_are_seeded():
    a, b = random_inputs((3,), samples=4, steps=5), random_inputs((3,), samples=4, steps=5)
    assert a.shape == (4, 5, 3) and torch.equal(a, b)


def test_fidelity_samples_sets_the_inputs_or_skips_the_check(tmp_path, capsys):
    _, graph, _ = snntorch_net(False)
    nir.write(str(tmp_path / "m.nir"), graph)
    base = ["convert", tmp_path / "m.nir", "--from", "snntorch", "--reset", "zero"]
    assert call_mskd(capsys, *base, "--out", tmp_path / "a.net", "--fidelity-samples", "16",
                "--report", tmp_path / "a") == (0, "")
    assert json.loads((tmp_path / "a" / "convert_report.json").read_text())["fidelity"][
        "samples"] == 16
    assert call_mskd(capsys, *base, "--out", tmp_path / "b.net", "--fidelity-samples", "0",
                "--report", tmp_path / "b") == (0, "")
    assert "fidelity" not in json.loads((tmp_path / "b" / "convert_report.json").read_text())
    np.save(tmp_path / "x.npy", np.zeros((2, 5, 20), np.uint8))
    assert call_mskd(capsys, *base, "--out", tmp_path / "c.net", "--fidelity-samples", "8",
                "--data", tmp_path / "x.npy") == (
        1, "error: --data and --fidelity-samples: give one (--data brings its own inputs)")
    assert not (tmp_path / "c.net").exists()

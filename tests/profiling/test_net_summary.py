"""``mskd summary NET``: the layer table and design-rule margins of every network the
reader accepts, with warnings at a limit and broken rules as rows, not crashes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from mskd.profiling.net_summary import RULE_VALUES, summarize_net
from mskd.profiling.summary_cli import register
from typer.testing import CliRunner

from mskd.chip.rules import DESIGN_RULES
from mskd.loihi.neurons import DEFAULT_NEURON, LifNeuron, SdnNeuron
from mskd.net.netx_io import write_netx
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec

pytestmark = pytest.mark.unit

LIF = LifNeuron(1024, 128, 40)


def cuba_net() -> NetSpec:
    rng = np.random.default_rng(0)
    conv = rng.integers(-20, 40, (4, 1, 3, 3))
    rec = rng.integers(-3, 4, (5, 5))
    return NetSpec((InputLayer((1, 8, 8), LIF),
                    ConvLayer((1, 8, 8), (4, 4, 4), conv, (2, 2), (1, 1), (1, 1), 1, LIF),
                    FlattenLayer((4, 4, 4), (64,)),
                    DenseLayer(64, 5, rng.integers(-20, 40, (5, 64)), LIF, None, None, rec),
                    DenseLayer(5, 3, rng.integers(-8, 9, (3, 5)))))  # netx default neuron


def sdnn_net() -> NetSpec:
    rng = np.random.default_rng(1)
    return NetSpec((InputLayer((2, 5, 5), SdnNeuron(1)),
                    ConvLayer((2, 5, 5), (3, 3, 3), rng.integers(-6, 7, (3, 2, 3, 3)), (2, 2),
                              (1, 1), (1, 1), 1, SdnNeuron(2)),
                    FlattenLayer((3, 3, 3), (27,)),
                    DenseLayer(27, 2, rng.integers(-3, 4, (2, 27)),
                               SdnNeuron(sigma_output=True))))


def test_every_design_rule_has_a_margin() -> None:
    names = {name for name, _ in DESIGN_RULES}
    assert names - {"chips"} == set(RULE_VALUES)


def test_cuba_rows_count_neurons_synapses_and_fields() -> None:
    s = summarize_net(cuba_net())
    rows = {r["index"]: r for r in s["layers"]}
    assert [r["type"] for r in s["layers"]] == ["input", "conv", "flatten", "dense_rec",
                                                "dense"]
    # 3x3 taps at stride 2, padding 1 over 8 pixels: 2 + 3 + 3 + 3 = 11 per axis
    assert rows[1]["neurons"] == 64 and rows[1]["synapses"] == 4 * 11 * 11
    assert rows[3]["synapses"] == 5 * 64 + 5 * 5 and rows[3]["recurrent"] is True
    assert (rows[1]["i_decay"], rows[1]["v_decay"], rows[1]["vth_mant"]) == (1024, 128, 40)
    assert rows[4]["default_neuron"] is True and rows[4]["never_spikes"] is True
    assert rows[4]["vth_mant"] == DEFAULT_NEURON.vth_mant
    assert rows[1]["weight_exp"] == 0  # conv weights run raw
    assert rows[4]["weight_exp"] == -4  # dense: netx's optimize_weight_bits (|w| <= 8)
    assert rows[2]["neurons"] == 0 and "weight_bits" not in rows[2]
    for p in ("loihi1", "loihi2"):
        assert s["profiles"][p]["violations"] == []
        assert sum(s["profiles"][p]["cores"].values()) == s["profiles"][p]["total_cores"]


def test_a_layer_at_a_limit_is_warned_about() -> None:
    big = NetSpec((InputLayer((1024,), LIF), DenseLayer(1024, 2, np.ones((2, 1024),
                                                                         np.int64), LIF)))
    s = summarize_net(big, ("loihi1",))
    at = s["profiles"]["loihi1"]["at_limit"]
    assert {(m["layer"], m["rule"]) for m in at} == {(0, "neurons_per_core")}
    assert any("layer 0 sits at the neurons_per_core limit (1,024 of 1,024" in w
               for w in s["warnings"])


def test_a_layer_near_a_limit_is_warned_about_too() -> None:
    """1,000 of 1,024 neurons on one core: 97.7 %, within 5 % of the limit."""
    spec = NetSpec((InputLayer((1000,), LIF), DenseLayer(1000, 2, np.ones((2, 1000),
                                                                          np.int64), LIF)))
    s = summarize_net(spec, ("loihi1",))
    near = s["profiles"]["loihi1"]["near_limit"]
    assert [(m["layer"], m["rule"]) for m in near] == [(0, "neurons_per_core")]
    assert s["profiles"]["loihi1"]["at_limit"] == []
    assert any("layer 0 is within 5 % of the neurons_per_core limit (1,000 of 1,024, 97.7 %"
               in w for w in s["warnings"])


def test_loihi1_refuses_graded_layers_as_rows_not_a_crash() -> None:
    s = summarize_net(sdnn_net())
    rows = {r["index"]: r for r in s["layers"]}
    assert [rows[i]["model"] for i in (0, 1, 3)] == ["delta", "sigma_delta", "sigma"]
    assert rows[1]["graded_out"] and rows[3]["graded_in"]
    l1 = s["profiles"]["loihi1"]
    graded = [m for m in l1["rules"] if m["rule"] == "graded_spikes"]
    assert {m["layer"] for m in graded} == {0, 1, 3} and all(m["share"] is None for m in graded)
    assert {v["rule"] for v in l1["violations"]} == {"graded_spikes"}
    assert s["profiles"]["loihi2"]["violations"] == []
    assert any("loihi1: design rule 'graded_spikes' broken at layer 1" in w
               for w in s["warnings"])


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)
    return app


@pytest.mark.parametrize("net", [cuba_net, sdnn_net])
def test_cli_prints_tables_and_json(tmp_path, net) -> None:
    path = tmp_path / "n.net"
    write_netx(net(), path)
    out = CliRunner().invoke(_app(), ["summary", str(path)])
    assert out.exit_code == 0, out.output
    assert "design rules" in out.output and "cores loihi2" in out.output
    js = CliRunner().invoke(_app(), ["summary", str(path), "--json"])
    data = json.loads(js.output)
    assert data["network"] == str(path) and len(data["layers"]) == len(net().layers)


def test_cli_reads_a_file_without_input_layer(tmp_path) -> None:
    """netx's Network(input_shape=..., input_message_bits=...) options, as `deploy run`."""
    spec = NetSpec((DenseLayer(6, 3, np.ones((3, 6), np.int64), SdnNeuron(1)),),
                   input_message_bits=8)
    write_netx(spec, tmp_path / "g.net")
    out = CliRunner().invoke(_app(), ["summary", str(tmp_path / "g.net"), "--json",
                                      "--input-message-bits", "8"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["input"] == {"kind": "graded", "shape": [6], "message_bits": 8}

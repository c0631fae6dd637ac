"""The convert report (JSON beside Markdown) and the fit check, called directly."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from mskd.convert.fit_check import default_profiles, map_profiles
from mskd.convert.report import network_rows, to_markdown, write_reports

from mskd.chip.rules import DesignRuleError
from mskd.loihi.neurons import SdnNeuron
from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec

pytestmark = pytest.mark.unit
LIF = LifNeuron(4096, 0, 100)


def _lif_net(n_in: int = 20, n_out: int = 3) -> NetSpec:
    return NetSpec((InputLayer((n_in,), LIF),
                    DenseLayer(n_in, n_out, np.ones((n_out, n_in), np.int64), LIF)))


def test_graded_networks_map_on_loihi2_only():
    sd = NetSpec((InputLayer((8,), SdnNeuron(1)),
                  DenseLayer(8, 2, np.ones((2, 8), np.int64), SdnNeuron(1))))
    assert default_profiles(_lif_net()) == ("loihi1", "loihi2")
    assert default_profiles(sd) == ("loihi2",)
    assert set(map_profiles(sd)) == {"loihi2"}
    with pytest.raises(DesignRuleError, match="graded"):
        map_profiles(sd, ["loihi1"])


def test_fit_check_counts_cores_per_profile():
    m = map_profiles(_lif_net(3000, 10), ["loihi1"])["loihi1"]
    # 3,000 input neurons on 1,024-neuron cores: 3 cores; the dense layer fits one
    assert [lm["n_cores"] for lm in m["layers"]] == [3, 1] and m["total_cores"] == 4


def test_report_json_and_markdown_say_the_same(tmp_path):
    spec = _lif_net()
    report = {"network": network_rows(spec), "mapping": map_profiles(spec, ["loihi1"]),
              "checks": [{"check": "read back", "result": "identical"}],
              "weights": [{"layer": "1:dense", "exponent": 0, "float_min": -1.0,
                           "float_max": 1.0, "int_min": -128, "int_max": 127,
                           "clipped_fraction": 0.25, "sqnr_db": math.inf}]}
    js, md = write_reports(tmp_path, report)
    back = json.loads(js.read_text())
    assert back["weights"][0]["sqnr_db"] == "inf"  # JSON has no infinity: kept as text
    text = md.read_text()
    assert text == to_markdown(report) + "\n"
    assert "### loihi1: 2 cores on 1 chip(s)" in text and "25.0 %" in text
    assert [r["kind"] for r in back["network"]] == ["input", "dense"]
    assert "| read back | identical |" in text

"""The dense 8-bit ANN bound with memory traffic, against the arithmetic done by hand."""

from __future__ import annotations

import numpy as np
import pytest
from mskd.hw_profiles import load_profile
from mskd.profiling.ann_energy import ann_energy_with_memory

from mskd.loihi.neurons import SdnNeuron
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec

pytestmark = pytest.mark.unit


def test_conv_and_dense_cost_macs_weights_and_activations():
    n = SdnNeuron(1)
    conv = ConvLayer((1, 4, 4), (2, 2, 2), np.ones((2, 1, 3, 3), np.int64), (1, 1), (0, 0),
                     (1, 1), 1, n)
    spec = NetSpec((InputLayer((1, 4, 4), n), conv, FlattenLayer((2, 2, 2), (8,)),
                    DenseLayer(8, 3, np.ones((3, 8), np.int64), n)))
    p = load_profile("ann-45nm")
    e = {k: q.value for k, q in p.energy.items()}
    out = ann_energy_with_memory(spec, 2, p)
    macs = 2 * 2 * 2 * 9 + 8 * 3  # conv: 8 outputs x 9 taps; dense: 24
    assert out["macs"] == 2 * macs
    assert out["arithmetic_pj"] == pytest.approx(2 * macs * (e["mul_int8"] + e["add_int8"]))
    # weights: 18 bytes (3 words) and 24 bytes (3 words), both in the 8 KB SRAM, each frame
    assert out["weights_pj"] == pytest.approx(2 * (3 + 3) * e["sram_read_64b_8kb"])
    # activations: maps of 16, 8, 3 values read (2 + 1 + 1 words) and the outputs written
    # (1 + 1 words), all from the SRAM that holds the largest map
    assert out["activations_pj"] == pytest.approx(2 * (4 + 2) * e["sram_read_64b_8kb"])
    assert out["total_pj"] == pytest.approx(out["arithmetic_pj"] + out["weights_pj"]
                                            + out["activations_pj"])
    assert out["mac_only_fp32_pj"] == pytest.approx(2 * macs * e["mac_fp32"])

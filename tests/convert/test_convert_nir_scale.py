"""NIR ``Scale`` nodes folded into the synapse next to them (:mod:`mskd.convert.nir.scale`).

A graph with Scales converts into the very network of the same graph with the scales
multiplied into the weights by hand (same integers, same thresholds): the fold is exact.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
from helpers import assert_same_spec, call_mskd, nir_chain, nir_lif
from mskd.convert.nir.importer import nir_to_netspec

pytestmark = pytest.mark.unit

DT = 1e-3


def test_scales_in_an_mlp_fold_into_the_weights():
    rng = np.random.default_rng(0)
    w1, w2, b2 = rng.normal(size=(5, 6)), rng.normal(size=(3, 5)), rng.normal(size=3) * 0.1
    s_in, s_mid = rng.uniform(0.5, 2, 6), rng.uniform(0.5, 2, 5)
    scaled = nir_chain([6], [3], nir.Scale(s_in), nir.Linear(w1), nir.Scale(s_mid), nir_lif(5),
                    nir.Scale(np.array([0.5])), nir.Affine(w2, b2), nir_lif(3))
    by_hand = nir_chain([6], [3], nir.Linear(s_mid[:, None] * w1 * s_in[None, :]), nir_lif(5),
                     nir.Affine(0.5 * w2, b2), nir_lif(3))
    a, b = nir_to_netspec(scaled, DT), nir_to_netspec(by_hand, DT)
    assert_same_spec(a, b)
    assert a.sources == ("input", "n3", "n6")  # the neurons (the Scales fold away)


def test_scales_around_a_conv_and_a_pool_fold_per_channel():
    rng = np.random.default_rng(1)
    wc, wd = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=(4, 3 * 3 * 3))
    s_in, s_c = np.array([2.0, 0.5]), np.array([1.5, 0.25, 3.0])
    conv = {"stride": np.array([1, 1]), "padding": np.array([1, 1]),
            "dilation": np.array([1, 1]), "groups": 1, "input_shape": np.array([6, 6])}
    pool = {"kernel_size": np.array([2, 2]), "stride": np.array([2, 2]),
            "padding": np.array([0, 0])}

    def graph(sc_in, w_conv, sc_c, w_dense):
        head = [nir.Scale(sc_in)] if sc_in is not None else []
        mid = [nir.Scale(sc_c)] if sc_c is not None else []
        return nir_chain([2, 6, 6], [4], *head,
                      nir.Conv2d(weight=w_conv, bias=np.zeros(3), **conv), nir_lif(3 * 36),
                      *mid, nir.SumPool2d(**pool), nir.Flatten(
                          input_type={"input": np.array([3, 3, 3])}),
                      nir.Linear(w_dense), nir_lif(4))

    folded_dense = (wd.reshape(4, 3, 3, 3) * s_c[None, :, None, None]).reshape(4, -1)
    a = nir_to_netspec(graph(s_in, wc, s_c, wd), DT)
    b = nir_to_netspec(graph(None, wc * s_in[None, :, None, None], None, folded_dense), DT)
    assert_same_spec(a, b)


def _convert(capsys, tmp_path, graph) -> tuple[int, str]:
    nir.write(str(tmp_path / "g.nir"), graph)
    got = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net", "--dt",
               "1e-3")
    assert not (tmp_path / "g.net").exists()
    return got


@pytest.mark.parametrize("nodes, line", [
    (lambda: ([2, 4, 4], [3], nir.Scale(np.arange(1.0, 33.0).reshape(2, 4, 4)),
              nir.Conv2d(weight=np.ones((3, 2, 4, 4)), bias=np.zeros(3), stride=np.array(
                  [1, 1]), padding=np.array([0, 0]), dilation=np.array([1, 1]), groups=1,
                  input_shape=np.array([4, 4])), nir_lif(3)),
     "NIR node 'n1': field 'scale' differs within a channel, which a conv after it cannot "
     "hold (one weight per channel across positions): give each channel one scale"),
    (lambda: ([4], [3], nir.Linear(np.ones((3, 4))), nir_lif(3), nir.Scale(np.full(3, 2.0))),
     "NIR node 'n2': a Scale after the last layer has no synapse to fold into: export the "
     "network without it"),
    (lambda: ([4], [3], nir.Scale(np.ones(5)), nir.Linear(np.ones((3, 4))), nir_lif(3)),
     "NIR node 'n0': field 'scale' has 5 values for input (4,) (expected 1, one per element "
     "or one per channel)"),
], ids=["per-position-into-conv", "after-the-last-layer", "wrong-size"])
def test_scales_that_cannot_fold_are_refused(tmp_path, capsys, nodes, line):
    shape_in, shape_out, *chain_nodes = nodes()
    code, err = _convert(capsys, tmp_path, nir_chain(shape_in, shape_out, *chain_nodes))
    assert (code, err) == (1, f"error: {tmp_path / 'g.nir'}: {line}")

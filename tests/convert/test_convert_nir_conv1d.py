"""NIR ``Conv1d`` imported as a ``(1, k)`` Conv2d on a ``(C, 1, L)`` map.

The same network as the Conv2d graph written by hand (same integers), and, deployed, the
same spikes as an independent float run with torch's own ``conv1d`` (NIR's LIF at 1 ms,
gain 1, decay 0.1 per step) within the byom bounds.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import (
    assert_same_spec,
    call_mskd,
    class_agreement,
    deployed_spikes,
    nir_chain,
    nir_lif,
    random_spikes,
    spike_fidelity,
)
from mskd.convert.nir.importer import convert_nir, nir_to_netspec

pytestmark = pytest.mark.unit

DT = 1e-3  # with tau 0.01 and r 10: decay dt/tau = 0.1, gain r dt/tau = 1


def _geo(**kw):
    return {k: np.array(v) for k, v in kw.items()}


def _nets(seed: int = 0):
    rng = np.random.default_rng(seed)
    w1, b1 = rng.normal(size=(4, 2, 3)) * 0.9, rng.normal(size=4) * 0.05
    w2 = rng.normal(size=(3, 4, 3)) * 0.7
    w3 = rng.normal(size=(5, 3 * 4)) * 2.0
    c1 = nir.Conv1d(input_shape=16, weight=w1, bias=b1, stride=2, padding=1, dilation=1,
                    groups=1)
    c2 = nir.Conv1d(input_shape=8, weight=w2, bias=np.zeros(3), stride=2, padding=1,
                    dilation=1, groups=1)
    one_d = nir_chain([2, 16], [5], c1, nir_lif(32), c2, nir_lif(12),
                   nir.Flatten(input_type={"input": np.array([3, 4])}), nir.Linear(w3), nir_lif(5))
    k1 = nir.Conv2d(input_shape=np.array([1, 16]), weight=w1[:, :, None], bias=b1,
                    **_geo(stride=[1, 2], padding=[0, 1], dilation=[1, 1]), groups=1)
    k2 = nir.Conv2d(input_shape=np.array([1, 8]), weight=w2[:, :, None], bias=np.zeros(3),
                    **_geo(stride=[1, 2], padding=[0, 1], dilation=[1, 1]), groups=1)
    two_d = nir_chain([2, 1, 16], [5], k1, nir_lif(32), k2, nir_lif(12),
                   nir.Flatten(input_type={"input": np.array([3, 1, 4])}), nir.Linear(w3),
                   nir_lif(5))
    return one_d, two_d, (w1, b1, w2, w3)


def test_conv1d_is_the_1xk_conv2d():
    one_d, two_d, _ = _nets()
    a, b = nir_to_netspec(one_d, DT), nir_to_netspec(two_d, DT)
    assert_same_spec(a, b)
    assert a.spec.layers[0].shape == (2, 1, 16)
    assert [tuple(la.out_shape) for la in a.spec.layers[1:3]] == [(4, 1, 8), (3, 1, 4)]


@torch.no_grad()
def _torch_run(params, x: torch.Tensor) -> list[torch.Tensor]:
    """NIR's LIF with torch's conv1d: v' = 0.9 v + I, spike above 1, reset to 0."""
    w1, b1, w2, w3 = (torch.as_tensor(p) for p in params)
    layers = [lambda s: F.conv1d(s, w1, b1, stride=2, padding=1),
              lambda s: F.conv1d(s, w2, stride=2, padding=1),
              lambda s: s.flatten(1) @ w3.T]
    v, out = [0.0] * 3, [[], [], []]
    for t in range(x.shape[1]):
        s = x[:, t]
        for k, f in enumerate(layers):
            v[k] = 0.9 * v[k] + f(s)
            s = (v[k] > 1).double()
            v[k] = v[k] * (1 - s)
            out[k].append(s)
    return [torch.stack(o) for o in out]


def test_a_conv1d_net_deploys_with_torch_conv1d_dynamics(tmp_path):
    """Against torch's conv1d: spike counts within 5 % per layer and most spikes on the same
    step; the fidelity report (on the same inputs, given as (C, L) with --data) measures the
    same. An untrained net's output classes are close (a quarter of the samples have their
    top two outputs within a spike), so its class agreement is only ~80 % either way."""
    one_d, _, params = _nets()
    nir.write(str(tmp_path / "m.nir"), one_d)
    x = random_spikes((2, 1, 16))
    np.save(tmp_path / "x.npy", x.squeeze(3).numpy().astype(np.uint8))  # (C, L) as given
    fid = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", dt=DT,
                      data=str(tmp_path / "x.npy"))["fidelity"]
    fl = _torch_run(params, x.double().squeeze(3))
    dep, _ = deployed_spikes(tmp_path / "m.net", x)
    dep = [d.reshape(fl[k].shape) for k, d in enumerate(dep)]
    measured = spike_fidelity(fl, dep)
    for k, ((ratio, same_step), row) in enumerate(zip(measured, fid["layers"], strict=True)):
        assert 0.95 <= ratio <= 1.05 and same_step >= (0.85 if k == 0 else 0.6), (k, ratio)
        assert row["spike_ratio"] == pytest.approx(ratio, abs=1e-3)
        assert row["same_step"] == pytest.approx(same_step, abs=1e-3)
    agreement = class_agreement(fl[-1].sum(0), dep[-1].sum(0))
    assert fid["class_agreement"] == pytest.approx(agreement, abs=1e-9)
    assert agreement >= 0.7


def test_a_conv1d_on_a_vector_is_refused(tmp_path, capsys):
    c = nir.Conv1d(input_shape=4, weight=np.ones((2, 1, 3)), bias=np.zeros(2), stride=1,
                   padding=0, dilation=1, groups=1)
    g = nir_chain([4], [2], nir.Linear(np.ones((4, 4))), nir_lif(4), c, nir_lif(4))
    nir.write(str(tmp_path / "g.nir"), g)
    code, line = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net",
                      "--dt", "1e-3")
    assert (code, line) == (1, f"error: {tmp_path / 'g.nir'}: NIR node 'n2': conv1d weight "
                               "(2, 1, 3) (groups 1) does not take input (4,)")
    assert not (tmp_path / "g.net").exists()

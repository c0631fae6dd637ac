"""NIR ``Delay`` on the spikes into a dense synapse: netx DelayDense, one delay per input.

NIR's ``y(t) = x(t - delay)`` at step dt is ``round(delay / dt)`` steps; deployed, held
against an independent float run (NIR's LIF at 1 ms, input i of the second layer read
``delay[i]`` steps late), it keeps the byom bounds, and without the delays it would not.
"""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
from helpers import (
    call_mskd,
    check_fidelity,
    class_agreement,
    deployed_spikes,
    nir_chain,
    nir_lif,
    random_spikes,
    spike_fidelity,
)
from mskd.convert.nir.importer import convert_nir

from mskd.net.netx_io import read_netx

pytestmark = pytest.mark.unit

DT = 1e-3  # tau 0.01, r 10: decay 0.1 and gain 1 per step


def _net():
    rng = np.random.default_rng(0)
    w1, w2 = rng.normal(size=(16, 20)) * 1.0, rng.normal(size=(4, 16)) * 1.5
    steps = rng.integers(0, 6, 16)
    g = nir_chain([20], [4], nir.Linear(w1), nir_lif(16), nir.Delay(steps * DT), nir.Linear(w2),
               nir_lif(4))
    return g, w1, w2, steps


@torch.no_grad()
def _float_run(w1, w2, steps, x: torch.Tensor) -> list[torch.Tensor]:
    w1, w2 = torch.as_tensor(w1), torch.as_tensor(w2)
    v1, v2, s1_seen, out = 0.0, 0.0, [], [[], []]
    for t in range(x.shape[1]):
        v1 = 0.9 * v1 + x[:, t] @ w1.T
        s1 = (v1 > 1).double()
        v1 = v1 * (1 - s1)
        s1_seen.append(s1)
        late = torch.stack([s1_seen[t - d][:, i] if t >= d else torch.zeros(x.shape[0])
                            for i, d in enumerate(steps)], 1)
        v2 = 0.9 * v2 + late @ w2.T
        s2 = (v2 > 1).double()
        v2 = v2 * (1 - s2)
        out[0].append(s1)
        out[1].append(s2)
    return [torch.stack(o) for o in out]


def test_a_delay_deploys_as_delay_dense_with_nir_timing(tmp_path):
    g, w1, w2, steps = _net()
    nir.write(str(tmp_path / "m.nir"), g)
    rep = convert_nir(tmp_path / "m.nir", tmp_path / "m.net", dt=DT)
    layer = read_netx(tmp_path / "m.net").layers[2]
    assert np.array_equal(layer.delay_matrix(), np.repeat(steps.reshape(1, -1), 4, axis=0))
    x = random_spikes((20,))
    fl = _float_run(w1, w2, steps, x.double())
    dep, _ = deployed_spikes(tmp_path / "m.net", x)
    check_fidelity(spike_fidelity(fl, dep), class_agreement(fl[-1].sum(0), dep[-1].sum(0)))
    assert rep["fidelity"]["verdict"] == "GOOD", rep["fidelity"]["line"]
    undelayed = _float_run(w1, w2, np.zeros(16, int), x.double())  # the delays matter
    assert spike_fidelity(undelayed, dep)[1][1] < 0.45


@pytest.mark.parametrize("delay, line", [
    (np.full(16, 1.5e-3), "NIR node 'n2': field 'delay' (0.0015 to 0.0015) is not a whole "
                          "number of steps of dt=0.001 within 0..62"),
    (np.full(16, 0.1), "NIR node 'n2': field 'delay' (0.1 to 0.1) is not a whole number of "
                       "steps of dt=0.001 within 0..62"),
    (np.ones(3) * 1e-3, "NIR node 'n2': field 'delay' needs 1 or 16 values >= 0 for input "
                        "(16,), got 3"),
], ids=["half-step", "beyond-62-steps", "wrong-size"])
def test_delays_netx_cannot_hold_are_refused(tmp_path, capsys, delay, line):
    rng = np.random.default_rng(0)
    g = nir_chain([20], [4], nir.Linear(rng.normal(size=(16, 20))), nir_lif(16), nir.Delay(delay),
               nir.Linear(rng.normal(size=(4, 16))), nir_lif(4))
    nir.write(str(tmp_path / "g.nir"), g)
    code, err = call_mskd(capsys, "convert", tmp_path / "g.nir", "--out", tmp_path / "g.net",
                     "--dt", "1e-3")
    assert (code, err) == (1, f"error: {tmp_path / 'g.nir'}: {line}")
    assert not (tmp_path / "g.net").exists()

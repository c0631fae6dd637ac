"""Data-driven thresholds: pick each hidden layer's ``vThMant`` for a target spike rate.

With thresholds set from the weight scale alone, activity fades layer by layer (measured on
the synthetic default: 53% input, 8% conv0, 0.6% conv1 spikes). Before training, layer by
layer from the input, a bisection on a log scale finds the ``vth_mant`` whose spike rate on
a batch of training clips (exact integer run) is closest to ``target``. The result is a new
model with the same weights; the thresholds live in its config and hence the checkpoint.

>>> from mskd.train.student_lif import Student, StudentConfig
>>> torch.manual_seed(0) and None
>>> net = Student(StudentConfig(size=8, channels=(2,), hidden=(4,), n_frames=2, input_history=1))
>>> frames = torch.rand(4, 2, 1, 8, 8)
>>> cal = calibrate_thresholds(net, frames, target=0.2)
>>> [abs(r - 0.2) < 0.05 for r in spike_rates(cal, frames)[1:-1]]
[True, True]
"""

from __future__ import annotations

import math

import torch
from mskd.train.lif_config import StudentConfig
from mskd.train.student_lif import Student

from mskd.loihi.lif import VTH_MAX


@torch.no_grad()
def spike_rates(model: Student, frames: torch.Tensor) -> list[float]:
    """Mean spike rate of every neuron layer (input first) over steps, clips and neurons."""
    return [float(s.double().mean()) for s in model.forward_fixed(frames).spikes]


def _with_vths(model: Student, vths: list[int]) -> Student:
    cfg = StudentConfig.from_dict({**model.config.to_dict(), "vth_mants": tuple(vths)})
    new = Student(cfg)
    new.load_state_dict(model.state_dict())
    return new


@torch.no_grad()
def calibrate_thresholds(model: Student, frames: torch.Tensor, target: float = 0.1,
                         iters: int = 12) -> Student:
    """A copy of ``model`` whose hidden layers spike at about ``target`` on ``frames``."""
    vths = list(model.config.vth_mants)
    for layer in range(len(vths) - 1):  # the readout keeps its never-spike threshold
        lo, hi = 0.0, math.log2(VTH_MAX)
        for _ in range(iters):
            mid = (lo + hi) / 2
            vths[layer] = max(1, round(2**mid))
            rate = spike_rates(_with_vths(model, vths), frames)[layer + 1]
            lo, hi = (mid, hi) if rate > target else (lo, mid)
        vths[layer] = max(1, round(2 ** ((lo + hi) / 2)))
    return _with_vths(model, vths)

"""Data-driven delta thresholds of the sigma-delta student, per layer, before training.

A SigmaDelta layer sends a change of its activation once it reaches ``vth`` (in its
integer units). Thresholds set from the weight scale alone mean nothing for the data; here,
layer by layer from the input, each hidden layer's threshold is ``delta_rho`` times its
mean positive activation on a batch of training clips (exact integer run, the layers below
already at their new thresholds): a change smaller than that fraction of a typical
activation waits in the residue. ``delta_rho`` is a config field (``--delta-threshold``);
the activity loss (``--sparsity``) then trades accuracy for messages during training.

>>> from mskd.train.sdnn_config import SdnnConfig
>>> from mskd.train.student_sdnn import SdnnStudent
>>> torch.manual_seed(0) and None
>>> net = SdnnStudent(SdnnConfig(size=8, channels=(2,), hidden=(4,), n_frames=3))
>>> cal = calibrate_delta_thresholds(net, torch.rand(4, 3, 1, 8, 8))
>>> len(cal.config.vth_mants), all(v >= 1 for v in cal.config.vth_mants)
(2, True)
"""

from __future__ import annotations

import torch
from mskd.train.sdnn_config import SdnnConfig
from mskd.train.student_sdnn import SdnnStudent

from mskd.loihi.sdn import SPIKE_EXP, STATE_EXP, sdn_step, zero_state

ACT_FRACTION_BITS = SPIKE_EXP + STATE_EXP  # act carries 12 fractional bits


def _with_vths(model: SdnnStudent, vths: list[int]) -> SdnnStudent:
    new = SdnnStudent(SdnnConfig.from_dict({**model.config.to_dict(),
                                            "vth_mants": tuple(vths)}))
    new.load_state_dict(model.state_dict())
    return new


@torch.no_grad()
def mean_positive_act(model: SdnnStudent, frames: torch.Tensor, layer: int) -> float:
    """Mean positive ``act`` (integer units) of hidden layer ``layer`` (0 = first conv)."""
    run = model.forward_fixed(frames)
    a_in = model._synapse(layer, run.messages[layer], model.int_weights()[layer].detach())
    a_in = torch.round(a_in).to(torch.int64)
    p, bias = model.neuron_params()[layer + 1], model.int_biases()[layer].detach()
    bias = bias.to(torch.int64).reshape(-1, 1, 1) if a_in.dim() == 5 else bias.to(torch.int64)
    state, total, count = zero_state(tuple(a_in.shape[1:])), 0.0, 0
    for t in range(a_in.shape[0]):
        _, state = sdn_step(a_in[t], state, p, bias)
        pos = state.act[state.act > 0]
        total, count = total + float(pos.sum()), count + pos.numel()
    return total / max(count, 1)


@torch.no_grad()
def calibrate_delta_thresholds(model: SdnnStudent, frames: torch.Tensor) -> SdnnStudent:
    """A copy of ``model`` whose hidden thresholds are ``delta_rho`` x mean positive act."""
    vths = list(model.config.vth_mants)
    for layer in range(len(vths)):
        mean = mean_positive_act(model, frames, layer)
        vths[layer] = max(1, min((1 << 19) - 1, round(model.config.delta_rho * mean
                                                      / (1 << ACT_FRACTION_BITS))))
        model = _with_vths(model, vths)
    return model

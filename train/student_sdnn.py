"""The sigma-delta student for Loihi 2, trained in the deployed network's integer arithmetic.

It reads every camera frame of the clip's span (E4-S3: 13 frames at 30 FPS), one step per
frame: a Delta input layer sends the change of each input value (``round(pixel *
input_gain)`` of camera frame k and of frame k-1, so the first conv sees adjacent-frame
motion) once it reaches ``input_vth``; ReLU SigmaDelta convs and dense layers send the
change of their activation as graded payloads once it reaches their threshold; a Sigma
readout accumulates what it receives, and its value at step ``k + L`` (``L`` = synaptic
layers, one step of delay each) gives the logits of frame ``k``. Every neuron runs
:func:`mskd.loihi.sdn.sdn_step` (the one definition), so the training forward (float64 with
straight-through rounding) and :meth:`SdnnStudent.forward_fixed` (int64) equal the
simulator and Lava on the converted network bit for bit. Units and scales:
:mod:`mskd.train.sdnn_config`.

Gradients: weight and bias rounding and the payload's ``>> 6`` are straight-through; the
delta encoder's send decision is treated as fixed, so a change's gradient flows into the
payload when sent and through the residue into a later payload when not.

>>> cfg = SdnnConfig(size=8, channels=(2,), hidden=(4,), n_frames=3)
>>> torch.manual_seed(0) and None
>>> net = SdnnStudent(cfg)
>>> net(torch.rand(2, 3, 1, 8, 8)).shape       # [n_frames, batch, classes]
torch.Size([3, 2, 7])
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from mskd.train import student_geometry
from mskd.train.quant import standardize_weights
from mskd.train.sdnn_config import SdnnConfig
from torch import nn

from mskd.frames import frame_schedule, input_mantissa, normalize_frames, stack_history
from mskd.loihi.lif import conv_output, dense_output, netx_optimize
from mskd.loihi.quantizers import quantize_weight, round_ste
from mskd.loihi.sdn import SPIKE_EXP, SdnParams, no_overflow_bound, sdn_step, zero_state

BIAS_LIMIT = (1 << 19) - 1  # an SDNN bias << 12 must fit Lava's int32 register


class SdnnRun(NamedTuple):
    """One simulation: per-frame readout ``[n, B, C]`` (Sigma values), every layer's
    payloads ``[T, B, *shape]`` (input first) and the activity surrogate per layer."""

    readout: torch.Tensor
    messages: list[torch.Tensor]
    activity: list[torch.Tensor]


class SdnnStudent(nn.Module):
    """Sigma-delta student; ``forward(frames [B, n, 1, H, W]) -> logits [n, B, C]``."""

    kind = "student"
    dense = True  # reads every camera frame of the clip's span

    def __init__(self, config: SdnnConfig) -> None:
        super().__init__()
        shapes = config.geometry()
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        in_c = config.input_history
        for c in config.channels:
            self.weights.append(nn.Parameter(torch.empty(c, in_c, config.kernel, config.kernel)))
            self.biases.append(nn.Parameter(torch.zeros(c)))
            in_c = c
        dims = [shapes[len(config.channels) + 1][0], *config.hidden, config.classes]
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            self.weights.append(nn.Parameter(torch.empty(b, a)))
            if len(self.biases) < config.n_synaptic - 1:  # the Sigma readout has no bias
                self.biases.append(nn.Parameter(torch.zeros(b)))
        for w in self.weights:
            fan_in = w[0].numel()
            nn.init.uniform_(w, -math.sqrt(6 / fan_in), math.sqrt(6 / fan_in))
        self.shapes = shapes
        if not config.weight_exps:  # slayer's convention: weights in 1/64 (= 2**spike_exp)
            config = SdnnConfig.from_dict({**config.to_dict(),
                                           "weight_exps": (SPIKE_EXP,) * config.n_synaptic,
                                           "vth_mants": (1,) * (config.n_synaptic - 1)})
        self.config = config
        if config.kd_projection:  # feature-level distillation only (see kd_features)
            self.kd_proj = nn.Linear(student_geometry.feature_dim(config),
                                     config.kd_projection, bias=False)

    # -- parameters in Loihi units -------------------------------------------------------
    def float_weights(self) -> list[torch.Tensor]:
        """Float weights; hidden layers standardised when configured (see Student)."""
        if not self.config.weight_standardize:
            return list(self.weights)
        return standardize_weights(list(self.weights))

    def folded(self) -> SdnnStudent:
        """A copy with the standardisation folded into plain weights (same integer network)."""
        if not self.config.weight_standardize and not self.config.kd_projection:
            return self
        new = SdnnStudent(SdnnConfig.from_dict({**self.config.to_dict(),
                                                "weight_standardize": False,
                                                "kd_projection": 0}))
        with torch.no_grad():
            for dst, src in zip(new.weights, self.float_weights(), strict=True):
                dst.copy_(src)
            for dst, src in zip(new.biases, self.biases, strict=True):
                dst.copy_(src)
        return new.train(self.training)

    def int_weights(self) -> list[torch.Tensor]:
        exps = self.config.weight_exps
        return [quantize_weight(w, e) for w, e in zip(self.float_weights(), exps, strict=True)]

    def int_biases(self) -> list[torch.Tensor]:
        """Bias mantissas ``round(b * S_l)`` (STE), per hidden SigmaDelta layer."""
        scales = self.config.scales()[1:]
        return [torch.clamp(round_ste(b * s), -BIAS_LIMIT, BIAS_LIMIT)
                for b, s in zip(self.biases, scales, strict=False)]

    def neuron_params(self) -> list[SdnParams]:
        """Lava sigma-delta parameters: Delta input, SigmaDelta hidden, Sigma readout."""
        c = self.config
        return ([SdnParams("delta", c.input_vth)]
                + [SdnParams("sigma_delta", v) for v in c.vth_mants] + [SdnParams("sigma")])

    @property
    def readout_scale(self) -> float:
        """Readout sigma per unit logit: ``2**(e_L + 6) * S_{L-1}``."""
        return 2.0 ** (self.config.weight_exps[-1] + 6) * self.config.scales()[-2]

    def input_values(self, frames: torch.Tensor) -> torch.Tensor:
        """The Delta input values ``round(x * input_gain)``, ``[B, n, history, H, W]``."""
        c = self.config
        return input_mantissa(frames, c.input_gain, c.input_norm, c.input_history)

    # -- simulation ----------------------------------------------------------------------
    def _synapse(self, i: int, msgs: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """Synaptic input of layer ``i + 1`` for all steps, as Lava's Conv/Dense send it
        (:func:`mskd.loihi.lif.conv_output`, :func:`mskd.loihi.lif.dense_output` with netx's weight
        scaling): messages of step t arrive at t + 1. float64 sums of integers are exact
        (below 2**53 here)."""
        T, B = msgs.shape[:2]
        x = msgs[:-1].reshape((T - 1) * B, *msgs.shape[2:]).to(torch.float64)
        c = self.config
        if i < len(c.channels):
            y = conv_output(F.conv2d(x, w.to(torch.float64), stride=c.stride,
                                     padding=c.padding))
        else:
            w_np = w.detach().to(torch.int64).numpy()
            scale_bits = -netx_optimize(w_np)[2] if w_np.any() else 0
            y = dense_output(F.linear(x.flatten(1), w.to(torch.float64)), scale_bits)
        y = y.reshape(T - 1, B, *y.shape[1:])
        return torch.cat([torch.zeros_like(y[:1]), y])

    def _layer(self, a_in: torch.Tensor, p: SdnParams, bias, exact: bool):
        """Run one layer over time; payloads ``[T, ...]`` and its activity surrogate."""
        dtype = torch.int64 if exact else torch.float64
        a_in = torch.round(a_in).to(torch.int64) if exact else a_in
        state = zero_state(tuple(a_in.shape[1:]), dtype)
        bias_max = int(torch.as_tensor(bias).detach().abs().max()) if torch.is_tensor(bias) else 0
        fits = no_overflow_bound(p, a_in.shape[0], int(a_in.detach().abs().max()), bias_max)
        outs, change = [], torch.zeros((), dtype=dtype)
        for t in range(a_in.shape[0]):
            prev_act = state.act
            s, state = sdn_step(a_in[t], state, p, bias, no_overflow=fits)
            outs.append(s)
            if not exact and p.kind == "sigma_delta":  # total variation / threshold
                change = change + (state.act - prev_act).abs().mean() / max(p.vth_eff, 1)
        return torch.stack(outs), change

    def simulate(self, frames: torch.Tensor, exact: bool) -> SdnnRun:
        """Run ``n + L`` steps; int64 arithmetic if ``exact``, float64 with STE otherwise."""
        c = self.config
        x = self.input_values(frames)[:, frame_schedule(c.n_frames, 1, c.n_synaptic)]
        x = x.transpose(0, 1)  # [T, B, history, H, W]
        ws = [w.detach() for w in self.int_weights()] if exact else self.int_weights()
        bs = [b.detach() for b in self.int_biases()] if exact else self.int_biases()
        ps = self.neuron_params()
        cast = (lambda b: b.to(torch.int64)) if exact else (lambda b: b)
        msgs, act = self._layer(x, ps[0], 0, exact)
        messages, activity = [msgs], [act]
        for i in range(c.n_synaptic):
            a = self._synapse(i, msgs, ws[i])
            bias = 0
            if i < len(bs):
                bias = cast(bs[i]).reshape(-1, 1, 1) if i < len(c.channels) else cast(bs[i])
            msgs, act = self._layer(a, ps[i + 1], bias, exact)
            messages.append(msgs)
            activity.append(act)
        return SdnnRun(msgs[c.n_synaptic:], messages, activity)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame logits ``[n, B, classes]`` (float32) from the float64 STE simulation."""
        run = self.simulate(frames, exact=False)
        self.last_activity = run.activity
        if self.config.kd_projection:
            self.last_messages = run.messages[-2]
        return (run.readout / self.readout_scale).float()

    def kd_features(self) -> torch.Tensor:
        """The last forward's feature layer (the readout's input: the last hidden layer's
        activation, rebuilt as the readout's Sigma sees it, the running sum of its
        payloads, at step ``k + L - 1`` for frame ``k``, in float units ``/ (64 S)``)
        projected onto the teacher's feature width, ``[n, B, kd_projection]``."""
        c = self.config
        lat = c.n_synaptic
        act = torch.cumsum(self.last_messages, 0)[lat - 1:lat - 1 + c.n_frames]
        act = act.flatten(2) / (2.0 ** SPIKE_EXP * self.config.scales()[-2])
        return self.kd_proj(act.float())

    @torch.no_grad()
    def forward_fixed(self, frames: torch.Tensor) -> SdnnRun:
        """Exact int64 run with every layer's payloads (no autograd)."""
        return self.simulate(frames, exact=True)

    @torch.no_grad()
    def forward_float(self, frames: torch.Tensor, dtype=torch.float64) -> torch.Tensor:
        """The float twin: the same float weights and biases as a ReLU network applied to
        every frame (no rounding, no thresholds, no delay): per-frame logits ``[n, B, C]``
        (``dtype=torch.float32`` is the variant exported to ONNX)."""
        c = self.config
        a = stack_history(normalize_frames(frames, c.input_norm), c.input_history).to(dtype)
        B, n = a.shape[:2]
        a = a.reshape(B * n, *a.shape[2:])
        ws = self.float_weights()
        for i, w in enumerate(ws):
            w = w.detach().to(dtype)
            if i < len(c.channels):
                a = F.conv2d(a, w, stride=c.stride, padding=c.padding)
            else:
                a = F.linear(a.flatten(1), w)
            if i < len(ws) - 1:
                b = self.biases[i].detach().to(dtype)
                a = torch.relu(a + (b.reshape(-1, 1, 1) if a.dim() == 4 else b))
        return a.reshape(B, n, -1).transpose(0, 1).float()

    def activity_loss(self) -> torch.Tensor:
        """Message-count surrogate of the last training forward: per hidden layer, the
        mean change of the activation per step over its threshold, weighted by the
        synapses each of its messages reaches (so it tracks synaptic ops)."""
        fan_out = self.fan_outs()
        total = sum(fan_out)
        return sum(f / total * a for f, a in zip(fan_out, self.last_activity[1:], strict=False))

    def fan_outs(self) -> list[float]:
        """Synapses reached by one message of each hidden SigmaDelta layer (approx. for
        convs: kernel taps x output channels / stride**2)."""
        c, out = self.config, []
        for i in range(c.n_synaptic - 1):
            w = self.weights[i + 1]
            if i + 1 < len(c.channels):
                out.append(w.shape[0] * w.shape[2] * w.shape[3] / c.stride ** 2)
            else:
                out.append(float(w.shape[0]))
        return out

    def quantized(self):
        """Integer description for the Loihi converter (layout in :mod:`mskd.train.quantized`)."""
        from mskd.train.quantized import QuantizedStudent, QuantLayer

        c, sh = self.config, self.shapes
        ws = [w.detach().to(torch.int64) for w in self.int_weights()]
        bs = [b.detach().to(torch.int64) for b in self.int_biases()]
        nc = len(c.channels)
        layers = [QuantLayer("input", sh[0], sh[0], neuron="sdnn", vth_mant=c.input_vth)]
        for i, w in enumerate(ws):
            if i == nc:
                layers.append(QuantLayer("flatten", sh[nc], sh[nc + 1]))
            src, last = (i if i < nc else i + 1), i == c.n_synaptic - 1
            geom = dict(stride=(c.stride, c.stride), padding=(c.padding, c.padding))
            layers.append(QuantLayer("conv" if i < nc else "dense", sh[src], sh[src + 1],
                                     weight=w, bias=None if last else bs[i],
                                     **(geom if i < nc else {}), neuron="sdnn",
                                     vth_mant=0 if last else c.vth_mants[i], sigma_output=last))
        return QuantizedStudent(tuple(layers), c.input_gain, 1, c.n_frames, c.n_synaptic,
                                self.readout_scale, c.classes, c.input_norm, c.input_history,
                                notes={"readout": "Sigma value at step k + latency per frame "
                                                  "/ scale, mean over frames"},
                                encoding="delta", dense=True)

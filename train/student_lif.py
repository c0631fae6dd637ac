"""The frames-only spiking student, trained in Loihi's own fixed-point arithmetic.

Layers: an input layer of CUBA-LIF neurons driven by bias (``bias_mant = round(pixel *
input_gain)``, applied as ``bias_mant << 6``), convolutions, flatten, dense layers; every
neuron runs :func:`mskd.loihi.lif.lif_step`. Each synaptic layer delivers the previous layer's
spikes one step later (layer l at step t receives ``W_l s_{l-1}(t-1)``; nothing at t=0).

Synaptic sums use float32 convolutions/matmuls of binary spikes and integer weights, exact
because ``128 * fan_in < 2**24`` (checked); the neurons run in float64 (training, exact
integers with straight-through gradients) or int64 (:meth:`Student.forward_fixed`). Both
modes share one simulation loop, so they agree bit for bit.

Timing and latency: frame k is the input bias for steps ``k r .. k r + r - 1``; after the last
frame the input holds it for ``L`` more steps, where ``L`` = number of synaptic layers =
the pipeline latency. The readout window is steps ``L .. L + n r - 1`` (what the input
showed at steps ``0 .. n r - 1``). Per-frame logits = mean of the output ``v`` over that
frame's r-step window, divided by ``readout_scale``; the prediction is their mean.

Weights: training standardises the hidden layers' float weights per output neuron
(:meth:`Student.float_weights`, zero mean and a fixed norm) before the 8-bit rounding;
:meth:`Student.folded` (applied by :func:`mskd.train.models.load_model`) stores them as
plain weights, so a loaded student has exactly the same integer network and no extra step.

Thresholds: built from the weight scale (``theta * 2**e``); training then recalibrates the
hidden layers' ``vThMant`` to a target spike rate on real clips
(:mod:`mskd.train.calibrate_lif`) before the first epoch. The readout layer keeps
``vThMant = 131071``; note Lava clips v at ``2**23 - 1 > 131071 << 6``, so a readout
within 63 of saturation would still spike (both forwards agree on that, they share lif_step).

>>> cfg = StudentConfig(size=8, channels=(2,), hidden=(4,), steps_per_frame=2, n_frames=2)
>>> torch.manual_seed(0) and None
>>> net = Student(cfg)
>>> net(torch.rand(3, 2, 1, 8, 8)).shape       # [n_frames, batch, classes]
torch.Size([2, 3, 7])
>>> net.config.n_synaptic, len(net.config.weight_exps)
(3, 3)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from mskd.train import student_geometry
from mskd.train.lif_config import OUT_VTH_MANT, StudentConfig
from mskd.train.quant import (
    check_exact_sum,
    standardize_weights,
    surrogate,
    weight_exponent,
)
from mskd.train.quantized import QuantizedStudent, QuantLayer
from torch import nn

from mskd.frames import frame_schedule, input_mantissa
from mskd.loihi.lif import ACT_SHIFT, LifParams, effective_bias, heaviside, lif_step, zero_state
from mskd.loihi.quantizers import quantize_weight


class FixedRun(NamedTuple):
    """Record of one simulation. Lists run over neuron layers: input, convs, denses."""

    readout_v: torch.Tensor  # output v over the readout window, [n*r, B, classes]
    spikes: list[torch.Tensor]  # per neuron layer, [T, B, *shape]
    u: list[torch.Tensor]
    v: list[torch.Tensor]


class Student(nn.Module):
    """Spiking student; ``forward(frames [B, n, 1, H, W]) -> per-frame logits [n, B, C]``."""

    kind = "student"

    def __init__(self, config: StudentConfig) -> None:
        super().__init__()
        shapes = config.geometry()
        self.weights = nn.ParameterList()
        fan_ins = []
        in_c = config.input_history
        for c in config.channels:
            fan_ins.append(in_c * config.kernel**2)
            self.weights.append(nn.Parameter(torch.empty(c, in_c, config.kernel, config.kernel)))
            in_c = c
        dims = [shapes[len(config.channels) + 1][0], *config.hidden, config.classes]
        for a, b in zip(dims[:-1], dims[1:], strict=True):
            fan_ins.append(a)
            self.weights.append(nn.Parameter(torch.empty(b, a)))
        for w, fan_in in zip(self.weights, fan_ins, strict=True):
            check_exact_sum(fan_in, f"student layer {tuple(w.shape)}")
            nn.init.uniform_(w, -math.sqrt(6 / fan_in), math.sqrt(6 / fan_in))
        self.config = config
        if not config.weight_exps:
            exps = tuple(weight_exponent(w.detach()) for w in self.float_weights())
            vths = tuple(max(1, round(config.theta * 2.0**e)) for e in exps[:-1])
            config = StudentConfig.from_dict(
                {**config.to_dict(), "weight_exps": exps, "vth_mants": (*vths, OUT_VTH_MANT)})
        self.config = config
        self.shapes = shapes
        if config.kd_projection:  # feature-level distillation only (see kd_features)
            self.kd_proj = nn.Linear(student_geometry.feature_dim(config),
                                     config.kd_projection, bias=False)

    # -- parameters in Loihi units -------------------------------------------------------
    def neuron_params(self) -> list[LifParams]:
        """Lava LIF parameters of every neuron layer (input first)."""
        c = self.config
        ps = [LifParams.from_netx(c.i_decay, c.input_v_decay, c.input_vth_mant)]
        for i, vth in enumerate(c.vth_mants):
            last = i == c.n_synaptic - 1
            ps.append(LifParams.from_netx(c.i_decay, c.out_v_decay if last else c.v_decay, vth))
        return ps

    def float_weights(self) -> list[torch.Tensor]:
        """The float weights before quantisation.

        With ``weight_standardize`` every hidden synaptic layer (not the readout) uses
        ``w' = (w - mean) / std * sqrt(2 / fan_in)`` per output neuron (weight
        standardisation): the weights stay zero-mean and of a fixed norm, so a filter
        responds to contrast and motion rather than to the clip's overall brightness, and
        the spike rates the thresholds were calibrated for do not drift during training.
        Why: the frames-only CNN of scripts/data_baselines.py, run per clip frame on
        (frame k, frame k-1) like this student, needs its batch norm to learn at all
        (measured at 32 px on a seed-1 synthetic set, one seed: 52% test WAR with batch
        norm, 16% without, 49% with weight standardisation instead). Unlike batch norm it
        folds into the integer weights (:meth:`folded`), so the deployed network is
        unchanged in kind; on the student it is what lets the convolutions learn (first
        conv: 10% relative weight change over training without it).
        """
        if not self.config.weight_standardize:
            return list(self.weights)
        return standardize_weights(list(self.weights))

    def folded(self) -> Student:
        """A copy with the standardisation folded into plain weights (same integer network).

        ``weights`` of the copy are this model's :meth:`float_weights`, so ``weights[i] *
        2**e`` is the unrounded mantissa that :meth:`int_weights` rounds, bit for bit.
        """
        if not self.config.weight_standardize and not self.config.kd_projection:
            return self
        cfg = StudentConfig.from_dict({**self.config.to_dict(), "weight_standardize": False,
                                       "kd_projection": 0})
        new = Student(cfg)
        with torch.no_grad():
            for dst, src in zip(new.weights, self.float_weights(), strict=True):
                dst.copy_(src)
        return new.train(self.training)

    def int_weights(self) -> list[torch.Tensor]:
        """Integer weight mantissas (float32 with STE gradients)."""
        exps = self.config.weight_exps
        return [quantize_weight(w, e) for w, e in zip(self.float_weights(), exps, strict=True)]

    @property
    def readout_scale(self) -> float:
        """Output ``v`` per unit logit: ``2**6`` (the << 6) times the last weight scale."""
        return 2.0 ** (ACT_SHIFT + self.config.weight_exps[-1])

    def input_bias(self, frames: torch.Tensor, exact: bool) -> torch.Tensor:
        """``round(norm(pixel) * input_gain) << 6`` per pixel, [B, n, 1, H, W]."""
        c = self.config
        mant = input_mantissa(frames, c.input_gain, c.input_norm, c.input_history)
        return effective_bias(mant.to(torch.int64) if exact else mant)

    # -- simulation ----------------------------------------------------------------------
    def _synapse(self, i: int, spikes: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        x = spikes.to(torch.float32)
        if i < len(self.config.channels):
            c = self.config
            return F.conv2d(x, w, stride=c.stride, padding=c.padding)
        return F.linear(x.flatten(1), w)

    def _dropout_masks(self, batch: int, shapes, dtype) -> list[torch.Tensor] | None:
        """Training-only dropout of hidden spikes: one mask per clip and neuron for all steps,
        scaled by ``1 / (1 - p)``; the input and output layers are never dropped."""
        p = self.config.spike_dropout
        if not self.training or p <= 0:
            return None
        masks = [torch.ones((), dtype=dtype)]
        for s in shapes[1:-1]:
            keep = torch.rand((batch, *s)) >= p
            masks.append(keep.to(dtype) / (1 - p))
        return [*masks, torch.ones((), dtype=dtype)]

    def simulate(self, frames: torch.Tensor, exact: bool, record: bool = False) -> FixedRun:
        """Run ``n r + L`` steps; int64 arithmetic if ``exact``, float64 with STE otherwise."""
        c = self.config
        dtype = torch.int64 if exact else torch.float64
        batch, n = frames.shape[:2]
        bias = self.input_bias(frames, exact)
        ws = [w.detach() for w in self.int_weights()] if exact else self.int_weights()
        ps = self.neuron_params()
        fns = [heaviside] + [surrogate(p.vth_eff, c.surrogate_k) for p in ps[1:-1]] + [heaviside]
        if exact:
            fns = [heaviside] * len(ps)
        nshapes = [s for i, s in enumerate(self.shapes) if i != len(c.channels) + 1]
        states = [zero_state((batch, *s), dtype) for s in nshapes]
        prev = [torch.zeros((batch, *s), dtype=dtype) for s in nshapes]
        zero_in = torch.zeros((batch, *nshapes[0]), dtype=dtype)
        lat, schedule = c.n_synaptic, frame_schedule(n, c.steps_per_frame, c.n_synaptic)
        masks = self._dropout_masks(batch, nshapes, dtype) if not exact else None
        out_v, rec, hidden = [], ([], [], []), []
        for t, k in enumerate(schedule):
            s0, states[0] = lif_step(zero_in, states[0], ps[0], bias[:, k], fns[0])
            spikes = [s0]
            for i in range(c.n_synaptic):
                a_in = self._synapse(i, prev[i], ws[i]).to(dtype)
                s, states[i + 1] = lif_step(a_in, states[i + 1], ps[i + 1], 0, fns[i + 1])
                spikes.append(s)
            prev = spikes if masks is None else [s * m for s, m in zip(spikes, masks, strict=True)]
            if t >= lat:
                out_v.append(states[-1].v)
            if t >= lat - 1 and c.kd_projection and not exact:  # feature layer, a step early
                hidden.append(spikes[-2])
            if record:
                rec[0].append(spikes)
                rec[1].append([s.u for s in states])
                rec[2].append([s.v for s in states])
        stacked = [[torch.stack([r[i] for r in lst]) for i in range(len(ps))] if record else []
                   for lst in rec]
        if hidden:
            h = torch.stack(hidden[:len(out_v)]).flatten(2)
            self.last_hidden = h.reshape(n, c.steps_per_frame, *h.shape[1:]).mean(1)
        return FixedRun(torch.stack(out_v), *stacked)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Per-frame logits ``[n, B, classes]`` (float32) from the float64 STE simulation
        (a dimensional student: valence and arousal per frame)."""
        run = self.simulate(frames, exact=False)
        n, r = frames.shape[1], self.config.steps_per_frame
        per_frame = run.readout_v.reshape(n, r, *run.readout_v.shape[1:]).mean(1)
        return (per_frame / self.readout_scale).float()

    def kd_features(self) -> torch.Tensor:
        """The last forward's feature layer (the readout's input: the last hidden layer's
        spike rate over each frame's window, one step before the readout's) projected onto
        the teacher's feature width, ``[n, B, kd_projection]``; training only."""
        return self.kd_proj(self.last_hidden.float())

    @torch.no_grad()
    def forward_fixed(self, frames: torch.Tensor) -> FixedRun:
        """Exact int64 run with every layer recorded (no autograd)."""
        return self.simulate(frames, exact=True, record=True)

    def quantized(self) -> QuantizedStudent:
        """Integer description for the Loihi converter (layout in :mod:`mskd.train.quantized`)."""
        c, ps = self.config, self.neuron_params()
        ws = [w.detach().to(torch.int64) for w in self.int_weights()]
        nc = len(c.channels)
        layers = [self._qlayer("input", 0, 0, None, ps[0])]
        for i, w in enumerate(ws):
            if i == nc:
                layers.append(QuantLayer("flatten", self.shapes[nc], self.shapes[nc + 1]))
            src = i if i < nc else i + 1  # shapes[] has the flatten entry at nc + 1
            layers.append(self._qlayer("conv" if i < nc else "dense", src, src + 1, w, ps[i + 1]))
        return QuantizedStudent(tuple(layers), c.input_gain, c.steps_per_frame, c.n_frames,
                                c.n_synaptic, self.readout_scale, c.classes, c.input_norm,
                                c.input_history,
                                notes={"readout": "mean output v over the window / scale"})

    def _qlayer(self, kind, src, dst, w, p: LifParams) -> QuantLayer:
        c = self.config
        geom = dict(stride=(c.stride, c.stride), padding=(c.padding, c.padding))
        out = self.shapes[dst]
        return QuantLayer(kind, self.shapes[src], out, weight=w,
                          bias=torch.zeros(out, dtype=torch.int64),
                          **(geom if kind == "conv" else {}),
                          i_decay=p.i_decay, v_decay=p.v_decay, vth_mant=p.vth)

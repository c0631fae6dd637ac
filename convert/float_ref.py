"""The float student: the same network as the deployed one without any rounding.

The training code exposes only the fixed-point forward (float64 with straight-through
rounding, or int64), so the float reference lives here. It runs the student's own float
parameters through the same graph, timing and units as :mod:`mskd.train.student_lif`, with:

* weights ``w * 2**e`` (no rounding to the 8-bit mantissa, no clamp to -128..127);
* input bias ``x * input_gain * 2**6`` (no rounding; ``x`` = the student's own host-side
  ``stack_history(normalize_frames(frames))``, as in :mod:`mskd.net.encoding`);
* neurons :func:`mskd.loihi.lif.float_lif_step`: ``u' = u (1 - iDecay/4096) + 64 a``,
  ``v' = v (1 - vDecay/4096) + u' + bias``, spike when ``v' > vth * 64``, then ``v' = 0``
  -- the CUBA-LIF of :mod:`mskd.loihi.lif` with exact products instead of
  round-toward-zero, and no 24-bit wrap or saturation;
* the same one-step synaptic delay, frame holding and mean-``v`` readout.

Everything is float64. Differences from the deployed network therefore come only from
quantization (weights, input, decays) and register limits, which is what the report needs.

>>> import torch
>>> from mskd.train.student_lif import Student
>>> from mskd.train.lif_config import StudentConfig
>>> torch.manual_seed(0) and None
>>> s = Student(StudentConfig(size=8, channels=(2,), hidden=(4,), steps_per_frame=2,
...                           n_frames=2))
>>> run = float_forward(s, torch.rand(3, 2, 1, 8, 8))
>>> run.logits.shape, len(run.spikes), run.spikes[1].shape
(torch.Size([3, 7]), 4, torch.Size([7, 3, 2, 4, 4]))
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from mskd.loihi.lif import (
    ACT_SHIFT,
    DECAY_UNITY,
    NETX_BIAS_EXP,
    LifState,
    float_lif_step,
    float_synapse,
)


class FloatRun(NamedTuple):
    """Logits ``[B, classes]`` and per neuron layer spikes ``[T, B, *shape]`` (float64)."""

    logits: torch.Tensor
    spikes: list[torch.Tensor]
    frames: torch.Tensor | None = None  # per-frame outputs [n, B, classes]


def float_weights(student, dtype=torch.float64) -> list[torch.Tensor]:
    """``w * 2**e`` per synaptic layer: the unrounded weights in mantissa units."""
    return [w.detach().to(dtype) * 2.0 ** e
            for w, e in zip(student.weights, student.config.weight_exps, strict=True)]


def _lif(a_in, u, v, p, bias):
    """:func:`mskd.loihi.lif.float_lif_step` in Loihi units (``a_in << 6``, ``vth << 6``)."""
    s, st = float_lif_step(a_in * (1 << ACT_SHIFT), LifState(u, v), p.i_decay / DECAY_UNITY,
                           p.v_decay / DECAY_UNITY, float(p.vth_eff), bias)
    return s, st.u, st.v


def _synapse(student, spikes: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    c = student.config
    return float_synapse(spikes, w, stride=c.stride, padding=c.padding)


@torch.no_grad()
def float_forward(student, frames: torch.Tensor, dtype=torch.float64) -> FloatRun:
    """Run the float student on frames ``[B, n, 1, H, W]`` (see the module docstring).

    ``dtype=torch.float32`` is the variant exported to ONNX (:mod:`mskd.convert.onnx_export`).
    A sigma-delta student's float twin is its own ReLU network on every frame
    (:meth:`mskd.train.student_sdnn.SdnnStudent.forward_float`); it has no spikes to
    compare, so ``spikes`` is empty.
    """
    if getattr(student, "dense", False):
        per_frame = student.forward_float(frames, dtype)
        return FloatRun(per_frame.mean(0), [], per_frame)
    c, ps, ws = student.config, student.neuron_params(), float_weights(student, dtype)
    batch, n = frames.shape[:2]
    from mskd.frames import frame_schedule, normalize_frames, stack_history

    x = stack_history(normalize_frames(frames, c.input_norm), c.input_history)
    bias = x.to(dtype) * c.input_gain * (1 << NETX_BIAS_EXP)
    nshapes = [s for i, s in enumerate(student.shapes) if i != len(c.channels) + 1]
    u = [torch.zeros((batch, *s), dtype=dtype) for s in nshapes]
    v = [x.clone() for x in u]
    prev = [x.clone() for x in u]
    rec, out_v = [], []
    for t, k in enumerate(frame_schedule(n, c.steps_per_frame, c.n_synaptic)):
        spikes = []
        for j in range(len(ps)):
            a_in = 0.0 if j == 0 else _synapse(student, prev[j - 1], ws[j - 1])
            s, u[j], v[j] = _lif(a_in, u[j], v[j], ps[j], bias[:, k] if j == 0 else 0.0)
            spikes.append(s)
        prev = spikes
        rec.append(spikes)
        if t >= c.n_synaptic:
            out_v.append(v[-1])
    window = torch.stack(out_v) / student.readout_scale
    per_frame = window.reshape(n, c.steps_per_frame, *window.shape[1:]).mean(1)
    return FloatRun(window.mean(0), [torch.stack([r[j] for r in rec]) for j in range(len(ps))],
                    per_frame)

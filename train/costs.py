"""Model size and cost: parameters, per-step synaptic operations, ANN-equivalent MACs.

- ``params``: trainable parameters.
- ``macs``: multiply-accumulates of the equivalent ANN for one clip frame / time step (a
  conv counts ``C_out H_out W_out C_in k_h k_w``, a dense ``out x in``); the teacher's spatial
  CNN runs once per clip and is reported separately.
- ``synops_max``: synaptic operations per step if every presynaptic neuron spiked: each spike
  costs its fan-out, which for a conv honours stride, padding and borders (a corner pixel
  reaches fewer outputs than a central one). It is below ``macs`` when the conv pads:
  a padded tap is a MAC on zero but no synapse.
- ``synops`` (student, when frames are given): the same weighted by measured spike counts
  (exact integer run), averaged over steps and clips.

>>> from mskd.train.student_lif import Student, StudentConfig
>>> torch.manual_seed(0) and None
>>> s = summarize(Student(StudentConfig(size=8, channels=(2,), hidden=(4,))))
>>> s["params"], s["macs"], s["synops_max"]
(192, 732, 640)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv_fanout(in_hw: tuple[int, int], out_c: int, kernel: int, stride: int,
                padding: int) -> torch.Tensor:
    """Fan-out ``[H, W]`` of one input pixel of one channel: ``out_c`` x outputs it reaches.

    >>> conv_fanout((3, 3), 1, 3, 1, 1).tolist()
    [[4, 6, 4], [6, 9, 6], [4, 6, 4]]
    """
    x = torch.zeros(1, 1, *in_hw, dtype=torch.float64, requires_grad=True)
    y = F.conv2d(x, torch.ones(1, 1, kernel, kernel, dtype=torch.float64), stride=stride,
                 padding=padding)
    (grad,) = torch.autograd.grad(y.sum(), x)  # d(sum of outputs)/d(pixel) = outputs reached
    return (grad[0, 0] * out_c).round().to(torch.int64)


def _student_layers(model) -> list[tuple[str, torch.Tensor, int]]:
    """Per synaptic layer: name, fan-out per presynaptic neuron (flat), MACs."""
    c, shapes = model.config, model.shapes
    rows = []
    for i, w in enumerate(model.weights):
        if i < len(c.channels):
            in_c, h, wd = shapes[i]
            fan = conv_fanout((h, wd), w.shape[0], c.kernel, c.stride, c.padding)
            fan = fan.expand(in_c, h, wd).reshape(-1)
            out = shapes[i + 1]
            macs = out[0] * out[1] * out[2] * in_c * c.kernel**2
            rows.append((f"conv{i}", fan, macs))
        else:
            fan = torch.full((w.shape[1],), w.shape[0], dtype=torch.int64)
            rows.append((f"dense{i - len(c.channels)}", fan, w.numel()))
    return rows


def summarize(model, frames: torch.Tensor | None = None) -> dict:
    """Cost summary of a teacher or student (see the module docstring)."""
    params = sum(p.numel() for p in model.parameters())
    if model.kind == "teacher":
        return {"kind": "teacher", "params": params, **_teacher_costs(model)}
    rows = _student_layers(model)
    out = {"kind": "student", "params": params, "macs": sum(r[2] for r in rows),
           "synops_max": int(sum(int(r[1].sum()) for r in rows)),
           # a sigma-delta student takes one step per frame
           "steps_per_clip": model.config.n_frames * getattr(model.config, "steps_per_frame", 1)
           + model.config.n_synaptic,
           "layers": {name: {"macs": macs, "synops_max": int(fan.sum())}
                      for name, fan, macs in rows}}
    if frames is not None:
        run = model.forward_fixed(frames)
        # presynaptic activity of each synaptic layer: binary spikes (LIF) or the sent
        # graded messages (sigma-delta: a synaptic op per non-zero payload and target)
        pre = run.spikes[:-1] if hasattr(run, "spikes") else [
            (m != 0) for m in run.messages[:len(rows)]]
        steps, batch = pre[0].shape[:2]
        total = 0.0
        for (name, fan, _), spikes in zip(rows, pre, strict=True):
            per = float((spikes.reshape(steps, batch, -1).double() * fan.double()).sum())
            out["layers"][name]["synops"] = per / (steps * batch)
            total += per / (steps * batch)
        out["synops"] = total
    return out


def _teacher_costs(model) -> dict:
    cfg = model.config
    spatial, temporal, h, c_in = 0, 0, cfg.size, 2
    for c in cfg.channels:
        h = (h + 2 - 3) // 2 + 1
        spatial += c * h * h * c_in * 9
        temporal += c * h * h * c_in * 9
        c_in = c
    dense = model.fc.weight.numel() + model.readout.weight.numel()
    return {"macs": temporal + dense, "spatial_macs_per_clip": spatial,
            "synops_max": temporal + dense}

"""Float ONNX exports (opset 17) of the float student and the teacher, checked with onnxruntime.

* Float student: :func:`mskd.convert.float_ref.float_forward` in float32, traced by
  ``torch.onnx.export`` with the time loop unrolled: input frames ``[B, n, 1, H, W]`` with
  ``n`` fixed by the clip (B dynamic), output logits ``[B, classes]``. For a sigma-delta
  student that is its float twin, a ReLU network on every frame.
* Teacher: its ``forward(frames, events)`` traced the same way (one step per event frame,
  unrolled; output per-step logits ``[n, B, classes]``). norse's SuperSpike threshold is an
  autograd Function ONNX cannot hold; its forward is the Heaviside step, so a copy of the
  teacher with ``method="heaviside"`` (identical forward values) is exported.
* The deployed network: :mod:`mskd.convert.onnx_fixed` (integer step graph, exact).

:func:`check_onnx` runs onnxruntime on the same inputs as PyTorch and reports the largest
absolute difference and ``allclose``. Float graphs are compared with tolerance (summation
order differs between the runtimes); the integer graph must match exactly.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import numpy as np
import torch
from mskd.convert.float_ref import float_forward
from mskd.convert.onnx_fixed import IR_VERSION, OPSET, export_step, run_onnx_steps
from torch import nn

from mskd.fsio import atomic_path


class FloatStudent(nn.Module):
    """``frames -> logits`` of the float reference in float32 (the exported graph)."""

    def __init__(self, student) -> None:
        super().__init__()
        self.student = student

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return float_forward(self.student, frames, dtype=torch.float32).logits


def _heaviside_copy(teacher):
    t = copy.deepcopy(teacher).eval()
    for m in t.modules():
        p = getattr(m, "p", None)
        if p is not None and getattr(p, "method", None) is not None:
            m.p = p._replace(method="heaviside")
    return t


def export_onnx(module: nn.Module, example: tuple, names: list[str], out: str | Path) -> Path:
    """``torch.onnx.export`` (opset 17, batch axis dynamic) written atomically."""
    import onnx

    dyn = {n: {0: "B"} for n in names}
    with atomic_path(out) as tmp, torch.no_grad(), warnings.catch_warnings():
        # the time loop is unrolled on purpose: the tracer's "treated as a constant" notes
        # about Python ints (frame index, step count) are expected, not a problem
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(module.eval(), example, str(tmp), opset_version=OPSET,
                          input_names=names, output_names=["logits"], dynamic_axes=dyn)
        model = onnx.load(str(tmp))
        model.ir_version = min(model.ir_version, IR_VERSION)
        onnx.save(model, str(tmp))
    return Path(out)


def check_onnx(path: str | Path, module: nn.Module, example: tuple, names: list[str],
               rtol: float = 1e-4, atol: float = 1e-4) -> dict:
    """onnxruntime vs PyTorch on ``example``: max abs difference and allclose."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(None, {n: x.numpy() for n, x in zip(names, example, strict=True)})[0]
    with torch.no_grad():
        want = module.eval()(*example).numpy()
    diff = float(np.abs(got - want).max())
    return {"max_abs_diff": diff, "allclose": bool(np.allclose(got, want, rtol, atol))}


def export_float_student(student, frames: torch.Tensor, out: str | Path) -> dict:
    """Export and check the float student on ``frames``."""
    m = FloatStudent(student)
    export_onnx(m, (frames,), ["frames"], out)
    return check_onnx(out, m, (frames,), ["frames"])


def export_teacher(teacher, frames: torch.Tensor, events: torch.Tensor, out) -> dict:
    """Export and check the teacher on ``(frames, events)``."""
    t = _heaviside_copy(teacher)
    export_onnx(t, (frames, events), ["frames", "events"], out)
    return check_onnx(out, t, (frames, events), ["frames", "events"])


def check_step(path, net, frames: torch.Tensor) -> dict:
    """Integer step graph over all T steps vs the simulator: exact equality per register."""
    from mskd.net.encoding import encode_frames
    from mskd.sim.simulator import run

    x = encode_frames(frames, net.encoding)
    got = run_onnx_steps(path, net.spec, x)
    _, want = run(net.spec, x, record=("u", "v"))
    same = all(torch.equal(got.spikes[n], want.spikes[n]) and
               torch.equal(got.u[n], want.u[n].long()) and torch.equal(got.v[n], want.v[n].long())
               for n in want.names)
    return {"steps": int(x.shape[1]), "exact": bool(same)}


def export_all(student, net, out_dir: str | Path, batch: int = 2, seed: int = 0) -> list[dict]:
    """Float student + integer step graph into ``out_dir``; rows for the report."""
    d = Path(out_dir)
    g = torch.Generator().manual_seed(seed)
    h, w = net.encoding.size
    frames = torch.rand(batch, net.encoding.n_frames, 1, h, w, generator=g)
    f = export_float_student(student, frames, d / "student_float.onnx")
    rows = [{"check": "onnx float student vs torch", "result":
             f"allclose={f['allclose']} max|diff|={f['max_abs_diff']:.3g}"}]
    if getattr(student, "dense", False):  # the integer step graph is CUBA-LIF only
        return rows + [{"check": "onnx integer step graph", "result":
                        "not written: it models CUBA-LIF layers, not sigma-delta ones"}]
    export_step(net.spec, d / "student_step_int.onnx")
    s = check_step(d / "student_step_int.onnx", net, frames)
    return rows + [{"check": "onnx integer step vs simulator",
                    "result": f"exact={s['exact']} over {s['steps']} steps"}]

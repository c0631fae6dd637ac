"""Quantization report: what the trip float student -> deployed network costs, per layer.

* :func:`weight_report`: per synaptic layer, the exponent ``e``, the float weight range in
  mantissa units (``w * 2**e``), the fraction of weights clipped to -128..127 and the
  signal-to-quantization-noise ratio ``10 log10(sum wf^2 / sum (wf - wq)^2)`` in dB.
* :func:`compare_on_data`: the float student (:mod:`mskd.convert.float_ref`) and the
  deployed network (the batched simulator on the folded NetSpec) on the same clips:
  WAR/UAR of both, per neuron layer the fraction of (step, clip, neuron) where their spikes
  agree and both spike rates, and the first layer whose agreement drops below
  ``1 - divergence_tol`` (where the divergence starts). With ``include_fixed`` the
  student's own PyTorch fixed-point forward is scored as well (it must equal the deployed).

>>> import torch
>>> from mskd.train.student_lif import Student
>>> from mskd.train.lif_config import StudentConfig
>>> torch.manual_seed(0) and None
>>> s = Student(StudentConfig(size=8, channels=(2,), hidden=(4,), n_frames=2))
>>> rows = weight_report(s)
>>> [r["layer"] for r in rows], rows[0]["clipped_fraction"], rows[0]["sqnr_db"] > 20
(['1:conv', '3:dense', '4:dense'], 0.0, True)
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch
from mskd.convert.float_ref import float_forward, float_weights

from mskd.loihi.quantizers import WEIGHT_MANT_MAX, WEIGHT_MANT_MIN
from mskd.net.encoding import InputEncoding, decode_readout, encode_frames, frame_readout
from mskd.net.spec import NetSpec, kind


def neuron_layer_names(spec: NetSpec) -> list[str]:
    """Record names (``"<index>:<type>"``) of the neuron layers, input first."""
    return [f"{i}:{kind(la)}" for i, la in spec.neuron_layers()]


def _sqnr_db(wf: torch.Tensor, wq: torch.Tensor) -> float:
    noise = float(((wf - wq) ** 2).sum())
    signal = float((wf ** 2).sum())
    return math.inf if noise == 0 else 10 * math.log10(signal / noise) if signal else -math.inf


def weight_report(student, spec: NetSpec | None = None) -> list[dict]:
    """Per synaptic layer: exponent, ranges, clipped fraction and SQNR (see module doc)."""
    from mskd.convert.quantize import fold_student

    spec = spec or fold_student(student.quantized())
    names = neuron_layer_names(spec)[1:]
    rows = []
    ints = [w.detach().double() for w in student.int_weights()]
    for name, wf, wq, e in zip(names, float_weights(student), ints, student.config.weight_exps,
                               strict=True):
        rows.append({"layer": name, "exponent": int(e), "shape": list(wf.shape),
                     "float_min": float(wf.min()), "float_max": float(wf.max()),
                     "int_min": int(wq.min()), "int_max": int(wq.max()),
                     "clipped_fraction": float(((wf.round() < WEIGHT_MANT_MIN)
                                                | (wf.round() > WEIGHT_MANT_MAX)).double().mean()),
                     "sqnr_db": _sqnr_db(wf, wq)})
    return rows


class _Tally:
    def __init__(self, names: list[str]) -> None:
        self.names = names
        self.agree = {n: 0.0 for n in names}
        self.rate_f = {n: 0.0 for n in names}
        self.rate_q = {n: 0.0 for n in names}
        self.count = {n: 0 for n in names}

    def add(self, fspikes: list[torch.Tensor], rec) -> None:
        if not fspikes:  # a sigma-delta student's float twin has no spikes to compare
            return
        for n, fs in zip(self.names, fspikes, strict=True):
            qs = rec.spikes[n].double()
            self.agree[n] += float((fs == qs).double().sum())
            self.rate_f[n] += float(fs.sum())
            self.rate_q[n] += float(qs.sum())
            self.count[n] += fs.numel()

    def rows(self, tol: float) -> tuple[list[dict], str | None]:
        if not any(self.count.values()):
            return [], None
        rows = [{"layer": n, "spike_agreement": self.agree[n] / max(self.count[n], 1),
                 "float_rate": self.rate_f[n] / max(self.count[n], 1),
                 "deployed_rate": self.rate_q[n] / max(self.count[n], 1)} for n in self.names]
        first = next((r["layer"] for r in rows if r["spike_agreement"] < 1 - tol), None)
        return rows, first


def compare_on_data(student, spec: NetSpec, enc: InputEncoding,
                    batches: Iterable[tuple[torch.Tensor, torch.Tensor, list[str]]],
                    divergence_tol: float = 0.05, include_fixed: bool = False) -> dict:
    """Float vs deployed on ``batches`` of ``(frames, labels, lightings)`` (module doc); a
    dimensional network's labels are per-frame valence/arousal ``[B, n, 2]`` and it is
    scored by CCC (:func:`mskd.train.evaluate.va_metrics`)."""
    from mskd.metrics import classification_metrics
    from mskd.sim.simulator import Simulator, run

    dimensional = enc.task == "dimensional"
    sim, tally = Simulator(spec), _Tally(neuron_layer_names(spec))
    preds: dict[str, list] = {"float": [], "deployed": [], "fixed": []}
    labels, lights = [], []
    for frames, label, light in batches:
        fr = float_forward(student, frames)
        _, rec = run(sim, encode_frames(frames, enc), record=("v",))
        tally.add(fr.spikes, rec)
        if dimensional:  # per-frame valence/arousal, [B, n, 2]
            preds["float"].append(fr.frames.transpose(0, 1))
            preds["deployed"].append(frame_readout(rec, enc).transpose(0, 1))
            if include_fixed:
                preds["fixed"].append(_fixed_frames(student, frames, enc).transpose(0, 1))
        else:
            preds["float"].append(fr.logits.argmax(-1))
            preds["deployed"].append(decode_readout(rec, enc).argmax(-1))
            if include_fixed:
                preds["fixed"].append(student(frames).mean(0).argmax(-1))
        labels.append(label)
        lights += list(light)
    label = torch.cat(labels)
    layers, first = tally.rows(divergence_tol)
    out = {"clips": int(label.shape[0]), "layers": layers, "first_divergence": first,
           "divergence_tol": divergence_tol}
    if dimensional:
        return {**out, **_va_scores(preds, label, lights)}
    for key, p in preds.items():
        if p:
            m = classification_metrics(torch.cat(p), label, lights, len(enc.classes))
            out[key] = {"war": m["war"], "uar": m["uar"]}
    out["war_drop_points"] = 100 * (out["float"]["war"] - out["deployed"]["war"])
    out["uar_drop_points"] = 100 * (out["float"]["uar"] - out["deployed"]["uar"])
    return out


def _fixed_frames(student, frames: torch.Tensor, enc: InputEncoding) -> torch.Tensor:
    """Per-frame outputs ``[n, B, C]`` (float64) of the student's own exact int64 forward,
    its output layer's whole trace (the Sigma values, or ``v``) read out by
    :func:`mskd.net.encoding.frame_readout`, as the deployed network's is."""
    run = student.forward_fixed(frames)
    return frame_readout(run.messages[-1] if getattr(student, "dense", False) else run.v[-1],
                         enc)


def _va_scores(preds: dict, target: torch.Tensor, lights: list[str]) -> dict:
    """CCC of float, deployed (and fixed) per-frame predictions, and the largest difference
    between the deployed and the fixed-point forward (0 when they are the same network)."""
    from mskd.metrics import va_metrics

    out: dict = {}
    for key, p in preds.items():
        if p:
            m = va_metrics(torch.cat(p), target, lights)
            out[key] = {"ccc": m["ccc"], **{d: m[d] for d in ("valence", "arousal")}}
    out["ccc_drop"] = out["float"]["ccc"] - out["deployed"]["ccc"]
    if preds["fixed"]:
        out["fixed_max_abs_diff"] = float((torch.cat(preds["fixed"])
                                           - torch.cat(preds["deployed"])).abs().max())
    return out


def dataset_batches(root, enc: InputEncoding, split: str = "test", views: int = 1,
                    batch_size: int = 32, seed: int = 0):
    """``(frames, labels, lightings)`` batches of ``views`` seeded clip views of ``split``;
    for a dimensional network the labels are the clips' per-frame valence/arousal
    ``[B, n, 2]`` (from the dataset's annotations)."""
    from mskd.data.see import SEEDataset

    va = enc.task == "dimensional"
    ds = SEEDataset(root, split, clip=enc.clip, size=enc.size, train=False, seed=seed,
                    dense=enc.dense, targets="va" if va else "class")
    for view in range(views):
        ds.set_view(view)
        for start in range(0, len(ds), batch_size):
            items = [ds[i] for i in range(start, min(start + batch_size, len(ds)))]
            yield (torch.stack([it[0] for it in items]),
                   torch.stack([it[3]["va"] for it in items]) if va else
                   torch.tensor([it[2] for it in items]),
                   [it[3]["lighting"] for it in items])

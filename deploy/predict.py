"""Predicted classes of a converted network: run a backend, read out as the network says.

A network written by ``mskd convert`` carries its readout in the ``mskd_encoding``
attribute (:mod:`mskd.net.encoding`): our students are read as the mean voltage of the output
layer over the steps after the pipeline latency (``readout = "mean_v"``,
:func:`mskd.net.encoding.decode_readout`); the prediction is its argmax, named by the stored
class names. :func:`run_and_predict` runs any backend in batches and returns the outputs,
the record (concatenated over batches) and the :class:`Predictions`.

>>> p = Predictions(np.array([[0.1, 0.9], [0.5, 0.2]]), ("a", "b"), np.array([1, 1]))
>>> p.names, p.accuracy()
(['b', 'a'], {'war': 0.5, 'uar': 0.5, 'clips': 2})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mskd.errors import NetError


@dataclass(frozen=True)
class Predictions:
    """Logits ``[B, C]`` (float64), class names and, when known, true labels ``[B]``."""

    logits: np.ndarray
    classes: tuple[str, ...]
    labels: np.ndarray | None = None
    clips: list[dict] = field(default_factory=list)
    # dimensional networks: the per-frame valence/arousal [B, n, 2] (``logits`` holds the
    # clip means) and labels are the per-frame annotations [B, n, 2]
    frames: np.ndarray | None = None
    task: str = "categorical"

    @property
    def predicted(self) -> np.ndarray:
        return self.logits.argmax(-1)

    @property
    def names(self) -> list[str]:
        return [self.classes[i] for i in self.predicted]

    def accuracy(self) -> dict | None:
        """WAR and UAR (mean recall over the classes present) when labels are known; for a
        dimensional network CCC, PCC and RMSE per dimension over all frames."""
        if self.labels is None:
            return None
        if self.task == "dimensional":
            import torch

            from mskd.metrics import va_metrics

            m = va_metrics(torch.from_numpy(self.frames), torch.from_numpy(
                np.asarray(self.labels, dtype=np.float64)), ["all"] * len(self.frames))
            m.pop("per_lighting")
            return {**m, "clips": len(self.frames)}
        right = self.predicted == self.labels
        recalls = [float(right[self.labels == c].mean()) for c in np.unique(self.labels)]
        return {"war": float(right.mean()), "uar": float(np.mean(recalls)),
                "clips": int(right.size)}

    def to_npz_dict(self) -> dict[str, np.ndarray]:
        if self.task == "dimensional":
            out = {"va_frames": self.frames, "va_clip": self.logits,
                   "outputs": np.array(self.classes)}
            if self.labels is not None:
                out["va_annotation"] = np.asarray(self.labels)
            return out
        out = {"logits": self.logits, "predicted": self.predicted,
               "classes": np.array(self.classes)}
        if self.labels is not None:
            out["label"] = self.labels
        return out


def concat_records(records: list):
    """One :class:`mskd.net.record.Record` from records of consecutive batches (batch axis 1)."""
    import torch

    from mskd.net.record import Record

    if len(records) == 1:
        return records[0]
    first = records[0]
    spikes = {k: torch.cat([r.spikes[k] for r in records], 1) for k in first.spikes}
    regs = {reg: {k: torch.cat([r.registers[reg][k] for r in records], 1) for k in table}
            for reg, table in first.registers.items()}
    return Record(first.layers, spikes, regs, first.meta)


def input_steps(spec, x, steps: int | None) -> int | None:
    """Steps an input runs: its time axis, or ``steps`` for a ``[B, *shape]`` input."""
    x = np.asarray(x)
    return int(x.shape[1]) if x.ndim == len(spec.input_shape) + 2 else steps


def readout_record(enc, record: tuple[str, ...]) -> tuple[str, ...]:
    """The registers to record so the readout can be decoded (``v`` for ``mean_v``)."""
    return record if "v" in record else (*record, "v")


def run_and_predict(spec, enc, x, backend: str = "sim", record: tuple[str, ...] = (),
                    steps: int | None = None, device: str = "cpu", batch_size: int = 64,
                    labels=None, clips=None, keep_record: bool = True,
                    run: Callable | None = None):
    """``(outputs, record or None, Predictions)`` of ``x`` ``[B, T, *shape]`` on ``backend``.

    ``run(backend, spec, x_batch, record, steps, device)`` runs one batch (default: the
    CLI's :func:`mskd.deploy.backends.run_backend`, with progress bars); the readout needs the
    encoding's step count.
    """
    import torch

    from mskd.net.encoding import frame_readout

    if run is None:
        from mskd.deploy.backends import run_backend as run
    x = np.asarray(x)
    t = input_steps(spec, x, steps)
    if t != enc.steps:
        raise NetError(f"input runs {t} steps but the network's encoding reads out after "
                       f"{enc.steps} ({enc.clip}, {enc.steps_per_frame} steps per frame + "
                       f"latency {enc.latency}); encode clips with `mskd data encode`")
    want = readout_record(enc, record)
    size = x.shape[0] if backend != "sim" else batch_size
    outs, recs, frames = [], [], []
    for k in range(0, x.shape[0], size):
        out, rec = run(backend, spec, x[k:k + size], want, steps, device)
        frames.append(frame_readout(rec, enc).transpose(0, 1).numpy())  # [b, n, C]
        outs.append(out)
        if keep_record:
            recs.append(rec)
    outputs = torch.cat(outs, 1)
    per_frame = np.concatenate(frames)
    pred = Predictions(per_frame.mean(1), tuple(enc.classes),
                       None if labels is None else np.asarray(labels), list(clips or []),
                       per_frame if enc.task == "dimensional" else None, enc.task)
    return outputs, (concat_records(recs) if keep_record else None), pred

"""Profile a network: simulate, map onto cores, count, and cost energy and latency.

The flow is the deployment chain made visible: NetSpec -> core mapping (design rules) ->
batched bit-exact simulator (u and v recorded) -> counts -> energy and latency on a
hardware profile. Everything the ``mskd profile`` command does is :func:`profile_run`
plus :mod:`mskd.profiling.report`.

Inputs are the simulator's layout (:mod:`mskd.net.inputs`); :func:`dataset_inputs`
turns a dataset's test split into that layout with the encoding the converter stored in
the ``.net`` file (:mod:`mskd.net.encoding`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from mskd.profiling.counts import Counts, count_ops, merge_counts
from mskd.profiling.energy import EnergyBreakdown, energy, sensitivity
from mskd.profiling.latency import Latency, latency
from mskd.profiling.neurobench import neurobench_metrics

from mskd.chip.mapping import CoreMapping, map_network
from mskd.chip.widths import width_report
from mskd.errors import NetError
from mskd.net.inputs import prepare_inputs
from mskd.net.record import REGISTERS
from mskd.sim.simulator import Simulator


@dataclass(frozen=True)
class ProfileResult:
    """Everything a report needs. ``raster[layer]`` is sample 0's messages ``[T, neurons]``
    (1 where a spike or a non-zero payload was sent); ``output_v`` is sample 0's voltage
    ``[T, neurons]`` of the last layer (None when it has no ``v``): the readout of a
    network whose output layer never spikes."""

    hw: object
    mapping: CoreMapping
    counts: Counts
    energy: EnergyBreakdown
    latency: Latency
    raster: dict[str, np.ndarray]
    input_step_s: float | None
    neurobench: dict | None = None
    sensitivity: list | None = None
    widths: list | None = None  # mskd.chip.widths.width_report over every batch
    output_v: np.ndarray | None = None


def _batches(spec, inputs, batch_size: int, steps: int | None) -> Iterator[torch.Tensor]:
    """``[T, b, *shape]`` int64 batches from one array or from an iterable of arrays."""
    if isinstance(inputs, (np.ndarray, torch.Tensor)):
        array = inputs
        inputs = (array[i:i + batch_size] for i in range(0, len(array), batch_size))
    for batch in inputs:
        yield prepare_inputs(spec, batch, steps)


def profile_run(spec, inputs, hw, *, steps: int | None = None, input_step_s: float | None = None,
                batch_size: int = 16, max_chips: int | None = None, skip_zero: bool = False,
                progress: Callable[[int], None] | None = None) -> ProfileResult:
    """Simulate ``inputs`` on ``spec`` and cost the run on ``hw``.

    ``inputs``: ``[B, T, *shape]`` (or ``[B, *shape]`` with ``steps``), split into batches
    of ``batch_size``; or an iterable of such batches (streamed, e.g. a dataset).
    ``progress(n)`` is told how many samples are done.
    """
    mapping = map_network(spec, hw, max_chips=max_chips, skip_zero=skip_zero)
    sim = Simulator(spec)
    parts, raster, done, widths, output_v = [], {}, 0, {}, None
    for chunk in _batches(spec, inputs, batch_size, steps):
        _, rec = sim.run(chunk.transpose(0, 1), record=REGISTERS)
        for row in width_report(rec):  # the widest value of every batch
            key = (row["layer"], row["what"])
            if key not in widths or row["max_abs"] > widths[key]["max_abs"]:
                widths[key] = row
        ext = chunk if spec.input_kind in ("spikes", "graded") else None
        parts.append(count_ops(spec, rec, mapping, input_spikes=ext, skip_zero=skip_zero))
        if not raster:
            raster = {k: (s[:, 0] != 0).reshape(s.shape[0], -1).to(torch.uint8).numpy()
                      for k, s in rec.spikes.items()}
            last = rec.layers[-1].name
            if rec.v is not None and last in rec.v:
                output_v = rec.v[last][:, 0].reshape(rec.steps, -1).numpy()
        done += chunk.shape[1]
        if progress:
            progress(done)
    if not parts:
        raise NetError("no input samples to profile")
    counts = merge_counts(parts)
    return ProfileResult(hw, mapping, counts, energy(counts, hw),
                         latency(counts, hw, input_step_s), raster, input_step_s,
                         neurobench_metrics(spec, counts, input_step_s), sensitivity(counts, hw),
                         list(widths.values()), output_v)


def dataset_inputs(net_path, data_dir, batch_size: int = 16, limit: int | None = None,
                   labels: list | None = None):
    """``(batches, n, encoding)``: an iterator of bias-mantissa batches ``[b, T, 1, H, W]``
    over the first ``n`` clips of a dataset's test split (view 0), encoded as the ``.net``
    file's ``mskd_encoding`` attribute (written by the converter) says
    (:func:`mskd.data.encode.iter_encoded`). The clips' labels are appended to ``labels``
    as the batches are drawn (the emotion class of each clip, whatever the network's task).
    """
    from mskd.data.encode import iter_encoded

    batches, n, enc = iter_encoded(net_path, data_dir, "test", 1, limit, 0, batch_size)

    def xs() -> Iterator[torch.Tensor]:
        for x, _, clips in batches:
            if labels is not None:
                labels.extend(int(c["label"]) for c in clips)
            yield x

    return xs(), n, enc

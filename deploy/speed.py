"""Throughput of the bit-exact simulator vs Lava vs lava-dl slayer's float forward.

All three run the same netx network on the same inputs: the simulator at batch B, slayer
blocks with the same shapes at batch B (float, not bit-exact: the reference for "how fast
could a float forward be"), Lava one sample after another (it has no batch axis), its rate
taken from a few samples including its start-up. Used by ``mskd bench`` and
``scripts/bench_sim.py``; not a timed test.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from mskd.netspec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec, read_netx


@dataclass(frozen=True)
class SpeedResult:
    """Samples per second of each backend, and whether sim == Lava on the Lava samples."""

    batch: int
    steps: int
    sim: float
    slayer: float | None
    lava: float | None
    lava_samples: int
    bit_exact: bool | None

    def to_json(self) -> dict:
        return asdict(self)


def best_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """Shortest wall time of ``repeats`` calls (seconds)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def sim_rate(spec: NetSpec, x: np.ndarray) -> float:
    from mskd.deploy.sim import Simulator

    net = Simulator(spec)
    net.run(x)  # warm-up: kernels, allocator
    return x.shape[0] / best_time(lambda: net.run(x))


def slayer_blocks(spec: NetSpec) -> torch.nn.Sequential:
    """lava-dl slayer CUBA blocks with the shapes of ``spec`` (random float weights)."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import lava.lib.dl.slayer as slayer
    p = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03,
         "requires_grad": False}
    blocks = []
    for layer in spec.layers:
        if isinstance(layer, InputLayer):
            blocks.append(slayer.block.cuba.Input(p))
        elif isinstance(layer, ConvLayer):
            blocks.append(slayer.block.cuba.Conv(
                p, layer.in_shape[0], layer.out_shape[0], tuple(layer.weight.shape[2:]),
                stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                groups=layer.groups, weight_scale=2))
        elif isinstance(layer, FlattenLayer):
            blocks.append(slayer.block.cuba.Flatten())
        elif isinstance(layer, DenseLayer):
            blocks.append(slayer.block.cuba.Dense(p, layer.in_features, layer.out_features,
                                                  weight_scale=2))
    return torch.nn.Sequential(*blocks).eval()


def slayer_rate(spec: NetSpec, x: np.ndarray) -> float:
    """slayer's float forward; input as slayer wants it: ``[B, C, H, W, T]`` floats."""
    blocks = slayer_blocks(spec)
    inp = torch.as_tensor(x, dtype=torch.float32) / 4096
    inp = inp.permute(0, *range(2, inp.dim()), 1).contiguous()
    with torch.no_grad():
        blocks(inp)  # warm-up (lazy shapes)
        return x.shape[0] / best_time(lambda: blocks(inp))


def lava_rate(net_path: Path, spec: NetSpec, x: np.ndarray) -> tuple[float, bool]:
    """Lava's samples/s over ``x`` (start-up included) and sim == Lava on them."""
    from mskd.deploy import lava_backend, sim
    from mskd.deploy.diff import first_divergence

    t0 = time.perf_counter()
    _, rec_lava = lava_backend.run(net_path, x, ("u", "v"))
    rate = x.shape[0] / (time.perf_counter() - t0)
    _, rec_sim = sim.run(spec, x, ("u", "v"))
    return rate, first_divergence(rec_sim, rec_lava) is None


def measure(net_path: Path, x: np.ndarray, lava_samples: int = 2,
            with_slayer: bool = True) -> SpeedResult:
    """Throughput of each backend on ``x`` ``[B, T, *input_shape]`` for the file ``net_path``."""
    spec = read_netx(net_path)
    r_sim = sim_rate(spec, x)
    r_slayer = slayer_rate(spec, x) if with_slayer else None
    r_lava, exact = (lava_rate(net_path, spec, x[:lava_samples]) if lava_samples > 0
                     else (None, None))
    return SpeedResult(int(x.shape[0]), int(x.shape[1]), r_sim, r_slayer, r_lava,
                       lava_samples, exact)


def markdown(r: SpeedResult) -> list[str]:
    """Table rows: samples/s and ratios to Lava and to slayer."""
    rows = ["| backend | batch | samples/s | vs Lava | vs slayer float |", "|---|---|---|---|---|"]
    entries = [("mskd simulator (bit-exact)", r.batch, r.sim),
               ("lava-dl slayer float forward", r.batch, r.slayer),
               (f"Lava fixed_pt CPU ({r.lava_samples} samples, start-up included)", 1, r.lava)]
    for name, batch, rate in entries:
        if rate is None:
            continue
        vs_lava = f"{rate / r.lava:,.0f}x" if r.lava else "n/a"
        vs_slayer = f"{rate / r.slayer:.2f}x" if r.slayer else "n/a"
        rows.append(f"| {name} | {batch} | {rate:,.1f} | {vs_lava} | {vs_slayer} |")
    return rows

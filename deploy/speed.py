"""Throughput of the bit-exact simulator vs Lava vs lava-dl slayer's float forward.

All three run the same netx network on the same inputs: the simulator at batch B, slayer
blocks with the same shapes at batch B (float and not bit-exact: the reference for how fast
a float forward of the same network is), Lava one sample after another (it has no batch
axis). The simulator and slayer are timed in alternating rounds, best of each, so a shared
machine's load swings hit both alike. Lava is timed on 1 and on ``1 + n`` samples: the
difference gives its marginal rate per sample (graph build and runtime start excluded),
the longer run its rate with start-up. Used by ``mskd bench`` and ``scripts/bench_sim.py``;
not a timed test.
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

from mskd.loihi.neurons import SdnNeuron
from mskd.net.netx_io import read_netx
from mskd.net.spec import ConvLayer, FlattenLayer, InputLayer, NetSpec


@dataclass(frozen=True)
class SpeedResult:
    """Samples per second of each backend, and whether sim == Lava on the Lava samples."""

    batch: int
    steps: int
    sim: float
    slayer: float | None
    lava_with_startup: float | None
    lava: float | None  # marginal rate per sample
    lava_samples: int
    bit_exact: bool | None

    def to_json(self) -> dict:
        return asdict(self)


def sim_runner(spec: NetSpec, x: np.ndarray) -> Callable[[], object]:
    from mskd.sim.simulator import Simulator

    net = Simulator(spec)
    net.run(x)  # warm-up: kernels, allocator
    return lambda: net.run(x)


def slayer_blocks(spec: NetSpec) -> torch.nn.Sequential:
    """lava-dl slayer blocks with the shapes of ``spec`` (random float weights): CUBA blocks
    for CUBA layers, sigma-delta blocks (ReLU; ``Output`` for a Sigma layer) for SDNN."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import lava.lib.dl.slayer as slayer
    cuba = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03,
            "requires_grad": False}
    sdnn = {"threshold": 0.1, "tau_grad": 0.5, "scale_grad": 1, "requires_grad": False,
            "shared_param": True, "activation": torch.nn.functional.relu}
    blocks = []
    for i, layer in enumerate(spec.layers):
        if isinstance(layer, FlattenLayer):
            blocks.append(slayer.block.cuba.Flatten())
            continue
        if isinstance(layer, InputLayer) and layer.neuron is None:
            continue
        sd = isinstance(layer.neuron, SdnNeuron)
        kind, p = (slayer.block.sigma_delta, sdnn) if sd else (slayer.block.cuba, cuba)
        if isinstance(layer, InputLayer):
            blocks.append(kind.Input(p))
        elif isinstance(layer, ConvLayer):
            blocks.append(kind.Conv(
                p, layer.in_shape[0], layer.out_shape[0], tuple(layer.weight.shape[2:]),
                stride=layer.stride, padding=layer.padding, dilation=layer.dilation,
                groups=layer.groups, weight_scale=2))
        elif sd and spec.model(i) == "sigma":
            blocks.append(kind.Output(p, layer.in_features, layer.out_features))
        else:
            blocks.append(kind.Dense(p, layer.in_features, layer.out_features,
                                     weight_scale=2))
    return torch.nn.Sequential(*blocks).eval()


def slayer_runner(spec: NetSpec, x: np.ndarray) -> Callable[[], object]:
    """slayer's float forward; its input layout is ``[B, C, H, W, T]`` floats."""
    blocks = slayer_blocks(spec)
    inp = torch.as_tensor(x, dtype=torch.float32) / (255 if spec.input_kind == "delta" else 4096)
    inp = inp.permute(0, *range(2, inp.dim()), 1).contiguous()

    def forward():
        with torch.no_grad():
            return blocks(inp)

    forward()  # warm-up (lazy shapes)
    return forward


def interleaved_rates(runners: dict[str, Callable[[], object]], batch: int,
                      rounds: int = 5) -> dict[str, float]:
    """Best samples/s of each runner over ``rounds`` alternating rounds."""
    best = {k: float("inf") for k in runners}
    for _ in range(rounds):
        for k, fn in runners.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return {k: batch / t for k, t in best.items()}


def lava_rates(net_path: Path, x: np.ndarray, samples: int) -> tuple[float, float]:
    """Lava's samples/s with start-up (``1 + samples`` samples) and marginal per sample."""
    from mskd.deploy import lava_backend

    t0 = time.perf_counter()
    lava_backend.run(net_path, x[:1])
    t1 = time.perf_counter()
    lava_backend.run(net_path, x[: 1 + samples])
    t2 = time.perf_counter()
    return (1 + samples) / (t2 - t1), samples / max((t2 - t1) - (t1 - t0), 1e-9)


def lava_matches_sim(net_path: Path, spec: NetSpec, x: np.ndarray) -> bool:
    """Simulator == Lava in messages and every register on ``x``."""
    from mskd.deploy import lava_backend
    from mskd.deploy.diff import first_divergence

    from mskd.net.record import REGISTERS
    from mskd.sim import simulator as sim

    _, rec_lava = lava_backend.run(net_path, x, REGISTERS)
    _, rec_sim = sim.run(spec, x, REGISTERS)
    return first_divergence(rec_sim, rec_lava) is None


def measure(net_path: Path, x: np.ndarray, lava_samples: int = 2,
            with_slayer: bool = True) -> SpeedResult:
    """Throughput of each backend on ``x`` ``[B, T, *input_shape]`` for the file ``net_path``."""
    spec = read_netx(net_path)
    runners = {"sim": sim_runner(spec, x)}
    if with_slayer:
        runners["slayer"] = slayer_runner(spec, x)
    rates = interleaved_rates(runners, x.shape[0])
    lava, exact = (None, None), None
    if lava_samples > 0:
        lava = lava_rates(net_path, x, lava_samples)
        exact = lava_matches_sim(net_path, spec, x[: 1 + lava_samples])
    return SpeedResult(int(x.shape[0]), int(x.shape[1]), rates["sim"], rates.get("slayer"),
                       lava[0], lava[1], lava_samples, exact)


def markdown(r: SpeedResult) -> list[str]:
    """Table rows: samples/s and ratios to Lava's marginal rate and to slayer."""
    rows = ["| backend | batch | samples/s | vs Lava (marginal) | vs slayer float |",
            "|---|---|---|---|---|"]
    entries = [("mskd simulator (bit-exact)", r.batch, r.sim),
               ("lava-dl slayer float forward", r.batch, r.slayer),
               (f"Lava fixed_pt CPU, {1 + r.lava_samples} samples incl. start-up", 1,
                r.lava_with_startup),
               (f"Lava fixed_pt CPU, marginal per sample ({r.lava_samples} extra)", 1, r.lava)]
    for name, batch, rate in entries:
        if rate is None:
            continue
        vs_lava = f"{rate / r.lava:,.0f}x" if r.lava else "n/a"
        vs_slayer = f"{rate / r.slayer:.2f}x" if r.slayer else "n/a"
        rows.append(f"| {name} | {batch} | {rate:,.2f} | {vs_lava} | {vs_slayer} |")
    return rows

"""Throughput of the bit-exact simulator vs Lava vs lava-dl slayer's float forward.

Student-sized net: bias-driven input 1x32x32, conv 8@3x3 s2, conv 16@3x3 s2, flatten,
dense 64, dense 7; T=16. The simulator and slayer run batch 64; Lava runs a few samples
one after another (it has no batch axis) and its rate is extrapolated from those.

    .venv/bin/python scripts/bench_sim.py [--batch 64] [--steps 16] [--lava-samples 2]

Prints a Markdown table with the machine and the date. Not a timed test.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
from pathlib import Path

import numpy as np
import torch
from mskd.deploy import sim
from mskd.deploy.speed import interleaved_rates, lava_rates, sim_runner, slayer_runner
from mskd.deploy.synapses import DenseKernel

from mskd.netspec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, LifNeuron, NetSpec
from mskd.netx_io import write_netx


def student_spec(seed: int = 0) -> NetSpec:
    rng = np.random.default_rng(seed)
    n = LifNeuron(1024, 128, 80)
    w = lambda *s: rng.integers(-64, 128, size=s)  # noqa: E731 - mostly excitatory 8-bit
    return NetSpec((
        InputLayer((1, 32, 32), LifNeuron(4096, 0, 64)),
        ConvLayer((1, 32, 32), (8, 16, 16), w(8, 1, 3, 3), (2, 2), (1, 1), (1, 1), 1, n),
        ConvLayer((8, 16, 16), (16, 8, 8), w(16, 8, 3, 3), (2, 2), (1, 1), (1, 1), 1, n),
        FlattenLayer((16, 8, 8), (1024,)),
        DenseLayer(1024, 64, w(64, 1024), n),
        DenseLayer(64, 7, w(7, 64), n),
    ))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--lava-samples", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    spec = student_spec()
    rng = np.random.default_rng(1)
    x = rng.integers(0, 4096, size=(args.batch, args.steps, 1, 32, 32))
    dtypes = [k.dtype for k in (sim.Simulator(spec).layers[i].kernel for i in (3, 4))
              if isinstance(k, DenseKernel)]
    rates = interleaved_rates({"sim": sim_runner(spec, x), "slayer": slayer_runner(spec, x)},
                              args.batch)
    r_sim, r_slayer = rates["sim"], rates["slayer"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "net.h5"
        write_netx(spec, path)
        r_lava, r_lava_marginal = lava_rates(path, x, args.lava_samples)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__} ({platform.platform()}); load average "
          f"{os.getloadavg()[0]:.1f}; "
          f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"Net 1x32x32 -> conv8 s2 -> conv16 s2 -> 64 -> 7, T={args.steps}; dense kernels "
          f"{dtypes}\n")
    print("| backend | batch | samples/s | vs Lava (marginal) | vs slayer float |")
    print("|---|---|---|---|---|")
    n = 1 + args.lava_samples
    rows = [("mskd sim (bit-exact)", args.batch, r_sim),
            ("lava-dl slayer float forward", args.batch, r_slayer),
            (f"Lava fixed_pt, {n} samples incl. build (extrapolated)", 1, r_lava),
            (f"Lava fixed_pt, marginal per sample ({args.lava_samples} extra)", 1,
             r_lava_marginal)]
    for name, batch, rate in rows:
        print(f"| {name} | {batch} | {rate:.2f} | {rate / r_lava_marginal:.0f}x | "
              f"{rate / r_slayer:.2f}x |")


if __name__ == "__main__":
    main()

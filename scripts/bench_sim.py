"""Throughput of the bit-exact simulator vs Lava vs lava-dl slayer's float forward.

Two student-sized nets, each measured side by side in one run (simulator and slayer in
alternating rounds at the same batch, Lava one sample after another; its marginal rate per
sample from 1 and 1 + n samples), and the simulator checked bit-exact against Lava:

* ``lif``: bias-driven CUBA input 1x32x32, conv 8@3x3 s2, conv 16@3x3 s2, dense 64, dense 7;
  T = 16;
* ``sdnn``: the size of the student, as a Loihi 2 sigma-delta network built by lava-dl
  slayer's own ``sigma_delta`` blocks (their initialisation, threshold 0.1) and exported:
  Delta input 1x32x32 (pixels 0..255), ReLU SigmaDelta conv 16/32/32 @3x3 s2, dense 64,
  Sigma output 7; T = 21, inputs a slowly changing frame sequence (as 30 FPS video is).
  slayer's float forward runs the same block types and shapes.

    .venv/bin/python scripts/bench_sim.py [--nets lif,sdnn] [--batch 64] [--lava-samples 2]

Prints Markdown tables with the machine, the load and the date. Not a timed test.
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
from mskd.deploy.speed import markdown, measure

from mskd.loihi.neurons import LifNeuron
from mskd.net.netx_io import write_netx
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec


def lif_spec(seed: int = 0) -> NetSpec:
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


def sdnn_spec(seed: int = 0) -> NetSpec:
    """Student-sized sigma-delta net as lava-dl slayer builds and exports it (its own weight
    initialisation and 8-bit quantisation, threshold 0.1 = vThMant 6), read back."""
    import contextlib
    import io

    import h5py

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        import lava.lib.dl.slayer as slayer
    from mskd.net.netx_io import read_netx

    torch.manual_seed(seed)
    sd = slayer.block.sigma_delta
    p = {"threshold": 0.1, "tau_grad": 0.5, "scale_grad": 1, "requires_grad": False,
         "shared_param": True, "activation": torch.nn.functional.relu}
    blocks = [sd.Input(p), sd.Conv(p, 1, 16, 3, stride=2, padding=1, weight_scale=2),
              sd.Conv(p, 16, 32, 3, stride=2, padding=1, weight_scale=2),
              sd.Conv(p, 32, 32, 3, stride=2, padding=1, weight_scale=2), sd.Flatten(),
              sd.Dense(p, 512, 64, weight_scale=2), sd.Output(p, 64, 7)]
    with torch.no_grad():  # one forward sets slayer's lazy shapes
        x = torch.rand(1, 1, 32, 32, 2)
        for b in blocks:
            x = b(x)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sdnn.net"
        with h5py.File(path, "w") as f:
            group = f.create_group("layer")
            for i, b in enumerate(blocks):
                b.export_hdf5(group.create_group(str(i)))
        return read_netx(path)


def video(batch: int, steps: int, seed: int = 1) -> np.ndarray:
    """Pixel frames 0..255 drifting a few levels per step (a moving scene at 30 FPS)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 216, size=(batch, 1, 1, 32, 32))
    drift = rng.integers(-3, 4, size=(batch, steps, 1, 32, 32)).cumsum(axis=1)
    return np.clip(base + drift, 0, 255)


NETS = {"lif": (lif_spec, 16, lambda b, t: np.random.default_rng(1).integers(
    0, 4096, size=(b, t, 1, 32, 32))),
        "sdnn": (sdnn_spec, 21, video)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nets", default="lif,sdnn")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lava-samples", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__} ({platform.platform()}); load average "
          f"{os.getloadavg()[0]:.1f}; "
          f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n")
    for name in args.nets.split(","):
        make, steps, inputs = NETS[name]
        spec, x = make(), inputs(args.batch, steps)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "net.h5"
            write_netx(spec, path)
            r = measure(path, x, lava_samples=args.lava_samples)
        print(f"### {name}: T={steps}, batch {args.batch}; simulator == Lava on "
              f"{1 + args.lava_samples} samples: {'bit-exact' if r.bit_exact else 'DIVERGED'}"
              f"\n")
        print("\n".join(markdown(r)) + "\n")


if __name__ == "__main__":
    main()

"""Simulator vs Lava on the same inputs: ``bit-exact`` or the first divergence.

>>> from mskd.netspec import InputLayer, LifNeuron, NetSpec
>>> spec = NetSpec((InputLayer((3,), LifNeuron(4096, 0, 10)),))
>>> random_inputs(spec, samples=2, steps=4, seed=0).shape
(2, 4, 3)
"""

from __future__ import annotations

import numpy as np
from mskd.deploy.diff import first_divergence

from mskd.loihi import BIAS_MANT_MAX
from mskd.netspec import NetSpec, read_netx


def random_inputs(spec: NetSpec, samples: int, steps: int, seed: int) -> np.ndarray:
    """Seeded inputs in the network's layout: bias mantissas (mostly positive, so the
    input layer spikes) or Bernoulli(0.3) spikes, ``[B, T, *input_shape]``."""
    rng = np.random.default_rng(seed)
    shape = (samples, steps, *spec.input_shape)
    if spec.bias_driven:
        return rng.integers(-BIAS_MANT_MAX // 4, BIAS_MANT_MAX + 1, size=shape)
    return (rng.random(shape) < 0.3).astype(np.int64)


def verify_net(net, samples: int = 2, input=None, steps: int | None = 8,
               seed: int = 0, reset_interval: int | None = None) -> tuple[str, bool]:
    """Run both backends with u and v recorded; return (one-line verdict, bit-exact?)."""
    from mskd.deploy import lava_backend, sim

    spec = net if isinstance(net, NetSpec) else read_netx(net)
    if input is None:
        x, steps = random_inputs(spec, samples, steps or 8, seed), None
    else:
        x = np.asarray(input)
        steps = steps if x.ndim == len(spec.input_shape) + 1 else None
    record = ("u", "v")
    _, rec_sim = sim.run(spec, x, record, steps=steps, reset_interval=reset_interval)
    _, rec_lava = lava_backend.run(spec, x, record, steps=steps,
                                   reset_interval=reset_interval)
    div = first_divergence(rec_sim, rec_lava)
    if div is None:
        return (f"bit-exact: {rec_sim.batch} samples x {rec_sim.steps} steps x "
                f"{len(rec_sim.layers)} layers (spikes, u, v)"), True
    return f"DIVERGED at {div.describe('sim', 'lava')}", False

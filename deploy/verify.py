"""Simulator vs Lava on the same inputs: ``bit-exact`` or the first divergence.

>>> from mskd.net.spec import InputLayer, LifNeuron, NetSpec
>>> spec = NetSpec((InputLayer((3,), LifNeuron(4096, 0, 10)),))
>>> random_inputs(spec, samples=2, steps=4, seed=0).shape
(2, 4, 3)
"""

from __future__ import annotations

import numpy as np
from mskd.deploy.diff import first_divergence

from mskd.chip.widths import width_note
from mskd.errors import InputError
from mskd.limits import MAX_INPUT_ENTRIES, check_entries
from mskd.loihi.lif import BIAS_MANT_MAX
from mskd.net.inputs import INPUT_WHAT, input_range
from mskd.net.netx_io import read_netx
from mskd.net.record import REGISTERS
from mskd.net.spec import NetSpec


def random_inputs(spec: NetSpec, samples: int, steps: int, seed: int) -> np.ndarray:
    """Seeded inputs in the network's layout, ``[B, T, *input_shape]``: bias mantissas
    (mostly positive, so the input layer spikes), 8-bit pixel-like values for a Delta input
    (a random walk, so consecutive steps differ a little), Bernoulli(0.3) spikes, or
    graded payloads across the whole input width (``input_message_bits``)."""
    rng = np.random.default_rng(seed)
    shape = (samples, steps, *spec.input_shape)
    check_entries(shape, MAX_INPUT_ENTRIES, f"{samples} random samples x {steps} steps",
                  InputError)
    kind = spec.input_kind
    if kind == "bias":
        return rng.integers(-BIAS_MANT_MAX // 4, BIAS_MANT_MAX + 1, size=shape)
    if kind == "delta":
        walk = rng.integers(-24, 25, size=shape).cumsum(axis=1) + rng.integers(0, 256, size=(
            samples, 1, *spec.input_shape))
        return np.clip(walk, 0, 255)
    if kind == "graded":
        lo, hi = input_range(spec)
        return rng.integers(lo, hi + 1, size=shape) * (rng.random(shape) < 0.5)
    return (rng.random(shape) < 0.3).astype(np.int64)


def describe_inputs(spec: NetSpec, x, random: bool) -> str:
    """What ``verify`` ran: '2 random samples x 8 steps of Delta input values (seed 0)'."""
    x = np.asarray(x)
    what = INPUT_WHAT[spec.input_kind]
    return f"{x.shape[0]} {'random ' if random else ''}samples of {what}"


DELTA_NOTE = ("note: netx's Network.inp does not compile for an SDNN (Delta) input layer "
              "in Lava 0.10; as lava-dl's own tests do, inputs were fed to the layer's "
              "neuron.a_in")


def verify_net(net, samples: int = 2, input=None, steps: int | None = 8,
               seed: int = 0, reset_interval: int | None = None,
               path=None, described: str | None = None,
               timeout: float | None = None) -> tuple[str, bool]:
    """Run both backends with every register recorded; return (verdict, bit-exact?).

    ``net`` is a path or a :class:`NetSpec`; with ``path`` (the file ``net`` was read
    from), Lava reads that file itself. The verdict says what inputs were used
    (``described``, when the caller knows better than 'the given input', e.g. '2 test
    clips of data/see ...') and, for a Delta input layer, how Lava was fed.
    """
    from mskd.deploy import lava_backend

    from mskd.sim import simulator as sim

    spec = net if isinstance(net, NetSpec) else read_netx(net)
    path = path if path is not None else (None if isinstance(net, NetSpec) else net)
    if input is None:
        x, steps = random_inputs(spec, samples, steps or 8, seed), None
        used = f"{describe_inputs(spec, x, True)}, {x.shape[1]} steps (seed {seed})"
    else:
        x = np.asarray(input)
        steps = steps if x.ndim == len(spec.input_shape) + 1 else None
        used = described or f"{describe_inputs(spec, x, False)} from the given input"
    record = REGISTERS
    _, rec_sim = sim.run(spec, x, record, steps=steps, reset_interval=reset_interval)
    limit = {} if timeout is None else {"timeout": timeout}
    _, rec_lava = lava_backend.run(spec, x, record, steps=steps,
                                   reset_interval=reset_interval, path=path, **limit)
    div = first_divergence(rec_sim, rec_lava)
    regs = sorted({r for i in rec_sim.layers for r in i.registers}, key=REGISTERS.index)
    note = f"\n{DELTA_NOTE}" if spec.input_kind == "delta" else ""
    widths = width_note(rec_sim)
    note += f"\n{widths}" if widths else ""
    if div is None:
        return (f"bit-exact: {rec_sim.batch} samples x {rec_sim.steps} steps x "
                f"{len(rec_sim.layers)} layers (messages, {', '.join(regs)}); inputs: "
                f"{used}{note}"), True
    return f"DIVERGED at {div.describe('sim', 'lava')}; inputs: {used}{note}", False

"""``mskd deploy script``: a runnable Lava script that measures a deployed network.

The script is standalone (Lava, lava-dl and numpy; no mskd), so it runs where Intel's
``lava-loihi`` extension is installed. There it runs the network on Loihi 2
(``Loihi2HwCfg``) with Intel's power and execution-time profilers, as lava-dl's PilotNet
benchmark notebook does: one input held for many steps, reset every inference, static
power compensated for the board's idle chips. Elsewhere it runs Lava's bit-accurate CPU
models (``Loihi2SimCfg``) and records only wall time and the output spikes. Either way it
saves what it measured as JSON (``schema: mskd-lava-run/1``), which ``mskd profile
--measured run.json`` sets beside the estimate, and ``--refit`` turns into a profile.

Inputs: ``--input X.npy`` as ``mskd deploy run`` takes it (sample 0 is used): a bias frame
``[*shape]`` held for every step (bias-driven input layer), or ``[T, *shape]`` payloads or
spikes replayed cyclically (Delta input layer, or a first synapse fed spikes).
"""

from __future__ import annotations

from pathlib import Path

SCHEMA = "mskd-lava-run/1"

TEMPLATE = '''"""Measure {net_name} in Lava: Loihi 2 (Loihi2HwCfg with Intel's profilers) where
lava-loihi is installed, Lava's bit-accurate CPU models (Loihi2SimCfg) elsewhere.

Written by mskd {version} (`mskd deploy script`). Run it with the Python that has Lava:

    python {script_name}

It writes {json_name}: give it to `mskd profile NET --measured {json_name}`.
Edit BOARD_CHIPS to the number of chips on your board (static power of the idle ones is
subtracted, as lava-dl's PilotNet benchmark does).
"""

import json
import os
import sys
import time

import numpy as np
from lava.lib.dl import netx
from lava.magma.core.run_conditions import RunSteps

HERE = os.path.dirname(os.path.abspath(__file__))
NET = os.path.join(HERE, {net_file!r})
INPUT = os.path.join(HERE, {input_file!r})
OUT = os.path.join(HERE, {json_name!r})
INPUT_KIND = {input_kind!r}  # "bias": held frame; "delta" / "spikes": replayed sequence
STEPS_PER_INFERENCE = {steps_per_inference}
NUM_STEPS = {num_steps}  # many inferences: power is averaged over the run
NETWORK_ARGS = {network_args!r}
BOARD_CHIPS = 1


def lava_order(a):
    """(C, H, W) -> Lava's (W, H, C); vectors unchanged."""
    return a.transpose(2, 1, 0) if a.ndim == 3 else a


def main():
    try:
        from lava.utils import loihi2_profiler
        from lava.utils.system import Loihi2
        hardware = bool(Loihi2.is_loihi2_available)
    except ImportError:
        hardware = False
    net = netx.hdf5.Network(net_config=NET, reset_interval=STEPS_PER_INFERENCE,
                            **NETWORK_ARGS)
    x = np.load(INPUT)[0]
    if INPUT_KIND == "bias":
        net.layers[0].neuron.bias_mant.init = lava_order(x.reshape(x.shape[-{ndim}:]))
    else:
        from lava.proc.io.source import RingBuffer
        frames = x if x.ndim > {ndim} else x[None]
        src = RingBuffer(data=np.stack([lava_order(f) for f in frames], -1).astype(float))
        port = net.layers[0].neuron.a_in if INPUT_KIND == "delta" else net.inp
        src.s_out.connect(port)
    sink = None
    if not hardware:  # the output spikes, so a run can be checked against the simulator
        from lava.proc.io.sink import RingBuffer as Sink
        sink = Sink(shape=net.layers[-1].out.shape, buffer=NUM_STEPS)
        net.layers[-1].out.connect(sink.a_in)
    if hardware:
        from lava.magma.core.run_configs import Loihi2HwCfg
        power = loihi2_profiler.Loihi2Power(num_steps=NUM_STEPS)
        runtime = loihi2_profiler.Loihi2ExecutionTime()
        cfg = Loihi2HwCfg(callback_fxs=[power, runtime])
    else:
        from lava.magma.core.run_configs import Loihi2SimCfg
        cfg = Loihi2SimCfg(select_tag="fixed_pt")
    start = time.perf_counter()
    net.run(condition=RunSteps(num_steps=NUM_STEPS), run_cfg=cfg)
    wall = time.perf_counter() - start
    out = {{"schema": {schema!r}, "network": {net_name!r}, "steps_per_inference":
           STEPS_PER_INFERENCE, "num_steps": NUM_STEPS, "wall_s": wall,
           "backend": "Loihi2HwCfg" if hardware else "Loihi2SimCfg"}}
    if sink is not None:
        spikes = sink.data.get()
        out["output_spikes_per_step"] = (spikes != 0).sum(axis=tuple(range(spikes.ndim - 1)))\\
            .astype(int).tolist()
    net.stop()
    if hardware:
        step_us = float(runtime.avg_time_per_step)
        static_chip = float(power.static_total_power) / BOARD_CHIPS
        total = float(np.mean(power.total_power)) - (BOARD_CHIPS - 1) * static_chip
        rate = 1e6 / step_us / STEPS_PER_INFERENCE
        out.update(time_per_step_us=step_us, throughput_per_s=rate, total_power_w=total,
                   static_power_w=static_chip, dynamic_power_w=total - static_chip,
                   dynamic_energy_per_inference_uj=(total - static_chip) / rate * 1e6,
                   total_energy_per_inference_uj=total / rate * 1e6)
    with open(OUT + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(OUT + ".tmp", OUT)
    print(f"{{out['backend']}}: {{NUM_STEPS}} steps in {{wall:.2f}} s -> {{OUT}}")


if __name__ == "__main__":
    sys.exit(main())
'''


def write_script(net: Path, out: Path, inputs: Path, spec, steps_per_inference: int,
                 num_steps: int) -> Path:
    """Write the script ``out`` (beside ``net`` and ``inputs``, which it names relative to
    itself) and return its path; the JSON it writes is ``out`` with ``.json``."""
    import os

    from mskd import __version__
    from mskd.fsio import write_text

    kind = ("bias" if spec.input_kind == "bias" else
            "delta" if spec.input_kind == "delta" else "spikes")
    shape = spec.input_shape
    args = {"input_message_bits": spec.input_message_bits, "spike_exp": spec.spike_exp}
    if spec.layers[0].__class__.__name__ != "InputLayer":
        args["input_shape"] = tuple(shape[::-1]) if len(shape) == 3 else tuple(shape)
    rel = lambda p: os.path.relpath(Path(p).resolve(), Path(out).resolve().parent)  # noqa: E731
    text = TEMPLATE.format(
        net_name=Path(net).name, version=__version__, script_name=Path(out).name,
        json_name=Path(out).with_suffix(".json").name, net_file=rel(net),
        input_file=rel(inputs), input_kind=kind, steps_per_inference=steps_per_inference,
        num_steps=num_steps, network_args=args, ndim=len(shape), schema=SCHEMA)
    return write_text(out, text)

"""``mskd deploy run|verify`` (and mounting ``mskd profile``): thin layers over the library.

Input layout (``--input X.npy``): for a network whose first layer is a netx Input layer
with neurons, X holds integer bias mantissas (-4096..4095) ``[B, T, C, H, W]`` (or
``[B, T, N]``), or ``[B, C, H, W]`` held for ``--steps T``; for a network whose first
layer is a synapse, X holds binary spikes ``[B, T, *in_shape]``. Outputs (``--out``,
npz): ``output`` ``[T, B, *shape]`` uint8 spikes of the last layer, ``spikes/<layer>``
for every neuron layer, and ``u/<layer>``, ``v/<layer>`` (int32) with ``--record u,v``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import typer

from mskd.config import config_option
from mskd.errors import ConfigError
from mskd.limits import MAX_STEPS

INPUT_HELP = ("Input .npy: bias mantissas [B, T, *shape] (or [B, *shape] with --steps) for a "
              "bias-driven input layer, binary spikes [B, T, *shape] otherwise; (C, H, W) "
              "order.")


def _load_input(path: Path) -> np.ndarray:
    from mskd.npyio import load_npy

    return load_npy(path)


def _record_fields(text: str) -> tuple[str, ...]:
    from mskd.record import REGISTERS

    fields = tuple(f for f in (t.strip() for t in text.split(",")) if f)
    if fields == ("all",):
        return REGISTERS
    for f in fields:
        if f not in REGISTERS:
            raise ConfigError(f"--record {text}: choose from {', '.join(REGISTERS)} or all")
    return fields


INPUT_SHAPE_HELP = ("Input shape C,H,W (or N) of a file without an input layer (netx's "
                    "Network(input_shape=...), given in torch order).")
INPUT_BITS_HELP = ("Graded input: payload bits of the messages into the first synapse of a "
                   "network without input neurons (netx's Network(input_message_bits=...)); "
                   "0 = binary spikes.")


TIMEOUT_HELP = "Lava: seconds without progress before the run is stopped (default 300)."
DEVICE_HELP = "cpu | cuda (cuda:N; simulator only)"


def read_options(input_shape: str | None, input_message_bits: int) -> dict:
    """``read_netx`` keyword arguments from the ``--input-shape``/``--input-message-bits``
    options.

    >>> read_options("2,8,8", 0)
    {'input_shape': (2, 8, 8), 'input_message_bits': 0}
    """
    shape = None
    if input_shape:
        try:
            shape = tuple(int(s) for s in input_shape.split(","))
        except ValueError:
            raise ConfigError(f"--input-shape {input_shape!r}: expected C,H,W or N") from None
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ConfigError(f"--input-shape {input_shape!r}: expected 1 or 3 positive sizes")
    return {"input_shape": shape, "input_message_bits": input_message_bits}


def _progress_runner(label: str, total: int):
    """A rich progress bar as a ``progress(done)`` callback, plus the context to show it."""
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task(label, total=total)
    return bar, (lambda done: bar.update(task, completed=done))


def run_backend(backend: str, net, x, record, steps, device, timeout=None, input_path=None):
    """Dispatch to one backend; the CLI's ``run`` and ``verify`` both go through it."""
    from mskd.deploy.inputs import naming_input

    from mskd.netspec import NetSpec

    n_layers = sum(1 for la in net.layers if not type(la).__name__ == "FlattenLayer") \
        if isinstance(net, NetSpec) else 1
    if backend == "sim":
        from mskd.deploy import sim

        bar, cb = _progress_runner("sim layers", n_layers)
        with bar, naming_input(input_path):
            return sim.run(net, x, record, steps=steps, device=device, progress=cb)
    if backend in ("lava", "loihi2"):
        from mskd.deploy import lava_backend

        bar, cb = _progress_runner(f"{backend} samples", int(np.asarray(x).shape[0]))
        limit = {} if timeout is None else {"timeout": timeout}
        with bar, naming_input(input_path):
            return lava_backend.run(net, x, record, steps=steps, backend=backend, progress=cb,
                                    **limit)
    raise ConfigError(f"--backend {backend}: choose from sim, lava, loihi2")


def _save_npz(out: Path, outputs, rec) -> None:
    from mskd.fsio import write_bytes

    arrays = {"output": outputs.cpu().numpy(), **rec.to_npz_dict()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes(out, buf.getvalue())


def register(app: typer.Typer) -> None:
    deploy_app = typer.Typer(no_args_is_help=True, help="Run and verify netx HDF5 networks.")

    @deploy_app.command("run", help="Run a netx network on a backend. " + INPUT_HELP)
    def run(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network."),
        input: Path = typer.Option(..., "--input", help=INPUT_HELP),
        out: Path = typer.Option(..., "--out", help="Output .npz (spikes, u, v)."),
        backend: str = typer.Option("sim", help="sim | lava | loihi2"),
        record: str = typer.Option("", help="Registers to record: u,v (CUBA), sigma,act,"
                                            "residue,error (sigma-delta), or all"),
        steps: int = typer.Option(None, min=1, max=MAX_STEPS,
                                  help="Hold a [B, *shape] input for T steps."),
        device: str = typer.Option("cpu", help=DEVICE_HELP),
        input_shape: str = typer.Option(None, "--input-shape", help=INPUT_SHAPE_HELP),
        input_message_bits: int = typer.Option(0, "--input-message-bits", min=0,
                                               help=INPUT_BITS_HELP),
        timeout: float = typer.Option(None, "--timeout", min=0.001, help=TIMEOUT_HELP),
    ) -> None:
        from mskd.netx_io import read_netx

        spec = read_netx(net, **read_options(input_shape, input_message_bits))
        x = _load_input(input)
        outputs, rec = run_backend(backend, spec, x, _record_fields(record), steps, device,
                                   timeout, input)
        _save_npz(out, outputs, rec)
        typer.echo(f"{out}: {rec.batch} samples x {rec.steps} steps, "
                   f"{rec.total_spikes()} messages over {len(rec.layers)} layers")

    @deploy_app.command("verify", help="Run the simulator and Lava side by side; "
                        "exit non-zero at the first divergence. " + INPUT_HELP)
    def verify(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network."),
        samples: int = typer.Option(2, min=1,
                                    help="Random samples when no --input is given."),
        input: Path = typer.Option(None, "--input", help=INPUT_HELP),
        steps: int = typer.Option(8, min=1, max=MAX_STEPS,
                                  help="Steps of random input (or hold for [B, *shape])."),
        seed: int = typer.Option(0, min=0, help="Seed of the random inputs."),
        input_shape: str = typer.Option(None, "--input-shape", help=INPUT_SHAPE_HELP),
        input_message_bits: int = typer.Option(0, "--input-message-bits", min=0,
                                               help=INPUT_BITS_HELP),
        timeout: float = typer.Option(None, "--timeout", min=0.001, help=TIMEOUT_HELP),
    ) -> None:
        from mskd.deploy.inputs import naming_input
        from mskd.deploy.verify import verify_net

        from mskd.netx_io import read_netx

        spec = read_netx(net, **read_options(input_shape, input_message_bits))
        with naming_input(input):
            message, ok = verify_net(spec, samples=samples,
                                     input=input and _load_input(input), steps=steps,
                                     seed=seed, path=net, timeout=timeout)
        typer.echo(message)
        if not ok:
            raise typer.Exit(1)

    app.add_typer(deploy_app, name="deploy")

    from mskd.deploy.profile_cli import register_profile

    register_profile(app)

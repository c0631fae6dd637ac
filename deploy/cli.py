"""``mskd deploy run|verify`` (and mounting ``mskd profile``): thin layers over the library.

Input layout (``--input X.npy``): for a network whose first layer is a netx Input layer
with neurons, X holds integer bias mantissas (-4096..4095) ``[B, T, C, H, W]`` (or
``[B, T, N]``), or ``[B, C, H, W]`` held for ``--steps T``; for a network whose first
layer is a synapse, X holds binary spikes ``[B, T, *in_shape]``, or, for a network with
graded input (``input_message_bits``: the width ``mskd convert --input-message-bits``
recorded, :mod:`mskd.loihi.graded`), integer payloads; with ``--analog`` X holds the analog
values ``x`` themselves, sent as the recorded ``round(x * S)``. ``--data DIR`` instead
encodes a dataset's clips with the network's stored encoding (:mod:`mskd.data.encode`).
Outputs (``--out``, npz): ``output`` ``[T, B, *shape]`` uint8 spikes of the last layer,
``spikes/<layer>`` for every neuron layer, ``u/<layer>``, ``v/<layer>`` (int32) with
``--record u,v``, and for a network with an encoding ``logits``, ``predicted``,
``classes`` (and ``label`` with ``--data``).
"""

from __future__ import annotations

import io
from pathlib import Path

import typer
from mskd.deploy.backends import BACKENDS, run_backend

from mskd.config import config_option, read_options
from mskd.errors import ConfigError, NetError
from mskd.limits import MAX_STEPS

INPUT_HELP = ("Input .npy: bias mantissas [B, T, *shape] (or [B, *shape] with --steps) for a "
              "bias-driven input layer, integer payloads for graded input, binary spikes "
              "[B, T, *shape] otherwise; (C, H, W) order. `mskd data encode` writes one "
              "from a dataset.")
ANALOG_HELP = ("--input holds analog values x in the range the file records (mskd convert "
               "--input-message-bits): send them as its round(x * S) payloads.")
DATA_HELP = ("Dataset folder (SEE layout): encode its clips with the network's stored input "
             "encoding instead of --input.")
DEVICES = ("cpu", "cuda")
SPLITS = ("train", "test")
RECORD_METAVAR = "[u,v|sigma,act,residue,error|all]"
TIMEOUT_HELP = "Lava: seconds without progress before the run is stopped (default 300)."
RECORD_HELP = ("Registers to record, comma-separated: u, v (CUBA-LIF), sigma, act, residue, "
               "error (sigma-delta), or all.")


def _load_input(path: Path):
    from mskd.npyio import load_npy

    return load_npy(path)


def _record_fields(text: str) -> tuple[str, ...]:
    from mskd.net.record import REGISTERS

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
                   "0 = binary spikes (default: the width `mskd convert --input-message-bits` "
                   "recorded in the file, else 0).")


def _save_npz(out: Path, outputs, rec, extra: dict | None = None) -> None:
    import numpy as np

    from mskd.fsio import write_bytes

    arrays = {"output": outputs.cpu().numpy(), **(rec.to_npz_dict() if rec else {}),
              **(extra or {})}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes(out, buf.getvalue())


def analog_payloads(net: Path, x, input: Path):
    """``--analog``: the values ``x`` of ``input`` as the payloads ``round(x * S)`` the
    network's graded-input record says (:func:`mskd.loihi.graded.encode`); ConfigError naming
    the file when ``net`` records none or ``x`` leaves its range."""
    from mskd.loihi.graded import encode, read_graded

    graded = read_graded(net)
    if graded is None:
        raise ConfigError(f"--analog: {net} records no graded input (convert the graph with "
                          "--input-message-bits N)")
    try:
        return encode(x, graded)
    except ValueError as exc:
        raise ConfigError(f"{input}: {exc} (recorded in {net})") from None


def _inputs(net: Path, input: Path | None, data: Path | None, split: str, views: int,
            limit: int | None, seed: int):
    """``(x, labels or None, clip dicts, description)`` from ``--input`` or ``--data``."""
    if (input is None) == (data is None):
        raise ConfigError("give exactly one of --input X.npy or --data DIR")
    if input is not None:
        x = _load_input(input)
        return (x if limit is None else x[:limit]), None, [], f"{input}"
    from mskd.data.encode import encode_clips

    clips = encode_clips(net, data, split, views, limit, seed)
    return clips.x, clips.labels, clips.clips, clips.describe()


def _print_va(pred, described: str, shown: int = 20) -> None:
    """A dimensional network's clips: mean valence and arousal (and the annotation's)."""
    lines = [f"valence and arousal of {described} (clip means of the per-frame readout)",
             f"{'clip':>6}  {'valence':>8} {'arousal':>8}" + (
                 f"  {'annotated':>17}  sequence (view)" if pred.clips else "")]
    for k, (v, a) in enumerate(pred.logits[:shown]):
        clip = pred.clips[k] if k < len(pred.clips) else {}
        where = ""
        if clip:
            true = (" ".join(f"{t:+8.3f}" for t in pred.labels[k].mean(0))
                    if pred.labels is not None else f"{'-':>17}")
            where = f"  {true}  {clip['sequence']} ({clip['view']})"
        lines.append(f"{k:>6}  {v:+8.3f} {a:+8.3f}{where}")
    if len(pred.logits) > shown:
        lines.append(f"{'...':>6}  {len(pred.logits) - shown} more (--out keeps them all)")
    acc = pred.accuracy()
    if acc:
        lines.append(" ".join(f"{d}: CCC {acc[d]['ccc']:.3f} PCC {acc[d]['pcc']:.3f} RMSE "
                              f"{acc[d]['rmse']:.3f};" for d in ("valence", "arousal"))
                     + f" over {acc['frames']} frames of {acc['clips']} clips")
    typer.echo("\n".join(lines))


def _print_predictions(pred, described: str, shown: int = 20) -> None:
    from collections import Counter

    if pred.task == "dimensional":
        _print_va(pred, described, shown)
        return

    width = max(len(c) for c in pred.classes) + 2
    lines = [f"predicted emotions of {described} (readout: mean output voltage)",
             f"{'clip':>6}  {'predicted':<{width}}" + (f"{'true':<{width}}sequence (view)"
                                                      if pred.clips else "")]
    for k, name in enumerate(pred.names[:shown]):
        clip = pred.clips[k] if k < len(pred.clips) else {}
        where = (f"{pred.classes[clip['label']]:<{width}}{clip['sequence']} "
                 f"({clip['view']})") if clip else ""
        lines.append(f"{k:>6}  {name:<{width}}{where}")
    if len(pred.names) > shown:
        lines.append(f"{'...':>6}  {len(pred.names) - shown} more (--out keeps them all)")
    counts = Counter(pred.names)
    lines.append("counts: " + ", ".join(f"{c} {counts[c]}" for c in pred.classes if counts[c]))
    acc = pred.accuracy()
    if acc:
        lines.append(f"WAR {100 * acc['war']:.1f} %, UAR {100 * acc['uar']:.1f} % over "
                     f"{acc['clips']} clips")
    typer.echo("\n".join(lines))


def _encoding_or_none(net: Path):
    from mskd.net.encoding import read_encoding

    try:
        return read_encoding(net)
    except NetError:
        return None


def register(app: typer.Typer) -> None:
    deploy_app = typer.Typer(no_args_is_help=True, help="Run and verify netx HDF5 networks.")

    @deploy_app.command("run", help="Run a netx network on a backend; for a network written "
                        "by `mskd convert`, print the predicted emotions. " + INPUT_HELP)
    def run(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network (.net)."),
        input: Path = typer.Option(None, "--input", help=INPUT_HELP),
        data: Path = typer.Option(None, "--data", help=DATA_HELP),
        split: str = typer.Option("test", "--split", click_type=_choice(SPLITS),
                                  help="With --data: the split whose clips are run."),
        views: int = typer.Option(1, "--views", min=1, help="With --data: seeded clip views "
                                  "per sequence (SEEN's evaluation views)."),
        limit: int = typer.Option(None, "--limit", min=1, help="Run only the first N clips."),
        seed: int = typer.Option(0, "--seed", help="With --data: seed of the view starts."),
        out: Path = typer.Option(None, "--out", help="Output .npz: outputs, records and, "
                                 "with an encoding, logits and predictions."),
        backend: str = typer.Option("sim", click_type=_choice(BACKENDS), help="Backend: the "
                                    "bit-exact simulator, Lava on CPU, or Loihi 2 hardware."),
        record: str = typer.Option("", metavar=RECORD_METAVAR, help=RECORD_HELP),
        steps: int = typer.Option(None, min=1, max=MAX_STEPS,
                                  help="Hold a [B, *shape] input for T steps."),
        device: str = typer.Option("cpu", click_type=_choice(DEVICES),
                                   help="Simulator device."),
        batch_size: int = typer.Option(64, "--batch-size", min=1,
                                       help="Simulator batch (clips at a time)."),
        input_shape: str = typer.Option(None, "--input-shape", help=INPUT_SHAPE_HELP),
        input_message_bits: int = typer.Option(None, "--input-message-bits", min=0,
                                               help=INPUT_BITS_HELP),
        timeout: float = typer.Option(None, "--timeout", min=0.001, help=TIMEOUT_HELP),
        analog: bool = typer.Option(False, "--analog", help=ANALOG_HELP),
    ) -> None:
        import functools

        from mskd.net.netx_io import read_netx

        spec = read_netx(net, **read_options(input_shape, input_message_bits))
        fields = _record_fields(record)
        x, labels, clips, described = _inputs(net, input, data, split, views, limit, seed)
        if analog:
            if input is None:
                raise ConfigError("--analog applies to --input X.npy (analog values)")
            x = analog_payloads(net, x, input)
        from mskd.deploy.predict import input_steps, run_and_predict

        enc = _encoding_or_none(net)
        if enc is not None and input_steps(spec, x, steps) != enc.steps:
            typer.echo(f"note: the input runs {input_steps(spec, x, steps)} steps, the "
                       f"network's encoding reads out after {enc.steps}: no predictions",
                       err=True)
            enc = None
        if enc is None:
            outputs, rec = run_backend(backend, spec, x, fields, steps, device, timeout, input)
            extra = {}
        else:
            runner = functools.partial(run_backend, timeout=timeout, input_path=input)
            outputs, rec, pred = run_and_predict(spec, enc, x, backend, fields, steps, device,
                                                 batch_size, labels, clips, out is not None,
                                                 run=runner)
            _print_predictions(pred, described)
            extra = pred.to_npz_dict()
        if out is not None:
            _save_npz(out, outputs, rec, extra)
            typer.echo(f"{out}: {rec.batch} samples x {rec.steps} steps, "
                       f"{rec.total_spikes()} messages over {len(rec.layers)} layers")
        elif enc is None:
            typer.echo(f"{described}: {outputs.shape[1]} samples x {outputs.shape[0]} steps "
                       "(give --out to keep the outputs)")

    @deploy_app.command("verify", help="Run the simulator and Lava side by side; "
                        "exit non-zero at the first divergence. " + INPUT_HELP)
    def verify(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network (.net)."),
        samples: int = typer.Option(2, min=1, help="Samples: random ones, or the first N "
                                    "clips with --data."),
        input: Path = typer.Option(None, "--input", help=INPUT_HELP),
        data: Path = typer.Option(None, "--data", help=DATA_HELP),
        split: str = typer.Option("test", "--split", click_type=_choice(SPLITS),
                                  help="With --data: the split whose clips are checked."),
        steps: int = typer.Option(8, min=1, max=MAX_STEPS, help="Steps of random input (or "
                                  "hold for [B, *shape])."),
        seed: int = typer.Option(0, min=0, help="Seed of the random inputs (or of the clip "
                                 "views)."),
        input_shape: str = typer.Option(None, "--input-shape", help=INPUT_SHAPE_HELP),
        input_message_bits: int = typer.Option(None, "--input-message-bits", min=0,
                                               help=INPUT_BITS_HELP),
        timeout: float = typer.Option(None, "--timeout", min=0.001, help=TIMEOUT_HELP),
    ) -> None:
        from mskd.deploy.verify import verify_net

        from mskd.net.inputs import naming_input
        from mskd.net.netx_io import read_netx

        spec = read_netx(net, **read_options(input_shape, input_message_bits))
        if input is not None and data is not None:
            raise ConfigError("give at most one of --input X.npy and --data DIR")
        with naming_input(input):
            x, described = (None if input is None else _load_input(input)), None
        if data is not None:
            from mskd.data.encode import encode_clips

            clips = encode_clips(net, data, split, 1, samples, seed)
            x, described, steps = clips.x, clips.describe(), None
        with naming_input(input):
            message, ok = verify_net(spec, samples=samples, input=x, steps=steps, seed=seed,
                                     path=net, described=described, timeout=timeout)
        typer.echo(message)
        if not ok:
            raise typer.Exit(1)

    @deploy_app.command("script", help="Write a runnable Lava script that measures NET on "
                        "Loihi 2 (Loihi2HwCfg with Intel's profilers where lava-loihi is "
                        "installed; Lava's CPU models elsewhere) and saves a JSON for "
                        "`mskd profile --measured`.")
    def script(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network (.net)."),
        input: Path = typer.Option(..., "--input", help="Inputs .npy as `deploy run` takes "
                                   "them; sample 0 is held (bias) or replayed."),
        out: Path = typer.Option(..., "--out", help="The script to write (.py); it writes "
                                 "its JSON beside itself."),
        steps: int = typer.Option(None, "--steps", min=1, max=MAX_STEPS,
                                  help="Steps per inference (default: the file's encoding)."),
        num_steps: int = typer.Option(10000, "--num-steps", min=1,
                                      help="Steps the script runs (power is averaged)."),
        force: bool = typer.Option(False, "--force", help="Replace an existing script."),
    ) -> None:
        from mskd.deploy.lava_script import write_script

        from mskd.net.encoding import MissingEncoding, read_encoding
        from mskd.net.netx_io import read_netx

        if out.exists() and not force:
            raise ConfigError(f"{out} exists: give --force to replace it")
        if not input.is_file():
            raise ConfigError(f"{input}: input file not found")
        spec = read_netx(net)
        if steps is None:
            try:
                steps = read_encoding(net, spec).steps
            except MissingEncoding:
                raise ConfigError(f"{net} records no encoding: give --steps") from None
        path = write_script(net, out, input, spec, steps, num_steps)
        typer.echo(f"wrote {path}; run it with Lava's Python, then "
                   f"`mskd profile {net} --measured {path.with_suffix('.json')}`")

    app.add_typer(deploy_app, name="deploy")


def _choice(values: tuple[str, ...]):
    """A click choice, so ``--help`` shows the values and a wrong one is refused."""
    import click

    return click.Choice(values)

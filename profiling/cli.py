"""``mskd profile``: a thin command over :func:`mskd.profiling.estimate.profile_run` and the report.

Writes ``report.json``, ``report.md`` and the PNGs of :mod:`mskd.profiling.plots` into
``--out`` (each file atomically). Mount it with :func:`register_profile`.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import typer

from mskd.config import config_option
from mskd.errors import ConfigError
from mskd.limits import MAX_STEPS

MS_PER_S = 1e3


def parse_macs(items: list[str]) -> dict[str, float]:
    """``["teacher=9e8", "student=1.2e7"]`` -> ``{"teacher": 9e8, "student": 1.2e7}``.

    >>> parse_macs(["teacher=9e8"])
    {'teacher': 900000000.0}
    """
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip() or out[name.strip()] < 0:
            raise ConfigError(f"--macs {item!r}: expected NAME=COUNT with COUNT >= 0")
    return out


def _encoding_or_none(net: Path):
    from mskd.net.encoding import MissingEncoding, read_encoding

    try:
        return read_encoding(net)
    except MissingEncoding:  # a bad or inconsistent one is an error
        return None


def _load_inputs(net: Path, data: Path | None, inputs: Path | None, limit: int | None,
                 batch_size: int, labels: list):
    """``(inputs, n, encoding or None, description)``; dataset labels go into ``labels``."""
    from mskd.profiling.estimate import dataset_inputs

    if (data is None) == (inputs is None):
        raise ConfigError("give exactly one of --data DIR or --input X.npy")
    if data is not None:
        batches, n, enc = dataset_inputs(net, data, batch_size, limit, labels)
        return batches, n, enc, f"{data} (test split, {n} clips)"
    from mskd.npyio import load_npy

    x = load_npy(inputs)
    x = x[:limit] if limit else x
    return x, len(x), _encoding_or_none(net), str(inputs)


def _check_timing(frame_ms: float, steps_per_frame: int | None, steps: int | None) -> None:
    """--frame-ms finite and > 0, --steps-per-frame and --steps >= 1 (library calls too)."""
    if not (isinstance(frame_ms, (int, float)) and math.isfinite(frame_ms) and frame_ms > 0):
        raise ConfigError(f"--frame-ms {frame_ms}: must be a finite number of ms > 0")
    for name, value in (("--steps-per-frame", steps_per_frame), ("--steps", steps)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or not 1 <= value <= MAX_STEPS):
            raise ConfigError(f"{name} {value}: must be an integer in 1..{MAX_STEPS}")


def _progress(total: int):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(),
                   MofNCompleteColumn(), TimeElapsedColumn(), transient=True,
                   console=Console(stderr=True), disable=not sys.stderr.isatty())
    task = bar.add_task("simulating", total=total)
    return bar, lambda done: bar.update(task, completed=done)


def raster_sample(result, enc, labels: list) -> dict | None:
    """What sample 0 of the raster is: its true class (when the inputs came from a dataset)
    and the class the network's readout picks, plus the frame timing, from the encoding."""
    if enc is None:
        return None
    import torch

    from mskd.net.encoding import decode_readout

    sample = {"steps_per_frame": enc.steps_per_frame, "latency": enc.latency,
              "n_frames": enc.n_frames, "readout_layer": enc.readout_layer}
    dimensional = enc.task == "dimensional"
    if labels:  # a dimensional network's clip still has its emotion class
        from mskd.data.naming import EMOTIONS

        sample["true"] = EMOTIONS[labels[0]] if dimensional else enc.classes[labels[0]]
    v = result.output_v
    if v is not None and v.shape[0] == enc.steps and v.shape[1] == len(enc.classes):
        logits = decode_readout(torch.as_tensor(v).unsqueeze(1), enc)
        sample["predicted"] = (", ".join(f"{n} {float(x):+.2f}" for n, x in zip(
            enc.classes, logits[0], strict=True)) if dimensional
            else enc.classes[int(logits.argmax(-1)[0])])
    return sample


def profile_command(net: Path, data: Path | None = None, inputs: Path | None = None,
                    profile: str = "loihi2", steps: int | None = None,
                    steps_per_frame: int | None = None, frame_ms: float = 33.0,
                    out: Path = Path("profile"), batch_size: int = 16,
                    limit: int | None = None, max_chips: int | None = None,
                    macs: list[str] | None = None, ann_profile: str = "ann-45nm",
                    skip_zero_weights: bool = False, step_budget: int | None = None,
                    verbose: bool = True, read: dict | None = None,
                    platforms: str = "all", measured: Path | None = None,
                    refit: Path | None = None) -> dict:
    """Profile ``net`` and write the report into ``out``; returns the report dict."""
    from mskd.fsio import output_lock

    _check_timing(frame_ms, steps_per_frame, steps)
    run = None
    if measured is not None:
        from mskd.profiling.measured import read_measured

        run = read_measured(measured)
    if refit is not None and run is None:
        raise ConfigError("--refit needs --measured RUN.json (the figures it fits to)")
    with output_lock(out):  # two profiles into one folder: the second fails at once
        rep = _profile(net, data, inputs, profile, steps, steps_per_frame, frame_ms, out,
                       batch_size, limit, max_chips, macs, ann_profile, skip_zero_weights,
                       step_budget, verbose, read, platforms, run)
    if refit is not None:
        from mskd.hw_profiles import load_profile
        from mskd.profiling.measured import refit as refit_profile

        from mskd.fsio import write_text

        write_text(refit, refit_profile(load_profile(profile), rep, run, str(measured)))
        if verbose:
            print(f"wrote {refit}: pass it back with --profile {refit}", file=sys.stderr)
    return rep


def load_platforms(names: str) -> list:
    """``--platforms``: ``all`` (every shipped edge profile), ``none``, or a comma list of
    edge profile names or TOML paths; ConfigError naming one that is not an edge profile."""
    from mskd.hw_profiles import load_profile
    from mskd.profiling.platforms import EDGE_PROFILES

    text = names.strip().lower()
    if text == "none":
        return []
    chosen = EDGE_PROFILES if text == "all" else [n.strip() for n in names.split(",") if n.strip()]
    out = []
    for name in chosen:
        p = load_profile(name)
        if p.kind != "edge":
            raise ConfigError(f"--platforms {name}: kind '{p.kind}', not an edge platform "
                              f"(shipped: {', '.join(EDGE_PROFILES)})")
        out.append(p)
    return out


def _network_macs(spec, enc) -> float:
    """Dense multiply-accumulates per inference: every synapse once per frame the
    network reads (the encoding's frames; one without an encoding)."""
    from mskd.chip.synapses import layer_synapses
    from mskd.net.spec import SYNAPSE_LAYERS

    per_frame = sum(layer_synapses(la).count for _, la in spec.neuron_layers()
                    if isinstance(la, SYNAPSE_LAYERS))
    return float(per_frame * (enc.n_frames if enc is not None else 1))


def _profile(net, data, inputs, profile, steps, steps_per_frame, frame_ms, out, batch_size,
             limit, max_chips, macs, ann_profile, skip_zero_weights, step_budget, verbose,
             read, platforms="all", run=None) -> dict:
    from mskd.hw_profiles import load_profile
    from mskd.profiling.estimate import profile_run
    from mskd.profiling.plots import write_plots
    from mskd.profiling.report import build_report, render_markdown

    from mskd.fsio import write_json, write_text
    from mskd.net.inputs import naming_input
    from mskd.net.netx_io import read_netx

    start = time.perf_counter()
    spec, hw = read_netx(net, **(read or {})), load_profile(profile)
    ann_hw, macs_by_name = load_profile(ann_profile), parse_macs(macs or [])
    if hw.kind != "neuromorphic":
        raise ConfigError(f"--profile {profile}: kind '{hw.kind}' cannot run an SNN "
                          "(use loihi1, loihi2 or a neuromorphic PATH.toml)")
    if ann_hw.kind != "ann":
        raise ConfigError(f"--ann-profile {ann_profile}: kind '{ann_hw.kind}', not an ANN "
                          "profile (use ann-45nm or an ann PATH.toml)")
    edge = load_platforms(platforms)
    labels: list[int] = []
    x, n, enc, described = _load_inputs(net, data, inputs, limit, batch_size, labels)
    spf = steps_per_frame if steps_per_frame is not None else (
        enc.steps_per_frame if enc is not None else None)
    input_step_s = None if spf is None else frame_ms / MS_PER_S / spf
    bar, tick = _progress(n)
    with bar, naming_input(inputs):
        result = profile_run(spec, x, hw, steps=steps, input_step_s=input_step_s,
                             batch_size=batch_size, max_chips=max_chips,
                             skip_zero=skip_zero_weights, progress=tick)
    from mskd.profiling.ann_energy import ann_energy_with_memory

    frames = enc.n_frames if enc is not None else 1
    rep = build_report(result, network=str(net), inputs=described,
                       ann_profile=ann_hw, macs=macs_by_name,
                       step_budget=step_budget, sample=raster_sample(result, enc, labels),
                       wall_seconds=time.perf_counter() - start, platforms=edge,
                       network_macs=_network_macs(spec, enc),
                       bound_45nm=ann_energy_with_memory(spec, frames, ann_hw)
                       if "sram_read_64b_8kb" in ann_hw.energy else None)
    if run is not None:
        from mskd.profiling.measured import compare

        rep["measured"] = {"run": run, "comparison": compare(rep, run)}
    write_json(out / "report.json", rep)
    write_text(out / "report.md", render_markdown(rep))
    write_plots(rep, result.raster, out, result.output_v,
                None if enc is None else enc.classes)
    if verbose:
        _print_summary(rep, out)
    return rep


def _print_summary(rep: dict, out: Path) -> None:
    from rich.console import Console

    console = Console(stderr=True)
    e, lat = rep["energy"]["total"], rep["latency"]
    tot = rep.get("energy_with_static")
    total = "" if not tot else f" ({tot['total_at_max_pj'] / 1e6:.4g} uJ with static power)"
    console.print(f"{rep['profile']['name']}: {rep['mapping']['total_cores']} cores, "
                  f"{e / 1e6:.4g} uJ/inference dynamic{total}, "
                  f"{lat['inference_ns_mean'] / 1e6:.4g} ms/inference -> {out}")
    if rep["assumptions"]:
        console.print(f"[yellow]{len(rep['assumptions'])} figures of this profile are "
                      "assumed (no measurement exists); see report.md[/yellow]")


INPUT_SHAPE_HELP = "Input shape C,H,W (or N) of a file without an input layer."
INPUT_BITS_HELP = ("Payload bits of a graded network input (0: binary spikes; default: the "
                   "width the file records, else 0).")


def register_profile(app: typer.Typer) -> None:
    """Add the ``profile`` command to ``app``."""

    @app.command("profile", help="Spike, synop, energy and latency report on a Loihi profile.")
    def profile(
        config: str = config_option(),
        net: Path = typer.Argument(..., help="netx HDF5 network (.net)."),
        data: Path = typer.Option(None, "--data", help="Dataset root: profile its test split."),
        inputs: Path = typer.Option(None, "--input", help="Simulator inputs .npy [B,T,*shape]."),
        hw: str = typer.Option("loihi2", "--profile", metavar="[loihi1|loihi2|PATH.toml]",
                               help="Hardware profile: a shipped one or your own TOML."),
        steps: int = typer.Option(None, "--steps", min=1, max=MAX_STEPS,
                                  help="Steps for [B,*shape] inputs."),
        steps_per_frame: int = typer.Option(None, "--steps-per-frame", min=1, max=MAX_STEPS,
                                            help="Steps per frame (default: the encoding's)."),
        frame_ms: float = typer.Option(33.0, "--frame-ms", help="Input time per frame, ms."),
        out: Path = typer.Option(..., "--out", help="Report folder."),
        batch_size: int = typer.Option(16, "--batch-size", min=1,
                                       help="Samples simulated at a time."),
        limit: int = typer.Option(None, "--limit", min=1, help="Profile only N samples."),
        max_chips: int = typer.Option(None, "--max-chips", min=1, help="Fail above N chips."),
        macs: list[str] = typer.Option(None, "--macs", help="NAME=COUNT ANN MACs (repeat)."),
        ann: str = typer.Option("ann-45nm", "--ann-profile", metavar="[ann-45nm|PATH.toml]",
                                help="ANN energy profile for the comparison."),
        skip_zero: bool = typer.Option(False, "--skip-zero-weights",
                                       help="Zero weights store/cost nothing."),
        step_budget: int = typer.Option(None, "--step-budget", min=1,
                                        help="Steps per inference for the throughput figure."),
        input_shape: str = typer.Option(None, "--input-shape", help=INPUT_SHAPE_HELP),
        input_message_bits: int = typer.Option(None, "--input-message-bits", min=0,
                                               help=INPUT_BITS_HELP),
        platforms: str = typer.Option("all", "--platforms",
                                      help="Edge platforms to set the network beside: all, "
                                           "none, or names/TOML paths, comma separated."),
        measured: Path = typer.Option(None, "--measured", help="A run's JSON from the script "
                                      "of `mskd deploy script`: estimate beside measurement."),
        refit: Path = typer.Option(None, "--refit", help="With --measured: write the profile "
                                   "refitted to the run as this TOML."),
    ) -> None:
        from mskd.config import read_options

        profile_command(net, data, inputs, hw, steps, steps_per_frame, frame_ms, out,
                        batch_size, limit, max_chips, macs, ann, skip_zero, step_budget,
                        read=read_options(input_shape, input_message_bits),
                        platforms=platforms, measured=measured, refit=refit)

"""``mskd data``: synthesize, inspect and event-encode datasets (thin layer over the library)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click
import typer

from mskd.config import config_option
from mskd.errors import ConfigError

app = typer.Typer(no_args_is_help=True)


@app.command("synth", help="Render the synthetic single-eye emotion dataset in the SEE layout.")
def synth(
    config: str = config_option(),
    out: Path = typer.Option(..., "--out", help="Dataset folder to create."),
    subjects: int = typer.Option(24, "--subjects", help="Number of subjects (split by subject)."),
    seed: int = typer.Option(0, "--seed", min=0,
                             help="Seed: same seed and settings, same bytes."),
    size: int = typer.Option(48, "--size", help="Image side in pixels on disk."),
    takes: int = typer.Option(1, "--takes", help="Takes per (emotion, lighting)."),
    workers: int = typer.Option(min(2, os.cpu_count() or 1), "--workers", min=1, max=256,
                                help="Processes (output does not depend on it)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
) -> None:
    from mskd.data.synth import synthesize

    start = time.time()
    synthesize(out, subjects, seed, size, takes=takes, workers=workers, overwrite=overwrite,
               progress=True)
    typer.echo(f"wrote {out} in {time.time() - start:.1f} s")


@app.command("events", help="Synthesize event frames (and events.npz) for a folder of frames.")
def events(
    config: str = config_option(),
    frames_dir: Path = typer.Argument(..., help="Folder with 00000.jpg, 00001.jpg, ..."),
    out: Path = typer.Option(..., "--out", help="Folder to create for the event frames."),
    fps: float = typer.Option(30.0, "--fps", min=0.001, max=1e5,
                              help="Frame rate of FRAMES_DIR."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of threshold mismatch and noise."),
    threshold: float = typer.Option(0.2, "--threshold", help="Contrast thresholds C+ = C- (log)."),
    sigma: float = typer.Option(0.03, "--sigma", help="Per-pixel threshold mismatch (std)."),
    refractory_us: float = typer.Option(500.0, "--refractory-us", help="Refractory period."),
    leak_hz: float = typer.Option(0.0, "--leak-hz", help="Leak event rate per pixel."),
    shot_noise_hz: float = typer.Option(0.0, "--shot-noise-hz", help="Shot noise rate per pixel."),
    upsample_hz: float = typer.Option(1000.0, "--upsample-hz", min=0.001, max=1e6,
                                      help="Internal sub-step rate."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
) -> None:
    import math

    from mskd.data.eventize import eventize
    from mskd.data.events import EventCameraConfig

    if not math.isfinite(fps):
        raise ConfigError(f"--fps {fps}: must be a finite frame rate > 0")

    config = EventCameraConfig(pos_threshold=threshold, neg_threshold=threshold,
                               threshold_sigma=sigma, refractory_us=refractory_us,
                               leak_rate_hz=leak_hz, shot_noise_rate_hz=shot_noise_hz,
                               upsample_rate_hz=upsample_hz)
    stream = eventize(frames_dir, out, fps=fps, seed=seed, config=config, overwrite=overwrite)
    typer.echo(f"wrote {out}: {len(stream)} events")


@app.command("info", help="Class counts per split and lighting, sequence lengths, image size.")
def info(
    config: str = config_option(),
    root: Path = typer.Argument(..., help="Dataset folder in the SEE layout."),
    split_file: Path = typer.Option(None, "--split", help="Split JSON (default ROOT/split.json)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    from mskd.data.info import summarize

    summary = summarize(root, split_file)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    _print_table(summary)


@app.command("encode", help="Encode a dataset's clips as a converted network's input (its "
                           "stored encoding): the .npy `mskd deploy run --input` takes.")
def encode(
    config: str = config_option(),
    root: Path = typer.Argument(..., help="Dataset folder in the SEE layout."),
    net: Path = typer.Option(..., "--net", help="Network written by `mskd convert` (its "
                             "mskd_encoding attribute says how to encode)."),
    out: Path = typer.Option(..., "--out", help="Output .npy [clip, step, C, H, W] (int16 bias "
                             "mantissas); <name>.clips.json beside it lists the clips."),
    split: str = typer.Option("test", "--split", click_type=click.Choice(("train", "test")),
                              help="Split whose clips are encoded."),
    views: int = typer.Option(1, "--views", min=1, help="Seeded clip views per sequence."),
    limit: int = typer.Option(None, "--limit", min=1, help="Encode only the first N clips."),
    seed: int = typer.Option(0, "--seed", help="Seed of the view starts."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing --out."),
) -> None:
    from mskd.data.encode import encode_clips, save_encoded
    from mskd.errors import ConfigError

    if out.exists() and not overwrite:
        raise ConfigError(f"{out} exists: pass --overwrite to replace it")
    clips = encode_clips(net, root, split, views, limit, seed)
    path, meta = save_encoded(clips, out)
    typer.echo(f"wrote {path}: {clips.describe()}, shape {list(clips.x.shape)}; clips in {meta}")


def _print_table(summary: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    from mskd.data.info import table_rows
    from mskd.data.naming import EMOTIONS

    table = Table(title=f"{summary['root']}")
    for column in ["split", "lighting", *EMOTIONS, "total"]:
        table.add_column(column, justify="left" if column in ("split", "lighting") else "right")
    for row in table_rows(summary):
        table.add_row(*row)
    console = Console(width=max(Console().width, 120))
    console.print(table)
    length = summary["length"]
    console.print(f"sequences {summary['sequences']}, frames {summary['frames']}, "
                  f"length min/mean/max {length['min']}/{length['mean']}/{length['max']}, "
                  f"image size {summary['image_size']}, valence/arousal annotations for "
                  f"{summary['annotated']} of {summary['sequences']} sequences")
    for path, reason in summary["skipped"]:
        console.print(f"skipped {path}: {reason}")

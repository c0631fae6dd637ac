"""``mskd convert``: a thin layer over :mod:`mskd.convert.pipeline` and the importers.

The source file's kind picks the converter (:data:`SOURCES`, by suffix):

* ``*.safetensors``: a trained student checkpoint (:func:`convert_checkpoint`);
* ``*.nir``: a NIR graph (:func:`mskd.convert.nir.importer.convert_nir`);
* ``*.net`` / ``*.h5`` / ``*.hdf5``: a netx file from lava-dl (e.g. slayer's
  ``export_hdf5``), checked and re-written with an encoding
  (:func:`mskd.convert.netx_import.convert_netx`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from mskd.convert.nir.presets import SOURCES as NIR_SOURCES

from mskd.config import config_option
from mskd.errors import ConfigError

if TYPE_CHECKING:
    from mskd.loihi.graded import GradedInput


def _student(src: Path, out: Path, o: dict) -> dict:
    from mskd.convert.pipeline import ConvertOptions, convert_checkpoint

    return convert_checkpoint(src, out, ConvertOptions(**o))


def _nir(src: Path, out: Path, o: dict) -> dict:
    from mskd.convert.nir.importer import convert_nir

    x = o["extra"]
    return convert_nir(src, out, dt=x["dt"], profiles=o["profiles"], report=o["report"],
                       source=x["source"], reset=x["reset"], spikes=x["spikes"],
                       approximate=x["approximate"], data=x["data"],
                       samples=x["fidelity_samples"], graded=x["graded"])


def _netx(src: Path, out: Path, o: dict) -> dict:
    from mskd.convert.netx_import import convert_netx

    return convert_netx(src, out, profiles=o["profiles"], report=o["report"],
                        input_shape=o["extra"]["input_shape"])


SOURCES = {".safetensors": _student, ".nir": _nir, ".net": _netx, ".h5": _netx,
           ".hdf5": _netx}


def _summary(report: dict) -> str:
    lines = [f"wrote {report['out']} ({len(report['network'])} layers)"]
    if "conventions" in report:
        c = report["conventions"]
        unit = " step (sinabs's taus count steps)" if c["from"] == "sinabs" else " s"
        lines.append(f"read as {c['from']} (checked against {c['checked_against']}): dt "
                     f"{c['dt']:g}{unit} from {c['chosen_by']}")
    if "graded_input" in report:
        lines.append(f"graded input: {report['graded_input']['payload']} (recorded in the "
                     "file: mskd deploy builds it with this width)")
    lines += [f"approximated: node '{a['node']}': {a['semantic']} -> {a['how']}"
              for a in report.get("approximations", [])]
    if "fidelity" in report:
        from mskd.convert.nir.fidelity import short_lines

        lines += short_lines(report["fidelity"])
    for prof, m in report.get("mapping", {}).items():
        lines.append(f"{prof}: {m['total_cores']} cores, {m['chips']} chip(s)")
    for key in ("calibration", "evaluation"):
        if key in report and "ccc_drop" in report[key]:
            c = report[key]
            lines.append(f"{key}: CCC (valence, arousal mean) float {c['float']['ccc']:.3f} -> "
                         f"deployed {c['deployed']['ccc']:.3f} (drop {c['ccc_drop']:.3f}; "
                         f"valence {c['deployed']['valence']['ccc']:.3f}, arousal "
                         f"{c['deployed']['arousal']['ccc']:.3f})")
        elif key in report:
            c = report[key]
            lines.append(f"{key}: WAR float {100 * c['float']['war']:.2f} % -> deployed "
                         f"{100 * c['deployed']['war']:.2f} % (drop {c['war_drop_points']:.2f} "
                         f"points); first layer where float and deployed spikes agree on "
                         f"< {100 * (1 - c['divergence_tol']):.0f} %: "
                         f"{c['first_divergence'] or 'none'}")
    lines += [f"{c['check']}: {c['result']}" for c in report.get("checks", [])]
    return "\n".join(lines)


def check_nir_options(src: Path, given: dict) -> None:
    """ConfigError for a NIR-import option that is out of range, or given for a source
    that is not a NIR graph (where it would be ignored without a word)."""
    flag = {"source": "--from", "dt": "--dt", "reset": "--reset", "spikes": "--spikes",
            "approximate": "--approximate", "data": "--data",
            "fidelity_samples": "--fidelity-samples",
            "input_message_bits": "--input-message-bits", "input_scale": "--input-scale",
            "input_range": "--input-range"}
    used = [flag[k] for k, v in given.items() if v is not None]
    if used and src.suffix.lower() != ".nir":
        raise ConfigError(f"{used[0]} applies to NIR graphs only ({src} is not a .nir file)")
    for key, allowed in (("source", NIR_SOURCES), ("reset", ("zero", "subtract")),
                         ("spikes", ("single", "multi"))):
        if given[key] is not None and given[key] not in allowed:
            raise ConfigError(f"{flag[key]} {given[key]}: expected one of {'|'.join(allowed)}")


def _input_range(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise ConfigError(f"--input-range {text!r}: expected LO,HI (two numbers)") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError(f"--input-range {text!r}: expected finite LO < HI")
    return lo, hi


def graded_input(bits: int | None, scale: float | None, span: str | None
                 ) -> GradedInput | None:
    """The :class:`~mskd.loihi.graded.GradedInput` of ``--input-message-bits N`` (1..24),
    ``--input-scale S`` (a power of two; default the largest that fits, see
    :func:`mskd.loihi.graded.choose_scale`) and ``--input-range LO,HI`` (default 0,1), or None
    for binary spikes (no option, or N = 0); ConfigError naming the option."""
    from mskd.loihi.graded import MAX_BITS, GradedInput

    if not bits:
        given = "--input-scale" if scale is not None else "--input-range" if span else None
        if given:
            raise ConfigError(f"{given} applies to graded input: give --input-message-bits "
                              f"1..{MAX_BITS} too")
        return None
    if not 1 <= bits <= MAX_BITS:
        raise ConfigError(f"--input-message-bits {bits}: outside 0..{MAX_BITS} (Loihi 2 "
                          "graded messages; 0: binary spikes)")
    lo, hi = _input_range(span) if span else (0.0, 1.0)
    try:
        return GradedInput.choose(bits, lo, hi, scale)
    except ValueError as exc:
        given = f"--input-scale {scale:g}" if scale is not None else \
            f"--input-message-bits {bits}"
        raise ConfigError(f"{given}: {exc}") from None


def check_outputs(out: Path, nir: Path | None, force: bool) -> None:
    """Refuse to replace an existing output file unless ``--force`` (as ``train`` refuses an
    existing checkpoint and ``data synth`` an existing folder)."""
    for path in (out, nir):
        if path is not None and path.exists() and not force:
            raise ConfigError(f"{path} exists: pass --force to replace it or choose another "
                              "output")
        if path is not None and path.is_dir():
            raise ConfigError(f"{path} is a folder; expected a file name")


def register(app: typer.Typer) -> None:
    @app.command("convert", help="Quantize a student (or import NIR / netx) into Loihi fixed "
                                 "point; write netx HDF5, optionally ONNX, NIR and a report.")
    def convert(
        config: str = config_option(),
        src: Path = typer.Argument(..., help="Student .safetensors, .nir graph or netx .net/.h5."),
        out: Path = typer.Option(..., "--out", help="netx HDF5 file to write."),
        force: bool = typer.Option(False, "--force", help="Replace an existing --out (and "
                                   "--nir) file."),
        clip: str = typer.Option(None, "--clip", help="Clip spec E<n>-S<s> (default: the "
                                 "checkpoint's)."),
        profile: list[str] = typer.Option(None, "--profile", metavar="[loihi1|loihi2|PATH.toml]",
                                          help="Hardware profile(s) to map onto, repeatable "
                                               "(default: loihi1 and loihi2; loihi2 for a "
                                               "network with graded spikes)."),
        calib: str = typer.Option(None, "--calib", help="Dataset: per-layer report (train)."),
        eval_data: str = typer.Option(None, "--eval", help="Dataset: WAR/UAR (test split)."),
        views: int = typer.Option(1, "--views", min=1, max=1000,
                                  help="Seeded clip views per sequence."),
        batch_size: int = typer.Option(32, "--batch-size", min=1,
                                       help="Clips per simulator batch for --calib/--eval."),
        report: Path = typer.Option(None, "--report", help="Folder for JSON/Markdown reports."),
        onnx: Path = typer.Option(None, "--onnx", help="Folder for ONNX exports + checks."),
        nir: Path = typer.Option(None, "--nir", help="Also export the student as NIR here."),
        teacher: Path = typer.Option(None, "--teacher", help="With --onnx: also export and "
                                     "check this teacher checkpoint."),
        source: str = typer.Option(None, "--from", metavar=f"[{'|'.join(NIR_SOURCES)}]",
                                   help="NIR import: the exporter that wrote the graph (its "
                                        "time step, input gains and neuron defaults)."),
        dt: float = typer.Option(None, "--dt", min=1e-9, max=1e3,
                                 help="NIR import: time step in seconds (replaces the "
                                      "--from preset's; NIR stores none)."),
        reset: str = typer.Option(None, "--reset", metavar="[zero|subtract]",
                                  help="NIR import: how the source neurons reset (default: "
                                       "the --from framework's default)."),
        spikes: str = typer.Option(None, "--spikes", metavar="[single|multi]",
                                   help="NIR import: spikes per step of the source neurons "
                                        "(default: the --from framework's default)."),
        approximate: bool = typer.Option(False, "--approximate", help="NIR import: convert "
                                         "what Loihi cannot keep the nearest way it can, and "
                                         "list each change in the report."),
        data: Path = typer.Option(None, "--data", help="NIR import: input spikes .npy "
                                  "[samples, steps, *input shape] (0/1; analog values in "
                                  "--input-range with --input-message-bits) for the "
                                  "fidelity check (default: 128 seeded random inputs of 60 "
                                  "steps)."),
        fidelity_samples: int = typer.Option(None, "--fidelity-samples", min=0, max=100000,
                                             help="NIR import: random inputs (spike "
                                                  "trains, or analog values with graded "
                                                  "input) for the fidelity check (default "
                                                  "128; 0: skip it)."),
        input_message_bits: int = typer.Option(
            None, "--input-message-bits", metavar="N",
            help="NIR import: the graph takes analog input: send x as signed N-bit graded "
                 "payloads round(x * S) into the first synapse (1..24; default: binary "
                 "spikes, which NIR cannot tell apart)."),
        input_scale: float = typer.Option(
            None, "--input-scale", metavar="S",
            help="NIR import, graded input: the power of two S (default: the largest that "
                 "keeps --input-range within N bits)."),
        input_range: str = typer.Option(
            None, "--input-range", metavar="LO,HI",
            help="NIR import, graded input: the range of x (default 0,1); random fidelity "
                 "inputs are drawn from it and --data must stay in it."),
        input_shape: str = typer.Option(None, "--input-shape", metavar="C,H,W|N",
                                        help="netx import: the input shape of a file "
                                             "without an input layer (a lava-dl export "
                                             "without an Input block)."),
        norse11_taus: bool = typer.Option(False, "--norse11-taus", hidden=True,
                                          help="Old name of --from norse."),
    ) -> None:
        if dt is not None and not math.isfinite(dt):
            raise ConfigError(f"--dt {dt}: must be a finite time step in seconds")
        fn = SOURCES.get(src.suffix.lower())
        if fn is None:
            raise ConfigError(f"{src}: unknown source kind '{src.suffix}' (expected one of "
                              f"{', '.join(SOURCES)})")
        check_nir_options(src, dict(source=source, dt=dt, reset=reset, spikes=spikes,
                                    approximate=approximate or None,
                                    data=None if data is None else str(data),
                                    fidelity_samples=fidelity_samples,
                                    input_message_bits=input_message_bits,
                                    input_scale=input_scale, input_range=input_range))
        graded = graded_input(input_message_bits, input_scale, input_range)
        if data is not None and fidelity_samples is not None:
            raise ConfigError("--data and --fidelity-samples: give one (--data brings its own "
                              "inputs)")
        if input_shape is not None and fn is not _netx:
            raise ConfigError(f"--input-shape applies to netx files only ({src} is not a "
                              ".net/.h5/.hdf5 file)")
        from mskd.config import read_options

        shape = read_options(input_shape, 0)["input_shape"]
        check_outputs(out, nir, force)
        opts = dict(clip=clip, profiles=tuple(profile) if profile else None, calib=calib,
                    eval=eval_data, views=views, batch_size=batch_size,
                    report=None if report is None else str(report),
                    onnx=None if onnx is None else str(onnx),
                    nir=None if nir is None else str(nir),
                    extra={"dt": dt, "source": "norse" if norse11_taus and source is None
                           else source, "reset": reset, "spikes": spikes,
                           "approximate": approximate,
                           "data": None if data is None else str(data),
                           "input_shape": shape, "graded": graded,
                           "fidelity_samples": 128 if fidelity_samples is None
                           else fidelity_samples,
                           "teacher": None if teacher is None else str(teacher)})
        typer.echo(_summary(fn(src, out, opts)))

"""``mskd convert CKPT``: every step of the convert stage as one library call.

Order (each step can fail with a one-line error; nothing is written before every check
passed): load the student (kind and finiteness checked) -> fold into a NetSpec
(representability checked) -> map onto each hardware profile (design rules checked) ->
optionally compare float vs deployed on data, export ONNX and NIR into a staging folder ->
write the ``.net`` file atomically, publish the exports, write the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mskd.convert.fit_check import map_profiles
from mskd.convert.netx_writer import write_net
from mskd.convert.quant_report import compare_on_data, dataset_batches, weight_report
from mskd.convert.report import network_rows, write_reports
from mskd.convert.student_io import checkpoint_clip, load_student
from mskd.convert.student_net import student_netspec


@dataclass(frozen=True)
class ConvertOptions:
    """What ``mskd convert`` does beyond writing the ``.net`` file."""

    clip: str | None = None
    profiles: tuple[str, ...] | None = None  # None: by network kind (default_profiles)
    calib: str | None = None
    eval: str | None = None
    views: int = 1
    batch_size: int = 32
    report: str | None = None
    onnx: str | None = None
    nir: str | None = None
    extra: dict = field(default_factory=dict)


def _compare(student, net, root: str, split: str, opts: ConvertOptions) -> dict:
    batches = dataset_batches(root, net.encoding, split, opts.views, opts.batch_size)
    return {"data": str(root), "split": split,
            **compare_on_data(student, net.spec, net.encoding, batches)}


def _teacher_onnx(path: str, net, out_dir: str) -> dict:
    import torch
    from mskd.convert.onnx_export import export_teacher
    from mskd.train.models import load_model

    teacher = load_model(path, kind="teacher")
    g, n, size = torch.Generator().manual_seed(0), net.encoding.n_frames, teacher.config.size
    frames = torch.rand(2, n, 1, size, size, generator=g)
    events = torch.rand(2, n, 2, size, size, generator=g)
    r = export_teacher(teacher, frames, events, Path(out_dir) / "teacher.onnx")
    return {"check": "onnx teacher vs torch",
            "result": f"allclose={r['allclose']} max|diff|={r['max_abs_diff']:.3g}"}


def _exports(student, net, opts: ConvertOptions, stage: Path) -> list[dict]:
    """ONNX and NIR exports and their checks, written into ``stage`` (published later)."""
    checks = []
    if opts.onnx:
        from mskd.convert.onnx_export import export_all

        checks += export_all(student, net, stage / "onnx")
    if opts.onnx and opts.extra.get("teacher"):
        checks.append(_teacher_onnx(opts.extra["teacher"], net, stage / "onnx"))
    if opts.nir and getattr(student, "dense", False):
        checks.append({"check": "nir", "result": "not written: NIR has no sigma-delta (or "
                                                 "ReLU) primitive for this student"})
    elif opts.nir:
        from mskd.convert.nir.export import export_student_nir

        export_student_nir(student, stage / "student.nir", encoding=net.encoding)
        checks.append({"check": "nir written", "result": shown_path(opts.nir, opts.report)})
    return checks


def _publish(stage: Path, opts: ConvertOptions) -> None:
    """Move the staged exports to their places, each file atomically."""
    from mskd.fsio import write_bytes

    if opts.onnx:
        for f in sorted((stage / "onnx").iterdir()):
            write_bytes(Path(opts.onnx) / f.name, f.read_bytes())
    if opts.nir and (stage / "student.nir").exists():
        write_bytes(opts.nir, (stage / "student.nir").read_bytes())


def check_outputs(out, *dirs: str | None) -> None:
    """ConfigError now, before any work, for an output that cannot be written: ``out`` a
    folder, a report/export folder that is a file."""
    from mskd.errors import ConfigError

    if Path(out).is_dir():
        raise ConfigError(f"{out}: --out is a folder; give the .net file to write")
    for d in dirs:
        if d is not None and Path(d).exists() and not Path(d).is_dir():
            raise ConfigError(f"{d}: exists and is not a folder")


def shown_path(path: str | Path, report: str | None) -> str:
    """``path`` as a report shows it: relative to the report folder's parent when it lies
    there (so a report written in a temporary folder that is renamed later names no
    temporary path), else as given.

    >>> shown_path("/tmp/.x.partial-1/student.net", "/tmp/.x.partial-1/report")
    'student.net'
    >>> shown_path("runs/s.net", None)
    'runs/s.net'
    """
    if report is None:
        return str(path)
    try:
        return str(Path(path).resolve().relative_to(Path(report).resolve().parent))
    except ValueError:
        return str(path)


def convert_checkpoint(ckpt: str | Path, out: str | Path,
                       opts: ConvertOptions = ConvertOptions()) -> dict:
    """Convert the student checkpoint ``ckpt`` to ``out``; return the report dict.

    Every check (loading, representability, design rules, the data comparisons, the ONNX
    and NIR exports) runs first, exports into a staging folder; only then are ``out``, the
    exports and the report written, so a failure anywhere writes nothing.
    """
    import time

    from mskd.fsio import pid_tempdir
    from mskd.provenance import provenance

    start = time.perf_counter()
    check_outputs(out, opts.report, opts.onnx)
    student = load_student(ckpt)
    net = student_netspec(student, opts.clip or checkpoint_clip(ckpt))
    mapping = map_profiles(net.spec, opts.profiles)
    report = {"checkpoint": str(ckpt), "out": shown_path(out, opts.report),
              "network": network_rows(net.spec), "encoding": net.encoding.to_json(),
              "weights": weight_report(student, net.spec), "mapping": mapping}
    if opts.calib:
        report["calibration"] = _compare(student, net, opts.calib, "train", opts)
    if opts.eval:
        report["evaluation"] = _compare(student, net, opts.eval, "test", opts)
    with pid_tempdir("mskd-convert-") as stage:
        checks = _exports(student, net, opts, Path(stage))
        if checks:
            report["checks"] = checks
        write_net(net.spec, net.encoding, out, wall_seconds=time.perf_counter() - start)
        _publish(Path(stage), opts)
    report["provenance"] = provenance(time.perf_counter() - start)
    if opts.report:
        write_reports(opts.report, report)
    return report

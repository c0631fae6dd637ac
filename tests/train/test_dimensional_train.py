"""Dimensional students end to end: teacher and both student kinds train with privileged
distillation (output and feature level), the projection stays in training, the converted
network reads out valence and arousal per frame exactly as the student's fixed-point
forward computes them, and the CLI evaluates, runs and scores it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers import run_mskd
from mskd.convert.quant_report import compare_on_data, dataset_batches
from mskd.convert.student_net import convert_student
from mskd.train.checkpoint import load_checkpoint
from mskd.train.evaluate import evaluate
from mskd.train.loop import train
from mskd.train.models import load_model
from mskd.train.options import TrainOptions

from mskd.data.synth import synthesize
from mskd.errors import ConfigError

CLIP, SIZE = "E3-S2", 12
SMALL = {"lif": {"channels": [2], "hidden": [6], "steps_per_frame": 2},
         "sdnn": {"channels": [2], "hidden": [6]}}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    return synthesize(tmp_path_factory.mktemp("va") / "see", subjects=3, seed=2, size=SIZE,
                      min_length=12, max_length=16)


def _opts(out: Path, data: Path, **kw) -> TrainOptions:
    base = dict(data=str(data), out=str(out), epochs=1, batch_size=8, clip=CLIP, size=SIZE,
                task="dimensional", augment={})
    return TrainOptions(**{**base, **kw})


@pytest.fixture(scope="module")
def teacher(data: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("teacher")
    return train(_opts(out, data, kind="teacher", model={"channels": [2], "hidden": 8}),
                 progress=False)


@pytest.fixture(scope="module", params=["lif", "sdnn"])
def student(request, data: Path, teacher: Path, tmp_path_factory) -> tuple[str, Path]:
    out = tmp_path_factory.mktemp(f"student-{request.param}")
    return request.param, train(_opts(out, data, kind="student", neuron=request.param,
                                      model=SMALL[request.param], teacher=str(teacher),
                                      alpha=0.5, kd_terms=("out", "feat")), progress=False)


def test_projection_is_trained_and_left_out_of_the_deployed_model(student) -> None:
    kind, ckpt = student
    stored = load_checkpoint(ckpt)
    assert stored.model_config["task"] == "dimensional" and stored.model_config["classes"] == 2
    assert stored.model["kd_proj.weight"].shape == (8, 6)  # student features -> teacher's
    model = load_model(ckpt)
    assert not hasattr(model, "kd_proj") and model.config.kd_projection == 0
    assert model.config.task == "dimensional"


def test_deployed_readout_equals_the_fixed_point_forward(student, data: Path,
                                                         tmp_path) -> None:
    kind, ckpt = student
    model = load_model(ckpt)
    net = convert_student(model, tmp_path / "s.net", clip=CLIP)
    assert net.encoding.task == "dimensional"
    assert net.encoding.classes == ("valence", "arousal")
    cmp = compare_on_data(model, net.spec, net.encoding,
                          dataset_batches(data, net.encoding, "test", 1, 8), include_fixed=True)
    assert cmp["fixed_max_abs_diff"] == 0.0  # bit-exact, read out the same way
    assert cmp["deployed"]["ccc"] == cmp["fixed"]["ccc"]
    assert abs(cmp["ccc_drop"]) < 0.5 and -1 <= cmp["deployed"]["valence"]["ccc"] <= 1


def test_evaluation_reports_ccc_pcc_rmse_per_dimension_and_lighting(student,
                                                                    data: Path) -> None:
    _, ckpt = student
    res = evaluate(ckpt, str(data), views=2)
    assert res["task"] == "dimensional" and res["views"] == 2
    for d in ("valence", "arousal"):
        assert set(res[d]) == {"ccc", "pcc", "rmse"} and res[d]["rmse"] > 0
    assert set(res["per_lighting"]) == {"normal", "overexposure", "low-light", "HDR"}
    assert res["ccc"] == pytest.approx((res["valence"]["ccc"] + res["arousal"]["ccc"]) / 2)


def test_feature_distillation_resumes_to_the_same_weights(data: Path, teacher: Path,
                                                          tmp_path) -> None:
    kw = dict(kind="student", neuron="sdnn", model=SMALL["sdnn"], teacher=str(teacher),
              alpha=0.5, kd_terms=("feat",), epochs=2)
    full = load_checkpoint(train(_opts(tmp_path / "full", data, **kw), progress=False))
    train(_opts(tmp_path / "cut", data, **{**kw, "epochs": 1}), progress=False)
    resumed = load_checkpoint(train(_opts(tmp_path / "cut", data, **kw, resume=True),
                                    progress=False))
    assert set(full.model) == set(resumed.model) and "kd_proj.weight" in full.model
    for name, t in full.model.items():
        assert torch.equal(t, resumed.model[name]), name


def test_a_categorical_teacher_is_refused_for_a_dimensional_student(data: Path,
                                                                    tmp_path) -> None:
    cat = train(_opts(tmp_path / "t", data, kind="teacher", task="categorical",
                      model={"channels": [2], "hidden": 4}), progress=False)
    with pytest.raises(ConfigError, match="trained for the categorical task"):
        train(_opts(tmp_path / "s", data, kind="student", teacher=str(cat),
                    model=SMALL["sdnn"], neuron="sdnn"), progress=False)
    with pytest.raises(ConfigError, match="known dimensional terms are out, feat"):
        _opts(tmp_path / "s", data, kind="student", teacher=str(cat), kd_terms=("hckd",))


def test_cli_evaluates_runs_and_scores_a_dimensional_student(student, data: Path,
                                                             tmp_path) -> None:
    kind, ckpt = student

    ev = run_mskd("eval", ckpt, data, "--views", "1")
    assert ev.returncode == 0 and "CCC V" in ev.stdout and "mean CCC" in ev.stdout, ev.stderr
    conv = run_mskd("convert", ckpt, "--out", tmp_path / "s.net", "--eval", data)
    assert conv.returncode == 0 and "CCC (valence, arousal mean) float" in conv.stdout, \
        conv.stdout + conv.stderr
    run = run_mskd("deploy", "run", tmp_path / "s.net", "--data", data, "--out", tmp_path / "o.npz")
    assert run.returncode == 0 and "valence: CCC" in run.stdout, run.stderr
    import numpy as np

    saved = np.load(tmp_path / "o.npz")
    assert saved["va_frames"].shape[1:] == (3 if kind == "lif" else 7, 2)
    assert saved["va_annotation"].shape == saved["va_frames"].shape

"""``mskd convert``: writes the .net file and reports; bad input fails in one line and
leaves no output file behind."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
import torch
from mskd.train.checkpoint import save_checkpoint
from mskd.train.lif_config import StudentConfig
from mskd.train.student_lif import Student

from mskd.errors import MskdError
from mskd.net.encoding import read_encoding
from mskd.net.netx_io import read_netx

pytestmark = pytest.mark.unit

def _student(seed=0) -> Student:
    torch.manual_seed(seed)
    return Student(StudentConfig(size=8, channels=(3,), hidden=(6,), steps_per_frame=2,
                                 n_frames=2, input_gain=400, theta=0.3))


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from mskd.data.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("d") / "tiny", subjects=2, seed=1, size=8,
                      min_length=4, max_length=6)


def _cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``mskd convert`` through its own Typer registration (not the whole ``mskd`` app,
    so other stages' work in progress cannot break these tests); errors as mskd.cli shows
    them: the message alone on one line."""
    import typer
    from mskd.convert.cli import register

    app = typer.Typer()
    register(app)
    app.command("noop")(lambda: None)  # keep "convert" a sub-command, as in mskd
    try:
        typer.main.get_command(app).main(args=[*map(str, args)], standalone_mode=False)
        code, err = 0, ""
    except (MskdError, FileNotFoundError, ValueError) as exc:
        code, err = 1, f"error: {' '.join(str(exc).split())}\n"
        assert "\n" not in str(exc).strip(), "errors must be one line"
    cap = capsys.readouterr()
    return code, cap.out, err


def test_convert_writes_net_encoding_and_reports(tmp_path, capsys, tiny_data):
    ckpt = save_checkpoint(tmp_path / "s.safetensors", _student(), None, {"epoch": 0},
                           {"clip": "E2-S1"})
    out, rep = tmp_path / "s.net", tmp_path / "rep"
    code, stdout, err = _cli(capsys, "convert", ckpt, "--out", out, "--eval", tiny_data,
                             "--calib", tiny_data, "--report", rep)
    assert code == 0, err
    assert "loihi1:" in stdout and "evaluation: WAR float" in stdout
    assert read_encoding(out).clip == "E2-S1" and len(read_netx(out).layers) == 5
    data = json.loads((rep / "convert_report.json").read_text())
    assert set(data["mapping"]) == {"loihi1", "loihi2"}
    assert data["evaluation"]["split"] == "test" and data["calibration"]["split"] == "train"
    assert 0 <= data["evaluation"]["deployed"]["war"] <= 1
    md = (rep / "convert_report.md").read_text()
    assert "## Weight quantization" in md and "## Core mapping" in md
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _fails(capsys, out, *args) -> str:
    code, _, err = _cli(capsys, "convert", *args, "--out", out)
    assert code != 0
    assert len([ln for ln in err.splitlines() if ln.strip()]) == 1 and "Traceback" not in err
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    return err


def test_teacher_checkpoint_is_refused(tmp_path, capsys):
    from mskd.train.teacher import Teacher, TeacherConfig

    t = Teacher(TeacherConfig(size=8, channels=(2,), hidden=4))
    ckpt = save_checkpoint(tmp_path / "t.safetensors", t, None, {"epoch": 0})
    err = _fails(capsys, tmp_path / "t.net", ckpt)
    assert "field 'kind' is 'teacher', expected 'student'" in err


def test_nan_weight_names_the_layer(tmp_path, capsys):
    s = _student()
    with torch.no_grad():
        s.weights[1][2, 3] = float("nan")
    ckpt = save_checkpoint(tmp_path / "s.safetensors", s, None, {"epoch": 0})
    err = _fails(capsys, tmp_path / "s.net", ckpt)  # refused on loading, as for eval
    assert "tensor 'model.weights.1'" in err and "NaN" in err


def test_unrepresentable_weights_name_the_layer(tmp_path, capsys):
    s = _student()
    with torch.no_grad():  # weights in {0, -16}: netx over-scales, Lava truncates
        w = -16.0 * torch.randint(0, 2, s.weights[2].shape)
        w[0, 0] = -16.0
        s.weights[2].copy_(w / 2.0 ** s.config.weight_exps[2])
    ckpt = save_checkpoint(tmp_path / "s.safetensors", s, None, {"epoch": 0})
    err = _fails(capsys, tmp_path / "s.net", ckpt)
    assert "layer 4 (dense)" in err and "cannot be represented" in err


def test_pool_layer_is_refused(tmp_path, capsys):
    src = tmp_path / "pool.net"
    with h5py.File(src, "w") as f:
        g = f.create_group("layer")
        g.create_dataset("0/type", (1,), "S10", [b"input"])
        g.create_dataset("0/shape", data=np.array([1, 4, 4]))
        g.create_dataset("1/type", (1,), "S10", [b"pool"])
    err = _fails(capsys, tmp_path / "out.net", src)
    assert "layer 1 (pool)" in err


def test_design_rule_breach_names_rule_layer_and_numbers(tmp_path, capsys):
    from mskd.net.netx_io import write_netx
    from mskd.net.spec import DenseLayer, InputLayer, LifNeuron, NetSpec

    lif = LifNeuron(4096, 0, 100)
    spec = NetSpec((InputLayer((5000,), lif),
                    DenseLayer(5000, 2, np.ones((2, 5000), np.int64), lif)))
    write_netx(spec, tmp_path / "big.net")
    err = _fails(capsys, tmp_path / "out.net", tmp_path / "big.net", "--profile", "loihi1")
    assert "fan_in_axons" in err and "layer 1" in err and "5000 > limit 4096" in err


def test_unknown_source_kind(tmp_path, capsys):
    (tmp_path / "x.onnx").write_bytes(b"")
    err = _fails(capsys, tmp_path / "out.net", tmp_path / "x.onnx")
    assert "unknown source kind" in err


def test_convert_with_onnx_and_nir_exports(tmp_path, capsys):
    import nir

    ckpt = save_checkpoint(tmp_path / "s.safetensors", _student(), None, {"epoch": 0},
                           {"clip": "E2-S3"})
    out = tmp_path / "s.net"
    from mskd.train.teacher import Teacher, TeacherConfig

    tck = save_checkpoint(tmp_path / "t.safetensors", Teacher(TeacherConfig(
        size=8, channels=(2,), hidden=4)), None, {"epoch": 0})
    code, stdout, err = _cli(capsys, "convert", ckpt, "--out", out, "--onnx", tmp_path / "onnx",
                             "--nir", tmp_path / "s.nir", "--profile", "loihi2",
                             "--teacher", tck)
    assert code == 0, err
    assert "onnx integer step vs simulator: exact=True over 7 steps" in stdout
    assert "allclose=True" in stdout and "loihi1" not in stdout
    assert "onnx teacher vs torch: allclose=True" in stdout
    assert {p.name for p in (tmp_path / "onnx").iterdir()} == {
        "student_float.onnx", "student_step_int.onnx", "teacher.onnx"}
    assert "output" in nir.read(str(tmp_path / "s.nir")).nodes


def test_unfolded_batch_norm_in_checkpoint_is_refused(tmp_path, capsys):
    class WithBN(Student):
        def __init__(self, cfg):
            super().__init__(cfg)
            self.bn = torch.nn.BatchNorm2d(3)  # left unfolded: Loihi has no such layer

    torch.manual_seed(0)
    s = WithBN(_student().config)
    ckpt = save_checkpoint(tmp_path / "bn.safetensors", s, None, {"epoch": 0})
    err = _fails(capsys, tmp_path / "bn.net", ckpt)
    assert "unexpected tensor 'model.bn." in err


def test_bad_eval_data_writes_nothing(tmp_path, capsys):
    """Issue 13: every check (the data comparison included) runs before any output."""
    ckpt = save_checkpoint(tmp_path / "s.safetensors", _student(), None, {"epoch": 0},
                           {"clip": "E2-S1"})
    (tmp_path / "bad_data").mkdir()
    out, rep, nir = tmp_path / "s.net", tmp_path / "rep", tmp_path / "s.nir"
    code, _, err = _cli(capsys, "convert", ckpt, "--out", out, "--eval", tmp_path / "bad_data",
                        "--report", rep, "--nir", nir)
    assert code == 1 and "bad_data" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad_data", "s.safetensors"]

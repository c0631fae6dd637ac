"""The run path of the README: encode dataset clips with the network's own encoding, run
them, read the predicted emotions out as the network defines (mean output voltage)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import run_mskd

from mskd.data.encode import encode_clips
from mskd.net.encoding import decode_readout, read_encoding

CLIP = "E2-S1"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path, object]:
    from mskd.convert.student_net import convert_student
    from mskd.train.lif_config import StudentConfig
    from mskd.train.student_lif import Student

    from mskd.data.synth import synthesize

    root = tmp_path_factory.mktemp("run")
    data = synthesize(root / "see", subjects=3, seed=0, size=8, min_length=14, max_length=16)
    torch.manual_seed(0)
    student = Student(StudentConfig(size=8, channels=(4,), hidden=(8,), steps_per_frame=2,
                                    n_frames=2)).eval()
    convert_student(student, root / "s.net", clip=CLIP)
    return root / "s.net", data, student


def _sim_predictions(net: Path, x: np.ndarray) -> list[int]:
    from mskd.sim import simulator as sim

    _, rec = sim.run(net, x, record=("v",))
    return decode_readout(rec, read_encoding(net)).argmax(-1).tolist()


def test_data_encode_writes_what_deploy_run_takes(files, tmp_path) -> None:
    net, data, _ = files
    enc = read_encoding(net)
    made = run_mskd("data", "encode", str(data), "--net", str(net), "--out",
                    str(tmp_path / "x.npy"), "--limit", "3")
    assert made.returncode == 0, made.stderr
    x = np.load(tmp_path / "x.npy")
    assert x.dtype == np.int16 and x.shape == (3, enc.steps, 2, 8, 8)
    meta = json.loads((tmp_path / "x.clips.json").read_text())
    assert len(meta["clips"]) == 3 and meta["classes"][0] == "happiness"
    ran = run_mskd("deploy", "run", str(net), "--input", str(tmp_path / "x.npy"), "--backend",
                   "sim", "--record", "u,v", "--out", str(tmp_path / "out.npz"))
    assert ran.returncode == 0, ran.stderr
    out = np.load(tmp_path / "out.npz")
    expect = _sim_predictions(net, x)
    assert out["predicted"].tolist() == expect
    assert [str(c) for c in out["classes"][out["predicted"]]] == \
        [line.split()[1] for line in ran.stdout.splitlines()[2:5]]
    assert "u/1:conv" in out and "v/1:conv" in out


def test_deploy_run_data_names_the_emotions_the_student_predicts(files) -> None:
    """--data: the deployed network's predictions are the student's own (bit-exact), named."""
    from mskd.data.see import SEEDataset

    net, data, student = files
    ran = run_mskd("deploy", "run", str(net), "--data", str(data), "--views", "2")
    assert ran.returncode == 0, ran.stderr
    clips = encode_clips(net, data, "test", views=2)
    views = [c["view"] for c in clips.clips]
    assert views == sorted(views) and set(views) == {0, 1}  # view-major
    ds = SEEDataset(data, "test", clip=CLIP, size=8, train=False)
    frames = []
    for c in clips.clips:
        ds.set_view(c["view"])
        frames.append(ds[[r.key for r in ds.records].index(c["sequence"])][0])
    with torch.no_grad():
        own = student(torch.stack(frames)).mean(0).argmax(-1).tolist()
    assert own == _sim_predictions(net, clips.x)
    names = [line.split()[1] for line in ran.stdout.splitlines() if line[:6].strip().isdigit()]
    classes = read_encoding(net).classes
    assert names == [classes[i] for i in own][:len(names)] and len(names) == 20  # first 20
    assert f"over {len(own)} clips" in ran.stdout


def test_data_on_a_network_without_encoding_is_one_line(files, tmp_path) -> None:
    from mskd.net.netx_io import read_netx, write_netx

    net, data, _ = files
    write_netx(read_netx(net), tmp_path / "bare.net")
    out = run_mskd("deploy", "run", str(tmp_path / "bare.net"), "--data", str(data))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "mskd_encoding" in out.stderr


def test_net_and_checkpoint_say_what_made_them(files, tmp_path) -> None:
    from mskd.convert.netx_writer import read_provenance
    from mskd.train.checkpoint import load_checkpoint, save_checkpoint

    net, _, student = files
    p = read_provenance(net)
    assert p["versions"]["mskd"] and p["versions"]["python"] and p["created_utc"]
    path = save_checkpoint(tmp_path / "c.safetensors", student, None, {"epoch": 0})
    raw = path.read_bytes()
    meta = json.loads(json.loads(raw[8:8 + int.from_bytes(raw[:8], "little")])[
        "__metadata__"]["mskd"])
    assert meta["versions"]["torch"] == torch.__version__.split("+")[0]
    assert load_checkpoint(path).kind == "student"


@pytest.mark.lava
def test_verify_data_checks_real_clips(files) -> None:
    net, data, _ = files
    out = run_mskd("deploy", "verify", str(net), "--data", str(data), "--samples", "1")
    assert out.returncode == 0, out.stderr
    assert "bit-exact" in out.stdout and "1 test clip of" in out.stdout

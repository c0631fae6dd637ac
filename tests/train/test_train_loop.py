"""Training loop: exact resume, NaN stop, checkpoint errors, teacher cache, evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from mskd.train.batching import see_dataset
from mskd.train.checkpoint import load_checkpoint, save_checkpoint
from mskd.train.costs import summarize
from mskd.train.evaluate import evaluate
from mskd.train.loop import NonFiniteLoss, train
from mskd.train.models import build_model, load_model
from mskd.train.options import TrainOptions
from safetensors.torch import load_file, save_file

from mskd.data.synth import synthesize
from mskd.errors import CheckpointError, ConfigError

TEACHER = {"channels": [4, 8], "hidden": 16}
STUDENT = {"channels": [4], "hidden": [8], "steps_per_frame": 2}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return str(synthesize(tmp_path_factory.mktemp("see") / "synth", subjects=3, seed=0,
                          size=16, min_length=14, max_length=18))


def _opts(data: str, out: Path, kind: str = "teacher", **kw) -> TrainOptions:
    model = TEACHER if kind == "teacher" else STUDENT
    base = dict(kind=kind, data=data, out=str(out), epochs=2, batch_size=16, size=16,
                model=model, seed=3, threads=1)
    return TrainOptions(**{**base, **kw})


@pytest.fixture(scope="module")
def teacher(data, tmp_path_factory) -> Path:
    return train(_opts(data, tmp_path_factory.mktemp("t"), epochs=1), progress=False)


def _tensors(path: Path) -> dict:
    return load_file(str(path))


def test_resume_after_one_epoch_gives_the_same_weights(data, teacher, tmp_path) -> None:
    kw = dict(kind="student", teacher=str(teacher), alpha=0.5)
    straight = train(_opts(data, tmp_path / "a", **kw), progress=False)
    train(_opts(data, tmp_path / "b", epochs=1, **kw), progress=False)
    resumed = train(_opts(data, tmp_path / "b", resume=True, **kw), progress=False)
    a, b = _tensors(straight), _tensors(resumed)
    assert a.keys() == b.keys() and any(k.startswith("optim.") for k in a)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert load_checkpoint(resumed).state["epoch"] == 1
    assert (tmp_path / "b" / "log.csv").read_text().count("\n") == 3  # header + 2 epochs


def test_existing_checkpoint_without_resume_is_refused(data, teacher) -> None:
    with pytest.raises(ConfigError, match="--resume"):
        train(_opts(data, teacher.parent, epochs=1), progress=False)


def test_resume_with_changed_options_is_refused(data, teacher) -> None:
    with pytest.raises(ConfigError, match="'lr'"):
        train(_opts(data, teacher.parent, epochs=2, resume=True, lr=0.5), progress=False)


class _NaNAfterFirstEpoch(torch.utils.data.Dataset):
    def __init__(self, ds) -> None:
        self.ds, self.epoch = ds, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch
        self.ds.set_epoch(epoch)

    def __len__(self) -> int:
        return len(self.ds)

    def __getitem__(self, i):
        frames, events, label, meta = self.ds[i]
        return frames, events * (float("nan") if self.epoch else 1.0), label, meta


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(data, tmp_path) -> None:
    ds = _NaNAfterFirstEpoch(see_dataset(data, "train", "E4-S3", 16, train=True, seed=3))
    with pytest.raises(NonFiniteLoss, match="epoch 1"):
        train(_opts(data, tmp_path, epochs=3), dataset=ds, progress=False)
    ckpt = load_checkpoint(tmp_path / "checkpoint.safetensors", kind="teacher")
    assert ckpt.state["epoch"] == 0
    assert all(torch.isfinite(t).all() for t in ckpt.model.values())


def test_wrong_kind_or_shape_names_file_and_field(teacher, tmp_path) -> None:
    with pytest.raises(CheckpointError, match=r"checkpoint\.safetensors: field 'kind'"):
        load_model(teacher, kind="student")
    tensors = _tensors(teacher)
    tensors["model.fc.weight"] = torch.zeros(3, 3)
    meta = {"mskd": __import__("safetensors").safe_open(str(teacher), "pt").metadata()["mskd"]}
    bad = tmp_path / "bad.safetensors"
    save_file(tensors, str(bad), metadata=meta)
    with pytest.raises(CheckpointError, match=r"bad\.safetensors: tensor 'model\.fc\.weight'"):
        load_model(bad)
    (tmp_path / "junk.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.safetensors"):
        load_model(tmp_path / "junk.safetensors")


def test_checkpoint_roundtrip_is_exact(tmp_path) -> None:
    torch.manual_seed(0)
    net = build_model("student", STUDENT | {"size": 16}, n_frames=4)
    opt = torch.optim.Adam(net.parameters())
    net(torch.rand(2, 4, 1, 16, 16)).sum().backward()
    opt.step()
    path = save_checkpoint(tmp_path / "c.safetensors", net, opt, {"epoch": 0})
    back = load_model(path, kind="student")
    assert back.config == net.config
    frames = torch.rand(2, 4, 1, 16, 16)
    assert torch.equal(back.forward_fixed(frames).readout_v, net.forward_fixed(frames).readout_v)
    assert b"pickle" not in path.read_bytes()[:200]


def test_teacher_cache_runs_the_teacher_once_per_clip(data, teacher, tmp_path) -> None:
    from mskd.train.batching import collate
    from mskd.train.teacher_cache import TeacherCache

    ds = see_dataset(data, "train", "E4-S3", 16, train=True, seed=3)
    cache = TeacherCache(load_model(teacher))
    batch = collate([ds[i] for i in range(6)])
    first = cache(batch)
    assert cache.misses == 6 and cache.hits == 0
    again = cache(batch)
    assert cache.misses == 6 and cache.hits == 6 and torch.equal(first, again)
    direct = load_model(teacher)(batch.frames, batch.events)
    assert torch.allclose(first, direct, atol=1e-5)
    warmed = TeacherCache(load_model(teacher))
    assert warmed.warm(ds) == sum(ds.clip.max_start(r.length) + 1 for r in ds.records)
    for epoch in range(3):  # every training clip of any epoch is then a hit
        ds.set_epoch(epoch)
        assert torch.allclose(warmed(collate([ds[i] for i in range(len(ds))])), warmed(
            collate([ds[i] for i in range(len(ds))])))
    assert warmed.misses == 0


def test_evaluate_reports_war_uar_per_lighting(data, teacher) -> None:
    res = evaluate(teacher, data, views=2)
    assert res["views"] == 2 and 0.0 <= res["war"] <= 1.0 and 0.0 <= res["uar"] <= 1.0
    n_test = len(see_dataset(data, "test", "E4-S3", 16, train=False, seed=0))
    assert sum(map(sum, res["confusion"])) == 2 * n_test
    assert set(res["per_lighting"]) == {"normal", "overexposure", "low-light", "HDR"}


def test_summary_synops_count_conv_geometry() -> None:
    torch.manual_seed(0)
    net = build_model("student", {"size": 6, "channels": [2], "hidden": [3], "input_history": 1},
                      n_frames=1)
    s = summarize(net, torch.rand(2, 1, 1, 6, 6))
    # brute force: every (input pixel, output pixel) pair inside a 3x3 stride-2 pad-1 window
    pairs = sum(1 for oy in range(3) for ox in range(3) for ky in range(3) for kx in range(3)
                if 0 <= 2 * oy + ky - 1 < 6 and 0 <= 2 * ox + kx - 1 < 6)
    assert s["layers"]["conv0"]["synops_max"] == 2 * pairs
    assert s["layers"]["conv0"]["macs"] == 2 * 9 * 9
    assert s["params"] == 2 * 9 + 18 * 3 + 3 * 7
    assert 0 <= s["synops"] <= s["synops_max"]


def test_learning_rate_schedules() -> None:
    step = TrainOptions(kind="teacher", data="d", out="o", lr=1.0, gamma=0.5, epochs=4)
    assert [step.lr_at(e) for e in range(3)] == [1.0, 0.5, 0.25]
    cos = TrainOptions(kind="teacher", data="d", out="o", lr=1.0, schedule="cosine", epochs=4)
    assert [round(cos.lr_at(e), 4) for e in range(5)] == [1.0, 0.8536, 0.5, 0.1464, 0.0]
    with pytest.raises(ConfigError, match="schedule"):
        TrainOptions(kind="teacher", data="d", out="o", schedule="linear")


def test_trained_student_loads_folded_with_the_same_integer_weights(tmp_path) -> None:
    """Training standardises the weights; load_model hands the converter plain weights."""
    net = build_model("student", {"size": 8, **STUDENT, "weight_standardize": True}, 2)
    save_checkpoint(tmp_path / "c.safetensors", net, None, {"epoch": 0}, {})
    loaded = load_model(tmp_path / "c.safetensors", "student")
    assert not loaded.config.weight_standardize
    assert all(torch.equal(a, b) for a, b in zip(net.int_weights(), loaded.int_weights(),
                                                 strict=True))

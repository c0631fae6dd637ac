"""Clip augmentation: one transform per clip, seeded, resumable, and seen by the teacher too."""

from __future__ import annotations

import pytest
import torch
from mskd.train.augment import AugmentedClips, ClipAugment
from mskd.train.batching import collate, see_dataset
from mskd.train.checkpoint import load_checkpoint
from mskd.train.loop import train
from mskd.train.models import load_model
from mskd.train.options import TrainOptions
from mskd.train.teacher_cache import TeacherCache
from safetensors.torch import load_file

from mskd.data.synth import synthesize
from mskd.errors import ConfigError

AUG = {"shift": 0.1, "scale": 0.05, "rotate": 5.0, "gamma": 0.2}


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> str:
    return str(synthesize(tmp_path_factory.mktemp("see") / "synth", subjects=3, seed=0,
                          size=16, min_length=14, max_length=18))


def _ramp_clip(n: int = 3, size: int = 12) -> tuple[torch.Tensor, torch.Tensor]:
    """A clip whose frames differ (a horizontal ramp that brightens over time)."""
    x = torch.linspace(0.1, 0.9, size).expand(size, size)
    frames = torch.stack([(x * (0.8 + 0.1 * k))[None] for k in range(n)])
    events = torch.stack([torch.stack([x, 1 - x]) for _ in range(n)])
    return frames, events


def test_every_frame_and_event_frame_of_a_clip_gets_the_same_warp() -> None:
    aug = ClipAugment(shift=0.3, rotate=20.0)
    frames, events = _ramp_clip()
    same = frames[:1].expand(3, -1, -1, -1).clone()
    warped, _ = aug.apply(same, events, seed=0, epoch=0, index=1)
    assert torch.equal(warped[0], warped[1]) and torch.equal(warped[1], warped[2])
    f, e = aug.apply(frames, events, seed=0, epoch=0, index=1)
    assert not torch.allclose(f, frames, atol=1e-3)  # the warp did something
    # the event channel x equals frame 0 of the ramp: one warp maps both identically
    # (up to the padding: frames repeat the border, events get zeros outside)
    inside = aug.apply(frames, torch.ones_like(events), 0, 0, 1)[1][0, 0] > 1 - 1e-6
    assert int(inside.sum()) > 40
    assert torch.allclose(e[0, 0][inside], (f[0, 0] / 0.8)[inside], atol=1e-5)


def test_draws_depend_on_seed_epoch_and_index_only() -> None:
    aug = ClipAugment(**AUG)
    frames, events = _ramp_clip()
    a = aug.apply(frames, events, seed=1, epoch=2, index=3)[0]
    assert torch.equal(a, aug.apply(frames, events, seed=1, epoch=2, index=3)[0])
    for other in ((0, 2, 3), (1, 1, 3), (1, 2, 4)):
        assert not torch.equal(a, aug.apply(frames, events, *other)[0]), other


def test_gamma_keeps_frames_in_unit_range_and_changes_contrast() -> None:
    aug = ClipAugment(gamma=0.5)
    frames, events = _ramp_clip()
    outs = [aug.apply(frames, events, 0, 0, i)[0] for i in range(8)]
    assert all(float(o.min()) >= 0.0 and float(o.max()) <= 1.0 for o in outs)
    assert len({round(float(o.mean()), 4) for o in outs}) > 1


@pytest.mark.parametrize("text, field", [("shift=-1", "shift"), ("scale=1.5", "scale"),
                                         ("blur=1", "blur"), ("shift", "key=value"),
                                         ("gamma=nan", "gamma")])
def test_bad_augment_is_a_config_error(text: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        ClipAugment.parse(text)


def test_options_validate_augment() -> None:
    with pytest.raises(ConfigError, match="rotate"):
        TrainOptions(kind="teacher", data="d", out="o", augment={"rotate": -1})


def test_teacher_scores_the_augmented_clip_the_student_sees(data, tmp_path) -> None:
    kw = dict(data=data, epochs=1, batch_size=16, size=16, seed=3, threads=1)
    ckpt = train(TrainOptions(kind="teacher", out=str(tmp_path / "t"),
                              model={"channels": [4], "hidden": 8}, **kw), progress=False)
    base = see_dataset(data, "train", "E4-S3", 16, train=True, seed=3)
    ds = AugmentedClips(base, ClipAugment(**AUG), seed=3)
    ds.set_epoch(1)
    batch = collate([ds[i] for i in range(5)])
    cache = TeacherCache(load_model(ckpt))
    assert cache.warm(ds) == 0  # no (sequence, start) warm-up for augmented clips
    z = cache(batch)
    assert cache.fresh == 5 and cache.hits == cache.misses == 0 and not cache.store
    direct = load_model(ckpt)(batch.frames, batch.events)
    assert torch.allclose(z, direct, atol=1e-5)
    plain = collate([base[i] for i in range(5)])
    assert not torch.allclose(z, load_model(ckpt)(plain.frames, plain.events), atol=1e-3)


def test_augmented_distillation_resumes_exactly(data, tmp_path) -> None:
    kw = dict(data=data, batch_size=16, size=16, seed=3, threads=1, augment=AUG)
    teacher = train(TrainOptions(kind="teacher", out=str(tmp_path / "t"), epochs=1,
                                 model={"channels": [4], "hidden": 8}, **kw), progress=False)
    skw = dict(kind="student", teacher=str(teacher), alpha=0.5,
               model={"channels": [4], "hidden": [8], "steps_per_frame": 2}, **kw)
    straight = train(TrainOptions(out=str(tmp_path / "a"), epochs=2, **skw), progress=False)
    train(TrainOptions(out=str(tmp_path / "b"), epochs=1, **skw), progress=False)
    resumed = train(TrainOptions(out=str(tmp_path / "b"), epochs=2, resume=True, **skw),
                    progress=False)
    a, b = load_file(str(straight)), load_file(str(resumed))
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert load_checkpoint(resumed).options["augment"] == AUG
    with pytest.raises(ConfigError, match="'augment'"):
        train(TrainOptions(out=str(tmp_path / "b"), epochs=3, resume=True,
                           **{**skw, "augment": {}}), progress=False)

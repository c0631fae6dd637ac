"""MSKD losses: zero at agreement, positive otherwise, finite gradients, HCKD's hit mask."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from mskd.train.losses import LOSSES, cls_loss, hckd, hckd_ls, mskd_loss, tckd

from mskd.errors import ConfigError

pytestmark = pytest.mark.unit

G = torch.Generator().manual_seed(0)
LABEL = torch.tensor([0, 3, 6])


def _z(steps: int = 4) -> torch.Tensor:
    return torch.randn(steps, 3, 7, generator=G)


ALL_KD = ["hckd", "tckd", "hckd_clip", "hckd_pair", "kd", "kd_ls", "hckd_ls"]


@pytest.mark.parametrize("name", ALL_KD)
def test_kd_loss_zero_when_student_equals_teacher(name: str) -> None:
    z = _z()
    assert float(LOSSES[name](z, z.clone(), LABEL, 2.0)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("name", ALL_KD)
def test_kd_loss_positive_with_finite_gradient(name: str) -> None:
    z_t = _z()
    z_t[:, torch.arange(3), LABEL] += 10.0  # teacher right at every step: HCKD is active
    z_s = _z().requires_grad_(True)
    loss = LOSSES[name](z_s, z_t, LABEL, 2.0)
    loss.backward()
    assert float(loss) > 0
    assert torch.isfinite(z_s.grad).all() and float(z_s.grad.abs().sum()) > 0


def test_hckd_ignores_steps_where_the_teacher_is_wrong() -> None:
    z_t, z_s = _z(), _z()
    z_t[:2, torch.arange(3), LABEL] += 10.0  # right at steps 0, 1
    z_t[2:, torch.arange(3), (LABEL + 1) % 7] += 10.0  # wrong at steps 2, 3
    changed = z_s.clone()
    changed[2:] = torch.randn(2, 3, 7, generator=G) * 5  # only the wrong steps differ
    assert float(hckd(z_s, z_t, LABEL)) == pytest.approx(float(hckd(changed, z_t, LABEL)))
    # and the mean runs over hit steps only: duplicating a hit step's KL changes nothing
    only_hits = hckd(z_s[:2], z_t[:2], LABEL)
    assert float(hckd(z_s, z_t, LABEL)) == pytest.approx(float(only_hits))


def test_hckd_is_zero_when_the_teacher_is_never_right() -> None:
    z_t = _z()
    z_t[:, torch.arange(3), (LABEL + 2) % 7] += 20.0
    assert float(hckd(_z(), z_t, LABEL)) == 0.0


def test_standardised_kd_ignores_the_logit_scale() -> None:
    z = _z()
    assert float(LOSSES["kd_ls"](5.0 * z, z, LABEL, 2.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(LOSSES["kd"](5.0 * z, z, LABEL, 2.0)) > 0.01


@pytest.mark.parametrize("name", ["hckd_clip", "hckd_pair", "hckd_ls"])
def test_clip_hit_mask_ignores_clips_the_teacher_gets_wrong(name: str) -> None:
    """Per clip: the teacher's time-averaged prediction decides; a missed clip counts 0."""
    z_t, z_s = _z(), _z()
    z_t[:, 0, LABEL[0]] += 10.0  # clip 0 right
    z_t[:, 1:, (LABEL[1:] + 1) % 7] += 10.0  # clips 1, 2 wrong
    changed = z_s.clone()
    changed[:, 1:] = torch.randn(4, 2, 7, generator=G) * 5
    fn = LOSSES[name]
    assert float(fn(z_s, z_t, LABEL)) == pytest.approx(float(fn(changed, z_t, LABEL)))
    assert float(fn(z_s, z_t, LABEL)) == pytest.approx(float(fn(z_s[:, :1], z_t[:, :1],
                                                               LABEL[:1])))


def test_hckd_pair_distils_only_within_the_pair() -> None:
    """For a happiness clip only happiness vs disgust matters (the squint pair); neutral
    clips have no pair and use every class."""
    label = torch.tensor([0])
    z_t = torch.zeros(4, 1, 7)
    z_t[..., 0], z_t[..., 3] = 6.0, 2.0  # teacher: happiness, some disgust
    z_s = torch.zeros(4, 1, 7)
    z_s[..., 0], z_s[..., 3] = 6.0, 2.0
    other = z_s.clone()
    other[..., [1, 2, 4, 5, 6]] = torch.randn(5, generator=G) * 4  # outside the pair
    fn = LOSSES["hckd_pair"]
    assert float(fn(other, z_t, label)) == pytest.approx(0.0, abs=1e-6)
    swapped = z_s.clone()
    swapped[..., 0], swapped[..., 3] = 2.0, 6.0  # still right pair, wrong member
    assert float(fn(swapped, z_t, label)) > 0.1


def test_tckd_sees_temporal_structure_only() -> None:
    z = _z()
    assert float(tckd(3.0 * z, z)) == pytest.approx(0.0, abs=1e-6)  # scale-invariant
    assert float(tckd(z.flip(0), z)) > 0


def test_total_loss_mixes_terms_by_alpha() -> None:
    z_s, z_t = _z(), _z()
    z_t[:, torch.arange(3), LABEL] += 10.0
    base = cls_loss(z_s, None, LABEL)
    assert float(mskd_loss(z_s, None, LABEL, alpha=0.0)[0]) == pytest.approx(float(base))
    total, parts = mskd_loss(z_s, z_t, LABEL, alpha=0.3, tau=2.0, kd_terms=("hckd", "tckd"))
    expect = 0.7 * base + 0.3 * hckd(z_s, z_t, LABEL, 2.0) + 0.3 * tckd(z_s, z_t)
    assert float(total) == pytest.approx(float(expect))
    assert set(parts) == {"cls", "hckd", "tckd"}
    total, parts = mskd_loss(z_s, z_t, LABEL, alpha=0.3, tau=2.0)  # the shipped default
    expect = 0.7 * base + 0.3 * hckd_ls(z_s, z_t, LABEL, 2.0) + 0.3 * tckd(z_s, z_t)
    assert float(total) == pytest.approx(float(expect))
    assert set(parts) == {"cls", "hckd_ls", "tckd"}


@pytest.mark.parametrize("alpha", [-0.1, 1.01])
def test_alpha_outside_unit_interval_is_an_error(alpha: float) -> None:
    with pytest.raises(ConfigError, match="alpha"):
        mskd_loss(_z(), _z(), LABEL, alpha=alpha)


def test_label_smoothing_applies_to_the_classification_term() -> None:
    z = _z()
    expect = F.cross_entropy(z.mean(0), LABEL, label_smoothing=0.1)
    assert float(cls_loss(z, None, LABEL, label_smoothing=0.1)) == pytest.approx(float(expect))
    total, _ = mskd_loss(z, None, LABEL, alpha=0.0, label_smoothing=0.1)
    assert float(total) == pytest.approx(float(expect))


def test_clip_level_terms_use_every_student_frame() -> None:
    """A sigma-delta student has more frames than the teacher has steps: per-step terms
    pair the aligned frames, clip-level terms take the mean over all of them."""
    z_s, z_t = _z(7), _z(2)
    steps = [0, 6]
    _, parts = mskd_loss(z_s, z_t, LABEL, alpha=0.5, kd_terms=("kd", "tckd"), kd_steps=steps)
    assert parts["kd"] == pytest.approx(float(LOSSES["kd"](z_s, z_t, LABEL)))
    assert parts["tckd"] == pytest.approx(float(tckd(z_s[steps], z_t)))

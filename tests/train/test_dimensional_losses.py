"""CCC and the M2PKD-style distillation terms: values against the formula, zero when equal,
positive otherwise, finite gradients, alpha and the aligned steps honoured."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mskd.train.losses_va import ccc_loss, feat, mse_loss, out, pkd_loss

from mskd.errors import ConfigError
from mskd.metrics import ccc, pcc, rmse

pytestmark = pytest.mark.unit

def _pair(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    y = torch.rand(5, 4, 2, generator=g) * 2 - 1
    x = 0.7 * y + 0.2 + 0.1 * torch.randn(5, 4, 2, generator=g)
    return x, y


def test_ccc_pcc_rmse_match_their_formulas() -> None:
    x, y = _pair()
    xs, ys = x.reshape(-1, 2).double().numpy(), y.reshape(-1, 2).double().numpy()
    for d in range(2):
        a, b = xs[:, d], ys[:, d]
        want = 2 * np.cov(a, b, bias=True)[0, 1] / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
        assert float(ccc(x, y)[d]) == pytest.approx(want, rel=1e-5)
        assert float(pcc(x, y)[d]) == pytest.approx(np.corrcoef(a, b)[0, 1], rel=1e-5)
        assert float(rmse(x, y)[d]) == pytest.approx(np.sqrt(((a - b) ** 2).mean()), rel=1e-5)


def test_ccc_penalises_shift_and_scale_where_pearson_does_not() -> None:
    _, y = _pair()
    assert torch.allclose(pcc(2 * y + 0.5, y), torch.ones(2), atol=1e-5)
    assert float(ccc(2 * y + 0.5, y).max()) < 0.9
    assert torch.allclose(ccc(y, y), torch.ones(2), atol=1e-6)


@pytest.mark.parametrize("fn", [ccc_loss, mse_loss])
def test_task_losses_zero_when_equal_positive_otherwise_finite_gradients(fn) -> None:
    x, y = _pair()
    assert abs(float(fn(y, None, y))) < 1e-6
    x = x.clone().requires_grad_(True)
    loss = fn(x, None, y)
    loss.backward()
    assert float(loss) > 0 and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_distillation_terms_zero_when_equal_positive_otherwise() -> None:
    x, y = _pair()
    assert float(out(y, y)) == 0.0 and float(out(x, y)) > 0
    f_t = torch.randn(5, 4, 16)
    from mskd.train.losses import standardize

    assert float(feat(standardize(f_t), f_t)) < 1e-10
    f_s = torch.randn(5, 4, 16, requires_grad=True)
    loss = feat(f_s, f_t)
    loss.backward()
    assert float(loss) > 0 and torch.isfinite(f_s.grad).all()
    # the teacher's features are a fixed target: no gradient flows back into them
    f_t2 = f_t.clone().requires_grad_(True)
    assert not feat(f_s.detach(), f_t2).requires_grad


def test_pkd_loss_weights_the_terms_and_honours_the_aligned_steps() -> None:
    x, y = _pair()
    z_t = torch.zeros(3, 4, 2)
    steps = [0, 2, 4]
    total, parts = pkd_loss(x, y, 0.5, ("out",), "ccc", z_t=z_t, kd_steps=steps)
    want = 0.5 * ccc_loss(x, None, y) + 0.5 * out(x[steps], z_t)
    assert float(total) == pytest.approx(float(want), rel=1e-6)
    assert set(parts) == {"ccc", "out"}
    plain, _ = pkd_loss(x, y, 0.0, ("out",), "mse")  # alpha 0: no teacher needed
    assert float(plain) == pytest.approx(float(mse_loss(x, None, y)))
    with pytest.raises(ConfigError, match="needs the teacher"):
        pkd_loss(x, y, 0.5, ("out",))
    with pytest.raises(ConfigError, match="unknown dimensional distillation term 'kd'"):
        pkd_loss(x, y, 0.5, ("kd",), z_t=z_t)

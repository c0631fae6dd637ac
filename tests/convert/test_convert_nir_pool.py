"""Pooling folded into the next synapse: the same linear map of the spikes, exactly."""

from __future__ import annotations

import nir
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mskd.convert.nir.pool import fold_conv, fold_dense, pool_of

from mskd.errors import NetError

pytestmark = pytest.mark.unit

def _pool(kind: str, k: int, s: int, shape=(3, 8, 8)):
    cls = nir.SumPool2d if kind == "sum" else nir.AvgPool2d
    return pool_of("p", cls(np.array([k, k]), np.array([s, s]), np.array([0, 0])), shape)


def _pooled(x: torch.Tensor, kind: str, k: int, s: int) -> torch.Tensor:
    return F.avg_pool2d(x, k, s) * (k * k if kind == "sum" else 1)


@pytest.mark.parametrize("kind, k, s", [("sum", 2, 2), ("avg", 2, 2), ("sum", 3, 2),
                                        ("avg", 3, 3)])
def test_pool_then_dense_is_one_dense(kind, k, s):
    g = torch.Generator().manual_seed(0)
    x = (torch.rand(16, 3, 8, 8, generator=g) < 0.3).double()
    p = _pool(kind, k, s)
    w = torch.randn(5, int(np.prod(p.out_shape)), generator=g, dtype=torch.float64)
    want = _pooled(x, kind, k, s).flatten(1) @ w.T
    got = x.flatten(1) @ torch.from_numpy(fold_dense(p, w.numpy())).T
    assert torch.allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("kind, k, s, stride, padding", [
    ("sum", 2, 2, 1, 1), ("avg", 2, 2, 2, 1), ("sum", 3, 2, 1, 0), ("avg", 2, 2, 1, 0)])
def test_pool_then_conv_is_one_conv(kind, k, s, stride, padding):
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(16, 3, 8, 8, generator=g) < 0.3).double()
    p = _pool(kind, k, s)
    w = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)
    want = F.conv2d(_pooled(x, kind, k, s), w, stride=stride, padding=padding)
    w2, stride2, pad2 = fold_conv(p, w.numpy(), stride, padding, 1, "c")
    got = F.conv2d(x, torch.from_numpy(w2), stride=stride2, padding=pad2)
    assert got.shape == want.shape and torch.allclose(got, want, atol=1e-12)


def test_padding_after_an_overlapping_pool_is_refused():
    with pytest.raises(NetError, match="NIR node 'c': a conv with dilation .* after pooling "
                                       "'p' that does not tile the map is not one conv"):
        fold_conv(_pool("sum", 3, 2), np.ones((4, 3, 3, 3)), 1, 1, 1, "c")


def test_a_padded_pool_is_refused():
    node = nir.SumPool2d(np.array([2, 2]), np.array([2, 2]), np.array([1, 1]))
    with pytest.raises(NetError, match="NIR node 'p': pooling .* padding \\(1, 1\\)"):
        pool_of("p", node, (3, 8, 8))

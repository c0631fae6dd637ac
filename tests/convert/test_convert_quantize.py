"""Folding rules: which integer weights survive netx + Lava unchanged (property tests)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from mskd.convert.quantize import check_representable

from mskd.errors import NetError
from mskd.loihi.lif import netx_weights

pytestmark = pytest.mark.unit

@settings(max_examples=100, deadline=None)
@given(arrays(np.int64, st.integers(2, 40), elements=st.integers(-128, 127)))
def test_mixed_sign_mantissas_are_always_representable(w):
    """Property: any weights with both signs in -128..127 run exactly (w_eff = w << s)."""
    if not (w.min() < 0 < w.max()):
        return
    check_representable(w, "layer 1 (dense)")
    eff, exp = netx_weights(w)
    assert np.array_equal(eff, w * (1 << -exp))


@settings(max_examples=100, deadline=None)
@given(arrays(np.int64, st.integers(1, 40), elements=st.integers(-128, 127)))
def test_check_agrees_with_netx(w):
    """Property: the check passes exactly when netx's effective weights are w shifted."""
    if not w.any():
        with pytest.raises(NetError, match="all zero"):
            check_representable(w, "l")
        return
    eff, exp = netx_weights(w)
    exact = np.array_equal(eff, w * (1 << -exp)) if exp <= 0 else np.array_equal(eff << exp, w)
    if exact:
        check_representable(w, "l")
    else:
        with pytest.raises(NetError, match="cannot be represented"):
            check_representable(w, "l")


def test_out_of_range_and_per_channel_bias():
    import torch
    from mskd.convert.quantize import fold_layer
    from mskd.train.quantized import QuantLayer

    with pytest.raises(NetError, match=r"layer 2 \(dense\): field 'weight' range -129..5"):
        check_representable(np.array([-129, 5]), "layer 2 (dense)")
    b = torch.zeros(2, 2, 2, dtype=torch.int64)
    b[0, 1, 1] = 3
    q = QuantLayer("conv", (1, 4, 4), (2, 2, 2), weight=torch.tensor([[[[1, -1]]], [[[2, 3]]]]),
                   bias=b, stride=(2, 2), padding=(0, 1), i_decay=4096, v_decay=0,
                   vth_mant=10)
    with pytest.raises(NetError, match=r"layer 1 \(conv\): field 'bias' varies within"):
        fold_layer(q, 1)

"""``mskd.loihi.sdn.sdn_step`` against Lava's own fixed-point Delta, SigmaDelta and Sigma processes.

netx fixes some options (ReLU, no cumulative error, ``state_exp = 6``); Lava's processes
take them all, so the one definition is checked against each process built directly:
cum_error on and off, ReLU and unit activation, spike/state exponents, thresholds from 0
to the int32 edge, biases, and inputs that wrap Lava's int32 registers. Plus golden traces
and the float64 path (training) equal to the int64 path.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mskd.loihi.sdn import SdnParams, abs32, over_24_bits, sdn_step, zero_state

REGS = {"delta": ("act", "residue", "error"), "sigma_delta": ("sigma", "act", "residue", "error"),
        "sigma": ("sigma",)}


def _ours(p: SdnParams, x: np.ndarray, bias: np.ndarray | None, dtype=torch.int64):
    """Payloads [T, n] and registers {name: [T, n]} from sdn_step."""
    st = zero_state((x.shape[1],), dtype)
    b = 0 if bias is None else torch.tensor(bias, dtype=dtype)
    out, regs = [], {r: [] for r in REGS[p.kind]}
    for t in range(x.shape[0]):
        s, st = sdn_step(torch.tensor(x[t], dtype=dtype), st, p, b)
        out.append(s.to(torch.int64).numpy())
        for r in regs:
            regs[r].append(getattr(st, r).to(torch.int64).numpy())
    return np.array(out), {r: np.array(v) for r, v in regs.items()}


def _lava(p: SdnParams, x: np.ndarray, bias: np.ndarray | None):
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.sdn.process import ActivationMode, Delta, Sigma, SigmaDelta

    T, n = x.shape
    if p.kind == "sigma":
        proc = Sigma(shape=(n,))
    elif p.kind == "delta":
        proc = Delta(shape=(n,), vth=p.vth, cum_error=p.cum_error, spike_exp=p.spike_exp,
                     state_exp=p.state_exp)
    else:
        mode = ActivationMode.RELU if p.act == "relu" else ActivationMode.UNIT
        proc = SigmaDelta(shape=(n,), vth=p.vth, bias=0 if bias is None else bias,
                          act_mode=mode, cum_error=p.cum_error, spike_exp=p.spike_exp,
                          state_exp=p.state_exp)
    src, sink = Source(data=x.T.astype(np.int64)), Sink(shape=(n,), buffer=T)
    src.s_out.connect(proc.a_in)
    proc.s_out.connect(sink.a_in)
    cfg = Loihi2SimCfg(select_tag="fixed_pt")
    regs = {r: [] for r in REGS[p.kind]}
    try:
        for _ in range(T):
            proc.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
            for r in regs:
                regs[r].append(getattr(proc, r).get().astype(np.int64))
        out = sink.data.get().astype(np.int64).T
    finally:
        proc.stop()
    return out, {r: np.array(v) for r, v in regs.items()}


CASES = [  # (params, input scale, bias)
    (SdnParams("delta", vth=1), 255, None),
    (SdnParams("delta", vth=3, cum_error=True), 255, None),
    (SdnParams("delta", vth=0, spike_exp=0, state_exp=3), 1 << 20, None),  # int32 wraps
    (SdnParams("sigma_delta", vth=1), 1 << 14, np.array([3, -2, 0, 40, -40])),
    (SdnParams("sigma_delta", vth=2, cum_error=True), 1 << 14, np.array([1, 0, -1, 5, 9])),
    (SdnParams("sigma_delta", vth=1, act="unit"), 1 << 14, None),
    (SdnParams("sigma_delta", vth=1, act="unit", cum_error=True, spike_exp=2, state_exp=7),
     1 << 14, None),
    (SdnParams("sigma_delta", vth=(1 << 19) - 1), 1 << 30, None),  # sigma wraps at 32 bits
    (SdnParams("sigma_delta", vth=0, act="unit"), 1 << 30, np.array([(1 << 19) - 1] * 5)),
    (SdnParams("sigma"), 1 << 30, None),
]


@pytest.mark.lava
@pytest.mark.parametrize("case", range(len(CASES)))
def test_sdn_step_equals_lava_processes(case: int) -> None:
    pytest.importorskip("lava.proc.sdn.process")
    p, scale, bias = CASES[case]
    rng = np.random.default_rng(case)
    x = rng.integers(-scale, scale, size=(9, 5)) * (rng.random((9, 5)) < 0.7)
    x[3] = x[2]  # a step without change: nothing to send
    got, got_regs = _ours(p, x, bias)
    want, want_regs = _lava(p, x, bias)
    assert np.array_equal(got, want), (got, want)
    for r in REGS[p.kind]:
        assert np.array_equal(got_regs[r], want_regs[r]), r


def test_float64_path_equals_int64_path() -> None:
    """Training runs the same function on float64: every value stays an exact integer."""
    rng = np.random.default_rng(0)
    for p, scale, bias in CASES:
        x = rng.integers(-min(scale, 1 << 20), min(scale, 1 << 20), size=(7, 5))
        a, ra = _ours(p, x, bias)
        b, rb = _ours(p, x, bias, torch.float64)
        assert np.array_equal(a, b) and all(np.array_equal(ra[r], rb[r]) for r in ra)


def test_golden_delta_trace() -> None:
    """A Delta input (vth 2 = 8192 at 12 bits) sends (x - x_sent) << 6 once the change
    reaches 2, and keeps the rest in its residue."""
    p = SdnParams("delta", vth=2)
    out, regs = _ours(p, np.array([[10], [11], [12], [12], [9]]), None)
    assert out[:, 0].tolist() == [640, 0, 128, 0, -192]
    assert regs["residue"][:, 0].tolist() == [0, 4096, 0, 0, 0]


def test_threshold_zero_sends_every_change_and_nothing_else() -> None:
    p = SdnParams("sigma_delta", vth=0)
    out, _ = _ours(p, np.array([[64], [0], [0], [-64]]), None)
    assert out[:, 0].tolist() == [1, 0, 0, -1]


def test_int32_abs_quirk_and_24_bit_flag() -> None:
    assert abs32(torch.tensor([-(2**31)])).item() == -(2**31)  # never >= a threshold
    assert over_24_bits(torch.tensor([2**23, 2**23 - 1, -(2**23), -(2**23) - 1])).tolist() \
        == [True, False, False, True]


def test_params_refuse_what_lava_cannot_hold() -> None:
    with pytest.raises(ValueError, match="int32"):
        SdnParams("sigma_delta", vth=1 << 19)
    with pytest.raises(ValueError, match="spike_exp=8"):
        SdnParams("delta", spike_exp=8)
    with pytest.raises(ValueError, match="kind"):
        SdnParams("leaky")

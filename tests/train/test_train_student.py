"""The fixed-point student: exact integer forward, Loihi timing, the converter's description."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from mskd.train.lif_config import OUT_VTH_MANT, StudentConfig
from mskd.train.student_lif import Student

from mskd.errors import ConfigError
from mskd.frames import normalize_frames, stack_history
from mskd.loihi.lif import LifParams, effective_bias, lif_step, zero_state
from mskd.loihi.quantizers import quantize_weight, round_ste

pytestmark = pytest.mark.unit

TINY = dict(size=12, channels=(3,), hidden=(6,), n_frames=2, steps_per_frame=3)


def _net(seed: int = 0, **kw) -> Student:
    torch.manual_seed(seed)
    return Student(StudentConfig(**{**TINY, **kw}))


def test_fixed_forward_equals_training_forward_bit_for_bit() -> None:
    net = _net()
    frames = torch.rand(4, 2, 1, 12, 12, generator=torch.Generator().manual_seed(1))
    fixed = net.forward_fixed(frames)
    train = net.simulate(frames, exact=False, record=True)
    assert fixed.readout_v.dtype == torch.int64
    assert torch.equal(fixed.readout_v, train.readout_v.to(torch.int64))
    assert torch.equal(fixed.readout_v.double(), train.readout_v)  # no fractional part
    for a, b in zip(fixed.spikes + fixed.u + fixed.v, train.spikes + train.u + train.v,
                    strict=True):
        assert torch.equal(a.double(), b)
    assert any(int(s[:, :, ...].sum()) > 0 for s in fixed.spikes[1:-1]), "hidden layers silent"


def _reference(net: Student, frames: torch.Tensor) -> torch.Tensor:
    """An independent int64 run of ``quantized()``: the converter's view of the network."""
    q = net.quantized()
    layers = [lay for lay in q.layers if lay.kind != "flatten"]
    params = [LifParams.from_netx(lay.i_decay, lay.v_decay, lay.vth_mant) for lay in layers]
    batch, n = frames.shape[:2]
    frames = stack_history(normalize_frames(frames, q.input_norm), q.input_history)
    states = [zero_state((batch, *lay.out_shape)) for lay in layers]
    spikes = [torch.zeros((batch, *lay.out_shape), dtype=torch.int64) for lay in layers]
    out = []
    for t in range(q.steps):
        frame = frames[:, min(t // q.steps_per_frame, n - 1)]
        bias = effective_bias(torch.round(frame * q.input_gain).to(torch.int64))
        new = [lif_step(torch.zeros_like(bias), states[0], params[0], bias)]
        for i, lay in enumerate(layers[1:], start=1):
            pre = spikes[i - 1].double()  # delivered one step late: previous step's spikes
            if lay.kind == "conv":
                a = F.conv2d(pre, lay.weight.double(), stride=lay.stride, padding=lay.padding)
            else:
                a = pre.flatten(1) @ lay.weight.double().T
            new.append(lif_step(a.to(torch.int64), states[i], params[i], lay.bias))
        spikes = [s for s, _ in new]
        states = [s for _, s in new]
        if t >= q.latency:
            out.append(states[-1].v)
    return torch.stack(out)


@pytest.mark.parametrize("norm, history", [("none", 1), ("minmax", 2)])
def test_quantized_description_reproduces_the_fixed_forward(norm: str, history: int) -> None:
    net = _net(3, input_norm=norm, input_history=history)
    frames = torch.rand(3, 2, 1, 12, 12, generator=torch.Generator().manual_seed(2))
    assert torch.equal(_reference(net, frames), net.forward_fixed(frames).readout_v)


def test_quantized_layout() -> None:
    q = _net().quantized()
    kinds = [lay.kind for lay in q.layers]
    assert kinds == ["input", "conv", "flatten", "dense", "dense"]
    conv, dense = q.layers[1], q.layers[3]
    assert conv.weight.shape == (3, 2, 3, 3) and conv.weight.dtype == torch.int64
    assert q.layers[0].out_shape == (2, 12, 12) and q.input_history == 2
    assert conv.out_shape == (3, 6, 6) and conv.stride == (2, 2) and conv.padding == (1, 1)
    assert dense.weight.shape == (6, 108) and q.layers[2].out_shape == (108,)
    assert q.layers[-1].vth_mant == OUT_VTH_MANT
    assert q.latency == 3 and q.steps == 2 * 3 + 3
    for lay in q.layers:
        if lay.weight is not None:
            assert -128 <= int(lay.weight.min()) and int(lay.weight.max()) <= 127


def test_synaptic_delay_one_step_per_layer() -> None:
    net = _net(input_gain=4095, input_vth_mant=1, input_norm="none")  # a constant clip
    run = net.forward_fixed(torch.ones(1, 2, 1, 12, 12))
    assert int(run.spikes[0][0].sum()) > 0  # the input spikes at step 0 from bias alone
    for layer in range(1, len(run.u)):
        # layer l first receives input at step l: its current is exactly zero before that
        assert int(run.u[layer][:layer].abs().sum()) == 0
    assert int(run.u[1][1].abs().sum()) > 0


def test_gradients_reach_every_layer() -> None:
    net = _net()
    logits = net(torch.rand(2, 2, 1, 12, 12, generator=torch.Generator().manual_seed(0)))
    F.cross_entropy(logits.mean(0), torch.tensor([0, 1])).backward()
    for w in net.weights:
        assert torch.isfinite(w.grad).all() and float(w.grad.abs().sum()) > 0


def test_config_roundtrip_rebuilds_the_same_integer_network() -> None:
    a = _net(5)
    b = Student(StudentConfig.from_dict(a.config.to_dict()))
    b.load_state_dict(a.state_dict())
    frames = torch.rand(1, 2, 1, 12, 12)
    assert torch.equal(a.forward_fixed(frames).readout_v, b.forward_fixed(frames).readout_v)


@pytest.mark.parametrize("bad", [dict(input_gain=5000), dict(v_decay=4096), dict(i_decay=-1)])
def test_bad_config_is_a_config_error(bad: dict) -> None:
    with pytest.raises(ConfigError):
        StudentConfig(**{**TINY, **bad})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(-4, 4, allow_nan=False), min_size=1, max_size=20),
       st.integers(-2, 9))
def test_weight_quantiser_is_an_8bit_mantissa(values: list[float], exp: int) -> None:
    """w_int is an integer in [-128, 127] and equals round(w 2^e) wherever that is in range."""
    w = torch.tensor(values, requires_grad=True)
    q = quantize_weight(w, exp)
    assert torch.equal(q, torch.round(q)) and q.min() >= -128 and q.max() <= 127
    inside = (torch.round(w * 2.0**exp).abs() <= 127).detach()
    assert torch.equal(q[inside], torch.round(w.detach() * 2.0**exp)[inside])
    q.sum().backward()
    assert torch.equal(w.grad[inside], torch.full_like(w.grad[inside], 2.0**exp))


def test_round_ste_passes_gradient() -> None:
    x = torch.tensor([0.4, 1.6], requires_grad=True)
    y = round_ste(x)
    y.sum().backward()
    assert y.tolist() == [0.0, 2.0] and x.grad.tolist() == [1.0, 1.0]


def test_standardised_hidden_weights_are_zero_mean_with_a_fixed_norm() -> None:
    net = _net(4, weight_standardize=True)
    with torch.no_grad():
        for w in net.weights:
            w.mul_(3.0).add_(0.5)  # scale and offset leave the hidden layers' weights unchanged
    fw = net.float_weights()
    for w in fw[:-1]:
        flat = w.flatten(1)
        assert torch.allclose(flat.mean(1), torch.zeros(len(flat)), atol=1e-6)
        assert torch.allclose(flat.norm(dim=1) ** 2, torch.full((len(flat),), 2.0), rtol=0.2)
    assert torch.equal(fw[-1], net.weights[-1])  # the readout layer is left raw
    raw = _net(4)  # off unless asked for (training asks for it)
    assert all(torch.equal(a, b) for a, b in zip(raw.float_weights(), raw.weights, strict=True))


def test_folding_the_standardisation_keeps_the_integer_network() -> None:
    net = _net(7, weight_standardize=True)
    flat = net.folded()
    assert not flat.config.weight_standardize
    assert all(torch.equal(a, b) for a, b in zip(net.int_weights(), flat.int_weights(),
                                                 strict=True))
    frames = torch.rand(2, 2, 1, 12, 12, generator=torch.Generator().manual_seed(5))
    assert torch.equal(net.forward_fixed(frames).readout_v, flat.forward_fixed(frames).readout_v)


def test_spike_dropout_acts_in_training_only() -> None:
    net = _net(6, spike_dropout=0.5)
    frames = torch.rand(3, 2, 1, 12, 12, generator=torch.Generator().manual_seed(3))
    fixed = net.forward_fixed(frames).readout_v.double()
    torch.manual_seed(0)
    assert not torch.equal(net.simulate(frames, exact=False).readout_v, fixed)
    net.eval()
    assert torch.equal(net.simulate(frames, exact=False).readout_v, fixed)

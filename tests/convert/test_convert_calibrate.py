"""Float reference, weight report and float-vs-deployed comparison on tiny data."""

from __future__ import annotations

import math

import pytest
import torch
from mskd.convert.float_ref import float_forward
from mskd.convert.quant_report import compare_on_data, dataset_batches, weight_report
from mskd.convert.student_net import student_netspec
from mskd.train.lif_config import StudentConfig
from mskd.train.student_lif import Student

pytestmark = pytest.mark.unit

def _student(seed=0, **kw) -> Student:
    torch.manual_seed(seed)
    cfg = dict(size=8, channels=(3,), hidden=(6,), steps_per_frame=2, n_frames=2,
               input_gain=400, theta=0.3)
    return Student(StudentConfig(**{**cfg, **kw})).eval()


def test_float_equals_fixed_when_nothing_rounds():
    """No leak, weights on the integer grid, integer pixel products: no rounding anywhere."""
    s = _student(v_decay=0, out_v_decay=0, i_decay=4096)
    with torch.no_grad():
        for w, e in zip(s.weights, s.config.weight_exps, strict=True):
            w.copy_(torch.round(w * 2.0 ** e) / 2.0 ** e)
    g = torch.Generator().manual_seed(3)
    frames = torch.randint(0, 401, (2, 2, 1, 8, 8), generator=g).double() / 400
    fr, fixed = float_forward(s, frames), s.forward_fixed(frames)
    assert sum(int(x[1:].sum()) for x in fixed.spikes) > 0
    for a, b in zip(fr.spikes, fixed.spikes, strict=True):
        assert torch.equal(a, b.double())
    torch.testing.assert_close(fr.logits, s(frames.float()).double().mean(0), rtol=0, atol=1e-6)


def test_float_differs_from_fixed_only_by_the_weight_rounding():
    """Same exact setting as above but with weights off the integer grid: the float run
    moves away from the fixed one, and snapping those weights back to the grid (nothing
    else changed) brings back spike-for-spike equality, so the gap is the rounding alone."""
    s = _student(v_decay=0, out_v_decay=0, i_decay=4096)
    g = torch.Generator().manual_seed(3)
    frames = torch.randint(0, 401, (2, 2, 1, 8, 8), generator=g).double() / 400
    with torch.no_grad():  # off grid by a third of a mantissa step, so every weight rounds
        for w, e in zip(s.weights, s.config.weight_exps, strict=True):
            w.copy_((torch.round(w * 2.0 ** e) + 0.34 * torch.sign(w)) / 2.0 ** e)
    off = float_forward(s, frames)
    fixed = s.forward_fixed(frames)
    assert any(not torch.equal(a, b.double()) for a, b in zip(off.spikes, fixed.spikes,
                                                               strict=True))
    with torch.no_grad():
        for w, e in zip(s.weights, s.config.weight_exps, strict=True):
            w.copy_(torch.round(w * 2.0 ** e) / 2.0 ** e)
    snapped = float_forward(s, frames)
    for a, b in zip(s.forward_fixed(frames).spikes, fixed.spikes, strict=True):
        assert torch.equal(a, b)  # the deployed integers did not move: they round the same
    for a, b in zip(snapped.spikes, fixed.spikes, strict=True):
        assert torch.equal(a, b.double())


def test_weight_report_clipping_and_sqnr():
    s = _student()
    with torch.no_grad():
        s.weights[0][0, 0, 0, 0] = 1000.0 / 2.0 ** s.config.weight_exps[0]  # forces a clip
    rows = weight_report(s)
    assert rows[0]["clipped_fraction"] == pytest.approx(1 / s.weights[0].numel())
    assert rows[0]["float_max"] == pytest.approx(1000.0) and rows[0]["int_max"] == 127
    assert all(r["sqnr_db"] > 10 for r in rows[1:]) and rows[0]["sqnr_db"] < rows[1]["sqnr_db"]
    with torch.no_grad():
        for w, e in zip(s.weights, s.config.weight_exps, strict=True):
            w.copy_(torch.round(w * 2.0 ** e).clamp(-128, 127) / 2.0 ** e)
    assert all(math.isinf(r["sqnr_db"]) for r in weight_report(s))


def _batches(n_batches=2, batch=5, seed=4):
    g = torch.Generator().manual_seed(seed)
    for _ in range(n_batches):
        yield (torch.rand(batch, 2, 1, 8, 8, generator=g),
               torch.randint(0, 7, (batch,), generator=g), ["normal"] * batch)


def test_compare_deployed_scores_like_fixed_student():
    s = _student()
    net = student_netspec(s, clip="E2-S3")
    out = compare_on_data(s, net.spec, net.encoding, _batches(), include_fixed=True)
    assert out["clips"] == 10
    assert out["deployed"] == out["fixed"]
    assert [r["layer"] for r in out["layers"]] == ["0:input", "1:conv", "3:dense", "4:dense"]
    assert all(0 <= r["spike_agreement"] <= 1 for r in out["layers"])
    assert out["layers"][0]["spike_agreement"] > 0.9  # input: only pixel rounding differs
    assert out["war_drop_points"] == pytest.approx(
        100 * (out["float"]["war"] - out["deployed"]["war"]))


def test_first_divergence_names_a_layer_when_tolerance_is_zero():
    s = _student()
    net = student_netspec(s, clip="E2-S3")
    out = compare_on_data(s, net.spec, net.encoding, _batches(1), divergence_tol=0.0)
    names = [r["layer"] for r in out["layers"] if r["spike_agreement"] < 1]
    assert out["first_divergence"] == (names[0] if names else None)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from mskd.data.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("d") / "tiny", subjects=2, seed=1, size=8,
                      min_length=4, max_length=6)


def test_dataset_batches_feed_the_comparison(tiny_data):
    s = _student()
    net = student_netspec(s, clip="E2-S3")
    batches = list(dataset_batches(tiny_data, net.encoding, split="test", batch_size=4))
    assert batches and batches[0][0].shape[1:] == (2, 1, 8, 8)
    out = compare_on_data(s, net.spec, net.encoding, batches, include_fixed=True)
    assert out["clips"] == sum(len(b[1]) for b in batches)
    assert out["deployed"] == out["fixed"]

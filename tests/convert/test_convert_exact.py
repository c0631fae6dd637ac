"""Acceptance: the student's fixed-point forward, the simulator on the written file and
Lava on the written file agree exactly (spikes, u, v and readout)."""

from __future__ import annotations

import pytest
import torch
from mskd.convert.student_net import convert_student
from mskd.train.lif_config import StudentConfig
from mskd.train.student_lif import Student

from mskd.net.encoding import decode_readout, encode_frames, read_encoding

pytestmark = pytest.mark.unit

def _student(seed: int = 0, **kw) -> Student:
    torch.manual_seed(seed)
    cfg = dict(size=8, channels=(3,), hidden=(6,), steps_per_frame=2, n_frames=2,
               input_gain=400)
    return Student(StudentConfig(**{**cfg, **kw})).eval()


def _frames(batch: int, n: int, size: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(batch, n, 1, size, size, generator=g)


def _assert_same(fixed, rec) -> None:
    for k, name in enumerate(rec.names):
        assert torch.equal(fixed.spikes[k].to(torch.int64), rec.spikes[name].to(torch.int64)), name
        assert torch.equal(fixed.u[k], rec.u[name].to(torch.int64)), name
        assert torch.equal(fixed.v[k], rec.v[name].to(torch.int64)), name


@pytest.mark.parametrize("kw", [{}, {"channels": (2, 3), "hidden": (5, 4), "stride": 1},
                                {"input_norm": "minmax", "input_history": 3, "n_frames": 3}])
def test_student_equals_simulator_on_written_file(tmp_path, kw):
    from mskd.sim.simulator import run

    s = _student(**kw)
    size = s.config.size
    net = convert_student(s, tmp_path / "s.net", clip=f"E{s.config.n_frames}-S3")
    frames = _frames(3, s.config.n_frames, size)
    fixed = s.forward_fixed(frames)
    enc = read_encoding(net.path)
    _, rec = run(net.path, encode_frames(frames, enc), record=("u", "v"))
    assert sum(int(x.sum()) for x in fixed.spikes[1:]) > 0  # something spikes past the input
    _assert_same(fixed, rec)
    logits = decode_readout(rec, enc)
    want = s(frames).double().mean(0)  # per-frame logits averaged: the student's prediction
    torch.testing.assert_close(logits, want, rtol=0, atol=1e-6)
    assert torch.equal(logits.argmax(-1), want.argmax(-1))


@pytest.mark.parametrize("kw", [{"input_history": 1}, {"input_history": 2},
                                {"input_norm": "minmax", "input_history": 2}])
def test_encoding_matches_student_input_bias(kw):
    from mskd.convert.student_io import student_encoding

    from mskd.loihi.lif import effective_bias
    from mskd.net.encoding import bias_mantissa

    s = _student(**kw)
    frames = _frames(2, 2, 8)
    frames[0, 0, 0, 0, :4] = torch.tensor([0.5 / 400, 1.5 / 400, 2.5 / 400, 1.0])  # ties
    enc = student_encoding(s, clip="E2-S3")
    assert torch.equal(effective_bias(bias_mantissa(frames, enc)), s.input_bias(frames, True))

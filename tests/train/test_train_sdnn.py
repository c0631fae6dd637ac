"""The sigma-delta student: its training forward is the deployed network's arithmetic.

The float64 straight-through forward, the int64 forward, the simulator on the converted
netx file and Lava agree bit for bit (payloads of every layer, the readout); gradients
reach every parameter; thresholds calibrate; training, evaluation and conversion run from
the CLI on a tiny dataset.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import run_mskd
from mskd.convert.student_net import convert_student
from mskd.train.calibrate_sdnn import calibrate_delta_thresholds
from mskd.train.sdnn_config import SdnnConfig
from mskd.train.student_sdnn import SdnnStudent

from mskd.errors import ConfigError
from mskd.net.encoding import decode_readout, encode_frames
from mskd.net.record import REGISTERS

TINY = dict(size=12, channels=(3, 4), hidden=(5,), n_frames=5)


def _net(seed: int = 0, **kw) -> SdnnStudent:
    torch.manual_seed(seed)
    net = SdnnStudent(SdnnConfig(**{**TINY, **kw}))
    with torch.no_grad():
        for b in net.biases:
            b.uniform_(-0.2, 0.2)  # exercise the bias path
    return net


def _frames(seed: int = 1, batch: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.rand(batch, 1, 1, 12, 12, generator=g)
    drift = 0.05 * torch.randn(batch, 5, 1, 12, 12, generator=g).cumsum(1)
    return (base + drift).clamp(0, 1)


def test_training_forward_equals_fixed_forward() -> None:
    net = _net()
    frames = _frames()
    fixed = net.forward_fixed(frames)
    train = net.simulate(frames, exact=False)
    for a, b in zip(fixed.messages, train.messages, strict=True):
        assert a.dtype == torch.int64 and torch.equal(a.double(), b)
    assert all(int((m != 0).sum()) > 0 for m in fixed.messages), "a layer is silent"
    assert int(fixed.messages[1].abs().max()) > 1, "payloads must be graded"


def test_converted_network_equals_the_student_in_the_simulator(tmp_path) -> None:
    from mskd.sim import simulator as sim

    net = _net(2)
    frames = _frames(3)
    conv = convert_student(net, tmp_path / "s.net", clip="E3-S1")
    assert conv.encoding.kind == "delta" and conv.encoding.dense and conv.encoding.n_frames == 5
    _, rec = sim.run(tmp_path / "s.net", encode_frames(frames, conv.encoding), REGISTERS)
    fixed = net.forward_fixed(frames)
    for name, msgs in zip(rec.names, fixed.messages, strict=True):
        assert torch.equal(rec.spikes[name].long(), msgs), name
    logits = decode_readout(rec, conv.encoding)
    assert torch.equal(logits, net(frames).double().mean(0))


@pytest.mark.lava
def test_converted_network_equals_the_student_in_lava(tmp_path) -> None:
    from mskd.deploy import lava_backend

    net = _net(4)
    frames = _frames(5, batch=2)
    conv = convert_student(net, tmp_path / "s.net", clip="E3-S1")
    _, rec = lava_backend.run(tmp_path / "s.net", encode_frames(frames, conv.encoding))
    fixed = net.forward_fixed(frames)
    for name, msgs in zip(rec.names, fixed.messages, strict=True):
        assert torch.equal(rec.spikes[name].long(), msgs), name


def test_gradients_reach_every_parameter() -> None:
    net = _net()
    z = net(_frames())
    loss = torch.nn.functional.cross_entropy(z.mean(0), torch.tensor([0, 3, 6]))
    loss = loss + 0.1 * net.activity_loss()
    loss.backward()
    for p in list(net.weights) + list(net.biases):
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0


def test_float_twin_tracks_the_integer_network() -> None:
    """With zero thresholds the sigma-delta network sends every change, so its per-frame
    readout is the float ReLU network's up to weight/payload rounding."""
    net = _net(6, input_vth=0, vth_mants=(0, 0, 0))
    frames = _frames(7)
    twin, ints = net.forward_float(frames), net(frames)
    assert twin.shape == ints.shape
    assert torch.corrcoef(torch.stack([twin.flatten(), ints.flatten()]))[0, 1] > 0.95


def test_calibration_sets_thresholds_from_activity() -> None:
    net = calibrate_delta_thresholds(_net(delta_rho=0.2), _frames())
    low = calibrate_delta_thresholds(_net(delta_rho=0.02), _frames())
    assert all(a > b for a, b in zip(net.config.vth_mants, low.config.vth_mants, strict=True))
    sent = [int((m != 0).sum()) for m in net.forward_fixed(_frames()).messages]
    sent_low = [int((m != 0).sum()) for m in low.forward_fixed(_frames()).messages]
    assert sum(sent[1:-1]) < sum(sent_low[1:-1]), "higher thresholds send fewer messages"


def test_config_validates() -> None:
    with pytest.raises(ConfigError, match="vth_mants"):
        SdnnConfig(**TINY, weight_exps=(6, 6, 6, 6), vth_mants=(1,))
    with pytest.raises(ConfigError, match="input_gain"):
        SdnnConfig(input_gain=5000)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    from mskd.data.synth import synthesize

    return synthesize(tmp_path_factory.mktemp("d") / "tiny", subjects=2, seed=1, size=12,
                      min_length=6, max_length=8)


def test_train_eval_convert_from_the_cli(tiny_data, tmp_path) -> None:
    """Teacher, then a distilled sigma-delta student with the activity loss, evaluated and
    converted: the checkpoint records the kind, eval reads every frame."""

    def mskd(*args):
        out = run_mskd(*args)
        assert out.returncode == 0, out.stderr
        return out.stdout

    common = ["--clip", "E3-S1", "--size", "12", "--epochs", "1", "--no-progress"]
    mskd("train", "teacher", tiny_data, "--out", tmp_path / "t", *common, "--channels", "2",
         "--hidden", "4")
    mskd("train", "student", tiny_data, "--out", tmp_path / "s", *common, "--neuron", "sdnn",
         "--teacher", tmp_path / "t" / "checkpoint.safetensors", "--sparsity", "0.01",
         "--channels", "3", "--hidden", "5")
    log = json.loads((tmp_path / "s" / "log.json").read_text())
    assert len(log) == 1 and np.isfinite(log[0]["loss"])
    res = json.loads(mskd("eval", tmp_path / "s" / "checkpoint.safetensors", tiny_data,
                          "--views", "1", "--json"))
    assert 0.0 <= res["war"] <= 1.0
    out = mskd("convert", tmp_path / "s" / "checkpoint.safetensors", "--out",
               tmp_path / "s.net", "--eval", tiny_data)
    assert "loihi2:" in out and "loihi1:" not in out and "evaluation: WAR float" in out


def test_sdnn_options_are_checked() -> None:
    from mskd.train.options import TrainOptions

    with pytest.raises(ConfigError, match="sigma-delta only"):
        TrainOptions(kind="student", data="d", out="o", alpha=0, sparsity=0.1)
    with pytest.raises(ConfigError, match="--neuron"):
        TrainOptions(kind="student", data="d", out="o", alpha=0, neuron="izh")


def test_convert_exports_the_float_twin_to_onnx_and_refuses_nir(tmp_path) -> None:
    from mskd.convert.pipeline import ConvertOptions, convert_checkpoint
    from mskd.train.checkpoint import save_checkpoint

    ckpt = save_checkpoint(tmp_path / "s.safetensors", _net(), None, {"epoch": 0},
                           {"clip": "E3-S1"})
    rep = convert_checkpoint(ckpt, tmp_path / "s.net",
                             ConvertOptions(onnx=str(tmp_path / "onnx"),
                                            nir=str(tmp_path / "s.nir")))
    checks = {c["check"]: c["result"] for c in rep["checks"]}
    assert checks["onnx float student vs torch"].startswith("allclose=True")
    assert "not written" in checks["nir"] and not (tmp_path / "s.nir").exists()
    assert set(rep["mapping"]) == {"loihi2"}

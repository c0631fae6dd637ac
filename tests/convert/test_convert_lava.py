"""Lava itself on a converted file equals the student's fixed-point forward, bit for bit.

The first two tests drive lava-dl's own ``netx.hdf5.Network`` directly (input neurons' ``bias_mant``
set per step, a sink per layer, u/v read after every step), independent of the deploy
stage's backend (the last test runs that backend, :mod:`mskd.deploy.lava_backend`). The
first step's bias goes in through ``Var.init``: an early version of that backend blocked
forever here after ``create_runtime`` + ``Var.set`` before the first ``run``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from mskd.convert.student_net import convert_student
from mskd.train.lif_config import StudentConfig
from mskd.train.student_lif import Student

from mskd.net.encoding import encode_frames

pytestmark = pytest.mark.lava


def _lava_order(a: np.ndarray) -> np.ndarray:
    return a.transpose(2, 1, 0) if a.ndim == 3 else a


def lava_trace(path, x: np.ndarray) -> list[dict[str, np.ndarray]]:
    """Run one sample ``x`` [T, C, H, W] of bias mantissas; per layer spikes/u/v [T, ...]."""
    from lava.lib.dl import netx
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi2SimCfg
    from lava.proc.io.sink import RingBuffer as Sink

    steps = x.shape[0]
    lnet = netx.hdf5.Network(net_config=str(path))
    blocks, sinks = list(lnet.layers), []
    for b in blocks:
        sinks.append(Sink(shape=b.out.shape, buffer=steps))
        b.out.connect(sinks[-1].a_in)
    cfg, u, v = Loihi2SimCfg(select_tag="fixed_pt"), [], []
    try:
        for t in range(steps):
            bias = _lava_order(x[t]).astype(np.float64)
            if t == 0:
                blocks[0].neuron.bias_mant.init = bias
            else:
                blocks[0].neuron.bias_mant.set(bias)
            lnet.run(condition=RunSteps(num_steps=1), run_cfg=cfg)
            u.append([_lava_order(b.neuron.u.get()) for b in blocks])
            v.append([_lava_order(b.neuron.v.get()) for b in blocks])
        spikes = [np.moveaxis(s.data.get(), -1, 0) for s in sinks]
    finally:
        lnet.stop()
    return [{"s": np.stack([_lava_order(a) for a in spikes[k]]),
             "u": np.stack([u[t][k] for t in range(steps)]),
             "v": np.stack([v[t][k] for t in range(steps)])} for k in range(len(blocks))]


def test_lava_equals_student_fixed_forward(tmp_path):
    pytest.importorskip("lava.lib.dl.netx")
    torch.manual_seed(0)
    s = Student(StudentConfig(size=6, channels=(2,), hidden=(3,), steps_per_frame=3,
                              n_frames=1, input_gain=400, theta=0.3)).eval()
    net = convert_student(s, tmp_path / "s.net", clip="E1-S3")
    frames = torch.rand(1, 1, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    trace = lava_trace(net.path, encode_frames(frames, net.encoding)[0].numpy())
    fixed = s.forward_fixed(frames)
    assert int(fixed.spikes[2].sum()) > 0 and np.any(trace[-1]["v"])
    for k, layer in enumerate(trace):
        assert np.array_equal(layer["s"], fixed.spikes[k][:, 0].numpy()), k
        assert np.array_equal(layer["u"], fixed.u[k][:, 0].numpy()), k
        assert np.array_equal(layer["v"], fixed.v[k][:, 0].numpy()), k


def test_slayer_export_simulator_equals_lava(tmp_path):
    """A lava-dl slayer network, exported by slayer itself, converts and runs identically."""
    slayer = pytest.importorskip("lava.lib.dl.slayer")
    import h5py
    from mskd.convert.netx_import import convert_netx

    from mskd.net.netx_io import read_netx
    from mskd.sim.simulator import run

    torch.manual_seed(0)
    params = {"threshold": 0.5, "current_decay": 0.25, "voltage_decay": 0.03,
              "requires_grad": False}
    blocks = torch.nn.ModuleList([
        slayer.block.cuba.Input(params),
        slayer.block.cuba.Conv(params, 1, 2, 3, stride=2, padding=1, weight_scale=2),
        slayer.block.cuba.Flatten(),
        slayer.block.cuba.Dense(params, 2 * 3 * 3, 4, weight_scale=2)])
    x = torch.rand(1, 1, 6, 6, 4)
    for b in blocks:
        x = b(x)
    with h5py.File(tmp_path / "slayer.net", "w") as f:
        g = f.create_group("layer")
        for i, b in enumerate(blocks):
            b.export_hdf5(g.create_group(str(i)))
    convert_netx(tmp_path / "slayer.net", tmp_path / "out.net")
    spec = read_netx(tmp_path / "out.net")
    g = torch.Generator().manual_seed(3)
    bias = torch.randint(0, 300, (1, 5, *spec.input_shape), generator=g)
    _, rec = run(spec, bias, record=("u", "v"))
    trace = lava_trace(tmp_path / "out.net", bias[0].numpy())
    assert int(rec.spikes["1:conv"].sum()) > 0
    for k, name in enumerate(rec.names):
        assert np.array_equal(trace[k]["s"], rec.spikes[name][:, 0].numpy()), name
        assert np.array_equal(trace[k]["u"], rec.u[name][:, 0].numpy()), name
        assert np.array_equal(trace[k]["v"], rec.v[name][:, 0].numpy()), name


def test_deploy_lava_backend_equals_student_and_readout(tmp_path):
    """The deploy stage's Lava backend on the written file: same registers, same logits."""
    pytest.importorskip("lava.lib.dl.netx")
    lava_backend = pytest.importorskip("mskd.deploy.lava_backend")
    from mskd.net.encoding import decode_readout

    torch.manual_seed(0)
    s = Student(StudentConfig(size=6, channels=(2,), hidden=(3,), steps_per_frame=3,
                              n_frames=1, input_gain=400, theta=0.3)).eval()
    net = convert_student(s, tmp_path / "s.net", clip="E1-S3")
    frames = torch.rand(1, 1, 1, 6, 6, generator=torch.Generator().manual_seed(1))
    out, rec = lava_backend.run(net.path, encode_frames(frames, net.encoding),
                                record=("u", "v"))
    fixed = s.forward_fixed(frames)
    for k, name in enumerate(rec.names):
        assert torch.equal(rec.spikes[name].long(), fixed.spikes[k].long()), name
        assert torch.equal(rec.u[name].long(), fixed.u[k]) and torch.equal(rec.v[name].long(),
                                                                            fixed.v[k]), name
    assert torch.equal(out.long(), fixed.spikes[-1].long())
    torch.testing.assert_close(decode_readout(rec, net.encoding), s(frames).double().mean(0),
                               rtol=0, atol=1e-6)

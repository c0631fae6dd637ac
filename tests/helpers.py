"""Helpers shared by the test modules: running ``mskd`` (as a subprocess or in-process),
small datasets, NIR graphs and the framework-against-deployed fidelity measures.

``tests/conftest.py`` puts this folder on ``sys.path``; a test imports what it needs with
``from helpers import ...`` (the ``mskd_run`` fixture wraps :func:`run_mskd`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nir
import numpy as np
import pytest
import torch
from PIL import Image

from mskd.sim.simulator import run

REPO = Path(__file__).resolve().parent.parent  # the repository root
TIMEOUT_S = 900  # the longest command a test runs (the demo) ends well inside this


def run_mskd(*args, timeout: float = TIMEOUT_S, env: dict | None = None,
             cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    """The ``mskd`` executable (``python -m mskd``) as a user runs it: exit code, stdout and
    stderr as text."""
    return subprocess.run([sys.executable, "-m", "mskd", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=cwd)


T, B, P_IN = 60, 128, 0.2  # steps, samples, input spike probability


PAD = 8  # zero steps after the input: more than the deepest network's lag


def random_spikes(shape, seed: int = 1) -> torch.Tensor:
    """Random input spikes ``[B, T, *shape]``."""
    return (torch.rand(B, T, *shape, generator=torch.Generator().manual_seed(seed))
            < P_IN).float()


def deployed_spikes(net, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Each neuron layer's spikes ``[T, B, ...]`` and the last layer's v, aligned with the
    float run: the k-th layer of the deployed network answers k steps later (one step per
    synapse), so the input is followed by zeros and layer k is read from step k on."""
    _, rec = run(net, torch.cat([x, torch.zeros(B, PAD, *x.shape[2:])], 1).to(torch.int64),
                 record=("v",))
    names = [la.name for la in rec.layers]  # neuron layers; the input layer has none
    spikes = [rec.spikes[n][k + 1:k + 1 + T].float() for k, n in enumerate(names)]
    return spikes, rec.v[names[-1]][len(names):len(names) + T].double()


def spike_fidelity(float_spikes, deployed_spikes) -> list[tuple[float, float]]:
    """Per layer: (deployed / float spike count, float spikes on the very same step)."""
    return [(float(d.sum() / f.sum()), float((d * f).sum() / f.sum()))
            for f, d in zip(float_spikes, deployed_spikes, strict=True)]


def class_agreement(f_score: torch.Tensor, d_score: torch.Tensor) -> float:
    return float((f_score.argmax(1) == d_score.argmax(1)).double().mean())


def check_fidelity(layers: list[tuple[float, float]], agreement: float) -> None:
    """The bounds of the module docstring."""
    for k, (ratio, same_step) in enumerate(layers):
        assert 0.95 <= ratio <= 1.05, (k, ratio)
        assert same_step >= (0.85 if k == 0 else 0.45), (k, same_step)
    assert agreement >= 0.9, agreement


def snntorch_net(conv: bool | str, reset: str = "zero"):
    """An MLP, a conv net, or (``conv="pool"``) a conv net with 2x2 average pooling."""
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    def leaky(shape, beta, output=False):
        return snn.Leaky(beta=torch.full(shape, beta), threshold=torch.ones(shape),
                         init_hidden=True, output=output, reset_mechanism=reset)

    torch.manual_seed(0)
    if conv:
        pool = [torch.nn.AvgPool2d(2)] if conv == "pool" else []
        c = torch.nn.Conv2d(1, 4, 3, stride=1 if pool else 2, padding=1)
        fc = torch.nn.Linear(64, 6)
        with torch.no_grad():
            c.weight.mul_(2.0)
            fc.weight.mul_(3.0)
        hidden, out = leaky((4, 8, 8) if pool else (4, 4, 4), 0.95), leaky((6,), 0.9, True)
        run_net = torch.nn.Sequential(c, hidden, *pool, torch.nn.Flatten(), fc, out)
        export_net = torch.nn.Sequential(c, hidden, *pool, torch.nn.Flatten(start_dim=0), fc,
                                         out)
        shape = (1, 8, 8)
    else:
        fc1, fc2 = torch.nn.Linear(20, 32), torch.nn.Linear(32, 6)
        with torch.no_grad():
            fc1.weight.mul_(2.0)
            fc2.weight.mul_(3.0)
        run_net = export_net = torch.nn.Sequential(fc1, leaky((32,), 0.95), fc2,
                                                   leaky((6,), 0.9, True))
        shape = (20,)
    return run_net, export_to_nir(export_net, torch.rand(*shape)), shape


def snntorch_float(net, x) -> list[torch.Tensor]:
    """snnTorch's own run: each Leaky (or RLeaky, which with init_hidden returns its spikes
    the same way) layer's spikes ``[T, B, ...]``."""
    import snntorch as snn

    layers = [m for m in net if isinstance(m, (snn.Leaky, snn.RLeaky))]
    seen: dict[int, list] = {id(m): [] for m in layers}
    hooks = [m.register_forward_hook(lambda m, i, o: seen[id(m)].append(
        (o[0] if isinstance(o, tuple) else o).detach())) for m in layers]
    for m in layers:
        m.reset_hidden()
    with torch.no_grad():
        for t in range(x.shape[1]):
            net(x[:, t])
    for h in hooks:
        h.remove()
    return [torch.stack(seen[id(m)]) for m in layers]


def norse_net(conv: bool):
    snn = pytest.importorskip("norse.torch")

    def cuba(shape):
        return snn.LIFCell(snn.LIFParameters(
            tau_syn_inv=torch.full(shape, 200.0), tau_mem_inv=torch.full(shape, 100.0),
            v_th=torch.ones(shape), v_leak=torch.zeros(shape), v_reset=torch.zeros(shape)))

    def box(n):
        return snn.LIFBoxCell(snn.LIFBoxParameters(
            tau_mem_inv=torch.full((n,), 100.0), v_th=torch.ones(n), v_leak=torch.zeros(n),
            v_reset=torch.zeros(n)))

    readout = snn.LIBoxCell(snn.LIBoxParameters(tau_mem_inv=torch.full((4,), 50.0),
                                                v_leak=torch.zeros(4)))
    torch.manual_seed(0)
    if conv:
        head = [torch.nn.Conv2d(1, 4, 3, stride=2, padding=1), cuba((4, 4, 4))]
        torch.nn.init.zeros_(head[0].bias)  # norse 1.1's exporter needs a bias tensor
        tail = [torch.nn.Linear(64, 16, bias=False), box(16)]
        shape = (1, 8, 8)
    else:
        head = [torch.nn.Linear(20, 16, bias=False), cuba((16,))]
        tail = [torch.nn.Linear(16, 12, bias=False), box(12)]
        shape = (20,)
    tail += [torch.nn.Linear(tail[0].out_features, 4, bias=False), readout]
    with torch.no_grad():
        for m in head + tail:
            if hasattr(m, "weight"):
                m.weight.mul_(12.0)  # norse's gain is dt/tau_mem = 0.1: drive it to spike
    flat = [torch.nn.Flatten()] if conv else []
    export = snn.SequentialState(*head, *[torch.nn.Flatten(0)] * conv, *tail)
    return (snn.SequentialState(*head, *flat, *tail), snn.to_nir(export, torch.rand(*shape),
                                                                   dt=1e-3), shape)


def norse_float(net, x) -> tuple[list[torch.Tensor], torch.Tensor]:
    """norse's own run: each spiking layer's spikes ``[T, B, ...]`` and the readout's v
    ``[T, B, 4]``."""
    import norse.torch as snn

    cells = [m for m in net if isinstance(m, (snn.LIFCell, snn.LIFBoxCell))]
    seen: dict[int, list] = {id(m): [] for m in cells}
    hooks = [m.register_forward_hook(lambda m, i, o: seen[id(m)].append(o[0].detach()))
             for m in cells]
    state, vs = None, []
    with torch.no_grad():
        for t in range(T):
            v, state = net(x[:, t], state)
            vs.append(v)
    for h in hooks:
        h.remove()
    return [torch.stack(seen[id(m)]) for m in cells], torch.stack(vs).double()


def call_mskd(capsys, *args) -> tuple[int, str]:
    """``mskd`` in-process, as the executable runs it: (exit code, the stderr line)."""
    from mskd.cli import main

    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, "errors must be one line"
    return code, err


def nir_lif(n):
    return nir.LIF(tau=np.full(n, 0.01), r=np.full(n, 10.0), v_leak=np.zeros(n),
                   v_threshold=np.ones(n))


def nir_chain(shape_in, shape_out, *nodes):
    names = [f"n{i}" for i in range(len(nodes))]
    all_nodes = {"input": nir.Input(np.array(shape_in)), **dict(zip(names, nodes, strict=True)),
                 "output": nir.Output(np.array(shape_out))}
    order = ["input", *names, "output"]
    return nir.NIRGraph(nodes=all_nodes, edges=list(zip(order[:-1], order[1:], strict=True)),
                        type_check=False)


def assert_same_spec(a, b) -> None:
    la, lb = a.spec.layers, b.spec.layers
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        assert type(x) is type(y)
        if hasattr(x, "weight"):
            assert np.array_equal(x.weight, y.weight)
            assert x.neuron == y.neuron
            assert (x.bias is None and y.bias is None) or np.array_equal(x.bias, y.bias)


SIZE = 16


def frame_value(k: int) -> int:
    """Frame k is a flat image of this gray level, so a decoded clip tells its indices."""
    return 20 + 9 * k


def write_sequence(root: Path, emotion: str, name: str, length: int) -> None:
    for modality in ("frame", "event"):
        folder = root / modality / emotion / name
        folder.mkdir(parents=True)
        for k in range(length):
            if modality == "frame":
                img = Image.fromarray(np.full((SIZE, SIZE), frame_value(k), np.uint8), "L")
            else:  # ON (red) = 200, OFF (blue) = 60
                rgb = np.zeros((SIZE, SIZE, 3), np.uint8)
                rgb[..., 0], rgb[..., 2] = 200, 60
                img = Image.fromarray(rgb, "RGB")
            img.save(folder / f"{k:05d}.jpg", quality=95, subsampling=0)


def make_tree(root: Path, lengths: dict[str, int] | None = None) -> Path:
    """Two subjects x three emotions; sequence lengths per emotion (default 20)."""
    lengths = lengths or {}
    split: dict[str, list[str]] = {"train": [], "test": []}
    for sid, (subject, lighting) in enumerate([("S01", "normal"), ("S02", "low_light")]):
        for e, emotion in enumerate(["happiness", "anger", "neutral"]):
            name = f"{sid * 10 + e:04d}_{subject}_F_30_2_{lighting}_{emotion}_20_1"
            write_sequence(root, emotion, name, lengths.get(emotion, 20))
            split["train" if sid == 0 else "test"].append(f"{emotion}/{name}")
    (root / "split.json").write_text(json.dumps(split))
    return root

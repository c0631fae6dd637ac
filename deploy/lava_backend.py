"""Run a netx network in Lava itself: ``run(net, inputs, record) -> (outputs, Record)``.

The process graph is lava-dl's own ``netx.hdf5.Network`` built from the file; it runs with
``Loihi2SimCfg(select_tag="fixed_pt")`` (bit-accurate CPU models) or, with
``backend="loihi2"``, ``Loihi2HwCfg`` (needs Intel's lava-loihi extension).

Feeding and reading (Lava has no batch axis; samples run one after the other):

* bias-driven network: the Input block's ``inp`` port is not connected to its neurons,
  so before every step we ``set`` the input neurons' ``bias_mant`` (Lava recomputes the
  scaled bias each step) and run one step;
* spike-driven network: a ``lava.proc.io.source.RingBuffer`` holding every sample back to
  back feeds ``Network.inp``;
* every neuron layer's ``out`` also feeds a ``lava.proc.io.sink.RingBuffer`` (one slot per
  time step), read once at the end; u and v are read with ``Var.get`` after each step.

Between samples we zero every neuron's u, v and every synapse buffer (``a_buff``/
``a_buf``), which is the whole state a fresh network starts with; with a reset interval we
first pad the sample with idle steps so the next one starts at a phase equal to Lava's time
step 1. The runtime is always stopped (``try/finally``, also on KeyboardInterrupt).
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from mskd.deploy.inputs import prepare_inputs

from mskd.errors import MissingExtraError, NetError, require_lava
from mskd.netspec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    NetSpec,
    kind,
    read_netx,
    write_netx,
)
from mskd.record import REGISTERS, LayerInfo, Record

LOIHI_EXTENSION = "lava.magma.compiler.subcompilers.nc"


def _run_cfg(backend: str):
    if backend == "loihi2":
        from lava.utils.loihi import is_installed

        if not is_installed(LOIHI_EXTENSION):
            raise MissingExtraError(f"--backend loihi2 needs Intel's Loihi extension "
                                    f"lava-loihi ({LOIHI_EXTENSION} is not installed)")
        from lava.magma.core.run_configs import Loihi2HwCfg

        return Loihi2HwCfg()
    from lava.magma.core.run_configs import Loihi2SimCfg

    return Loihi2SimCfg(select_tag="fixed_pt")


def _lava_order(a: np.ndarray) -> np.ndarray:
    """(C, H, W) -> Lava's (W, H, C) on the trailing axes; vectors unchanged."""
    return a.transpose(*range(a.ndim - 3), a.ndim - 1, a.ndim - 2, a.ndim - 3) \
        if a.ndim >= 3 else a


def _torch_order(a: np.ndarray, ndim: int) -> np.ndarray:
    """Lava's (W, H, C, ...) leading axes -> (C, H, W, ...)."""
    return a.transpose(2, 1, 0, *range(3, a.ndim)) if ndim == 3 else a


def _layer_infos(spec: NetSpec) -> list[LayerInfo]:
    return [LayerInfo(f"{i}:{kind(la)}", kind(la), tuple(la.out_shape))
            for i, la in enumerate(spec.layers)
            if not isinstance(la, FlattenLayer)
            and not (isinstance(la, InputLayer) and la.neuron is None)]


class _LavaNet:
    """The built process graph plus sources/sinks; ``close`` stops the runtime."""

    def __init__(self, path: Path, spec: NetSpec, total_steps: int, x_lava, reset):
        from lava.lib.dl import netx
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        self.net = netx.hdf5.Network(net_config=str(path), reset_interval=reset[0],
                                     reset_offset=reset[1])
        self.blocks = list(self.net.layers)
        self.source = None
        if x_lava is not None:  # spike-driven: every sample back to back
            self.source = Source(data=x_lava)
            self.source.s_out.connect(self.net.inp)
        self.sinks = []
        for block in self.blocks:
            sink = Sink(shape=block.out.shape, buffer=total_steps)
            block.out.connect(sink.a_in)
            self.sinks.append(sink)

    def start(self, cfg, first_bias=None) -> None:
        """Compile and start the runtime.

        ``Var.set`` before the first step blocks forever in lava-nc 0.10, so the first
        step's input bias goes in as the Var's initial value instead.
        """
        if first_bias is not None:
            self.blocks[0].neuron.bias_mant.init = first_bias
        self.net.create_runtime(run_cfg=cfg)

    def step(self, n: int, cfg) -> None:
        from lava.magma.core.run_conditions import RunSteps

        self.net.run(condition=RunSteps(num_steps=n), run_cfg=cfg)

    def zero_state(self) -> None:
        for block in self.blocks:
            for var in ("u", "v"):
                getattr(block.neuron, var).set(np.zeros(block.neuron.u.shape))
            syn = getattr(block, "synapse", None)
            if syn is not None:
                buf = syn.a_buff if hasattr(syn, "a_buff") else syn.a_buf
                buf.set(np.zeros(buf.shape))

    def close(self) -> None:
        self.net.stop()


def _quiet_import() -> None:
    """Import lava-dl with its import-time chatter (CUDA_HOME, Prophesee) silenced."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            import lava.lib.dl.netx  # noqa: F401
        except ImportError:
            pass  # require_lava() reports it in one line
    require_lava()


def run(net, inputs, record: Sequence[str] = (), *, steps: int | None = None,
        backend: str = "lava", reset_interval: int | None = None, reset_offset: int = 0,
        progress: Callable[[int], None] | None = None):
    """Run ``net`` (path or :class:`NetSpec`) in Lava; same layouts as the simulator."""
    _quiet_import()
    for reg in record:
        if reg not in REGISTERS:
            raise NetError(f"cannot record '{reg}': choose from {', '.join(REGISTERS)}")
    cfg = _run_cfg(backend)
    with tempfile.TemporaryDirectory(prefix="mskd-lava-") as tmp:
        if isinstance(net, NetSpec):
            spec, path = net, Path(tmp) / "net.h5"
            write_netx(spec, path)
        else:
            spec, path = read_netx(net), Path(net)
        x = prepare_inputs(spec, inputs, steps).numpy()  # [T, B, *shape]
        return _run_samples(spec, path, x, record, cfg, (reset_interval, reset_offset),
                            progress)


def _run_samples(spec, path, x, record, cfg, reset, progress):
    T, B = x.shape[:2]
    pad = (-T) % reset[0] if reset[0] else 0  # idle steps that realign the reset phase
    per = T + pad
    x_lava = None
    if not spec.bias_driven:  # [T, B, *s] -> [*s_lava, B * per]
        xs = np.zeros((B, per, *x.shape[2:]), np.int64)
        xs[:, :T] = x.transpose(1, 0, *range(2, x.ndim))
        xs = xs.reshape(B * per, *x.shape[2:])
        first_dense = isinstance(
            next(la for la in spec.layers if isinstance(la, (ConvLayer, DenseLayer))), DenseLayer)
        # netx's Network.inp is the first synapse's s_in: a Dense one takes the flat vector
        # (no transpose for the input, so we flatten in torch order, as the weights expect).
        xs = xs.reshape(B * per, -1) if first_dense else _lava_order(xs)
        x_lava = np.moveaxis(xs, 0, -1)
    infos = _layer_infos(spec)
    regs = {r: [np.zeros((T, B, *i.shape), np.int32) for i in infos] for r in record}
    lnet = _LavaNet(path, spec, B * per, x_lava, reset)
    try:
        first = _lava_order(x[0, 0]).astype(np.int32) if spec.bias_driven else None
        lnet.start(cfg, first)
        for b in range(B):
            if b:
                lnet.zero_state()
            _run_one(lnet, spec, x[:, b], b, regs, record, cfg)
            if pad:
                _idle(lnet, spec, pad, cfg)
            if progress:
                progress(b + 1)
        spikes = [s.data.get() for s in lnet.sinks]
    finally:
        lnet.close()
    return _to_record(infos, spikes, regs, T, B, per)


def _run_one(lnet, spec, xb, b, regs, record, cfg) -> None:
    T = xb.shape[0]
    per_step = spec.bias_driven or bool(record)
    if not per_step:
        lnet.step(T, cfg)
        return
    for t in range(T):
        if spec.bias_driven and (b or t):  # step 1 of sample 0: set as init in start()
            lnet.blocks[0].neuron.bias_mant.set(_lava_order(xb[t]).astype(np.float64))
        lnet.step(1, cfg)
        for r in record:
            for k, block in enumerate(lnet.blocks):
                val = getattr(block.neuron, r).get().astype(np.int64)
                regs[r][k][t, b] = _torch_order(val, val.ndim)


def _idle(lnet, spec, n, cfg) -> None:
    if spec.bias_driven:
        lnet.blocks[0].neuron.bias_mant.set(np.zeros(lnet.blocks[0].neuron.u.shape))
    lnet.step(n, cfg)


def _to_record(infos, spikes, regs, T, B, per):
    out = {}
    for info, data in zip(infos, spikes, strict=True):
        data = _torch_order(np.asarray(data), len(info.shape))  # [*shape, B * per]
        data = np.moveaxis(data, -1, 0).reshape(B, per, *info.shape)[:, :T]
        out[info.name] = torch.from_numpy(
            np.ascontiguousarray(data.transpose(1, 0, *range(2, data.ndim)))).to(torch.uint8)
    tables = {r: {i.name: torch.from_numpy(a) for i, a in zip(infos, regs[r], strict=True)}
              for r in regs}
    rec = Record(tuple(infos), out, tables.get("u"), tables.get("v"))
    return out[infos[-1].name], rec

"""Run a netx network in Lava itself: ``run(net, inputs, record) -> (outputs, Record)``.

The process graph is lava-dl's own ``netx.hdf5.Network`` built from the file; it runs with
``Loihi2SimCfg(select_tag="fixed_pt")`` (bit-accurate CPU models) or, with
``backend="loihi2"``, ``Loihi2HwCfg`` (needs Intel's lava-loihi extension).

Feeding and reading (Lava has no batch axis; samples run one after the other):

* bias-driven network (CUBA input layer): the Input block's ``inp`` port is not connected
  to its neurons, so before every step we ``set`` the input neurons' ``bias_mant`` (Lava
  recomputes the scaled bias each step) and run one step;
* Delta input layer (SDNN): the same unconnected ``inp`` makes ``Network.inp`` fail to
  compile ("No subcompiler exists for ... PyInputModel"), so, as lava-dl's own tests do, a
  ``lava.proc.io.source.RingBuffer`` (fixed_pt: int32) holding every sample back to back
  feeds the Delta neurons' ``a_in`` directly;
* no input neurons: the same source feeds ``Network.inp`` (binary spikes, or graded
  payloads with ``Network(input_message_bits=k)``);
* every neuron layer's ``out`` also feeds a ``lava.proc.io.sink.RingBuffer`` (one slot per
  time step), read once at the end; registers (u, v; sigma, act, residue, error) are read
  with ``Var.get`` after each step.

Between samples we zero every neuron register and every synapse buffer (``a_buff``/
``a_buf``, the recurrent synapse's too), which is the whole state a fresh network starts
with; with a reset interval we first pad the sample with idle steps so the next one starts
at a phase equal to Lava's time step 1.

Everything Lava does (build, compile, run, read back) happens in a child process group
(:mod:`mskd.deploy.lava_supervisor`): on Ctrl-C, SIGTERM, an error, a dead worker or a
stall longer than ``timeout`` seconds the whole group is killed and its shared memory and
temporary folder removed before :func:`run` returns or raises.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from mskd.deploy.lava_supervisor import (
    DEFAULT_TIMEOUT_S,
    lava_tempdir,
    report_lava_workers,
    run_isolated,
)

from mskd.errors import MissingExtraError, NetError, require_lava
from mskd.net.inputs import prepare_inputs
from mskd.net.netx_io import read_netx, write_netx
from mskd.net.record import LayerInfo, Record, check_registers
from mskd.net.spec import ConvLayer, DenseLayer, InputLayer, NetSpec, kind

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
    return [LayerInfo(f"{i}:{kind(la)}", kind(la), tuple(la.out_shape), spec.model(i))
            for i, la in spec.neuron_layers()]


def _input_shape(spec: NetSpec) -> tuple[int, ...] | None:
    """netx's ``input_shape`` (Lava order) for a file whose first layer has no neurons."""
    first = spec.layers[0]
    if isinstance(first, InputLayer) and first.neuron is not None:
        return None
    shape = tuple(spec.input_shape)
    return shape[::-1] if len(shape) == 3 else shape


class _LavaNet:
    """The built process graph plus sources/sinks; ``close`` stops the runtime."""

    def __init__(self, path: Path, spec: NetSpec, total_steps: int, x_lava, reset):
        from lava.lib.dl import netx
        from lava.proc.io.sink import RingBuffer as Sink
        from lava.proc.io.source import RingBuffer as Source

        self.net = netx.hdf5.Network(net_config=str(path), reset_interval=reset[0],
                                     reset_offset=reset[1], input_shape=_input_shape(spec),
                                     input_message_bits=spec.input_message_bits,
                                     spike_exp=spec.spike_exp)
        self.blocks = list(self.net.layers)
        self.report = lambda *msg: None
        self.source = None
        if x_lava is not None:  # every sample back to back
            self.source = Source(data=x_lava)
            port = self.blocks[0].neuron.a_in if spec.input_kind == "delta" else self.net.inp
            self.source.s_out.connect(port)
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
        self.report("step")

    def zero_state(self) -> None:
        for block in self.blocks:
            for var in ("u", "v", "sigma", "act", "residue", "error"):
                if hasattr(block.neuron, var):
                    reg = getattr(block.neuron, var)
                    reg.set(np.zeros(reg.shape))
            for name in ("synapse", "synapse_rec"):
                syn = getattr(block, name, None)
                if syn is not None:
                    buf = syn.a_buff if hasattr(syn, "a_buff") else syn.a_buf
                    buf.set(np.zeros(buf.shape))

    def labels(self) -> dict[int, str]:
        """Lava process id -> what it is here ('layer 2 neuron', 'input source', ...)."""
        out = {self.source.id: "input source"} if self.source is not None else {}
        for i, (block, sink) in enumerate(zip(self.blocks, self.sinks, strict=True)):
            out[sink.id] = f"layer {i} spike sink"
            for part in ("neuron", "synapse", "synapse_rec"):
                proc = getattr(block, part, None)
                if proc is not None and hasattr(proc, "id"):
                    out[proc.id] = f"layer {i} {part}"
        return out

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
        progress: Callable[[int], None] | None = None, path=None,
        timeout: float = DEFAULT_TIMEOUT_S, **read):
    """Run ``net`` (path or :class:`NetSpec`) in Lava; same layouts as the simulator.

    ``read`` goes to :func:`mskd.net.netx_io.read_netx` for a path (``input_shape``,
    ``input_message_bits``); a path is given to netx as it is, so Lava reads the user's
    own file. ``path`` with a NetSpec: the file the spec was read from (netx reads it, the
    spec gives the build options); without it a NetSpec is written to a temporary file.
    ``timeout``: seconds Lava may go without progress (a step, a sample, a worker started)
    before it is stopped with a :class:`~mskd.errors.BackendError`.
    """
    _quiet_import()
    try:
        record = check_registers(record)
    except ValueError as exc:
        raise NetError(str(exc)) from None
    _run_cfg(backend)  # fails at once, in this process, without the Loihi extension
    reset = (reset_interval, reset_offset)
    with lava_tempdir() as tmp:
        if isinstance(net, NetSpec) and path is not None:
            spec, path = net, Path(path)
        elif isinstance(net, NetSpec):
            spec, path = net, tmp / "net.h5"
            write_netx(spec, path)
        else:
            spec, path = read_netx(net, **read), Path(net)
        x = prepare_inputs(spec, inputs, steps).numpy()  # [T, B, *shape]
        spikes, regs = run_isolated(_run_samples, (spec, path, x, record, backend, reset),
                                    tmp=tmp, progress=progress, timeout=timeout)
    T, B = x.shape[:2]
    return _to_record(_layer_infos(spec), spikes, regs, T, B, _per_sample(T, reset))


def _per_sample(T: int, reset) -> int:
    """Steps per sample: T plus the idle steps that realign the reset phase."""
    return T + ((-T) % reset[0] if reset[0] else 0)


def _run_samples(report, spec, path, x, record, backend, reset):
    """The child's job: build, run every sample, read back (numpy only, for the pipe)."""
    cfg = _run_cfg(backend)
    T, B = x.shape[:2]
    per = _per_sample(T, reset)
    pad = per - T
    x_lava = None
    if not spec.bias_driven:  # [T, B, *s] -> [*s_lava, B * per]
        xs = np.zeros((B, per, *x.shape[2:]), np.int64)
        xs[:, :T] = x.transpose(1, 0, *range(2, x.ndim))
        xs = xs.reshape(B * per, *x.shape[2:])
        first_dense = spec.input_kind != "delta" and isinstance(
            next(la for la in spec.layers if isinstance(la, (ConvLayer, DenseLayer))), DenseLayer)
        # netx's Network.inp is the first synapse's s_in: a Dense one takes the flat vector
        # (no transpose for the input, so we flatten in torch order, as the weights expect).
        xs = xs.reshape(B * per, -1) if first_dense else _lava_order(xs)
        x_lava = np.moveaxis(xs, 0, -1)
    infos = _layer_infos(spec)
    regs = {r: [np.zeros((T, B, *i.shape), np.int32) if r in i.registers else None
                for i in infos] for r in record}
    lnet = _LavaNet(path, spec, B * per, x_lava, reset)
    report_lava_workers(report, lnet.labels())
    first = _lava_order(x[0, 0]).astype(np.int32) if spec.bias_driven else None
    lnet.start(cfg, first)
    lnet.report = report
    for b in range(B):
        if b:
            lnet.zero_state()
        _run_one(lnet, spec, x[:, b], b, regs, record, cfg)
        if pad:
            _idle(lnet, spec, pad, cfg)
        report("progress", b + 1)
    spikes = [np.asarray(s.data.get()) for s in lnet.sinks]
    report("stopping")  # from here on workers exit: the parent stops watching them
    lnet.close()  # only on success: with a worker dead, Lava's stop would wait forever
    return spikes, regs


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
                if regs[r][k] is not None:
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
        data = np.ascontiguousarray(data.transpose(1, 0, *range(2, data.ndim)))
        dtype = torch.int32 if info.graded else torch.uint8
        out[info.name] = torch.from_numpy(data.astype(np.int64)).to(dtype)
    tables = {r: {i.name: torch.from_numpy(a) for i, a in zip(infos, regs[r], strict=True)
                  if a is not None} for r in regs}
    rec = Record(tuple(infos), out, {r: t for r, t in tables.items() if t})
    return out[infos[-1].name], rec

"""The deployed network's time step as an INTEGER ONNX graph (opset 17), for standard tools.

One call of the graph is one Loihi time step of every layer. Inputs: ``x`` (the input
layer's bias mantissas ``[B, *in]``, int64) and, per neuron layer ``k`` (netx order,
input first), ``u{k}``, ``v{k}`` (registers) and ``s{k}`` (its spikes of the previous
step, which the next synapse delivers now), all int64. Outputs: ``u{k}_out``,
``v{k}_out``, ``s{k}_out``. :func:`run_onnx_steps` loops it over T steps with
onnxruntime and returns a :class:`mskd.net.record.Record` comparable with the simulator's.

Every operation mirrors :mod:`mskd.loihi.lif` / :mod:`mskd.sim.synapses` in int64:

* dense: ``MatMul`` of 0/1 spikes and netx's effective weights (``netx_weights``), then
  the ``weight_exp`` shift as floor division (``(a - Mod(a, 2**k)) / 2**k``; ONNX
  ``BitShift`` is unsigned-only), then the int32 wrap of Lava's ``a_buff``;
* conv: spikes ``Cast`` to float32, ``Conv`` with the raw integer weights (exact: partial
  sums < 2**24, checked by the simulator), ``Cast`` back, 24-bit two's-complement wrap;
* neuron: ``decay(x, d) = Sign(p) * (Abs(p) / 4096)`` with ``p = x (4096 - d)`` (round
  toward zero), int32 wraps and Lava's one-shot 24-bit current wrap via ``Mod``/``Where``,
  voltage saturation via ``Min``/``Max``, spikes via ``Greater`` against ``vth << 6`` and
  the reset via ``Where``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mskd.fsio import atomic_path
from mskd.loihi.lif import ACT_SHIFT, DECAY_SHIFT, DECAY_UNITY, NETX_BIAS_EXP, UV_MAX, netx_weights
from mskd.net.record import LayerInfo, Record
from mskd.net.spec import ConvLayer, DenseLayer, FlattenLayer, InputLayer, NetSpec, kind

OPSET = 17
IR_VERSION = 8  # the IR of opset 17; newer onnx writes a newer IR than onnxruntime reads


class _G:
    """A tiny graph builder: unique names, int64 constants, one node per call."""

    def __init__(self) -> None:
        self.nodes, self.inits, self.n = [], [], 0

    def const(self, value, dtype=np.int64) -> str:
        from onnx import numpy_helper

        self.n += 1
        name = f"c{self.n}"
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, out: str | None = None, **attrs) -> str:
        from onnx import helper

        self.n += 1
        out = out or f"t{self.n}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def mod(self, x: str, m: int) -> str:
        return self.op("Mod", x, self.const(m), fmod=0)  # sign of the divisor: floor mod

    def wrap(self, x: str, bits: int) -> str:
        half = 1 << (bits - 1)
        return self.op("Sub", self.mod(self.op("Add", x, self.const(half)), 1 << bits),
                       self.const(half))

    def floor_shift(self, x: str, k: int) -> str:
        rest = self.op("Sub", x, self.mod(x, 1 << k))
        return self.op("Div", rest, self.const(1 << k))

    def decay(self, x: str, d: int) -> str:
        p = self.op("Mul", x, self.const(DECAY_UNITY - d))
        mag = self.op("Div", self.op("Abs", p), self.const(1 << DECAY_SHIFT))
        return self.op("Mul", self.op("Sign", p), mag)

    def wrap24(self, x: str) -> str:
        span = 2 * UV_MAX
        gt = self.op("Greater", x, self.const(UV_MAX))
        down = self.op("Where", gt, self.op("Sub", x, self.const(span)), x)
        le = self.op("LessOrEqual", down, self.const(-UV_MAX))
        return self.op("Where", le, self.op("Add", x, self.const(span)), down)


def _dense(g: _G, layer: DenseLayer, s_prev: str) -> str:
    if layer.delay is not None and np.any(layer.delay):
        from mskd.errors import NetError

        raise NetError("integer ONNX export: dense delays are not supported")
    w, exp = netx_weights(layer.weight)
    acc = g.op("MatMul", g.op("Flatten", s_prev, axis=1), g.const(w.T.copy()))
    a = g.floor_shift(acc, -exp) if exp < 0 else g.op("Mul", acc, g.const(1 << exp))
    return g.wrap(a, 32)


def _conv(g: _G, layer: ConvLayer, s_prev: str) -> str:
    x = g.op("Cast", s_prev, to=1)  # FLOAT
    y = g.op("Conv", x, g.const(layer.weight, np.float32), strides=list(layer.stride),
             pads=[*layer.padding, *layer.padding], dilations=list(layer.dilation),
             group=layer.groups)
    return g.wrap(g.op("Cast", y, to=7), 24)  # INT64, Lava's signed_clamp to 24 bits


def _neuron(g: _G, k: int, layer, a_in: str | None, bias: str | None) -> None:
    p = layer.neuron.params
    u = g.decay(f"u{k}", p.i_decay)
    if a_in is not None:
        u = g.wrap(g.op("Add", u, g.wrap(g.op("Mul", a_in, g.const(1 << ACT_SHIFT)), 32)), 32)
    u = g.op("Identity", g.wrap24(u), out=f"u{k}_out")
    v = g.op("Add", g.decay(f"v{k}", p.v_decay), u)
    if bias is not None:
        v = g.op("Add", v, bias)
    v = g.op("Max", g.op("Min", v, g.const(UV_MAX - 1)), g.const(-(UV_MAX - 1)))
    spike = g.op("Greater", v, g.const(p.vth_eff))
    g.op("Cast", spike, to=7, out=f"s{k}_out")
    g.op("Where", spike, g.const(0), v, out=f"v{k}_out")


def _bias(g: _G, layer) -> str | None:
    if getattr(layer, "bias", None) is None or not np.any(layer.bias):
        return None
    b = np.asarray(layer.bias, np.int64) << NETX_BIAS_EXP
    return g.const(b.reshape(-1, 1, 1) if isinstance(layer, ConvLayer) else b)


def step_graph(spec: NetSpec):
    """The ONNX ModelProto of one time step of ``spec`` (bias-driven networks)."""
    from onnx import TensorProto, helper

    if not spec.bias_driven:
        from mskd.errors import NetError

        raise NetError("integer ONNX export: only bias-driven networks (input neurons)")
    g, k, shapes, prev = _G(), 0, [], None
    for layer in spec.layers:
        if isinstance(layer, FlattenLayer):
            continue
        if isinstance(layer, InputLayer):
            _neuron(g, k, layer, None, g.op("Mul", "x", g.const(1 << NETX_BIAS_EXP)))
        else:
            a = (_dense if isinstance(layer, DenseLayer) else _conv)(g, layer, f"s{prev}")
            _neuron(g, k, layer, a, _bias(g, layer))
        shapes.append(layer.out_shape)
        prev, k = k, k + 1

    def vi(name, shape):
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["B", *shape])

    ins = [vi("x", spec.input_shape)] + [vi(f"{r}{i}", s) for i, s in enumerate(shapes)
                                         for r in "uvs"]
    outs = [vi(f"{r}{i}_out", s) for i, s in enumerate(shapes) for r in "uvs"]
    graph = helper.make_graph(g.nodes, "mskd_loihi_step", ins, outs, g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                             producer_name="mskd.convert", ir_version=IR_VERSION)


def export_step(spec: NetSpec, out: str | Path) -> Path:
    """Write :func:`step_graph` to ``out`` atomically (checked by ``onnx.checker``)."""
    import onnx

    model = step_graph(spec)
    onnx.checker.check_model(model)
    with atomic_path(out) as tmp:
        onnx.save(model, str(tmp))
    return Path(out)


def run_onnx_steps(path: str | Path, spec: NetSpec, x: torch.Tensor) -> Record:
    """Run the step graph over ``x`` ``[B, T, *in]`` (int64); record spikes, u and v."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    layers = [(i, la) for i, la in spec.neuron_layers()]
    infos = tuple(LayerInfo(f"{i}:{kind(la)}", kind(la), tuple(la.out_shape))
                  for i, la in layers)
    B, T = x.shape[:2]
    state = {f"{r}{k}": np.zeros((B, *info.shape), np.int64)
             for k, info in enumerate(infos) for r in "uvs"}
    rec = {r: [[] for _ in infos] for r in "uvs"}
    for t in range(T):
        outs = sess.run(None, {"x": x[:, t].numpy().astype(np.int64), **state})
        names = [o.name for o in sess.get_outputs()]
        for name, val in zip(names, outs, strict=True):
            state[name[:-4]] = val
            rec[name[0]][int(name[1:-4])].append(val)
    table = {r: {info.name: torch.from_numpy(np.stack(rec[r][k]))
                 for k, info in enumerate(infos)} for r in "uvs"}
    spikes = {n: t.to(torch.uint8) for n, t in table["s"].items()}
    return Record(infos, spikes, {"u": table["u"], "v": table["v"]})

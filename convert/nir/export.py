"""Export a student as a NIR graph (``nir.write``), in float units with step ``dt``.

Layer by layer (``e`` = the layer's weight exponent, weights are the student's quantized
weights ``w_int / 2**e``, so each layer's voltage unit is ``v_int / (64 * 2**e)``):

* the bias-driven input layer becomes a 1x1 ``Conv2d`` of weight ``input_gain * I`` (the
  host-side input ``x`` of :mod:`mskd.net.encoding`, ``[history, H, W]``, as input current)
  followed by ``IF`` (``r = 1/dt``: ``v += x`` per step) with
  ``v_threshold = input_vth_mant`` (the input layer's unit is ``v_int / 64``);
* a hidden layer becomes ``Conv2d``/``Affine`` (zero bias) + ``LIF`` (``tau = 4096 dt /
  vDecay``, ``r = tau / dt`` so the input gain is 1) or ``IF`` when ``vDecay = 0``, or
  ``CubaLIF`` (``tau_syn = 4096 dt / iDecay``, ``w_in = tau_syn / dt``) when ``iDecay <
  4096``; ``v_threshold = vth_mant / 2**e``;
* the never-spiking output layer becomes ``LI`` (readout = its v, the student's logits);
* the flatten becomes ``Flatten``; nodes are named ``"<netx index>_<kind>"``.

Loihi's rounding (decays, 24-bit registers) is not part of NIR: the graph describes the
float network whose fixed-point version the ``.net`` file holds. So that ``mskd convert
student.nir`` gives back that very network, the graph also carries, as NIR metadata (which
other tools ignore): the time step (graph metadata ``mskd_dt``, seconds: NIR stores none),
the input encoding (graph metadata ``mskd_encoding``, the JSON of
:class:`mskd.net.encoding.InputEncoding`), the role of the input pair (``mskd_role =
"bias_input"`` on ``0_gain``: the host-side gain, not a synapse on the chip) and each
synapse's weight exponent (``mskd_weight_exp``); :mod:`mskd.convert.nir.importer` reads them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mskd.errors import NetError
from mskd.fsio import atomic_path
from mskd.loihi.lif import DECAY_UNITY


def _arr(x, shape) -> np.ndarray:
    return np.full(shape, float(x), dtype=np.float32)


def _neuron(i_decay: int, v_decay: int, threshold: float | None, shape, dt: float):
    import nir

    tau = np.inf if v_decay == 0 else DECAY_UNITY * dt / v_decay
    if threshold is None:
        if v_decay == 0:
            raise NetError("NIR export: the readout layer needs vDecay > 0 for an LI node")
        return nir.LI(tau=_arr(tau, shape), r=_arr(tau / dt, shape), v_leak=_arr(0, shape))
    if i_decay < DECAY_UNITY:
        if v_decay == 0:
            raise NetError("NIR export: a Cuba layer with vDecay = 0 has no finite tau_mem")
        ts = DECAY_UNITY * dt / i_decay if i_decay else np.inf
        return nir.CubaLIF(tau_syn=_arr(ts, shape), tau_mem=_arr(tau, shape),
                           r=_arr(tau / dt, shape), v_leak=_arr(0, shape),
                           v_threshold=_arr(threshold, shape), w_in=_arr(ts / dt, shape))
    if v_decay == 0:
        return nir.IF(r=_arr(1 / dt, shape), v_threshold=_arr(threshold, shape))
    return nir.LIF(tau=_arr(tau, shape), r=_arr(tau / dt, shape), v_leak=_arr(0, shape),
                   v_threshold=_arr(threshold, shape))


def _synapse(kind: str, w: np.ndarray, stride, padding, in_shape, exponent: int):
    import nir

    meta = {"mskd_weight_exp": int(exponent)}
    if kind == "conv":
        return nir.Conv2d(input_shape=tuple(in_shape[1:]), weight=w, stride=stride,
                          padding=padding, dilation=1, groups=1,
                          bias=np.zeros(w.shape[0], np.float32), metadata=meta)
    return nir.Affine(weight=w, bias=np.zeros(w.shape[0], np.float32), metadata=meta)


def student_graph(student, dt: float = 1e-3, encoding=None):
    """The NIR graph of ``student`` (see the module docstring); ``encoding`` defaults to
    the student's own (:func:`mskd.convert.student_io.student_encoding`)."""
    import nir
    from mskd.convert.student_io import student_encoding

    q = student.quantized()
    c = student.config
    inp = q.layers[0]
    size = tuple(inp.in_shape)  # (history, H, W): channel j = frame k - j
    gain = (np.eye(size[0]) * float(c.input_gain)).reshape(size[0], size[0], 1, 1)
    nodes = {"input": nir.Input(input_type={"input": np.array(size)}),
             "0_gain": nir.Conv2d(input_shape=size[1:], weight=gain.astype(np.float32),
                                  stride=1, padding=0, dilation=1, groups=1,
                                  bias=np.zeros(size[0], np.float32),
                                  metadata={"mskd_role": "bias_input"}),
             "0_input": _neuron(inp.i_decay, inp.v_decay, float(inp.vth_mant), size, dt)}
    order = list(nodes)
    exps = iter(c.weight_exps)
    for i, layer in enumerate(q.layers[1:], start=1):
        if layer.kind == "flatten":
            nodes[f"{i}_flatten"] = nir.Flatten(input_type={"input": np.array(layer.in_shape)},
                                                start_dim=0)
            order.append(f"{i}_flatten")
            continue
        e = next(exps)
        w = (layer.weight.double() / 2.0 ** e).numpy().astype(np.float32)
        last = i == len(q.layers) - 1
        nodes[f"{i}_{layer.kind}"] = _synapse(layer.kind, w, layer.stride, layer.padding,
                                              layer.in_shape, e)
        nodes[f"{i}_lif"] = _neuron(layer.i_decay, layer.v_decay,
                                    None if last else layer.vth_mant / 2.0 ** e,
                                    layer.out_shape, dt)
        order += [f"{i}_{layer.kind}", f"{i}_lif"]
    nodes["output"] = nir.Output(output_type={"output": np.array(q.layers[-1].out_shape)})
    order.append("output")
    enc = encoding if encoding is not None else student_encoding(student)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(order[:-1], order[1:], strict=True)),
                        metadata={"mskd_encoding": enc.to_json(), "mskd_dt": float(dt)})


def export_student_nir(student, out: str | Path, dt: float = 1e-3, encoding=None) -> Path:
    """Write :func:`student_graph` to ``out`` atomically (``nir.write``)."""
    import nir

    graph = student_graph(student, dt, encoding)
    with atomic_path(out) as tmp:
        nir.write(str(tmp), graph)
    return Path(out)

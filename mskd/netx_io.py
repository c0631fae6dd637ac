"""The file boundary: netx HDF5 <-> :class:`mskd.netspec.NetSpec`.

Every error names the file, the layer index and the field. The conventions (shape and
stride order, conv weight layout, flatten order) are in :mod:`mskd.netspec`'s docstring.
"""

from __future__ import annotations

import numpy as np

from mskd.netspec import (
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    Layer,
    LifNeuron,
    NetSpec,
    kind,
)

UNSUPPORTED_TYPES = ("pool", "average", "concat", "convT", "unpool", "dense_rec", "dense_comp")


def _field(g, name: str, where: str):
    from mskd.errors import NetError

    if name not in g:
        raise NetError(f"{where}: missing field '{name}'")
    return g[name][()]


def _as_int(value, name: str, where: str) -> np.ndarray:
    """Integer view of a stored value; netx itself casts with ``astype(int)``."""
    from mskd.errors import NetError

    a = np.asarray(value)
    if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and not np.all(np.isfinite(a))):
        raise NetError(f"{where}: field '{name}' is not numeric")
    return a.astype(np.int64)  # netx: ``.astype(int)`` (float values truncate toward zero)


def _read_type(g, where: str) -> str:
    t = _field(g, "type", where)
    t = t[0] if getattr(t, "shape", ()) else t
    return t.decode("ascii") if isinstance(t, bytes) else str(t)


def _read_neuron(g, where: str) -> LifNeuron:
    from mskd.errors import NetError

    if "neuron" not in g:
        raise NetError(f"{where}: missing field 'neuron'")
    n, w = g["neuron"], f"{where} neuron"
    ntype = _read_type(n, w)
    if ntype not in ("CUBA", "LOIHI"):
        raise NetError(f"{w}: unsupported neuron type {ntype} (only CUBA-LIF)")
    if "messageBits" in n and int(n["messageBits"][()]) != 0:
        raise NetError(f"{w}: graded spikes (messageBits) are not supported")
    vals = {k: int(_as_int(_field(n, k, w), k, w)) for k in ("iDecay", "vDecay", "vThMant")}
    graded = bool(n["gradedSpike"][()]) if "gradedSpike" in n else False
    try:
        return LifNeuron(vals["iDecay"], vals["vDecay"], vals["vThMant"], graded)
    except ValueError as exc:
        raise NetError(f"{w}: {exc}") from None


def _hw(g, name: str, where: str, default: int) -> tuple[int, int]:
    if name not in g:
        return (default, default)
    a = _as_int(g[name][()], name, where).reshape(-1)
    return (int(a[0]), int(a[0])) if a.size == 1 else (int(a[0]), int(a[1]))  # stored (H, W)


def _opt(g, name: str, where: str) -> np.ndarray | None:
    return _as_int(g[name][()], name, where) if name in g else None


def _read_layer(g, where: str, prev: tuple[int, ...] | None) -> Layer:
    from mskd.errors import NetError

    t = _read_type(g, where)
    if t in UNSUPPORTED_TYPES or t not in ("input", "conv", "dense", "flatten"):
        raise NetError(f"{where} ({t}): layer type not supported by the simulator")
    where = f"{where} ({t})"
    if t != "flatten" and "weight/imag" in g:
        raise NetError(f"{where}: complex synapses are not supported")
    if t == "input":
        shape = tuple(_as_int(_field(g, "shape", where), "shape", where).reshape(-1))
        neuron = _read_neuron(g, where) if "neuron" in g else None
        return InputLayer(shape, neuron, _opt(g, "bias", where))
    if prev is None:
        raise NetError(f"{where}: input shape unknown (add an input layer first)")
    if t == "flatten":
        return FlattenLayer(prev, (int(np.prod(prev)),))
    neuron = _read_neuron(g, where)
    weight = _as_int(_field(g, "weight", where), "weight", where)
    bias = _opt(g, "bias", where)
    bias = None if bias is None else bias.reshape(-1)
    delay = _opt(g, "delay", where)
    if t == "dense":
        out = int(np.prod(_as_int(_field(g, "shape", where), "shape", where)))
        weight = weight.reshape(out, -1) if weight.ndim == 1 else weight  # as netx does
        return DenseLayer(int(np.prod(prev)), out, weight, neuron, bias, delay)
    if len(prev) != 3:
        raise NetError(f"{where}: conv needs a (C, H, W) input, got {prev}")
    out_shape = tuple(_as_int(_field(g, "shape", where), "shape", where).reshape(-1))
    weight = weight.reshape(weight.shape[:4])  # slayer's trailing time axis, dropped by netx
    return ConvLayer(prev, out_shape, weight, _hw(g, "stride", where, 1),
                     _hw(g, "padding", where, 0), _hw(g, "dilation", where, 1),
                     int(_as_int(g["groups"][()], "groups", where)) if "groups" in g else 1,
                     neuron, bias, delay)


def read_netx(path) -> NetSpec:
    """Read and validate a netx HDF5 file; any problem is a one-line :class:`NetError`."""
    import h5py

    from mskd.errors import NetError

    try:
        with h5py.File(path, "r") as f:
            if "layer" not in f:
                raise NetError(f"{path}: missing group 'layer' (not a netx network)")
            group = f["layer"]
            names = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else -1)
            if names != [str(i) for i in range(len(names))]:
                raise NetError(f"{path}: layers must be named 0..{len(names) - 1}")
            layers: list[Layer] = []
            for i, name in enumerate(names):
                where = f"{path}: layer {i}"
                prev = layers[-1].out_shape if layers else None
                try:
                    layers.append(_read_layer(group[name], where, prev))
                except (ValueError, TypeError, KeyError) as exc:
                    raise NetError(f"{where}: {exc}") from None
    except OSError as exc:
        raise NetError(f"{path}: cannot read HDF5 ({' '.join(str(exc).split())})") from None
    try:
        return NetSpec(tuple(layers))
    except NetError as exc:
        raise NetError(f"{path}: {exc}") from None


def _write_neuron(g, n: LifNeuron) -> None:
    g.create_dataset("neuron/type", (1,), "S10", [b"CUBA"])
    g.create_dataset("neuron/iDecay", data=n.i_decay)
    g.create_dataset("neuron/vDecay", data=n.v_decay)
    g.create_dataset("neuron/vThMant", data=n.vth_mant)
    g.create_dataset("neuron/refDelay", data=1)
    g.create_dataset("neuron/gradedSpike", data=n.graded)


def _write_layer(g, layer: Layer) -> None:
    g.create_dataset("type", (1,), "S10", [kind(layer).encode("ascii")])
    g.create_dataset("shape", data=np.array(layer.out_shape if not isinstance(
        layer, FlattenLayer) else (*layer.out_shape, 1, 1)))
    if isinstance(layer, FlattenLayer):
        return
    if layer.neuron is not None:
        _write_neuron(g, layer.neuron)
    for name in ("weight", "bias", "delay"):
        if getattr(layer, name, None) is not None:
            g.create_dataset(name, data=getattr(layer, name))
    if isinstance(layer, ConvLayer):
        for name in ("stride", "padding", "dilation"):
            g.create_dataset(name, data=np.array(getattr(layer, name)))
        g.create_dataset("groups", data=layer.groups)


def write_netx(spec: NetSpec, path) -> None:
    """Write ``spec`` as a netx HDF5 file (atomically), laid out like lava-dl's exports."""
    import h5py

    from mskd.fsio import atomic_path

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            group = f.create_group("layer")
            for i, layer in enumerate(spec.layers):
                _write_layer(group.create_group(str(i)), layer)

"""The file boundary: netx HDF5 <-> :class:`mskd.net.spec.NetSpec`.

Every error names the file, the layer index and the field. The conventions (shape and
stride order, conv weight layout, flatten order) are in :mod:`mskd.net.spec`'s docstring,
the neuron fields in :mod:`mskd.loihi.neurons`.

What netx builds and this reader accepts (lava-dl 0.6 ``netx/hdf5.py``): layer types
``input``, ``conv``, ``dense``, ``dense_rec`` and ``flatten``; neuron types ``CUBA``/
``LOIHI`` and ``SDNN``; a dense layer without a ``neuron`` group (netx's default neuron);
a file without an input layer when the input shape is given (``input_shape``, as netx's
``Network(input_shape=...)``; a dense first layer needs none). Refused with one line: what
netx refuses (``pool``, ``average``, ``concat``, ``convT``, ``unpool``), what it builds
but Lava cannot run (a ``messageBits`` field, a bias on a Sigma output), what it would run
differently from the file (a non-ReLU SDNN activation, ``dense_rec`` with delays; a
non-integer value, which netx would truncate), complex synapses, unsigned values above
int64, sizes beyond :data:`~mskd.limits.MAX_ENTRIES` per dataset and
:data:`~mskd.limits.MAX_FILE_ENTRIES` per file (checked from the metadata, before reading),
and corrupt HDF5 metadata of any kind (one line naming the file).
"""

from __future__ import annotations

import numpy as np

from mskd.errors import NetError
from mskd.limits import MAX_ENTRIES, MAX_FILE_ENTRIES
from mskd.loihi.neurons import DEFAULT_NEURON, LifNeuron, SdnNeuron
from mskd.loihi.sdn import SPIKE_EXP
from mskd.net.spec import (
    MAX_DELAY,
    ConvLayer,
    DenseLayer,
    FlattenLayer,
    InputLayer,
    Layer,
    NetSpec,
    kind,
)

UNSUPPORTED_TYPES = ("pool", "average", "concat", "convT", "unpool", "dense_comp")
SUPPORTED_TYPES = ("input", "conv", "dense", "dense_rec", "flatten")
# Sizes (MAX_ENTRIES per array, MAX_FILE_ENTRIES per file) are mskd.limits'; checked against
# the HDF5 metadata before any read, so a small compressed file cannot declare gigabytes.
MAX_DIMS = 5
MAX_OBJECTS = 100_000  # groups and datasets in one file


def _dataset(g, name: str, where: str):
    """The HDF5 dataset ``name`` of group ``g`` with its size checked, not yet read."""
    import h5py

    if name not in g:
        raise NetError(f"{where}: missing field '{name}'")
    ds = g[name]
    if not isinstance(ds, h5py.Dataset):
        raise NetError(f"{where}: field '{name}' is a group, not a value")
    if ds.ndim > MAX_DIMS or (ds.size or 0) > MAX_ENTRIES:
        raise NetError(f"{where}: field '{name}' declares shape {ds.shape} "
                       f"({ds.size} entries; mskd reads at most {MAX_ENTRIES})")
    return ds


def _field(g, name: str, where: str):
    try:
        return _dataset(g, name, where)[()]
    except (OSError, TypeError, ValueError) as exc:
        raise NetError(f"{where}: field '{name}' cannot be read "
                       f"({' '.join(str(exc).split())})") from None


def _as_int(value, name: str, where: str) -> np.ndarray:
    """Integer view of a stored value; netx itself casts with ``astype(int)``."""
    a = np.asarray(value)
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and not np.all(np.isfinite(a))):
        raise NetError(f"{where}: field '{name}' is not numeric (dtype {a.dtype})")
    if a.dtype.kind == "u" and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise NetError(f"{where}: field '{name}' holds unsigned values above int64 "
                       f"(max {int(a.max())})")
    if a.dtype.kind == "f" and a.size and float(np.abs(a).max()) >= 2.0**62:
        raise NetError(f"{where}: field '{name}' holds values beyond int64")
    if a.dtype.kind == "f" and a.size and not np.array_equal(a, np.trunc(a)):
        bad = a[a != np.trunc(a)].reshape(-1)[0]
        raise NetError(f"{where}: field '{name}' holds non-integer values (e.g. {bad:g}; "
                       "netx would silently truncate them)")
    return a.astype(np.int64)  # netx: ``.astype(int)`` (integral float values)


def _int_field(g, name: str, where: str) -> np.ndarray:
    return _as_int(_field(g, name, where), name, where)


def _scalar(g, name: str, where: str) -> int:
    a = _int_field(g, name, where).reshape(-1)
    if a.size != 1:
        raise NetError(f"{where}: field '{name}' must hold one value, got {a.size}")
    return int(a[0])


def _read_type(g, where: str) -> str:
    t = np.asarray(_field(g, "type", where)).reshape(-1)
    if t.size != 1:
        raise NetError(f"{where}: field 'type' must hold one string, got {t.size} values")
    t = t[0]
    if isinstance(t, bytes):
        try:
            return t.decode("ascii")
        except UnicodeDecodeError:
            raise NetError(f"{where}: field 'type' is not ASCII text") from None
    if isinstance(t, str):
        return t
    raise NetError(f"{where}: field 'type' is not a string")


def _flag(g, name: str, where: str) -> bool:
    return bool(_scalar(g, name, where)) if name in g else False


def _read_neuron(g, where: str):
    import h5py

    if "neuron" not in g:
        return None
    n, w = g["neuron"], f"{where} neuron"
    if not isinstance(n, h5py.Group):
        raise NetError(f"{w}: 'neuron' is a value, not a group")
    ntype = _read_type(n, w)
    if "messageBits" in n:
        raise NetError(f"{w}: field 'messageBits' makes netx 0.6 fail in Lava (it reads the "
                       "field as a group); remove it (SDNN layers send graded messages, "
                       "CUBA layers binary spikes)")
    try:
        if ntype in ("CUBA", "LOIHI"):
            vals = {k: _scalar(n, k, w) for k in ("iDecay", "vDecay", "vThMant")}
            return LifNeuron(vals["iDecay"], vals["vDecay"], vals["vThMant"],
                             _flag(n, "gradedSpike", w))
        if ntype == "SDNN":
            if "activation" in n:
                act = np.asarray(_field(n, "activation", w)).reshape(-1)[0]
                act = act.decode("ascii", "replace") if isinstance(act, bytes) else str(act)
                if act.lower() != "relu":
                    raise NetError(f"{w}: field 'activation' is {act!r}, but netx builds "
                                   "every SigmaDelta with ReLU; it would not run as trained")
            sigma = "sigma_output" in n
            return SdnNeuron(0 if sigma and "vThMant" not in n else _scalar(n, "vThMant", w),
                             sigma_output=sigma)
    except ValueError as exc:
        raise NetError(f"{w}: {exc}") from None
    raise NetError(f"{w}: unsupported neuron type {ntype} (netx builds CUBA, LOIHI, SDNN)")


def _hw(g, name: str, where: str, default: int) -> tuple[int, int]:
    if name not in g:
        return (default, default)
    a = _int_field(g, name, where).reshape(-1)
    if a.size not in (1, 2):
        raise NetError(f"{where}: field '{name}' must hold 1 or 2 values, got {a.size}")
    return (int(a[0]), int(a[0])) if a.size == 1 else (int(a[0]), int(a[1]))  # stored (H, W)


def _opt(g, name: str, where: str) -> np.ndarray | None:
    return _int_field(g, name, where) if name in g else None


def _shape(g, where: str) -> tuple[int, ...]:
    s = _int_field(g, "shape", where).reshape(-1)
    if s.size == 0 or s.size > 3 or s.min() < 1 or int(np.prod(s, dtype=np.float64)) > MAX_ENTRIES:
        raise NetError(f"{where}: field 'shape' {tuple(int(x) for x in s)} is not 1 to 3 "
                       f"positive sizes of at most {MAX_ENTRIES} neurons")
    return tuple(int(x) for x in s)


def _read_layer(g, where: str, prev: tuple[int, ...] | None) -> Layer:
    import h5py

    if not isinstance(g, h5py.Group):
        raise NetError(f"{where}: is a value, not a layer group")
    t = _read_type(g, where)
    if t in UNSUPPORTED_TYPES or t not in SUPPORTED_TYPES:
        raise NetError(f"{where} ({t}): layer type not supported by netx/Lava (netx builds "
                       f"{', '.join(SUPPORTED_TYPES)})")
    where = f"{where} ({t})"
    try:
        return _build_layer(g, t, where, prev)
    except (ValueError, TypeError, KeyError) as exc:
        raise NetError(f"{where}: {' '.join(str(exc).split())}") from None


def _build_layer(g, t: str, where: str, prev: tuple[int, ...] | None) -> Layer:
    import h5py

    if t != "flatten" and "weight" in g and isinstance(g["weight"], h5py.Group):
        raise NetError(f"{where}: complex synapses (weight/real, weight/imag) are not "
                       "supported")
    if t == "input":
        return InputLayer(_shape(g, where), _read_neuron(g, where), _opt(g, "bias", where))
    if t == "flatten":
        if prev is None:
            raise NetError(f"{where}: input shape unknown (give the input shape)")
        return FlattenLayer(prev, (int(np.prod(prev)),))
    neuron = _read_neuron(g, where)
    weight = _int_field(g, "weight", where)
    bias = _opt(g, "bias", where)
    bias = None if bias is None else bias.reshape(-1)
    delay = _opt(g, "delay", where)
    if t in ("dense", "dense_rec"):
        delay = _netx_delays(delay, where)
        out = int(np.prod(_shape(g, where)))
        if weight.ndim == 1:
            if weight.size % out:
                raise NetError(f"{where}: field 'weight' has {weight.size} entries, not a "
                               f"multiple of {out} outputs")
            weight = weight.reshape(out, -1)  # as netx does
        if weight.ndim != 2:
            raise NetError(f"{where}: field 'weight' must be [out, in], got {weight.shape}")
        rec = None
        if t == "dense_rec":
            rec = _int_field(g, "weight_rec", where)
            rec = rec.reshape(out, -1) if rec.ndim == 1 and rec.size % out == 0 else rec
        n_in = int(np.prod(prev)) if prev is not None else weight.shape[1]
        return DenseLayer(n_in, out, weight, DEFAULT_NEURON if neuron is None else neuron,
                          bias, delay, rec)
    if neuron is None:  # netx: layer_config['neuron'] (KeyError for a conv)
        raise NetError(f"{where}: missing field 'neuron' (netx gives only dense layers a "
                       "default neuron)")
    if prev is None:
        raise NetError(f"{where}: input shape unknown: the file has no input layer; give the "
                       "input shape (C,H,W), as netx's Network(input_shape=...) (mskd: "
                       "--input-shape C,H,W)")
    if len(prev) != 3:
        raise NetError(f"{where}: conv needs a (C, H, W) input, got {prev}")
    if weight.ndim not in (4, 5) or (weight.ndim == 5 and weight.shape[4] != 1):
        raise NetError(f"{where}: field 'weight' must be [out, in/groups, kH, kW], got "
                       f"{weight.shape}")
    weight = weight.reshape(weight.shape[:4])  # slayer's trailing time axis, dropped by netx
    groups = _scalar(g, "groups", where) if "groups" in g else 1
    return ConvLayer(prev, _shape(g, where), weight, _hw(g, "stride", where, 1),
                     _hw(g, "padding", where, 0), _hw(g, "dilation", where, 1),
                     groups, neuron, bias, delay)


def read_netx(path, input_shape: tuple[int, ...] | None = None,
              input_message_bits: int | None = None, spike_exp: int = SPIKE_EXP) -> NetSpec:
    """Read and validate a netx HDF5 file; any problem is a one-line :class:`NetError`.

    ``input_shape`` (torch order, (C, H, W) or (N,)) is for files without an input layer;
    ``input_message_bits`` and ``spike_exp`` are netx's ``Network(...)`` arguments of the
    same names (see :class:`~mskd.net.spec.NetSpec`). ``input_message_bits=None`` takes the
    width a graded-input record of ``mskd convert`` stores (root attribute
    ``mskd_graded_input``, :mod:`mskd.loihi.graded`), else 0 (binary spikes); a width given
    that differs from the record is refused (the first synapse's weights are scaled for
    the recorded payloads).
    """
    import h5py

    try:
        with h5py.File(path, "r") as f:
            _check_total(f, path)
            if "layer" not in f or not isinstance(f["layer"], h5py.Group):
                raise NetError(f"{path}: missing group 'layer' (not a netx network)")
            group = f["layer"]
            names = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else -1)
            if not names or names != [str(i) for i in range(len(names))]:
                raise NetError(f"{path}: layers must be named 0..N-1, found "
                               f"{', '.join(names[:5]) or 'none'}")
            layers = _read_layers(group, names, path, input_shape)
            input_message_bits = _message_bits(f.attrs, path, input_message_bits)
    except NetError:
        raise
    except RecursionError:
        raise NetError(f"{path}: HDF5 structure nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - h5py raises OSError, KeyError, RuntimeError,
        # ValueError, TypeError ... on corrupt metadata; each is this file's fault
        raise NetError(f"{path}: cannot read HDF5 "
                       f"({' '.join(str(exc).split())[:200] or type(exc).__name__})") from None
    try:
        return NetSpec(tuple(layers), input_message_bits, spike_exp)
    except NetError as exc:
        raise NetError(f"{path}: {exc}") from None


def _message_bits(attrs, path, given: int | None) -> int:
    """The input message width: ``given``, or the file's graded-input record, or 0."""
    from mskd.loihi.graded import ATTR, stored_graded

    graded = stored_graded(attrs, str(path))
    if graded is None:
        return 0 if given is None else given
    if given is not None and given != graded.input_message_bits:
        raise NetError(f"{path}: input_message_bits={given} differs from the "
                       f"{graded.input_message_bits} its attribute '{ATTR}' records (the "
                       "first synapse's weights are scaled for those payloads): drop "
                       "--input-message-bits")
    return graded.input_message_bits


def _check_total(f, path) -> None:
    """All datasets of the file together within :data:`MAX_FILE_ENTRIES` (from the
    metadata, before any read), so many layers of legal size cannot add up to gigabytes."""
    import h5py

    total, seen = 0, 0

    def visit(_name, obj) -> None:
        nonlocal total, seen
        seen += 1
        if seen > MAX_OBJECTS:
            raise NetError(f"{path}: more than {MAX_OBJECTS} HDF5 objects (not a network)")
        if isinstance(obj, h5py.Dataset):
            total += obj.size or 0
            if total > MAX_FILE_ENTRIES:
                raise NetError(f"{path}: datasets declare more than {MAX_FILE_ENTRIES} "
                               "entries in all; mskd reads at most that")

    f.visititems(visit)


def _read_layers(group, names, path, input_shape) -> list[Layer]:
    layers: list[Layer] = []
    for i, name in enumerate(names):
        where = f"{path}: layer {i}"
        prev = layers[-1].out_shape if layers else (
            tuple(int(s) for s in input_shape) if input_shape else None)
        try:
            layer = _read_layer(group[name], where, prev)
        except (ValueError, TypeError, KeyError, OSError) as exc:
            raise NetError(f"{where}: {' '.join(str(exc).split())}") from None
        if isinstance(layer, InputLayer) and i:
            raise NetError(f"{where} (input): an input layer must be the first layer")
        if isinstance(layer, InputLayer) and input_shape and \
                tuple(input_shape) != layer.shape:
            raise NetError(f"{where} (input): the file's input shape {layer.shape} differs "
                           f"from the given {tuple(input_shape)}")
        if i == 0 and input_shape and not isinstance(layer, InputLayer):
            layers.append(InputLayer(tuple(int(s) for s in input_shape)))
        layers.append(layer)
    return layers


def _write_neuron(g, n) -> None:
    if isinstance(n, LifNeuron) and n.default:
        return  # netx's default neuron: no group, as the file was read
    g.create_dataset("neuron/type", (1,), "S10", [n.kind.encode("ascii")])
    if isinstance(n, SdnNeuron):
        g.create_dataset("neuron/vThMant", data=n.vth_mant)  # a Sigma ignores it
        if n.sigma_output:
            g.create_dataset("neuron/sigma_output", data=True)
        return
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
    for name in ("weight", "weight_rec", "bias", "delay"):
        if getattr(layer, name, None) is not None:
            g.create_dataset(name, data=getattr(layer, name))
    if isinstance(layer, ConvLayer):
        for name in ("stride", "padding", "dilation"):
            g.create_dataset(name, data=np.array(getattr(layer, name)))
        g.create_dataset("groups", data=layer.groups)


def write_netx(spec: NetSpec, path) -> None:
    """Write ``spec`` as a netx HDF5 file (atomically), laid out like lava-dl's exports.

    An :class:`InputLayer` without neurons is written (its shape tells netx the input
    shape); ``input_message_bits`` and ``spike_exp`` are not file fields (see NetSpec).
    """
    import h5py

    from mskd.fsio import atomic_path

    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            group = f.create_group("layer")
            for i, layer in enumerate(spec.layers):
                _write_layer(group.create_group(str(i)), layer)


def _netx_delays(delay, where: str):
    """A dense layer's delays as netx builds them: above :data:`~mskd.net.spec.MAX_DELAY`
    steps, netx warns and clips every delay to ``0..MAX_DELAY`` (``hdf5.py`` create_dense);
    so does this reader, with a one-line warning naming the layer and how many it clamped."""
    if delay is None:
        return None
    d = np.asarray(delay)
    if not d.size or d.max() <= MAX_DELAY:
        return delay
    import warnings

    from mskd.errors import MskdWarning

    over = int(np.count_nonzero(d > MAX_DELAY))
    warnings.warn(f"{where}: {over} of {d.size} delays above {MAX_DELAY} steps (up to "
                  f"{d.max():g}) clamped to {MAX_DELAY}, as netx does: the layer runs with "
                  "shorter delays than the file holds", MskdWarning, stacklevel=2)
    return np.clip(d, 0, MAX_DELAY)

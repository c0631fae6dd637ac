"""Accept a netx file written by someone else (e.g. lava-dl slayer's ``export_hdf5``).

The file goes through :func:`mskd.net.spec.read_netx` (types, shapes, neuron fields; pool,
convT, recurrent and other layers Loihi's netx path cannot run are refused there), then
every synaptic layer's weights must survive netx's rescaling and Lava's truncation
unchanged (:func:`mskd.convert.quantize.check_representable`, netx's -256..255 range),
then the design rules of each profile. The network is re-written atomically with an
optional :class:`~mskd.net.encoding.InputEncoding` (and the source's graded-input record,
:mod:`mskd.loihi.graded`, when it has one).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mskd.convert.fit_check import map_profiles
from mskd.convert.netx_writer import write_net
from mskd.convert.quantize import check_representable
from mskd.convert.report import network_rows, write_reports

from mskd.loihi.graded import read_graded
from mskd.net.encoding import InputEncoding
from mskd.net.netx_io import read_netx
from mskd.net.spec import SYNAPSE_LAYERS, WEIGHT_MAX, WEIGHT_MIN, NetSpec, kind


def check_netspec(spec: NetSpec, source: str = "") -> NetSpec:
    """NetError naming the layer whose weights netx/Lava would not run exactly."""
    for i, layer in enumerate(spec.layers):
        if isinstance(layer, SYNAPSE_LAYERS):
            check_representable(layer.weight, f"{source}layer {i} ({kind(layer)})",
                                WEIGHT_MIN, WEIGHT_MAX, getattr(layer, "weight_rec", None))
    return spec


def convert_netx(src: str | Path, out: str | Path, encoding: InputEncoding | None = None,
                 profiles: Sequence[str] | None = None, report: str | None = None,
                 input_shape: tuple[int, ...] | None = None) -> dict:
    """Read, check, map and re-write a netx file; return the report dict. ``input_shape``
    (``--input-shape``) gives a file without an input layer (slayer exports a network
    without an ``Input`` block so) its input: the written file holds an input layer of that
    shape and deploys without one."""
    from mskd.convert.pipeline import check_outputs

    check_outputs(out, report)
    spec = check_netspec(read_netx(src, input_shape=input_shape), f"{src}: ")
    mapping = map_profiles(spec, profiles)
    graded = read_graded(src)  # an mskd convert of a graded-input graph keeps its record
    write_net(spec, encoding, out, graded=graded)
    result = {"source": str(src), "out": str(out), "network": network_rows(spec),
              "mapping": mapping}
    if input_shape is not None:
        result["input_shape"] = list(input_shape)
    if encoding is not None:
        result["encoding"] = encoding.to_json()
    if report:
        write_reports(report, result)
    return result

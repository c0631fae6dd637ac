"""Write a NetSpec plus its :class:`~mskd.net.encoding.InputEncoding` as one netx HDF5 file.

The file is built under a temporary name (:func:`mskd.fsio.atomic_path`): the network by
:func:`mskd.net.spec.write_netx`, then the root attributes ``mskd_encoding``
(``mskd_graded_input`` for graded input, :mod:`mskd.loihi.graded`) and ``mskd_provenance``
(:mod:`mskd.provenance`: toolchain versions, when, and the wall time of the conversion
that produced it); only then is it renamed onto the target, so a failure at any point
leaves no partial ``.net`` file. lava-dl's ``netx.hdf5.Network`` reads only the ``layer``
group and ignores the attributes (``tests/test_convert_netx.py`` loads such a file in
Lava).
"""

from __future__ import annotations

from pathlib import Path

from mskd.errors import NetError
from mskd.fsio import atomic_path
from mskd.loihi.graded import GradedInput, write_graded
from mskd.net.encoding import InputEncoding, read_encoding, write_encoding
from mskd.net.netx_io import read_netx, write_netx
from mskd.net.spec import NetSpec, specs_equal


def write_net(spec: NetSpec, enc: InputEncoding | None, out: str | Path,
              wall_seconds: float | None = None, graded: GradedInput | None = None) -> Path:
    """Write ``spec`` (and ``enc``; ``graded``: the graded-input record of a network fed
    payloads, :mod:`mskd.loihi.graded`) to ``out`` atomically with its provenance
    (``wall_seconds``: how long producing it took); verify by reading it back."""
    if (graded.input_message_bits if graded else 0) != spec.input_message_bits:
        raise NetError(f"{out}: a network with input_message_bits="
                       f"{spec.input_message_bits} needs its graded-input record")
    with atomic_path(out) as tmp:
        write_netx(spec, tmp)
        if enc is not None:
            write_encoding(tmp, enc)
        if graded is not None:
            write_graded(tmp, graded)
        write_provenance(tmp, wall_seconds)
        back = read_netx(tmp)
        if not specs_equal(back, spec):
            raise NetError(f"{out}: the written network does not read back identically")
    return Path(out)


def write_provenance(path: str | Path, wall_seconds: float | None = None) -> None:
    """Set the root attribute ``mskd_provenance`` (JSON) on an existing HDF5 file."""
    import json

    from mskd.net.attrs import PROVENANCE, write_attr
    from mskd.provenance import provenance

    write_attr(path, PROVENANCE, json.dumps(provenance(wall_seconds), sort_keys=True))


def read_provenance(path: str | Path) -> dict | None:
    """The ``mskd_provenance`` root attribute of a ``.net`` file, or None."""
    import json

    from mskd.net.attrs import PROVENANCE, read_attr

    try:
        raw = read_attr(path, PROVENANCE)
        return None if raw is None else json.loads(raw)
    except ValueError:
        return None


def read_net(path: str | Path) -> tuple[NetSpec, InputEncoding]:
    """A converted network and its encoding (NetError when either is missing or bad)."""
    return read_netx(path), read_encoding(path)

"""Write a NetSpec plus its :class:`~mskd.encoding.InputEncoding` as one netx HDF5 file.

The file is built under a temporary name (:func:`mskd.fsio.atomic_path`): the network by
:func:`mskd.netspec.write_netx`, then the root attribute ``mskd_encoding``; only then is it
renamed onto the target, so a failure at any point leaves no partial ``.net`` file.
lava-dl's ``netx.hdf5.Network`` reads only the ``layer`` group and ignores the attribute
(``tests/test_convert_netx.py`` loads such a file in Lava).
"""

from __future__ import annotations

from pathlib import Path

from mskd.encoding import InputEncoding, read_encoding, write_encoding
from mskd.errors import NetError
from mskd.fsio import atomic_path
from mskd.netspec import NetSpec, specs_equal
from mskd.netx_io import read_netx, write_netx


def write_net(spec: NetSpec, enc: InputEncoding | None, out: str | Path) -> Path:
    """Write ``spec`` (and ``enc``) to ``out`` atomically; verify by reading it back."""
    with atomic_path(out) as tmp:
        write_netx(spec, tmp)
        if enc is not None:
            write_encoding(tmp, enc)
        back = read_netx(tmp)
        if not specs_equal(back, spec):
            raise NetError(f"{out}: the written network does not read back identically")
    return Path(out)


def read_net(path: str | Path) -> tuple[NetSpec, InputEncoding]:
    """A converted network and its encoding (NetError when either is missing or bad)."""
    return read_netx(path), read_encoding(path)

"""``.npy`` arrays read without trusting the header.

``np.load`` believes what the header says: a 100-byte file claiming 10^12 elements or a
negative dimension fails deep in numpy (or tries to allocate terabytes), an empty file is
an ``EOFError``, a big-endian array is refused later by torch, a ``uint64`` or complex array
is silently turned into something else. :func:`load_npy` checks, in order, each failure one
line naming the file: a readable, non-empty ``.npy`` (an ``.npz`` archive is named as such);
a header numpy can parse; a plain numeric dtype (bool, int, uint, float; no objects, strings,
structures, complex or dates); a shape of non-negative sizes within
:data:`~mskd.limits.MAX_INPUT_ENTRIES`; exactly the data bytes the header declares; then it
reads, converts big-endian data to native order, and refuses ``uint64`` values above int64.

>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "x.npy"
>>> np.save(p, np.arange(6, dtype=">i4").reshape(2, 3))
>>> a = load_npy(p); a.dtype.isnative, a.tolist()
(True, [[0, 1, 2], [3, 4, 5]])
>>> _ = p.write_bytes(b"")
>>> load_npy(p)
Traceback (most recent call last):
...
mskd.errors.InputError: ...x.npy: empty file, not a .npy array
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mskd.errors import InputError
from mskd.limits import MAX_INPUT_ENTRIES, check_entries

MAGIC = b"\x93NUMPY"
NUMERIC_KINDS = "biuf"


def _open_checked(path: Path):
    try:
        size = path.stat().st_size
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a .npy file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if path.is_dir():
        fh.close()
        raise InputError(f"{path}: is a folder, not a .npy file")
    if size == 0:
        fh.close()
        raise InputError(f"{path}: empty file, not a .npy array")
    return fh, size


def _header(fh, path: Path):
    head = fh.read(len(MAGIC))
    fh.seek(0)
    if head.startswith(b"PK"):
        raise InputError(f"{path}: is an .npz archive (or another zip file); give one .npy array")
    if head != MAGIC:
        raise InputError(f"{path}: not a .npy file (no NUMPY magic at the start)")
    try:
        version = np.lib.format.read_magic(fh)
        return np.lib.format._read_array_header(fh, version)
    except Exception as exc:  # noqa: BLE001 - numpy's header parser raises many kinds
        raise InputError(f"{path}: bad .npy header "
                         f"({' '.join(str(exc).split())[:200] or type(exc).__name__})") from None


def check_dtype(dtype: np.dtype, where: str) -> None:
    """InputError unless ``dtype`` is a plain bool/int/uint/float."""
    if dtype.hasobject:
        raise InputError(f"{where}: holds Python objects (would need pickle); mskd reads "
                         "plain numeric arrays")
    if dtype.names is not None or dtype.subdtype is not None or \
            dtype.kind not in NUMERIC_KINDS:
        kind = {"c": "complex", "U": "text", "S": "bytes", "M": "datetime", "m": "timedelta",
                "V": "structured"}.get(dtype.kind, "non-numeric")
        raise InputError(f"{where}: dtype {dtype.str} is {kind}; expected bool, int, uint "
                         "or float")


def load_npy(path, limit: int = MAX_INPUT_ENTRIES) -> np.ndarray:
    """The array in ``path`` (native byte order), every header claim checked first."""
    path = Path(path)
    fh, size = _open_checked(path)
    with fh:
        shape, fortran, dtype = _header(fh, path)
        check_dtype(dtype, str(path))
        n = check_entries(shape, limit, f"{path}: array", InputError)
        data_bytes = size - fh.tell()
        if data_bytes != n * dtype.itemsize:
            raise InputError(f"{path}: holds {data_bytes} data bytes but its header declares "
                             f"{shape} {dtype.str} = {n * dtype.itemsize} bytes "
                             "(truncated or not a plain .npy)")
        a = np.fromfile(fh, dtype=dtype, count=n)
    a = a.reshape(shape, order="F" if fortran else "C")
    if not dtype.isnative:
        a = a.astype(dtype.newbyteorder("="))
    if a.dtype == np.uint64 and a.size and int(a.max()) > np.iinfo(np.int64).max:
        raise InputError(f"{path}: uint64 values up to {int(a.max())} exceed int64")
    return a

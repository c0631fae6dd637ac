"""The ``mskd_*`` root attributes of a ``.net`` file: one writer and one reader for all.

lava-dl's netx ignores root attributes, so a converted network carries what it needs
beside the layers as JSON strings:

- ``mskd_encoding`` how frames become input and readout becomes outputs
  (:mod:`mskd.net.encoding`);
- ``mskd_graded_input`` graded (analog) input into the first synapse
  (:mod:`mskd.loihi.graded`);
- ``mskd_provenance`` toolchain versions and wall time (:mod:`mskd.provenance`).

Every attribute is read through :func:`attr_text`, with the same size limit and the same
one-line error naming the file and the attribute.
"""

from __future__ import annotations

from pathlib import Path

ENCODING = "mskd_encoding"
GRADED_INPUT = "mskd_graded_input"
PROVENANCE = "mskd_provenance"
NAMES = (ENCODING, GRADED_INPUT, PROVENANCE)
MAX_ATTR_BYTES = 1 << 20  # far above any record we write; a larger one is not ours


def write_attr(path: str | Path, name: str, text: str) -> None:
    """Set the root attribute ``name`` of an existing HDF5 file (use inside
    ``atomic_path``, so a reader never sees a file without it)."""
    import h5py

    if name not in NAMES:
        raise ValueError(f"unknown root attribute {name!r} (one of {', '.join(NAMES)})")
    with h5py.File(path, "a") as f:
        f.attrs[name] = text


def attr_text(attrs, name: str, where: str | Path) -> str | None:
    """The JSON text of root attribute ``name`` in an open file's ``attrs``, or None when
    absent; ValueError (the caller names the file) when it is not a string of at most
    :data:`MAX_ATTR_BYTES`."""
    import numpy as np

    raw = attrs.get(name)
    if raw is None:
        return None
    if isinstance(raw, np.ndarray) and raw.size == 1:
        raw = raw.reshape(-1)[0]
    if not isinstance(raw, (bytes, str)) or len(raw) > MAX_ATTR_BYTES:
        raise ValueError(f"{where}: attribute '{name}' is not a JSON string")
    try:
        return raw.decode() if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise ValueError(f"{where}: attribute '{name}' is not UTF-8 text") from None


def read_attr(path: str | Path, name: str) -> str | None:
    """Open ``path`` and return :func:`attr_text` of ``name``; an unreadable file is a
    ValueError naming it."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return attr_text(f.attrs, name, path)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - h5py raises many kinds on a corrupt file
        raise ValueError(f"{path}: cannot read HDF5 ({' '.join(str(exc).split())})") from None

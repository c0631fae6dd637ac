"""Errors that reach the user as one line.

Library code raises :class:`MskdError` (or a subclass) with a message that names the file,
layer or field and says what was expected. The CLI prints that message alone and exits
non-zero; ``mskd --debug`` shows the traceback as well.
"""

from __future__ import annotations


class MskdError(Exception):
    """A user-facing error: the message is complete on its own, one line."""

    exit_code = 1


class DataError(MskdError):
    """Bad dataset on disk: missing folder, unreadable image, bad split file."""


class NetError(MskdError):
    """Bad or unsupported network file (netx HDF5, NIR, ONNX)."""


class CheckpointError(MskdError):
    """Checkpoint of the wrong kind, shape or version."""


class ConfigError(MskdError):
    """Bad option or configuration value."""


class MissingExtraError(MskdError):
    """An optional dependency is needed: the message says which extra to install."""


def require_lava() -> None:
    """Import-check Lava and lava-dl; raise a one-line error naming the extra if absent."""
    try:
        import lava.lib.dl.netx  # noqa: F401
        import lava.magma.core.run_configs  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtraError(
            f"this command needs Lava ({exc.name} is not importable): "
            "install the extra with `pip install 'mskd[lava]'` on Python 3.10"
        ) from exc


def refuse_unknown_fields(cls: type, data: dict, what: str,
                          error: type[Exception] = ConfigError) -> None:
    """Raise ``error`` naming ``what`` and the keys of ``data`` that ``cls`` (a dataclass)
    does not have; config readers call it before ``cls(**data)``."""
    from dataclasses import fields

    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise error(f"{what}: unknown field(s) {sorted(unknown)}")


class BackendError(MskdError):
    """A backend run failed: Lava stalled, lost a worker process or raised in one."""


class InputError(NetError):
    """Bad input array (``.npy``): unreadable, mis-declared, of a non-numeric dtype, or not in
    the network's input layout (a NetError too, for callers that catch those)."""

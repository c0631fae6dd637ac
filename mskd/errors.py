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


def refuse_wrong_types(obj, what: str, error: type[Exception] = ConfigError) -> None:
    """Raise ``error`` naming ``what`` and the first field of dataclass ``obj`` whose value
    is not of its annotated type (``int`` excludes ``bool``, ``float`` takes ints and is
    finite; ``tuple[int, ...]``, ``tuple[int, int]`` and ``X | None`` are looked into).
    Config readers call it in ``__post_init__``, so a string ``"160"`` where an int belongs
    is refused when read rather than failing (or, worse, working) later."""
    import typing
    from dataclasses import fields

    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value = getattr(obj, f.name)
        if not _is_a(value, hints[f.name]):
            raise error(f"{what}: field '{f.name}' is {value!r}, expected "
                        f"{_type_name(hints[f.name])}")


def _is_a(value, hint) -> bool:
    import math
    import types
    import typing

    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_a(value, a) for a in args)
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            math.isfinite(value)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_is_a(v, args[0]) for v in value)
        return len(value) == len(args) and \
            all(_is_a(v, a) for v, a in zip(value, args, strict=True))
    if origin is not None:
        return isinstance(value, origin)
    return isinstance(value, hint)


def _type_name(hint) -> str:
    return getattr(hint, "__name__", None) if not getattr(hint, "__args__", None) \
        else str(hint).replace("typing.", "")


class MskdWarning(UserWarning):
    """Something the toolchain changed or doubts, said in one line (``warning: ...``) by
    the CLI: the file still runs, but not exactly as written (e.g. delays clamped as netx
    clamps them)."""

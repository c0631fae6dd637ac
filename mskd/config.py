"""``--config run.toml``: the same keys as a command's options, checked, as defaults.

Every command that takes ``--config`` reads a flat TOML table whose keys are that command's
option names exactly as on the command line (``batch-size``, also spelled ``batch_size``;
``profile`` for ``--profile``, ``json`` for ``--json``) and its argument names (``data``).
Values become the option defaults, so an explicit command-line flag still wins. An unknown
key, a value of the wrong type or range, a file that is not UTF-8 TOML: one line naming
the file and key.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click
import typer

from mskd.errors import ConfigError

try:  # Python 3.11+ has tomllib; 3.10 uses tomli (a core dependency there)
    import tomllib as _toml
except ModuleNotFoundError:  # pragma: no cover - depends on the interpreter
    import tomli as _toml


def read_toml(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; anything wrong with it is a one-line ConfigError naming it."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}: is a folder, not a TOML config file") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    return parse_toml(raw, str(path))


def parse_toml(raw: bytes, where: str) -> dict[str, Any]:
    """TOML bytes -> table; encoding, syntax and nesting problems name ``where``.

    >>> parse_toml(b"\\xff\\xfea\\x00", "x.toml")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    mskd.errors.ConfigError: x.toml: not UTF-8 text (starts with a UTF-16 byte-order mark)...
    """
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ConfigError(f"{where}: not UTF-8 text (starts with a UTF-16 byte-order mark); "
                          "save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{where}: not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x});"
                          " TOML files are UTF-8") from None
    if "\x00" in text:
        raise ConfigError(f"{where}: holds NUL bytes (a binary file, not TOML)")
    try:
        return _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML ({exc})") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to be a config") from None


def _names(command: click.Command) -> dict[str, click.Parameter]:
    """Config key -> parameter: each option's long names (``batch-size``, also spelled
    ``batch_size``), each argument's name; never the Python parameter name of an option."""
    out: dict[str, click.Parameter] = {}
    for p in command.params:
        if not p.name or p.name == "config":
            continue
        if isinstance(p, click.Argument):
            out[p.name] = p
            continue
        for opt in p.opts:
            if opt.startswith("--"):
                out[opt[2:]] = p
                out[opt[2:].replace("-", "_")] = p
    return out


def _value(param: click.Parameter, ctx: click.Context, key: str, value: Any, source: str):
    if isinstance(value, dict):
        raise ConfigError(f"{source}: key '{key}' must be a value, not a table")
    if getattr(param, "multiple", False) and not isinstance(value, list):
        value = [value]
    if isinstance(value, list) and not getattr(param, "multiple", False):
        raise ConfigError(f"{source}: key '{key}' takes one value, not a list")
    want = _expected(param)
    bad = [v for v in (value if isinstance(value, list) else [value])
           if not isinstance(v, want) or (isinstance(v, bool) and bool not in want)]
    if bad:
        names = {bool: "true/false", int: "an integer", float: "a number", str: "text"}
        raise ConfigError(f"{source}: key '{key}' is {bad[0]!r} ({type(bad[0]).__name__}); "
                          f"expected {' or '.join(names[w] for w in want if w in names)}")
    if any(isinstance(v, float) and not math.isfinite(v)
           for v in (value if isinstance(value, list) else [value])):
        raise ConfigError(f"{source}: key '{key}' is {value!r}; expected a finite number")
    try:
        return param.type_cast_value(ctx, value)
    except click.BadParameter as exc:
        raise ConfigError(f"{source}: key '{key}': {' '.join(exc.format_message().split())}") \
            from None


def _expected(param: click.Parameter) -> tuple[type, ...]:
    """Python types a TOML value may have for ``param`` (bool only for flags)."""
    t = param.type
    if t is click.BOOL or getattr(param, "is_flag", False):
        return (bool,)
    if isinstance(t, (click.types.IntParamType, click.IntRange)):
        return (int,)
    if isinstance(t, (click.types.FloatParamType, click.FloatRange)):
        return (int, float)
    return (str,)


def defaults_for(command: click.Command, table: dict[str, Any], source: str,
                 ctx: click.Context | None = None) -> dict[str, Any]:
    """Map a TOML table onto ``command``'s parameters (keys = option names); values are
    type- and range-checked; an unknown or repeated key is an error naming the file."""
    known = _names(command)
    ctx = ctx or click.Context(command)
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            options = ", ".join(sorted({k for k in known if "_" not in k or
                                        isinstance(known[k], click.Argument)}))
            raise ConfigError(f"{source}: unknown key '{key}' (this command takes: {options})")
        param = known[key]
        if param.name in out:
            raise ConfigError(f"{source}: key '{key}' given twice (as another spelling too)")
        out[param.name] = _value(param, ctx, key, value, source)
    return out


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        table = read_toml(value)
        ctx.default_map = {**(ctx.default_map or {}),
                           **defaults_for(ctx.command, table, value, ctx)}
    return value


def config_option() -> Any:
    """A typer ``--config`` option; declare it first in a command's signature.

    It is eager, so its callback fills ``ctx.default_map`` before the other options resolve.
    """
    return typer.Option(
        None, "--config", help="TOML file with this command's options as keys.",
        is_eager=True, callback=_load_config, exists=False,
    )


def read_options(input_shape: str | None, input_message_bits: int | None) -> dict:
    """``read_netx`` keyword arguments from the ``--input-shape``/``--input-message-bits``
    options (``input_message_bits`` None: the file's record, see :func:`read_netx`).

    >>> read_options("2,8,8", 0)
    {'input_shape': (2, 8, 8), 'input_message_bits': 0}
    """
    shape = None
    if input_shape:
        try:
            shape = tuple(int(s) for s in input_shape.split(","))
        except ValueError:
            raise ConfigError(f"--input-shape {input_shape!r}: expected C,H,W or N") from None
        if len(shape) not in (1, 3) or min(shape) < 1:
            raise ConfigError(f"--input-shape {input_shape!r}: expected 1 or 3 positive sizes")
    return {"input_shape": shape, "input_message_bits": input_message_bits}

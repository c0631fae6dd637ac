"""``--config run.toml``: the same keys as a command's options, checked, as defaults.

Every command that takes ``--config`` reads a flat TOML table whose keys are that command's
option names (``batch-size`` or ``batch_size``). Values become the option defaults, so an
explicit command-line flag still wins. An unknown key is an error naming the file and key.
"""

from __future__ import annotations

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
    """Parse a TOML file; a syntax error becomes a one-line ConfigError."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            return _toml.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc


def defaults_for(command: click.Command, table: dict[str, Any], source: str) -> dict[str, Any]:
    """Map a TOML table onto ``command``'s parameter names; refuse unknown keys."""
    known = {p.name: p for p in command.params if p.name and p.name != "config"}
    out: dict[str, Any] = {}
    for key, value in table.items():
        name = key.replace("-", "_")
        if name not in known:
            options = ", ".join(sorted(k.replace("_", "-") for k in known))
            raise ConfigError(f"{source}: unknown key '{key}' (this command takes: {options})")
        if isinstance(value, dict):
            raise ConfigError(f"{source}: key '{key}' must be a value, not a table")
        out[name] = value
    return out


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        table = read_toml(value)
        ctx.default_map = {**(ctx.default_map or {}), **defaults_for(ctx.command, table, value)}
    return value


def config_option() -> Any:
    """A typer ``--config`` option; declare it first in a command's signature.

    It is eager, so its callback fills ``ctx.default_map`` before the other options resolve.
    """
    return typer.Option(
        None, "--config", help="TOML file with this command's options as keys.",
        is_eager=True, callback=_load_config, exists=False,
    )

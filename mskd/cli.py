"""The ``mskd`` command line: a thin layer over the stage libraries.

Each stage owns its sub-commands in its own ``cli`` module (``mskd.data.cli``,
``mskd.train.cli``, ``mskd.convert.cli``, ``mskd.deploy.cli``, ``mskd.profiling.cli``,
``mskd.profiling.summary_cli``, ``mskd.workflow.demo``, ``mskd.workflow.bench``); this
module mounts them and turns errors into one line and a non-zero exit. ``--debug`` (before
or after the sub-command) shows the traceback.

Start-up stays light: the command modules import only typer and the standard library at
module level; torch, numpy, h5py, matplotlib and Lava are imported inside the commands that
use them (``tests/core/test_cli.py`` checks that ``import mskd.cli`` loads none of them).
"""

from __future__ import annotations

import sys

import click
import typer

from mskd.errors import ConfigError, MskdError
from mskd.interrupts import Terminated, exit_status, leaving, raise_if_swallowed

app = typer.Typer(
    name="mskd",
    help="Distil single-eye emotion spiking students and deploy them on Loihi-class cores.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_state = {"debug": False}


def _print_version(value: bool) -> None:
    if value:
        from mskd import __version__

        typer.echo(f"mskd {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks, not one-line errors "
                               "(also accepted after the sub-command)."),
    version: bool = typer.Option(False, "--version", is_eager=True, callback=_print_version,
                                 help="Print the mskd version and exit."),
) -> None:
    _state["debug"] = debug


def _mount() -> None:
    from mskd.convert.cli import register as register_convert
    from mskd.data.cli import app as data_app
    from mskd.deploy.cli import register as register_deploy
    from mskd.profiling.cli import register_profile
    from mskd.profiling.summary_cli import register as register_summary
    from mskd.train.cli import register as register_train
    from mskd.workflow.bench import register as register_bench
    from mskd.workflow.demo import register as register_demo

    app.add_typer(data_app, name="data", help="Synthesize, inspect, encode and event-encode "
                                              "datasets.")
    register_train(app)
    register_convert(app)
    register_deploy(app)
    register_profile(app)
    register_summary(app)
    register_demo(app)
    register_bench(app)


_mount()


def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {text}"


def _usage_line(exc: click.ClickException) -> str:
    """A click usage error as one line, with where to find the usage."""
    line = "error: " + " ".join(exc.format_message().split())
    ctx = getattr(exc, "ctx", None)
    if ctx is not None and ctx.command_path:
        line += f" (see '{ctx.command_path} --help')"
    return line


def _config_file(argv: list[str]) -> str | None:
    """The ``--config`` file of this command line, if any."""
    for i, arg in enumerate(argv):
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return None


def _option_error_line(exc: MskdError, argv: list[str]) -> str:
    """An option's value was refused: name the config file it may have come from."""
    line, config = _error_line(exc), _config_file(argv)
    if isinstance(exc, ConfigError) and config and config not in line:
        line += f" (options from {config} included)"
    return line


def hoist_debug(argv: list[str]) -> list[str]:
    """``--debug`` anywhere before a ``--`` moves to the front, where the root reads it.

    >>> hoist_debug(["convert", "x.nir", "--debug", "--out", "y.net"])
    ['--debug', 'convert', 'x.nir', '--out', 'y.net']
    >>> hoist_debug(["deploy", "run", "--", "--debug"])
    ['deploy', 'run', '--', '--debug']
    """
    head = argv[:argv.index("--")] if "--" in argv else argv
    if "--debug" not in head:
        return argv
    rest = [a for a in head if a != "--debug"] + argv[len(head):]
    return ["--debug", *rest]


def _invoke(argv: list[str]) -> int:
    """Run the command; return its exit code. Unlike ``command.main``, nothing here turns
    Ctrl-C into a return value or an EOFError into "aborted": both reach :func:`main`."""
    command = typer.main.get_command(app)
    try:
        with command.make_context("mskd", argv) as ctx:
            command.invoke(ctx)
    except click.exceptions.Exit as exc:  # --help, typer.Exit(n)
        return exc.exit_code
    return 0


def _fail(line: str, code: int) -> None:
    print(line, file=sys.stderr)
    sys.exit(code)


def _one_line_warnings() -> None:
    """Print mskd's own warnings as ``warning: ...`` on stderr (no file and line)."""
    import warnings

    from mskd.errors import MskdWarning

    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, MskdWarning):
            print(f"warning: {' '.join(str(message).split())}", file=sys.stderr)
        else:
            default(message, category, filename, lineno, file, line)

    warnings.showwarning = show


def main(argv: list[str] | None = None) -> None:
    """Run ``mskd`` with ``argv``; every failure is one line on stderr and a non-zero exit.

    Exit codes: 0 success, 1 an error (named in the line), 2 a usage error, 130 Ctrl-C,
    143 SIGTERM (129 SIGHUP). ``--debug`` re-raises errors to show the traceback.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = hoist_debug(argv)
    _one_line_warnings()
    try:
        code = _invoke(argv)
        raise_if_swallowed()
    except (KeyboardInterrupt, Terminated) as exc:
        leaving()
        _fail(*exit_status(exc))
    except click.exceptions.Abort:  # a prompt got end-of-file
        _fail("error: aborted (no input)", 1)
    except click.ClickException as exc:
        _fail(_usage_line(exc), exc.exit_code)
    except MskdError as exc:
        if debug:
            raise
        _fail(_option_error_line(exc, argv), exc.exit_code)
    except (FileNotFoundError, FileExistsError, PermissionError, IsADirectoryError,
            NotADirectoryError, ValueError) as exc:
        if debug:
            raise
        _fail(_error_line(exc), 1)
    except MemoryError:
        if debug:
            raise
        _fail("error: out of memory (rerun with --debug for the traceback)", 1)
    except Exception as exc:  # noqa: BLE001 - last resort: still one line
        if debug:
            raise
        _fail(f"{_error_line(exc)} (internal error: rerun with --debug for the traceback)", 1)
    sys.exit(code)

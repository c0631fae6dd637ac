"""The ``mskd`` command line: a thin layer over the stage libraries.

Each stage owns its sub-commands in its own ``cli`` module (``mskd.data.cli``,
``mskd.train.cli``, ``mskd.convert.cli``, ``mskd.deploy.cli``, ``mskd.deploy.summary_cli``,
``mskd.pipeline``, ``mskd.bench``); this module mounts them and turns errors into one line
and a non-zero exit. ``--debug`` (before or after the sub-command) shows the traceback.

Start-up stays light: the command modules import only typer and the standard library at
module level; torch, numpy, h5py, matplotlib and Lava are imported inside the commands that
use them (``tests/test_cli.py`` checks that ``import mskd.cli`` loads none of them).
"""

from __future__ import annotations

import sys

import click
import typer

from mskd.errors import MskdError

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
    from mskd.bench import register as register_bench
    from mskd.convert.cli import register as register_convert
    from mskd.data.cli import app as data_app
    from mskd.deploy.cli import register as register_deploy
    from mskd.deploy.summary_cli import register as register_summary
    from mskd.pipeline import register as register_demo
    from mskd.train.cli import register as register_train

    app.add_typer(data_app, name="data", help="Synthesize, inspect, encode and event-encode "
                                              "datasets.")
    register_train(app)
    register_convert(app)
    register_deploy(app)
    register_summary(app)
    register_demo(app)
    register_bench(app)


_mount()


def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {text}"


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


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``mskd`` and ``python -m mskd``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    argv = hoist_debug(argv)
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="mskd", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        print("error: aborted", file=sys.stderr)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        sys.exit(130)
    except (MskdError, FileNotFoundError, FileExistsError, PermissionError, ValueError) as exc:
        if debug:
            raise
        print(_error_line(exc), file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 1))
    except Exception as exc:  # noqa: BLE001 - last resort: still one line
        if debug:
            raise
        print(f"{_error_line(exc)} (internal error: rerun with --debug for the traceback)",
              file=sys.stderr)
        sys.exit(1)

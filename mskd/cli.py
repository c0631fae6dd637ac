"""The ``mskd`` command line: a thin layer over the stage libraries.

Each stage owns its sub-commands in its own ``cli`` module (``mskd.data.cli``,
``mskd.train.cli``, ``mskd.convert.cli``, ``mskd.deploy.cli``); this module mounts them and
turns errors into one line and a non-zero exit. ``--debug`` shows the traceback.
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


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks, not one-line errors."),
) -> None:
    _state["debug"] = debug


def _mount() -> None:
    from mskd.convert.cli import register as register_convert
    from mskd.data.cli import app as data_app
    from mskd.deploy.cli import register as register_deploy
    from mskd.train.cli import register as register_train

    app.add_typer(data_app, name="data", help="Synthesize, inspect and event-encode datasets.")
    register_train(app)
    register_convert(app)
    register_deploy(app)
    from mskd.pipeline import register as register_pipeline

    register_pipeline(app)


_mount()


def _error_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"error: {text}"


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``mskd`` and ``python -m mskd``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
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

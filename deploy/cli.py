"""``mskd deploy`` and ``mskd profile``."""

from __future__ import annotations

import typer

from mskd.stub import not_built


def register(app: typer.Typer) -> None:
    deploy_app = typer.Typer(no_args_is_help=True, help="Run and verify netx HDF5 networks.")

    @deploy_app.command("run", help="Run a network on a backend (not built yet).")
    def run() -> None:
        not_built("deploy run")

    app.add_typer(deploy_app, name="deploy")

    @app.command("profile", help="Spike, synop, energy and latency report (not built yet).")
    def profile() -> None:
        not_built("profile")

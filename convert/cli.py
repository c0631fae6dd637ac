"""``mskd convert``."""

from __future__ import annotations

import typer

from mskd.stub import not_built


def register(app: typer.Typer) -> None:
    @app.command("convert", help="Quantize a student and write netx HDF5 (not built yet).")
    def convert() -> None:
        not_built("convert")

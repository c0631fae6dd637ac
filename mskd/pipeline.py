"""``mskd demo`` and ``mskd bench``: the end-to-end pipeline."""

from __future__ import annotations

import typer

from mskd.stub import not_built


def register(app: typer.Typer) -> None:
    @app.command("bench", help="Side-by-side benchmark table (not built yet).")
    def bench() -> None:
        not_built("bench")

    @app.command("demo", help="Data to energy report in one command.")
    def demo() -> None:
        not_built("demo")

"""``mskd train`` and ``mskd eval``."""

from __future__ import annotations

import typer

from mskd.stub import not_built


def register(app: typer.Typer) -> None:
    train_app = typer.Typer(no_args_is_help=True, help="Train the teacher and MSKD students.")

    @train_app.command("teacher", help="Train the multimodal teacher (not built yet).")
    def teacher() -> None:
        not_built("train teacher")

    @train_app.command("student", help="Train a distilled student (not built yet).")
    def student() -> None:
        not_built("train student")

    app.add_typer(train_app, name="train")

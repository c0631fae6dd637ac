"""A rich progress bar per epoch showing the running loss and accuracy (rank 0 only)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class EpochBar:
    """``start`` an epoch, ``advance`` per batch, ``finish`` with the epoch's stats.

    >>> bar = EpochBar(enabled=False)
    >>> bar.start(0, 1, 2); bar.advance(loss=1.0, acc=0.5); bar.finish({"loss": 1.0})
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.console = Console(stderr=True)
        self._progress: Progress | None = None
        self._task = None

    def start(self, epoch: int, epochs: int, batches: int) -> None:
        if not self.enabled:
            return
        self._progress = Progress(
            TextColumn(f"epoch {epoch + 1}/{epochs}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"), TimeElapsedColumn(), console=self.console)
        self._progress.start()
        self._task = self._progress.add_task("train", total=batches, info="")

    def advance(self, loss: float, acc: float) -> None:
        if self._progress is not None:
            self._progress.update(self._task, advance=1, info=f"loss {loss:.4f} acc {acc:.3f}")

    def finish(self, stats: dict) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

"""Commands whose issue is not built yet say so and exit non-zero; none pretends to work."""

from __future__ import annotations

from mskd.errors import MskdError


class NotBuiltError(MskdError):
    exit_code = 3


def not_built(command: str) -> None:
    raise NotBuiltError(f"`mskd {command}` is not built yet in this version of mskd")

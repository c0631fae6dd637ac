"""The ``mskd`` executable: signal handling first, then the (heavy) CLI import.

Importing the CLI takes a second or two (torch); installing the handlers before it means
a Ctrl-C or SIGTERM in that window is one line and exit 130/143 as well, not a traceback.
"""

from __future__ import annotations

import sys

from mskd.interrupts import Terminated, exit_status, install, leaving, raise_if_swallowed


def main() -> None:
    """Entry point of ``mskd`` and ``python -m mskd``."""
    install()
    try:
        from mskd.cli import main as cli_main

        raise_if_swallowed()
    except (KeyboardInterrupt, Terminated) as exc:
        leaving()
        line, code = exit_status(exc)
        print(line, file=sys.stderr)
        sys.exit(code)
    cli_main()

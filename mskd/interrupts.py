"""Ctrl-C, SIGTERM and SIGHUP: clean up, print one line, exit with the shell's code.

The ``mskd`` executable calls :func:`install` before it imports anything heavy. Then:

* the first SIGINT raises :class:`KeyboardInterrupt` and the first SIGTERM or SIGHUP raises
  :class:`Terminated` (a ``BaseException``, so ``except Exception`` cannot swallow it);
  ``finally`` blocks on the way out stop what we started (Lava's process group, temporary
  files), and the CLI prints ``error: interrupted`` (exit 130) or ``error: terminated
  (SIGTERM)`` (exit 143, 128 + the signal number, as a shell reports it);
* a second signal while that cleanup runs is ignored: an impatient second Ctrl-C must not
  cut the cleanup short (Lava's workers left running, shared memory leaked);
* a third one leaves at once (:func:`os._exit`) after the emergency hooks, for the case
  where something swallowed the first one.

:func:`shielded` defers a signal across a few lines that must not be split (reaping a
process group, removing its shared memory); the deferred signal is raised at the end.

>>> exit_status(KeyboardInterrupt())
('error: interrupted', 130)
>>> exit_status(Terminated(15))
('error: terminated (SIGTERM)', 143)
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import signal
import sys
from collections.abc import Callable, Iterator

INTERRUPTED_EXIT = 128 + signal.SIGINT  # 130, what a shell reports for Ctrl-C
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_NAMES = {signal.SIGTERM: "terminated", signal.SIGHUP: "hangup", signal.SIGINT: "interrupted"}


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"{_NAMES.get(signum, 'signal')} ({signal.Signals(signum).name})")
        self.signum = signum
        self.exit_code = 128 + signum


_state: dict = {"count": 0, "shield": 0, "pending": None}
_emergency: list[Callable[[], None]] = []


def _exception(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def exit_status(exc: BaseException) -> tuple[str, int]:
    """The one line and exit code for an interrupt exception."""
    if isinstance(exc, Terminated):
        return f"error: {exc}", exc.exit_code
    return "error: interrupted", INTERRUPTED_EXIT


def _leave_now(signum: int) -> None:
    for hook in list(_emergency):
        with contextlib.suppress(Exception):
            hook()
    line, code = exit_status(_exception(signum))
    os.write(2, f"{line} (forced)\n".encode())
    os._exit(code)


def _on_signal(signum: int, _frame) -> None:
    _state["count"] += 1
    _state.setdefault("first", signum)
    if _state["count"] >= 3:
        _leave_now(signum)
    if _state["count"] > 1:
        return  # the first one is being cleaned up
    if _state["shield"]:
        _state["pending"] = signum
        return
    raise _exception(signum)


def leaving() -> None:
    """The interrupt was handled and mskd is exiting: ignore further signals. Python's
    finalization puts its own handlers back to the default, so a second Ctrl-C landing
    there killed the process by SIGINT (exit -2 instead of 130) after the one line was
    printed; an ignored signal stays ignored through finalization."""
    if installed():
        for sig in HANDLED:
            signal.signal(sig, signal.SIG_IGN)


def _quiet_child() -> None:
    """In a forked helper (a worker pool): leave Ctrl-C to mskd, which stops the helpers;
    die at once, without a traceback, on the SIGTERM it sends them."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


class _ShieldedImport(importlib.abc.MetaPathFinder):
    """Loads the modules in ``names`` with signals deferred to the end of their import.

    torch's C extension swallows an exception raised while it initialises: a Ctrl-C in that
    second vanished and the command ran on to the end. Deferred, it raises right after the
    import, as anywhere else. (A finder rather than an eager import: light commands never
    load torch.)
    """

    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def find_spec(self, name, path, target=None):
        if name not in self.names:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module) -> None:
            with shielded():
                run(module)

        spec.loader.exec_module = exec_module
        return spec


def install() -> None:
    """Route SIGINT, SIGTERM and SIGHUP through :func:`_on_signal` (main thread only); forked
    helper processes get :func:`_quiet_child` (a fork+exec'd program gets the defaults)."""
    _state.update(count=0, shield=0, pending=None)
    _state.pop("first", None)
    for sig in HANDLED:
        signal.signal(sig, _on_signal)
    if not any(isinstance(f, _ShieldedImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _ShieldedImport(frozenset({"torch"})))
    if not _state.get("fork_hook"):
        os.register_at_fork(after_in_child=_quiet_child)
        _state["fork_hook"] = True


def raise_if_swallowed() -> None:
    """Raise the interrupt again if one arrived but the program went on as if it had not.

    A signal that lands while a library module loads raises inside its import, and some
    libraries guard optional imports with a bare ``except:`` that swallows it; without
    this check the command would run to the end and exit 0. Called where the CLI carries
    on normally (after the heavy import, after a command returns).
    """
    if installed() and _state["count"] and "first" in _state:
        raise _exception(_state["first"])


def installed() -> bool:
    """Whether :func:`install` is in effect (the CLI) rather than Python's defaults."""
    return signal.getsignal(signal.SIGINT) is _on_signal


@contextlib.contextmanager
def shielded() -> Iterator[None]:
    """Defer an interrupt until the block is done (only where :func:`install` is active)."""
    _state["shield"] += 1
    try:
        yield
    finally:
        _state["shield"] -= 1
        pending, _state["pending"] = _state["pending"], None
        current = sys.exc_info()[1]
        if pending is not None and not _state["shield"] and \
                not isinstance(current, (KeyboardInterrupt, Terminated)):
            raise _exception(pending)


@contextlib.contextmanager
def emergency(hook: Callable[[], None]) -> Iterator[None]:
    """Run ``hook`` if a third signal forces an immediate exit inside the block."""
    _emergency.append(hook)
    try:
        yield
    finally:
        _emergency.remove(hook)

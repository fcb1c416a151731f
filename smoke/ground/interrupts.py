"""Stopping a run cleanly. Ctrl-C (SIGINT), SIGTERM (a cancelled CI job), SIGHUP (a closed terminal) and, on Windows,
Ctrl-Break (SIGBREAK) all stop a run the same way: the first raises KeyboardInterrupt, so that pytest stops, the
cleanups revoke what the run issued and the summary is written. Every later one only says that cleanup is running and
what would be left to do by hand if it were cut short (a kill): a second Ctrl-C never cuts a revocation in half.
Inside `shielded()` (a cleanup) even the first waits until the block is done.

Messages go to the terminal's stderr as it was when the handlers were installed, past pytest's output capture.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Protocol

SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK") if hasattr(signal, name))
# A signal sent to a process group reaches a restarted run twice, directly and passed on by its parent: one request.
SAME_REQUEST_S = 0.25


class Cleaner(Protocol):
    def left_by_hand(self) -> str | None:
        """What an operator must undo by hand if the cleanup were cut short now; None when nothing."""


class _State:
    def __init__(self) -> None:
        self.previous: dict[int, Any] = {}
        self.stderr: int | None = None  # a duplicate of the terminal's stderr
        self.stopped_by: str | None = None  # the signal that stopped the run
        self.deferred: str | None = None  # a signal that arrived inside shielded(), raised when it ends
        self.finishing = False  # past the checks: a signal is said, not raised
        self.depth = 0
        self.last: tuple[int, float] | None = None


_state = _State()
_cleaners: weakref.WeakSet[Any] = weakref.WeakSet()


def install() -> bool:
    """Handles the stop signals in this process (main thread only); False where that is not possible."""
    if _state.previous or threading.current_thread() is not threading.main_thread():
        return bool(_state.previous)
    try:
        _state.stderr = os.dup(sys.__stderr__.fileno()) if sys.__stderr__ else None
    except (OSError, ValueError):
        _state.stderr = None
    for number in SIGNALS:
        _state.previous[number] = signal.signal(number, _handle)
    return True


def uninstall() -> None:
    """Restores the handlers install() replaced and forgets the run."""
    global _state
    stopping = _state.stopped_by is not None
    for number, previous in _state.previous.items():
        # A stopped run is moments from its exit: a repeated Ctrl-C (a terminal sends one per key press) must not
        # break pytest's last cleanup with a traceback and another exit code.
        signal.signal(number, signal.SIG_IGN if stopping else previous)
    if _state.stderr is not None:
        os.close(_state.stderr)
    _state = _State()
    _cleaners.clear()


def watch(cleaner: Cleaner) -> None:
    """`cleaner` is asked, when a later signal arrives, what would be left to undo by hand."""
    _cleaners.add(cleaner)


def stopped_by() -> str | None:
    """The name of the signal that stopped the run (SIGINT, SIGTERM…), None while it runs on."""
    return _state.stopped_by


def finishing() -> None:
    """The checks are over: from now on a signal is only said, while the cleanups and the summary finish."""
    _state.finishing = True


@contextmanager
def shielded() -> Iterator[None]:
    """A cleanup no signal cuts short: one that arrives meanwhile is said, and the first one is raised at the end."""
    _state.depth += 1
    try:
        yield
    finally:
        _state.depth -= 1
        deferred, _state.deferred = _state.deferred, None
        if deferred and not _state.depth and not _state.stopped_by and not _state.finishing:
            _state.stopped_by = deferred
            failure = sys.exc_info()[1]
            if failure is not None:  # the interrupt replaces it: its one line must not be lost
                say(str(failure))
            raise KeyboardInterrupt(_reason(deferred))


def say(line: str) -> None:
    """One line on the terminal, also while pytest captures the output."""
    data = f"\n{line}\n".encode(errors="replace")
    if _state.stderr is not None:
        try:
            os.write(_state.stderr, data)
            return
        except OSError:
            pass
    sys.stderr.write(data.decode())


def own_process_group() -> dict[str, Any]:
    """subprocess keywords for a helper the run stops itself (the embedded sandbox, the report's renderer): Ctrl-C at
    the terminal, or a signal to the run's process group, must not end it while the cleanup still needs it."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def _handle(number: int, frame: FrameType | None) -> None:
    name = signal.Signals(number).name
    now = time.monotonic()
    repeated = _state.last is not None and _state.last[0] == number and now - _state.last[1] < SAME_REQUEST_S
    _state.last = (number, now)
    if repeated:
        return
    if not (_state.stopped_by or _state.finishing or _state.depth):
        _state.stopped_by = name
        say(f"{name}: stopping — revoking what this run issued and writing its summary first")
        raise KeyboardInterrupt(_reason(name))
    if _state.depth and not (_state.stopped_by or _state.finishing):
        _state.deferred = _state.deferred or name
    say(f"{name}: cleanup is running and the run stops by itself when it is done; if it is cut short, "
        f"{left_by_hand()}")


def left_by_hand() -> str:
    left = [text for cleaner in list(_cleaners) if (text := cleaner.left_by_hand())]
    return "; ".join(left) if left else "nothing is left to revoke by hand"


def _reason(name: str) -> str:
    return "Ctrl-C" if name == "SIGINT" else f"{name}: the run was asked to stop"

"""Writing a command's answer to a reader that may stop early (`… | head`)."""

from __future__ import annotations

import errno
import os
import sys


def print_for_reader(text: str) -> None:
    """Prints `text`; a reader that closed the pipe has what it wanted, so that ends quietly (no BrokenPipeError
    traceback). As the Python docs advise, stdout then points at devnull so that the flush at exit raises nothing
    either."""
    try:
        print(text, flush=True)
    except OSError as exc:
        if not _reader_gone(exc):
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _reader_gone(exc: OSError) -> bool:
    """A write to a pipe whose reader closed: EPIPE, or on Windows also EINVAL (the C runtime's ERROR_NO_DATA)."""
    return isinstance(exc, BrokenPipeError) or (sys.platform == "win32" and exc.errno == errno.EINVAL)

"""Is logging still happening? The newest entry of a file, read from its tail only."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from .errors import LogPathError
from .files import DEFAULT_GLOBS, PathLike, discover
from .nlog import line_time
from .seek import stamped_lines_reverse

TAIL_LIMIT = 4 * 1024 * 1024  # a file with no timestamp in its last 4 MB is not a log being written


def newest_entry_times(path: PathLike, globs: Sequence[str] = DEFAULT_GLOBS) -> dict[Path, datetime | None]:
    """For a file, or every log file under a folder: the time of its newest entry (None: no entry)."""
    return {file: _newest_in_file(file) for file in discover([path], globs)}


def newest_entry_time(path: PathLike, globs: Sequence[str] = DEFAULT_GLOBS) -> datetime | None:
    """The newest entry time of a file, or across every log file under a folder (log clock)."""
    times = [time for time in newest_entry_times(path, globs).values() if time is not None]
    return max(times, default=None)


def _newest_in_file(path: Path) -> datetime | None:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            for _, line in stamped_lines_reverse(f, size, max_bytes=TAIL_LIMIT):
                return line_time(line)
    except FileNotFoundError:  # rotated away between listing and reading
        return None
    except OSError as exc:
        raise LogPathError.unreadable(path, exc) from None
    return None

"""Which files to read: the given files, and every log file under the given folders.

Rotated archives are found by the same globs wherever they sit under the folder (`archives/...`
included); their names are never interpreted, only their content timestamps. Names match
case-insensitively on every platform (a Windows share mounted on Linux keeps its `.TXT`).
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Sequence
from pathlib import Path

from .errors import LogPathError

DEFAULT_GLOBS = ("*.txt", "*.log")

PathLike = str | os.PathLike[str]


def discover(paths: Iterable[PathLike], globs: Sequence[str] = DEFAULT_GLOBS, *, recursive: bool = True) -> list[Path]:
    """The log files to read, sorted and without duplicates. A file given by name is read whatever its
    name; a missing or unreadable path, a pipe or a device raises LogPathError."""
    found: dict[Path, None] = {}
    patterns = [glob.lower() for glob in globs]
    for given in paths:
        if not os.fspath(given).strip():  # Path("") is the current folder
            raise LogPathError("logs: an empty path — give the log files or their folder")
        path = Path(given)
        try:
            mode = path.stat().st_mode
        except PermissionError as exc:
            raise LogPathError.unreadable(given, exc) from None
        except (OSError, ValueError):  # not found, network name not found, invalid name
            raise LogPathError.missing(given, folder=not _looks_like_file(path)) from None
        if stat.S_ISDIR(mode):
            for file in _walk(path, patterns, recursive):
                found[file] = None
        elif stat.S_ISREG(mode):
            found[path] = None
        else:  # read, a pipe or a device would never end
            raise LogPathError.not_a_file(given, _kind(mode))
    return sorted(found, key=order)


def order(path: Path) -> str:
    """One order on every platform (Windows paths compare case-insensitively, POSIX ones do not)."""
    return path.as_posix()


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"


def _looks_like_file(path: Path) -> bool:
    return any(fnmatch.fnmatchcase(path.name.lower(), glob) for glob in DEFAULT_GLOBS)


def _walk(folder: Path, patterns: list[str], recursive: bool) -> Iterable[Path]:
    try:
        entries = list(os.scandir(folder))
    except PermissionError as exc:
        raise LogPathError.unreadable(folder, exc) from None
    except OSError:
        raise LogPathError.missing(folder) from None
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                if recursive:
                    yield from _walk(Path(entry.path), patterns, recursive)
            elif entry.is_file() and any(fnmatch.fnmatchcase(entry.name.lower(), p) for p in patterns):
                yield Path(entry.path)
        except OSError:  # vanished while listing (rotation): its renamed copy is listed or not; skip
            continue


def matches(path: Path, glob: str) -> bool:
    return fnmatch.fnmatchcase(path.name.lower(), glob.lower())

"""What can go wrong that the user can fix. Each str() is one line: the cause and the fix."""

from __future__ import annotations

import os

from smoke.ground.errors import SmokeError


class LogScanError(SmokeError):
    """Base of every error the log scanner raises on bad input or an unreachable log."""


class LogPathError(LogScanError):
    """A configured log folder or file is missing, unreachable or unreadable."""

    @classmethod
    def missing(cls, path: str | os.PathLike[str], *, folder: bool = True) -> LogPathError:
        what = "folder" if folder else "file"
        return cls(
            f"logs: {what} {os.fspath(path)} does not exist or is not reachable"
            " — check the share is mounted and the path in [logs] paths"
        )

    @classmethod
    def unreadable(cls, path: str | os.PathLike[str], reason: OSError) -> LogPathError:
        detail = reason.strerror or type(reason).__name__
        return cls(
            f"logs: {os.fspath(path)} cannot be read ({detail})"
            " — give the account running the suite read access to it, or fix [logs] paths"
        )

    @classmethod
    def not_a_file(cls, path: str | os.PathLike[str], kind: str) -> LogPathError:
        return cls(f"logs: {os.fspath(path)} is {kind}, not a log file or folder — give the log files or their folder")

    @classmethod
    def not_a_log(cls, paths: list[str]) -> LogPathError:
        return cls(f"logs: no NLog entries in {', '.join(paths)}: is this a log file? — give Keyfactor's NLog files"
                   " or their folder ([logs] paths)")


class BadWindowError(LogScanError):
    """A since/until/timezone value that cannot be understood."""


class BadWaiverError(LogScanError):
    """A waiver that cannot be applied as written."""

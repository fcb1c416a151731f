"""The [logs] section of an environment file: the log folders, the window, the waivers."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, field_validator

from smoke.ground.sections import Section, Waiver
from smoke.logscan.clock import LogClock, checked_since
from smoke.logscan.errors import LogScanError


class LogWaiver(Waiver):
    """[[logs.waivers]]: `pattern` is searched in "<logger> <message>" of each Error/Fatal entry; after `expires` the
    entry counts again."""


class LogsSection(Section):
    """smoke/test_logs.py"""

    # Folders (or files) of Keyfactor's NLog logs: local (C:\Keyfactor\logs), a UNC share on Windows
    # (\\server\c$\Keyfactor\logs), a CIFS mount on Linux (/mnt/kf-logs). Archives below them are read too.
    paths: list[str] = []
    freshness_minutes: Annotated[int, Field(gt=0)] = 60  # each location must have an entry newer than this
    since: str | None = None  # window start: ISO time or duration ("2h"); default: the last wizard run, else 24 h
    timezone: str = "local"  # the zone the server writes log times in: local, UTC, "+02:00", "Europe/Berlin"
    wizard_logger: str = ""  # regex on the logger name of configuration-wizard entries ("" = every entry)
    wizard_start: str | None = None  # regex on "<logger> <message>" of the line that starts a wizard run
    waivers: list[LogWaiver] = []

    @field_validator("paths")
    @classmethod
    def _paths(cls, paths: list[str]) -> list[str]:
        if any(not path.strip() for path in paths):
            raise ValueError('an empty path — list the log folders, e.g. ["/mnt/kf-logs"]')
        return paths

    @field_validator("since")
    @classmethod
    def _since(cls, since: str | None) -> str | None:
        return checked_since(since, "--since or [logs] since")

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, name: str) -> str:
        try:
            LogClock.parse(name)
        except LogScanError as exc:
            raise ValueError(str(exc).removeprefix("logs: ")) from None
        return name

    @field_validator("wizard_logger", "wizard_start")
    @classmethod
    def _marker(cls, pattern: str | None) -> str | None:
        try:
            re.compile(pattern or "")
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
        return pattern
